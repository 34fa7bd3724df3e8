"""The fleet inventory (fleet/inventory.py), validate --fleet and fleet matrix, offline."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from fakes import run_cli

from ringrx_iac.fleet.account import AccountResult
from ringrx_iac.fleet.inventory import Account, SelectionError, load_inventory
from ringrx_iac.fleet.runner import run_fleet, split_waves

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fleet"

GOOD = """\
version: 1
defaults:
  base_url: https://portal.example.com/
  variables: {crm_host: crm.example.com, practice_id: "0"}
  tags: {region: west}
accounts:
  - key: a
    name: Practice A
    credentials: {api_key: "${env:A_KEY}", api_secret: "${file:a.secret}"}
    config: a/
    variables: {practice_id: "1"}
    tags: {tier: canary}
  - key: b
    credentials: {api_token: "${env:B_KEY}", api_secret: "${env:B_SECRET}"}
    config: [baseline.yaml, b.yaml]
    tags: {region: east, tier: 2}
"""


def test_a_good_inventory(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(GOOD)
    inv = load_inventory(path)
    assert inv.diagnostics == []
    a, b = inv.accounts
    assert (a.key, a.name, b.name) == ("a", "Practice A", "b")
    assert a.base_url == "https://portal.example.com"
    assert a.api_key == "${env:A_KEY}" and b.api_key == "${env:B_KEY}"
    assert a.configs == (tmp_path / "a/",)
    assert b.configs == (tmp_path / "baseline.yaml", tmp_path / "b.yaml")
    assert a.variables == {"crm_host": "crm.example.com", "practice_id": "1"}
    assert a.tags == {"region": "west", "tier": "canary"}
    assert b.tags == {"region": "east", "tier": "2"}
    assert [x.key for x in inv.select(everything=True)] == ["a", "b"]
    assert [x.key for x in inv.select(tags=["region=west"])] == ["a"]
    assert [x.key for x in inv.select(keys=["b"], tags=["tier=2"])] == ["b"]
    with pytest.raises(SelectionError, match="choose the accounts"):
        inv.select()
    with pytest.raises(SelectionError, match="not KEY=VALUE"):
        inv.select(tags=["tier"])


def test_the_key_to_account_mapping_form(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "version: 1\naccounts:\n  west:\n"
        '    credentials: {api_key: "${env:K}", api_secret: "${env:S}"}\n    config: w.yaml\n'
    )
    inv = load_inventory(path)
    assert inv.diagnostics == [] and [a.key for a in inv.accounts] == ["west"]
    assert inv.accounts[0].base_url == "https://portal.ringrx.com"


BAD = """\
version: 1
accounts:
  - key: a
    credentials: {api_key: "plain-secret-value", api_secret: "${env:S}"}
    config: a.yaml
  - key: a
    credentials: {api_key: "${env:K}", api_secret: "${env:S}"}
    config: a.yaml
  - key: Bad Key
    credentials: {api_key: "${env:K}"}
    config: b.yaml
    tagz: {x: y}
  - key: c
    base_url: http//nope
    credentials: {api_key: "${env:K}", api_secret: "${nope:S}"}
