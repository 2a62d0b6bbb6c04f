"""The client's own exceptions: failures of the connection rather than of the database."""

from __future__ import annotations

from .._errors import Error


class AuthenticationError(Error, PermissionError):
    """The server refused the API key (or none was given and it requires one)."""


class TransportError(Error, ConnectionError):
    """The server could not be reached, or answered with something that is not OmenDB's."""
