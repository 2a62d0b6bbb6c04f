"""Full text and hybrid search: the collection's text settings (``TextField``) and how a hybrid
search fuses its signals (``RRF``, ``Weighted``). docs/hybrid.md has the rules.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

import numpy as np

from ._errors import InvalidArgumentError

# The name of the text signal among a hybrid search's signals (for Weighted's weights).
TEXT_SIGNAL = "text"

# A classic short English stop-word list, the one ``stop_words="english"`` means (the engine's
# text::english_stop_words(), kept in step by tests/python/test_hybrid.py).
ENGLISH_STOP_WORDS = (
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "will", "with",
)


@dataclass(frozen=True)
class TextField:
    """The full-text settings of a collection: ``db.collection(..., text=omendb.TextField())``.

    stemmer: None (default: no stemming) or a Snowball language ("english", "french", "german",
    "porter", ...). stop_words: None (default: none), "english" (a short classic list) or a list
    of words, dropped from documents and queries. k1, b: the BM25 parameters (Lucene's defaults).
    """

    stemmer: Optional[str] = None
    stop_words: Union[None, str, Sequence[str]] = None
    k1: float = 1.2
    b: float = 0.75

    def settings(self) -> tuple:
        """The engine's form: (stemmer, stop words, k1, b)."""
        if self.stemmer is not None and not isinstance(self.stemmer, str):
            raise InvalidArgumentError(f"stemmer must be a str or None, got {type(self.stemmer).__name__}")
        stop_words = self.stop_words
        if stop_words is None:
            words: list = []
        elif stop_words == "english":
            words = list(ENGLISH_STOP_WORDS)
        elif isinstance(stop_words, str) or not all(isinstance(w, str) and w for w in stop_words):
            raise InvalidArgumentError(
                'stop_words must be None, "english" or a list of non-empty str, got '
                f"{stop_words!r}")
        else:
            words = list(stop_words)
        return (self.stemmer or "", words, _finite(self.k1, "k1"), _finite(self.b, "b"))


def text_field_of(settings: tuple) -> Optional[TextField]:
    """The engine's text settings (enabled, stemmer, stop words, k1, b) as a TextField, or None."""
    enabled, stemmer, stop_words, k1, b = settings
    if not enabled:
        return None
    # k1 and b are stored as float32: shown as the shortest decimal that reads back as them.
    return TextField(stemmer or None, tuple(stop_words) or None, _float32(k1), _float32(b))


def _float32(value: float) -> float:
    return float(str(np.float32(value)))


@dataclass(frozen=True)
class RRF:
    """Reciprocal rank fusion: a hit at rank r (from 1) of a signal adds 1 / (k + r)."""

    k: float = 60.0
    candidates: Optional[int] = None  # hits taken from each signal; default max(2k, 64)


@dataclass(frozen=True)
class Weighted:
    """Weighted fusion of each signal's min-max normalised scores (1 = its best hit).

    Weights by signal: a vector field's name, "vector" for the single query of ``vector=``, and
    "text"; e.g. ``Weighted(vector=0.7, text=0.3)`` or ``Weighted(image=0.5, caption=0.3,
    text=0.2)``. A signal without a weight weighs 1.
    """

    weights: dict = field(default_factory=dict)
    candidates: Optional[int] = None

    def __init__(self, weights: Optional[dict] = None, *, candidates: Optional[int] = None,
                 **named: float) -> None:
        object.__setattr__(self, "weights", {**(weights or {}), **named})
        object.__setattr__(self, "candidates", candidates)


def fusion_settings(fusion: Any, signals: list[str]) -> tuple:
    """The engine's form of ``fusion`` for a search whose signals are named ``signals`` (vector
    fields in order, then "text"): (kind, rrf_k, weights, candidates)."""
    if fusion is None or fusion == "rrf":
        fusion = RRF()
    if fusion == "weighted":
        fusion = Weighted()
    if isinstance(fusion, RRF):
        if not isinstance(fusion.k, numbers.Real) or not fusion.k > 0:
            raise InvalidArgumentError(f"RRF k must be a number > 0, got {fusion.k!r}")
        return ("rrf", float(fusion.k), [], _candidates(fusion.candidates))
    if isinstance(fusion, Weighted):
        unknown = [name for name in fusion.weights if name not in signals and not
                   (name == "vector" and sum(s != TEXT_SIGNAL for s in signals) == 1)]
        if unknown:
            raise InvalidArgumentError(
                f"Weighted has a weight for {unknown[0]!r}, which is not a signal of this search "
                f"(signals: {', '.join(signals)})")
        weights = []
        for name in signals:
            default = 1.0 if name == TEXT_SIGNAL else fusion.weights.get("vector", 1.0)
            weights.append(_finite(fusion.weights.get(name, default), f"the weight of {name!r}"))
        return ("weighted", 60.0, weights, _candidates(fusion.candidates))
    raise InvalidArgumentError(
        f'fusion must be "rrf", "weighted", omendb.RRF(...) or omendb.Weighted(...), got {fusion!r}')


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InvalidArgumentError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _candidates(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidArgumentError(f"candidates must be an int >= 1, got {value!r}")
    return int(value)
