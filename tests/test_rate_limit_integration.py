"""Rate limits over real loopback HTTP: the simulator's headers, the client's pace, ``--max-rate``.

Counts and learned rates are asserted, never timings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes import admin, cli_env, run_cli, spy_max_rates

from ringrx_iac.api import endpoints
from ringrx_iac.api.client import RingRxClient
from ringrx_iac.api.credentials import ClientSettings
from ringrx_iac.api.ratelimit import pace_for
from ringrx_iac.simulator.server import SimulatorServer

PHONES = 24
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "phone_numbers": [{"id": i, "phonenumber": f"+1818555{i:04d}"} for i in range(1, PHONES + 1)],
    "callbacks": [{"id": 1, "name": "SMS", "callback_type": "sms", "url": "https://h/sms"}],
}


def _get(sim: SimulatorServer) -> httpx.Response:
    creds = dict(zip(endpoints.AUTH_API_KEY_FIELDS, ("t", "s"), strict=True))
    with httpx.Client(base_url=sim.base_url) as http:
        token = http.post(endpoints.TOKEN_PATH, json=creds).json()[endpoints.TOKEN_ACCESS_FIELD]
        return http.get(endpoints.CALLBACKS_PATH, headers={"Authorization": f"Bearer {token}"})


def test_simulator_states_its_limit_in_headers_unless_told_not_to(sim: SimulatorServer) -> None:
    admin(sim, "POST", "/faults", {"rate_limit": 50})
    answer = _get(sim)
    assert answer.headers["X-RateLimit-Limit"] == "50"
    assert 0 <= int(answer.headers["X-RateLimit-Remaining"]) < 50
    assert answer.headers["X-RateLimit-Reset"] == "1"
    admin(sim, "POST", "/faults", {"rate_limit_headers": False})
    assert "X-RateLimit-Limit" not in _get(sim).headers
    admin(sim, "POST", "/faults", {"rate_limit": 0, "rate_limit_headers": True})
    assert "X-RateLimit-Limit" not in _get(sim).headers  # no limit, no headers


async def test_client_learns_the_stated_limit_and_binds_everything(sim: SimulatorServer) -> None:
    admin(sim, "POST", "/faults", {"rate_limit": 20})
    settings = ClientSettings.from_env(cli_env(sim), parallelism=8)
    async with RingRxClient(settings) as client:
        await client.fetch_account()
        for target in range(1, PHONES + 1):
            await client.bind("phone_numbers", target, 1)
        assert client.rate_limiter.current_rate() == pytest.approx(pace_for(20, 1))
        assert client.rate_limiter.throttled <= 8  # at most the first requests in flight
    bound = [t for t in sim.state.targets["phone_numbers"].values() if t["sms_callback_id"] == 1]
    assert len(bound) == PHONES


def test_max_rate_option(
    sim: SimulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "version: 1\ncallbacks:\n  - name: SMS\n    type: sms\n    url: https://h/sms\n",
        encoding="utf-8",
    )
    env = cli_env(sim)
    caps = spy_max_rates(monkeypatch)
    assert run_cli(["plan", str(config), "--max-rate", "50"], env).exit_code == 0
    assert caps == [50.0]
    bad = run_cli(["plan", str(config), "--max-rate", "0"], env)
    assert bad.exit_code != 0 and "--max-rate" in bad.output + bad.stderr
