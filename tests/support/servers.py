"""Real servers for tests: nginx as a gzip reverse proxy, tinyproxy as an HTTP proxy, and the
CNCF distribution registry (Debian's ``docker-registry``), each run in the foreground on a free
loopback port with everything (config, logs, pid, temp files, storage) in a temporary directory.

A server that is not installed skips the test with the package to install, or fails it when
``PKGLIST_REQUIRE_SERVERS=1`` (CI installs them, so there an absent server is a bug, not a skip).
Seeding a registry without a docker daemon is in :mod:`tests.support.oci`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import attrs
import bcrypt
import httpx
import pytest

REQUIRE_SERVERS = "PKGLIST_REQUIRE_SERVERS"
# Debian puts nginx in /usr/sbin, which is not on an ordinary user's PATH.
_SYSTEM_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
_START_ATTEMPTS = 3
# How each server says its port was taken (tinyproxy 1.11 binds before it opens its log, and
# says no more than this).
_PORT_TAKEN = ("Address already in use", "address already in use", "Could not create listening sockets")


def require_binary(name: str, package: str | None = None) -> str:
    """The path of the executable ``name``; if it is absent, skip the test naming the Debian
    ``package`` to install, or fail it when ``PKGLIST_REQUIRE_SERVERS=1``."""
    search_path = os.pathsep.join([os.environ.get("PATH", os.defpath), *_SYSTEM_DIRS])
    found = shutil.which(name, path=search_path)
    if found is not None:
        return found
    reason = f"{name} is not installed (apt-get install {package or name})"
    if os.environ.get(REQUIRE_SERVERS) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_SERVERS}=1 requires it", pytrace=False)
    pytest.skip(reason)


# -- nginx --------------------------------------------------------------------------------------


@attrs.frozen
class AccessLogEntry:
    """One line of the nginx proxy's access log (absent values are empty strings)."""

    request: str  # the request line, e.g. "GET /items HTTP/1.1"
    status: int
    body_bytes_sent: int
    accept_encoding: str  # what the client asked for
    content_encoding: str  # what nginx sent ("gzip" when it compressed)


@attrs.frozen
class NginxProxy:
    url: str  # http://127.0.0.1:PORT
    access_log: Path

    def access_log_entries(self, at_least: int = 0, timeout: float = 5.0) -> list[AccessLogEntry]:
        """The requests nginx has finished answering, oldest first. nginx writes a request's
        line after it has sent the response, so a client can read its answer before the line is
        there: wait up to ``timeout`` seconds for ``at_least`` lines (and return what there is
        then, for the caller's assertion to show)."""
        deadline = time.monotonic() + timeout
        lines = self.access_log.read_text().splitlines()
        while len(lines) < at_least and time.monotonic() < deadline:
            time.sleep(0.01)
            lines = self.access_log.read_text().splitlines()
        entries = []
        for line in lines:
            request, status, sent, accept, encoding = (
                "" if field == "-" else field for field in line.split("\t")
            )
            entries.append(AccessLogEntry(request, int(status), int(sent), accept, encoding))
        return entries


# Fields are tab-separated: nginx escapes a tab inside a value (as \x09), so splitting is safe.
_NGINX_LOG_FORMAT = (
    "'$request\\t$status\\t$body_bytes_sent\\t$http_accept_encoding\\t$sent_http_content_encoding'"
)
_NGINX_GZIP = "gzip on; gzip_proxied any; gzip_types application/json text/plain; gzip_min_length 0;"


