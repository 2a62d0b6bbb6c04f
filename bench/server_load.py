"""Load test of OmenDB's HTTP server, side by side with Chroma's server (`chroma run`), on loopback.

    python bench/server_load.py                                   # 100,000 x 128, 16 clients, 60 s, 3 repetitions
    python bench/server_load.py --n 20000 --seconds 10 --clients 4 --out .cache/bench/server-load.json

Each system runs as a server subprocess on a folder under --work. Per repetition (systems in
rotating order, both servers up throughout): a fresh collection (l2, M=16, ef_construction=100,
search ef=64 in both) is bulk-loaded with the base set in batches of 1,000 through each system's
Python client (OmenDB's sends binary float32 frames; Chroma's sends JSON), then --clients client
threads (one process, each thread with its own client) run for --seconds, each call a single
search (k=10) with probability 1 - --write-fraction, else an add of --write-batch new records.
Reported: bulk-load records/s, search QPS and p50/p99, write records/s and p50/p99, errors (any
exception), as median [min-max] over repetitions, and OmenDB/Chroma ratios paired by repetition;
recall@10 of single searches after the first bulk load, so that speed is compared at a known
recall.

OmenDB only, afterwards: the overhead (median single-query latency through the client minus the
embedded one, on the same index opened read-only, in alternating slices), and the kill check: the
mixed load runs again, the server is SIGKILLed halfway, restarted on the folder, and every
acknowledged add must be there whole (an add in flight: whole or absent), and nothing else.

Data: omendb.datasets.clustered (latent 24-d, 256 clusters, seed 0), --queries held-out queries
with exact truth (cached under --cache); written records come from a second set (seed 2).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import common
import numpy as np

K = 10
M = 16
EF_CONSTRUCTION = 100
EF = 64
BULK_BATCH = 1000
COLLECTION = "load"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server subprocess on ``folder`` and a factory of its clients; subclasses say how."""

    name = ""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None
        self.port = 0

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 120.0) -> float:
        """Start the server and wait until it answers; returns the seconds that took."""
        self.port = free_port()
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        log = self.folder.with_name(self.folder.name + ".log")
        started = time.perf_counter()
        with open(log, "ab") as output:
            self.process = subprocess.Popen(self.command(), stdout=output, stderr=output)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {log}")
            if self.ready():
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                self.process.kill()
                raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s; see {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 60 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def create(self) -> None:
        """A fresh, empty collection COLLECTION (dropping the one before)."""
        raise NotImplementedError

    def client(self) -> Handle:
        raise NotImplementedError


@dataclass
class Handle:
    """One client's calls: search(query) -> ids, add(ids, vectors), get(ids) -> found ids, count()."""

    search: Callable[[np.ndarray], list[str]]
    add: Callable[[list[str], np.ndarray], None]
    get: Callable[[list[str]], set[str]]
    count: Callable[[], int]
    close: Callable[[], None]


class OmenDBServer(Server):
    name = "omendb"

    def command(self) -> list[str]:
        code = f"from omendb.server import serve; serve({str(self.folder)!r}, port={self.port}, log_level='warning')"
        return [sys.executable, "-c", code]

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        import httpx

        try:
            return httpx.get(self.url() + "/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def create(self) -> None:
        import omendb

        with omendb.connect(self.url()) as database:
            if COLLECTION in database.collections():
                database.drop_collection(COLLECTION)
            database.collection(COLLECTION, dim=DIM[0], metric="l2", m=M, ef_construction=EF_CONSTRUCTION)

    def client(self) -> Handle:
        import omendb

        database = omendb.connect(self.url(), timeout=120)
        collection = database.collection(COLLECTION)
        return Handle(
            search=lambda query: [hit.id for hit in collection.search(query, k=K, ef=EF)],
            add=lambda ids, vectors: collection.add(ids, vectors),
            get=lambda ids: {record.id for record in collection.get(ids) if record is not None},
            count=lambda: len(collection),
            close=database.close,
        )

    def checkpoint(self) -> None:
        import omendb

        with omendb.connect(self.url()) as database:
            database.checkpoint()


class ChromaServer(Server):
    name = "chroma"

    def command(self) -> list[str]:
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        return [chroma, "run", "--path", str(self.folder), "--host", "127.0.0.1", "--port", str(self.port)]

    def _client(self):
        import chromadb
        from chromadb.config import Settings

        return chromadb.HttpClient(host="127.0.0.1", port=self.port, settings=Settings(anonymized_telemetry=False))

    def ready(self) -> bool:
        try:
            self._client().heartbeat()
            return True
        except Exception:  # not up yet: connection refused, or its client's own error types  # noqa: BLE001
            return False

    def create(self) -> None:
        client = self._client()
        if COLLECTION in [getattr(each, "name", each) for each in client.list_collections()]:
            client.delete_collection(COLLECTION)
        hnsw = {"space": "l2", "max_neighbors": M, "ef_construction": EF_CONSTRUCTION, "ef_search": EF}
        client.create_collection(COLLECTION, configuration={"hnsw": hnsw}, embedding_function=None)

    def client(self) -> Handle:
        collection = self._client().get_collection(COLLECTION)
        return Handle(
            search=lambda query: collection.query(query_embeddings=query[None, :], n_results=K,
                                                  include=["distances"])["ids"][0],
            add=lambda ids, vectors: collection.add(ids=ids, embeddings=vectors),
            get=lambda ids: set(collection.get(ids=ids, include=[])["ids"]),
            count=collection.count,
            close=lambda: None,
        )


SYSTEMS = {"omendb": OmenDBServer, "chroma": ChromaServer}
DIM = [128]  # set from --dim before any collection is made


def bulk_load(server: Server, base: np.ndarray) -> float:
    """Create the collection and add ``base`` in batches of BULK_BATCH; returns records/s."""
    server.create()
    handle = server.client()
    started = time.perf_counter()
    for lo in range(0, len(base), BULK_BATCH):
        handle.add([str(i) for i in range(lo, min(lo + BULK_BATCH, len(base)))], base[lo:lo + BULK_BATCH])
    seconds = time.perf_counter() - started
    handle.close()
    return len(base) / seconds


def recall(server: Server, queries: np.ndarray, truth: np.ndarray) -> float:
    """recall@10 of single searches through the client."""
    handle = server.client()
    found = np.full((len(queries), K), -1)
    for row, query in enumerate(queries):
        ids = [int(i) for i in handle.search(query)]
        found[row, :len(ids)] = ids
    handle.close()
    return common.recall_at_k(found, truth[:, :K])


@dataclass
class ClientLog:
    """What one client thread did: latencies (s) per kind, errors, and its adds."""

    search: list[float] = field(default_factory=list)
    write: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    acked: list[list[str]] = field(default_factory=list)
    in_flight: list[str] | None = None


def client_thread(server: Server, log: ClientLog, until: float, stop: threading.Event, seed: list[int], tag: str,
                  queries: np.ndarray, pool: np.ndarray, args) -> None:
    """Mixed calls until ``until`` or ``stop``; after ``stop`` is set, errors are not counted (the
    server was killed) and the thread ends at its first one."""
    rng = np.random.default_rng(seed)
    try:
        handle = server.client()
    except Exception as error:  # noqa: BLE001
        log.errors.append(f"connect: {error!r}")
        return
    batch = 0
    while time.perf_counter() < until and not stop.is_set():
        writing = rng.random() < args.write_fraction
        if writing:
            ids = [f"{tag}-{batch}-{i}" for i in range(args.write_batch)]
            rows = rng.integers(0, len(pool), args.write_batch)
            log.in_flight, batch = ids, batch + 1
        started = time.perf_counter()
        try:
            if writing:
                handle.add(ids, pool[rows])
            else:
                handle.search(queries[rng.integers(len(queries))])
        except Exception as error:  # noqa: BLE001
            if stop.is_set():
                return
            log.errors.append(repr(error)[:300])
            continue
        elapsed = time.perf_counter() - started
        if writing:
            log.write.append(elapsed)
            log.acked.append(ids)
            log.in_flight = None
        else:
            log.search.append(elapsed)
    handle.close()


def run_load(server: Server, seconds: float, tag: str, queries, pool, args,
             kill_after: float | None = None) -> list[ClientLog]:
    """--clients threads of mixed calls for ``seconds``; with ``kill_after``, SIGKILL the server then."""
    logs = [ClientLog() for _ in range(args.clients)]
    stop = threading.Event()
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=client_thread, daemon=True,
                                args=(server, log, until, stop, [zlib.crc32(tag.encode()), number], f"{tag}c{number}",
                                      queries, pool, args))
               for number, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    if kill_after is not None:
        time.sleep(kill_after)
        stop.set()
        server.kill()
    for thread in threads:
        thread.join(seconds + 300)
    return logs


def summarize(logs: list[ClientLog], seconds: float, write_batch: int) -> dict:
    """Throughput and p50/p99 of one load phase."""
    search = np.array([x for log in logs for x in log.search])
    write = np.array([x for log in logs for x in log.write])

    def pct(values, q):
        return float(np.percentile(values, q) * 1000) if len(values) else None

    return {"search_qps": len(search) / seconds, "search_p50_ms": pct(search, 50), "search_p99_ms": pct(search, 99),
            "write_records_per_s": len(write) * write_batch / seconds, "write_p50_ms": pct(write, 50),
            "write_p99_ms": pct(write, 99), "searches": len(search), "writes": len(write),
            "errors": sum(len(log.errors) for log in logs),
            "error_samples": [error for log in logs for error in log.errors][:5]}


def overhead(server: OmenDBServer, queries: np.ndarray, count: int, rounds: int = 5) -> dict:
    """Median single-query latency through the client and embedded (the server's index opened
    read-only after a checkpoint), timed in alternating slices; their difference and ratio."""
    import omendb

    server.checkpoint()
    embedded_db = omendb.open(server.folder, read_only=True)
    embedded = embedded_db.collection(COLLECTION)
    handle = server.client()
    times = {"client": [], "embedded": []}
    size = max(1, count // rounds)
    for number in range(rounds):
        chunk = common.query_slice(queries, number, size)
        sides = [("client", handle.search), ("embedded", lambda query: embedded.search(query, k=K, ef=EF))]
        for side, call in sides if number % 2 == 0 else sides[::-1]:
            for query in chunk:
                started = time.perf_counter()
                call(query)
                times[side].append(time.perf_counter() - started)
    handle.close()
    embedded_db.close()
    client_us = common.median(times["client"]) * 1e6
    embedded_us = common.median(times["embedded"]) * 1e6
    return {"client_p50_us": client_us, "embedded_p50_us": embedded_us, "overhead_us": client_us - embedded_us,
            "ratio": client_us / embedded_us, "queries": len(times["client"])}


def kill_check(server: OmenDBServer, queries, pool, args) -> dict:
    """Mixed load, SIGKILL halfway, restart on the folder: every acknowledged add whole, an add in
    flight whole or absent, and no other record."""
    handle = server.client()
    before = handle.count()
    handle.close()
    seconds = max(2.0, args.seconds / 2)
    logs = run_load(server, seconds * 2, "kill", queries, pool, args, kill_after=seconds)
    restart_s = server.start()
    handle = server.client()
    acked = [ids for log in logs for ids in log.acked]
    missing = sum(len(ids) - len(handle.get(ids)) for ids in acked)
    partial, applied = 0, 0
    for log in logs:
        if log.in_flight is not None:
            found = len(handle.get(log.in_flight))
            partial += found not in (0, len(log.in_flight))
            applied += found
    expected = before + sum(len(ids) for ids in acked) + applied
    count = handle.count()
    handle.close()
    return {"acknowledged": len(acked), "acknowledged_records": sum(len(ids) for ids in acked),
            "missing_records": missing, "partial_batches": partial, "count": count, "expected_count": expected,
            "errors_before_kill": sum(len(log.errors) for log in logs), "restart_s": restart_s,
            "passed": missing == 0 and partial == 0 and count == expected and not any(log.errors for log in logs)}


def markdown(report: dict) -> str:
    """The report as markdown: parameters, a side-by-side table, ratios, overhead and kill check."""
    p, systems = report["parameters"], report["systems"]
    names = list(systems)
    lines = [f"# Server load test{' (smoke size)' if p['n'] < 100_000 or p['seconds'] < 60 else ''}", "",
             (f"{p['n']:,} x {p['dim']} clustered (latent 24-d, 256 clusters), {p['clients']} client threads, "
              f"{p['seconds']} s per repetition, {p['repeats']} repetitions (rotating order), "
              f"{p['write_fraction']:.0%} adds of {p['write_batch']} records, k={K}, ef={EF}, M={M}, "
              f"ef_construction={EF_CONSTRUCTION}. Median [min-max] over repetitions."), "",
             environment_line(report["environment"]), ""]
    rows = [("bulk load (records/s)", "bulk_load", ",.0f"), ("search QPS", "search_qps", ",.0f"),
            ("search p50 (ms)", "search_p50_ms", ".2f"), ("search p99 (ms)", "search_p99_ms", ".2f"),
            ("write records/s", "write_records_per_s", ",.0f"), ("write p50 (ms)", "write_p50_ms", ".2f"),
            ("write p99 (ms)", "write_p99_ms", ".2f"), ("errors (per repetition)", "errors", ",.0f")]
    table_rows = []
    for label, key, spec in rows:
        cells = [label]
        for name in names:
            figure = systems[name]["summary"].get(key)
            cells.append("—" if figure is None else common.fmt_stats(figure, spec))
        table_rows.append(cells)
    table_rows.append(["recall@10"] + [f"{systems[name]['recall_at_10']:.3f}" for name in names])
    lines += ["```", common.table(["", *names], table_rows), "```", ""]
    for key, value in report.get("ratios", {}).items():
        lines.append(f"- OmenDB / Chroma {key}: {common.fmt_stats(value, '.2f', 'x')} (paired by repetition)")
    omen = systems.get("omendb", {})
    if "overhead" in omen:
        o = omen["overhead"]
        lines.append(f"- Overhead of one search through the client: {o['client_p50_us']:,.0f} µs vs "
                     f"{o['embedded_p50_us']:,.0f} µs embedded = +{o['overhead_us']:,.0f} µs ({o['ratio']:.1f}x), "
                     f"medians of {o['queries']} queries each")
    if "kill" in omen:
        k = omen["kill"]
        lines.append(f"- SIGKILL mid-run: {k['acknowledged']} acknowledged adds ({k['acknowledged_records']:,} "
                     f"records), {k['missing_records']} missing, {k['partial_batches']} partial, count "
                     f"{k['count']:,} (expected {k['expected_count']:,}), restart {k['restart_s']:.1f} s: "
                     f"{'PASSED' if k['passed'] else 'FAILED'}")
    return "\n".join(lines) + "\n"


def environment_line(environment: dict) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in environment["versions"].items())
    return (f"Environment: {versions}; {environment['cpu']}, {environment['cores']} cores, load average "
            f"{common.fmt_loadavg(environment['loadavg'])} at the end.")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="base vectors (default 100,000)")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=1000, help="held-out queries with exact truth")
    parser.add_argument("--seconds", type=float, default=60.0, help="mixed load per system and repetition")
    parser.add_argument("--clients", type=int, default=16, help="client threads")
    parser.add_argument("--repeats", type=int, default=3, help="repetitions, systems in rotating order")
    parser.add_argument("--write-fraction", type=float, default=0.1)
    parser.add_argument("--write-batch", type=int, default=100, help="records per add in the mixed load")
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--overhead-queries", type=int, default=1000)
    parser.add_argument("--systems", default="omendb,chroma", help="comma-separated: omendb, chroma")
    parser.add_argument("--work", type=Path, default=None, help="server folders (default: a temporary folder)")
    parser.add_argument("--cache", type=Path, default=Path(".cache/bench"), help="cached data sets")
    parser.add_argument("--out", type=Path, default=None, help="JSON report; markdown beside it (.md)")
    args = parser.parse_args(argv)
    args.systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = [name for name in args.systems if name not in SYSTEMS]
    if unknown or not args.systems:
        parser.error(f"--systems: unknown {unknown}; choose from {sorted(SYSTEMS)}")
    return args


