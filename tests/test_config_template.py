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


def test_single_brace_tokens_pass_through() -> None:
    out = render('url: "https://{{ host }}/sms?from={from}&to={to}"\n', "f", {"host": "h.example"})
    assert out == 'url: "https://h.example/sms?from={from}&to={to}"\n'


def test_text_without_markers_is_untouched() -> None:
    text = "a: {from}\nb: '{ x }'\n"
    assert render(text, "f") is text


def test_env_is_exposed() -> None:
    assert render("a: {{ env.REGION }}\n", "f", {}, {"REGION": "us"}) == "a: us\n"


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
