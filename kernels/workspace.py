"""Per-thread scratch arrays reused from call to call (padded inputs, column buffers, packed operands).

Why: on these machines a route that allocates a fresh multi-megabyte scratch array on every call spends
more time in page faults than in arithmetic -- glibc serves such sizes with mmap and gives them back on
free -- e.g. the direct route on a 32-channel 112x112 depthwise layer took 2.1 ms with fresh buffers and
0.5 ms with reused ones. Each thread keeps, per tag, the largest buffer it has needed so far; contents are
undefined on return, so every kernel writes all of a scratch array before reading it. Outputs are never
scratch: :func:`accelsim.kernels.conv2d` returns a fresh array.
"""

from __future__ import annotations

import math
import threading

import numpy as np

_local = threading.local()


def scratch(tag: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` backed by this thread's buffer named ``tag``."""
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get(tag)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[tag] = np.empty(max(nbytes, 64), dtype=np.uint8)  # numpy aligns data to >= 16 bytes
    return buf[:nbytes].view(dtype).reshape(shape)


def release() -> None:
    """Drop this thread's scratch buffers (they are otherwise kept for the next call)."""
    _local.__dict__.pop("buffers", None)
