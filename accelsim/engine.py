"""The scheduler's state machine, written once in the compilable subset (accelsim.jit).

One rule (docs/microarchitecture.md, "Timing") moves the state over one command; :func:`run_commands`
applies it to a table of commands (the co-simulation's and the controller bench's full schedules, with every
command's cycles recorded) and :func:`schedule_layer` to a whole mapped layer without building its command
stream: it walks the tile loops (group, outer, inner, k) as runs of equal near (accelsim.mapping), builds each
step's commands from :func:`accelsim.mapping.step_program` and the block formulas of accelsim.timing, and
inside a run skips whole periods once the state relative to the last dispatch repeats (max-plus systems
become periodic): every time shifts by the period's delay and every statistic by its increment. The
Python API is accelsim.schedule; it runs these functions compiled, the tests also interpreted.

State, all int64 arrays so that the interpreter and Numba run the same code:

* ``s`` (S_LEN,): the scalars below;
* ``qs`` (6, Q) + ``qm`` (3, 2): per unit, a ring of the start cycles of the last Q commands it took from its
  queue (head, count): a queue slot frees when its command starts; rows 3-5 the same starts in the shadow;
* ``pend`` (8, CAP) + ``pm`` (4, 2): per token counter, a FIFO of push times not yet popped; rows 4-7 the
  same pushes in the shadow.

The *shadow* is the same schedule with an instantly issuing host (docs: "Cycle breakdown"): every command
dispatches as soon as its queue has a slot (``HI = 0``, no presentation time), with the same queues, tokens
and busy times. It changes no cycle of the schedule; it only decides how much of the execute unit's idle
time is the host's.

A command is a row of a timing table (T_COLUMNS): kind, unit (-1 for CONFIG/FENCE), busy, tail, and three
bit masks over the token counters: popped, pushed at end, pushed at done.
"""

from __future__ import annotations

import numpy as np

from accelsim.commands import OP_COMPUTE, OP_CONFIG, OP_FENCE, OP_LOAD, OP_PRELOAD, OP_STORE
from accelsim.jit import compilable
from accelsim.layer import gemm_dims
from accelsim.mapping import (
    BUFFERS,
    MAX_NEAR_RUNS,
    MAX_STEP_COMMANDS,
    N_CONFIG,
    SP_COLUMNS,
    SP_LANES,
    SP_OP,
    SP_POP_NEXT,
    SP_POP_PREV,
    SP_PUSH_NEXT,
    SP_PUSH_PREV,
    SP_ROWS,
    near,
    near_in,
    near_runs,
    step_program,
    tile_extent,
    tile_loops,
)
from accelsim.timing import ceil_div, command_busy_cycles, systolic_array_fill_drain_cycles

# The token counters (docs: "Dependency tokens") and the causes an EX idle gap is charged to.
L2E, E2L, E2S, S2E = 0, 1, 2, 3
COUNTER_NAMES = ("l2e", "e2l", "e2s", "s2e")
CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST = 0, 1, 2
UNIT_LD, UNIT_EX, UNIT_ST = 0, 1, 2

# Timing-table columns.
T_OP, T_UNIT, T_BUSY, T_TAIL, T_POPS, T_PUSH_END, T_PUSH_DONE = range(7)
T_COLUMNS = 7

# Scalars of the state vector. The statistics (S_STATS .. S_STATS + N_STATS) are what a skipped period adds.
S_HI, S_Q, S_FILL_DRAIN, S_D, S_LAST_DONE, S_FREE = 0, 1, 2, 3, 4, 5  # S_FREE .. S_FREE + 2: per unit
S_STATS = 8
S_STREAM, S_PRELOAD, S_N_COMPUTE, S_N_COMMANDS, S_IDLE = 8, 9, 10, 11, 12  # S_IDLE .. +2: per CAUSE
N_STATS = 7
S_ERROR = 15
S_FENCE = 16  # the first cycle a command may dispatch after the last FENCE: its release + 1
# The shadow (instant host): last dispatch, per-unit free times, last done, FENCE release + 1.
S_D0, S_FREE0, S_LAST_DONE0, S_FENCE0 = 17, 18, 21, 22  # S_FREE0 .. S_FREE0 + 2: per unit
S_LEN = 23
CAP = 16  # pending tokens per counter: the lowering keeps at most BUFFERS (+ a few in flight) outstanding
NONE = -(1 << 62)  # a time folded out of the periodicity key
# ERR_FLAGS: a command's token flags name a token its unit does not pop or push (timing_row returns False)
ERR_UNDERFLOW, ERR_OVERFLOW, ERR_UNBALANCED, ERR_FLAGS = 1, 2, 3, 4

