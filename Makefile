# Shortcuts; the scripts do the work (and install what they need).
.PHONY: demo test bench bench-hnswlib bench-cpp

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# Full comparison with hnswlib (several minutes).
bench-hnswlib:
	bash scripts/bench.sh vs_hnswlib

# Google Benchmark micro-benchmarks of the SIMD kernels and the collections.
bench-cpp:
	bash scripts/bench.sh cpp

bench: bench-cpp bench-hnswlib

# Crash test with 300 trials (the pytest suite runs 20): SIGKILLs a writer process at seeded
# random moments and checks the reopened database (tests/python/test_crash.py).
.PHONY: crash-test bench-durability
crash-test:
	bash -c 'source scripts/env.sh && install_omendb && OMENDB_CRASH_TRIALS=300 python -m pytest tests/python/test_crash.py -q'

# Durable insert throughput, on-disk size, open + first query of 1,000,000 x 128 (bench/durability.py;
# about 10 minutes on 2 cores). ARGS are passed through, e.g. make bench-durability ARGS="--n 200000".
bench-durability:
	bash -c 'source scripts/env.sh && install_omendb && python bench/durability.py $(ARGS)'

# Fuzzing with libFuzzer (fuzz/README.md): builds build/fuzz with clang and runs each target for
# FUZZ_SECONDS; new corpus entries stay in build/fuzz/corpus, crash inputs in build/fuzz/artifacts.
.PHONY: fuzz
FUZZ_SECONDS ?= 300
fuzz:
	bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Soak test (tests/python/soak.py): writers, deleters, searchers, checkpoints, compactions, a
# read-only handle and reopen cycles against a model for MINUTES minutes; CI runs 40 seconds.
.PHONY: soak
MINUTES ?= 30
soak:
	bash -c 'source scripts/env.sh && install_omendb && python tests/python/soak.py --minutes $(MINUTES)'
