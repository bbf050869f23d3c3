"""The layer and its folds as SCALE-Sim 3.0 sees them: operand matrices, fold shapes and fold order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.arch import Dataflow
from accelsim.scalesim.cfg import ScaleSimConfig


@dataclass(frozen=True, slots=True)
class Layer:
    """The layer as a SCALE-Sim topology row: no padding, SCALE-Sim's ceil output size."""

    H: int
    W: int
    R: int
    S: int
    C: int
    M: int
    U: int

    @property
    def E(self) -> int:
        return -(-(self.H - self.R + self.U) // self.U)

    @property
    def F(self) -> int:
        return -(-(self.W - self.S + self.U) // self.U)

    @property
    def K(self) -> int:  # window: GEMM reduction length
        return self.R * self.S * self.C

    @property
    def P(self) -> int:  # output pixels per filter
        return self.E * self.F

    def covered(self, size: int, window: int, out: int) -> int:
        """Input rows (or columns) that at least one of the ``out`` windows touches."""
        if window >= self.U:  # windows overlap or abut: one run from 0
            return min(size, (out - 1) * self.U + window)
        inside = (size - window) // self.U + 1  # windows wholly inside; at most one more, cut short
        return inside * window + (max(0, size - inside * self.U) if out > inside else 0)

    @property
    def ifmap_footprint(self) -> int:
        """Distinct IFMAP words read (SCALE-Sim reads no word that no window covers)."""
        return self.covered(self.H, self.R, self.E) * self.covered(self.W, self.S, self.F) * self.C


class IfmapMatrix:
    """SCALE-Sim's IFMAP operand matrix (pixel p x window element k), offset 0, -1 past the input edge;
    entries are gathered from per-pixel and per-element tables."""

    def __init__(self, layer: Layer) -> None:
        er, ec = np.divmod(np.arange(layer.P, dtype=np.int32), layer.F)
        r, rest = np.divmod(np.arange(layer.K, dtype=np.int32), layer.S * layer.C)
        s, ch = np.divmod(rest, layer.C)
        self.y0, self.x0, self.r, self.s = er * layer.U, ec * layer.U, r, s
        self.base = (self.y0 * layer.W + self.x0) * layer.C
        self.offset = (r * layer.W + s) * layer.C + ch
        self.H, self.W = layer.H, layer.W
        # SCALE-Sim's ceil output size reads past the edge only when a stride does not divide H-R (W-S).
        self.edge = (layer.H - layer.R) % layer.U != 0 or (layer.W - layer.S) % layer.U != 0

    def __call__(self, p: np.ndarray, k: np.ndarray) -> np.ndarray:
        addresses = self.base[p] + self.offset[k]
        if not self.edge:
            return addresses
        inside = (self.y0[p] + self.r[k] < self.H) & (self.x0[p] + self.s[k] < self.W)
        return np.where(inside, addresses, -1)


@dataclass(frozen=True, slots=True)
class Folds:
    """An Sr x Sc operand mapped onto an Ra x Ca array, T cycles of streaming per fold.

    SCALE-Sim visits the folds column fold outermost (``for fc: for fr:``); every fold takes ``rows``
    cycles of its demand matrices."""

    Sr: int
    Sc: int
    T: int
    Ra: int
    Ca: int
    rows: int

    @property
    def rf(self) -> int:
        return -(-self.Sr // self.Ra)

    @property
    def cf(self) -> int:
        return -(-self.Sc // self.Ca)

    @property
    def count(self) -> int:
        return self.rf * self.cf

    def used_rows(self, fr: int) -> int:
        return min(self.Ra, self.Sr - fr * self.Ra)

    def used_cols(self, fc: int) -> int:
        return min(self.Ca, self.Sc - fc * self.Ca)

    def per_fold(self, full: float, last_row: float, last_col: float, last_both: float) -> np.ndarray:
        """A value per fold, in SCALE-Sim's fold order, from the four fold shapes."""
        column = np.full(self.rf, full)
        column[-1] = last_row
        values = np.tile(column, self.cf)
        values[(self.cf - 1) * self.rf :] = last_col
        values[-1] = last_both
        return values


def folds(layer: Layer, cfg: ScaleSimConfig) -> Folds:
    Ra, Ca = cfg.array_height, cfg.array_width
    if cfg.dataflow is Dataflow.OS:
        return Folds(Sr=layer.P, Sc=layer.M, T=layer.K, Ra=Ra, Ca=Ca, rows=layer.K + Ra + Ca - 2)
    if cfg.dataflow is Dataflow.WS:
        return Folds(Sr=layer.K, Sc=layer.M, T=layer.P, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.P - 2)
    return Folds(Sr=layer.K, Sc=layer.P, T=layer.M, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.M - 2)


def sequential_mean(values: np.ndarray) -> float:
    """``sum(list) / len(list)`` as Python <= 3.11 evaluates it: left-to-right double additions."""
    return float(np.add.accumulate(values)[-1]) / len(values)

