"""The shared rate limiter: what it learns from answers and how it spaces requests.

A fake clock drives it; no test waits or measures time.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from api_fake import FakeRingRx, Sleeps, make_client

from ringrx_iac.api import endpoints
from ringrx_iac.api.ratelimit import (
    INCREASE,
    QUIET,
    RECOVER_QUIET,
    SAFETY,
    TOLERANCE,
    RateHeaders,
    RateLimitedTransport,
    RateLimiter,
    pace_for,
)


class Clock:
    """A fake clock; its ``sleep`` advances it (and records the delays)."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 100.0
        self.delays: list[float] = []
        self.late = late  # every sleep overshoots by this much, like a busy event loop

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay + self.late


def limiter(max_rate: float | None = None, late: float = 0.0) -> tuple[RateLimiter, Clock]:
    clock = Clock(late)
    lim = RateLimiter(
        max_rate=max_rate, clock=clock, sleep=clock.sleep, wall_clock=lambda: 1_000_000_000.0
    )
    return lim, clock


def starts(lim: RateLimiter, clock: Clock, n: int) -> list[float]:
    """When ``n`` requests that all want to start now do start (seconds from now)."""
    t0 = clock.now
    times: list[float] = []

    async def one() -> None:
        await lim.acquire()
        times.append(round(clock.now - t0, 6))

    async def all_of_them() -> None:
        await asyncio.gather(*(one() for _ in range(n)))

    asyncio.run(all_of_them())
    return times


def test_unlimited_until_told_otherwise() -> None:
    lim, clock = limiter()
    assert starts(lim, clock, 50) == [0.0] * 50
    assert lim.current_rate() is None


def test_max_rate_spaces_requests_evenly() -> None:
    lim, clock = limiter(max_rate=4)
    assert starts(lim, clock, 4) == [0.0, 0.25, 0.5, 0.75]


def test_limit_header_sets_the_pace_with_a_margin() -> None:
    lim, clock = limiter()
    lim.observe(
        200, {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "19", "X-RateLimit-Reset": "1"}
    )
    assert lim.current_rate() == pytest.approx(pace_for(20, 1))
    spacing = 1 / pace_for(20, 1)
    assert starts(lim, clock, 3) == pytest.approx([0.0, spacing, 2 * spacing], abs=1e-5)


def test_the_pace_keeps_a_margin_and_a_free_slot_in_every_window() -> None:
    assert pace_for(200, 1) == pytest.approx(SAFETY * 200)  # large limits: the margin
    for limit in (2, 5, 10, 20, 50):  # small ones: fewer than the limit even catching up
        assert pace_for(limit, 1) <= SAFETY * limit
        assert pace_for(limit, 1) * (1 + TOLERANCE) + 1 <= limit
    assert pace_for(1, 1) > 0


def test_the_first_paced_start_counts_the_unpaced_burst_before_it() -> None:
    lim, clock = limiter()
    assert starts(lim, clock, 6) == [0.0] * 6  # nothing known yet: all at once
    lim.observe(200, {"X-RateLimit-Limit": "20", "X-RateLimit-Reset": "1"})
    first, second = starts(lim, clock, 2)  # as if the six had been paced already
    assert first == pytest.approx(6 / pace_for(20, 1))
    assert second - first == pytest.approx(1 / pace_for(20, 1), abs=1e-5)


