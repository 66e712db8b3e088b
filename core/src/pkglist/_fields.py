"""Naming a value of a record: a normalized field, ``extra.<key>``, or ``source``.

``source`` is the name of an inventory's source; it is not part of the package,
so readers take it beside the package (``None`` outside an inventory).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from ._errors import UsageError
from ._model import PACKAGE_FIELDS, Package
from .text import closest

__all__ = ["DATETIME_FIELDS", "RECORD_FIELDS", "Reader", "check_field", "reader"]

#: The fields a filter, a summary or a diff can name besides ``extra.<key>``.
RECORD_FIELDS: tuple[str, ...] = (
    *(name for name in PACKAGE_FIELDS if name not in ("extra", "raw")),
    "source",
)
DATETIME_FIELDS = ("created_at", "updated_at")

Reader = Callable[[Package, "str | None"], Any]


def check_field(name: str, *, where: str, fields: tuple[str, ...] = RECORD_FIELDS) -> str:
    """``name`` if it names a field of ``fields`` or ``extra.<key>``, else a one-line :class:`UsageError`."""
    if name in fields or (name.startswith("extra.") and len(name) > len("extra.")):
        return name
    hint = closest(name, fields, cutoff=0.5)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    known = ", ".join(fields)
    raise UsageError(f"{where}: unknown field {name!r}{suggestion} (fields: {known}, extra.<key>)")


def reader(name: str) -> Reader:
    """A function reading the named value from ``(package, source)``; ``None`` when it is missing."""
    if name == "source":
        return _source
    if name.startswith("extra."):
        key = name[len("extra.") :]
        return lambda package, source: package.extra.get(key)
    get = operator.attrgetter(name)
    return lambda package, source: get(package)


def _source(package: Package, source: str | None) -> str | None:
    return source
