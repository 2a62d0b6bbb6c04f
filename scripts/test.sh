#!/usr/bin/env bash
# Every test: the C++ suite (Release), the C++ suite under ASan+UBSan, the concurrency tests under
# TSan, then the Python suite against the installed package, then the wheel's API tests in a fresh
# virtual environment, then 30 s of fuzzing per fuzz target (the ctest suites also replay the fuzz
# corpora and kept crash inputs: fuzz/README.md). Exits non-zero on the first failure.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
jobs=$(nproc)

build_and_test() {  # build_and_test DIR CTEST_ARGS... -- CMAKE_ARGS...
  local dir=$1; shift
  local ctest_args=()
  while [[ $1 != -- ]]; do ctest_args+=("$1"); shift; done
  shift
  echo "==> C++ build $dir"
  cmake -S . -B "$dir" -G Ninja -DOMENDB_BUILD_TESTS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  echo "==> ctest $dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "${ctest_args[@]}"
}

build_and_test build/release -- -DCMAKE_BUILD_TYPE=Release -DOMENDB_BUILD_BENCHMARKS=ON
build_and_test build/asan -- -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DOMENDB_SANITIZE=address,undefined"
# TSan covers the tests of concurrent paths: their names contain "Concurrent" or "ThreadPool".
TSAN_OPTIONS="halt_on_error=1" build_and_test build/tsan -R "Concurrent|ThreadPool" -- \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOMENDB_SANITIZE=thread

install_omendb
echo "==> pytest"
python -m pytest tests/python -q

# The distributions: an sdist, a manylinux wheel built from it, and the API tests against that
# wheel in a fresh virtual environment (scripts/wheel.sh).
bash scripts/wheel.sh test

# Fuzzing: a clang build (build/fuzz), then each libFuzzer target for 30 s (about 5 minutes).
bash scripts/fuzz.sh 30
