"""The Shelf provider's own tests: normalizing, a flaky server, and the installed ``pkglist`` command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pkglist
import pytest
from pkglist.testing import Faults, serve

from pkglist_shelf import PackagesQuery, ShelfEmulator, ShelfProvider

ITEM = {
    "id": 1042,
    "name": "cobalt-cli",
    "version": "2.4.1",
    "kind": "wheel",
    "published_at": 1736942400123,
    "labels": ["stable"],
    "yanked": False,
}


def normalize(raw: Any) -> pkglist.Package:
    provider = ShelfProvider()
    return provider.normalize(provider.listing("packages"), PackagesQuery(shelf="tools"), raw)


def test_an_item_is_normalized() -> None:
    assert normalize(ITEM) == pkglist.Package(
        provider="shelf",
        listing="packages",
        id="1042",
        name="cobalt-cli",
        version="2.4.1",
        package_type="wheel",
        state="published",
        scope="tools",
        created_at=datetime(2025, 1, 15, 12, 0, 0, 123000, tzinfo=UTC),
        updated_at=datetime(2025, 1, 15, 12, 0, 0, 123000, tzinfo=UTC),
        extra={"labels": ["stable"]},
    )
    assert normalize({**ITEM, "yanked": True}).state == "yanked"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": None}, "field 'name' is missing"),
        ({"labels": "stable"}, "field 'labels' must be a list"),
        ({"labels": [7]}, "field 'labels' must be a list of strings"),
        ({"published_at": "soon"}, "field 'published_at': not a timestamp"),
    ],
)
def test_a_bad_item_names_the_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(pkglist.InvalidItemError, match=message):
        normalize({**ITEM, **change})


def test_a_slow_flaky_server_still_gives_every_package_once() -> None:
    emulator = ShelfEmulator(packages=30)
    faults = Faults(statuses={503: 0.3}, seed=7)
    with serve(emulator, latency=0.005, faults=faults) as server:
        packages = pkglist.iter_packages(
            "shelf", "packages", shelf="tools", token="shelf-demo-token", base_url=server.url, page_size=4
        )
        ids = [package.id for package in packages]
    assert ids == [str(item["id"]) for item in emulator.items]
    assert server.injected["503"] > 0
    assert all(request.headers["x-shelf-token"] == "shelf-demo-token" for request in server.requests)


def run_pkglist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``pkglist`` script installed beside this Python (or else the one on PATH)."""
    beside = Path(sys.executable).with_name("pkglist")
    command = str(beside) if beside.exists() else shutil.which("pkglist") or "pkglist"
    return subprocess.run(
        [command, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_the_command_lists_the_emulator() -> None:
    done = run_pkglist("shelf", "packages", "--shelf", "tools", "--emulate", "-o", "jsonl", "--limit", "5")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    demo = ShelfEmulator()  # what --emulate serves
    assert [row["id"] for row in rows] == [str(item["id"]) for item in demo.items[:5]]
    assert [row["name"] for row in rows] == [item["name"] for item in demo.items[:5]]
    assert {row["scope"] for row in rows} == {"tools"}


def test_the_command_reads_url_and_token_from_the_environment() -> None:
    emulator = ShelfEmulator(packages=9)
    with serve(emulator) as server:
        done = run_pkglist(
            *("shelf", "packages", "--shelf", "tools", "--kind", "wheel"),
            *("-o", "csv", "--fields", "id,package_type", "--page-size", "2"),
            env={"SHELF_URL": server.url, "SHELF_TOKEN": "shelf-demo-token"},
        )
    assert done.returncode == 0, done.stderr
    wheels = [f"{item['id']},wheel" for item in emulator.items if item["kind"] == "wheel"]
    assert done.stdout.splitlines() == ["id,package_type", *wheels]


def test_the_command_explains_a_missing_token() -> None:
    done = run_pkglist(
        "shelf", "packages", "--shelf", "tools", env={"SHELF_URL": "http://127.0.0.1:9", "SHELF_TOKEN": ""}
    )
    assert done.returncode == 2
    assert "missing credential; pass --token or set SHELF_TOKEN" in done.stderr
