"""The loader: files, directories, merge rules, schema diagnostics with positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringrx_iac.config.loader import LoadResult
from ringrx_iac.phone import to_e164
from ringrx_iac.validate import validate as load

GOOD = """\
version: 1
callbacks:
  - name: CRM inbound SMS
    type: sms
    url: "https://hooks.example.com/sms?to={to}"
    bind: {phone_numbers: ["+18185559876"]}
"""


def write(dir_: Path, name: str, text: str | bytes) -> Path:
    path = dir_ / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def codes(result: LoadResult) -> list[str]:
    return [d.code for d in result.diagnostics]


def test_good_file_loads(tmp_path: Path) -> None:
    result = load(write(tmp_path, "c.yaml", GOOD), env={})
    assert result.diagnostics == []
    assert result.config is not None
    assert result.config.callbacks[0].name == "CRM inbound SMS"
    assert result.base_dir == tmp_path
    assert result.files == [str(tmp_path / "c.yaml")]


def test_unknown_key_did_you_mean(tmp_path: Path) -> None:
    text = GOOD.replace("    bind:", "    bnid:").replace("    url:", "    urls:")
    result = load(write(tmp_path, "c.yaml", text), env={})
    found = {d.message.split("'")[1]: d for d in result.diagnostics if d.code == "RRX020"}
    assert found["bnid"].hint == "did you mean 'bind'?"
    assert found["bnid"].location is not None and found["bnid"].location.line == 6
    assert found["urls"].hint == "did you mean 'url'?"
    assert result.config is None


def test_wrong_type_is_located(tmp_path: Path) -> None:
    result = load(
        write(tmp_path, "c.yaml", GOOD.replace('"https://hooks.example.com/sms?to={to}"', "42")),
        env={},
    )
    (diag,) = result.diagnostics
    assert diag.code == "RRX021"
    assert "expected a string, got number" in diag.message
    assert diag.location is not None
    assert (diag.location.line, diag.location.column) == (5, 10)


def test_list_where_a_string_belongs_is_not_told_to_quote(tmp_path: Path) -> None:
    text = GOOD.replace('"https://hooks.example.com/sms?to={to}"', "[a, b]")
    (diag,) = load(write(tmp_path, "c.yaml", text), env={}).diagnostics
    assert "expected a string, got list" in diag.message
    assert diag.hint == "write one string here, not a list"


def test_unknown_type_and_version(tmp_path: Path) -> None:
    text = GOOD.replace("type: sms", "type: smss").replace("version: 1", "version: 2")
    result = load(write(tmp_path, "c.yaml", text), env={})
    assert sorted(codes(result)) == ["RRX011", "RRX021"]
    assert any("did you mean 'sms'" in d.hint for d in result.diagnostics)


def test_missing_version(tmp_path: Path) -> None:
    result = load(write(tmp_path, "c.yaml", GOOD.replace("version: 1\n", "")), env={})
    assert codes(result) == ["RRX011"]


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [" + ", ".join([f"*{p}"] * 10) + "]\n"
    for p, c in zip("abcde", "bcdef", strict=True)
)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("", "RRX009"),
        (b"version: 1\nx: \xff\n", "RRX003"),
        ("- a\n- b\n", "RRX010"),
        ("version: 1\nversion: 1\n", "RRX007"),
        ("version: [1\n", "RRX006"),
        ("version: !!python/name:os.system 1\n", "RRX006"),
        (BOMB, "RRX008"),
        ("version: {{ nope }}\n", "RRX005"),
        ("version: {% if %}\n", "RRX004"),
    ],
)
def test_bad_files_give_one_located_error(tmp_path: Path, content: str | bytes, code: str) -> None:
    result = load(write(tmp_path, "c.yaml", content), env={})
    assert code in codes(result)
    assert result.has_errors
    assert all(d.location is not None for d in result.diagnostics)


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    assert codes(load(tmp_path / "nope.yaml", env={})) == ["RRX001"]
    assert codes(load(tmp_path, env={})) == ["RRX002"]


def test_template_variables_and_env(tmp_path: Path) -> None:
    text = GOOD.replace("hooks.example.com", "{{ host }}").replace(
        "CRM inbound SMS", "{{ env.RINGRX_VAR_PREFIX }}SMS"
    )
    env = {"RINGRX_VAR_PREFIX": "x-"}
    result = load(write(tmp_path, "c.yaml", text), {"host": "h.example.com"}, env)
    assert result.config is not None
    assert result.config.callbacks[0].url == "https://h.example.com/sms?to={to}"
    assert result.config.callbacks[0].name == "x-SMS"


SPLIT_A = """\
version: 1
safety: {protected: [A]}
ignore: ["Legacy *"]
callbacks:
  - {name: A, type: cdr, url: "https://h.example.com/a"}
