"""pkglist-age: add ``extra["age_days"]`` to the packages of every provider.

A plugin without a provider: it wraps the normalizing stage, whoever
implements it, and adds one field to the package that comes out.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime

import attrs
import pkglist

__all__ = ["age_days", "pkglist_normalize"]


def age_days(package: pkglist.Package, now: datetime) -> int | None:
    """Whole days from the package's last update (or creation) to ``now``; ``None`` without either."""
    moment = package.updated_at or package.created_at
    if moment is None:
        return None
    return max(0, (now - moment).days)


@pkglist.hookimpl(wrapper=True)
def pkglist_normalize() -> Generator[None, pkglist.Package | None, pkglist.Package | None]:
    package = yield  # the package every other implementation made (an error just passes through)
    if package is None or "age_days" in package.extra:
        return package
    age = age_days(package, datetime.now(UTC))
    if age is None:
        return package
    return attrs.evolve(package, extra={**package.extra, "age_days": age})
