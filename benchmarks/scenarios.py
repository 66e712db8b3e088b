"""The six scenarios of the performance issue, each against its baseline."""

from __future__ import annotations

import functools
import math
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs

from pkglist.testing import serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator
from pkglist_harness._data import DEMO_ACCOUNT, DEMO_API_KEY
from pkglist_harness._emulator import HarnessEmulator

from ._measure import Runs, client, command, pkglist_command

CONCURRENCY = 8  # the old fixed default: the yardstick of the ideal times, and the speculative window's cap
APP_PACKAGES = f"/v3/apps/{DEMO_APP_GUID}/packages"


@attrs.frozen
class Settings:
    runs: int
    smoke: bool

    def size(self, real: int, smoke: int) -> int:
        return smoke if self.smoke else real


@attrs.frozen
class Check:
    """A measured ``value`` against its target: ``relation`` (``>=``, ``<=`` or ``=``) ``bound``."""

    what: str
    value: float
    relation: str = attrs.field(validator=attrs.validators.in_((">=", "<=", "=")))
    bound: float

    @property
    def target(self) -> str:
        return f"{self.relation} {self.bound:g}"

    @property
    def met(self) -> bool:
        if self.relation == ">=":
            return self.value >= self.bound
        if self.relation == "<=":
            return self.value <= self.bound
        return self.value == self.bound


@attrs.frozen
class Outcome:
    lines: tuple[str, ...]
    checks: tuple[Check, ...]


@attrs.frozen
class Scenario:
    number: int
    title: str
    run: Callable[[Settings], Outcome]


def _repeat(settings: Settings, measure: Callable[[], float]) -> Runs:
    return Runs(tuple(measure() for _ in range(settings.runs)))


def _side_by_side(
    settings: Settings, baseline: Callable[[], float], ours: Callable[[], float]
) -> tuple[Runs, Runs]:
    """Baseline and pkglist measured in turn, so that a noisy spell on a shared machine
    weighs on both alike rather than on whichever happened to run during it."""
    pairs = [(baseline(), ours()) for _ in range(settings.runs)]
    return Runs(tuple(base for base, _ in pairs)), Runs(tuple(own for _, own in pairs))


def _checked_client(name: str, expected: int, **arguments: object) -> dict[str, Any]:
    result = client(name, **arguments)
    if result["items"] != expected:
        raise RuntimeError(f"{name} listed {result['items']} items, expected {expected}")
    return result


def _timed_client(name: str, expected: int, **arguments: object) -> float:
    return float(_checked_client(name, expected, **arguments)["seconds"])


def bare_cf_pages(url: str, *, expected: int, per_page: int, pages: int, concurrency: int) -> dict[str, Any]:
    """A bare ``httpx.AsyncClient`` fetching Cloud Foundry's pages by number, ``concurrency`` in
    flight, no pacing: the floor of the latency-bound scenarios and the naive client of the
    rate limit."""
    return _checked_client(
        "cf-naive-concurrent",
        expected,
        url=url,
        token=ACCESS_TOKEN,
        path=APP_PACKAGES,
        per_page=per_page,
        pages=pages,
        concurrency=concurrency,
    )


# 1 ------------------------------------------------------------------------------------


def latency_known_total(settings: Settings) -> Outcome:
    count = settings.size(20_000, 1_000)
    per_page, latency = 100, 0.05
    emulator = CloudFoundryEmulator(packages=count, other_apps=False)
    with serve(emulator, latency=latency) as server:
        options = {"app": DEMO_APP_GUID, "page_size": per_page, "base_url": server.url, "token": ACCESS_TOKEN}
        baseline, ours = _side_by_side(
            settings,
            lambda: _timed_client(
                "cf-follow-next",
                count,
                url=server.url,
                token=ACCESS_TOKEN,
                path=APP_PACKAGES,
                per_page=per_page,
            ),
            lambda: _timed_client(
                "pkglist-api", count, provider="cloudfoundry", listing="app-packages", options=options
            ),
        )
        pages = math.ceil(count / per_page)
        floor = _repeat(
            settings,
            lambda: float(
                bare_cf_pages(
                    server.url, expected=count, per_page=per_page, pages=pages, concurrency=CONCURRENCY
                )["seconds"]
            ),
        )
    ideal = latency * (1 + math.ceil((pages - 1) / CONCURRENCY))
    return Outcome(
        lines=(
            f"{count} packages, per_page {per_page} ({pages} pages), {latency * 1000:.0f} ms per response",
            f"baseline (follow next.href, one page at a time)  {baseline.show()}",
            f"pkglist (defaults: adaptive concurrency)         {ours.show()}",
            f"ideal L x (1 + ceil((P-1)/C)), C = 8             {ideal:.2f} s",
            f"floor: bare httpx, pages by number, C = 8        {floor.show()}"
            f" = {floor.median / ideal:.2f}x ideal (json only: no Package, no checks)",
        ),
        checks=(
            Check("speed-up over the baseline (x)", baseline.median / ours.median, ">=", 6),
            Check("pkglist time / ideal time", ours.median / ideal, "<=", 1.3),
        ),
    )


