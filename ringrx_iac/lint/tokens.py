"""Finding ``{token}`` placeholders in URLs and header values.

RingRx replaces ``{name}`` with a field of the event. Secret references (``${env:X}``,
``${file:P}``) are not placeholders and are skipped; their syntax is checked elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A "placeholder" spanning one of these was never closed: "{from&to={to}".
_URL_SEPARATORS = ("&", "?", "/", "=", "#")
_LOOSE_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*\Z")
# The only characters the scanner acts on: everything between them is skipped at once.
_SPECIAL_RE = re.compile(r"[${}]")
# Well-formed placeholders and secret references: when these cover every brace of a text
# (nearly every real URL and header), they are all the scanner would find.
_WELL_FORMED_RE = re.compile(r"\$\{[^{}]*\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Placeholder(NamedTuple):
    """A well-formed ``{name}``; ``start``/``end`` index the text (end exclusive)."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class BraceProblem:
    """A malformed placeholder or an unbalanced brace at ``offset``."""

    kind: Literal["malformed", "unbalanced"]
    text: str
    offset: int
    suggestion: str | None = None  # the well-formed token, when one is evident


def scan(text: str) -> tuple[list[Placeholder], list[BraceProblem]]:
    """All placeholders and brace problems in ``text``, in order."""
    found: list[Placeholder] = []
    problems: list[BraceProblem] = []
    braces = text.count("{") + text.count("}")
    if not braces:
        return found, problems
    matches = list(_WELL_FORMED_RE.finditer(text))
    if 2 * len(matches) == braces:
        found = [Placeholder(m[1], m.start(), m.end()) for m in matches if m[1]]
        return found, problems
    i, n = 0, len(text)
    special = _SPECIAL_RE.search
    while i < n:
        next_special = special(text, i)
        if next_special is None:
            break
        i = next_special.start()
        ch = text[i]
        if ch == "$" and text.startswith("${", i):
            close = text.find("}", i + 2)
            if close == -1:
                return found, problems  # unclosed secret reference: reported as RRX403
            i = close + 1
            continue
        if ch == "}":
            problems.append(BraceProblem("unbalanced", "}", i))
            i += 1
            continue
        if ch != "{":
            i += 1
            continue
        close = text.find("}", i + 1)
        reopen = text.find("{", i + 1)
        if (
            close == -1
            or (reopen != -1 and reopen < close)
            or any(sep in text[i + 1 : close] for sep in _URL_SEPARATORS)
        ):
            problems.append(BraceProblem("unbalanced", "{", i, _guess(text, i)))
            i += 1
            continue
        inner = text[i + 1 : close]
        if _NAME_RE.match(inner):
            found.append(Placeholder(inner, i, close + 1))
        else:
            loose = _LOOSE_RE.match(inner)
            problems.append(
                BraceProblem("malformed", text[i : close + 1], i, loose.group(1) if loose else None)
            )
        i = close + 1
    return found, problems


def _guess(text: str, start: int) -> str | None:
    """For an unclosed ``{name``: the name that follows the brace, if any."""
    m = re.match(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)", text[start:])
    return m.group(1) if m else None
