"""The six scenarios of the performance issue, each against its baseline."""

from __future__ import annotations

import functools
import math
import subprocess
import sys
import time
from collections.abc import Callable

import attrs

from pkglist.testing import serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator
from pkglist_harness._data import DEMO_ACCOUNT, DEMO_API_KEY
from pkglist_harness._emulator import HarnessEmulator

from ._measure import Runs, client, command, pkglist_command

CONCURRENCY = 8  # pkglist's default
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


def _timed_client(name: str, expected: int, **arguments: object) -> float:
    result = client(name, **arguments)
    if result["items"] != expected:
        raise RuntimeError(f"{name} listed {result['items']} items, expected {expected}")
    return float(result["seconds"])


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
    ideal = latency * (1 + math.ceil((pages - 1) / CONCURRENCY))
    return Outcome(
        lines=(
            f"{count} packages, per_page {per_page} ({pages} pages), {latency * 1000:.0f} ms per response",
            f"baseline (follow next.href, one page at a time)  {baseline.show()}",
            f"pkglist (defaults: concurrency {CONCURRENCY})            {ours.show()}",
            f"ideal L x (1 + ceil((P-1)/C))                    {ideal:.2f} s",
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


def start_up(settings: Settings) -> Outcome:
    exe = pkglist_command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "pkglist --help": [exe, "--help"],
        "pkglist providers": [exe, "providers"],
    }
    for args in commands.values():  # the first run fills the start-up cache
        subprocess.run(args, capture_output=True, check=True)
    repeats = 5 if settings.smoke else 15 * settings.runs
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, args in commands.items():
            started = time.perf_counter()
            subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times[name].append(time.perf_counter() - started)
    runs = {name: Runs(tuple(values)) for name, values in times.items()}
    cold = Runs(
        tuple(_wall([exe, "providers"], {"PKGLIST_NO_CACHE": "1"}) for _ in range(3 if settings.smoke else 5))
    )
    base = runs["python -c pass"].median
    return Outcome(
        lines=(
            *(f"{name:<18} {_ms(run)}" for name, run in runs.items()),
            f"{'(providers, no cache)':<18} {_ms(cold)}  = {cold.median / base:.1f}x python: the first run after an install",
        ),
        checks=(
            Check("pkglist --help / python -c pass", runs["pkglist --help"].median / base, "<=", 2),
            Check("pkglist providers / python -c pass", runs["pkglist providers"].median / base, "<=", 3),
        ),
    )


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
            _timed_client(
                "cf-naive-concurrent",
                count,
                url=server.url,
                token=ACCESS_TOKEN,
                path=APP_PACKAGES,
                per_page=per_page,
                pages=pages,
                concurrency=CONCURRENCY,
            )
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
    Scenario(5, "Start-up", start_up),
    Scenario(6, "Respect for the server: a rate limit", rate_limit),
)
