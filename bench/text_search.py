"""Full-text search: OmenDB's BM25 against tantivy and bm25s, on a real corpus (WordNet glosses or
fortune cookies, from Debian; scripts/env.sh installs them).

Measures, on one machine in one run: indexing throughput (documents/s) and single-query top-k
latency (median and p99 over the queries, after a warm-up), per system:
- OmenDB: ``col.add(ids, vectors, documents=...)`` in batches of 10,000 into an in-memory
  collection with a default ``TextField`` (the add also builds the 8-d vector index of random
  vectors; the row "OmenDB vectors only" times that part alone); ``col.search(text=q, k=k)``,
  whose hits carry id, score and document.
- tantivy: one stored text field (default tokenizer) and a stored row number, in RAM; one writer
  (200 MB heap, --threads threads), add, commit, wait for merges, reload; the timed query is
  ``searcher.search(index.parse_query(q, ["body"]), k)`` (scores and addresses, no stored fields).
- bm25s: Lucene's variant (k1=1.2, b=0.75), indexed from OmenDB's own tokens of each document
  (``col.tokenize``, untimed: the same terms as OmenDB) and queried one query at a time with
  ``retrieve([tokens], k=k)`` (query tokens also from OmenDB, untimed).
Repetitions rotate the order of the systems; every figure is the median [min–max] of the
repetitions, ratios against tantivy are paired per repetition (their median). "overlap" is the
mean share of bm25s's top-k (documents with a positive score) found in a system's top-k. Queries
are drawn from the corpus as tests/python/test_bm25_reference.py draws them
(``omendb.text_corpora.draw_queries``). Follows shared/BENCHMARKS.md; see bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import environment, fmt_ratio, fmt_stats, median, paired_ratios, stats  # noqa: E402

import bm25s  # noqa: E402
import omendb  # noqa: E402
import tantivy  # noqa: E402
from omendb.text_corpora import draw_queries, fortunes, wordnet_glosses  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPORA = {"wordnet": wordnet_glosses, "fortunes": fortunes}
DIM = 8  # the vectors beside the texts: random, only because a record needs one
BATCH = 10_000
TANTIVY_HEAP = 200_000_000
WARMUP_QUERIES = 50
OMEN, OMEN_VECTORS, TANTIVY, BM25S = "OmenDB", "OmenDB vectors only", "tantivy", "bm25s"
SYSTEM_NAMES = {"omendb": OMEN, "omendb-vectors": OMEN_VECTORS, "tantivy": TANTIVY, "bm25s": BM25S}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", choices=sorted(CORPORA), default="wordnet")
    p.add_argument("--queries", type=int, default=1000, help="queries drawn from the corpus (default 1000)")
    p.add_argument("--k", type=int, default=10, help="hits per query (default 10)")
    p.add_argument("--repeats", type=int, default=3, help="repetitions (default 3)")
    p.add_argument("--threads", type=int, default=1, help="indexing threads of OmenDB and tantivy (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the queries and vectors")
    p.add_argument("--systems", default=",".join(SYSTEM_NAMES),
                   help=f"comma-separated, of {', '.join(SYSTEM_NAMES)} (default all)")
    p.add_argument("--json", type=Path, help="results (default .cache/bench/text_search-<corpus>-<timestamp>.json)")
    args = p.parse_args(argv)
    args.systems = [name.strip() for name in args.systems.split(",")]
    unknown = set(args.systems) - set(SYSTEM_NAMES)
    if unknown:
        p.error(f"unknown systems {sorted(unknown)}; choose from {', '.join(SYSTEM_NAMES)}")
    if args.json is None:
        args.json = REPO / ".cache" / "bench" / f"text_search-{args.corpus}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    return args


def omendb_tokens(texts: list[str], queries: list[str]) -> tuple[list[list[str]], list[list[str]], float]:
    """The tokens of the default analyzer of an OmenDB text field (``tokenize`` of an empty
    collection) for each text and each query, and the seconds spent on the texts."""
    with omendb.open(":memory:") as db:
        tokenize = db.collection("analyzer", dim=DIM, text=omendb.TextField()).tokenize
        start = time.perf_counter()
        token_lists = [tokenize(text) for text in texts]
        seconds = time.perf_counter() - start
        return token_lists, [tokenize(query) for query in queries], seconds


class OmenDBSystem:
    """OmenDB in memory; with ``text`` False, the same adds without documents (the vector part)."""

    def __init__(self, args, text: bool = True):
        self.args, self.text = args, text
        self.name = OMEN if text else OMEN_VECTORS
        self.db = self.col = None

    def build(self, ids: list[str], texts: list[str], vectors: np.ndarray, _token_lists) -> float:
        """Adds every record in batches of BATCH; returns the seconds of the add calls."""
        self.db = omendb.open(":memory:", threads=self.args.threads)
        field = {"text": omendb.TextField()} if self.text else {}
        self.col = self.db.collection("texts", dim=DIM, **field)
        start = time.perf_counter()
        for first in range(0, len(ids), BATCH):
            rows = slice(first, first + BATCH)
            documents = {"documents": texts[rows]} if self.text else {}
            self.col.add(ids[rows], vectors[rows], **documents)
        return time.perf_counter() - start

    def search(self, query: str, _tokens) -> list:
        return self.col.search(text=query, k=self.args.k)

    def hit_rows(self, hits: list, row_of: dict) -> list[int]:
        return [row_of[hit.id] for hit in hits]

    def free(self) -> None:
        self.db.close()
        self.db = self.col = None


class TantivySystem:
    """tantivy in RAM (see the module docstring)."""

    name = TANTIVY

    def __init__(self, args):
        self.args = args
        self.index = self.searcher = None

    def build(self, _ids, texts: list[str], _vectors, _token_lists) -> float:
        """Indexes every text; returns the seconds from the first add to a searcher that sees all."""
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=True)
        builder.add_unsigned_field("row", stored=True)
        self.index = tantivy.Index(builder.build())
        start = time.perf_counter()
        writer = self.index.writer(heap_size=TANTIVY_HEAP, num_threads=self.args.threads)
        for row, text in enumerate(texts):
            writer.add_document(tantivy.Document(body=text, row=row))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        return time.perf_counter() - start

    def search(self, query: str, _tokens):
        return self.searcher.search(self.index.parse_query(query, ["body"]), self.args.k)

    def hit_rows(self, result, _row_of) -> list[int]:
        return [self.searcher.doc(address)["row"][0] for _, address in result.hits]

    def free(self) -> None:
        self.index = self.searcher = None


class Bm25sSystem:
    """bm25s (numpy backend, float32 scores) over OmenDB's tokens."""

    name = BM25S

    def __init__(self, args):
        self.args, self.index = args, None

    def build(self, _ids, _texts, _vectors, token_lists: list[list[str]]) -> float:
        """Indexes the pre-tokenized documents; returns the seconds of ``index``."""
        self.index = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
        start = time.perf_counter()
        self.index.index(token_lists, show_progress=False)
        return time.perf_counter() - start

    def search(self, _query, tokens: list[str]):
        return self.index.retrieve([tokens], k=self.args.k, show_progress=False)

    def hit_rows(self, result, _row_of) -> list[int]:
        return [int(row) for row, score in zip(result.documents[0], result.scores[0]) if score > 0]

    def free(self) -> None:
        self.index = None


