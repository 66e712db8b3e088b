"""The emulator: its responses against the official specs, its paging envelopes and quirks, its scale."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pkglist.testing import EmulatorServer
from pkglist_harness._data import DELETED_PERIOD

from .helpers import KEY, SPACE, get, listing, names, registry, served, spaces, v3
from .openapi import V1_CLI, V1_SDK, V1_SERVER, V1_SPECS, V3, check_response


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[EmulatorServer, Any]]:
    with served(packages=40) as pair:
        yield pair


# Responses against the specs ----------------------------------------------------------


V3_CASES = [
    {},
    {"org_identifier": "platform", "project_identifier": "payments", "include_meta": True, "size": 100},
    {"deleted": "only", "sort": "name:desc", "search_term": "a", "page": 0, "size": 5},
    {"package_types": ["HUGGINGFACE", "WASM"], "package_kind": "model"},
    {"metadata": ["team:ledger"], "registry_ids": ["12345678-1234-1234-1234-123456789012"]},
    {"page": 99},
    # errors
    {"account_identifier": "no-such-account"},
    {"org_identifier": "platform", "project_identifier": "nope"},
    {"size": 101},
    {"deleted": "sometimes"},
    {"sort": "colour:asc"},
    {"registry_ids": ["docker-local"]},
    {"project_identifier": "payments"},
]


@pytest.mark.parametrize("params", V3_CASES)
def test_v3_responses_match_the_spec(world: tuple[EmulatorServer, Any], params: dict[str, Any]) -> None:
    server, _ = world
    check_response(V3, v3(server, **params))


def test_v3_error_without_key_matches_the_spec(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    response = get(server, "/har/api/v3/packages", {"account_identifier": "acme"}, key=None)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "AUTHENTICATION_ERROR"
    check_response(V3, response)


# The CLI's spec only knows DOCKER, MAVEN, GENERIC and HELM; the server's lacks WASM.
_V1_TYPES = {
    V1_CLI: ["DOCKER", "MAVEN", "GENERIC", "HELM"],
    V1_SERVER: ["DOCKER", "NPM", "HUGGINGFACE", "MAVEN"],
}
REGISTRY_CASES = [
    ("docker-local", {"page": 0, "size": 7}),
    ("docker-local", {"page": 1, "size": 7, "sort_field": "name", "sort_order": "DESC"}),
    ("docker-local", {"label": ["team-ledger", "tier-1"], "search_term": "a"}),
    ("docker-local", {}),
    ("docker-local", {"page": 50, "size": 10}),
    ("maven-releases", {"page": 0, "size": 2}),
    ("hf-models", {"artifact_type": "model"}),
    ("npm-internal", {"page": 0, "size": 10}),
    # errors
    ("no-such-registry", {}),
    ("docker-local", {"artifact_type": "model"}),
]


@pytest.mark.parametrize("spec", V1_SPECS)
@pytest.mark.parametrize(("registry_name", "params"), REGISTRY_CASES)
def test_registry_responses_match_the_specs(
    world: tuple[EmulatorServer, Any], spec: str, registry_name: str, params: dict[str, Any]
) -> None:
    server, emulator = world
    registry_obj = next((r for r in emulator.catalog.registries if r.identifier == registry_name), None)
    if spec == V1_CLI and registry_obj is not None and registry_obj.package_type not in _V1_TYPES[V1_CLI]:
        pytest.skip("package type unknown to this spec")
    prefix = "/gateway" if spec == V1_SDK else ""
    response = get(server, f"{prefix}/har/api/v1/registry/{SPACE}/{registry_name}/+/artifacts", params)
    check_response(spec, response)


SPACE_CASES = [
    {"page": 0, "size": 20},
    {"page": 0, "size": 20, "latest_version": True, "sort_field": "downloadsCount", "sort_order": "DESC"},
    {"deployed_artifact": True, "search_term": "a"},
    {"reg_identifier": ["docker-local", "npm-proxy"], "page": 1, "size": 5},
    {"page": 999, "size": 20},
]


@pytest.mark.parametrize("spec", V1_SPECS)
@pytest.mark.parametrize("params", SPACE_CASES)
def test_space_responses_match_the_specs(
    world: tuple[EmulatorServer, Any], spec: str, params: dict[str, Any]
) -> None:
    server, _ = world
    params = {"package_type": _V1_TYPES.get(spec, ["DOCKER", "NPM", "HELM", "PYTHON", "GO"]), **params}
    prefix = "/gateway" if spec == V1_SDK else ""
    for ref in ("acme", SPACE, "no-such-account", "acme/no-such-org"):
        check_response(spec, get(server, f"{prefix}/har/api/v1/spaces/{ref}/+/artifacts", params))


def test_v1_auth_error_matches_the_specs(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    response = get(server, f"/har/api/v1/spaces/{SPACE}/+/artifacts", key="wrong")
    assert response.status_code == 401
    assert response.json()["code"] == "401"
    for spec in V1_SPECS:
        check_response(spec, response)


def test_the_spec_check_is_not_vacuous(world: tuple[EmulatorServer, Any]) -> None:
    from openapi_core.validation.response.exceptions import ResponseValidationError

    server, _ = world
    good = registry(server, f"{SPACE}/docker-local", page=0, size=3)
    body = good.json()
    del body["data"]["artifacts"][0]["name"]
    broken = httpx.Response(200, json=body, request=good.request)
    with pytest.raises(ResponseValidationError):
        check_response(V1_SERVER, broken)
    v3_good = v3(server)
    v3_body = v3_good.json()
    v3_body["hasMore"] = "yes"
    with pytest.raises(ResponseValidationError):
        check_response(V3, httpx.Response(200, json=v3_body, request=v3_good.request))


# v3 paging and filters ----------------------------------------------------------------


def acme_packages(catalog: Any) -> list[Any]:
    """Every package of account acme in creation order: the fixed ones, then the main set."""
    fixed = [a for a in catalog.fixed if a.registry.space.split("/")[0] == "acme"]
    return [*fixed, *(catalog.main(i) for i in range(catalog.size))]


def test_v3_envelope_and_has_more(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    total = (
        40
        - 40 // DELETED_PERIOD
        + sum(1 for a in acme_packages(emulator.catalog)[:-40] if a.deleted_ms is None)
    )
    first = v3(server, size=10).json()
    assert (first["page"], first["size"], first["hasMore"], len(first["items"])) == (0, 10, True, 10)
    assert "meta" not in first
    last_page = math.ceil(total / 10) - 1
    last = v3(server, size=10, page=last_page).json()
    assert last["hasMore"] is False
    assert len(last["items"]) == total - 10 * last_page
    assert v3(server, size=10, page=last_page + 1).json()["items"] == []


def test_v3_default_size_is_20_and_max_100(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    assert len(v3(server).json()["items"]) == 20
    assert v3(server, size=100).status_code == 200
    assert v3(server, size=101).status_code == 400
    assert v3(server, size=0).status_code == 400


def test_v3_meta_counts(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    catalog = emulator.catalog
    everything = acme_packages(catalog)
    deleted = sum(1 for a in everything if a.deleted_ms is not None)
    meta = v3(server, include_meta=True).json()["meta"]
    assert meta == {"activeCount": len(everything) - deleted, "deletedCount": deleted}
    # Filtered listings count what matches (scanned, not closed form).
    search = v3(server, include_meta=True, search_term="amber", deleted="only").json()
    amber = [a for a in everything if "amber" in a.name]
    assert search["meta"]["activeCount"] == sum(1 for a in amber if a.deleted_ms is None)
    assert [item["name"] for item in search["items"]] == [a.name for a in amber if a.deleted_ms][:20]


@pytest.mark.parametrize("deleted", ["exclude", "include", "only"])
def test_v3_deleted_filter_follows_the_data(world: tuple[EmulatorServer, Any], deleted: str) -> None:
    server, emulator = world
    catalog = emulator.catalog
    everything = acme_packages(catalog)
    wanted = {"exclude": [False], "include": [False, True], "only": [True]}[deleted]
    expected = [a.uuid for a in everything if (a.deleted_ms is not None) in wanted]
    found = [p.id for p in listing(server, "packages", account="acme", deleted=deleted, page_size=7)]
    assert found == expected


def test_v3_scopes_and_filters(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    main = emulator.main_registry
    assert names(v3(server, org_identifier="default", size=100)) == ["hello-world"]
    assert names(v3(server, org_identifier="platform", project_identifier="web")) == []
    assert names(v3(server, package_types=["WASM"])) == ["edge-filter"]
    assert names(v3(server, package_types="HUGGINGFACE", package_kind="dataset")) == ["transactions-2024"]
    only_main = v3(server, registry_ids=main.uuid, size=100).json()["items"]
    assert {item["registryName"] for item in only_main} == {main.identifier}
    ledger = v3(server, metadata=["team:ledger"], size=100).json()["items"]
    assert ledger
    assert all(
        emulator.catalog.main(int(item["name"].rsplit("-", 1)[1])).metadata["team"] == "ledger"
        for item in ledger
        if item["registryName"] == main.identifier
    )
    by_name = names(v3(server, sort="name:asc", size=100))
    assert by_name == sorted(by_name)
    by_downloads = [
        item["downloadCount"] for item in v3(server, sort="downloadCount:desc", size=100).json()["items"]
    ]
    assert by_downloads == sorted(by_downloads, reverse=True)


def test_accounts_are_separate(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    assert names(v3(server, account_identifier="globex")) == ["globex-api"]
    assert "globex-api" not in names(v3(server, size=100, deleted="include"))
    assert names(registry(server, "globex/containers")) == ["globex-api"]
    assert registry(server, "globex/docker-local").status_code == 400  # registry not found


def test_v3_sort_works_through_pkglist(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    found = listing(server, "packages", account="acme", sort="modifiedAt:desc", page_size=9)
    stamps = [p.updated_at for p in found]
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]
    assert len(found) == len({p.id for p in found})


# v1 paging quirks ---------------------------------------------------------------------


def test_v1_pages_are_zero_indexed(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    ref = emulator.main_registry.path
    expected = [emulator.catalog.main(i).name for i in range(40)]
    assert names(registry(server, ref, page=0, size=7)) == expected[:7]
    assert names(registry(server, ref, page=1, size=7)) == expected[7:14]
    data = registry(server, ref, page=1, size=7).json()["data"]
    assert (data["pageIndex"], data["pageSize"], data["itemCount"], data["pageCount"]) == (1, 7, 40, 6)


def test_v1_without_size_pages_are_10_and_page_is_ignored(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    ref = emulator.main_registry.path
    expected = [emulator.catalog.main(i).name for i in range(10)]
    assert names(registry(server, ref)) == expected
    data = registry(server, ref, page=3).json()["data"]
    assert [a["name"] for a in data["artifacts"]] == expected
    assert (data["pageSize"], data["pageIndex"]) == (10, 3)
    assert registry(server, ref, size=5).json()["data"]["pageIndex"] == 1  # no page: 1


def test_v1_page_past_the_end_is_empty(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    response = registry(server, emulator.main_registry.path, page=100, size=10)
    assert response.status_code == 200
    assert response.json()["data"]["artifacts"] == []


def test_v1_counts_are_inflated_outside_docker() -> None:
    with served(packages=30, main_package_type="MAVEN") as (server, emulator):
        ref = emulator.main_registry.path
        data = registry(server, ref, page=0, size=10).json()["data"]
        versions = sum(len(emulator.catalog.main(i).versions) for i in range(30))
        assert (data["itemCount"], data["pageCount"]) == (versions, math.ceil(versions / 10))
        assert versions > 30
        found = listing(server, "registry-artifacts", registry_ref=ref, page_size=10)
        pages = [sent.query["page"][0] for sent in server.requests if "artifacts" in sent.path]
    assert [p.id for p in found] == [emulator.catalog.main(i).uuid for i in range(30)]
    assert "3" in pages  # the empty page after the last real one ended the listing


def test_v1_sort_order_is_descending_only_for_exactly_desc(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    ref = emulator.main_registry.path
    ascending = names(registry(server, ref, sort_field="name", size=40))
    assert ascending == sorted(ascending)
    assert names(registry(server, ref, sort_field="name", sort_order="DESC", size=40)) == ascending[::-1]
    assert names(registry(server, ref, sort_field="name", sort_order="desc", size=40)) == ascending
    natural = [emulator.catalog.main(i).name for i in range(40)]
    assert names(registry(server, ref, sort_field="size", size=40)) == natural  # unknown: creation order


def test_v1_labels_and_search(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    catalog = emulator.catalog
    expected = [catalog.main(i).name for i in range(40) if "tier-1" in (catalog.main(i).labels or ())]
    assert names(registry(server, emulator.main_registry.path, label="tier-1", size=40)) == expected
    assert names(registry(server, f"{SPACE}/npm-internal", search_term="KIT")) == ["@acme/ui-kit"]
    assert names(registry(server, f"{SPACE}/hf-models", artifact_type="dataset")) == ["transactions-2024"]
    labels = [a["labels"] for a in registry(server, f"{SPACE}/npm-internal").json()["data"]["artifacts"]]
    assert labels == [None, ["team-web"]]


def test_v1_timestamps_are_millisecond_strings(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    items = registry(server, f"{SPACE}/maven-releases").json()["data"]["artifacts"]
    assert all(isinstance(a["lastModified"], str) and a["lastModified"].isdigit() for a in items)
    deleted = [a for a in items if "deletedAt" in a]
    assert [a["name"] for a in deleted] == ["legacy-client"]
    assert deleted[0]["deletedAt"].isdigit()


def test_space_rows_per_version(world: tuple[EmulatorServer, Any]) -> None:
    server, emulator = world
    catalog = emulator.catalog
    rows = listing(server, "space-artifacts", space_ref=SPACE, registry=[emulator.main_registry.identifier])
    expected = [(catalog.main(i).name, v) for i in range(40) for v in catalog.main(i).versions]
    assert [(row.name, row.version) for row in rows] == expected
    latest = spaces(
        server, SPACE, reg_identifier=emulator.main_registry.identifier, latest_version=True, size=100
    )
    data = latest.json()["data"]
    assert len(data["artifacts"]) == 40
    assert data["itemCount"] == len(expected)  # counts versions: too high with latest_version
    deployed = listing(server, "space-artifacts", space_ref="acme", deployed_only=True)
    assert deployed
    assert all(row.extra["prod_env_count"] + row.extra["non_prod_env_count"] > 0 for row in deployed)


def test_space_scope_covers_the_spaces_below(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    registries = {
        a["registryPath"]
        for a in spaces(server, "acme/platform", size=100, latest_version=True).json()["data"]["artifacts"]
    }
    assert "acme/platform/go-modules" in registries
    assert "acme/generic-shared" not in registries
    assert all(path.startswith("acme/platform/") for path in registries)


# Refs, routes and malformed parameters ------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/har/api/v1/registry/acme/+/artifacts",  # no registry
        "/har/api/v1/registry/acme/a/b/c/d/+/artifacts",  # too deep
        "/har/api/v1/registry/acme//docker-local/+/artifacts",
        "/har/api/v1/registry/acme/%2E%2E/docker-local/+/artifacts",
        "/har/api/v1/registry/acme/pl%20atform/docker-local/+/artifacts",
        "/har/api/v1/spaces/+/artifacts",
        "/har/api/v1/spaces/a/b/c/d/+/artifacts",
    ],
)
def test_bad_ref_is_400(world: tuple[EmulatorServer, Any], path: str) -> None:
    server, _ = world
    response = get(server, path)
    assert response.status_code == 400
    assert response.json()["code"] == "400"
    check_response(V1_SERVER, response)


def test_unknown_ref_is_what_the_server_answers(world: tuple[EmulatorServer, Any]) -> None:
    """A failed lookup is a 400 with the lookup's error, as GetRegistryRequestBaseInfo returns it."""
    server, _ = world
    cases = [
        (registry(server, "acme/platform/payments/nope"), "registry not found: "),
        (registry(server, "initech/docker-local"), "root space not found: "),
        (registry(server, "acme/nope/docker-local"), "parent space not found: "),
        (spaces(server, "acme/nope"), "parent space not found: "),
        (spaces(server, "initech"), "root space not found: "),
    ]
    for response, prefix in cases:
        assert response.status_code == 400
        body = response.json()
        assert body.keys() == {"code", "message"}
        assert body["code"] == "400"
        assert body["message"].startswith(prefix)
        assert body["message"].endswith("resource not found")
        check_response(V1_SERVER, response)


