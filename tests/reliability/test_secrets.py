"""Credentials never come back out: not on stdout, not in errors, not in ``--debug`` logs
(where the header that carries them shows as ``[redacted]``), not in exception reprs.

Each provider's emulator is started here with distinctive test secrets (see
``tests/reliability/cli.py``; Cloud Foundry's fixed tokens are wrapped by
``SecretCloudFoundry``), and every run asserts that the emulator did receive
the secret, so its absence from the output means something. The run helper
greps every run of the bad-input, secrets and interruption suites for all the
test secrets; the last test here checks what it recorded.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import pkglist
from pkglist.testing import EmulatorServer, Faults, Request, Response, serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID, DEMO_SPACE_GUID
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from pkglist_harness import HarnessEmulator
from pkglist_metabind import MetabindEmulator

from .cli import (
    CF_BAD_REFRESH,
    CF_REFRESH,
    CF_TOKEN,
    CF_WRONG_TOKEN,
    HARNESS_KEY,
    HARNESS_WRONG_KEY,
    MARKER,
    METABIND_KEY,
    METABIND_WRONG_KEY,
    SECRETS,
    TRANSCRIPTS,
    Result,
    SecretCloudFoundry,
    check_output,
    isolate,
    run,
    secrets_in,
    write_cf_config,
)

PACKAGES = 30


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In-process calls see no real credentials, cf login or proxy either."""
    isolate(monkeypatch, tmp_path)


@attrs.frozen
class Spec:
    provider: str
    listing: str
    query: dict[str, str]
    credential: str  # the keyword argument; the flag is --credential-with-dashes
    envvars: tuple[str, ...]
    header: str  # the request header that carries the credential
    secret: str
    wrong: str
    make: Callable[[], Any]
    expected: int  # packages the listing returns

    @property
    def flag(self) -> str:
        return "--" + self.credential.replace("_", "-")

    def args(self, base_url: str) -> list[str]:
        query = [
            part for name, value in self.query.items() for part in ("--" + name.replace("_", "-"), value)
        ]
        return [
            self.provider,
            self.listing,
            *query,
            "--base-url",
            base_url,
            "-o",
            "jsonl",
            "--page-size",
            "10",
        ]


SPECS = [
    Spec(
        "harness",
        "packages",
        {"account": "acme"},
        "api_key",
        ("HARNESS_PLATFORM_API_KEY", "HARNESS_API_KEY"),
        "x-api-key",
        HARNESS_KEY,
        HARNESS_WRONG_KEY,
        lambda: HarnessEmulator(packages=PACKAGES, api_key=HARNESS_KEY),
        0,  # computed from the emulator below
    ),
    Spec(
        "cloudfoundry",
        "app-packages",
        {"app": DEMO_APP_GUID},
        "token",
        ("CF_ACCESS_TOKEN",),
        "authorization",
        CF_TOKEN,
        CF_WRONG_TOKEN,
        lambda: SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES)),
        PACKAGES,
    ),
    Spec(
        "metabind",
        "packages",
        {"organization": "org123", "project": "proj123"},
        "api_key",
        ("METABIND_API_KEY",),
        "authorization",
        METABIND_KEY,
        METABIND_WRONG_KEY,
        lambda: MetabindEmulator(packages=PACKAGES, api_key=METABIND_KEY),
        PACKAGES,
    ),
]
BY_NAME = {spec.provider: spec for spec in SPECS}
_DEBUG_GET = re.compile(r"^pkglist: debug: GET (\S+) (\{.*\}) -> (\d{3}|no response)")


def _expected(spec: Spec, server: EmulatorServer) -> int:
    if spec.provider != "harness":
        return spec.expected
    listed = pkglist.iter_packages(
        "harness", "packages", account="acme", base_url=server.url, api_key=spec.secret, retry_backoff=0.001
    )
    return sum(1 for _ in listed)


def assert_debug_redacted(err: str, header: str, *, statuses: set[str]) -> None:
    """Every logged exchange shows the credential header, redacted; the statuses seen are ``statuses``."""
    exchanges = [match for line in err.splitlines() if (match := _DEBUG_GET.match(line))]
    assert exchanges, f"no debug lines in:\n{err}"
    for match in exchanges:
        headers = match.group(2)
        assert f"'{header}': '[redacted]'" in headers, headers
    assert {match.group(3) for match in exchanges} == statuses


