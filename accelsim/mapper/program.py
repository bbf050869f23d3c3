"""A mapping's command stream, generated in compiled code: tiles placed at row addresses, reused where the
mapping keeps them resident, and the dependency tokens derived from what each command reads and writes.

The one rule for the tokens (docs/mapper.md), at the granularity of a *step* (one
k-tile of an output tile: its LOADs, PRELOAD, COMPUTE, and the STORE after the tile's last k-step):

- **l2e** ("data landed"): the step's first EX command pops it when the step reads a tile loaded by a LOAD
  newer than any an earlier step waited for; that LOAD pushes it.
- **e2l** ("rows free"): the step's first LOAD pops it when a slot the step loads into was last read by an
  EX command newer than any an earlier LOAD waited for; that step's COMPUTE (a step releases every slot it
  read at its COMPUTE) pushes it.
- **e2s** ("accumulator tile ready"): a tile's last COMPUTE pushes, its STORE pops.
- **s2e** ("accumulator rows free"): a tile's first COMPUTE pops it when its accumulator slot was last
  stored by a STORE newer than any it waited for; that STORE pushes it.

Each counter's pops are matched with its pushes in order (the hardware's counters count, they do not name),
so each rule waits only for a producer strictly newer than the last one waited for; every producer precedes
its consumer in program order, so no queue can deadlock. Applied to the fixed lowering's mapping (every
operand reloaded each step into a ring of two slots, loop order of accelsim.mapping.tile_loops) the rule
gives exactly accelsim.mapping.step_program's flags (tests/mapper/test_program.py), hence its cycles.
"""

from __future__ import annotations

import numpy as np

from accelsim.arch import DF_IS, DF_OS
from accelsim.commands import OP_COMPUTE, OP_LOAD, OP_PRELOAD, OP_STORE
from accelsim.jit import compilable
from accelsim.mapping import OPERAND_INPUT, OPERAND_WEIGHT, has_preload, step_loads, store_shape
from accelsim.timing import ceil_div

# Residency of an operand's tiles: reloaded by every step that reads it (the fixed lowering), or loaded by
# its first reader in the group and kept until its last.
RES_STEP, RES_KEEP = 0, 1
# The tile loops outside k: p-tiles outer (ORDER_PM) or m-tiles outer (ORDER_MP).
ORDER_PM, ORDER_MP = 0, 1

# Columns of a program table row.
(C_OP, C_OPERAND, C_ROWS, C_LANES, C_POP_PREV, C_POP_NEXT, C_PUSH_PREV, C_PUSH_NEXT, C_ACCUMULATE, C_ADDR,
 C_ADDR2, C_ACC_ADDR, C_G, C_P, C_M, C_K) = range(16)
C_COLUMNS = 16
MAX_STEP_COMMANDS = 5


@compilable
def keep_slots(outer_operand, p_tiles, m_tiles, k_tiles, which):
    """Slots one block of a kept operand needs: the k-tiles of one outer index when the operand is indexed
    by the outer loop (``outer_operand``), else every tile of the group. ``which``: 0 inputs (p, k),
    1 weights (k, m)."""
    if outer_operand:
        return k_tiles
    return (p_tiles if which == 0 else m_tiles) * k_tiles


@compilable
def operand_slots(res, depth, outer_operand, p_tiles, m_tiles, k_tiles, which):
    """Slots (tiles) of an operand's scratchpad region: a ring of ``depth`` tiles (RES_STEP) or ``depth``
    blocks of :func:`keep_slots` (RES_KEEP)."""
    if res == RES_STEP:
        return depth
    return depth * keep_slots(outer_operand, p_tiles, m_tiles, k_tiles, which)


@compilable
def slot_of(res, depth, outer_operand, loads, own, g, block, k_tiles, k):
    """The slot of an operand's tile (``own``: its p-tile for inputs, m-tile for weights; k-tile ``k``):
    the next of a ring of ``depth`` (RES_STEP, ``loads`` so far), else its place in block ``own % depth``
    (indexed by the outer loop: a block holds the k-tiles of one outer index) or ``g % depth`` (a block
    holds the group's tiles)."""
    if res == RES_STEP:
        return loads % depth
    if outer_operand:
        return (own % depth) * block + k
    return (g % depth) * block + own * k_tiles + k


@compilable
def _put(out, n, op, operand, rows, lanes, accumulate, addr, addr2, acc_addr, g, p, m, k):
    out[n, C_OP], out[n, C_OPERAND], out[n, C_ROWS], out[n, C_LANES] = op, operand, rows, lanes
    out[n, C_POP_PREV] = out[n, C_POP_NEXT] = out[n, C_PUSH_PREV] = out[n, C_PUSH_NEXT] = 0
    out[n, C_ACCUMULATE], out[n, C_ADDR], out[n, C_ADDR2] = accumulate, addr, addr2
    out[n, C_ACC_ADDR] = acc_addr
    out[n, C_G], out[n, C_P], out[n, C_M], out[n, C_K] = g, p, m, k
    return n + 1


