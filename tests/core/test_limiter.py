"""The concurrency limit, driven as the engine drives it, against a simulated server (``limiter_sim``).

Times here are simulated seconds, not measured ones: a run takes milliseconds and asserting
on its simulated finish is exact and repeatable.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from pkglist._limiter import CAP, INITIAL, Adaptive, Fixed, Token

from .limiter_sim import Server, Slowdown, simulate

PAGES = 400  # of a known total: after the first page, all 399 others can be asked for at once


@pytest.mark.parametrize(
    ("capacity", "bound"), [(1, 1.25), (2, 1.25), (4, 1.25), (16, 1.25), (48, 1.5), (64, 1.5)]
)
@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.3])
def test_a_listing_ends_close_to_the_ideal_whatever_the_servers_capacity(
    capacity: int, bound: float, jitter: float
) -> None:
    for seed in range(3 if jitter else 1):
        server = Server(capacity=capacity, jitter=jitter, seed=seed)
        outcome = simulate(Adaptive(), server, pages=PAGES)
        assert outcome.requests == PAGES
        assert outcome.finished <= bound * server.ideal(PAGES), (seed, outcome.finished, server.ideal(PAGES))


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.3])
def test_a_server_that_throttles_above_twice_its_capacity_rarely_throttles(jitter: float) -> None:
    for seed in range(5):
        server = Server(capacity=16, throttle_above=32, retry_after=1.0, jitter=jitter, seed=seed)
        outcome = simulate(Adaptive(), server, pages=PAGES)
        assert outcome.throttled_share <= 0.02, (seed, outcome.throttled)
        assert outcome.finished <= 1.25 * server.ideal(PAGES)


@pytest.mark.parametrize(("capacity", "bound"), [(4, 1.25), (16, 1.25), (48, 1.5)])
def test_a_busy_client_machine_is_not_taken_for_a_queue(capacity: int, bound: float) -> None:
    """The client stalls a fifth of the time (a tenth of a second each time, two round trips):
    the answers that come back meanwhile look late, but only in that round."""
    for seed in range(5):
        server = Server(capacity=capacity, jitter=0.1, stalled=0.2, stall=0.1, seed=seed)
        outcome = simulate(Adaptive(), server, pages=PAGES)
        assert outcome.finished <= bound * server.ideal(PAGES), seed


def test_connection_set_up_is_not_taken_for_a_queue_when_the_caller_leaves_it_out() -> None:
    """Each new connection costs a round trip: every step up opens some, so counting set-up as
    latency looks like a queue at each step; ``answered(latency=...)`` leaves it out."""
    server = Server(capacity=48, connect=0.05)
    told = simulate(Adaptive(), server, pages=PAGES, on_connection=True)
    untold = simulate(Adaptive(), server, pages=PAGES, on_connection=False)
    assert told.finished <= 1.5 * server.ideal(PAGES)
    assert told.finished < 0.9 * untold.finished


def test_slow_start_does_not_overshoot_on_the_fast_half_of_a_queued_window() -> None:
    """At twice the capacity, the first half of a window comes back at the base latency: growing
    on those answers would send past 32 (and be throttled); a round waits for the queued half."""
    server = Server(capacity=16, throttle_above=32)
    outcome = simulate(Adaptive(16), server, pages=PAGES)
    assert outcome.most_at_server == 32  # slow start did reach twice the capacity...
    assert outcome.throttled == 0  # ...and went no further
    assert 16 < outcome.limits[-1][1] < 32  # and settled a few above the capacity


def test_throttling_halves_the_limit_and_it_never_goes_below_one() -> None:
    server = Server(capacity=8, throttle_above=1, retry_after=0.05)
    outcome = simulate(Adaptive(), server, pages=60)
    limits = [limit for _, limit in outcome.limits]
    assert min(limits) == 1
    assert outcome.throttled > 0


def test_the_limit_never_exceeds_the_cap() -> None:
    server = Server(capacity=500)
    outcome = simulate(Adaptive(), server, pages=3000)
    assert max(limit for _, limit in outcome.limits) == CAP
    assert outcome.most_at_server == CAP


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 100),
    throttle_above=st.none() | st.integers(1, 120),
    jitter=st.floats(0, 0.5),
    slowdown=st.floats(1, 8),
    seed=st.integers(0, 1000),
)
def test_the_limit_stays_between_one_and_the_cap(
    capacity: int, throttle_above: int | None, jitter: float, slowdown: float, seed: int
) -> None:
    server = Server(
        capacity=capacity,
        throttle_above=throttle_above,
        retry_after=0.1,
        jitter=jitter,
        slowdowns=(Slowdown(0.3, 0.8, slowdown),),
        seed=seed,
    )
    outcome = simulate(Adaptive(), server, pages=300)
    assert all(1 <= limit <= CAP for _, limit in outcome.limits)
    assert outcome.most_at_server <= CAP


def test_it_shrinks_while_the_server_is_slow_and_recovers_after() -> None:
    server = Server(capacity=16, slowdowns=(Slowdown(1.0, 2.0, 4.0),))
    outcome = simulate(Adaptive(), server, pages=1000)
    assert outcome.limit_at(0.9) >= 16
    assert outcome.limit_at(1.9) < 16  # latency rose: fewer requests in flight
    assert outcome.limit_at(3.0) >= 16  # a second after it ended, back to the capacity or above
    assert outcome.throttled == 0


def test_a_server_slower_for_good_is_re_measured_and_used_to_its_capacity_again() -> None:
    """The lowest latency is re-measured every ``probe_every`` seconds, so a slower server is
    not taken for a queue forever."""
    server = Server(capacity=16, slowdowns=(Slowdown(1.0, 10_000.0, 3.0),))
    outcome = simulate(Adaptive(probe_every=5.0), server, pages=4000)
    assert outcome.limit_at(4.0) < 16
    later = [outcome.limit_at(tenth / 10) for tenth in range(100, int(outcome.finished * 10))]
    # Back to the capacity, but for the short probes themselves (a round at half the limit).
    assert sum(limit >= 16 for limit in later) >= 0.9 * len(later)


@pytest.mark.parametrize("window", [1, 2, 4])
def test_it_does_not_grow_while_the_caller_keeps_fewer_in_flight(window: int) -> None:
    """Speculative paging keeps only a few requests out: those rounds say nothing about more."""
    outcome = simulate(Adaptive(), Server(capacity=64), pages=200, window=window)
    assert max(limit for _, limit in outcome.limits) == INITIAL


def test_the_fixed_limit_holds_whatever_the_server_does() -> None:
    server = Server(capacity=4, throttle_above=6, retry_after=0.05)
    outcome = simulate(Fixed(5), server, pages=100)
    assert {limit for _, limit in outcome.limits} == {5}
    assert outcome.most_at_server == 5
    with pytest.raises(ValueError, match="at least 1"):
        Fixed(0)


# The rules, one answer at a time ----------------------------------------------------------


def send(limit: Adaptive, count: int, now: float) -> list[Token]:
    return [limit.sent(now) for _ in range(count)]


def test_a_throttled_answer_to_a_request_sent_before_the_last_decision_is_not_counted_twice() -> None:
    limit = Adaptive(16)
    tokens = send(limit, 16, 0.0)
    limit.answered(tokens[0], 0.05, throttled=True)
    assert limit.limit == 8
    for token in tokens[1:]:
        limit.answered(token, 0.05, throttled=True)
    assert limit.limit == 8
    assert limit.in_flight == 0


def test_a_request_that_hangs_does_not_hold_up_the_decisions() -> None:
    limit = Adaptive(4)
    hung, *tokens = send(limit, 4, 0.0)
    now = 0.0
    for _ in range(5):
        now += 0.05
        for token in tokens:
            limit.answered(token, now)
        tokens = send(limit, limit.limit - limit.in_flight, now)
    assert limit.limit > 4
    limit.answered(hung, 30.0, failed=True)


def test_a_round_of_failures_changes_nothing() -> None:
    limit = Adaptive(4)
    for token in send(limit, 4, 0.0):
        limit.answered(token, 1.0, failed=True)
    assert limit.limit == 4


def test_the_initial_limit_is_checked() -> None:
    with pytest.raises(ValueError, match="between 1 and the cap 64"):
        Adaptive(0)
    with pytest.raises(ValueError, match="between 1 and the cap 64"):
        Adaptive(65)
