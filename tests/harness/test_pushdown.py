"""``--where`` conditions the Harness APIs filter on reach the server, and never change the result."""

from __future__ import annotations

import pytest

from pkglist._pushdown import explain
from tests.support.pushdown import list_planned, planned

from .helpers import ACCOUNT, KEY, SPACE, listing, served


@pytest.mark.parametrize(
    ("where", "sent"),
    [
        (["package_type in DOCKER,HELM"], {"package_types": ["DOCKER", "HELM"]}),
        (["package_type=NPM", "name~a"], {"package_types": ["NPM"]}),
        (["state=deleted"], {"deleted": ["only"]}),
        (["state!=deleted"], {"deleted": ["exclude"]}),
        (["state in deleted,quarantined"], {"deleted": ["include"]}),
        (["state not in active"], {"deleted": ["include"]}),
        (["state=quarantined"], {"deleted": ["exclude"]}),
    ],
)
def test_packages_pushdown(where: list[str], sent: dict[str, list[str]]) -> None:
    with served(packages=300) as (server, _):
        chosen = planned("harness", "packages", where, {"account": ACCOUNT})
        server.requests.clear()
        got = list_planned("harness", "packages", chosen, api_key=KEY, base_url=server.url)
        query = server.requests[0].query
        for name, values in sent.items():
            assert query[name] == values
        # Every package the API has (deleted ones too when a state condition asks for them), filtered here.
        deleted = "include" if chosen.query.deleted else None  # type: ignore[attr-defined]
        everything = chosen.filter.select(listing(server, "packages", account=ACCOUNT, deleted=deleted))
    assert got, "the seeded data set has packages that match"
    assert sorted(package.id for package in got) == sorted(package.id for package in everything)


def test_deleted_packages_are_only_seen_through_the_pushdown() -> None:
    with served(packages=300) as (server, _):
        chosen = planned("harness", "packages", ["state=deleted"], {"account": ACCOUNT})
        pushed = list_planned("harness", "packages", chosen, api_key=KEY, base_url=server.url)
        unpushed = chosen.filter.select(listing(server, "packages", account=ACCOUNT))
    assert pushed
    assert {package.state for package in pushed} == {"deleted"}
    assert unpushed == []  # the API's default leaves deleted packages out


def test_an_explicit_deleted_option_is_kept() -> None:
    chosen = planned("harness", "packages", ["state=deleted"], {"account": ACCOUNT, "deleted": "include"})
    assert chosen.query.deleted == "include"  # type: ignore[attr-defined]
    assert explain(chosen) == ["local   state=deleted  (--deleted include is set)"]


def test_space_artifacts_package_type_pushdown() -> None:
    with served(packages=300) as (server, _):
        chosen = planned("harness", "space-artifacts", ["package_type=HELM"], {"space_ref": SPACE})
        server.requests.clear()
        got = list_planned("harness", "space-artifacts", chosen, api_key=KEY, base_url=server.url)
        assert server.requests[0].query["package_type"] == ["HELM"]
        everything = chosen.filter.select(listing(server, "space-artifacts", space_ref=SPACE))
    assert got
    assert {package.package_type for package in got} == {"HELM"}
    assert sorted(package.id for package in got) == sorted(package.id for package in everything)
