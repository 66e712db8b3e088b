"""``pkglist diff OLD NEW``: the packages added, removed and changed between two listings.

Both files are pkglist output: a JSON array (``-o json``) or JSON lines
(``-o jsonl``) of records with ``provider``, ``listing`` and ``id`` (and
``source``, for an inventory). Records are matched by (source, provider,
listing, id); a record is changed when one of the compared fields differs
(``version``, ``state`` and ``updated_at`` by default). Where a key comes
twice in one file, its last record counts.

Both files are streamed. Each record is reduced to its key, its name and the
compared values, held in a dict until there are more than ``spill_threshold``
of them, and in an SQLite file in a temporary directory beyond: its primary
key keeps the records sorted, so the differences come out by one ordered
scan, in key order either way. SQLite (in the standard library) is simpler
and sturdier than a sort-merge of spilled runs: no run files, no merge, and
duplicates resolve themselves (``INSERT OR REPLACE``).
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TextIO

import attrs

from ._errors import UsageError
from ._fields import RECORD_FIELDS, check_field
from ._json import encode
from ._model import format_datetime
from ._output import FORMATS, _cell, _fit, _printable, unknown_format
from .items import parse_timestamp

__all__ = [
    "DEFAULT_FIELDS",
    "SPILL_THRESHOLD",
    "Difference",
    "Differences",
    "compare",
    "parse_diff_fields",
    "read_records",
    "write_differences",
]

DEFAULT_FIELDS = ("version", "state", "updated_at")
#: Records (of both files) held in memory before the index moves to disk: about 200 bytes each.
SPILL_THRESHOLD = 200_000
_KEY_FIELDS = ("source", "provider", "listing", "id")
_CHUNK = 1 << 20
_MAX_RECORD = 64 << 20
_WHITESPACE = " \t\n\r"

Key = tuple[str, str, str, str]  # source ("" outside an inventory), provider, listing, id
Entry = tuple[str | None, str]  # the record's name, the JSON text of its compared values


def parse_diff_fields(text: str | None) -> tuple[str, ...]:
    """``--fields version,extra.digest`` -> the compared fields, checked; the default for ``None``."""
    if text is None:
        return DEFAULT_FIELDS
    fields = tuple(part.strip() for part in text.split(",") if part.strip())
    if not fields:
        raise UsageError("--fields: give at least one field")
    comparable = tuple(field for field in RECORD_FIELDS if field not in _KEY_FIELDS)
    return tuple(check_field(field, where="--fields", fields=comparable) for field in fields)


@attrs.frozen
class Difference:
    """One package added, removed or changed; ``changes`` are (field, old, new) for a changed one."""

    change: str
    source: str | None
    provider: str
    listing: str
    id: str
    name: str | None
    changes: tuple[tuple[str, Any, Any], ...] = ()


@attrs.frozen
class Differences:
    """The result of :func:`compare`: iterate :attr:`items` once (they stream from the index)."""

    items: Iterator[Difference]
    fields: tuple[str, ...]
    with_sources: bool
    on_disk: bool = False
    counts: dict[str, int] = attrs.field(factory=lambda: {"added": 0, "removed": 0, "changed": 0})

    def __iter__(self) -> Iterator[Difference]:
        for difference in self.items:
            self.counts[difference.change] += 1
            yield difference


@contextlib.contextmanager
def compare(
    old: str,
    new: str,
    *,
    fields: Sequence[str] = DEFAULT_FIELDS,
    spill_threshold: int = SPILL_THRESHOLD,
) -> Iterator[Differences]:
    """Read both files (paths; ``-`` is stdin) and yield their differences, in key order."""
    fields = tuple(fields)
    with _Index(spill_threshold) as index:
        with_sources = False
        for side, path in enumerate((old, new)):
            for key, entry in _entries(path, fields):
                with_sources = with_sources or bool(key[0])
                index.put(side, key, entry, path)
        yield Differences(_differences(index, fields), fields, with_sources, on_disk=index.on_disk)


def _entries(path: str, fields: tuple[str, ...]) -> Iterator[tuple[Key, Entry]]:
    getters = [_getter(field) for field in fields]
    for where, record in read_records(path):
        key = _key(record, path, where)
        name = record.get("name")
        yield key, (name if isinstance(name, str) else None, encode([get(record) for get in getters]))


def _key(record: Any, path: str, where: str) -> Key:
    if not isinstance(record, dict):
        raise UsageError(f"{path}: {where}: not an object; expected pkglist records (-o json or -o jsonl)")
    parts = []
    for field in ("provider", "listing", "id"):
        value = record.get(field)
        if not isinstance(value, str):
            problem = "no" if value is None else "a non-text"
            raise UsageError(
                f"{path}: {where}: {problem} {field!r}; expected pkglist records (-o json or -o jsonl)"
            )
        parts.append(value)
    source = record.get("source")
    if source is not None and not isinstance(source, str):
        raise UsageError(f"{path}: {where}: 'source' is not text")
    return (source or "", parts[0], parts[1], parts[2])


def _getter(field: str) -> Callable[[dict[str, Any]], Any]:
    if field.startswith("extra."):
        key = field[len("extra.") :]

        def extra(record: dict[str, Any]) -> Any:
            found = record.get("extra")
            return found.get(key) if isinstance(found, dict) else None

        return extra
    if field in ("created_at", "updated_at"):
        return lambda record: _instant(record.get(field))
    return lambda record: record.get(field)


def _instant(value: Any) -> Any:
    """A timestamp as pkglist writes it, so that the same instant written another way is no change."""
    if not isinstance(value, str) or (value[-1:] == "Z" and len(value) in (20, 27) and value[10:11] == "T"):
        return value  # not text, or already ``2024-01-01T00:00:00Z`` / ``...00.000001Z`` (format_datetime's)
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return value
    return None if moment is None else format_datetime(moment)


def _differences(index: _Index, fields: tuple[str, ...]) -> Iterator[Difference]:
    for key, old, new in index.pairs():
        source = key[0] or None
        if old is None and new is not None:
            yield Difference("added", source, key[1], key[2], key[3], new[0])
        elif new is None and old is not None:
            yield Difference("removed", source, key[1], key[2], key[3], old[0])
        elif old is not None and new is not None and old[1] != new[1]:
            before, after = json.loads(old[1]), json.loads(new[1])
            changes = tuple(
                (field, was, now) for field, was, now in zip(fields, before, after, strict=True) if was != now
            )
            if changes:
                yield Difference("changed", source, key[1], key[2], key[3], new[0], changes)


# Reading pkglist output ---------------------------------------------------------------------------


def read_records(path: str) -> Iterator[tuple[str, Any]]:
    """The records of a JSON array or JSON lines file, one at a time, each with where it is
    (``line 3`` / ``record 5 (line 9)``) for messages; a one-line :class:`UsageError` otherwise."""
    try:
        stream = _open(path)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with stream:
        try:
            first, blank_lines = _first_character(stream)
            if first == "[":
                yield from _array_records(path, stream, 1 + blank_lines)
            elif first in ("{", ""):
                yield from _line_records(path, stream, first, 1 + blank_lines)
            else:
                raise UsageError(
                    f"{path}: not pkglist output (-o json or -o jsonl): it starts with {first!r}"
                )
        except UnicodeDecodeError:
            raise UsageError(f"{path}: not UTF-8 text") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _open(path: str) -> TextIO:
    if path == "-":
        import sys

        return open(sys.stdin.fileno(), encoding="utf-8", closefd=False)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "is a directory")
    return open(path, encoding="utf-8")


def _first_character(stream: TextIO) -> tuple[str, int]:
    """The first non-blank character, consumed (``""`` for a blank file), and the lines before it."""
    lines = 0
    while True:
        character = stream.read(1)
        if character == "" or character not in _WHITESPACE:
            return character, lines
        lines += character == "\n"


def _line_records(path: str, stream: TextIO, first: str, start: int) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(_prefixed(first, stream), start):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{path}: line {number}: not JSON ({_reason(exc)})") from None
        yield f"line {number}", record


def _prefixed(first: str, stream: TextIO) -> Iterator[str]:
    yield first + stream.readline()
    yield from stream


def _array_records(path: str, stream: TextIO, line: int) -> Iterator[tuple[str, Any]]:
    """The elements of a JSON array, decoded one at a time from a sliding buffer (``line``: the
    line of the opening bracket)."""
    decoder = json.JSONDecoder()
    buffer, position, number = "", 0, 0
    expect_value = True  # after '[' or ','; else a ',' or the closing ']'
    at_end = False
    counted = 0  # ``line`` is the line of buffer[counted]; positions asked for only move forward

    def line_of(at: int) -> int:
        nonlocal line, counted
        line += buffer.count("\n", counted, at)
        counted = at
        return line

    def fail(problem: str, at: int) -> UsageError:
        return UsageError(f"{path}: line {line_of(at)}: {problem}")

    while True:
        while position < len(buffer) and buffer[position] in _WHITESPACE:
            position += 1
        if position == len(buffer):
            if at_end:
                raise fail("the JSON array is not closed (a listing that was cut short?)", position)
            line_of(position)
            buffer, position, counted = stream.read(_CHUNK), 0, 0
            at_end = buffer == ""
            continue
        character = buffer[position]
        if character == "]" and ((expect_value and number == 0) or not expect_value):
            rest = buffer[position + 1 :]
            while rest.strip() == "":
                rest = stream.read(_CHUNK)
                if not rest:
                    return
            raise fail("text after the end of the JSON array", position + 1)
        if not expect_value:
            if character != ",":
                raise fail(f"expected ',' or ']' after record {number}, found {character!r}", position)
            position, expect_value = position + 1, True
            continue
        try:
            record, end = decoder.raw_decode(buffer, position)
        except (ValueError, RecursionError) as exc:
            more = "" if at_end else stream.read(_CHUNK)
            if not more or len(buffer) - position > _MAX_RECORD:
                number += 1
                raise fail(f"record {number} is not JSON ({_reason(exc)})", position) from None
            line_of(position)
            buffer, position, counted = buffer[position:] + more, 0, 0
            continue
        number += 1
        yield f"record {number} (line {line_of(position)})", record
        position, expect_value = end, False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return type(exc).__name__


# The index ----------------------------------------------------------------------------------------


class _Index:
    """Entries of both files by key: a dict, moved to SQLite beyond ``threshold`` records (inserted
    in batches of at most ``threshold``, so memory stays bounded by it)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self._memory: dict[Key, list[Entry | None]] = {}
        self._count = 0
        self._directory: tempfile.TemporaryDirectory[str] | None = None
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str, str, str, int, str | None, str]] = []
        self._path = ""

    def __enter__(self) -> _Index:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self._db.close()
        if self._directory is not None:
            self._directory.cleanup()

    @property
    def on_disk(self) -> bool:
        return self._db is not None

    def put(self, side: int, key: Key, entry: Entry, path: str) -> None:
        self._count += 1
        self._path = path
        if self._db is None:
            slots = self._memory.setdefault(key, [None, None])
            slots[side] = entry
            if self._count > self.threshold:
                self._spill()
            return
        self._pending.append((*key, side, *entry))
        if len(self._pending) >= min(10_000, self.threshold):
            self._flush()

    def _spill(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="pkglist-diff-")
        db = self._db = sqlite3.connect(os.path.join(self._directory.name, "index.sqlite"))
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -4096", "temp_store = FILE"):
            db.execute(f"PRAGMA {pragma}")
        db.execute(
            "CREATE TABLE entries (source TEXT, provider TEXT, listing TEXT, id TEXT, side INTEGER,"
            " name TEXT, value TEXT, PRIMARY KEY (source, provider, listing, id, side)) WITHOUT ROWID"
        )
        memory, self._memory = self._memory, {}
        for key, slots in memory.items():
            for side, entry in enumerate(slots):
                if entry is not None:
                    self._pending.append((*key, side, *entry))
        self._flush()

    def _flush(self) -> None:
        assert self._db is not None
        try:
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", self._pending
                )
        except UnicodeEncodeError:
            raise UsageError(
                f"{self._path}: a key that is not valid Unicode text (a lone surrogate)"
            ) from None
        self._pending.clear()

    def pairs(self) -> Iterator[tuple[Key, Entry | None, Entry | None]]:
        """Each key with its old and new entry (``None`` where a file lacks it), in key order."""
        if self._db is None:
            for key in sorted(self._memory):
                old, new = self._memory[key]
                yield key, old, new
            return
        self._flush()
        rows = self._db.execute("SELECT * FROM entries ORDER BY source, provider, listing, id, side")
        current: Key | None = None
        slots: list[Entry | None] = [None, None]
        for source, provider, listing, id_, side, name, value in rows:
            key = (source, provider, listing, id_)
            if key != current:
                if current is not None:
                    yield current, slots[0], slots[1]
                current, slots = key, [None, None]
            slots[side] = (name, value)
        if current is not None:
            yield current, slots[0], slots[1]


