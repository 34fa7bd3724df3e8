"""Secret references: ``${env:NAME}`` and ``${file:PATH}``.

References may appear anywhere inside a header value or a password; ``$${`` writes a
literal ``${`` (``import`` escapes live text that way, so it is never resolved). ``validate`` only
checks their syntax (:func:`check_syntax`); ``plan``/``apply``/``drift`` resolve them late
with :func:`resolve`. No function here ever puts a secret value in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ringrx_iac import redact
from ringrx_iac.config.safefile import MAX_SECRET_BYTES, FileLimitError, read_limited

ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# ``$${`` is an escaped, literal ``${`` (scanned first, so ``$${env:X}`` is no reference).
_TOKEN_RE = re.compile(r"\$\$\{|\$\{(env|file):([^}]*)\}")
_OPENING_RE = re.compile(r"\$\$\{|\$\{")
ESCAPE = "$${"


class SecretError(ValueError):
    """A reference that cannot be resolved; the message names the variable or file."""


@dataclass(frozen=True)
class SecretRef:
    """One well-formed reference inside a value; ``start``/``end`` index the value."""

    kind: Literal["env", "file"]
    target: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"${{{self.kind}:{self.target}}}"


@dataclass(frozen=True)
class SyntaxProblem:
    """A malformed reference: what is wrong and where it starts in the value."""

    message: str
    hint: str
    offset: int


def find_refs(value: str) -> list[SecretRef]:
    """The well-formed references in ``value``, in order (escaped ``$${...}`` is none)."""
    refs: list[SecretRef] = []
    if "${" not in value:
        return refs
    for m in _TOKEN_RE.finditer(value):
        if m.group(0) == ESCAPE:
            continue
        kind, target = m.group(1), m.group(2)
        if (kind == "env" and ENV_NAME_RE.match(target)) or (kind == "file" and target.strip()):
            refs.append(SecretRef(kind, target, m.start(), m.end()))  # type: ignore[arg-type]
    return refs


def is_reference(value: str | None) -> bool:
    """True when ``value`` contains at least one well-formed reference."""
    return bool(value) and bool(find_refs(value or ""))


def escape(text: str) -> str:
    """``text`` with every ``${`` escaped as ``$${``: it stays literal text forever."""
    return text.replace("${", ESCAPE)


def unescape(text: str) -> str:
    """The literal text a value without references stands for (``$${`` -> ``${``)."""
    return _TOKEN_RE.sub(lambda m: "${" if m.group(0) == ESCAPE else m.group(0), text)


def _next_opening(value: str, start: int) -> int:
    """The index of the next ``${`` that is not escaped as ``$${``, or -1."""
    m = _OPENING_RE.search(value, start)
    while m is not None and m.group(0) == ESCAPE:
        m = _OPENING_RE.search(value, m.end())
    return -1 if m is None else m.start()


def check_syntax(value: str) -> list[SyntaxProblem]:
    """Every malformed ``${...}`` in ``value`` (unclosed, unknown kind, bad name)."""
    problems: list[SyntaxProblem] = []
    if "${" not in value:
        return problems
    pos = _next_opening(value, 0)
    while pos != -1:
        close = value.find("}", pos + 2)
        if close == -1:
            problems.append(
                SyntaxProblem(
                    "unclosed secret reference '${'",
                    "close it: ${env:NAME} or ${file:PATH}",
                    pos,
                )
            )
            break
        body = value[pos + 2 : close]
        kind, sep, target = body.partition(":")
        shown = value[pos : close + 1]
        if not sep or kind not in ("env", "file"):
            problems.append(
                SyntaxProblem(
                    f"unknown secret reference {shown!r}",
                    "use ${env:NAME} (environment variable) or ${file:PATH} (file contents)",
                    pos,
                )
            )
        elif kind == "env" and not ENV_NAME_RE.match(target):
            problems.append(
                SyntaxProblem(
                    f"invalid environment variable name in {shown!r}",
                    "names are letters, digits and '_', not starting with a digit: ${env:CRM_KEY}",
                    pos,
                )
            )
        elif kind == "file" and not target.strip():
            problems.append(
                SyntaxProblem(
                    f"empty file path in {shown!r}",
                    "name a file, relative to the config file: ${file:secrets/key.txt}",
                    pos,
                )
            )
        pos = _next_opening(value, close + 1)
    return problems


def resolve(value: str, env: Mapping[str, str], base_dir: Path) -> str:
    """Replace every reference in ``value`` by its secret; raise :class:`SecretError`.

    ``${file:PATH}`` is read relative to ``base_dir`` (the config file's directory). One
    trailing newline (``\n`` or ``\r\n``) of each value is stripped, from files and
    environment variables alike; any other control character is an error. ``$${`` is a
    literal ``${``. Each resolved secret is registered with the run's redactor
    (:mod:`ringrx_iac.redact`), so no output can show it.
    """
    problems = check_syntax(value)
    if problems:
        raise SecretError(problems[0].message)
    out: list[str] = []
    last = 0
    for ref in find_refs(value):
        out.append(unescape(value[last : ref.start]))
        out.append(redact.register(_checked(ref, _resolve_one(ref, env, base_dir))))
        last = ref.end
    out.append(unescape(value[last:]))
    return "".join(out)


_CONTROL_NAMES = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\0": "a NUL byte"}


def _checked(ref: SecretRef, value: str) -> str:
    """``value`` without one trailing newline; any control character left is an error.

    A CR or LF in a header value would inject headers into every request RingRx sends, so
    the value is refused (the message names the reference, never the value).
    """
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    bad = next((ch for ch in value if ord(ch) < 32 or 127 <= ord(ch) < 160), None)
    if bad is not None:
        what = _CONTROL_NAMES.get(bad, f"the control character U+{ord(bad):04X}")
        raise SecretError(
            f"the value of {ref} holds {what}; secrets may not contain control characters "
            "(one trailing newline is removed, nothing else): fix the secret"
        )
    return value


def _resolve_one(ref: SecretRef, env: Mapping[str, str], base_dir: Path) -> str:
    if ref.kind == "env":
        if ref.target not in env:
            raise SecretError(f"environment variable {ref.target} is not set (referenced as {ref})")
        return env[ref.target]
    path = Path(ref.target).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    try:
        text = read_limited(path, MAX_SECRET_BYTES).decode("utf-8")
    except FileLimitError as exc:
        raise SecretError(f"secret file {exc} (referenced as {ref})") from None
    except FileNotFoundError:
        raise SecretError(f"secret file {path} does not exist (referenced as {ref})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(
            f"cannot read secret file {path} (referenced as {ref}): {type(exc).__name__}"
        ) from None
    return text
