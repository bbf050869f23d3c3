"""SCALE-Sim compatibility mode: the compressed traces and the buffer models against plain replays.

The golden file checks whole layers against SCALE-Sim; these tests check the parts on many more, smaller
cases, each against a slow, obvious model written here: SCALE-Sim's demand matrices built entry by entry,
its estimate-bandwidth read buffer and its write buffer replayed word by word, Python's own float sum.
And that layers far too large to replay are done with bounded work (counted, not timed).
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import ConvLayer
from accelsim.arch import Dataflow
from accelsim.scalesim import ScaleSimConfig, simulate_layer_scalesim
from accelsim.scalesim.geometry import Layer, float_sum, folds
from accelsim.scalesim.read_buffer import _Orbit
from accelsim.scalesim.streams import read_trace
from accelsim.scalesim.trace import Work, addresses, row_of
from accelsim.scalesim.write_buffer import Writes, ofmap_write_buffer

# ------------------------------------------------------------------------------------------- references


def operand_matrices(v: Layer) -> tuple[np.ndarray, np.ndarray]:
    """SCALE-Sim's IFMAP matrix (pixel x window element, -1 past the input) and filter matrix (window
    element x filter), addresses with zero offsets."""
    ifmap = np.full((v.P, v.K), -1, np.int64)
    for p in range(v.P):
        er, ec = divmod(p, v.F)
        for k in range(v.K):
            r, s, ch = k // (v.S * v.C), k // v.C % v.S, k % v.C
            y, x = er * v.U + r, ec * v.U + s
            if y < v.H and x < v.W:
                ifmap[p, k] = (y * v.W + x) * v.C + ch
    filt = np.array([[m * v.K + k for m in range(v.M)] for k in range(v.K)], np.int64)
    return ifmap, filt


def reference_trace(v: Layer, cfg: ScaleSimConfig, operand: str) -> tuple[list[int], list[int]]:
    """(addresses, demand rows) of an operand's reads, fold by fold (column fold outermost): a skewed
    block puts entry (t, c) on row t + c, read row by row, column by column; a flipped one reads the
    used rows of its Ra x Ca slice bottom-aligned, in reverse order."""
    f = folds(v, cfg)
    ifmap, filt = operand_matrices(v)
    Ra, Ca = f.Ra, f.Ca
    reads: list[tuple[int, int, int]] = []  # (row, column, address) in reading order

    def skewed(block: np.ndarray, first: int) -> None:
        T, w = block.shape
        for d in range(T + w - 1):
            reads.extend((first + d, c, int(block[d - c, c])) for c in range(w) if 0 <= d - c < T)

    def flipped(block: np.ndarray, first: int) -> None:  # block: used rows x columns, top row first
        h = block.shape[0]
        for r in range(h):
            reads.extend((first + Ra - h + r, c, int(a)) for c, a in enumerate(block[h - 1 - r]))

    for fc in range(f.cf):
        for fr in range(f.rf):
            base = (fc * f.rf + fr) * f.rows
            rows, cols = slice(fr * Ra, fr * Ra + f.used_rows(fr)), slice(fc * Ca, fc * Ca + f.used_cols(fc))
            if cfg.dataflow is Dataflow.OS:  # rows: pixels, columns: filters, streamed: window
                skewed(ifmap[rows].T if operand == "ifmap" else filt[:, cols], base)
            elif cfg.dataflow is Dataflow.WS:  # rows: window, columns: filters, streamed: pixels
                skewed(ifmap[:, rows], base + Ra) if operand == "ifmap" else flipped(filt[rows, cols], base)
            else:  # rows: window, columns: pixels, streamed: filters
                flipped(ifmap.T[rows, cols], base) if operand == "ifmap" else skewed(filt[rows].T, base + Ra)
    kept = [(row, a) for row, _, a in reads if a >= 0]
    return [a for _, a in kept], [row for row, _ in kept]


def reference_misses(trace: list[int], capacity: int) -> tuple[int, int]:
    """ReadBufferEstimateBw, read by read: misses, and the read after which it last flushed."""
    since_flush: set[int] = set()
    misses, last = 0, 0
    for i, a in enumerate(trace):
        if a not in since_flush:
            since_flush.add(a)
            misses += 1
            if len(since_flush) == capacity:
                since_flush.clear()
                last = i + 1
    return misses, last


def reference_write_buffer(writes_per_row: list[int], size: int, bw: int) -> tuple[int, int, int]:
    """SCALE-Sim 3.0's write_buffer, word by word: DRAM writes, first and last DRAM cycle."""
    drain_size = size - math.ceil(size * 0.5)
    lines: list[int] = []  # words per line
    line, free, drained_lines, drain_end, accesses = 0, size, 0, 0, 0
    cycles: list[int] = []

    def drain(cycle: int) -> int:
        nonlocal drained_lines, accesses, free
        taken = lines[drained_lines : drained_lines + math.ceil(drain_size / bw)]
        data = len(taken) * bw - (bw - taken[-1])  # only the last line's empty slots are subtracted
        accesses, free, drained_lines = accesses + data, free + data, drained_lines + len(taken)
        cycles.extend(range(cycle, cycle + len(taken)))
        return cycle + len(taken) - 1

    def close_line() -> None:
        nonlocal line
        if line:
            lines.append(line)
            line = 0

    for row, count in enumerate(writes_per_row):
        cycle = row
        for _ in range(count):
            line, free = line + 1, free - 1
            if line == bw:
                close_line()
            if cycle < drain_end:
                assert free > 0, "a stall"
            elif free < size - drain_size:
                close_line()
                cycle = drain_end = drain(cycle)
    close_line()
    cycle = len(writes_per_row) - 1
    while drained_lines < len(lines):
        cycle = drain(cycle) + 1
    return accesses, min(cycles), max(cycles)


