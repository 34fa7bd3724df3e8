"""Fault injection settings and decisions: latency, rate limit, 5xx, drops, scripted failures.

``Faults.decide(method, path, template, token)`` is called once per API request and says
what to do with it. Random faults use their own ``random.Random`` (seedable); scripted
``fail_next`` entries make exact cases reproducible.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

ERROR_STATUSES = (500, 502, 503)


class FaultError(ValueError):
    """An invalid fault setting; the message names the field."""


@dataclass
class FailRule:
    """One scripted failure: the next ``count`` requests matching method and path fail."""

    method: str | None = None
    path: str | None = None  # exact path or route template, e.g. "/pbxcallbacks/{id}"
    status: int | None = None
    drop: bool = False
    after_apply: bool = False  # run the handler (apply the change) before failing
    count: int = 1
    retry_after: int | None = None
    skip: int = 0  # let this many matching requests pass first

    def matches(self, method: str, path: str, template: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or self.path in (path, template)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "drop": self.drop,
            "after_apply": self.after_apply,
            "count": self.count,
            "retry_after": self.retry_after,
            "skip": self.skip,
        }


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    status: int | None = None  # answer this status instead of (or after) the handler
    drop: bool = False  # close the connection without an answer
    after_apply: bool = False  # run the handler first
    retry_after: int | None = None
    # (limit, remaining, reset seconds) of the rate limit, sent as X-RateLimit-* headers
    rate: tuple[int, int, int] | None = None

    @property
    def passthrough(self) -> bool:
        return self.status is None and not self.drop


PASS = Decision()


@dataclass
class Faults:
    """Current fault settings (mutable at run time through ``/_sim/faults``)."""

    latency: float = 0.0
    rate_limit: float = 0.0  # requests per second per access token; 0 = off
    rate_limit_headers: bool = True  # send X-RateLimit-Limit/Remaining/Reset when limiting
    error_rate: float = 0.0
    drop_rate: float = 0.0
    fail_next: list[FailRule] = field(default_factory=list)
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self._rng.seed(self.seed)

    def update(self, data: dict[str, Any]) -> None:
        """Apply a JSON settings object, all or nothing; invalid fields raise ``FaultError``."""
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("latency", "rate_limit"):
                changes[key] = _number(key, value, 0.0, math.inf)
            elif key in ("error_rate", "drop_rate"):
                changes[key] = _number(key, value, 0.0, 1.0)
            elif key == "fail_next":
                if not isinstance(value, list):
                    raise FaultError("fail_next: must be a list of rules")
                changes[key] = [_rule(i, r) for i, r in enumerate(value)]
            elif key == "rate_limit_headers":
                if not isinstance(value, bool):
                    raise FaultError("rate_limit_headers: must be true or false")
                changes[key] = value
            elif key == "seed":
                changes[key] = _int_or_none("seed", value)
            elif key != "token_lifetime":  # handled by the server (it owns the Authority)
                raise FaultError(f"{key}: unknown fault setting")
        with self._lock:
            for key, value in changes.items():
                setattr(self, key, value)
            if "seed" in changes:
                self._rng.seed(self.seed)

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency": self.latency,
                "rate_limit": self.rate_limit,
                "rate_limit_headers": self.rate_limit_headers,
                "error_rate": self.error_rate,
                "drop_rate": self.drop_rate,
                "fail_next": [r.to_dict() for r in self.fail_next],
                "seed": self.seed,
            }

    def decide(self, method: str, path: str, template: str, token: str | None) -> Decision:
        """Scripted rule first, then rate limit, then random drops and errors."""
        with self._lock:
            for rule in self.fail_next:
                if rule.matches(method, path, template):
                    if rule.skip > 0:  # this one passes (to the random faults below)
                        rule.skip -= 1
                        break
                    rule.count -= 1
                    if rule.count <= 0:
                        self.fail_next.remove(rule)
                    return Decision(
                        status=rule.status
                        if rule.status is not None
                        else (None if rule.drop else 503),
                        drop=rule.drop,
                        after_apply=rule.after_apply,
                        retry_after=rule.retry_after,
                    )
            rate: tuple[int, int, int] | None = None
            if self.rate_limit > 0 and token:
                window = int(time.monotonic())
                start, count = self._windows.get(token, (window, 0))
                if start != window:
                    start, count = window, 0
                count += 1
                self._windows[token] = (start, count)
                if len(self._windows) > 10000:
                    self._windows = {token: (start, count)}
                limit = math.floor(self.rate_limit)
                if self.rate_limit_headers:  # one-second windows: the reset is always 1 s
                    rate = (limit, max(0, limit - count), 1)
                if count > self.rate_limit:
                    return Decision(status=429, retry_after=1, rate=rate)
            if self.drop_rate and self._rng.random() < self.drop_rate:
                return Decision(drop=True, after_apply=True)
            if self.error_rate and self._rng.random() < self.error_rate:
                return Decision(status=self._rng.choice(ERROR_STATUSES))
        return PASS if rate is None else Decision(rate=rate)


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"{key}: must be a number from {low:g} to {high:g}")
    return float(value)


def _int_or_none(where: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{where}: must be an integer")
    return value


def _rule(index: int, data: Any) -> FailRule:
    where = f"fail_next[{index}]"
    if not isinstance(data, dict):
        raise FaultError(f"{where}: must be an object")
    unknown = set(data) - set(FailRule.__dataclass_fields__)
    if unknown:
        raise FaultError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("method", "path"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise FaultError(f"{where}.{key}: must be a string")
    for key in ("drop", "after_apply"):
        if key in data and not isinstance(data[key], bool):
            raise FaultError(f"{where}.{key}: must be true or false")
    status = _int_or_none(f"{where}.status", data.get("status"))
    count = _int_or_none(f"{where}.count", data.get("count", 1))
    retry_after = _int_or_none(f"{where}.retry_after", data.get("retry_after"))
    skip = _int_or_none(f"{where}.skip", data.get("skip", 0))
    if skip is None or skip < 0:
        raise FaultError(f"{where}.skip: must be 0 or more")
    if status is None and not data.get("drop"):
        raise FaultError(f"{where}: give a status or drop: true")
    if status is not None and not 100 <= status <= 599:
        raise FaultError(f"{where}.status: must be an HTTP status")
    if count is None or count < 1:
        raise FaultError(f"{where}.count: must be at least 1")
    return FailRule(
        method=data.get("method"),
        path=data.get("path"),
        status=status,
        drop=bool(data.get("drop", False)),
        after_apply=bool(data.get("after_apply", False)),
        count=count,
        retry_after=retry_after,
        skip=skip,
    )