def test_encoded_ref_and_gateway_prefix(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    encoded = SPACE.replace("/", "%2F") + "%2Fdocker-local"
    plain = names(registry(server, f"{SPACE}/docker-local"))
    assert names(get(server, f"/har/api/v1/registry/{encoded}/artifacts")) == plain
    assert names(get(server, f"/gateway/har/api/v1/registry/{SPACE}/docker-local/+/artifacts")) == plain


def test_multi_segment_ref_without_plus_matches_no_route(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    response = get(server, f"/har/api/v1/registry/{SPACE}/docker-local/artifacts")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/har/api/v3/packages", {"account_identifier": "acme", "size": "abc"}),
        ("/har/api/v3/packages", {"account_identifier": "acme", "include_meta": "yes"}),
        (f"/har/api/v1/registry/{SPACE}/docker-local/+/artifacts", {"page": "1.5"}),
        (f"/har/api/v1/spaces/{SPACE}/+/artifacts", {"latest_version": "maybe"}),
    ],
)
def test_malformed_parameters_are_plain_text_400(
    world: tuple[EmulatorServer, Any], path: str, params: dict[str, str]
) -> None:
    server, _ = world
    response = get(server, path, params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Invalid format for parameter ")
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_key_is_checked(world: tuple[EmulatorServer, Any]) -> None:
    server, _ = world
    assert get(server, f"/har/api/v1/spaces/{SPACE}/+/artifacts", key=None).status_code == 401
    assert get(server, f"/har/api/v1/spaces/{SPACE}/+/artifacts", key=KEY).status_code == 200


# Scale --------------------------------------------------------------------------------


def test_a_million_packages_page_in_constant_time() -> None:
    with served(packages=1_000_000) as (server, emulator):
        ref = emulator.main_registry.path
        started = time.perf_counter()
        deep = v3(server, size=100, page=9_000).json()
        rows = spaces(server, SPACE, page=19_000, size=100).json()["data"]
        artifacts = registry(server, ref, page=9_999, size=100).json()["data"]
        elapsed = time.perf_counter() - started
    assert len(deep["items"]) == 100
    assert deep["hasMore"] is True
    assert len(rows["artifacts"]) == 100
    main_versions = sum(1 + i % 3 for i in range(1_000_000))  # the documented version counts
    assert rows["itemCount"] == main_versions + sum(
        len(a.versions) for a in emulator.catalog.fixed if a.registry.space.startswith(SPACE)
    )
    assert [a["name"] for a in artifacts["artifacts"]][-1] == emulator.catalog.main(999_999).name
    assert elapsed < 2.0, f"deep pages took {elapsed:.2f}s"


def test_include_meta_counts_are_logged(
    world: tuple[EmulatorServer, Any], caplog: pytest.LogCaptureFixture
) -> None:
    server, emulator = world
    caplog.set_level("INFO", logger="pkglist.harness")
    listing(server, "packages", account="acme", org="default", include_meta=True)
    listing(server, "packages", account="acme", org="default")
    sandbox = [a for a in emulator.catalog.fixed if a.registry.space == "acme/default/sandbox"]
    deleted = sum(1 for a in sandbox if a.deleted_ms is not None)
    messages = [record.getMessage() for record in caplog.records if record.name == "pkglist.harness"]
    assert messages == [f"harness packages: activeCount={len(sandbox) - deleted} deletedCount={deleted}"]


def test_scanned_and_closed_form_selections_agree(world: tuple[EmulatorServer, Any]) -> None:
    """Every main package's name has a '-': searching for it takes the scanning path."""
    server, emulator = world
    main = emulator.main_registry
    for latest in (False, True):
        plain = spaces(server, SPACE, reg_identifier=main.identifier, latest_version=latest, size=200)
        scanned = spaces(
            server, SPACE, reg_identifier=main.identifier, latest_version=latest, size=200, search_term="-"
        )
        assert plain.json() == scanned.json()
    for deleted in ("exclude", "include", "only"):
        plain = v3(server, registry_ids=main.uuid, deleted=deleted, include_meta=True, size=100)
        scanned = v3(
            server, registry_ids=main.uuid, deleted=deleted, include_meta=True, size=100, search_term="-"
        )
        assert plain.json() == scanned.json()
    assert (
        registry(server, main.path, size=100).json()
        == registry(server, main.path, size=100, search_term="-").json()
    )
