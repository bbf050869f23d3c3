"""Zero padding (and dtype conversion) of NCHW inputs into caller-allocated arrays, shared by the routes."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def pad_input(x, pad, xp):
    """Copy x (N, C, H, W) into the middle of xp (N, C, H+2*pad, W+2*pad), converting to xp's dtype, and
    zero the border. Serial (it runs next to BLAS calls, see :mod:`accelsim.kernels.im2col`); rows are
    sliced so the inner copy vectorises."""
    N, C, H, W = x.shape
    Hp, Wp = xp.shape[2], xp.shape[3]
    for job in range(N * C):
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
