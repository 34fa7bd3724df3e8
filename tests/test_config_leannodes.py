"""The lean node classes: the C composer builds them while loading, and nothing else changes."""

from __future__ import annotations

import _ruamel_yaml
import pytest
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ringrx_iac.config import leannodes, yamlio
from ringrx_iac.config.leannodes import LeanMapping, LeanScalar, LeanSequence, lean_nodes
from ringrx_iac.config.yamlio import YamlLoadError, parse

DOC = """\
version: 1
defaults: &d {headers: {X-Source: ringrx}}
callbacks:
  - name: "SMS hook"
    type: sms
    url: https://h.example.com/sms?to={to}
    retries: 3
    ratio: 1.5
    on: yes
    off: false
    none: ~
    tagged: !!str 12
    block: |
      two
      lines
    bind: {phone_numbers: ["+18185559876", 8185551234]}
    <<: *d
  - [a, b]
"""


def test_the_c_composer_builds_the_lean_classes_while_loading() -> None:
    """If ruamel.yaml.clib stops looking its classes up by these names, this fails: the
    loader still works, only slower (see the module docstring)."""
    yaml = yamlio._yaml()
    with lean_nodes():
        root = yaml.compose(DOC)
    assert type(root) is LeanMapping
    callbacks = root.value[2][1]
    assert type(callbacks) is LeanSequence and type(callbacks.value[0].value[0][0]) is LeanScalar
    assert _ruamel_yaml.ScalarNode is ScalarNode  # restored after the block
    assert _ruamel_yaml.SequenceNode is SequenceNode
    assert _ruamel_yaml.MappingNode is MappingNode


def test_loading_gives_the_same_data_positions_and_problems_with_ruamels_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lean = parse(DOC, "f.yaml")
    monkeypatch.setattr(leannodes, "_clib", None)  # no swap: ruamel's own classes
    plain = parse(DOC, "f.yaml")
    assert lean[0] == plain[0]
    assert lean[1].entries == plain[1].entries and lean[1].entries
    assert lean[2] == plain[2]


def test_the_classes_are_restored_when_composing_fails() -> None:
    with pytest.raises(YamlLoadError):
        parse("a: [1, 2\nb: {", "bad.yaml")
    assert _ruamel_yaml.ScalarNode is ScalarNode
    assert _ruamel_yaml.MappingNode is MappingNode
