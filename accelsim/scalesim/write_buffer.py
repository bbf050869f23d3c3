"""SCALE-Sim 3.0's OFMAP write buffer (memory/write_buffer.py) in closed form, drain by drain."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.errors import AccelsimError
from accelsim.scalesim.geometry import Folds


def _skewed_rows_before(h: int, w: int, x: int) -> int:
    """Elements of an h x w block skewed one row per column (element (r, c) on row r + c) on rows < x."""
    a, b = min(h, w), max(h, w)
    x = max(0, min(x, h + w - 1))
    if x <= a:
        return x * (x + 1) // 2
    if x <= b:
        return a * (a + 1) // 2 + (x - a) * a
    return a * b - (a + b - 1 - x) * (a + b - x) // 2


@dataclass(frozen=True, slots=True)
class Writes:
    """Where SCALE-Sim's OFMAP demand matrix puts its writes: per fold an h x w block, skewed, from row o.

    OS: h = rows used, w = columns used, o = T - 1 + (Ra - h) (the block is flipped, padding on top);
    WS and IS: h = T, w = columns used, o = 2*Ra - 1."""

    folds: Folds
    os: bool

    def block(self, fr: int, fc: int) -> tuple[int, int, int]:
        f = self.folds
        if self.os:
            h = f.used_rows(fr)
            return h, f.used_cols(fc), f.T - 1 + f.Ra - h
        return f.T, f.used_cols(fc), 2 * f.Ra - 1

    @property
    def height(self) -> int:  # block height of a fold that is not the last row fold
        return self.folds.Ra if self.os else self.folds.T

    @property
    def per_column_fold(self) -> int:  # writes of one full-width column fold
        f = self.folds
        return (f.Sr if self.os else f.rf * f.T) * f.Ca

    @property
    def total(self) -> int:
        f = self.folds
        return (f.Sr if self.os else f.rf * f.T) * f.Sc

    def before_row(self, row: int) -> int:
        """Writes on demand rows < row."""
        f = self.folds
        row = max(0, min(row, f.count * f.rows))
        fold, j = divmod(row, f.rows)
        if fold == f.count:
            return self.total
        fc, fr = divmod(fold, f.rf)
        h, w, o = self.block(fr, fc)
        return fc * self.per_column_fold + fr * self.height * w + _skewed_rows_before(h, w, j - o)

    def row_of(self, k: int) -> int:
        """Demand row of write k (0-based)."""
        f = self.folds
        fc = min(k // self.per_column_fold, f.cf - 1)
        k -= fc * self.per_column_fold
        w = f.used_cols(fc)
        fr = min(k // (self.height * w), f.rf - 1)
        k -= fr * self.height * w
        h, w, o = self.block(fr, fc)
        lo, hi = 0, h + w - 1  # smallest x with more than k elements on rows <= x
        while lo < hi:
            mid = (lo + hi) // 2
            if _skewed_rows_before(h, w, mid + 1) > k:
                hi = mid
            else:
                lo = mid + 1
        return (fc * f.rf + fr) * f.rows + o + lo


@dataclass(frozen=True, slots=True)
class OfmapTraffic:
    dram_writes: int
    dram_start_cycle: int
    dram_stop_cycle: int


def ofmap_write_buffer(writes: Writes, size_words: int, last_row: int) -> OfmapTraffic:
    """SCALE-Sim's ``write_buffer`` replayed drain by drain (a handful of integer steps per drain).

    Writes are packed into lines of ``bw`` = ArrayWidth words. Once more than ``D`` = floor(size/2) words
    are held and the previous drain is over, the write buffer closes its partial line and drains the
    next ceil(D/bw) lines, one line per cycle. A drain credits back a full line for every line but the
    last, even a partial one (SCALE-Sim subtracts only the last line's empty slots): those phantom words
    are counted as DRAM writes too. SCALE-Sim would stall the array on a write that finds the buffer full
    before the current drain ends; with at most ``bw`` writes per cycle that never happens (see
    docs/scalesim_compat.md), and the replay checks it.
    """
    f = writes.folds
    bw = f.Ca
    active = math.ceil(size_words * 0.5)
    drain = size_words - active
    lines_per_drain = math.ceil(drain / bw)
    total = writes.total

    segments: list[list[int]] = []  # closed lines not yet drained: [full lines, partial-line words]
    closed = 0  # writes already packed into closed lines
    credited = 0  # words a drain has given back (phantom words included)
    drain_end = 0
    first_start: int | None = None
    last_end = 0
    k = 0  # next write that may start a drain

    def take_lines(cycle: int) -> int:
        """Drain up to lines_per_drain lines at ``cycle``; return the drain's last cycle."""
        nonlocal credited, first_start, last_end
        lines, last_partial = 0, 0
        while segments and lines < lines_per_drain:
            seg = segments[0]
            take = min(seg[0], lines_per_drain - lines)
            seg[0] -= take
            lines += take
            last_partial = 0
            if seg[0] == 0 and lines < lines_per_drain:
                if seg[1]:
                    lines += 1
                    last_partial = seg[1]
                segments.pop(0)
            elif seg[0] == 0 and seg[1] == 0:
                segments.pop(0)
        credited += lines * bw - (bw - last_partial if last_partial else 0)
        end = cycle + lines - 1
        first_start = cycle if first_start is None else first_start
        last_end = max(last_end, end)
        return end

    def close(upto: int) -> None:
        nonlocal closed
        if upto > closed:
            segments.append([(upto - closed) // bw, (upto - closed) % bw])
            closed = upto

    while k < total:
        after_drain = max(k, writes.before_row(drain_end))  # first write on a cycle >= drain_end
        full = max(k, size_words + credited - 1)  # first write that leaves no free space
        if full < min(after_drain, total):
            raise AccelsimError("SCALE-Sim's OFMAP buffer must not fill mid-drain (a stall not reproduced)")
        trigger = max(after_drain, drain + credited)  # a drain starts once more than D words are held
        if trigger >= total:
            break
        close(trigger + 1)
        drain_end = take_lines(writes.row_of(trigger))
        k = trigger + 1

    # empty_all_buffers: from the last demand row's cycle, drain everything left, chunk after chunk.
    close(total)
    cycle = last_row
    while segments:
        cycle = take_lines(cycle) + 1
    assert first_start is not None
    return OfmapTraffic(credited, first_start, last_end)

