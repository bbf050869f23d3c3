"""Lowering: layer -> per-group GEMM -> tiles for a dataflow -> the command stream.

One parametrised mapping for all three dataflows (docs/microarchitecture.md, "Lowering"): each dataflow only
fixes which GEMM dimension sits on the array's rows and columns, which one streams, and the tile loop order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from accelsim.arch import ArchConfig, Dataflow
from accelsim.commands import Command, ConfigReg, Op, Operand, config_value
from accelsim.errors import require
from accelsim.layer import ConvLayer

DRAM_ALIGN_BYTES = 64


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True)
class Buffers:
    """Rows per buffer (of two) of each on-chip memory, for a dataflow's lane widths."""

    ifmap_lanes: int
    weight_lanes: int
    ifmap_rows: int
    weight_rows: int
    acc_rows: int

    @classmethod
    def of(cls, arch: ArchConfig) -> Buffers:
        AR, AC = arch.array_rows, arch.array_cols
        ifmap_lanes, weight_lanes = (AC, AR) if arch.dataflow is Dataflow.IS else (AR, AC)
        return cls(
            ifmap_lanes=ifmap_lanes,
            weight_lanes=weight_lanes,
            ifmap_rows=arch.ifmap_spad_kib * 1024 // ifmap_lanes // 2,
            weight_rows=arch.weight_spad_kib * 1024 // weight_lanes // 2,
            acc_rows=arch.acc_kib * 1024 // (4 * AC) // 2,
        )


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

    @property
    def steps(self) -> int:
        return self.layer.groups * self.p_tiles * self.m_tiles * self.k_tiles

    @property
    def output_tiles(self) -> int:
        return self.layer.groups * self.p_tiles * self.m_tiles


def lower(layer: ConvLayer, arch: ArchConfig) -> Mapping:
    """Choose tile sizes (docs: streamed tile as long as its buffers allow) and DRAM placement."""
    AR, AC = arch.array_rows, arch.array_cols
    P, K, Mg = layer.gemm_P, layer.gemm_K, layer.gemm_M
    buf = Buffers.of(arch)
    where = f"arch {arch.name!r} ({arch.dataflow.name})"
    require(buf.acc_rows >= 1, f"{where}: acc_kib", f">= {ceil_div(8 * AC, 1024)} to hold one row per buffer",
            arch.acc_kib)
    if arch.dataflow is Dataflow.WS:
        require(buf.weight_rows >= AR, f"{where}: weight_spad_kib",
                f">= {ceil_div(2 * AR * AC, 1024)} to hold one {AR}x{AC} weight tile per buffer",
                arch.weight_spad_kib)
        require(buf.ifmap_rows >= 1, f"{where}: ifmap_spad_kib", "large enough for one row per buffer",
                arch.ifmap_spad_kib)
        K_T, M_T, P_T = min(AR, K), min(AC, Mg), min(P, buf.ifmap_rows, buf.acc_rows)
    elif arch.dataflow is Dataflow.IS:
        require(buf.ifmap_rows >= AR, f"{where}: ifmap_spad_kib",
                f">= {ceil_div(2 * AR * AC, 1024)} to hold one {AR}x{AC} input tile per buffer",
                arch.ifmap_spad_kib)
        require(buf.weight_rows >= 1, f"{where}: weight_spad_kib", "large enough for one row per buffer",
                arch.weight_spad_kib)
        K_T, P_T, M_T = min(AR, K), min(AC, P), min(Mg, buf.weight_rows, buf.acc_rows)
    else:
        require(
            buf.acc_rows >= AR,
            f"{where}: acc_kib",
            f">= {ceil_div(8 * AR * AC, 1024)} to hold one {AR}x{AC} output tile per buffer",
            arch.acc_kib,
        )
        require(
            min(buf.ifmap_rows, buf.weight_rows) >= 1,
            f"{where}: ifmap_spad_kib and weight_spad_kib",
            "large enough for one row per buffer",
            (arch.ifmap_spad_kib, arch.weight_spad_kib),
        )
        P_T, M_T, K_T = min(AR, P), min(AC, Mg), min(K, buf.ifmap_rows, buf.weight_rows)
    x_bytes = layer.input_elems
    w_bytes = layer.weight_elems
    w_base = ceil_div(x_bytes, DRAM_ALIGN_BYTES) * DRAM_ALIGN_BYTES
    out_base = w_base + ceil_div(w_bytes, DRAM_ALIGN_BYTES) * DRAM_ALIGN_BYTES
    return Mapping(
        layer=layer,
        dataflow=arch.dataflow,
        P_T=P_T,
        K_T=K_T,
        M_T=M_T,
        p_tiles=ceil_div(P, P_T),
        k_tiles=ceil_div(K, K_T),
        m_tiles=ceil_div(Mg, M_T),
        x_base=0,
        w_base=w_base,
        out_base=out_base,
    )


