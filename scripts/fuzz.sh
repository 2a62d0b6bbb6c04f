#!/usr/bin/env bash
# Fuzzing (fuzz/README.md): builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan in
# build/fuzz, then runs each target for SECONDS (default 60) under `nice`, one after the other.
# The fuzzers start from the committed seeds (fuzz/corpus/<target>) and kept crash inputs
# (fuzz/regressions/<target>) and add what they find to a scratch corpus, build/fuzz/corpus/<target>,
# never to the committed one. A crash, leak, sanitizer report or timeout leaves its input in
# build/fuzz/artifacts/<target>/ and makes the script fail once every target has run.
#   bash scripts/fuzz.sh [SECONDS]        (make fuzz: FUZZ_SECONDS, default 300)
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
seconds=${1:-60}
targets=(log_reader snapshot manifest metadata filter_string text_analyzer text_index)
build=build/fuzz

# Prints the version suffix of a clang able to build the project ("-19", or "" for plain clang):
# C++20 lambdas capturing structured bindings need clang 16 or later.
find_clang() {
  local version
  for version in 22 21 20 19 18 17 16; do
    if command -v "clang++-$version" >/dev/null 2>&1; then echo "-$version"; return 0; fi
  done
  if command -v clang++ >/dev/null 2>&1 && (($(clang++ -dumpversion | cut -d. -f1) >= 16)); then
    echo ""; return 0
  fi
  return 1
}

if ! suffix=$(find_clang); then
  # Debian 12's `clang` is clang 14, too old; its clang-19 package has libFuzzer and the sanitizers.
  echo "==> apt-get install clang"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang-19 >/dev/null 2>&1 ||
    { "${sudo_cmd[@]}" apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang-19 >/dev/null ||
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq clang >/dev/null; }
  suffix=$(find_clang) || { echo "no clang >= 16 found after installing clang" >&2; exit 1; }
fi
if command -v "llvm-symbolizer$suffix" >/dev/null 2>&1; then
  export ASAN_SYMBOLIZER_PATH UBSAN_SYMBOLIZER_PATH
  ASAN_SYMBOLIZER_PATH=$(command -v "llvm-symbolizer$suffix")
  UBSAN_SYMBOLIZER_PATH=$ASAN_SYMBOLIZER_PATH
fi

echo "==> fuzz build $build (clang++$suffix)"
# -O1 and line tables, as OSS-Fuzz builds; without NDEBUG, so the library's asserts check too.
CC="clang$suffix" CXX="clang++$suffix" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DOMENDB_FUZZ=ON -DOMENDB_BUILD_TESTS=OFF \
  >/dev/null
nice -n 10 cmake --build "$build" -j "$(nproc)" --target "${targets[@]/%/_fuzz}"

failed=()
for target in "${targets[@]}"; do
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target" "$build/logs"
  inputs=("$build/corpus/$target" "fuzz/corpus/$target")  # new entries go to the first
  [[ -d fuzz/regressions/$target ]] && inputs+=("fuzz/regressions/$target")
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$build/artifacts/$target/")
  [[ -f fuzz/dict/$target.dict ]] && options+=(-dict="fuzz/dict/$target.dict")
  log=$build/logs/$target.log
  echo "==> fuzz $target for ${seconds}s (log: $log)"
  if nice -n 10 "$build/fuzz/${target}_fuzz" "${options[@]}" "${inputs[@]}" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^#[0-9]+ *DONE" "$log" | tail -2 || true
  else
    failed+=("$target")
    tail -40 "$log"
  fi
done
if ((${#failed[@]})); then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "==> fuzzing: no crashes"
