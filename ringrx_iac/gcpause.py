"""Pause the cyclic garbage collector around bulk work.

Loading a configuration, decoding a big account and diffing them allocate millions of small
acyclic objects that all stay alive; every few hundred allocations the collector scans
them again, and at 10,000 callbacks those scans cost more than the work itself. Reference
counting still frees everything; only cycles wait until the pause ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (nesting is fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
