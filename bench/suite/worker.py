"""A worker process: runs one system for one data set and times its calls.

Started by client.py as ``python worker.py ADAPTER_MODULE``. Reads one JSON command per line on
stdin and answers one JSON line on the original stdout; anything the libraries print goes to
stderr (the parent logs it). Uses only the standard library and NumPy, so it also runs in the
earlier OmenDB's virtual environment. Commands (fields beyond "cmd"):

- init {dataset, metric, settings, packages, queries, load_base}: loads the first ``queries``
  queries and (unless a worker only opens) base and buckets (.npy); imports the system.
- build {folder, n, batch}: creates, inserts rows 0..n in batches (timed per call), finish();
  reports the resident memory it added (peak and after) over the baseline taken just before.
- query {mode, ef, count, want_ids}: ``count`` single-query calls cycling through the queries
  (or batch calls over all queries until ``count`` were answered); seconds, latency percentiles.
- filtered {below, count, ef}: filtered single queries (bucket < below); seconds and ids.
- save {}: timed save (close for databases).
- open {folder, ef}: in a fresh worker: open what save wrote and answer queries[0]; times and memory;
  then every query once at ``ef`` (untimed) and the memory added by then.
- probe {}: imports the adapter; why its system cannot run on this machine (Adapter.unsupported), or null.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import time
import traceback
from importlib import metadata
from pathlib import Path

import numpy as np


def memory() -> tuple[int, int]:
    """(current resident bytes, peak resident bytes since the last reset) of this process."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak() -> bool:
    """Resets the peak resident size (VmHWM) to the current one; False where the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def versions(packages) -> dict:
    """{distribution: installed version or "not installed"}."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


class Worker:
    """The commands of the module docstring; one adapter (systems/<module>.py) at a time."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.adapter = None

    def init(self, dataset: str, metric: str, settings: dict, packages: list, queries: int,
             load_base: bool) -> dict:
        """Loads the data and imports the adapter (the import time is reported, not counted)."""
        folder = Path(dataset)
        self.queries = np.ascontiguousarray(np.load(folder / "queries.npy")[:queries])
        if load_base:
            self.base, buckets = np.load(folder / "base.npy"), np.load(folder / "buckets.npy")
        else:  # a worker that only opens a saved index needs no base vectors
            self.base, buckets = np.empty((0, self.queries.shape[1]), np.float32), np.empty(0, np.int32)
        started = time.perf_counter()
        adapter = importlib.import_module(f"systems.{self.module}").ADAPTER
        import_s = time.perf_counter() - started
        self.adapter = adapter(self.base, buckets, metric, settings)
        return {"import_s": import_s, "versions": versions(packages), "pid": os.getpid()}

    def build(self, folder: str, n: int, batch: int) -> dict:
        """Inserts rows 0..n in batches; seconds of the insert calls and of finish(), and resident
        sizes (baseline just before, peak and after). One batch is prepared before the baseline."""
        a = self.adapter
        spans = [(lo, min(n, lo + batch)) for lo in range(0, n, batch)]
        prepared = [a.prepare(*spans[0])] if len(spans) == 1 else None  # one batch: prepared off the baseline
        gc.collect()
        reset_ok = reset_peak()
        baseline, _ = memory()
        a.create(Path(folder), n)
        insert_s = 0.0
        for span in spans:
            payload = prepared[0] if prepared else a.prepare(*span)
            started = time.perf_counter()
            a.insert(payload)
            insert_s += time.perf_counter() - started
            del payload
        prepared = None
        started = time.perf_counter()
        a.finish()
        finish_s = time.perf_counter() - started
        gc.collect()
        after, peak = memory()
        return {"n": n, "batches": len(spans), "insert_s": insert_s, "finish_s": finish_s,
                "baseline_rss": baseline, "after_rss": after, "peak_rss": peak, "peak_reset": reset_ok,
                "describe": a.describe()}

    def query(self, mode: str, ef: int, count: int, want_ids: bool) -> dict:
        """Times ``count`` queries at ``ef``: one call each ("single", with p50/p99 latency) or
        whole-set batch calls ("batch"); ids of the first pass over the queries when asked."""
        a, queries = self.adapter, self.queries
        a.set_ef(ef)
        nq = len(queries)
        gc.collect()
        if mode == "single":
            latencies, results = [], []
            search, clock = a.search, time.perf_counter
            started = clock()
            for i in range(count):
                t0 = clock()
                result = search(queries[i % nq])
                latencies.append(clock() - t0)
                if want_ids and i < nq:
                    results.append(result)
            seconds = clock() - started
            ids = [a.ids(r) for r in results] if want_ids else None
            lat = np.array(latencies)
            return {"seconds": seconds, "queries": count, "ids": ids,
                    "p50_s": float(np.percentile(lat, 50)), "p99_s": float(np.percentile(lat, 99))}
        calls = max(1, -(-count // nq))
        started = time.perf_counter()
        for _ in range(calls):
            result = a.search_batch(queries)
        seconds = time.perf_counter() - started
        ids = a.batch_ids(result).tolist() if want_ids else None
        return {"seconds": seconds, "queries": calls * nq, "ids": ids}

    def filtered(self, below: int, count: int, ef: int) -> dict:
        """Times the first ``count`` queries with the filter bucket < ``below``; their ids."""
        a = self.adapter
        a.set_ef(ef)
        gc.collect()
        results, clock = [], time.perf_counter
        started = clock()
        for q in self.queries[:count]:
            results.append(a.search_filtered(q, below))
        seconds = clock() - started
        return {"seconds": seconds, "queries": count, "ids": [a.ids(r) for r in results]}

    def save(self) -> dict:
        """Timed save (libraries) or close (databases)."""
        started = time.perf_counter()
        self.adapter.save()
        return {"save_s": time.perf_counter() - started}

    def open(self, folder: str, ef: int) -> dict:
        """Opens what save wrote and answers queries[0]: the two times and the memory added; then
        answers every query once at ``ef`` (untimed) and reports the resident memory added by then
        (what serving queries keeps resident: pages of a mapped index come in as searches touch them)."""
        a = self.adapter
        gc.collect()
        reset_peak()
        baseline, _ = memory()
        query = np.ascontiguousarray(self.queries[0])
        started = time.perf_counter()
        a.open(Path(folder))
        opened = time.perf_counter()
        hits = a.ids(a.search(query))
        done = time.perf_counter()
        after, peak = memory()
        a.set_ef(ef)
        for q in self.queries:
            a.search(q)
        gc.collect()
        queried, _ = memory()
        return {"open_s": opened - started, "first_query_s": done - opened, "total_s": done - started,
                "hits": len(hits), "rss_delta": after - baseline, "peak_delta": peak - baseline,
                "rss_queried_delta": queried - baseline}

    def probe(self) -> dict:
        """Imports the adapter; why its system cannot run on this machine, or None."""
        adapter = importlib.import_module(f"systems.{self.module}").ADAPTER
        return {"unsupported": adapter.unsupported()}

    def close(self) -> dict:
        """Releases the adapter (the worker exits after replying)."""
        if self.adapter is not None:
            self.adapter.close()
        return {}


def main() -> int:
    """Serves commands until "close" or the end of stdin."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # library output goes to stderr, never into the replies
    sys.stdout = sys.stderr
    replies = os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")
    worker = Worker(sys.argv[1])
    for line in sys.stdin:
        command = json.loads(line)
        name = command.pop("cmd")
        try:
            reply = {"ok": True} | getattr(worker, name)(**command)
        except Exception:  # reported to the parent, which records it
            reply = {"ok": False, "error": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")
        if name == "close":
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
