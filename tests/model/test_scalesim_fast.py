"""SCALE-Sim compatibility mode, the fast paths of the read buffer model against slow, obvious ones.

The word sets of accelsim.scalesim.wordset (bitmaps and hash tables, compiled by Numba) against Python's
own sets, compiled against interpreted; the walk of accelsim.scalesim.walk against the listed reads; the
test for words read twice within a distance against a scan of the whole trace, on every subtree; and the
whole read buffer model against a read-by-read replay on shrunken instances of each kind of layer and
config that used to take seconds (issue 8), with the word sets compiled and interpreted, as bitmaps and
as hash tables.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.arch import Dataflow
from accelsim.scalesim import ScaleSimConfig, wordset
from accelsim.scalesim import trace as trace_module
from accelsim.scalesim.geometry import Layer, folds
from accelsim.scalesim.read_buffer import _Orbit
from accelsim.scalesim.streams import read_trace
from accelsim.scalesim.trace import (
    Leaf,
    Node,
    Run,
    Seq,
    Work,
    addresses,
    has_close_pair,
    window_bounds,
    word_bounds,
)
from accelsim.scalesim.walk import flatten, walker
from accelsim.scalesim.wordset import WordSet, has_close_across, has_close_pair_in
from tests.model.test_scalesim_buffers import reference_misses, reference_trace, small_cases


@pytest.fixture(params=["bitmap", "bitmap-one-span", "hash"])
def table_kind(request, monkeypatch):
    """Word sets as bitmaps (the default for spans under 2**30 words), listing at most one stretch of
    words added at once (then wiping the bitmap to clear it), or, forced, as hash tables; and the tables
    indexed by word in trace.py likewise, or forced off."""
    if request.param == "bitmap-one-span":
        monkeypatch.setattr(wordset, "SPANS", 1)
    if request.param == "hash":
        monkeypatch.setattr(wordset, "BITMAP_WORDS", 0)
        monkeypatch.setattr(wordset, "DENSE_WORDS", 0)
        monkeypatch.setattr(trace_module, "SCRATCH_WORDS", 0)
    return request.param


def min_gap(addr: np.ndarray) -> int:
    """The fewest reads between two reads of one word (a huge number if none is read twice)."""
    last: dict[int, int] = {}
    best = 1 << 62
    for i, a in enumerate(addr.tolist()):
        if a in last:
            best = min(best, i - last[a])
        last[a] = i
    return best


WORDS = st.lists(st.integers(0, 60) | st.integers(0, 1 << 40), min_size=0, max_size=300)


# ------------------------------------------------------------------------------------------- word sets


@settings(max_examples=80, deadline=None)
@given(WORDS, st.integers(1, 80), st.integers(1, 5), st.booleans())
def test_word_set_fills_as_a_python_set(words, capacity, chunks, fast):
    for kind in ("bitmap", "hash"):
        if kind == "bitmap":  # words spanning 5000 at most, from 100 on
            words = [100 + a % 5000 for a in words]
        addr = np.array(words, np.int64)
        lo, hi = (0, 1 << 41) if kind == "hash" else (100, 5099)
        ws = WordSet(capacity, lo, hi, fast)
        assert ws.bitmap == (kind == "bitmap")
        for _ in range(2):  # the second time after a clear
            seen: set[int] = set()
            expected = len(words)  # reads taken until `capacity` distinct words, or all of them
            for i, a in enumerate(words):
                seen.add(a)
                if len(seen) == capacity:
                    expected = i + 1
                    break
            taken = sum(ws.add_until(part) for part in np.array_split(addr, chunks) if ws.count < capacity)
            assert (taken, ws.count) == (expected, min(capacity, len(seen)))
            ws.clear()
            assert ws.count == 0 and not ws.table[ws.table != (0 if ws.bitmap else -1)].size


@settings(max_examples=150, deadline=None)
@given(WORDS, st.integers(1, 400), st.booleans(), st.booleans())
def test_close_pair_in_is_the_least_gap(words, distance, fast, hashed):
    addr = np.array(words, np.int64)
    saved = wordset.DENSE_WORDS
    try:
        wordset.DENSE_WORDS = 0 if hashed else saved
        assert has_close_pair_in(addr, distance, fast) == (min_gap(addr) < distance)
    finally:
        wordset.DENSE_WORDS = saved


@settings(max_examples=150, deadline=None)
@given(WORDS, WORDS, st.integers(1, 400), st.booleans(), st.booleans())
def test_close_across_is_the_least_gap_across(left, right, distance, fast, hashed):
    a, b = np.array(left, np.int64), np.array(right, np.int64)
    pairs = [len(a) - i + j for i, x in enumerate(left) for j, y in enumerate(right) if x == y]
    saved = wordset.BITMAP_WORDS
    try:
        wordset.BITMAP_WORDS = 0 if hashed else saved
        assert has_close_across(a, b, distance, fast) == (min(pairs, default=1 << 62) < distance)
    finally:
        wordset.BITMAP_WORDS = saved


# ----------------------------------------------------------------------------- close pairs in subtrees


def subtrees(node: Node) -> list[Node]:
    out, todo = [], [node]
    while todo:
        n = todo.pop()
        out.append(n)
        todo.extend(n.parts if isinstance(n, Seq) else (n.child,) if isinstance(n, Run) else ())
    return out


@settings(max_examples=60, deadline=None)
@given(small_cases(max_hw=12), st.sampled_from(["ifmap", "filter"]), st.integers(1, 3000), st.booleans())
def test_has_close_pair_is_the_least_gap_of_every_subtree(case, operand, distance, fast):
    v, cfg = case
    work = Work()
    tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
    for node in subtrees(tree):
        gap = min_gap(addresses(node, 0, node.length, work))
        assert has_close_pair(node, distance, work, fast) == (gap < distance), node


@settings(max_examples=60, deadline=None)
@given(small_cases(max_hw=12), st.sampled_from(["ifmap", "filter"]), st.data())
def test_window_bounds_are_the_least_and_greatest_word(case, operand, data):
    v, cfg = case
    work = Work()
    tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
    for node in subtrees(tree):
        lo = data.draw(st.integers(-3, node.length - 1))
        hi = data.draw(st.integers(max(lo, 0) + 1, node.length + 3))
        reads = addresses(node, lo, hi, work)
        assert window_bounds(node, lo, hi) == (int(reads.min()), int(reads.max()))


def test_has_close_pair_across_copies_of_a_run():
    """Copies of a 4-read child 7 words apart: word 20 is read at child read 3 and two copies later at
    read 2 (2 * 4 + 2 - 3 = 7 reads apart), nothing closer."""
    for fast in (True, False):
        node = Run(Leaf(np.array([0, 1, 6, 20]), np.zeros(4, np.int64)), 5, 7, 1)
        work = Work()
        assert min_gap(addresses(node, 0, node.length, work)) == 7
        assert not has_close_pair(node, 7, work, fast) and has_close_pair(node, 8, work, fast)


# ------------------------------------------------------------------------ the read buffer, end to end


def orbit_matches_replay(v: Layer, cfg: ScaleSimConfig, operand: str, capacity: int) -> int:
    """_Orbit's misses with compiled and interpreted word sets, against a replay; the intervals read."""
    expected = reference_misses(reference_trace(v, cfg, operand)[0], capacity)
    epochs = []
    for fast in (True, False):
        work = Work()
        tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
        assert _Orbit(tree, capacity, work, fast).misses() == expected
        epochs.append(work.epochs)
    assert epochs[0] == epochs[1]
    return epochs[0]


