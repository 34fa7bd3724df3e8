"""Template output positions mapped back to the template source."""

from __future__ import annotations

import pytest

from ringrx_iac.config.linemap import mark, unmark
from ringrx_iac.config.template import TemplateError, render, render_mapped


def origins(source: str, **variables: object) -> list[int]:
    out, positions = render_mapped(source, "f", variables)
    assert positions is not None
    assert out == render(source, "f", variables)
    return positions.origin


def test_for_loop_lines_name_the_loop_body() -> None:
    source = "a: 1\n{% for s in xs %}\n- {{ s }}\n{% endfor %}\nb: 2\n"
    # output: "a: 1", "", "- x", "", "- y", "", "b: 2", ""
    assert origins(source, xs=["x", "y"]) == [1, 2, 3, 2, 3, 4, 5, 6]


def test_whitespace_control_is_preserved_and_mapped() -> None:
    source = "a: 1\nl:\n{%- for s in xs %}\n  - {{ s }}\n{%- endfor %}\nb: 2\n"
    out, positions = render_mapped(source, "f", {"xs": ["x", "y"]})
    assert out == "a: 1\nl:\n  - x\n  - y\nb: 2\n"
    assert positions is not None and positions.origin == [1, 2, 4, 4, 6, 7]
    source = "{% if true -%}\n  \na: {{ 1 }}\n{%- endif %}\nb: 2\n"
    out, positions = render_mapped(source, "f")
    assert out == "a: 1\nb: 2\n"
    assert positions is not None and positions.origin[:2] == [3, 5]


def test_columns_exact_outside_substitutions() -> None:
    source = 'url: "https://{{ host }}/sms?to={too}"\n'
    out, positions = render_mapped(source, "f", {"host": "h.example.com"})
    assert positions is not None
    assert positions.position(1, 3) == (1, 3)  # before the substitution
    column = out.index("{too}") + 1
    assert positions.position(1, column) == (1, source.index("{too}") + 1)
    assert positions.position(1, out.index("h.ex") + 3) == (1, source.index("{{") + 1)


def test_multiline_tags_raw_blocks_and_crlf() -> None:
    source = "{% set xs = [1,\n  2] %}\na: {{ xs | length }}\n{% raw %}\nb: {{ x }}\n{% endraw %}\n"
    assert origins(source) == [2, 3, 4, 5, 6, 7]
    assert origins("a: {{ 1 }}\r\nb: 2\r\n") == [1, 2, 3]


def test_unmappable_output_falls_back() -> None:
    # A filter that measures captured text would see the markers: no map then.
    source = "{% set x %}\nab\n{% endset %}\nn: {{ x | length }}\n"
    out, positions = render_mapped(source, "f")
    assert out == "\nn: 4\n" and positions is None
    assert mark("a: \ue000 {{ 1 }}") is None
    assert mark("a: {{ 1 ") is None


def test_unmark_without_markers_maps_to_last_line() -> None:
    text, positions = unmark("x\ny", "a\nb\nc")
    assert text == "x\ny" and positions.origin == [3, 3]


def test_jinja_free_text_has_no_map() -> None:
    assert render_mapped("a: {from}\n", "f") == ("a: {from}\n", None)


def test_undefined_variable_names_its_line_and_column() -> None:
    with pytest.raises(TemplateError) as info:
        render_mapped("a: 1\nb: x{{ nope }}\n", "f")
    assert (info.value.line, info.value.column) == (2, 8)
    with pytest.raises(TemplateError) as info:
        render_mapped("a: 1\n{% for i in [1] %}\nb: {{ env.NOPE }}\n{% endfor %}\n", "f", {}, {})
    assert (info.value.line, info.value.column) == (3, 11)
    assert "rename the variable to RINGRX_VAR_NOPE" in info.value.message