def make_systems(args) -> list:
    """The systems of ``--systems``, in that order."""
    factories = {"omendb": lambda: OmenDBSystem(args), "omendb-vectors": lambda: OmenDBSystem(args, text=False),
                 "tantivy": lambda: TantivySystem(args), "bm25s": lambda: Bm25sSystem(args)}
    return [factories[name]() for name in args.systems]


def timed_queries(system, queries: list[str], query_tokens: list[list[str]]) -> tuple[np.ndarray, list]:
    """Per-query seconds of ``system.search`` over all queries (after WARMUP_QUERIES untimed ones,
    and a gc.collect()), and the results."""
    for query, tokens in list(zip(queries, query_tokens))[:WARMUP_QUERIES]:
        system.search(query, tokens)
    gc.collect()
    seconds, results = np.empty(len(queries)), []
    for i, (query, tokens) in enumerate(zip(queries, query_tokens)):
        start = time.perf_counter()
        results.append(system.search(query, tokens))
        seconds[i] = time.perf_counter() - start
    return seconds, results


def run_system(system, corpus: dict) -> dict:
    """Builds ``system`` from scratch, times its queries (when it searches text), frees it;
    returns docs/s, p50/p99 in µs and the top-k rows."""
    gc.collect()
    build_seconds = system.build(corpus["ids"], corpus["texts"], corpus["vectors"], corpus["token_lists"])
    result = {"docs_per_s": len(corpus["ids"]) / build_seconds}
    if system.name != OMEN_VECTORS:
        seconds, hits = timed_queries(system, corpus["queries"], corpus["query_tokens"])
        result |= {"p50_us": float(np.median(seconds) * 1e6), "p99_us": float(np.percentile(seconds, 99) * 1e6),
                   "rows": [system.hit_rows(h, corpus["row_of"]) for h in hits]}
    system.free()
    return result


def run_repetition(systems: list, corpus: dict, rep: int) -> dict:
    """One repetition: every system in turn, the order rotated by ``rep``."""
    order = systems[rep % len(systems):] + systems[:rep % len(systems)]
    results = {}
    for system in order:
        results[system.name] = run_system(system, corpus)
        figures = results[system.name]
        latency = f", p50 {figures['p50_us']:,.0f} µs, p99 {figures['p99_us']:,.0f} µs" if "p50_us" in figures else ""
        print(f"  rep {rep + 1} {system.name}: {figures['docs_per_s']:,.0f} docs/s{latency}", flush=True)
    return results


