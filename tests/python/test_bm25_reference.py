"""Full-text search against a reference: OmenDB's BM25 top-10 must equal bm25s's (Lucene's
formula, k1=1.2, b=0.75) when bm25s is fed exactly the tokens of the collection's analyzer
(``collection.tokenize``), on the WordNet glosses (117,659 texts, Debian wordnet-base) and on a
small synthetic corpus under stemming and stop words. The reference itself is checked against
BM25 computed by hand.

The WordNet corpus is installed by scripts/env.sh (make test); when it is missing the test
fails (FileNotFoundError naming the package), it does not skip.
"""

from __future__ import annotations

import math
from collections import Counter
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import pytest

import omendb
from bm25_reference import bm25s_index, bm25s_top_k, random_vectors, same_top_k
from omendb.text_corpora import draw_queries, wordnet_glosses

K = 10
K1, B = 1.2, 0.75
DIM = 8


# --- the reference, checked by hand ---------------------------------------------------------------

def hand_bm25(token_lists: Sequence[Sequence[str]], query: Sequence[str]) -> list[float]:
    """Lucene's BM25 of every document for ``query``, straight from the formula: the sum over the
    query's tokens (once per occurrence) of idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)),
    idf = ln(1 + (N - n + 0.5) / (n + 0.5)), dl the document's token count."""
    count = len(token_lists)
    avgdl = sum(map(len, token_lists)) / count
    df = Counter(token for tokens in token_lists for token in set(tokens))
    scores = []
    for tokens in token_lists:
        tf, dl = Counter(tokens), len(tokens)
        scores.append(sum(
            math.log(1 + (count - df[t] + 0.5) / (df[t] + 0.5)) * tf[t] / (tf[t] + K1 * (1 - B + B * dl / avgdl))
            for t in query if tf[t]))
    return scores


def hand_top_k(token_lists: Sequence[Sequence[str]], query: Sequence[str], k: int) -> list[tuple[int, float]]:
    """The best ``k`` documents by hand_bm25, those matching no query token left out."""
    scores = hand_bm25(token_lists, query)
    ranked = sorted((i for i, score in enumerate(scores) if score > 0), key=lambda i: (-scores[i], i))
    return [(i, scores[i]) for i in ranked[:k]]


TOY = [
    ["a", "b"],
    ["a"],
    ["c"],
    ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"],
    ["the", "lazy", "dog", "sleeps"],
    ["quick", "quick", "quick", "fox"],
    ["dog", "dog", "cat"],
    ["a", "a", "a", "a", "a", "a", "b", "c", "d", "e", "f"],
]
TOY_QUERIES = [["a"], ["b"], ["quick", "fox"], ["dog"], ["lazy", "dog", "dog"], ["the", "cat"],
               ["a", "c", "e"], ["unknown"], ["unknown", "fox"], []]


def test_hand_formula_worked_example():
    # Three documents ["a","b"], ["a"], ["c"]: N = 3, avgdl = 4/3, n(a) = 2, so in document 0
    # (dl = 2, tf = 1) "a" scores ln(1.6) / (1 + 1.2 * (0.25 + 0.75 * 2 / (4/3))) = ln(1.6) / 2.65,
    # in document 1 (dl = 1) ln(1.6) / (1 + 1.2 * (0.25 + 0.75 * 1 / (4/3))) = ln(1.6) / 1.975.
    assert hand_bm25(TOY[:3], ["a"]) == pytest.approx([math.log(1.6) / 2.65, math.log(1.6) / 1.975, 0.0], rel=1e-12)


@pytest.mark.parametrize("query", TOY_QUERIES, ids=lambda q: " ".join(q) or "empty")
def test_bm25s_matches_hand_computed_bm25(query):
    index = bm25s_index(TOY, K1, B)
    theirs = bm25s_top_k(index, query, k=5)
    expected = hand_top_k(TOY, query, k=5)
    assert same_top_k(theirs, expected, rel_tol=1e-9, k=5) is None
    by_hand = hand_bm25(TOY, query)
    assert [score for _, score in theirs] == pytest.approx([by_hand[doc] for doc, _ in theirs], rel=1e-12)


