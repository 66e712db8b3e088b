"""What a provider's ``connect`` sees: the call's query (``Settings.query``), and credentials
without a CLI option (``Credential(cli=False)``), over real loopback HTTP on the toy API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pytest

import pkglist
from pkglist import _plugins
from pkglist.cli import main
from pkglist.testing import serve

from .toy import TOY_KEY, ToyEmulator, ToyProvider, ToyQuery


@attrs.frozen(kw_only=True)
class WhereQuery(ToyQuery):
    port: int | None = pkglist.option(default=None, help="Loopback port of the API (instead of --base-url).")


class WhereProvider(ToyProvider):
    """The toy API, its base URL from a query option and its key never on a command line."""

    name = "where"
    listings = (attrs.evolve(ToyProvider.listings[0], query=WhereQuery),)
    credentials = (pkglist.Credential("api_key", "Toy key.", envvars=("WHERE_KEY",), cli=False),)
    seen: list[Any] = []  # noqa: RUF012 (the queries connect saw, for the assertions)

    def connect(self, settings: pkglist.Settings) -> pkglist.Connection:
        type(self).seen.append(settings.query)
        port = getattr(settings.query, "port", None)
        if port is not None:
            settings = attrs.evolve(settings, base_url=f"http://127.0.0.1:{port}")
        return super().connect(settings)

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        return {"x-toy-key": credentials["api_key"]}


class WherePlugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [WhereProvider()]


MANAGER = pkglist.PluginManager.for_testing(WherePlugin())


@pytest.fixture
def server() -> Iterator[Any]:
    WhereProvider.seen.clear()
    with serve(ToyEmulator(packages=5)) as running:
        yield running


def test_connect_sees_the_validated_query(server: Any) -> None:
    listed = pkglist.iter_packages(
        "where", "numbered", manager=MANAGER, team="core", port=str(server.port), api_key=TOY_KEY
    )
    assert len(list(listed)) == 5
    assert WhereProvider.seen == [WhereQuery(team="core", port=server.port)]


def test_a_credential_without_a_cli_option_comes_from_the_environment(
    server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _plugins.set_plugin_manager(MANAGER)
    try:
        assert main(["where", "numbered", "--help"]) == 0
        assert "--api-key" not in capsys.readouterr().out
        assert (
            main(["where", "numbered", "--team", "core", "--port", str(server.port), "--api-key", "x"]) == 2
        )
        capsys.readouterr()
        monkeypatch.setenv("WHERE_KEY", TOY_KEY)
        assert main(["where", "numbered", "--team", "core", "--port", str(server.port), "-o", "jsonl"]) == 0
        assert len(capsys.readouterr().out.splitlines()) == 5
    finally:
        _plugins.set_plugin_manager(None)
