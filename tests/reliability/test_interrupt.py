"""Ctrl-C and closed pipes, through the installed console script.

SIGINT during a listing exits with status 130, promptly, after flushing every
complete record already produced (a jsonl consumer never sees half a line),
with one ``pkglist: interrupted`` line on stderr and no traceback; output to a
pipe whose reader went away (``| head``) stops the listing quietly. The
listings run against emulators served here with latency, so that they are
still running when the signal arrives.
"""

from __future__ import annotations

import array
import fcntl
import json
import shlex
import signal
import subprocess
import sys
import termios
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

import pkglist
from pkglist.testing import EmulatorServer, Faults, serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from pkglist_harness import HarnessEmulator
from pkglist_metabind import MetabindEmulator
from tests.support.plugin_dirs import pkglist_command

from .cli import (
    CF_TOKEN,
    HARNESS_KEY,
    METABIND_KEY,
    SecretCloudFoundry,
    check_output,
    clean_env,
    isolate,
    popen,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and pipes")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """In-process calls (the expected listings) see no real credentials or proxy either."""
    isolate(monkeypatch, tmp_path)


PROMPT = 10.0  # seconds: a generous "it did not hang" bound, not a performance figure
LATENCY = 0.3


@attrs.frozen
class Listing:
    provider: str
    listing: str
    args: tuple[str, ...]  # query and credential
    python: dict[str, Any]  # the same for pkglist.iter_packages
    make: Callable[[int], Any]  # an emulator holding that many packages (and the test secret)

    def command(self, server: EmulatorServer, *extra: str) -> list[str]:
        return [self.provider, self.listing, *self.args, "--base-url", server.url, *extra]

    def ids(self, server: EmulatorServer, limit: int) -> list[str]:
        listed = pkglist.iter_packages(
            self.provider, self.listing, base_url=server.url, limit=limit, retry_backoff=0.001, **self.python
        )
        return [package.id for package in listed]


LISTINGS = {
    "harness": Listing(
        "harness",
        "packages",
        ("--account", "acme", "--api-key", HARNESS_KEY),
        {"account": "acme", "api_key": HARNESS_KEY},
        lambda count: HarnessEmulator(packages=count, api_key=HARNESS_KEY),
    ),
    "cloudfoundry": Listing(
        "cloudfoundry",
        "app-packages",
        ("--app", DEMO_APP_GUID, "--token", CF_TOKEN),
        {"app": DEMO_APP_GUID, "token": CF_TOKEN},
        lambda count: SecretCloudFoundry(CloudFoundryEmulator(packages=count)),
    ),
    "metabind": Listing(
        "metabind",
        "packages",
        ("--organization", "org123", "--project", "proj123", "--api-key", METABIND_KEY),
        {"organization": "org123", "project": "proj123", "api_key": METABIND_KEY},
        lambda count: MetabindEmulator(packages=count, api_key=METABIND_KEY),
    ),
}


class Drain:
    """Reads a child's pipe to the end in a thread (so the child never blocks on it)."""

    def __init__(self, stream: Any) -> None:
        self.data = bytearray()
        self._stream = stream
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while chunk := self._stream.read1(65536):
            with self._lock:
                self.data += chunk

    def lines(self) -> int:
        with self._lock:
            return self.data.count(b"\n")

    def text(self, timeout: float = PROMPT) -> str:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the pipe was not closed"
        return self.data.decode()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def interrupt(process: subprocess.Popen[bytes]) -> float:
    """SIGINT, then the seconds the process took to exit."""
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    process.wait(timeout=PROMPT + 5)
    return time.monotonic() - sent


def assert_interrupted_quietly(err: str) -> None:
    assert "Traceback" not in err
    assert "Error" not in err
    # click writes a newline first (after the terminal's ^C): blank lines aside, one line.
    assert [line for line in err.splitlines() if line.strip()][-1:] == ["pkglist: interrupted"], err
    assert err.strip().splitlines()[-1] == "pkglist: interrupted"


# Ctrl-C during a listing ---------------------------------------------------------------------


@attrs.frozen
class Interrupted:
    code: int
    out: str
    err: str
    took: float  # seconds from SIGINT to exit


def run_and_interrupt(
    args: list[str], home: Path, ready: Callable[[Drain], bool], what: str, settle: float
) -> Interrupted:
    """Start ``pkglist ARGS``, wait until ``ready(stdout)``, wait ``settle`` seconds more, send SIGINT."""
    with popen(*args, home=home) as process:
        out, err = Drain(process.stdout), Drain(process.stderr)
        wait_for(lambda: ready(out) or process.poll() is not None, what)
        time.sleep(settle)
        took = interrupt(process)
        stdout, stderr = out.text(), err.text()
    check_output(args, process.returncode, stdout, stderr)
    return Interrupted(process.returncode, stdout, stderr, took)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_sigint_during_a_jsonl_listing_exits_130_with_complete_lines(name: str, tmp_path: Path) -> None:
    spec = LISTINGS[name]
    total = 2000
    with serve(spec.make(total), latency=LATENCY) as server:
        args = spec.command(server, "-o", "jsonl", "--page-size", "10")
        result = run_and_interrupt(args, tmp_path, lambda out: out.lines() >= 3, "the first lines", 0.05)
        server.latency = 0
        written = result.out.splitlines()
        expected = spec.ids(server, len(written))
    assert result.code == 130, result.err
    assert result.took < PROMPT
    assert_interrupted_quietly(result.err)
    assert result.out.endswith("\n"), "the last record was cut"
    rows = [json.loads(line) for line in written]
    assert 3 <= len(rows) < total
    assert {row["provider"] for row in rows} == {name}
    assert [row["id"] for row in rows] == expected, "what was written is the start of the listing, in order"


@pytest.mark.timeout(90)
def test_sigint_during_a_json_listing_leaves_complete_records_of_an_unclosed_array(tmp_path: Path) -> None:
    """``-o json`` streams one array; interrupted, the records written are complete and flushed, and the
    array is left open (no ``]``), so no JSON parser mistakes a cut listing for a whole one."""
    spec = LISTINGS["harness"]
    with serve(spec.make(2000), latency=LATENCY) as server:
        args = spec.command(server, "-o", "json", "--page-size", "10")
        result = run_and_interrupt(args, tmp_path, lambda out: out.lines() >= 3, "the first records", 0.05)
        server.latency = 0
        with pytest.raises(json.JSONDecodeError):
            json.loads(result.out)
        rows = json.loads(result.out + "\n]")
        expected = spec.ids(server, len(rows))
    assert result.code == 130, result.err
    assert result.took < PROMPT
    assert_interrupted_quietly(result.err)
    assert result.out.startswith("[\n  {")
    assert result.out.endswith("}"), "the last record was cut"
    assert 3 <= len(rows) < 2000
    assert [row["id"] for row in rows] == expected


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_sigint_before_the_first_page_writes_nothing(fmt: str, tmp_path: Path) -> None:
    spec = LISTINGS["metabind"]
    with serve(spec.make(50), latency=5.0) as server:
        args = spec.command(server, "-o", fmt)
        result = run_and_interrupt(
            args, tmp_path, lambda _: len(server.requests) > 0, "the first request", 0.1
        )
    assert result.code == 130, result.err
    assert result.took < PROMPT
    assert result.out == ""
    assert_interrupted_quietly(result.err)


@pytest.mark.timeout(60)
def test_sigint_while_waiting_to_retry_exits_at_once(tmp_path: Path) -> None:
    spec = LISTINGS["cloudfoundry"]
    faults = Faults(statuses={503: 1.0}, retry_after="30", seed=4)
    with serve(spec.make(50), faults=faults) as server:
        args = spec.command(server, "-o", "jsonl", "--max-retry-wait", "30")
        result = run_and_interrupt(
            args, tmp_path, lambda _: server.injected["503"] >= 1, "the first 503", 0.2
        )
        assert server.injected["503"] == 1, "the client waits the 30 s asked for"
    assert result.code == 130, result.err
    assert result.took < PROMPT
    assert result.out == ""
    assert_interrupted_quietly(result.err)


def _pipe_bytes(fd: int) -> int:
    available = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, available)
    return available[0]


