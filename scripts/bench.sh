#!/usr/bin/env bash
# Benchmarks (not part of the tests). Usage: scripts/bench.sh vs_hnswlib [ARGS...] | cpp [ARGS...]
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
what=${1:?usage: scripts/bench.sh vs_hnswlib|cpp [args]}
shift
case $what in
  vs_hnswlib)
    install_omendb
    python bench/vs_hnswlib.py "$@"
    ;;
  cpp)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DOMENDB_BUILD_TESTS=ON \
      -DOMENDB_BUILD_BENCHMARKS=ON >/dev/null
    cmake --build build/release -j "$(nproc)"
    for bench in build/release/bench/cpp/*_bench; do
      echo "==> $bench"
      "$bench" "$@"
    done
    ;;
  *)
    echo "unknown benchmark '$what'" >&2
    exit 2
    ;;
esac
