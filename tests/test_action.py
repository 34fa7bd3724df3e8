"""The GitHub Action (action.yml + action/*.sh) and the workflow recipes.

Lint: action.yml against the GitHub action schema and every workflow (README recipe,
docs) against the workflow schema, both vendored in check-jsonschema (no download); the
scripts with ``bash -n`` and shellcheck when installed. Behaviour: action/run.sh runs the
real CLI against the simulator, and the PR comment and drift issue scripts run against a
stand-in ``gh`` (tests/data/fake_gh.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fakes import cli_env
from ruamel.yaml import YAML

from ringrx_iac.simulator.server import SimulatorServer

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "action").glob("*.sh"))
BIN = Path(sys.executable).parent
SEED: dict[str, Any] = {
    "users": [{"username": "demo", "password": "demo-password"}],
    "api_keys": [{"token": "t", "secret": "s", "user": "demo"}],
    "callbacks": [],
}
CONFIG = 'version: 1\ncallbacks:\n  - {name: A, type: cdr, url: "https://h.example.com/{id}"}\n'


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema", path=str(BIN)) or shutil.which("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[dev]')")
    return subprocess.run(
        [exe, "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True
    )


def _readme_workflows(tmp_path: Path) -> list[Path]:
    """The workflow recipes of README.md and docs/, each written to a file."""
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)):
            if block.startswith("# .github/workflows/"):
                path = tmp_path / f"{doc.stem}-{i}.yml"
                path.write_text(block, encoding="utf-8")
                found.append(path)
    return found


def test_action_yml_is_a_valid_action() -> None:
    result = _check_jsonschema("vendor.github-actions", [ROOT / "action.yml"])
    assert result.returncode == 0, result.stdout + result.stderr
    action = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert {"command", "path", "format", "fleet", "account", "version"} <= set(action["inputs"])
    for script in re.findall(r"action/([\w-]+\.sh)", (ROOT / "action.yml").read_text()):
        assert (ROOT / "action" / script).is_file(), script


def test_readme_workflow_recipes_are_valid_workflows(tmp_path: Path) -> None:
    workflows = _readme_workflows(tmp_path)
    assert workflows, "README.md has a workflow recipe"
    result = _check_jsonschema("vendor.github-workflows", workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    readme = workflows[0].read_text()
    assert "contents: read" in readme
    assert "pip install ringrx-iac" not in (ROOT / "README.md").read_text()


def test_gitlab_recipe_is_a_valid_gitlab_ci_file(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "gitlab-ci.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "gitlab-ci" in b]
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(block, encoding="utf-8")
    result = _check_jsonschema("vendor.gitlab-ci", [path])
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = YAML(typ="safe").load(block)
    assert {"validate", "plan", "apply", "drift"} <= set(jobs)


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_scripts_parse_and_pass_shellcheck(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    exe = shutil.which("shellcheck", path=str(BIN)) or shutil.which("shellcheck")
    if exe is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run([exe, "-S", "warning", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def _bash(script: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    gh = fake / "gh"
    gh.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT}/tests/data/fake_gh.py" "$@"\n')
    gh.chmod(0o755)
    full = {
        **os.environ,
        "PATH": f"{fake}:{BIN}:{os.environ['PATH']}",
        "GITHUB_REPOSITORY": "acme/callbacks",
        "RUNNER_TEMP": str(tmp_path),
        "FAKE_GH_STATE": str(tmp_path / "gh.json"),
        "NO_COLOR": "1",
        **env,
    }
    return subprocess.run(
        ["bash", str(ROOT / "action" / script)],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _gh_state(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "gh.json").read_text())  # type: ignore[no-any-return]


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


needs_jq = pytest.mark.skipif(shutil.which("jq") is None, reason="the gh stand-in needs jq")


@needs_jq
def test_plan_comment_is_one_sticky_comment_updated_in_place(tmp_path: Path) -> None:
    report = tmp_path / "plan.md"
    env = {"PR_NUMBER": "7", "REPORT": str(report), "MARKER": "<!-- ringrx-iac plan: cb/ -->"}
    report.write_text("### ringrx-iac plan\nfirst push\n")
    assert _bash("comment.sh", env, tmp_path).returncode == 0
    report.write_text("### ringrx-iac plan\nsecond push\n")
    result = _bash("comment.sh", env, tmp_path)
    assert result.returncode == 0 and "updated the plan comment 1000" in result.stdout
    (comment,) = _gh_state(tmp_path)["comments"]
    assert comment["body"].startswith("<!-- ringrx-iac plan: cb/ -->\n")
    assert "second push" in comment["body"] and "first push" not in comment["body"]
    other = {**env, "MARKER": "<!-- ringrx-iac plan: other/ -->"}  # another path: its own
    assert _bash("comment.sh", other, tmp_path).returncode == 0
    assert len(_gh_state(tmp_path)["comments"]) == 2


@needs_jq
def test_drift_issue_opens_once_and_closes_when_in_sync(tmp_path: Path) -> None:
    report = tmp_path / "drift.md"
    report.write_text("### ringrx-iac drift\n1 to update\n")
    env = {"REPORT": str(report), "CONFIG_PATH": "cb/", "MARKER": "<!-- ringrx-iac drift: cb/ -->"}
    for _ in range(2):
        assert _bash("drift-issue.sh", {**env, "DRIFT": "true"}, tmp_path).returncode == 0
    (issue,) = _gh_state(tmp_path)["issues"]
    assert issue["state"] == "open" and issue["title"] == "ringrx-iac: drift in cb/"
    assert "1 to update" in issue["body"]
    result = _bash("drift-issue.sh", {**env, "DRIFT": "false"}, tmp_path)
    assert result.returncode == 0 and "closed the drift issue #1" in result.stdout
    (issue,) = _gh_state(tmp_path)["issues"]
    assert issue["state"] == "closed"
    assert "In sync again" in _gh_state(tmp_path)["comments"][-1]["body"]
    assert _bash("drift-issue.sh", {**env, "DRIFT": "false"}, tmp_path).returncode == 0
    assert len(_gh_state(tmp_path)["issues"]) == 1  # nothing opened while in sync


@needs_jq
def test_apply_on_merge_fetches_the_plan_reviewed_on_the_pull_request(tmp_path: Path) -> None:
    state = {
        "pulls_for_commit": {"merge-sha": [7]},
        "pull_heads": {"7": "pr-head-sha"},
        "runs": [{"id": 41, "head_sha": "pr-head-sha"}, {"id": 40, "head_sha": "other"}],
        "artifacts": {"41": {"ringrx-plan": {"ringrx-plan.json": '{"reviewed": true}'}}},
    }
    (tmp_path / "gh.json").write_text(json.dumps(state))
    env = {"GITHUB_SHA": "merge-sha", "PLAN_FILE": "plans/plan.json"}
    result = _bash("fetch-plan.sh", env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reviewed plan of #7 (run 41)" in result.stdout
    assert (tmp_path / "plans" / "plan.json").read_text() == '{"reviewed": true}'
    # a direct push (no pull request): fail rather than apply something nobody reviewed
    result = _bash("fetch-plan.sh", {**env, "GITHUB_SHA": "direct-push"}, tmp_path)
    assert result.returncode == 1
    assert "::error title=ringrx-iac apply::no pull request is associated" in result.stdout


def test_run_script_plans_applies_the_saved_plan_and_checks_drift(tmp_path: Path) -> None:
    (tmp_path / "callbacks").mkdir()
    (tmp_path / "callbacks" / "all.yaml").write_text(CONFIG)
    with SimulatorServer(seed=SEED) as sim:
        env = {**cli_env(sim), "CONFIG_PATH": "callbacks/", "PLAN_FILE": "plan.json"}

        def step(command: str, **extra: str) -> dict[str, str]:
            out, summary = tmp_path / f"{command}.out", tmp_path / f"{command}.summary"
            step_env = {**env, "COMMAND": command, "GITHUB_OUTPUT": str(out)}
            step_env |= {"GITHUB_STEP_SUMMARY": str(summary), **extra}
            result = _bash("run.sh", step_env, tmp_path)
            assert result.returncode == 0, result.stdout + result.stderr
            return {**_outputs(out), "summary": summary.read_text()}

        validate = step("validate")
        assert validate["exit-code"] == "0" and "valid" in validate["summary"]
        plan = step("plan")
        assert (plan["exit-code"], plan["changes"]) == ("2", "true")
        assert "### ringrx-iac plan" in plan["summary"] and (tmp_path / "plan.json").is_file()
        assert "1 to create" in Path(plan["report"]).read_text()
        applied = step("apply", APPLY_REVIEWED_PLAN="true")
        assert applied["exit-code"] == "0", applied["summary"]
        drift = step("drift")
        assert (drift["exit-code"], drift["drift"]) == ("0", "false")
        again = step("plan")
        assert (again["exit-code"], again["changes"]) == ("0", "false")
