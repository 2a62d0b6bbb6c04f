"""The ``omendb`` command: inspect, import, export, search, check and maintain a database folder, and
serve it over HTTP or as MCP tools.

Exit codes: 0 success, 1 the operation failed (a database error, a bad input file, ...), 2 the
command line was wrong. Errors are one line on stderr."""

from __future__ import annotations

import click

import omendb

from . import check, exporting, importing, info, maintenance, search, serving
from .errors import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(omendb.__version__, prog_name="omendb")
def cli() -> None:
    """OmenDB from the command line. PATH is a database folder; commands that only read (info,
    export, search, check) open it read-only, so they run while another process writes it."""


for _command in (
    info.command,
    importing.command,
    exporting.command,
    search.command,
    check.command,
    maintenance.compact,
    maintenance.checkpoint,
    serving.command,
    serving.mcp_command,
):
    cli.add_command(_command)


def main() -> None:
    """Run the ``omendb`` command on ``sys.argv`` and exit with its status."""
    cli(prog_name="omendb")
