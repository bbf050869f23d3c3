"""A mapping of one layer: tile sizes, tile-loop order, which operand stays resident, buffering depth.

:class:`LoopNest` is the mapper's unit of choice (a frozen dataclass); :meth:`LoopNest.fixed` is the fixed
lowering of accelsim.mapping expressed as one (every operand reloaded by every step into a ring of two
slots), which the mapper's space always contains. :func:`check` says whether a nest fits the
architecture's memories (one line naming the memory otherwise); :func:`evaluate` gives its exact cycles,
breakdown, traffic and energy: the command stream of accelsim.mapper.program scheduled by the one
scheduling rule (accelsim.engine.run_commands); the traffic counts in closed form (accelsim.memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim import engine, mapping, memory
from accelsim.arch import DF_IS, DF_OS, ArchConfig, Dataflow
from accelsim.commands import OP_COMPUTE, OP_CONFIG, OP_FENCE, OP_LOAD, OP_PRELOAD, Command, Op
from accelsim.engine import ERR_FLAGS, S_ERROR, T_COLUMNS, finish, new_state, run_commands, timing_row
from accelsim.errors import require
from accelsim.jit import compilable, compiled
from accelsim.layer import ConvLayer, gemm_dims
from accelsim.mapper.program import (
    C_ACC_ADDR,
    C_ACCUMULATE,
    C_ADDR,
    C_ADDR2,
    C_COLUMNS,
    C_G,
    C_K,
    C_LANES,
    C_M,
    C_OP,
    C_OPERAND,
    C_P,
    C_POP_NEXT,
    C_POP_PREV,
    C_PUSH_NEXT,
    C_PUSH_PREV,
    C_ROWS,
    MAX_STEP_COMMANDS,
    ORDER_MP,
    ORDER_PM,
    RES_KEEP,
    RES_STEP,
    generate,
    operand_slots,
)
from accelsim.mapping import BUFFERS, N_CONFIG, buffer_rows, built_rows, slots_rows
from accelsim.result import LayerResult
from accelsim.schedule import Schedule, state_result
from accelsim.timing import ceil_div, systolic_array_fill_drain_cycles

ORDER_NAMES = {ORDER_PM: "p>m", ORDER_MP: "m>p"}
RES_NAMES = {RES_STEP: "step", RES_KEEP: "keep"}
MAX_STEPS = 4_000_000  # the longest command stream the mapper builds (a layer past it keeps the fixed one)
TOKEN_CAP = 4096  # tokens a counter may hold in the scheduler (the RTL's counters are 16 bits)


@dataclass(frozen=True, slots=True)
class LoopNest:
    """How one layer runs: array tile sizes ``P_T, K_T, M_T`` (edges smaller), the loop order of the p- and
    m-tile loops (k innermost), each operand's residency (RES_STEP: reloaded by every step into a ring of
    ``depth`` slots; RES_KEEP: loaded by its first reader and kept for the group, in ``depth`` blocks), the
    accumulator's slots."""

    P_T: int
    K_T: int
    M_T: int
    order: int = ORDER_PM
    x_res: int = RES_STEP
    w_res: int = RES_STEP
    x_depth: int = 2
    w_depth: int = 2
    acc_depth: int = 2
    dataflow: Dataflow | None = None  # None: the architecture's (the hardware runs any built one per layer)

    @classmethod
    def fixed(cls, layer: ConvLayer, arch: ArchConfig) -> LoopNest:
        """The fixed lowering (accelsim.mapping.lower) as a nest."""
        m = mapping.lower(layer, arch)
        order = ORDER_MP if arch.dataflow.code == DF_IS else ORDER_PM
        return cls(m.P_T, m.K_T, m.M_T, order=order, dataflow=arch.dataflow)

    def arch(self, arch: ArchConfig) -> ArchConfig:
        """The architecture running in this nest's dataflow."""
        return arch.with_dataflow(self.dataflow)

    def describe(self) -> str:
        res = f"x:{RES_NAMES[self.x_res]}{self.x_depth} w:{RES_NAMES[self.w_res]}{self.w_depth}"
        df = f"{self.dataflow.name} " if self.dataflow is not None else ""
        return (f"{df}P_T={self.P_T} K_T={self.K_T} M_T={self.M_T} {ORDER_NAMES[self.order]} {res} "
                f"acc:{self.acc_depth}")

    def to_dict(self) -> dict[str, object]:
        df = None if self.dataflow is None else self.dataflow.value
        return {"dataflow": df, "P_T": self.P_T, "K_T": self.K_T, "M_T": self.M_T,
                "order": ORDER_NAMES[self.order],
                "x_residency": RES_NAMES[self.x_res], "w_residency": RES_NAMES[self.w_res],
                "x_depth": self.x_depth, "w_depth": self.w_depth, "acc_depth": self.acc_depth}


