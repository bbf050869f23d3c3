"""SCALE-Sim 3.0's OFMAP write buffer (memory/write_buffer.py) in closed form, drain by drain."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.errors import AccelsimError
from accelsim.scalesim.geometry import Folds
from accelsim.scalesim.trace import Work


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

    def stretch(self, k: int) -> tuple[int, int, int, int, int, int]:
        """The stretch of alike folds holding write k: (first write, end, writes and rows per repeat, its
        first row, the folds' width). The full-width column folds form one, a narrower last one another;
        in each the folds repeat, or (OS with a short last row fold) the column folds."""
        f = self.folds
        full = f.cf - (f.used_cols(f.cf - 1) < f.Ca)
        first_fc, end_fc = (0, full) if k < full * self.per_column_fold else (full, f.cf)
        w = f.used_cols(first_fc)
        if self.os and f.Sr % f.Ra:
            period, period_rows = f.Sr * w, f.rf * f.rows
        else:
            period, period_rows = self.height * w, f.rows
        start = first_fc * self.per_column_fold
        return start, start + (end_fc - first_fc) * self.per_column_fold // f.Ca * w, period, \
            first_fc * f.rf * f.rows, period_rows, w

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


class _Drains:
    """SCALE-Sim's ``write_buffer`` replayed drain by drain (a handful of integer steps per drain).

    Writes are packed into lines of ``bw`` = ArrayWidth words. Once more than ``D`` = floor(size/2) words
    are held and the previous drain is over, the write buffer closes its partial line and drains the
    next ceil(D/bw) lines, one line per cycle. A drain credits back a full line for every line but the
    last, even a partial one (SCALE-Sim subtracts only the last line's empty slots): those phantom words
    are counted as DRAM writes too. SCALE-Sim would stall the array on a write that finds the buffer full
    before the current drain ends; with at most ``bw`` writes per cycle that never happens (see
    docs/scalesim_compat.md), and the replay checks it.

    Drains repeat. The writes do, fold after fold (all but a narrower last column fold, and in OS a
    shorter last row fold, are alike) and, inside a WS or IS fold's T x w block, row after row (w writes
    each); two drains that leave the buffer in the same state at the same offset within such a repeat
    are followed by the same drains, shifted. And a drain started by the count of held words alone
    lasts L cycles, in which at most (L - 1) * bw words arrive, while the next waits for at least
    (L - 1) * bw + 1: so is every later drain, and they repeat with the buffer's state alone, whatever
    the demand rows. Whole cycles of repeated drains are skipped.
    """

    def __init__(self, writes: Writes, size_words: int, work: Work) -> None:
        self.writes, self.size, self.work = writes, size_words, work
        self.bw = writes.folds.Ca
        self.drain = size_words - math.ceil(size_words * 0.5)  # words that start a drain, D
        self.lines = math.ceil(self.drain / self.bw)  # lines per drain
        self.queue: list[list[int]] = []  # closed lines not yet drained: [full lines, partial-line words]
        self.k = 0  # writes packed into closed lines; the next write that may start a drain
        self.credited = 0  # words drains have given back (phantom words included)
        self.drain_end = 0  # the last drain's last cycle
        self.first_start: int | None = None
        self.last_end = 0
        self.seen: dict[tuple[object, ...], tuple[int, int, int]] = {}  # key -> (k, credited, drain_end)
        self.by_count_since = 0  # k where the latest run of drains started by the count alone began

    def run(self, last_row: int) -> OfmapTraffic:
        writes, total = self.writes, self.writes.total
        while self.k < total:
            after_drain = max(self.k, writes.before_row(self.drain_end))  # first write from drain_end on
            full = max(self.k, self.size + self.credited - 1)  # first write that leaves no free space
            if full < min(after_drain, total):
                raise AccelsimError("SCALE-Sim's OFMAP buffer must not fill mid-drain (a stall not modelled)")
            trigger = max(after_drain, self.drain + self.credited)  # once more than D words are held
            if trigger >= total:
                break
            if trigger > self.drain + self.credited:
                self.by_count_since = trigger + 1
            self._close(trigger + 1)
            row = writes.row_of(trigger)
            self.drain_end = self._take_lines(row)
            self.work.drains += 1
            if self.k < total:
                self._skip(self.drain_end - row)
        # empty_all_buffers: from the last demand row's cycle, drain everything left, chunk after chunk.
        self._close(total)
        cycle = last_row
        while self.queue:
            cycle = self._take_lines(cycle) + 1
        assert self.first_start is not None
        return OfmapTraffic(self.credited, self.first_start, self.last_end)

    def _close(self, upto: int) -> None:
        if upto > self.k:
            self.queue.append([(upto - self.k) // self.bw, (upto - self.k) % self.bw])
            self.k = upto

    def _take_lines(self, cycle: int) -> int:
        """Drain up to a drain's lines at ``cycle``; return the drain's last cycle."""
        lines, last_partial = 0, 0
        while self.queue and lines < self.lines:
            seg = self.queue[0]
            take = min(seg[0], self.lines - lines)
            seg[0] -= take
            lines += take
            last_partial = 0
            if seg[0] == 0 and lines < self.lines:
                if seg[1]:
                    lines += 1
                    last_partial = seg[1]
                self.queue.pop(0)
            elif seg[0] == 0 and seg[1] == 0:
                self.queue.pop(0)
        self.credited += lines * self.bw - (self.bw - last_partial if last_partial else 0)
        end = cycle + lines - 1
        self.first_start = cycle if self.first_start is None else self.first_start
        self.last_end = max(self.last_end, end)
        return end

    def _skip(self, drained_cycles: int) -> None:
        """After a drain of ``drained_cycles + 1`` lines: skip whole cycles of drains that repeat."""
        f, k, writes = self.writes.folds, self.k, self.writes
        state = (self.credited - k, *map(tuple, self.queue))
        if self._repeat(("count", *state), writes.total - 1, None, self.by_count_since):
            # from the last write before it, the drain lasts as long as the one repeated
            self._move(self.k, self.credited, writes.row_of(self.k - 1) + drained_cycles)
            return
        begin, end, period, row0, period_rows, w = writes.stretch(k)
        i = (k - begin) // period  # the repeat holding write k
        k_base, row_base = begin + i * period, row0 + i * period_rows
        if not writes.os and w <= f.T:  # a fold's steady rows: w writes each, from row 2*Ra - 1 + w - 1
            a0, r0 = k_base + w * (w - 1) // 2, row_base + 2 * f.Ra + w - 2
            a1, r1 = a0 + (f.T - w + 1) * w, r0 + f.T - w
            key = ("row", k_base, (k - a0) % w, self.drain_end - r0 - (k - a0) // w, *state)
            if a0 <= k < a1 and r0 <= self.drain_end <= r1 and self._repeat(key, a1, r1):
                return
        key = ("fold", begin, k - k_base, self.drain_end - row_base, *state)
        self._repeat(key, end, row0 + (end - begin) // period * period_rows)

    def _repeat(self, key: tuple[object, ...], k_end: int, row_end: int | None, since: int = 0) -> bool:
        """If an earlier drain, from write ``since`` on, left the same ``key``, skip as many whole cycles
        since then as keep the next write below ``k_end`` and (unless ``row_end`` is None, when the caller
        works out the last drain's end) the last drain's end at most ``row_end``."""
        k, credited, drain_end = self.k, self.credited, self.drain_end
        then = self.seen.get(key)
        self.seen[key] = (k, credited, drain_end)
        if then is None or then[0] < since:
            return False
        k0, credited0, end0 = then
        n = (k_end - k) // (k - k0)
        if row_end is not None:
            n = min(n, (row_end - drain_end) // max(1, drain_end - end0))
        if n <= 0:
            return False
        self.k, self.credited = k + n * (k - k0), credited + n * (credited - credited0)
        if row_end is not None:
            self._move(self.k, self.credited, drain_end + n * (drain_end - end0))
            self.seen[key] = (self.k, self.credited, self.drain_end)
        return True

    def _move(self, k: int, credited: int, drain_end: int) -> None:
        self.k, self.credited, self.drain_end = k, credited, drain_end
        self.last_end = max(self.last_end, drain_end)


def ofmap_write_buffer(
    writes: Writes, size_words: int, last_row: int, work: Work | None = None
) -> OfmapTraffic:
    """SCALE-Sim's OFMAP write buffer for ``writes`` (see :class:`_Drains`): DRAM writes and the first
    and last cycle of the OFMAP DRAM trace. ``work`` counts the drains replayed one by one."""
    return _Drains(writes, size_words, Work() if work is None else work).run(last_row)
