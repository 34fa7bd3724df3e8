"""The sdist is complete: built, unpacked elsewhere, its own tests run from it.

Builds with ``python -m build --sdist`` (the build backend comes from the package index,
like any pip install), unpacks the archive in a temporary folder and runs there, against
the unpacked sources (``PYTHONPATH`` puts them first): every test module collects (no
missing helper such as ``tests/fakes.py``), and a quick subset passes, one loopback
integration test with the simulator included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (ROOT / "pyproject.toml").exists(), reason="needs the source tree"),
]


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("build")
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    (archive,) = dist.glob("ringrx_iac-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(dist, filter="data")
    (top,) = (p for p in dist.iterdir() if p.is_dir())
    return top


def _run(top: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(top), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=top, env=env, capture_output=True, text=True, timeout=600
    )


def test_sdist_holds_license_docs_examples_schema_and_test_helpers(unpacked: Path) -> None:
    for name in (
        "LICENSE",
        "README.md",
        "Makefile",
        ".pre-commit-hooks.yaml",
        "schemas/ringrx-iac.schema.json",
        "examples/full.yaml",
        "examples/multi-env/callbacks.yaml.j2",
        "docs/architecture.md",
        "tests/fakes.py",
        "tests/api_fake.py",
        "tests/conftest.py",
        "tests/contract/server.py",
        "tests/data/ringrx-callbacks-doc.txt",
        "bench/__main__.py",
    ):
        assert (unpacked / name).is_file(), name
    assert "MIT License" in (unpacked / "LICENSE").read_text()
    assert not list(unpacked.rglob("__pycache__"))


def test_sdist_tests_run_from_the_unpacked_sources(unpacked: Path) -> None:
    where = _run(unpacked, "-c", "import ringrx_iac; print(ringrx_iac.__file__)")
    assert where.stdout.strip().startswith(str(unpacked)), where.stdout + where.stderr
    collected = _run(unpacked, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    assert "error" not in collected.stdout.lower().splitlines()[-1]
    quick = _run(
        unpacked,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_validate_cli.py",
        "tests/test_examples.py",
        "tests/test_schema.py",
        "tests/test_drift_import.py::test_import_round_trip_plan_has_no_changes",
    )
    assert quick.returncode == 0, quick.stdout[-3000:] + quick.stderr[-2000:]
    assert " passed" in quick.stdout.splitlines()[-1]