@compilable
def generate(df, V, groups, P, K, Mg, P_T, K_T, M_T, order, x_res, w_res, x_depth, w_depth, acc_depth,
             x_slot, w_slot, acc_slot, out):
    """Write the mapping's commands (no CONFIG, no FENCE) into ``out`` (rows >= steps * MAX_STEP_COMMANDS,
    C_COLUMNS); return how many. ``x_slot``, ``w_slot``, ``acc_slot``: rows per tile slot of the ifmap spad,
    the weight spad and the accumulator (multiples of V for the operand spads)."""
    p_tiles, k_tiles, m_tiles = ceil_div(P, P_T), ceil_div(K, K_T), ceil_div(Mg, M_T)
    P_L, K_L, M_L = P - (p_tiles - 1) * P_T, K - (k_tiles - 1) * K_T, Mg - (m_tiles - 1) * M_T
    n_outer = p_tiles if order == ORDER_PM else m_tiles
    n_inner = m_tiles if order == ORDER_PM else p_tiles
    x_outer, w_outer = order == ORDER_PM, order == ORDER_MP  # the operand the outer loop indexes
    nx = operand_slots(x_res, x_depth, x_outer, p_tiles, m_tiles, k_tiles, 0)
    nw = operand_slots(w_res, w_depth, w_outer, p_tiles, m_tiles, k_tiles, 1)
    x_block = keep_slots(x_outer, p_tiles, m_tiles, k_tiles, 0)
    w_block = keep_slots(w_outer, p_tiles, m_tiles, k_tiles, 1)
    x_reader = np.full(nx, -1, np.int64)  # per slot: the COMPUTE that last read it
    w_reader = np.full(nw, -1, np.int64)
    x_loaded = np.full(nx, -1, np.int64)  # per slot: the LOAD that last wrote it
    w_loaded = np.full(nw, -1, np.int64)
    acc_store = np.full(acc_depth, -1, np.int64)  # per accumulator slot: the STORE that last read it
    l2e_cov = e2l_cov = s2e_cov = -1
    x_loads = w_loads = 0
    n = 0
    tile = 0
    stat_first = OPERAND_INPUT if df == DF_IS else OPERAND_WEIGHT
    for g in range(groups):
        for o in range(n_outer):
            for i in range(n_inner):
                p, m = (o, i) if order == ORDER_PM else (i, o)
                P_t = P_L if p == p_tiles - 1 else P_T
                M_t = M_L if m == m_tiles - 1 else M_T
                acc = tile % acc_depth
                for k in range(k_tiles):
                    K_t = K_L if k == k_tiles - 1 else K_T
                    first_k, last_k = k == 0, k == k_tiles - 1
                    # where this step's tiles live, and whether it loads them
                    load_x = x_res == RES_STEP or m == 0
                    load_w = w_res == RES_STEP or p == 0
                    xs = slot_of(x_res, x_depth, x_outer, x_loads, p, g, x_block, k_tiles, k)
                    ws = slot_of(w_res, w_depth, w_outer, w_loads, m, g, w_block, k_tiles, k)
                    r1, l1, r2, l2, stream = step_loads(df, V, P_t, M_t, K_t)
                    # the step's LOADs, stationary operand first (as mapping.step_program)
                    first_load = n
                    need_free = -1
                    for q in range(2):
                        operand = stat_first if q == 0 else OPERAND_WEIGHT + OPERAND_INPUT - stat_first
                        rows, lanes = (r1, l1) if q == 0 else (r2, l2)
                        if operand == OPERAND_INPUT and load_x:
                            need_free = max(need_free, x_reader[xs])
                            x_loaded[xs] = n
                            x_loads += 1
                            n = _put(out, n, OP_LOAD, operand, rows, lanes, 0, xs * x_slot, 0, 0, g, p, m, k)
                        elif operand == OPERAND_WEIGHT and load_w:
                            need_free = max(need_free, w_reader[ws])
                            w_loaded[ws] = n
                            w_loads += 1
                            n = _put(out, n, OP_LOAD, operand, rows, lanes, 0, ws * w_slot, 0, 0, g, p, m, k)
                    if n > first_load and need_free > e2l_cov:
                        out[first_load, C_POP_NEXT] = 1
                        out[need_free, C_PUSH_PREV] = 1
                        e2l_cov = need_free
                    need_data = max(x_loaded[xs], w_loaded[ws])
                    first_ex = n
                    if has_preload(df):
                        stat_addr = xs * x_slot if df == DF_IS else ws * w_slot
                        n = _put(out, n, OP_PRELOAD, 0, 0, K_t, 0, stat_addr, 0, 0, g, p, m, k)
                    if df == DF_IS:
                        s_addr, s_addr2, c_lanes = ws * w_slot, 0, 0
                    elif df == DF_OS:
                        s_addr, s_addr2, c_lanes = xs * x_slot, ws * w_slot, K_t
                    else:
                        s_addr, s_addr2, c_lanes = xs * x_slot, 0, 0
                    compute = n
                    n = _put(out, n, OP_COMPUTE, 0, stream, c_lanes, 0 if first_k else 1, s_addr, s_addr2,
                             acc * acc_slot, g, p, m, k)
                    if need_data > l2e_cov:
                        out[first_ex, C_POP_PREV] = 1
                        out[need_data, C_PUSH_NEXT] = 1
                        l2e_cov = need_data
                    if first_k and acc_store[acc] > s2e_cov:
                        out[compute, C_POP_NEXT] = 1
                        out[acc_store[acc], C_PUSH_PREV] = 1
                        s2e_cov = acc_store[acc]
                    x_reader[xs] = compute
                    w_reader[ws] = compute
                    if last_k:
                        out[compute, C_PUSH_NEXT] = 1
                        s_rows, s_lanes = store_shape(df, P_t, M_t)
                        acc_store[acc] = n
                        n = _put(out, n, OP_STORE, 0, s_rows, s_lanes, 0, 0, 0, acc * acc_slot, g, p, m, k)
                        out[n - 1, C_POP_PREV] = 1
                tile += 1
    return n


def empty_table(steps: int) -> np.ndarray:
    return np.zeros((steps * MAX_STEP_COMMANDS, C_COLUMNS), np.int64)
