"""Base URLs, origins and safe path building."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ._errors import UsageError
from .text import shorten

if TYPE_CHECKING:
    import httpx

__all__ = ["check_base_url", "join_url", "origin_of", "quote_segment"]


def check_base_url(value: str, *, where: str) -> str:
    """Return ``value`` without a trailing slash if it is a usable base URL.

    Only ``http``/``https`` URLs with a host and without credentials, query,
    fragment, whitespace or control characters are accepted: anything else is
    a :class:`UsageError` (which never shows a password or a query).
    """
    text = value.strip()
    if not text:
        raise UsageError(f"{where}: the base URL is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise UsageError(f"{where}: base URL {_show(text)} contains whitespace or control characters")
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{where}: base URL {_show(text)} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{where}: base URL {_show(text)} must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"{where}: base URL {_show(text)} has no host")
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            f"{where}: base URL must not contain credentials; pass them as options or environment variables"
        )
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise UsageError(f"{where}: base URL {_show(text)} must not have a query or fragment")
    del port  # parsed above only to reject a malformed one
    return text.rstrip("/")


def _show(text: str) -> str:
    """The URL for a message: never its user info, query or fragment (they may hold secrets)."""
    try:
        parts = urllib.parse.urlsplit(text)
    except ValueError:
        parts = None
    if parts is not None and (parts.username is not None or parts.password is not None):
        return "(with credentials)"
    shown = text.split("?", 1)[0].split("#", 1)[0]
    shown = "".join(ch if ch.isprintable() and not ch.isspace() else "?" for ch in shown)
    return repr(shorten(shown, 80))


def origin_of(url: httpx.URL | str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in."""
    parts = urllib.parse.urlsplit(str(url))
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def quote_segment(value: str) -> str:
    """Percent-encode one path segment (``/`` included)."""
    return urllib.parse.quote(value, safe="")


def join_url(base_url: httpx.URL | str, path: str) -> str:
    """Append an already-encoded ``path`` to ``base_url``, keeping the base's own path prefix.

    >>> join_url("https://app.harness.io/gateway", "/har/api/v3/packages")
    'https://app.harness.io/gateway/har/api/v3/packages'
    """
    return str(base_url).rstrip("/") + "/" + path.lstrip("/")