@contextmanager
def nginx_proxy(upstream_url: str, *, gzip: bool = True, extra_config: str = "") -> Iterator[NginxProxy]:
    """nginx on a free loopback port, proxying every request to ``upstream_url``
    (``proxy_http_version 1.1``; nginx sends ``Host`` as the upstream's). With ``gzip`` it
    compresses JSON and text answers whatever their size. ``extra_config`` goes in the
    ``server`` block (extra locations or directives). Fails with nginx's error log if it does
    not start."""
    nginx = require_binary("nginx")
    with tempfile.TemporaryDirectory(prefix="pkglist-nginx-") as tmp:
        root = Path(tmp)
        access_log = root / "access.log"

        def launch(port: int) -> list[str]:
            temp_paths = "\n".join(
                f"    {kind}_temp_path {root / kind};"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            (root / "nginx.conf").write_text(
                f"""daemon off;
master_process off;
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "error.log"} notice;
events {{ worker_connections 256; }}
http {{
{temp_paths}
    log_format pkglist {_NGINX_LOG_FORMAT};
    access_log {access_log} pkglist;
    {_NGINX_GZIP if gzip else "gzip off;"}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass {upstream_url.rstrip("/")};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
        {extra_config}
    }}
}}
"""
            )
            # -e: errors before the config is read go to our directory, not /var/log/nginx.
            return [nginx, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")]

        def is_ready(port: int) -> bool:
            # nginx writes its pid file once it has bound its port: a connection alone could
            # reach another server that took the port first.
            return (root / "nginx.pid").exists() and _accepts_connections(port)

        with _serving("nginx", root, launch, is_ready=is_ready, logs=("error.log",)) as port:
            yield NginxProxy(url=f"http://127.0.0.1:{port}", access_log=access_log)


# -- tinyproxy ----------------------------------------------------------------------------------


@attrs.frozen
class TinyProxy:
    url: str  # what HTTPS_PROXY / ALL_PROXY take: http://[user:password@]127.0.0.1:PORT
    bare_url: str  # the same without credentials
    log: Path  # tinyproxy's log: one "Request (file descriptor N): GET http://..." line per request

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


# What tinyproxy's config parser takes as a BasicAuth user or password (and all URL-safe).
_TINYPROXY_WORD = re.compile(r"[-A-Za-z0-9._]+")


@contextmanager
def tinyproxy(*, basic_auth: tuple[str, str] | None = None) -> Iterator[TinyProxy]:
    """tinyproxy on a free loopback port, open to 127.0.0.1, CONNECT allowed to any port (so
    ``https://127.0.0.1:PORT`` works through it), and with ``basic_auth`` only for that user
    (without credentials a client gets 407; tinyproxy 1.11 answers wrong ones with 401)."""
    if basic_auth is not None and not all(_TINYPROXY_WORD.fullmatch(part) for part in basic_auth):
        raise ValueError("tinyproxy's BasicAuth takes a user and a password made of letters, digits and -._")
    binary = require_binary("tinyproxy")
    with tempfile.TemporaryDirectory(prefix="pkglist-tinyproxy-") as tmp:
        root = Path(tmp)
        log = root / "tinyproxy.log"

        def launch(port: int) -> list[str]:
            log.unlink(missing_ok=True)  # is_ready reads it: nothing from a failed attempt
            # No ConnectPort line: tinyproxy then allows CONNECT to every port.
            lines = [
                f"Port {port}",
                "Listen 127.0.0.1",
                "Timeout 60",
                "MaxClients 64",
                "Allow 127.0.0.1",
                f'LogFile "{log}"',
                "LogLevel Info",
            ]
            if basic_auth is not None:
                lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
            (root / "tinyproxy.conf").write_text("\n".join(lines) + "\n")
            return [binary, "-d", "-c", str(root / "tinyproxy.conf")]

        def is_ready(port: int) -> bool:
            # Logged once it listens (a test connection would add an error line to its log).
            return "Accepting connections" in _read(log)

        with _serving("tinyproxy", root, launch, is_ready=is_ready, logs=("tinyproxy.log",)) as port:
            bare_url = f"http://127.0.0.1:{port}"
            url = bare_url if basic_auth is None else f"http://{':'.join(basic_auth)}@127.0.0.1:{port}"
            yield TinyProxy(url=url, bare_url=bare_url, log=log)


# -- docker-registry ----------------------------------------------------------------------------


@attrs.frozen
class Registry:
    url: str  # http://127.0.0.1:PORT
    host: str  # 127.0.0.1:PORT, as in image references
    users: Mapping[str, str]  # htpasswd user -> password (empty: no auth)
    log: Path

    @property
    def auth(self) -> tuple[str, str] | None:
        """The first user's (name, password), for ``httpx`` and ``push_image``; None without auth."""
        return next(iter(self.users.items()), None)


@contextmanager
def docker_registry(
    *, htpasswd_users: Mapping[str, str] | None = None, token_auth: Mapping[str, str] | None = None
) -> Iterator[Registry]:
    """``docker-registry serve`` on a free loopback port with a temporary filesystem storage
    (deletes enabled); with ``htpasswd_users`` it requires Basic auth (bcrypt htpasswd); with
    ``token_auth`` (the registry's ``auth.token`` settings: ``realm``, ``service``, ``issuer``,
    ``rootcertbundle``) it requires bearer tokens from that realm. Ready once ``GET /v2/`` answers."""
    binary = require_binary("docker-registry")
    users = dict(htpasswd_users or {})
    with tempfile.TemporaryDirectory(prefix="pkglist-registry-") as tmp:
        root = Path(tmp)

        def launch(port: int) -> list[str]:
            config: dict[str, object] = {
                "version": 0.1,
                "log": {"level": "info", "formatter": "text"},
                "storage": {
                    "filesystem": {"rootdirectory": str(root / "storage")},
                    "delete": {"enabled": True},
                },
                "http": {"addr": f"127.0.0.1:{port}"},
            }
            if users:
                (root / "htpasswd").write_text(_htpasswd(users))
                config["auth"] = {"htpasswd": {"realm": "pkglist-test", "path": str(root / "htpasswd")}}
            elif token_auth:
                config["auth"] = {"token": dict(token_auth)}
            # JSON is YAML: the registry reads it as its YAML configuration.
            (root / "config.yml").write_text(json.dumps(config, indent=2))
            return [binary, "serve", str(root / "config.yml")]

        with _serving("docker-registry", root, launch, is_ready=_registry_answers) as port:
            yield Registry(
                url=f"http://127.0.0.1:{port}",
                host=f"127.0.0.1:{port}",
                users=users,
                log=root / "docker-registry.out",
            )


def _htpasswd(users: Mapping[str, str]) -> str:
    # The registry accepts bcrypt entries only.
    return "".join(
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}\n"
        for user, password in users.items()
    )


def _registry_answers(port: int) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=2)
    except httpx.TransportError:
        return False
    # The header proves it is our registry answering, not whatever else took the port.
    return response.status_code in (200, 401) and "docker-distribution-api-version" in response.headers


