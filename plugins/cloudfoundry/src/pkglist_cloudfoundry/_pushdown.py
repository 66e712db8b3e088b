"""The ``--where`` conditions Cloud Foundry filters on: ``states``, ``types`` and the
``created_ats``/``updated_ats`` ranges (the ``pushdown`` of both listings).

CF's ``[lt]``/``[gt]`` bounds are strict and whole seconds (``_query.rfc3339``
rounds a fraction outwards), so ``<=``/``>=`` are sent as a bound a microsecond
further out: the server keeps every package the condition matches, and the
local check removes the rest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pkglist

__all__ = ["PUSHDOWN"]

_TICK = timedelta(microseconds=1)


def _before(op: str, value: datetime) -> str:
    """``created_at < X`` -> ``created_before=X``; ``<= X`` -> ``created_before=X+1µs``."""
    return pkglist.format_datetime(value + _TICK if op == "<=" else value)


def _after(op: str, value: datetime) -> str:
    """``created_at > X`` -> ``created_after=X``; ``>= X`` -> ``created_after=X-1µs``."""
    return pkglist.format_datetime(value - _TICK if op == ">=" else value)


PUSHDOWN = (
    pkglist.Pushdown("state", ("=", "in"), "state"),
    pkglist.Pushdown("package_type", ("=", "in"), "type"),
    pkglist.Pushdown("created_at", ("<", "<="), "created_before", convert=_before),
    pkglist.Pushdown("created_at", (">", ">="), "created_after", convert=_after),
    pkglist.Pushdown("updated_at", ("<", "<="), "updated_before", convert=_before),
    pkglist.Pushdown("updated_at", (">", ">="), "updated_after", convert=_after),
)
