"""Map positions in Jinja2 output back to the template source.

Before rendering, :func:`mark` puts invisible markers (private-use characters holding a
source line number) in template *data*, never inside a ``{{ }}``, ``{% %}`` or
``{# #}`` tag: before the first visible character and at the end of each source line.
Data is copied to the output as is, so after rendering an output line's first marker
names the source line it came from: a line of a ``{% for %}`` body names that body line
on every iteration. A line without a marker (made by an expression) belongs to the next
marker. :func:`unmark` strips the markers and builds a :class:`LineMap`.

The loader renders the template twice, with and without markers, and uses the map only
when both outputs agree once the markers are stripped; otherwise (e.g. a filter that
measures or escapes captured text) it falls back to output positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPEN = "\ue000"
_CLOSE = "\ue001"
_MARKER_RE = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_TAG_START_RE = re.compile(r"\{[{%#]")
_RAW_RE = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}\Z")
_ENDRAW_RE = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")


def _marker(line: int) -> str:
    return f"{_OPEN}{line}{_CLOSE}"


def mark(source: str) -> str | None:
    """``source`` with line markers in its template data (see the module docstring).

    Whitespace that a ``-`` modifier (``{%-``, ``-%}``) strips gets no marker inside it:
    a marker there would stop the stripping. Returns None when ``source`` cannot be
    marked safely (it already holds marker characters, a bare CR, an unclosed tag).
    """
    if _OPEN in source or _CLOSE in source or "\r" in source:
        return None
    out: list[str] = []
    line = 1
    pos = 0
    strip_leading = False
    while pos < len(source):
        start = _TAG_START_RE.search(source, pos)
        tag_at = start.start() if start else len(source)
        strip_trailing = start is not None and source.startswith("-", tag_at + 2)
        line = _mark_data(source[pos:tag_at], line, out, strip_leading, strip_trailing)
        if start is None:
            break
        end = source.find(_CLOSERS[start.group()], tag_at + 2)
        if end == -1:
            return None
        tag = source[tag_at : end + 2]
        out.append(tag)
        line += tag.count("\n")
        pos = end + 2
        strip_leading = tag[-3] == "-"
        if _RAW_RE.match(tag):
            endraw = _ENDRAW_RE.search(source, pos)
            if endraw is None:
                return None
            line = _mark_data(source[pos : endraw.start()], line, out, False, False)
            out.append(endraw.group())
            line += endraw.group().count("\n")
            pos = endraw.end()
            strip_leading = endraw.group()[-3] == "-"
    return "".join(out)


def _mark_data(data: str, line: int, out: list[str], lstrip: bool, rstrip: bool) -> int:
    """Append ``data`` with markers to ``out``; return the line number after it."""
    head = tail = ""
    if lstrip:
        body = data.lstrip()
        head, data = data[: len(data) - len(body)], body
    if rstrip:
        body = data.rstrip()
        data, tail = body, data[len(body) :]
    out.append(head)
    line += head.count("\n")
    parts = data.split("\n")
    for i, part in enumerate(parts):
        content = part.lstrip()
        if content:  # a marker before the line's first visible character ...
            out.append(part[: len(part) - len(content)])
            out.append(_marker(line))
            out.append(content)
        else:
            out.append(part)
        if i < len(parts) - 1:  # ... and one at its end, for lines made by expressions
            out.append(_marker(line))
            out.append("\n")
            line += 1
    if tail:
        if "\n" in tail and data:
            out.append(_marker(line))  # the stripped run ends the line of the content
        out.append(tail)
        line += tail.count("\n")
    return line


@dataclass
class LineMap:
    """Output line -> source line (and column, where it can be exact) of one template."""

    source_lines: list[str]
    output_lines: list[str]
    origin: list[int]  # 1-based source line of each output line
    # output line -> (common prefix, common suffix) with its source line: every node of a
    # line asks for it, and comparing the texts again each time dominated template loads
    _common_at: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)

    def line(self, line: int) -> int:
        """The source line of output ``line`` (1-based)."""
        if 1 <= line <= len(self.origin):
            return self.origin[line - 1]
        return line

    def position(self, line: int, column: int) -> tuple[int, int]:
        """The source (line, column) of output (line, column), 1-based.

        Columns in the unchanged text before the first or after the last substitution of a
        line are exact; anything in between maps to where the first substitution starts.
        """
        src_line = self.line(line)
        src, out = self._texts(line, src_line)
        if src == out or column < 1:
            return src_line, column
        found = self._common_at.get(line)
        if found is None:
            found = self._common_at[line] = _common(src, out)
        prefix, suffix = found
        index = column - 1
        if index < prefix:
            return src_line, column
        if len(out) - index <= suffix:
            return src_line, len(src) - (len(out) - index) + 1
        return src_line, prefix + 1

    def _texts(self, line: int, src_line: int) -> tuple[str, str]:
        src = self.source_lines[src_line - 1] if 1 <= src_line <= len(self.source_lines) else ""
        out = self.output_lines[line - 1] if 1 <= line <= len(self.output_lines) else ""
        return src, out


def _common(a: str, b: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix of ``a`` and ``b``."""
    limit = min(len(a), len(b))
    prefix = 0
    while prefix < limit and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def unmark(marked: str, source: str) -> tuple[str, LineMap]:
    """Strip the markers of a rendered ``marked`` text; map its lines to ``source``."""
    origin: list[int] = []
    lines = marked.split("\n")
    pending = 0  # output lines waiting for the next marker
    for text in lines:
        m = _MARKER_RE.search(text)
        if m is None:
            pending += 1
            continue
        origin.extend([int(m.group(1))] * (pending + 1))
        pending = 0
    source_lines = source.split("\n")
    origin.extend([len(source_lines)] * pending)  # after the last marker: the last line
    text = _MARKER_RE.sub("", marked)
    return text, LineMap(source_lines, text.split("\n"), origin)
