"""Base URLs, origins and safe path building."""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from ._errors import UsageError

if TYPE_CHECKING:
    import httpx

__all__ = ["check_base_url", "join_url", "origin_of", "quote_segment"]


def check_base_url(value: str, *, where: str) -> str:
    """Return ``value`` without a trailing slash if it is a usable base URL.

    Only ``http``/``https`` URLs with a host and without credentials, query or
    fragment are accepted: anything else is a :class:`UsageError`.
    """
    text = value.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise UsageError(f"{where}: base URL {_show(text)} must start with http:// or https://")
    if not parts.hostname:
        raise UsageError(f"{where}: base URL {_show(text)} has no host")
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            f"{where}: base URL must not contain credentials; pass them as options or environment variables"
        )
    if parts.query or parts.fragment or text.endswith("?") or "#" in text:
        raise UsageError(f"{where}: base URL {_show(text)} must not have a query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise UsageError(f"{where}: base URL {_show(text)} has an invalid port") from None
    return text.rstrip("/")


def _show(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.username is not None or parts.password is not None:
        return "(with credentials)"
    return repr(text if len(text) <= 80 else text[:79] + "…")


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
