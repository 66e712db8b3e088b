"""TLS: verified by default, --ca-bundle and SSL_CERT_FILE trust a CA, --insecure warns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from pkglist import _plugins
from pkglist.cli import main
from pkglist.testing import serve
from tests.support.tls import issue_server_certificate

from .toy import TOY_KEY, ToyEmulator, manager


@pytest.fixture(autouse=True)
def toy_plugins() -> Iterator[None]:
    _plugins.set_plugin_manager(manager())
    yield
    _plugins.set_plugin_manager(None)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path, Path]:
    return issue_server_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https(ca: tuple[Any, Path, Path, Path]) -> Iterator[Any]:
    _, chain, key, _ = ca
    with serve(ToyEmulator(packages=7), certificate=(str(chain), str(key))) as server:
        assert server.url.startswith("https://")
        yield server


def listing(server: Any, *extra: str) -> list[str]:
    return [
        "toy",
        "numbered",
        "--team",
        "core",
        "--base-url",
        server.url,
        "--api-key",
        TOY_KEY,
        "-o",
        "jsonl",
        *extra,
    ]


def test_an_unknown_ca_fails_at_once_with_one_helpful_line(
    https: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert main(listing(https)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "TLS certificate verification failed for https://127.0.0.1" in err
    assert "--ca-bundle" in err
    assert len([r for r in https.requests if "/teams/" in r.path]) == 0  # no retries of a hopeless handshake


def test_ca_bundle_trusts_the_ca(
    https: Any, ca: tuple[Any, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(listing(https, "--ca-bundle", str(ca[3]))) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 7
    assert err == ""


def test_ssl_cert_file_trusts_the_ca(
    https: Any,
    ca: tuple[Any, Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca[3]))
    assert main(listing(https)) == 0
    assert len(capsys.readouterr().out.splitlines()) == 7


def test_insecure_works_and_says_so(https: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(listing(https, "--insecure")) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 7
    assert err == "pkglist: warning: TLS certificate verification is disabled\n"


def test_a_missing_ca_bundle_is_a_usage_error(https: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(listing(https, "--ca-bundle", "/nonexistent/ca.pem")) == 2
    assert "--ca-bundle '/nonexistent/ca.pem' is not a readable file" in capsys.readouterr().err
