"""The pre-commit hook of this repository, run by pre-commit itself on a scratch repository.

``pre-commit try-repo`` installs the hook from this checkout into its own virtualenv (pip
reaches only the package index) and runs it on the scratch repository's files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = 'version: 1\ncallbacks:\n  - {name: A, type: cdr, url: "https://h.example.com/{id}"}\n'
BAD = GOOD.replace("{id}", "{caller}")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ROOT / ".git").exists(), reason="try-repo needs a git checkout"),
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "ringrx-iac-validate"]
        + ["--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_pre_commit_try_repo_checks_every_changed_file_in_one_call(tmp_path: Path) -> None:
    """One run (installing the hook costs a virtualenv): two good files and a bad one are
    passed to one ``validate`` call, which names the bad one and counts all three."""
    repo = tmp_path / "config-repo"
    (repo / "callbacks").mkdir(parents=True)
    (repo / "callbacks" / "sms.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "callbacks" / "cdr.yml").write_text(GOOD.replace("name: A", "name: B"), "utf-8")
    (repo / "callbacks" / "bad.yaml").write_text(BAD, encoding="utf-8")
    (repo / "README.md").write_text("not a configuration\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")

    result = _try_repo(repo, tmp_path / "pre-commit-home")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ringrx-iac validate" in result.stdout and "Failed" in result.stdout
    assert "callbacks/bad.yaml:3:54: error RRX101" in result.stdout
    assert "invalid: 1 error, 0 warnings (3 files, 3 callbacks)" in result.stdout
    assert "README.md" not in result.stdout.split("Failed", 1)[1]
