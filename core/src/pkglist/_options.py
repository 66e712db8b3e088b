"""The options every listing shares, in the CLI and the Python API alike."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import UsageError

if TYPE_CHECKING:
    import httpx

__all__ = ["RESERVED_NAMES", "ListOptions"]


@attrs.frozen(kw_only=True)
class ListOptions:
    """How to run a listing (not what to list: that is the listing's query).

    ``limit`` stops after that many packages; ``page_size`` defaults to the
    listing's own default; ``concurrency`` pins the page requests in flight
    (by default their number adapts to the server, between 1 and 64);
    ``retries`` is the number of retries per request (429, 500/502/503/504,
    connection errors, timeouts, unreadable bodies), each waiting with
    exponential backoff from ``retry_backoff`` seconds with jitter, or what
    ``Retry-After`` / rate-limit reset headers ask, never longer than
    ``max_retry_wait`` seconds; ``max_pages``
    stops a listing that never ends. ``timeout`` bounds one whole exchange
    (connect, send, head and body); ``max_page_bytes`` caps a page's decoded
    body. ``skip_invalid`` reports and skips an item that cannot be normalized
    instead of failing. ``strict`` raises :class:`~pkglist.StrictError` at the
    end of a listing that warned (it changed while it ran, the server's signals
    disagreed, an item was skipped): it may be incomplete. ``transport`` replaces the network with an
    ``httpx.AsyncBaseTransport`` (tests: ``pkglist.testing.emulator_transport``).
    """

    base_url: str | None = None
    limit: int | None = None
    page_size: int | None = None
    concurrency: int | None = None
    timeout: float = 30.0
    retries: int = 5
    retry_backoff: float = 0.25
    max_retry_wait: float = 60.0
    max_pages: int = 20_000
    raw: bool = False
    strict: bool = False
    rebase_links: bool = False
    skip_invalid: bool = False
    emulate: bool = False
    ca_bundle: str | None = None
    insecure: bool = False
    max_page_bytes: int = 256 * 1024 * 1024
    transport: httpx.AsyncBaseTransport | None = attrs.field(default=None, repr=False)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], *, where: str) -> ListOptions:
        """Build from user values (``None`` means not given), with one-line errors."""
        given = {name: value for name, value in values.items() if value is not None}
        for name, low in _MINIMUMS.items():
            if name not in given:
                continue
            value = given[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise UsageError(f"{where}: --{_flag(name)} must be a finite number, got {value!r}")
            if value < low or (name in _STRICT and value <= low):
                bound = f"greater than {low}" if name in _STRICT else f"at least {low}"
                raise UsageError(f"{where}: --{_flag(name)} must be {bound}, got {value}")
        transport = given.get("transport")
        if transport is not None:
            import httpx

            if not isinstance(transport, httpx.AsyncBaseTransport):
                raise UsageError(
                    f"{where}: transport must be an httpx.AsyncBaseTransport, got {type(transport).__name__}"
                )
        if given.get("concurrency", 1) > 64:
            raise UsageError(f"{where}: --concurrency must be at most 64, got {given['concurrency']}")
        return cls(**given)


def _flag(name: str) -> str:
    return name.replace("_", "-")


_MINIMUMS: dict[str, float] = {
    "limit": 1,
    "page_size": 1,
    "concurrency": 1,
    "timeout": 0,
    "retries": 0,
    "retry_backoff": 0,
    "max_retry_wait": 0,
    "max_pages": 1,
    "max_page_bytes": 1,
}
_STRICT = {"timeout"}

#: Keyword names a provider's query fields and credentials must not use.
RESERVED_NAMES = frozenset(field.name for field in attrs.fields(ListOptions)) | {
    "manager",
    "where",
    "explain",
    "summary",
    "group_by",
}