def main(argv=None) -> int:
    from omendb.datasets import ClusteredSpec, clustered

    args = parse_args(argv)
    DIM[0] = args.dim
    base, queries, truth = common.cached_split(ClusteredSpec(n=args.n + args.queries, dim=args.dim), args.queries,
                                               K, args.cache)
    pool = clustered(ClusteredSpec(n=10_000, dim=args.dim, seed=2))
    work = args.work or Path(tempfile.mkdtemp(prefix="omendb-server-load-"))
    servers = {name: SYSTEMS[name](work / name) for name in args.systems}
    results = {name: {"bulk_load": [], "load": []} for name in servers}
    try:
        for server in servers.values():
            print(f"starting {server.name} ({server.start():.1f} s)", flush=True)
        for rep in range(args.repeats):
            order = list(servers)[rep % len(servers):] + list(servers)[:rep % len(servers)]
            for name in order:
                server = servers[name]
                results[name]["bulk_load"].append(bulk_load(server, base))
                if rep == 0:
                    results[name]["recall_at_10"] = recall(server, queries[:args.recall_queries],
                                                           truth[:args.recall_queries])
                logs = run_load(server, args.seconds, f"r{rep}", queries, pool, args)
                results[name]["load"].append(summarize(logs, args.seconds, args.write_batch))
                print(f"rep {rep} {name}: bulk {results[name]['bulk_load'][-1]:,.0f}/s, "
                      f"{results[name]['load'][-1]}", flush=True)
        if "omendb" in servers:
            results["omendb"]["overhead"] = overhead(servers["omendb"], queries, args.overhead_queries)
            results["omendb"]["kill"] = kill_check(servers["omendb"], queries, pool, args)
    finally:
        for server in servers.values():
            server.stop()
    report = build_report(args, results)
    text = markdown(report)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2))
        args.out.with_suffix(".md").write_text(text)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    errors = any(load["errors"] for result in results.values() for load in result["load"])
    failed = errors or not results.get("omendb", {}).get("kill", {"passed": True})["passed"]
    return 1 if failed else 0