# Shrunken instances of the kinds of layer and config that took seconds before issue 8 (the full-size
# ones in benchmarks/scalesim_compat.py), each the same shape of problem: how long a flush interval is
# against how the trace repeats.
SHRUNKEN = [
    # 512x512x2048 3x3 on 128x128, 1 MiB: the array as wide as the layer's rows of work, intervals longer
    # than a fold
    pytest.param(Layer(H=12, W=12, R=3, S=3, C=16, M=16, U=1), (16, 16), "ifmap", 1200, id="big-array"),
    # the same on SCALE-Sim's google.cfg (32x32, 6 MiB): every read of a pass misses, proved by the test
    # for close pairs over intervals of millions of reads
    pytest.param(Layer(H=20, W=20, R=3, S=3, C=32, M=8, U=1), (4, 4), "ifmap", 4000, id="google-exact"),
    pytest.param(Layer(H=14, W=14, R=3, S=3, C=16, M=40, U=1), (4, 4), "filter", 1500, id="google-filter"),
    # 2048x2048x3 7x7/2 on 8x8, 4 KiB: thousands of short intervals along a long, barely repeating trace
    pytest.param(Layer(H=40, W=40, R=7, S=7, C=3, M=4, U=2), (4, 4), "ifmap", 120, id="hires-many-intervals"),
    # 56x56x2048 7x3/2 on 256x8, 1 MiB: a tall array over a strided, non-square window
    pytest.param(Layer(H=16, W=16, R=7, S=3, C=8, M=6, U=2), (32, 2), "ifmap", 900, id="tall-array-strided"),
    # 512x512x2048 3x3, 256 filters on 32x64 IS, 2 MiB: the open case of docs/scalesim_compat.md
    pytest.param(Layer(H=18, W=18, R=3, S=3, C=16, M=8, U=1), (4, 8), "ifmap", 1500, id="open-case-is"),
]


