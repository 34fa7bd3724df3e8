"""Shared test setup.

- Every test starts with an empty secret registry (ringrx_iac.redact) and no run
  deadline (ringrx_iac.api.limits).
- ``sim``: a simulator on loopback seeded with the test module's ``SEED`` (the default seed
  when the module has none); ``env``: the CLI environment for it (``fakes.cli_env``). A
  module that needs another seed scope or extra variables defines its own.
- Integration tests are marked ``slow`` by what their module uses: a module that imports
  the simulator server, a helper that starts one, or subprocess talks to real servers or
  processes (``make test-fast`` skips them; ``make test`` runs everything). A test can
  also be marked by hand with ``@pytest.mark.slow``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from fakes import cli_env

from ringrx_iac import redact
from ringrx_iac.api import limits

if TYPE_CHECKING:
    from ringrx_iac.simulator.server import SimulatorServer

INTEGRATION_NAMES = (
    "SimulatorServer",
    "subprocess",
    "run_cli_process",
    "run_demo",
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


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[SimulatorServer]:
    """A simulator seeded with the module's ``SEED`` (imported here, not for unit tests)."""
    from ringrx_iac.simulator.server import SimulatorServer

    with SimulatorServer(seed=getattr(request.module, "SEED", None)) as server:
        yield server


@pytest.fixture
def env(sim: SimulatorServer) -> dict[str, str]:
    """The CLI environment for ``sim``: its URL and the seeds' API key."""
    return cli_env(sim)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        uses_sim = "sim" in getattr(item, "fixturenames", ())
        if uses_sim or (module is not None and any(hasattr(module, n) for n in INTEGRATION_NAMES)):
            item.add_marker(pytest.mark.slow)
