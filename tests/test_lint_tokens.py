"""Placeholder scanning."""

from __future__ import annotations

from ringrx_iac.lint.tokens import scan


def test_wellformed_tokens() -> None:
    found, problems = scan("https://x/{id}?from={from}")
    assert [(p.name, p.start, p.end) for p in found] == [("id", 10, 14), ("from", 20, 26)]
    assert problems == []


def test_malformed_and_suggestion() -> None:
    _, problems = scan("a={ from }&p={pages }&z={}&w={a-b}")
    assert [(p.kind, p.suggestion) for p in problems] == [
        ("malformed", "from"),
        ("malformed", "pages"),
        ("malformed", None),
        ("malformed", None),
    ]


def test_unbalanced() -> None:
    _, problems = scan("a={from&b=}")
    assert [(p.kind, p.text, p.offset) for p in problems] == [
        ("unbalanced", "{", 2),
        ("unbalanced", "}", 10),
    ]


def test_secret_references_are_not_placeholders() -> None:
    found, problems = scan("Bearer ${env:TOKEN} {id}")
    assert [p.name for p in found] == ["id"]
    assert problems == []
