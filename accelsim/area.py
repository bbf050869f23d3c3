"""An area estimate of the accelerator as the RTL builds it, fitted to the Yosys ``synth_ice40`` figures of
``scripts/synth.py`` (docs/synthesis.md, data in docs/synthesis.json).

Units are iCE40 cells: LUT4s, flip-flops (every ``SB_DFF*``) and 4-kbit block RAMs (``SB_RAM40_4K``), and
one combined figure, ``area_lut4_eq`` (LUT4-equivalents): ``LUT4 + FF + 256 * BRAM``. An iCE40 logic cell
holds one LUT4 and one flip-flop, so LUT4 + FF bounds the logic cells from above; a 4-kbit BRAM counts as
the 256 LUT4s whose 16-bit truth tables would hold its 4,096 bits.

* Block RAMs are counted, not fitted: each memory of the build (``AccelParams.from_arch``: the ifmap and
  weight scratchpads, words of V rows, ``V * lanes * 8`` bits wide and ``2 * ceil(rows_per_buffer / V)``
  deep, and the accumulator, ``AC * 32`` bits wide and ``2 * rows_per_buffer`` deep, the rows and lanes of
  :func:`accelsim.mapping.built_buffers`: the largest over the dataflows built) takes the fewest SB_RAM40_4K
  of the four shapes 256x16, 512x8, 1024x4, 2048x2; the
  accumulator twice (its array read-modify-write port and its store-unit read port: docs/microarchitecture.md
  "Scratchpads").
* LUT4s and FFs are linear in a few counts, with the coefficients of :data:`LUT_COEFFS` and :data:`FF_COEFFS`
  (non-negative least squares, in relative error, over every point of docs/synthesis.json:
  ``python scripts/synth.py --fit``): a fixed cost (controller, queues, DMA address generators), a cost per
  PE, per int8 multiplier (PEs x V: the dot-product PE's multipliers and the adders summing them), per lane
  of the array's edges (``AR*V + AC``: skew registers, buffer ports, requantizers) and, for a build running
  OS and IS as well as WS, a cost per PE. Non-negative coefficients keep the model monotone in every count.

The model has no term for the buffer sizes other than the BRAMs (docs/synthesis.md shows the LUT4/FF change
with 2x the buffers). It is monotone in the array's rows and columns, V and the buffer sizes for a WS-only
build and along square arrays; a non-square build of all three dataflows provisions each scratchpad with the
most lanes and the most rows any of them needs (``AccelParams.from_arch``), so its BRAMs can fall as the
array grows toward square (a 2x32 array's 4 KiB spads are built as 64 KiB each): the model follows the RTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.arch import ALL_DATAFLOWS, DF_IS, DF_OS, DF_WS, ArchConfig
from accelsim.mapping import built_buffers

#: LUT4-equivalents of one 4-kbit block RAM in ``area_lut4_eq``.
BRAM_LUT4_EQ = 256
#: SB_RAM40_4K shapes (width bits, depth words).
BRAM_SHAPES = ((16, 256), (8, 512), (4, 1024), (2, 2048))
#: Terms of the LUT4/FF model, in the order of the coefficients.
TERMS = ("fixed", "per_pe", "per_multiplier", "per_edge_lane", "per_pe_os_is")
LUT_COEFFS = (20138.0, 43.5, 314.8, 228.7, 58.8)
FF_COEFFS = (3663.2, 31.7, 47.2, 7.6, 17.3)
#: The largest error of the model over the synthesized points (LUT4, FF, area_lut4_eq), in percent.
STATED_ERROR_PCT = 7.0


@dataclass(frozen=True, slots=True)
class AreaEstimate:
    """An estimate (or a measurement) in iCE40 cells."""

    luts: float
    ffs: float
    brams: int

    @property
    def area(self) -> float:
        return combine(self.luts, self.ffs, self.brams)

    def to_dict(self) -> dict[str, float | int]:
        return {"lut4": round(self.luts), "ff": round(self.ffs), "bram_4kbit": self.brams,
                "area_lut4_eq": round(self.area)}


def combine(luts, ffs, brams):
    """``area_lut4_eq`` of LUT4, FF and BRAM counts (scalars or arrays)."""
    return luts + ffs + BRAM_LUT4_EQ * brams


def bram_count(width_bits, depth):
    """SB_RAM40_4K blocks of one memory ``width_bits`` x ``depth`` (the fewest of the four shapes)."""
    return np.min([-(-np.asarray(width_bits) // w) * -(-np.asarray(depth) // d) for w, d in BRAM_SHAPES],
                  axis=0)


def terms(AR, AC, V, dataflows=ALL_DATAFLOWS):
    """The counts the LUT4/FF coefficients multiply (arrays or scalars), in :data:`TERMS` order."""
    AR, AC, V = (np.asarray(x, np.int64) for x in (AR, AC, V))
    pes = AR * AC
    os_is = 1 if (DF_OS in dataflows or DF_IS in dataflows) else 0
    return (np.ones_like(pes), pes, pes * V, AR * V + AC, pes * os_is)


def area_arrays(AR, AC, V, ifmap_kib, weight_kib, acc_kib, dataflows=ALL_DATAFLOWS) -> dict[str, np.ndarray]:
    """The estimate of every configuration of equal-shaped arrays: ``luts``, ``ffs``, ``brams``, ``area``
    (LUT4-equivalents), as float64 arrays (the sweep's vectorised path; :func:`estimate_area` is one
    point)."""
    AR, AC, V, ik, wk, ak = np.broadcast_arrays(*(np.asarray(x, np.int64) for x in
                                                  (AR, AC, V, ifmap_kib, weight_kib, acc_kib)))
    t = terms(AR, AC, V, dataflows)
    luts = sum(c * x for c, x in zip(LUT_COEFFS, t, strict=True)).astype(np.float64)
    ffs = sum(c * x for c, x in zip(FF_COEFFS, t, strict=True)).astype(np.float64)
    ifmap_lanes, weight_lanes, ifmap_rows, weight_rows, acc_rows = built_buffers(
        dataflows, AR, AC, V, ik, wk, ak)
    # the operand spads as words of V rows (V times wider, V times shallower), two buffers each
    brams = (bram_count(V * ifmap_lanes * 8, 2 * ifmap_rows // V)
             + bram_count(V * weight_lanes * 8, 2 * weight_rows // V)
             + 2 * bram_count(AC * 32, 2 * acc_rows)).astype(np.float64)
    return {"luts": luts, "ffs": ffs, "brams": brams, "area": combine(luts, ffs, brams)}


def estimate_area(arch: ArchConfig, dataflows: tuple[int, ...] = ALL_DATAFLOWS) -> AreaEstimate:
    """The estimate of ``arch`` built to run ``dataflows`` (default: all three, as ``accelsim rtl generate``
    builds it)."""
    a = area_arrays(arch.array_rows, arch.array_cols, arch.pe_dot_width, arch.ifmap_spad_kib,
                    arch.weight_spad_kib, arch.acc_kib, dataflows)
    return AreaEstimate(luts=float(a["luts"]), ffs=float(a["ffs"]), brams=int(a["brams"]))


#: The dataflow sets the synthesis data names (docs/synthesis.json ``dataflows``).
DATAFLOW_SETS = {"ws": (DF_WS,), "all": ALL_DATAFLOWS}


def fit_coefficients(points) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(LUT4, FF) coefficients of :data:`TERMS`, non-negative least squares in relative error over
    ``points`` (the values of docs/synthesis.json's ``points``), rounded to 0.1: how :data:`LUT_COEFFS` and
    :data:`FF_COEFFS` were made."""
    points = list(points)
    X = np.array([[float(t) for t in terms(p["array_rows"], p["array_cols"], p["pe_dot_width"],
                                           DATAFLOW_SETS[p["dataflows"]])] for p in points])
    out = []
    for field in ("luts", "ffs"):
        y = np.array([float(p[field]) for p in points])
        out.append(tuple(round(float(c), 1) for c in _nonnegative_lstsq(X / y[:, None], np.ones_like(y))))
    return out[0], out[1]