def assert_secret_was_sent(server: EmulatorServer, header: str, secret: str) -> None:
    sent = [request.headers.get(header, "") for request in server.requests]
    assert sent, "the server got no request"
    assert any(secret in value for value in sent), "the emulator never saw the test secret"


# The CLI ----------------------------------------------------------------------------------


def _via(spec: Spec) -> Iterator[Any]:
    yield pytest.param(spec, "flag", id=f"{spec.provider}-{spec.flag}")
    for name in spec.envvars:
        yield pytest.param(spec, name, id=f"{spec.provider}-{name}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("spec", "via"), [param for spec in SPECS for param in _via(spec)])
def test_a_successful_listing_with_debug_never_shows_the_credential(
    spec: Spec, via: str, tmp_path: Path
) -> None:
    with serve(spec.make()) as server:
        args = spec.args(server.url)
        if via == "flag":
            result = run(*args, spec.flag, spec.secret, "--debug", home=tmp_path)
        else:
            result = run("--debug", *args, home=tmp_path, env={via: spec.secret})
        assert_secret_was_sent(server, spec.header, spec.secret)
        expected = _expected(spec, server)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert len(rows) == expected > 0
    assert_debug_redacted(result.err, spec.header, statuses={"200"})
    assert "pkglist: error" not in result.err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
def test_a_wrong_credential_is_a_401_without_the_credential(spec: Spec, tmp_path: Path) -> None:
    with serve(spec.make()) as server:
        result = run(*spec.args(server.url), spec.flag, spec.wrong, "--debug", home=tmp_path)
        assert_secret_was_sent(server, spec.header, spec.wrong)
    assert result.code == 1
    assert result.out == ""
    assert "Traceback" in result.err  # --debug shows it, and it holds no secret either
    assert_debug_redacted(result.err, spec.header, statuses={"401"})
    last = result.err.splitlines()[-1]
    assert last.startswith(f"pkglist: error: {spec.provider} {spec.listing}: HTTP 401 Unauthorized")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "plain"])
def test_a_500_never_shows_the_credential(spec: Spec, debug: bool, tmp_path: Path) -> None:
    with serve(spec.make(), faults=Faults(statuses={500: 1.0}, seed=1)) as server:
        flags = ["--debug"] if debug else []
        result = run(*spec.args(server.url), spec.flag, spec.secret, *flags, home=tmp_path)
        assert_secret_was_sent(server, spec.header, spec.secret)
        assert server.injected["500"] >= 1
    assert result.code == 1
    assert result.out == ""
    last = result.err.splitlines()[-1]
    assert last.startswith(f"pkglist: error: {spec.provider} {spec.listing}: HTTP 500 Internal Server Error")
    if debug:
        assert_debug_redacted(result.err, spec.header, statuses={"500"})
    else:
        assert result.err.count("\n") == 1


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
def test_retries_that_run_out_never_show_the_credential(spec: Spec, tmp_path: Path) -> None:
    with serve(spec.make(), faults=Faults(statuses={503: 1.0}, retry_after="0", seed=2)) as server:
        result = run(
            *spec.args(server.url), spec.flag, spec.secret, "--debug", "--retries", "2", "--max-retry-wait", "0.01",
            home=tmp_path,
        )  # fmt: skip
        assert_secret_was_sent(server, spec.header, spec.secret)
        assert server.injected["503"] == 3
    assert result.code == 1
    assert_debug_redacted(result.err, spec.header, statuses={"503"})
    assert "gave up after 3 attempts" in result.err.splitlines()[-1]


# The cf CLI login -----------------------------------------------------------------------------


def _cf_login(home: Path, server: EmulatorServer, **fields: Any) -> Path:
    config = {
        "ConfigVersion": 3,
        "Target": server.url,
        "AccessToken": f"bearer {CF_TOKEN}",
        "RefreshToken": CF_REFRESH,
        "UaaEndpoint": server.url,
        "AuthorizationEndpoint": server.url,
        "SpaceFields": {"GUID": DEMO_SPACE_GUID, "Name": "dev"},
        "OrganizationFields": {"GUID": "2b9d1e3c-7a4f-4c1e-9e2d-0f5a6b7c8d01", "Name": "demo-org"},
    }
    config.update(fields)
    return write_cf_config(home, config)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("expired", [False, True], ids=["valid", "expired-and-refreshed"])
