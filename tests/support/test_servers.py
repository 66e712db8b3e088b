"""The real test servers work: nginx compresses through its proxy, tinyproxy forwards (and
refuses a wrong password), the registry stores pushed images; an absent server skips or, under
PKGLIST_REQUIRE_SERVERS=1, fails."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pkglist.testing import EmulatorServer, Request, Response, serve
from tests.support import servers
from tests.support.oci import DOCKER_MANIFEST, MANIFEST_ACCEPT, OCI_MANIFEST, PushError, push_image
from tests.support.servers import docker_registry, nginx_proxy, require_binary, tinyproxy
from tests.support.tls import issue_server_certificate

ITEMS = {"items": [{"name": f"package-{number}", "version": "1.0.0"} for number in range(100)]}


class Items:
    """An upstream that answers every path with the same JSON document (plain text on /text)."""

    credentials: dict[str, str] = {}  # noqa: RUF012 - the Emulator protocol's mapping, never mutated

    def handle(self, request: Request) -> Response:
        if request.path == "/text":
            return Response.text("pkglist " * 200)
        return Response.json(ITEMS)


@pytest.fixture
def upstream() -> Iterator[EmulatorServer]:
    with serve(Items()) as server:
        yield server


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    _, chain, key, ca_file = issue_server_certificate(tmp_path_factory.mktemp("tls"))
    return chain, key, ca_file


@pytest.fixture
def https_upstream(tls_files: tuple[Path, Path, Path]) -> Iterator[EmulatorServer]:
    chain, key, _ = tls_files
    with serve(Items(), certificate=(str(chain), str(key))) as server:
        yield server


def refuses_connections(url: str) -> bool:
    port = httpx.URL(url).port
    assert port is not None
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


# -- the rule for absent servers ----------------------------------------------------------------


def test_an_installed_binary_is_found() -> None:
    found = require_binary("sh")
    assert os.access(found, os.X_OK)


@pytest.mark.parametrize("require", [None, "0"])
def test_an_absent_server_skips_naming_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, require: str | None
) -> None:
    if require is None:
        monkeypatch.delenv(servers.REQUIRE_SERVERS, raising=False)
    else:
        monkeypatch.setenv(servers.REQUIRE_SERVERS, require)
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_binary("pkglist-no-such-server", "pkglist-no-such-package")
    assert (
        str(skipped.value)
        == "pkglist-no-such-server is not installed (apt-get install pkglist-no-such-package)"
    )


def test_an_absent_server_fails_when_servers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(servers.REQUIRE_SERVERS, "1")
    with pytest.raises(pytest.fail.Exception) as failed:
        require_binary("pkglist-no-such-server")
    assert str(failed.value) == (
        "pkglist-no-such-server is not installed (apt-get install pkglist-no-such-server),"
        " and PKGLIST_REQUIRE_SERVERS=1 requires it"
    )


SERVERS: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {
    "nginx": lambda: nginx_proxy("http://127.0.0.1:9"),
    "tinyproxy": tinyproxy,
    "docker-registry": docker_registry,
}


@pytest.mark.parametrize("name", SERVERS)
def test_every_server_goes_through_the_rule(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no server is on it
    monkeypatch.setattr(servers, "_SYSTEM_DIRS", ())
    monkeypatch.delenv(servers.REQUIRE_SERVERS, raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"^{name} is not installed"), SERVERS[name]():
        pass
    monkeypatch.setenv(servers.REQUIRE_SERVERS, "1")
    with pytest.raises(pytest.fail.Exception, match=f"^{name} is not installed"), SERVERS[name]():
        pass


def test_a_server_in_a_system_directory_is_found_off_the_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Debian's nginx is in /usr/sbin, which an ordinary user's PATH lacks."""
    sbin = tmp_path / "sbin"
    sbin.mkdir()
    (sbin / "pkglist-test-server").write_text("#!/bin/sh\n")
    (sbin / "pkglist-test-server").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(servers, "_SYSTEM_DIRS", (str(sbin),))
    assert require_binary("pkglist-test-server") == str(sbin / "pkglist-test-server")


