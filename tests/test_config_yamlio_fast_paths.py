"""The loader's fast paths give exactly the answers of the plain (slow) ways they replace."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.resolver import VersionedResolver

from ringrx_iac.config import yamlio
from ringrx_iac.config.yamlio import parse

# The plain forms of the pre-checks, as first written.
_ANCHOR = re.compile(r"(?<![^\s\[{,:\ufeff])&")


def _deepest(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest


def _nests_deeply(text: str) -> bool:
    block = re.compile(r"^[ \t]*(?:[-?][ \t]+){200}", re.MULTILINE)
    return _deepest(text) > 1000 or block.search(text) is not None


_TEXT = st.text(alphabet="&a \n\t[{,:}]\ufeff-?é", max_size=40)


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_the_anchor_pre_check_matches_the_plain_regex(text: str) -> None:
    assert yamlio._may_have_anchor(text) == (_ANCHOR.search(text) is not None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["[", "]", "{", "}", "{}", "[]", "a", "é"]), max_size=60),
    st.integers(0, 3),
)
def test_the_nesting_pre_check_matches_the_plain_count(parts: list[str], extra: int) -> None:
    # Around the bound: 998..1001 levels, with adjacent pairs and stray closers inside.
    depth = 998 + extra
    text = "[" * depth + "".join(parts) + "]" * depth
    assert yamlio._may_nest_deeply(text) == _nests_deeply(text)
    assert yamlio._deepest(text) == _deepest(text)


def test_the_compact_nesting_check_still_finds_a_deep_line() -> None:
    deep = "a:\n  " + "- " * 201 + "x\n"
    shallow = "a:\n  " + "- " * 199 + "x\n" + "b: " + "y" * 500 + "\n"
    assert yamlio._may_nest_deeply(deep) and _nests_deeply(deep)
    assert not yamlio._may_nest_deeply(shallow) and not _nests_deeply(shallow)


_SCALARS = [
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "False",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "0",
    "-1",
    "+1",
    "0o17",
    "017",
    "0x1F",
    "0b101",
    "1_000",
    "1.5",
    "-.5",
    ".inf",
    "-.Inf",
    ".nan",
    "1e3",
    "6.02e+23",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "=",
    "<<",
    "+18182000000",
    "cb-00001",
    "https://a.example/x?y={to}",
    "12:30:45",
    "0.",
    "1__0",
] + [""]


def test_the_resolver_answers_as_ruamels() -> None:
    """Same tag for every scalar, plain or quoted, and one shared Tag per answer."""
    ours = yamlio._yaml().resolver
    plain = YAML(typ="safe", pure=True).resolver
    assert isinstance(plain, VersionedResolver)
    for value in _SCALARS:
        for implicit in ((True, False), (False, True)):
            got = ours.resolve(ScalarNode, value, implicit)
            want = plain.resolve(ScalarNode, value, implicit)
            assert str(got) == str(want), (value, implicit)
            assert got is ours.resolve(ScalarNode, value, implicit)
    assert str(ours.resolve(MappingNode, None, (True, False))) == "tag:yaml.org,2002:map"
    assert str(ours.resolve(SequenceNode, None, (True, False))) == "tag:yaml.org,2002:seq"


def test_values_load_as_with_ruamels_safe_loader() -> None:
    values = [v or "''" for v in _SCALARS if v not in ("<<", "=")]  # merge key, "value" tag
    text = "".join(f"k{i}: {v}\n" for i, v in enumerate(values))
    text += "q: '0x1F'\nr: \"yes\"\ns: !!str 12\n"
    data, _, problems = parse(text, "f")
    assert problems == []
    want = YAML(typ="safe", pure=True).load(text)
    for key, value in want.items():
        if isinstance(value, float) and value != value:  # nan
            assert data[key] != data[key]
            continue
        assert data[key] == value and type(data[key]) is type(value), key
