"""accelsim.mapper.program: the generated command streams.

- The fixed lowering's nest gives exactly accelsim.mapping.program's commands: ops, rows, lanes, every
  dependency flag and accumulate bit (hence its cycles).
- Every nest's stream keeps the token protocol (each pop has an earlier push) and, scheduled by the
  one scheduling rule, never lets a LOAD overwrite rows before the last EX command that reads their previous
  tile has finished, nor a COMPUTE overwrite accumulator rows before their STORE has read them: each read
  finds the tile it names (the row-ownership replay below). Values themselves are checked by the
  executed-mapping checker (tests/mapper/test_executed.py).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings

from accelsim import engine, mapping
from accelsim.arch import DF_IS, DF_OS, Dataflow
from accelsim.commands import OP_COMPUTE, OP_LOAD, OP_PRELOAD, OP_STORE, Op
from accelsim.errors import AccelsimError
from accelsim.mapper import nest as N  # noqa: N812
from accelsim.mapper import program as P  # noqa: N812
from accelsim.mapping import OPERAND_INPUT
from accelsim.timing import systolic_array_fill_drain_cycles
from tests.mapper.conftest import mapped_cases
from tests.strategies import archs, layers


def _fixed_case(layer, arch):
    try:
        return mapping.lower(layer, arch)
    except AccelsimError:  # a layer no tile of this arch fits: not this test's subject
        return None


@settings(max_examples=150)
@given(layers(max_c=12, max_m=12), archs(max_dim=6, pe_dot_widths=(1, 2, 4)))
def test_fixed_nest_is_the_fixed_lowering(layer, arch):
    m = _fixed_case(layer, arch)
    if m is None:
        return
    table = N.program_table(layer, arch, N.LoopNest.fixed(layer, arch))
    cmds = [c for c in mapping.program(m) if c.op not in (Op.CONFIG, Op.FENCE)]
    assert len(cmds) == len(table)
    for c, row in zip(cmds, table.tolist(), strict=True):
        assert (int(c.op), c.rows, c.pop_prev, c.pop_next, c.push_prev, c.push_next, c.accumulate) == (
            row[P.C_OP], row[P.C_ROWS], row[P.C_POP_PREV], row[P.C_POP_NEXT], row[P.C_PUSH_PREV],
            row[P.C_PUSH_NEXT], row[P.C_ACCUMULATE])
        if c.op != Op.COMPUTE:  # an OS COMPUTE also carries K_t in lanes
            assert c.lanes == row[P.C_LANES]
        if c.op == Op.LOAD:
            assert c.operand == row[P.C_OPERAND]


@settings(max_examples=60)
@given(mapped_cases())
def test_generate_compiled_equals_interpreted(case):
    layer, arch, nest = case
    assert np.array_equal(N.program_table(layer, arch, nest),
                          N.program_table(layer, arch, nest, interpreted=True))


def _timeline(table, arch):
    """Every command's (start, end, done) under the scheduling rule (CONFIGs first, as in a program)."""
    df = arch.dataflow.code
    args = (df, arch.array_rows, arch.array_cols, arch.dram_bytes_per_cycle, arch.dram_latency_cycles)
    t = np.zeros((len(table) + mapping.N_CONFIG, engine.T_COLUMNS), np.int64)
    for i in range(mapping.N_CONFIG):
        engine.timing_row(t[i], int(Op.CONFIG), 0, 0, 0, 0, 0, 0, *args, 4)
    for i, r in enumerate(table.tolist()):
        flags = r[P.C_POP_PREV], r[P.C_POP_NEXT], r[P.C_PUSH_PREV], r[P.C_PUSH_NEXT]
        row = t[mapping.N_CONFIG + i]
        ok = engine.timing_row(row, r[P.C_OP], r[P.C_ROWS], r[P.C_LANES], *flags, *args, 4)
        assert ok
    s = np.zeros(engine.S_LEN, np.int64)
    qs, qm, pend, pm = engine.new_state(s, arch.host_issue_cycles, arch.queue_depth,
                                        systolic_array_fill_drain_cycles(df, arch.array_rows,
                                                                         arch.array_cols), N.TOKEN_CAP)
    rec = np.zeros((len(t), 4), np.int64)
    engine.run_commands(s, qs, qm, pend, pm, t, len(t), rec, 0)
    engine.finish(s, pm)
    assert s[engine.S_ERROR] == 0, "the stream breaks the token protocol"
    return rec[mapping.N_CONFIG:, 1:]