@dataclass(frozen=True, slots=True)
class Tile:
    """One output tile of group ``g``: pixels [p0, p0+P_t) x channels [m0, m0+M_t), reduced over all
    k-tiles."""

    index: int  # output tile index in loop order (accumulator buffer = index % 2)
    g: int
    p0: int
    P_t: int
    m0: int
    M_t: int


@dataclass(frozen=True, slots=True)
class Step:
    """One innermost tile iteration: a k-tile of an output tile."""

    index: int
    tile: Tile
    k0: int
    K_t: int
    first_k: bool
    last_k: bool


def group_rows(m: Mapping, g: int) -> list[list[Tile]]:
    """Group ``g``'s output tiles in loop order, grouped by the loop just outside the innermost tile loop
    (WS/OS: all m-tiles of one p-tile; IS: all p-tiles of one m-tile). Loop order: WS/OS g, p, m, k;
    IS g, m, p, k."""
    P, Mg = m.layer.gemm_P, m.layer.gemm_M
    is_ = m.dataflow is Dataflow.IS
    n_outer, n_inner = (m.m_tiles, m.p_tiles) if is_ else (m.p_tiles, m.m_tiles)
    index = g * m.p_tiles * m.m_tiles
    out = []
    for outer in range(n_outer):
        row = []
        for inner in range(n_inner):
            p, mm = (inner, outer) if is_ else (outer, inner)
            p0, m0 = p * m.P_T, mm * m.M_T
            row.append(Tile(index, g, p0, min(m.P_T, P - p0), m0, min(m.M_T, Mg - m0)))
            index += 1
        out.append(row)
    return out


def rows(m: Mapping) -> Iterator[list[Tile]]:
    """Every group's rows of output tiles, in loop order."""
    for g in range(m.layer.groups):
        yield from group_rows(m, g)


def group_signature(m: Mapping, g: int) -> tuple[int, int]:
    """Groups are identical but for how close their first/last tile is to the layer's first/last tile."""
    per_group = m.p_tiles * m.m_tiles
    return (min(g * per_group, 2), min(m.output_tiles - (g + 1) * per_group, 2))


def tile_step(m: Mapping, tile: Tile, k: int) -> Step:
    """The k-th step (k-tile) of an output tile."""
    k0 = k * m.K_T
    return Step(
        tile.index * m.k_tiles + k, tile, k0, min(m.K_T, m.layer.gemm_K - k0), k == 0, k == m.k_tiles - 1
    )


def tile_steps(m: Mapping, tile: Tile) -> list[Step]:
    return [tile_step(m, tile, k) for k in range(m.k_tiles)]


def steps(m: Mapping) -> Iterator[Step]:
    """Every step in loop order."""
    for row in rows(m):
        for tile in row:
            yield from tile_steps(m, tile)


def tile_signature(m: Mapping, tile: Tile) -> tuple[int, int, int, int]:
    """What, besides the mapping, determines a tile's commands' timing: its edge sizes and how close it is
    to the first/last tile (dependency flags differ only for the first two and the last two steps/tiles)."""
    return (tile.P_t, tile.M_t, min(tile.index, 2), min(m.output_tiles - 1 - tile.index, 2))


