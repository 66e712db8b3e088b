"""The emulator server's capacity: at most K requests handled at once, the rest queued in arrival
order, and 429s above a number at the server. Over real loopback with concurrent clients; proven by
counting (an emulator that holds every request until the test lets go), never by timing."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from pkglist.testing import EmulatorServer, Request, Response, serve


class Gate:
    """An emulator that answers every request only once the test opens the gate, noting the order."""

    credentials: dict[str, str] = {}  # noqa: RUF012 - the emulator protocol's attribute

    def __init__(self) -> None:
        self.open = threading.Event()
        self.handled: list[str] = []
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.handled.append(request.param("n") or "")
        if not self.open.wait(timeout=30):
            return Response.json({"message": "the test never opened the gate"}, status=500)
        return Response.json({"n": request.param("n")})


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for the server to reach a state (not a timing assertion: the bound only stops a hang)."""
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"the server never got to: {what}")
        time.sleep(0.005)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=16) as executor:
        yield executor


def get(server: EmulatorServer, n: int) -> httpx.Response:
    return httpx.get(f"{server.url}/item?n={n}", timeout=30)


def send_in_turn(
    pool: ThreadPoolExecutor, server: EmulatorServer, numbers: range
) -> list[Future[httpx.Response]]:
    """One request per connection, each sent once the previous one is at the server (handled,
    waiting or throttled), so that they arrive in this order."""
    futures = []
    for n in numbers:
        futures.append(pool.submit(get, server, n))
        wait_until(functools.partial(at_server, server, n + 1), f"request {n} at the server")
    return futures


def at_server(server: EmulatorServer, count: int) -> bool:
    return server.in_flight + server.queued + server.injected["throttled"] == count


def test_at_most_capacity_requests_are_handled_at_once_and_the_rest_wait_in_order(
    pool: ThreadPoolExecutor,
) -> None:
    gate = Gate()
    with serve(gate, capacity=3) as server:
        futures = send_in_turn(pool, server, range(8))
        wait_until(lambda: server.in_flight == 3 and server.queued == 5, "3 handled and 5 waiting")
        wait_until(lambda: len(gate.handled) >= 3, "3 requests at the emulator")
        assert sorted(gate.handled) == ["0", "1", "2"]
        gate.open.set()
        answers = [future.result() for future in futures]
    assert [answer.json()["n"] for answer in answers] == [str(n) for n in range(8)]
    assert server.max_in_flight == 3
    assert server.max_queued == 5
    assert server.injected["throttled"] == 0
    assert server.in_flight == server.queued == 0


def test_waiting_requests_are_handled_first_come_first_served(pool: ThreadPoolExecutor) -> None:
    gate = Gate()
    with serve(gate, capacity=1) as server:
        futures = send_in_turn(pool, server, range(6))
        wait_until(lambda: server.queued == 5, "1 handled and 5 waiting")
        gate.open.set()
        assert [future.result().status_code for future in futures] == [200] * 6
    assert gate.handled == [str(n) for n in range(6)]


def test_a_request_above_the_throttle_line_is_answered_429_at_once(pool: ThreadPoolExecutor) -> None:
    gate = Gate()
    with serve(gate, capacity=2, throttle_above=4, throttle_retry_after="7") as server:
        held = send_in_turn(pool, server, range(4))
        wait_until(lambda: server.in_flight == 2 and server.queued == 2, "2 handled and 2 waiting")
        throttled = [get(server, n) for n in (4, 5)]  # answered while the gate is still closed
        gate.open.set()
        answers = [future.result() for future in held]
    for answer in throttled:
        assert answer.status_code == 429
        assert answer.headers["Retry-After"] == "7"
        assert "more than 4" in answer.json()["message"]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert server.injected["throttled"] == 2
    assert sorted(gate.handled) == ["0", "1", "2", "3"]  # a throttled request never reaches the emulator


def test_without_a_capacity_every_request_is_handled_at_once(pool: ThreadPoolExecutor) -> None:
    gate = Gate()
    with serve(gate, throttle_above=5) as server:
        held = send_in_turn(pool, server, range(5))
        wait_until(lambda: server.in_flight == 5, "5 handled")
        assert get(server, 5).status_code == 429
        gate.open.set()
        assert [future.result().status_code for future in held] == [200] * 5
    assert server.max_queued == 0
    assert server.max_in_flight == 5


@pytest.mark.parametrize("name", ["capacity", "throttle_above"])
def test_a_capacity_below_one_is_refused(name: str) -> None:
    options: dict[str, Any] = {name: 0}
    with pytest.raises(ValueError, match=f"{name} must be at least 1, not 0"):
        EmulatorServer(Gate(), **options)


def test_pkglist_emulate_takes_the_capacity_and_the_throttle_line() -> None:
    """One request held for 1.5 s by the latency; the others meanwhile are throttled."""
    command = [sys.executable, "-m", "pkglist", "emulate", "harness", "--packages", "3"]
    command += ["--latency", "1500", "--capacity", "1", "--throttle-above", "1"]
    emulator = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert emulator.stdout is not None
        url = emulator.stdout.readline().strip()
        with ThreadPoolExecutor(max_workers=1) as executor:
            held = executor.submit(httpx.get, url + "/held", timeout=30)
            statuses = set()
            while not held.done() and 429 not in statuses:
                statuses.add(httpx.get(url + "/other", timeout=30).status_code)
            statuses.add(held.result().status_code)
        assert 429 in statuses, "no request was throttled while one was held"
        assert statuses - {429}, "the held request was throttled too"
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