@compilable
def memory_rows(df, AR, AC, V, if_kib, w_kib, acc_kib):
    """Rows of each memory ``(ifmap, weight, acc)`` for a dataflow: BUFFERS x rows per buffer of
    accelsim.mapping.buffer_rows as a build of that dataflow has them (accelsim.mapping.built_rows)."""
    _, _, x, w, a = buffer_rows(df, AR, AC, V, if_kib, w_kib, acc_kib)
    x, w, a = built_rows(x, w, a, V)
    return BUFFERS * int(x), BUFFERS * int(w), BUFFERS * int(a)


@dataclass(frozen=True, slots=True)
class Geometry:
    """What a nest needs of each memory (rows) next to what the architecture has."""

    tiles: tuple[int, int, int]  # p_tiles, k_tiles, m_tiles
    slot_rows: tuple[int, int, int]  # ifmap, weight, acc
    slots: tuple[int, int, int]
    rows: tuple[int, int, int]  # the memories' rows (BUFFERS x rows per buffer of accelsim.mapping.Buffers)

    @property
    def used(self) -> tuple[int, int, int]:
        return tuple(s * r for s, r in zip(self.slots, self.slot_rows, strict=True))  # type: ignore[return-value]

    @property
    def steps(self) -> int:
        return self.tiles[0] * self.tiles[1] * self.tiles[2]


@compilable
def layout(df, AR, AC, V, if_kib, w_kib, acc_kib, P, K, Mg, P_T, K_T, M_T, order, x_res, w_res, x_depth,
           w_depth):
    """What a nest needs of each memory and what the memories have: ``(p_tiles, k_tiles, m_tiles, ifmap
    slots, weight slots, ifmap slot rows, weight slot rows, acc slot rows, ifmap rows, weight rows, acc
    rows)``. The one fit rule: :func:`geometry` (so :func:`check`) and the search's scorer call it."""
    p_tiles, k_tiles, m_tiles = ceil_div(P, P_T), ceil_div(K, K_T), ceil_div(Mg, M_T)
    x_outer = order == ORDER_PM
    nx = operand_slots(x_res, x_depth, x_outer, p_tiles, m_tiles, k_tiles, 0)
    nw = operand_slots(w_res, w_depth, not x_outer, p_tiles, m_tiles, k_tiles, 1)
    xr, wr, ar = slots_rows(df, AR, V, P_T, K_T, M_T)
    if_rows, w_rows, acc_rows = memory_rows(df, AR, AC, V, if_kib, w_kib, acc_kib)
    return p_tiles, k_tiles, m_tiles, nx, nw, xr, wr, ar, if_rows, w_rows, acc_rows


def geometry(layer: ConvLayer, arch: ArchConfig, nest: LoopNest) -> Geometry:
    arch = nest.arch(arch)
    P, K, Mg = gemm_dims(*layer.shape)
    g = layout(arch.dataflow.code, arch.array_rows, arch.array_cols, arch.pe_dot_width, arch.ifmap_spad_kib,
               arch.weight_spad_kib, arch.acc_kib, P, K, Mg, nest.P_T, nest.K_T, nest.M_T, nest.order,
               nest.x_res, nest.w_res, nest.x_depth, nest.w_depth)
    return Geometry(g[0:3], g[5:8], (g[3], g[4], nest.acc_depth), g[8:11])


