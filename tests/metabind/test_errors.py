"""Errors end to end: bad keys, unknown scopes, rate limits (each signal on its own) and the cap."""

from __future__ import annotations

import time

import httpx
import pytest

import pkglist
from pkglist.testing import serve
from pkglist_metabind import MetabindEmulator, MetabindProvider, PackagesQuery

from .helpers import list_packages


def test_wrong_key_is_an_auth_error_without_the_key() -> None:
    emulator = MetabindEmulator(packages=5)
    with serve(emulator) as server, pytest.raises(pkglist.AuthError) as caught:
        list_packages(server, emulator, api_key="not-the-key-42")
    assert str(caught.value) == (
        "metabind packages: HTTP 401 Unauthorized: UNAUTHORIZED: Invalid API key (page 1)"
    )
    assert caught.value.status == 401
    assert "not-the-key-42" not in repr(caught.value)


def test_key_goes_in_a_bearer_header() -> None:
    emulator = MetabindEmulator(packages=1)
    with serve(emulator) as server:
        list_packages(server, emulator)
    assert server.requests[0].headers["authorization"] == "Bearer mb-emulator-key"


def test_missing_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METABIND_API_KEY", raising=False)
    with pytest.raises(
        pkglist.UsageError, match="missing credential; pass --api-key or set METABIND_API_KEY"
    ):
        pkglist.iter_packages("metabind", "packages", organization="org123", project="proj123")


def test_key_and_base_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = MetabindEmulator(packages=4)
    with serve(emulator) as server:
        monkeypatch.setenv("METABIND_API_KEY", emulator.credentials["api_key"])
        monkeypatch.setenv("METABIND_API_URL", server.url)
        ids = [
            p.id
            for p in pkglist.iter_packages("metabind", "packages", organization="org123", project="proj123")
        ]
    assert ids == emulator.package_ids()


@pytest.mark.parametrize(
    ("organization", "project", "detail"),
    [
        (
            "org999",
            "proj123",
            "NOT_FOUND: Organization not found (resourceType: organization, resourceId: org999)",
        ),
        ("org123", "proj999", "NOT_FOUND: Project not found (resourceType: project, resourceId: proj999)"),
    ],
)
def test_unknown_scope_is_not_found(organization: str, project: str, detail: str) -> None:
    emulator = MetabindEmulator(packages=5)
    with serve(emulator) as server, pytest.raises(pkglist.NotFoundError) as caught:
        list_packages(server, emulator, organization=organization, project=project)
    assert str(caught.value) == f"metabind packages: HTTP 404 Not Found: {detail} (page 1)"


@pytest.mark.parametrize("value", ["", "a/b", "..", "x..y", "proj 1", "proj?x=1", "p#1", "x" * 129])
def test_ids_that_are_not_one_path_segment_are_refused(value: str) -> None:
    with pytest.raises(pkglist.UsageError, match=r"invalid value .* for --project"):
        pkglist.iter_packages("metabind", "packages", organization="org123", project=value, api_key="k")


def test_ids_are_quoted_into_the_path() -> None:
    emulator = MetabindEmulator(projects={"org.1": {"proj~a_b-c": 2}})
    with serve(emulator) as server:
        packages = list_packages(server, emulator, organization="org.1", project="proj~a_b-c")
    assert len(packages) == 2
    assert server.requests[0].path == "/v1/organizations/org.1/projects/proj~a_b-c/packages"
    assert packages[0].scope == "org.1/proj~a_b-c"


def test_page_size_above_the_api_maximum_is_refused() -> None:
    with pytest.raises(pkglist.UsageError, match="--page-size must be at most 100"):
        pkglist.iter_packages(
            "metabind", "packages", organization="o", project="p", api_key="k", page_size=101
        )


# Rate limiting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("signal", ["retry-after", "headers", "body"])
def test_each_rate_limit_signal_alone_is_honoured(signal: str) -> None:
    """Two requests per second, three pages, one retry with a 1 ms backoff: the listing only
    completes if the client waits as long as the signal says (the control below fails)."""
    emulator = MetabindEmulator(packages=6, rate_limit=2, rate_window=1.0, rate_signals={signal})
    with serve(emulator) as server:
        started = time.monotonic()
        packages = list_packages(server, emulator, page_size=2, concurrency=1, retries=1)
        elapsed = time.monotonic() - started
    assert [package.id for package in packages] == emulator.package_ids()
    assert elapsed >= 0.5
    if signal == "headers":
        assert emulator.rejected == 0  # X-RateLimit-Remaining/Reset pace the client before a 429
    else:
        assert emulator.rejected >= 1


def test_without_any_signal_the_rate_limit_wins() -> None:
    emulator = MetabindEmulator(packages=6, rate_limit=2, rate_window=1.0, rate_signals=())
    with serve(emulator) as server, pytest.raises(pkglist.RateLimitedError) as caught:
        list_packages(server, emulator, page_size=2, concurrency=1, retries=1)
    assert "HTTP 429" in str(caught.value)
    assert "RATE_LIMIT_EXCEEDED: Too many requests" in str(caught.value)


def test_rate_limit_waits_are_capped() -> None:
    emulator = MetabindEmulator(packages=6, rate_limit=1, rate_window=3600)
    started = time.monotonic()
    with serve(emulator) as server, pytest.raises(pkglist.RateLimitedError) as caught:
        list_packages(server, emulator, page_size=2, concurrency=1, retries=2, max_retry_wait=0.05)
    assert time.monotonic() - started < 5  # an hour was asked for
    assert str(caught.value) == (
        "metabind packages: HTTP 429 Too Many Requests: RATE_LIMIT_EXCEEDED: Too many requests "
        "(page 2, gave up after 3 attempts)"
    )


def test_rate_limited_response_carries_every_documented_signal() -> None:
    emulator = MetabindEmulator(packages=3, rate_limit=1, rate_window=60)
    with serve(emulator) as server:
        headers = {"Authorization": "Bearer " + emulator.credentials["api_key"]}
        url = server.url + "/v1/organizations/org123/projects/proj123/packages"
        ok = httpx.get(url, headers=headers)
        limited = httpx.get(url, headers=headers)
    assert ok.status_code == 200
    assert (ok.headers["x-ratelimit-limit"], ok.headers["x-ratelimit-remaining"]) == ("1", "0")
    assert limited.status_code == 429
    reset = int(limited.headers["x-ratelimit-reset"])
    assert 0 < reset - time.time() <= 61
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert limited.json() == {
        "error": {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests", "retryAfter": retry_after}
    }


# Connection settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (None, {}, "https://api.metabind.ai"),
        (None, {"METABIND_API_URL": "http://mb.internal:8080/"}, "http://mb.internal:8080"),
        (
            "https://eu.example.test/api",
            {"METABIND_API_URL": "http://ignored"},
            "https://eu.example.test/api",
        ),
    ],
)
def test_base_url_resolution_and_first_request(
    given: str | None, environ: dict[str, str], expected: str
) -> None:
    provider = MetabindProvider()
    settings = pkglist.Settings(
        where="metabind packages", base_url=given, credentials={"api_key": "k1"}, environ=environ
    )
    connection = provider.connect(settings)
    assert connection.base_url == expected
    assert connection.headers == {"Authorization": "Bearer k1"}
    query = PackagesQuery(organization="org123", project="proj456")
    request = provider.list_request(provider.listing("packages"), query, connection.base_url, 100)
    assert (
        str(request.url) == f"{expected}/v1/organizations/org123/projects/proj456/packages?page=1&limit=100"
    )
