"""Running the installed ``pkglist`` console script the way a user does, isolated, with
test secrets that must never come back out.

Every run goes through :func:`run` (or :func:`popen` + :func:`check_output`), which

* starts the real console script (``tests.support.plugin_dirs.pkglist_command``)
  in a subprocess with a temporary ``HOME``, ``CF_HOME``
  and ``XDG_CACHE_HOME``, and without the developer's ``HARNESS_*``, ``CF_*``,
  ``METABIND_*``, proxy and CA variables (so no real login or config leaks in),
  nor ``PYTHONUNBUFFERED`` (so stdout is buffered, as for most users);
* records what the run printed in :data:`TRANSCRIPTS` and fails the test at once
  when any test secret (every one contains :data:`MARKER`) shows up on stdout or
  stderr. So every bad-input, secrets and interruption run is grepped for the
  secrets, whatever the test itself asserts.

``run_pkglist`` of ``tests.support.plugin_dirs`` is not used as is: it merges the
caller's environment into ``os.environ``, and these runs must remove variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

from pkglist.testing import Request, Response
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from tests.support.plugin_dirs import pkglist_command

__all__ = [
    "CF_BAD_REFRESH",
    "CF_REFRESH",
    "CF_TOKEN",
    "CF_WRONG_TOKEN",
    "HARNESS_KEY",
    "HARNESS_WRONG_KEY",
    "MARKER",
    "METABIND_KEY",
    "METABIND_WRONG_KEY",
    "SECRETS",
    "TRANSCRIPTS",
    "URL_PASSWORD",
    "Result",
    "SecretCloudFoundry",
    "check_output",
    "clean_env",
    "isolate",
    "popen",
    "run",
    "secrets_in",
    "write_cf_config",
]

#: Every test secret contains this, so one search finds any of them (also cut short).
MARKER = "SECRET-4242"
HARNESS_KEY = "hk-SECRET-4242-harness-platform-api-key"
HARNESS_WRONG_KEY = "hk-SECRET-4242-wrong-harness-key"
METABIND_KEY = "mb-SECRET-4242-metabind-api-key"
METABIND_WRONG_KEY = "mb-SECRET-4242-wrong-metabind-key"
CF_TOKEN = "cf-SECRET-4242-access-token"
CF_WRONG_TOKEN = "cf-SECRET-4242-wrong-access-token"
CF_REFRESH = "cf-SECRET-4242-refresh-token"
CF_BAD_REFRESH = "cf-SECRET-4242-revoked-refresh-token"
URL_PASSWORD = "pw-SECRET-4242-in-a-url"
SECRETS = (
    HARNESS_KEY,
    HARNESS_WRONG_KEY,
    METABIND_KEY,
    METABIND_WRONG_KEY,
    CF_TOKEN,
    CF_WRONG_TOKEN,
    CF_REFRESH,
    CF_BAD_REFRESH,
    URL_PASSWORD,
)
assert all(MARKER in secret for secret in SECRETS)

_DROPPED_PREFIXES = ("HARNESS_", "CF_", "METABIND_", "PKGLIST_")
_DROPPED = {
    "PYTHONUNBUFFERED",  # set in many containers; pkglist's stdout is buffered for a user (tests add it back)
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "REQUESTS_CA_BUNDLE",
}


@attrs.frozen
class Result:
    args: tuple[str, ...]
    code: int
    out: str
    err: str


#: What the console script printed in this session, run by run (runs that leaked fail instead).
TRANSCRIPTS: list[Result] = []


def secrets_in(text: str) -> list[str]:
    """The test secrets (or pieces of them) found in ``text``."""
    found = [secret for secret in SECRETS if secret in text]
    if not found and MARKER in text:
        found = [MARKER]
    return found


def check_output(args: Sequence[str], code: int, out: str, err: str) -> Result:
    """Record one run and fail if a test secret is in its output."""
    result = Result(tuple(args), code, out, err)
    leaked = {"stdout": secrets_in(out), "stderr": secrets_in(err)}
    assert not any(leaked.values()), f"a test secret leaked: {leaked} (pkglist {' '.join(args)})\n{err}"
    TRANSCRIPTS.append(result)
    return result


def clean_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of one run: ``home`` for home and caches, no credentials but ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_DROPPED_PREFIXES) and name.upper() not in _DROPPED
    }
    env.update(
        HOME=str(home),
        CF_HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        COLUMNS="100",
    )
    env.update(extra or {})
    return env


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """The same isolation for an in-process call of the Python API."""
    for name in list(os.environ):
        if name.startswith(_DROPPED_PREFIXES) or name.upper() in _DROPPED:
            monkeypatch.delenv(name)
    for name in ("HOME", "CF_HOME"):
        monkeypatch.setenv(name, str(home))


def run(*args: str, home: Path, env: Mapping[str, str] | None = None, timeout: float = 60) -> Result:
    """Run ``pkglist ARGS`` to completion; see the module docstring."""
    done = subprocess.run(
        [pkglist_command(), *args],
        capture_output=True,
        text=True,
        env=clean_env(home, env),
        timeout=timeout,
        check=False,
    )
    return check_output(args, done.returncode, done.stdout, done.stderr)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def popen(*args: str, home: Path, env: Mapping[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``pkglist ARGS`` with stdout and stderr piped (bytes), killed if still running
    when the block ends; pass what it printed to :func:`check_output`.

    Python only turns SIGINT into ``KeyboardInterrupt`` when it was not ignored at
    start-up; a test runner started in the background (``pytest &``) ignores it, and
    its children would inherit that, so it is reset to the default for the child then.
    """
    ignored = signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    process = subprocess.Popen(
        [pkglist_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(home, env),
        preexec_fn=_default_sigint if ignored else None,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def write_cf_config(home: Path, config: Any) -> Path:
    """``home/.cf/config.json`` holding ``config`` (JSON-encoded unless bytes or str)."""
    path = home / ".cf" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(config, bytes):
        path.write_bytes(config)
    else:
        path.write_text(config if isinstance(config, str) else json.dumps(config, indent=2))
    return path


class SecretCloudFoundry:
    """The Cloud Foundry emulator behind test secrets.

    Its own tokens are fixed, so this wrapper accepts ``token`` (and the access
    tokens it hands out on a refresh, each a test secret too) in their place,
    and ``refresh_token`` in place of the emulator's refresh token; any other
    value goes through unchanged, so the emulator rejects it (a refresh token it
    does not know is quoted back in UAA's error, as the real UAA does).
    """

    def __init__(
        self,
        inner: CloudFoundryEmulator | None = None,
        *,
        token: str = CF_TOKEN,
        refresh_token: str = CF_REFRESH,
    ) -> None:
        self.inner = inner or CloudFoundryEmulator(packages=40)
        self.credentials: Mapping[str, str] = {"token": token}
        self.refresh_token = refresh_token
        self._real = {token: str(self.inner.credentials["token"])}
        self._issued = 0

    @property
    def grants(self) -> list[str]:
        return self.inner.grants

    def expire_tokens(self) -> None:
        self.inner.expire_tokens()

    def handle(self, request: Request) -> Response:
        headers = dict(request.headers)
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip() in self._real:
            headers["authorization"] = f"bearer {self._real[token.strip()]}"
        body = request.body
        if request.path.rstrip("/").endswith("/oauth/token") and request.method == "POST":
            form = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)
            form = [
                (
                    key,
                    self.inner.refresh_token
                    if key == "refresh_token" and value == self.refresh_token
                    else value,
                )
                for key, value in form
            ]
            body = urllib.parse.urlencode(form).encode()
        response = self.inner.handle(attrs.evolve(request, headers=headers, body=body))
        if request.path.rstrip("/").endswith("/oauth/token") and response.status == 200:
            return self._disguise_grant(response)
        return response

    def _disguise_grant(self, response: Response) -> Response:
        data = json.loads(response.body)
        self._issued += 1
        alias = f"{self.credentials['token']}-renewed-{self._issued}"
        self._real[alias] = data["access_token"]
        data["access_token"] = alias
        data["refresh_token"] = self.refresh_token
        return Response.json(data, response.status, dict(response.headers))
