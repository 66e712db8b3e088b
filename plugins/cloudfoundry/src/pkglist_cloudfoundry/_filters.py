"""The emulator's reading of CF V3 list parameters, and selecting the matching packages.

Validation follows Cloud Controller's list messages: ``page`` and
``per_page`` (1..5000) positive integers, ``order_by`` one of the listed
columns with an optional ``-``, comma-joined ``guids``/``states``/``types``
filters, ``created_ats``/``updated_ats`` with ``[lt]``, ``[lte]``, ``[gt]``,
``[gte]`` (or an exact list) in ``YYYY-MM-DDThh:mm:ssZ``, and label
selectors. A problem is a :class:`BadQuery` whose text is the ``detail`` of
CF's ``CF-BadQueryParameter`` error.

Selecting is cheap where CF's default order allows it: packages are indexed
in creation order and every app holds one contiguous index range, so an
unfiltered (or app/space/org/created-at filtered) page is index arithmetic,
O(page size). Other filters and ``updated_at`` order scan, and cache the
result for the following pages.
"""

from __future__ import annotations

import calendar
import re
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import attrs

from ._data import EPOCH, STEP, DataSet, Facts

__all__ = [
    "MAX_PER_PAGE",
    "BadQuery",
    "LabelRequirement",
    "PackageFilter",
    "Paging",
    "Selection",
    "Selector",
    "parse_label_selector",
    "parse_package_filter",
    "parse_paging",
]

MAX_PER_PAGE = 5000
DEFAULT_PER_PAGE = 50
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_OPERATORS = ("lt", "lte", "gt", "gte")
_LABEL_TOKEN = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_LABEL_VALUE = r"[A-Za-z0-9._-]*"


class BadQuery(Exception):
    """An invalid query parameter; the message is the CF error detail."""


