"""The layer and its folds as SCALE-Sim 3.0 sees them: operand matrices, fold shapes and fold order."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

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

    def mean_over_folds(self, full: float, last_row: float, last_col: float, last_both: float) -> float:
        """The mean of a value per fold, given for the four fold shapes, as SCALE-Sim takes it: ``sum()``
        of the list in fold order (left to right in doubles, as Python <= 3.11 adds), over its length."""
        if self.count <= 1 << 16:  # few: add them up
            column = np.full(self.rf, full)
            column[-1] = last_row
            values = np.tile(column, self.cf)
            values[(self.cf - 1) * self.rf :] = last_col
            values[-1] = last_both
            return float(np.add.accumulate(values)[-1]) / self.count
        total = float_sum(0.0, ((full, self.rf - 1), (last_row, 1)), self.cf - 1)
        return float_sum(total, ((last_col, self.rf - 1), (last_both, 1)), 1) / self.count


def folds(layer: Layer, cfg: ScaleSimConfig) -> Folds:
    Ra, Ca = cfg.array_height, cfg.array_width
    if cfg.dataflow is Dataflow.OS:
        return Folds(Sr=layer.P, Sc=layer.M, T=layer.K, Ra=Ra, Ca=Ca, rows=layer.K + Ra + Ca - 2)
    if cfg.dataflow is Dataflow.WS:
        return Folds(Sr=layer.K, Sc=layer.M, T=layer.P, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.P - 2)
    return Folds(Sr=layer.K, Sc=layer.P, T=layer.M, Ra=Ra, Ca=Ca, rows=2 * Ra + Ca + layer.M - 2)


def float_sum(s: float, block: tuple[tuple[float, int], ...], times: int) -> float:
    """``s`` plus ``times`` copies of ``block`` (``(value, count)``: ``count`` copies of a positive
    ``value``), added one value at a time, left to right, in doubles (round to nearest, ties to even).

    Inside one binade ``[top/2, top)`` every double is a multiple of ``u = top * 2**-53``, and
    ``x + value`` rounds to ``x`` plus a multiple of ``u`` that depends on ``value`` and, at a tie, on
    the parity of ``x / u``: a block adds one of two steps, chosen by that parity. Once two blocks come
    back to the parity they started from, pairs of blocks repeat until near the binade's top and are
    skipped; a handful of additions per binade remain.
    """

    def once(x: float) -> float:
        for value, count in block:
            x = x + value if count == 1 else float_sum(x, ((value, 1),), count)
        return x

    peak = Fraction(max(value for value, count in block if count))
    while times > 0:
        if times < 3 or s == 0.0:
            s, times = once(s), times - 1
            continue
        s1 = once(s)
        s3, times = once(once(s1)), times - 3
        top = Fraction(2) ** math.frexp(s1)[1]
        u = top / 2**53
        start, end = Fraction(s1), Fraction(s3)
        if end + peak + u < top and (start / u) % 2 == (end / u) % 2:
            if end == start:  # adding the block no longer changes the sum
                return s3
            room = (top - u - peak - end) / (end - start)  # pairs that keep every partial sum below top
            pairs = min(times // 2, math.ceil(room) - 1)
            s3, times = float(end + pairs * (end - start)), times - 2 * pairs
        s = s3
    return s
