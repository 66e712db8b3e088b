"""Reusing the cf CLI login from a temporary ``CF_HOME`` (and never trusting it for another API)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import serve
from pkglist_cloudfoundry import CloudFoundryProvider
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator

from .helpers import ACCESS_TOKEN, DEV_SPACE, MAIN_APP, PROD_SPACE, clean_env, listing, write_cf_config


def connect(environ: dict[str, str], base_url: str | None = None, **credentials: str) -> pkglist.Connection:
    settings = pkglist.Settings(
        where="cloudfoundry app-packages", base_url=base_url, credentials=credentials, environ=environ
    )
    return CloudFoundryProvider().connect(settings)


def bearer(server: Any) -> set[str]:
    return {request.headers.get("authorization", "") for request in server.requests if "/v3/" in request.path}


@pytest.fixture
def cf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cf-home"
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("CF_HOME", str(home))
    return home


def test_the_cf_login_is_reused_end_to_end(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=11)
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url + "/",
            AccessToken=f"bearer {ACCESS_TOKEN}",
            SpaceFields={"GUID": DEV_SPACE, "Name": "dev", "AllowSSH": True},
        )
        packages = listing("app-packages", app="web", page_size=4)
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert {package.name for package in packages} == {"web"}
    assert bearer(server) == {f"bearer {ACCESS_TOKEN}"}  # the stored "bearer " prefix is not doubled
    lookup = [request for request in server.requests if request.path == "/v3/apps"]
    assert len(lookup) == 1
    assert lookup[0].query["names"] == ["web"]
    assert lookup[0].query["space_guids"] == [DEV_SPACE]


def test_space_guid_option_beats_the_targeted_space(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=3)
    with serve(emulator) as server:
        write_cf_config(
            cf_home,
            Target=server.url,
            AccessToken=f"bearer {ACCESS_TOKEN}",
            SpaceFields={"GUID": DEV_SPACE, "Name": "dev"},
        )
        packages = listing("app-packages", app="web", space_guid=PROD_SPACE)
    prod_web = "1f2e3d4c-5b6a-4798-a8b7-c6d5e4f3a205"  # the other app named web, in prod
    assert [package.id for package in packages] == emulator.package_guids(prod_web)


def test_environment_beats_the_config(cf_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = CloudFoundryEmulator(packages=2)
    with serve(emulator) as server:
        write_cf_config(cf_home, Target="https://api.example.org", AccessToken="bearer stale")
        monkeypatch.setenv("CF_API", server.url)
        monkeypatch.setenv("CF_ACCESS_TOKEN", f"bearer {ACCESS_TOKEN}")  # as `cf oauth-token` prints it
        packages = listing("app-packages", app=MAIN_APP)
    assert len(packages) == 2
    assert bearer(server) == {f"bearer {ACCESS_TOKEN}"}


def test_the_login_is_not_sent_to_another_api(cf_home: Path) -> None:
    write_cf_config(
        cf_home,
        Target="https://api.example.org",
        AccessToken="bearer secret-of-example-org",
        SSLDisabled=True,
        SpaceFields={"GUID": DEV_SPACE},
    )
    with pytest.raises(pkglist.UsageError) as caught:
        connect({"CF_HOME": str(cf_home)}, base_url="https://api.elsewhere.example")
    message = str(caught.value)
    assert "logged in to https://api.example.org" in message
    assert "--token" in message
    assert "secret-of-example-org" not in message
    connection = connect({"CF_HOME": str(cf_home)}, base_url="https://api.elsewhere.example", token="mine")
    assert connection.verify  # SSLDisabled belongs to the cf target, not to this API


def test_home_directory_is_the_default_and_ssl_disabled_turns_verification_off(tmp_path: Path) -> None:
    write_cf_config(tmp_path, Target="https://api.example.org/", AccessToken="bearer abc", SSLDisabled=True)
    connection = connect({"HOME": str(tmp_path)})
    assert connection.base_url == "https://api.example.org"
    assert connection.verify is False
    assert "abc" in connection.secrets
    assert "bearer abc" not in connection.secrets


def test_ssl_disabled_warns_when_listing(cf_home: Path) -> None:
    emulator = CloudFoundryEmulator(packages=1)
    with serve(emulator) as server:
        write_cf_config(cf_home, Target=server.url, AccessToken=ACCESS_TOKEN, SSLDisabled=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            packages = listing("app-packages", app=MAIN_APP)
    assert len(packages) == 1
    assert any("TLS certificate verification is disabled" in str(warning.message) for warning in caught)


def test_no_endpoint_anywhere(tmp_path: Path) -> None:
    with pytest.raises(pkglist.UsageError, match=r"pass --base-url, set CF_API or run `cf login`"):
        connect({"HOME": str(tmp_path)}, token="t")


def test_no_token_anywhere(tmp_path: Path) -> None:
    write_cf_config(tmp_path, Target="https://api.example.org", AccessToken="", RefreshToken="")
    with pytest.raises(pkglist.UsageError) as caught:
        connect({"CF_HOME": str(tmp_path)})
    assert "no access token" in str(caught.value)
    for hint in ("--token", "CF_ACCESS_TOKEN", "cf login"):
        assert hint in str(caught.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"Target": "https://api.example.org", "AccessToken": "bearer s3cr3t-token", ', "not valid JSON"),
        ('["s3cr3t-token"]', "not a JSON object"),
        ('{"Target": ["s3cr3t-token"], "AccessToken": "x"}', "invalid Target"),
        (
            '{"Target": "https://a.example", "AccessToken": "s3cr3t-token", "SpaceFields": "dev"}',
            "SpaceFields",
        ),
        (
            '{"Target": "https://a.example", "AccessToken": "s3cr3t-token", "SSLDisabled": "yes"}',
            "SSLDisabled",
        ),
    ],
)
def test_a_broken_config_names_the_file_never_its_contents(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / ".cf" / "config.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(pkglist.UsageError) as caught:
        connect({"CF_HOME": str(tmp_path)})
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    assert "s3cr3t" not in message
    assert "\n" not in message


def test_a_broken_config_does_not_matter_when_everything_is_explicit(tmp_path: Path) -> None:
    path = tmp_path / ".cf" / "config.json"
    path.parent.mkdir()
    path.write_text("{not json")
    connection = connect({"CF_HOME": str(tmp_path)}, base_url="https://api.example.org", token="t")
    assert connection.base_url == "https://api.example.org"


def test_the_official_config_example_is_understood(tmp_path: Path) -> None:
    path = tmp_path / ".cf" / "config.json"
    path.parent.mkdir()
    path.write_text((Path(__file__).parent / "specs" / "cf_config_example.json").read_text())
    connection = connect({"CF_HOME": str(tmp_path)})
    assert connection.base_url == "https://api.example.org"
    assert connection.verify is True
    assert connection.secrets == (
        "eyJhbGciOiJSUzI1NiJ9.PAYLOAD.SIGNATURE",
        "0123456789abcdef0123456789abcdef-r",
    )
    assert "eyJ" not in repr(connection)
    assert "eyJ" not in repr(connection.auth)
    assert connection.context["space_guid"] == "4e8a2f35-9c7d-4b1e-8a41-2a1d5bd0b3c0"
    provider = CloudFoundryProvider()
    chosen = provider.listing("app-packages")
    query = provider.complete_query(chosen, chosen.query(app="my-app"), connection)
    first = provider.list_request(chosen, query, connection.base_url, 50)
    assert isinstance(first, pkglist.Lookup)  # an app given by name is looked up first
    assert first.request.url.params["space_guids"] == "4e8a2f35-9c7d-4b1e-8a41-2a1d5bd0b3c0"
