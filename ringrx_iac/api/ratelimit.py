"""Pacing shared by every request of a client: a rate learned from the server's answers.

One `RateLimiter` per client paces all its workers (a token bucket without burst: request
starts are spaced ``1/rate`` apart, counted from when each really started; one late by
up to ``TOLERANCE`` keeps the schedule). The rate is

- unlimited until the server says otherwise, capped by ``max_rate`` (``--max-rate``);
- set from rate-limit headers when a server sends them: ``X-RateLimit-Limit`` /
  ``RateLimit-Limit`` requests per window, the window from ``RateLimit-Policy: N;w=S``
  or else the longest ``*-Reset`` seen (at least 1 s); ``Remaining: 0`` pauses until
  the reset;
- learned from 429 answers otherwise. A 429 starts an episode (429s of requests sent
  before it came back belong to it and count once). The server's limit is measured as
  the successes of requests started in the window the 429 speaks for (its
  ``Retry-After``, at least 1 s, ending at the 429; answers still in flight are added
  as they come), and the pace is set a margin below it. A 429 while already pacing
  also sets it a margin below the pace throttled (a window straddling two of a
  fixed-window server's windows over-counts), but not below a pace held quietly
  before. Quiet stretches raise the pace: halfway back to the measured one every
  ``RECOVER_QUIET`` s, then by ``INCREASE`` every ``QUIET`` s (less often after each
  failed probe).

Every 429 pauses all workers for its ``Retry-After`` (1 s when absent). A limit of N per
window becomes a pace with a margin (`pace_for`: ``SAFETY`` x N, and at most N - 1
starts in any window) so that a server counting in fixed windows sees fewer than its
limit. `RateLimitedTransport` applies a limiter below httpx's client, so every request,
token requests included, is paced and observed.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import httpx

from ringrx_iac.api.auth import is_auth_path
from ringrx_iac.api.retry import parse_retry_after

SAFETY = 0.95  # fraction of a learned limit actually used
RECOVER_QUIET = 2.0  # seconds without a 429 between steps back up to the measured pace
RECOVERED = 0.02  # within this fraction of that target the recovery is over
INCREASE = 1.02  # factor of one probe past the measured pace
QUIET = 30.0  # seconds without a 429 between such probes (doubled after each failed one)
QUIET_MAX = 300.0
MIN_RATE = 0.5  # requests per second; never slower than this
MIN_EVIDENCE = 4  # successes in the window needed to learn a rate from a first 429
HISTORY = 60.0  # seconds of successes kept: the longest window a 429 is measured over
TOLERANCE = 0.02  # seconds a start may be late and keep the schedule (the next catches up)
_EPOCH_THRESHOLD = 1e8  # a *-Reset value above this is a Unix time, below it seconds
_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")
_WINDOW = re.compile(r"\bw\s*=\s*(\d+(?:\.\d+)?)")
_FIELD = re.compile(r"\b(limit|remaining|reset)\s*=\s*(\d+(?:\.\d+)?)")


@dataclass
class RateHeaders:
    """What a response says about the server's limit (each None when not said)."""

    limit: float | None = None
    remaining: float | None = None
    reset: float | None = None  # seconds from now
    window: float | None = None  # seconds

    @classmethod
    def parse(cls, headers: Mapping[str, str], now: Callable[[], float] = time.time) -> RateHeaders:
        """Read ``X-RateLimit-*``, ``RateLimit-*``, ``RateLimit-Policy`` and ``RateLimit``."""
        found = cls()
        headers = _rate_headers(headers)
        if not headers:
            return found
        for prefix in ("ratelimit-", "x-ratelimit-"):
            for name in ("limit", "remaining", "reset"):
                value = headers.get(prefix + name)
                if value is not None and getattr(found, name) is None:
                    setattr(found, name, _first_number(value))
                    if name == "limit":
                        found.window = found.window or _window(value)
        combined = headers.get("ratelimit")  # draft form: limit=100, remaining=50, reset=5
        if combined:
            for name, number in _FIELD.findall(combined.lower()):
                if getattr(found, name) is None:
                    setattr(found, name, float(number))
        policy = headers.get("ratelimit-policy")
        if policy:
            found.window = _window(policy) or found.window
            found.limit = found.limit if found.limit is not None else _first_number(policy)
        if found.reset is not None and found.reset > _EPOCH_THRESHOLD:
            found.reset = max(0.0, found.reset - now())
        return found

    @property
    def any(self) -> bool:
        return self.limit is not None or self.remaining is not None