# 2 ------------------------------------------------------------------------------------


def latency_unknown_total(settings: Settings) -> Outcome:
    count = settings.size(10_000, 500)
    size, latency = 100, 0.05
    emulator = HarnessEmulator(packages=count)
    with serve(emulator, latency=latency) as server:
        expected = client(
            "harness-pages", url=server.url, api_key=DEMO_API_KEY, account=DEMO_ACCOUNT, size=size
        )["items"]
        options = {
            "account": DEMO_ACCOUNT,
            "page_size": size,
            "base_url": server.url,
            "api_key": DEMO_API_KEY,
        }
        beyond: list[int] = []

        def measure() -> float:
            before = _package_requests(server)
            seconds = _timed_client(
                "pkglist-api", expected, provider="harness", listing="packages", options=options
            )
            needed = expected // size + (0 if expected % size == 0 else 1)
            beyond.append(_package_requests(server) - before - needed)
            return seconds

        baseline, ours = _side_by_side(
            settings,
            lambda: _timed_client(
                "harness-pages",
                expected,
                url=server.url,
                api_key=DEMO_API_KEY,
                account=DEMO_ACCOUNT,
                size=size,
            ),
            measure,
        )
    return Outcome(
        lines=(
            f"{expected} packages (hasMore only), size {size}, {latency * 1000:.0f} ms per response",
            f"baseline (page after page until hasMore is false)  {baseline.show()}",
            f"pkglist (speculative window of {CONCURRENCY} pages)            {ours.show()}",
            f"requests past the end, per run: {beyond}",
        ),
        checks=(
            Check("speed-up over the baseline (x)", baseline.median / ours.median, ">=", 4),
            Check(f"most requests past the end (window {CONCURRENCY})", max(beyond), "<=", CONCURRENCY),
        ),
    )


def _package_requests(server: object) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/v3/packages"))  # type: ignore[attr-defined]


# 3 ------------------------------------------------------------------------------------


def cpu_bound(settings: Settings) -> Outcome:
    count = settings.size(200_000, 5_000)
    lines = [f"{count} packages, no added latency, the largest page each API allows, -o jsonl to /dev/null"]
    checks = []
    for provider, title, emulator, baseline, cli in (
        (
            "Cloud Foundry",
            "Cloud Foundry, per_page 5000",
            CloudFoundryEmulator(packages=count, other_apps=False),
            lambda url: ("cf-follow-next-async", {"url": url, "token": ACCESS_TOKEN, "path": APP_PACKAGES, "per_page": 5000}),
            lambda url: ["cloudfoundry", "app-packages", "--app", DEMO_APP_GUID, "--page-size", "5000",
                         "--base-url", url, "--token", ACCESS_TOKEN],
        ),
        (
            "Harness",
            "Harness v3, size 100",
            HarnessEmulator(packages=count),
            lambda url: ("harness-pages-async", {"url": url, "api_key": DEMO_API_KEY, "account": DEMO_ACCOUNT, "size": 100}),
            lambda url: ["harness", "packages", "--account", DEMO_ACCOUNT, "--page-size", "100",
                         "--base-url", url, "--api-key", DEMO_API_KEY],
        ),
    ):  # fmt: skip
        with serve(emulator) as server:
            name, arguments = baseline(server.url)
            total = client(name, **arguments)["items"]
            listing = [pkglist_command(), *cli(server.url), "-o", "jsonl"]
            base, ours = _side_by_side(
                settings,
                functools.partial(_seconds, _client_command(name, **arguments)),
                functools.partial(_seconds, listing),
            )
        lines += _rates(title, total, base, ours)
        checks.append(
            Check(f"{provider}: pkglist items/s / baseline items/s", base.median / ours.median, ">=", 0.8)
        )
    return Outcome(lines=tuple(lines), checks=tuple(checks))


def _seconds(args: list[str]) -> float:
    return command(args).seconds


def _client_command(name: str, **arguments: object) -> list[str]:
    import json

    return [sys.executable, "-m", "benchmarks.clients", name, json.dumps(arguments)]


