"""Scenarios of the real network: compression through a gateway, and a server of limited capacity."""

from __future__ import annotations

import math
import statistics
import sys

from pkglist.testing import serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator

from ._measure import Runs, client, command, pkglist_command
from .scenarios import APP_PACKAGES, Check, Outcome, Scenario, Settings, _side_by_side, bare_cf_pages


def _cf(url: str, **options: object) -> dict[str, object]:
    return {"app": DEMO_APP_GUID, "base_url": url, "token": ACCESS_TOKEN, **options}


# 7 ------------------------------------------------------------------------------------


def compression(settings: Settings) -> Outcome:
    """Bytes per page read through nginx with ``gzip on``, pkglist against a plain httpx client."""
    try:
        from tests.support.servers import nginx_proxy, require_binary

        require_binary("nginx")
    except BaseException as exc:  # noqa: BLE001 - pytest's skip is a BaseException
        return Outcome(lines=(f"skipped: {exc}",), checks=())
    pages, per_page = settings.size(20, 4), 100
    count = pages * per_page
    emulator = CloudFoundryEmulator(packages=count, other_apps=False)
    read: dict[str, float] = {}
    with serve(emulator) as upstream, nginx_proxy(upstream.url) as proxy:
        upstream.external_url = proxy.url
        for name, run in (
            (
                "baseline",
                lambda: client(
                    "bytes-per-page-baseline",
                    url=proxy.url,
                    token=ACCESS_TOKEN,
                    path=APP_PACKAGES,
                    per_page=per_page,
                    pages=pages,
                ),
            ),
            (
                "pkglist",
                lambda: client(
                    "pkglist-api",
                    provider="cloudfoundry",
                    listing="app-packages",
                    options=_cf(proxy.url, page_size=per_page),
                ),
            ),
        ):
            before = len(proxy.access_log_entries())
            result = run()
            if result["items"] != count:
                raise RuntimeError(f"{name} listed {result['items']} of {count}")
            entries = [
                e
                for e in proxy.access_log_entries(at_least=before + pages)[before:]
                if "/packages" in e.request
            ]
            read[name] = statistics.mean(entry.body_bytes_sent for entry in entries)
    ratio = read["pkglist"] / read["baseline"]
    return Outcome(
        lines=(
            f"{count} packages in {pages} pages of {per_page}, Cloud Foundry behind nginx (gzip on)",
            f"plain httpx.AsyncClient: {read['baseline'] / 1024:.1f} KiB per page",
            f"pkglist:                 {read['pkglist'] / 1024:.1f} KiB per page",
        ),
        checks=(Check("bytes per page / plain httpx's", ratio, "<=", 1.1),),
    )


# 8 ------------------------------------------------------------------------------------