# Steps of a tile from which the period search runs inside the tile (below: the tile runs as one block).
STEP_RUN_MIN = 16
PERIOD_CHECK_MIN = 3  # items left in a run below which looking for a period costs more than it saves
HISTORY = 32  # states remembered per loop level while looking for a period
LEVELS = 4  # group, outer (row), inner (tile), k (step)


@compilable
def key_length(Q):
    return 4 + 3 * (1 + Q) + 4 * (1 + CAP) + 5 + 3 * Q + 4 * CAP


@compilable
def new_state(s, HI, Q, fill_drain, cap=CAP):
    """Reset the scalars ``s`` and return the empty queue rings and token FIFOs ``(qs, qm, pend, pm)``; a
    FIFO holds ``cap`` tokens (:func:`state_key`, the periodic path, assumes CAP)."""
    s[:] = 0
    s[S_HI], s[S_Q], s[S_FILL_DRAIN] = HI, Q, fill_drain
    s[S_D] = -HI
    return (np.zeros((6, Q), np.int64), np.zeros((3, 2), np.int64), np.zeros((8, cap), np.int64),
            np.zeros((4, 2), np.int64))


@compilable
def token_masks(unit, pop_prev, pop_next, push_prev, push_next):
    """``(pops, pushes at end, pushes at done)`` bit masks of a command's flags, by its unit (LD pops e2l
    and pushes l2e when its data has landed; EX pops l2e, s2e and pushes e2l, e2s; ST pops e2s, pushes
    s2e); -1 where a unit cannot honour a flag."""
    if unit == UNIT_LD:
        if pop_prev or push_prev:
            return -1, -1, -1
        return pop_next << E2L, 0, push_next << L2E
    if unit == UNIT_EX:
        return (pop_prev << L2E) | (pop_next << S2E), (push_prev << E2L) | (push_next << E2S), 0
    if pop_next or push_next:
        return -1, -1, -1
    return pop_prev << E2S, push_prev << S2E, 0


@compilable
def unit_of(op):
    if op == OP_LOAD:
        return UNIT_LD
    if op in (OP_PRELOAD, OP_COMPUTE):
        return UNIT_EX
    if op == OP_STORE:
        return UNIT_ST
    return -1


@compilable
def timing_row(row, op, rows, lanes, pop_prev, pop_next, push_prev, push_next, df, AR, AC, BW, L, out_bytes):
    """Fill a timing-table row for one command; False where its flags do not fit its unit."""
    unit = unit_of(op)
    row[T_OP], row[T_UNIT] = op, unit
    if unit < 0:
        row[T_BUSY] = row[T_TAIL] = row[T_POPS] = row[T_PUSH_END] = row[T_PUSH_DONE] = 0
        return op in (OP_CONFIG, OP_FENCE)
    row[T_BUSY] = command_busy_cycles(op, rows, lanes, df, AR, AC, BW, out_bytes)
    row[T_TAIL] = 0 if unit == UNIT_EX else L
    pops, at_end, at_done = token_masks(unit, pop_prev, pop_next, push_prev, push_next)
    row[T_POPS], row[T_PUSH_END], row[T_PUSH_DONE] = pops, at_end, at_done
    return pops >= 0


@compilable
def _push(s, pend, pm, c, t, t0):
    """Push a token of counter ``c`` at ``t`` (at ``t0`` in the shadow)."""
    cap = pend.shape[1]
    if pm[c, 1] == cap:
        s[S_ERROR] = ERR_OVERFLOW
        return
    k = (pm[c, 0] + pm[c, 1]) % cap
    pend[c, k], pend[4 + c, k] = t, t0
    pm[c, 1] += 1


