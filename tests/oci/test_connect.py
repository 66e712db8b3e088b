"""Where a call connects: --registry, --plain-http, --base-url, OCI_REGISTRY (no I/O)."""

from __future__ import annotations

from typing import Any

import pytest

import pkglist
from pkglist_oci import OciProvider, RepositoriesQuery


def base_url(*, base: str | None = None, environ: dict[str, str] | None = None, **query: Any) -> str:
    settings = pkglist.Settings(
        where="oci repositories",
        base_url=base,
        credentials={},
        environ={"HOME": "/nonexistent", **(environ or {})},
        query=RepositoriesQuery(**query),
    )
    return OciProvider().connect(settings).base_url


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"registry": "ghcr.io"}, "https://ghcr.io"),
        ({"registry": "localhost:5000", "plain_http": True}, "http://localhost:5000"),
        ({"registry": "docker.io"}, "https://registry-1.docker.io"),
        ({"base": "https://tools.example/registry/"}, "https://tools.example/registry"),
        ({"base": "https://a.example", "registry": "b.example"}, "https://a.example"),
        ({"environ": {"OCI_REGISTRY": "quay.io"}}, "https://quay.io"),
        ({"environ": {"OCI_REGISTRY": "http://10.0.0.5:5000"}}, "http://10.0.0.5:5000"),
        ({"registry": "[::1]:5000", "plain_http": True}, "http://[::1]:5000"),
    ],
)
def test_where_a_call_connects(options: dict[str, Any], expected: str) -> None:
    assert base_url(**options) == expected


def test_the_connection_hides_the_password() -> None:
    settings = pkglist.Settings(
        where="oci repositories",
        base_url="https://r.example",
        credentials={"username": "me", "password": "hunter2-secret"},
        environ={},
        query=RepositoriesQuery(),
    )
    connection = OciProvider().connect(settings)
    assert connection.secrets == ("hunter2-secret",)
    assert "hunter2" not in repr(connection)
    assert "hunter2" not in repr(connection.auth)