def test_the_cf_login_tokens_are_never_printed(expired: bool, tmp_path: Path) -> None:
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES))
    with serve(emulator) as server:
        _cf_login(tmp_path, server)
        if expired:
            emulator.expire_tokens()
        result = run("--debug", "cloudfoundry", "app-packages", "--app", "web", "-o", "jsonl", home=tmp_path)
        assert_secret_was_sent(server, "authorization", CF_TOKEN)
        posted = [request for request in server.requests if request.path == "/oauth/token"]
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == PACKAGES
    if expired:
        assert emulator.grants == ["refresh_token"]
        assert len(posted) == 1
    else:
        assert emulator.grants == []
        assert posted == []
    # Every exchange is logged, the 401 that started the refresh included.
    assert_debug_redacted(result.err, "authorization", statuses={"200", "401"} if expired else {"200"})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "plain"])
def test_a_failed_refresh_never_shows_the_tokens(debug: bool, tmp_path: Path) -> None:
    """UAA quotes the refresh token it rejects; pkglist must not pass that on."""
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES))
    with serve(emulator) as server:
        _cf_login(tmp_path, server, RefreshToken=CF_BAD_REFRESH)
        emulator.expire_tokens()
        flags = ["--debug"] if debug else []
        result = run(*flags, "cloudfoundry", "app-packages", "--app", DEMO_APP_GUID, home=tmp_path)
        assert_secret_was_sent(server, "authorization", CF_TOKEN)
        assert [request.path for request in server.requests].count("/oauth/token") == 1
    assert result.code == 1
    assert result.out == ""
    assert result.err.splitlines()[-1] == (
        "pkglist: error: cloudfoundry app-packages: the access token expired and refreshing it through UAA "
        "failed (HTTP 401: invalid_token: Invalid refresh token: [redacted]); log in again with `cf login`"
    )
    if debug:
        # The refresh fails inside the auth flow, before the exchange is logged: only the traceback shows.
        assert "Traceback" in result.err
    else:
        assert result.err.count("\n") == 1


@pytest.mark.timeout(60)
def test_a_rejected_cf_login_token_is_not_printed(tmp_path: Path) -> None:
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES))
    with serve(emulator) as server:
        _cf_login(tmp_path, server, AccessToken=f"bearer {CF_WRONG_TOKEN}", RefreshToken=None)
        result = run("--debug", "cloudfoundry", "packages", "--space-guid", DEMO_SPACE_GUID, home=tmp_path)
        assert_secret_was_sent(server, "authorization", CF_WRONG_TOKEN)
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith(
        "pkglist: error: cloudfoundry packages: HTTP 401 Unauthorized"
    )
    assert_debug_redacted(result.err, "authorization", statuses={"401"})


@pytest.mark.timeout(60)
def test_the_cf_login_of_another_api_is_never_sent(tmp_path: Path) -> None:
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES))
    with serve(emulator) as server:
        write_cf_config(
            tmp_path,
            {
                "Target": "https://api.cf.example.com",
                "AccessToken": f"bearer {CF_TOKEN}",
                "RefreshToken": CF_REFRESH,
            },
        )
        result = run("--debug", "cloudfoundry", "packages", "--base-url", server.url, home=tmp_path)
        assert list(server.requests) == []
    assert result.code == 2
    assert result.out == ""
    assert "the cf CLI is logged in to https://api.cf.example.com" in result.err.splitlines()[-1]


# The Python API ---------------------------------------------------------------------------------


def _exception_texts(exc: BaseException) -> list[str]:
    texts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
        seen = seen.__cause__ or seen.__context__
    return texts


