"""``--event FILE``: event fields (YAML or JSON mapping) laid over a built-in sample."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ringrx_iac.config.yamlio import SourceMap, YamlLoadError, decode, parse
from ringrx_iac.diagnostics import Location


class EventFileError(Exception):
    """A YAML file (event fields, receiver tests) that cannot be used; ``str()`` starts
    with the file (and line:col)."""


def read_yaml(path: Path, missing_hint: str) -> tuple[Any, SourceMap]:
    """``path`` parsed with positions; problems raise :class:`EventFileError` (file:line:col)."""
    display = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EventFileError(f"{display}: no such file; {missing_hint}") from None
    except OSError as exc:
        raise EventFileError(f"{display}: cannot read it: {exc.strerror}") from None
    try:
        data, sources, problems = parse(decode(raw, display), display)
    except YamlLoadError as exc:
        p = exc.problem
        raise EventFileError(f"{Location(display, p.line, p.column)}: {p.message}") from None
    if problems:
        p = problems[0]
        raise EventFileError(f"{Location(display, p.line, p.column)}: {p.message}")
    return data, sources


def load_fields(path: Path) -> dict[str, Any]:
    """The event fields in ``path``: a mapping of field name to value."""
    display = str(path)
    data, sources = read_yaml(path, "name an existing YAML or JSON file of event fields")
    if not isinstance(data, dict):
        raise EventFileError(
            f"{Location(display, 1, 1)}: an event file is a mapping of event fields, "
            "e.g. 'message: hello' (fields not given keep their sample values)"
        )
    for key in data:
        if not isinstance(key, str):
            raise EventFileError(
                f"{sources.locate_key((key,))}: event field names are strings, not {key!r}"
            )
    return data
