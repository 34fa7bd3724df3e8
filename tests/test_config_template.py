"""Jinja2 rendering: variables, env, single-brace tokens, clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ringrx_iac.config.template import (
    TemplateError,
    VariableError,
    collect_variables,
    parse_var,
    render,
)
from ringrx_iac.validate import validate


def test_single_brace_tokens_pass_through() -> None:
    out = render('url: "https://{{ host }}/sms?from={from}&to={to}"\n', "f", {"host": "h.example"})
    assert out == 'url: "https://h.example/sms?from={from}&to={to}"\n'


def test_text_without_markers_is_untouched() -> None:
    text = "a: {from}\nb: '{ x }'\n"
    assert render(text, "f") is text


def test_only_ringrx_var_environment_variables_are_exposed_under_full_names() -> None:
    env = {"RINGRX_VAR_REGION": "us", "RINGRX_API_SECRET": "s3cr3t-api", "HOME": "/root"}
    assert render("a: {{ env.RINGRX_VAR_REGION }}\n", "f", {}, env) == "a: us\n"
    assert render("a: {{ env | list }}\n", "f", {}, env) == "a: ['RINGRX_VAR_REGION']\n"
    assert render("a: {{ env.get('HOME', 'x') }}\n", "f", {}, env) == "a: x\n"


@pytest.mark.parametrize("use", ["env.RINGRX_API_SECRET", "env['RINGRX_API_SECRET']"])
def test_other_environment_variables_are_undefined_with_a_rename_hint(use: str) -> None:
    env = {"RINGRX_API_SECRET": "s3cr3t-api"}
    with pytest.raises(TemplateError) as err:
        render(f"a: 1\nb: {{{{ {use} }}}}\n", "f", {}, env)
    assert err.value.kind == "undefined"
    assert err.value.line == 2 and err.value.column >= 7
    assert "rename the variable to RINGRX_VAR_RINGRX_API_SECRET" in err.value.message
    assert "--var ringrx_api_secret=VALUE" in err.value.message
    assert "s3cr3t-api" not in err.value.message + err.value.hint


def test_unset_ringrx_var_is_named() -> None:
    with pytest.raises(TemplateError, match="RINGRX_VAR_X is not set"):
        render("a: {{ env.RINGRX_VAR_X }}\n", "f", {}, {})


@pytest.mark.parametrize(
    "expression",
    [
        "cycler.__init__.__globals__.os.popen('id').read()",
        "''.__class__.__mro__[1].__subclasses__()",
        "lipsum.__globals__['os'].system('id')",
        "namespace.__init__.__globals__",
        "(1).__class__",
        "[].append(1)",
        "{}.update(a=1)",
    ],
)
def test_python_internals_are_blocked_and_located(expression: str) -> None:
    with pytest.raises(TemplateError) as err:
        render(f"a: 1\nb: {{{{ {expression} }}}}\n", "f", {})
    assert err.value.line == 2
    assert "blocked" in err.value.message or "unsafe" in err.value.message


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ 'x' * 100000000 }}", "repeats"),
        ("{{ [0] * 100000000 }}", "repeats"),
        ("{{ 10 ** 100000000 }}", "power"),
        ("{{ 'x' | center(1000000000) }}", "center"),
        ("{{ lipsum(1000000000) }}", "lipsum"),
        ("{% for i in range(10**9) %}{% endfor %}", "Range too big"),
    ],
)
def test_runaway_templates_are_refused(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        render(f"a: 1\nb: {template}\n", "f", {})


def test_output_and_time_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from ringrx_iac.config import sandbox

    monkeypatch.setattr(sandbox, "MAX_OUTPUT", 1000)
    with pytest.raises(TemplateError, match="exceeds"):
        render("{% for i in range(2000) %}x{% endfor %}\n", "f", {})
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0.2)
    loops = "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateError, match="ran longer than 0.2 s"):
        render(loops + "\n", "f", {})


def test_undefined_variable_is_named_with_its_line() -> None:
    with pytest.raises(TemplateError) as err:
        render("version: 1\n\nregion: {{ region }}\n", "f", {})
    assert err.value.kind == "undefined"
    assert err.value.line == 3
    assert "'region'" in err.value.message
    assert "--var region=" in err.value.hint


def test_syntax_error_has_line() -> None:
    with pytest.raises(TemplateError) as err:
        render("a: 1\nb: {% if %}\n", "f")
    assert err.value.kind == "syntax"
    assert err.value.line == 2


def test_parse_var() -> None:
    assert parse_var("region=us") == ("region", "us")
    assert parse_var("n=3") == ("n", 3)
    assert parse_var("flag=true") == ("flag", True)
    assert parse_var("url=a: b") == ("url", "a: b")
    with pytest.raises(VariableError):
        parse_var("novalue")


def test_collect_variables_var_wins_over_file(tmp_path: Path) -> None:
    f = tmp_path / "v.yaml"
    f.write_text("a: 1\nb: 2\n")
    assert collect_variables(["b=3"], [f]) == {"a": 1, "b": 3}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- 1\n")
    with pytest.raises(VariableError, match="mapping"):
        collect_variables([], [bad])
    with pytest.raises(VariableError, match="no such file"):
        collect_variables([], [tmp_path / "missing.yaml"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a: [\n", r"^--var-file \S+v\.yaml:2:1: invalid YAML: .*expected node content"),
        ("a: 1\na: 2\n", r"^--var-file \S+v\.yaml:2:1: duplicate key 'a'"),
        ("a: !!python/object:os.system x\n", r"^--var-file \S+v\.yaml:1:4: unsupported YAML tag"),
        (b"a: \xff\n", r"^--var-file \S+v\.yaml:1:4: file is not valid UTF-8"),
        ("", None),
    ],
)
def test_var_file_errors_are_one_located_line(
    tmp_path: Path, content: str | bytes, expected: str | None
) -> None:
    f = tmp_path / "v.yaml"
    f.write_bytes(content.encode() if isinstance(content, str) else content)
    if expected is None:
        assert collect_variables([], [f]) == {}
        return
    with pytest.raises(VariableError) as info:
        collect_variables([], [f])
    message = str(info.value)
    assert "\n" not in message and "<unicode string>" not in message
    assert re.search(expected, message), message


def test_findings_in_a_rendered_template_point_into_the_template(tmp_path: Path) -> None:
    """Positions in rendered text are mapped back to the template (lazily, when asked)."""
    url_line = '    url: "https://h.example.com/{{ n }}/{caller}"'
    template = "\n".join(
        [
            "version: 1",
            "callbacks:",
            "{% for n in range(2) %}",
            '  - name: "cb-{{ n }}"',
            "    type: sms",
            url_line,
            "    type: sms",
            "{% endfor %}",
            "",
        ]
    )
    path = tmp_path / "c.yaml.j2"
    path.write_text(template, encoding="utf-8")
    result = validate(path, env={})
    unknown = [d for d in result.diagnostics if d.code == "RRX101"]
    where = [(d.location.line, d.location.column) for d in unknown if d.location]
    assert where == [(6, url_line.find("{caller}") + 1)]  # both copies: one finding
    dupes = [d for d in result.diagnostics if d.code == "RRX007"]
    assert [(d.location.line, d.location.column) for d in dupes if d.location] == [(7, 5)]
    assert all("first defined at line 5" in d.message for d in dupes)
