"""Reading files named by an untrusted configuration or command line, within bounds.

Configuration files, ``--var-file`` files and ``${file:...}`` secrets must be regular
files under a size limit: ``/dev/zero``, ``/dev/stdin``, FIFOs and directories give one
clear error at once (a FIFO is opened without waiting for a writer), and a file too large
is refused without reading it all.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_CONFIG_BYTES = 10 * 1024 * 1024  # a configuration or --var-file YAML file
MAX_SECRET_BYTES = 64 * 1024  # a ${file:...} secret


class FileLimitError(ValueError):
    """The file is not a regular file, or is larger than allowed; the message says which."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises :class:`FileLimitError` for anything else, ``OSError`` when it cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise FileLimitError(f"{path} is {kind}, not a regular file")
        if info.st_size > limit:
            raise FileLimitError(f"{path} is larger than {_size(limit)} (the limit)")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise FileLimitError(f"{path} is larger than {_size(limit)} (the limit)")
        return b"".join(chunks)
    finally:
        os.close(fd)
