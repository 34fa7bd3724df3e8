"""``ringrx-iac render-config``: templates rendered for review and schema checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ringrx_iac.cli import main

ROOT = Path(__file__).resolve().parents[1]
MULTI = ROOT / "examples" / "multi-env"


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setenv("NO_COLOR", "1")
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def test_template_renders_to_schema_valid_yaml(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    template = str(MULTI / "callbacks.yaml.j2")
    code, out, err = run(
        ["render-config", template, "--var-file", str(MULTI / "prod.vars.yaml")],
        capsys,
        monkeypatch,
    )
    assert code == 0 and err == ""
    assert "{{" not in out and "{%" not in out
    assert 'X-Environment: "prod"' in out and "{to}" in out  # RingRx tokens untouched
    schema = json.loads((ROOT / "schemas" / "ringrx-iac.schema.json").read_text())
    jsonschema.validate(YAML(typ="safe").load(out), schema)


def test_undefined_variable_is_located_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["render-config", str(MULTI / "callbacks.yaml.j2")], capsys, monkeypatch)
    assert code == 1 and out == ""
    assert "callbacks.yaml.j2:11:24: error RRX005: undefined template variable 'environment'" in err


def test_env_is_only_ringrx_var_variables_so_no_secret_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_API_KEY", "s3cret-value-1")
    monkeypatch.setenv("RINGRX_VAR_STAGE", "prod")
    path = tmp_path / "c.yaml.j2"
    good = "version: 1\n# {{ env.RINGRX_VAR_STAGE }}\ncallbacks: []\n"
    path.write_text(good, encoding="utf-8")
    code, out, _ = run(["render-config", str(path)], capsys, monkeypatch)
    assert (code, out) == (0, "version: 1\n# prod\ncallbacks: []\n")
    path.write_text(good + "# {{ env.CRM_API_KEY }}\n", encoding="utf-8")
    code, out, err = run(["render-config", str(path)], capsys, monkeypatch)
    assert code == 1 and out == "" and "s3cret" not in err
    assert "c.yaml.j2:4:" in err and "RRX005" in err


def test_directory_renders_one_document_per_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    split = ROOT / "examples" / "split"
    code, out, _ = run(["render-config", str(split)], capsys, monkeypatch)
    assert code == 0
    docs = list(YAML(typ="safe").load_all(out))
    assert len(docs) == len(list(split.glob("*.yaml")))
    assert out.startswith(f"--- # {split / '00-settings.yaml'}\n")
