"""What pkglist sends: every query parameter's encoding, the paths, auth and base URL.

Each listing runs over loopback HTTP and the test reads what the emulator's
server received, so the expectations are about the wire, not about our code.
The requests built are also validated against Harness's OpenAPI specs.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import EmulatorServer
from pkglist_harness import HarnessProvider
from pkglist_harness._queries import PackagesQuery, RegistryArtifactsQuery, SpaceArtifactsQuery

from .helpers import KEY, SPACE, listing, served
from .openapi import V1_SDK, V1_SERVER, V3, check_request

REGISTRY_A = "12345678-1234-1234-1234-123456789012"  # the spec's own examples of registry_ids
REGISTRY_B = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"


@pytest.fixture(scope="module")
def shared() -> Iterator[EmulatorServer]:
    with served(packages=5) as (server, _):
        yield server


def first_request(
    server: EmulatorServer, name: str, **options: Any
) -> tuple[str, dict[str, list[str]], dict[str, str]]:
    """(raw path, query, headers) of the first request of a listing against the emulator
    (which may well answer 404: the request is what matters here)."""
    server.requests.clear()
    with contextlib.suppress(pkglist.NotFoundError):
        listing(server, name, limit=1, **options)
    sent = server.requests[0]
    return sent.path, dict(sent.query), dict(sent.headers)


# GET /har/api/v3/packages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"account_identifier": ["acme"], "page": ["0"], "size": ["1"]}),
        ({"org": "platform"}, {"org_identifier": ["platform"]}),
        ({"org": "platform", "project": "payments"}, {"project_identifier": ["payments"]}),
        ({"registry_id": [REGISTRY_A, REGISTRY_B]}, {"registry_ids": [REGISTRY_A, REGISTRY_B]}),
        ({"metadata": ["team:ledger", "env:prod:eu"]}, {"metadata": ["team:ledger", "env:prod:eu"]}),
        ({"package_kind": "model"}, {"package_kind": ["model"]}),
        ({"package_type": ["docker", "NPM", "WASM"]}, {"package_types": ["DOCKER", "NPM", "WASM"]}),
        ({"deleted": "only"}, {"deleted": ["only"]}),
        ({"sort": "modifiedAt:DESC"}, {"sort": ["modifiedAt:desc"]}),
        ({"search": "ledger & co/ü"}, {"search_term": ["ledger & co/ü"]}),
        ({"include_meta": True}, {"include_meta": ["true"]}),
    ],
)
def test_packages_parameters(
    shared: EmulatorServer, options: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    path, query, headers = first_request(shared, "packages", account="acme", **options)
    assert path == "/har/api/v3/packages"
    for key, values in expected.items():
        assert query[key] == values
    assert headers["x-api-key"] == KEY


def test_packages_unset_options_are_not_sent(shared: EmulatorServer) -> None:
    _, query, _ = first_request(shared, "packages", account="acme")
    assert set(query) == {"account_identifier", "page", "size"}


def test_arrays_are_repeated_keys_on_the_wire() -> None:
    provider = HarnessProvider()
    query = PackagesQuery(account="acme", package_type=("DOCKER", "NPM"), metadata=("a:1", "b:2"))
    request = provider.list_request(provider.listing("packages"), query, "https://app.harness.io", 50)
    raw = request.url.query.decode()
    assert "package_types=DOCKER&package_types=NPM" in raw
    assert "metadata=a%3A1&metadata=b%3A2" in raw
    assert "%2C" not in raw


def test_account_defaults_to_harness_account_id(
    shared: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_ACCOUNT_ID", "acme")
    _, query, _ = first_request(shared, "packages")
    assert query["account_identifier"] == ["acme"]


def test_packages_pages_are_zero_indexed_up_to_100() -> None:
    with served(packages=250) as (server, emulator):
        found = listing(server, "packages", account="acme", deleted="include", concurrency=1)
    pages = [sent.query["page"][0] for sent in server.requests]
    assert pages == ["0", "1", "2"]
    assert {sent.query["size"][0] for sent in server.requests} == {"100"}
    assert len(found) == 250 + sum(1 for a in emulator.catalog.fixed if a.registry.account == "acme")


# GET /har/api/v1/registry/{registry_ref}/+/artifacts ----------------------------------


@pytest.mark.parametrize(
    ("ref", "path"),
    [
        ("acme/platform/payments/docker-local", "acme/platform/payments/docker-local"),
        ("acme/platform/payments/docker-local/+", "acme/platform/payments/docker-local"),
        ("acme/platform/payments/docker-local/", "acme/platform/payments/docker-local"),
        ("acme/platform/payments/docker-local/+/", "acme/platform/payments/docker-local"),
        ("acme/generic-shared", "acme/generic-shared"),
        ("acme/platform/go-modules", "acme/platform/go-modules"),
        ("acme/org$1/reg", "acme/org%241/reg"),
    ],
)
def test_registry_ref_path(shared: EmulatorServer, ref: str, path: str) -> None:
    raw, query, _ = first_request(shared, "registry-artifacts", registry_ref=ref)
    assert raw == f"/har/api/v1/registry/{path}/+/artifacts"
    assert (query["page"], query["size"]) == (["0"], ["1"])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"label": ["team-ledger", "tier 1"]}, {"label": ["team-ledger", "tier 1"]}),
        ({"search": "fal con"}, {"search_term": ["fal con"]}),
        ({"sort_field": "downloadsCount"}, {"sort_field": ["downloadsCount"]}),
        ({"sort_order": "DESC"}, {"sort_order": ["DESC"]}),
        ({"artifact_type": "dataset"}, {"artifact_type": ["dataset"]}),
    ],
)
def test_registry_artifacts_parameters(
    shared: EmulatorServer, options: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    _, query, _ = first_request(shared, "registry-artifacts", registry_ref=f"{SPACE}/hf-models", **options)
    for key, values in expected.items():
        assert query[key] == values
    assert set(query) == {"page", "size", *expected}


# GET /har/api/v1/spaces/{space_ref}/+/artifacts ---------------------------------------


@pytest.mark.parametrize(
    "ref", ["acme", "acme/platform", "acme/platform/payments", "acme/platform/payments/+"]
)
def test_space_ref_path(shared: EmulatorServer, ref: str) -> None:
    raw, _, _ = first_request(shared, "space-artifacts", space_ref=ref)
    assert raw == f"/har/api/v1/spaces/{ref.removesuffix('/+')}/+/artifacts"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"registry": ["docker-local", "npm-proxy"]}, {"reg_identifier": ["docker-local", "npm-proxy"]}),
        ({"package_type": ["helm", "GENERIC"]}, {"package_type": ["HELM", "GENERIC"]}),
        ({"search": "ledger"}, {"search_term": ["ledger"]}),
        (
            {"sort_field": "lastModified", "sort_order": "ASC"},
            {"sort_field": ["lastModified"], "sort_order": ["ASC"]},
        ),
        ({"latest_only": True}, {"latest_version": ["true"]}),
        ({"deployed_only": True}, {"deployed_artifact": ["true"]}),
    ],
)
def test_space_artifacts_parameters(
    shared: EmulatorServer, options: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    _, query, _ = first_request(shared, "space-artifacts", space_ref=SPACE, **options)
    for key, values in expected.items():
        assert query[key] == values
    assert set(query) == {"page", "size", *expected}


# Requests against the specs -----------------------------------------------------------

_EVERYTHING = {
    "packages": PackagesQuery(
        account="acme",
        org="platform",
        project="payments",
        registry_id=(REGISTRY_A, REGISTRY_B),
        metadata=("team:ledger",),
        package_kind="model",
        package_type=("DOCKER", "HUGGINGFACE"),
        deleted="include",
        sort="name:asc",
        search="led",
        include_meta=True,
    ),
    "registry-artifacts": RegistryArtifactsQuery(
        registry_ref="acme/platform/payments/hf-models",
        label=("ml", "tier-1"),
        search="fraud",
        sort_field="name",
        sort_order="DESC",
        artifact_type="model",
    ),
    "space-artifacts": SpaceArtifactsQuery(
        space_ref="acme/platform/payments",
        registry=("docker-local", "npm-internal"),
        package_type=("DOCKER", "NPM"),
        search="a",
        sort_field="repoKey",
        sort_order="ASC",
        latest_only=True,
        deployed_only=True,
    ),
}


@pytest.mark.parametrize(
    ("name", "spec", "base"),
    [
        ("packages", V3, "https://app.harness.io"),
        ("registry-artifacts", V1_SERVER, "https://app.harness.io"),
        ("registry-artifacts", V1_SDK, "https://app.harness.io/gateway"),
        ("space-artifacts", V1_SERVER, "https://app.harness.io"),
        ("space-artifacts", V1_SDK, "https://app.harness.io/gateway"),
    ],
)
def test_requests_match_the_specs(name: str, spec: str, base: str) -> None:
    provider = HarnessProvider()
    request = provider.list_request(provider.listing(name), _EVERYTHING[name], base, 100)
    request.headers.update(provider.auth_headers({"api_key": KEY}))
    assert request.url.path.startswith(urllib.parse.urlsplit(base).path + "/har/api/")
    check_request(spec, request)


def test_spec_check_rejects_a_bad_request() -> None:
    """The request check is not vacuous: a size above the v3 maximum fails it."""
    from openapi_core.validation.request.exceptions import RequestValidationError

    request = httpx.Request("GET", "https://app.harness.io/har/api/v3/packages?account_identifier=a&size=500")
    with pytest.raises(RequestValidationError):
        check_request(V3, request)


# Credentials and base URL -------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HARNESS_PLATFORM_API_KEY": "k1", "HARNESS_API_KEY": "k2"}, "k1"),
        ({"HARNESS_API_KEY": "k2"}, "k2"),
    ],
)
def test_api_key_from_environment(environ: dict[str, str], expected: str) -> None:
    connection = HarnessProvider().connect(
        pkglist.Settings(where="harness packages", base_url=None, credentials={}, environ=environ)
    )
    assert connection.headers == {"x-api-key": expected}


def test_api_key_option_wins_over_environment() -> None:
    settings = pkglist.Settings(
        where="harness packages", base_url=None, credentials={"api_key": "given"},
        environ={"HARNESS_PLATFORM_API_KEY": "k1"},
    )  # fmt: skip
    assert HarnessProvider().connect(settings).headers == {"x-api-key": "given"}


def test_missing_api_key_is_a_usage_error() -> None:
    settings = pkglist.Settings(where="harness packages", base_url=None, credentials={}, environ={})
    with pytest.raises(pkglist.UsageError, match="HARNESS_PLATFORM_API_KEY"):
        HarnessProvider().connect(settings)


@pytest.mark.parametrize(
    ("given", "environ", "expected"),
    [
        (None, {}, "https://app.harness.io"),
        (None, {"HARNESS_ENDPOINT": "https://eu.harness.io/gateway/"}, "https://eu.harness.io/gateway"),
        ("http://127.0.0.1:9", {"HARNESS_ENDPOINT": "https://eu.harness.io"}, "http://127.0.0.1:9"),
    ],
)
def test_base_url_resolution(given: str | None, environ: dict[str, str], expected: str) -> None:
    settings = pkglist.Settings(
        where="harness packages", base_url=given, credentials={"api_key": "k"}, environ=environ
    )
    assert HarnessProvider().connect(settings).base_url == expected


def test_base_url_path_prefix_is_kept() -> None:
    with served(packages=3) as (server, _):
        found = list(
            pkglist.iter_packages(
                "harness", "space-artifacts", base_url=server.url + "/gateway", api_key=KEY, space_ref=SPACE
            )
        )
    assert found
    assert server.requests[0].path == f"/gateway/har/api/v1/spaces/{SPACE}/+/artifacts"


# Usage errors: nothing is sent --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("registry-artifacts", {"registry_ref": "acme"}, "2-4 parts"),
        ("registry-artifacts", {"registry_ref": "a/b/c/d/e"}, "2-4 parts"),
        ("registry-artifacts", {"registry_ref": "acme//reg"}, "empty segment"),
        ("registry-artifacts", {"registry_ref": "/acme/reg"}, "empty segment"),
        ("registry-artifacts", {"registry_ref": "acme/../reg"}, "'..'"),
        ("registry-artifacts", {"registry_ref": "acme/./reg"}, "'.'"),
        ("registry-artifacts", {"registry_ref": "acme/re g"}, "re g"),
        ("registry-artifacts", {"registry_ref": "acme/reg?page=9"}, "reg?page=9"),
        ("registry-artifacts", {"registry_ref": "acme/reg#x"}, "reg#x"),
        ("registry-artifacts", {"registry_ref": "acme/%2e%2e/reg"}, "%2e%2e"),
        ("registry-artifacts", {"registry_ref": "acme/+/reg"}, "'+'"),
        ("registry-artifacts", {"registry_ref": "acme/régistry"}, "régistry"),
        ("registry-artifacts", {"registry_ref": "acme/reg", "sort_order": "desc"}, "--sort-order"),
        ("registry-artifacts", {"registry_ref": "acme/reg", "sort_field": "size"}, "--sort-field"),
        ("registry-artifacts", {"registry_ref": "acme/reg", "artifact_type": "image"}, "--artifact-type"),
        ("space-artifacts", {"space_ref": ""}, "--space-ref"),
        ("space-artifacts", {"space_ref": "a/b/c/d"}, "1-3 parts"),
        ("space-artifacts", {"space_ref": "acme", "registry": ["bad/name"]}, "--registry"),
        ("packages", {"account": "acme", "registry_id": ["docker-local"]}, "--registry-id"),
        ("packages", {"account": "acme", "metadata": ["team"]}, "KEY:VALUE"),
        ("packages", {"account": "acme", "metadata": [":x"]}, "KEY:VALUE"),
        ("packages", {"account": "acme", "sort": "name"}, "FIELD:asc"),
        ("packages", {"account": "acme", "sort": "name:up"}, "FIELD:asc"),
        ("packages", {"account": "acme", "package_type": ["DOCKER!"]}, "--package-type"),
        ("packages", {"account": "acme", "deleted": "maybe"}, "--deleted"),
        ("packages", {"account": "acme", "project": "payments"}, "--project needs --org"),
        ("packages", {"account": "ac/me"}, "--account"),
    ],
)
def test_invalid_values_are_usage_errors(name: str, options: dict[str, Any], message: str) -> None:
    with served(packages=3) as (server, _):
        with pytest.raises(pkglist.UsageError) as caught:
            listing(server, name, **options)
        assert not server.requests
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_page_size_above_100_is_a_usage_error() -> None:
    with pytest.raises(pkglist.UsageError, match="at most 100"):
        pkglist.iter_packages("harness", "packages", account="acme", api_key="k", page_size=101)
