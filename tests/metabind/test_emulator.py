"""The emulator itself: the documented shapes, its errors, determinism and scale."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from pkglist.testing import Request, Response
from pkglist_metabind import MetabindEmulator

from .helpers import ROUTE, spec_json

KEY = "mb-emulator-key"


def call(
    emulator: MetabindEmulator, path: str = ROUTE, method: str = "GET", key: str | None = KEY, **query: str
) -> Response:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    return emulator.handle(Request(method, path, {name: [value] for name, value in query.items()}, headers))


def body(response: Response) -> Any:
    return json.loads(response.body)


def test_item_has_the_documented_fields_and_types() -> None:
    documented = spec_json("packages-list.page.normalized.json")
    example = documented["data"][0]
    answer = body(call(MetabindEmulator(packages=30)))
    assert set(answer) == set(documented)
    assert set(answer["pagination"]) == set(documented["pagination"])
    for item in answer["data"]:
        assert set(example) <= set(item)
        assert set(item["metadata"]) <= {"author", "description", "tags"}
        for component in item["components"]:
            assert set(component) == set(example["components"][0])
            assert isinstance(component["version"], int)
        for dependency in item["dependencies"]:
            assert set(dependency) == {"projectId", "version"}
        assert item["createdAt"].endswith("Z")
        assert item["createdAt"] == item["updatedAt"]


def test_newest_first_with_default_limit_20() -> None:
    answer = body(call(MetabindEmulator(packages=45)))
    assert answer["pagination"] == {"page": 1, "limit": 20, "total": 45, "pages": 3}
    created = [item["createdAt"] for item in answer["data"]]
    assert created == sorted(created, reverse=True)
    assert len(set(created)) == 20
    versions = [tuple(int(part) for part in item["version"].split(".")) for item in answer["data"]]
    assert versions == sorted(versions, reverse=True)


def test_dependencies_name_published_versions() -> None:
    emulator = MetabindEmulator(packages=60)
    published = {item["version"] for item in emulator.packages("org123", "proj456")}
    named = [dep for item in emulator.packages() for dep in item["dependencies"]]
    assert named
    assert all(dep["projectId"] == "proj456" and dep["version"] in published for dep in named)


def test_page_past_the_end_is_empty() -> None:
    answer = body(call(MetabindEmulator(packages=5), page="3", limit="5"))
    assert answer == {"data": [], "pagination": {"page": 3, "limit": 5, "total": 5, "pages": 1}}


def test_empty_project() -> None:
    answer = body(call(MetabindEmulator(), "/v1/organizations/org123/projects/proj789/packages"))
    assert answer == {"data": [], "pagination": {"page": 1, "limit": 20, "total": 0, "pages": 0}}


def test_cursor_key_is_the_docs_format() -> None:
    """The docs' lastKey decodes to the last item's version; ours is built the same way."""
    documented = spec_json("packages-list.cursor.normalized.json")
    key = documented["pagination"]["lastKey"]
    assert json.loads(base64.b64decode(key)) == {"version": documented["data"][-1]["version"]}
    answer = body(call(MetabindEmulator(packages=3, paging="cursor"), limit="3"))
    assert [item["version"] for item in answer["data"]] == ["1.0.2", "1.0.1", "1.0.0"]
    assert answer["pagination"] == {"lastKey": key}


def test_cursor_pages() -> None:
    emulator = MetabindEmulator(packages=5, paging="cursor")
    first = body(call(emulator, limit="2", page="7"))  # the cursor generation ignores page
    second = body(call(emulator, limit="2", lastKey=first["pagination"]["lastKey"]))
    third = body(call(emulator, limit="2", lastKey=second["pagination"]["lastKey"]))
    versions = [item["version"] for page in (first, second, third) for item in page["data"]]
    assert versions == ["1.0.4", "1.0.3", "1.0.2", "1.0.1", "1.0.0"]
    assert third["pagination"] == {}


def test_last_key_switches_a_page_server_to_the_cursor_style() -> None:
    emulator = MetabindEmulator(packages=5)
    key = base64.b64encode(b'{"version":"1.0.3"}').decode()
    answer = body(call(emulator, limit="2", lastKey=key))
    assert [item["version"] for item in answer["data"]] == ["1.0.2", "1.0.1"]
    assert set(answer["pagination"]) == {"lastKey"}


def test_hybrid_pages_carry_both() -> None:
    answer = body(call(MetabindEmulator(packages=5, paging="hybrid"), limit="2", page="2"))
    assert answer["pagination"] == {
        "page": 2,
        "limit": 2,
        "total": 5,
        "pages": 3,
        "lastKey": base64.b64encode(b'{"version":"1.0.1"}').decode(),
    }


def _is_documented_error(response: Response) -> bool:
    error = body(response)["error"]
    return (
        set(body(response)) == {"error"}
        and isinstance(error["code"], str)
        and error["code"].isupper()
        and isinstance(error["message"], str)
        and set(error) <= {"code", "message", "details"}
        and isinstance(error.get("details", {}), dict)
    )


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"key": None}, 401, "UNAUTHORIZED"),
        ({"key": "other"}, 401, "UNAUTHORIZED"),
        ({"path": "/v1/organizations/org123/projects/proj123"}, 404, "NOT_FOUND"),
        ({"path": "/v2/organizations/org123/projects/proj123/packages"}, 404, "NOT_FOUND"),
        ({"path": "/v1/organizations/orgX/projects/proj123/packages"}, 404, "NOT_FOUND"),
        ({"path": "/v1/organizations/org123/projects/projX/packages"}, 404, "NOT_FOUND"),
        ({"method": "DELETE"}, 405, "METHOD_NOT_ALLOWED"),
        ({"limit": "101"}, 400, "VALIDATION_FAILED"),
        ({"limit": "0"}, 400, "VALIDATION_FAILED"),
        ({"limit": "ten"}, 400, "VALIDATION_FAILED"),
        ({"page": "0"}, 400, "VALIDATION_FAILED"),
        ({"lastKey": "garbage"}, 400, "VALIDATION_FAILED"),
        ({"lastKey": base64.b64encode(b'{"version":"9.0.0"}').decode()}, 400, "VALIDATION_FAILED"),
    ],
)
def test_error_bodies_follow_the_documented_format(kwargs: dict[str, Any], status: int, code: str) -> None:
    response = call(MetabindEmulator(packages=5), **kwargs)
    assert response.status == status
    assert _is_documented_error(response)
    assert body(response)["error"]["code"] == code


def test_cursor_limit_goes_to_1000() -> None:
    assert call(MetabindEmulator(packages=5, paging="cursor"), limit="1000").status == 200
    assert call(MetabindEmulator(packages=5, paging="cursor"), limit="1001").status == 400


def test_seeded_and_deterministic() -> None:
    assert body(call(MetabindEmulator(packages=50, seed=3))) == body(
        call(MetabindEmulator(packages=50, seed=3))
    )
    assert (
        MetabindEmulator(packages=50, seed=3).package_ids()
        != MetabindEmulator(packages=50, seed=4).package_ids()
    )
    ids = MetabindEmulator(packages=5000).package_ids()
    assert len(set(ids)) == 5000


def test_a_million_packages_page_in_constant_time() -> None:
    emulator = MetabindEmulator(packages=1_000_000)
    started = time.perf_counter()
    for page in (1, 5_000, 10_000):
        answer = body(call(emulator, page=str(page), limit="100"))
        assert len(answer["data"]) == 100
    assert time.perf_counter() - started < 1.0
    assert answer["pagination"] == {"page": 10_000, "limit": 100, "total": 1_000_000, "pages": 10_000}
    assert answer["data"][-1]["version"] == "1.0.0"
    cursor = MetabindEmulator(packages=1_000_000, paging="cursor")
    key = base64.b64encode(json.dumps({"version": answer["data"][0]["version"]}).encode()).decode()
    started = time.perf_counter()
    assert len(body(call(cursor, limit="100", lastKey=key))["data"]) == 99
    assert time.perf_counter() - started < 0.5
