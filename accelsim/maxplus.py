"""Max-plus algebra over floats for the closed form (:mod:`accelsim.closed_form`): the (max, +) semiring's
products and powers of 2x2 and 3x3 matrices, compilable (:func:`accelsim.jit.compilable`).

A product ``A (x) B`` has entries ``max_k A[i][k] + B[k][j]``; ``NEG`` stands for the semiring's zero
(-inf) as a finite float, so sums of it stay far below any cycle count and compare as -inf.
"""

from __future__ import annotations

import math

from accelsim.jit import compilable

NEG = -1e30  # max-plus -inf; valid cycle counts stay far below 2**53, so float64 is exact


# ---------------------------------------------------------------------------------------------------------
# max-plus 2x2 matrices (a, b, c, d) = [[a, b], [c, d]]; new[i] = max_k M[i][k] + old[k]

@compilable
def fmax(a, b):
    """np.maximum of two floats (NaN-propagating, as numpy's)."""
    return a if (a >= b or a != a) else b


@compilable
def fmin(a, b):
    """np.minimum of two floats."""
    return a if (a <= b or a != a) else b


@compilable
def mul2(a0, a1, a2, a3, b0, b1, b2, b3):
    """Max-plus 2x2 product ``A (x) B`` of (a0, a1, a2, a3) and (b0, b1, b2, b3)."""
    return (fmax(a0 + b0, a1 + b2), fmax(a0 + b1, a1 + b3), fmax(a2 + b0, a3 + b2), fmax(a2 + b1, a3 + b3))


@compilable
def pow2(a, b, c, d, n):
    """``A^n`` of the max-plus 2x2 matrix (a, b, c, d), float ``n >= 0``, in closed form."""
    m = fmax(a, d)
    bc = b + c
    up = bc >= 2 * m
    half, half1 = math.floor(n / 2), math.floor((n - 1) / 2)
    z = half if up else 1.0
    cyc = bc * z + m * (n - 2 * z)
    two = n >= 2
    p00 = fmax(a * n, cyc) if two else a * n
    p11 = fmax(d * n, cyc) if two else d * n
    w = half1 if up else 0.0
    off = bc * w + m * (n - 1 - 2 * w)
    if n == 0:
        return 0.0, NEG, NEG, 0.0
    return p00, b + off, c + off, p11


# ---------------------------------------------------------------------------------------------------------
# max-plus 3x3 matrices as 9-tuples in row order (the closed form's MIX state (E_j, X_j, X_{j-1}))

@compilable
def mul3(a, b):
    """Max-plus 3x3 product ``a (x) b``."""
    return (fmax(fmax(a[0] + b[0], a[1] + b[3]), a[2] + b[6]),
            fmax(fmax(a[0] + b[1], a[1] + b[4]), a[2] + b[7]),
            fmax(fmax(a[0] + b[2], a[1] + b[5]), a[2] + b[8]),
            fmax(fmax(a[3] + b[0], a[4] + b[3]), a[5] + b[6]),
            fmax(fmax(a[3] + b[1], a[4] + b[4]), a[5] + b[7]),
            fmax(fmax(a[3] + b[2], a[4] + b[5]), a[5] + b[8]),
            fmax(fmax(a[6] + b[0], a[7] + b[3]), a[8] + b[6]),
            fmax(fmax(a[6] + b[1], a[7] + b[4]), a[8] + b[7]),
            fmax(fmax(a[6] + b[2], a[7] + b[5]), a[8] + b[8]))


@compilable
def pow3(a, n):
    """``a^n`` (max-plus, float ``n >= 0``) by repeated squaring: ``log2 n`` squarings."""
    r = (0.0, NEG, NEG, NEG, 0.0, NEG, NEG, NEG, 0.0)
    k = int(n)
    while k > 0:
        if k & 1:
            r = mul3(a, r)
        k >>= 1
        if k > 0:
            a = mul3(a, a)
    return r
