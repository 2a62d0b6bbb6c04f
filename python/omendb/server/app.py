"""The HTTP application: routes, authentication, body limits, error responses and metrics.

``create_app(database)`` returns an ASGI application serving an open ``omendb.Database``. Each
endpoint reads its body on the event loop (bounded by the body limit) and runs everything else
(decoding, checks, the engine call, encoding) in a worker thread, so a long search never blocks
other requests. The routes are listed in docs/server.md and at /docs (OpenAPI).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Optional, Sequence

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from .. import __version__
from .._api import Database
from .._errors import Error, InvalidArgumentError
from . import codec, handlers
from .auth import KeyChecker
from .errors import BodyTooLarge, CollectionMissing, payload, status_of, wire_name
from .limits import Limits
from .metrics import Metrics

LOG = logging.getLogger("omendb.server")

# Paths answered without an API key: liveness and the API description (no data in either).
PUBLIC_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})

_FRAME_BODY = {"content": {codec.FRAME_TYPE: {"schema": {"type": "string", "format": "binary"}}}}


def _json_body(properties: dict, required: Sequence[str] = ()) -> dict:
    """An OpenAPI requestBody: a JSON object with these properties, or (for calls with vectors) a frame."""
    schema = {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}
    content = {codec.JSON_TYPE: {"schema": schema}}
    if any(name in properties for name in ("vector", "vectors")):
        content.update(_FRAME_BODY["content"])
    return {"requestBody": {"required": False, "content": content}}


_IDS = {"type": "array", "items": {"type": "string"}}
_WHERE = {"oneOf": [{"type": "object"}, {"type": "string"}], "description": "a filter, see docs/filters.md"}
_VECTOR = {"type": "array", "items": {"type": "number"}}
_MATRIX = {"type": "array", "items": _VECTOR}
_TEXT_FIELD = {"oneOf": [{"type": "boolean"}, {"type": "object"}],
               "description": "true or {stemmer, stop_words, k1, b}: records carry documents (docs/hybrid.md)"}
_FUSION = {"type": "object", "description": '{"kind": "rrf" | "weighted", "k", "weights", "candidates"}'}
_SEARCH = {"k": {"type": "integer", "default": 10}, "ef": {"type": "integer"}, "exact": {"type": "boolean"},
           "where": _WHERE, "fusion": _FUSION}
_DOCUMENTS = {"type": "array", "items": {"type": ["string", "null"]}}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) one above ``limit`` bytes before reading it when its
    Content-Length says so, and as soon as it passes the limit otherwise."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge(f"request body of {declared} bytes is above this server's limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body is above this server's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def error_response(error: Error) -> Response:
    """The JSON response of an omendb error: its class name, message and status."""
    body = payload(wire_name(error), str(error), isinstance(error, CollectionMissing))
    return Response(codec.encode_json(body), status_code=status_of(error), media_type=codec.JSON_TYPE)


class Guard:
    """ASGI middleware around the application: refuses requests without a valid API key (401),
    and records every request's route, status and latency in the metrics."""

    def __init__(self, app, keys: KeyChecker, metrics: Metrics) -> None:
        self.app = app
        self.keys = keys
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_and_note(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if scope["path"] in PUBLIC_PATHS or self._authorized(scope):
                await self.app(scope, receive, send_and_note)
            else:
                await self._refuse(send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched") if route is not None else "unmatched"
            self.metrics.record(scope["method"], template, status[0], time.perf_counter() - started)

    def _authorized(self, scope) -> bool:
        if not self.keys.enabled:
            return True
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization")
        x_api_key = headers.get(b"x-api-key")
        return self.keys.accepts(
            None if authorization is None else authorization.decode("latin-1"),
            None if x_api_key is None else x_api_key.decode("latin-1"),
        )

    @staticmethod
    async def _refuse(send) -> None:
        body = codec.encode_json(payload("AuthenticationError", "a valid API key is required: "
                                         "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"))
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", codec.JSON_TYPE.encode()), (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})


def create_app(database: Database, api_keys: Sequence[str] = (), limits: Optional[Limits] = None):
    """An ASGI application serving ``database`` (which stays the caller's to close).

    api_keys: when given, every request but /health and the API description must present one.
    limits: request limits (default: Limits()). Cost: building the routes; nothing is read.
    """
    limits = Limits() if limits is None else limits
    metrics = Metrics()
    app = FastAPI(
        title="OmenDB", version=__version__,
        description="An OmenDB database over HTTP. Errors answer {\"error\": {\"type\", \"message\"}}.",
    )

    def route(method: str, path: str, work: Callable, doc: Callable, *, body: bool = False,
              spec: Optional[dict] = None) -> None:
        """Register ``work(name=, parsed=) -> Reply`` at ``path``, described by ``doc``'s docstring;
        it runs in a worker thread."""

        async def endpoint(request: Request) -> Response:
            try:
                raw = await read_body(request, limits.max_body_bytes) if body else b""
                reply = await run_in_threadpool(_run, work, request, raw)
            except Error as error:
                return error_response(error)
            except Exception:  # answered as a 500, logged with its traceback
                LOG.exception("%s %s failed", method, path)
                return error_response(Error("internal server error; see the server's log"))
            return Response(reply.body, media_type=reply.media_type)

        endpoint.__name__ = doc.__name__
        app.add_api_route(path, endpoint, methods=[method], summary=doc.__doc__.split("\n")[0],
                          description=doc.__doc__, openapi_extra=spec, name=f"{method} {path}")

    def _run(work: Callable, request: Request, raw: bytes):
        name = request.path_params.get("name")
        parsed = handlers.parse(raw, request.headers.get("content-type", ""), request.headers.get("accept", ""),
                                limits)
        return work(parsed=parsed, name=name)

    db = database

    def health(**_) -> handlers.Reply:
        """Liveness: answers {"status": "ok"} while the server runs (no API key needed)."""
        return handlers.json_reply({"status": "ok", "closed": db.closed})

    def prometheus(**_) -> handlers.Reply:
        """Prometheus metrics: requests by route and status, latency histograms, collection sizes."""
        sizes = []
        for name in db.collections():
            try:
                sizes.append((name, len(handlers.collection_of(db, name))))
            except Error:  # dropped between listing and counting
                continue
        return handlers.Reply(metrics.render(sizes).encode(), "text/plain; version=0.0.4; charset=utf-8")

    route("GET", "/health", health, health)
    route("GET", "/metrics", prometheus, prometheus)
    route("GET", "/v1/info", lambda **_: handlers.server_info(db, limits), handlers.server_info)
    route("GET", "/v1/collections", lambda **_: handlers.list_collections(db), handlers.list_collections)
    route("POST", "/v1/collections", lambda parsed, **_: handlers.open_collection(db, parsed),
          handlers.open_collection, body=True,
          spec=_json_body({"name": {"type": "string"}, "dim": {"type": "integer"}, "metric": {"type": "string"},
                           "m": {"type": "integer"}, "ef_construction": {"type": "integer"},
                           "quantization": {"type": "string"}, "text": _TEXT_FIELD}, ["name"]))
    route("GET", "/v1/collections/{name:path}", lambda name, **_: handlers.collection_info(db, name),
          handlers.collection_info)
    route("DELETE", "/v1/collections/{name:path}", lambda name, **_: handlers.drop_collection(db, name),
          handlers.drop_collection)
    collection = "/v1/collections/{name}/"
    write_spec = _json_body({"ids": _IDS, "vectors": _MATRIX, "metadata": {"type": "array"}, "documents": _DOCUMENTS})
    route("POST", collection + "add", lambda name, parsed: handlers.write(db, name, parsed, limits, False),
          handlers.write, body=True, spec=write_spec)
    route("POST", collection + "upsert", lambda name, parsed: handlers.write(db, name, parsed, limits, True),
          handlers.write, body=True, spec=write_spec)
    route("POST", collection + "delete", lambda name, parsed: handlers.delete(db, name, parsed, limits),
          handlers.delete, body=True, spec=_json_body({"ids": _IDS, "where": _WHERE}))
    route("POST", collection + "get", lambda name, parsed: handlers.get(db, name, parsed, limits),
          handlers.get, body=True, spec=_json_body({"ids": _IDS, "where": _WHERE, "limit": {"type": "integer"}}))
    route("POST", collection + "count", lambda name, parsed: handlers.count(db, name, parsed),
          handlers.count, body=True, spec=_json_body({"where": _WHERE}))
    route("POST", collection + "search", lambda name, parsed: handlers.search(db, name, parsed, limits),
          handlers.search, body=True, spec=_json_body({"vector": _VECTOR, "text": {"type": "string"}} | _SEARCH))
    route("POST", collection + "search_batch", lambda name, parsed: handlers.search_batch(db, name, parsed, limits),
          handlers.search_batch, body=True,
          spec=_json_body({"vectors": _MATRIX, "text": {"type": "array", "items": {"type": "string"}}} | _SEARCH))
    route("POST", collection + "compact", lambda name, **_: handlers.compact(db, name), handlers.compact)
    route("POST", "/v1/checkpoint", lambda **_: handlers.checkpoint(db), handlers.checkpoint)
    route("POST", "/v1/refresh", lambda **_: handlers.refresh(db), handlers.refresh)

    @app.exception_handler(404)
    @app.exception_handler(405)
    async def unrouted(request: Request, exc) -> Response:
        """Unknown paths and methods answer in the error format too."""
        error = InvalidArgumentError(f"no endpoint {request.method} {request.url.path}")
        response = error_response(error)
        response.status_code = exc.status_code
        return response

    return Guard(app, KeyChecker(api_keys), metrics)
