"""Command-line options that several commands share, and the parsers of their values."""

from __future__ import annotations

import json
import re
from typing import Any, Optional, Union

import click
import numpy as np

from .formats import FORMATS

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object on stdout.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Do not show a progress bar.")
format_option = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="File format (default: from the file's extension)."
)
batch_size_option = click.option(
    "--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True, help="Records per batch."
)
id_column_option = click.option(
    "--id-column", default="id", show_default=True, help="Parquet/JSONL: the column (field) holding the ids."
)
vector_column_option = click.option(
    "--vector-column", default="vector", show_default=True, help="Parquet/JSONL: the column holding the vectors."
)


def parse_where(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Union[None, dict, str]:
    """A --where filter: JSON text starting with '{' is the dict form, anything else the string form
    (docs/filters.md)."""
    if value is None or not value.lstrip().startswith("{"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as error:
        raise click.BadParameter(f"a filter starting with '{{' must be a JSON object: {error}") from None


where_option = click.option(
    "--where",
    callback=parse_where,
    help='Metadata filter: "year >= 2020 AND tag = \'news\'" or a JSON object {"year": {"$gte": 2020}}.',
)


def parse_vector(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Any:
    """A --vector value: numbers separated by commas or spaces, optionally in [brackets]."""
    if value is None:
        return None
    tokens = [token for token in re.split(r"[\s,]+", value.strip().strip("[]")) if token]
    if not tokens:
        raise click.BadParameter("no numbers given")
    numbers = []
    for token in tokens:
        try:
            numbers.append(float(token))
        except ValueError:
            raise click.BadParameter(f"{token!r} is not a number") from None
    return np.array(numbers)


def split_names(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[tuple]:
    """A comma-separated list of column names (None when the option is not given)."""
    if value is None:
        return None
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if not names:
        raise click.BadParameter("no column names given")
    return names
