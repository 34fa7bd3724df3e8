"""Load a configuration: a file or a directory of YAML files -> :class:`LoadResult`.

Each file is read as UTF-8, rendered by Jinja2, parsed with positions, merged with the
other files of its directory and validated by the pydantic models. Every problem becomes a
located :class:`Diagnostic`; nothing here raises on bad input. Loading never lints: the
result carries what the linter reads (:attr:`LoadResult.lintable`) and
:func:`ringrx_iac.validate.validate` runs both.
"""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ringrx_iac.catalog import CALLBACK_TYPES
from ringrx_iac.config import overlay
from ringrx_iac.config.models import Config
from ringrx_iac.config.partial import ValidPart, valid_part
from ringrx_iac.config.safefile import MAX_CONFIG_BYTES, FileLimitError, read_limited
from ringrx_iac.config.template import TemplateError, render_mapped
from ringrx_iac.config.yamlio import KeyPath, SourceMap, YamlLoadError, decode, parse
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.diagnostics.codes import RULES
from ringrx_iac.gcpause import gc_paused

YAML_SUFFIXES = (".yaml", ".yml")
SUPPORTED_VERSIONS = (1,)
_YAML_CODES = {
    "encoding": "RRX003",
    "syntax": "RRX006",
    "tag": "RRX006",
    "duplicate-key": "RRX007",
    "alias-bomb": "RRX008",
    "empty": "RRX009",
}


@dataclass
class Lintable:
    """What the linter reads: a config (maybe only the valid part of one) and its positions.

    ``other_names`` are names of callbacks left out because they failed the schema: they
    still count as callbacks of the configuration for the name checks.
    """

    config: Config
    sources: SourceMap
    other_names: list[str] = field(default_factory=list)


@dataclass
class LoadResult:
    """What :func:`load` found: the config (None on schema errors) and every diagnostic."""

    config: Config | None
    diagnostics: list[Diagnostic]
    sources: SourceMap
    base_dir: Path
    files: list[str] = field(default_factory=list)
    lintable: Lintable | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def has_errors(self) -> bool:
        """True when nothing may touch an account."""
        return any(d.is_error for d in self.diagnostics)

    def add(self, found: list[Diagnostic]) -> None:
        """Add findings (the linter's), keeping the diagnostics sorted and unique."""
        self.diagnostics.extend(found)
        _sort_unique(self.diagnostics)


@dataclass
class _File:
    display: str
    data: dict[str, Any]
    sources: SourceMap


def load(
    path: Path | str,
    variables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    bases: Sequence[Path] = (),
) -> LoadResult:
    """Load and schema-validate the configuration at ``path`` (no lint; see ``validate``).

    ``bases`` are extended before the configuration's own ``extends`` (a fleet account
    listing several config paths: each later one extends the earlier ones).
    """
    with gc_paused():
        return _load(Path(path), variables, env, tuple(bases))


def _load(
    path: Path,
    variables: Mapping[str, Any] | None,
    env: Mapping[str, str] | None,
    bases: tuple[Path, ...] = (),
) -> LoadResult:
    env = os.environ if env is None else env
    diagnostics: list[Diagnostic] = []
    base_dir = path if path.is_dir() else path.parent
    found, sources, files = _read(path, variables, env, diagnostics, (), bases)
    result = LoadResult(None, diagnostics, sources, base_dir, files)
    if found is None:
        return _finish(result)
    merged = found
    load_failed = any(d.is_error for d in diagnostics)
    try:
        config = Config.model_validate(merged)
    except ValidationError as exc:
        # Report every schema error and offer what is valid to the linter, so that one
        # typo does not hide the other findings. The partial config is never handed out.
        diagnostics.extend(_schema_diagnostics(exc, merged, sources))
        result.lintable = _valid_part(merged, exc, sources)
        return _finish(result)
    result.lintable = Lintable(config, sources)
    # After a load or merge error the data is not what the files say: no config then.
    result.config = None if load_failed else config
    return _finish(result)


