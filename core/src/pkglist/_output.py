"""Streaming writers: table (for people), json (one array), jsonl, csv.

Each writer takes batches of packages as they arrive and writes them at once,
so memory does not grow with the listing. Columns are package fields or
``extra.<key>``.
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
import json.encoder
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from ._errors import UsageError
from ._json import dumps_joined, using_orjson
from ._model import PACKAGE_FIELDS, Package, format_datetime, in_utc

__all__ = ["FORMATS", "Writer", "make_writer", "parse_fields"]

FORMATS = ("table", "json", "jsonl", "csv")
TABLE_FIELDS = ("name", "version", "package_type", "state", "scope", "updated_at")
_TABLE_MAX_WIDTH = 48


class Writer(Protocol):
    def write(self, packages: Sequence[Package]) -> None: ...

    def close(self) -> None: ...


def parse_fields(text: str | None) -> tuple[str, ...] | None:
    """``"id,name,extra.labels"`` -> field names, checked; ``None`` for the default."""
    if text is None:
        return None
    fields = tuple(part.strip() for part in text.split(",") if part.strip())
    if not fields:
        raise UsageError("--fields: give at least one field")
    for field in fields:
        if field in PACKAGE_FIELDS or (field.startswith("extra.") and len(field) > 6):
            continue
        hint = difflib.get_close_matches(field, PACKAGE_FIELDS, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        known = ", ".join(PACKAGE_FIELDS)
        raise UsageError(f"--fields: unknown field {field!r}{suggestion} (fields: {known}, extra.<key>)")
    return fields


def make_writer(
    fmt: str, stream: TextIO, *, fields: Sequence[str] | None = None, raw: bool = False
) -> Writer:
    if fmt == "jsonl":
        return _JsonLines(stream, fields, raw)
    if fmt == "json":
        return _JsonArray(stream, fields, raw)
    if fmt == "csv":
        return _Csv(stream, fields or _default_fields(raw))
    if fmt == "table":
        return _Table(stream, fields or TABLE_FIELDS)
    raise UsageError(f"unknown output format {fmt!r} (choose from {', '.join(FORMATS)})")


def _default_fields(raw: bool) -> tuple[str, ...]:
    return PACKAGE_FIELDS if raw else tuple(name for name in PACKAGE_FIELDS if name != "raw")


class _AsDict(Protocol):
    def __call__(self, package: Package, raw: bool) -> dict[str, Any]: ...


def _selector(
    fields: Sequence[str] | None, raw: bool, as_dict: _AsDict
) -> Callable[[Package], dict[str, Any]]:
    if fields is None:
        return functools.partial(as_dict, raw=raw)

    def select(package: Package) -> dict[str, Any]:
        data = as_dict(package, True)
        return {field: _pick(data, field) for field in fields}

    return select


def _as_dict(package: Package, raw: bool) -> dict[str, Any]:
    """:func:`_record` with its own datetimes formatted (the encoder does those in ``extra``)."""
    data = _record(package, raw)
    created, updated = data["created_at"], data["updated_at"]
    if created is not None:
        data["created_at"] = format_datetime(created)
    if updated is not None:
        data["updated_at"] = format_datetime(updated)
    return data


def _record(package: Package, raw: bool) -> dict[str, Any]:
    """The package's fields by hand, its datetimes in UTC.

    The same result as ``package_to_dict`` once the datetimes are formatted (tests
    hold them equal) at a fraction of the cost, which matters when hundreds of
    thousands of packages stream out. orjson writes UTC datetimes as
    ``format_datetime`` does, several times faster, so they are left to it.
    """
    created, updated = package.created_at, package.updated_at
    data = {
        "provider": package.provider,
        "listing": package.listing,
        "id": package.id,
        "name": package.name,
        "version": package.version,
        "package_type": package.package_type,
        "state": package.state,
        "scope": package.scope,
        "created_at": created if created is None or created.tzinfo is UTC else in_utc(created),
        "updated_at": updated if updated is None or updated.tzinfo is UTC else in_utc(updated),
        "url": package.url,
        "extra": package.extra,
    }
    if raw:
        data["raw"] = package.raw
    return data


def _pick(data: dict[str, Any], field: str) -> Any:
    if field.startswith("extra."):
        return data["extra"].get(field[6:])
    return data[field]


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


# The C string encoder the JSON encoder itself uses (with ensure_ascii off).
_quote: Callable[[str], str] = json.encoder.encode_basestring


def _make_encode() -> Callable[[Any], str]:
    """Compact JSON with datetimes as ``...Z`` strings.

    ``JSONEncoder.encode`` builds a new C encoder on every call, which costs as much
    as encoding a small record; this builds it once (when CPython's ``_json`` is there).
    """
    options: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "check_circular": False}
    fallback = json.JSONEncoder(default=_json_default, **options).encode
    make = getattr(json.encoder, "c_make_encoder", None)  # CPython's C encoder (not in typeshed)
    if make is None:
        return fallback
    chunks = make(None, _json_default, _quote, None, ":", ",", False, False, True)

    def encode(value: Any) -> str:
        if type(value) is str:
            return _quote(value)
        return "".join(chunks(value, 0))

    return encode


_encode = _make_encode()


def _json_of(fields: Sequence[str] | None, raw: bool) -> Callable[[Sequence[Package], str], str]:
    """A function that writes a batch of packages as JSON documents joined by a separator."""
    if using_orjson():
        select = _selector(fields, raw, _record)
        return lambda packages, separator: dumps_joined(
            [select(package) for package in packages], separator, _json_default, _encode
        )
    if fields is None:  # the fixed-shape encoder: the standard library's fastest path
        encode = functools.partial(_package_json, raw=raw)
        return lambda packages, separator: separator.join([encode(package) for package in packages])
    select = _selector(fields, raw, _as_dict)
    return lambda packages, separator: separator.join([_encode(select(package)) for package in packages])


def _package_json(package: Package, raw: bool) -> str:
    """One package as compact JSON, equal to ``_encode(_as_dict(package, raw))``.

    The record's shape is fixed, so its keys are written as text and only the
    values are encoded: half the cost of encoding a dict, on the path every
    package of a jsonl or json listing takes.
    """
    try:
        version, package_type, state = package.version, package.package_type, package.state
        scope, created, updated, url = package.scope, package.created_at, package.updated_at, package.url
        text = (
            '{"provider":' + _quote(package.provider)
            + ',"listing":' + _quote(package.listing)
            + ',"id":' + _quote(package.id)
            + ',"name":' + _quote(package.name)
            + ',"version":' + ("null" if version is None else _quote(version))
            + ',"package_type":' + ("null" if package_type is None else _quote(package_type))
            + ',"state":' + ("null" if state is None else _quote(state))
            + ',"scope":' + ("null" if scope is None else _quote(scope))
            + ',"created_at":' + ("null" if created is None else '"' + format_datetime(created) + '"')
            + ',"updated_at":' + ("null" if updated is None else '"' + format_datetime(updated) + '"')
            + ',"url":' + ("null" if url is None else _quote(url))
            + ',"extra":' + _encode(package.extra)
        )  # fmt: skip
    except TypeError:  # a value that is not a string where one belongs: let the encoder decide
        return _encode(_as_dict(package, raw))
    return text + (',"raw":' + _encode(package.raw) + "}" if raw else "}")


class _JsonLines:
    def __init__(self, stream: TextIO, fields: Sequence[str] | None, raw: bool) -> None:
        self._stream = stream
        self._json = _json_of(fields, raw)

    def write(self, packages: Sequence[Package]) -> None:
        if packages:
            self._stream.write(self._json(packages, "\n") + "\n")

    def close(self) -> None:
        self._stream.flush()


class _JsonArray:
    def __init__(self, stream: TextIO, fields: Sequence[str] | None, raw: bool) -> None:
        self._stream = stream
        self._json = _json_of(fields, raw)
        self._first = True

    def write(self, packages: Sequence[Package]) -> None:
        if not packages:
            return
        body = self._json(packages, ",\n  ")
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
        return _encode(value)
    return str(value)


class _Csv:
    def __init__(self, stream: TextIO, fields: Sequence[str]) -> None:
        self._stream = stream
        self._fields = tuple(fields)
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(self._fields)

    def write(self, packages: Sequence[Package]) -> None:
        fields = self._fields
        rows = []
        for package in packages:
            data = _as_dict(package, True)
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

    def _cells(self, package: Package) -> list[str]:
        data = _as_dict(package, True)
        return [_printable(_cell(_pick(data, field))) for field in self._fields]

    def write(self, packages: Sequence[Package]) -> None:
        rows = [self._cells(package) for package in packages]
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
    if len(text) > width:
        return text[: width - 1] + "…"
    return text.ljust(width)
