"""The emulator speaks Cloud Foundry: documented error bodies, paging envelopes, filters, scale."""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import httpx
import pytest

from pkglist.testing import Request, serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator

from .helpers import DEV_SPACE, MAIN_APP, WORKER_APP, listing, spec

AUTH = {"authorization": f"bearer {ACCESS_TOKEN}"}
BASE = "https://api.example.org"


def get(emulator: CloudFoundryEmulator, target: str, headers: dict[str, str] | None = None) -> Any:
    request = Request.from_target("GET", target, AUTH if headers is None else headers, b"", BASE)
    return emulator.handle(request)


def body(response: Any) -> Any:
    return json.loads(response.body)


def derived(scenario_start: str) -> tuple[int, Any]:
    for example in spec("error_examples_derived.json"):
        if example["scenario"].startswith(scenario_start):
            return example["http_status"], example["body"]
    raise LookupError(scenario_start)


@pytest.mark.parametrize(
    ("target", "headers", "scenario"),
    [
        (f"/v3/apps/{'0' * 8}-0000-4000-8000-{'0' * 12}/packages", None, "GET /v3/apps/{unknown"),
        (f"/v3/packages/{'0' * 8}-0000-4000-8000-{'0' * 12}", None, "GET /v3/packages/{unknown"),
        ("/v3/packages?per_page=0", None, "per_page=0"),
        ("/v3/packages?per_page=abc", None, "per_page=0"),
        ("/v3/packages?per_page=5001", None, "per_page=5001"),
        (f"/v3/apps/{MAIN_APP}/packages?page=0", None, "page=0"),
        ("/v3/packages?page=abc", None, "page=0"),
        ("/v3/packages?order_by=name", None, "order_by=name"),
        (f"/v3/apps/{MAIN_APP}/packages?space_guids=x", None, "GET /v3/apps/{guid}/packages?space_guids"),
        ("/v3/packages", {}, "no Authorization header"),
        ("/v3/packages", {"authorization": "bearer nope"}, "invalid or expired"),
    ],
)
def test_documented_error_bodies(target: str, headers: dict[str, str] | None, scenario: str) -> None:
    status, expected = derived(scenario)
    response = get(CloudFoundryEmulator(packages=3), target, headers)
    assert (response.status, body(response)) == (status, expected)
    assert dict(response.headers)["Content-Type"] == "application/json"


def test_envelope_links_are_absolute_with_sorted_keys() -> None:
    emulator = CloudFoundryEmulator(packages=7)
    target = f"/v3/apps/{MAIN_APP}/packages?types=bits%2Cdocker&per_page=2&page=2&created_ats%5Bgt%5D=2020-01-01T00:00:00Z"
    pagination = body(get(emulator, target))["pagination"]
    base = f"{BASE}/v3/apps/{MAIN_APP}/packages?created_ats%5Bgt%5D=2020-01-01T00%3A00%3A00Z"
    assert pagination == {
        "total_results": 7,
        "total_pages": 4,
        "first": {"href": base + "&page=1&per_page=2&types=bits%2Cdocker"},
        "last": {"href": base + "&page=4&per_page=2&types=bits%2Cdocker"},
        "next": {"href": base + "&page=3&per_page=2&types=bits%2Cdocker"},
        "previous": {"href": base + "&page=1&per_page=2&types=bits%2Cdocker"},
    }
    for link in ("first", "last", "next", "previous"):
        query = urllib.parse.urlsplit(pagination[link]["href"]).query
        keys = [key for key, _ in urllib.parse.parse_qsl(query)]
        assert keys == sorted(keys)


def test_an_empty_list_has_one_page_and_no_next() -> None:
    envelope = body(get(CloudFoundryEmulator(packages=0), f"/v3/apps/{MAIN_APP}/packages"))
    assert envelope["resources"] == []
    assert envelope["pagination"]["total_pages"] == 1
    assert envelope["pagination"]["total_results"] == 0
    assert envelope["pagination"]["next"] is None
    assert envelope["pagination"]["previous"] is None


def test_resources_have_the_presenter_shape() -> None:
    """Same keys as the official examples; docker packages have no upload/download links."""
    emulator = CloudFoundryEmulator(packages=60)
    resources = body(get(emulator, f"/v3/apps/{MAIN_APP}/packages?per_page=60"))["resources"]
    by_type = {resource["type"]: resource for resource in resources}
    assert set(by_type) == {"bits", "docker"}
    bits, docker = spec("package_bits.json"), spec("package_docker.json")
    assert by_type["bits"].keys() == bits.keys()
    assert by_type["bits"]["data"].keys() == bits["data"].keys()
    assert by_type["docker"].keys() == docker.keys()
    assert by_type["docker"]["data"].keys() == docker["data"].keys()
    assert set(by_type["bits"]["links"]) == {"self", "upload", "download", "app"}
    assert set(by_type["docker"]["links"]) == {"self", "app"}
    states = {resource["state"] for resource in resources}
    assert {"READY", "FAILED", "EXPIRED", "AWAITING_UPLOAD"} <= states
    with_password = [r for r in resources if r["type"] == "docker" and r["data"]["username"]]
    assert with_password
    assert all(r["data"]["password"] == "***" for r in with_password)


