"""SCALE-Sim's read traces, compressed: runs of translated copies instead of the reads themselves.

A trace is the sequence of (address, demand row) of one operand's reads, in the order SCALE-Sim's read
buffer sees them (-1 entries dropped). SCALE-Sim's traces repeat themselves: a fold's next demand row is
often the previous one shifted by a constant address (the next window element, the next pixel), the next
fold the previous one shifted (the next pixels, the next window elements), the next column fold the same
reads again. A trace is therefore kept as a tree:

- :class:`Leaf`: a few reads, explicitly (addresses and rows relative to the subtree's origin);
- :class:`Run`: ``copies`` copies of a child, copy ``i`` shifted by ``i * addr_step`` and ``i * row_step``;
- :class:`Seq`: children one after the other, each at its own offsets.

Positions are read indices (0 = the trace's first read). Only the stretches the read buffer model has to
look at are ever materialised (or walked: :mod:`.walk`); :class:`Work` counts how many reads were.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from accelsim.jit import compiled
from accelsim.scalesim.wordset import close_between_copies, has_close_across, has_close_pair_in

# A subtree this short is materialised whole (and kept) when a read spans many of its copies.
FLAT_READS = 1 << 15
# Words a table indexed by word may span (int64: 64 MiB); sparser words are sorted instead.
SCRATCH_WORDS = 1 << 23


@dataclass
class Work:
    """What the buffer models did: trace reads built, gathered or walked (and the largest array), read
    buffer flush intervals and write buffer drains worked out one by one (the rest are inferred)."""

    reads: int = 0
    largest: int = 0
    epochs: int = 0
    drains: int = 0

    def add(self, n: int) -> None:
        self.reads += n
        self.largest = max(self.largest, n)


@dataclass(eq=False)
class Node:
    """A stretch of a trace: ``length`` reads. Built once per trace; what is worked out about a node is
    kept on it: its addresses when short (``flat``), whether it reads a word twice within a distance."""

    length: int = field(init=False)
    flat: np.ndarray | None = field(init=False, default=None, repr=False)
    close: dict[int, bool] = field(init=False, default_factory=dict, repr=False)
    bounds: tuple[int, int] | None = field(init=False, default=None, repr=False)


@dataclass(eq=False)
class Leaf(Node):
    addr: np.ndarray  # int64 addresses, relative to the subtree's origin
    row: np.ndarray  # int64 demand rows, likewise

    def __post_init__(self) -> None:
        self.length = len(self.addr)


@dataclass(eq=False)
class Run(Node):
    child: Node
    copies: int
    addr_step: int
    row_step: int

    def __post_init__(self) -> None:
        self.length = self.child.length * self.copies


@dataclass(eq=False)
class Seq(Node):
    parts: tuple[Node, ...]
    addr_offsets: tuple[int, ...]
    row_offsets: tuple[int, ...]
    starts: tuple[int, ...] = field(init=False)  # first read of each part

    def __post_init__(self) -> None:
        starts, at = [], 0
        for part in self.parts:
            starts.append(at)
            at += part.length
        self.starts, self.length = tuple(starts), at


def seq(items: list[tuple[Node, int, int]]) -> Node:
    """A :class:`Seq` of (node, addr_offset, row_offset), empty nodes dropped; a lone node stays as it is
    when it needs no offset."""
    items = [item for item in items if item[0].length]
    if len(items) == 1 and items[0][1:] == (0, 0):
        return items[0][0]
    return Seq(tuple(n for n, _, _ in items), tuple(a for _, a, _ in items), tuple(r for _, _, r in items))


def run(child: Node, copies: int, addr_step: int, row_step: int) -> Node:
    return child if copies == 1 else Run(child, copies, addr_step, row_step)


# A node holding a read: (node, the first read of its instance, the address and row of its origin).
Frame = tuple[Node, int, int, int]


def locate(root: Node, pos: int) -> list[Frame]:
    """The nodes holding read ``pos``, from ``root`` down to its leaf."""
    node, start, addr, row = root, 0, 0, 0
    frames: list[Frame] = [(root, 0, 0, 0)]
    while not isinstance(node, Leaf):
        if isinstance(node, Run):
            i = (pos - start) // node.child.length
            addr, row = addr + i * node.addr_step, row + i * node.row_step
            node, start = node.child, start + i * node.child.length
        else:
            assert isinstance(node, Seq)
            i = bisect.bisect_right(node.starts, pos - start) - 1
            start += node.starts[i]
            addr, row = addr + node.addr_offsets[i], row + node.row_offsets[i]
            node = node.parts[i]
        frames.append((node, start, addr, row))
    return frames


def word_bounds(node: Node) -> tuple[int, int]:
    """The least and the greatest address ``node`` reads, relative to its origin (kept on the node)."""
    if node.bounds is None:
        if isinstance(node, Leaf):
            node.bounds = (int(node.addr.min()), int(node.addr.max())) if node.length else (0, 0)
        elif isinstance(node, Run):
            lo, hi = word_bounds(node.child)
            last = (node.copies - 1) * node.addr_step
            node.bounds = (lo + min(0, last), hi + max(0, last))
        else:
            assert isinstance(node, Seq)
            parts = [word_bounds(p) for p in node.parts]
            node.bounds = (min(lo + a for (lo, _), a in zip(parts, node.addr_offsets, strict=True)),
                           max(hi + a for (_, hi), a in zip(parts, node.addr_offsets, strict=True)))
    return node.bounds


def window_bounds(node: Node, lo: int, hi: int) -> tuple[int, int]:
    """The least and the greatest address of reads ``lo`` to ``hi - 1`` of ``node`` (at least one),
    relative to its origin, from the bounds of the subtrees they cover whole."""
    lo, hi = max(lo, 0), min(hi, node.length)
    if lo <= 0 and hi >= node.length:
        return word_bounds(node)
    if isinstance(node, Leaf):
        return int(node.addr[lo:hi].min()), int(node.addr[lo:hi].max())
    pieces: list[tuple[int, int]] = []
    if isinstance(node, Run):
        size = node.child.length
        first, last = lo // size, (hi - 1) // size
        for i in sorted({first, last}):  # the copies the window may cover in part
            a, b = window_bounds(node.child, max(lo - i * size, 0), min(hi - i * size, size))
            pieces.append((a + i * node.addr_step, b + i * node.addr_step))
        if last - first > 1:  # and those it covers whole: the first and last of them bound the rest
            a, b = word_bounds(node.child)
            for i in (first + 1, last - 1):
                pieces.append((a + i * node.addr_step, b + i * node.addr_step))
    else:
        assert isinstance(node, Seq)
        for start, part, offset in zip(node.starts, node.parts, node.addr_offsets, strict=True):
            a, b = max(lo - start, 0), min(hi - start, part.length)
            if b > a:
                x, y = window_bounds(part, a, b)
                pieces.append((x + offset, y + offset))
    return min(a for a, _ in pieces), max(b for _, b in pieces)


def row_of(root: Node, pos: int) -> int:
    """Demand row of read ``pos``."""
    leaf, start, _, row = locate(root, pos)[-1]
    assert isinstance(leaf, Leaf)
    return int(leaf.row[pos - start]) + row


def _flat(node: Node, work: Work) -> np.ndarray:
    """All addresses of a short subtree (kept on the node)."""
    if isinstance(node, Leaf):
        return node.addr
    if node.flat is None:
        node.flat = addresses(node, 0, node.length, work)
    return node.flat


def addresses(node: Node, lo: int, hi: int, work: Work) -> np.ndarray:
    """Addresses of reads ``lo`` to ``hi - 1`` of ``node``, relative to its origin."""
    lo, hi = max(lo, 0), min(hi, node.length)
    out = np.empty(max(0, hi - lo), np.int64)
    if hi > lo:
        _fill(node, lo, hi, 0, out, work)
        work.add(hi - lo)
    return out


def _fill(node: Node, lo: int, hi: int, base: int, out: np.ndarray, work: Work) -> None:
    """Write ``base`` + the addresses of reads ``lo`` to ``hi - 1`` of ``node`` into ``out``."""
    if isinstance(node, Leaf):
        np.add(node.addr[lo:hi], base, out=out)
    elif isinstance(node, Run):
        size = node.child.length
        first, last = lo // size, (hi - 1) // size
        if size <= FLAT_READS and last > first:
            copies = base + np.arange(first, last + 1, dtype=np.int64) * node.addr_step
            block = np.add.outer(copies, _flat(node.child, work)).ravel()
            out[:] = block[lo - first * size : hi - first * size]
            return
        at = 0
        for i in range(first, last + 1):
            a, b = max(lo - i * size, 0), min(hi - i * size, size)
            _fill(node.child, a, b, base + i * node.addr_step, out[at : at + b - a], work)
            at += b - a
    else:
        assert isinstance(node, Seq)
        i = bisect.bisect_right(node.starts, lo) - 1
        at = 0
        while i < len(node.parts) and node.starts[i] < hi:
            s, part = node.starts[i], node.parts[i]
            a, b = max(lo - s, 0), min(hi - s, part.length)
            if b > a:
                _fill(part, a, b, base + node.addr_offsets[i], out[at : at + b - a], work)
                at += b - a
            i += 1


def has_close_pair(node: Node, distance: int, work: Work, fast: bool = True) -> bool:
    """Whether two reads of one address, with no read of it between them, lie fewer than ``distance``
    reads apart inside one instance of ``node`` (cached on the node, per distance). ``fast``: run the
    hash-table loops of :mod:`.wordset` compiled (else interpreted).

    A run's copies are translates of each other: a pair in two copies of a short child is a pair of the
    child's words ``addr_step`` times the copies between them apart, and a pair across a copy boundary
    of a long child lies within ``distance`` of it; in a sequence, a pair inside no part crosses a
    boundary, within ``distance`` of it.
    """
    if distance in node.close:
        return node.close[distance]
    if isinstance(node, Leaf):
        found = has_close_pair_in(node.addr, distance, fast)
    elif isinstance(node, Run):
        size = node.child.length
        if has_close_pair(node.child, distance, work, fast):
            found = True
        elif size >= distance:  # a pair crossing a copy boundary lies within `distance` of it
            found = _close_across(node, size, distance, work, fast)
        else:
            child = _flat(node.child, work) if size <= FLAT_READS else addresses(node.child, 0, size, work)
            found = _close_between_copies(node, child, distance, fast)
    else:
        assert isinstance(node, Seq)
        found = any(has_close_pair(part, distance, work, fast) for part in node.parts) or any(
            _close_across(node, s, distance, work, fast) for s in node.starts[1:]
        )
    node.close[distance] = found
    return found


def _close_between_copies(node: Run, child: np.ndarray, distance: int, fast: bool) -> bool:
    """Whether a word is read in two copies of ``node`` fewer than ``distance`` reads apart, its child
    (``child``, its addresses) shorter than ``distance``.

    Read ``o`` of copy ``k`` is word ``child[o] + k * step``: reads ``i`` of copy ``k`` and ``j`` of copy
    ``k + d`` read one word if ``child[i] = child[j] + d * step``, ``d * L + j - i`` reads apart (``L`` the
    child's length); the last read ``i`` of one word and the first ``j`` of the other are the closest.
    Only ``d`` up to ``(distance + L - 2) // L`` can be that close, and only those within the child's
    span of words."""
    size, step = len(child), node.addr_step
    if step == 0:  # every word again one copy later
        return node.copies > 1
    lo, hi = int(child.min()), int(child.max())
    most = min(node.copies - 1, (distance + size - 2) // size, (hi - lo) // abs(step))
    if most < 1:
        return False
    if hi - lo < SCRATCH_WORDS:  # a table indexed by word: 1 + its last read in the child (0: none)
        latest = np.zeros(hi - lo + 1, np.int64)
        latest[child - lo] = np.arange(1, size + 1)  # for repeated indices numpy keeps the last assignment
        fn = compiled(close_between_copies) if fast else close_between_copies
        return bool(fn(child, lo, step, most, distance, latest))
    order = np.argsort(child, kind="stable")
    ordered = child[order]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    words, first = ordered[starts], order[starts]  # each word and its first read in the child
    last = order[np.append(starts[1:], size) - 1]  # and its last
    for d in range(1, most + 1):
        target = words + d * step  # word j, d copies on, is word target[j]
        at = np.minimum(np.searchsorted(words, target), len(words) - 1)
        if np.any((words[at] == target) & (d * size + first - last[at] < distance)):
            return True
    return False


def _close_across(node: Node, boundary: int, distance: int, work: Work, fast: bool) -> bool:
    """Whether a word read in the ``distance`` reads of ``node`` before ``boundary`` is read again within
    ``distance`` reads of the one before it, after ``boundary`` (pairs on either side are not looked at).
    The two sides read no word in common if their ranges of words do not meet: then they are not read."""
    a, b = window_bounds(node, boundary - distance, boundary)
    c, d = window_bounds(node, boundary, boundary + distance)
    if b < c or d < a:
        return False
    left = addresses(node, boundary - distance, boundary, work)
    right = addresses(node, boundary, boundary + distance, work)
    return has_close_across(left, right, distance, fast)
