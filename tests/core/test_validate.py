"""``validate_package``: what the contract suite holds every normalized record to."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import pkglist
from pkglist.testing import validate_package

PLUS_TWO = timezone(timedelta(hours=2))


def package(**changes: Any) -> pkglist.Package:
    fields: dict[str, Any] = {"provider": "p", "listing": "l", "id": "1", "name": "n"}
    return pkglist.Package(**(fields | changes))


def test_a_well_formed_record_passes() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    validate_package(
        package(created_at=at, extra={"seen_at": [{"when": at}], "count": 2}), provider="p", listing="l"
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"created_at": datetime(2025, 1, 1)}, "created_at must be aware UTC"),
        ({"updated_at": datetime(2025, 1, 1, tzinfo=PLUS_TWO)}, "updated_at must be aware UTC"),
        ({"extra": {"seen_at": datetime(2025, 1, 1, tzinfo=PLUS_TWO)}}, "extra['seen_at'] must be aware UTC"),
        ({"extra": {"log": [{"at": datetime(2025, 1, 1)}]}}, "extra['log'][0]['at'] must be aware UTC"),
        ({"extra": {"downloadCount": 1}}, "'downloadCount' is not snake_case"),
        ({"name": ""}, "name must not be empty"),
    ],
)
def test_what_is_wrong_is_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(message)):
        validate_package(package(**changes))
