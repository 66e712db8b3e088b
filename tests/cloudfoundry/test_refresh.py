"""An expired cf login token is refreshed once through UAA, and the cf config is never written."""

from __future__ import annotations

import asyncio
import base64
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_cloudfoundry._auth import CloudFoundryAuth
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator

from .helpers import ACCESS_TOKEN, DEV_SPACE, MAIN_APP, REFRESH_TOKEN, clean_env, listing, write_cf_config


class ExpiresMidListing(CloudFoundryEmulator):
    """Every token issued so far stops working when the first request for page 2 or later arrives."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expired = threading.Event()
        self.rejected = 0

    def handle(self, request: Request) -> Response:
        if request.param("page", "1") != "1" and not self.expired.is_set():
            self.expired.set()
            self.expire_tokens()
        response = super().handle(request)
        if response.status == 401:
            self.rejected += 1
        return response


def login(home: Path, server: Any, **fields: Any) -> Path:
    return write_cf_config(
        home,
        Target=server.url,
        AccessToken=f"bearer {ACCESS_TOKEN}",
        RefreshToken=REFRESH_TOKEN,
        UaaEndpoint=server.url,
        AuthorizationEndpoint=server.url,
        SpaceFields={"GUID": DEV_SPACE, "Name": "dev"},
        **fields,
    )


@pytest.fixture
def cf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("CF_HOME", str(tmp_path / "cf"))
    return tmp_path / "cf"


def uaa_requests(server: Any) -> list[Any]:
    return [request for request in server.requests if request.path == "/oauth/token"]


def test_expired_token_is_refreshed_and_the_config_is_untouched(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=9)
    emulator.expire_tokens()
    with serve(emulator) as server:
        path = login(cf_home, server)
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        packages = listing("app-packages", app="web", page_size=4)
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert emulator.grants == ["refresh_token"]
    (uaa,) = uaa_requests(server)
    assert uaa.headers["authorization"] == "Basic " + base64.b64encode(b"cf:").decode()
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert not any(path.parent.glob("*.tmp"))
    assert sorted(p.name for p in path.parent.iterdir()) == ["config.json"]


@pytest.mark.parametrize("concurrency", [8, 1])
def test_pages_failing_together_refresh_once(cf_home: Path, concurrency: int) -> None:
    emulator = ExpiresMidListing(packages=40)
    with serve(emulator, latency=0.02) as server:
        login(cf_home, server)
        packages = listing("app-packages", app=MAIN_APP, page_size=4, concurrency=concurrency)
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert emulator.rejected >= (2 if concurrency > 1 else 1)
    assert emulator.grants == ["refresh_token"]
    assert len(uaa_requests(server)) == 1


def test_a_failed_refresh_is_an_auth_error_without_secrets(cf_home: Path) -> None:
    emulator = ExpiresMidListing(packages=40)
    emulator.refresh_token = "rotated-elsewhere"  # the config's refresh token is no longer valid
    with serve(emulator, latency=0.02) as server:
        path = login(cf_home, server)
        before = path.read_bytes()
        with pytest.raises(pkglist.AuthError) as caught:
            listing("app-packages", app=MAIN_APP, page_size=4, concurrency=8)
    message = str(caught.value)
    assert "refreshing it through UAA failed (HTTP 401: invalid_token" in message
    assert "cf login" in message
    assert "cloudfoundry app-packages" in message
    assert REFRESH_TOKEN not in message
    assert ACCESS_TOKEN not in message
    assert len(uaa_requests(server)) == 1  # the other pages do not retry a refresh that failed
    assert path.read_bytes() == before


def test_an_explicit_token_is_never_refreshed(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=5)
    emulator.expire_tokens()
    with serve(emulator) as server:
        login(cf_home, server)
        with pytest.raises(pkglist.AuthError, match="CF-InvalidAuthToken: Invalid Auth Token") as caught:
            listing("app-packages", app=MAIN_APP, token=ACCESS_TOKEN)
    assert caught.value.status == 401
    assert uaa_requests(server) == []


def test_not_authenticated_is_not_a_reason_to_refresh() -> None:
    """Only CF-InvalidAuthToken (1000) triggers a refresh, not e.g. CF-NotAuthenticated."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        body = {"errors": [{"detail": "Authentication error", "title": "CF-NotAuthenticated", "code": 10002}]}
        return httpx.Response(401, json=body)

    auth = CloudFoundryAuth("tok", refresh_token="r", authorization_endpoint="http://login.test")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert client.get("http://api.test/v3/packages", auth=auth).status_code == 401

    async def run() -> int:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return (await client.get("http://api.test/v3/packages", auth=auth)).status_code

    assert asyncio.run(run()) == 401
    assert calls == ["/v3/packages", "/v3/packages"]
    assert auth.refreshes == 0


def test_sync_flow_refreshes_and_keeps_the_new_token() -> None:
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("authorization", "")))
        if request.url.path == "/oauth/token":
            assert b"grant_type=refresh_token" in request.content
            assert b"refresh_token=r1" in request.content
            return httpx.Response(
                200, json={"access_token": "new", "refresh_token": "r2", "token_type": "bearer"}
            )
        if request.headers["authorization"] == "bearer new":
            return httpx.Response(200, json={"ok": True})
        body = {"errors": [{"detail": "Invalid Auth Token", "title": "CF-InvalidAuthToken", "code": 1000}]}
        return httpx.Response(401, json=body)

    auth = CloudFoundryAuth("old", refresh_token="r1", authorization_endpoint="http://login.test/")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert client.get("http://api.test/v3/apps", auth=auth).json() == {"ok": True}
        assert client.get("http://api.test/v3/apps", auth=auth).json() == {"ok": True}
    assert seen == [
        ("/v3/apps", "bearer old"),
        ("/oauth/token", "Basic " + base64.b64encode(b"cf:").decode()),
        ("/v3/apps", "bearer new"),
        ("/v3/apps", "bearer new"),
    ]
    assert auth.refreshes == 1
    assert "old" not in repr(auth)
    assert "new" not in repr(auth)


def test_sync_flow_without_a_token_gets_one_first() -> None:
    seen: list[tuple[str, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.url.path, request.headers.get("authorization", "")))
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "first", "token_type": "bearer"})
        return httpx.Response(200, json={"ok": request.headers["authorization"] == "bearer first"})

    auth = CloudFoundryAuth(None, refresh_token="r1", authorization_endpoint="http://login.test")
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        assert client.get("http://api.test/v3/apps", auth=auth).json() == {"ok": True}
        assert client.get("http://api.test/v3/apps", auth=auth).json() == {"ok": True}
    assert [(host, path) for host, path, _ in seen] == [
        ("login.test", "/oauth/token"),
        ("api.test", "/v3/apps"),
        ("api.test", "/v3/apps"),
    ]
    assert auth.refreshes == 1