def _blocked_in_a_pipe_write(pid: int) -> bool:
    """What the kernel says the process waits on, when it says (else the pipe's size has to do)."""
    try:
        with open(f"/proc/{pid}/wchan") as file:
            where = file.read().strip()
    except OSError:  # no /proc (macOS)
        return True
    return where in ("", "0") or "pipe" in where


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("name", "emulator_options", "extra", "env"),
    [
        pytest.param("harness", {}, (), {}, id="harness-pipelined"),
        pytest.param(
            "harness",
            {},
            (),
            {"PYTHONUNBUFFERED": "1"},
            id="harness-pipelined-unbuffered",
        ),
        pytest.param(
            "harness",
            {},
            ("--concurrency", "1"),
            {},
            id="harness-sequential",
        ),
        pytest.param(
            "metabind",
            {"paging": "cursor"},
            (),
            {},
            id="metabind-cursor",
        ),
    ],
)
def test_sigint_while_stdout_is_blocked_is_not_lost(
    name: str, emulator_options: dict[str, Any], extra: tuple[str, ...], env: dict[str, str], tmp_path: Path
) -> None:
    """The reader of stdout is slow: pkglist blocks writing when the signal arrives."""
    spec = LISTINGS[name]
    total = 1500
    emulator = (
        MetabindEmulator(packages=total, api_key=METABIND_KEY, **emulator_options)
        if emulator_options
        else spec.make(total)
    )
    with serve(emulator) as server:
        args = spec.command(server, "-o", "jsonl", "--page-size", "20", *extra)
        with popen(*args, home=tmp_path, env=env) as process:
            err = Drain(process.stderr)
            assert process.stdout is not None
            fd = process.stdout.fileno()
            sizes = [-1]

            def pipe_is_full() -> bool:  # nobody reads it: once it stops growing, pkglist is blocked writing
                sizes.append(_pipe_bytes(fd))
                time.sleep(0.2)
                return sizes[-1] > 0 and sizes[-1] == sizes[-2] and _blocked_in_a_pipe_write(process.pid)

            wait_for(pipe_is_full, "stdout to fill up")
            assert process.poll() is None
            process.send_signal(signal.SIGINT)
            time.sleep(0.3)  # the handler runs (the blocked write is retried); then the reader catches up
            out = Drain(process.stdout)
            process.wait(timeout=PROMPT + 20)
            stdout, stderr = out.text(), err.text()
        check_output(args, process.returncode, stdout, stderr)
    written = stdout.splitlines()
    assert process.returncode == 130, f"exit {process.returncode} after writing {len(written)} of {total}"
    assert_interrupted_quietly(stderr)
    assert stdout.endswith("\n")
    assert all(json.loads(line)["provider"] == name for line in written)
    assert len(written) < total


