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
