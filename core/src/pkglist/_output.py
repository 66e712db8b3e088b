"""Streaming writers: table (for people), json (one array), jsonl, csv.

Each writer takes batches of packages as they arrive and writes them at once,
so memory does not grow with the listing. Columns are package fields or
``extra.<key>``; an inventory's writer (``sources=True``) is given each batch's
source too and writes it first, as the ``source`` field.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

import attrs

from ._errors import UsageError
from ._json import encode, encode_joined
from ._model import PACKAGE_FIELDS, Package, format_datetime, in_utc
from .text import shorten

__all__ = ["FORMATS", "Writer", "make_writer", "parse_fields", "record"]

FORMATS = ("table", "json", "jsonl", "csv")
TABLE_FIELDS = ("name", "version", "package_type", "state", "scope", "updated_at")
_TABLE_MAX_WIDTH = 48


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
        hint = difflib.get_close_matches(field, allowed, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        known = ", ".join(allowed)
        raise UsageError(f"--fields: unknown field {field!r}{suggestion} (fields: {known}, extra.<key>)")
    return fields


def make_writer(
    fmt: str,
    stream: TextIO,
    *,
    fields: Sequence[str] | None = None,
    raw: bool = False,
    sources: bool = False,
) -> Writer:
    """A writer of ``fmt``; with ``sources`` the default columns start with ``source``."""
    first = ("source",) if sources else ()
    if fmt == "jsonl":
        return _JsonLines(stream, fields, raw)
    if fmt == "json":
        return _JsonArray(stream, fields, raw)
    if fmt == "csv":
        return _Csv(stream, fields or (*first, *_default_fields(raw)))
    if fmt == "table":
        return _Table(stream, fields or (*first, *TABLE_FIELDS))
    raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")


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
    """Aligned columns; widths come from the header and the first batch, so the
    table streams (later values wider than that are cut with an ellipsis)."""

    def __init__(self, stream: TextIO, fields: Sequence[str]) -> None:
        self._stream = stream
        self._fields = tuple(fields)
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
            self._widths = [
                min(_TABLE_MAX_WIDTH, max(len(header), *(len(row[i]) for row in rows)))
                for i, header in enumerate(headers)
            ]
            self._line(headers)
        for row in rows:
            self._line(row)

    def _line(self, cells: list[str]) -> None:
        assert self._widths is not None
        shown = [_fit(cell, width) for cell, width in zip(cells, self._widths, strict=True)]
        self._stream.write("  ".join(shown).rstrip() + "\n")

    def close(self) -> None:
        self._stream.flush()


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)


def _fit(text: str, width: int) -> str:
    return shorten(text, width).ljust(width)
