"""``--summary``: counts of packages grouped by fields, written in place of the records.

:class:`Summary` consumes packages batch by batch and keeps one counter per group,
so its memory grows with the number of groups, not of packages. The groups are
written as a table (with a bar per count on a terminal) or as records in any
output format: one per group, its keys and ``count``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from ._errors import UsageError
from ._fields import check_field, reader
from ._json import encode
from ._model import Package
from ._output import _cell, _fit, _printable, unknown_format

__all__ = ["DEFAULT_GROUP_BY", "Summary", "SummaryWriter", "parse_group_by", "write_summary"]

#: ``source`` is left out of the rows when no package came with one (a listing, not an inventory).
DEFAULT_GROUP_BY = ("provider", "source", "scope", "package_type", "state")

_BLOCKS = " ▏▎▍▌▋▊▉█"  # a bar's last cell, in eighths
_MIN_BAR = 5
_MAX_CELL = 48


def parse_group_by(text: str | None) -> tuple[str, ...]:
    """``"provider,state,extra.registry_name"`` -> the fields, checked; the default for ``None``."""
    if text is None:
        return DEFAULT_GROUP_BY
    fields = tuple(part.strip() for part in text.split(",") if part.strip())
    if not fields:
        raise UsageError("--group-by: give at least one field")
    return tuple(check_field(field, where="--group-by") for field in fields)


class Summary:
    """Counts of packages per group of ``group_by`` values."""

    def __init__(self, group_by: Sequence[str] = DEFAULT_GROUP_BY) -> None:
        self.group_by = tuple(check_field(field, where="--group-by") for field in group_by)
        self._readers = tuple(reader(field) for field in self.group_by)
        self._counts: dict[tuple[Any, ...], int] = {}
        self._with_sources = False
        self.total = 0

    def add(self, packages: Iterable[Package], source: str | None = None) -> None:
        """Count a batch of packages (of ``source``, in an inventory)."""
        if source is not None:
            self._with_sources = True
        counts, readers = self._counts, self._readers
        for package in packages:
            key = tuple([_hashable(read(package, source)) for read in readers])
            counts[key] = counts.get(key, 0) + 1
            self.total += 1

    @property
    def columns(self) -> tuple[str, ...]:
        """The group keys the rows carry (then ``count``)."""
        return tuple(field for field in self.group_by if field in self._kept())

    def _kept(self) -> tuple[str, ...]:
        if self.group_by == DEFAULT_GROUP_BY and not self._with_sources:
            return tuple(field for field in self.group_by if field != "source")
        return self.group_by

    def rows(self) -> list[dict[str, Any]]:
        """One row per group, ordered by its keys (missing values last), with its ``count``."""
        kept = [index for index, field in enumerate(self.group_by) if field in self._kept()]
        merged: dict[tuple[Any, ...], int] = {}
        for key, count in self._counts.items():
            shown = tuple(key[index] for index in kept)
            merged[shown] = merged.get(shown, 0) + count
        columns = self.columns
        ordered = sorted(merged.items(), key=lambda item: [_sort_key(value) for value in item[0]])
        return [{**dict(zip(columns, key, strict=True)), "count": count} for key, count in ordered]

    def write(self, fmt: str, stream: TextIO, *, terminal_width: int | None = None) -> None:
        write_summary(self.rows(), fmt, stream, columns=self.columns, terminal_width=terminal_width)


def _hashable(value: Any) -> Any:
    """A group key for a value: lists and mappings (in ``extra``) as their JSON text."""
    if isinstance(value, (list, tuple, Mapping)):
        return encode(value)
    return value


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (2, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, _cell(value))


def write_summary(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    stream: TextIO,
    *,
    columns: Sequence[str] | None = None,
    terminal_width: int | None = None,
) -> None:
    """Write summary rows (group keys and ``count``) as ``fmt``; the table draws a bar per count
    when ``terminal_width`` (the columns a terminal has) is given."""
    keys = (
        list(columns) if columns is not None else [key for key in (rows[0] if rows else {}) if key != "count"]
    )
    if fmt in ("json", "jsonl"):
        records = [encode({**{key: row.get(key) for key in keys}, "count": row["count"]}) for row in rows]
        if fmt == "jsonl":
            stream.write("".join(record + "\n" for record in records))
        else:
            stream.write("[\n  " + ",\n  ".join(records) + "\n]\n" if records else "[]\n")
    elif fmt == "csv":
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow([*keys, "count"])
        writer.writerows([*(_cell(row.get(key)) for key in keys), row["count"]] for row in rows)
    elif fmt == "table":
        _write_table(rows, keys, stream, terminal_width)
    else:
        raise unknown_format(fmt)
    stream.flush()


def _write_table(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], stream: TextIO, terminal_width: int | None
) -> None:
    total = sum(row["count"] for row in rows)
    headers = [key.upper() for key in keys] + ["COUNT"]
    body = [[_table_cell(row.get(key)) for key in keys] + [str(row["count"])] for row in rows]
    footer = ["TOTAL"] + [""] * (len(keys) - 1) + [str(total)] if keys else [str(total)]
    widths = [
        min(_MAX_CELL, max(len(line[index]) for line in (headers, *body, footer)))
        for index in range(len(headers))
    ]
    used = sum(widths) + 2 * len(widths)
    bar_width = terminal_width - used if terminal_width is not None else 0
    largest = max((row["count"] for row in rows), default=0)
    for line, count in [
        (headers, None),
        *zip(body, (row["count"] for row in rows), strict=True),
        (footer, None),
    ]:
        cells = [_fit(cell, width) for cell, width in zip(line[:-1], widths[:-1], strict=True)]
        cells.append(line[-1].rjust(widths[-1]))
        text = "  ".join(cells)
        if bar_width >= _MIN_BAR and count is not None and largest:
            text += "  " + _bar(count, largest, bar_width)
        stream.write(text.rstrip() + "\n")


def _table_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return _cell(value)
    return _printable(_cell(value))


def _bar(count: int, largest: int, width: int) -> str:
    """``count`` as a bar of up to ``width`` cells, scaled to ``largest``; never empty for a count."""
    eighths = max(1, round(count / largest * width * 8)) if count else 0
    full, rest = divmod(eighths, 8)
    return "█" * full + (_BLOCKS[rest] if rest else "")


class SummaryWriter:
    """A writer (as :func:`pkglist._output.make_writer` makes) that counts the packages it is given
    and writes the summary as ``fmt`` when closed."""

    def __init__(self, summary: Summary, fmt: str, stream: TextIO, *, terminal_width: int | None) -> None:
        self.summary = summary
        self._fmt = fmt
        self._stream = stream
        self._terminal_width = terminal_width

    def write(self, packages: Sequence[Package], source: str | None = None) -> None:
        self.summary.add(packages, source)

    def close(self) -> None:
        self.summary.write(self._fmt, self._stream, terminal_width=self._terminal_width)
