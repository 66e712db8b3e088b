"""Answers the Go server really gives, over loopback and through the CLI: a v1 ``200`` whose
``status`` says it failed, and Go's zero time where a timestamp is unset."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_harness import HarnessEmulator
from tests.reliability.cli import HARNESS_KEY, run

from .helpers import SPACE, listing, served

V1_LISTINGS = {
    "registry-artifacts": {"registry_ref": f"{SPACE}/docker-local"},
    "space-artifacts": {"space_ref": SPACE},
}


# status FAILURE / ERROR ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["FAILURE", "ERROR"])
@pytest.mark.parametrize("name", list(V1_LISTINGS))
def test_a_failed_status_is_a_protocol_error_with_the_servers_message(name: str, status: str) -> None:
    with served(packages=3) as (server, emulator):
        emulator.v1_failure = (status, "could not list the artifacts: context deadline exceeded")
        with pytest.raises(pkglist.ProtocolError) as caught:
            listing(server, name, **V1_LISTINGS[name])
    assert str(caught.value) == (
        f"harness {name}: page 1: the server answered status {status}: "
        "could not list the artifacts: context deadline exceeded"
    )
    assert caught.value.status == 200


def test_a_failed_status_without_a_message_says_so() -> None:
    with served(packages=3) as (server, emulator):
        emulator.v1_failure = ("FAILURE", "")
        with pytest.raises(
            pkglist.ProtocolError, match=r"the server answered status FAILURE without a message$"
        ):
            listing(server, "space-artifacts", space_ref=SPACE)


def test_success_and_a_missing_status_still_list() -> None:
    class NoStatus:
        def __init__(self, emulator: HarnessEmulator) -> None:
            self.emulator = emulator
            self.credentials: Mapping[str, str] = emulator.credentials

        def handle(self, request: Request) -> Response:
            response = self.emulator.handle(request)
            body = json.loads(response.body)
            body.pop("status", None)
            return Response.json(body, response.status)

    emulator = HarnessEmulator(packages=4)
    with serve(NoStatus(emulator)) as server:
        assert len(listing(server, "registry-artifacts", **V1_LISTINGS["registry-artifacts"])) == 4
    with served(packages=4) as (server, _):
        assert len(listing(server, "registry-artifacts", **V1_LISTINGS["registry-artifacts"])) == 4


def test_the_cli_reports_a_failed_status_in_one_line(tmp_path: Path) -> None:
    emulator = HarnessEmulator(packages=3, api_key=HARNESS_KEY)
    emulator.v1_failure = ("ERROR", "registry is being migrated")
    with serve(emulator) as server:
        result = run(
            "harness", "registry-artifacts", "--base-url", server.url, "--api-key", HARNESS_KEY,
            "--registry-ref", f"{SPACE}/docker-local", home=tmp_path,
        )  # fmt: skip
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines() == [
        "pkglist: error: harness registry-artifacts: page 1: the server answered status ERROR: "
        "registry is being migrated"
    ]


# Go's zero time -------------------------------------------------------------------------------

GO_ZERO_MS = "-62135596800000"  # time.Time{}.UnixMilli()


class GoZeroTimes:
    """The emulator's items with every timestamp field set to ``value``."""

    def __init__(self, emulator: HarnessEmulator, value: Any, fields: tuple[str, ...]) -> None:
        self.emulator = emulator
        self.value = value
        self.fields = fields
        self.credentials: Mapping[str, str] = emulator.credentials

    def handle(self, request: Request) -> Response:
        response = self.emulator.handle(request)
        if response.status != 200:
            return response
        body = json.loads(response.body)
        items = body["items"] if "items" in body else body["data"]["artifacts"]
        for item in items:
            for field in self.fields:
                item[field] = self.value
        return Response.json(body)


ZERO_CASES = [
    ("packages", {"account": "acme"}, ("modifiedAt", "deletedAt"), GO_ZERO_MS),
    ("packages", {"account": "acme"}, ("modifiedAt", "deletedAt"), int(GO_ZERO_MS)),
    ("packages", {"account": "acme"}, ("modifiedAt", "deletedAt"), 0),
    ("registry-artifacts", V1_LISTINGS["registry-artifacts"], ("lastModified", "deletedAt"), GO_ZERO_MS),
    ("registry-artifacts", V1_LISTINGS["registry-artifacts"], ("lastModified", "deletedAt"), "0"),
    (
        "space-artifacts",
        V1_LISTINGS["space-artifacts"],
        ("lastModified", "deletedAt", "lastScannedAt"),
        GO_ZERO_MS,
    ),
    (
        "space-artifacts",
        V1_LISTINGS["space-artifacts"],
        ("lastModified", "deletedAt", "lastScannedAt"),
        "0001-01-01T00:00:00Z",
    ),
]


@pytest.mark.parametrize(("name", "options", "fields", "value"), ZERO_CASES)
def test_go_zero_time_means_unset(
    name: str, options: dict[str, Any], fields: tuple[str, ...], value: Any
) -> None:
    emulator = HarnessEmulator(packages=6)
    with serve(GoZeroTimes(emulator, value, fields)) as server:
        packages = listing(server, name, limit=20, **options)
    assert packages
    for package in packages:
        assert package.updated_at is None
        assert package.extra["deleted_at"] is None
        assert package.state != "deleted"  # a zero deletedAt is not a deletion
        if "lastScannedAt" in fields:
            assert package.extra["last_scanned_at"] is None


def test_a_real_timestamp_next_to_go_zero_is_kept() -> None:
    emulator = HarnessEmulator(packages=3)
    with serve(GoZeroTimes(emulator, GO_ZERO_MS, ("deletedAt",))) as server:
        packages = listing(server, "registry-artifacts", **V1_LISTINGS["registry-artifacts"])
    assert all(package.updated_at is not None and package.updated_at.year >= 2020 for package in packages)
    assert {package.state for package in packages} <= {"active", "quarantined"}


def test_the_cli_prints_go_zero_time_as_null(tmp_path: Path) -> None:
    emulator = HarnessEmulator(packages=2, api_key=HARNESS_KEY)
    with serve(GoZeroTimes(emulator, GO_ZERO_MS, ("lastModified", "deletedAt"))) as server:
        result = run(
            "harness", "registry-artifacts", "--base-url", server.url, "--api-key", HARNESS_KEY,
            "--registry-ref", f"{SPACE}/docker-local", "-o", "jsonl", home=tmp_path,
        )  # fmt: skip
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    assert len(records) == 2
    assert all(record["updated_at"] is None for record in records)
    assert "0001-01-01" not in result.out
