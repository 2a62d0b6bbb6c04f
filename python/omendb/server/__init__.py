"""OmenDB over HTTP: ``serve(path)`` runs a server that owns the database's writer;
``omendb.connect(url)`` is its client. See docs/server.md.

Importing this package is cheap: FastAPI and uvicorn load only when ``serve`` or ``create_app``
is first used (the client needs only the wire formats in ``codec`` and ``errors``).
"""

from __future__ import annotations

from .limits import Limits

__all__ = ["serve", "create_app", "Limits"]


def __getattr__(name: str):
    """serve and create_app, imported on first use."""
    if name == "serve":
        from .runner import serve

        return serve
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'omendb.server' has no attribute {name!r}")