def build_report(args, results: dict) -> dict:
    """Medians over repetitions, totals of counts, paired OmenDB/Chroma ratios."""
    systems = {}
    for name, result in results.items():
        loads = result["load"]
        summary = {"bulk_load": common.stats(result["bulk_load"])}
        for key in ("search_qps", "search_p50_ms", "search_p99_ms", "write_records_per_s", "write_p50_ms",
                    "write_p99_ms"):
            values = [load[key] for load in loads if load[key] is not None]
            summary[key] = common.stats(values) if values else None
        summary["errors"] = common.stats([load["errors"] for load in loads])
        total = {"searches": sum(load["searches"] for load in loads), "writes": sum(load["writes"] for load in loads),
                 "errors": sum(load["errors"] for load in loads)}
        systems[name] = {"summary": summary, "load": total, "repetitions": loads, "bulk_load": result["bulk_load"],
                         "recall_at_10": result["recall_at_10"]}
        for extra in ("overhead", "kill"):
            if extra in result:
                systems[name][extra] = result[extra]
    ratios = {}
    if "omendb" in results and "chroma" in results:
        ours, theirs = results["omendb"], results["chroma"]
        ratios["bulk load"] = common.stats(common.paired_ratios(ours["bulk_load"], theirs["bulk_load"]))
        for key, label in (("search_qps", "search QPS"), ("search_p99_ms", "search p99")):
            ratios[label] = common.stats(common.paired_ratios([x[key] for x in ours["load"]],
                                                              [x[key] for x in theirs["load"]]))
    parameters = {key: (str(value) if isinstance(value, Path) else value) for key, value in vars(args).items()}
    return {"parameters": parameters, "environment": common.environment(["omendb", "chromadb", "fastapi", "uvicorn"]),
            "systems": systems, "ratios": ratios}


if __name__ == "__main__":
    sys.exit(main())
