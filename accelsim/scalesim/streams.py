"""The reads SCALE-Sim 3.0 sends to its IFMAP and filter read buffers, as trace trees (:mod:`.trace`).

Each dataflow maps an operand slice onto the array fold after fold (column fold outermost). A fold's reads
form a block of its demand matrix: *skewed* (entry ``(t, c)`` of a ``T x w`` block on demand row
``t + c``, read by row, then by column) or *flipped* (the used rows of an ``Ra x Ca`` slice, bottom-aligned
and in reverse order: WS filter, IS IFMAP). The trees follow the layer's structure:

- inside a skewed block, the next demand row reads the next window element (OS IFMAP), pixel (WS IFMAP)
  or filter (IS filter) in every column: a run of rows shifted by one constant, broken where some
  column steps across a filter row, an output row or the input's edge (``breaks``); every filter row
  (OS) or output row (WS) the pattern repeats, shifted by one input row;
- pixel groups (OS folds, IS column folds) repeat along an output row, shifted by the group's width, and
  every ``F / gcd(F, group)`` groups the pattern repeats one or more rows down;
- element blocks (WS folds) repeat along a filter row, shifted by ``Ra`` channels;
- a whole pass is read again for every column fold (OS and WS IFMAP, IS filter).

Addresses are SCALE-Sim's with zero offsets: IFMAP ``(y*W + x)*C + ch`` (``-1``, i.e. no read, past the
input edge), filter ``m*K + k``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import numpy as np

from accelsim.arch import Dataflow
from accelsim.scalesim.geometry import Folds, Layer
from accelsim.scalesim.trace import Leaf, Node, Work, run, seq

AddrFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
BreakFn = Callable[[np.ndarray], np.ndarray]
Item = tuple[Node, int, int]


def ifmap_address(v: Layer, p: np.ndarray, k: np.ndarray) -> np.ndarray:
    """IFMAP address of pixel ``p``'s window element ``k`` (-1 past the input's bottom or right edge)."""
    er, ec = np.divmod(p, v.F)
    r, rest = np.divmod(k, v.S * v.C)
    s, ch = np.divmod(rest, v.C)
    y, x = er * v.U + r, ec * v.U + s
    return np.where((y < v.H) & (x < v.W), (y * v.W + x) * v.C + ch, -1)


def skew_entries(T: int, w: int, d0: int, d1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, c, row) of a T x w skewed block's entries on demand rows d0 to d1 - 1, in SCALE-Sim's order."""
    d = np.arange(d0, d1, dtype=np.int64)
    c_lo = np.maximum(0, d - T + 1)
    counts = np.maximum(0, np.minimum(d, w - 1) - c_lo + 1)
    starts = np.cumsum(counts) - counts
    c = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts - c_lo, counts)
    rows = np.repeat(d, counts)
    return rows - c, c, rows


def _never(t: np.ndarray) -> np.ndarray:
    return np.zeros(len(t), bool)


def _leaf(addr: np.ndarray, rows: np.ndarray, work: Work) -> Leaf:
    keep = addr >= 0
    work.add(len(addr))
    return Leaf(addr[keep].astype(np.int64), rows[keep].astype(np.int64))


def skew_tree(T: int, w: int, addr: AddrFn, breaks: BreakFn, row0: int, work: Work,
              period: int = 0, period_step: int = 0, period_end: int = 0) -> Node:
    """A T x w skewed block (entry (t, c) on demand row ``row0 + t + c``, address ``addr(t, c)``).

    ``breaks(t)``: stepping every column from t to t + 1 is not one common address shift (or changes
    which entries are -1). Rows whose columns step across no break form runs of translated rows. With a
    ``period``, blocks of ``period`` rows below ``period_end`` repeat shifted by ``period_step``.
    """
    total = T + w - 1

    def leaf(d0: int, d1: int) -> Leaf:
        t, c, d = skew_entries(T, w, d0, d1)
        return _leaf(addr(t, c), d + row0, work)

    if w > T or T * w <= 4 * w * w:
        return leaf(0, total)

    def segment(d0: int, d1: int) -> list[Item]:
        """Rows d0 to d1 - 1: runs of translated rows, the rest as leaves."""
        lo = max(0, d0 - w + 1)  # breaks below t: crossed[t - lo]
        crossed = np.concatenate(([0], np.cumsum(breaks(np.arange(lo, max(lo, min(T, d1)), dtype=np.int64)))))
        d = np.arange(max(d0, w - 1), min(d1 - 1, T - 1), dtype=np.int64)  # rows that may step to d + 1
        steps = d[crossed[d + 1 - lo] == crossed[d - w + 1 - lo]]
        items: list[Item] = []
        at = d0
        for stepping in np.split(steps, np.flatnonzero(np.diff(steps) != 1) + 1) if len(steps) else ():
            first, n = int(stepping[0]), len(stepping)  # rows first .. first + n - 1 step on
            if first > at:
                items.append((leaf(at, first), 0, 0))
            row, following = leaf(first, first + 1), leaf(first + 1, first + 2)
            shift = int(following.addr[0] - row.addr[0]) if row.length else 0
            items.append((run(row, n + 1, shift, 1), 0, 0))
            at = first + n + 1
        if at < d1:
            items.append((leaf(at, d1), 0, 0))
        return items

    blocks = (min(period_end, T) - (w - 1)) // period if period else 0
    if blocks < 2:
        return seq(segment(0, total))
    start, end = w - 1, w - 1 + blocks * period
    block = seq([(node, 0, 0) for node, _, _ in segment(start, start + period)])
    return seq([*segment(0, start), (run(block, blocks, period_step, period), 0, 0), *segment(end, total)])


