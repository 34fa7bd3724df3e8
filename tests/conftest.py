"""Shared test setup.

- Every test starts with an empty secret registry (ringrx_iac.redact) and no run
  deadline (ringrx_iac.api.limits).
- Integration tests are marked ``slow`` by what their module uses: a module that imports
  the simulator server, a helper that starts one, or subprocess talks to real servers or
  processes (``make test-fast`` skips them; ``make test`` runs everything). A test can
  also be marked by hand with ``@pytest.mark.slow``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ringrx_iac import redact
from ringrx_iac.api import limits

INTEGRATION_NAMES = (
    "SimulatorServer",
    "subprocess",
    "run_cli_process",
    "running_simulator",
    "ContractServer",
)


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    redact.clear()
    limits.start_deadline(None)
    yield
    redact.clear()
    limits.start_deadline(None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and any(hasattr(module, n) for n in INTEGRATION_NAMES):
            item.add_marker(pytest.mark.slow)
