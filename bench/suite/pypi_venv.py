"""The earlier OmenDB engine (PyPI package ``omendb``) in its own virtual environment, since its
import name clashes with this repository's package. Set-up is the only step that downloads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = "omendb"


def venv_python(cache: Path) -> Path:
    """Where the environment's interpreter is (or will be)."""
    return cache / "venv-omendb-pypi" / "bin" / "python"


def probe(python: Path) -> tuple[bool, str]:
    """(True, version) when ``python`` imports the PyPI omendb and has NumPy, else (False, why)."""
    if not python.exists():
        return False, f"{python} does not exist"
    code = ("import importlib.metadata as m, numpy, omendb; "
            "assert hasattr(omendb, 'create'), 'not the PyPI engine'; print(m.version('omendb'))")
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return False, (done.stderr.strip().splitlines() or ["import failed"])[-1]
    return True, done.stdout.strip()


def ensure(cache: Path, install: bool) -> dict:
    """Creates the environment and installs the latest ``omendb`` from PyPI when it is missing and
    ``install`` is set (about 10 s with a network). Returns {"python", "version"} or {"error"} with
    the captured output of the step that failed."""
    python = venv_python(cache)
    ok, detail = probe(python)
    if ok:
        return {"python": str(python), "version": detail}
    if not install:
        return {"error": f"not set up ({detail}); run the suite without --no-setup to install it"}
    steps = [[sys.executable, "-m", "venv", "--clear", str(python.parent.parent)],
             [str(python), "-m", "pip", "install", "-q", "--upgrade", PACKAGE]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = [ln for ln in (done.stderr + done.stdout).splitlines() if "is ignored" not in ln]
            return {"error": f"`{' '.join(step)}` failed: " + "\n".join(lines[-15:])}
    ok, detail = probe(python)
    return {"python": str(python), "version": detail} if ok else {"error": f"installed but unusable: {detail}"}