def _nonnegative_lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin |A x - b| over x >= 0 (every cost is a cost: the model stays monotone), exactly, by trying
    every subset of the few terms (2^5 least-squares solves)."""
    n = A.shape[1]
    best, best_x = np.inf, np.zeros(n)
    for mask in range(1, 1 << n):
        cols = [i for i in range(n) if mask >> i & 1]
        x = np.linalg.lstsq(A[:, cols], b, rcond=None)[0]
        if (x < 0).any():
            continue
        r = float(np.sum((A[:, cols] @ x - b) ** 2))
        if r < best - 1e-12:
            best, best_x = r, np.zeros(n)
            best_x[cols] = x
    return best_x


def _coeff_text(coeffs) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {c:,.1f}" for name, c in zip(TERMS, coeffs, strict=True))


AREA_MODEL_TEXT = (
    "`accelsim.area.estimate_area(arch)` (used by `accelsim simulate`, reports and sweeps) estimates iCE40 "
    "cells. LUT4 and FF are linear in the fixed cost, the PEs, the multipliers (PEs x V), the edge lanes "
    "(AR*V + AC) and, for a build running OS and IS too, the PEs again; coefficients (non-negative least "
    "squares in relative error over the points below, `python scripts/synth.py --fit`): "
    f"LUT4: {_coeff_text(LUT_COEFFS)}; FF: {_coeff_text(FF_COEFFS)}. "
    "BRAMs are counted from the memories' shapes (the fewest SB_RAM40_4K of 256x16, 512x8, 1024x4, 2048x2 "
    "per memory, the accumulator twice for its two read ports), not fitted. The combined figure "
    f"`area_lut4_eq` is LUT4 + FF + {BRAM_LUT4_EQ} x BRAM (a logic cell holds one LUT4 and one FF; a 4-kbit "
    f"BRAM counts as the {BRAM_LUT4_EQ} LUT4s whose truth tables would hold its bits). Stated tolerance "
    f"(tests/model/test_area.py): {STATED_ERROR_PCT:g} % on LUT4, FF and area_lut4_eq at every point; BRAM "
    "exact. The points are the fit's own data, so the errors below are in-sample; for V = 8, arrays larger "
    "than the largest point and buffers other than those synthesized the model extrapolates."
)

__all__ = ["AREA_MODEL_TEXT", "AreaEstimate", "area_arrays", "bram_count", "combine",
           "estimate_area", "fit_coefficients"]