def test_root_document_has_the_official_shape_on_the_emulator_url() -> None:
    root = body(CloudFoundryEmulator().handle(Request.from_target("GET", "/", {}, b"", "http://127.0.0.1:9")))
    official = spec("global_root.json")
    assert root["links"].keys() == official["links"].keys()
    for name in ("self", "login", "uaa"):
        assert root["links"][name]["href"] == "http://127.0.0.1:9"
    assert root["links"]["cloud_controller_v3"]["href"] == "http://127.0.0.1:9/v3"


def test_rate_limit_headers_and_429_served_as_text_plain() -> None:
    emulator = CloudFoundryEmulator(packages=3, rate_limit=2, rate_window=3600)
    first, second, third = (get(emulator, "/v3/packages") for _ in range(3))
    assert [response.status for response in (first, second, third)] == [200, 200, 429]
    headers = dict(third.headers)
    example = spec("rate_limit_example.json")["response_429"]
    assert headers.keys() >= example["headers"].keys()
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Limit"] == "2"
    assert 3590 <= int(headers["Retry-After"]) <= 3600
    assert int(headers["X-RateLimit-Reset"]) - time.time() > 3500
    assert body(third) == example["body"]
    assert dict(first.headers)["X-RateLimit-Remaining"] == "1"


def test_uaa_token_endpoint() -> None:
    emulator = CloudFoundryEmulator()

    def token(form: dict[str, str], client: bytes = b"cf:") -> Any:
        import base64

        headers = {"authorization": "Basic " + base64.b64encode(client).decode()}
        encoded = urllib.parse.urlencode(form).encode()
        return emulator.handle(Request.from_target("POST", "/oauth/token", headers, encoded, BASE))

    refreshed = token({"grant_type": "refresh_token", "refresh_token": emulator.refresh_token})
    assert refreshed.status == 200
    new = body(refreshed)["access_token"]
    assert body(refreshed)["token_type"] == "bearer"
    emulator.expire_tokens()
    assert get(emulator, "/v3/packages").status == 401
    assert get(emulator, "/v3/packages", {"authorization": f"Bearer {new}"}).status == 401
    refreshed = token({"grant_type": "refresh_token", "refresh_token": emulator.refresh_token})
    assert (
        get(emulator, "/v3/packages", {"authorization": f"Bearer {body(refreshed)['access_token']}"}).status
        == 200
    )
    assert token({"grant_type": "refresh_token", "refresh_token": "x"}).status == 401
    assert token({"grant_type": "password", "username": "admin", "password": "no"}).status == 401
    assert (
        token({"grant_type": "refresh_token", "refresh_token": emulator.refresh_token}, b"other:").status
        == 401
    )
    assert token({"grant_type": "implicit"}).status == 400


def raw_items(emulator: CloudFoundryEmulator, path: str = "/v3/packages") -> list[dict[str, Any]]:
    separator = "&" if "?" in path else "?"
    return body(get(emulator, f"{path}{separator}per_page=5000"))["resources"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["guid"] for item in items]


FILTER_CASES: list[tuple[dict[str, Any], Any]] = [
    ({"state": ["FAILED", "EXPIRED"]}, lambda item: item["state"] in ("FAILED", "EXPIRED")),
    ({"type": ["docker"]}, lambda item: item["type"] == "docker"),
    ({"created_after": "2023-01-01T01:00:00Z"}, lambda item: item["created_at"] > "2023-01-01T01:00:00Z"),
    ({"created_before": "2023-01-01T01:00:00Z"}, lambda item: item["created_at"] < "2023-01-01T01:00:00Z"),
    (
        {"updated_after": "2023-01-02T00:00:00Z", "updated_before": "2023-01-03T00:00:00Z"},
        lambda item: "2023-01-02T00:00:00Z" < item["updated_at"] < "2023-01-03T00:00:00Z",
    ),
    (
        {"label_selector": "env in (prod,staging),!tier"},
        lambda item: (
            item["metadata"]["labels"].get("env") in ("prod", "staging")
            and "tier" not in item["metadata"]["labels"]
        ),
    ),
    ({"label_selector": "env!=prod"}, lambda item: item["metadata"]["labels"].get("env") != "prod"),
    (
        {"space_guid": [DEV_SPACE]},
        lambda item: item["relationships"]["app"]["data"]["guid"] in (MAIN_APP, WORKER_APP),
    ),
    ({"app_guid": [WORKER_APP]}, lambda item: item["relationships"]["app"]["data"]["guid"] == WORKER_APP),
    (
        {"org_guid": ["3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c09"]},
        lambda item: item["relationships"]["app"]["data"]["guid"] == "6b5a4f3e-2d1c-4b0a-9f8e-7d6c5b4a3f06",
    ),
]