# A closed pipe ----------------------------------------------------------------------------------


def _through_head(tmp_path: Path, server: EmulatorServer, fmt: str) -> tuple[list[str], str, str]:
    """``pkglist ... | head -n 3`` in bash (no pipefail): head's lines, pkglist's stderr and exit status."""
    spec = LISTINGS["harness"]
    args = spec.command(server, "-o", fmt, "--page-size", "50")
    command = " ".join(shlex.quote(part) for part in [pkglist_command(), *args])
    errors, head, status = tmp_path / "err", tmp_path / "head", tmp_path / "status"
    script = f'{command} 2>{errors} | head -n 3 >{head}; echo "${{PIPESTATUS[0]}}" >{status}'
    subprocess.run(["bash", "-c", script], env=clean_env(tmp_path), timeout=60, check=True)
    stderr = errors.read_text()
    code = int(status.read_text())
    lines = head.read_text().splitlines()
    check_output(args, code, "\n".join(lines), stderr)
    return lines, stderr, str(code)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv", "table"])
def test_a_closed_pipe_stops_the_listing_quietly(fmt: str, tmp_path: Path) -> None:
    total, pages = 2000, 40  # far more than a pipe holds, so pkglist writes into a closed pipe
    with serve(LISTINGS["harness"].make(total)) as server:
        lines, stderr, _ = _through_head(tmp_path, server, fmt)
        requested = len(server.requests)
    assert len(lines) == 3
    if fmt == "jsonl":
        assert all(json.loads(line)["provider"] == "harness" for line in lines)
    assert stderr == "", "no traceback, no BrokenPipeError, no 'Exception ignored'"
    assert requested < pages, "the listing stopped when the reader went away"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_closed_pipe_exits_0(fmt: str, tmp_path: Path) -> None:
    with serve(LISTINGS["harness"].make(2000)) as server:
        lines, stderr, code = _through_head(tmp_path, server, fmt)
    assert len(lines) == 3
    assert stderr == ""
    assert code == "0"


# Ctrl-C stops an emulator ---------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(LISTINGS))
def test_sigint_stops_pkglist_emulate(name: str, tmp_path: Path) -> None:
    args = ("emulate", name, "--packages", "5")
    with popen(*args, home=tmp_path) as process:
        err = Drain(process.stderr)
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:  # it serves: any HTTP answer will do
            direct.open(url + "/nothing-here", timeout=10).close()
        except urllib.error.HTTPError as exc:
            exc.close()
        took = interrupt(process)
        rest = process.stdout.read().decode()
        stderr = err.text()
    check_output(args, process.returncode, url + "\n" + rest, stderr)
    assert process.returncode == 130, stderr
    assert took < PROMPT
    assert rest == ""
    assert stderr.startswith(f"pkglist: serving the {name} emulator at {url}")
    assert_interrupted_quietly(stderr)