"""
SPLIT_B = """\
version: 1
ignore: ["Old *"]
callbacks:
  - {name: B, type: recording, url: "https://h.example.com/b"}
  - {name: C, type: sms, url: 5}
"""


def test_directory_merge_and_remapped_positions(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SPLIT_A)
    write(tmp_path, "b.yml", SPLIT_B)
    write(tmp_path, "notes.txt", "ignored")
    result = load(tmp_path, env={})
    (diag,) = result.diagnostics
    assert diag.location is not None
    assert diag.location.file.endswith("b.yml") and diag.location.line == 5
    assert "callbacks[2]" in diag.message
    write(tmp_path, "b.yml", SPLIT_B.replace("url: 5", 'url: "https://h.example.com/c"'))
    result = load(tmp_path, env={})
    assert result.diagnostics == []
    assert result.config is not None
    assert [c.name for c in result.config.callbacks] == ["A", "B", "C"]
    assert result.config.ignore == ["Legacy *", "Old *"]
    assert result.sources.locate(("callbacks", 1, "name")).file.endswith("b.yml")


def test_directory_conflicts(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SPLIT_A)
    write(
        tmp_path,
        "b.yaml",
        SPLIT_B.replace("version: 1", "version: 2\nsafety: {}").replace(
            "url: 5", 'url: "https://h.example.com/c"'
        ),
    )
    result = load(tmp_path, env={})
    assert sorted(codes(result)) == ["RRX012", "RRX013"]
    twice = next(d for d in result.diagnostics if d.code == "RRX013")
    assert "a.yaml:2:1" in twice.message


def test_name_defined_in_two_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", SPLIT_A)
    write(
        tmp_path,
        "b.yaml",
        "version: 1\ncallbacks:\n  - {name: A, type: sms, url: 'https://h.example.com/x'}\n",
    )
    result = load(tmp_path, env={})
    (diag,) = [d for d in result.diagnostics if d.code == "RRX601"]
    assert diag.location is not None and diag.location.file.endswith("b.yaml")
    assert "a.yaml:5" in diag.message


def test_validate_needs_no_secret(tmp_path: Path) -> None:
    text = GOOD + '    headers: {X-Api-Key: "${env:NOT_SET_ANYWHERE}"}\n'
    result = load(write(tmp_path, "c.yaml", text), env={})
    assert result.diagnostics == []


def test_to_e164() -> None:
    assert to_e164("8185551234") == "+18185551234"
    assert to_e164("+1 (818) 555-9876") == "+18185559876"
    with pytest.raises(ValueError, match="not a"):
        to_e164("12")
    with pytest.raises(ValueError, match="not a phone number"):
        to_e164("call me")


ALL_AT_ONCE = """\
version: 1
colbacks: []
safety: {protected: [Typo CB, No URL], max_delete_percent: lots}
callbacks:
  - name: Typo CB
    type: sms
    url: "https://hooks.example.com/sms?to={to}"
    bnid: {phone_numbers: ["+18185559876"]}
  - name: Good but wrong token
    type: sms
    url: "https://hooks.example.com/sms?to={caller}"
  - name: Plain http
    type: cdr
    url: "http://hooks.example.com/cdr"
    headers: {Bad Name: x}
  - name: No URL
    type: sms
