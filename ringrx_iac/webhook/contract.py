"""``tests.yaml``: receiver contract tests kept next to the configuration.

```yaml
version: 1                      # optional
defaults: {timeout: 5, expect: {status: 2xx}}
tests:
  - name: CRM accepts an SMS    # optional: "<callback> #<n>" otherwise
    callback: CRM inbound SMS   # a callback of the configuration
    event: {message: "hi"}      # optional: "sample" (default) or fields over the sample
    expect:
      status: 200               # 200, "2xx", "200-299" or a list of them (default 2xx)
      body_contains: accepted   # a substring of the response body
      json: {ok: true, data.id: 1}   # fields of the JSON response, dotted paths
    timeout: 5                  # seconds to wait for the answer (default 10)
    replay: 2                   # send it twice: both answers pass and are the same
```

``status``, ``body_contains`` and ``json`` may also sit directly in the test.
Every problem is reported as ``file:line:col: message``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ringrx_iac.config.yamlio import KeyPath, SourceMap
from ringrx_iac.diagnostics import Location
from ringrx_iac.webhook.eventfile import EventFileError, read_yaml

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
MAX_REPLAY = 10
TESTS_FILE = "tests.yaml"
_RANGE_RE = re.compile(r"\s*(\d{3})\s*-\s*(\d{3})\s*\Z")
_CLASS_RE = re.compile(r"\s*([1-5])[xX]{2}\s*\Z")
_TOP_KEYS = ("version", "defaults", "tests")
_TEST_KEYS = ("name", "callback", "event", "expect", "timeout", "replay")
_EXPECT_KEYS = ("status", "body_contains", "json")
_DEFAULT_KEYS = ("timeout", "expect", "replay")


class ContractError(Exception):
    """A tests file that cannot be used; ``str()`` starts with ``file:line:col``."""


@dataclass(frozen=True)
class StatusRange:
    """Accepted status codes: ``low``..``high`` inclusive."""

    low: int
    high: int

    def __str__(self) -> str:
        if self.low == self.high:
            return str(self.low)
        if self.low % 100 == 0 and self.high == self.low + 99:
            return f"{self.low // 100}xx"
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class Expect:
    """What a passing answer looks like."""

    status: tuple[StatusRange, ...] = (StatusRange(200, 299),)
    body_contains: str | None = None
    json: dict[str, Any] = field(default_factory=dict)

    def status_text(self) -> str:
        return " or ".join(str(s) for s in self.status)

    def status_ok(self, status: int) -> bool:
        return any(s.low <= status <= s.high for s in self.status)


@dataclass(frozen=True)
class ContractTest:
    """One test: send ``callback``'s request for an event, check the answer."""

    name: str
    callback: str
    fields: dict[str, Any]  # event fields over the sample ({} = the sample)
    expect: Expect
    timeout: float
    replay: int
    location: Location


@dataclass(frozen=True)
class Contract:
    file: str
    tests: list[ContractTest]


def default_path(config_path: Path) -> Path:
    """``tests.yaml`` next to a config file, or inside a config directory."""
    return (config_path if config_path.is_dir() else config_path.parent) / TESTS_FILE


def load_contract(path: Path) -> Contract:
    """Read and check a tests file; raises :class:`ContractError`."""
    try:
        data, sources = read_yaml(
            path,
            "write the receiver tests there (see 'Testing your receiver' in the README) "
            "or name the file with --tests FILE",
        )
    except EventFileError as exc:
        raise ContractError(str(exc)) from None
    return _Reader(str(path), sources).contract(data)