@compilable
def _pop(s, pend, pm, c):
    """Pop the oldest token of counter ``c``: its push time and its shadow push time."""
    if pm[c, 1] == 0:
        s[S_ERROR] = ERR_UNDERFLOW
        return 0, 0
    k = pm[c, 0]
    pm[c, 0] = (k + 1) % pend.shape[1]
    pm[c, 1] -= 1
    return pend[c, k], pend[4 + c, k]


@compilable
def run_commands(s, qs, qm, pend, pm, table, n, record, record_at):
    """Apply the scheduling rule to rows ``0 .. n-1`` of a timing table; when ``record_at >= 0`` write each
    command's (dispatch, start, end, done) into ``record`` from row ``record_at`` on. The shadow (suffix 0,
    an instant host) runs the same rule alongside; each EX idle gap is split between the host and DRAM by
    :func:`_charge_idle`."""
    HI, Q = s[S_HI], s[S_Q]
    d_prev, last_done = s[S_D], s[S_LAST_DONE]
    d0_prev, last_done0 = s[S_D0], s[S_LAST_DONE0]
    s[S_N_COMMANDS] += n
    for i in range(n):
        unit = table[i, T_UNIT]
        d = d_prev + HI
        if d < s[S_FENCE]:  # the dispatcher takes nothing while a FENCE waits: from its release + 1 on
            d = s[S_FENCE]
        d0 = d0_prev if d0_prev > s[S_FENCE0] else s[S_FENCE0]
        if unit < 0:
            done, done0 = d, d0
            if table[i, T_OP] == OP_FENCE:
                if last_done > d:
                    done = last_done
                if last_done0 > d0:
                    done0 = last_done0
                s[S_FENCE] = done + 1
                s[S_FENCE0] = done0 + 1
            last_done = max(last_done, done)
            last_done0 = max(last_done0, done0)
            d_prev, d0_prev = d, d0
            if record_at >= 0:
                record[record_at + i, 0] = record[record_at + i, 1] = record[record_at + i, 2] = d
                record[record_at + i, 3] = done
            continue
        busy, tail = table[i, T_BUSY], table[i, T_TAIL]
        head, count = qm[unit, 0], qm[unit, 1]
        if count == Q and qs[unit, head] + 1 > d:  # the queue is full until its oldest command starts
            d = qs[unit, head] + 1
        if count == Q and qs[3 + unit, head] + 1 > d0:
            d0 = qs[3 + unit, head] + 1
        d_prev, d0_prev = d, d0
        ready, ready0 = d + 1, d0 + 1
        t_dram, cause = NONE, CAUSE_DRAM_LOAD  # the latest token popped names the DRAM cause
        pops = table[i, T_POPS]
        for c in range(4):
            if (pops >> c) & 1:
                t, t0 = _pop(s, pend, pm, c)
                ready = t if t > ready else ready
                ready0 = t0 if t0 > ready0 else ready0
                if t >= t_dram:
                    t_dram, cause = t, (CAUSE_DRAM_LOAD if c == L2E else CAUSE_DRAM_STORE)
        f, f0 = s[S_FREE + unit], s[S_FREE0 + unit]
        start = ready if ready > f else f
        start0 = ready0 if ready0 > f0 else f0
        end, end0 = start + busy, start0 + busy
        s[S_FREE + unit], s[S_FREE0 + unit] = end, end0
        if count == Q:  # the ring keeps the last Q starts
            qs[unit, head], qs[3 + unit, head] = start, start0
            qm[unit, 0] = (head + 1) % Q
        else:
            k = (head + count) % Q
            qs[unit, k], qs[3 + unit, k] = start, start0
            qm[unit, 1] = count + 1
        for c in range(4):
            if (table[i, T_PUSH_END] >> c) & 1:
                _push(s, pend, pm, c, end, end0)
            if (table[i, T_PUSH_DONE] >> c) & 1:
                _push(s, pend, pm, c, end + tail, end0 + tail)
        if end + tail > last_done:
            last_done = end + tail
        if end0 + tail > last_done0:
            last_done0 = end0 + tail
        if unit == UNIT_EX:
            _charge_idle(s, start - f, start - start0, cause)
            if table[i, T_OP] == OP_PRELOAD:
                s[S_PRELOAD] += busy
            else:
                s[S_STREAM] += busy - s[S_FILL_DRAIN]
                s[S_N_COMPUTE] += 1
        if record_at >= 0:
            record[record_at + i, 0], record[record_at + i, 1] = d, start
            record[record_at + i, 2], record[record_at + i, 3] = end, end + tail
    s[S_D], s[S_LAST_DONE] = d_prev, last_done
    s[S_D0], s[S_LAST_DONE0] = d0_prev, last_done0


