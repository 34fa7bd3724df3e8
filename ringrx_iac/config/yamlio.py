"""YAML loading with source positions.

Files are composed into YAML nodes (ruamel.yaml, with its C parser when
``ruamel.yaml.clib`` is installed) and turned into plain Python values by our own small
constructor, which records a :class:`SourceMap` entry (1-based line/column) for every
mapping key, mapping value and sequence item. Composing is used rather than ruamel's
round-trip loader for speed: the round-trip loader took 4.5 s on a 5,000-callback file,
the composer with the C parser about 0.5 s (see ``bench/bench_validate.py``).

The constructor also finds every duplicate key, bounds alias expansion (a "billion
laughs" document is rejected quickly), rejects recursive aliases and unknown tags, and
resolves plain scalars by the YAML 1.2 core schema (so ``no`` stays a string).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tag import Tag

from ringrx_iac.config.leannodes import RUAMEL_CLASS, LeanScalar, lean_nodes
from ringrx_iac.config.linemap import LineMap
from ringrx_iac.diagnostics import Location

KeyPath = tuple[Any, ...]
Pos = tuple[str, int, int]  # (file, line, column), 1-based
# Where a mapping entry or sequence item is: (file, key line, key column, value line,
# value column, inline), 1-based (an item's "key" is its value). ``inline``: the value is a
# single-line plain or quoted scalar, whose characters map one-to-one onto columns, so
# ``locate_offset`` can point inside it. Positions are in the text parsed (for a rendered
# template, its output: see ``SourceMap.linemaps``); a Location is made only when asked for.
Entry = tuple[str, int, int, int, int, bool]

_STR = "tag:yaml.org,2002:str"
_STR_TAG = VersionedResolver.DEFAULT_SCALAR_TAG  # shared by every string node (see below)
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_MERGE = "tag:yaml.org,2002:merge"
_SUPPORTED_TAGS = {
    _STR,
    _NULL,
    _BOOL,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}

# Alias expansion is bounded: at most this many nodes plus 4x the document's own nodes.
ALIAS_EXPANSION_SLACK = 10_000
ALIAS_EXPANSION_FACTOR = 4


@dataclass
class YamlProblem:
    """A problem found while reading YAML: ``kind`` selects the lint code."""

    kind: str  # "encoding", "syntax", "duplicate-key", "alias-bomb", "empty", "not-mapping", "tag"
    message: str
    hint: str
    line: int = 0
    column: int = 0


class YamlLoadError(Exception):
    """A fatal problem: the file cannot be turned into data."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class SourceMap:
    """Where each path of the loaded data came from.

    Paths are tuples of mapping keys and sequence indexes, e.g.
    ``("callbacks", 3, "bind", "phone_numbers", 0)``.
    """

    root: Location = field(default_factory=lambda: Location("<unknown>"))
    # One plain tuple per path (a 20,000-callback file has 240,000 of them, and most runs
    # never report one): see :data:`Entry`.
    entries: dict[KeyPath, Entry] = field(default_factory=dict)
    # Files rendered from a template: their entries hold positions in the rendered text,
    # mapped back to the template through its line map only when one is asked for.
    linemaps: dict[str, LineMap] = field(default_factory=dict)

    def location(self, file: str, line: int, column: int) -> Location:
        """The source Location of a position as an entry holds it."""
        linemap = self.linemaps.get(file)
        if linemap is None:
            return Location(file, line, column)
        return Location(file, *linemap.position(line, column))

    def locate(self, path: KeyPath) -> Location:
        """The value at ``path``, else the nearest known ancestor."""
        entries = self.entries
        for i in range(len(path), 0, -1):
            entry = entries.get(path[:i])
            if entry is not None:
                return self.location(entry[0], entry[3], entry[4])
        return self.root

    def locate_key(self, path: KeyPath) -> Location:
        """The key at ``path`` (for mapping entries), else as :meth:`locate`."""
        entry = self.entries.get(path)
        return self.locate(path) if entry is None else self.location(*entry[:3])

    def locate_offset(self, path: KeyPath, offset: int) -> Location:
        """Character ``offset`` inside the string value at ``path`` when it can be exact."""
        entry = self.entries.get(path)
        if entry is not None and entry[5] and entry[3]:
            return self.location(entry[0], entry[3], entry[4] + offset)
        return self.locate(path)

    def moved(self, move: Callable[[KeyPath], KeyPath | None]) -> SourceMap:
        """A copy whose every path ``p`` becomes ``move(p)`` (None: dropped)."""
        out = SourceMap(root=self.root, linemaps=dict(self.linemaps))
        for path, entry in self.entries.items():
            new = move(path)
            if new is not None:
                out.entries[new] = entry
        return out

    def reindexed(self, section: str, mapping: dict[int, int]) -> SourceMap:
        """A copy where ``(section, old)`` paths become ``(section, mapping[old])``.

        Paths under an index missing from ``mapping`` are dropped.
        """
        return self.moved(lambda path: _reindex(path, section, mapping))

    def update(self, other: SourceMap, remap: dict[KeyPath, KeyPath] | None = None) -> None:
        """Add ``other``'s entries; a path starting with a key of ``remap`` is re-rooted."""
        remap = {k: v for k, v in (remap or {}).items() if k != v}
        if remap:
            other = other.moved(lambda path: _remap(path, remap))
        self.entries.update(other.entries)
        self.linemaps.update(other.linemaps)


