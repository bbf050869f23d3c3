"""Search the mapping space of a layer: enumerate, bound, then schedule exactly (branch and bound).

Why this search: a layer's space here is small enough to enumerate (hundreds to a few thousand nests: the
streamed tile length x loop order x each operand's residency x buffering depth; the array tile sizes stay
the grid's, which is never worse), and every nest has closed-form traffic and energy (exact,
accelsim.mapper.nest.traffic) and a closed-form lower bound on its cycles (each unit's busy time, below).
So candidates are sorted by the bound of the objective and scheduled exactly in that order until the next
bound cannot beat the best exact value found: the answer is the exact optimum of the space (or, under a
time budget, the best found, never worse than the fixed lowering, which is evaluated first). Annealing or
random sampling would only be needed for spaces too large to enumerate, which this one is not.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import numpy as np

from accelsim.arch import DF_IS, DF_OS, ArchConfig, Dataflow, energy_pj
from accelsim.errors import AccelsimError, require
from accelsim.jit import compilable, compiled
from accelsim.layer import ConvLayer, gemm_dims
from accelsim.mapper.nest import MAX_STEPS, LoopNest, evaluate_nest, layout
from accelsim.mapper.program import ORDER_MP, ORDER_PM, RES_KEEP, RES_STEP
from accelsim.mapping import MAX_TILE_ROWS, has_preload, step_loads, store_shape
from accelsim.memory import mapped_traffic_counts
from accelsim.result import LayerResult
from accelsim.sim import out_bytes_of, simulate_layer
from accelsim.timing import (
    ceil_div,
    load_unit_cycles,
    store_unit_cycles,
    systolic_array_cycles,
    systolic_array_preload_cycles,
)

OBJECTIVES = ("cycles", "energy", "edp", "dram")
MAPPERS = ("fixed", "search")  # the fixed lowering, or each layer's nest searched (simulate, cosim, sweeps)
RESIDENCIES = (RES_STEP, RES_KEEP)
STEP_DEPTHS = (2, 3, 4)  # a reloaded operand's ring of slots: 2 is double buffering
KEEP_DEPTHS = (1, 2)  # a kept operand's blocks: 2 loads the next block while the current one is used
DEFAULT_GAP = 0.01  # the search stops when no candidate left can be more than 1 % better than the best
ACC_DEPTHS = (1, 2)  # accumulator slots: 1 lets the streamed tile use all of it, 2 overlaps STOREs
MAX_SPLITS = 48  # streamed tile lengths tried: ceil(X / n) for n = 1 .. MAX_SPLITS, then halvings


@compilable
def _edge(i, T, count, total):
    """Class ``i`` of a tiled dimension: 0 the full tiles, 1 the last one: ``(extent, how many)``."""
    if i == 0:
        return T, count - 1
    return total - (count - 1) * T, 1


@compilable
def busy_bound(df, V, AR, AC, BW, L, out_bytes, groups, P, K, Mg, P_T, K_T, M_T, x_mult, w_mult):
    """A lower bound on a nest's cycles. Each unit runs its commands one after the other, and a transfer's
    data lands L after its unit is done with it, so the layer takes at least the load unit's total busy time
    plus L, the store unit's plus L, and the execute unit's plus what must precede its first command (the
    first step's LOADs and L) and follow its last (the last tile's STORE and L). ``x_mult``, ``w_mult``:
    the loads of each input and weight tile (RES_STEP: m_tiles, p_tiles; RES_KEEP: 1)."""
    p_tiles, k_tiles, m_tiles = ceil_div(P, P_T), ceil_div(K, K_T), ceil_div(Mg, M_T)
    ld = ex = st = 0
    last = 0
    for a in range(2):
        P_t, n_p = _edge(a, P_T, p_tiles, P)
        for b in range(2):
            M_t, n_m = _edge(b, M_T, m_tiles, Mg)
            s_rows, s_lanes = store_shape(df, P_t, M_t)
            store = store_unit_cycles(s_rows, s_lanes, out_bytes, BW)
            st += n_p * n_m * store
            if a == 1 and b == 1:
                last = store
            for c in range(2):
                K_t, n_k = _edge(c, K_T, k_tiles, K)
                r1, l1, r2, l2, stream = step_loads(df, V, P_t, M_t, K_t)
                ex += n_p * n_m * n_k * (systolic_array_cycles(stream, df, AR, AC) +
                                         (systolic_array_preload_cycles(AR) if has_preload(df) else 0))
                x_cycles = load_unit_cycles(r1, l1, BW) if df == DF_IS else load_unit_cycles(r2, l2, BW)
                w_cycles = load_unit_cycles(r2, l2, BW) if df == DF_IS else load_unit_cycles(r1, l1, BW)
                if b == 0:  # input tiles (p, k) do not depend on m: count them once, x_mult times
                    ld += n_p * n_k * x_mult * x_cycles
                if a == 0:  # weight tiles (k, m) do not depend on p
                    ld += n_m * n_k * w_mult * w_cycles
    r1, l1, r2, l2, _ = step_loads(df, V, min(P_T, P), min(M_T, Mg), min(K_T, K))  # the first step's
    first = load_unit_cycles(r1, l1, BW) + load_unit_cycles(r2, l2, BW)
    return max(groups * ld + L, groups * st + L, first + L + groups * ex + last + L)


@dataclass(frozen=True, slots=True)
class Mapped:
    """A layer's chosen nest with its result, the fixed lowering's result, and how the search went."""

    nest: LoopNest
    result: LayerResult
    fixed: LayerResult
    candidates: int  # nests in the space that fit
    scheduled: int  # nests scheduled exactly
    seconds: float
    exhaustive: bool  # False if the budget ran out before the bound proved the answer optimal


def objective_key(objective: str, r: LayerResult) -> tuple[float, float]:
    """What the search minimises for a result: (objective, tie-break), lexicographically."""
    return _key(objective, r.cycles, r.energy_pj, r.dram_read_bytes + r.dram_write_bytes)


def _key(objective: str, cycles: float, energy: float, dram: float) -> tuple[float, float]:
    """(objective, tie-break) from cycles (or a lower bound on them: every part of the key is monotone in
    the cycles), energy and DRAM bytes."""
    primary = {"cycles": cycles, "energy": energy, "edp": energy * cycles, "dram": dram}[objective]
    return float(primary), float(energy if objective == "cycles" else cycles)


def _streamed_lengths(X: int, limit: int, V: int) -> list[int]:
    """Candidate lengths of the streamed tile: every even split of X into up to MAX_SPLITS tiles, then
    halvings of the largest legal length, each <= limit (OS: a multiple of V)."""
    out = {min(ceil_div(X, n), limit) for n in range(1, MAX_SPLITS + 1)}
    t = limit
    while t >= 1:
        out.add(t)
        t //= 2
    if V > 1:
        out = {max(V, t // V * V) if t != X else t for t in out}
    return sorted(t for t in out if 1 <= t <= limit)


# Columns of a candidate row (the nest's fields; dataflow as its code).
(K_T_COL, K_K_COL, K_M_COL, K_ORDER, K_XRES, K_WRES, K_XDEPTH, K_WDEPTH, K_ACCDEPTH, K_DF) = range(10)
N_CAND_COLUMNS = 10


def _candidate_rows(layer: ConvLayer, arch: ArchConfig, dataflows) -> np.ndarray:
    """Every nest of the space, fitting or not, as rows (K_* columns), in each of ``dataflows`` where the
    layer fits at all."""
    P, K, Mg = gemm_dims(*layer.shape)
    rows = []
    for dataflow in dataflows or (arch.dataflow,):
        a = arch.with_dataflow(dataflow)
        try:
            fixed = LoopNest.fixed(layer, a)
        except AccelsimError:  # no tile of this dataflow fits the memories
            continue
        df, V = a.dataflow.code, a.pe_dot_width
        if df == DF_OS:
            streamed, limit = K, K if K <= MAX_TILE_ROWS else MAX_TILE_ROWS // V * V
        else:
            streamed = Mg if df == DF_IS else P
            limit = min(streamed, MAX_TILE_ROWS)
        for T in _streamed_lengths(streamed, limit, V):
            tile = [fixed.P_T, fixed.K_T, fixed.M_T]
            tile[1 if df == DF_OS else 2 if df == DF_IS else 0] = T
            for order, x_res, w_res, acc_depth in itertools.product((ORDER_PM, ORDER_MP), RESIDENCIES,
                                                                    RESIDENCIES, ACC_DEPTHS):
                for x_depth, w_depth in itertools.product(_depths(x_res), _depths(w_res)):
                    rows.append((*tile, order, x_res, w_res, x_depth, w_depth, acc_depth, df))
    return np.array(rows, np.int64).reshape(-1, N_CAND_COLUMNS)


def _depths(res: int) -> tuple[int, ...]:
    return STEP_DEPTHS if res == RES_STEP else KEEP_DEPTHS


@compilable
def score(cands, N, M, C, H, W, R, S, stride, pad, groups, AR, AC, V, BW, L, if_kib, w_kib, acc_kib,
          out_bytes, mac_pj, spad_pj, acc_pj, dram_pj, max_steps, out):
    """Per candidate row: ``out[i] = (fits, cycles lower bound, energy, DRAM bytes)`` (traffic and energy
    exact, in closed form: accelsim.memory.mapped_traffic_counts, accelsim.arch.energy_pj)."""
    P, K, Mg = gemm_dims(N, M, C, H, W, R, S, stride, pad, groups)
    macs = groups * P * K * Mg
    for i in range(cands.shape[0]):
        P_T, K_T, M_T = cands[i, K_T_COL], cands[i, K_K_COL], cands[i, K_M_COL]
        order, x_res, w_res = cands[i, K_ORDER], cands[i, K_XRES], cands[i, K_WRES]
        df = cands[i, K_DF]
        p_tiles, k_tiles, m_tiles, nx, nw, xr, wr, ar, if_rows, w_rows, acc_rows = layout(
            df, AR, AC, V, if_kib, w_kib, acc_kib, P, K, Mg, P_T, K_T, M_T, order, x_res, w_res,
            cands[i, K_XDEPTH], cands[i, K_WDEPTH])
        fits = (nx * xr <= if_rows and nw * wr <= w_rows and cands[i, K_ACCDEPTH] * ar <= acc_rows and
                groups * p_tiles * k_tiles * m_tiles <= max_steps)
        x_loads = m_tiles if x_res == RES_STEP else 1
        w_loads = p_tiles if w_res == RES_STEP else 1
        t = mapped_traffic_counts(N, M, C, H, W, R, S, stride, pad, groups, p_tiles, k_tiles, m_tiles,
                                  x_loads, w_loads, out_bytes)
        dram = t[0] + t[1] + t[2]
        spad = t[3] + t[4] + t[5] + t[6]
        energy = energy_pj(macs, spad, t[7] + t[8], dram, mac_pj, spad_pj, acc_pj, dram_pj)
        out[i, 0] = 1.0 if fits else 0.0
        out[i, 1] = busy_bound(df, V, AR, AC, BW, L, out_bytes, groups, P, K, Mg, P_T, K_T, M_T, x_loads,
                               w_loads)
        out[i, 2] = energy
        out[i, 3] = dram


def _nest(row, dataflows_by_code) -> LoopNest:
    r = [int(v) for v in row]
    return LoopNest(*r[:K_DF], dataflow=dataflows_by_code[r[K_DF]])


def candidates(layer: ConvLayer, arch: ArchConfig, dataflows: tuple[Dataflow, ...] | None = None
               ) -> list[LoopNest]:
    """Every nest of the space that fits the architecture's memories, in each of ``dataflows`` (default:
    the architecture's) where the layer fits at all."""
    rows, scores = _scored(layer, arch, dataflows, 4)
    by_code = {d.code: d for d in Dataflow}
    return [_nest(r, by_code) for r, sc in zip(rows, scores, strict=True) if sc[0]]


