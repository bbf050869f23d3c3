"""SCALE-Sim 3.0's CALC-mode read buffers (memory/read_buffer_estimate_bw.py): DRAM reads of IFMAP, filter.

``ReadBufferEstimateBw`` files each new address into sets of ``n = floor(bytes / 100)`` words; an address
hits if it was read since the last flush, and the buffer flushes (forgets everything) whenever 50 sets,
``Q = 50 n`` misses, have filled. Every miss is one DRAM read. So the misses are ``Q`` per flush interval
plus the distinct addresses of the last one, and only where the flushes fall needs working out:

- an operand of fewer than ``Q`` distinct words never flushes: each word is read from DRAM once;
- inside one instance of a run of translated copies (:mod:`.trace`) where no word is read twice within
  ``Q`` reads, every read misses: each flush interval is exactly ``Q`` reads;
- otherwise a flush interval ends at the ``Q``-th distinct address from its start, found by walking the
  trace from there into a set of words (:mod:`.walk`, :mod:`.wordset`); but two intervals starting at
  the same offset within two copies of a subtree are translates, and so is everything between them as
  long as it stays inside the copies: a run's orbit of interval starts is tabled copy by copy, cycles
  of it are skipped to the end of the run, an earlier instance of a subtree gives the rest of a later
  one, and a run of identical copies adds nothing once a whole copy has been read since the interval
  began (:class:`_Orbit`).

What this costs, and where it is not bounded by the layer's structure: docs/scalesim_compat.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from accelsim.arch import Dataflow
from accelsim.scalesim.geometry import Folds, Layer
from accelsim.scalesim.streams import read_trace
from accelsim.scalesim.trace import (
    Frame,
    Node,
    Run,
    Work,
    has_close_pair,
    locate,
    row_of,
    word_bounds,
)
from accelsim.scalesim.walk import FlatTree, flatten, walker
from accelsim.scalesim.wordset import WordSet


@dataclass(frozen=True, slots=True)
class ReadTraffic:
    dram_reads: int
    dram_start_cycle: int
    dram_stop_cycle: int


def _stretches(root: Node, start: int) -> Iterator[tuple[int, int]]:
    """The stretches ``[a, b)`` of the trace from read ``start`` on that can hold an address not yet read
    since ``start``: a run of identical copies adds nothing once a whole copy was read since then."""
    pos = start
    while pos < root.length:
        stop = root.length
        for node, first, _, _ in locate(root, pos):
            if isinstance(node, Run) and node.addr_step == 0:
                read_all = max(start, first) + node.child.length
                if pos >= read_all:
                    stop = pos = first + node.length
                    break
                stop = min(stop, read_all)
        else:
            yield pos, stop
            pos = stop


def _interval_end(
    root: Node, flat: FlatTree, start: int, words: WordSet, fast: bool
) -> tuple[int | None, int, int]:
    """The read after which the flush interval starting at read ``start`` has ``words.capacity`` distinct
    addresses (None at the end of the trace), how many it has then, and how many reads were looked at:
    the reads are added to ``words`` (emptied first) one by one, straight from the tree (:mod:`.walk`)."""
    words.clear()
    walk, looked = walker(fast), 0
    for a, b in _stretches(root, start):
        taken, words.count = walk(*flat.arrays(), a, b, words.table, words.lo, not words.bitmap, words.used,
                                  words.count, words.capacity, words.spans)
        looked += taken
        if words.count == words.capacity:
            return a + taken, words.capacity, looked
    return None, words.count, looked


Instance = tuple[int, int]  # a node (its id) and where one of its instances starts in the trace
MEMO = 4096  # offsets remembered per instance, for the cross-instance and cycle skips


class _Orbit:
    """The read buffer's flushes over a trace, skipping what repeats.

    Flush intervals are worked out one by one (:func:`_interval_end`) from ``start``; before each, these
    ways to skip many at once are tried, on every subtree holding ``start``, the outermost first (an
    *instance* of a node is one place where it occurs in the trace; all instances of a node, and all
    copies of a run's child, are translates of each other, and so are the intervals that lie in them):

    - a run: from the first flush in a copy, at this offset, the orbit once went on to offset x' in the
      m-th copy on, f flushes later; so it does again, if the instance has that copy (a table per run,
      followed copy by copy, and a cycle of it repeated to the instance's end);
    - an earlier instance of the node had a flush at the same offset: from there on it flushed at the
      same offsets as this one will, up to its last flush inside it;
    - inside one instance of a run, no word is read twice within ``capacity`` reads (checked once
      intervals of exactly ``capacity`` reads suggest it): every read misses up to the instance's end;
    - inside one instance of a run, a flush at the same offset within a copy as an earlier one: the
      flushes in between repeat, shifted by whole copies, up to the instance's end.

    So a run's table holds at most one entry per offset within its child, and an interval is read only
    where no table, instance or cycle tells where the orbit goes.
    """

    def __init__(self, root: Node, capacity: int, work: Work, fast: bool = True) -> None:
        self.root, self.capacity, self.work, self.fast = root, capacity, work, fast
        self.words = WordSet(capacity, *word_bounds(root), fast)
        self.flat = flatten(root)
        self.start = self.flushes = 0  # flush intervals so far; the current one starts at read `start`
        self.history: dict[Instance, dict[int, int]] = {}  # offsets of an instance's first flushes -> flushes
        self.last: dict[Instance, tuple[int, int]] = {}  # instance left: (offset, flushes) of its last flush
        self.latest: dict[int, int] = {}  # node -> its last instance left by an interval from inside it
        self.cycles: dict[Instance, dict[int, tuple[int, int]]] = {}  # offset in a copy -> (flushes, read)
        self.exact: dict[Instance, int] = {}  # intervals in a row of exactly `capacity` reads
        self.onward: dict[tuple[int, int], tuple[int, int, int]] = {}  # (run, offset) -> (copies, offset, f)
        self.copy_first: dict[Instance, tuple[int, int, int]] = {}  # the current copy's first flush

    def misses(self) -> tuple[int, int]:
        """All misses, and the read after which the buffer last flushed."""
        capacity = self.capacity
        while self.start < self.root.length:
            frames = locate(self.root, self.start)[:-1]
            if self._skip(frames):
                continue
            end, count, looked = _interval_end(self.root, self.flat, self.start, self.words, self.fast)
            self.work.reads += looked
            if end is None:
                return self.flushes * capacity + count, self.start
            self.work.epochs += 1
            for node, first, _, _ in frames:
                instance = (id(node), first)
                if end >= first + node.length:
                    self.last[instance] = (self.start - first, self.flushes)
                    self.latest[id(node)] = first
                if isinstance(node, Run):
                    exact = end - self.start == capacity
                    self.exact[instance] = self.exact.get(instance, 0) + 1 if exact else 0
            self.start, self.flushes = end, self.flushes + 1
        return self.flushes * capacity, self.start

    def _jump(self, to: int, flushes: int) -> bool:
        self.start, self.flushes = to, flushes
        return True

    def _follow(self, run: Run, copy: int, within: int, flushes: int) -> tuple[int, int, int] | None:
        """Follow the run's table from a copy's first flush as far as it goes inside the instance,
        skipping whole cycles of it: (copy, offset, flushes) there, or None."""
        onward, seen, moved = self.onward, {within: (copy, flushes)}, False
        while (known := onward.get((id(run), within))) is not None and copy + known[0] < run.copies:
            copy, within, flushes, moved = copy + known[0], known[1], flushes + known[2], True
            if within in seen:  # a cycle: repeat it while the instance lasts
                copy0, flushes0 = seen[within]
                n = (run.copies - 1 - copy) // (copy - copy0)
                copy, flushes = copy + n * (copy - copy0), flushes + n * (flushes - flushes0)
                seen = {}
            seen[within] = (copy, flushes)
        return (copy, within, flushes) if moved else None

    def _skip(self, frames: list[Frame]) -> bool:
        """Skip ahead from ``start`` if anything repeats; whether it did."""
        start, flushes, capacity = self.start, self.flushes, self.capacity
        for node, first, _, _ in frames:  # the outermost subtree first
            instance, offset, end = (id(node), first), start - first, first + node.length
            if isinstance(node, Run):
                copy, within = divmod(offset, node.child.length)
                before = self.copy_first.get(instance)
                if before is None or before[0] < copy:  # the first flush in this copy
                    self.copy_first[instance] = (copy, within, flushes)
                    if before is not None:
                        known = self.onward.get((id(node), before[1]))
                        if known is None or known[0] > copy - before[0]:
                            self.onward[id(node), before[1]] = (copy - before[0], within, flushes - before[2])
                    to = self._follow(node, copy, within, flushes)
                    if to is not None:
                        return self._jump(first + to[0] * node.child.length + to[1], to[2])
            before = self.latest.get(id(node))
            if before is not None and before != first:
                seen = self.history[id(node), before].get(offset)
                last, last_flushes = self.last[id(node), before]
                if seen is not None and last > offset:
                    return self._jump(first + last, flushes + last_flushes - seen)
            history = self.history.setdefault(instance, {})
            if len(history) < MEMO:
                history[offset] = flushes
            if not isinstance(node, Run):
                continue
            if self.exact.get(instance, 0) >= 2 and not has_close_pair(node, capacity, self.work, self.fast):
                n = (end - start) // capacity  # no word read twice within `capacity` reads: all miss
                if n:
                    return self._jump(start + n * capacity, flushes + n)
            cycles = self.cycles.setdefault(instance, {})
            if within in cycles:
                then, at = cycles[within]
                n = (end - start) // (start - at)
                if n:
                    return self._jump(start + n * (start - at), flushes + n * (flushes - then))
            if len(cycles) < MEMO:
                cycles[within] = (flushes, start)
        return False


def read_buffer(layer: Layer, f: Folds, dataflow: Dataflow, operand: str, size_kib: int, first_row: int,
                work: Work | None = None) -> ReadTraffic:
    """DRAM reads and the DRAM trace's first and last cycle of one read buffer (CALC mode)."""
    items = (1024 * size_kib) // 100  # words per set
    capacity = 50 * items  # misses between flushes: the active half of the buffer
    distinct = layer.ifmap_footprint if operand == "ifmap" else layer.K * layer.M
    if distinct < capacity:  # never flushes: every word is read from DRAM once, all before cycle 0
        prefetch_cycles = math.ceil(-(-distinct // items) * items / 10)
        return ReadTraffic(distinct, -prefetch_cycles, -1)
    work = Work() if work is None else work
    trace = read_trace(layer, f, dataflow, operand, work)
    misses, last_flush = _Orbit(trace, capacity, work).misses()
    # The first flush prefetched the first 50 sets at 10 words/cycle, ending two cycles before the first
    # request; the last one ends on the cycle of the last flush (plus the one-cycle port latency).
    return ReadTraffic(misses, first_row - 5 * items, row_of(trace, last_flush - 1) + 1)
