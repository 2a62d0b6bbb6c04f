"""How errors cross the wire: every omendb exception becomes an HTTP status and a JSON body
``{"error": {"type": "DimensionError", "message": "...", "collection_missing": false}}``, and the
client raises the same class with the same message."""

from __future__ import annotations

from typing import Optional

from .. import _errors
from .._errors import (
    ClosedError,
    CorruptionError,
    DimensionError,
    DuplicateIdError,
    Error,
    FilterError,
    InvalidArgumentError,
    LockedError,
    NotFoundError,
    NotSupportedError,
    ReadOnlyError,
    StorageError,
)

# The HTTP status of each error class; a subclass not listed gets its nearest listed base's.
STATUS = {
    InvalidArgumentError: 400,
    DimensionError: 400,
    FilterError: 400,
    DuplicateIdError: 409,
    NotFoundError: 404,
    ClosedError: 410,
    ReadOnlyError: 403,
    LockedError: 423,
    NotSupportedError: 501,
    StorageError: 507,
    CorruptionError: 500,
    Error: 500,
}

# Every omendb exception class by name: the only classes a client will raise from a response.
CLASSES = {
    name: value
    for name, value in vars(_errors).items()
    if isinstance(value, type) and issubclass(value, Error)
}


def status_of(error: Error) -> int:
    """The HTTP status for ``error``: that of the first class in its MRO listed in STATUS."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def wire_name(error: Error) -> str:
    """The name a client knows ``error`` by: its class's, or that of its nearest base among the
    omendb exception classes (a server-side subclass such as BodyTooLarge travels as its base)."""
    for cls in type(error).__mro__:
        if CLASSES.get(cls.__name__) is cls:
            return cls.__name__
    return "Error"


def payload(error_type: str, message: str, collection_missing: bool = False) -> dict:
    """The JSON body of an error response."""
    return {"error": {"type": error_type, "message": message, "collection_missing": collection_missing}}


def from_payload(body: object) -> Optional[tuple[type, str, bool]]:
    """(class, message, collection_missing) from an error response's decoded JSON, or None when it
    is not an OmenDB error body (a proxy's page, say). Only omendb exception classes come back."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    cls = CLASSES.get(error.get("type"))
    message = error.get("message")
    if cls is None or not isinstance(message, str):
        return None
    return cls, message, error.get("collection_missing") is True


class CollectionMissing(NotFoundError):
    """A call on a collection that does not exist (or was dropped): 404, flagged so that a
    client's handle of a dropped collection raises ClosedError as an embedded one does."""


class BodyTooLarge(InvalidArgumentError):
    """A request body above the server's limit: 413."""


STATUS[BodyTooLarge] = 413
