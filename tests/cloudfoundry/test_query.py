"""Options to CF query parameters: comma-joined lists, timestamp operators, GUID checks."""

from __future__ import annotations

from typing import Any

import pytest

import pkglist
from pkglist_cloudfoundry import CloudFoundryProvider

from .helpers import DEV_SPACE, MAIN_APP

PROVIDER = CloudFoundryProvider()
BASE = "https://api.example.org"


def query(listing: str, **values: Any) -> pkglist.Query:
    tuples = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items()}
    return PROVIDER.listing(listing).query(**tuples)


def first_request(listing: str, page_size: int = 1000, **values: Any) -> Any:
    chosen = PROVIDER.listing(listing)
    return PROVIDER.list_request(chosen, query(listing, **values), BASE, page_size)


def params(request: Any) -> list[tuple[str, str]]:
    return list(request.url.params.multi_items())


def test_packages_filters_are_comma_joined_and_paging_is_1_based() -> None:
    request = first_request(
        "packages",
        page_size=5000,
        app_guid=[MAIN_APP, "4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b04"],
        space_guid=[DEV_SPACE],
        org_guid=["2b9d1e3c-7a4f-4c1e-9e2d-0f5a6b7c8d01"],
        label_selector="env in (prod,staging),!beta",
        guid=["752edab0-2147-4f58-9c25-cd72ad8c3561"],
        state=["READY", "FAILED"],
        type=["bits", "docker"],
        created_after="2024-01-01",
        created_before="2024-02-01T10:00:00.5+01:00",
        updated_after="2024-03-01T00:00:00Z",
        updated_before="2024-04-01T00:00:00Z",
        order_by="-updated_at",
    )
    assert request.method == "GET"
    assert request.url.path == "/v3/packages"
    assert params(request) == [
        ("app_guids", f"{MAIN_APP},4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b04"),
        ("space_guids", DEV_SPACE),
        ("organization_guids", "2b9d1e3c-7a4f-4c1e-9e2d-0f5a6b7c8d01"),
        ("label_selector", "env in (prod,staging),!beta"),
        ("guids", "752edab0-2147-4f58-9c25-cd72ad8c3561"),
        ("states", "READY,FAILED"),
        ("types", "bits,docker"),
        ("created_ats[gt]", "2024-01-01T00:00:00Z"),
        ("created_ats[lt]", "2024-02-01T09:00:01Z"),  # an upper bound with a fraction rounds up
        ("updated_ats[gt]", "2024-03-01T00:00:00Z"),
        ("updated_ats[lt]", "2024-04-01T00:00:00Z"),
        ("order_by", "-updated_at"),
        ("page", "1"),
        ("per_page", "5000"),
    ]


def test_app_packages_by_guid_never_sends_space_filters() -> None:
    request = first_request(
        "app-packages", app=MAIN_APP, space_guid=DEV_SPACE, state=["READY"], page_size=100
    )
    assert request.url.path == f"/v3/apps/{MAIN_APP}/packages"
    assert params(request) == [("states", "READY"), ("page", "1"), ("per_page", "100")]


def test_app_packages_by_name_looks_the_app_up_in_the_space() -> None:
    lookup = first_request("app-packages", app="my app", space_guid=DEV_SPACE, page_size=100)
    assert isinstance(lookup, pkglist.Lookup)
    assert lookup.request.url.path == "/v3/apps"
    assert params(lookup.request) == [("names", "my app"), ("space_guids", DEV_SPACE)]


def test_app_name_without_a_space_is_a_usage_error_at_the_call() -> None:
    with pytest.raises(pkglist.UsageError, match="--space-guid or target a space with `cf target"):
        pkglist.iter_packages("cloudfoundry", "app-packages", app="web", base_url=BASE, token="t")
    with pytest.raises(pkglist.UsageError, match="looking an app up by name needs a space"):
        first_request("app-packages", app="web")  # list_request alone, without complete_query


@pytest.mark.parametrize(
    ("listing", "values", "flag"),
    [
        ("packages", {"app_guid": ["not-a-guid"]}, "--app-guid"),
        ("packages", {"space_guid": ["1234"]}, "--space-guid"),
        ("packages", {"guid": ["752edab0-2147-4f58-9c25-cd72ad8c356"]}, "--guid"),
        ("packages", {"state": ["BROKEN"]}, "--state"),
        ("packages", {"type": ["zip"]}, "--type"),
        ("packages", {"order_by": "name"}, "--order-by"),
        ("packages", {"created_after": "yesterday"}, "--created-after"),
        ("packages", {"updated_before": "2024-13-01"}, "--updated-before"),
        ("app-packages", {"app": "web", "space_guid": "dev"}, "--space-guid"),
        ("app-packages", {"app": "  "}, "--app"),
    ],
)
def test_invalid_values_are_one_line_usage_errors(listing: str, values: dict[str, Any], flag: str) -> None:
    values = {"app": MAIN_APP, **values} if listing == "app-packages" else values
    with pytest.raises(pkglist.UsageError) as caught:
        pkglist.iter_packages("cloudfoundry", listing, base_url=BASE, token="t", **values)
    message = str(caught.value)
    assert flag in message
    assert "\n" not in message


def test_page_size_above_5000_is_refused() -> None:
    with pytest.raises(pkglist.UsageError, match="at most 5000"):
        pkglist.iter_packages("cloudfoundry", "packages", base_url=BASE, token="t", page_size=5001)
