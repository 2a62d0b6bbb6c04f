# Shortcuts; the scripts do the work (and install what they need).
.PHONY: demo test bench bench-hnswlib bench-cpp

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# dist/: a manylinux wheel (auditwheel repair: it carries libisal and libroaring) and an sdist.
# wheel-test also installs the wheel into a fresh virtual environment and runs the API tests there.
.PHONY: wheel wheel-test
wheel:
	bash scripts/wheel.sh

wheel-test:
	bash scripts/wheel.sh test

# Full comparison with hnswlib (several minutes).
bench-hnswlib:
	bash scripts/bench.sh vs_hnswlib

# Google Benchmark micro-benchmarks of the SIMD kernels and the collections.
bench-cpp:
	bash scripts/bench.sh cpp

# The benchmark suite (bench/run.py, bench/README.md): OmenDB against hnswlib, FAISS, USearch, Chroma,
# LanceDB, Qdrant local mode and the earlier PyPI omendb. `bench` is the full run (~50-75 min on 2 cores;
# writes docs/benchmarks.md and docs/benchmarks/*.png); `bench-quick` the <= 5-minute run (report in
# .cache/bench/report-quick/). ARGS pass through, e.g. make bench ARGS="--datasets siftsmall,minilm".
.PHONY: bench-quick
bench:
	bash scripts/bench.sh suite $(ARGS)

bench-quick:
	bash scripts/bench.sh suite --quick $(ARGS)

# Full-text search against Tantivy and bm25s on the WordNet glosses (bench/text_search.py; a few
# minutes), e.g. make bench-text ARGS="--corpus fortunes".
.PHONY: bench-text
bench-text:
	bash scripts/bench.sh text $(ARGS)

# Crash test with TRIALS trials (default 300; the pytest suite runs 20 with one reader each), e.g.
# make crash-test TRIALS=10000: SIGKILLs a writer process at seeded random moments while READERS
# read-only processes (default 2) refresh and read beside it, and checks their reads and the
# reopened database (tests/python/test_crash.py).
.PHONY: crash-test bench-durability
TRIALS ?= 300
READERS ?= 2
crash-test:
	bash -c 'source scripts/env.sh && install_omendb && OMENDB_CRASH_TRIALS=$(TRIALS) OMENDB_CRASH_READERS=$(READERS) python -m pytest tests/python/test_crash.py -q'

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
