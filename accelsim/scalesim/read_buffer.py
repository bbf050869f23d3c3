"""SCALE-Sim 3.0's CALC-mode read buffers (memory/read_buffer_estimate_bw.py): DRAM reads of IFMAP, filter."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from accelsim.arch import Dataflow
from accelsim.scalesim.geometry import Folds, IfmapMatrix, Layer


def _skew_order(T: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, c) of a T x w block skewed one row per column, in the order SCALE-Sim reads them: by demand
    row t + c, then by column c."""
    d = np.arange(T + w - 1, dtype=np.int32)
    c_lo = np.maximum(0, d - T + 1)
    counts = np.minimum(d, w - 1) - c_lo + 1
    starts = np.cumsum(counts, dtype=np.int32) - counts
    c = np.arange(T * w, dtype=np.int32) - np.repeat(starts - c_lo, counts)
    return np.repeat(d, counts) - c, c


Fold = tuple[np.ndarray, np.ndarray]  # a fold's read addresses (no -1) and their demand rows
Batch = tuple[np.ndarray, np.ndarray, list[int], int]


@dataclass(frozen=True, slots=True)
class _Pass:
    """Reads made fold after fold: ``fold(i)`` for i < ``folds``; the whole pass is repeated ``repeats``
    times, each repeat ``row_step`` demand rows after the previous one. Folds are built when scanned, a
    batch at a time, so memory stays a few batches whatever the layer."""

    folds: int
    fold: Callable[[int], Fold]
    repeats: int
    row_step: int
    sizes: tuple[int, ...] = ()  # reads per fold, when every address is read once per pass (filters)

    def row(self, read: int) -> int:
        """Demand row of read ``read`` of the (repeated) pass; needs ``sizes``."""
        rep, read = divmod(read, sum(self.sizes))
        for fold, size in enumerate(self.sizes):
            if read < size:
                return int(self.fold(fold)[1][read]) + rep * self.row_step
            read -= size
        raise AssertionError("read index past the pass")

    def batches(self, fold: int, offset: int, size: int) -> Iterator[Batch]:
        """From read ``offset`` of fold ``fold`` on, whole folds joined to at least ``size`` reads:
        (addresses, rows, where each fold starts, first fold); the first fold starts at ``-offset``."""
        addresses: list[np.ndarray] = []
        rows: list[np.ndarray] = []
        starts: list[int] = []
        first, held = fold, -offset
        for i in range(fold, self.folds):
            a, r = self.fold(i)
            starts.append(held)
            addresses.append(a[offset:] if i == fold else a)
            rows.append(r[offset:] if i == fold else r)
            held += len(a)
            if held >= size or i == self.folds - 1:
                yield np.concatenate(addresses), np.concatenate(rows), starts, first
                addresses, rows, starts, first, held = [], [], [], i + 1, 0


