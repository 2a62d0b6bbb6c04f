"""API keys: loading them, checking a request's key in constant time, and refusing to listen
beyond loopback without one."""

from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Optional, Sequence

from .._errors import InvalidArgumentError

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or "localhost". Anything else,
    including "0.0.0.0", "::", "" and other host names, counts as reachable from outside."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_api_keys(api_key_file: Optional[str | os.PathLike]) -> tuple[str, ...]:
    """The keys in ``api_key_file``: one per line, blank lines and lines starting with ``#``
    skipped, surrounding whitespace stripped. None: no keys. Raises InvalidArgumentError when the
    file cannot be read, holds no key, or a key is shorter than 16 characters (too easy to guess)."""
    if api_key_file is None:
        return ()
    try:
        with open(api_key_file, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidArgumentError(f"cannot read the API key file {os.fspath(api_key_file)!r}: {error}") from None
    keys = tuple(line.strip() for line in lines if line.strip() and not line.strip().startswith("#"))
    if not keys:
        raise InvalidArgumentError(f"the API key file {os.fspath(api_key_file)!r} holds no key")
    for number, key in enumerate(keys, 1):
        if len(key) < 16:
            raise InvalidArgumentError(
                f"key {number} of the API key file {os.fspath(api_key_file)!r} is {len(key)} characters long; "
                "use at least 16 (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return keys


def check_bind(host: str, keys: Sequence[str]) -> None:
    """Raise InvalidArgumentError when ``host`` is not loopback and there is no API key: a server
    reachable from other machines must authenticate its callers."""
    if not keys and not is_loopback(host):
        raise InvalidArgumentError(
            f"refusing to listen on {host!r} without an API key: pass api_key_file= "
            "(or bind to 127.0.0.1 / ::1 / localhost)"
        )


class KeyChecker:
    """Checks the key a request presents (``Authorization: Bearer <key>`` or ``X-API-Key``)
    against the configured keys. With no keys configured every request passes."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = tuple(key.encode("utf-8") for key in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def accepts(self, authorization: Optional[str], x_api_key: Optional[str]) -> bool:
        """Whether the presented key equals one configured key. Every key is compared with
        hmac.compare_digest, whatever matched, so the time taken reveals neither which key
        matched nor how much of a key was right."""
        if not self._keys:
            return True
        presented = x_api_key
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            presented = token.strip() if scheme.lower() == "bearer" else None
        if not presented:
            return False
        candidate = presented.encode("utf-8", "surrogateescape")
        matched = False
        for key in self._keys:
            matched |= hmac.compare_digest(candidate, key)
        return matched
