"""Checking real HTTP exchanges with the emulator against Harness's own OpenAPI specs.

The specs (``../shared/specs/harness/``, see its SOURCE.txt) are loaded with
``openapi-core``. Two adaptations, both from API-NOTES:

* the v1 specs spell a ref either as one path parameter with the ``/+``
  suffix (``/registry/{registry_ref}/+/artifacts``: the official CLI's and
  the Go SDK's specs) or without it (the open-source server's spec, whose
  middleware rewrites ``a/b/c/+`` to ``a%2Fb%2Fc``): a request's multi-segment
  ref is rewritten to the spec's own spelling before matching;
* ``labels`` may be ``null`` in real responses (the specs say array): it is
  made nullable in the loaded copy. Nothing else is relaxed.
"""

from __future__ import annotations

import functools
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pytest

SPEC_DIR = Path(__file__).resolve().parents[3] / "shared" / "specs" / "harness"

V3 = "harness-cli/ar_v3/openapi.yaml"
V1_SERVER = "harness/api.yaml"
V1_CLI = "harness-cli/ar/openapi.yaml"
V1_SDK = "harness-go-sdk/swagger.yaml"
V1_SPECS = (V1_SERVER, V1_CLI, V1_SDK)

_SERVERS = {
    V3: "http://emulator.test/har/api/v3",
    V1_SERVER: "http://emulator.test/har/api/v1",
    V1_CLI: "http://emulator.test/har/api/v1",
    V1_SDK: "http://emulator.test/gateway/har/api/v1",
}


def need_specs() -> None:
    if not SPEC_DIR.is_dir():
        pytest.skip(f"the Harness specs are not at {SPEC_DIR}")


@functools.cache
def spec_dict(name: str) -> dict[str, Any]:
    import yaml

    need_specs()
    document: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text())
    _stringify_statuses(document)
    if name != V3:
        _nullable_labels(document)
    document["servers"] = [{"url": _SERVERS[name]}]
    return document


@functools.cache
def openapi(name: str) -> Any:
    from openapi_core import Config, OpenAPI

    # The specs themselves do not all pass openapi-spec-validator (YAML integer status keys).
    return OpenAPI.from_dict(spec_dict(name), config=Config(spec_validator_cls=None))


def _stringify_statuses(node: Any) -> None:
    if isinstance(node, dict):
        responses = node.get("responses")
        if isinstance(responses, dict):
            for key in [key for key in responses if isinstance(key, int)]:
                responses[str(key)] = responses.pop(key)
        for value in node.values():
            _stringify_statuses(value)
    elif isinstance(node, list):
        for value in node:
            _stringify_statuses(value)


def _nullable_labels(node: Any) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict) and isinstance(properties.get("labels"), dict):
            properties["labels"]["nullable"] = True
        for value in node.values():
            _nullable_labels(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_labels(value)


_V1_ROUTES = (
    ("/har/api/v1/registry/", "/registry/{registry_ref}"),
    ("/har/api/v1/spaces/", "/spaces/{space_ref}"),
)


def spec_path(name: str, path: str) -> str:
    """The (still encoded) request path as ``name``'s templates spell it: ``/+`` or one encoded ref."""
    for prefix, template in _V1_ROUTES:
        if path.startswith(prefix) and path.endswith("/+/artifacts"):
            ref = path[len(prefix) : -len("/+/artifacts")]
            encoded = urllib.parse.quote(urllib.parse.unquote(ref), safe="")
            suffix = "/+/artifacts" if f"{template}/+/artifacts" in spec_dict(name)["paths"] else "/artifacts"
            return prefix + encoded + suffix
    return path


def _mock_request(name: str, request: httpx.Request) -> Any:
    from openapi_core.testing import MockRequest

    base_path = urllib.parse.urlsplit(_SERVERS[name]).path
    api_root = base_path.removeprefix("/gateway")
    path = spec_path(name, urllib.parse.urlsplit(str(request.url)).path.removeprefix("/gateway"))
    assert path.startswith(api_root), path
    return MockRequest(
        "http://emulator.test",
        request.method.lower(),
        base_path + path[len(api_root) :],
        args=list(request.url.params.multi_items()),  # type: ignore[arg-type]  # a multidict takes pairs
        headers=dict(request.headers),
    )


def check_request(name: str, request: httpx.Request) -> None:
    """Validate a request pkglist sent (path, query and headers) against spec ``name``."""
    openapi(name).validate_request(_mock_request(name, request))


def check_response(name: str, response: httpx.Response) -> None:
    """Validate the response to ``response.request`` against spec ``name``."""
    from openapi_core.testing import MockResponse

    content_type = response.headers.get("content-type", "application/json").split(";")[0]
    openapi(name).validate_response(
        _mock_request(name, response.request),
        MockResponse(response.content, status_code=response.status_code, content_type=content_type),
    )
