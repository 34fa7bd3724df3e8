"""Secret references: syntax, detection, late resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringrx_iac.config.secrets import SecretError, check_syntax, find_refs, is_reference, resolve


def test_find_refs_and_is_reference() -> None:
    refs = find_refs("Bearer ${env:CRM_KEY} and ${file:k.txt}")
    assert [(r.kind, r.target) for r in refs] == [("env", "CRM_KEY"), ("file", "k.txt")]
    assert is_reference("${env:X}")
    assert not is_reference("literal")
    assert not is_reference(None)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("${env:}", "invalid environment variable name"),
        ("${env:1X}", "invalid environment variable name"),
        ("${foo:bar}", "unknown secret reference"),
        ("${CRM_KEY}", "unknown secret reference"),
        ("abc ${env:X", "unclosed"),
        ("${file:}", "empty file path"),
    ],
)
def test_malformed_references(value: str, fragment: str) -> None:
    problems = check_syntax(value)
    assert problems and fragment in problems[0].message


def test_wellformed_has_no_problem() -> None:
    assert check_syntax("${env:A}-${file:x/y.txt}") == []
    assert check_syntax("no refs $ here") == []


def test_resolve_env_and_file(tmp_path: Path) -> None:
    (tmp_path / "k.txt").write_text("from-file\n")
    value = resolve("a=${env:A};b=${file:k.txt}", {"A": "from-env"}, tmp_path)
    assert value == "a=from-env;b=from-file"


def test_resolve_errors_name_the_source_not_the_secret(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="CRM_KEY is not set"):
        resolve("${env:CRM_KEY}", {}, tmp_path)
    with pytest.raises(SecretError, match="missing.txt"):
        resolve("${file:missing.txt}", {}, tmp_path)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("ab\r\nX-Evil: 1", "carriage return"),
        ("ab\nX-Evil: 1", "line feed"),
        ("ab\0cd", "NUL"),
        ("ab\x1bcd", "U+001B"),
        ("ab\x7f", "U+007F"),
        ("ab\n\n", "line feed"),
    ],
)
def test_control_characters_in_secrets_are_errors_naming_the_reference(
    tmp_path: Path, value: str, what: str
) -> None:
    with pytest.raises(SecretError) as err:
        resolve("Bearer ${env:K}", {"K": value}, tmp_path)
    assert what in str(err.value) and "${env:K}" in str(err.value)
    assert "ab" not in str(err.value).replace("a carriage", "").replace("a line", "")


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_one_trailing_newline_is_stripped_from_env_and_files(tmp_path: Path, ending: str) -> None:
    (tmp_path / "k.txt").write_bytes(f"from-file{ending}".encode())
    assert resolve("${env:K}|${file:k.txt}", {"K": f"v{ending}"}, tmp_path) == "v|from-file"
