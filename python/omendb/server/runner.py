"""serve(): open a database and answer HTTP requests for it until interrupted."""

from __future__ import annotations

import os
from typing import Optional

from .._api import open as open_database
from .auth import check_bind, load_api_keys
from .limits import Limits


def serve(
    path: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 8800,
    api_key_file: Optional[str | os.PathLike] = None,
    threads: Optional[int] = None,
    *,
    limits: Optional[Limits] = None,
    log_level: str = "info",
) -> None:
    """Open the database at ``path`` as its writer and serve it over HTTP (uvicorn) on
    ``host:port`` until SIGINT/SIGTERM, then close it (a final checkpoint).

    api_key_file: a file of API keys, one per line; every request but /health and the API
    description must then present one. A host other than loopback without a key file raises
    InvalidArgumentError before anything is opened. threads: the engine's threads for batch calls
    (default: all cores). limits: request limits (default: Limits()). Raises LockedError when
    another process writes the database.
    """
    import uvicorn

    from .app import create_app

    keys = load_api_keys(api_key_file)
    check_bind(host, keys)
    database = open_database(path, threads=threads)
    try:
        config = uvicorn.Config(create_app(database, keys, limits), host=host, port=port, log_level=log_level,
                                proxy_headers=False, server_header=False)
        uvicorn.Server(config).run()
    finally:
        database.close()
