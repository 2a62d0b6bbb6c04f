"""The compiled graph walks prefetch the rows they are about to score.

GCC 12 at -O3 once deleted the __builtin_prefetch loops inlined into both walks, silently costing
15% of search and build speed (src/index/scorers.h, prefetch_line). This reads the disassembly of
the installed extension and checks that each walk instantiation still holds its two prefetch
loops: the rows of the neighbours about to be scored, and the lines of a new candidate's
neighbour list.
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

# The row prefetch loop (scorer.prefetch) and the neighbour-list prefetch loop
# (HnswGraph::prefetch_level0): two loops, each with a prefetch of its own.
MIN_PREFETCH_LOOPS = 2

INSTRUCTION = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*([0-9a-f]+)?")


def walk_disassembly() -> dict[str, list[tuple[int, str, int | None]]]:
    """Instructions (address, mnemonic, branch target) of each search_level instantiation in the
    extension's disassembly."""
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", "-C", core.__file__], capture_output=True, text=True, check=True
    ).stdout
    walks: dict[str, list[tuple[int, str, int | None]]] = {}
    current = None
    for line in listing.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if header:
            name = header.group(1)
            walk = re.search(r"search_level<omendb::(\w+)>", name)
            current = walk.group(1) if walk and not name.endswith("@plt") else None
            if current:
                walks.setdefault(current, [])
            continue
        instruction = INSTRUCTION.match(line)
        if current and instruction:
            address, mnemonic, target = instruction.groups()
            branch = int(target, 16) if mnemonic.startswith("j") and target else None
            walks[current].append((int(address, 16), mnemonic, branch))
    return walks


def prefetch_loops(instructions: list[tuple[int, str, int | None]]) -> set[tuple[int, int]]:
    """The innermost loops (ranges closed by a backward branch) that hold a prefetch instruction."""
    loops = [(target, address) for address, _, target in instructions if target is not None and target <= address]
    found = set()
    for address, mnemonic, _ in instructions:
        if not mnemonic.startswith("prefetch"):
            continue
        enclosing = [loop for loop in loops if loop[0] <= address <= loop[1]]
        if enclosing:
            found.add(min(enclosing, key=lambda loop: loop[1] - loop[0]))
    return found


def test_both_walks_prefetch_rows_and_lists():
    walks = walk_disassembly()
    assert set(walks) == {"CodeScorer", "ExactScorer"}, list(walks)
    for scorer, instructions in walks.items():
        loops = prefetch_loops(instructions)
        assert len(loops) >= MIN_PREFETCH_LOOPS, (
            f"search_level<{scorer}> prefetches in {len(loops)} loops (starting at {sorted(hex(start) for start, _ in loops)})"
        )
