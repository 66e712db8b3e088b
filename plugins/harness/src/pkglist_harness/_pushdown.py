"""The ``--where`` conditions the Harness APIs filter on (the listings' ``pushdown``).

``state`` is ``deleted`` when a package has ``deletedAt``, else ``quarantined``
or ``active`` (``_normalize``); the v3 ``deleted`` parameter selects soft-deleted
packages: ``exclude`` (the API's default), ``include`` or ``only``. Without it a
condition that wants deleted packages would never see one, so pushing it down is
what makes ``--where state=deleted`` work at all.
"""

from __future__ import annotations

from typing import Any

import pkglist

__all__ = ["PACKAGES_PUSHDOWN", "SPACE_ARTIFACTS_PUSHDOWN", "deleted_option"]


def deleted_option(op: str, value: Any) -> str:
    """The ``deleted`` value that keeps every package a condition on ``state`` matches.

    >>> deleted_option("=", "deleted"), deleted_option("!=", "deleted"), deleted_option("=", "active")
    ('only', 'exclude', 'exclude')
    >>> deleted_option("in", ("deleted", "quarantined")), deleted_option("not in", ("active",))
    ('include', 'include')
    """
    states = {value} if op in ("=", "!=") else set(value)
    if op in ("=", "in"):
        if states == {"deleted"}:
            return "only"
        return "include" if "deleted" in states else "exclude"
    return "exclude" if "deleted" in states else "include"


_PACKAGE_TYPE = pkglist.Pushdown("package_type", ("=", "in"), "package_type")

PACKAGES_PUSHDOWN = (
    _PACKAGE_TYPE,
    pkglist.Pushdown("state", ("=", "!=", "in", "not in"), "deleted", convert=deleted_option),
)
SPACE_ARTIFACTS_PUSHDOWN = (_PACKAGE_TYPE,)
