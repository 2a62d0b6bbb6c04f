"""serve(): open a database and answer HTTP requests for it until interrupted."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

from .._api import open as open_database
from .auth import check_bind, load_api_keys
from .limits import Limits

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def serve(
    path: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8800,
    api_key_file: str | os.PathLike | None = None,
    threads: int | None = None,
    *,
    limits: Limits | None = None,
    log_level: str = "info",
) -> None:
    """Open the database at ``path`` as its writer and serve it over HTTP (uvicorn) on
    ``host:port`` until SIGINT/SIGTERM; then stop accepting connections, let the requests in
    flight finish, close the database (a final checkpoint) and return normally.

    api_key_file: a file of API keys, one per line; every request but /health and the API
    description must then present one. A host other than loopback without a key file raises
    InvalidArgumentError before anything is opened. threads: the engine's threads for batch calls
    (default: all cores). limits: request limits (default: Limits()). Raises LockedError when
    another process writes the database. Signals are only handled when called from the main
    thread; from another thread, stop the server some other way (the process ending).
    """
    import uvicorn

    from .app import create_app

    keys = load_api_keys(api_key_file)
    check_bind(host, keys)
    database = open_database(path, threads=threads)
    try:
        config = uvicorn.Config(create_app(database, keys, limits), host=host, port=port, log_level=log_level,
                                proxy_headers=False, server_header=False)
        server = uvicorn.Server(config)
        with _signals_stop(server):
            server.run()
    finally:
        database.close()


@contextlib.contextmanager
def _signals_stop(server) -> Iterator[None]:
    """While the block runs (in the main thread): SIGINT and SIGTERM ask ``server`` to exit, and
    do nothing more once it has.

    uvicorn installs its own handlers while it serves (a graceful shutdown: no new connections,
    requests in flight finish), then restores the ones it found and raises the signal it caught
    again. Without this, a SIGTERM then ended the process before ``serve`` closed the database,
    with status -15 and no final checkpoint. A signal before uvicorn starts also stops it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame) -> None:
        server.should_exit = True

    previous = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
