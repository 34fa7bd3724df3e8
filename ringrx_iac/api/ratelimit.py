"""Pacing shared by every request of a client: a rate learned from the server's answers.

One `RateLimiter` per client paces all its workers (a token bucket without burst: request
starts are spaced ``1/rate`` apart, counted from when each really started). The rate is

- unlimited until the server says otherwise, capped by ``max_rate`` (``--max-rate``);
- set from rate-limit headers when a server sends them: ``X-RateLimit-Limit`` /
  ``RateLimit-Limit`` requests per window, the window from ``RateLimit-Policy: N;w=S``
  or else the longest ``*-Reset`` seen (at least 1 s); ``Remaining: 0`` pauses until
  the reset;
- learned from 429 answers otherwise: the successes of the last window become the rate,
  a further 429 lowers it (429s of requests sent before the pause began count once), and
  a quiet stretch raises it slowly to probe for more.

Every 429 pauses all workers for its ``Retry-After`` (1 s when absent). Rates carry a
safety margin (``SAFETY``) so that a server counting in fixed windows sees fewer than its
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

from ringrx_iac.api.retry import parse_retry_after

SAFETY = 0.95  # fraction of a learned limit actually used
DECREASE = 0.9  # factor applied on a 429 while already pacing
INCREASE = 1.02  # factor applied after each quiet stretch when the rate came from 429s
QUIET = 10.0  # seconds without a 429 before the rate is raised
MIN_RATE = 0.5  # requests per second; never slower than this
MIN_EVIDENCE = 4  # successes in the window needed to learn a rate from a 429
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


def _rate_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``*ratelimit*`` headers of an answer, by lower-case name (usually none)."""
    if isinstance(headers, httpx.Headers):  # the fast path: raw bytes, nothing decoded
        return {
            k.decode("latin-1").lower(): v.decode("latin-1")
            for k, v in headers.raw
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
    _window: float = 1.0
    _quiet_since: float = 0.0
    _successes: deque[float] = field(default_factory=deque)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def current_rate(self) -> float | None:
        """The pace in force: the learned rate capped by ``max_rate`` (None = unpaced)."""
        if self.rate is None:
            return self.max_rate
        return self.rate if self.max_rate is None else min(self.rate, self.max_rate)

    async def acquire(self) -> None:
        """Wait until this request may start (``1/rate`` after the previous one started).

        Waiters queue on a lock and the spacing counts from when a request really starts,
        so a stalled event loop never releases a burst.
        """
        if self._paused_until <= self.clock() and self.current_rate() is None:
            return  # unpaced and not paused: nothing to wait for
        async with self._lock:
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
                on_time = now - self._next <= interval / 2
                self._next = (self._next if on_time else now) + interval

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from one answer (its status and headers)."""
        now = self.clock()
        rated = _rate_headers(headers)
        if not rated and status != 429:  # the common case: nothing to learn but the pace
            if status < 400 and not self.from_headers:
                self._successes.append(now)
                self._forget(now)
            return
        info = RateHeaders.parse(rated, self.wall_clock)
        if info.any:
            self._learn_from_headers(now, info)
        if status == 429:
            self._on_429(now, headers, info)

    def _learn_from_headers(self, now: float, info: RateHeaders) -> None:
        if info.reset is not None:
            self._window = max(self._window, math.ceil(info.reset))
        if info.window is not None:
            self._window = max(1.0, info.window)
        if info.limit is not None and info.limit > 0:
            self.rate = max(MIN_RATE, SAFETY * info.limit / self._window)
            self.from_headers = True
        if info.remaining is not None and info.remaining <= 0 and info.reset is not None:
            self._pause(now + info.reset)

    def _on_429(self, now: float, headers: Mapping[str, str], info: RateHeaders) -> None:
        self.throttled += 1
        wait = parse_retry_after(headers.get("Retry-After"), self.wall_clock)
        if wait is None:
            wait = info.reset if info.reset is not None else 1.0
        paused = now < self._paused_until  # sent before the first 429 of this pause came
        self._pause(now + wait)
        self._quiet_since = now
        if self.from_headers or paused:
            return
        self._forget(now)
        recent = len(self._successes)
        if self.rate is not None:
            self.rate = max(MIN_RATE, min(self.rate * DECREASE, SAFETY * recent / self._window))
        elif recent >= MIN_EVIDENCE:
            self.rate = max(MIN_RATE, SAFETY * recent / self._window)

    def _pause(self, until: float) -> None:
        self._paused_until = max(self._paused_until, until)

    def _probe(self, now: float) -> None:
        """After a quiet stretch, raise a rate that was learned from 429s (not headers)."""
        if self.rate is None or self.from_headers or now - self._quiet_since < QUIET:
            return
        self.rate *= INCREASE
        self._quiet_since = now

    def _forget(self, now: float) -> None:
        while self._successes and self._successes[0] <= now - self._window:
            self._successes.popleft()


class RateLimitedTransport(httpx.AsyncBaseTransport):
    """Paces every request through ``limiter`` and lets it observe every answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.limiter.acquire()
        response = await self.inner.handle_async_request(request)
        self.limiter.observe(response.status_code, response.headers)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
