"""A discrete-event simulation of a listing against a server of limited capacity.

The server handles at most ``capacity`` requests at once, each for ``latency`` seconds
(``jitter`` adds up to that share at random, ``slowdowns`` multiply it for a while); the rest
wait in FIFO order. With ``throttle_above``, a request that arrives while that many are at the
server (handled and queued) is answered 429 at once. The client drives a limit the way the
engine does: the first page alone, then every other page addressable, ``limit`` requests kept
in flight while pages remain (or fewer: ``window``, as the speculative window of a
has-more-only listing), a throttled page sent again once its ``Retry-After`` has passed, and
no request sent by anyone meanwhile (the engine's rate gate). A new connection can cost
``connect``, and the client can stall (``stalled``). No clock, no threads, no sleeping:
events in simulated time.
"""

from __future__ import annotations

import functools
import heapq
import math
import random
from collections import deque
from collections.abc import Callable

import attrs

from pkglist._limiter import Limit, Token

#: One way across loopback, in seconds: small, but not nothing.
TRIP = 0.0001


@attrs.frozen
class Slowdown:
    """Requests that start being handled between ``start`` and ``end`` take ``factor`` times as long."""

    start: float
    end: float
    factor: float


@attrs.frozen
class Server:
    capacity: int
    latency: float = 0.05
    throttle_above: int | None = None
    retry_after: float = 1.0
    #: Up to this share of ``latency`` added at random to each request's (delays only add).
    jitter: float = 0.0
    #: Seconds more for a request that opens a connection (more in flight than ever before).
    connect: float = 0.0
    slowdowns: tuple[Slowdown, ...] = ()
    #: The client stalls (a busy machine) this share of the time, ``stall`` seconds on average
    #: each time: answers that come back meanwhile are seen when it ends.
    stalled: float = 0.0
    stall: float = 0.1
    seed: int = 0

    def ideal(self, pages: int) -> float:
        """The first page alone, then the rest at ``capacity`` per (average) ``latency``."""
        return self.latency * (1 + self.jitter / 2) * (1 + math.ceil((pages - 1) / self.capacity))


@attrs.frozen
class Outcome:
    finished: float
    requests: int
    throttled: int
    #: The most requests at the server (handled and queued) at once.
    most_at_server: int
    #: ``(time, limit)`` after every answer.
    limits: tuple[tuple[float, int], ...]

    @property
    def throttled_share(self) -> float:
        return self.throttled / self.requests

    def limit_at(self, time: float) -> int:
        return next(limit for when, limit in reversed(self.limits) if when <= time)


@attrs.define
class _Simulation:
    server: Server
    limit: Limit
    pages: int
    window: int | None
    service_random: random.Random
    events: list[tuple[float, int, Callable[[], None]]] = attrs.Factory(list)
    order: int = 0
    now: float = 0.0
    # The server.
    handling: int = 0
    queue: deque[tuple[int, Token]] = attrs.Factory(deque)
    most_at_server: int = 0
    # The client.
    to_send: deque[int] = attrs.Factory(deque)
    answered_pages: int = 0
    gate_opens: float = 0.0
    on_connection: bool = True
    stall_random: random.Random = attrs.Factory(random.Random)
    stalls: list[tuple[float, float]] = attrs.Factory(list)
    stalls_until: float = 0.0
    connections: int = 0
    setups: dict[int, float] = attrs.Factory(dict)
    requests: int = 0
    throttled: int = 0
    finished: float = 0.0
    limits: list[tuple[float, int]] = attrs.Factory(list)

    def at(self, time: float, event: Callable[[], None]) -> None:
        self.order += 1
        heapq.heappush(self.events, (time, self.order, event))

    def run(self) -> Outcome:
        self.limits.append((0.0, self.limit.limit))
        self.to_send.append(0)
        self.fill()
        while self.events:
            self.now, _, event = heapq.heappop(self.events)
            event()
        assert self.answered_pages == self.pages
        return Outcome(self.finished, self.requests, self.throttled, self.most_at_server, tuple(self.limits))

    # The client ------------------------------------------------------------------------

    def fill(self) -> None:
        if self.now < self.gate_opens:
            return
        allowed = self.limit.limit if self.window is None else min(self.limit.limit, self.window)
        while self.to_send and self.limit.in_flight < allowed:
            page = self.to_send.popleft()
            token = self.limit.sent(self.now)
            self.requests += 1
            setup = 0.0
            if self.limit.in_flight > self.connections:
                self.connections += 1
                setup = self.server.connect
            self.setups[token.number] = setup
            self.at(self.now + setup + TRIP, functools.partial(self.arrive, page, token))

    def answer(self, page: int, token: Token, throttled: bool) -> None:
        setup = self.setups.pop(token.number)
        # What the engine measures from when the request is on its connection (httpx's trace).
        latency = self.now - token.sent_at - setup if self.on_connection else None
        self.limit.answered(token, self.now, throttled=throttled, latency=latency)
        self.limits.append((self.now, self.limit.limit))
        if throttled:
            self.throttled += 1
            self.to_send.appendleft(page)
            self.gate_opens = max(self.gate_opens, self.now + self.server.retry_after)
            self.at(self.gate_opens, self.fill)
            return
        self.answered_pages += 1
        self.finished = self.now
        if page == 0:  # the first page tells the total: every other page is addressable
            self.to_send.extend(range(1, self.pages))
        self.fill()

    # The server ------------------------------------------------------------------------

    def arrive(self, page: int, token: Token) -> None:
        at_server = self.handling + len(self.queue)
        if self.server.throttle_above is not None and at_server >= self.server.throttle_above:
            self.at(self.seen_at(self.now + TRIP), lambda: self.answer(page, token, True))
            return
        self.most_at_server = max(self.most_at_server, at_server + 1)
        if self.handling < self.server.capacity:
            self.handle(page, token)
        else:
            self.queue.append((page, token))

    def handle(self, page: int, token: Token) -> None:
        self.handling += 1
        self.at(self.now + self.service_time(), lambda: self.handled(page, token))

    def handled(self, page: int, token: Token) -> None:
        self.handling -= 1
        self.at(self.seen_at(self.now + TRIP), lambda: self.answer(page, token, False))
        if self.queue:
            self.handle(*self.queue.popleft())

    def seen_at(self, time: float) -> float:
        """When the client sees an answer that reaches it at ``time`` (after any stall)."""
        if not self.server.stalled:
            return time
        while self.stalls_until <= time:
            gap = self.stall_random.expovariate(self.server.stalled / self.server.stall)
            start = self.stalls_until + gap
            length = self.stall_random.uniform(0.5, 1.5) * self.server.stall
            self.stalls.append((start, start + length))
            self.stalls_until = start + length
        return next((end for start, end in self.stalls if start <= time < end), time)

    def service_time(self) -> float:
        time = self.server.latency
        if self.server.jitter:
            time *= 1 + self.service_random.uniform(0, self.server.jitter)
        for slowdown in self.server.slowdowns:
            if slowdown.start <= self.now < slowdown.end:
                time *= slowdown.factor
        return time


def simulate(
    limit: Limit, server: Server, *, pages: int = 400, window: int | None = None, on_connection: bool = True
) -> Outcome:
    """List ``pages`` pages from ``server`` with ``limit`` (``window``: the most the caller sends;
    ``on_connection``: tell the limit the latency without connection set-up)."""
    return _Simulation(
        server,
        limit,
        pages,
        window,
        random.Random(server.seed),
        on_connection=on_connection,
        stall_random=random.Random(-server.seed),
    ).run()
