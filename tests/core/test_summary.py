"""``--summary``: counts per group, streamed batch by batch, in every output format."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import pkglist
from pkglist._summary import DEFAULT_GROUP_BY, Summary, parse_group_by, write_summary


def package(number: int, **fields: object) -> pkglist.Package:
    values: dict[str, object] = {
        "provider": "harness",
        "listing": "packages",
        "id": str(number),
        "name": f"p{number}",
        "scope": "acme/docker-prod",
        "package_type": "DOCKER",
        "state": "active",
    }
    values.update(fields)
    return pkglist.Package(**values)  # type: ignore[arg-type]


BATCH = [
    package(1),
    package(2),
    package(3, state="deleted"),
    package(4, package_type="HELM", scope="acme/helm"),
    package(5, provider="metabind", listing="packages", scope="org/proj", package_type=None, state=None),
]


def test_default_groups_leave_source_out_of_a_listing() -> None:
    summary = Summary()
    summary.add(BATCH[:2])
    summary.add(BATCH[2:])
    assert summary.columns == ("provider", "scope", "package_type", "state")
    assert summary.total == 5
    assert summary.rows() == [
        {
            "provider": "harness",
            "scope": "acme/docker-prod",
            "package_type": "DOCKER",
            "state": "active",
            "count": 2,
        },
        {
            "provider": "harness",
            "scope": "acme/docker-prod",
            "package_type": "DOCKER",
            "state": "deleted",
            "count": 1,
        },
        {"provider": "harness", "scope": "acme/helm", "package_type": "HELM", "state": "active", "count": 1},
        {"provider": "metabind", "scope": "org/proj", "package_type": None, "state": None, "count": 1},
    ]


def test_an_inventory_groups_by_source_too() -> None:
    summary = Summary()
    summary.add(BATCH[:3], source="prod")
    summary.add(BATCH[:1], source="dev")
    assert summary.columns == DEFAULT_GROUP_BY
    assert [(row["source"], row["state"], row["count"]) for row in summary.rows()] == [
        ("dev", "active", 1),
        ("prod", "active", 2),
        ("prod", "deleted", 1),
    ]


def test_group_by_any_field_or_extra_key() -> None:
    summary = Summary(parse_group_by("extra.labels, extra.size"))
    summary.add(
        [
            package(1, extra={"labels": ["a", "b"], "size": 10}),
            package(2, extra={"labels": ["a", "b"], "size": 9}),
            package(3, extra={"labels": ["a", "b"], "size": 10}),
            package(4, extra={}),
        ]
    )
    assert summary.rows() == [
        {"extra.labels": '["a","b"]', "extra.size": 9, "count": 1},
        {"extra.labels": '["a","b"]', "extra.size": 10, "count": 2},  # numbers in numeric order
        {"extra.labels": None, "extra.size": None, "count": 1},  # missing values last
    ]
    by_source = Summary(parse_group_by("source"))
    by_source.add(BATCH)
    assert by_source.rows() == [{"source": None, "count": 5}]  # asked for, so kept


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("stat", "--group-by: unknown field 'stat'; did you mean 'state'?"),
        (" , ", "--group-by: give at least one field"),
        ("provider,raw", "--group-by: unknown field 'raw'"),
    ],
)
def test_bad_group_by(text: str, problem: str) -> None:
    with pytest.raises(pkglist.UsageError) as caught:
        parse_group_by(text)
    assert str(caught.value).startswith(problem)


def written(summary: Summary, fmt: str, width: int | None = None) -> str:
    out = io.StringIO()
    summary.write(fmt, out, terminal_width=width)
    return out.getvalue()


def test_records_in_every_format() -> None:
    summary = Summary(("provider", "state", "updated_at"))
    summary.add([package(1, updated_at=datetime(2024, 1, 1, tzinfo=UTC)), package(2, state=None)])
    rows = [
        {"provider": "harness", "state": "active", "updated_at": "2024-01-01T00:00:00Z", "count": 1},
        {"provider": "harness", "state": None, "updated_at": None, "count": 1},
    ]
    assert json.loads(written(summary, "json")) == rows
    assert [json.loads(line) for line in written(summary, "jsonl").splitlines()] == rows
    assert list(csv.reader(io.StringIO(written(summary, "csv")))) == [
        ["provider", "state", "updated_at", "count"],
        ["harness", "active", "2024-01-01T00:00:00Z", "1"],
        ["harness", "", "", "1"],
    ]
    empty = Summary(("provider",))
    assert json.loads(written(empty, "json")) == []
    assert written(empty, "jsonl") == ""
    assert written(empty, "csv") == "provider,count\n"
    with pytest.raises(pkglist.UsageError, match="unknown output format 'xml'"):
        written(summary, "xml")


def test_a_table_without_a_terminal_has_no_bars() -> None:
    summary = Summary(("scope", "state"))
    summary.add(BATCH)
    assert written(summary, "table").splitlines() == [
        "SCOPE             STATE    COUNT",
        "acme/docker-prod  active       2",
        "acme/docker-prod  deleted      1",
        "acme/helm         active       1",
        "org/proj          -            1",
        "TOTAL                          5",
    ]


@pytest.mark.parametrize("width", [40, 60, 120])
def test_a_table_on_a_terminal_draws_bars_scaled_to_the_largest_count(width: int) -> None:
    summary = Summary(("state",))
    summary.add([package(number) for number in range(80)])
    summary.add([package(number, state="deleted") for number in range(20)])
    summary.add([package(0, state="quarantined")])
    lines = written(summary, "table", width).splitlines()
    assert all(len(line) <= width for line in lines)
    bars = {line.split()[0]: line.split()[-1] for line in lines[1:-1]}
    longest = width - len("quarantined  COUNT  ")
    assert bars["active"] == "█" * longest
    eighths = {
        state: sum(8 if cell == "█" else " ▏▎▍▌▋▊▉".index(cell) for cell in bar)
        for state, bar in bars.items()
    }
    assert abs(eighths["deleted"] - longest * 8 / 4) <= 1
    assert eighths["quarantined"] == max(1, round(longest * 8 / 80))  # one package still shows
    assert lines[-1].split() == ["TOTAL", "101"]


def test_a_terminal_too_narrow_for_a_bar_gets_the_plain_table() -> None:
    summary = Summary(("state",))
    summary.add(BATCH)
    assert written(summary, "table", 12) == written(summary, "table")


def test_write_summary_takes_rows_as_they_come() -> None:
    out = io.StringIO()
    write_summary([{"state": "a", "count": 2}], "csv", out)
    assert out.getvalue() == "state,count\na,2\n"


def _stream(count: int) -> Iterator[list[pkglist.Package]]:
    for start in range(0, count, 256):
        yield [
            package(number, state=("active", "deleted")[number % 2]) for number in range(start, start + 256)
        ]


def test_memory_grows_with_groups_not_packages() -> None:
    summary = Summary()
    tracemalloc.start()
    try:
        for batch in _stream(50_000):
            summary.add(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.total == 50_176
    assert len(summary.rows()) == 2
    assert peak < 1_000_000  # a few batches of packages, while 50,000 packages hold about 20 MB