def runs_of(keys: np.ndarray, addr: np.ndarray, rows: np.ndarray, tree: Callable[[int], Node]) -> list[Item]:
    """Units ``i`` (folds, pixel groups) at ``addr[i]`` and ``rows[i]`` as runs of translated copies: a
    run goes on while the next unit has the same ``keys`` row (its reads relative to its origin are the
    same) and the same address and row step. ``tree(i)`` builds unit i's subtree, once per key."""
    n = len(addr)
    if n == 0:
        return []
    same = np.all(keys[1:] == keys[:-1], axis=1) if keys.shape[1] else np.ones(n - 1, bool)
    da, dr = np.diff(addr), np.diff(rows)
    turn = np.zeros(n - 1, bool)
    turn[1:] = same[:-1] & ((da[1:] != da[:-1]) | (dr[1:] != dr[:-1]))  # the step changes inside a run
    firsts = [0, *(np.flatnonzero(~same | turn) + 1).tolist(), n]
    built: dict[bytes, Node] = {}
    items: list[Item] = []
    for i, j in itertools.pairwise(firsts):
        key = keys[i].tobytes()
        if key not in built:
            built[key] = tree(i)
        step, row_step = (int(da[i]), int(dr[i])) if j - i > 1 else (0, 0)
        items.append((run(built[key], j - i, step, row_step), int(addr[i]), int(rows[i])))
    return items


def _edges(v: Layer) -> tuple[bool, bool, int, int]:
    """Whether SCALE-Sim's last output column (row) reads past the input, and the first window column
    (row) that does so there."""
    xcol, xrow = (v.W - v.S) % v.U != 0, (v.H - v.R) % v.U != 0
    return xcol, xrow, v.W - (v.F - 1) * v.U, v.H - (v.E - 1) * v.U


def element_breaks(v: Layer, xcol_pixel: bool) -> BreakFn:
    """Whether window element k to k + 1 crosses a filter row, or (for a pixel in SCALE-Sim's extra last
    column) goes from a window column that is read to one past the edge."""
    xcol, _, s_lim, _ = _edges(v)
    cols = v.S * v.C

    def breaks(k: np.ndarray) -> np.ndarray:
        out = k % cols == cols - 1
        if xcol_pixel and xcol and 0 < s_lim < v.S:
            out |= k % cols == s_lim * v.C - 1
        return out

    return breaks