def _first(query: Mapping[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None


def check_known(
    query: Mapping[str, list[str]], allowed: Sequence[str], forbidden: Sequence[str] = ()
) -> None:
    bases = {key.split("[", 1)[0] for key in query}
    unknown = sorted(key for key in bases if key not in allowed or key in forbidden)
    if unknown:
        raise BadQuery("Unknown query parameter(s): " + ", ".join(f"'{key}'" for key in unknown))


@attrs.frozen
class Paging:
    page: int
    per_page: int
    order: str
    descending: bool
    order_param: str | None


def parse_paging(
    query: Mapping[str, list[str]], orders: Sequence[str] = ("created_at", "updated_at")
) -> Paging:
    per_page_text = _first(query, "per_page")
    per_page = DEFAULT_PER_PAGE
    if per_page_text is not None:
        if not per_page_text.isdigit() or int(per_page_text) < 1:
            raise BadQuery("Per page must be a positive integer")
        per_page = int(per_page_text)
        if per_page > MAX_PER_PAGE:
            raise BadQuery(f"Per page must be between 1 and {MAX_PER_PAGE}")
    page_text = _first(query, "page")
    page = 1
    if page_text is not None:
        if not page_text.isdigit() or int(page_text) < 1:
            raise BadQuery("Page must be a positive integer")
        page = int(page_text)
    order_param = _first(query, "order_by")
    order, descending = "created_at", False
    if order_param is not None:
        descending = order_param.startswith("-")
        order = order_param.removeprefix("-").removeprefix("+")
        if order not in orders:
            raise BadQuery("Order by can only be: " + ", ".join(f"'{name}'" for name in orders))
    return Paging(page, per_page, order, descending, order_param)


def csv_values(query: Mapping[str, list[str]], key: str) -> tuple[str, ...] | None:
    """A comma-joined filter; ``None`` when absent (an empty value matches nothing)."""
    text = _first(query, key)
    if text is None:
        return None
    return tuple(part for part in text.split(",") if part)


# Timestamps -------------------------------------------------------------------------------


@attrs.frozen
class TimeFilter:
    """``created_ats``/``updated_ats`` constraints, in epoch seconds."""

    bounds: tuple[tuple[str, int], ...] = ()
    exact: frozenset[int] | None = None

    def matches(self, moment: int) -> bool:
        if self.exact is not None and moment not in self.exact:
            return False
        return all(_compare(operator, moment, value) for operator, value in self.bounds)

    def index_window(self) -> tuple[int, int | None]:
        """The range of creation indices the bounds allow (creation time is ``EPOCH + i * STEP``)."""
        low, high = 0, None
        for operator, value in self.bounds:
            offset = value - EPOCH
            if operator == "gt":
                low = max(low, offset // STEP + 1)
            elif operator == "gte":
                low = max(low, -(-offset // STEP))
            else:
                stop = -(-offset // STEP) if operator == "lt" else offset // STEP + 1
                high = stop if high is None else min(high, stop)
        return max(low, 0), high


def _compare(operator: str, moment: int, value: int) -> bool:
    if operator == "gt":
        return moment > value
    if operator == "gte":
        return moment >= value
    if operator == "lt":
        return moment < value
    return moment <= value


def _epoch(text: str, label: str) -> int:
    problem = (
        f"{label} has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'"
    )
    if not _TIMESTAMP.fullmatch(text):
        raise BadQuery(problem)
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
    except ValueError:  # 2024-02-30T...
        raise BadQuery(problem) from None


def parse_time_filter(query: Mapping[str, list[str]], name: str) -> TimeFilter | None:
    label = name.replace("_", " ").capitalize()
    bounds: list[tuple[str, int]] = []
    exact: frozenset[int] | None = None
    for key in query:
        if key == name:
            values = _first(query, key) or ""
            exact = frozenset(_epoch(part, label) for part in values.split(",") if part)
        elif key.startswith(name + "["):
            operator = key[len(name) + 1 :].removesuffix("]")
            if not key.endswith("]") or operator not in _OPERATORS:
                raise BadQuery(f"{label} has an invalid relational operator: '{operator}'")
            value = _first(query, key) or ""
            if "," in value:
                raise BadQuery(f"{label} accepts only one timestamp with a relational operator")
            bounds.append((operator, _epoch(value, label)))
    if not bounds and exact is None:
        return None
    return TimeFilter(tuple(sorted(bounds)), exact)


# Label selectors -------------------------------------------------------------------------


@attrs.frozen
class LabelRequirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        if self.operator == "exists":
            return value is not None
        if self.operator == "!exists":
            return value is None
        if self.operator in ("=", "in"):
            return value is not None and value in self.values
        return value is None or value not in self.values  # "!=" and "notin"


_REQUIREMENTS = (
    (re.compile(rf"!\s*({_LABEL_TOKEN})"), "!exists"),
    (re.compile(rf"({_LABEL_TOKEN})\s+(in|notin)\s+\(([^()]*)\)"), "set"),
    (re.compile(rf"({_LABEL_TOKEN})\s*(==|!=|=)\s*({_LABEL_VALUE})"), "equality"),
    (re.compile(rf"({_LABEL_TOKEN})"), "exists"),
)


def parse_label_selector(text: str) -> tuple[LabelRequirement, ...]:
    """``env=prod,tier in (web,api),!beta`` -> requirements (all must hold)."""
    parts: list[str] = []
    depth, current = 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    requirements = []
    for part in parts:
        requirements.append(_requirement(part.strip(), text))
    return tuple(requirements)


def _requirement(part: str, text: str) -> LabelRequirement:
    for pattern, kind in _REQUIREMENTS:
        found = pattern.fullmatch(part)
        if found is None:
            continue
        if kind == "set":
            values = frozenset(value.strip() for value in found.group(3).split(",") if value.strip())
            if not values or not all(re.fullmatch(_LABEL_VALUE, value) for value in values):
                break
            return LabelRequirement(found.group(1), found.group(2), values)
        if kind == "equality":
            operator = "!=" if found.group(2) == "!=" else "="
            return LabelRequirement(found.group(1), operator, frozenset({found.group(3)}))
        return LabelRequirement(found.group(1), kind)
    raise BadQuery(f"Label selector has an invalid format: '{text}'")


# Packages ------------------------------------------------------------------------------


@attrs.frozen
class PackageFilter:
    guids: tuple[str, ...] | None = None
    states: frozenset[str] | None = None
    types: frozenset[str] | None = None
    app_guids: tuple[str, ...] | None = None
    space_guids: tuple[str, ...] | None = None
    org_guids: tuple[str, ...] | None = None
    labels: tuple[LabelRequirement, ...] | None = None
    created: TimeFilter | None = None
    updated: TimeFilter | None = None

    def predicate(self) -> Callable[[Facts], bool] | None:
        """What a scan must check (``None``: nothing beyond index ranges)."""
        checks: list[Callable[[Facts], bool]] = []
        states, types, labels, created, updated = (
            self.states,
            self.types,
            self.labels,
            self.created,
            self.updated,
        )
        if states is not None:
            checks.append(lambda facts: facts.state in states)
        if types is not None:
            checks.append(lambda facts: facts.type in types)
        if created is not None and created.exact is not None:
            checks.append(lambda facts: created.matches(facts.created_at))
        if updated is not None:
            checks.append(lambda facts: updated.matches(facts.updated_at))
        if labels is not None:
            checks.append(lambda facts: all(requirement.matches(facts.labels) for requirement in labels))
        if not checks:
            return None
        return lambda facts: all(check(facts) for check in checks)


def parse_package_filter(query: Mapping[str, list[str]], *, nested: bool) -> PackageFilter:
    allowed = (
        "page",
        "per_page",
        "order_by",
        "guids",
        "states",
        "types",
        "label_selector",
        "created_ats",
        "updated_ats",
        "app_guids",
        "space_guids",
        "organization_guids",
    )
    forbidden = ("app_guids", "space_guids", "organization_guids") if nested else ()
    check_known(query, allowed, forbidden)
    states, types = csv_values(query, "states"), csv_values(query, "types")
    selector = _first(query, "label_selector")
    return PackageFilter(
        guids=csv_values(query, "guids"),
        states=frozenset(states) if states is not None else None,
        types=frozenset(types) if types is not None else None,
        app_guids=csv_values(query, "app_guids"),
        space_guids=csv_values(query, "space_guids"),
        org_guids=csv_values(query, "organization_guids"),
        labels=parse_label_selector(selector) if selector is not None else None,
        created=parse_time_filter(query, "created_ats"),
        updated=parse_time_filter(query, "updated_ats"),
    )


class Selection:
    """The matching package indices in the requested order: ranges (arithmetic) or a list."""

    def __init__(
        self,
        ranges: Sequence[tuple[int, int]] = (),
        listed: Sequence[int] | None = None,
        descending: bool = False,
    ) -> None:
        self._ranges = [(start, stop) for start, stop in ranges if stop > start]
        self._listed = listed
        self._descending = descending
        self.size = len(listed) if listed is not None else sum(stop - start for start, stop in self._ranges)

    def window(self, offset: int, count: int) -> list[int]:
        if self._listed is not None:
            return list(self._listed[offset : offset + count])
        end = min(offset + count, self.size)
        if self._descending:
            return [self._at(self.size - 1 - position) for position in range(offset, end)]
        return [self._at(position) for position in range(offset, end)]

    def _at(self, position: int) -> int:
        for start, stop in self._ranges:
            if position < stop - start:
                return start + position
            position -= stop - start
        raise IndexError(position)


class Selector:
    """Selects packages of a :class:`DataSet`, caching scans for the following pages."""

    def __init__(self, data: DataSet, cache_size: int = 8) -> None:
        self.data = data
        self._cache: OrderedDict[object, array[int]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.scans = 0

    def select(
        self, flt: PackageFilter, order: str, descending: bool, nested_app: str | None = None
    ) -> Selection:
        data = self.data
        apps = data.apps
        if nested_app is not None:
            apps = [app for app in apps if app.guid == nested_app]
        if flt.app_guids is not None:
            wanted = {guid.lower() for guid in flt.app_guids}
            apps = [app for app in apps if app.guid in wanted]
        if flt.space_guids is not None:
            spaces = {guid.lower() for guid in flt.space_guids}
            apps = [app for app in apps if app.space_guid in spaces]
        if flt.org_guids is not None:
            orgs = {guid.lower() for guid in flt.org_guids}
            apps = [app for app in apps if data.org_of(app) in orgs]
        ranges = sorted((app.start, app.stop) for app in apps if app.count)
        if flt.created is not None:
            low, high = flt.created.index_window()
            ranges = [(max(start, low), stop if high is None else min(stop, high)) for start, stop in ranges]
            ranges = [(start, stop) for start, stop in ranges if stop > start]
        predicate = flt.predicate()
        if flt.guids is None and predicate is None and order == "created_at":
            return Selection(ranges, descending=descending)
        key = (data.total, tuple(ranges), flt, order, descending)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return Selection(listed=cached)
        listed = self._scan(ranges, flt, predicate, order, descending)
        with self._lock:
            self._cache[key] = listed
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return Selection(listed=listed)

    def _scan(
        self,
        ranges: list[tuple[int, int]],
        flt: PackageFilter,
        predicate: Callable[[Facts], bool] | None,
        order: str,
        descending: bool,
    ) -> array[int]:
        data = self.data
        self.scans += 1
        if flt.guids is not None:
            found = {data.index_of(guid) for guid in flt.guids}
            candidates: list[int] | range = sorted(
                index for index in found if index is not None and any(a <= index < b for a, b in ranges)
            )
            groups: list[list[int] | range] = [candidates]
        else:
            groups = [range(start, stop) for start, stop in ranges]
        facts_of = data.facts
        matched: list[Facts] = []
        for group in groups:
            for index in group:
                facts = facts_of(index)
                if predicate is None or predicate(facts):
                    matched.append(facts)
        if order == "updated_at":
            matched.sort(key=lambda facts: (facts.updated_at, facts.number))
        if descending:
            matched.reverse()
        return array("q", (facts.number for facts in matched))
