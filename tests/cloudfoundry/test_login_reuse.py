"""Reusing a cf CLI login the way the cf CLI reads it: a refresh-token-only login, the
authorization endpoint it refreshes at, ``ConfigVersion`` and case-insensitive keys.

Every listing here crosses real loopback HTTP to the emulator; the CLI cases run the
installed console script.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import EmulatorServer, serve
from pkglist_cloudfoundry import CloudFoundryProvider
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from tests.reliability.cli import CF_REFRESH, SecretCloudFoundry, run

from .helpers import ACCESS_TOKEN, DEV_SPACE, MAIN_APP, REFRESH_TOKEN, clean_env, listing, write_cf_config


@pytest.fixture
def cf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("CF_HOME", str(tmp_path / "cf"))
    return tmp_path / "cf"


def paths(server: EmulatorServer) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in server.requests]


def connect(home: Path) -> pkglist.Connection:
    settings = pkglist.Settings(
        where="cloudfoundry app-packages", base_url=None, credentials={}, environ={"CF_HOME": str(home)}
    )
    return CloudFoundryProvider().connect(settings)


# A login with only a refresh token --------------------------------------------------------


def test_a_refresh_token_alone_gets_an_access_token_before_the_first_request(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=7)
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url,
            AccessToken="",
            RefreshToken=REFRESH_TOKEN,
            AuthorizationEndpoint=server.url,
            UaaEndpoint=server.url,
            SpaceFields={"GUID": DEV_SPACE, "Name": "dev"},
        )
        packages = listing("app-packages", app=MAIN_APP, page_size=3, concurrency=4)
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert emulator.grants == ["refresh_token"]  # once, although several pages were in flight
    assert paths(server)[0] == ("POST", "/oauth/token")
    listed = list(server.requests)[1:]
    assert all(request.headers["authorization"].startswith("bearer ") for request in listed)
    assert not any(request.headers["authorization"].strip() == "bearer" for request in listed)


def test_a_refresh_token_alone_that_is_refused_is_one_auth_error_without_secrets(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=7)
    emulator.refresh_token = "rotated-elsewhere"
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url,
            AccessToken=None,
            RefreshToken=REFRESH_TOKEN,
            AuthorizationEndpoint=server.url,
        )
        with pytest.raises(pkglist.AuthError) as caught:
            listing("app-packages", app=MAIN_APP, concurrency=4)
    message = str(caught.value)
    assert (
        "the cf login has no access token and getting one through UAA failed (HTTP 401: invalid_token"
        in message
    )
    assert "cf login" in message
    assert REFRESH_TOKEN not in message
    assert [path for path in paths(server) if path[1].startswith("/v3/")] == []  # never sent without a token
    assert len([path for path in paths(server) if path[1] == "/oauth/token"]) == 1


def test_a_refresh_token_alone_without_an_authorization_endpoint_is_a_usage_error(cf_home: Path) -> None:
    path = write_cf_config(
        cf_home, Target="https://api.example.org", AccessToken="", AuthorizationEndpoint=""
    )
    with pytest.raises(pkglist.UsageError) as caught:
        connect(cf_home)
    message = str(caught.value)
    assert str(path) in message
    assert "no AuthorizationEndpoint" in message
    assert "0123456789abcdef" not in message  # the example's refresh token


def test_the_cli_lists_with_a_refresh_token_alone(tmp_path: Path) -> None:
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=9))
    with serve(emulator) as server:
        write_cf_config(
            tmp_path,
            Target=server.url,
            AccessToken="",
            RefreshToken=CF_REFRESH,
            AuthorizationEndpoint=server.url,
            SpaceFields={"GUID": DEV_SPACE, "Name": "dev"},
        )
        result = run("cloudfoundry", "app-packages", "--app", "web", "-o", "jsonl", home=tmp_path)
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 9
    assert emulator.grants == ["refresh_token"]


# The endpoint the cf CLI refreshes at -------------------------------------------------------


def test_an_expired_token_is_refreshed_at_the_authorization_endpoint_not_uaa(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=5, login_path="/login")
    emulator.expire_tokens()
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url,
            AccessToken=f"bearer {ACCESS_TOKEN}",
            RefreshToken=REFRESH_TOKEN,
            AuthorizationEndpoint=server.url + "/login",
            UaaEndpoint=server.url + "/uaa",
        )
        packages = listing("app-packages", app=MAIN_APP)
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert ("POST", "/login/oauth/token") in paths(server)
    assert not any(path.startswith("/uaa") or path == "/oauth/token" for _, path in paths(server))
    assert emulator.grants == ["refresh_token"]


def test_the_emulator_serves_the_token_route_only_under_its_login_path() -> None:
    import httpx

    emulator = CloudFoundryEmulator(packages=1, login_path="/login")
    form = {"grant_type": "refresh_token", "refresh_token": emulator.refresh_token}
    with serve(emulator) as server:
        elsewhere = httpx.post(server.url + "/oauth/token", data=form, auth=("cf", ""))
        there = httpx.post(server.url + "/login/oauth/token", data=form, auth=("cf", ""))
        root = httpx.get(server.url + "/").json()
    assert elsewhere.status_code == 404
    assert there.status_code == 200
    assert root["links"]["login"]["href"] == server.url + "/login"


def test_without_an_authorization_endpoint_an_expired_token_is_not_refreshed(cf_home: Path) -> None:
    """The cf CLI has no fallback to UaaEndpoint for its token route; neither has pkglist."""
    emulator = CloudFoundryEmulator(packages=3)
    emulator.expire_tokens()
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url,
            AccessToken=f"bearer {ACCESS_TOKEN}",
            RefreshToken=REFRESH_TOKEN,
            AuthorizationEndpoint=None,
            UaaEndpoint=server.url,
        )
        with pytest.raises(pkglist.AuthError, match="CF-InvalidAuthToken"):
            listing("app-packages", app=MAIN_APP)
    assert emulator.grants == []


# ConfigVersion --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
def test_the_config_versions_the_cf_cli_writes_are_read(tmp_path: Path, version: int) -> None:
    write_cf_config(tmp_path, ConfigVersion=version)
    assert connect(tmp_path).base_url == "https://api.example.org"


@pytest.mark.parametrize(("version", "shown"), [(2, "2"), (5, "5"), (-1, "-1")])
def test_an_unknown_config_version_is_one_clear_line(tmp_path: Path, version: int, shown: str) -> None:
    path = write_cf_config(tmp_path, ConfigVersion=version)
    with pytest.raises(pkglist.UsageError) as caught:
        connect(tmp_path)
    message = str(caught.value)
    assert f"the cf CLI config {path} has ConfigVersion {shown}" in message
    assert "reads ConfigVersion 3 or 4" in message
    assert "\n" not in message
    assert "eyJ" not in message


@pytest.mark.parametrize("value", ["3", 3.5, True, [3]])
def test_a_config_version_that_is_not_an_integer_is_invalid(tmp_path: Path, value: Any) -> None:
    path = write_cf_config(tmp_path, ConfigVersion=value)
    with pytest.raises(pkglist.UsageError, match="invalid ConfigVersion \\(expected an integer\\)") as caught:
        connect(tmp_path)
    assert str(path) in str(caught.value)


def test_the_cli_refuses_an_unknown_config_version_in_one_line(tmp_path: Path) -> None:
    path = write_cf_config(tmp_path, ConfigVersion=9)
    result = run("cloudfoundry", "app-packages", "--app", MAIN_APP, home=tmp_path)
    assert result.code == 2
    assert result.out == ""
    (line,) = result.err.splitlines()
    assert line.startswith("pkglist: error: cloudfoundry app-packages: ")
    assert f"{path} has ConfigVersion 9" in line
    assert "Traceback" not in result.err


# Keys as Go's encoding/json matches them ------------------------------------------------------


def write_raw(home: Path, config: dict[str, Any]) -> Path:
    path = home / ".cf" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config))
    return path


def test_keys_match_in_any_case(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=4)
    with serve(emulator) as server:
        write_raw(
            cf_home,
            {
                "configversion": 3,
                "target": server.url,
                "ACCESSTOKEN": f"bearer {ACCESS_TOKEN}",
                "spaceFields": {"guid": DEV_SPACE, "name": "dev"},
            },
        )
        packages = listing("app-packages", app="web")  # looked up by name in the targeted space
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    (lookup,) = [request for request in server.requests if request.path == "/v3/apps"]
    assert lookup.query["space_guids"] == [DEV_SPACE]


def test_an_exact_key_beats_another_spelling(tmp_path: Path) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    write_raw(
        tmp_path,
        {
            "Target": "https://api.example.org",
            "AccessToken": "bearer t",
            "SpaceFields": {"guid": other, "GUID": DEV_SPACE},
        },
    )
    assert connect(tmp_path).context["space_guid"] == DEV_SPACE


def test_a_wrongly_typed_key_in_another_spelling_names_the_canonical_key(tmp_path: Path) -> None:
    path = write_raw(
        tmp_path, {"Target": "https://api.example.org", "AccessToken": "t", "sslDisabled": "yes"}
    )
    with pytest.raises(pkglist.UsageError) as caught:
        connect(tmp_path)
    assert f"the cf CLI config {path} has an invalid SSLDisabled" in str(caught.value)


# label_selector on app-packages -----------------------------------------------------------------


def test_app_packages_take_a_label_selector(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=60, seed=3)
    with serve(emulator) as server:
        everything = listing("app-packages", base_url=server.url, token=ACCESS_TOKEN, app=MAIN_APP)
        chosen = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            label_selector="env in (prod,staging),!tier",
            page_size=5,
        )
    expected = [
        package.id
        for package in everything
        if package.extra["labels"].get("env") in ("prod", "staging") and "tier" not in package.extra["labels"]
    ]
    assert expected, "the selector selects nothing; the test proves little"
    assert len(expected) < len(everything)
    assert [package.id for package in chosen] == expected
    sent = [request for request in server.requests if request.path.endswith("/packages")][-1]
    assert sent.query["label_selector"] == ["env in (prod,staging),!tier"]


def test_the_cli_offers_label_selector_on_app_packages(tmp_path: Path) -> None:
    result = run("cloudfoundry", "app-packages", "--help", home=tmp_path)
    assert result.code == 0
    assert "--label-selector" in result.out
    listed = run(
        "cloudfoundry", "app-packages", "--emulate", "--app", MAIN_APP, "--label-selector", "env=prod",
        "-o", "jsonl", "--fields", "id,extra.labels", home=tmp_path,
    )  # fmt: skip
    assert listed.code == 0, listed.err
    records = [json.loads(line) for line in listed.out.splitlines()]
    assert records
    assert all(record["extra.labels"]["env"] == "prod" for record in records)
