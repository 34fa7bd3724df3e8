"""Retries: bounded attempts and total time, exponential backoff with full jitter, and the
one retry loop of the client (`retry`)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a request is tried again."""

    attempts: int = 5  # total tries of one request, the first included
    total_time: float = 60.0  # seconds from the first try after which no new try starts
    base_delay: float = 0.5  # backoff before the 2nd try is drawn from [0, base_delay]
    max_delay: float = 10.0  # cap of one backoff

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Full-jitter delay after the ``attempt``-th failed try (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return rng() * ceiling


@dataclass
class RetryBudget:
    """The attempts and the time left for one logical operation (may span several requests)."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    attempts: int = 0
    started: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def remaining_time(self) -> float:
        return self.policy.total_time - (self.clock() - self.started)

    def allows_wait(self, delay: float) -> bool:
        """True when another try may start after waiting ``delay`` seconds."""
        return self.attempts < self.policy.attempts and delay < self.remaining_time()


@dataclass
class Failure:
    """A failed try worth retrying: the error raised if no retry follows, the wait before
    the next try (None: the policy's backoff), and whether the request may have reached the
    server (decided by `ringrx_iac.api.outcome`)."""

    error: Exception
    cause: BaseException | None = None
    delay: float | None = None
    reached: bool = False


async def retry(
    attempt: Callable[[], Awaitable[T | Failure]],
    budget: RetryBudget,
    *,
    sleep: Callable[[float], Awaitable[None]],
    rng: Callable[[], float] = random.random,
    give_up: Callable[[Failure], Awaitable[T]] | None = None,
    first: Failure | None = None,
) -> T:
    """Call ``attempt`` until it returns a result, waiting between failures while the
    budget allows; then ``give_up`` (default: raise the last failure's error). ``first``:
    the failure of a try the caller already made (already counted in ``budget``)."""
    outcome: T | Failure | None = first
    while True:
        if outcome is None:
            budget.attempts += 1
            outcome = await attempt()
            if not isinstance(outcome, Failure):
                return outcome
        assert isinstance(outcome, Failure)
        delay = outcome.delay
        if delay is None:
            delay = budget.policy.backoff(budget.attempts, rng)
        if not budget.allows_wait(delay):
            if give_up is not None:
                return await give_up(outcome)
            raise outcome.error from outcome.cause
        await sleep(delay)
        outcome = None


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unusable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