def _read_passes(layer: Layer, f: Folds, dataflow: Dataflow, operand: str) -> list[_Pass]:
    """The reads SCALE-Sim's demand matrix holds for ``operand`` ("ifmap" or "filter"), in its order.

    A skewed T x w block puts element (t, c) on demand row ``at + t + c``; a flipped block (WS filter, IS
    IFMAP) puts the used rows of its Ra x Ca slice on rows ``Ra - h .. Ra - 1`` in reverse order. What
    SCALE-Sim repeats (the same slices for every column fold, or for every row fold) is one repeated pass.
    """
    Ra, Ca, K = f.Ra, f.Ca, layer.K
    column_fold_rows = f.rf * f.rows
    ifmap = IfmapMatrix(layer) if operand == "ifmap" else None

    skews: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    t_col = np.arange(f.T, dtype=np.int32)[:, None]

    def filt(m: np.ndarray, k: np.ndarray) -> np.ndarray:  # filter m, window element k
        return m * K + k

    def skewed(block: np.ndarray, first_row: int) -> tuple[np.ndarray, np.ndarray]:
        """A T x w block's entries in skewed reading order, and their demand rows."""
        w = block.shape[1]
        if w not in skews:
            t, c = _skew_order(f.T, w)
            skews[w] = t * w + c, t + c
        order, diagonal = skews[w]
        return block.ravel()[order], first_row + diagonal

    def columns(first: int, w: int) -> np.ndarray:
        return first + np.arange(w, dtype=np.int32)[None, :]

    def flipped(fold: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """(fc, window element k, column c, demand row) of a fold's flipped Ra x Ca slice."""
        fc, fr = divmod(fold, f.rf)
        h, w = f.used_rows(fr), f.used_cols(fc)
        r, c = np.divmod(np.arange(h * w, dtype=np.int32), w)
        return fc, fr * Ra + h - 1 - r, c, fold * f.rows + Ra - h + r

    def valid(addresses: np.ndarray, rows: np.ndarray) -> Fold:
        keep = addresses >= 0  # SCALE-Sim skips -1 (reads past the IFMAP edge)
        return addresses[keep], rows[keep]

    def os_ifmap(fr: int) -> Fold:  # pixels fr*Ra + c, window t
        return valid(*skewed(ifmap(columns(fr * Ra, f.used_rows(fr)), t_col), fr * f.rows))

    def ws_ifmap(fr: int) -> Fold:  # pixel t, window fr*Ra + c
        return valid(*skewed(ifmap(t_col, columns(fr * Ra, f.used_rows(fr))), fr * f.rows + Ra))

    def is_ifmap(fold: int) -> Fold:  # pixels fc*Ca + c, window fr*Ra..
        fc, k, c, rows = flipped(fold)
        return valid(ifmap(fc * Ca + c, k), rows)

    def ws_filter(fold: int) -> Fold:  # filters fc*Ca + c, window fr*Ra..
        fc, k, c, rows = flipped(fold)
        return filt(fc * Ca + c, k), rows

    def is_filter(fr: int) -> Fold:  # filter t, window fr*Ra + c
        return skewed(filt(t_col, columns(fr * Ra, f.used_rows(fr))), fr * f.rows + Ra)

    def os_filter(fc: int) -> Callable[[int], Fold]:  # filters fc*Ca + c, window t; the same every row fold
        def fold(_: int) -> Fold:
            return skewed(filt(columns(fc * Ca, f.used_cols(fc)), t_col), fc * column_fold_rows)

        return fold

    if dataflow is Dataflow.OS and operand == "ifmap":
        return [_Pass(f.rf, os_ifmap, f.cf, column_fold_rows)]
    if dataflow is Dataflow.OS:
        return [_Pass(1, os_filter(fc), f.rf, f.rows, (K * f.used_cols(fc),)) for fc in range(f.cf)]
    if dataflow is Dataflow.WS and operand == "ifmap":
        return [_Pass(f.rf, ws_ifmap, f.cf, column_fold_rows)]
    if dataflow is Dataflow.WS:
        sizes = tuple(f.used_rows(fr) * f.used_cols(fc) for fc in range(f.cf) for fr in range(f.rf))
        return [_Pass(f.count, ws_filter, 1, 0, sizes)]
    if operand == "ifmap":
        return [_Pass(f.count, is_ifmap, 1, 0)]
    sizes = tuple(f.T * f.used_rows(fr) for fr in range(f.rf))
    return [_Pass(f.rf, is_filter, f.cf, column_fold_rows, sizes)]


@dataclass(frozen=True, slots=True)
class ReadTraffic:
    dram_reads: int
    dram_start_cycle: int
    dram_stop_cycle: int


def _first_occurrences(part: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value in ``part`` (``scratch`` is indexable by every value)."""
    index = np.arange(len(part), dtype=np.int32)
    scratch[part[::-1]] = index[::-1]  # repeated indices: numpy keeps the last assignment, the first index
    first = scratch[part]
    if not np.all(first <= index):  # not that numpy: sort instead
        mask = np.zeros(len(part), dtype=bool)
        mask[np.unique(part, return_index=True)[1]] = True
        return mask
    return first == index


def _misses(passes: list[_Pass], capacity: int, space: int) -> tuple[int, int]:
    """Misses of SCALE-Sim's estimate-bandwidth read buffer, and the demand row of its last flush.

    ``ReadBufferEstimateBw`` files each new address into sets of ``items`` words; an address is a hit if
    it is in a set filled since the last flush, and the buffer flushes whenever 50 sets (``capacity`` =
    50 * items misses) have filled. Every miss is one DRAM read. The passes are scanned with numpy, a
    chunk at a time; a repeat of a pass that starts from the same flush position as an earlier repeat
    is not scanned again, nor one after a repeat without misses.

    A pass that reads each address once (``sizes``) and at least ``capacity`` of them misses on every
    read: an address read again was read a pass earlier, and since then at least ``capacity - 1`` other
    reads have missed, so the buffer has flushed in between.
    """
    stamp = np.zeros(space, dtype=np.int32)  # stamp[a] == epoch: a was read since the last flush
    scratch = np.empty(space, dtype=np.int32)
    epoch, held, misses, last_flush = 1, 0, 0, -1
    batch = max(1 << 16, 2 * capacity)
    reads_per_miss = 1.0  # running estimate, to size the chunks
    for run in passes:
        reads = sum(run.sizes)
        if reads >= capacity:  # every read misses
            total = reads * run.repeats
            last = (held + total) // capacity * capacity - held - 1  # the read that filled the last flush
            misses += total
            held = (held + total) % capacity
            if last >= 0:
                last_flush = run.row(last)
            epoch += 1  # the addresses still held are never read again
            continue
        # (fold, read) of the previous repeat's last flush -> flushes, words held at the end, last flush
        memo: dict[tuple[int, int], tuple[int, int, tuple[int, int], int]] = {}
        resume: tuple[int, int] | None = None
        for rep in range(run.repeats):
            if resume is not None and resume in memo:
                flushes, held_out, resume, row = memo[resume]
                misses += flushes * capacity - held + held_out
                held, last_flush = held_out, row + rep * run.row_step
                if not (rep + 1 < run.repeats and resume in memo):  # rebuild the state it left
                    epoch += 1
                    tail = 0
                    for x, _, _, _ in run.batches(resume[0], resume[1] + 1, batch):
                        x = np.unique(x[stamp[x] != epoch])
                        stamp[x] = epoch
                        tail += len(x)
                    assert tail == held
                continue
            key, held_in, flushes, last = resume, held, 0, None
            for x, rows, starts, first in run.batches(0, 0, batch):
                pos = 0
                while pos < len(x):
                    need = capacity - held
                    part = x[pos : pos + max(4096, int(1.25 * need * reads_per_miss))]
                    fresh = np.flatnonzero(stamp[part] != epoch)  # not read since the last flush
                    new = fresh[_first_occurrences(part[fresh], scratch)]
                    if len(new) >= need:
                        at = pos + int(new[need - 1])
                        reads_per_miss = (at + 1 - pos) / need
                        j = bisect.bisect_right(starts, at) - 1
                        last = (first + j, at - starts[j]), int(rows[at])
                        flushes, held, epoch, pos = flushes + 1, 0, epoch + 1, at + 1
                    else:
                        stamp[part[new]] = epoch
                        held += len(new)
                        pos += len(part)
            misses += flushes * capacity - held_in + held
            if last is None and held == held_in:  # nothing missed: neither will the remaining repeats
                break
            if last is not None:
                (resume, row) = last
                last_flush = row + rep * run.row_step
                if key is not None:
                    memo[key] = (flushes, held, resume, row)
            else:
                resume = None
    return misses, last_flush


def read_buffer(
    layer: Layer, f: Folds, dataflow: Dataflow, operand: str, size_kib: int, first_row: int
) -> ReadTraffic:
    """DRAM reads and the DRAM trace's first and last cycle of one read buffer (CALC mode)."""
    items = (1024 * size_kib) // 100  # words per set
    capacity = 50 * items  # misses between flushes: the active half of the buffer
    distinct = layer.ifmap_footprint if operand == "ifmap" else layer.K * layer.M
    if distinct < capacity:  # never flushes: every word is read from DRAM once, all before cycle 0
        prefetch_cycles = math.ceil(-(-distinct // items) * items / 10)
        return ReadTraffic(distinct, -prefetch_cycles, -1)
    space = layer.H * layer.W * layer.C if operand == "ifmap" else layer.K * layer.M
    misses, last_flush = _misses(_read_passes(layer, f, dataflow, operand), capacity, space)
    # The first flush prefetched the first 50 sets at 10 words/cycle, ending two cycles before the first
    # request; the last one ends on the cycle of the last flush (plus the one-cycle port latency).
    return ReadTraffic(misses, first_row - 5 * items, last_flush + 1)