def check(layer: ConvLayer, arch: ArchConfig, nest: LoopNest) -> Geometry:
    """The nest's geometry, or a one-line error naming the first rule it breaks: tile sizes within the array
    and the command encoding (accelsim.mapping.tile_sizes is the largest legal tile), every memory holding
    its slots."""
    arch = nest.arch(arch)
    P, K, Mg = gemm_dims(*layer.shape)
    df, V, AR, AC = arch.dataflow.code, arch.pe_dot_width, arch.array_rows, arch.array_cols
    where = f"layer {layer.name or 'layer'}: mapping"
    limits = {"P_T": min(P, AC if df == DF_IS else AR if df == DF_OS else mapping.MAX_TILE_ROWS),
              "K_T": min(K, AR * V if df != DF_OS else mapping.MAX_TILE_ROWS),
              "M_T": min(Mg, AC if df != DF_IS else mapping.MAX_TILE_ROWS)}
    for name, limit in limits.items():
        value = getattr(nest, name)
        require(isinstance(value, int) and 1 <= value <= limit, f"{where} {name}", f"in [1, {limit}]", value)
    if df == DF_OS:
        require(nest.K_T % V == 0 or nest.K_T == K, f"{where} K_T",
                f"a multiple of pe_dot_width = {V} (or K)", nest.K_T)
    require(nest.order in ORDER_NAMES, f"{where} order", f"one of {sorted(ORDER_NAMES)}", nest.order)
    for name in ("x_res", "w_res"):
        require(getattr(nest, name) in RES_NAMES, f"{where} {name}", f"one of {sorted(RES_NAMES)}",
                getattr(nest, name))
    for name in ("x_depth", "w_depth", "acc_depth"):
        require(isinstance(getattr(nest, name), int) and 1 <= getattr(nest, name) <= 64, f"{where} {name}",
                "in [1, 64]", getattr(nest, name))
    geo = geometry(layer, arch, nest)
    for what, used, rows, slots, slot in zip(("ifmap_spad_kib", "weight_spad_kib", "acc_kib"), geo.used,
                                             geo.rows, geo.slots, geo.slot_rows, strict=True):
        require(used <= rows, f"{where}: arch {arch.name!r} {what}",
                f"holding {slots} slots of {slot} rows ({used:,} rows; it has {rows:,})", getattr(arch, what))
    require(geo.steps * layer.groups <= MAX_STEPS, f"{where}: steps (tiles x k-tiles x groups)",
            f"<= {MAX_STEPS:,} for the mapper's command stream", geo.steps * layer.groups)
    return geo


def program_table(layer: ConvLayer, arch: ArchConfig, nest: LoopNest, *, interpreted: bool = False
                  ) -> np.ndarray:
    """The nest's commands (accelsim.mapper.program columns), CONFIGs and FENCE not included."""
    geo = check(layer, arch, nest)
    arch = nest.arch(arch)
    P, K, Mg = gemm_dims(*layer.shape)
    out = np.zeros((geo.steps * layer.groups * MAX_STEP_COMMANDS, C_COLUMNS), np.int64)
    fn = generate if interpreted else compiled(generate)
    n = fn(arch.dataflow.code, arch.pe_dot_width, layer.groups, P, K, Mg, nest.P_T, nest.K_T, nest.M_T,
           nest.order, nest.x_res, nest.w_res, nest.x_depth, nest.w_depth, nest.acc_depth,
           *geo.slot_rows, out)
    return out[:n]


@compilable
def schedule_table(table, n, df, AR, AC, BW, L, Q, HI, out_bytes, cap, s):
    """Schedule CONFIGs, the table's ``n`` commands and the FENCE (totals into ``s``, see engine.S_*)."""
    qs, qm, pend, pm = new_state(s, HI, Q, systolic_array_fill_drain_cycles(df, AR, AC), cap)
    t = np.zeros((N_CONFIG, T_COLUMNS), np.int64)
    for i in range(N_CONFIG):
        timing_row(t[i], OP_CONFIG, 0, 0, 0, 0, 0, 0, df, AR, AC, BW, L, out_bytes)
    run_commands(s, qs, qm, pend, pm, t, N_CONFIG, t, -1)
    chunk = 4096
    t = np.zeros((chunk, T_COLUMNS), np.int64)
    i = 0
    while i < n:
        c = min(chunk, n - i)
        for j in range(c):
            r = table[i + j]
            if not timing_row(t[j], r[C_OP], r[C_ROWS], r[C_LANES], r[C_POP_PREV], r[C_POP_NEXT],
                              r[C_PUSH_PREV], r[C_PUSH_NEXT], df, AR, AC, BW, L, out_bytes):
                s[S_ERROR] = ERR_FLAGS
                return
        run_commands(s, qs, qm, pend, pm, t, c, t, -1)
        i += c
    timing_row(t[0], OP_FENCE, 0, 0, 0, 0, 0, 0, df, AR, AC, BW, L, out_bytes)
    run_commands(s, qs, qm, pend, pm, t, 1, t, -1)
    finish(s, pm)


def schedule(layer: ConvLayer, arch: ArchConfig, nest: LoopNest, out_bytes: int = 4, *,
             interpreted: bool = False) -> Schedule:
    """The nest's exact schedule: totals and breakdown (accelsim.schedule.Schedule)."""
    table = program_table(layer, arch, nest, interpreted=interpreted)
    arch = nest.arch(arch)
    s = np.zeros(engine.S_LEN, np.int64)
    fn = schedule_table if interpreted else compiled(schedule_table)
    fn(table, len(table), arch.dataflow.code, arch.array_rows, arch.array_cols, arch.dram_bytes_per_cycle,
       arch.dram_latency_cycles, arch.queue_depth, arch.host_issue_cycles, out_bytes, TOKEN_CAP, s)
    return state_result(s)


