"""Lean YAML node classes for ruamel.yaml.clib's C composer.

The C composer builds every node by calling ruamel's node classes, which it looks up in its
module's globals at each node. Their ``__init__`` chains two or three Python calls and a
``Tag`` check per node: a quarter of composing (1.23 -> 0.91 s for a 20,000-callback file).
While :func:`lean_nodes` is active the composer builds these subclasses instead, which set
the same attributes in one call. Without the C module, or should it stop naming its classes
so, nothing changes: the composer builds ruamel's own classes, which the loader also takes
(``tests/test_config_leannodes.py`` says when the swap stops taking effect).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag


def _c_module() -> ModuleType | None:
    """ruamel.yaml.clib's compiled module, when installed."""
    try:
        import _ruamel_yaml
    except ImportError:  # pragma: no cover
        return None
    return _ruamel_yaml


_clib = _c_module()


class LeanScalar(ScalarNode):
    """A :class:`ScalarNode` built in one call."""

    __slots__ = ()

    def __init__(
        self,
        tag: Any,
        value: Any,
        start_mark: Any = None,
        end_mark: Any = None,
        style: Any = None,
        comment: Any = None,
        anchor: Any = None,
    ) -> None:
        self.ctag = tag if isinstance(tag, Tag) else Tag(suffix=tag)
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.style = style
        self.comment = comment
        self.anchor = anchor


class LeanSequence(SequenceNode):
    """A :class:`SequenceNode` built in one call."""

    __slots__ = ()

    def __init__(
        self,
        tag: Any,
        value: Any,
        start_mark: Any = None,
        end_mark: Any = None,
        flow_style: Any = None,
        comment: Any = None,
        anchor: Any = None,
    ) -> None:
        self.ctag = tag if isinstance(tag, Tag) else Tag(suffix=tag)
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.flow_style = flow_style
        self.comment = comment
        self.anchor = anchor


class LeanMapping(MappingNode):
    """A :class:`MappingNode` built in one call."""

    __slots__ = ()

    def __init__(
        self,
        tag: Any,
        value: Any,
        start_mark: Any = None,
        end_mark: Any = None,
        flow_style: Any = None,
        comment: Any = None,
        anchor: Any = None,
    ) -> None:
        self.ctag = tag if isinstance(tag, Tag) else Tag(suffix=tag)
        self.value = value
        self.start_mark = start_mark
        self.end_mark = end_mark
        self.flow_style = flow_style
        self.comment = comment
        self.anchor = anchor
        self.merge = None


_LEAN = {"ScalarNode": LeanScalar, "SequenceNode": LeanSequence, "MappingNode": LeanMapping}
# The composer also passes its node class to the resolver as the kind of node to resolve.
RUAMEL_CLASS: dict[type, type] = {
    LeanScalar: ScalarNode,
    LeanSequence: SequenceNode,
    LeanMapping: MappingNode,
}
_lock = threading.Lock()  # one swap at a time: each restores what it found


@contextlib.contextmanager
def lean_nodes() -> Iterator[None]:
    """Have the C composer build the lean classes inside the block (see the module doc)."""
    with _lock:
        if _clib is None or not all(hasattr(_clib, name) for name in _LEAN):
            yield  # pragma: no cover - nothing to swap
            return
        saved = {name: getattr(_clib, name) for name in _LEAN}
        for name, cls in _LEAN.items():
            setattr(_clib, name, cls)
        try:
            yield
        finally:
            for name, cls in saved.items():
                setattr(_clib, name, cls)
