"""The OmenDB client: ``omendb.connect(url)`` gives a database served by ``omendb.server.serve``
with the embedded API. See docs/server.md. httpx is imported on the first connect(), so
``import omendb`` does not need it."""

from __future__ import annotations

from typing import Optional

from .._errors import InvalidArgumentError
from ._errors import AuthenticationError, TransportError
from ._records import Hit, Record

__all__ = ["connect", "Hit", "Record", "AuthenticationError", "TransportError"]


def connect(
    url: str,
    api_key: Optional[str] = None,
    *,
    timeout: float = 30.0,
    retries: int = 2,
    asynchronous: bool = False,
):
    """A database served at ``url`` ("http://host:port"), with the embedded API.

    Sync (default): an ``omendb.Database`` whose collections are ``omendb.Collection``s: the same
    methods, arguments, return types and exceptions as ``omendb.open()``'s (search hits and
    records are omendb.client.Hit / Record, with the same attributes). Connecting costs one round
    trip, which checks the server and the key. ``asynchronous=True``: an AsyncDatabase whose
    methods are coroutines (it connects on its first call).

    api_key: sent as ``Authorization: Bearer``. timeout: seconds per request. retries: how many
    times a call is sent again after a failed connection, and (idempotent calls only: reads,
    searches, upsert, checkpoint) after a lost connection or a 502/503/504. Connections are pooled
    and kept alive; one handle may be shared by threads. Raises AuthenticationError for a refused
    key, TransportError when the server cannot be reached.
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise InvalidArgumentError(f"url must be an http:// or https:// URL, got {url!r}")
    if api_key is not None and not isinstance(api_key, str):
        raise InvalidArgumentError(f"api_key must be a str, got {type(api_key).__name__}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidArgumentError(f"retries must be an int >= 0, got {retries!r}")
    url = url.rstrip("/")
    if asynchronous:
        from ._async import AsyncDatabase

        return AsyncDatabase(url, api_key, timeout, retries)
    from ._sync import connect as connect_sync

    return connect_sync(url, api_key, timeout, retries)
