"""im2col + GEMM: unfold the input into a (C*R*S, E*F) column matrix, then one matrix product per group.

``out[n, g*Mg:(g+1)*Mg] (Mg, E*F) = w[g*Mg:(g+1)*Mg] (Mg, Cg*R*S) @ col[g*Cg*R*S:(g+1)*Cg*R*S] (Cg*R*S, E*F)``
with ``col[(c*R + r)*S + s, e*F + f] = x[n, c, U*e + r - pad, U*f + s - pad]`` (0 outside the input).

The unfolding is a Numba kernel writing a caller-allocated buffer, one parallel job per row of ``col``;
zero padding is handled by bounds computed once per row segment, so the input is never copied to a padded
array. Stride 1 has its own kernel (a contiguous copy Numba vectorises; a run-time stride makes it emit
gathers). Source rows are sliced at their start offset so the inner index is a non-negative range
variable (a signed index would add Numba's wraparound select and block vectorisation).

The float32 product is BLAS sgemm (numpy's ``matmul`` with ``out=``, written straight into the output
planes). int8 operands are unfolded to float32 as well and multiplied by the exact chunked sgemm of
:mod:`accelsim.kernels.int8`.

Threads: the unfolding runs on Numba's threads and the product on OpenBLAS's, one after the other. Numba's
OpenMP layer keeps its threads spinning after a parallel region and they steal the two cores from OpenBLAS;
:mod:`accelsim.kernels` therefore selects Numba's ``workqueue`` layer, whose threads sleep.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .int8 import exact_int8_matmul


@njit(inline="always")
def _valid_columns(F, W, s, pad, stride):
    """Range [f_lo, f_hi) of output columns f whose input column stride*f + s - pad lies in [0, W)."""
    f_lo = 0
    if s < pad:
        f_lo = min((pad - s + stride - 1) // stride, F)
    f_hi = 0
    if W - 1 + pad - s >= 0:
        f_hi = min((W - 1 + pad - s) // stride + 1, F)
    return f_lo, max(f_hi, f_lo)


@njit(parallel=True, cache=True)
def im2col_stride1(x, n, R, S, pad, col):
    """Unfold image n of x (N, C, H, W) for a stride-1 R x S filter into col (C*R*S, E*F) of col's dtype."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    E = H + 2 * pad - R + 1
    F = W + 2 * pad - S + 1
    for k in prange(C * R * S):
        c = k // (R * S)
        r = (k // S) % R
        s = k % S
        f_lo, f_hi = _valid_columns(F, W, s, pad, 1)
        row = col[k]
        for e in range(E):
            dst = row[e * F:(e + 1) * F]
            h = e + r - pad
            if h < 0 or h >= H:
                dst[:] = 0
                continue
            for f in range(f_lo):
                dst[f] = 0
            src = x[n, c, h, f_lo + s - pad:]
            span = dst[f_lo:f_hi]
            for f in range(f_hi - f_lo):
                span[f] = src[f]
            for f in range(f_hi, F):
                dst[f] = 0


@njit(parallel=True, cache=True)
def im2col_strided(x, n, R, S, stride, pad, col):
    """Unfold image n of x for any stride (``src[stride * f]`` is a gather when vectorised)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    E = (H + 2 * pad - R) // stride + 1
    F = (W + 2 * pad - S) // stride + 1
    for k in prange(C * R * S):
        c = k // (R * S)
        r = (k // S) % R
        s = k % S
        f_lo, f_hi = _valid_columns(F, W, s, pad, stride)
        row = col[k]
        for e in range(E):
            dst = row[e * F:(e + 1) * F]
            h = stride * e + r - pad
            if h < 0 or h >= H:
                dst[:] = 0
                continue
            for f in range(f_lo):
                dst[f] = 0
            src = x[n, c, h, stride * f_lo + s - pad:]
            span = dst[f_lo:f_hi]
            for f in range(f_hi - f_lo):
                span[f] = src[stride * f]
            for f in range(f_hi, F):
                dst[f] = 0


@njit(parallel=True, cache=True)
def to_float32(x, n, col):
    """col (C, H*W) = float32(x[n]): the unfolding of a 1x1, stride-1, unpadded filter (int8 operands)."""
    C, H, W = x.shape[1], x.shape[2], x.shape[3]
    for c in prange(C):
        row = col[c]
        for h in range(H):
            src = x[n, c, h]
            dst = row[h * W:(h + 1) * W]
            for v in range(W):
                dst[v] = src[v]


def unfold(x: np.ndarray, n: int, R: int, S: int, stride: int, pad: int, col: np.ndarray) -> np.ndarray:
    """The column matrix of image n (a view of x itself for a float32 1x1/stride-1/unpadded filter)."""
    if R == S == stride == 1 and pad == 0:
        if x.dtype == col.dtype:
            return x[n].reshape(x.shape[1], -1)
        to_float32(x, n, col)
    elif stride == 1:
        im2col_stride1(x, n, R, S, pad, col)
    else:
        im2col_strided(x, n, R, S, stride, pad, col)
    return col


def conv2d_im2col(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int, out: np.ndarray) -> None:
    """Fill ``out`` (N, M, E, F) by im2col + GEMM: float32 sgemm, or exact chunked sgemm for int8 -> int32."""
    N, M, E, F = out.shape
    x = np.ascontiguousarray(x)
    C, R, S = x.shape[1], w.shape[2], w.shape[3]
    Mg, Kg = M // groups, (C // groups) * R * S
    wf = np.ascontiguousarray(w, dtype=np.float32).reshape(M, C // groups * R * S)
    col = np.empty((C * R * S, E * F), dtype=np.float32)
    for n in range(N):
        cols = unfold(x, n, R, S, stride, pad, col)
        for g in range(groups):
            a = wf[g * Mg:(g + 1) * Mg]
            b = cols[g * Kg:(g + 1) * Kg]
            dst = out[n, g * Mg:(g + 1) * Mg].reshape(Mg, E * F)
            if out.dtype == np.float32:
                np.matmul(a, b, out=dst)
            else:
                exact_int8_matmul(a, b, dst)
