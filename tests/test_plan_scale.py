"""A no-change plan on a big account: 1 token request and 6 list requests, nothing else."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from ringrx_iac.api.client import ClientSettings, RingRxClient
from ringrx_iac.reconcile.desired import from_config
from ringrx_iac.reconcile.engine import plan_for
from ringrx_iac.reconcile.importer import import_yaml
from ringrx_iac.simulator.seed import generate_seed
from ringrx_iac.simulator.server import SimulatorServer
from ringrx_iac.validate import validate as load


def test_big_account_no_change_plan_requests() -> None:
    seed = generate_seed(phone_numbers=20000, callbacks=1000, bound=10000)
    with SimulatorServer(seed=seed) as sim, tempfile.TemporaryDirectory() as tmp:
        env = sim.env()

        async def run() -> None:
            async with RingRxClient(ClientSettings.from_env(env, read_only=True)) as client:
                text = import_yaml(await client.fetch_account()).text
            path = Path(tmp) / "big.yaml"
            path.write_text(text)
            result = load(path)
            assert result.config is not None and not result.errors
            async with RingRxClient(ClientSettings.from_env(env, read_only=True)) as client:
                account = await client.fetch_account()
                plan = plan_for(
                    from_config(result.config), account, {}, Path(tmp), result.sources.locate
                )
                assert dict(client.stats) == {"token": 1, "list": 6}
            assert not plan.errors and not plan.has_changes
            assert plan.managed_count == 1000
            assert sum(len(ts) for ts in account.targets.values()) >= 20000

        asyncio.run(run())
