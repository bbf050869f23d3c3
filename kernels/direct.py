"""Direct convolution: the seven loops, reordered so the innermost loop runs along an output row.

One parallel job per (n, m) output plane. The plane is the accumulator: it is zeroed, then for every
(c, r, e, s) the weight ``w[m, c, r, s]`` is broadcast over the row ``out[n, m, e, :]`` and multiplied with
the matching input row. That innermost loop is contiguous in both arrays and vectorises (8 float32 or 8
int32 lanes under AVX2).

Padding is materialised once by :func:`pad_input` into a caller-allocated array, so the kernels have no
bounds tests. Stride 1 has its own kernel: with a run-time stride Numba cannot prove the input index is
unit-stride and emits gathers (3-5x slower). Input rows are sliced at their start offset (``xp[..., s:]``)
so every index the inner loop uses is a non-negative range variable; a signed offset added inside the
index would make Numba emit its negative-index wraparound select and block vectorisation.

The same source serves both numerics, because Numba compiles one specialisation per dtype:

* float32 x, w -> float32 ``out``: float32 multiply-adds (the order differs from the reference's float64
  sum, hence the tests' tolerances).
* int8 x, w -> int32 ``out``: the weights arrive widened to int32 and every product is added into the
  int32 plane. Numba computes ``int32 * int8`` in int64, and storing into the int32 array truncates to the low
  32 bits, i.e. each step is an addition modulo 2**32. Addition modulo 2**32 is associative and
  commutative, so the final value is the exact sum reduced modulo 2**32 -- bit for bit what
  :func:`accelsim.reference.wrap_int32` gives for the reference's exact sum, in any loop order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def pad_input(x, pad, xp):
    """Copy x (N, C, H, W) into the middle of xp (N, C, H+2*pad, W+2*pad) and zero the border."""
    N, C, H, W = x.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    for job in prange(N * C):
        n = job // C
        c = job - n * C
        plane = xp[n, c]
        for h in range(pad):
            plane[h, :] = 0
            plane[Hp - 1 - h, :] = 0
        for h in range(H):
            row = plane[pad + h]
            src = x[n, c, h]
            for v in range(pad):
                row[v] = 0
                row[Wp - 1 - v] = 0
            dst = row[pad:]
            for v in range(W):
                dst[v] = src[v]


@njit(parallel=True, cache=True)
def direct_stride1(xp, w, groups, out):
    """Stride-1 direct convolution of padded xp (N, C, E+R-1, F+S-1) by w (out.dtype) into out (N,M,E,F)."""
    N, M, E, F = out.shape
    Cg, R, S = w.shape[1], w.shape[2], w.shape[3]
    Mg = M // groups
    for job in prange(N * M):
        n = job // M
        m = job - n * M
        c0 = (m // Mg) * Cg
        plane = out[n, m]
        plane[:, :] = 0
        for c in range(Cg):
            for r in range(R):
                for e in range(E):
                    dst = plane[e]
                    for s in range(S):
                        wv = w[m, c, r, s]
                        src = xp[n, c0 + c, e + r, s:]
                        for f in range(F):
                            dst[f] += wv * src[f]


@njit(parallel=True, cache=True)
def direct_strided(xp, w, stride, groups, out):
    """Direct convolution for any stride (the input index is ``stride * f``: a gather when vectorised)."""
    N, M, E, F = out.shape
    Cg, R, S = w.shape[1], w.shape[2], w.shape[3]
    Mg = M // groups
    for job in prange(N * M):
        n = job // M
        m = job - n * M
        c0 = (m // Mg) * Cg
        plane = out[n, m]
        plane[:, :] = 0
        for c in range(Cg):
            for r in range(R):
                for e in range(E):
                    dst = plane[e]
                    for s in range(S):
                        wv = w[m, c, r, s]
                        src = xp[n, c0 + c, stride * e + r, s:]
                        for f in range(F):
                            dst[f] += wv * src[stride * f]


def conv2d_direct(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int, out: np.ndarray) -> None:
    """Fill ``out`` (N, M, E, F), float32 for float32 operands or int32 for int8, by direct convolution."""
    if pad:
        N, C, H, W = x.shape
        xp = np.empty((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
        pad_input(x, pad, xp)
    else:
        xp = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w, dtype=out.dtype)  # int8 weights widened once to int32
    if stride == 1:
        direct_stride1(xp, w, groups, out)
    else:
        direct_strided(xp, w, stride, groups, out)
