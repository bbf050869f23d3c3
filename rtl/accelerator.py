"""Accelerator: the synthesizable top (docs/microarchitecture.md, "Blocks").

Controller (dispatcher, LD/EX/ST queues, token counters, layer registers, FENCE) + LoadUnit (DMA read channel,
implicit im2col) + the ifmap and weight Scratchpads (rows addressed by the commands) + ExecuteUnit
(PRELOAD/COMPUTE on the SystolicArray, Accumulator inside; V-row spad reads with dot-product PEs) + StoreUnit
(requantize, DMA write channel). No simulation-only constructs:
the DRAM and the command source are outside (see :class:`~accelsim.cosim.harness.Harness`).

Timing: every command's dispatch/start/end/done cycle is the one :func:`accelsim.schedule.schedule` computes
(the units keep the busy/tail formulas of the contract, the controller the dispatch and token rules); the
layer's cycle count is the FENCE's release, visible on ``done``.

Ports (``BW`` = dram_bytes_per_cycle, ``TAG_BITS`` = 32):
    cmd : Signal(192), in; cmd_valid : Signal(1), in; cmd_ready : Signal(1), out   command port
    done : Signal(1), out                       a FENCE has released (every earlier command is done)
    released : Signal(1), out                   a FENCE releases in this cycle (one pulse per FENCE)
    idle : Signal(1), out                       no command queued and every unit idle
    rd_valid : Signal(1), out; rd_addr : Signal(BW*32), out; rd_lane_en : Signal(BW), out;
    rd_tag : Signal(TAG_BITS), out              DRAM read requests (one byte address per lane)
    rsp_valid : Signal(1), in; rsp_data : Signal(BW*8), in; rsp_tag : Signal(TAG_BITS), in
                                                DRAM read responses, ``L`` cycles after their request
    wr_valid : Signal(1), out; wr_addr : Signal(BW*32), out; wr_data : Signal(BW*8), out;
    wr_lane_en : Signal(BW), out                DRAM writes (acknowledged ``L`` cycles later, implicitly)
"""

from __future__ import annotations

from amaranth import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .controller import Controller, unit_connections
from .execute_unit import ExecuteUnit
from .load_unit import LoadUnit
from .params import CMD_BITS, AccelParams, dram_read_members, dram_write_members
from .scratchpad import Scratchpad
from .store_unit import StoreUnit


class Accelerator(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        BW = params.dram_bytes_per_cycle
        super().__init__({"cmd": In(CMD_BITS), "cmd_valid": In(1), "cmd_ready": Out(1), "done": Out(1),
                          "released": Out(1), "idle": Out(1),
                          **dram_read_members(BW), **dram_write_members(BW)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        ctrl = m.submodules.controller = Controller(p)
        ld = m.submodules.load_unit = LoadUnit(p)
        ex = m.submodules.execute_unit = ExecuteUnit(p)
        st = m.submodules.store_unit = StoreUnit(p)
        V = p.pe_dot_width  # dot-product PEs read V spad rows a cycle (docs: "Dot-product PEs")
        ifmap = m.submodules.ifmap_spad = Scratchpad(p.ifmap_lanes, p.ifmap_rows, read_rows=V)
        weight = m.submodules.weight_spad = Scratchpad(p.weight_lanes, p.weight_rows, read_rows=V)

        m.d.comb += [ctrl.cmd.eq(self.cmd), ctrl.cmd_valid.eq(self.cmd_valid),
                     self.cmd_ready.eq(ctrl.cmd_ready), self.done.eq(ctrl.done),
                     self.released.eq(ctrl.released), self.idle.eq(ctrl.idle)]
        for name, unit in (("ld", ld), ("ex", ex), ("st", st)):
            m.d.comb += unit_connections(ctrl, name, unit)

        # load unit: DMA read channel -> scratchpad write ports
        m.d.comb += [
            self.rd_valid.eq(ld.rd_valid), self.rd_addr.eq(ld.rd_addr), self.rd_lane_en.eq(ld.rd_lane_en),
            self.rd_tag.eq(ld.rd_tag),
            ld.rsp_valid.eq(self.rsp_valid), ld.rsp_data.eq(self.rsp_data), ld.rsp_tag.eq(self.rsp_tag),
        ]
        for spad, prefix in ((ifmap, "if"), (weight, "wt")):
            m.d.comb += [getattr(spad, f"w_{x}").eq(getattr(ld, f"{prefix}_w_{x}"))
                         for x in ("en", "addr", "data", "mask")]
            # execute unit: scratchpad read ports (synchronous, one cycle)
            m.d.comb += [spad.r_addr.eq(getattr(ex, f"{prefix}_r_addr")),
                         getattr(ex, f"{prefix}_r_data").eq(spad.r_data)]

        # store unit: accumulator read port -> DMA write channel
        m.d.comb += [
            ex.acc_rd_addr.eq(st.acc_rd_addr), st.acc_rd_data.eq(ex.acc_rd_data),
            self.wr_valid.eq(st.wr_valid), self.wr_addr.eq(st.wr_addr), self.wr_data.eq(st.wr_data),
            self.wr_lane_en.eq(st.wr_lane_en),
        ]
        return m


__all__ = ["Accelerator"]
