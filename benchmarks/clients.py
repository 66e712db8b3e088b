"""The clients a benchmark times, each run in a process of its own.

``python -m benchmarks.clients NAME JSON_ARGS`` runs one and prints
``{"seconds": ..., "items": ...}``: the time of the listing itself, from the
first request to the last item (interpreter start-up and imports excluded,
for the baseline and pkglist alike).

The baselines are what existing clients do: the cf CLI, the Python CF client
and Harness's CLIs all fetch one page after the other with one connection.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx


def cf_follow_next(url: str, token: str, path: str, per_page: int) -> int:
    """Follow ``pagination.next.href`` one page at a time; only ``json.loads`` the pages."""
    count = 0
    headers = {"Authorization": f"bearer {token}"}
    with httpx.Client(headers=headers, timeout=60) as client:
        href: str | None = f"{url}{path}?page=1&per_page={per_page}"
        while href:
            body = json.loads(client.get(href).content)
            count += len(body["resources"])
            following = body["pagination"]["next"]
            href = following["href"] if following else None
    return count


def harness_pages(url: str, api_key: str, account: str, size: int) -> int:
    """Request page after page of ``/har/api/v3/packages`` until ``hasMore`` is false."""
    count = 0
    with httpx.Client(headers={"x-api-key": api_key}, timeout=60) as client:
        page = 0
        while True:
            response = client.get(
                f"{url}/har/api/v3/packages",
                params={"account_identifier": account, "page": page, "size": size},
            )
            body = json.loads(response.content)
            count += len(body["items"])
            if not body["hasMore"] or len(body["items"]) < size:
                return count
            page += 1


def cf_follow_next_async(url: str, token: str, path: str, per_page: int) -> int:
    """:func:`cf_follow_next` on ``httpx.AsyncClient``: what any async client pays per page."""

    async def main() -> int:
        count = 0
        headers = {"Authorization": f"bearer {token}"}
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:
            href: str | None = f"{url}{path}?page=1&per_page={per_page}"
            while href:
                body = json.loads((await client.get(href)).content)
                count += len(body["resources"])
                following = body["pagination"]["next"]
                href = following["href"] if following else None
        return count

    return asyncio.run(main())


def harness_pages_async(url: str, api_key: str, account: str, size: int) -> int:
    """:func:`harness_pages` on ``httpx.AsyncClient``."""

    async def main() -> int:
        count = 0
        async with httpx.AsyncClient(headers={"x-api-key": api_key}, timeout=60) as client:
            page = 0
            while True:
                response = await client.get(
                    f"{url}/har/api/v3/packages",
                    params={"account_identifier": account, "page": page, "size": size},
                )
                body = json.loads(response.content)
                count += len(body["items"])
                if not body["hasMore"] or len(body["items"]) < size:
                    return count
                page += 1

    return asyncio.run(main())


def cf_naive_concurrent(url: str, token: str, path: str, per_page: int, pages: int, concurrency: int) -> int:
    """``concurrency`` workers fetching pages by number, retrying a 429 after its Retry-After: no pacing."""
    headers = {"Authorization": f"bearer {token}"}

    async def main() -> int:
        limit = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(headers=headers, timeout=60) as client:

            async def one(page: int) -> int:
                async with limit:
                    while True:
                        response = await client.get(
                            f"{url}{path}", params={"page": page, "per_page": per_page}
                        )
                        if response.status_code != 429:
                            return len(json.loads(response.content)["resources"])
                        await asyncio.sleep(float(response.headers.get("retry-after", "1")))

            return sum(await asyncio.gather(*(one(page) for page in range(1, pages + 1))))

    return asyncio.run(main())


def bytes_per_page_baseline(url: str, token: str, path: str, per_page: int, pages: int) -> int:
    """A plain ``httpx.AsyncClient`` fetching pages by number (it asks for compression as httpx does)."""

    async def main() -> int:
        count = 0
        async with httpx.AsyncClient(headers={"Authorization": f"bearer {token}"}, timeout=60) as client:
            for page in range(1, pages + 1):
                response = await client.get(f"{url}{path}", params={"page": page, "per_page": per_page})
                count += len(json.loads(response.content)["resources"])
        return count

    return asyncio.run(main())


def pkglist_api(provider: str, listing: str, options: dict[str, Any]) -> int:
    """pkglist's Python API with default settings unless ``options`` says otherwise."""
    import pkglist

    return sum(1 for _ in pkglist.iter_packages(provider, listing, **options))


def _load_pkglist() -> None:
    """Imports and plugin loading, done before the clock starts (as the baselines' imports are)."""
    import pkglist
    from pkglist import _api, _engine  # noqa: F401 - imported for their start-up cost

    pkglist.get_plugin_manager().providers()


CLIENTS: dict[str, Callable[..., int]] = {
    "cf-follow-next": cf_follow_next,
    "harness-pages": harness_pages,
    "cf-follow-next-async": cf_follow_next_async,
    "harness-pages-async": harness_pages_async,
    "cf-naive-concurrent": cf_naive_concurrent,
    "bytes-per-page-baseline": bytes_per_page_baseline,
    "pkglist-api": pkglist_api,
}


def main() -> None:
    name, arguments = sys.argv[1], json.loads(sys.argv[2])
    client = CLIENTS[name]
    if name == "pkglist-api":
        _load_pkglist()
    started, cpu = time.perf_counter(), time.process_time()
    items = client(**arguments)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "cpu": time.process_time() - cpu, "items": items}))


if __name__ == "__main__":
    main()