def pace_for(limit: float, window: float) -> float:
    """The pace for a server allowing ``limit`` requests per ``window`` seconds: ``SAFETY``
    of it, and never more than ``limit - 1`` starts in any window, even when starts catch
    up by ``TOLERANCE`` (a fixed-window server answering ``Remaining: 0`` costs a pause)."""
    return max(MIN_RATE, min(SAFETY * limit / window, (limit - 1) / (window + TOLERANCE)))


def _rate_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``*ratelimit*`` headers of an answer, by lower-case name (usually none)."""
    if isinstance(headers, httpx.Headers):  # the fast path: raw bytes, nothing decoded
        raw = headers.raw
        if b"atelimit" not in b"\n".join([k for k, _ in raw]).lower():
            return {}
        return {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in raw
            if b"atelimit" in k.lower()
        }
    return {k.lower(): v for k, v in headers.items() if "ratelimit" in k.lower()}


def _first_number(value: str) -> float | None:
    m = _NUMBER.match(value)
    return float(m.group(1)) if m else None


def _window(value: str) -> float | None:
    m = _WINDOW.search(value)
    return float(m.group(1)) if m else None


@dataclass
class RateLimiter:
    """The pace of one client's requests; see the module docstring."""

    max_rate: float | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    wall_clock: Callable[[], float] = time.time
    rate: float | None = None  # learned requests per second; None = no limit known
    throttled: int = 0  # 429 answers seen
    from_headers: bool = False
    _next: float = 0.0  # earliest start of the next request
    _paused_until: float = 0.0
    _window: float = 1.0  # the server's window, from headers
    _quiet_since: float = 0.0
    # What 429s taught (no headers): the pace the limit measured at the last throttling
    # episode allows, the episode's first 429 (its arrival), the window measured back
    # from it, the successes counted in that window and the pace in force before it.
    _target: float | None = None
    _episode: float = -math.inf
    _measured_from: float = math.inf
    _measured_span: float = 1.0
    _accepted: int = 0
    _pace_before: float | None = None
    _burst_start: float = -math.inf  # unpaced starts of the last window: since when,
    _burst_count: int = 0  # and how many
    _held: float = 0.0  # the fastest pace held for RECOVER_QUIET s without a 429
    _probe_every: float = QUIET
    _successes: deque[float] = field(default_factory=deque)  # start times, last HISTORY s
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def current_rate(self) -> float | None:
        """The pace in force: the learned rate capped by ``max_rate`` (None = unpaced)."""
        if self.rate is None:
            return self.max_rate
        return self.rate if self.max_rate is None else min(self.rate, self.max_rate)

    async def acquire(self) -> None:
        """Wait until this request may start (``1/rate`` after the previous one started).

        Waiters queue on a lock and the spacing counts from when a request really starts:
        a start up to ``TOLERANCE`` late keeps the schedule (the next one catches up), a
        later one restarts it, so a stalled event loop never releases a burst. The first
        paced start comes as late as if the unpaced burst of the window before had been
        paced too (a fixed-window server counts it).
        """
        now = self.clock()
        if self._paused_until <= now and self.current_rate() is None:
            # Unpaced and not paused: nothing to wait for. Count this window's starts.
            if now - self._burst_start > self._window:
                self._burst_start, self._burst_count = now, 0
            self._burst_count += 1
            return
        async with self._lock:
            if self._burst_count:  # the first paced start: charge the burst before it
                rate = self.current_rate()
                if rate is not None and now - self._burst_start <= self._window:
                    self._next = max(self._next, self._burst_start + self._burst_count / rate)
                self._burst_count = 0
            while True:
                now = self.clock()
                self._probe(now)
                wait = max(self._next, self._paused_until) - now
                if wait <= 0:
                    break
                await self.sleep(wait)
            rate = self.current_rate()
            if rate is None:
                self._next = now
            else:  # keep the schedule through small delays, restart it after a stall
                interval = 1.0 / rate
                on_time = now - self._next <= TOLERANCE
                self._next = (self._next if on_time else now) + interval

    def observe(
        self,
        status: int,
        headers: Mapping[str, str],
        started: float | None = None,
        *,
        counted: bool = True,
    ) -> None:
        """Learn from one answer: its status, its headers and when its request started
        (None: unknown, taken as now, and a 429 then belongs to a pause in force).
        ``counted=False``: a success that a server may not count against the limit (a
        token request: it carries no token), left out of the limit measured."""
        now = self.clock()
        rated = _rate_headers(headers)
        if not rated and status != 429:  # the common case: nothing to learn but the pace
            if status < 400 and counted and not self.from_headers:
                self._success(now, now if started is None else started)
            return
        info = RateHeaders.parse(rated, self.wall_clock)
        if info.any:
            self._learn_from_headers(now, info)
        if status == 429:
            self._on_429(now, headers, info, started)

    def _success(self, now: float, started: float) -> None:
        self._successes.append(started)
        if self._measured_from <= started < self._episode:
            # In flight when the 429 came and accepted in the window it measured.
            self._accepted += 1
            self._settle(late=True)
        if self._successes[0] < now - HISTORY:
            while self._successes and self._successes[0] < now - HISTORY:
                self._successes.popleft()

    def _learn_from_headers(self, now: float, info: RateHeaders) -> None:
        if info.reset is not None:
            self._window = max(self._window, math.ceil(info.reset))
        if info.window is not None:
            self._window = max(1.0, info.window)
        if info.limit is not None and info.limit > 0:
            self.rate = pace_for(info.limit, self._window)
            self.from_headers = True
        if info.remaining is not None and info.remaining <= 0 and info.reset is not None:
            self._pause(now + info.reset)

    def _on_429(
        self, now: float, headers: Mapping[str, str], info: RateHeaders, started: float | None
    ) -> None:
        self.throttled += 1
        wait = parse_retry_after(headers.get("Retry-After"), self.wall_clock)
        if wait is None:
            wait = info.reset if info.reset is not None else 1.0
        # Sent before this episode's first 429 came back: the same excess, counted once.
        same_episode = now < self._paused_until if started is None else started < self._episode
        self._pause(now + wait)
        self._quiet_since = now
        if self.from_headers or same_episode:
            return
        # A new episode: measure what the server accepted over the window the 429 speaks
        # for (its Retry-After, at least 1 s); answers still in flight are added as they
        # come (`_success`).
        span = min(HISTORY, max(1.0, wait))
        self._episode = now
        self._measured_from = now - span
        self._measured_span = span
        self._accepted = sum(1 for t in self._successes if t >= self._measured_from)
        self._pace_before = self.current_rate()
        self._settle()

    def _settle(self, late: bool = False) -> None:
        """The pace after a 429 episode: a margin below the limit measured; when already
        pacing, also a margin below the pace that was throttled (the server took all of
        it: a window straddling two of a fixed-window server's windows over-counts), but
        not below a pace held quietly before (lower than the throttled one). A ``late``
        success (in flight at the 429) can only raise it."""
        pace = self._pace_before
        if self._accepted >= MIN_EVIDENCE:
            self._target = pace_for(self._accepted, self._measured_span)
        elif pace is None:
            return  # a lone first 429: too little to learn from, only the pause
        else:
            self._target = SAFETY * pace  # throttled at this pace, nothing measured
        rate = self._target
        if pace is not None:
            rate = min(rate, pace_for(pace * self._measured_span, self._measured_span))
            if self._held >= pace:
                self._held = 0.0  # throttled at or below it: no longer known to be safe
            elif self._held > 0:
                rate = max(rate, self._held)  # a probe above a pace held quietly failed
                if not late:
                    self._probe_every = min(QUIET_MAX, 2 * self._probe_every)
        rate = max(MIN_RATE, rate)
        self.rate = max(self.rate, rate) if late and self.rate is not None else rate

    def _pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def _probe(self, now: float) -> None:
        """After quiet stretches, raise a rate that was learned from 429s (not headers):
        halfway back up to the pace the measured limit allows every ``RECOVER_QUIET`` s, then by
        ``INCREASE`` every ``QUIET`` s or more. A pace held that long is remembered as
        safe."""
        if self.rate is None or self._target is None or self.from_headers:
            return
        if self.max_rate is not None and self.rate >= self.max_rate:
            return  # capped by hand: probing could not change the pace
        quiet = now - self._quiet_since
        if quiet < RECOVER_QUIET:
            return
        self._held = max(self._held, self.rate)  # in force, and quiet, since _quiet_since
        target = self._target
        if self.rate < target * (1 - RECOVERED):
            self.rate += (target - self.rate) / 2
            self._quiet_since = now
        elif quiet >= self._probe_every:
            self.rate *= INCREASE
            self._target = max(target, self.rate)
            self._quiet_since = now


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """Paces every request through ``limiter`` and lets it observe every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.limiter.acquire()
        started = self.limiter.clock()
        response = await self.inner.handle_async_request(request)
        counted = not is_auth_path(request.url.path)
        self.limiter.observe(response.status_code, response.headers, started, counted=counted)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
