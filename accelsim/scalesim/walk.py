"""Reading a trace tree straight into a word set, compiled: the flush intervals read one by one.

Finding where a flush interval ends means reading the trace from its start until ``capacity`` distinct
words have been read. Gathering the reads into arrays first (:func:`.trace.addresses`) costs more than
adding them to the set; :func:`walk_add` walks the tree itself, leaf by leaf, adding each read's word to
the set (:mod:`.wordset`) as it goes and stopping at the read that fills it. The tree is first laid out
in flat int64 arrays (:class:`FlatTree`, one row per distinct node); the walk keeps a stack of the nodes
holding the current read, as :func:`.trace.locate` does. Plain Python over int64 arrays, marked
:func:`accelsim.jit.compilable`: run compiled by the model and interpreted by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.jit import compilable, compiled
from accelsim.scalesim.trace import Leaf, Node, Run, Seq
from accelsim.scalesim.wordset import EMPTY, bits_in, home

LEAF, RUN, SEQ = 0, 1, 2
DEPTH = 64  # the deepest tree walked (the trees of streams.py are under 16 deep)


@dataclass(frozen=True, slots=True)
class FlatTree:
    """A trace tree as arrays, node 0 its root. Per node: ``kind`` (LEAF, RUN, SEQ), ``length``; a leaf's
    addresses are ``addrs[at : at + length]``; a run's ``child``, ``copies`` and ``step``; a sequence's
    parts are rows ``at`` to ``at + parts - 1`` of ``part_node``, ``part_pos`` (first read) and
    ``part_addr`` (address offset)."""

    kind: np.ndarray
    length: np.ndarray
    at: np.ndarray
    child: np.ndarray
    copies: np.ndarray
    step: np.ndarray
    parts: np.ndarray
    part_node: np.ndarray
    part_pos: np.ndarray
    part_addr: np.ndarray
    addrs: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (self.kind, self.length, self.at, self.child, self.copies, self.step, self.parts,
                self.part_node, self.part_pos, self.part_addr, self.addrs)


def flatten(root: Node) -> FlatTree:
    """``root`` laid out as a :class:`FlatTree` (a node shared by several parents appears once)."""
    ids: dict[int, int] = {}
    nodes: list[Node] = []

    def number(node: Node) -> int:
        if id(node) not in ids:
            ids[id(node)] = len(nodes)
            nodes.append(node)
            below = node.parts if isinstance(node, Seq) else (node.child,) if isinstance(node, Run) else ()
            for sub in below:
                number(sub)
        return ids[id(node)]

    number(root)
    n = len(nodes)
    kind, length, at, child, copies, step, parts = (np.zeros(n, np.int64) for _ in range(7))
    part_node: list[int] = []
    part_pos: list[int] = []
    part_addr: list[int] = []
    leaves: list[np.ndarray] = []
    words = 0
    for i, node in enumerate(nodes):
        length[i] = node.length
        if isinstance(node, Leaf):
            kind[i], at[i] = LEAF, words
            leaves.append(node.addr)
            words += node.length
        elif isinstance(node, Run):
            kind[i], child[i], copies[i], step[i] = RUN, ids[id(node.child)], node.copies, node.addr_step
        else:
            assert isinstance(node, Seq)
            kind[i], at[i], parts[i] = SEQ, len(part_node), len(node.parts)
            part_node.extend(ids[id(p)] for p in node.parts)
            part_pos.extend(node.starts)
            part_addr.extend(node.addr_offsets)
    addrs = np.concatenate(leaves) if leaves else np.zeros(0, np.int64)
    return FlatTree(kind, length, at, child, copies, step, parts, np.array(part_node, np.int64),
                    np.array(part_pos, np.int64), np.array(part_addr, np.int64), addrs.astype(np.int64))


@compilable
def fresh_words(x, order, s, m, table, spans):
    """Words not in the bitmap among those ``m`` rows read, from a row reading words ``x`` (bits) on,
    each row the previous one shifted by ``s`` (1 or -1) words: each column reads one stretch of words,
    and the stretches are merged (``order`` sorts ``x``). With ``spans`` the words are added too, and the
    stretches listed there (``spans[0]`` of them, pairs from ``spans[2]``; -1 once there is no room)."""
    new = 0
    first = 0 if s == 1 else 1 - m
    cur_lo, cur_hi = x[order[0]] + first, x[order[0]] + first + m
    for k in range(1, len(x) + 1):
        if k < len(x):
            a = x[order[k]] + first
            if a <= cur_hi:
                cur_hi = max(cur_hi, a + m)
                continue
        if len(spans):
            new += cur_hi - cur_lo - bits_in(table, cur_lo, cur_hi, 1)
            n = spans[0]
            if n >= 0 and 2 * n + 4 <= len(spans):
                spans[2 + 2 * n], spans[3 + 2 * n] = cur_lo, cur_hi
                spans[0] = n + 1
            else:
                spans[0] = -1
        else:
            new += cur_hi - cur_lo - bits_in(table, cur_lo, cur_hi, -1)
        if k < len(x):
            cur_lo, cur_hi = a, a + m
    return new


@compilable
def add_rows(addrs, first, w, shift, s, rows, table, room, spans):
    """Add as many of the next ``rows`` rows of a run (a row: the ``w`` reads of a leaf from ``addrs[first]``,
    shifted by ``shift``; each next row by ``s`` = 1 or -1 words) as fit whole in the bitmap's ``room``
    (fewer new words than that): ``(rows added, words added)``. Halving, as long as they do not fit."""
    x = addrs[first : first + w] + shift
    order = np.argsort(x)
    none = np.zeros(0, np.int64)
    fit, over = 0, rows
    if fresh_words(x, order, s, rows, table, none) < room:
        fit = rows
    while over - fit > 1 and fit < rows:
        mid = (fit + over) // 2
        if fresh_words(x, order, s, mid, table, none) < room:
            fit = mid
        else:
            over = mid
    if fit == 0:
        return 0, 0
    new = fresh_words(x, order, s, fit, table, spans)
    spans[1] += new
    return fit, new


@compilable
def walk_add(kind, length, at, child, copies, step, parts, part_node, part_pos, part_addr, addrs,
             pos, stop, table, lo, hashed, used, count, need, spans):
    """Add the words of reads ``pos`` to ``stop - 1`` of the tree to the set (``count`` words, as in
    :func:`.wordset.add_until`) until it holds ``need``: ``(reads taken, count)``.

    In a bitmap, the rows of a run of a leaf shifted by one word a copy are added many at a time
    (:func:`add_rows`): each column of rows reads a stretch of words, counted and set a byte at a time.
    Words so added are listed as stretches in ``spans`` (``spans[1]``: how many), the others one by one
    in ``used`` (``count - spans[1]`` of them)."""
    st_node = np.empty(DEPTH, np.int64)  # the stack: a node holding the read, which copy or part of it,
    st_idx = np.empty(DEPTH, np.int64)  # where that node's instance starts, and its address offset
    st_start = np.empty(DEPTH, np.int64)
    st_base = np.empty(DEPTH, np.int64)
    depth, node, start, base = 0, 0, 0, 0
    while kind[node] != LEAF:  # down to the leaf holding read `pos`
        if kind[node] == RUN:
            i = (pos - start) // length[child[node]]
            nxt, nstart, nbase = child[node], start + i * length[child[node]], base + i * step[node]
        else:
            i = 0
            while i + 1 < parts[node] and part_pos[at[node] + i + 1] <= pos - start:
                i += 1
            j = at[node] + i
            nxt, nstart, nbase = part_node[j], start + part_pos[j], base + part_addr[j]
        st_node[depth], st_idx[depth], st_start[depth], st_base[depth] = node, i, start, base
        depth += 1
        node, start, base = nxt, nstart, nbase
    taken = 0
    while True:
        a0, a1 = pos - start, min(length[node], stop - start)
        first = at[node]
        if not hashed and a0 == 0 and a1 > 0 and depth > 0 and kind[st_node[depth - 1]] == RUN:
            up = st_node[depth - 1]
            rows = min(copies[up] - st_idx[depth - 1], (stop - start) // length[node])
            if (step[up] == 1 or step[up] == -1) and rows >= 2:
                m, new = add_rows(addrs, first, length[node], base - lo, step[up], rows, table, need - count,
                                  spans)
                if m > 0:  # rows up to m - 1 on read: on as if at the end of the last of them
                    count += new
                    taken += m * length[node]
                    st_idx[depth - 1] += m - 1
                    start += (m - 1) * length[node]
                    base += (m - 1) * step[up]
                    a0 = a1 = length[node]
        ranged = spans[1]
        # the words added one by one, inline: a call per read, passing arrays, costs more than the read
        if hashed:  # a hash table (wordset.find)
            mask = len(table) - 1
            for j in range(a0, a1):
                a = addrs[first + j] + base
                h = home(a, mask)
                while table[h] != a and table[h] != EMPTY:
                    h = (h + 1) & mask
                if table[h] == EMPTY:
                    table[h] = a
                    used[count - ranged] = h
                    count += 1
                    if count == need:
                        return taken + j - a0 + 1, count
        else:  # a bitmap from word lo
            shift = base - lo
            for j in range(a0, a1):
                a = addrs[first + j] + shift
                bit = 1 << (a & 7)
                if table[a >> 3] & bit == 0:
                    table[a >> 3] |= bit
                    used[count - ranged] = a
                    count += 1
                    if count == need:
                        return taken + j - a0 + 1, count
        taken += a1 - a0
        pos = start + a1
        if pos >= stop or depth == 0:
            return taken, count
        while True:  # up to the first node with a next copy or part, then down to its first leaf
            depth -= 1
            up, i = st_node[depth], st_idx[depth] + 1
            if kind[up] == RUN and i < copies[up]:
                node = child[up]
                start = st_start[depth] + i * length[node]
                base = st_base[depth] + i * step[up]
                break
            if kind[up] == SEQ and i < parts[up]:
                j = at[up] + i
                node, start, base = part_node[j], st_start[depth] + part_pos[j], st_base[depth] + part_addr[j]
                break
            if depth == 0:
                return taken, count
        st_idx[depth] = i
        depth += 1
        while kind[node] != LEAF:
            st_node[depth], st_idx[depth], st_start[depth], st_base[depth] = node, 0, start, base
            depth += 1
            if kind[node] == RUN:
                node = child[node]
            else:
                j = at[node]
                node, start, base = part_node[j], start + part_pos[j], base + part_addr[j]


def walker(fast: bool):
    """:func:`walk_add`, compiled or not."""
    return compiled(walk_add) if fast else walk_add
