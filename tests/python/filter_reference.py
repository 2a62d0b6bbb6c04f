"""A plain-Python evaluator of filters with the semantics of src/filter/expression.h, the reference
the engine's matches are checked against (dict form only; the string form is parsed by the engine,
and the tests check that both forms agree)."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return True
    return type(a) is type(b) and not isinstance(a, (list, type(None)))


def _equals(stored: Any, operand: Any) -> bool:
    if stored is _MISSING or stored is None:
        return False
    if isinstance(stored, list):
        if isinstance(operand, list):
            return stored == operand
        return isinstance(operand, str) and operand in stored
    return _same_kind(stored, operand) and stored == operand


def _compare(stored: Any, op: str, operand: Any) -> bool:
    if stored is _MISSING or stored is None or isinstance(stored, list) or not _same_kind(stored, operand):
        return False
    if isinstance(stored, bool):
        return False
    return {"$gt": stored > operand, "$gte": stored >= operand, "$lt": stored < operand, "$lte": stored <= operand}[op]


def _field(metadata: dict, field: str, ops: Any) -> bool:
    stored = metadata.get(field, _MISSING)
    if not isinstance(ops, dict):
        return _equals(stored, ops)
    result = True
    for op, operand in ops.items():
        if op == "$eq":
            result &= _equals(stored, operand)
        elif op == "$ne":
            result &= not _equals(stored, operand)
        elif op in ("$gt", "$gte", "$lt", "$lte"):
            result &= _compare(stored, op, operand)
        elif op == "$in":
            result &= any(_equals(stored, item) for item in operand)
        elif op == "$nin":
            result &= not any(_equals(stored, item) for item in operand)
        elif op == "$exists":
            result &= (stored is not _MISSING) == operand
        elif op == "$contains":
            if isinstance(stored, list):
                result &= operand in stored
            elif isinstance(stored, str):
                result &= operand in stored
            else:
                result = False
        elif op == "$not":
            result &= not _field(metadata, field, operand)
        else:
            raise ValueError(op)
    return result


def matches(filter_: dict, metadata: dict) -> bool:
    """Whether `metadata` matches the dict-form `filter_`."""
    result = True
    for key, value in filter_.items():
        if key == "$and":
            result &= all(matches(child, metadata) for child in value)
        elif key == "$or":
            result &= any(matches(child, metadata) for child in value)
        elif key == "$not":
            result &= not matches(value, metadata)
        else:
            result &= _field(metadata, key, value)
    return result