def _reindex(path: KeyPath, section: str, mapping: dict[int, int]) -> KeyPath | None:
    if len(path) >= 2 and path[0] == section and isinstance(path[1], int):
        new = mapping.get(path[1])
        return None if new is None else (section, new) + path[2:]
    return path


def _remap(path: KeyPath, remap: dict[KeyPath, KeyPath] | None) -> KeyPath:
    if remap and len(path) >= 2:
        new = remap.get(path[:2])
        if new is not None:
            return new + path[2:]
    return path


def decode(data: bytes, filename: str) -> str:
    """UTF-8 text of ``data`` (a BOM is dropped); raise :class:`YamlLoadError` otherwise."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlLoadError(
            YamlProblem(
                "encoding",
                f"file is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}",
                "save the file as UTF-8",
                line,
                column,
            )
        ) from None


class _CachedResolver(VersionedResolver):
    """ruamel's resolver, made cheap per scalar (the same answers, about 3x faster).

    ruamel re-derives the YAML version for every scalar and builds a new ``Tag`` for every
    node; here the version's table is looked up once per document, a scalar whose first
    character starts no implicit type is a string at once, and every answer is one shared
    ``Tag`` per tag, so the builder can compare tags by identity.
    """

    _cached: Any = None
    _shared: dict[str, Tag] = {_STR: _STR_TAG}

    @property
    def versioned_resolver(self) -> Any:
        if self._cached is None:
            self._cached = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return self._cached

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        kind = RUAMEL_CLASS.get(kind, kind)
        if self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        if kind is not ScalarNode:
            return self.DEFAULT_MAPPING_TAG if kind is MappingNode else self.DEFAULT_SEQUENCE_TAG
        if implicit[0]:
            table = self._cached or self.versioned_resolver
            resolvers = table.get(value[:1], [])
            if None in table:  # resolvers for any first character (none in YAML 1.2)
                resolvers = resolvers + table[None]
            for tag, regexp in resolvers:
                if regexp.match(value):
                    shared = self._shared.get(tag)
                    if shared is None:
                        shared = self._shared[tag] = Tag(suffix=tag)
                    return shared
        return self.DEFAULT_SCALAR_TAG


# libyaml (the C parser) recurses on the C stack and crashes the process on deep nesting
# (about 30,000 levels), and building Python data from far fewer levels already hits the
# recursion limit: a document nesting over 1,000 flow or 200 compact levels is refused
# before it is parsed.
_DEEP_FLOW = 1000
_DEEP_BLOCK = 200
_DEEP_BLOCK_RE = re.compile(rf"^[ \t]*(?:[-?][ \t]+){{{_DEEP_BLOCK}}}", re.MULTILINE)
_FLOW_ONLY = str.maketrans({c: None for c in map(chr, range(128)) if c not in "[]{}"})


def _may_nest_deeply(text: str) -> bool:
    """True when ``text`` may nest over :data:`_DEEP_FLOW` flow or 200 compact levels."""
    if text.count("[") + text.count("{") > _DEEP_FLOW:
        flow = text.translate(_FLOW_ONLY)
        # Removing the adjacent pairs ("{}" of a URL token) lowers the deepest level by at
        # most one per pass: count on the short string first, exactly only when it is close.
        short = flow.replace("{}", "").replace("[]", "")
        if _deepest(short) + 2 > _DEEP_FLOW and _deepest(flow) > _DEEP_FLOW:
            return True
    # A line nesting 200 compact levels ("- - - ...") is at least 400 characters long.
    if max(map(len, text.split("\n"))) < 2 * _DEEP_BLOCK:
        return False
    return _DEEP_BLOCK_RE.search(text) is not None


def _deepest(flow: str) -> int:
    """The deepest bracket nesting in ``flow`` (a stray closer never goes below 0)."""
    depth = deepest = 0
    for ch in flow:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "]}" and depth:  # (non-ASCII characters are left in the string)
            depth -= 1
    return deepest


def _yaml() -> YAML:
    try:
        yaml = YAML(typ="safe", pure=False)
    except Exception:  # pragma: no cover - without the C extension
        yaml = YAML(typ="safe", pure=True)
    yaml.Resolver = _CachedResolver
    return yaml


def parse(
    text: str, filename: str, positions: LineMap | None = None
) -> tuple[Any, SourceMap, list[YamlProblem]]:
    """Parse one YAML document: (data, source map, non-fatal problems).

    ``positions`` maps the lines of a rendered template back to its source; every
    position recorded or reported is then a source position. Raises :class:`YamlLoadError` for malformed YAML, an empty document, alias bombs
    and recursive aliases. Duplicate keys are reported (all of them) as problems; the
    first value wins.
    """
    if _may_nest_deeply(text):
        raise YamlLoadError(
            YamlProblem("syntax", "YAML is nested too deeply", "flatten the document", 1, 1)
        )
    yaml = _yaml()
    try:
        with lean_nodes():
            node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "malformed YAML"
        if exc.context and exc.problem:
            detail = f"{exc.problem} ({exc.context})"
        raise YamlLoadError(
            YamlProblem(
                "syntax",
                f"invalid YAML: {detail}",
                "check indentation, quoting and ':' / '-' placement on this line",
                *_source_position(positions, mark.line + 1, mark.column + 1) if mark else (0, 0),
            )
        ) from None
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlLoadError(
            YamlProblem(
                "encoding",
                f"invalid character in YAML: {exc.reason} (#x{exc.character:04x})"
                if isinstance(exc.character, int)
                else f"invalid character in YAML: {exc.reason}",
                "remove control characters from the file",
                *_source_position(positions, line, column),
            )
        ) from None
    except RecursionError:
        raise YamlLoadError(
            YamlProblem("syntax", "YAML is nested too deeply", "flatten the document", 1, 1)
        ) from None
    except YAMLError as exc:
        raise YamlLoadError(YamlProblem("syntax", f"invalid YAML: {exc}", "fix the YAML")) from None
    if node is None:
        raise YamlLoadError(
            YamlProblem(
                "empty",
                "file is empty (no YAML document)",
                "add at least 'version: 1', or remove the file",
                1,
                1,
            )
        )
    # Without an anchor there is no alias, so no node is built twice and the alias bound
    # cannot be reached: counting the nodes (1-2 s at 20,000 callbacks) is then skipped,
    # and the text's length (every node takes at least one character) stands in for the
    # count, so the bound holds even if the anchor test ever missed one.
    distinct = _count_nodes(node) if _may_have_anchor(text) else len(text) + 1
    builder = _Builder(yaml, filename, distinct, positions)
    try:
        data = builder.build(node, ())
    except RecursionError:
        raise YamlLoadError(
            YamlProblem("syntax", "YAML is nested too deeply", "flatten the document", 1, 1)
        ) from None
    return data, builder.sources, builder.problems


def _source_position(positions: LineMap | None, line: int, column: int) -> tuple[int, int]:
    return positions.position(line, column) if positions else (line, column)


# An anchor (``&name``) starts a node: after the start of the text, whitespace, a flow
# indicator or ``:`` (flow ``"a":&x 1``). A ``&`` elsewhere (``?a=1&b=2``) is no anchor.
# (The pattern starts with the literal ``&`` so that the regex engine can skip to each one.)
_ANCHOR_RE = re.compile(r"&(?<=[\s\[{,:\ufeff]&)")


def _may_have_anchor(text: str) -> bool:
    """False only when ``text`` surely defines no anchor (so it has no alias either)."""
    return text.startswith("&") or _ANCHOR_RE.search(text) is not None


def _count_nodes(root: Node) -> int:
    """Distinct nodes in the document (aliases not expanded)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return len(seen)