"""


def test_inventory_errors_are_located_and_name_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(BAD)
    inv = load_inventory(path)
    found = {(d.code, d.location.line if d.location else 0) for d in inv.diagnostics}
    assert ("RRX041", 4) in found  # a literal credential
    assert ("RRX040", 6) in found  # key 'a' twice
    assert ("RRX021", 9) in found  # 'Bad Key'
    assert ("RRX022", 10) in found  # missing api_secret
    assert ("RRX020", 12) in found  # tagz: did you mean 'tags'?
    assert ("RRX021", 14) in found  # base_url
    assert ("RRX021", 15) in found  # ${nope:S}
    assert ("RRX022", 13) in found  # missing config
    assert "plain-secret-value" not in " ".join(d.message for d in inv.diagnostics)
    tagz = next(d for d in inv.diagnostics if d.code == "RRX020")
    assert "did you mean 'tags'" in tagz.hint
    assert [a.key for a in inv.accounts] == []

    result = run_cli(["validate", "--fleet", str(path)], {})
    assert result.exit_code == 1
    assert f"{path}:4:" in result.stderr and "RRX041" in result.stderr


def test_validate_fleet_of_the_example_offline_and_json() -> None:
    fleet = str(EXAMPLE / "fleet.yaml")
    text = run_cli(["validate", "--fleet", fleet], {})
    assert text.exit_code == 0, text.stdout + text.stderr
    assert "Fleet: 3 accounts: 3 valid." in text.stdout
    result = run_cli(["validate", "--fleet", fleet, "--tag", "region=west", "--format", "json"], {})
    data = json.loads(result.stdout)
    assert [a["key"] for a in data["accounts"]] == ["smile-west"]
    assert data["totals"]["valid"] == 1 and data["exit_code"] == 0


def test_validate_fleet_reports_an_overlay_conflict_in_one_account(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "version: 1\ncallbacks:\n  - {name: CDR, type: cdr, url: 'https://h/{id}'}\n"
    )
    (tmp_path / "ok.yaml").write_text("version: 1\nextends: base.yaml\n")
    (tmp_path / "clash.yaml").write_text(
        "version: 1\nextends: base.yaml\ncallbacks:\n  - {name: CDR, type: cdr, url: 'https://x/{id}'}\n"
    )
    creds = 'credentials: {api_key: "${env:K}", api_secret: "${env:S}"}'
    (tmp_path / "fleet.yaml").write_text(
        f"version: 1\naccounts:\n  - {{key: ok, config: ok.yaml, {creds}}}\n"
        f"  - {{key: clash, config: clash.yaml, {creds}}}\n"
    )
    result = run_cli(["validate", "--fleet", str(tmp_path / "fleet.yaml"), "--all"], {})
    assert result.exit_code == 1
    assert re.search(r"^  ok +ok +valid$", result.stdout, re.M)
    assert f"{tmp_path / 'clash.yaml'}:4:5: error RRX032" in result.stdout
    assert f"at {tmp_path / 'base.yaml'}:3:5" in result.stdout
    assert "Fleet: 2 accounts: 1 valid, 1 error." in result.stdout
    gh = run_cli(["validate", "--fleet", str(tmp_path / "fleet.yaml"), "--format", "github"], {})
    assert gh.exit_code == 1 and gh.stdout.startswith("::error file=")


def test_fleet_options_need_fleet_and_path_or_fleet(tmp_path: Path) -> None:
    result = run_cli(["plan", "--all"], {})
    assert result.exit_code == 1 and "--all needs --fleet" in result.stderr
    result = run_cli(["plan"], {})
    assert result.exit_code != 0 and "Missing argument 'PATH'" in result.stderr
    fleet = str(EXAMPLE / "fleet.yaml")
    result = run_cli(["plan", str(EXAMPLE / "fleet.yaml"), "--fleet", fleet], {})
    assert result.exit_code == 1 and "either PATH or --fleet" in result.stderr
    result = run_cli(["plan", "--fleet", fleet, "--out", str(tmp_path / "p.json")], {})
    assert result.exit_code == 1 and "--out is not supported" in result.stderr


def test_matrix_formats() -> None:
    fleet = str(EXAMPLE / "fleet.yaml")
    gh = run_cli(["fleet", "matrix", "--fleet", fleet, "--format", "github"], {})
    assert gh.exit_code == 0
    assert json.loads(gh.stdout) == {
        "account": ["smile-west", "smile-east", "kids-north"],
        "include": [
            {"account": "smile-west", "name": "Smile Dental West"},
            {"account": "smile-east", "name": "Smile Dental East"},
            {"account": "kids-north", "name": "Northside Pediatrics"},
        ],
    }
    assert gh.stdout.count("\n") == 1  # one line, for $GITHUB_OUTPUT
    gl = run_cli(
        ["fleet", "matrix", "--fleet", fleet, "--format", "gitlab", "--tag", "tier=stable"], {}
    )
    assert gl.stdout == 'parallel:\n  matrix:\n    - ACCOUNT: ["smile-east", "kids-north"]\n'
    text = run_cli(
        ["fleet", "matrix", "--fleet", fleet, "--format", "text", "--account", "kids-north"], {}
    )
    assert text.stdout == "kids-north\n"
    missing = run_cli(["fleet", "matrix", "--fleet", "/nonexistent/fleet.yaml"], {})
    assert missing.exit_code == 1 and "cannot read the inventory" in missing.stderr


def test_waves_split_in_order_then_the_rest(tmp_path: Path) -> None:
    inv = load_inventory(EXAMPLE / "fleet.yaml")
    groups = split_waves(inv.accounts, ["tier=canary", "region=north"])
    assert [(label, [a.key for a in g]) for label, g in groups] == [
        ("tier=canary", ["smile-west"]),
        ("region=north", ["kids-north"]),
        ("the rest", ["smile-east"]),
    ]


def _accounts(n: int) -> list[Account]:
    return [
        Account(f"a{i}", f"A{i}", "https://x", "${env:K}", "${env:S}", (Path("c.yaml"),))
        for i in range(n)
    ]


def test_runner_keeps_order_bounds_concurrency_and_cancels() -> None:
    accounts = _accounts(6)
    running = 0
    peak = 0
    cancel = asyncio.Event()

    async def job(account: Account) -> AccountResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 if account.key != "a0" else 0.03)
        running -= 1
        if account.key == "a1":
            cancel.set()  # as Ctrl-C would, while a0 and a1 run
        return AccountResult(account, "in_sync")

    results = asyncio.run(run_fleet(accounts, job, parallelism=2, cancel=cancel))
    assert [r.account.key for r in results] == [a.key for a in accounts]
    assert peak == 2
    assert [r.status for r in results] == ["in_sync", "in_sync"] + ["skipped"] * 4
    assert results[2].error == "not started: interrupted (Ctrl-C)"


def test_runner_max_failures_counts_failures_not_accounts() -> None:
    async def job(account: Account) -> AccountResult:
        failed = account.key in ("a1", "a3")
        return AccountResult(account, "error" if failed else "applied", "boom" if failed else None)

    results = asyncio.run(run_fleet(_accounts(6), job, parallelism=1, max_failures=2))
    assert [r.status for r in results] == ["applied", "error", "applied", "error"] + ["skipped"] * 2


def test_an_unexpected_error_in_one_account_is_that_accounts_result(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from ringrx_iac.fleet import account as account_module

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("surprise")

    monkeypatch.setattr(account_module, "load_account", broken)
    [one] = _accounts(1)
    opts = account_module.RunOptions(base_dir=tmp_path)
    result = asyncio.run(account_module.run_account("plan", one, opts))
    assert result.status == "error" and "KeyError" in (result.error or "")
