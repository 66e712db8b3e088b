"""Vetting plugins: a broken one is reported and skipped, never taking the others down."""

from __future__ import annotations

import warnings

import pytest

import pkglist

from .toy import ToyPlugin, ToyProvider


class UnknownHook:
    @pkglist.hookimpl
    def pkglist_frobnicate(self) -> None: ...


class NotAProvider:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[object]:
        return ["harness"]


class Failing:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[object]:
        raise RuntimeError("database unreachable")


class BadName(ToyProvider):
    name = "Has Spaces"


class ClashingOption(ToyProvider):
    name = "clash"
    credentials = (pkglist.Credential("limit", "?"),)


def plugin_of(*providers: pkglist.Provider) -> object:
    class Plugin:
        @pkglist.hookimpl
        def pkglist_providers(self) -> list[pkglist.Provider]:
            return list(providers)

    return Plugin()


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [
        (UnknownHook(), "implements unknown hook 'pkglist_frobnicate'"),
        (NotAProvider(), "yields 'harness', which is not a pkglist.Provider"),
        (Failing(), "pkglist_providers failed: RuntimeError: database unreachable"),
        (plugin_of(BadName()), "invalid name 'Has Spaces'"),
        (plugin_of(ClashingOption()), "credential name clashes with a common option"),
        (plugin_of(ToyProvider()), "provider 'toy' is already provided by 'toy-plugin'"),
    ],
)
def test_a_broken_plugin_is_rejected_naming_it(plugin: object, reason: str) -> None:
    manager = pkglist.PluginManager.for_testing()
    manager.register(ToyPlugin(), name="toy-plugin")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(pkglist.PluginError, match="plugin 'broken' rejected") as caught:
            manager.register(plugin, name="broken")
    assert reason in str(caught.value)
    assert list(manager.providers()) == ["toy"]
    statuses = {record.name: record.status for record in manager.plugins()}
    assert statuses == {"toy-plugin": "active", "broken": "failed"}


def test_unknown_provider_suggests_the_closest_one() -> None:
    manager = pkglist.PluginManager.for_testing(ToyPlugin())
    with pytest.raises(pkglist.UsageError, match="unknown provider 'tyo'; did you mean 'toy'"):
        manager.provider("tyo")
    with pytest.raises(pkglist.UsageError, match="unknown listing 'numberd'; did you mean 'numbered'"):
        manager.provider("toy").listing("numberd")


def test_the_default_plugin_is_skipped_only_when_nobody_else_implements_the_stage() -> None:
    class Wrapper:
        @pkglist.hookimpl(wrapper=True)
        def pkglist_normalize(self, provider, listing, query, raw):  # type: ignore[no-untyped-def]
            return (yield)

    assert pkglist.PluginManager.for_testing(ToyPlugin()).only_default("pkglist_normalize")
    assert not pkglist.PluginManager.for_testing(ToyPlugin(), Wrapper()).only_default("pkglist_normalize")
