"""The shared rate limiter: what it learns from answers and how it spaces requests.

A fake clock drives it; no test waits or measures time.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from api_fake import FakeRingRx, Sleeps, make_client

from ringrx_iac.api import endpoints
from ringrx_iac.api.ratelimit import SAFETY, RateHeaders, RateLimiter


class Clock:
    """A fake clock; its ``sleep`` advances it (and records the delays)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.delays: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.delays.append(delay)
        self.now += delay


def limiter(max_rate: float | None = None) -> tuple[RateLimiter, Clock]:
    clock = Clock()
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
    assert lim.current_rate() == pytest.approx(SAFETY * 20)
    spacing = 1 / (SAFETY * 20)
    assert starts(lim, clock, 3) == pytest.approx([0.0, spacing, 2 * spacing], abs=1e-5)


def test_window_comes_from_the_policy_or_the_longest_reset() -> None:
    lim, _ = limiter()
    lim.observe(200, {"RateLimit-Limit": "100", "RateLimit-Policy": "100;w=60"})
    assert lim.current_rate() == pytest.approx(SAFETY * 100 / 60)
    lim, _ = limiter()
    lim.observe(200, {"X-RateLimit-Limit": "5000", "X-RateLimit-Reset": "3600"})
    assert lim.current_rate() == pytest.approx(SAFETY * 5000 / 3600)


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
    assert lim.current_rate() == pytest.approx(SAFETY * 20)
    first, second = starts(lim, clock, 2)
    assert first == pytest.approx(1.0)
    assert second - first == pytest.approx(1 / (SAFETY * 20), abs=1e-5)


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
    assert lim.current_rate() == pytest.approx(SAFETY * 10)
    clock.now += 60
    starts(lim, clock, 1)
    assert lim.current_rate() == pytest.approx(SAFETY * 10)  # no probing past a stated limit


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
    assert lim.current_rate() == pytest.approx(SAFETY * 20)  # learned once, not lowered 15x
