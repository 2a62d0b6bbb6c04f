"""The compiled graph walks prefetch the rows they are about to score.

GCC 12 at -O3 once deleted the __builtin_prefetch loops inlined into both walks, silently costing
15% of search and build speed (src/index/scorers.h, prefetch_line). This reads the disassembly of
the installed extension and checks that each walk instantiation still holds the neighbour-list
prefetches and the row prefetch loop.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess

import pytest

import omendb._core as core

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or shutil.which("objdump") is None,
    reason="reads x86-64 disassembly with objdump",
)

# Two prefetches of a new candidate's neighbour list, and at least one in the row prefetch loop.
MIN_PREFETCHES = 3


def walk_prefetches() -> dict[str, int]:
    """Prefetch instructions per search_level instantiation in the extension's disassembly."""
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", core.__file__], capture_output=True, text=True, check=True
    ).stdout
    counts: dict[str, int] = {}
    current = None
    for line in listing.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            name = header.group(1)
            walk = re.search(r"search_level<omendb::(\w+)>", name)
            current = walk.group(1) if walk and not name.endswith("@plt") else None
            if current:
                counts.setdefault(current, 0)
        elif current and "prefetch" in line:
            counts[current] += 1
    return counts


def test_both_walks_prefetch_rows_and_lists():
    counts = walk_prefetches()
    assert set(counts) == {"CodeScorer", "ExactScorer"}, counts
    for scorer, count in counts.items():
        assert count >= MIN_PREFETCHES, f"search_level<{scorer}> has {count} prefetch instructions: {counts}"
