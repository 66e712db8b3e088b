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
    assert "AUTHENTICATION_ERROR: Invalid or missing API key" in str(error)
    assert "wrong-secret-123" not in str(error)
    assert "wrong-secret-123" not in repr(error)


def test_v3_not_found_error() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.NotFoundError) as caught:
        listing(server, "packages", account="acme", org="no-such-org")
    assert caught.value.status == 404
    assert "No org 'acme/no-such-org' (parameter org_identifier)" in str(caught.value)


def test_v3_invalid_request_error() -> None:
    # The sort's shape is checked by pkglist, its field only by the server.
    with served(packages=3) as (server, _), pytest.raises(pkglist.BadRequestError) as caught:
        listing(server, "packages", account="acme", sort="colour:asc")
    assert caught.value.status == 400
    assert "INVALID_REQUEST_ERROR: sort must be field:asc or field:desc" in str(caught.value)
    assert "(parameter sort)" in str(caught.value)


def test_v1_authentication_error() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.AuthError) as caught:
        listing(server, "space-artifacts", space_ref=SPACE, api_key="nope")
    assert caught.value.status == 401
    assert "Unauthorized: invalid or missing API key" in str(caught.value)


def test_v1_not_found_error_with_details() -> None:
    with served(packages=3) as (server, _), pytest.raises(pkglist.NotFoundError) as caught:
        listing(server, "registry-artifacts", registry_ref=f"{SPACE}/invalid-registry")
    message = str(caught.value)
    assert "HTTP 404" in message
    assert "Registry not found" in message
    assert "field=registry_identifier" in message
    assert "value=invalid-registry" in message
    assert caught.value.detail is not None
    assert caught.value.detail.startswith("Registry not found (")


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
        (b"Invalid format for parameter page\n", "Invalid format for parameter page"),
        (b"", None),
    ],
)
def test_error_detail(body: bytes, expected: str | None) -> None:
    response = httpx.Response(400, content=body)
    assert HarnessProvider().error_detail(response) == expected