@pytest.mark.parametrize(("v", "array", "operand", "capacity"), SHRUNKEN)
@pytest.mark.parametrize("dataflow", list(Dataflow))
def test_shrunken_slow_cases_match_a_replay(v, array, operand, capacity, dataflow, table_kind):
    cfg = ScaleSimConfig(array_height=array[0], array_width=array[1], dataflow=dataflow)
    orbit_matches_replay(v, cfg, operand, capacity)


@settings(max_examples=60, deadline=None)
@given(small_cases(max_hw=14), st.sampled_from(["ifmap", "filter"]), st.data())
def test_fast_read_buffer_matches_the_reference_on_random_layers(case, operand, data):
    v, cfg = case
    distinct = len(set(reference_trace(v, cfg, operand)[0]))
    capacity = data.draw(st.integers(1, distinct) | st.integers(1, max(1, distinct // 8)))
    orbit_matches_replay(v, cfg, operand, capacity)


@settings(max_examples=60, deadline=None)
@given(small_cases(max_hw=12), st.sampled_from(["ifmap", "filter"]), st.data())
def test_walk_adds_the_reads_addresses_gives(case, operand, data):
    """Walking the tree from any read to any other, compiled and interpreted, into a bitmap or a hash
    table, adds the words :func:`addresses` lists, and stops at the same read."""
    v, cfg = case
    work = Work()
    tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
    flat = flatten(tree)
    pos = data.draw(st.integers(0, tree.length - 1))
    stop = data.draw(st.integers(pos + 1, tree.length))
    need = data.draw(st.integers(1, stop - pos))
    reads = addresses(tree, pos, stop, work)
    expected_set = WordSet(need, 0, 1 << 41, fast=False)
    expected = (expected_set.add_until(reads), expected_set.count)
    lo, hi = word_bounds(tree)
    for fast in (True, False):
        for span in (hi, 1 << 41):
            ws = WordSet(need, lo, span, fast)
            got = walker(fast)(*flat.arrays(), pos, stop, ws.table, ws.lo, not ws.bitmap, ws.used, 0, need,
                               ws.spans)
            assert got == expected