def pixel(layer: ConvLayer, p: int) -> dict[str, int]:
    EF = layer.E * layer.F
    return {"n0": p // EF, "e0": (p // layer.F) % layer.E, "f0": p % layer.F}


def reduction(layer: ConvLayer, g: int, k: int) -> dict[str, int]:
    RS = layer.R * layer.S
    return {"c0": g * (layer.C // layer.groups) + k // RS, "r0": (k // layer.S) % layer.R, "s0": k % layer.S}


def config_commands(m: Mapping, *, requantize_shift: int | None = None) -> list[Command]:
    """The 5 CONFIG commands that set the layer registers."""
    L = m.layer
    vals = {
        ConfigReg.SHAPE0: config_value(ConfigReg.SHAPE0, N=L.N, C=L.C, H=L.H, W=L.W),
        ConfigReg.SHAPE1: config_value(ConfigReg.SHAPE1, M=L.M, R=L.R, S=L.S, E=L.E, F=L.F),
        ConfigReg.SHAPE2: config_value(
            ConfigReg.SHAPE2, stride=L.stride, pad=L.pad, Cg=L.C // L.groups, Mg=L.gemm_M, K=L.gemm_K
        ),
        ConfigReg.ADDR: config_value(ConfigReg.ADDR, x_base=m.x_base, w_base=m.w_base, out_base=m.out_base),
        ConfigReg.MODE: config_value(
            ConfigReg.MODE,
            dataflow=list(Dataflow).index(m.dataflow),
            requantize=int(requantize_shift is not None),
            shift=requantize_shift or 0,
        ),
    }
    return [Command(Op.CONFIG, reg=int(reg), value=value) for reg, value in vals.items()]


def step_signature(m: Mapping, st: Step) -> tuple[int, ...]:
    """Everything that determines a step's commands' timing (sizes and dependency flags; see
    :func:`step_commands`): equal signatures give equal busy times and flags."""
    t = st.tile
    return (
        t.P_t,
        t.M_t,
        st.K_t,
        st.first_k,
        st.last_k,
        min(st.index, 2),
        min(m.steps - 1 - st.index, 2),
        min(t.index, 2),
        min(m.output_tiles - 1 - t.index, 2),
    )


def step_commands(m: Mapping, st: Step) -> list[Command]:
    """One step's commands with their dependency flags (docs: "Lowering"); the last k-step of a tile also
    carries the tile's STORE."""
    layer, tile = m.layer, st.tile
    ws, is_, os_ = (m.dataflow is d for d in (Dataflow.WS, Dataflow.IS, Dataflow.OS))
    px = pixel(layer, tile.p0)
    mabs = tile.g * layer.gemm_M + tile.m0
    acc_buf = tile.index % 2
    buf = st.index % 2
    red = reduction(layer, tile.g, st.k0)
    # input tile: WS streams it (rows = pixels, lanes = k); IS/OS hold rows = k, lanes = pixels
    x_rows, x_lanes = (tile.P_t, st.K_t) if ws else (st.K_t, tile.P_t)
    # weight tile: WS/OS rows = k, lanes = m; IS streams rows = m, lanes = k
    w_rows, w_lanes = (tile.M_t, st.K_t) if is_ else (st.K_t, tile.M_t)
    load_x = {"operand": Operand.INPUT, "rows": x_rows, "lanes": x_lanes, **px, **red}
    load_w = {"operand": Operand.WEIGHT, "rows": w_rows, "lanes": w_lanes, "m0": mabs, "k0": st.k0}
    first, second = (load_x, load_w) if is_ else (load_w, load_x)  # the stationary operand first
    out = [
        Command(Op.LOAD, buf=buf, pop_next=int(st.index >= 2), **first),
        Command(Op.LOAD, buf=buf, push_next=1, **second),
    ]
    stream = {Dataflow.WS: tile.P_t, Dataflow.IS: tile.M_t, Dataflow.OS: st.K_t}[m.dataflow]
    compute = {
        "buf": buf,
        "acc_buf": acc_buf,
        "accumulate": int(not st.first_k),
        "rows": stream,
        "pop_next": int(st.first_k and tile.index >= 2),
        "push_prev": int(st.index + 2 < m.steps),
        "push_next": int(st.last_k),
    }
    if os_:
        out.append(Command(Op.COMPUTE, pop_prev=1, **compute))
    else:
        out.append(Command(Op.PRELOAD, buf=buf, lanes=st.K_t, pop_prev=1))
        out.append(Command(Op.COMPUTE, **compute))
    if st.last_k:
        s_rows, s_lanes = (tile.M_t, tile.P_t) if is_ else (tile.P_t, tile.M_t)
        out.append(
            Command(
                Op.STORE,
                acc_buf=acc_buf,
                rows=s_rows,
                lanes=s_lanes,
                m0=mabs,
                **px,
                pop_prev=1,
                push_prev=int(tile.index + 2 < m.output_tiles),
            )
        )
    return out


def program(m: Mapping, *, requantize_shift: int | None = None) -> list[Command]:
    """The layer's whole command stream: CONFIGs, every tile's commands, FENCE."""
    out = config_commands(m, requantize_shift=requantize_shift)
    for st in steps(m):
        out.extend(step_commands(m, st))
    out.append(Command(Op.FENCE))
    return out
