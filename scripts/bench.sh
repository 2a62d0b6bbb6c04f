#!/usr/bin/env bash
# Benchmarks (not part of the tests). Usage: scripts/bench.sh vs_hnswlib [ARGS...] | cpp [ARGS...]
#   | suite [ARGS...]  (the benchmark suite, bench/run.py: --quick for the <= 5-minute run, no ARGS for the full one)
#   | text [ARGS...]   (full-text search against Tantivy and bm25s, bench/text_search.py)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
what=${1:?usage: scripts/bench.sh vs_hnswlib|cpp|suite|text [args]}
shift
case $what in
  vs_hnswlib)
    install_omendb
    python bench/vs_hnswlib.py "$@"
    ;;
  suite | text)
    install_omendb
    if [[ ! -f .venv/.bench-requirements-installed ]] || ! cmp -s requirements-bench.txt .venv/.bench-requirements-installed; then
      echo "==> pip install -r requirements-bench.txt"
      python -m pip install -q -r requirements-bench.txt
      cp requirements-bench.txt .venv/.bench-requirements-installed
    fi
    if [[ $what == suite ]]; then python bench/run.py "$@"; else python bench/text_search.py "$@"; fi
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