def _rates(what: str, count: int, base: Runs, ours: Runs) -> list[str]:
    return [
        f"{what}: baseline (httpx.AsyncClient + json.loads) {base.show()}  = {count / base.median:,.0f} items/s",
        f"{what}: pkglist CLI (whole process)                {ours.show()}  = {count / ours.median:,.0f} items/s",
    ]


# 4 ------------------------------------------------------------------------------------


def memory(settings: Settings) -> Outcome:
    small, large = settings.size(10_000, 1_000), settings.size(1_000_000, 20_000)
    peaks: dict[int, Runs] = {}
    seconds: dict[int, float] = {}
    for count in (small, large):
        emulator = CloudFoundryEmulator(packages=count, other_apps=False)
        with serve(emulator) as server:
            cli = [
                pkglist_command(),
                "cloudfoundry",
                "app-packages",
                "--app",
                DEMO_APP_GUID,
                "-o",
                "jsonl",
                "--base-url",
                server.url,
                "--token",
                ACCESS_TOKEN,
            ]
            results = [command(cli) for _ in range(settings.runs)]
        peaks[count] = Runs(tuple(result.max_rss_kib / 1024 for result in results))
        seconds[count] = min(result.seconds for result in results)
    ratio = peaks[large].median / peaks[small].median
    return Outcome(
        lines=(
            "pkglist CLI, Cloud Foundry app-packages, default page size, -o jsonl to /dev/null",
            f"{small:>9,} packages: peak RSS {peaks[small].show('MiB', 1)}  ({seconds[small]:.1f} s)",
            f"{large:>9,} packages: peak RSS {peaks[large].show('MiB', 1)}  ({seconds[large]:.1f} s)",
        ),
        checks=(Check(f"peak RSS {large:,} / peak RSS {small:,}", ratio, "<=", 1.25),),
    )


# 5 ------------------------------------------------------------------------------------

#: The floor for a Python tool on httpx: import asyncio and httpx, send the one request.
BARE_HTTPX = """
import asyncio, sys
import httpx

async def main():
    async with httpx.AsyncClient(headers={"Authorization": "bearer " + sys.argv[2]}) as client:
        (await client.get(sys.argv[1])).raise_for_status()

asyncio.run(main())
"""

#: The floor for a click CLI that finds its plugins: scan the entry points, print a help page.
MINIMAL_CLICK = """
import importlib.metadata
import click

@click.group()
def cli():
    \"\"\"A minimal click application.\"\"\"

for entry_point in importlib.metadata.entry_points(group="pkglist"):
    cli.add_command(click.Command(entry_point.name, help=f"The {entry_point.name} provider."))

cli(["--help"])
"""


class _FirstArrival:
    """An emulator that notes when each request reaches it (``time.perf_counter``)."""

    def __init__(self, emulator: object) -> None:
        self._emulator = emulator
        self.arrivals: list[float] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._emulator, name)

    def handle(self, request: object) -> object:
        self.arrivals.append(time.perf_counter())
        return self._emulator.handle(request)  # type: ignore[attr-defined]


def _first_request(args: list[str], server: object, stamped: _FirstArrival) -> tuple[float, float]:
    """Seconds from starting ``args`` to its first request reaching ``server``, and to its end."""
    stamped.arrivals.clear()
    started = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    ended = time.perf_counter()
    return stamped.arrivals[0] - started, ended - started


