"""Request limits, and the checks of a request's fields that run before anything reaches the
engine: known fields only, limits on sizes, k and ef. The values themselves (ids, metadata,
filters, names) are then checked by the same code as embedded calls, with the same messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .._errors import InvalidArgumentError

ENGINE_MAX_K = 100_000
ENGINE_MAX_EF = 100_000
ENGINE_MAX_DIM = 65_536


@dataclass(frozen=True)
class Limits:
    """What one request may ask. The defaults admit every call the engine admits up to
    ``max_batch`` records or queries and ``max_body_bytes`` of request body.

    max_body_bytes: request body size (413 beyond it). max_batch: ids, vectors or queries in one
    call. max_k, max_ef: the largest k and ef. max_results: rows x k of one search_batch.
    """

    max_body_bytes: int = 256 << 20
    max_batch: int = 100_000
    max_k: int = ENGINE_MAX_K
    max_ef: int = ENGINE_MAX_EF
    max_results: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch", "max_k", "max_ef", "max_results"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"Limits.{name} must be a positive int, got {value!r}")


def only_fields(body: dict, allowed: Iterable[str], call: str) -> None:
    """Raise InvalidArgumentError naming the first field of ``body`` that ``call`` does not take."""
    allowed = set(allowed)
    for name in body:
        if name not in allowed:
            raise InvalidArgumentError(f"{call} takes no field {name!r}; it takes {', '.join(sorted(allowed))}")


def check_k_ef(body: dict, limits: Limits) -> None:
    """k and ef, where they are ints, within this server's limits. The messages equal the
    engine's when the limits are the engine's own maxima."""
    k, ef = body.get("k"), body.get("ef")
    if _is_int(k) and k > limits.max_k:
        raise InvalidArgumentError(f"k must be between 1 and {limits.max_k}, got {k}")
    if _is_int(ef) and ef > limits.max_ef:
        raise InvalidArgumentError(f"ef must be at most {limits.max_ef}, got {ef}")


def check_exact(body: dict) -> bool:
    """The ``exact`` field: a bool, False when absent."""
    exact = body.get("exact", False)
    if not isinstance(exact, bool):
        raise InvalidArgumentError(f"exact must be a bool, got {type(exact).__name__}")
    return exact


def check_batch(count: int, what: str, limits: Limits) -> None:
    """At most ``limits.max_batch`` items of ``what`` in one call."""
    if count > limits.max_batch:
        raise InvalidArgumentError(
            f"{what} holds {count} entries; this server takes at most {limits.max_batch} per call"
        )


def check_list(body: dict, name: str, limits: Limits) -> Any:
    """The field ``name`` when it is absent, null or a list of at most max_batch entries; other
    types pass unchanged (the API's own check names them)."""
    value = body.get(name)
    if isinstance(value, list):
        check_batch(len(value), name, limits)
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
