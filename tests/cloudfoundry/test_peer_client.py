"""An unmodified public CF client (``cloudfoundry-client`` on PyPI) lists the same app packages
from the emulator as pkglist does: the proof that the emulator speaks real Cloud Foundry.

The client reads ``GET /`` for the login link, gets a token from UAA's ``/oauth/token``
(password grant, or refresh_token grant from the cf CLI config), then follows the V3
``pagination.next.href`` links of ``GET /v3/apps/{guid}/packages``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pkglist.testing import serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, PASSWORD, USERNAME, CloudFoundryEmulator

from .helpers import DEV_SPACE, MAIN_APP, REFRESH_TOKEN, clean_env, listing, write_cf_config

cloudfoundry_client = pytest.importorskip("cloudfoundry_client.client")


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_the_peer_client_lists_what_pkglist_lists() -> None:
    emulator = CloudFoundryEmulator(packages=37, seed=11)
    with serve(emulator) as server:
        client = cloudfoundry_client.CloudFoundryClient(server.url)
        client.init_with_user_credentials(USERNAME, PASSWORD)
        theirs = [package["guid"] for package in client.v3.apps.list_packages(MAIN_APP, per_page=5)]
        ours = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app="web",
            space_guid=DEV_SPACE,
            page_size=5,
        )
        peer_pages = [
            r
            for r in server.requests
            if r.path.endswith("/packages")
            and "user-agent" in r.headers
            and r.headers["user-agent"] == "cf-python-client"
        ]
    assert len(theirs) == 37
    assert [package.id for package in ours] == theirs
    assert len(peer_pages) == 8  # it followed the absolute next links to the end
    assert emulator.grants == ["password"]


def test_the_peer_client_reads_the_same_cf_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``build_from_cf_config`` uses Target and RefreshToken of the file pkglist reuses too."""
    clean_env(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("CF_HOME", str(tmp_path))
    emulator = CloudFoundryEmulator(packages=12, seed=2)
    with serve(emulator) as server:
        path = write_cf_config(
            tmp_path,
            Target=server.url,
            AccessToken=f"bearer {ACCESS_TOKEN}",
            RefreshToken=REFRESH_TOKEN,
            UaaEndpoint=server.url,
            AuthorizationEndpoint=server.url,
            SpaceFields={"GUID": DEV_SPACE, "Name": "dev"},
        )
        client = cloudfoundry_client.CloudFoundryClient.build_from_cf_config(str(path))
        theirs = [package["guid"] for package in client.v3.apps.list_packages(MAIN_APP, per_page=4)]
        emulator.expire_tokens()  # both refresh through UAA when told the token is invalid
        again = [package["guid"] for package in client.v3.apps.list_packages(MAIN_APP, per_page=4)]
        ours = listing("app-packages", app="web", page_size=4)  # the same expired login, refreshed
    assert theirs == again == [package.id for package in ours]
    assert theirs == emulator.package_guids(MAIN_APP)
    assert emulator.grants == ["refresh_token"] * 3
