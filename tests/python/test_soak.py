"""A short soak run (``make soak MINUTES=N`` runs a long one): concurrent writers, deleters,
searchers, checkpoints, compactions, a read-only handle and reopen cycles against a model."""

from __future__ import annotations

import os

from soak import soak


def test_soak_keeps_every_invariant(tmp_path):
    """Every reopen finds exactly the model's contents; no reader sees a torn record."""
    seconds = float(os.environ.get("OMENDB_SOAK_SECONDS", "40"))
    stats = soak(tmp_path / "soak.omendb", seconds, seed=int(os.environ.get("OMENDB_SOAK_SEED", "1")))
    print("\nsoak:", stats)
    assert stats["cycles"] >= 1 and stats["writes"] > 0 and stats["searches"] > 0
    assert stats["checkpoints"] + stats["compactions"] > 0 and stats["refreshes"] > 0
