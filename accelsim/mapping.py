"""Lowering: layer -> per-group GEMM -> tiles for a dataflow -> the command stream.

One parametrised mapping for all three dataflows (docs/microarchitecture.md, "Lowering"): each dataflow only
fixes which GEMM dimension sits on the array's rows and columns, which one streams, and the tile loop order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from accelsim.arch import DF_IS, DF_OS, DF_WS, ArchConfig, Dataflow
from accelsim.commands import (
    ADDRESS_BITS,
    CONFIG_LAYOUT,
    FIELDS,
    OP_COMPUTE,
    OP_LOAD,
    OP_PRELOAD,
    OP_STORE,
    Command,
    ConfigReg,
    Op,
    Operand,
    config_value,
)
from accelsim.errors import require
from accelsim.jit import compilable
from accelsim.layer import ConvLayer, gemm_dims
from accelsim.timing import ceil_div

DRAM_ALIGN_BYTES = 64
BUFFERS = 2  # every scratchpad and the accumulator hold two tiles: dependency tokens reach two steps back
N_CONFIG = len(ConfigReg)  # a layer's program starts with one CONFIG per layer register
MAX_TILE_ROWS = (1 << FIELDS["rows"][1]) - 1  # the longest stream one command can name
MAX_LANES = (1 << FIELDS["lanes"][1]) - 1  # the widest row (and the most k rows a PRELOAD) a command can name

# ------------------------------------------------------------------------------------------------------
# The tiling rules, as compilable scalar functions (accelsim.jit): lower() below and the closed form
# (accelsim.closed_form) both call them. ``df`` is the dataflow's code (arch.DF_*).

# tile_fit's verdicts: which on-chip memory cannot hold what the dataflow needs per buffer
(FIT_OK, FIT_ACC_ROW, FIT_STATIONARY_TILE, FIT_STREAMED_ROW, FIT_OUTPUT_TILE, FIT_OPERAND_ROWS,
 FIT_LANES) = range(7)


@compilable
def buffer_rows(df, AR, AC, V, if_kib, w_kib, acc_kib):
    """Lanes and rows per buffer (of :data:`BUFFERS`) of each on-chip memory: ``(ifmap_lanes, weight_lanes,
    ifmap_rows, weight_rows, acc_rows)``. The operand the grid streams feeds the reduction lanes: ``AR*V``
    lanes (V = ``pe_dot_width``), the stationary one AC (docs: "Scratchpads", "Dot-product PEs"), so the
    ifmap spad has AC lanes in IS and ``AR*V`` in WS; OS streams both with their rows over k: AR pixel and
    AC channel lanes, whatever V."""
    if df == DF_IS:
        ifmap_lanes, weight_lanes = AC, AR * V
    elif df == DF_WS:
        ifmap_lanes, weight_lanes = AR * V, AC
    else:
        ifmap_lanes, weight_lanes = AR, AC
    return (ifmap_lanes, weight_lanes, if_kib * 1024 // ifmap_lanes // BUFFERS,
            w_kib * 1024 // weight_lanes // BUFFERS, acc_kib * 1024 // (4 * AC) // BUFFERS)


def built_buffers(dataflows, AR, AC, V, if_kib, w_kib, acc_kib):
    """The memories of an RTL build that runs every dataflow code in ``dataflows`` (one build, MODE picks per
    layer): ``(ifmap_lanes, weight_lanes, ifmap_rows, weight_rows, acc_rows)``, each the most any of those
    dataflows' :func:`buffer_rows` needs and at least one row, the operand spads' rows per buffer rounded up
    to whole words of V rows (docs: "Scratchpads", "Dot-product PEs"). Scalars or numpy arrays
    (elementwise): ``accelsim.rtl.params.AccelParams.from_arch`` builds it, ``accelsim.area`` counts it."""
    geo = [buffer_rows(df, AR, AC, V, if_kib, w_kib, acc_kib) for df in dataflows]
    ifmap_lanes, weight_lanes, ifmap_rows, weight_rows, acc_rows = (np.max([g[i] for g in geo], axis=0)
                                                                    for i in range(5))
    return (ifmap_lanes, weight_lanes, *built_rows(ifmap_rows, weight_rows, acc_rows, V))


@compilable
def built_rows(ifmap_rows, weight_rows, acc_rows, V):
    """Rows per buffer of each memory as a build has them: at least one, the operand spads' rounded up to
    whole words of V rows. Scalars (compiled too) or numpy arrays (elementwise)."""
    return (-(-np.maximum(ifmap_rows, 1) // V) * V, -(-np.maximum(weight_rows, 1) // V) * V,
            np.maximum(acc_rows, 1))


@compilable
def tile_fit(df, AR, V, ifmap_rows, weight_rows, acc_rows):
    """FIT_OK, or the first FIT_* rule the buffers break: the accumulator holds a row; WS holds an
    ``AR*V``-row weight tile and an input row, IS an ``AR*V``-row input tile and a weight row, OS an AR-row
    output tile and ``V`` rows of each operand (a cycle's reduction elements); and a command can name WS's
    and IS's ``AR*V`` reduction lanes."""
    if df != DF_OS and AR * V > MAX_LANES:
        return FIT_LANES
    if acc_rows < 1:
        return FIT_ACC_ROW
    if df == DF_WS:
        if weight_rows < AR * V:
            return FIT_STATIONARY_TILE
        if ifmap_rows < 1:
            return FIT_STREAMED_ROW
    elif df == DF_IS:
        if ifmap_rows < AR * V:
            return FIT_STATIONARY_TILE
        if weight_rows < 1:
            return FIT_STREAMED_ROW
    else:
        if acc_rows < AR:
            return FIT_OUTPUT_TILE
        if ifmap_rows < V or weight_rows < V:
            return FIT_OPERAND_ROWS
    return FIT_OK


@compilable
def tile_sizes(df, AR, AC, V, P, K, Mg, ifmap_rows, weight_rows, acc_rows):
    """Full tile sizes ``(P_T, K_T, M_T)``: the reduction K is cut to the grid's ``AR*V`` lanes (WS, IS),
    the other dimension on the array to AC (OS: P to AR, M to AC), the streamed one is as long as its
    buffers allow and a command can name (docs: "Lowering"); OS's reduction tile is a multiple of V, so
    only the last one is ragged."""
    if df == DF_WS:
        return min(P, min(ifmap_rows, acc_rows), MAX_TILE_ROWS), min(AR * V, K), min(AC, Mg)
    if df == DF_IS:
        return min(AC, P), min(AR * V, K), min(Mg, min(weight_rows, acc_rows), MAX_TILE_ROWS)
    return min(AR, P), min(K, min(min(ifmap_rows, weight_rows), MAX_TILE_ROWS) // V * V), min(AC, Mg)


@compilable
def step_loads(df, V, P_t, M_t, K_t):
    """The two LOADs of a step as ``(rows1, lanes1, rows2, lanes2)`` (the first is the stationary operand,
    the second pushes the l2e token) and the COMPUTE's stream length. Inputs are stored rows = pixels,
    lanes = k when streamed (WS), rows = k, lanes = pixels otherwise; weights rows = k, lanes = m, except
    when streamed (IS: rows = m, lanes = k). OS streams ``V`` k-rows of each operand a cycle
    (``pe_dot_width``): ``ceil(K_t / V)`` cycles."""
    if df == DF_WS:
        return K_t, M_t, P_t, K_t, P_t  # weights, then inputs
    if df == DF_IS:
        return K_t, P_t, M_t, K_t, M_t  # inputs, then weights
    return K_t, M_t, K_t, P_t, ceil_div(K_t, V)  # OS: weights, then inputs


@compilable
def has_preload(df):
    """Whether a step PRELOADs its stationary tile (WS, IS); OS streams both operands."""
    return df != DF_OS


@compilable
def tile_loops(df, p_tiles, m_tiles):
    """(outer, inner) tile-loop trip counts inside a group: WS/OS p then m, IS m then p."""
    if df == DF_IS:
        return m_tiles, p_tiles
    return p_tiles, m_tiles


@compilable
def store_shape(df, P_t, M_t):
    """A STORE's ``(rows, lanes)``: accumulator rows are pixels (channels in IS), lanes the other one."""
    if df == DF_IS:
        return M_t, P_t
    return P_t, M_t


# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Buffers:
    """Rows per buffer (of :data:`BUFFERS`) of each on-chip memory, for a dataflow's lane widths."""

    ifmap_lanes: int
    weight_lanes: int
    ifmap_rows: int
    weight_rows: int
    acc_rows: int

    @classmethod
    def of(cls, arch: ArchConfig) -> Buffers:
        return cls(*buffer_rows(arch.dataflow.code, arch.array_rows, arch.array_cols, arch.pe_dot_width,
                                arch.ifmap_spad_kib,
                                arch.weight_spad_kib, arch.acc_kib))


@dataclass(frozen=True, slots=True)
class Mapping:
    """A layer's tiling on an architecture. ``*_T`` are full tile sizes; edge tiles are smaller."""

    layer: ConvLayer
    dataflow: Dataflow
    P_T: int
    K_T: int
    M_T: int
    p_tiles: int
    k_tiles: int
    m_tiles: int
    x_base: int
    w_base: int
    out_base: int
    pe_dot_width: int = 1  # V: int8 pairs a PE reduces a cycle (OS: the stream over K is ceil(K_t / V))
    array_rows: int = 1  # AR: an OS COMPUTE writes all AR accumulator rows of its grid (slot_rows)

    @property
    def steps(self) -> int:
        return self.layer.groups * self.p_tiles * self.m_tiles * self.k_tiles

    @property
    def output_tiles(self) -> int:
        return self.layer.groups * self.p_tiles * self.m_tiles

    @property
    def loops(self) -> tuple[int, int]:
        return tile_loops(self.dataflow.code, self.p_tiles, self.m_tiles)


def _fit_error(fit: int, arch: ArchConfig) -> tuple[str, str, object]:
    """The one-line error (what, constraint, value) of a tile_fit verdict."""
    AR, AC = arch.array_rows, arch.array_cols
    where = f"arch {arch.name!r} ({arch.dataflow.name})"
    KL = AR * arch.pe_dot_width if arch.dataflow is not Dataflow.OS else AR  # the stationary tile's k rows
    tile_kib = ceil_div(BUFFERS * KL * AC, 1024)
    acc_kib = ceil_div(4 * BUFFERS * AC, 1024), ceil_div(4 * BUFFERS * AR * AC, 1024)  # a row, a tile
    stationary = "ifmap_spad_kib" if arch.dataflow is Dataflow.IS else "weight_spad_kib"
    streamed = "weight_spad_kib" if arch.dataflow is Dataflow.IS else "ifmap_spad_kib"
    operand = "input" if arch.dataflow is Dataflow.IS else "weight"
    return {
        FIT_ACC_ROW: (f"{where}: acc_kib", f">= {acc_kib[0]} to hold one row per buffer", arch.acc_kib),
        FIT_STATIONARY_TILE: (f"{where}: {stationary}",
                              f">= {tile_kib} to hold one {KL}x{AC} {operand} tile per buffer",
                              getattr(arch, stationary)),
        FIT_STREAMED_ROW: (f"{where}: {streamed}", "large enough for one row per buffer",
                           getattr(arch, streamed)),
        FIT_OUTPUT_TILE: (f"{where}: acc_kib",
                          f">= {acc_kib[1]} to hold one {AR}x{AC} output tile per buffer", arch.acc_kib),
        FIT_OPERAND_ROWS: (f"{where}: ifmap_spad_kib and weight_spad_kib",
                           "large enough for one row per buffer" if arch.pe_dot_width == 1 else
                           f"large enough for pe_dot_width = {arch.pe_dot_width} rows per buffer",
                           (arch.ifmap_spad_kib, arch.weight_spad_kib)),
        FIT_LANES: (f"{where}: array_rows x pe_dot_width",
                    f"<= {MAX_LANES} (the reduction lanes AR*V a command's lanes field can name)",
                    AR * arch.pe_dot_width),
    }[fit]


_QUANTITY_NAMES = {"E": "E (output height)", "F": "F (output width)", "Cg": "C/groups", "Mg": "M/groups",
                   "K": "C/groups*R*S (the reduction length)"}


def check_encodable(layer: ConvLayer, out_base: int, out_bytes: int = 4) -> None:
    """Raise a one-line error naming the layer's own quantity where it exceeds what the command encoding
    can carry (every SHAPE register field, and the DRAM address space; docs: "Command encoding")."""
    values = {name: getattr(layer, name) for name in ("N", "C", "H", "W", "M", "R", "S", "E", "F", "stride",
                                                      "pad")}
    values.update(Cg=layer.C // layer.groups, Mg=layer.gemm_M, K=layer.gemm_K)
    shapes = (ConfigReg.SHAPE0, ConfigReg.SHAPE1, ConfigReg.SHAPE2)
    limits = [(_QUANTITY_NAMES.get(name, name), values[name], 1 << width)
              for reg in shapes for name, width in CONFIG_LAYOUT[reg]]
    limits.append(("input + weight + output bytes", out_base + layer.output_elems * out_bytes,
                   1 << ADDRESS_BITS))
    for what, value, limit in limits:
        require(value < limit, f"layer {layer.name}: {what}", f"< {limit:,} (the command encoding's limit)",
                value)


def lower(layer: ConvLayer, arch: ArchConfig) -> Mapping:
    """Choose tile sizes (docs: streamed tile as long as its buffers allow) and DRAM placement."""
    df = arch.dataflow.code
    buf = Buffers.of(arch)
    V = arch.pe_dot_width
    fit = tile_fit(df, arch.array_rows, V, buf.ifmap_rows, buf.weight_rows, buf.acc_rows)
    if fit != FIT_OK:
        require(False, *_fit_error(fit, arch))
    P, K, Mg = gemm_dims(*layer.shape)
    P_T, K_T, M_T = tile_sizes(df, arch.array_rows, arch.array_cols, V, P, K, Mg, buf.ifmap_rows,
                               buf.weight_rows, buf.acc_rows)
    w_base = ceil_div(layer.input_elems, DRAM_ALIGN_BYTES) * DRAM_ALIGN_BYTES
    out_base = w_base + ceil_div(layer.weight_elems, DRAM_ALIGN_BYTES) * DRAM_ALIGN_BYTES
    check_encodable(layer, out_base)
    return Mapping(
        layer=layer, dataflow=arch.dataflow, P_T=P_T, K_T=K_T, M_T=M_T,
        p_tiles=ceil_div(P, P_T), k_tiles=ceil_div(K, K_T), m_tiles=ceil_div(Mg, M_T),
        x_base=0, w_base=w_base, out_base=out_base, pe_dot_width=V, array_rows=arch.array_rows,
    )


# ------------------------------------------------------------------------------------------------------
# Where an item sits in its loop, as far as the commands can tell. A step's dependency flags look at most
# BUFFERS steps (tiles) back or ahead, so a step's commands depend on its index only through
# ``near = (min(index, BUFFERS), min(count - 1 - index, BUFFERS))``; the last item of a loop (near[1] == 0)
# is also its edge tile. Kinds are built from nears alone, loop level by loop level, so equal kinds give
# equal commands by construction: the scheduler's caches (schedule.schedule_fast) key on them.

Near = tuple[int, int]


@compilable
def near(index, count):
    return min(index, BUFFERS), min(count - 1 - index, BUFFERS)


@compilable
def near_in(outer, inner, n):
    """The near of item ``outer*n + inner`` of the flattened loops, from the outer item's near and the inner
    one's (``min(o*n + i, B) == min(min(o, B)*n + min(i, B), B)`` for ``n >= 1``)."""
    return min(outer[0] * n + inner[0], BUFFERS), min(outer[1] * n + inner[1], BUFFERS)


MAX_NEAR_RUNS = 2 * BUFFERS + 1


@compilable
def near_runs(count, out):
    """The items ``0 .. count-1`` as runs of equal near, into ``out`` (MAX_NEAR_RUNS, 3) rows ``(near[0],
    near[1], length)``; returns how many runs. Only the middle run, the items at least BUFFERS from both
    ends, is longer than one."""
    i = n_runs = 0
    while i < count:
        n0, n1 = near(i, count)
        run = count - BUFFERS - i if (n0 == BUFFERS and n1 == BUFFERS) else 1
        out[n_runs, 0], out[n_runs, 1], out[n_runs, 2] = n0, n1, run
        n_runs += 1
        i += run
    return n_runs


@compilable
def tile_extent(df, outer_last, inner_last, P_T, P_L, M_T, M_L):
    """``(P_t, M_t)`` of a tile: the last tile on a GEMM dimension (outer p and inner m in WS/OS, outer m
    and inner p in IS) is its edge."""
    if df == DF_IS:
        p_last, m_last = inner_last, outer_last
    else:
        p_last, m_last = outer_last, inner_last
    return (P_L if p_last else P_T), (M_L if m_last else M_T)


# The columns of a step's program (step_program): what the command stream says of each command, no address.
SP_OP, SP_OPERAND, SP_ROWS, SP_LANES, SP_POP_PREV, SP_POP_NEXT, SP_PUSH_PREV, SP_PUSH_NEXT, SP_ACCUMULATE = (
    range(9))
SP_COLUMNS = 9
MAX_STEP_COMMANDS = 5
OPERAND_INPUT, OPERAND_WEIGHT = int(Operand.INPUT), int(Operand.WEIGHT)


@compilable
def _put(out, n, op, operand, rows, lanes, pop_prev, pop_next, push_prev, push_next, accumulate):
    out[n, SP_OP], out[n, SP_OPERAND], out[n, SP_ROWS], out[n, SP_LANES] = op, operand, rows, lanes
    out[n, SP_POP_PREV], out[n, SP_POP_NEXT] = pop_prev, pop_next
    out[n, SP_PUSH_PREV], out[n, SP_PUSH_NEXT], out[n, SP_ACCUMULATE] = push_prev, push_next, accumulate
    return n + 1


@compilable
def step_program(df, V, P_t, M_t, K_t, k_near0, k_near1, near0, near1, tile_near0, tile_near1, out):
    """One step's commands (docs: "Lowering") into ``out`` (MAX_STEP_COMMANDS, SP_COLUMNS); returns how many.
    The one definition of a step's command sequence and dependency flags: mapping.program adds addresses
    to it, the scheduler times it. The last k-step of a tile (``k_near1 == 0``) also STOREs the tile."""
    first_k, last_k = k_near0 == 0, k_near1 == 0
    r1, l1, r2, l2, stream = step_loads(df, V, P_t, M_t, K_t)
    first_operand = OPERAND_INPUT if df == DF_IS else OPERAND_WEIGHT  # the stationary operand first
    n = _put(out, 0, OP_LOAD, first_operand, r1, l1, 0, 1 if near0 >= BUFFERS else 0, 0, 0, 0)
    n = _put(out, n, OP_LOAD, OPERAND_WEIGHT + OPERAND_INPUT - first_operand, r2, l2, 0, 0, 0, 1, 0)
    if has_preload(df):
        n = _put(out, n, OP_PRELOAD, 0, 0, K_t, 1, 0, 0, 0, 0)
    pop_s2e = 1 if (first_k and tile_near0 >= BUFFERS) else 0  # the accumulator buffer is free again
    n = _put(out, n, OP_COMPUTE, 0, stream, 0, 0 if has_preload(df) else 1, pop_s2e,
             1 if near1 >= BUFFERS else 0, 1 if last_k else 0, 0 if first_k else 1)
    if last_k:
        s_rows, s_lanes = store_shape(df, P_t, M_t)
        n = _put(out, n, OP_STORE, 0, s_rows, s_lanes, 1, 0, 1 if tile_near1 >= BUFFERS else 0, 0, 0)
    return n


class TileKind(NamedTuple):
    """What decides an output tile's commands but its coordinates: its extent and its near."""

    P_t: int
    M_t: int
    near: Near


class StepKind(NamedTuple):
    """What decides a step's commands but its coordinates: extents, its k-step's near within the tile
    (first k-step: k_near[0] == 0, last: k_near[1] == 0), its near in the layer, its tile's near."""

    P_t: int
    M_t: int
    K_t: int
    k_near: Near
    near: Near
    tile_near: Near


def tile_kind(m: Mapping, row: Near, outer_last: bool, inner: Near) -> TileKind:
    """The kind of a tile from its row's near in the layer (in rows), whether the row is its group's last
    (an edge on the outer dimension) and the tile's near in its row."""
    P_L, M_L = m.layer.gemm_P - (m.p_tiles - 1) * m.P_T, m.layer.gemm_M - (m.m_tiles - 1) * m.M_T
    P_t, M_t = tile_extent(m.dataflow.code, outer_last, inner[1] == 0, m.P_T, P_L, m.M_T, M_L)
    return TileKind(P_t, M_t, near_in(row, inner, m.loops[1]))


def step_kind(m: Mapping, tile: TileKind, k_near: Near) -> StepKind:
    K_t = m.layer.gemm_K - (m.k_tiles - 1) * m.K_T if k_near[1] == 0 else m.K_T
    return StepKind(tile.P_t, tile.M_t, K_t, k_near, near_in(tile.near, k_near, m.k_tiles), tile.near)


@dataclass(frozen=True, slots=True)
class Step:
    """One innermost tile iteration (a k-tile of an output tile): its kind and its coordinates."""

    kind: StepKind
    index: int  # in program order (operand slots: index % BUFFERS, slot_rows)
    tile_index: int  # its output tile's (accumulator slot: tile_index % BUFFERS)
    g: int
    p0: int
    m0: int
    k0: int


def step_at(m: Mapping, g: int, outer: int, inner: int, k: int) -> Step:
    """The step of group ``g``, outer and inner tile-loop indices and k-tile ``k``, kind built from nears."""
    n_outer, n_inner = m.loops
    on = near(outer, n_outer)
    tile = tile_kind(m, near_in(near(g, m.layer.groups), on, n_outer), on[1] == 0, near(inner, n_inner))
    p, mm = (inner, outer) if m.dataflow is Dataflow.IS else (outer, inner)
    tile_index = (g * n_outer + outer) * n_inner + inner
    return Step(step_kind(m, tile, near(k, m.k_tiles)), tile_index * m.k_tiles + k, tile_index, g,
                p * m.P_T, mm * m.M_T, k * m.K_T)


def steps(m: Mapping) -> Iterator[Step]:
    """Every step in loop order: group, outer, inner, k (docs: "Lowering")."""
    n_outer, n_inner = m.loops
    for g, o, i, k in itertools.product(range(m.layer.groups), range(n_outer), range(n_inner),
                                        range(m.k_tiles)):
        yield step_at(m, g, o, i, k)


def pixel(layer: ConvLayer, p: int) -> dict[str, int]:
    EF = layer.E * layer.F
    return {"n0": p // EF, "e0": (p // layer.F) % layer.E, "f0": p % layer.F}


def reduction(layer: ConvLayer, g: int, k: int) -> dict[str, int]:
    RS = layer.R * layer.S
    return {"c0": g * (layer.C // layer.groups) + k // RS, "r0": (k // layer.S) % layer.R, "s0": k % layer.S}


def config_commands(m: Mapping, *, requantize_shift: int | None = None) -> list[Command]:
    """The N_CONFIG CONFIG commands that set the layer registers."""
    L = m.layer
    vals = {
        ConfigReg.SHAPE0: config_value(ConfigReg.SHAPE0, N=L.N, C=L.C, H=L.H, W=L.W),
        ConfigReg.SHAPE1: config_value(ConfigReg.SHAPE1, M=L.M, R=L.R, S=L.S, E=L.E, F=L.F),
        ConfigReg.SHAPE2: config_value(
            ConfigReg.SHAPE2, stride=L.stride, pad=L.pad, Cg=L.C // L.groups, Mg=L.gemm_M, K=L.gemm_K
        ),
        ConfigReg.ADDR: config_value(ConfigReg.ADDR, x_base=m.x_base % (1 << 32), w_base=m.w_base % (1 << 32),
                                     out_base=m.out_base % (1 << 32)),
        ConfigReg.MODE: config_value(
            ConfigReg.MODE,
            dataflow=m.dataflow.code,
            requantize=int(requantize_shift is not None),
            shift=requantize_shift or 0,
            x_base_hi=m.x_base >> 32, w_base_hi=m.w_base >> 32, out_base_hi=m.out_base >> 32,
        ),
    }
    return [Command(Op.CONFIG, reg=int(reg), value=value) for reg, value in vals.items()]


@compilable
def tile_rows(df, P_T, K_T, M_T):
    """Rows of a full tile in ``(ifmap spad, weight spad, accumulator)`` (:func:`step_loads`,
    :func:`store_shape`: WS inputs are pixel rows, IS weights channel rows, the rest k rows)."""
    if df == DF_WS:
        return P_T, K_T, P_T
    if df == DF_IS:
        return K_T, M_T, M_T
    return K_T, K_T, P_T


@compilable
def slots_rows(df, AR, V, P_T, K_T, M_T):
    """Rows of a tile's slot in ``(ifmap spad, weight spad, accumulator)``: a full tile, the operand
    spads' rounded up to whole words of V rows (reads start on a word), and in OS at least AR accumulator
    rows (an OS COMPUTE shifts all AR rows of its grid into the accumulator, so a slot of P_T < AR rows
    would let it overwrite the next). The one placement rule of the fixed lowering (:func:`slot_rows`)
    and of the mapper's slots (accelsim.mapper)."""
    x, w, a = tile_rows(df, P_T, K_T, M_T)
    return ceil_div(x, V) * V, ceil_div(w, V) * V, (max(a, AR) if df == DF_OS else a)


def slot_rows(m: Mapping) -> tuple[int, int, int]:
    """The fixed lowering's placement: buffer ``b`` of each memory starts at row ``b * slot`` (docs:
    "Lowering"), :func:`slots_rows` of the layer's full tiles, so the addresses do not depend on a build's
    geometry."""
    return slots_rows(m.dataflow.code, m.array_rows, m.pe_dot_width, m.P_T, m.K_T, m.M_T)


def kind_commands(m: Mapping, kind: StepKind, at: Step | None = None) -> list[Command]:
    """A step's commands: :func:`step_program` for ``kind`` (everything timing reads), plus, from ``at``,
    the coordinates and row addresses (:func:`slot_rows`; None: zeros, as the scheduler needs neither)."""
    df = m.dataflow.code
    table = np.zeros((MAX_STEP_COMMANDS, SP_COLUMNS), np.int64)
    n = step_program(df, m.pe_dot_width, kind.P_t, kind.M_t, kind.K_t, *kind.k_near, *kind.near,
                     *kind.tile_near, table)
    where: dict[int, dict[str, int]] = {OPERAND_INPUT: {}, OPERAND_WEIGHT: {}}
    store: dict[str, int] = {}
    x_row = w_row = acc_row = 0
    if at is not None:
        layer = m.layer
        px = pixel(layer, at.p0)
        mabs = at.g * layer.gemm_M + at.m0
        where = {OPERAND_INPUT: {**px, **reduction(layer, at.g, at.k0)},
                 OPERAND_WEIGHT: {"m0": mabs, "k0": at.k0}}
        store = {**px, "m0": mabs}
        x_slot, w_slot, acc_slot = slot_rows(m)
        b = at.index % BUFFERS
        x_row, w_row, acc_row = b * x_slot, b * w_slot, (at.tile_index % BUFFERS) * acc_slot
    row_of = {OPERAND_INPUT: x_row, OPERAND_WEIGHT: w_row}
    stationary, streamed = (x_row, w_row) if df == DF_IS else (w_row, x_row)
    os_k = {"addr2": w_row, "k_rows": kind.K_t} if df == DF_OS else {}
    out = []
    for op, operand, rows, lanes, pop_prev, pop_next, push_prev, push_next, accumulate in table[:n].tolist():
        flags = {"pop_prev": pop_prev, "pop_next": pop_next, "push_prev": push_prev, "push_next": push_next}
        if op == OP_LOAD:
            out.append(Command(Op.LOAD, addr=row_of[operand], operand=operand, rows=rows, lanes=lanes,
                               **flags, **where[operand]))
        elif op == OP_PRELOAD:
            out.append(Command(Op.PRELOAD, addr=stationary, lanes=lanes, **flags))
        elif op == OP_COMPUTE:
            out.append(Command(Op.COMPUTE, addr=streamed, acc_addr=acc_row, accumulate=accumulate, rows=rows,
                               **os_k, **flags))
        else:
            out.append(Command(Op.STORE, acc_addr=acc_row, rows=rows, lanes=lanes, **flags, **store))
    return out


def step_commands(m: Mapping, st: Step) -> list[Command]:
    return kind_commands(m, st.kind, st)


def program(m: Mapping, *, requantize_shift: int | None = None) -> list[Command]:
    """The layer's whole command stream: CONFIGs, every step's commands, FENCE."""
    out = config_commands(m, requantize_shift=requantize_shift)
    for st in steps(m):
        out.extend(step_commands(m, st))
    out.append(Command(Op.FENCE))
    return out
