"""How many page requests may be in flight: a fixed number, or one that adapts to the server.

I/O-free. The caller reads ``limit`` before sending, calls ``sent(now)`` for each request and
``answered(token, now, ...)`` exactly once per token (a request cancelled or given up on is
``failed``: nothing to learn from it); ``now`` is a monotonic clock in seconds.

:class:`Adaptive` is TCP Vegas applied to requests. By Little's law,
``window × (1 − base latency / latency)`` is how many requests wait in the server's queue; it
keeps that queue at a few (``alpha`` to ``beta``), so the server is always busy and latency
stays near its floor. Not AIMD: it learns only from 429s, so it pushes until the server
throttles (a sawtooth of 429s), and a server that queues instead of throttling sees the cap at
many times the latency for no gain. Not Gradient2: its long-term average latency absorbs a
standing queue, so the limit creeps up, and deciding on every answer overshoots a FIFO server,
whose first answers in a window come back at the base latency while the rest still queue.

So it decides once per round: the requests sent after the last decision until the first of
them is answered (about a window, sent over one round trip), judged once all are answered (or
after twice their latency, so that a hung request holds nothing up) by their average latency.
It starts at ``INITIAL`` and doubles per round while nothing queues (slow start, which thus
stops below twice the capacity), then grows by a quarter while fewer than ``alpha`` queue and
drops to the estimated capacity plus ``alpha`` (at most halving) when more than ``beta`` do. A
queue counts once two rounds in a row show it: a stall on the client's side (a busy machine)
delays one round's answers, a queue every round's. A round
that did not fill the window (the caller had less to send) never grows it. A 429 or 503 to a
request sent since the last decision halves what is in flight (answers to requests sent
earlier, under the old limit, are not counted again). The base latency is the lowest round
average (delays on the way only add, and an average cancels them), but at most ``NOISE`` times
the fastest answer (a round of requests that all queued says nothing about the base); it is
re-measured every ``probe_every`` seconds by a round at half the capacity, so that a server
slower for good is not taken for a queue forever. Connection errors and timeouts carry no
latency and are no signal: a flaky network is not an overloaded server. Nor is connection
set-up: a caller that can tell when a request went out on its connection passes ``latency``.
"""

from __future__ import annotations

import math
from typing import Protocol

import attrs

__all__ = ["CAP", "INITIAL", "Adaptive", "Fixed", "Limit", "Token"]

#: The most requests :class:`Adaptive` ever allows in flight.
CAP = 64
#: Where :class:`Adaptive` starts: a burst a small server queues without harm, and two
#: doublings from the cap (slow start costs two round trips per doubling).
INITIAL = 16
#: Slow start ends once a round shows this many requests queued at the server.
SLOW_START_QUEUE = 3
#: How much slower than the fastest answer an unqueued request may be (delays on the way).
NOISE = 1.25


@attrs.frozen
class Token:
    """A sent request, to hand back with its answer."""

    number: int
    sent_at: float
    #: Requests in flight once this one was sent (itself included).
    in_flight: int


class Limit(Protocol):
    """How many requests may be in flight; told of every request sent and answered."""

    @property
    def limit(self) -> int: ...

    @property
    def in_flight(self) -> int: ...

    def sent(self, now: float) -> Token: ...

    def answered(
        self,
        token: Token,
        now: float,
        *,
        throttled: bool = False,
        failed: bool = False,
        latency: float | None = None,
    ) -> None:
        """``throttled``: a 429 or 503; ``failed``: no answer (connection error, timeout,
        cancelled); ``latency``: how long the request took once it was on its connection, when
        the caller knows (``now - token.sent_at`` otherwise, which counts connection set-up as
        if it were queueing at the server)."""


class _Counting:
    """What every limit keeps: the limit, the requests sent and those in flight."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._sent = 0
        self._in_flight = 0

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def sent(self, now: float) -> Token:
        self._sent += 1
        self._in_flight += 1
        return Token(self._sent, now, self._in_flight)

    def answered(
        self,
        token: Token,
        now: float,
        *,
        throttled: bool = False,
        failed: bool = False,
        latency: float | None = None,
    ) -> None:
        self._in_flight -= 1


class Fixed(_Counting):
    """``limit`` requests in flight, whatever the server does (``--concurrency N``)."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a limit must be at least 1, not {limit}")
        super().__init__(limit)


