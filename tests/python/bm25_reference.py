"""The BM25 reference the engine's full-text search is checked against: bm25s (PyPI, pinned in
requirements-dev.txt) with Lucene's formula, fed the engine's own tokens, and a comparison of two
top-k lists that tolerates reordering among tied scores.

How bm25s 0.3.16 treats what it is given (read from its source):
- Index: ``BM25.index(list of token lists)`` builds its vocabulary from the tokens as they are
  (no further analysis); a document's length is its token count, avgdl the mean over all
  documents (empty ones included), N the number of documents; per (term, document) it stores
  idf * tf / (tf + k1 * (1 - b + b * dl / avgdl)) with idf = ln(1 + (N - n + 0.5) / (n + 0.5)).
- Query: ``retrieve`` drops query tokens missing from the vocabulary and then adds the stored
  score of each remaining token once per occurrence: a term written twice in the query counts
  twice (as in the engine). Documents matching no token get score 0 and still fill the k slots,
  so they are dropped here.
"""

from __future__ import annotations

from typing import Hashable, Optional, Sequence

import bm25s
import numpy as np

Ranking = Sequence[tuple[Hashable, float]]


def bm25s_index(token_lists: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> bm25s.BM25:
    """A bm25s index (Lucene's BM25 variant, scores in float64) of one token list per document;
    document i of the results is ``token_lists[i]``. Cost: about 2 s per 100,000 short texts."""
    index = bm25s.BM25(method="lucene", k1=k1, b=b, dtype="float64")
    index.index([list(tokens) for tokens in token_lists], create_empty_token=False, show_progress=False)
    return index


def bm25s_top_k(index: bm25s.BM25, query_tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
    """The best ``k`` documents of ``index`` for ``query_tokens`` as ``(document index, score)``,
    best first, leaving out documents that match no query token (so fewer than k when fewer match)."""
    k = min(k, index.scores["num_docs"])
    documents, scores = index.retrieve([list(query_tokens)], k=k, show_progress=False, n_threads=0,
                                       backend_selection="numpy")
    return [(int(doc), float(score)) for doc, score in zip(documents[0], scores[0]) if score > 0]


def _close(a: float, b: float, rel_tol: float) -> bool:
    """Whether two scores agree within ``rel_tol`` of the larger one."""
    return abs(a - b) <= rel_tol * max(abs(a), abs(b))


def _tie_groups(scores: Sequence[float], rel_tol: float) -> list[tuple[int, int]]:
    """Runs ``[start, end)`` of consecutive positions whose scores agree (each with the previous)."""
    groups, start = [], 0
    for i in range(1, len(scores) + 1):
        if i == len(scores) or not _close(scores[i - 1], scores[i], rel_tol):
            groups.append((start, i))
            start = i
    return groups


def _order_problem(name: str, ranking: Ranking, rel_tol: float) -> Optional[str]:
    """Why ``ranking`` is not a top-k list (repeated ids, scores not descending beyond
    ``rel_tol``), or None."""
    ids = [doc for doc, _ in ranking]
    if len(set(ids)) != len(ids):
        return f"{name} repeats an id: {ids}"
    scores = [score for _, score in ranking]
    if any(later > earlier and not _close(earlier, later, rel_tol) for earlier, later in zip(scores, scores[1:])):
        return f"{name} scores are not in descending order: {scores}"
    return None


def same_top_k(ours: Ranking, theirs: Ranking, rel_tol: float = 1e-4, k: Optional[int] = None) -> Optional[str]:
    """None when two top-k lists of ``(id, score)``, best first, agree; else what differs.

    They agree when they have the same length, the scores at each position agree within
    ``rel_tol`` (relative), each id in both has scores that agree, and the ids are equal in order
    except among tied scores (agreeing within ``rel_tol``): a tie may come in any order, and
    where the last place is a tie of a full list (``k`` given and reached, or ``k`` None) the
    tied documents may differ, as any of them may take the last places. Ties are grouped on
    ``theirs`` (the reference).
    """
    for name, ranking in (("ours", ours), ("theirs", theirs)):
        problem = _order_problem(name, ranking, rel_tol)
        if problem:
            return problem
    if len(ours) != len(theirs):
        return f"{len(ours)} hits, reference {len(theirs)}: ours {list(ours)}, theirs {list(theirs)}"
    for position, ((our_id, our_score), (their_id, their_score)) in enumerate(zip(ours, theirs)):
        if not _close(our_score, their_score, rel_tol):
            return (f"score at position {position}: ours {our_id!r} {our_score!r}, theirs {their_id!r} "
                    f"{their_score!r}; ours {list(ours)}, theirs {list(theirs)}")
    their_scores = dict(theirs)
    for doc, score in ours:
        if doc in their_scores and not _close(score, their_scores[doc], rel_tol):
            return f"score of {doc!r}: ours {score!r}, theirs {their_scores[doc]!r}"
    full = k is None or len(theirs) >= k
    for start, end in _tie_groups([score for _, score in theirs], rel_tol):
        if end == len(theirs) and full:
            continue  # a tie at the last place: any of the tied documents may fill it
        our_ids, their_ids = {d for d, _ in ours[start:end]}, {d for d, _ in theirs[start:end]}
        if our_ids != their_ids:
            return (f"positions {start}-{end - 1}: ours {sorted(map(str, our_ids))}, theirs "
                    f"{sorted(map(str, their_ids))}; ours {list(ours)}, theirs {list(theirs)}")
    return None


def random_vectors(count: int, dim: int, seed: int = 0) -> np.ndarray:
    """``count`` seeded random float32 vectors of ``dim`` dims, for records whose vectors do not
    matter (full-text tests)."""
    return np.random.default_rng(seed).standard_normal((count, dim), dtype=np.float32)
