"""The ``policy``, new ``safety`` keys, ``manage`` and ``previously``: model, lint, validate."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ringrx_iac.cli import cli
from ringrx_iac.diagnostics import Diagnostic
from ringrx_iac.policy import DestinationPolicy, check_host_pattern, host_allowed, url_origin
from ringrx_iac.reconcile.desired import DesiredState, from_config
from ringrx_iac.validate import validate as load


def load_text(tmp_path: Path, text: str) -> tuple[list[Diagnostic], object]:
    path = tmp_path / "c.yaml"
    path.write_text("version: 1\n" + text, encoding="utf-8")
    result = load(path, env={})
    return result.diagnostics, result.config


def codes(diags: list[Diagnostic]) -> list[str]:
    return [d.code for d in diags]


POLICY = 'policy:\n  allowed_hosts: ["hooks.example.com", "*.crm.example.org"]\n'


def test_url_origin_scheme_host_port() -> None:
    assert str(url_origin("https://Hooks.Example.com/x?y={to}")) == "https://hooks.example.com"
    assert str(url_origin("https://h.example.com:8443/x")) == "https://h.example.com:8443"
    assert url_origin("https://h.example.com:443/x") == url_origin("https://h.example.com/y")
    assert url_origin("http://h.example.com/x") != url_origin("https://h.example.com/x")
    assert url_origin("https://u:p@h.example.com/x").host == "h.example.com"  # type: ignore[union-attr]
    assert str(url_origin("https://[::1]:9/x")) == "https://[::1]:9"
    assert url_origin("ftp://h/x") is None and url_origin("nonsense") is None


def test_host_patterns_exact_and_leading_wildcard() -> None:
    allowed = ["hooks.example.com", "*.crm.example.org"]
    assert host_allowed("hooks.example.com", allowed)
    assert host_allowed("HOOKS.example.com.", allowed)
    assert host_allowed("a.crm.example.org", allowed)
    assert host_allowed("a.b.crm.example.org", allowed)
    assert not host_allowed("crm.example.org", allowed)  # the wildcard needs a label
    assert not host_allowed("evilcrm.example.org", allowed)
    assert not host_allowed("hooks.example.com.evil.net", allowed)
    assert check_host_pattern("*.crm.example.org") is None
    assert check_host_pattern("a*.example.org") and check_host_pattern("https://x.org")
    assert check_host_pattern("x.org:443") and check_host_pattern("x.org/path")


def test_host_outside_policy_is_an_error_naming_host_and_position(tmp_path: Path) -> None:
    diags, _ = load_text(
        tmp_path,
        POLICY + "callbacks:\n"
        '  - {name: A, type: cdr, url: "https://hooks.example.com/cdr"}\n'
        '  - {name: B, type: recording, url: "https://x.crm.example.org/r"}\n'
        "  - name: C\n    type: sms\n"
        '    url: "https://evil.example.net/sms?to={to}"\n',
    )
    (d,) = [d for d in diags if d.code == "RRX204"]
    assert d.severity == "error" and "'evil.example.net'" in d.message
    assert d.location is not None and (d.location.line, d.location.column) == (9, 19)


def test_bad_allowed_host_entries(tmp_path: Path) -> None:
    diags, _ = load_text(
        tmp_path, 'policy: {allowed_hosts: ["ok.example.com", "x*.example.com", "https://a.b"]}\n'
    )
    assert codes(diags) == ["RRX205", "RRX205"]


def test_require_header_and_basic_auth_per_type_and_for_all(tmp_path: Path) -> None:
    cbs = (
        "callbacks:\n"
        '  - {name: S, type: sms, url: "https://h.example.com/s", headers: {x-api-key: "${env:K}"}}\n'
        '  - {name: C, type: cdr, url: "https://h.example.com/c"}\n'
    )
    diags, _ = load_text(tmp_path, "policy: {require_header: X-Api-Key}\n" + cbs)
    assert [(d.code, "'C'" in d.message) for d in diags] == [("RRX305", True)]
    diags, _ = load_text(tmp_path, "policy: {require_header: {sms: X-Other}}\n" + cbs)
    assert [(d.code, "'S'" in d.message) for d in diags] == [("RRX305", True)]
    diags, _ = load_text(tmp_path, "policy: {require_basic_auth: [cdr]}\n" + cbs)
    assert [(d.code, "'C'" in d.message) for d in diags] == [("RRX404", True)]
    diags, _ = load_text(tmp_path, "policy: {require_basic_auth: true}\n" + cbs)
    assert codes(diags) == ["RRX404", "RRX404"]


def test_defaults_headers_satisfy_require_header(tmp_path: Path) -> None:
    diags, _ = load_text(
        tmp_path,
        'policy: {require_header: X-Api-Key}\ndefaults: {headers: {X-Api-Key: "${env:K}"}}\n'
        'callbacks:\n  - {name: C, type: cdr, url: "https://h.example.com/c"}\n',
    )
    assert diags == []


def test_require_https_is_on_by_default_and_can_be_turned_off(tmp_path: Path) -> None:
    cbs = 'callbacks:\n  - {name: C, type: cdr, url: "http://h.example.com/c"}\n'
    diags, _ = load_text(tmp_path, cbs)
    assert codes(diags) == ["RRX201"]
    diags, _ = load_text(tmp_path, "policy: {require_https: false}\n" + cbs)
    assert diags == []


def test_previously_conflicts(tmp_path: Path) -> None:
    diags, _ = load_text(
        tmp_path,
        "callbacks:\n"
        '  - {name: A, type: cdr, url: "https://h.example.com/a", previously: [B, Old]}\n'
        '  - {name: B, type: recording, url: "https://h.example.com/b", previously: [Old]}\n',
    )
    assert codes(diags) == ["RRX604", "RRX604"]


def test_union_fields_give_one_clear_error(tmp_path: Path) -> None:
    diags, config = load_text(
        tmp_path, "manage: purge\npolicy: {require_basic_auth: [smss], require_header: 5}\n"
    )
    assert config is None
    assert [d.code for d in diags] == ["RRX021"] * 3
    text = " ".join(d.message for d in diags)
    assert "manage: expected 'full', 'no-purge'" in text
    assert "require_basic_auth: expected true, false or a list of callback types" in text


def test_desired_state_keeps_policy_safety_manage_previously(tmp_path: Path) -> None:
    _, config = load_text(
        tmp_path,
        POLICY + "  require_basic_auth: [cdr]\n  require_header: X-Api-Key\n"
        "safety: {max_reroute_percent: 10, max_unbind_percent: 20, min_impact: 1}\n"
        'manage: {no-purge: ["Partner *"]}\n'
        "callbacks:\n"
        '  - name: A\n    type: cdr\n    url: "https://hooks.example.com/cdr"\n'
        '    headers: {X-Api-Key: "${env:K}"}\n'
        '    basic_auth: {username: u, password: "${env:P}"}\n'
        '    previously: ["Old A"]\n',
    )
    desired = from_config(config)  # type: ignore[arg-type]
    assert desired.no_purge == ("Partner *",)
    assert desired.safety.max_reroute_percent == 10 and desired.safety.min_impact == 1
    assert desired.policy.allows("a.crm.example.org") and not desired.policy.allows("x.net")
    assert desired.policy.requires_basic_auth("cdr") and not desired.policy.requires_basic_auth(
        "sms"
    )
    assert desired.policy.required_header("sms") == "X-Api-Key"
    assert desired.callbacks[0].previously == ("Old A",)
    again = DesiredState.from_dict(json.loads(json.dumps(desired.to_dict())))
    assert again.to_dict() == desired.to_dict()
    assert again.policy == desired.policy and again.safety == desired.safety


def test_manage_no_purge_whole_file(tmp_path: Path) -> None:
    _, config = load_text(tmp_path, "manage: no-purge\n")
    assert from_config(config).no_purge == ("*",)  # type: ignore[arg-type]
    assert DestinationPolicy().allows("anything.example") and DestinationPolicy().require_https


def test_validate_cli_reports_policy_error_with_position(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: 1\n" + POLICY + "callbacks:\n"
        '  - {name: A, type: cdr, url: "https://evil.example.net/cdr"}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:5:" in result.output and "evil.example.net" in result.output
    assert "RRX204" in result.output