@attrs.define
class _Round:
    """The requests sent since the last decision, until the first of them was answered."""

    first: int
    #: The number of the first request sent after the round closed.
    end: float = math.inf
    closed_at: float = math.inf
    outstanding: int = 0
    #: The most requests in flight when one of the round's was sent.
    peak: int = 0
    samples: int = 0
    total: float = 0.0
    fastest: float = math.inf

    @property
    def latency(self) -> float:
        return self.total / self.samples


class Adaptive(_Counting):
    """A limit that follows the server's capacity (see the module's text for how and why).

    ``initial`` is where slow start begins, ``cap`` the most it allows, ``probe_every`` how
    many seconds the lowest latency seen is trusted before it is measured again.
    """

    def __init__(self, initial: int = INITIAL, *, cap: int = CAP, probe_every: float = 10.0) -> None:
        if not 1 <= initial <= cap:
            raise ValueError(f"the initial limit must be between 1 and the cap {cap}, not {initial}")
        super().__init__(initial)
        self._cap = cap
        self._probe_every = probe_every
        self._slow_start = True
        #: The lowest average latency of a round, the fastest answer, and when the base
        #: latency they make was last seen again or measured.
        self._lowest_average = math.inf
        self._fastest = math.inf
        self._base_at = 0.0
        #: The limit to go back to while a probe of the base latency runs.
        self._probing: int | None = None
        self._capacity = float(initial)
        self._queued = 0.0
        self._round = _Round(first=1)

    def sent(self, now: float) -> Token:
        token = super().sent(now)
        round_ = self._round
        if token.number < round_.end:
            round_.outstanding += 1
            round_.peak = max(round_.peak, token.in_flight)
        return token

    def answered(
        self,
        token: Token,
        now: float,
        *,
        throttled: bool = False,
        failed: bool = False,
        latency: float | None = None,
    ) -> None:
        super().answered(token, now, throttled=throttled, failed=failed, latency=latency)
        round_ = self._round
        if token.number < round_.first:
            return  # sent under an earlier limit: already judged
        if throttled:
            self._back_off()
            return
        if token.number < round_.end:
            round_.outstanding -= 1
            if round_.end == math.inf:
                round_.end, round_.closed_at = self._sent + 1, now
            if not failed:
                sample = now - token.sent_at if latency is None else latency
                round_.samples += 1
                round_.total += sample
                round_.fastest = min(round_.fastest, sample)
        if round_.outstanding == 0 or (
            # A request that hangs (until its timeout) must not hold up every decision.
            round_.samples and now - round_.closed_at > 2 * round_.latency
        ):
            self._decide(now)

    def _set(self, limit: float) -> None:
        self._limit = max(1, min(self._cap, int(limit)))

    def _back_off(self) -> None:
        self._slow_start = False
        self._probing = None
        self._set(min(self._limit, self._in_flight + 1) // 2)
        self._round = _Round(first=self._sent + 1)

    def _decide(self, now: float) -> None:
        round_ = self._round
        self._round = _Round(first=self._sent + 1)
        if round_.samples == 0:
            return
        latency = round_.latency
        if self._probing is not None:
            self._lowest_average, self._fastest, self._base_at = latency, round_.fastest, now
            self._set(self._probing)
            self._probing = None
            return
        self._fastest = min(self._fastest, round_.fastest)
        if latency <= self._lowest_average:
            self._lowest_average, self._base_at = latency, now
        # Delays only add to latency: the lowest average cancels them, and the fastest answer
        # (times NOISE) bounds it when every round so far had requests queued.
        base = min(self._lowest_average, NOISE * self._fastest)
        window = min(self._limit, round_.peak)
        self._capacity = window * base / latency
        queued = window - self._capacity
        # A queue is believed once two rounds in a row show it: a stall on the way (a busy
        # machine) delays the answers of one round, a queue those of every round.
        lasting = min(queued, self._queued)
        self._queued = queued
        full = round_.peak >= self._limit
        spread = math.log10(max(window, 10))
        alpha, beta = 3 * spread, 6 * spread
        if self._slow_start:
            if queued < SLOW_START_QUEUE:
                if full:
                    self._set(self._limit * 2)
                return
            if lasting < SLOW_START_QUEUE:
                return  # hold: no more doubling, but no queue to believe yet either
            self._slow_start = False
        if lasting > beta:
            self._set(max(self._limit / 2, min(self._limit - 1, self._capacity + alpha)))
        elif queued < alpha:
            if full:
                self._set(max(self._limit + 1, self._limit * 1.25))
        elif now - self._base_at >= self._probe_every:
            self._probing = self._limit
            self._set(self._capacity / 2)
