"""Jinja2 rendering of configuration files, before YAML parsing.

``StrictUndefined`` turns a missing variable into an error that names it. Jinja2 only
acts on ``{{ }}``, ``{% %}`` and ``{# #}``, so RingRx's single-brace ``{token}``
placeholders pass through untouched. Files without any Jinja2 marker are returned as is,
so their line and column numbers are exact.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ringrx_iac.config.linemap import LineMap, mark, unmark
from ringrx_iac.config.safefile import MAX_CONFIG_BYTES, FileLimitError, read_limited
from ringrx_iac.config.yamlio import YamlLoadError, YamlProblem, decode, parse

if TYPE_CHECKING:  # jinja2 is imported only when a file holds a marker (cold start)
    import jinja2

_MARKERS = ("{{", "{%", "{#")
#: Only environment variables with this prefix reach templates (as ``env.RINGRX_VAR_X``).
ENV_PREFIX = "RINGRX_VAR_"
_UNSAFE_RE = re.compile(r"attribute '([^']+)'")
_UNDEFINED_RE = re.compile(r"'([^']+)' is undefined")
_NO_ATTR_RE = re.compile(r"has no attribute '([^']+)'")


@dataclass
class TemplateError(Exception):
    """A Jinja2 problem in one file: what, where (1-based line, 0 when unknown), how to fix."""

    kind: str  # "syntax" or "undefined"
    message: str
    hint: str
    line: int = 0
    column: int = 0  # 1-based, 0 when unknown

    def __str__(self) -> str:
        return self.message


class VariableError(ValueError):
    """A bad ``--var`` or ``--var-file``; the message says which and why."""


def needs_rendering(text: str) -> bool:
    """True when ``text`` holds a Jinja2 marker."""
    return any(marker in text for marker in _MARKERS)


def _environment() -> jinja2.Environment:
    import jinja2

    from ringrx_iac.config.sandbox import BoundedSandbox

    return BoundedSandbox(
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


@functools.lru_cache(maxsize=64)
def _compile(text: str) -> jinja2.Template:
    """The compiled template of ``text``, kept: a fleet renders one baseline once per
    account with other variables, and compiling cost more than rendering and parsing."""
    return _environment().from_string(text)


def render(
    text: str,
    filename: str,
    variables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Render ``text`` with ``variables`` and ``env``; raise :class:`TemplateError`."""
    if not needs_rendering(text):
        return text
    return _render(text, _context(variables, env))


def render_mapped(
    text: str,
    filename: str,
    variables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, LineMap | None]:
    """As :func:`render`, plus a map from output to source positions.

    The map is None when ``text`` has no Jinja2 marker (positions are exact as they are)
    or when the output could not be mapped reliably (see :mod:`.linemap`).
    """
    if not needs_rendering(text):
        return text, None
    context = _context(variables, env)
    output = _render(text, context)
    source = text.replace("\r\n", "\n")
    marked = mark(source)
    if marked is None:
        return output, None
    try:
        stripped, positions = unmark(_render(marked, context), source)
    except TemplateError:
        return output, None
    return (output, positions) if stripped == output else (output, None)


def template_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """The environment variables templates see: those named ``RINGRX_VAR_*``, full names."""
    return {k: v for k, v in (env or {}).items() if k.startswith(ENV_PREFIX)}


def _context(variables: Mapping[str, Any] | None, env: Mapping[str, str] | None) -> dict[str, Any]:
    context: dict[str, Any] = dict(variables or {})
    context.setdefault("env", template_env(env))
    return context


def _render(text: str, context: dict[str, Any]) -> str:
    import jinja2
    from jinja2.sandbox import SecurityError

    from ringrx_iac.config.sandbox import TemplateLimitError, render_bounded

    try:
        template = _compile(text)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            "syntax",
            f"template syntax error: {exc.message}",
            "check the {{ }} / {% %} tags near this line",
            exc.lineno or 0,
        ) from None
    try:
        return render_bounded(template, context)
    except jinja2.UndefinedError as exc:
        raise _undefined_error(exc, text) from None
    except SecurityError as exc:
        raise _unsafe_error(exc, text) from None
    except TemplateLimitError as exc:
        raise TemplateError(
            "syntax",
            f"template stopped: {exc}",
            "templates only fill in values; keep loops and repetitions small",
            _template_line(exc),
        ) from None
    except MemoryError:
        raise TemplateError(
            "syntax",
            "template stopped: it ran out of memory",
            "templates only fill in values; keep loops and repetitions small",
        ) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(
            "syntax", f"template error: {exc}", "check the template", _template_line(exc)
        ) from None
    except Exception as exc:  # errors raised by expressions, e.g. a bad filter argument
        raise TemplateError(
            "syntax",
            f"template error: {type(exc).__name__}: {exc}",
            "check the template expression near this line",
            _template_line(exc),
        ) from None


def _unsafe_error(exc: Exception, source: str) -> TemplateError:
    """Reaching Python internals from a template: located, nothing ran."""
    line = _template_line(exc)
    m = _UNSAFE_RE.search(str(exc))
    column = _column_of(m.group(1), source, line) if m else 0
    return TemplateError(
        "syntax",
        f"template blocked: {exc} (templates run in a sandbox)",
        "templates may use variables, filters and tests only, never Python internals",
        line,
        column,
    )