def test_window_comes_from_the_policy_or_the_longest_reset() -> None:
    lim, _ = limiter()
    lim.observe(200, {"RateLimit-Limit": "100", "RateLimit-Policy": "100;w=60"})
    assert lim.current_rate() == pytest.approx(pace_for(100, 60))
    lim, _ = limiter()
    lim.observe(200, {"X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "3600"})
    assert lim.current_rate() == pytest.approx(pace_for(5000, 3600))


def test_reset_given_as_a_unix_time_is_read_as_seconds_from_now() -> None:
    info = RateHeaders.parse({"X-RateLimit-Reset": "1000000030"}, lambda: 1_000_000_000.0)
    assert info.reset == 30


def test_combined_ratelimit_header() -> None:
    info = RateHeaders.parse(httpx.Headers({"RateLimit": "limit=10, remaining=0, reset=4"}))
    assert (info.limit, info.remaining, info.reset) == (10, 0, 4)


def test_no_remaining_pauses_everyone_until_the_reset() -> None:
    lim, clock = limiter()
    lim.observe(
        200, {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3"}
    )
    assert starts(lim, clock, 1) == [3.0]


def test_429_pauses_every_worker_for_retry_after() -> None:
    lim, clock = limiter()
    lim.observe(429, {"Retry-After": "2"})
    assert starts(lim, clock, 3) == [
        2.0,
        2.0,
        2.0,
    ]  # no rate learned from a lone 429: only the pause
    assert lim.current_rate() is None and lim.throttled == 1
    clock.now += 2
    assert starts(lim, clock, 1) == [0.0]


def test_429_after_a_burst_learns_the_rate_that_got_through() -> None:
    lim, clock = limiter()
    for _ in range(20):  # 20 answered within the last second, then throttled
        clock.now += 0.01
        lim.observe(200, {})
    lim.observe(429, {"Retry-After": "1"})
    assert lim.current_rate() == pytest.approx(pace_for(20, 1))
    first, second = starts(lim, clock, 2)
    assert first == pytest.approx(1.0)
    assert second - first == pytest.approx(1 / pace_for(20, 1), abs=1e-5)


def test_another_429_lowers_and_a_quiet_stretch_raises_a_learned_rate() -> None:
    lim, clock = limiter()
    for _ in range(20):
        lim.observe(200, {})
    lim.observe(429, {})
    learned = lim.current_rate()
    assert learned is not None
    clock.now += 1
    lim.observe(429, {})
    lowered = lim.current_rate()
    assert lowered is not None and lowered < learned
    clock.now += 60  # quiet: the next request probes a little faster
    starts(lim, clock, 1)
    raised = lim.current_rate()
    assert raised is not None and lowered < raised


def test_headers_win_over_what_429s_taught() -> None:
    lim, clock = limiter()
    for _ in range(50):
        lim.observe(200, {})
    lim.observe(429, {})
    lim.observe(200, {"X-RateLimit-Limit": "10", "X-RateLimit-Reset": "1"})
    assert lim.current_rate() == pytest.approx(pace_for(10, 1))
    clock.now += 60
    starts(lim, clock, 1)
    assert lim.current_rate() == pytest.approx(pace_for(10, 1))  # no probing past a stated limit


def test_max_rate_caps_a_higher_stated_limit() -> None:
    lim, _ = limiter(max_rate=2)
    lim.observe(200, {"X-RateLimit-Limit": "100", "X-RateLimit-Reset": "1"})
    assert lim.current_rate() == 2


# -- wired into the client --------------------------------------------------------------


async def test_client_paces_requests_at_max_rate() -> None:
    fake = FakeRingRx()
    sleeps = Sleeps()
    client = make_client(fake, sleeps=sleeps, max_rate=10)
    async with client:
        for _ in range(4):
            await client.list_callbacks()
    # the token request and the first list go at once; each later request waits 0.1 s
    assert sleeps.delays == pytest.approx([0.1, 0.1, 0.1, 0.1])


async def test_the_client_feeds_every_answer_to_its_limiter() -> None:
    fake = FakeRingRx()
    sleeps = Sleeps()
    fake.faults[("GET", endpoints.CALLBACKS_PATH)] = [
        lambda request: httpx.Response(429, headers={"Retry-After": "5"})
    ]
    async with make_client(fake, sleeps=sleeps) as client:
        await client.list_callbacks()  # 429, waits 5 s, then succeeds
        await asyncio.gather(*(client.list_targets(kind) for kind in endpoints.TARGETS))
        assert client.rate_limiter.throttled == 1
    assert sleeps.delays == [5.0]  # the pause and the retry's own wait are one wait
    assert fake.count("GET", endpoints.CALLBACKS_PATH) == 2


def test_429s_of_requests_already_in_flight_count_once() -> None:
    lim, clock = limiter()
    for _ in range(20):
        lim.observe(200, {})
    for _ in range(16):  # the whole burst that was in flight comes back 429
        lim.observe(429, {"Retry-After": "1"})
    assert lim.throttled == 16
    assert lim.current_rate() == pytest.approx(pace_for(20, 1))  # learned once, not lowered 15x


# -- learning from 429s without headers -----------------------------------------------------


def succeed(lim: RateLimiter, clock: Clock, n: int, every: float = 0.01) -> None:
    """``n`` requests started ``every`` s apart, each answered 200 at once."""
    for _ in range(n):
        clock.now += every
        lim.observe(200, {}, started=clock.now)


def learned(n: int = 20) -> tuple[RateLimiter, Clock]:
    """A limiter that saw ``n`` successes in a burst, then a 429: it paces a margin below n/s."""
    lim, clock = limiter()
    succeed(lim, clock, n)
    lim.observe(429, {"Retry-After": "1"}, started=clock.now)
    assert lim.current_rate() == pytest.approx(pace_for(n, 1))
    return lim, clock


def test_answers_in_flight_at_the_429_count_in_the_window_it_measures() -> None:
    lim, clock = limiter()
    succeed(lim, clock, 15)
    sent_before = clock.now
    clock.now += 0.01
    lim.observe(429, {"Retry-After": "1"}, started=sent_before)
    assert lim.current_rate() == pytest.approx(pace_for(15, 1))
    for _ in range(5):  # accepted before the 429, answered after it
        clock.now += 0.01
        lim.observe(200, {}, started=sent_before)
    assert lim.current_rate() == pytest.approx(pace_for(20, 1))
    clock.now += 1.5
    lim.observe(200, {}, started=clock.now)  # sent after the pause: not in that window
    assert lim.current_rate() == pytest.approx(pace_for(20, 1))


def test_the_window_measured_is_as_long_as_the_retry_after() -> None:
    lim, clock = limiter()
    succeed(lim, clock, 90, every=0.001)  # a burst, then 9 s of nothing
    clock.now += 9
    succeed(lim, clock, 40, every=0.02)  # 40 in the last second
    lim.observe(429, {"Retry-After": "10"}, started=clock.now)
    assert lim.current_rate() == pytest.approx(pace_for(130, 10))  # not 40/s


def test_429s_by_start_time_in_flight_count_once_a_later_one_lowers_the_pace() -> None:
    lim, clock = learned()
    first = lim.current_rate()
    episode = clock.now
    for _ in range(15):  # the rest of the burst: sent before the first 429 came back
        clock.now += 0.001
        lim.observe(429, {"Retry-After": "1"}, started=episode - 0.005)
    assert lim.throttled == 16 and lim.current_rate() == first
    clock.now += 1.5  # after the pause, a request sent at the learned pace is throttled
    succeed(lim, clock, 19, every=1 / 19)
    lim.observe(429, {"Retry-After": "1"}, started=clock.now)
    assert first is not None
    assert lim.current_rate() == pytest.approx(pace_for(first, 1))  # a margin below it


def rate_of(lim: RateLimiter) -> float:
    rate = lim.current_rate()
    assert rate is not None
    return rate


def test_quiet_stretches_recover_halfway_then_probe_slowly() -> None:
    lim, clock = learned()
    clock.now += 1.5
    succeed(lim, clock, 30, every=1 / 30)  # the server took 30 in the last second
    lim.observe(429, {"Retry-After": "1"}, started=clock.now)
    target = pace_for(30, 1)
    rates = [rate_of(lim)]
    assert rates[0] == pytest.approx(pace_for(pace_for(20, 1), 1))  # below the throttled pace
    for _ in range(10):  # every RECOVER_QUIET s, halfway back to the target, until close
        clock.now += RECOVER_QUIET
        starts(lim, clock, 1)
        if rate_of(lim) == rates[-1]:
            break
        rates.append(rate_of(lim))
    assert len(rates) > 3
    for before, after in zip(rates, rates[1:], strict=False):
        assert after == pytest.approx(before + (target - before) / 2)
    assert 0.98 * target <= rates[-1] < target
    clock.now += QUIET  # a slow probe past the target
    starts(lim, clock, 1)
    assert lim.current_rate() == pytest.approx(INCREASE * rates[-1])


def test_a_failed_probe_returns_to_the_pace_held_and_probes_less_often() -> None:
    lim, clock = learned()
    held = lim.current_rate()
    clock.now += QUIET
    starts(lim, clock, 1)  # held quietly, then probed
    probe = lim.current_rate()
    assert held is not None and probe == pytest.approx(INCREASE * held)
    succeed(lim, clock, 20, every=1 / 20)
    lim.observe(429, {"Retry-After": "1"}, started=clock.now)
    assert lim.current_rate() == held  # not a margin below the probe
    clock.now += QUIET
    starts(lim, clock, 1)
    assert lim.current_rate() == held  # the next probe waits twice as long
    clock.now += QUIET
    starts(lim, clock, 1)
    assert lim.current_rate() == pytest.approx(INCREASE * held)


def test_a_429_at_a_pace_held_before_forgets_it() -> None:
    lim, clock = learned()
    held = lim.current_rate()
    clock.now += RECOVER_QUIET
    starts(lim, clock, 1)  # held quietly
    succeed(lim, clock, 20, every=1 / 20)
    lim.observe(429, {"Retry-After": "1"}, started=clock.now)
    assert held is not None
    assert lim.current_rate() == pytest.approx(pace_for(held, 1))  # held no more


def test_a_late_start_keeps_the_schedule_so_the_pace_holds_on_a_busy_loop() -> None:
    lim, clock = limiter(max_rate=200, late=TOLERANCE / 2)  # each sleep 10 ms late
    times = starts(lim, clock, 41)
    assert times[-1] == pytest.approx(40 / 200 + TOLERANCE / 2, abs=1e-6)  # still 200/s
    assert times == sorted(times)
    burst = max(times.count(t) for t in times)  # catching up: a few at once, no more
    assert 1 < burst <= 1 + TOLERANCE * 200


def test_a_start_later_than_the_tolerance_restarts_the_schedule() -> None:
    lim, clock = limiter(max_rate=10, late=0.07)  # later than TOLERANCE
    times = starts(lim, clock, 3)
    assert times == pytest.approx([0.0, 0.17, 0.34])  # no burst to catch up


async def test_token_requests_are_paced_but_not_counted_in_the_limit_measured() -> None:
    """A server may not count a request without a token; counting it would over-count."""
    lim, clock = limiter()

    def answer(request: httpx.Request) -> httpx.Response:
        clock.now += 0.01
        return httpx.Response(429 if request.url.path == "/limited" else 200)

    transport = RateLimitedTransport(httpx.MockTransport(answer), lim)
    for path in [endpoints.TOKEN_PATH] * 10 + ["/limited"]:
        method = "POST" if path == endpoints.TOKEN_PATH else "GET"
        await transport.handle_async_request(httpx.Request(method, "https://api.example" + path))
    assert lim.throttled == 1 and lim.current_rate() is None  # 10 tokens: nothing learned
    for path in ["/pbxcallbacks"] * 10 + ["/limited"]:
        clock.now += 2
        await transport.handle_async_request(httpx.Request("GET", "https://api.example" + path))
    assert lim.throttled == 2 and lim.current_rate() is None  # 1 a window: too few
    for path in ["/pbxcallbacks"] * 10 + ["/limited"]:
        await transport.handle_async_request(httpx.Request("GET", "https://api.example" + path))
    assert lim.current_rate() == pytest.approx(pace_for(10, 1))