@compilable
def _charge_idle(s, gap, late, cause):
    """Charge an EX idle gap of ``gap >= 0`` cycles that ends ``late`` cycles after the shadow's time
    (a command's start, or the layer's end). The host stall so far, ``H``, is the largest lateness charged
    yet; the part of ``late`` beyond it is the host's (``<= gap``: the unit's free time is at least ``H``
    late), the rest of the gap DRAM's (``cause``)."""
    H = s[S_IDLE + CAUSE_HOST]
    host = late - H if late > H else 0
    s[S_IDLE + CAUSE_HOST] += host
    s[S_IDLE + cause] += gap - host


@compilable
def _rel(t, d):
    return t - d if t > d + 1 else NONE


@compilable
def state_key(s, qs, qm, pend, pm, out):
    """The state relative to the last dispatch ``d`` into ``out`` (key_length(Q)): equal keys evolve
    identically under equal commands. Times that can no longer bind are folded to NONE: every later
    command starts at >= d + 2, so a LD/ST free time, a queue-slot time or a pending token time <= d + 1
    never wins a max again (nor decides an idle cause). The EX free time stays exact: it measures EX idle
    gaps. The shadow's times are relative to its last dispatch ``d0`` (folded alike: every later shadow
    start is >= d0 + 1; a queue slot binds d0 while >= d0), and ``d0 - d`` plus the host stall so far is
    the one number tying the shadow to the schedule: the charge of a gap depends only on the lateness
    ``start - start0`` minus that stall."""
    d, Q = s[S_D], s[S_Q]
    out[0] = s[S_FREE + UNIT_EX] - d
    out[1], out[2] = _rel(s[S_FREE + UNIT_LD], d), _rel(s[S_FREE + UNIT_ST], d)
    out[3] = _rel(s[S_LAST_DONE], d)
    k = 4
    for u in range(3):
        out[k] = qm[u, 1]
        for j in range(Q):
            out[k + 1 + j] = _rel(qs[u, (qm[u, 0] + j) % Q], d) if j < qm[u, 1] else NONE
        k += 1 + Q
    for c in range(4):
        out[k] = pm[c, 1]
        for j in range(CAP):
            out[k + 1 + j] = _rel(pend[c, (pm[c, 0] + j) % CAP], d) if j < pm[c, 1] else NONE
        k += 1 + CAP
    d0 = s[S_D0]
    out[k] = d0 - d + s[S_IDLE + CAUSE_HOST]
    for u in range(3):
        out[k + 1 + u] = _rel(s[S_FREE0 + u], d0)
    out[k + 4] = _rel(s[S_LAST_DONE0], d0)
    k += 5
    for u in range(3):
        for j in range(Q):
            t0 = qs[3 + u, (qm[u, 0] + j) % Q]
            out[k + j] = t0 - d0 if (j < qm[u, 1] and t0 >= d0) else NONE
        k += Q
    for c in range(4):
        for j in range(CAP):
            out[k + j] = _rel(pend[4 + c, (pm[c, 0] + j) % CAP], d0) if j < pm[c, 1] else NONE
        k += CAP


@compilable
def advance(s, qs, pend, delta, stats_delta):
    """Shift every time by ``delta``, the shadow's by ``delta`` less the host stall added, and add
    ``stats_delta`` (a whole number of periods skipped)."""
    delta0 = delta - stats_delta[S_IDLE + CAUSE_HOST - S_STATS]
    s[S_D] += delta
    s[S_LAST_DONE] += delta
    s[S_D0] += delta0
    s[S_LAST_DONE0] += delta0
    for u in range(3):
        s[S_FREE + u] += delta
        s[S_FREE0 + u] += delta0
    qs[:3] += delta  # the ring slots not in use are never read
    qs[3:] += delta0
    pend[:4] += delta
    pend[4:] += delta0
    for j in range(N_STATS):
        s[S_STATS + j] += stats_delta[j]


