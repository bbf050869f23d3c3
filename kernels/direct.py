"""Direct convolution: the seven loops, reordered so the innermost loop is long, contiguous and vectorises.

One parallel job per (n, m) output plane, accumulated in a thread-local array (8 float32 or 8 int32 lanes
per AVX2 instruction):

* :func:`direct_3x3` (stride 1, R = S = 3): the nine taps of a filter are summed in one pass over a
  "wide" plane (below), nine multiply-adds per accumulator load and store.
* :func:`direct_stride1` (stride 1, any R x S): one pass over the wide plane per tap.
* :func:`direct_strided` (stride > 1): one pass per tap along each output row, reading the input at
  ``stride * f`` (a gather once vectorised; the im2col route is the fast one for dense strided layers).

Padding is materialised once by :func:`pad_input` into a caller-allocated array, so no kernel tests bounds.
Stride 1 has kernels of its own: with a run-time stride Numba cannot prove the input index is unit-stride
and emits gathers (3-5x slower). Input rows are sliced at their start offset (``flat[r * Wp + s:]``) so every
index an inner loop uses is a range variable plus a small constant; a signed offset inside the index would
make Numba emit its negative-index wraparound select and block vectorisation.

The same source serves both numerics, because Numba compiles one specialisation per dtype:

* float32 x, w -> float32 ``out``: float32 multiplies and adds (the order differs from the reference's
  float64 sum, hence the tests' tolerances).
* int8 x, w -> int32 ``out``: the weights arrive widened to int32. Numba computes ``int32 * int8`` and the
  sums of such products in int64 (exact), and storing into the int32 accumulator truncates to the low 32
  bits, i.e. every accumulation step is an addition modulo 2**32. That addition is associative and
  commutative, so the final value is the exact sum reduced modulo 2**32 -- bit for bit what
  :func:`accelsim.reference.wrap_int32` gives for the reference's exact sum, in any loop order. (LLVM
  narrows the int64 arithmetic to 32-bit lanes, which computes the same low 32 bits.)
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .pad import pad_input
from .workspace import scratch


@njit(inline="always")
def _crop(acc, Wp, plane):
    """plane (E, F) = the valid columns of the wide accumulator acc (row pitch Wp)."""
    E, F = plane.shape
    for e in range(E):
        src = acc[e * Wp:]
        dst = plane[e]
        for f in range(F):
            dst[f] = src[f]


@njit(parallel=True, cache=True)
def direct_stride1(xp, w, groups, out):
    """Stride-1 direct convolution of padded xp (N, C, E+R-1, F+S-1) by w (out.dtype) into out (N,M,E,F).

    Wide rows: output pixel (e, f) is accumulated at ``e * Wp + f`` of a plane with the input's row pitch
    Wp = F + S - 1, so the tap (r, s) of every output pixel reads the flat input plane at that index plus
    ``r * Wp + s``: one contiguous loop of length (E-1)*Wp + F per tap instead of E loops of F. The Wp - F
    columns between rows are garbage (they mix neighbouring rows) and are dropped by :func:`_crop`.
    """
    N, M, E, F = out.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    Cg, R, S = w.shape[1], w.shape[2], w.shape[3]
    Mg = M // groups
    L = (E - 1) * Wp + F  # the last valid pixel reads flat index L - 1 + (R-1)*Wp + S-1 = Hp*Wp - 1
    for job in prange(N * M):
        n = job // M
        m = job - n * M
        c0 = (m // Mg) * Cg
        acc = np.zeros(L, dtype=out.dtype)
        for c in range(Cg):
            flat = xp[n, c0 + c].reshape(Hp * Wp)
            for r in range(R):
                for s in range(S):
                    wv = w[m, c, r, s]
                    src = flat[r * Wp + s:]
                    for i in range(L):
                        acc[i] += wv * src[i]
        _crop(acc, Wp, out[n, m])


@njit(parallel=True, cache=True)
def direct_3x3(xp, w, groups, out):
    """:func:`direct_stride1` for R = S = 3 with the nine taps summed in one pass over the wide plane.

    Nine multiply-adds per load and store of the accumulator instead of one: the loop is bound by the
    arithmetic, not by L1 stores. The nine products are added to each other before the accumulator.
    """
    N, M, E, F = out.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    Cg = w.shape[1]
    Mg = M // groups
    L = (E - 1) * Wp + F
    for job in prange(N * M):
        n = job // M
        m = job - n * M
        c0 = (m // Mg) * Cg
        acc = np.zeros(L, dtype=out.dtype)
        for c in range(Cg):
            flat = xp[n, c0 + c].reshape(Hp * Wp)
            x0, x1, x2 = flat[0:], flat[Wp:], flat[2 * Wp:]
            k = w[m, c]
            w00, w01, w02 = k[0, 0], k[0, 1], k[0, 2]
            w10, w11, w12 = k[1, 0], k[1, 1], k[1, 2]
            w20, w21, w22 = k[2, 0], k[2, 1], k[2, 2]
            for i in range(L):
                acc[i] += (w00 * x0[i] + w01 * x0[i + 1] + w02 * x0[i + 2]
                           + w10 * x1[i] + w11 * x1[i + 1] + w12 * x1[i + 2]
                           + w20 * x2[i] + w21 * x2[i + 1] + w22 * x2[i + 2])
        _crop(acc, Wp, out[n, m])


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
        xp = scratch("direct.xp", (N, C, H + 2 * pad, W + 2 * pad), x.dtype)
        pad_input(x, pad, xp)
    else:
        xp = np.ascontiguousarray(x)
    w = np.ascontiguousarray(w, dtype=out.dtype)  # int8 weights widened once to int32
    if stride == 1 and w.shape[2] == w.shape[3] == 3:
        direct_3x3(xp, w, groups, out)
    elif stride == 1:
        direct_stride1(xp, w, groups, out)
    else:
        direct_strided(xp, w, stride, groups, out)