def capacity(settings: Settings) -> Outcome:
    """400 pages of a known total, 50 ms per response, a server that handles K at once."""
    pages, latency = settings.size(400, 40), 0.05
    per_page = 10
    count = pages * per_page
    lines = [f"{pages} pages of {per_page}, {latency * 1000:.0f} ms per response, K requests served at once"]
    checks = []
    emulator = CloudFoundryEmulator(packages=count, other_apps=False)
    for k, bound in ((4, 1.25), (16, 1.25), (48, 1.5)):
        ideal = latency * (1 + math.ceil((pages - 1) / k))
        figures = {}
        for label, pinned in (("adaptive", None), ("fixed 8", 8)):
            runs = []
            cpu = []
            for _ in range(settings.runs):
                with serve(emulator, latency=latency, capacity=k) as server:
                    options = _cf(
                        server.url, page_size=per_page, **({"concurrency": pinned} if pinned else {})
                    )
                    result = client(
                        "pkglist-api", provider="cloudfoundry", listing="app-packages", options=options
                    )
                    requests = len(server.requests)
                runs.append(float(result["seconds"]))
                cpu.append(float(result["cpu"]) / max(1, requests))
            figures[label] = (Runs(tuple(runs)), statistics.median(cpu))
        floor, floor_cpu = _bare_httpx_at(k, emulator, latency, pages, per_page, settings)
        adaptive, adaptive_cpu = figures["adaptive"]
        fixed, fixed_cpu = figures["fixed 8"]
        lines.append(
            f"K={k:<3} ideal {ideal:.2f} s | adaptive {adaptive.show()} ({adaptive_cpu * 1000:.2f} ms CPU/request)"
            f" | fixed 8 {fixed.show()} ({fixed_cpu * 1000:.2f} ms CPU/request)"
        )
        lines.append(
            f"      floor: bare httpx.AsyncClient, K in flight, {floor.show()} ({floor_cpu * 1000:.2f} ms CPU/request)"
            f" = {floor.median / ideal:.2f}x ideal; adaptive / floor {adaptive.median / floor.median:.2f}"
        )
        checks.append(Check(f"K={k}: adaptive time / ideal", adaptive.median / ideal, "<=", bound))
    throttled_share = []
    for _ in range(settings.runs):
        with serve(emulator, latency=latency, capacity=16, throttle_above=32) as server:
            client(
                "pkglist-api",
                provider="cloudfoundry",
                listing="app-packages",
                options=_cf(server.url, page_size=per_page),
            )
            throttled_share.append(server.injected.get("throttled", 0) / max(1, len(server.requests)))
    share = statistics.median(throttled_share)
    lines.append(f"K=16 with a 429 above 32 at the server: {share * 100:.1f}% of requests answered 429")
    checks.append(Check("K=16, 429 above 32: share of requests answered 429 (%)", share * 100, "<=", 2))
    return Outcome(lines=tuple(lines), checks=tuple(checks))


def _bare_httpx_at(
    k: int, emulator: CloudFoundryEmulator, latency: float, pages: int, per_page: int, settings: Settings
) -> tuple[Runs, float]:
    """What this machine allows: a bare httpx client with exactly K requests in flight, pages by
    number (no speculation, no limiter), against the same server."""
    runs, cpu = [], []
    for _ in range(settings.runs):
        with serve(emulator, latency=latency, capacity=k) as server:
            result = bare_cf_pages(
                server.url, expected=pages * per_page, per_page=per_page, pages=pages, concurrency=k
            )
            requests = len(server.requests)
        runs.append(float(result["seconds"]))
        cpu.append(float(result["cpu"]) / max(1, requests))
    return Runs(tuple(runs)), statistics.median(cpu)


# 9 ------------------------------------------------------------------------------------


def whole_process(settings: Settings) -> Outcome:
    """A 60-page Cloud Foundry listing at 50 ms per response, start to end as whole processes."""
    pages, latency, per_page = settings.size(60, 6), 0.05, 50
    count = pages * per_page
    emulator = CloudFoundryEmulator(packages=count, other_apps=False)
    with serve(emulator, latency=latency) as server:
        baseline_args = [
            sys.executable,
            "-m",
            "benchmarks.clients",
            "cf-follow-next",
            f'{{"url": "{server.url}", "token": "{ACCESS_TOKEN}", "path": "{APP_PACKAGES}", "per_page": {per_page}}}',
        ]
        listing = [
            pkglist_command(),
            "cloudfoundry",
            "app-packages",
            "--app",
            DEMO_APP_GUID,
            "--page-size",
            str(per_page),
            "--base-url",
            server.url,
            "--token",
            ACCESS_TOKEN,
            "-o",
            "jsonl",
        ]
        base, ours = _side_by_side(
            settings, lambda: command(baseline_args).seconds, lambda: command(listing).seconds
        )
    return Outcome(
        lines=(
            f"{count} packages in {pages} pages, {latency * 1000:.0f} ms per response, whole processes",
            f"sequential next-link loop (httpx)  {base.show()}",
            f"pkglist CLI                        {ours.show()}",
        ),
        checks=(Check("speed-up over the sequential loop (x)", base.median / ours.median, ">=", 6),),
    )


SCENARIOS = (
    Scenario(7, "Through a gateway: nginx with gzip on", compression),
    Scenario(8, "A server of limited capacity: adaptive concurrency", capacity),
    Scenario(9, "60 pages at 50 ms, whole processes", whole_process),
)
