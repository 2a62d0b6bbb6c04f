"""What the commands print: one JSON object for scripts, Rich tables and progress bars for people.
Results go to stdout; progress bars go to stderr, so ``--json`` output stays parseable."""

from __future__ import annotations

import json
from typing import Any, Iterable

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text


def emit_json(data: Any) -> None:
    """Print ``data`` as one line of JSON on stdout."""
    click.echo(json.dumps(data, ensure_ascii=False))


def emit(line: str) -> None:
    """Print a line of text on stdout."""
    click.echo(line)


def emit_tables(*tables: Table) -> None:
    """Print Rich tables on stdout."""
    Console(highlight=False).print(*tables)


def table(title: str, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    """A Rich table; numbers are right-aligned and written with thousands separators."""
    rows = [list(row) for row in rows]
    grid = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        numeric = bool(rows) and all(isinstance(row[index], (int, float)) for row in rows)
        grid.add_column(column, justify="right" if numeric else "left")
    for row in rows:
        grid.add_row(*(_cell(value) for value in row))
    return grid


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class RateColumn(ProgressColumn):
    """Rows per second: Rich's measure of a task's recent speed, else its average so far."""

    def render(self, task: Task) -> Text:
        """The task's rate, or '?' before it has one."""
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed
        return Text("? rows/s" if speed is None else f"{speed:,.0f} rows/s", style="progress.data.speed")


def progress(quiet: bool) -> Progress:
    """A progress display on stderr (rows done, percentage, rate, elapsed, ETA) while a command runs;
    it is erased when done, and silent when quiet or when stderr is not a terminal."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
        transient=True,
    )


def size(count: int) -> str:
    """A byte count for people: "512 B", "1.5 MiB"."""
    value, unit = float(count), "B"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{count:,} B" if unit == "B" else f"{value:,.1f} {unit}"
