"""``--state FILE``: write the simulator's state to a file, atomically and cheaply.

Every write of the state marks it dirty; a background thread writes the whole file at most
once per ``interval`` seconds (a 20,000-number account takes ~0.1 s to write, so writing on
every one of 10,000 binds would take minutes). ``close()`` writes the last changes, so a
clean shutdown (SIGINT/SIGTERM, ``SimulatorServer.stop``) loses nothing; a crash loses at
most the last ``interval`` seconds. Each write is atomic: a temp file, then ``os.replace``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ringrx_iac.simulator.seed import write_state_file
from ringrx_iac.simulator.state import State

DEFAULT_INTERVAL = 0.5
logger = logging.getLogger(__name__)


class StatePersister:
    """Debounced, atomic persistence of one `State` to one file."""

    def __init__(self, state: State, path: Path, interval: float = DEFAULT_INTERVAL) -> None:
        self.state = state
        self.path = path
        self.interval = interval
        self.writes = 0  # files written so far (for tests and benchmarks)
        self._cond = threading.Condition()
        self._dirty = False
        self._closed = False
        self._write_lock = threading.Lock()  # one writer at a time (thread or close/flush)
        self._thread = threading.Thread(
            target=self._run, name="ringrx-simulator-state", daemon=True
        )
        self._thread.start()

    def mark_dirty(self, state: State | None = None) -> None:
        """Called after every write of the state (``State.on_write``); returns at once."""
        with self._cond:
            self._dirty = True
            self._cond.notify()

    def flush(self) -> None:
        """Write the file now if anything changed since the last write."""
        with self._write_lock:
            with self._cond:
                if not self._dirty:
                    return
                self._dirty = False
            write_state_file(self.state, self.path)
            self.writes += 1

    def write_now(self) -> None:
        """Write the file now, changed or not (used once at start)."""
        with self._cond:
            self._dirty = True
        self.flush()

    def close(self) -> None:
        """Stop the background thread and write the last changes (idempotent)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        self.flush()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
            # Let a burst of writes collect, then write them all at once.
            with self._cond:
                self._cond.wait_for(lambda: self._closed, timeout=self.interval)
                if self._closed:
                    return
            try:
                self.flush()
            except OSError as exc:  # e.g. disk full: keep serving, try again later
                logger.warning("cannot write the state file %s: %s", self.path, exc.strerror)
                self.mark_dirty()
