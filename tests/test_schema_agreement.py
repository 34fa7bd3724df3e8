"""The JSON Schema (for editors) and ``validate`` (the CLI) agree on every edge.

For every example and a set of edge files: a file ``validate`` accepts is valid for the
schema (editors never flag a file the tool accepts), and the schema rejects a file exactly
when ``validate`` reports a structural finding (``RRX0xx``: the shape of the file). Lint
findings (tokens, URLs, bindings: ``RRX1xx``+) are beyond what a schema can say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ringrx_iac.config.rendered import render_config
from ringrx_iac.validate import validate

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "ringrx-iac.schema.json").read_text(encoding="utf-8"))
CB = '{name: A, type: cdr, url: "https://h.example.com/{id}"}'

# name -> file text; each is checked by both and the two must agree
EDGES: dict[str, str] = {
    "empty callbacks": "version: 1\ncallbacks:\n",
    "empty ignore": "version: 1\nignore:\ncallbacks: []\n",
    "only version": "version: 1\n",
    "no version": f"callbacks: [{CB}]\n",
    "version 2": f"version: 2\ncallbacks: [{CB}]\n",
    "version as string": f'version: "1"\ncallbacks: [{CB}]\n',
    "unknown top key": f"version: 1\ncalbacks: [{CB}]\n",
    "callbacks a mapping": f"version: 1\ncallbacks: {CB}\n",
    "callback without url": "version: 1\ncallbacks: [{name: A, type: cdr}]\n",
    "unknown type": 'version: 1\ncallbacks: [{name: A, type: pager, url: "https://h/x"}]\n',
    "unknown callback key": f"version: 1\ncallbacks: [{CB[:-1]}, colour: red}}]\n",
    "header value a number": f"version: 1\ncallbacks: [{CB[:-1]}, headers: {{X-N: 5}}}}]\n",
    "null headers": f"version: 1\ncallbacks: [{CB[:-1]}, headers: null}}]\n",
    "insecure flag a string": f'version: 1\ncallbacks: [{CB[:-1]}, allow_insecure_url: "yes"}}]\n',
    "delete percent 150": f"version: 1\nsafety: {{max_delete_percent: 150}}\ncallbacks: [{CB}]\n",
    "delete percent 30": f"version: 1\nsafety: {{max_delete_percent: 30}}\ncallbacks: [{CB}]\n",
    "null safety": f"version: 1\nsafety:\ncallbacks: [{CB}]\n",
    "null defaults": f"version: 1\ndefaults:\ncallbacks: [{CB}]\n",
    "basic auth without password": (
        f"version: 1\ncallbacks: [{CB[:-1]}, basic_auth: {{username: u}}}}]\n"
    ),
    "top level a list": f"- {CB}\n",
    "lint only: unknown token": (
        'version: 1\ncallbacks: [{name: A, type: cdr, url: "https://h.example.com/{nope}"}]\n'
    ),
}


def _schema_ok(data: Any) -> bool:
    return not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data))


def _cases() -> list[tuple[str, Path, list[str]]]:
    """(id, path, --var-file values) for every example configuration."""
    examples = ROOT / "examples"
    cases: list[tuple[str, Path, list[str]]] = [
        (p.name, p, []) for p in sorted(examples.glob("*.yaml"))
    ]
    cases += [(p.name, p, []) for p in sorted((examples / "split").glob("*.yaml"))]
    for vars_file in sorted((examples / "multi-env").glob("*.vars.yaml")):
        template = examples / "multi-env" / "callbacks.yaml.j2"
        cases.append((f"{template.name}+{vars_file.name}", template, [str(vars_file)]))
    return cases


@pytest.mark.parametrize("path,var_files", [c[1:] for c in _cases()], ids=[c[0] for c in _cases()])
def test_every_example_is_valid_for_both(path: Path, var_files: list[str]) -> None:
    variables: dict[str, Any] = {}
    for f in var_files:
        variables.update(YAML(typ="safe").load(Path(f).read_text(encoding="utf-8")))
    rendered = render_config(path, variables, {})
    assert not rendered.diagnostics
    assert _schema_ok(YAML(typ="safe").load(rendered.text()))
    if path.parent.name != "split":  # a split file is one part of a configuration
        assert not validate(path, variables).has_errors


@pytest.mark.parametrize("name", list(EDGES))
def test_schema_and_validate_agree_on_edge_files(name: str, tmp_path: Path) -> None:
    path = tmp_path / "edge.yaml"
    path.write_text(EDGES[name], encoding="utf-8")
    result = validate(path)
    structural = [d for d in result.diagnostics if d.is_error and d.code.startswith("RRX0")]
    schema_ok = _schema_ok(YAML(typ="safe").load(path.read_text(encoding="utf-8")))
    assert schema_ok == (not structural), (name, [str(d) for d in result.diagnostics])
    if name.startswith("lint only"):
        assert result.has_errors and schema_ok  # beyond what a schema can say
    if not result.has_errors:
        assert schema_ok, f"{name}: validate accepts it, the schema would flag it in editors"