def test_bm25s_counts_a_repeated_query_term_per_occurrence():
    index = bm25s_index(TOY, K1, B)
    once, twice = dict(bm25s_top_k(index, ["dog"], k=8)), dict(bm25s_top_k(index, ["dog", "dog"], k=8))
    assert twice == pytest.approx({doc: 2 * score for doc, score in once.items()}, rel=1e-12)


def test_same_top_k_accepts_ties_in_any_order_and_rejects_real_differences():
    theirs = [("x", 3.0), ("y", 2.0), ("z", 2.0), ("w", 1.0), ("v", 1.0)]
    assert same_top_k(theirs, theirs, k=5) is None
    assert same_top_k([("x", 3.0), ("z", 2.0), ("y", 2.00001), ("w", 1.0), ("v", 1.0)], theirs, k=5) is None
    assert same_top_k([("x", 3.0), ("z", 2.0), ("y", 2.0), ("w", 1.0), ("u", 1.0)], theirs, k=5) is None  # last-place tie
    assert same_top_k([("x", 3.0), ("z", 2.0), ("y", 2.0), ("w", 1.0), ("u", 1.0)], theirs, k=10) is not None  # not full
    assert same_top_k([("x", 3.0), ("y", 2.0), ("w", 2.0), ("z", 1.0), ("v", 1.0)], theirs, k=5) is not None  # ids moved
    assert same_top_k([("y", 3.0), ("x", 2.0), ("z", 2.0), ("w", 1.0), ("v", 1.0)], theirs, k=5) is not None  # swap
    assert same_top_k([("x", 3.001), ("y", 2.0), ("z", 2.0), ("w", 1.0), ("v", 1.0)], theirs, k=5) is not None  # score
    assert same_top_k(theirs[:4], theirs, k=5) is not None  # length
    assert same_top_k([("x", 3.0), ("x", 2.0), ("z", 2.0), ("w", 1.0), ("v", 1.0)], theirs, k=5) is not None  # repeat
    assert same_top_k([("x", 1.0), ("y", 2.0)], [("x", 1.0), ("y", 2.0)]) is not None  # not descending


# --- the engine against the reference -------------------------------------------------------------

@contextmanager
def text_collection(field: "omendb.TextField", ids: list[str], documents: list[str]) -> Iterator:
    """An in-memory collection with the text field ``field`` holding ``documents`` (random
    8-d vectors beside them), closed afterwards."""
    db = omendb.open(":memory:")
    try:
        collection = db.collection("texts", dim=DIM, text=field)
        collection.add(ids, random_vectors(len(ids), DIM), documents=documents)
        yield collection
    finally:
        db.close()


def reference_mismatches(collection, ids: list[str], documents: list[str], queries: list[str]) -> list[str]:
    """Queries whose top-K differs between ``collection.search(text=...)`` and bm25s fed the
    collection's own tokens of ``documents``, each with what differs; also hits whose
    ``.document`` is not the text added under their id."""
    index = bm25s_index([collection.tokenize(text) for text in documents], K1, B)
    document_of = dict(zip(ids, documents))
    failures = []
    for query in queries:
        tokens = collection.tokenize(query)
        hits = collection.search(text=query, k=K)
        ours = [(hit.id, hit.score) for hit in hits]
        theirs = [(ids[doc], score) for doc, score in bm25s_top_k(index, tokens, K)]
        problem = same_top_k(ours, theirs, k=K)
        if problem:
            failures.append(f"{query!r} (tokens {tokens}): {problem}")
        failures += [f"{query!r}: hit {hit.id!r} has document {hit.document!r}, added {document_of[hit.id]!r}"
                     for hit in hits if hit.document != document_of[hit.id]]
    return failures


