# Sourced by the other scripts: installs what a fresh Debian machine lacks and activates .venv.
#   Debian: g++, python3-venv, GoogleTest, Google Benchmark, ISA-L, CRoaring, utf8proc and
#           Snowball's libstemmer (-dev packages), and the text corpora of the full-text tests and
#           benchmarks (wordnet-base: 117,659 WordNet glosses; fortunes-min), via apt-get.
#   PyPI:   requirements-dev.txt into .venv (CMake, Ninja, nanobind, NumPy, pytest, ...).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

missing=()
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing+=(python3-venv)
for package in libgtest-dev libgmock-dev libbenchmark-dev libisal-dev libroaring-dev libutf8proc-dev \
               libstemmer-dev wordnet-base fortunes-min; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "==> apt-get install ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "==> creating .venv"
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
if [[ ! -f .venv/.requirements-installed ]] || ! cmp -s requirements-dev.txt .venv/.requirements-installed; then
  echo "==> pip install -r requirements-dev.txt"
  python -m pip install -q --upgrade pip
  python -m pip install -q -r requirements-dev.txt
  cp requirements-dev.txt .venv/.requirements-installed
fi

# Builds and installs the omendb package into .venv (incremental: the CMake tree is kept in build/).
install_omendb() {
  echo "==> pip install . (omendb)"
  python -m pip install -q --no-build-isolation .
}
