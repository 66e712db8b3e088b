"""The writers stream, and agree with the one converter on every value."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pkglist
from pkglist import _json
from pkglist._output import make_writer

PACKAGES = [
    pkglist.Package(
        provider="p",
        listing="l",
        id="1",
        name="left-pad ✓",
        version="1.0",
        created_at=datetime(2024, 3, 25, 10, tzinfo=UTC),
        updated_at=datetime(2024, 3, 25, 12, 30, 1, 500, tzinfo=timezone(timedelta(hours=2))),
        extra={
            "labels": ["a", "b"],
            "scanned_at": datetime(2025, 1, 1, tzinfo=UTC),
            "count": 3,
            "none": None,
        },
        raw={"id": 1, "nested": {"x": [1, 2]}},
    ),
    pkglist.Package(provider="p", listing="l", id="2", name="tab\tand\nnewline"),
]

text = st.text(max_size=12)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | text | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
packages = st.builds(
    pkglist.Package,
    provider=text.filter(bool),
    listing=text.filter(bool),
    id=text.filter(bool),
    name=text.filter(bool),
    version=st.none() | text,
    created_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    extra=st.dictionaries(text, values, max_size=4),
    raw=st.none() | st.dictionaries(text, values, max_size=3),
)


def lines(fmt: str, batch: list[pkglist.Package], **options: object) -> str:
    out = io.StringIO()
    writer = make_writer(fmt, out, **options)  # type: ignore[arg-type]
    writer.write(batch)
    writer.close()
    return out.getvalue()


@pytest.fixture(params=["orjson", "stdlib"])
def encoder(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both encoders: orjson (pkglist[fast], installed in the workspace) and the json module."""
    if request.param == "stdlib":
        saved, _json._orjson = _json._orjson, None
        yield "stdlib"
        _json._orjson = saved
    else:
        pytest.importorskip("orjson")
        assert _json.using_orjson()
        yield "orjson"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # the encoder is the same per example
@given(st.lists(packages, max_size=4))
def test_jsonl_equals_the_converter(encoder: str, batch: list[pkglist.Package]) -> None:
    # jsonl is split on "\n" only: names may hold other line separators (U+0085, U+2028).
    rows = [json.loads(line) for line in lines("jsonl", batch, raw=True).split("\n")[:-1]]
    expected = [json.loads(json.dumps(pkglist.converter.unstructure(package))) for package in batch]
    assert rows == expected


def test_datetimes_are_utc_with_z(encoder: str) -> None:
    row = json.loads(lines("jsonl", PACKAGES[:1]).splitlines()[0])
    assert row["created_at"] == "2024-03-25T10:00:00Z"
    assert row["updated_at"] == "2024-03-25T10:30:01.000500Z"
    assert row["extra"]["scanned_at"] == "2025-01-01T00:00:00Z"
    assert "raw" not in row
    back = pkglist.converter.structure(row, pkglist.Package)
    # extra is free-form: its datetimes come back as the strings they were written as
    assert attrs.evolve(back, extra={}) == attrs.evolve(PACKAGES[0], raw=None, extra={})


def test_naive_datetimes_are_taken_as_utc(encoder: str) -> None:
    naive = datetime(2024, 3, 25, 10, 0, 0, 250)
    package = pkglist.Package(
        provider="p", listing="l", id="1", name="n", created_at=naive, extra={"at": naive}
    )
    row = json.loads(lines("jsonl", [package]).splitlines()[0])
    assert row["created_at"] == row["extra"]["at"] == "2024-03-25T10:00:00.000250Z"
    assert pkglist.package_to_dict(package)["created_at"] == "2024-03-25T10:00:00.000250Z"


def test_json_streams_one_array_across_batches(encoder: str) -> None:
    out = io.StringIO()
    writer = make_writer("json", out)
    writer.write(PACKAGES[:1])
    writer.write([])
    writer.write(PACKAGES[1:])
    writer.close()
    assert [row["id"] for row in json.loads(out.getvalue())] == ["1", "2"]


def test_csv_quotes_and_encodes_nested_values() -> None:
    text_out = lines("csv", PACKAGES, fields=("id", "name", "extra.labels", "created_at"))
    assert text_out.splitlines()[0] == "id,name,extra.labels,created_at"
    assert '1,left-pad ✓,"[""a"",""b""]",2024-03-25T10:00:00Z' in text_out
    assert '"tab\tand\nnewline"' in text_out


def test_table_keeps_control_characters_out() -> None:
    table = lines("table", PACKAGES, fields=("id", "name"))
    assert table.splitlines()[2].split() == ["2", "tab", "and", "newline"]


WIDE = [
    pkglist.Package(provider="p", listing="l", id=str(number), name=name, version=version)
    for number, (name, version) in enumerate(
        [("パッケージ", "1.0"), ("left-pad", "2.0"), ("库", "3.0"), ("e\u0301clair", "4.0")]
    )
]


def _columns_start(line: str, value: str) -> int:
    """The display column ``value`` starts at in ``line``."""
    from pkglist._output import display_width

    return display_width(line[: line.index(value)])


def test_table_aligns_wide_characters_by_display_width() -> None:
    rows = lines("table", WIDE, fields=("name", "version")).splitlines()
    assert rows[0] == "NAME        VERSION"
    assert [_columns_start(row, version) for row, version in zip(rows[1:], ["1.0", "2.0", "3.0", "4.0"])] == [
        12
    ] * 4


def test_table_on_a_terminal_cuts_the_widest_columns_by_display_width() -> None:
    stream = io.StringIO()
    writer = make_writer("table", stream, fields=("version", "name", "id"), width=14)
    writer.write(WIDE)
    assert stream.getvalue().splitlines() == [
        "VER…  NAME  ID",  # the two wide columns give way alike; ID is left alone
        "1.0   パ …  0",  # a wide character that does not fit whole is not cut in half
        "2.0   lef…  1",
        "3.0   库    2",
        "4.0   e\u0301cl…  3",  # a combining accent takes no column
    ]
    stream = io.StringIO()
    writer = make_writer("table", stream, fields=("version", "name", "id"), width=20)
    writer.write(WIDE)
    assert stream.getvalue().splitlines()[:2] == ["VERSION  NAME     ID", "1.0      パッケ…  0"]


def test_table_off_a_terminal_cuts_nothing() -> None:
    long = pkglist.Package(provider="p", listing="l", id="9", name="n" * 200)
    stream = io.StringIO()
    writer = make_writer("table", stream, fields=("id", "name"))
    writer.write(WIDE[:1])
    writer.write([long])
    assert stream.getvalue().splitlines()[-1] == "9   " + "n" * 200


@pytest.mark.parametrize("fields", ["nope", "id,,", ""])
def test_unknown_fields_are_usage_errors(fields: str) -> None:
    from pkglist._output import parse_fields

    with pytest.raises(pkglist.UsageError):
        parse_fields(fields if fields != "id,," else "id,bogus")


def test_huge_numbers_and_odd_values_survive_both_encoders(encoder: str) -> None:
    package = pkglist.Package(
        provider="p",
        listing="l",
        id="1",
        name="\u2028 \x00 ☃",
        extra={"big": 10**30, "ratio": 0.1, "set": (1, 2)},
    )
    row = json.loads(lines("jsonl", [package]).split("\n")[0])
    assert row["name"] == "\u2028 \x00 ☃"
    assert row["extra"] == {"big": 10**30, "ratio": 0.1, "set": [1, 2]}


def test_decoding_keeps_integers_beyond_64_bits_exact() -> None:
    assert _json.loads(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    with pytest.raises(ValueError):
        _json.loads(b"<html>")
