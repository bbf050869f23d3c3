"""Parameters and layouts every RTL block shares, derived once from an ArchConfig.

The command word is decoded with :func:`field`, which slices :data:`accelsim.commands.FIELDS` — the one
encoding the model and the firmware generator use too. :data:`LayerRegs` is what the CONFIG registers hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth import Value, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.arch import (
    ALL_DATAFLOWS,
    PE_DOT_WIDTHS,
    PE_DOT_WIDTHS_RULE,
    ArchConfig,
    Dataflow,
)
from accelsim.commands import COMMAND_BITS, CONFIG_LAYOUT, FIELDS, ConfigReg
from accelsim.errors import require
from accelsim.mapping import built_buffers

TAG_BITS = 32  # width of the tag a DRAM read request carries to its response


@dataclass(frozen=True)
class AccelParams:
    """Elaboration parameters of the accelerator (all in the names of docs/microarchitecture.md)."""

    array_rows: int
    array_cols: int
    dram_bytes_per_cycle: int
    dram_latency_cycles: int
    queue_depth: int
    host_issue_cycles: int
    ifmap_rows: int  # rows per buffer: the most any built dataflow uses (buffer 1 starts here)
    weight_rows: int
    acc_rows: int
    ifmap_lanes: int = 0  # lanes of a spad row: the most any built dataflow uses (AR, or AC in IS)
    weight_lanes: int = 0
    dataflows: tuple[int, ...] = ALL_DATAFLOWS  # dataflow codes the hardware runs (MODE.dataflow)
    pe_dot_width: int = 1  # V: int8 pairs a PE reduces a cycle; the spads read V rows a cycle

    def __post_init__(self) -> None:
        require(self.pe_dot_width in PE_DOT_WIDTHS, "AccelParams pe_dot_width",
                PE_DOT_WIDTHS_RULE, self.pe_dot_width)
        for name in ("ifmap_rows", "weight_rows"):  # V-row words: buffer 1 starts on a word boundary
            require(getattr(self, name) % self.pe_dot_width == 0, f"AccelParams {name}",
                    f"a multiple of pe_dot_width ({self.pe_dot_width})", getattr(self, name))
        if not self.ifmap_lanes:  # benches that build params by hand: the lanes WS/OS use
            object.__setattr__(self, "ifmap_lanes", self.array_rows)
        if not self.weight_lanes:
            object.__setattr__(self, "weight_lanes", self.array_cols)

    @classmethod
    def from_arch(cls, arch: ArchConfig, dataflows: tuple[int, ...] = ALL_DATAFLOWS) -> AccelParams:
        """The parameters of a build that runs every dataflow in ``dataflows`` (by default all three, chosen
        per layer by the MODE register): each scratchpad is as wide and as deep per buffer as the widest and
        deepest of those dataflows need (docs: "Scratchpads"), so one build serves every dataflow of
        ``arch``'s array (for a square array the dataflows' geometries coincide and nothing is added).
        With V = ``pe_dot_width`` > 1 the operand spads are read V rows a cycle as one V-row word, so their
        rows per buffer are rounded up to a multiple of V (at most V - 1 rows more than the model's
        ``buffer_rows``, which the model's tiles never address; docs: "Dot-product PEs")."""
        where = f"arch {arch.name!r}"
        require(arch.dataflow.code in dataflows, f"{where}: dataflow",
                f"one the RTL build runs ({', '.join(Dataflow.from_code(d).value for d in dataflows)})",
                arch.dataflow.value)
        require(arch.dram_latency_cycles >= 1, f"{where}: dram_latency_cycles", ">= 1 for the RTL",
                arch.dram_latency_cycles)
        require(arch.array_rows * arch.array_cols <= 64 * 64, f"{where}: array_rows x array_cols",
                "at most 64 x 64 PEs to build in simulation", (arch.array_rows, arch.array_cols))
        V = arch.pe_dot_width
        ifmap_lanes, weight_lanes, ifmap_rows, weight_rows, acc_rows = map(int, built_buffers(
            dataflows, arch.array_rows, arch.array_cols, V, arch.ifmap_spad_kib, arch.weight_spad_kib,
            arch.acc_kib))
        return cls(
            array_rows=arch.array_rows, array_cols=arch.array_cols,
            dram_bytes_per_cycle=arch.dram_bytes_per_cycle, dram_latency_cycles=arch.dram_latency_cycles,
            queue_depth=arch.queue_depth, host_issue_cycles=arch.host_issue_cycles,
            ifmap_rows=ifmap_rows, weight_rows=weight_rows, acc_rows=acc_rows,
            ifmap_lanes=ifmap_lanes, weight_lanes=weight_lanes,
            dataflows=tuple(dataflows), pe_dot_width=V,
        )

    @property
    def ifmap_addr_bits(self) -> int:
        return ceil_log2(2 * self.ifmap_rows)

    @property
    def weight_addr_bits(self) -> int:
        return ceil_log2(2 * self.weight_rows)

    @property
    def acc_addr_bits(self) -> int:
        return ceil_log2(2 * self.acc_rows)


def field(cmd: Value, name: str) -> Value:
    """Slice a named field (accelsim.commands.FIELDS) out of a 192-bit command word."""
    lsb, width = FIELDS[name]
    return cmd[lsb:lsb + width]


def _layer_regs_layout() -> data.StructLayout:
    members: dict[str, object] = {}
    for reg in ConfigReg:
        for name, width in CONFIG_LAYOUT[reg]:
            members[name] = unsigned(width)
    return data.StructLayout(members)


#: The layer registers (every CONFIG sub-field by name: N, C, H, W, M, R, S, E, F, stride, pad, Cg, Mg, K,
#: x_base, w_base, out_base, dataflow, requantize, shift).
LayerRegs = _layer_regs_layout()

CMD_BITS = COMMAND_BITS


def unit_members() -> dict[str, wiring.Member]:
    """The command interface every unit (LoadUnit, ExecuteUnit, StoreUnit) shares with the Controller:
    cmd : Signal(192), in; cmd_valid : Signal(1), in; cmd_ready : Signal(1), out; push_prev, push_next :
    Signal(1), out (token pulses); idle : Signal(1), out; regs : Signal(LayerRegs), in."""
    return {"cmd": In(CMD_BITS), "cmd_valid": In(1), "cmd_ready": Out(1), "push_prev": Out(1),
            "push_next": Out(1), "idle": Out(1), "regs": In(LayerRegs)}


def dram_read_members(bw: int) -> dict[str, wiring.Member]:
    """The DMA read channel as its requester sees it (flip it for the DRAM side): one byte address per
    lane."""
    return {"rd_valid": Out(1), "rd_addr": Out(bw * 32), "rd_lane_en": Out(bw), "rd_tag": Out(TAG_BITS),
            "rsp_valid": In(1), "rsp_data": In(bw * 8), "rsp_tag": In(TAG_BITS)}


def dram_write_members(bw: int) -> dict[str, wiring.Member]:
    """The DMA write channel as its requester sees it (flip it for the DRAM side)."""
    return {"wr_valid": Out(1), "wr_addr": Out(bw * 32), "wr_data": Out(bw * 8), "wr_lane_en": Out(bw)}


def flipped(members: dict[str, wiring.Member]) -> dict[str, wiring.Member]:
    return {name: member.flip() for name, member in members.items()}
