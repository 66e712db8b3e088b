"""The normalized record every provider produces, and the page a response becomes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import httpx

__all__ = ["PACKAGE_FIELDS", "Package", "Page", "format_datetime"]


@attrs.frozen(slots=True, hash=False)
class Package:
    """One package, the same shape whatever the provider.

    ``extra`` holds the provider-specific fields worth keeping, with snake_case
    keys and already-normalized values; ``raw`` is the provider's untouched
    item and is only filled in when asked for (``raw=True`` / ``--raw``).
    """

    provider: str
    listing: str
    id: str
    name: str
    version: str | None = None
    package_type: str | None = None
    state: str | None = None
    scope: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    url: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    raw: Mapping[str, Any] | None = None


PACKAGE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Package))


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2024-03-25T10:00:00Z``. A naive datetime is taken as
    UTC (as :func:`~pkglist.items.parse_timestamp` takes a timestamp without an offset)."""
    if value.tzinfo is not UTC:
        value = in_utc(value)
    return value.isoformat()[:-6] + "Z"


def in_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@attrs.frozen(slots=True)
class Page:
    """What one response contributes to a listing.

    ``items`` are the raw provider items in server order. ``next`` is the
    request for the following page, or ``None`` when this page is the last.

    When pages are addressable by number, ``number`` is this page's number,
    ``request_for(n)`` builds the request for page ``n`` and ``last_number``
    is the number of the last page if the API tells it: the engine then fetches
    the following pages concurrently (and, without ``last_number``, a window of
    pages ahead speculatively). ``total_items`` is the provider's item count,
    used to notice a listing that changes while it runs and checked at the end.

    The other signals a response may carry are kept for the engine to
    reconcile (see :mod:`pkglist._state`): ``has_more`` (an explicit flag),
    ``linked`` (whether a next link was present, for an API that sends one),
    ``page_size`` (the size asked for, so a short page can be told) and
    ``exact_totals`` (false where the API's counts are only upper bounds).
    A strategy sets ``next`` whenever a following page *could* be asked for;
    whether the listing goes on is the engine's decision.

    ``expand`` are sub-requests whose listings stand for ``items``: the engine
    fetches each (concurrently, under the listing's concurrency), pages it
    through the same paginate hook to its end, and fills ``expanded`` with
    their items, in the order of ``expand`` (a catalog page expands into one
    tag listing per repository); the packages come from ``expanded``, while
    ``items`` and the other signals still decide whether the listing goes on
    (a page of repositories without tags is not the end). A sub-page may
    expand in turn.
    """

    items: Sequence[Any]
    next: httpx.Request | None = None
    number: int | None = None
    last_number: int | None = None
    total_items: int | None = None
    request_for: Callable[[int], httpx.Request] | None = attrs.field(default=None, eq=False)
    has_more: bool | None = None
    linked: bool | None = None
    page_size: int | None = None
    exact_totals: bool = True
    expand: Sequence[httpx.Request] = ()
    expanded: Sequence[Any] | None = None

    @property
    def listed(self) -> Sequence[Any]:
        """The raw items this page contributes: its sub-listings' once expanded, else its own."""
        return self.items if self.expanded is None else self.expanded

    @property
    def addressable(self) -> bool:
        return self.number is not None and self.request_for is not None