def overlap(rows: list[list[int]], reference: list[list[int]]) -> Optional[float]:
    """Mean share of each non-empty reference top-k found in ``rows``; None when all are empty."""
    shares = [len(set(mine) & set(theirs)) / len(theirs) for mine, theirs in zip(rows, reference) if theirs]
    return float(np.mean(shares)) if shares else None


def summarize(runs: list[dict]) -> dict:
    """Per system: stats of docs/s, p50, p99 over the repetitions, paired ratios against tantivy
    (throughput: system/tantivy; latency: system/tantivy), and the overlap with bm25s."""
    summary = {}
    for name in runs[0]:
        entry = {metric: stats([run[name][metric] for run in runs])
                 for metric in ("docs_per_s", "p50_us", "p99_us") if metric in runs[0][name]}
        if TANTIVY in runs[0]:
            entry["ratios_vs_tantivy"] = {
                metric: median(paired_ratios([run[name][metric] for run in runs], [run[TANTIVY][metric] for run in runs]))
                for metric in entry}
        if BM25S in runs[0] and "rows" in runs[0][name]:
            entry["overlap_with_bm25s"] = overlap(runs[0][name]["rows"], runs[0][BM25S]["rows"])
        summary[name] = entry
    return summary


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, numbers right-aligned."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _cell(entry: dict, metric: str) -> str:
    """``metric`` of a summary entry as "median [min–max]", or "—" when the system lacks it."""
    return fmt_stats(entry[metric]) if metric in entry else "—"


def report(summary: dict, versions: dict) -> str:
    """The results as a Markdown table (medians [min–max]; ratios: paired, against tantivy)."""
    package = {OMEN: "omendb", OMEN_VECTORS: "omendb", TANTIVY: "tantivy", BM25S: "bm25s"}
    rows = []
    for name, entry in summary.items():
        ratios = entry.get("ratios_vs_tantivy", {})
        share = entry.get("overlap_with_bm25s")
        rows.append([name, versions.get(package[name], "?"), _cell(entry, "docs_per_s"),
                     fmt_ratio(ratios.get("docs_per_s")), _cell(entry, "p50_us"), _cell(entry, "p99_us"),
                     fmt_ratio(ratios.get("p50_us")),
                     "—" if share is None else f"{share:.3f}"])
    return markdown_table(["system", "version", "index docs/s", "docs/s ÷ tantivy (higher: faster)", "p50 µs",
                           "p99 µs", "p50 ÷ tantivy (lower: faster)", "overlap with bm25s"], rows)


def load_corpus(args) -> dict:
    """The corpus, its queries, OmenDB's tokens of both and the random vectors."""
    pairs = CORPORA[args.corpus]()
    ids, texts = [id_ for id_, _ in pairs], [text for _, text in pairs]
    queries = draw_queries(texts, args.queries, seed=args.seed)
    token_lists, query_tokens, tokenize_seconds = omendb_tokens(texts, queries)
    return {"ids": ids, "texts": texts, "queries": queries, "row_of": {id_: row for row, id_ in enumerate(ids)},
            "token_lists": token_lists, "query_tokens": query_tokens,
            "vectors": np.random.default_rng(args.seed).standard_normal((len(ids), DIM), dtype=np.float32),
            "tokenize_s": tokenize_seconds}


def main(argv=None) -> int:
    args = parse_args(argv)
    env = environment(["omendb", "tantivy", "bm25s", "numpy"])
    corpus = load_corpus(args)
    tokens = sum(map(len, corpus["token_lists"]))
    print(f"== full-text search: {', '.join(SYSTEM_NAMES[s] for s in args.systems)} ==")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    print(f"cpu: {env['cpu']} | cores: {env['cores']} | loadavg: {env['loadavg']}")
    print(f"corpus: {args.corpus}, {len(corpus['ids']):,} documents, {tokens / len(corpus['ids']):.1f} tokens each "
          f"(OmenDB's analyzer: {corpus['tokenize_s']:.2f} s to tokenize all, untimed for bm25s)")
    print(f"method: {args.queries} queries (seed {args.seed}), k={args.k}, {WARMUP_QUERIES} warm-up queries, "
          f"indexing threads {args.threads}, {args.repeats} repetitions in rotating order\n")
    systems = make_systems(args)
    runs = [run_repetition(systems, corpus, rep) for rep in range(args.repeats)]
    summary = summarize(runs)
    print("\n" + report(summary, env["versions"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    raw = [{name: {k: v for k, v in figures.items() if k != "rows"} for name, figures in run.items()} for run in runs]
    args.json.write_text(json.dumps({
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "environment": env,
        "corpus": {"name": args.corpus, "documents": len(corpus["ids"]), "tokens": tokens,
                   "tokenize_s": corpus["tokenize_s"], "queries": corpus["queries"]},
        "runs": raw, "summary": summary}, indent=2, ensure_ascii=False))
    print(f"\nresults: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