def start_up(settings: Settings) -> Outcome:
    exe = pkglist_command()
    repeats = 3 if settings.smoke else max(10, 5 * settings.runs)
    stamped = _FirstArrival(CloudFoundryEmulator(packages=50))
    with serve(stamped) as server:  # type: ignore[arg-type]
        listing = [exe, "cloudfoundry", "app-packages", "--app", DEMO_APP_GUID]
        listing += ["--base-url", server.url, "--token", ACCESS_TOKEN, "-o", "jsonl"]
        url = f"{server.url}{APP_PACKAGES}?page=1&per_page=1000"
        bare = [sys.executable, "-c", BARE_HTTPX, url, ACCESS_TOKEN]
        pairs = [
            (_first_request(bare, server, stamped), _first_request(listing, server, stamped))
            for _ in range(repeats)
        ]
        imports = _top_imports([sys.executable, "-X", "importtime", "-m", "pkglist", *listing[1:]])
    floor, ours = Runs(tuple(b[0] for b, _ in pairs)), Runs(tuple(o[0] for _, o in pairs))
    floor_end, ours_end = Runs(tuple(b[1] for b, _ in pairs)), Runs(tuple(o[1] for _, o in pairs))

    commands = {
        "pkglist --help": [exe, "--help"],
        "pkglist providers": [exe, "providers"],
        "pkglist cloudfoundry app-packages --help": [exe, "cloudfoundry", "app-packages", "--help"],
    }
    baseline_args = [sys.executable, "-c", MINIMAL_CLICK]
    times: dict[str, list[float]] = {name: [] for name in ["minimal click app", *commands]}
    for _ in range(repeats):  # in turn, so that a noisy spell weighs on all alike
        times["minimal click app"].append(_wall(baseline_args, {}))
        for name, args in commands.items():
            times[name].append(_wall(args, {}))
    runs = {name: Runs(tuple(values)) for name, values in times.items()}
    base = runs["minimal click app"].median
    return Outcome(
        lines=(
            f"{repeats} runs of each, in turn; min / median / max",
            f"{'first request, bare asyncio + httpx script':<46} {_ms(floor)}  (process end {_ms(floor_end)})",
            f"{'first request, pkglist cloudfoundry app-packages':<46} {_ms(ours)}  (process end {_ms(ours_end)})",
            *(f"{name:<46} {_ms(run)}" for name, run in runs.items()),
            "where the listing's start-up goes (python -X importtime, cumulative):",
            *(f"  {name:<44} {ms:6.1f} ms" for name, ms in imports),
        ),
        checks=(
            Check("first request: pkglist / bare httpx script", ours.median / floor.median, "<=", 1.25),
            *(Check(f"{name} / minimal click app", runs[name].median / base, "<=", 1.5) for name in commands),
        ),
    )


def _top_imports(args: list[str], count: int = 10) -> list[tuple[str, float]]:
    """The top-level imports of a run by their cumulative import time, largest first."""
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    found = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit() and not name.startswith("  "):  # not nested in another
            found.append((name.strip(), int(cumulative) / 1000))
    return sorted(found, key=lambda item: -item[1])[:count]


def _ms(run: Runs) -> str:
    return f"{run.low * 1000:.1f} / {run.median * 1000:.1f} / {run.high * 1000:.1f} ms"


def _wall(args: list[str], env: dict[str, str]) -> float:
    import os

    started = time.perf_counter()
    subprocess.run(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env}, check=True
    )
    return time.perf_counter() - started


# 6 ------------------------------------------------------------------------------------


def rate_limit(settings: Settings) -> Outcome:
    limit, window = 20, 1.0
    count, per_page = settings.size(6_000, 1_200), 100
    pages = math.ceil(count / per_page)
    emulator = CloudFoundryEmulator(packages=count, other_apps=False, rate_limit=limit, rate_window=window)
    throttled: list[int] = []
    naive: list[int] = []
    with serve(emulator) as server:
        options = {"app": DEMO_APP_GUID, "page_size": per_page, "base_url": server.url, "token": ACCESS_TOKEN}

        def measure() -> float:
            time.sleep(window + 0.1)  # start with a fresh window
            before = emulator.rate_limited
            seconds = _timed_client(
                "pkglist-api", count, provider="cloudfoundry", listing="app-packages", options=options
            )
            throttled.append(emulator.rate_limited - before)
            return seconds

        ours = _repeat(settings, measure)
        for _ in range(settings.runs):
            time.sleep(window + 0.1)
            before = emulator.rate_limited
            bare_cf_pages(server.url, expected=count, per_page=per_page, pages=pages, concurrency=CONCURRENCY)
            naive.append(emulator.rate_limited - before)
    floor = (math.ceil(pages / limit) - 1) * window
    return Outcome(
        lines=(
            f"Cloud Foundry emulator limited to {limit} requests per {window:.0f} s; {pages} pages, concurrency {CONCURRENCY}",
            f"pkglist: {ours.show()} (at least {floor:.0f} s at the limit); 429s per run: {throttled}",
            f"naive concurrent client (retries after Retry-After, no pacing): 429s per run: {naive}",
        ),
        checks=(
            Check("429 responses to pkglist (most in one run)", max(throttled), "=", 0),
            Check(
                "pkglist requests per second / the limit", pages / ours.median / (limit / window), "<=", 1.05
            ),
        ),
    )


SCENARIOS = (
    Scenario(1, "Latency-bound, total known (Cloud Foundry, 50 ms)", latency_known_total),
    Scenario(2, "Latency-bound, no total (Harness v3, 50 ms): speculative paging", latency_unknown_total),
    Scenario(3, "CPU-bound (no latency, 200,000 packages, -o jsonl)", cpu_bound),
    Scenario(4, "Memory: 1,000,000 packages vs 10,000", memory),
    Scenario(5, "Start-up: time to the first request, and help pages", start_up),
    Scenario(6, "Respect for the server: a rate limit", rate_limit),
)
