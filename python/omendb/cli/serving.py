"""``omendb serve`` and ``omendb mcp``: the database behind an HTTP port, or as Model Context
Protocol tools (omendb.server, docs/server.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Optional

import click

from .errors import CliError


@click.command("serve", short_help="Serve the database over HTTP (omendb.connect reaches it).")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --api-key-file.")
@click.option("--port", type=click.IntRange(1, 65535), default=8800, show_default=True, help="TCP port.")
@click.option("--api-key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="File of API keys, one per line; requests must then present one.")
@click.option("--threads", type=click.IntRange(min=1), help="Engine threads for batch calls (default: all cores).")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True, help="uvicorn's log level.")
def command(path: Path, host: str, port: int, api_key_file: Optional[Path], threads: Optional[int],
            log_level: str) -> None:
    """Open the database at PATH (a folder, created when missing) as its writer and answer HTTP
    requests for it on HOST:PORT until SIGINT or SIGTERM, then finish the requests in flight and
    close it. Clients: omendb.connect("http://HOST:PORT", api_key=...)."""
    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise CliError(f"omendb serve needs {' and '.join(missing)}: pip install 'omendb[server]'")
    from ..server import serve

    serve(path, host=host, port=port, api_key_file=api_key_file, threads=threads, log_level=log_level)


@click.command("mcp", short_help="Serve the database as MCP tools (search, get, add) over stdio.")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--transport", type=click.Choice(["stdio", "sse", "streamable-http"]), default="stdio",
              show_default=True, help="How the MCP client talks to this process.")
@click.option("--read-only", is_flag=True, help="Open without the write lock (beside a writer); no add tool.")
def mcp_command(path: Path, transport: str, read_only: bool) -> None:
    """Open the database at PATH and serve it as Model Context Protocol tools (list_collections,
    search, get, add) until the client disconnects. An MCP client starts it as
    {"command": "omendb", "args": ["mcp", "PATH"]}."""
    if importlib.util.find_spec("mcp") is None:
        raise CliError("omendb mcp needs the mcp package: pip install 'omendb[mcp]'")
    from ..server.mcp import serve_mcp

    serve_mcp(path, transport=transport, read_only=read_only)
