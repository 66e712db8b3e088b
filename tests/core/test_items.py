"""Reading fields from raw items, and timestamps in every shape providers send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

import pkglist
from pkglist import items


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1736360000123, datetime(2025, 1, 8, 18, 13, 20, 123000, tzinfo=UTC)),
        ("1736360000123", datetime(2025, 1, 8, 18, 13, 20, 123000, tzinfo=UTC)),
        (1736360000, datetime(2025, 1, 8, 18, 13, 20, tzinfo=UTC)),
        ("2024-03-25T10:00:00Z", datetime(2024, 3, 25, 10, tzinfo=UTC)),
        ("2024-03-25T12:00:00+02:00", datetime(2024, 3, 25, 10, tzinfo=UTC)),
        ("2024-03-25T10:00:00", datetime(2024, 3, 25, 10, tzinfo=UTC)),
        ("2016-06-08T16:41:26.123456Z", datetime(2016, 6, 8, 16, 41, 26, 123456, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_timestamps_in_every_shape_become_aware_utc(value: object, expected: datetime | None) -> None:
    parsed = pkglist.parse_timestamp(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_the_unit_can_be_forced() -> None:
    assert pkglist.parse_timestamp(5000, unit="ms") == datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)
    assert pkglist.parse_timestamp("5", unit="s") == datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", True, [1], {"t": 1}, 10**30, "2024-13-45"])
def test_non_timestamps_are_value_errors(value: object) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        pkglist.parse_timestamp(value)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2400, 1, 1), timezones=st.just(UTC)))
def test_iso_and_millisecond_forms_agree(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    millis = round(moment.timestamp() * 1000)
    assert pkglist.parse_timestamp(moment.isoformat()) == moment
    assert pkglist.parse_timestamp(millis, unit="ms") == moment
    assert pkglist.parse_timestamp(str(millis), unit="ms") == moment
    # "auto" decides by magnitude: milliseconds are recognised from March 1973 on.
    if moment >= datetime(1973, 3, 4, tzinfo=UTC):
        assert pkglist.parse_timestamp(millis) == moment


def test_readers_name_the_field_on_a_wrong_type() -> None:
    item = {"name": 42.5, "count": "x", "flag": "yes", "tags": "a", "meta": [], "when": "soon"}
    with pytest.raises(pkglist.InvalidItemError, match="'name' must be a string"):
        items.require_str(item, "name")
    with pytest.raises(pkglist.InvalidItemError, match="'missing' is missing"):
        items.require_str(item, "missing")
    with pytest.raises(pkglist.InvalidItemError, match="'count' must be an integer"):
        items.optional_int(item, "count")
    with pytest.raises(pkglist.InvalidItemError, match="'flag' must be a boolean"):
        items.optional_bool(item, "flag")
    with pytest.raises(pkglist.InvalidItemError, match="'tags' must be a list"):
        items.optional_list(item, "tags")
    with pytest.raises(pkglist.InvalidItemError, match="'meta' must be an object"):
        items.optional_object(item, "meta")
    with pytest.raises(pkglist.InvalidItemError, match="'when': not a timestamp"):
        items.optional_timestamp(item, "when")
    with pytest.raises(pkglist.InvalidItemError, match="not a JSON object but a list"):
        items.as_object([1])


def test_readers_accept_what_they_should() -> None:
    item = {"id": 7, "n": "12", "labels": None, "meta": None, "version": 3}
    assert items.require_str(item, "id") == "7"
    assert items.optional_int(item, "n") == 12
    assert items.optional_list(item, "labels") == []
    assert items.optional_object(item, "meta") == {}
    assert items.optional_str(item, "version") == "3"
    assert items.optional_str(item, "absent") is None


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("downloadsCount", "downloads_count"),
        ("registryUUID", "registry_uuid"),
        ("isPublic", "is_public"),
        ("nonProdEnvCount", "non_prod_env_count"),
        ("purl", "purl"),
        ("pull-command", "pull_command"),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert items.snake_case(name) == snake