def assert_no_mismatches(failures: list[str], queries: list[str]) -> None:
    """Fails naming how many of ``queries`` differ and the first few differences."""
    assert not failures, f"{len(failures)} mismatches over {len(queries)} queries:\n" + "\n".join(failures[:5])


def test_wordnet_top_10_matches_bm25s():
    pairs = wordnet_glosses()  # FileNotFoundError (not a skip) when wordnet-base is missing
    ids, glosses = [id_ for id_, _ in pairs], [gloss for _, gloss in pairs]
    queries = draw_queries(glosses, 200, seed=7)
    with text_collection(omendb.TextField(), ids, glosses) as collection:
        assert_no_mismatches(reference_mismatches(collection, ids, glosses, queries), queries)


# Word families whose members an English stemmer joins, stop words, and forms that NFKC and case
# folding join (ligature, full width, capitals, sharp s).
FAMILIES = [
    ("connect", "connected", "connecting", "connection", "connections"),
    ("run", "runs", "running", "runner", "runners"),
    ("happy", "happiness", "happily", "happier"),
    ("generate", "generates", "generated", "generation", "generations"),
    ("argue", "argued", "argues", "arguing", "argument"),
    ("study", "studies", "studied", "studying"),
    ("fish", "fishes", "fished", "fishing"),
    ("city", "cities"),
    ("relate", "related", "relational", "relation", "relations"),
    ("file", "files", "\ufb01le", "FILED"),
    ("street", "Straße", "STRASSE", "strasse"),
    ("cafe", "Café", "CAFÉ", "café"),
    ("wide", "\uff57\uff49\uff44\uff45", "WIDER", "widest"),
    ("database", "databases", "Databases"),
    ("index", "indexes", "indexed", "indexing"),
]
STOP_WORDS = ("the", "a", "an", "of", "and", "is", "to", "in", "it", "that", "was", "for", "on", "with",
              "as", "be", "by", "this", "are", "or", "not", "but", "at", "from")
ANALYZERS = {
    "stemmer": {"stemmer": "english"},
    "stop_words": {"stop_words": "english"},
    "stemmer+stop_words": {"stemmer": "english", "stop_words": "english"},
}


def synthetic_texts(count: int, seed: int) -> list[str]:
    """``count`` seeded texts of 3 to 40 words, about 40% stop words, the rest drawn from
    FAMILIES (rare and frequent words alike: family sizes are skewed), with punctuation.
    Every text holds a word that is not a stop word."""
    rng = np.random.default_rng(seed)
    family_weights = rng.dirichlet(np.full(len(FAMILIES), 0.5))
    texts = []
    for _ in range(count):
        words = []
        for position in range(int(rng.integers(3, 41))):
            if position and rng.random() < 0.4:
                words.append(str(rng.choice(STOP_WORDS)))
            else:
                family = FAMILIES[rng.choice(len(FAMILIES), p=family_weights)]
                words.append(family[rng.integers(len(family))])
            words[-1] += str(rng.choice(["", "", "", ",", ".", ";"]))
        texts.append(" ".join(words))
    return texts


@pytest.mark.parametrize("analyzer", ANALYZERS.values(), ids=ANALYZERS.keys())
def test_synthetic_top_10_matches_bm25s_under_stemming_and_stop_words(analyzer):
    texts = synthetic_texts(2000, seed=11)
    ids = [f"doc-{i}" for i in range(len(texts))]
    queries = draw_queries(texts, 50, seed=13)
    with text_collection(omendb.TextField(**analyzer), ids, texts) as collection:
        if "stemmer" in analyzer:
            assert len(set(collection.tokenize("connect connected connecting connection"))) == 1
        if "stop_words" in analyzer:
            assert "the" not in collection.tokenize("the city")
        assert_no_mismatches(reference_mismatches(collection, ids, texts, queries), queries)