# ------------------------------------------------------------------------------------------- strategies


@st.composite
def small_cases(draw, max_hw=9):
    """A small layer (SCALE-Sim's view of it) and an array."""
    R, S, U = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    v = Layer(H=draw(st.integers(R, max_hw)), W=draw(st.integers(S, max_hw)), R=R, S=S,
              C=draw(st.integers(1, 5)), M=draw(st.integers(1, 9)), U=U)
    cfg = ScaleSimConfig(array_height=draw(st.integers(1, 7)), array_width=draw(st.integers(1, 7)),
                         dataflow=draw(st.sampled_from(list(Dataflow))))
    return v, cfg


OPERANDS = st.sampled_from(["ifmap", "filter"])

# -------------------------------------------------------------------------------------------------- tests


@settings(max_examples=60, deadline=None)
@given(small_cases(), OPERANDS)
def test_trace_tree_is_the_demand_matrices_reads(case, operand):
    v, cfg = case
    work = Work()
    tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
    expected, rows = reference_trace(v, cfg, operand)
    assert tree.length == len(expected)
    assert addresses(tree, 0, tree.length, work).tolist() == expected
    assert [row_of(tree, i) for i in range(tree.length)] == rows


@settings(max_examples=60, deadline=None)
@given(small_cases(max_hw=12), OPERANDS, st.data())
def test_read_buffer_misses_match_a_replay(case, operand, data):
    v, cfg = case
    trace = reference_trace(v, cfg, operand)[0]
    distinct = len(set(trace))
    # any capacity up to the distinct words (fewer: no flush, a closed form); small ones flush often
    capacity = data.draw(st.integers(1, distinct) | st.integers(1, max(1, distinct // 8)))
    work = Work()
    tree = read_trace(v, folds(v, cfg), cfg.dataflow, operand, work)
    assert _Orbit(tree, capacity, work).misses() == reference_misses(trace, capacity)


LONG_CASES = [  # long enough for runs of translated folds, rows and passes to repeat many times
    (Layer(H=30, W=30, R=3, S=3, C=8, M=16, U=1), (4, 4), Dataflow.OS, "ifmap", 700),
    (Layer(H=26, W=27, R=3, S=2, C=6, M=9, U=2), (5, 3), Dataflow.OS, "ifmap", 450),
    (Layer(H=24, W=24, R=3, S=3, C=4, M=32, U=1), (6, 4), Dataflow.WS, "ifmap", 900),
    (Layer(H=40, W=40, R=3, S=3, C=2, M=8, U=1), (4, 4), Dataflow.WS, "ifmap", 300),
    (Layer(H=28, W=28, R=3, S=3, C=5, M=4, U=1), (4, 8), Dataflow.IS, "ifmap", 200),
    (Layer(H=30, W=30, R=3, S=3, C=8, M=4, U=1), (8, 4), Dataflow.IS, "ifmap", 150),
    (Layer(H=12, W=12, R=3, S=3, C=6, M=40, U=1), (4, 4), Dataflow.OS, "filter", 200),
    (Layer(H=14, W=14, R=3, S=3, C=4, M=30, U=1), (4, 4), Dataflow.IS, "filter", 250),
]


@pytest.mark.parametrize(("v", "array", "dataflow", "operand", "capacity"), LONG_CASES)
def test_read_buffer_skips_repeats_exactly(v, array, dataflow, operand, capacity):
    cfg = ScaleSimConfig(array_height=array[0], array_width=array[1], dataflow=dataflow)
    trace = reference_trace(v, cfg, operand)[0]
    work = Work()
    misses = _Orbit(read_trace(v, folds(v, cfg), dataflow, operand, work), capacity, work).misses()
    assert misses == reference_misses(trace, capacity)
    assert work.epochs < misses[0] // capacity  # some flush intervals were inferred, not read


@settings(max_examples=80, deadline=None)
@given(small_cases(max_hw=14), st.integers(1, 3), st.integers(1, 3))
def test_write_buffer_matches_a_replay(case, ofmap_kib, scale):
    v, cfg = case
    v = Layer(H=v.H, W=v.W, R=v.R, S=v.S, C=v.C, M=v.M * scale, U=v.U)  # more writes
    f = folds(v, cfg)
    writes = Writes(f, cfg.dataflow is Dataflow.OS)
    last_row = f.count * f.rows - 1
    per_row = [writes.before_row(row + 1) - writes.before_row(row) for row in range(last_row + 1)]
    # per_row from before_row, itself checked: every fold is a skewed h x w block from row o
    for fc in range(f.cf):
        for fr in range(f.rf):
            h, w, o = writes.block(fr, fc)
            first = (fc * f.rf + fr) * f.rows
            for j in range(f.rows):
                d = j - o
                assert per_row[first + j] == sum(1 for c in range(w) if 0 <= d - c < h)
    r = ofmap_write_buffer(writes, 1024 * ofmap_kib, last_row)
    assert (r.dram_writes, r.dram_start_cycle, r.dram_stop_cycle) == reference_write_buffer(
        per_row, 1024 * ofmap_kib, f.Ca)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 400), st.integers(1, 400),
       st.lists(st.sampled_from([1.0, 0.5, 1 / 3, 0.1, 0.7, 2 / 7, 0.9999, 1e-3]), min_size=4, max_size=4))
def test_float_sum_is_left_to_right_double_addition(rf, cf, values):
    full, last_row, last_col, last_both = values
    column = [full] * (rf - 1) + [last_row]
    terms = column * (cf - 1) + [last_col] * (rf - 1) + [last_both]
    expected = 0.0
    for term in terms:
        expected += term
    total = float_sum(0.0, ((full, rf - 1), (last_row, 1)), cf - 1)
    got = float_sum(total, ((last_col, rf - 1), (last_both, 1)), 1)
    assert got == expected


def test_float_sum_of_billions_of_terms():
    """Past 2**53 adding 1.0 changes nothing; below it, every addition is exact."""
    assert float_sum(0.0, ((1.0, 1),), 2**60) == 2.0**53
    assert float_sum(0.0, ((0.5, 3), (1.0, 1)), 10**9) == 2.5e9


# ----------------------------------------------------------------------------------------- bounded work

HUGE = ConvLayer(M=2048, C=2048, H=512, W=512, R=3, S=3, pad=1, name="huge")
EXTREMES = [
    *((HUGE, 16, 16, 128, 64, d) for d in Dataflow),  # the default preset's sizes
    *((HUGE, 32, 32, 64, 64, d) for d in Dataflow),  # SCALE-Sim's scale.cfg sizes
    *((HUGE, 1, 1, 64, 64, d) for d in Dataflow),  # a 1x1 array: one fold per pixel or element
    *((HUGE, 16, 16, 1, 1, d) for d in Dataflow),  # 1 KiB SRAMs: a flush every 500 misses
    *((HUGE, 128, 128, 1024, 1024, d) for d in Dataflow),  # 1 MiB SRAMs: long flush intervals
    *((ConvLayer.fc(100_000, 100_000), 32, 32, 64, 64, d) for d in Dataflow),  # huge M and C
    *((ConvLayer.fc(100_000, 100_000), 1, 1, 1, 1, d) for d in Dataflow),
    *((ConvLayer(M=64, C=3, H=2048, W=2048, R=7, S=7, stride=2, pad=3), 8, 8, 4, 4, d) for d in Dataflow),
]


@pytest.mark.parametrize(("layer", "rows", "cols", "kib", "ofmap_kib", "dataflow"), EXTREMES)
def test_huge_layers_take_bounded_work(layer, rows, cols, kib, ofmap_kib, dataflow):
    """Layers with up to 1e12 SRAM reads: the models never build more than a few million trace reads
    (Work.reads; the largest array 1.4 M), work out a few dozen flush intervals and a few hundred drains
    one by one, and infer the rest: the work is bounded whatever the layer's size."""
    cfg = ScaleSimConfig(array_height=rows, array_width=cols, ifmap_sram_kib=kib, filter_sram_kib=kib,
                         ofmap_sram_kib=ofmap_kib, dataflow=dataflow)
    work = Work()
    r = simulate_layer_scalesim(layer, cfg, work=work)
    assert r.ifmap_sram_reads + r.filter_sram_reads > 1e8  # far beyond replaying read by read
    assert work.largest <= 2_500_000
    assert work.reads <= 40_000_000
    assert work.epochs <= 10_000
    assert work.drains <= 2_000
    # and the counts are SCALE-Sim's kind of numbers: every word at least once, never more than read
    assert layer.weight_elems <= r.filter_dram_reads <= r.filter_sram_reads
    assert 0 < r.ifmap_dram_reads <= r.ifmap_sram_reads
