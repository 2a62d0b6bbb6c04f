"""Shared fixtures: an in-memory database, and the benchmark sets of ../shared/data (tests that need
one are skipped, saying where it was looked for, when it is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omendb
from data import MINILM_FILE, SIFTSMALL_FILES, Siftsmall, data_dir, load_minilm, load_siftsmall


@pytest.fixture
def db():
    """A fresh in-memory database, closed after the test."""
    database = omendb.open(":memory:")
    yield database
    database.close()


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, so every run draws the same data."""
    return np.random.default_rng(12345)


def _require_files(names: tuple[str, ...]) -> Path:
    """The data folder, or a skip naming the first file missing from it."""
    root = data_dir()
    for name in names:
        if not (root / name).is_file():
            pytest.skip(f"../shared/data not found: {root / name} is missing (set OMENDB_DATA_DIR to the data folder)")
    return root


@pytest.fixture(scope="session")
def siftsmall() -> Siftsmall:
    """ANN_SIFT10K with its ground truth."""
    return load_siftsmall(_require_files(SIFTSMALL_FILES))


@pytest.fixture(scope="session")
def minilm() -> np.ndarray:
    """The 2,641 x 384 MiniLM embeddings."""
    return load_minilm(_require_files((MINILM_FILE,)))
