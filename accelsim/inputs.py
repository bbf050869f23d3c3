"""Reading the files a user names: bounded in size, decoded strictly, every failure one AccelsimError.

Every loader of a user file (arch TOML, topology CSV, ONNX) reads through :func:`read_bytes` or
:func:`read_text`, so ``/dev/zero``, a FIFO that never ends, a directory, a file without read permission
or bytes that are not UTF-8 give one line naming the file and the rule, never a traceback, a hang or an
unbounded allocation. The limits are far above any real input of each kind and far below what would
exhaust memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from accelsim.errors import AccelsimError

KIB, MIB = 1 << 10, 1 << 20
CONFIG_LIMIT_BYTES = 1 * MIB  # an arch TOML or a SCALE-Sim cfg is a few hundred bytes
TOPOLOGY_LIMIT_BYTES = 64 * MIB  # a 100,000-row topology CSV is ~5 MiB
ONNX_LIMIT_BYTES = 2048 * MIB  # protobuf's own limit for one message


def _size(n: int) -> str:
    return f"{n // MIB:,} MiB" if n >= MIB else f"{n // KIB:,} KiB" if n >= KIB else f"{n} bytes"


def read_bytes(path: str | Path, what: str, *, limit: int) -> bytes:
    """The bytes of the file at ``path``, at most ``limit`` of them; ``what`` names it in errors
    (``"arch file"``, ``"topology file"``)."""
    name = str(path)
    if not name or "\0" in name:
        raise AccelsimError(f"{what} must be a non-empty path without NUL bytes, not {name!r}")
    try:
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            if stat.S_ISDIR(info.st_mode):  # open() of a directory succeeds on some systems
                raise IsADirectoryError(21, "Is a directory", name)
            too_big = stat.S_ISREG(info.st_mode) and info.st_size > limit
            # A device or a pipe has no size: read one byte past the limit to know.
            data = b"" if too_big else fh.read(limit + 1)
            too_big = too_big or len(data) > limit
    except FileNotFoundError:
        raise AccelsimError(f"{what} must be an existing file, not {name!r}") from None
    except IsADirectoryError:
        raise AccelsimError(f"{what} must be a file, not the directory {name!r}") from None
    except NotADirectoryError:
        raise AccelsimError(f"{what} must be a path through directories, not {name!r}") from None
    except OSError as err:
        raise AccelsimError(f"{what} must be readable, not {name!r} ({err.strerror or err})") from None
    if too_big:
        raise AccelsimError(f"{what} must be at most {_size(limit)}, not {name!r} (larger)")
    return data


def decode(data: bytes, name: str, what: str, *, encoding: str = "utf-8") -> str:
    """``data`` decoded strictly; an error names the file and the offset of the first bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        bad = data[err.start : err.start + 4]
        raise AccelsimError(
            f"{what} must be UTF-8 text, not {name!r} (byte {err.start}: {bad!r} is not UTF-8)"
        ) from None


def read_text(path: str | Path, what: str, *, limit: int, encoding: str = "utf-8") -> str:
    """The text of the file at ``path`` (at most ``limit`` bytes, strictly ``encoding``)."""
    return decode(read_bytes(path, what, limit=limit), str(path), what, encoding=encoding)


__all__ = [
    "CONFIG_LIMIT_BYTES", "ONNX_LIMIT_BYTES", "TOPOLOGY_LIMIT_BYTES", "decode",
    "read_bytes", "read_text",
]
