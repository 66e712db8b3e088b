"""Each Harness error body, end to end: HTTP status -> pkglist error class, with the provider's text."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_harness import HarnessEmulator, HarnessProvider

from .helpers import SPACE, listing, served


def test_v3_authentication_error() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.AuthError) as caught:
        listing(server, "packages", account="acme", api_key="wrong-secret-123")
    error = caught.value
    assert error.status == 401
    assert "AUTHENTICATION_ERROR [invalid_api_key]: Invalid or missing API key" in str(error)
    assert "wrong-secret-123" not in str(error)
    assert "wrong-secret-123" not in repr(error)


def test_v3_not_found_error() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.NotFoundError) as caught:
        listing(server, "packages", account="acme", org="no-such-org")
    assert caught.value.status == 404
    assert (
        "INVALID_REQUEST_ERROR [resource_missing]: No org 'acme/no-such-org' (parameter org_identifier)"
        in str(caught.value)
    )


def test_v3_invalid_request_error() -> None:
    # The sort's shape is checked by pkglist, its field only by the server.
    with served(packages=3) as (server, _), pytest.raises(pkglist.BadRequestError) as caught:
        listing(server, "packages", account="acme", sort="colour:asc")
    assert caught.value.status == 400
    assert "INVALID_REQUEST_ERROR [parameter_invalid]: sort must be field:asc or field:desc" in str(
        caught.value
    )
    assert "(parameter sort)" in str(caught.value)


def test_v1_authentication_error() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.AuthError) as caught:
        listing(server, "space-artifacts", space_ref=SPACE, api_key="nope")
    assert caught.value.status == 401
    assert "Unauthorized: invalid or missing API key" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "options", "plainly"),
    [
        (
            "registry-artifacts",
            {"registry_ref": f"{SPACE}/invalid-registry"},
            f"registry '{SPACE}/invalid-registry'",
        ),
        (
            "registry-artifacts",
            {"registry_ref": "acme/platform/nope/docker-local"},
            "space 'acme/platform/nope'",
        ),
        ("registry-artifacts", {"registry_ref": "initech/docker-local"}, "space 'initech'"),
        ("space-artifacts", {"space_ref": "acme/platform/nope"}, "space 'acme/platform/nope'"),
        ("space-artifacts", {"space_ref": "initech"}, "space 'initech'"),
    ],
)
def test_a_missing_scope_is_said_plainly_and_not_retried(
    name: str, options: dict[str, str], plainly: str
) -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.NotFoundError) as caught:
        listing(server, name, retries=3, **options)
    message = str(caught.value)
    assert caught.value.status == 400  # what the open-source server answers
    assert f"HTTP 400 Bad Request: {plainly} not found (the server says: " in message
    assert "\n" not in message
    assert len([r for r in server.requests if "/artifacts" in r.path]) == 1


class _OlderRegistryLookup:
    """A server that looks the registry up in the controller only: a 500 for a missing one."""

    def __init__(self, emulator: HarnessEmulator) -> None:
        self.emulator = emulator
        self.credentials: Mapping[str, str] = emulator.credentials

    def handle(self, request: Request) -> Response:
        response = self.emulator.handle(request)
        if response.status == 400 and b"registry not found" in response.body:
            return Response.json({"code": "500", "message": "Failed to find repo: resource not found"}, 500)
        return response


def test_a_500_for_a_missing_registry_is_not_found_and_not_retried() -> None:
    emulator = HarnessEmulator(packages=3)
    with serve(_OlderRegistryLookup(emulator)) as server, pytest.raises(pkglist.NotFoundError) as caught:
        listing(server, "registry-artifacts", registry_ref=f"{SPACE}/gone", retries=3)
    assert caught.value.status == 500
    assert (
        f"registry '{SPACE}/gone' not found (the server says: Failed to find repo: resource not found)"
        in str(caught.value)
    )
    assert len([r for r in server.requests if "/artifacts" in r.path]) == 1


class _DatabaseDown:
    """Every v1 answer a 500 that is not about a missing row."""

    credentials: Mapping[str, str] = HarnessEmulator().credentials

    def __init__(self) -> None:
        self.calls = 0

    def handle(self, request: Request) -> Response:
        self.calls += 1
        return Response.json({"code": "500", "message": "failed to connect to the database"}, 500)


def test_another_500_is_still_a_server_error() -> None:
    handler = _DatabaseDown()
    with serve(handler) as server, pytest.raises(pkglist.ServerError) as caught:
        listing(server, "registry-artifacts", registry_ref=f"{SPACE}/docker-local", retries=1)
    assert not isinstance(caught.value, pkglist.NotFoundError)
    assert "failed to connect to the database" in str(caught.value)


def test_v1_bad_request_error() -> None:
    # artifact_type is only valid for Hugging Face registries.
    with served(packages=3) as (server, _), pytest.raises(pkglist.BadRequestError) as caught:
        listing(server, "registry-artifacts", registry_ref=f"{SPACE}/docker-local", artifact_type="model")
    assert caught.value.status == 400
    assert "invalid package type (field=artifact_type, value=model)" in str(caught.value)


class _MalformedSize:
    """In front of the emulator: sends every request on with ``size=abc``."""

    def __init__(self, emulator: HarnessEmulator) -> None:
        self.emulator = emulator
        self.credentials: Mapping[str, str] = emulator.credentials

    def handle(self, request: Request) -> Response:
        query = {**request.query, "size": ["abc"]}
        return self.emulator.handle(
            Request(request.method, request.path, query, request.headers, request.body, request.base_url)
        )


@pytest.mark.parametrize("name", ["packages", "space-artifacts"])
def test_plain_text_bad_request(name: str) -> None:
    options = {"account": "acme"} if name == "packages" else {"space_ref": SPACE}
    emulator = HarnessEmulator(packages=3)
    with serve(_MalformedSize(emulator)) as server, pytest.raises(pkglist.BadRequestError) as caught:
        listing(server, name, **options)
    assert caught.value.status == 400
    assert "Invalid format for parameter size" in str(caught.value)
    assert 'parsing "abc": invalid syntax' in str(caught.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"code":"404","message":"Registry not found"}', "Registry not found"),
        (b'{"code":"400","message":"bad","details":{}}', "bad"),
        (b'{"code":"400","message":"bad","details":{"field":"x","nested":{"a":1}}}', "bad (field=x)"),
        (b'{"code":"500","details":{"reason":"db down"}}', "500 (reason=db down)"),
        (b'{"error":{"type":"API_ERROR","message":"boom"}}', "API_ERROR: boom"),
        (b'{"error":{"type":"API_ERROR","code":"internal","message":"boom"}}', "API_ERROR [internal]: boom"),
        (
            b'{"error":{"type":"INVALID_REQUEST_ERROR","code":"parameter_invalid","message":"bad","param":"x"}}',
            "INVALID_REQUEST_ERROR [parameter_invalid]: bad (parameter x)",
        ),
        (b'{"error":{"type":"API_ERROR","code":"internal"}}', "API_ERROR [internal]"),
        (b'{"error":{"code":"internal","message":"boom"}}', "[internal] boom"),
        (b'{"error":{"code":"internal"}}', "[internal]"),
        (b"Invalid format for parameter page\n", "Invalid format for parameter page"),
        (b"", None),
    ],
)
def test_error_detail(body: bytes, expected: str | None) -> None:
    response = httpx.Response(400, content=body)
    assert HarnessProvider().error_detail(response) == expected