# Writing ------------------------------------------------------------------------------------------


def write_differences(differences: Differences, fmt: str, stream: TextIO) -> None:
    """Write as ``fmt``: json/jsonl one record per package (``change``, the key, ``name``, and for a
    changed one ``old`` and ``new`` with the changed fields); csv and table one row per changed
    field (``field``, ``old``, ``new``)."""
    if fmt not in FORMATS:
        raise unknown_format(fmt)
    keys = (
        ("source", "provider", "listing", "id") if differences.with_sources else ("provider", "listing", "id")
    )
    if fmt in ("json", "jsonl"):
        _write_json(differences, keys, fmt, stream)
        return
    columns = ("change", *keys, "name", "field", "old", "new")
    rows = (row for difference in differences for row in _rows(difference, keys))
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        _write_table(rows, columns, stream)
    stream.flush()


def _write_json(differences: Differences, keys: tuple[str, ...], fmt: str, stream: TextIO) -> None:
    separator, first = ("\n", "") if fmt == "jsonl" else (",\n  ", "[\n  ")
    written = False
    for difference in differences:
        record: dict[str, Any] = {"change": difference.change}
        record.update({key: getattr(difference, key) for key in keys})
        record["name"] = difference.name
        if difference.changes:
            record["old"] = {field: old for field, old, _ in difference.changes}
            record["new"] = {field: new for field, _, new in difference.changes}
        stream.write((separator if written else first) + encode(record))
        written = True
    if fmt == "jsonl":
        stream.write("\n" if written else "")
    else:
        stream.write("\n]\n" if written else "[]\n")
    stream.flush()


def _rows(difference: Difference, keys: tuple[str, ...]) -> Iterator[list[str]]:
    start = [difference.change, *(_cell(getattr(difference, key)) for key in keys), _cell(difference.name)]
    if not difference.changes:
        yield [*start, "", "", ""]
    for field, old, new in difference.changes:
        yield [*start, field, _cell(old), _cell(new)]


_TABLE_SAMPLE = 256
_MAX_CELL = 48


def _write_table(rows: Iterable[list[str]], columns: Sequence[str], stream: TextIO) -> None:
    """Aligned columns, widths from the header and the first rows (later wider values are cut)."""
    iterator = iter(rows)
    sample = [[_printable(cell) for cell in row] for row in itertools.islice(iterator, _TABLE_SAMPLE)]
    headers = [column.upper() for column in columns]
    widths = [
        min(_MAX_CELL, max(len(row[index]) for row in (headers, *sample))) for index in range(len(columns))
    ]

    def line(cells: Sequence[str]) -> None:
        stream.write(
            "  ".join(_fit(cell, width) for cell, width in zip(cells, widths, strict=True)).rstrip() + "\n"
        )

    if not sample:
        return
    line(headers)
    for row in sample:
        line(row)
    for row in iterator:
        line([_printable(cell) for cell in row])