def _reads(row, df, V):
    """(memory, first row, rows, tile) an EX command or STORE reads: memory 0 ifmap, 1 weight, 2 acc."""
    g, p, m, k = row[P.C_G], row[P.C_P], row[P.C_M], row[P.C_K]
    x_tile, w_tile, out_tile = ("x", g, p, k), ("w", g, k, m), ("o", g, p, m)
    op = row[P.C_OP]
    if op == OP_PRELOAD:
        return [(0, row[P.C_ADDR], row[P.C_LANES], x_tile)] if df == DF_IS else [
            (1, row[P.C_ADDR], row[P.C_LANES], w_tile)]
    if op == OP_COMPUTE:
        if df == DF_OS:
            words = row[P.C_ROWS] * V
            return [(0, row[P.C_ADDR], min(words, row[P.C_LANES]), x_tile),
                    (1, row[P.C_ADDR2], min(words, row[P.C_LANES]), w_tile)]
        return [(1, row[P.C_ADDR], row[P.C_ROWS], w_tile)] if df == DF_IS else [
            (0, row[P.C_ADDR], row[P.C_ROWS], x_tile)]
    if op == OP_STORE:
        return [(2, row[P.C_ACC_ADDR], row[P.C_ROWS], out_tile)]
    return []


@settings(max_examples=120)
@given(mapped_cases())
def test_every_read_finds_its_tile(case):
    """Replay row ownership in time: a LOAD owns its rows from its start (it may overwrite them from then
    on) and its data is there at done; a COMPUTE owns its accumulator rows while it runs. Every reader must
    find, over its whole run, its own tile in every row it reads, and nothing else writing them."""
    layer, arch, nest = case
    arch = nest.arch(arch)
    df, V = arch.dataflow.code, arch.pe_dot_width
    table = N.program_table(layer, arch, nest)
    times = _timeline(table, arch)
    geo = N.check(layer, arch, nest)
    writers = {0: [], 1: [], 2: []}  # memory -> [(first row, rows, start, done, tile)]
    for row, (start, end, done) in zip(table.tolist(), times.tolist(), strict=True):
        g, p, m, k = row[P.C_G], row[P.C_P], row[P.C_M], row[P.C_K]
        if row[P.C_OP] == OP_LOAD:
            mem = 0 if row[P.C_OPERAND] == OPERAND_INPUT else 1
            tile = ("x", g, p, k) if mem == 0 else ("w", g, k, m)
            writers[mem].append((row[P.C_ADDR], row[P.C_ROWS], start, done, tile))
            assert row[P.C_ADDR] + row[P.C_ROWS] <= geo.rows[mem]
        elif row[P.C_OP] == OP_COMPUTE:
            writers[2].append((row[P.C_ACC_ADDR], 1, start, end, ("o", g, p, m)))  # first row stands for all
    for row, (start, end, _) in zip(table.tolist(), times.tolist(), strict=True):
        for mem, first, rows, tile in _reads(row, df, V):
            lo, hi = first, first + max(rows, 1)
            own = [w for w in writers[mem] if w[4] == tile and w[0] < hi and lo < w[0] + max(w[1], 1)]
            assert own, f"no write of {tile} to the rows it is read from"
            mine = max((w for w in own if w[3] <= start), key=lambda w: w[3], default=None)
            assert mine is not None, f"{tile} read before it landed"
            for w in writers[mem]:
                if w is mine or not (w[0] < hi and lo < w[0] + max(w[1], 1)):
                    continue
                assert w[3] <= mine[2] or w[2] >= end, f"{w[4]} writes rows of {tile} while it is read"


@settings(max_examples=80)
@given(mapped_cases(pe_dot_widths=(1,)))
def test_tokens_pushed_before_popped(case):
    layer, arch, nest = case
    table = N.program_table(layer, arch, nest)
    pushed = dict.fromkeys(("l2e", "e2l", "e2s", "s2e"), 0)
    popped = dict(pushed)
    for row in table.tolist():
        op = row[P.C_OP]
        unit = "ld" if op == OP_LOAD else "st" if op == OP_STORE else "ex"
        prev_c, next_c = {"ld": (None, "e2l"), "ex": ("l2e", "s2e"), "st": ("e2s", None)}[unit]
        push_prev, push_next = {"ld": (None, "l2e"), "ex": ("e2l", "e2s"), "st": ("s2e", None)}[unit]
        for flag, c in ((P.C_POP_PREV, prev_c), (P.C_POP_NEXT, next_c)):
            if row[flag]:
                assert c is not None
                popped[c] += 1
                assert popped[c] <= pushed[c], f"{c} popped before its push is in program order"
        for flag, c in ((P.C_PUSH_PREV, push_prev), (P.C_PUSH_NEXT, push_next)):
            if row[flag]:
                assert c is not None
                pushed[c] += 1
    assert pushed == popped


def test_os_compute_carries_k_t():
    """An OS COMPUTE streams ceil(K_t / V) words and names its k-tile's valid rows K_t in lanes."""
    from accelsim.arch import preset
    from accelsim.layer import ConvLayer

    arch = preset("tensorcore").with_dataflow(Dataflow.OS)  # V = 4
    layer = ConvLayer(N=1, M=8, C=13, H=4, W=4, R=3, S=3, stride=1, pad=1, groups=1)  # K = 117
    nest = N.LoopNest(4, 40, 8, dataflow=Dataflow.OS)
    computes = N.program_table(layer, arch, nest)
    computes = computes[computes[:, P.C_OP] == OP_COMPUTE]
    assert computes[:3, P.C_LANES].tolist() == [40, 40, 37]
    assert computes[:3, P.C_ROWS].tolist() == [10, 10, 10]