@dataclass
class _Reader:
    file: str
    sources: SourceMap

    def fail(self, path: KeyPath, message: str) -> ContractError:
        return ContractError(f"{self.sources.locate(path)}: {message}")

    def keys(self, data: Mapping[Any, Any], path: KeyPath, allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                raise ContractError(
                    f"{self.sources.locate_key((*path, key))}: unknown key {key!r}; "
                    f"allowed here: {', '.join(allowed)}"
                )

    def contract(self, data: Any) -> Contract:
        if isinstance(data, list):
            data = {"tests": data}
        if not isinstance(data, dict):
            raise self.fail((), "a tests file is a mapping with 'tests:' (a list of tests)")
        self.keys(data, (), _TOP_KEYS)
        if data.get("version", 1) != 1:
            raise self.fail(("version",), "version must be 1")
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise self.fail(("defaults",), "defaults must be a mapping (timeout, expect, replay)")
        self.keys(defaults, ("defaults",), _DEFAULT_KEYS)
        tests = data.get("tests")
        if not isinstance(tests, list) or not tests:
            raise self.fail(("tests",), "'tests' must be a non-empty list of tests")
        out = [self.test(t, ("tests", i), defaults) for i, t in enumerate(tests)]
        seen: dict[str, ContractTest] = {}
        for t in out:
            if t.name in seen:
                raise ContractError(
                    f"{t.location}: two tests are named {t.name!r} (the other at "
                    f"{seen[t.name].location}); give them distinct names"
                )
            seen[t.name] = t
        return Contract(self.file, out)

    def test(self, data: Any, path: KeyPath, defaults: Mapping[str, Any]) -> ContractTest:
        if not isinstance(data, dict):
            raise self.fail(path, "a test is a mapping with at least 'callback:'")
        self.keys(data, path, _TEST_KEYS + _EXPECT_KEYS)
        callback = data.get("callback")
        if not isinstance(callback, str) or not callback:
            raise self.fail(path, "a test needs 'callback:', the name of a configured callback")
        expect_data = dict(defaults.get("expect") or {})
        given = data.get("expect") or {}
        if not isinstance(given, dict):
            raise self.fail(
                (*path, "expect"), "expect must be a mapping: status, body_contains, json"
            )
        self.keys(given, (*path, "expect"), _EXPECT_KEYS)
        expect_data.update(given)
        expect_path: dict[str, KeyPath] = {k: (*path, "expect", k) for k in given}
        for key in _EXPECT_KEYS:
            if key in data:
                expect_data[key] = data[key]
                expect_path[key] = (*path, key)
        name = data.get("name")
        index = path[-1] if isinstance(path[-1], int) else 0
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise self.fail((*path, "name"), "name must be a non-empty string")
        return ContractTest(
            name=name or f"{callback} #{index + 1}",
            callback=callback,
            fields=self.event(data.get("event"), (*path, "event")),
            expect=self.expect(expect_data, expect_path, path),
            timeout=self.timeout(data.get("timeout", defaults.get("timeout")), (*path, "timeout")),
            replay=self.replay(data.get("replay", defaults.get("replay")), (*path, "replay")),
            location=self.sources.locate(path),
        )

    def event(self, value: Any, path: KeyPath) -> dict[str, Any]:
        if value is None or value == "sample":
            return {}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return dict(value)
        raise self.fail(path, "event must be 'sample' or a mapping of event fields over the sample")

    def expect(
        self, data: Mapping[str, Any], paths: Mapping[str, KeyPath], path: KeyPath
    ) -> Expect:
        status = Expect().status
        if "status" in data:
            status = self.status(data["status"], paths.get("status", path))
        body = data.get("body_contains")
        if body is not None and not isinstance(body, str):
            raise self.fail(paths.get("body_contains", path), "body_contains must be a string")
        fields = data.get("json") or {}
        if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
            raise self.fail(
                paths.get("json", path),
                "json must map field paths (dotted, e.g. data.id) to expected values",
            )
        return Expect(status, body, dict(fields))

    def status(self, value: Any, path: KeyPath) -> tuple[StatusRange, ...]:
        items = value if isinstance(value, list) and value else [value]
        out = []
        for item in items:
            rng = _status_range(item)
            if rng is None:
                raise self.fail(
                    path,
                    f"status {item!r} is not a status: use a code (200), a class ('2xx'), "
                    "a range ('200-299') or a list of them",
                )
            out.append(rng)
        return tuple(out)

    def timeout(self, value: Any, path: KeyPath) -> float:
        if value is None:
            return DEFAULT_TIMEOUT
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_TIMEOUT
        ):
            raise self.fail(
                path, f"timeout must be a number of seconds, above 0 and at most {MAX_TIMEOUT:g}"
            )
        return float(value)

    def replay(self, value: Any, path: KeyPath) -> int:
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REPLAY:
            raise self.fail(path, f"replay must be a whole number from 1 to {MAX_REPLAY}")
        return value


def _status_range(item: Any) -> StatusRange | None:
    if isinstance(item, int) and not isinstance(item, bool):
        return StatusRange(item, item) if 100 <= item <= 599 else None
    if not isinstance(item, str):
        return None
    if item.strip().isdigit():
        return _status_range(int(item))
    if m := _CLASS_RE.match(item):
        low = int(m.group(1)) * 100
        return StatusRange(low, low + 99)
    if m := _RANGE_RE.match(item):
        low, high = int(m.group(1)), int(m.group(2))
        if 100 <= low <= high <= 599:
            return StatusRange(low, high)
    return None
