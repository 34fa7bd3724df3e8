"""Positioned YAML loading: source map, duplicates, alias bombs, encoding."""

from __future__ import annotations

import pytest

from ringrx_iac.config.yamlio import YamlLoadError, decode, parse
from ringrx_iac.diagnostics import Location


def test_source_map_locates_keys_values_and_items() -> None:
    data, sources, problems = parse(
        'version: 1\ncallbacks:\n  - name: "a"\n    bind: {phone_numbers: [x, "y"]}\n', "f.yaml"
    )
    assert problems == []
    assert data["callbacks"][0]["bind"]["phone_numbers"] == ["x", "y"]
    assert sources.locate_key(("callbacks", 0, "name")) == Location("f.yaml", 3, 5)
    # quoted value: the location points past the quote
    assert sources.locate(("callbacks", 0, "name")) == Location("f.yaml", 3, 12)
    assert sources.locate(("callbacks", 0, "bind", "phone_numbers", 1)) == Location("f.yaml", 4, 32)
    # unknown path: nearest ancestor
    assert sources.locate(("callbacks", 0, "bind", "nope")) == Location("f.yaml", 4, 11)
    assert sources.locate_offset(("callbacks", 0, "name"), 0) == Location("f.yaml", 3, 12)


def test_yaml_1_2_scalars() -> None:
    data, _, _ = parse("a: no\nb: yes\nc: true\nd: 1\ne: null\nf: '1'\n", "f")
    assert data == {"a": "no", "b": "yes", "c": True, "d": 1, "e": None, "f": "1"}


def test_every_duplicate_key_is_reported() -> None:
    _, _, problems = parse("a: 1\nb: 2\na: 3\nb: 4\n", "f")
    assert [(p.kind, p.line) for p in problems] == [("duplicate-key", 3), ("duplicate-key", 4)]
    assert "first defined at line 1" in problems[0].message


def _billion_laughs() -> str:
    """Ten levels of nine aliases each: 9**10 nodes once expanded."""
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_rejected() -> None:
    with pytest.raises(YamlLoadError) as err:
        parse(_billion_laughs(), "bomb.yaml")
    assert err.value.problem.kind == "alias-bomb"


def test_billion_laughs_is_rejected_even_if_the_anchor_test_missed_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Skipping the node count (no anchor seen) must never lift the alias bound."""
    monkeypatch.setattr("ringrx_iac.config.yamlio._may_have_anchor", lambda text: False)
    with pytest.raises(YamlLoadError) as err:
        parse(_billion_laughs(), "bomb.yaml")
    assert err.value.problem.kind == "alias-bomb"


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(YamlLoadError) as err:
        parse("a: &a [*a]\n", "f")
    assert err.value.problem.kind == "alias-bomb"


def test_small_aliases_and_merge_keys_work() -> None:
    data, _, _ = parse("h: &h {X-A: b}\nc: {headers: *h}\nd: {<<: *h, X-C: d}\n", "f")
    assert data["c"]["headers"] == {"X-A": "b"}
    assert data["d"] == {"X-A": "b", "X-C": "d"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("a: [1\n", "syntax"),
        ("a: 1\n---\nb: 2\n", "syntax"),
    ],
)
def test_fatal_problems(text: str, kind: str) -> None:
    with pytest.raises(YamlLoadError) as err:
        parse(text, "f")
    assert err.value.problem.kind == kind


def test_malformed_yaml_has_a_position() -> None:
    with pytest.raises(YamlLoadError) as err:
        parse("a:\n  - b\n c: 1\n", "f")
    assert (err.value.problem.line, err.value.problem.column) == (3, 2)


def test_unknown_tag_is_a_problem() -> None:
    _, _, problems = parse("a: !secret x\n", "f")
    assert problems[0].kind == "tag"


def test_non_utf8_names_offset_and_line() -> None:
    with pytest.raises(YamlLoadError) as err:
        decode(b"version: 1\nname: caf\xe9\n", "f")
    problem = err.value.problem
    assert problem.kind == "encoding"
    assert (problem.line, problem.column) == (2, 10)
    assert "offset 20" in problem.message


def test_bom_is_accepted() -> None:
    assert decode(b"\xef\xbb\xbfa: 1\n", "f") == "a: 1\n"