@pytest.mark.parametrize(("options", "keep"), FILTER_CASES)
def test_filters_through_pkglist_match_a_plain_filter_of_all_items(
    options: dict[str, Any], keep: Any
) -> None:
    emulator = CloudFoundryEmulator(packages=90, seed=3)
    expected = [item["guid"] for item in raw_items(emulator) if keep(item)]
    assert expected, "the filter selects nothing; the test proves little"
    with serve(emulator) as server:
        got = listing("packages", base_url=server.url, token=ACCESS_TOKEN, page_size=7, **options)
    assert [package.id for package in got] == expected


@pytest.mark.parametrize("order", ["created_at", "-created_at", "updated_at", "-updated_at"])
def test_order_by(order: str) -> None:
    emulator = CloudFoundryEmulator(packages=40, seed=5)
    items = raw_items(emulator, f"/v3/apps/{MAIN_APP}/packages")
    field = order.lstrip("-")
    descending = order.startswith("-")
    expected = sorted(items, key=lambda item: (item[field], item["created_at"]), reverse=descending)
    with serve(emulator) as server:
        got = listing(
            "app-packages", base_url=server.url, token=ACCESS_TOKEN, app=MAIN_APP, page_size=6, order_by=order
        )
    assert [package.id for package in got] == ids(expected)
    assert ids(expected) != ids(items) or order == "created_at"


def test_guid_filter() -> None:
    emulator = CloudFoundryEmulator(packages=30)
    everything = emulator.package_guids()
    chosen = [everything[20], everything[3], "0badc0de-0000-4000-8000-000000000000"]
    with serve(emulator) as server:
        got = listing("packages", base_url=server.url, token=ACCESS_TOKEN, guid=chosen)
    assert [package.id for package in got] == [everything[3], everything[20]]


def test_a_million_packages_page_costs_only_the_page() -> None:
    emulator = CloudFoundryEmulator(packages=1_000_000, seed=1)
    page = body(get(emulator, f"/v3/apps/{MAIN_APP}/packages?page=150&per_page=5000"))
    desc = body(get(emulator, "/v3/packages?page=3&per_page=5000&order_by=-created_at"))
    main = emulator.data.main_app
    assert page["pagination"]["total_results"] == 1_000_000
    assert page["pagination"]["total_pages"] == 200
    assert page["resources"][0]["guid"] == emulator.data.package_guid(main.start + 149 * 5000)
    assert desc["pagination"]["total_results"] == emulator.data.total
    assert desc["resources"][0]["guid"] == emulator.data.package_guid(emulator.data.total - 1 - 2 * 5000)
    assert emulator.selector.scans == 0
    for guid in (page["resources"][17]["guid"], desc["resources"][-1]["guid"]):
        assert emulator.data.index_of(guid) is not None
        assert body(get(emulator, f"/v3/packages/{guid}"))["guid"] == guid


def test_over_http_unknown_routes_and_methods() -> None:
    with serve(CloudFoundryEmulator(packages=1)) as server:
        assert httpx.get(server.url + "/v2/info").status_code == 404
        assert httpx.post(server.url + "/v3/packages", headers=AUTH).status_code == 404
        unknown = httpx.get(server.url + "/v3/packages?colour=red", headers=AUTH)
    assert unknown.status_code == 400
    assert (
        unknown.json()["errors"][0]["detail"]
        == "The query parameter is invalid: Unknown query parameter(s): 'colour'"
    )


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("created_ats%5Bgt%5D=2024-01-01", "Created ats has an invalid timestamp format"),
        ("updated_ats%5Bgt%5D=2024-02-30T00:00:00Z", "Updated ats has an invalid timestamp format"),
        ("created_ats%5Bafter%5D=2024-01-01T00:00:00Z", "Created ats has an invalid relational operator"),
        ("label_selector=env%3D%3D%3Dprod", "Label selector has an invalid format"),
        ("label_selector=env+in+()", "Label selector has an invalid format"),
    ],
)
def test_invalid_filters_are_bad_query_parameters(query: str, detail: str) -> None:
    response = get(CloudFoundryEmulator(packages=3), f"/v3/packages?{query}")
    assert response.status == 400
    (error,) = body(response)["errors"]
    assert (error["code"], error["title"]) == (10005, "CF-BadQueryParameter")
    assert error["detail"].startswith("The query parameter is invalid: " + detail)


def test_exact_and_inclusive_timestamps() -> None:
    emulator = CloudFoundryEmulator(packages=20, other_apps=False)
    items = raw_items(emulator)
    moment = items[4]["created_at"]
    exact = raw_items(emulator, f"/v3/packages?created_ats={moment},{items[9]['created_at']}")
    assert ids(exact) == [items[4]["guid"], items[9]["guid"]]
    inclusive = raw_items(
        emulator, f"/v3/packages?created_ats%5Bgte%5D={moment}&created_ats%5Blte%5D={moment}"
    )
    assert ids(inclusive) == [items[4]["guid"]]
