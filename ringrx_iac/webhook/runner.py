"""Run receiver contract tests: send each test's request, check every answer.

Tests run one after another, in file order (a receiver may keep state between them).
A test passes when every answer (``replay`` of them) meets its expectations and, for a
replay, each answer equals the first (status and body): the receiver is idempotent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from ringrx_iac.webhook.contract import ContractTest, Expect
from ringrx_iac.webhook.request import WebhookRequest, send

Outcome = Literal["passed", "failed", "error"]
BODY_EXCERPT = 300


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    elapsed_ms: float


@dataclass
class TestResult:
    """One test's outcome; ``message`` says why it did not pass (no secrets: scrubbed)."""

    test: ContractTest
    outcome: Outcome
    url: str
    message: str = ""
    answers: list[Answer] = field(default_factory=list)
    elapsed_s: float = 0.0


def check(expect: Expect, answer: Answer) -> list[str]:
    """What is wrong with ``answer`` (empty when it meets ``expect``)."""
    problems = []
    if not expect.status_ok(answer.status):
        problems.append(f"expected status {expect.status_text()}, got {answer.status}")
    text = answer.body.decode("utf-8", "replace")
    if expect.body_contains is not None and expect.body_contains not in text:
        problems.append(f"expected the body to contain {expect.body_contains!r}")
    if expect.json:
        try:
            data = json.loads(answer.body)
        except ValueError:
            return [*problems, "expected a JSON body, got something else"]
        for path, wanted in expect.json.items():
            found, value = lookup(data, path)
            if not found:
                problems.append(f"expected JSON field {path!r}, the body has none")
            elif value != wanted or _type_differs(value, wanted):
                problems.append(f"expected JSON field {path!r} = {wanted!r}, got {value!r}")
    return problems


def _type_differs(a: Any, b: Any) -> bool:
    """True for ``1`` vs ``True`` (equal in Python, not in JSON); ``1`` vs ``1.0`` match."""
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))
    return type(a) is not type(b) and not numbers


def lookup(data: Any, path: str) -> tuple[bool, Any]:
    """``data`` at a dotted ``path`` (``a.b.0.c``); a key holding dots is tried whole first."""
    if isinstance(data, dict) and path in data:
        return True, data[path]
    head, dot, rest = path.partition(".")
    if isinstance(data, dict) and head in data:
        return (True, data[head]) if not dot else lookup(data[head], rest)
    if isinstance(data, list) and head.isdigit() and int(head) < len(data):
        return (True, data[int(head)]) if not dot else lookup(data[int(head)], rest)
    return False, None


async def run_test(
    http: httpx.AsyncClient, test: ContractTest, request: WebhookRequest
) -> TestResult:
    """Send ``request`` ``test.replay`` times and judge the answers."""
    result = TestResult(test, "passed", request.url)
    started = time.monotonic()
    try:
        for n in range(1, test.replay + 1):
            sent = time.monotonic()
            try:
                response = await send(http, request, timeout=test.timeout)
            except httpx.TimeoutException:
                result.outcome = "failed"
                result.message = f"no answer within {test.timeout:g}s" + _nth(n, test.replay)
                return result
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                result.outcome = "error"
                result.message = f"cannot reach the receiver: {_describe(exc)}"
                return result
            answer = Answer(
                response.status_code, response.content, (time.monotonic() - sent) * 1000
            )
            result.answers.append(answer)
            problems = check(test.expect, answer)
            if problems:
                result.outcome = "failed"
                result.message = "; ".join(problems) + _nth(n, test.replay) + _excerpt(answer)
                return result
            first = result.answers[0]
            if n > 1 and (answer.status, answer.body) != (first.status, first.body):
                result.outcome = "failed"
                if answer.status != first.status:
                    what = f"status {first.status} then {answer.status}"
                else:
                    what = f"same status {answer.status}, another body"
                result.message = (
                    f"not idempotent: answer {n} differs from answer 1 ({what})"
                    + _excerpt(first, "answer 1 body")
                    + _excerpt(answer, f"answer {n} body")
                )
                return result
        return result
    finally:
        result.elapsed_s = time.monotonic() - started


def _nth(n: int, total: int) -> str:
    return f" (answer {n} of {total})" if total > 1 else ""


def _excerpt(answer: Answer, label: str = "response body") -> str:
    text = answer.body.decode("utf-8", "replace").strip()
    if not text:
        return ""
    if len(text) > BODY_EXCERPT:
        text = text[:BODY_EXCERPT] + "..."
    return f"\n{label}: {text}"


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def run_all(
    jobs: list[tuple[ContractTest, WebhookRequest]],
    on_result: Callable[[TestResult], None] | None = None,
) -> list[TestResult]:
    """Run every test in order; ``on_result`` sees each result as it comes."""

    async def main() -> list[TestResult]:
        results = []
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as http:
            for test, request in jobs:
                result = await run_test(http, test, request)
                if on_result is not None:
                    on_result(result)
                results.append(result)
        return results

    return asyncio.run(main())


def summary_counts(results: list[TestResult]) -> Mapping[str, int]:
    counts = {"failed": 0, "error": 0, "passed": 0}
    for r in results:
        counts[r.outcome] += 1
    return counts