@pytest.mark.parametrize("name", SERVERS)
def test_a_server_whose_port_was_taken_starts_on_another(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The free port may be taken before the server binds it: the server is not fooled by
    whatever listens there, and starts again on the next free port."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        taken_port = taken.getsockname()[1]
        offered = iter([taken_port])
        real_free_port = servers._free_port
        monkeypatch.setattr(servers, "_free_port", lambda: next(offered, None) or real_free_port())
        with SERVERS[name]() as server:
            assert httpx.URL(server.url).port not in (None, taken_port)
            assert next(offered, None) is None


# -- nginx --------------------------------------------------------------------------------------


def test_nginx_gzips_json_when_asked_and_logs_fewer_bytes(upstream: EmulatorServer) -> None:
    with nginx_proxy(upstream.url) as proxy, httpx.Client(base_url=proxy.url) as client:
        compressed = client.get("/items", headers={"Accept-Encoding": "gzip"})
        plain = client.get("/items", headers={"Accept-Encoding": "identity"})
        text = client.get("/text", headers={"Accept-Encoding": "gzip"})
        # A request that came through a proxy (Via) is compressed too: gzip_proxied any.
        proxied = client.get("/items", headers={"Accept-Encoding": "gzip", "Via": "1.1 tinyproxy"})
        entries = proxy.access_log_entries(at_least=4)

    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert text.headers["Content-Encoding"] == proxied.headers["Content-Encoding"] == "gzip"
    assert compressed.json() == plain.json() == ITEMS
    assert [request.path for request in upstream.requests] == ["/items", "/items", "/text", "/items"]
    gzipped, identity, _, _ = entries
    assert gzipped.request == identity.request == "GET /items HTTP/1.1"
    assert (gzipped.status, gzipped.accept_encoding, gzipped.content_encoding) == (200, "gzip", "gzip")
    assert (identity.status, identity.accept_encoding, identity.content_encoding) == (200, "identity", "")
    assert identity.body_bytes_sent == len(plain.content)
    assert gzipped.body_bytes_sent < identity.body_bytes_sent / 4


def test_nginx_without_gzip_sends_bodies_as_they_are(upstream: EmulatorServer) -> None:
    with nginx_proxy(upstream.url, gzip=False) as proxy:
        response = httpx.get(proxy.url + "/items", headers={"Accept-Encoding": "gzip"})
        (entry,) = proxy.access_log_entries(at_least=1)
    assert "Content-Encoding" not in response.headers
    assert response.json() == ITEMS
    assert (entry.content_encoding, entry.body_bytes_sent) == ("", len(response.content))


def test_nginx_takes_extra_config_and_cleans_up_when_done(upstream: EmulatorServer) -> None:
    extra = 'location = /pkglist-extra { return 200 "from nginx"; }'
    with nginx_proxy(upstream.url, extra_config=extra) as proxy:
        assert httpx.get(proxy.url + "/pkglist-extra").text == "from nginx"
        assert httpx.get(proxy.url + "/items").json() == ITEMS
    assert refuses_connections(proxy.url)
    assert not proxy.access_log.parent.exists()


def test_nginx_that_cannot_start_fails_with_its_error_log(upstream: EmulatorServer) -> None:
    with (
        pytest.raises(pytest.fail.Exception, match='unknown directive "pkglist_no_such_directive"'),
        nginx_proxy(upstream.url, extra_config="pkglist_no_such_directive on;"),
    ):
        pass


# -- tinyproxy ----------------------------------------------------------------------------------


def test_a_request_goes_through_tinyproxy(upstream: EmulatorServer) -> None:
    with tinyproxy() as proxy, httpx.Client(proxy=proxy.url) as client:
        response = client.get(upstream.url + "/items")
        log = proxy.log_lines()
    assert response.json() == ITEMS
    assert "tinyproxy" in upstream.requests[-1].headers["via"]
    assert any(f"GET {upstream.url}/items HTTP/1.1" in line for line in log)
    assert refuses_connections(proxy.url)


def test_tinyproxy_is_used_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    upstream: EmulatorServer,
    https_upstream: EmulatorServer,
    tls_files: tuple[Path, Path, Path],
) -> None:
    """ALL_PROXY for plain HTTP, HTTPS_PROXY (a CONNECT tunnel to a loopback port) for HTTPS."""
    trust = ssl.create_default_context(cafile=str(tls_files[2]))
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with tinyproxy() as proxy:
        monkeypatch.setenv("ALL_PROXY", proxy.url)
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        with httpx.Client(verify=trust) as client:
            assert client.get(upstream.url + "/items").json() == ITEMS
            assert client.get(https_upstream.url + "/items").json() == ITEMS
        log = proxy.log_lines()
    assert any(f"GET {upstream.url}/items" in line for line in log)
    assert any(f"CONNECT {https_upstream.url.removeprefix('https://')}" in line for line in log)