def _read(
    path: Path,
    variables: Mapping[str, Any] | None,
    env: Mapping[str, str],
    diagnostics: list[Diagnostic],
    chain: tuple[Path, ...],
    bases: tuple[Path, ...] = (),
) -> tuple[dict[str, Any] | None, SourceMap, list[str]]:
    """Read and merge the files at ``path`` and the baselines it extends (see :mod:`.overlay`).

    Returns the merged data (None when a file could not be read), its source map and the
    files read. ``chain`` holds the configurations extending this one (cycle detection).
    """
    sources = SourceMap(root=Location(str(path)))
    files = _discover(path, diagnostics)
    names = [str(f) for f in files]
    loaded = [
        item
        for item in (_load_file(file, variables, env, diagnostics) for file in files)
        if item is not None
    ]
    if not files or len(loaded) != len(files):
        return None, sources, names
    merged = _merge(loaded, sources, diagnostics)
    if bases:
        own = merged.get("extends")
        own_list = own if isinstance(own, list) else [] if own is None else [own]
        merged["extends"] = [str(b.resolve()) for b in bases] + own_list
    if "extends" not in merged:
        return merged, sources, names

    def read_base(
        base: Path, chain: tuple[Path, ...]
    ) -> tuple[dict[str, Any] | None, SourceMap, list[str]]:
        return _read(base, variables, env, diagnostics, chain)

    return overlay.extend(
        (merged, sources), names, (*chain, path.resolve()), read_base, diagnostics
    )


def _valid_part(
    merged: dict[str, Any], exc: ValidationError, sources: SourceMap
) -> Lintable | None:
    """The part of ``merged`` that passes the schema (see :mod:`.partial`), to be linted."""
    part: ValidPart | None = valid_part(merged, exc, SUPPORTED_VERSIONS[0])
    if part is None:  # pragma: no cover
        return None
    return Lintable(part.config, sources.reindexed("callbacks", part.index_map), part.dropped_names)


def _sort_unique(diagnostics: list[Diagnostic]) -> None:
    # A template loop repeats a finding at one source place: report it once.
    diagnostics[:] = sorted(dict.fromkeys(diagnostics), key=_sort_key)


def _finish(result: LoadResult) -> LoadResult:
    _sort_unique(result.diagnostics)
    if result.sources.root.file == "<unknown>" and result.files:
        result.sources.root = Location(result.files[0], 1, 1)
    return result


def _sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    loc = d.location
    return (loc.file, loc.line, loc.column, d.code) if loc else ("", 0, 0, d.code)


def _discover(path: Path, diagnostics: list[Diagnostic]) -> list[Path]:
    if path.is_dir():
        # tests.yaml holds the receiver tests of 'ringrx-iac test', not configuration.
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in YAML_SUFFIXES and p.name != "tests.yaml"
        )
        if not files:
            diagnostics.append(
                RULES["RRX002"].diag(
                    f"directory {path} holds no *.yaml or *.yml files",
                    Location(str(path)),
                )
            )
        return files
    if not path.exists():
        diagnostics.append(
            RULES["RRX001"].diag(f"{path}: no such file or directory", Location(str(path)))
        )
        return []
    return [path]


def _load_file(
    file: Path,
    variables: Mapping[str, Any] | None,
    env: Mapping[str, str],
    diagnostics: list[Diagnostic],
) -> _File | None:
    display = str(file)
    try:
        raw = read_limited(file, MAX_CONFIG_BYTES)
    except FileLimitError as exc:
        diagnostics.append(
            RULES["RRX001"].diag(
                f"cannot be read as configuration: {exc}",
                Location(display),
                "a configuration is one or more regular YAML files of at most 10 MB",
            )
        )
        return None
    except OSError as exc:
        diagnostics.append(
            RULES["RRX001"].diag(f"cannot read {display}: {exc.strerror}", Location(display))
        )
        return None
    try:
        text = decode(raw, display)
        text, positions = render_mapped(text, display, variables, env)
        data, file_sources, problems = parse(text, display, positions)
    except YamlLoadError as exc:
        p = exc.problem
        diagnostics.append(
            RULES[_YAML_CODES.get(p.kind, "RRX006")].diag(
                p.message, Location(display, p.line, p.column), p.hint
            )
        )
        return None
    except TemplateError as exc:
        code = "RRX005" if exc.kind == "undefined" else "RRX004"
        diagnostics.append(
            RULES[code].diag(
                exc.message,
                Location(display, exc.line, exc.column or (1 if exc.line else 0)),
                exc.hint,
            )
        )
        return None
    for p in problems:
        diagnostics.append(
            RULES[_YAML_CODES.get(p.kind, "RRX006")].diag(
                p.message, Location(display, p.line, p.column), p.hint
            )
        )
    if not isinstance(data, dict):
        diagnostics.append(
            RULES["RRX010"].diag(
                f"the top level of {display} is a {_yaml_type(data)}, not a mapping",
                Location(display, 1, 1),
            )
        )
        return None
    return _File(display, data, file_sources)


