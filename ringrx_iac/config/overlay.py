"""Baselines and overlays: ``extends:`` and ``override: true``.

A configuration may extend shared files: ``extends: ../baseline/`` (or a list, applied in
order; paths relative to the file that says ``extends``). Each layer is merged onto the
one before it:

- ``callbacks``: the base's first, then the overlay's. A name defined in both is an error
  naming both places, unless the overlay's callback says ``override: true``: then it
  replaces the base's.
- ``ignore`` and ``safety.protected``: the base's plus the overlay's.
- ``safety`` (other keys), ``defaults.headers`` and any other section (``policy``,
  ``manage``...): the overlay's value wins, key by key for mappings.
- ``version``: must agree.

Every path of the result keeps its source position (a base callback is reported in the
base file), so diagnostics stay exact across layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ringrx_iac.config.yamlio import KeyPath, SourceMap
from ringrx_iac.diagnostics import Diagnostic, Location
from ringrx_iac.diagnostics.codes import RULES

Layer = tuple[dict[str, Any], SourceMap]
# Reads a base: (path, chain of configurations being extended) -> (data | None, sources, files)
Reader = Callable[[Path, tuple[Path, ...]], tuple[dict[str, Any] | None, SourceMap, list[str]]]


def extend(
    top: Layer,
    files: list[str],
    chain: tuple[Path, ...],
    read: Reader,
    diagnostics: list[Diagnostic],
) -> tuple[dict[str, Any] | None, SourceMap, list[str]]:
    """Resolve ``top``'s ``extends`` (removed from it) and merge the layers onto one."""
    data, sources = top
    value = data.pop("extends")
    where = sources.locate(("extends",))
    refs = _refs(value, where, sources, diagnostics)
    if refs is None:
        return None, sources, files
    declared_in = Path(where.file).parent if where.line else Path(where.file)
    acc: Layer | None = None
    all_files: list[str] = []
    for ref, ref_loc in refs:
        base = Path(os.path.normpath(declared_in / ref))
        if base.resolve() in chain:
            diagnostics.append(
                RULES["RRX031"].diag(
                    f"extends {ref!r} makes a cycle: {base} already extends this configuration",
                    ref_loc,
                )
            )
            return None, sources, files
        if not base.exists():
            diagnostics.append(
                RULES["RRX030"].diag(f"extends {ref!r}: {base} does not exist", ref_loc)
            )
            return None, sources, files
        base_data, base_sources, base_files = read(base, chain)
        all_files.extend(f for f in base_files if f not in all_files)
        if base_data is None:
            return None, sources, files
        layer = (base_data, base_sources)
        acc = layer if acc is None else merge_layers(acc, layer, diagnostics)
    assert acc is not None
    merged, merged_sources = merge_layers(acc, (data, sources), diagnostics)
    return merged, merged_sources, all_files + [f for f in files if f not in all_files]


def _refs(
    value: Any, where: Location, sources: SourceMap, diagnostics: list[Diagnostic]
) -> list[tuple[str, Location]] | None:
    """The base paths of an ``extends`` value, each with its position."""
    if isinstance(value, str) and value.strip():
        return [(value, where)]
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return [(v, sources.locate(("extends", i))) for i, v in enumerate(value)]
    diagnostics.append(
        RULES["RRX021"].diag(
            "'extends' must be a path or a list of paths (files or directories)",
            where,
            "e.g. extends: ../baseline/",
        )
    )
    return None


def merge_layers(base: Layer, top: Layer, diagnostics: list[Diagnostic]) -> Layer:
    """``top`` merged onto ``base`` by the rules of this module."""
    bdata, bsrc = base
    tdata, tsrc = top
    out: dict[str, Any] = {}
    moves: list[tuple[SourceMap, dict[KeyPath, KeyPath | None]]] = [(bsrc, {}), (tsrc, {})]
    _version(bdata, bsrc, tdata, tsrc, out, diagnostics)
    _concat("ignore", bdata, tdata, out, moves)
    _mapping("safety", bdata, tdata, out, moves, concat="protected")
    _mapping("defaults", bdata, tdata, out, moves, merge="headers")
    out["callbacks"] = _callbacks(bdata, bsrc, tdata, tsrc, moves, diagnostics)
    for key in [*bdata, *(k for k in tdata if k not in bdata)]:
        if key not in out and key != "extends":
            _mapping(key, bdata, tdata, out, moves)  # policy, manage, ...: the overlay wins
    sources = SourceMap(root=tsrc.root)
    for src, remap in moves:
        sources.update(_moved(src, remap))
    return out, sources


