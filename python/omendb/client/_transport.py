"""Sending calls: a pooled httpx client (sync or async), timeouts, retries of idempotent calls,
and turning error answers back into the exceptions the server raised."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Optional

import httpx

from .._errors import ClosedError
from ..server.errors import from_payload
from ._calls import Call
from ._errors import AuthenticationError, TransportError

# Answers after which an idempotent call is sent again: the server or a proxy was unavailable.
_RETRY_STATUSES = frozenset({502, 503, 504})


def raise_for(call: Call, status: int, body: bytes) -> None:
    """Raise the exception an error answer carries: the omendb class and message the server
    raised; ClosedError for a collection that no longer exists; AuthenticationError for 401;
    TransportError for an answer that is not an OmenDB error body."""
    try:
        decoded: Any = json.loads(body)
    except ValueError:
        decoded = None
    error = from_payload(decoded)
    if error is not None:
        cls, message, collection_missing = error
        if collection_missing and call.collection is not None:
            raise ClosedError(f"collection {call.collection!r} is closed")
        raise cls(message)
    message = decoded["error"].get("message") if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict) \
        else body[:200].decode("utf-8", "replace")
    if status == 401:
        raise AuthenticationError(f"{call.method} {call.path}: {message}")
    raise TransportError(f"{call.method} {call.path}: the server answered {status}: {message}")


def _headers(api_key: Optional[str]) -> dict:
    return {} if api_key is None else {"authorization": f"Bearer {api_key}"}


class _Policy:
    """When to send a call again: after a failed connection (the request was not sent) for every
    call; after a lost connection or a 502/503/504 only for idempotent calls; never after a read
    timeout. Waits 50 ms, 100 ms, ... in between."""

    def __init__(self, retries: int) -> None:
        self.retries = retries

    def again(self, call: Call, attempt: int, error: Optional[httpx.TransportError], status: int = 0) -> bool:
        if attempt >= self.retries:
            return False
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return True
        if isinstance(error, httpx.TimeoutException):  # the server is slow, not gone: do not add load
            return False
        return call.idempotent and (error is not None or status in _RETRY_STATUSES)

    @staticmethod
    def delay(attempt: int) -> float:
        return 0.05 * 2**attempt


def _finish(call: Call, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise_for(call, response.status_code, response.content)
    return call.decode(response.content, response.headers.get("content-type", ""))


def _unreachable(call: Call, url: str, error: httpx.TransportError) -> TransportError:
    return TransportError(f"{call.method} {call.path} to {url} failed: {type(error).__name__}: {error}")


class SyncTransport:
    """Sends calls over one pooled httpx.Client (keep-alive connections, thread-safe)."""

    def __init__(self, url: str, api_key: Optional[str], timeout: float, retries: int) -> None:
        self.url = url
        self._policy = _Policy(retries)
        self._client = httpx.Client(base_url=url, headers=_headers(api_key), timeout=timeout,
                                    limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    def send(self, call: Call) -> Any:
        """The decoded answer of ``call``; raises the server's exception, or TransportError."""
        attempt = 0
        while True:
            try:
                response = self._client.request(call.method, call.path, content=call.content, headers=call.headers)
            except httpx.TransportError as error:
                if not self._policy.again(call, attempt, error):
                    raise _unreachable(call, self.url, error) from None
            else:
                if not self._policy.again(call, attempt, None, response.status_code):
                    return _finish(call, response)
            time.sleep(self._policy.delay(attempt))
            attempt += 1

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


class AsyncTransport:
    """Sends calls over one pooled httpx.AsyncClient."""

    def __init__(self, url: str, api_key: Optional[str], timeout: float, retries: int) -> None:
        self.url = url
        self._policy = _Policy(retries)
        self._client = httpx.AsyncClient(base_url=url, headers=_headers(api_key), timeout=timeout,
                                         limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    async def send(self, call: Call) -> Any:
        """The decoded answer of ``call``; raises the server's exception, or TransportError."""
        attempt = 0
        while True:
            try:
                response = await self._client.request(call.method, call.path, content=call.content,
                                                      headers=call.headers)
            except httpx.TransportError as error:
                if not self._policy.again(call, attempt, error):
                    raise _unreachable(call, self.url, error) from None
            else:
                if not self._policy.again(call, attempt, None, response.status_code):
                    return _finish(call, response)
            await asyncio.sleep(self._policy.delay(attempt))
            attempt += 1

    async def close(self) -> None:
        """Close the pooled connections."""
        await self._client.aclose()
