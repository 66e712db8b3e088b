"""Streaming writers: table (for people), json (one array), jsonl, csv.

Each writer takes batches of packages as they arrive and writes them at once,
so memory does not grow with the listing. Columns are package fields or
``extra.<key>``; an inventory's writer (``sources=True``) is given each batch's
source too and writes it first, as the ``source`` field.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

import attrs

from ._command_settings import FORMATS
from ._errors import UsageError
from ._json import encode, encode_joined
from ._model import PACKAGE_FIELDS, Package, format_datetime, in_utc
from .text import closest

__all__ = ["FORMATS", "Writer", "make_writer", "parse_fields", "record", "unknown_format"]

TABLE_FIELDS = ("name", "version", "package_type", "state", "scope", "updated_at")


class Writer(Protocol):
    def write(self, packages: Sequence[Package], source: str | None = None) -> None: ...

    def close(self) -> None: ...


def parse_fields(text: str | None, *, sources: bool = False) -> tuple[str, ...] | None:
    """``"id,name,extra.labels"`` -> field names, checked; ``None`` for the default.
    ``sources`` (an inventory) allows ``source`` too."""
    if text is None:
        return None
    fields = tuple(part.strip() for part in text.split(",") if part.strip())
    if not fields:
        raise UsageError("--fields: give at least one field")
    allowed = ("source", *PACKAGE_FIELDS) if sources else PACKAGE_FIELDS
    for field in fields:
        if field in allowed or (field.startswith("extra.") and len(field) > 6):
            continue
        hint = closest(field, allowed)
        suggestion = f"; did you mean {hint!r}?" if hint else ""
        known = ", ".join(allowed)
        raise UsageError(f"--fields: unknown field {field!r}{suggestion} (fields: {known}, extra.<key>)")
    return fields


def unknown_format(fmt: str) -> UsageError:
    return UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")


def make_writer(
    fmt: str,
    stream: TextIO,
    *,
    fields: Sequence[str] | None = None,
    raw: bool = False,
    sources: bool = False,
    width: int | None = None,
) -> Writer:
    """A writer of ``fmt``; with ``sources`` the default columns start with ``source``;
    ``width`` is the terminal's when the table goes to one (lines fit it)."""
    first = ("source",) if sources else ()
    if fmt == "jsonl":
        return _JsonLines(stream, fields, raw)
    if fmt == "json":
        return _JsonArray(stream, fields, raw)
    if fmt == "csv":
        return _Csv(stream, fields or (*first, *_default_fields(raw)))
    if fmt == "table":
        return _Table(stream, fields or (*first, *TABLE_FIELDS), width)
    raise unknown_format(fmt)


def _default_fields(raw: bool) -> tuple[str, ...]:
    return PACKAGE_FIELDS if raw else tuple(name for name in PACKAGE_FIELDS if name != "raw")


def record(package: Package, raw: bool = False) -> dict[str, Any]:
    """A package's fields as a JSON-ready dict (``raw`` only when asked for), its datetimes
    in UTC; the encoder writes them as ``format_datetime`` does."""
    data = {name: getattr(package, name) for name in _RECORD_FIELDS}
    for name in _DATETIME_FIELDS:
        value = data[name]
        if value is not None and value.tzinfo is not UTC:
            data[name] = in_utc(value)
    if raw:
        data["raw"] = package.raw
    return data


_RECORD_FIELDS = tuple(name for name in PACKAGE_FIELDS if name != "raw")
_DATETIME_FIELDS = tuple(field.name for field in attrs.fields(Package) if "datetime" in str(field.type))


def _pick(data: dict[str, Any], field: str) -> Any:
    if field.startswith("extra."):
        return data["extra"].get(field[6:])
    return data.get(field)


def _sourced(data: dict[str, Any], source: str | None) -> dict[str, Any]:
    return data if source is None else {"source": source, **data}


JsonOf = Callable[[Sequence[Package], str, "str | None"], str]


def _json_of(fields: Sequence[str] | None, raw: bool) -> JsonOf:
    """A function that writes a batch of packages (of a source, in an inventory) as JSON
    documents joined by a separator."""
    if fields is None:
        return lambda packages, separator, source: encode_joined(
            [_sourced(record(package, raw), source) for package in packages], separator
        )

    def select(package: Package, source: str | None) -> dict[str, Any]:
        data = _sourced(record(package, raw=True), source)
        return {field: _pick(data, field) for field in fields}

    return lambda packages, separator, source: encode_joined(
        [select(package, source) for package in packages], separator
    )