@compilable
def _skip_period(level, remaining, s, qs, qm, pend, pm, key, hist_key, hist_item, hist_d, hist_stats, hist_n,
                 item):
    """Before item ``item`` of a run (``remaining`` items left, this one included): if the state repeats one
    seen earlier in the run, skip as many whole periods as fit and return the items skipped; else remember
    the state and return 0."""
    if remaining <= PERIOD_CHECK_MIN:
        return 0
    state_key(s, qs, qm, pend, pm, key)
    n = hist_n[level]
    for h in range(n):
        same = True
        for j in range(key.size):
            if hist_key[level, h, j] != key[j]:
                same = False
                break
        if same:
            period = item - hist_item[level, h]
            jumps = remaining // period
            delta = jumps * (s[S_D] - hist_d[level, h])
            stats = np.empty(N_STATS, np.int64)
            for j in range(N_STATS):
                stats[j] = jumps * (s[S_STATS + j] - hist_stats[level, h, j])
            advance(s, qs, pend, delta, stats)
            hist_n[level] = 0
            return jumps * period
    if n < HISTORY:
        hist_key[level, n, :] = key
        hist_item[level, n], hist_d[level, n] = item, s[S_D]
        for j in range(N_STATS):
            hist_stats[level, n, j] = s[S_STATS + j]
        hist_n[level] = n + 1
    return 0


@compilable
def _run_step(s, qs, qm, pend, pm, prog, table, df, V, AR, AC, BW, L, out_bytes, P_t, M_t, K_t, kn0, kn1,
              n0, n1, t0, t1):
    n = step_program(df, V, P_t, M_t, K_t, kn0, kn1, n0, n1, t0, t1, prog)
    for i in range(n):
        timing_row(table[i], prog[i, SP_OP], prog[i, SP_ROWS], prog[i, SP_LANES], prog[i, SP_POP_PREV],
                   prog[i, SP_POP_NEXT], prog[i, SP_PUSH_PREV], prog[i, SP_PUSH_NEXT], df, AR, AC, BW, L,
                   out_bytes)
    run_commands(s, qs, qm, pend, pm, table, n, table, -1)