def _merge(files: list[_File], sources: SourceMap, diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """Merge the files of a directory into one mapping and one source map."""
    merged: dict[str, Any] = {"callbacks": [], "ignore": []}
    allowed = list(Config.model_fields)
    version_at: tuple[Any, Location] | None = None
    section_at: dict[str, Location] = {}
    sources.root = Location(files[0].display, 1, 1)
    for f in files:
        remap: dict[KeyPath, KeyPath] = {}
        if f.data and not any(key in allowed for key in f.data):
            diagnostics.append(_not_a_config(f))
            continue
        for key, value in f.data.items():
            key_loc = f.sources.locate_key((key,))
            if key not in allowed:
                diagnostics.append(_unknown_key(key, allowed, "the top level", key_loc))
                continue
            if key == "version":
                if version_at is None:
                    version_at = (value, f.sources.locate((key,)))
                    merged["version"] = value
                elif value != version_at[0]:
                    diagnostics.append(
                        RULES["RRX012"].diag(
                            f"version {value!r} differs from version {version_at[0]!r} "
                            f"at {version_at[1]}",
                            f.sources.locate((key,)),
                        )
                    )
            elif key in ("callbacks", "ignore"):
                if not isinstance(value, list):
                    if value is None:
                        continue
                    diagnostics.append(
                        RULES["RRX021"].diag(
                            f"{key!r} must be a list, not a {_yaml_type(value)}",
                            f.sources.locate((key,)),
                        )
                    )
                    continue
                offset = len(merged[key])
                for i in range(len(value)):
                    remap[(key, i)] = (key, offset + i)
                merged[key].extend(value)
            else:  # safety, defaults: at most one file
                if key in section_at:
                    diagnostics.append(
                        RULES["RRX013"].diag(
                            f"{key!r} is set here and at {section_at[key]}; "
                            "set it in one file only",
                            key_loc,
                        )
                    )
                    continue
                section_at[key] = key_loc
                merged[key] = value
        sources.update(f.sources, remap)
    if version_at is None:
        diagnostics.append(
            RULES["RRX011"].diag(
                "missing 'version'"
                + (" (in every file of the directory)" if len(files) > 1 else ""),
                Location(files[0].display, 1, 1),
            )
        )
    return merged


def _not_a_config(f: _File) -> Diagnostic:
    """One finding for a file none of whose keys belong to the language (a vars file?)."""
    keys = [str(k) for k in f.data]
    shown = ", ".join(repr(k) for k in keys[:4]) + (", ..." if len(keys) > 4 else "")
    return RULES["RRX020"].diag(
        f"{f.display} has no configuration key at its top level ({shown}); is it a variables file?",
        f.sources.locate_key((next(iter(f.data)),)),
        "pass a variables file with --var-file and keep it out of the configuration "
        f"directory; configuration keys are: {', '.join(Config.model_fields)}",
    )


def _unknown_key(key: Any, allowed: list[str], where: str, loc: Location) -> Diagnostic:
    close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
    return RULES["RRX020"].diag(f"unknown key {key!r} in {where}", loc, hint)


def _schema_diagnostics(
    exc: ValidationError, data: dict[str, Any], sources: SourceMap
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    errors, unions = _split_unions(exc.errors())
    for base, expected in unions.items():
        out.append(
            RULES["RRX021"].diag(
                f"{_describe(base, data)}: expected {expected}", sources.locate(base)
            )
        )
    for err in errors:
        loc: KeyPath = tuple(err["loc"])
        kind = err["type"]
        where = _describe(loc[:-1] if kind in ("extra_forbidden", "missing") else loc, data)
        if kind == "extra_forbidden":
            allowed = list(_model_at(loc[:-1]).model_fields)
            out.append(_unknown_key(loc[-1], allowed, where, sources.locate_key(loc)))
        elif kind == "missing" and loc == ("version",):
            continue  # the merge reports a missing version, naming every file
        elif kind == "missing":
            out.append(
                RULES["RRX022"].diag(
                    f"missing required key {loc[-1]!r} in {where}",
                    sources.locate(loc[:-1]),
                    f"add '{loc[-1]}:'",
                )
            )
        elif loc == ("version",):
            out.append(
                RULES["RRX011"].diag(
                    f"unknown configuration version {err.get('input')!r}; "
                    f"this tool reads version {', '.join(map(str, SUPPORTED_VERSIONS))}",
                    sources.locate(loc),
                )
            )
        elif kind == "literal_error" and len(loc) == 3 and loc[2] == "type":
            value = str(err.get("input"))
            close = difflib.get_close_matches(value, CALLBACK_TYPES, n=1)
            out.append(
                RULES["RRX021"].diag(
                    f"unknown callback type {value!r} in {_describe(loc[:2], data)}",
                    sources.locate(loc),
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"use one of: {', '.join(CALLBACK_TYPES)}",
                )
            )
        else:
            out.append(
                RULES["RRX021"].diag(
                    f"{where}: {_explain(err)}",
                    sources.locate(loc),
                    _type_hint(kind, err.get("input")),
                )
            )
    return out


# Fields that take one of several shapes: one finding saying what is expected, instead of
# pydantic's one error per alternative.
_UNION_FIELDS: dict[KeyPath, str] = {
    ("manage",): "'full', 'no-purge' or a mapping {no-purge: [globs]}",
    ("policy", "require_basic_auth"): "true, false or a list of callback types "
    f"({', '.join(CALLBACK_TYPES)})",
    ("policy", "require_header"): "a header name, or a mapping of callback type to header name",
}


def _split_unions(errors: list[Any]) -> tuple[list[Any], dict[KeyPath, str]]:
    """Errors of the union fields (collapsed to one per field) apart from the others."""
    others: list[Any] = []
    unions: dict[KeyPath, str] = {}
    for err in errors:
        loc = tuple(err["loc"])
        base = next((b for b in _UNION_FIELDS if loc[: len(b)] == b and len(loc) > len(b)), None)
        if base is None:
            others.append(err)
        else:
            unions[base] = _UNION_FIELDS[base]
    return others, unions


def _explain(err: Any) -> str:
    kind = err["type"]
    got = _yaml_type(err.get("input"))
    expected = {
        "string_type": "a string",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
        "bool_type": "true or false",
        "int_type": "a number",
        "float_type": "a number",
    }.get(kind)
    if expected:
        return f"expected {expected}, got {got}"
    return str(err["msg"])


def _type_hint(kind: str, value: Any) -> str:
    if kind == "string_type" and not isinstance(value, list | dict):
        return "quote the value to make it a string"
    if kind == "string_type":
        return f"write one string here, not a {_yaml_type(value)}"
    return RULES["RRX021"].hint


def _yaml_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _describe(loc: KeyPath, data: dict[str, Any]) -> str:
    """A readable place: ``callback 'CRM' (callbacks[0]).bind`` or ``safety.protected[1]``."""
    if not loc:
        return "the top level"
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    if len(loc) >= 2 and loc[0] == "callbacks" and isinstance(loc[1], int):
        items = data.get("callbacks") or []
        item = items[loc[1]] if loc[1] < len(items) else None
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            return f"callback {name!r} ({text})"
    return text


def _model_at(loc: KeyPath) -> type[BaseModel]:
    """The pydantic model that validates the mapping at ``loc``."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        if info is None:
            break
        inner = _find_model(info.annotation)
        if inner is None:
            break
        model = inner
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _find_model(arg)
            if found is not None:
                return found
    return None