def _api_failure(spec: Spec, server: EmulatorServer, secret: str) -> pkglist.PkglistError:
    with pytest.raises(pkglist.PkglistError) as info:
        list(
            pkglist.iter_packages(
                spec.provider,
                spec.listing,
                base_url=server.url,
                **{spec.credential: secret},
                **spec.query,
                retries=1,
                retry_backoff=0.001,
                max_retry_wait=0.01,
            )
        )
    return info.value


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [(None, 401, pkglist.AuthError), (500, 500, pkglist.ServerError), (503, 503, pkglist.ServerError)],
    ids=["401", "500", "503-retries-spent"],
)
def test_python_api_errors_never_hold_the_credential(
    spec: Spec,
    fault: int | None,
    status: int,
    error: type[Exception],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="pkglist")
    secret = spec.wrong if fault is None else spec.secret
    faults = Faults(statuses={fault: 1.0}, seed=3) if fault else None
    with serve(spec.make(), faults=faults) as server:
        exc = _api_failure(spec, server, secret)
        assert_secret_was_sent(server, spec.header, secret)
    assert isinstance(exc, error)
    assert exc.status == status
    for text in _exception_texts(exc):
        assert not secrets_in(text), text
    assert f"'{spec.header}': '[redacted]'" in caplog.text
    assert not secrets_in(caplog.text)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("refresh", [CF_REFRESH, CF_BAD_REFRESH], ids=["refreshed", "refresh-rejected"])
def test_python_api_cf_login_tokens_stay_out_of_errors_and_logs(
    refresh: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="pkglist")
    emulator = SecretCloudFoundry(CloudFoundryEmulator(packages=PACKAGES))
    with serve(emulator) as server:
        _cf_login(tmp_path, server, RefreshToken=refresh)
        emulator.expire_tokens()
        listed = pkglist.iter_packages("cloudfoundry", "app-packages", app="web", retry_backoff=0.001)
        if refresh == CF_REFRESH:
            packages = list(listed)
            assert len(packages) == PACKAGES
            assert not secrets_in(repr(packages[0]))
            assert emulator.grants == ["refresh_token"]
        else:
            with pytest.raises(pkglist.AuthError) as info:
                list(listed)
            assert "refreshing it through UAA failed" in str(info.value)
            for text in _exception_texts(info.value):
                assert not secrets_in(text), text
        assert_secret_was_sent(server, "authorization", CF_TOKEN)
    if refresh == CF_REFRESH:
        assert "'authorization': '[redacted]'" in caplog.text
    assert not secrets_in(caplog.text)


# A server that quotes the credential back -------------------------------------------------------


class QuotingServer:
    """Answers every request with a 401 whose error text quotes the credential it received,
    as some APIs (and UAA, for refresh tokens) do."""

    def __init__(self, spec: Spec) -> None:
        self.credentials = {spec.credential: spec.secret}
        self.header = spec.header

    def handle(self, request: Request) -> Response:
        received = request.headers.get(self.header, "")
        body = {"error": {"code": "UNAUTHORIZED", "message": f"the credential {received!r} is not valid"}}
        return Response.json(body, status=401)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
def test_an_error_body_quoting_the_credential_is_not_passed_on_by_the_cli(spec: Spec, tmp_path: Path) -> None:
    with serve(QuotingServer(spec)) as server:
        result = run(*spec.args(server.url), spec.flag, spec.secret, home=tmp_path)  # fails on a leak
        assert_secret_was_sent(server, spec.header, spec.secret)
    assert result.code == 1
    assert "HTTP 401 Unauthorized: " in result.err
    assert "the credential '[redacted]' is not valid" in result.err


@pytest.mark.timeout(60)
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.provider)
def test_an_error_body_quoting_the_credential_is_not_passed_on_by_the_api(spec: Spec) -> None:
    with serve(QuotingServer(spec)) as server:
        exc = _api_failure(spec, server, spec.secret)
        assert_secret_was_sent(server, spec.header, spec.secret)
    assert isinstance(exc, pkglist.AuthError)
    assert "the credential" in str(exc)
    for text in _exception_texts(exc):
        assert not secrets_in(text), text


# The guard itself ------------------------------------------------------------------------------


def test_the_run_helper_fails_when_a_secret_leaks() -> None:
    recorded = len(TRANSCRIPTS)
    for leak in (*SECRETS, f"key={MARKER}-cut-sh"):
        with pytest.raises(AssertionError, match="a test secret leaked"):
            check_output(["harness", "packages"], 1, "", f"pkglist: error: {leak}\n")
        with pytest.raises(AssertionError, match="a test secret leaked"):
            check_output(["harness", "packages"], 0, f'{{"id": "{leak}"}}\n', "")
    assert len(TRANSCRIPTS) == recorded
    assert check_output(["harness", "packages"], 0, "fine\n", "") == Result(
        ("harness", "packages"), 0, "fine\n", ""
    )
    assert TRANSCRIPTS.pop() == Result(("harness", "packages"), 0, "fine\n", "")
