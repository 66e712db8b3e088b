"""``pkglist.inventory``: every provider's emulator in one inventory, over real loopback HTTP.

The sources run together under one budget; records come out source by source in
file order, each source's in server order, as listing it alone gives them; a
failing source leaves the others whole; later sources wait in a temporary file
beyond the buffer.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import attrs
import pytest

import pkglist
from pkglist._inventory import BUFFER_PACKAGES, default_inventory_path
from pkglist.testing import EmulatorServer, Request, Response, serve
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from pkglist_harness import HarnessEmulator
from pkglist_metabind import MetabindEmulator

HARNESS_KEY = str(HarnessEmulator().credentials["api_key"])
CF_TOKEN = str(CloudFoundryEmulator().credentials["token"])
METABIND_KEY = str(MetabindEmulator().credentials["api_key"])
ENVIRON = {
    "HARNESS_KEY_PROD": HARNESS_KEY,
    "CF_TOKEN_DEV": CF_TOKEN,
    "METABIND_KEY": METABIND_KEY,
    "METABIND_OLD_KEY": "mb-revoked-key",
}


@attrs.define
class Servers:
    harness: EmulatorServer
    cloudfoundry: EmulatorServer
    metabind: EmulatorServer

    def all(self) -> tuple[EmulatorServer, ...]:
        return (self.harness, self.cloudfoundry, self.metabind)


@pytest.fixture
def servers() -> Iterator[Servers]:
    with ExitStack() as stack:
        yield Servers(
            stack.enter_context(serve(HarnessEmulator(packages=150))),
            stack.enter_context(serve(CloudFoundryEmulator(packages=90))),
            stack.enter_context(serve(MetabindEmulator(packages=70))),
        )


def estate(servers: Servers) -> dict[str, Any]:
    """Every provider, an emulated source, one source that needs a credential from the
    environment, one that fails, and conditions pushed down and checked locally."""
    return {
        "defaults": {"page_size": 20, "retry_backoff": 0.001},
        "sources": {
            "harness-prod": {
                "provider": "harness",
                "listing": "packages",
                "account": "acme",
                "base_url": servers.harness.url,
                "api_key_env": "HARNESS_KEY_PROD",
                "where": ["package_type in DOCKER,HELM,NPM"],  # pushed down as package_types
            },
            "cf-dev": {
                "provider": "cloudfoundry",
                "listing": "packages",
                "base_url": servers.cloudfoundry.url,
                "token_env": "CF_TOKEN_DEV",
                "where": ["state=READY"],  # pushed down as states
            },
            "metabind-old": {
                "provider": "metabind",
                "listing": "packages",
                "organization": "org123",
                "project": "proj123",
                "base_url": servers.metabind.url,
                "api_key_env": "METABIND_OLD_KEY",  # a revoked key: this source fails
            },
            "metabind": {
                "provider": "metabind",
                "listing": "packages",
                "organization": "org123",
                "project": "proj123",
                "base_url": servers.metabind.url,
                "api_key_env": "METABIND_KEY",
                "where": ["extra.tags=web"],  # Metabind filters nothing: checked locally
            },
            "harness-demo": {
                "provider": "harness",
                "listing": "registry-artifacts",
                "registry_ref": "acme/platform/payments/maven-releases",
                "emulate": True,
            },
        },
    }


def alone(provider: str, listing: str, **options: Any) -> list[pkglist.Package]:
    """What listing one source by itself gives."""
    return list(pkglist.iter_packages(provider, listing, retry_backoff=0.001, page_size=20, **options))


def test_every_provider_in_one_inventory(servers: Servers) -> None:
    run = pkglist.inventory(estate(servers), environ=ENVIRON)
    assert run.report is None
    records = list(run)
    report = run.report
    assert report is not None

    expected = {
        "harness-prod": alone(
            "harness",
            "packages",
            account="acme",
            base_url=servers.harness.url,
            api_key=HARNESS_KEY,
            where=["package_type in DOCKER,HELM,NPM"],
        ),
        "cf-dev": alone(
            "cloudfoundry",
            "packages",
            base_url=servers.cloudfoundry.url,
            token=CF_TOKEN,
            where=["state=READY"],
        ),
        "metabind-old": [],
        "metabind": [
            package
            for package in alone(
                "metabind",
                "packages",
                organization="org123",
                project="proj123",
                base_url=servers.metabind.url,
                api_key=METABIND_KEY,
            )
            if "web" in package.extra.get("tags", [])
        ],
        "harness-demo": alone(
            "harness",
            "registry-artifacts",
            registry_ref="acme/platform/payments/maven-releases",
            emulate=True,
        ),
    }
    assert all(expected[name] for name in expected if name != "metabind-old"), "each source has packages"
    # Sources in file order, each one's packages in server order, the failed one's absent.
    assert [(record.source, record.package.id) for record in records] == [
        (name, package.id) for name, packages in expected.items() for package in packages
    ]
    assert {package.package_type for package in expected["harness-prod"]} <= {"DOCKER", "HELM", "NPM"}
    assert {package.state for package in expected["cf-dev"]} == {"READY"}

    assert [source.name for source in report.sources] == list(expected)
    assert [source.packages for source in report.sources] == [len(packages) for packages in expected.values()]
    assert [source.ok for source in report.sources] == [True, True, False, True, True]
    failed = report.failed[0]
    assert failed.name == "metabind-old"
    assert "401" in (failed.error or "")
    assert "\n" not in (failed.error or "")
    assert "mb-revoked-key" not in (failed.error or "")
    assert all(source.pages >= 1 for source in report.sources if source.ok)
    assert not report.ok


def test_conditions_reach_the_servers_that_filter(servers: Servers) -> None:
    list(pkglist.inventory(estate(servers), environ=ENVIRON))
    harness_queries = [request.query for request in servers.harness.requests]
    assert harness_queries
    assert all(query.get("package_types") == ["DOCKER", "HELM", "NPM"] for query in harness_queries)
    cf_queries = [
        request.query for request in servers.cloudfoundry.requests if request.path == "/v3/packages"
    ]
    assert cf_queries
    assert all(query.get("states") == ["READY"] for query in cf_queries)


def test_a_where_for_the_whole_run_and_on_source(servers: Servers) -> None:
    run = pkglist.inventory(estate(servers), environ=ENVIRON, where=["source in cf-dev,harness-demo"])
    records = list(run)
    assert records
    assert {record.source for record in records} == {"cf-dev", "harness-demo"}
    assert run.report is not None
    assert [source.packages for source in run.report.sources][:1] == [0]


def test_the_async_api_gives_the_same_records(servers: Servers) -> None:
    sync_records = [
        (record.source, record.package) for record in pkglist.inventory(estate(servers), environ=ENVIRON)
    ]

    async def collect() -> tuple[list[tuple[str, pkglist.Package]], pkglist.InventoryReport | None]:
        run = pkglist.ainventory(estate(servers), environ=ENVIRON)
        got = [(record.source, record.package) async for record in run]
        return got, run.report

    async_records, report = asyncio.run(collect())
    assert async_records == sync_records
    assert report is not None
    assert [source.name for source in report.failed] == ["metabind-old"]


class _Counting:
    """An emulator that takes 10 ms per request and counts the requests being handled at
    once (by every emulator sharing its gauge)."""

    def __init__(self, inner: Any, gauge: _Gauge) -> None:
        self.inner = inner
        self.gauge = gauge
        self.credentials: Mapping[str, str] = inner.credentials

    def handle(self, request: Request) -> Response:
        with self.gauge:
            time.sleep(0.01)
            return self.inner.handle(request)


class _Gauge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


def test_one_budget_of_requests_in_flight_for_the_whole_run() -> None:
    # Metabind announces its last page, so no request goes past the end: a request cancelled
    # there would leave the budget while the server still handles it.
    gauge = _Gauge()
    with ExitStack() as stack:
        urls = [
            stack.enter_context(serve(_Counting(MetabindEmulator(packages=200), gauge))).url for _ in range(3)
        ]
        sources = {
            f"h{index}": {
                "provider": "metabind",
                "listing": "packages",
                "organization": "org123",
                "project": "proj123",
                "base_url": url,
                "api_key_env": "METABIND_KEY",
                "page_size": 5,
                "concurrency": 8,  # each listing alone may have 8 in flight
            }
            for index, url in enumerate(urls)
        }
        run = pkglist.inventory({"sources": sources}, environ=ENVIRON, concurrency=2)
        records = list(run)
    assert run.report is not None
    assert run.report.ok, run.report
    assert len(records) > 30
    assert 1 <= gauge.most <= 2


class _Gated:
    """An emulator that answers only once ``gate`` is set (or after a minute)."""

    def __init__(self, inner: Any, gate: threading.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.credentials: Mapping[str, str] = inner.credentials

    def handle(self, request: Request) -> Response:
        self.gate.wait(60)
        return self.inner.handle(request)


def test_later_sources_wait_in_a_temporary_file_beyond_the_buffer() -> None:
    """The first source answers only once the others are done: they must wait, and with a
    buffer of 25 packages nearly all of them wait on disk, memory staying at the buffer."""
    gate = threading.Event()
    finished: set[str] = set()

    def on_state(source: str, state: str) -> None:
        if state in ("done", "failed"):
            finished.add(source)
        if {"second", "third"} <= finished:
            gate.set()

    with ExitStack() as stack:
        first = stack.enter_context(serve(_Gated(MetabindEmulator(packages=60), gate)))
        other = stack.enter_context(serve(MetabindEmulator(packages=150)))
        source = {
            "provider": "metabind",
            "listing": "packages",
            "organization": "org123",
            "project": "proj123",
            "api_key_env": "METABIND_KEY",
            "page_size": 10,
        }
        sources = {
            "first": {**source, "base_url": first.url},
            "second": {**source, "base_url": other.url},
            "third": {**source, "base_url": other.url},
        }
        run = pkglist.inventory({"sources": sources}, environ=ENVIRON, buffer_packages=25, on_state=on_state)
        records = [(record.source, record.package.id) for record in run]
        direct = [
            package.id
            for package in alone(
                "metabind",
                "packages",
                organization="org123",
                project="proj123",
                base_url=other.url,
                api_key=METABIND_KEY,
            )
        ]
    report = run.report
    assert report is not None
    assert report.ok, report
    assert [source for source, _ in records] == ["first"] * 60 + ["second"] * 150 + ["third"] * 150
    assert [id_ for source, id_ in records if source == "second"] == direct
    assert [id_ for source, id_ in records if source == "third"] == direct
    assert report.peak_buffered <= 25 + 2 * 10  # the buffer, and the batches of the source being written
    assert report.spilled >= 300 - 25


def test_the_buffer_default_is_bounded() -> None:
    assert 0 < BUFFER_PACKAGES <= 100_000


def test_a_limit_counts_packages_after_filtering(servers: Servers) -> None:
    everything = alone(
        "metabind",
        "packages",
        organization="org123",
        project="proj123",
        base_url=servers.metabind.url,
        api_key=METABIND_KEY,
    )
    matching = [package for package in everything if re.search(r"\.1[0-9]$", package.version or "")]
    assert len(matching) > 6
    assert matching[0] is not everything[0]
    got = list(
        pkglist.iter_packages(
            "metabind",
            "packages",
            organization="org123",
            project="proj123",
            base_url=servers.metabind.url,
            api_key=METABIND_KEY,
            page_size=5,
            where=["version~\\.1[0-9]$"],
            limit=6,
        )
    )
    assert [package.id for package in got] == [package.id for package in matching[:6]]


def test_strict_and_emulate_apply_to_every_source() -> None:
    run = pkglist.inventory(
        {
            "sources": {
                "a": {
                    "provider": "harness",
                    "listing": "packages",
                    "account": "acme",
                    "base_url": "http://127.0.0.1:9",
                }
            }
        },
        environ=ENVIRON,
        strict=True,
        emulate=True,
    )
    records = list(run)
    assert records
    assert run.report is not None
    assert run.report.ok


def test_a_bad_python_option_is_a_usage_error() -> None:
    with pytest.raises(pkglist.UsageError, match="unknown option 'pagesize'"):
        pkglist.inventory({"sources": {}}, pagesize=3)
    with pytest.raises(pkglist.UsageError, match="concurrency"):
        pkglist.inventory({"sources": {}}, concurrency=0)


def test_the_default_file(tmp_path: Any) -> None:
    config = tmp_path / "config"
    (config / "pkglist").mkdir(parents=True)
    (config / "pkglist" / "inventory.toml").write_text("")
    work = tmp_path / "work"
    work.mkdir()
    environ = {"XDG_CONFIG_HOME": str(config)}
    assert default_inventory_path(environ, work) == config / "pkglist" / "inventory.toml"
    (work / "pkglist.toml").write_text("")
    assert default_inventory_path(environ, work) == work / "pkglist.toml"
    with pytest.raises(pkglist.UsageError, match="no inventory file"):
        default_inventory_path({"XDG_CONFIG_HOME": str(tmp_path / "none")}, tmp_path)


def test_strict_fails_a_source_that_warned_and_keeps_its_records() -> None:
    from .toy import TOY_KEY, ToyEmulator, manager

    growing = ToyEmulator(packages=20)
    growing.grow_total = True  # the total moves while it is listed: a ListingChangedWarning
    steady = ToyEmulator(packages=12)
    with serve(growing) as first, serve(steady) as second:
        source = {"provider": "toy", "listing": "numbered", "team": "core", "api_key_env": "TOY_KEY"}
        sources = {
            "growing": {**source, "base_url": first.url, "page_size": 5, "concurrency": 1},
            "steady": {**source, "base_url": second.url},
        }
        for strict, failed in ((False, []), (True, ["growing"])):
            run = pkglist.inventory(
                {"sources": sources}, environ={"TOY_KEY": TOY_KEY}, manager=manager(), strict=strict
            )
            with pytest.warns(pkglist.ListingChangedWarning):
                records = list(run)
            assert run.report is not None
            assert [source.name for source in run.report.failed] == failed
            assert [record.package.id for record in records] == [
                item["id"] for item in (*growing.items, *steady.items)
            ]
    assert "--strict" in (run.report.sources[0].error or "")


def test_leaving_early_cancels_the_sources_and_says_so(servers: Servers) -> None:
    run = pkglist.inventory(estate(servers), environ=ENVIRON)
    first = next(iter(run))
    run.close()
    assert first.source == "harness-prod"
    assert run.report is not None
    assert not run.report.ok
    assert run.report.sources[0].error == "cancelled before the end"