"""


def test_schema_errors_do_not_hide_other_findings(tmp_path: Path) -> None:
    """One typo must not hide everything else: the valid parts are still linted."""
    result = load(write(tmp_path, "c.yaml", ALL_AT_ONCE), env={})
    found = {(d.code, d.location.line if d.location else 0) for d in result.diagnostics}
    assert ("RRX020", 2) in found  # top-level typo
    assert ("RRX021", 3) in found  # safety.max_delete_percent
    assert ("RRX020", 8) in found  # bnid
    assert ("RRX022", 16) in found  # missing url
    assert ("RRX101", 11) in found  # {caller} on sms, in a valid callback
    assert ("RRX201", 14) in found  # http://
    assert ("RRX301", 15) in found  # header name
    # A callback that cannot be linted is still a callback: its name is not "unknown".
    assert not any(d.code == "RRX603" for d in result.diagnostics)
    assert result.config is None and result.has_errors


def test_invalid_field_dropped_rest_of_callback_linted(tmp_path: Path) -> None:
    text = GOOD.replace("    bind:", "    bnid:").replace("{to}", "{too}")
    result = load(write(tmp_path, "c.yaml", text), env={})
    assert sorted(codes(result)) == ["RRX020", "RRX101"]


def test_duplicate_key_does_not_hide_lint(tmp_path: Path) -> None:
    text = GOOD.replace("type: sms", "type: sms\n    type: sms").replace("{to}", "{too}")
    result = load(write(tmp_path, "c.yaml", text), env={})
    assert sorted(codes(result)) == ["RRX007", "RRX101"]
    assert result.config is None


def test_missing_version_reported_once_and_rest_linted(tmp_path: Path) -> None:
    text = GOOD.replace("version: 1\n", "").replace("{to}", "{too}")
    result = load(write(tmp_path, "c.yaml", text), env={})
    assert sorted(codes(result)) == ["RRX011", "RRX101"]


LOOP_TEMPLATE = """\
{# numbers come from --var-file;
   one callback per site #}
version: 1
{% set sites = ["north",
                "south"] %}
callbacks:
{% for site in sites %}
  - name: "SMS {{ site }}"
    type: sms
    url: "https://{{ site }}.example.com/sms?to={too}"
    headers: {X-Site: "{{ site | upper }}", X-Who: "{caller}"}
{% endfor %}
{%- if extra %}
  - name: Fax
    type: fax
    url: "https://fax.example.com/{pages }"
{% endif %}
"""


def test_template_findings_name_source_lines(tmp_path: Path) -> None:
    """Lines (and columns where they can be exact) are those of the template source."""
    result = load(write(tmp_path, "c.yaml.j2", LOOP_TEMPLATE), {"extra": True}, env={})
    where = sorted(
        {(d.code, d.location.line, d.location.column) for d in result.diagnostics if d.location}
    )
    # Columns after the last substitution of a line are exact; a loop's findings are
    # reported once per source place.
    assert where == [
        ("RRX101", 10, 49),
        ("RRX101", 11, 53),
        ("RRX103", 16, 35),
    ]


def test_template_yaml_error_names_source_line(tmp_path: Path) -> None:
    text = "{% set x = [1,\n 2,\n 3] -%}\nversion: 1\ncallbacks:\n  - name: a\n   type: sms\n"
    result = load(write(tmp_path, "c.yaml", text), env={})
    (diag,) = result.diagnostics
    assert diag.code == "RRX006"
    assert diag.location is not None and diag.location.line == 7


def test_vars_file_in_a_config_directory_is_one_finding(tmp_path: Path) -> None:
    write(tmp_path, "c.yaml", GOOD)
    write(tmp_path, "prod.vars.yaml", "environment: prod\nprefix: ''\nhost: h\n")
    (diag,) = load(tmp_path, env={}).diagnostics
    assert diag.code == "RRX020" and "is it a variables file?" in diag.message
    assert diag.location is not None and diag.location.file.endswith("prod.vars.yaml")
    assert "--var-file" in diag.hint
