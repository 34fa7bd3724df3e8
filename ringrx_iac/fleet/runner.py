"""Run one command over many accounts at once: bounded concurrency, waves, failure budget.

Each account runs in its own task with its own client (token, retry budget, connection
pool). A failing account is a result, never an exception: the others go on. Waves run one
after the other (a wave with a failure stops the rollout); ``max_failures`` stops starting
new accounts once that many have failed. Accounts never started are reported ``skipped``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from ringrx_iac.fleet.account import SKIPPED, AccountResult
from ringrx_iac.fleet.inventory import Account, parse_tag

Job = Callable[[Account], Awaitable[AccountResult]]


def split_waves(
    accounts: Sequence[Account], waves: Sequence[str]
) -> list[tuple[str, list[Account]]]:
    """``(label, accounts)``: those matching the first ``k=v``, then the second's (not
    already taken)... then the rest. Empty groups are dropped."""
    groups: list[tuple[str, list[Account]]] = []
    left = list(accounts)
    for text in waves:
        key, value = parse_tag(text)
        groups.append((f"{key}={value}", [a for a in left if a.has_tag(key, value)]))
        left = [a for a in left if not a.has_tag(key, value)]
    groups.append(("the rest", left))
    return [(label, g) for label, g in groups if g]


async def run_fleet(
    accounts: Sequence[Account],
    job: Job,
    *,
    parallelism: int = 4,
    waves: Sequence[str] = (),
    max_failures: int | None = None,
    cancel: asyncio.Event | None = None,
) -> list[AccountResult]:
    """Run ``job`` for every account; results in the order of ``accounts``. Once
    ``cancel`` is set, accounts not started yet are skipped."""
    results: dict[str, AccountResult] = {}
    semaphore = asyncio.Semaphore(parallelism)
    failures = 0
    stop_reason: str | None = None

    async def one(account: Account) -> None:
        nonlocal failures, stop_reason
        async with semaphore:
            if cancel is not None and cancel.is_set() and stop_reason is None:
                stop_reason = "not started: interrupted (Ctrl-C)"
            if stop_reason is not None:
                results[account.key] = AccountResult(account, SKIPPED, stop_reason)
                return
            result = await job(account)
            results[account.key] = result
            if result.failed:
                failures += 1
                if max_failures is not None and failures >= max_failures and stop_reason is None:
                    stop_reason = (
                        f"not started: {failures} account(s) failed (--max-failures {max_failures})"
                    )

    previous = ""
    for label, group in split_waves(accounts, waves):
        if stop_reason is None and any(r.failed for r in results.values()):
            stop_reason = f"not started: a failure in the wave {previous} stopped the rollout"
        await asyncio.gather(*(one(a) for a in group))
        previous = label
    return [results[a.key] for a in accounts]
