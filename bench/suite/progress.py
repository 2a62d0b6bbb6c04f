"""Progress display for long runs: a tqdm bar when tqdm is installed, plain lines otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts work units towards ``total`` and prints notes above the bar."""

    def __init__(self, total: int, enabled: bool = True) -> None:
        self.started = time.perf_counter()
        self.done, self.total = 0, total
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="unit", dynamic_ncols=True, file=sys.stderr,
                                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}")
            except ImportError:
                pass

    def step(self, label: str, weight: int = 1) -> None:
        """A step of ``weight`` units done; ``label`` says what it was."""
        self.done += weight
        if self.bar is not None:
            self.bar.set_postfix_str(label[:60], refresh=False)
            self.bar.update(weight)

    def note(self, message: str) -> None:
        """A line of results, printed above the bar (or with the elapsed time when there is none)."""
        if self.bar is not None:
            self.bar.write(message)
        else:
            print(f"[{time.perf_counter() - self.started:6.0f} s] {message}", flush=True)

    def close(self) -> None:
        """Closes the bar."""
        if self.bar is not None:
            self.bar.close()