def test_tinyproxy_with_basic_auth_lets_the_user_in_and_refuses_others(
    upstream: EmulatorServer, https_upstream: EmulatorServer, tls_files: tuple[Path, Path, Path]
) -> None:
    trust = ssl.create_default_context(cafile=str(tls_files[2]))
    with tinyproxy(basic_auth=("alice", "s3cret-1.x_y")) as proxy:
        with httpx.Client(proxy=proxy.url, verify=trust) as client:
            assert client.get(upstream.url + "/items").json() == ITEMS
            assert client.get(https_upstream.url + "/items").json() == ITEMS
        # tinyproxy 1.11 asks for credentials with a 407 but turns wrong ones away with a 401
        # (and a WWW-Authenticate header), as its own answer: the request goes no further.
        wrong = proxy.bare_url.replace("http://", "http://alice:wrong@")
        for refused, status, challenge in (
            (proxy.bare_url, 407, "Proxy-Authenticate"),
            (wrong, 401, "WWW-Authenticate"),
        ):
            with httpx.Client(proxy=refused, verify=trust) as client:
                response = client.get(upstream.url + "/items")
                assert response.status_code == status
                assert response.headers["Server"].startswith("tinyproxy/")
                assert response.headers[challenge] == 'Basic realm="Tinyproxy"'
                with pytest.raises(httpx.ProxyError, match=str(status)):
                    client.get(https_upstream.url + "/items")
    assert len(upstream.requests) == len(https_upstream.requests) == 1


def test_tinyproxy_refuses_credentials_its_config_cannot_hold() -> None:
    with pytest.raises(ValueError, match="letters, digits"), tinyproxy(basic_auth=("alice", "two words")):
        pass


# -- docker-registry ----------------------------------------------------------------------------


def test_the_registry_answers_and_stops_when_done() -> None:
    with docker_registry() as registry:
        response = httpx.get(registry.url + "/v2/")
        assert registry.url == f"http://{registry.host}"
        assert registry.auth is None
    assert response.status_code == 200
    assert response.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    assert refuses_connections(registry.url)


def test_pushed_images_are_listed_and_their_manifests_found() -> None:
    with docker_registry() as registry, httpx.Client(base_url=registry.url) as client:
        pushed = {
            ("team/app", "1.0", OCI_MANIFEST): push_image(registry.url, "team/app", "1.0"),
            ("team/app", "2.0", DOCKER_MANIFEST): push_image(
                registry.url, "team/app", "2.0", media_type=DOCKER_MANIFEST
            ),
            ("base", "latest", OCI_MANIFEST): push_image(registry.url, "base", "latest"),
        }
        catalog = client.get("/v2/_catalog").json()
        tags = client.get("/v2/team/app/tags/list").json()
        for (repository, tag, media_type), digest in pushed.items():
            head = client.head(f"/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_ACCEPT})
            assert head.status_code == 200
            assert head.headers["Docker-Content-Digest"] == digest
            assert head.headers["Content-Type"] == media_type
            manifest = client.get(f"/v2/{repository}/manifests/{digest}", headers={"Accept": MANIFEST_ACCEPT})
            assert f"sha256:{hashlib.sha256(manifest.content).hexdigest()}" == digest
            for descriptor in (manifest.json()["config"], *manifest.json()["layers"]):
                blob = client.get(f"/v2/{repository}/blobs/{descriptor['digest']}", follow_redirects=True)
                assert len(blob.content) == descriptor["size"]
        deleted = client.delete(f"/v2/base/manifests/{pushed['base', 'latest', OCI_MANIFEST]}")
        assert deleted.status_code == 202
        assert (
            client.head("/v2/base/manifests/latest", headers={"Accept": MANIFEST_ACCEPT}).status_code == 404
        )

    assert catalog == {"repositories": ["base", "team/app"]}
    assert sorted(tags["tags"]) == ["1.0", "2.0"]  # 2.8.2 lists tags in storage order
    assert len(set(pushed.values())) == 3


def test_the_htpasswd_registry_refuses_anonymous_requests_and_accepts_its_user() -> None:
    with docker_registry(htpasswd_users={"alice": "s3cret", "bob": "hunter2"}) as registry:
        anonymous = httpx.get(registry.url + "/v2/")
        wrong = httpx.get(registry.url + "/v2/", auth=("alice", "wrong"))
        assert registry.auth == ("alice", "s3cret")
        digest = push_image(registry.url, "team/app", "1.0", auth=registry.auth)
        with pytest.raises(PushError, match="HTTP 401"):
            push_image(registry.url, "team/app", "2.0")
        catalog = httpx.get(registry.url + "/v2/_catalog", auth=("bob", "hunter2"))
        head = httpx.head(
            registry.url + "/v2/team/app/manifests/1.0",
            auth=registry.auth,
            headers={"Accept": MANIFEST_ACCEPT},
        )

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Basic realm="pkglist-test"'
    assert catalog.json() == {"repositories": ["team/app"]}
    assert head.headers["Docker-Content-Digest"] == digest


def test_push_image_refuses_a_manifest_type_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="media_type must be one of"):
        push_image(
            "http://127.0.0.1:9", "team/app", "1.0", media_type="application/vnd.oci.image.index.v1+json"
        )