class _JsonLines:
    def __init__(self, stream: TextIO, fields: Sequence[str] | None, raw: bool) -> None:
        self._stream = stream
        self._json = _json_of(fields, raw)

    def write(self, packages: Sequence[Package], source: str | None = None) -> None:
        if packages:
            self._stream.write(self._json(packages, "\n", source) + "\n")

    def close(self) -> None:
        self._stream.flush()


class _JsonArray:
    def __init__(self, stream: TextIO, fields: Sequence[str] | None, raw: bool) -> None:
        self._stream = stream
        self._json = _json_of(fields, raw)
        self._first = True

    def write(self, packages: Sequence[Package], source: str | None = None) -> None:
        if not packages:
            return
        body = self._json(packages, ",\n  ", source)
        self._stream.write(("[\n  " if self._first else ",\n  ") + body)
        self._first = False

    def close(self) -> None:
        self._stream.write("[]\n" if self._first else "\n]\n")
        self._stream.flush()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, (dict, list, tuple)):
        return encode(value)
    return str(value)


class _Csv:
    def __init__(self, stream: TextIO, fields: Sequence[str]) -> None:
        self._stream = stream
        self._fields = tuple(fields)
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(self._fields)

    def write(self, packages: Sequence[Package], source: str | None = None) -> None:
        fields = self._fields
        rows = []
        for package in packages:
            data = _sourced(record(package, raw=True), source)
            rows.append([_cell(_pick(data, field)) for field in fields])
        self._writer.writerows(rows)

    def close(self) -> None:
        self._stream.flush()


class _Table:
    """Aligned columns; widths come from the header and the first batch, so the table streams.

    On a terminal ``width`` columns wide, the widest columns give way first (cut with
    ``…``) until a line fits, and a later value wider than its column is cut too.
    Elsewhere nothing is cut: a later, wider value pushes the rest of its line right.
    """

    def __init__(self, stream: TextIO, fields: Sequence[str], width: int | None = None) -> None:
        self._stream = stream
        self._fields = tuple(fields)
        self._width = width
        self._widths: list[int] | None = None

    def _cells(self, package: Package, source: str | None) -> list[str]:
        data = _sourced(record(package, raw=True), source)
        return [_printable(_cell(_pick(data, field))) for field in self._fields]

    def write(self, packages: Sequence[Package], source: str | None = None) -> None:
        rows = [self._cells(package, source) for package in packages]
        if not rows:
            return
        if self._widths is None:
            headers = [field.upper() for field in self._fields]
            natural = [
                max(len(header), *(display_width(row[i]) for row in rows)) for i, header in enumerate(headers)
            ]
            self._widths = natural if self._width is None else fit_widths(natural, self._width)
            self._line(headers)
        for row in rows:
            self._line(row)

    def _line(self, cells: list[str]) -> None:
        assert self._widths is not None
        place = _pad if self._width is None else _fit
        shown = [place(cell, width) for cell, width in zip(cells, self._widths, strict=True)]
        self._stream.write("  ".join(shown).rstrip() + "\n")

    def close(self) -> None:
        self._stream.flush()


_GAP = 2  # spaces between columns


def fit_widths(natural: Sequence[int], limit: int) -> list[int]:
    """Column widths that fit a line of ``limit`` columns: the widest columns are narrowed
    first, all to one cap, and the room left over goes back to the capped ones.

    >>> fit_widths([4, 30, 10], 40)
    [4, 22, 10]
    >>> fit_widths([21, 30, 10], 39)
    [13, 12, 10]
    """
    room = limit - _GAP * (len(natural) - 1)
    if sum(natural) <= room:
        return list(natural)
    low, high = 1, max(natural)  # the largest cap whose columns fit: binary search
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(width, cap) for width in natural) <= room:
            low = cap
        else:
            high = cap - 1
    widths = [min(width, low) for width in natural]
    spare = room - sum(widths)
    for index, width in enumerate(natural):
        if spare <= 0:
            break
        if width > widths[index]:
            widths[index] += 1
            spare -= 1
    return widths


def display_width(text: str) -> int:
    """Columns ``text`` takes on a terminal (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    from wcwidth import width  # imported for the first non-ASCII value only: it is not small

    return max(width(text), 0)


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _fit(text: str, width: int) -> str:
    if display_width(text) <= width:
        return _pad(text, width)
    if text.isascii():
        return text[: width - 1] + "…"
    from wcwidth import clip

    return _pad(clip(text, 0, width - 1) + "…", width)
