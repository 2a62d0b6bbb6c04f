"""The metadata values OmenDB stores (None, bool, int64, finite float, str, list of str): checks that
name the file, row and field of a value that is not one."""

from __future__ import annotations

import math
from typing import Any, Optional

from .batch import FileFormatError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_metadata(metadata: dict, where: str) -> dict:
    """``metadata`` unchanged; FileFormatError naming ``where`` and the field when a key or a value
    is not what OmenDB stores."""
    for key, value in metadata.items():
        problem = _text_problem(key) if isinstance(key, str) else f"key must be a str, got {type(key).__name__}"
        if problem is None:
            problem = _value_problem(value)
        if problem is not None:
            raise FileFormatError(f"{where}, field {key!r}: {problem}")
    return metadata


def _value_problem(value: Any) -> Optional[str]:
    """Why ``value`` cannot be a metadata value, or None when it can."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else f"int {value} is outside the signed 64-bit range"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"float {value} is not finite"
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if not isinstance(item, str):
                return f"list item {index} is {_kind(item)}; metadata lists hold only str"
            problem = _text_problem(item)
            if problem is not None:
                return f"list item {index}: {problem}"
        return None
    return f"{_kind(value)} is not a metadata type (None, bool, int, float, str or list of str)"


def _text_problem(text: str) -> Optional[str]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{text!r} is not valid Unicode (it holds a lone surrogate)"
    return None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