def traffic(layer: ConvLayer, nest: LoopNest, out_bytes: int = 4) -> memory.Traffic:
    """Closed-form traffic: each input tile is loaded once per m-tile (RES_STEP) or once (RES_KEEP), each
    weight tile once per p-tile or once; spad reads and accumulator traffic as the fixed lowering's."""
    P, K, Mg = gemm_dims(*layer.shape)
    p_tiles, k_tiles, m_tiles = ceil_div(P, nest.P_T), ceil_div(K, nest.K_T), ceil_div(Mg, nest.M_T)
    x_loads = m_tiles if nest.x_res == RES_STEP else 1
    w_loads = p_tiles if nest.w_res == RES_STEP else 1
    return memory.Traffic(*memory.mapped_traffic_counts(*layer.shape, p_tiles, k_tiles, m_tiles, x_loads,
                                                        w_loads, out_bytes))


def evaluate_nest(layer: ConvLayer, arch: ArchConfig, nest: LoopNest, *,
                  requantize_shift: int | None = None) -> LayerResult:
    """The layer's result under ``nest``, as accelsim.sim gives it for the fixed lowering (``tile`` names
    the nest)."""
    from accelsim.sim import layer_result, out_bytes_of

    out_bytes = out_bytes_of(requantize_shift)
    sched = schedule(layer, arch, nest, out_bytes)
    geo = geometry(layer, arch, nest)
    tile = {**nest.to_dict(), "p_tiles": geo.tiles[0], "k_tiles": geo.tiles[1], "m_tiles": geo.tiles[2]}
    tr = traffic(layer, nest, out_bytes)
    return layer_result(layer, nest.arch(arch), requantize_shift, sched, tr, tile)


def commands(layer: ConvLayer, arch: ArchConfig, nest: LoopNest, *, requantize_shift: int | None = None
             ) -> list[Command]:
    """The nest's whole command stream with its row addresses: the layer's CONFIGs (MODE names the nest's
    dataflow), every generated command with its tile's coordinates, FENCE. What the RTL runs and the
    executed-mapping checker replays."""
    table = program_table(layer, arch, nest)
    a = nest.arch(arch)
    m = mapping.lower(layer, a)  # the layer registers (shape, DRAM placement) are the fixed lowering's
    out = mapping.config_commands(m, requantize_shift=requantize_shift)
    Mg = layer.gemm_M
    for r in table.tolist():
        op, g = r[C_OP], r[C_G]
        p0, m0, k0 = r[C_P] * nest.P_T, r[C_M] * nest.M_T, r[C_K] * nest.K_T
        flags = {"pop_prev": r[C_POP_PREV], "pop_next": r[C_POP_NEXT], "push_prev": r[C_PUSH_PREV],
                 "push_next": r[C_PUSH_NEXT]}
        if op == OP_LOAD:
            where = ({**mapping.pixel(layer, p0), **mapping.reduction(layer, g, k0)}
                     if r[C_OPERAND] == mapping.OPERAND_INPUT else {"m0": g * Mg + m0, "k0": k0})
            out.append(Command(Op.LOAD, operand=r[C_OPERAND], rows=r[C_ROWS], lanes=r[C_LANES],
                               addr=r[C_ADDR], **flags, **where))
        elif op == OP_PRELOAD:
            out.append(Command(Op.PRELOAD, lanes=r[C_LANES], addr=r[C_ADDR], **flags))
        elif op == OP_COMPUTE:  # an OS COMPUTE names its k-tile's valid rows (the table's lanes) in k_rows
            k_rows = r[C_LANES] if a.dataflow is Dataflow.OS else 0
            out.append(Command(Op.COMPUTE, rows=r[C_ROWS], k_rows=k_rows, accumulate=r[C_ACCUMULATE],
                               addr=r[C_ADDR], addr2=r[C_ADDR2],
                               acc_addr=r[C_ACC_ADDR], **flags))
        else:
            out.append(Command(Op.STORE, rows=r[C_ROWS], lanes=r[C_LANES], acc_addr=r[C_ACC_ADDR], **flags,
                               **mapping.pixel(layer, p0), m0=g * Mg + m0))
    out.append(Command(Op.FENCE))
    return out