def _scored(layer: ConvLayer, arch: ArchConfig, dataflows, out_bytes: int) -> tuple[np.ndarray, np.ndarray]:
    rows = _candidate_rows(layer, arch, dataflows)
    out = np.zeros((len(rows), 4), np.float64)
    e = arch.energy
    compiled(score)(rows, *layer.shape, arch.array_rows, arch.array_cols, arch.pe_dot_width,
                    arch.dram_bytes_per_cycle, arch.dram_latency_cycles, arch.ifmap_spad_kib,
                    arch.weight_spad_kib, arch.acc_kib, out_bytes, e.mac_pj, e.spad_byte_pj, e.acc_word_pj,
                    e.dram_byte_pj, MAX_STEPS, out)
    return rows, out


def search(layer: ConvLayer, arch: ArchConfig, *, objective: str = "edp", budget_s: float | None = None,
           gap: float = DEFAULT_GAP, requantize_shift: int | None = None,
           dataflows: tuple[Dataflow, ...] | None = None) -> Mapped:
    """The best nest for ``objective``: within ``gap`` (a fraction) of the space's optimum, or exactly the
    optimum with ``gap = 0`` (ties on the objective then go to fewer cycles, or less energy when the
    objective is cycles); under ``budget_s`` the best found when it ran out."""
    require(objective in OBJECTIVES, "--objective", f"one of {', '.join(OBJECTIVES)}", objective)
    require(0 <= gap < 1, "--gap", "a fraction in [0, 1)", gap)
    require(budget_s is None or budget_s > 0, "--budget-s", "a positive number of seconds", budget_s)
    t0 = time.perf_counter()
    fixed_nest = LoopNest.fixed(layer, arch)
    fixed = simulate_layer(layer, arch, requantize_shift=requantize_shift)
    best_nest, best, best_key = fixed_nest, fixed, objective_key(objective, fixed)
    rows, sc = _scored(layer, arch, dataflows, out_bytes_of(requantize_shift))
    fit = sc[:, 0] > 0
    rows, sc = rows[fit], sc[fit]
    lb, energy, dram = sc[:, 1], sc[:, 2], sc[:, 3]
    primary = {"cycles": lb, "energy": energy, "edp": energy * lb, "dram": dram}[objective]
    secondary = energy if objective == "cycles" else lb
    order = np.lexsort((secondary, primary))
    by_code = {d.code: d for d in Dataflow}
    scheduled, exhaustive = 1, True
    for i in order:
        if (primary[i], secondary[i]) >= best_key or primary[i] * (1 + gap) > best_key[0]:
            break  # no later candidate beats the best (by more than the gap): their bounds are sorted
        nest = _nest(rows[i], by_code)
        if nest == fixed_nest:
            continue
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            exhaustive = False
            break
        r = evaluate_nest(layer, arch, nest, requantize_shift=requantize_shift)
        scheduled += 1
        key = objective_key(objective, r)
        if key < best_key:
            best_nest, best, best_key = nest, r, key
    return Mapped(best_nest, best, fixed, len(rows), scheduled, time.perf_counter() - t0, exhaustive)


def search_network(layers, arch: ArchConfig, *, objective: str = "edp", budget_s: float | None = None,
                   gap: float = DEFAULT_GAP, requantize_shift: int | None = None,
                   dataflows: tuple[Dataflow, ...] | None = None,
                   progress=None) -> list[Mapped]:
    """Every layer's mapping; each distinct shape is searched once (the budget is shared equally)."""
    from dataclasses import replace

    layers = tuple(layers)
    shapes = list(dict.fromkeys(replace(layer, name="") for layer in layers))
    share = None if budget_s is None else budget_s / max(1, len(shapes))
    by_shape = {}
    for shape in shapes:
        by_shape[shape] = search(shape, arch, objective=objective, budget_s=share, gap=gap,
                                 requantize_shift=requantize_shift, dataflows=dataflows)
        if progress is not None:
            progress()
    out = []
    for layer in layers:
        m = by_shape[replace(layer, name="")]
        out.append(Mapped(m.nest, replace(m.result, name=layer.name), replace(m.fixed, name=layer.name),
                          m.candidates, m.scheduled, m.seconds, m.exhaustive))
    return out


__all__ = ["MAPPERS", "OBJECTIVES", "Mapped", "busy_bound", "candidates", "objective_key", "search",
           "search_network"]