class _Builder:
    """Turns a node graph into plain values and a source map.

    The hot path (a plain string key or value, by far the most common node) is inlined:
    tags are compared by identity with the resolver's shared string tag.
    """

    def __init__(
        self, yaml: YAML, filename: str, distinct: int | None, positions: LineMap | None = None
    ) -> None:
        """``distinct``: the document's node count (or an upper bound); None: no bound."""
        self.constructor = yaml.constructor
        self.filename = filename
        self.sources = SourceMap(root=Location(filename, 1, 1))
        if positions is not None:
            self.sources.linemaps[filename] = positions
        self.entries = self.sources.entries
        self.problems: list[YamlProblem] = []
        self.limit = (
            float("inf")
            if distinct is None
            else distinct * ALIAS_EXPANSION_FACTOR + ALIAS_EXPANSION_SLACK
        )
        self.visited = 0
        self.active: set[int] = set()

    def pos(self, node: Node) -> Pos:
        """Where ``node`` starts in the text parsed (a rendered template's: its output)."""
        mark = node.start_mark
        return (self.filename, mark.line + 1, mark.column + 1)

    def _line_col(self, node: Node) -> tuple[int, int]:
        """Where ``node`` starts in the source file (for a problem found now)."""
        location = self.sources.location(*self.pos(node))
        return location.line, location.column

    def build(self, node: Node, path: KeyPath) -> Any:
        self.visited += 1
        if self.visited > self.limit:
            raise YamlLoadError(
                YamlProblem(
                    "alias-bomb",
                    "YAML aliases expand to too much data (more than "
                    f"{self.limit:,} nodes): refusing a possible 'billion laughs' document",
                    "use fewer nested anchors/aliases (*name); write values out instead",
                    *self._line_col(node),
                )
            )
        if isinstance(node, ScalarNode):
            return node.value if node.ctag is _STR_TAG else self.scalar(node)
        if id(node) in self.active:
            raise YamlLoadError(
                YamlProblem(
                    "alias-bomb",
                    "recursive YAML alias: a node contains an alias to itself",
                    "remove the alias (*name) that points back into its own anchor",
                    *self._line_col(node),
                )
            )
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self.mapping(node, path)
            if isinstance(node, SequenceNode):
                return self.sequence(node, path)
        finally:
            self.active.discard(id(node))
        return None  # pragma: no cover

    def scalar(self, node: ScalarNode, tag: str | None = None) -> Any:
        tag = tag or node.tag
        if tag == _STR:
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return node.value.lower() == "true"
        if tag in _SUPPORTED_TAGS:
            try:
                return self.constructor.construct_object(node, deep=True)
            except (ConstructorError, ValueError):
                return node.value
        self.problems.append(
            YamlProblem(
                "tag",
                f"unsupported YAML tag {tag!r}",
                "remove the tag; plain strings, numbers, booleans, lists and mappings are enough",
                *self._line_col(node),
            )
        )
        return node.value

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merges: list[Node] = []
        entries = self.entries
        for key_node, value_node in node.value:
            if key_node.ctag is _STR_TAG and type(key_node) is LeanScalar:
                key = key_node.value  # the usual key: a plain string (as self.key)
            else:
                key_tag = key_node.tag
                if key_tag == _MERGE:
                    merges.append(value_node)
                    continue
                key = self.key(key_node, key_tag)
            key_path = path + (key,)
            if key in result:
                first = self.sources.locate_key(key_path).line
                self.problems.append(
                    YamlProblem(
                        "duplicate-key",
                        f"duplicate key {key!r} (first defined at line {first})",
                        "remove one of them; YAML keeps only one value per key",
                        *self._line_col(key_node),
                    )
                )
                continue
            entries[key_path] = self.entry(key_node, value_node, key_path)
            if value_node.ctag is _STR_TAG and type(value_node) is LeanScalar:
                self.visited += 1  # (build's path for a string, inlined: the most common)
                result[key] = value_node.value
            else:
                result[key] = self.build(value_node, key_path)
        for merge_node in merges:
            sources = merge_node.value if isinstance(merge_node, SequenceNode) else [merge_node]
            for src in sources:
                if not isinstance(src, MappingNode):
                    self.problems.append(
                        YamlProblem(
                            "syntax",
                            "merge key '<<' needs a mapping or a list of mappings",
                            "merge an anchored mapping: <<: *defaults",
                            *self._line_col(src),
                        )
                    )
                    continue
                merged = self.build(src, path)
                for key, value in merged.items():
                    if key not in result:
                        result[key] = value
                        self._copy_position(path, key, src)
        return result

    def _copy_position(self, path: KeyPath, key: Any, src: MappingNode) -> None:
        for key_node, value_node in src.value:
            if key_node.tag != _MERGE and self.key(key_node) == key:
                self.entries[path + (key,)] = (
                    *self.pos(key_node),
                    *self.pos(value_node)[1:],
                    False,
                )
                return

    def entry(self, key_node: Node | None, node: Node, path: KeyPath) -> Entry:
        """Where the key (None: a sequence item, its own key) and the value ``node`` are.

        A single-line plain or quoted scalar is ``inline``, so that ``locate_offset`` can
        point inside it.
        """
        shift = inline = 0
        start = node.start_mark
        if isinstance(node, ScalarNode) and start.line == node.end_mark.line:
            style = node.style
            if not style or style in ('"', "'"):
                shift = 1 if style else 0
                inline = 1
        line, column = start.line + 1, start.column + 1 + shift
        if key_node is None:
            return (self.filename, line, column, line, column, inline == 1)
        mark = key_node.start_mark
        return (self.filename, mark.line + 1, mark.column + 1, line, column, inline == 1)

    def key(self, node: Node, tag: str | None = None) -> Any:
        if not isinstance(node, ScalarNode):
            self.problems.append(
                YamlProblem(
                    "syntax",
                    "a mapping key must be a plain value, not a list or mapping",
                    "use a string key",
                    *self._line_col(node),
                )
            )
            return f"<complex key at line {node.start_mark.line + 1}>"
        value = self.scalar(node, tag)
        return value if isinstance(value, str | int | float | bool) or value is None else str(value)

    def sequence(self, node: SequenceNode, path: KeyPath) -> list[Any]:
        items: list[Any] = []
        entries = self.entries
        for index, item in enumerate(node.value):
            item_path = path + (index,)
            entries[item_path] = self.entry(None, item, item_path)
            items.append(self.build(item, item_path))
        return items