def _version(
    bdata: dict[str, Any],
    bsrc: SourceMap,
    tdata: dict[str, Any],
    tsrc: SourceMap,
    out: dict[str, Any],
    diagnostics: list[Diagnostic],
) -> None:
    if "version" in bdata and "version" in tdata and bdata["version"] != tdata["version"]:
        diagnostics.append(
            RULES["RRX012"].diag(
                f"version {tdata['version']!r} differs from version {bdata['version']!r} "
                f"of the configuration it extends, at {bsrc.locate(('version',))}",
                tsrc.locate(("version",)),
            )
        )
    if "version" in tdata or "version" in bdata:
        out["version"] = tdata.get("version", bdata.get("version"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _concat(
    key: str,
    bdata: dict[str, Any],
    tdata: dict[str, Any],
    out: dict[str, Any],
    moves: list[tuple[SourceMap, dict[KeyPath, KeyPath | None]]],
    prefix: KeyPath = (),
) -> None:
    """``out[key]`` = the base's list then the overlay's (positions shifted)."""
    base, top = bdata.get(key), tdata.get(key)
    if base is None and top is None:
        return
    if not isinstance(base, list) or not isinstance(top, list):
        out[key] = top if top is not None else base  # a wrong type: the schema reports it
        return
    out[key] = base + top
    for i in range(len(top)):
        moves[1][1][(*prefix, key, i)] = (*prefix, key, len(base) + i)


def _mapping(
    key: str,
    bdata: dict[str, Any],
    tdata: dict[str, Any],
    out: dict[str, Any],
    moves: list[tuple[SourceMap, dict[KeyPath, KeyPath | None]]],
    *,
    concat: str | None = None,
    merge: str | None = None,
) -> None:
    """``out[key]`` = the base's mapping updated by the overlay's (one list concatenated,
    one sub-mapping merged key by key)."""
    base, top = bdata.get(key), tdata.get(key)
    if key not in bdata and key not in tdata:
        return
    if not isinstance(base, dict) or not isinstance(top, dict):
        out[key] = top if key in tdata else base
        return
    value = {**base, **top}
    if concat is not None:
        _concat(concat, base, top, value, moves, (key,))
    if merge is not None and isinstance(base.get(merge), dict) and isinstance(top.get(merge), dict):
        value[merge] = {**base[merge], **top[merge]}
    out[key] = value


def _callbacks(
    bdata: dict[str, Any],
    bsrc: SourceMap,
    tdata: dict[str, Any],
    tsrc: SourceMap,
    moves: list[tuple[SourceMap, dict[KeyPath, KeyPath | None]]],
    diagnostics: list[Diagnostic],
) -> list[Any]:
    base, top = _as_list(bdata.get("callbacks")), _as_list(tdata.get("callbacks"))
    top_names = {_name(cb): j for j, cb in enumerate(top) if _name(cb) is not None}
    matched: set[int] = set()
    kept: list[Any] = []
    for i, cb in enumerate(base):
        j = top_names.get(_name(cb))
        if j is None:
            moves[0][1][("callbacks", i)] = ("callbacks", len(kept))
            kept.append(cb)
            continue
        matched.add(j)
        moves[0][1][("callbacks", i)] = None
        if top[j].get("override") is not True:
            diagnostics.append(
                RULES["RRX032"].diag(
                    f"callback {_name(cb)!r} is defined here and in the configuration it "
                    f"extends, at {bsrc.locate(('callbacks', i))}",
                    tsrc.locate(("callbacks", j)),
                )
            )
    for j, cb in enumerate(top):
        moves[1][1][("callbacks", j)] = ("callbacks", len(kept) + j)
        if isinstance(cb, dict) and cb.get("override") is True and j not in matched:
            diagnostics.append(
                RULES["RRX033"].diag(
                    f"callback {_name(cb)!r} says 'override: true' but the configuration it "
                    "extends has no callback of that name",
                    tsrc.locate_key(("callbacks", j, "override")),
                )
            )
    return kept + top


def _name(cb: Any) -> Any:
    return cb.get("name") if isinstance(cb, dict) else None


def _moved(src: SourceMap, remap: dict[KeyPath, KeyPath | None]) -> SourceMap:
    """A copy of ``src`` whose paths under a key of ``remap`` are re-rooted (None: dropped)."""
    if not remap:
        return src

    def move(path: KeyPath) -> KeyPath | None:
        for n in (3, 2):
            if len(path) >= n and path[:n] in remap:
                new = remap[path[:n]]
                return None if new is None else new + path[n:]
        return path

    return src.moved(move)
