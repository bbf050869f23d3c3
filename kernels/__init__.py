"""accelsim.kernels: Numba convolution kernels with the contract of :func:`accelsim.reference.conv2d`.

``conv2d(x, w, stride=, pad=, groups=, route=)`` validates with the reference's own checks, allocates the
output and hands it to one route:

* ``"direct"`` (:mod:`.direct`): loops over output rows, one parallel job per (n, m) plane. No extra
  memory and no BLAS; wins when the per-group GEMM would be tiny (depthwise and thin grouped layers, very
  small layers).
* ``"im2col"`` (:mod:`.im2col`): a Numba unfold into a column buffer, then BLAS sgemm per image and group;
  int8 goes through the exact chunked sgemm of :mod:`.int8`. Wins on every dense layer of a real network.

``route=None`` picks with :func:`choose_route`: the direct loops for tiny GEMMs, otherwise the route measured
fastest on this machine for the layer's shape class, once, then cached on disk (:mod:`.autotune`); the fixed
rule :func:`rule_route` when the cache cannot be written or ``ACCELSIM_KERNEL_ROUTES=rule``. Naming a route
is for the tests and the benchmark. Importing this package imports Numba (the model modules of ``accelsim``
never do).
"""

from __future__ import annotations

import os

import numba
import numpy as np

from accelsim.errors import require
from accelsim.reference import check_operands

# Numba's OpenMP threads spin after a parallel region and take the cores from OpenBLAS's threads, which
# run right after the unfold; the workqueue layer's threads sleep. An explicit choice in the environment
# wins, and so does a layer already started by other code in this process.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

from .autotune import measured_route
from .direct import conv2d_direct
from .igemm import conv2d_igemm
from .im2col import conv2d_im2col

_KERNELS = {"direct": conv2d_direct, "im2col": conv2d_im2col, "igemm": conv2d_igemm}
ROUTES: tuple[str, ...] = tuple(_KERNELS)
FLOAT32_ROUTES: tuple[str, ...] = ("direct", "im2col")  # igemm is integer arithmetic: int8 only

# A per-group GEMM smaller than this (Mg * Cg*R*S multiply-adds per output pixel) is dominated by the
# per-call overhead of BLAS and the unfold's memory traffic; the direct loops are faster there.
_MIN_GEMM_MACS_PER_PIXEL = 512
# Whole layers smaller than this finish faster than the unfold buffer can be allocated and filled.
_MIN_IM2COL_MACS = 1 << 16


def _tiny(N: int, M: int, C: int, R: int, S: int, E: int, F: int, groups: int) -> bool:
    Mg, Kg = M // groups, (C // groups) * R * S
    return Mg * Kg < _MIN_GEMM_MACS_PER_PIXEL or N * M * E * F * Kg < _MIN_IM2COL_MACS


def rule_route(
    N: int, M: int, C: int, R: int, S: int, E: int, F: int, groups: int, stride: int = 1, dtype=np.float32
) -> str:
    """The fixed rule (fitted with benchmarks/kernels.py on one machine): direct for tiny GEMMs, else the
    GEMM route of the dtype. Deterministic; :func:`choose_route` falls back on it."""
    if _tiny(N, M, C, R, S, E, F, groups):
        return "direct"
    return "igemm" if np.dtype(dtype) == np.int8 else "im2col"


def choose_route(
    N: int, M: int, C: int, R: int, S: int, E: int, F: int, groups: int, stride: int = 1, dtype=np.float32
) -> str:
    """The route for this shape and dtype: direct for tiny GEMMs, else the one measured fastest on this
    machine for the shape class (:func:`.autotune.measured_route`), else :func:`rule_route`."""
    fallback = rule_route(N, M, C, R, S, E, F, groups, stride, dtype)
    if _tiny(N, M, C, R, S, E, F, groups):
        return fallback
    routes = ROUTES if np.dtype(dtype) == np.int8 else FLOAT32_ROUTES
    dims = (int(N), int(M), int(C), int(R), int(S), int(E), int(F), int(groups), int(stride))
    return measured_route(dims, dtype, {r: _KERNELS[r] for r in routes}, fallback)


def conv2d(
    x: np.ndarray, w: np.ndarray, *, stride: int = 1, pad: int = 0, groups: int = 1, route: str | None = None
) -> np.ndarray:
    """Convolution with exactly the contract of :func:`accelsim.reference.conv2d`.

    x: (N, C, H, W), w: (M, C/groups, R, S), both int8 (-> int32, two's-complement wrap-around, bit-exact)
    or both float32 (-> float32, float32 accumulation in a route-dependent order). Returns (N, M, E, F).
    """
    require(route is None or route in ROUTES, "route", f"one of {list(ROUTES)}", route)
    N, M, C, _, _, R, S, E, F = check_operands(x, w, stride, pad, groups)
    if x.dtype == np.float32:
        allowed = f"one of {list(FLOAT32_ROUTES)} for float32"
        require(route is None or route in FLOAT32_ROUTES, "route", allowed, route)
    out = np.empty((N, M, E, F), dtype=np.int32 if x.dtype == np.int8 else np.float32)
    if route is None:
        route = choose_route(N, M, C, R, S, E, F, int(groups), int(stride), x.dtype)
    _KERNELS[route](x, w, int(stride), int(pad), int(groups), out)
    return out


__all__ = ["FLOAT32_ROUTES", "ROUTES", "choose_route", "conv2d", "rule_route"]