# -- running a server process -------------------------------------------------------------------


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(
    name: str,
    root: Path,
    launch: Callable[[int], list[str]],
    *,
    is_ready: Callable[[int], bool],
    logs: tuple[str, ...] = (),
) -> Iterator[int]:
    """Run ``launch(port)``'s command (its output in ``root/<name>.out``) until ``is_ready(port)``
    on a free port, yield the port, stop it on exit. Another process may take the free port
    before the server binds it, so a start that fails with "address in use" is tried again on
    another port (see ``_PORT_TAKEN``); ``is_ready`` must tell the server from whatever took
    the port."""
    output = root / f"{name}.out"
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = _free_port()
        command = launch(port)
        with output.open("wb") as sink:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink, cwd=root)
        try:
            if _wait_until_ready(process, port, is_ready):
                yield port
                return
            timed_out = process.poll() is None
        finally:
            _stop(process)
        text = "\n".join(_read(root / log) for log in (output.name, *logs)).strip()
        if timed_out:
            pytest.fail(f"{name} was not ready within {_START_TIMEOUT:.0f} s:\n{text}", pytrace=False)
        if not any(marker in text for marker in _PORT_TAKEN) or attempt == _START_ATTEMPTS:
            pytest.fail(f"{name} did not start ({' '.join(command)}):\n{text}", pytrace=False)


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, is_ready: Callable[[int], bool]) -> bool:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if is_ready(port):
            return True
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
