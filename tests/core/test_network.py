"""Listings through real servers in front of the emulator: nginx compressing answers, and
tinyproxy reached through the proxy variables (plain, CONNECT to TLS, Basic auth, NO_PROXY).
Each test skips with a printed reason where its server is not installed, and fails instead
under ``PKGLIST_REQUIRE_SERVERS=1``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import serve
from tests.support.servers import nginx_proxy, tinyproxy
from tests.support.tls import issue_server_certificate

from .toy import TOY_KEY, ToyEmulator, manager

MANAGER = manager()
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(autouse=True)
def no_proxy_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def toy(url: str, **options: Any) -> list[str]:
    options = {"base_url": url, "api_key": TOY_KEY, "team": "core", "retry_backoff": 0.001, **options}
    return [package.id for package in pkglist.iter_packages("toy", "numbered", manager=MANAGER, **options)]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    _, chain, key, ca_file = issue_server_certificate(tmp_path_factory.mktemp("tls"))
    return chain, key, ca_file


@pytest.fixture
def emulator() -> ToyEmulator:
    return ToyEmulator(packages=200)


@pytest.fixture
def upstream(emulator: ToyEmulator) -> Iterator[Any]:
    with serve(emulator) as server:
        yield server


def test_compression_is_asked_for_and_used_through_nginx(emulator: ToyEmulator, upstream: Any) -> None:
    with nginx_proxy(upstream.url) as proxy:
        ids = toy(proxy.url, page_size=50, concurrency=4)
        pages = [
            entry
            for entry in proxy.access_log_entries(at_least=len(upstream.requests))
            if "/teams/" in entry.request
        ]
    assert ids == [item["id"] for item in emulator.items]
    assert len(pages) == 4
    assert all("gzip" in entry.accept_encoding for entry in pages)
    assert all(entry.content_encoding == "gzip" for entry in pages)


def test_all_proxy_carries_a_plain_http_listing(
    monkeypatch: pytest.MonkeyPatch, emulator: ToyEmulator, upstream: Any
) -> None:
    with tinyproxy() as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        ids = toy(upstream.url, page_size=50)
        log = proxy.log_lines()
    assert ids == [item["id"] for item in emulator.items]
    assert sum(f"GET {upstream.url}/v1/teams/core/numbered" in line for line in log) == 4
    assert all("tinyproxy" in request.headers.get("via", "") for request in upstream.requests)


def test_https_proxy_with_basic_auth_tunnels_to_a_tls_server(
    monkeypatch: pytest.MonkeyPatch, tls: tuple[Path, Path, Path]
) -> None:
    chain, key, ca_file = tls
    emulator = ToyEmulator(packages=30)
    with (
        serve(emulator, certificate=(str(chain), str(key))) as server,
        tinyproxy(basic_auth=("alice", "proxy-pass-1")) as proxy,
    ):
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        ids = toy(server.url, page_size=10, ca_bundle=str(ca_file))
        log = proxy.log_lines()
    assert ids == [item["id"] for item in emulator.items]
    assert any(f"CONNECT {server.url.removeprefix('https://')}" in line for line in log)


def test_a_proxy_refusing_the_credentials_is_one_line_without_them(
    monkeypatch: pytest.MonkeyPatch, upstream: Any
) -> None:
    with tinyproxy(basic_auth=("alice", "proxy-pass-1")) as proxy:
        wrong = proxy.bare_url.replace("http://", "http://alice:not-the-password@")
        monkeypatch.setenv("ALL_PROXY", wrong)
        with pytest.raises(pkglist.PkglistError) as caught:
            toy(upstream.url, retries=0)
    message = str(caught.value)
    assert "\n" not in message
    assert "401" in message
    assert "not-the-password" not in message
    assert TOY_KEY not in message
    assert upstream.requests == [] or all(TOY_KEY not in str(r.headers) for r in upstream.requests)


def test_a_proxy_asking_for_credentials_says_where_they_go(
    monkeypatch: pytest.MonkeyPatch, upstream: Any
) -> None:
    with tinyproxy(basic_auth=("alice", "proxy-pass-1")) as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.bare_url)
        with pytest.raises(pkglist.AuthError) as caught:
            toy(upstream.url, retries=0)
    assert "HTTP 407 Proxy Authentication Required from the proxy" in str(caught.value)
    assert "HTTPS_PROXY / ALL_PROXY" in str(caught.value)


def test_no_proxy_bypasses_the_proxy(
    monkeypatch: pytest.MonkeyPatch, emulator: ToyEmulator, upstream: Any
) -> None:
    with tinyproxy() as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        ids = toy(upstream.url, page_size=50)
        log = proxy.log_lines()
    assert ids == [item["id"] for item in emulator.items]
    assert not any("/v1/teams/" in line for line in log)
