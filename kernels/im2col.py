"""im2col + GEMM: unfold the input into a (C*R*S, E*F) column matrix, then one matrix product per group.

``out[n, g*Mg:(g+1)*Mg] (Mg, E*F) = w[g*Mg:(g+1)*Mg] (Mg, Cg*R*S) @ col[g*Cg*R*S:(g+1)*Cg*R*S] (Cg*R*S, E*F)``
with ``col[(c*R + r)*S + s, e*F + f] = x[n, c, U*e + r - pad, U*f + s - pad]`` (0 outside the input).

A padded input is first copied into a zero-bordered array by :func:`accelsim.kernels.pad.pad_input`, so
the unfolding is a plain copy of windows with no bounds tests (int8 is converted to float32, exactly, on the
way into ``col``): a Numba kernel writing a caller-allocated buffer row by row.
A 1x1 stride-1 filter needs no unfolding: its columns are the input planes themselves (float32), or their
float32 copy made by ``pad_input`` (int8). Stride 1 has its own kernel (a contiguous copy Numba
vectorises; a run-time stride makes it emit gathers). Source rows are sliced at their start offset so the
inner index is a non-negative range variable (a signed index would add Numba's wraparound select and block
vectorisation).

The float32 product is BLAS sgemm (numpy's ``matmul`` with ``out=``, written straight into the output
planes). int8 operands are unfolded to float32 as well and multiplied by the exact chunked sgemm of
:mod:`accelsim.kernels.int8`.

Threads: the product runs on OpenBLAS's threads, and the unfolding is deliberately serial. Measured on the
2-core machines: a parallel Numba region right before each sgemm made the route slower, not faster (each
pool's threads linger after their region and take the cores from the other; with Numba's OpenMP layer the
route ran 2-4x slower), while the serial unfold costs ~0.3 ms of a ~2 ms layer.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .int8 import exact_int8_matmul
from .pad import pad_input
from .workspace import scratch


@njit(cache=True)
def im2col_stride1(xp, n, R, S, col):
    """Unfold image n of the padded xp (N, C, Hp, Wp) for a stride-1 R x S filter into col (C*R*S, E*F)."""
    C, Hp, Wp = xp.shape[1], xp.shape[2], xp.shape[3]
    E, F = Hp - R + 1, Wp - S + 1
    for k in range(C * R * S):
        c = k // (R * S)
        r = (k // S) % R
        s = k % S
        row = col[k]
        for e in range(E):
            src = xp[n, c, e + r, s:]
            dst = row[e * F:]
            for f in range(F):
                dst[f] = src[f]


@njit(cache=True)
def im2col_strided(xp, n, R, S, stride, col):
    """Unfold image n of the padded xp for any stride (``src[stride * f]`` is a gather when vectorised)."""
    C, Hp, Wp = xp.shape[1], xp.shape[2], xp.shape[3]
    E, F = (Hp - R) // stride + 1, (Wp - S) // stride + 1
    for k in range(C * R * S):
        c = k // (R * S)
        r = (k // S) % R
        s = k % S
        row = col[k]
        for e in range(E):
            src = xp[n, c, stride * e + r, s:]
            dst = row[e * F:]
            for f in range(F):
                dst[f] = src[stride * f]


def conv2d_im2col(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int, out: np.ndarray) -> None:
    """Fill ``out`` (N, M, E, F) by im2col + GEMM: float32 sgemm, or exact chunked sgemm for int8 -> int32."""
    N, M, E, F = out.shape
    C, R, S = x.shape[1], w.shape[2], w.shape[3]
    Mg, Kg = M // groups, (C // groups) * R * S
    wf = np.ascontiguousarray(w, dtype=np.float32).reshape(M, Kg)
    is_1x1 = R == S == stride == 1
    if is_1x1 and pad == 0 and x.dtype == np.float32:
        xp = np.ascontiguousarray(x)  # the input planes are the column matrices
    elif is_1x1 or pad:
        # One pass: zero border; int8 -> float32 (exact) for a 1x1 filter, whose columns are these planes.
        dtype = np.float32 if is_1x1 else x.dtype
        xp = scratch("im2col.xp", (N, C, x.shape[2] + 2 * pad, x.shape[3] + 2 * pad), dtype)
        pad_input(x, pad, xp)
    else:
        xp = np.ascontiguousarray(x)  # unfolded straight from the input, int8 converted on the way
    col = None if is_1x1 else scratch("im2col.col", (C * R * S, E * F), np.float32)
    for n in range(N):
        if is_1x1:  # the input itself is the column matrix
            cols = xp[n].reshape(C, E * F)
        elif stride == 1:
            im2col_stride1(xp, n, R, S, col)
            cols = col
        else:
            im2col_strided(xp, n, R, S, stride, col)
            cols = col
        for g in range(groups):
            a = wf[g * Mg:(g + 1) * Mg]
            b = cols[g * Kg:(g + 1) * Kg]
            dst = out[n, g * Mg:(g + 1) * Mg].reshape(Mg, E * F)
            if out.dtype == np.float32:
                np.matmul(a, b, out=dst)
            else:
                exact_int8_matmul(a, b, dst)