def _undefined_error(exc: jinja2.UndefinedError, source: str) -> TemplateError:
    text = str(exc)
    line = _template_line(exc)
    m = _UNDEFINED_RE.search(text)
    if m:
        name = m.group(1)
        return TemplateError(
            "undefined",
            f"undefined template variable {name!r}",
            f"pass it with --var {name}=VALUE or define it in a --var-file",
            line,
            _column_of(name, source, line),
        )
    m = _NO_ATTR_RE.search(text)
    if m:
        name = m.group(1)
        lines = source.splitlines()
        here = lines[line - 1] if 1 <= line <= len(lines) else ""
        on_env = any(f"env{s}" in here for s in (f".{name}", f"['{name}']", f'["{name}"]'))
        if on_env:
            return _env_error(name, line, _column_of(name, source, line))
        return TemplateError(
            "undefined",
            f"undefined template value {name!r} ({text})",
            f"check the name {name!r}, or define it with --var or --var-file",
            line,
            _column_of(name, source, line),
        )
    return TemplateError("undefined", f"undefined template value: {text}", "define it", line)


def _env_error(name: str, line: int, column: int) -> TemplateError:
    """``env.NAME`` that templates do not see: unset, or not named ``RINGRX_VAR_*``."""
    if name.startswith(ENV_PREFIX):
        message = f"environment variable {name} is not set (used as env.{name})"
        hint = f"set {name}, or use env.get('{name}', 'default')"
    else:
        short = name.lower()
        message = (
            f"env.{name} is undefined: templates see only environment variables named "
            f"{ENV_PREFIX}*: rename the variable to {ENV_PREFIX}{name} and write "
            f"env.{ENV_PREFIX}{name}, or pass it with --var {short}=VALUE and write "
            f"{{{{ {short} }}}}"
        )
        hint = (
            "secrets never go through templates: write ${env:NAME} in a header value or "
            "password instead; it is resolved late and always masked"
        )
    return TemplateError("undefined", message, hint, line, column)


def _column_of(name: str, source: str, line: int) -> int:
    """The 1-based column of the first ``name`` used in a tag on ``line``, else 0."""
    lines = source.splitlines()
    if not 1 <= line <= len(lines):
        return 0
    text = lines[line - 1]
    for tag in re.finditer(r"\{[{%].*?(?:[}%]\}|$)", text):
        word = re.search(rf"(?<![\w.]){re.escape(name)}\b|\.{re.escape(name)}\b", tag.group())
        if word:
            return tag.start() + word.start() + (2 if word.group().startswith(".") else 1)
    return 0


def _template_line(exc: BaseException) -> int:
    """The template line of the innermost frame Jinja2 attributes to the template."""
    line = 0
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == "<template>" and frame.lineno:
            line = frame.lineno
    return line


def parse_var(option: str) -> tuple[str, Any]:
    """``KEY=VALUE`` -> (key, value); the value is read as a YAML scalar when it is one."""
    key, sep, raw = option.partition("=")
    key = key.strip()
    if not sep or not key:
        raise VariableError(f"--var {option!r}: expected KEY=VALUE")
    if not key.isidentifier():
        raise VariableError(f"--var {option!r}: {key!r} is not a valid variable name")
    return key, _scalar(raw)


def _scalar(raw: str) -> Any:
    if raw == "":
        return ""
    try:
        value = YAML(typ="safe", pure=True).load(raw)
    except YAMLError:
        return raw
    if isinstance(value, bool | int | float) or value is None:
        return value if value is not None else raw
    return raw


def load_var_file(path: Path) -> dict[str, Any]:
    """Read a ``--var-file``: a YAML mapping of variables (read like a config file)."""
    try:
        raw = read_limited(path, MAX_CONFIG_BYTES)
    except FileLimitError as exc:
        raise VariableError(f"--var-file {exc}") from None
    except FileNotFoundError:
        raise VariableError(f"--var-file {path}: no such file") from None
    except OSError as exc:
        raise VariableError(f"--var-file {path}: cannot read it ({exc.strerror})") from None
    try:
        data, _, problems = parse(decode(raw, str(path)), str(path))
    except YamlLoadError as exc:
        if exc.problem.kind == "empty":
            return {}
        raise _var_file_error(path, exc.problem) from None
    if problems:
        raise _var_file_error(path, problems[0])
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise VariableError(f"--var-file {path}: expected a mapping of variable names to values")
    return {str(k): v for k, v in data.items()}


def _var_file_error(path: Path, problem: YamlProblem) -> VariableError:
    where = f"{path}:{problem.line}:{problem.column or 1}" if problem.line else str(path)
    return VariableError(f"--var-file {where}: {problem.message} ({problem.hint})")


def collect_variables(
    options: Iterable[str] = (), var_files: Iterable[str | Path] = ()
) -> dict[str, Any]:
    """Merge ``--var-file`` mappings (later wins) and then ``--var`` values (win over files)."""
    variables: dict[str, Any] = {}
    for file in var_files:
        variables.update(load_var_file(Path(file)))
    for option in options:
        key, value = parse_var(option)
        variables[key] = value
    return variables