def pixel_groups(v: Layer, size: int, rows: int, tree: Callable[[np.ndarray], Node], work: Work) -> Node:
    """All P pixels in groups of ``size`` (OS folds, IS column folds), group j on demand rows from
    ``j * rows``; ``tree(pixels)`` is a group's subtree, relative to its first pixel's window origin.

    Groups are alike (their pixels in the same relative places, the same ones in SCALE-Sim's extra last
    row or column) along an output row; every ``F / gcd(F, size)`` groups the pattern repeats
    ``size / gcd(F, size)`` output rows down, up to the extra last row.
    """
    P, F = v.P, v.F
    xcol, xrow, _, _ = _edges(v)

    def items(j0: int, j1: int, first: int) -> list[Item]:
        """Groups j0 .. j1 - 1, relative to group ``first``'s origin and row."""
        full = min(j1, P // size)
        p = np.arange(j0 * size, full * size, dtype=np.int64).reshape(-1, size)
        er, ec = np.divmod(p, F)
        keys = np.concatenate([er - er[:, :1], ec - ec[:, :1], (ec == F - 1) & xcol, (er == v.E - 1) & xrow],
                              axis=1)
        work.add(4 * p.size)
        origin = (er[:, 0] * v.U * v.W + ec[:, 0] * v.U) * v.C - _pixel_origin(v, first * size)
        out = runs_of(keys, origin, (np.arange(j0, full) - first) * rows,
                      lambda i: tree(np.arange((j0 + i) * size, (j0 + i + 1) * size, dtype=np.int64)))
        if full < j1:  # the last, partial group
            origin = _pixel_origin(v, full * size) - _pixel_origin(v, first * size)
            out.append((tree(np.arange(full * size, P, dtype=np.int64)), origin, (full - first) * rows))
        return out

    g = math.gcd(F, size)
    period = F // g
    regular = min(P // size, ((v.E - 1 if xrow else v.E) * F) // size)
    periods = regular // period
    if periods < 2:
        return seq(items(0, -(-P // size), 0))
    unit = seq(items(0, period, 0))
    repeated = run(unit, periods, (size // g) * v.U * v.W * v.C, period * rows)
    return seq([(repeated, 0, 0), *items(periods * period, -(-P // size), 0)])


def _pixel_origin(v: Layer, p: int) -> int:
    er, ec = divmod(p, v.F)
    return (er * v.U * v.W + ec * v.U) * v.C


def _os_ifmap(v: Layer, f: Folds, work: Work) -> Node:
    """Per fold, a K x h skewed block: window element t of pixel fr*Ra + c; the pass once per column fold."""
    xcol, xrow, _, _ = _edges(v)

    def fold(p: np.ndarray) -> Node:
        base = _pixel_origin(v, int(p[0]))
        er, ec = np.divmod(p, v.F)
        edge_row = bool(np.any((er == v.E - 1) & xrow))  # its windows' -1s depend on the filter row

        def addr(t: np.ndarray, c: np.ndarray) -> np.ndarray:
            a = ifmap_address(v, p[c], t)
            return np.where(a >= 0, a - base, -1)

        breaks = element_breaks(v, bool(np.any((ec == v.F - 1) & xcol)))
        return skew_tree(v.K, len(p), addr, breaks, 0, work, period=v.S * v.C, period_step=v.W * v.C,
                         period_end=0 if edge_row else v.K)

    return run(pixel_groups(v, f.Ra, f.rows, fold, work), f.cf, 0, f.rf * f.rows)


def _is_ifmap(v: Layer, f: Folds, work: Work) -> Node:
    """Per column fold (Ca pixels), its row folds one after the other, each a flipped h x w slice: demand
    row Ra - h + r reads window element fr*Ra + h - 1 - r of every pixel. Row fold fr + 1 is row fold fr
    shifted by Ra channels unless an element of either crosses a filter row (or the input's edge)."""
    xcol, _, _, _ = _edges(v)
    Ra, full = f.Ra, v.K // f.Ra

    def group(p: np.ndarray) -> Node:
        base, w = _pixel_origin(v, int(p[0])), len(p)
        breaks = element_breaks(v, bool(np.any((p % v.F == v.F - 1) & xcol)))

        def fold(fr: int) -> Leaf:
            h = f.used_rows(fr)
            r, c = np.divmod(np.arange(h * w, dtype=np.int64), w)
            a = ifmap_address(v, p[c], fr * Ra + h - 1 - r)
            return _leaf(np.where(a >= 0, a - base - fr * Ra, -1), Ra - h + r, work)

        crossed = np.concatenate(([0], np.cumsum(breaks(np.arange(full * Ra)))))
        k0 = np.arange(full, dtype=np.int64) * Ra
        # a fresh key after each fold that the next one is not a translate of (by Ra channels)
        apart = crossed[k0[:-1] + 2 * Ra - 1] != crossed[k0[:-1]]
        keys = np.cumsum(np.concatenate(([0], apart)))[:, None]
        items = runs_of(keys, k0, np.arange(full, dtype=np.int64) * f.rows, fold)
        if full < f.rf:
            items.append((fold(full), full * Ra, full * f.rows))
        return seq(items)

    return pixel_groups(v, f.Ca, f.rf * f.rows, group, work)


def _ws_ifmap(v: Layer, f: Folds, work: Work) -> Node:
    """Per fold, a P x h skewed block: pixel t, window element fr*Ra + c; the pass once per column fold.
    Folds are alike (translated) when their elements have the same relative offsets and the same ones
    read past the input's edge."""
    xcol, xrow, s_lim, r_lim = _edges(v)
    Ra, P, F = f.Ra, v.P, v.F
    k = np.arange(v.K, dtype=np.int64)
    r, rest = np.divmod(k, v.S * v.C)
    s = rest // v.C
    off = (r * v.W + s) * v.C + rest % v.C
    past_col, past_row = (s >= s_lim) & xcol, (r >= r_lim) & xrow

    def fold(ks: np.ndarray) -> Node:
        lim_col, lim_row = bool(past_col[ks].any()), bool(past_row[ks].any())

        def breaks(t: np.ndarray) -> np.ndarray:  # a pixel step across an output row or into the last column
            ec = t % F
            return (ec == F - 1) | ((ec == F - 2) & lim_col)

        def addr(t: np.ndarray, c: np.ndarray) -> np.ndarray:
            a = ifmap_address(v, t, ks[c])
            return np.where(a >= 0, a - off[ks[0]], -1)

        return skew_tree(P, len(ks), addr, breaks, Ra, work, period=F, period_step=v.U * v.W * v.C,
                         period_end=(v.E - 1) * F if lim_row else P)

    full = v.K // Ra
    ks = k[: full * Ra].reshape(full, Ra)
    keys = np.concatenate([off[ks] - off[ks[:, :1]], past_col[ks], past_row[ks]], axis=1)
    work.add(keys.size)
    items = runs_of(keys, off[ks[:, 0]], np.arange(full, dtype=np.int64) * f.rows, lambda fr: fold(ks[fr]))
    if full < f.rf:
        items.append((fold(k[full * Ra :]), int(off[full * Ra]), full * f.rows))
    return run(seq(items), f.cf, 0, f.rf * f.rows)


def _os_filter(v: Layer, f: Folds, work: Work) -> Node:
    """Per column fold, a K x w skewed block (filter fc*Ca + c, window element t), read once per row fold."""
    K = v.K

    def fold(w: int) -> Node:
        return run(skew_tree(K, w, lambda t, c: c * K + t, _never, 0, work), f.rf, 0, f.rows)

    return _column_folds(f, fold, f.Ca * K, f.rf * f.rows)


def _ws_filter(v: Layer, f: Folds, work: Work) -> Node:
    """Per fold, a flipped h x w slice: demand row Ra - h + r reads element fr*Ra + h - 1 - r of every
    filter; every filter word once."""
    K, Ra = v.K, f.Ra

    def leaf(h: int, w: int) -> Leaf:
        r, c = np.divmod(np.arange(h * w, dtype=np.int64), w)
        return _leaf(c * K + h - 1 - r, Ra - h + r, work)

    def column(w: int) -> Node:
        full = f.rf - 1 if f.used_rows(f.rf - 1) < Ra else f.rf
        items = [(run(leaf(Ra, w), full, Ra, f.rows), 0, 0)]
        if full < f.rf:
            items.append((leaf(f.used_rows(f.rf - 1), w), full * Ra, full * f.rows))
        return seq(items)

    return _column_folds(f, column, f.Ca * K, f.rf * f.rows)


def _is_filter(v: Layer, f: Folds, work: Work) -> Node:
    """Per row fold, an M x h skewed block (filter t, window element fr*Ra + c); the pass once per column
    fold."""
    K, Ra = v.K, f.Ra

    def fold(h: int) -> Node:
        return skew_tree(v.M, h, lambda t, c: t * K + c, _never, Ra, work)

    full = f.rf - 1 if f.used_rows(f.rf - 1) < Ra else f.rf
    items = [(run(fold(Ra), full, Ra, f.rows), 0, 0)]
    if full < f.rf:
        items.append((fold(f.used_rows(f.rf - 1)), full * Ra, full * f.rows))
    return run(seq(items), f.cf, 0, f.rf * f.rows)


def _column_folds(f: Folds, column: Callable[[int], Node], addr_step: int, row_step: int) -> Node:
    """Column folds fc = 0 .. cf - 1 of width used_cols(fc), each ``column(width)`` shifted by fc steps."""
    full = f.cf - 1 if f.used_cols(f.cf - 1) < f.Ca else f.cf
    items = [(run(column(f.Ca), full, addr_step, row_step), 0, 0)]
    if full < f.cf:
        items.append((column(f.used_cols(f.cf - 1)), full * addr_step, full * row_step))
    return seq(items)


BUILDERS = {
    (Dataflow.OS, "ifmap"): _os_ifmap,
    (Dataflow.WS, "ifmap"): _ws_ifmap,
    (Dataflow.IS, "ifmap"): _is_ifmap,
    (Dataflow.OS, "filter"): _os_filter,
    (Dataflow.WS, "filter"): _ws_filter,
    (Dataflow.IS, "filter"): _is_filter,
}


def read_trace(v: Layer, f: Folds, dataflow: Dataflow, operand: str, work: Work) -> Node:
    """The reads of ``operand`` ("ifmap" or "filter"), in the order SCALE-Sim's read buffer sees them."""
    return BUILDERS[dataflow, operand](v, f, work)