@compilable
def schedule_layer(df, groups, P, K, Mg, P_T, K_T, M_T, AR, AC, BW, L, Q, HI, V, out_bytes, s):
    """A mapped layer's schedule (the totals and statistics in ``s``, see S_*): CONFIGs, every step in loop
    order, FENCE -- with periods skipped. ``s[S_ERROR]`` is non-zero if the token protocol broke."""
    p_tiles, k_tiles, m_tiles = ceil_div(P, P_T), ceil_div(K, K_T), ceil_div(Mg, M_T)
    P_L, K_L, M_L = P - (p_tiles - 1) * P_T, K - (k_tiles - 1) * K_T, Mg - (m_tiles - 1) * M_T
    n_outer, n_inner = tile_loops(df, p_tiles, m_tiles)
    qs, qm, pend, pm = new_state(s, HI, Q, systolic_array_fill_drain_cycles(df, AR, AC))
    table = np.zeros((max(N_CONFIG, MAX_STEP_COMMANDS), T_COLUMNS), np.int64)
    prog = np.zeros((MAX_STEP_COMMANDS, SP_COLUMNS), np.int64)
    for i in range(N_CONFIG):
        timing_row(table[i], OP_CONFIG, 0, 0, 0, 0, 0, 0, df, AR, AC, BW, L, out_bytes)
    run_commands(s, qs, qm, pend, pm, table, N_CONFIG, table, -1)

    # The loop nest as an explicit stack: per level its runs of equal near, the current run and item.
    counts = np.array([groups, n_outer, n_inner, k_tiles], np.int64)
    runs = np.zeros((LEVELS, MAX_NEAR_RUNS, 3), np.int64)
    n_runs = np.zeros(LEVELS, np.int64)
    for lv in range(LEVELS):
        n_runs[lv] = near_runs(counts[lv], runs[lv])
    run_at = np.zeros(LEVELS, np.int64)
    item = np.zeros(LEVELS, np.int64)
    ctx = np.zeros((LEVELS, 2), np.int64)  # the near in the layer of the current item, per level
    klen = key_length(Q)
    key = np.zeros(klen, np.int64)
    hist_key = np.zeros((LEVELS, HISTORY, klen), np.int64)
    hist_item = np.zeros((LEVELS, HISTORY), np.int64)
    hist_d = np.zeros((LEVELS, HISTORY), np.int64)
    hist_stats = np.zeros((LEVELS, HISTORY, N_STATS), np.int64)
    hist_n = np.zeros(LEVELS, np.int64)
    P_t = M_t = 0
    outer_last = False
    lv = 0
    while lv >= 0:
        r = run_at[lv]
        if r == n_runs[lv]:  # this level is done: one item of the level above is
            run_at[lv] = item[lv] = 0
            lv -= 1
            if lv >= 0:
                item[lv] += 1
            continue
        length = runs[lv, r, 2]
        if item[lv] == length:  # next run
            run_at[lv] += 1
            item[lv] = 0
            hist_n[lv] = 0
            continue
        if lv < 3 or k_tiles >= STEP_RUN_MIN:
            skipped = _skip_period(lv, length - item[lv], s, qs, qm, pend, pm, key, hist_key, hist_item,
                                   hist_d, hist_stats, hist_n, item[lv])
            if skipped > 0:
                item[lv] += skipped
                continue
        n0, n1 = runs[lv, r, 0], runs[lv, r, 1]
        if lv == 0:
            ctx[0, 0], ctx[0, 1] = n0, n1
        elif lv == 1:
            ctx[1, 0], ctx[1, 1] = near_in((ctx[0, 0], ctx[0, 1]), (n0, n1), n_outer)
            outer_last = n1 == 0
        elif lv == 2:
            ctx[2, 0], ctx[2, 1] = near_in((ctx[1, 0], ctx[1, 1]), (n0, n1), n_inner)
            P_t, M_t = tile_extent(df, outer_last, n1 == 0, P_T, P_L, M_T, M_L)
        else:
            st0, st1 = near_in((ctx[2, 0], ctx[2, 1]), (n0, n1), k_tiles)
            _run_step(s, qs, qm, pend, pm, prog, table, df, V, AR, AC, BW, L, out_bytes, P_t, M_t,
                      K_L if n1 == 0 else K_T, n0, n1, st0, st1, ctx[2, 0], ctx[2, 1])
            item[lv] += 1
            continue
        lv += 1  # descend into the item's loop
        run_at[lv] = item[lv] = 0
        hist_n[lv] = 0

    timing_row(table[0], OP_FENCE, 0, 0, 0, 0, 0, 0, df, AR, AC, BW, L, out_bytes)
    run_commands(s, qs, qm, pend, pm, table, 1, table, -1)
    finish(s, pm)


@compilable
def finish(s, pm):
    """Close a schedule: every token popped; the EX unit's idle time after its last command (the final
    STOREs) is charged like a gap ending at the layer's end (DRAM: store)."""
    for c in range(4):
        if pm[c, 1] != 0 and s[S_ERROR] == 0:
            s[S_ERROR] = ERR_UNBALANCED
    _charge_idle(s, s[S_LAST_DONE] - s[S_FREE + UNIT_EX], s[S_LAST_DONE] - s[S_LAST_DONE0], CAUSE_DRAM_STORE)


@compilable
def schedule_shape(N, M, C, H, W, R, S, stride, pad, groups, df, P_T, K_T, M_T, AR, AC, BW, L, Q, HI, V,
                   out_bytes, s):
    """:func:`schedule_layer` from the layer's fields and its tile sizes."""
    P, K, Mg = gemm_dims(N, M, C, H, W, R, S, stride, pad, groups)
    schedule_layer(df, groups, P, K, Mg, P_T, K_T, M_T, AR, AC, BW, L, Q, HI, V, out_bytes, s)


assert BUFFERS == 2 and near(0, 1) == (0, 0)  # the near/ring arithmetic above assumes double buffering
