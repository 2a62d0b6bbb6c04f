#!/usr/bin/env bash
# Builds the distributions into dist/: a manylinux wheel whose extension carries the libraries it
# links (auditwheel repair grafts libisal and libroaring into omendb.libs/, so the wheel needs
# nothing from the system beyond the manylinux policy) and an sdist.
#   bash scripts/wheel.sh          build dist/omendb-*.whl and dist/omendb-*.tar.gz
#   bash scripts/wheel.sh test     build, then install the wheel into a fresh virtual environment
#                                  (no source tree on its path) and run the API tests against it
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

# The wheel is built from the sdist, as a package index's builders would: that proves the sdist
# holds everything a build needs.
build() {
  rm -rf dist
  echo "==> sdist"
  python -m build --sdist --no-isolation --outdir dist . >/dev/null
  echo "==> wheel from the sdist (a clean build), then auditwheel repair"
  python -m pip wheel dist/omendb-*.tar.gz --no-deps --no-build-isolation -q -w dist/raw
  auditwheel repair dist/raw/omendb-*.whl -w dist
  rm -rf dist/raw
  auditwheel show dist/omendb-*.whl
}

# The API tests run against the installed wheel: the tests folder is copied out, so that nothing
# but the wheel provides `omendb`, and its extension must load its libraries from omendb.libs/.
test_wheel() {
  local scratch venv
  scratch=$(mktemp -d)
  venv="$scratch/venv"
  echo "==> fresh venv $venv with dist/$(basename dist/omendb-*.whl)"
  python -m venv "$venv"
  # [server]: the API tests also run against a server (conftest.py's backend fixture).
  local wheel
  wheel=$(ls dist/omendb-*.whl)
  "$venv/bin/python" -m pip install -q "$wheel[server]" pytest hypothesis
  local core
  core=$("$venv/bin/python" -c "import omendb._core as c; print(c.__file__)")
  if ldd "$core" | grep -E "libisal|libroaring" | grep -v "omendb.libs/"; then
    echo "the wheel's extension loads libisal/libroaring from the system, not from omendb.libs/" >&2
    exit 1
  fi
  # utf8proc and libstemmer are linked statically: the extension must not load them at all.
  if ldd "$core" | grep -E "libutf8proc|libstemmer"; then
    echo "the wheel's extension loads utf8proc/libstemmer, which must be linked statically" >&2
    exit 1
  fi
  cp -r tests/python "$scratch/tests"
  (cd "$scratch/tests" && "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    test_api.py test_api_search.py test_bad_input.py test_records.py test_filters.py \
    test_durability.py test_quantization.py test_backup.py test_named_vectors.py test_hybrid.py \
    test_sparse.py)
  rm -rf "$scratch"
}

build
if [[ ${1:-} == test ]]; then test_wheel; fi
