"""The golden truth: convolution written as the seven loops of its definition.

``out[n][m][e][f] = sum_{c<C/G, r<R, s<S} x[n][g*C/G + c][U*e + r - pad][U*f + s - pad] * w[m][c][r][s]``
with ``g = m // (M/G)`` the group of output channel ``m`` and zero padding outside the input.

Numerics (ARCHITECTURE.md): int8 inputs give int32 outputs with two's-complement wrap-around; float32
inputs give float32 outputs (accumulated in float64, rounded once). Never optimise :func:`conv2d`;
:func:`conv2d_numpy` is the vectorised oracle for large shapes and is itself tested against it.
"""

from __future__ import annotations

import numpy as np

from accelsim.errors import require

INT8_MIN, INT8_MAX = -128, 127


def check_operands(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int) -> tuple[int, ...]:
    """Validate ranks, dtypes and shapes; return (N, M, C, H, W, R, S, E, F)."""
    require(
        isinstance(x, np.ndarray) and x.ndim == 4, "x", "a 4-D array (N, C, H, W)", getattr(x, "shape", x)
    )
    require(
        isinstance(w, np.ndarray) and w.ndim == 4,
        "w",
        "a 4-D array (M, C/groups, R, S)",
        getattr(w, "shape", w),
    )
    require(x.dtype in (np.int8, np.float32), "x.dtype", "int8 or float32", str(x.dtype))
    require(w.dtype == x.dtype, "w.dtype", f"equal to x.dtype ({x.dtype})", str(w.dtype))
    for what, value in (("stride", stride), ("groups", groups)):
        require(isinstance(value, (int, np.integer)) and value > 0, what, "a positive integer", value)
    require(isinstance(pad, (int, np.integer)) and pad >= 0, "pad", "a non-negative integer", pad)
    N, C, H, W = x.shape
    M, Cg, R, S = w.shape
    for what, value in (
        ("x.shape[0] (N)", N),
        ("x.shape[1] (C)", C),
        ("x.shape[2] (H)", H),
        ("x.shape[3] (W)", W),
        ("w.shape[0] (M)", M),
        ("w.shape[2] (R)", R),
        ("w.shape[3] (S)", S),
    ):
        require(value > 0, what, "positive", value)
    require(C % groups == 0, "C", f"divisible by groups={groups}", C)
    require(M % groups == 0, "M", f"divisible by groups={groups}", M)
    require(Cg == C // groups, "w.shape[1]", f"C/groups={C // groups}", Cg)
    require(H + 2 * pad >= R, "R", f"<= H+2*pad={H + 2 * pad}", R)
    require(W + 2 * pad >= S, "S", f"<= W+2*pad={W + 2 * pad}", S)
    E = (H + 2 * pad - R) // stride + 1
    F = (W + 2 * pad - S) // stride + 1
    return N, M, C, H, W, R, S, E, F


def wrap_int32(values: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of exact integers to int32 (what an int32 accumulator holds)."""
    return (np.asarray(values, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def conv2d(x: np.ndarray, w: np.ndarray, *, stride: int = 1, pad: int = 0, groups: int = 1) -> np.ndarray:
    """Seven loops in N, M, C, E, F, R, S order. x: (N, C, H, W); w: (M, C/groups, R, S)."""
    N, M, C, H, W, R, S, E, F = check_operands(x, w, stride, pad, groups)
    Cg, Mg = C // groups, M // groups
    is_int = x.dtype == np.int8
    xs, ws = x.tolist(), w.tolist()  # python ints / floats: exact sums, wrapped or rounded once
    acc = [[[[0 for _ in range(F)] for _ in range(E)] for _ in range(M)] for _ in range(N)]
    for n in range(N):
        for m in range(M):
            g = m // Mg
            for c in range(Cg):
                for e in range(E):
                    for f in range(F):
                        for r in range(R):
                            for s in range(S):
                                h = stride * e + r - pad
                                v = stride * f + s - pad
                                if 0 <= h < H and 0 <= v < W:
                                    acc[n][m][e][f] += xs[n][g * Cg + c][h][v] * ws[m][c][r][s]
    if is_int:
        return wrap_int32(np.array(acc, dtype=np.int64).reshape(N, M, E, F))
    return np.array(acc, dtype=np.float64).reshape(N, M, E, F).astype(np.float32)


def conv2d_numpy(
    x: np.ndarray, w: np.ndarray, *, stride: int = 1, pad: int = 0, groups: int = 1
) -> np.ndarray:
    """Vectorised oracle (same contract as :func:`conv2d`): exact int64 sums for int8, float64 for float32."""
    N, M, C, H, W, R, S, E, F = check_operands(x, w, stride, pad, groups)
    Cg, Mg = C // groups, M // groups
    is_int = x.dtype == np.int8
    wide = np.int64 if is_int else np.float64
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=wide)
    xp[:, :, pad : pad + H, pad : pad + W] = x
    out = np.zeros((N, M, E, F), dtype=wide)
    for g in range(groups):
        xg = xp[:, g * Cg : (g + 1) * Cg]
        wg = w[g * Mg : (g + 1) * Mg].astype(wide)
        for r in range(R):
            for s in range(S):
                patch = xg[:, :, r : r + stride * (E - 1) + 1 : stride, s : s + stride * (F - 1) + 1 : stride]
                out[:, g * Mg : (g + 1) * Mg] += np.einsum("nchw,mc->nmhw", patch, wg[:, :, r, s])
    return wrap_int32(out) if is_int else out.astype(np.float32)


def requantize(acc: np.ndarray, shift: int) -> np.ndarray:
    """int32 -> int8: arithmetic shift right by ``shift`` with round-half-up, then saturate.

    ``q = clamp((acc + 2**(shift-1)) >> shift, -128, 127)`` for shift > 0 (the add is exact: 33 bits in
    hardware, int64 here); ``q = clamp(acc, -128, 127)`` for shift == 0. The one definition used by the
    kernels, the model's functional mode and the RTL's requantize stage.
    """
    require(
        isinstance(shift, (int, np.integer)) and 0 <= shift <= 31, "shift", "an integer in [0, 31]", shift
    )
    a = np.asarray(acc)
    require(a.dtype == np.int32, "acc.dtype", "int32", str(a.dtype))
    wide = a.astype(np.int64)
    if shift:
        wide = (wide + (1 << (shift - 1))) >> shift
    return np.clip(wide, INT8_MIN, INT8_MAX).astype(np.int8)
