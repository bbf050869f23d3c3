"""Harness: Accelerator + Fetcher + command memory + behavioural Dram + cycle counter (simulation only).

The bench fills the command memory (``cmd_w_*``) and the DRAM (``host_wr_*``, the Dram's own write channel,
muxed in while the host drives it) before raising ``start``; afterwards it reads the outputs back through
``host_rd_*`` / ``host_rsp_*`` (the Dram's read channel; responses ``L`` cycles later, with the tag).

``cycles`` counts from cycle 0 (the cycle the first command is accepted, docs/microarchitecture.md) to the
cycle ``done`` is first visible: it reads ``T`` in cycle ``T`` and freezes once ``done`` is high, so after
the layer it equals :func:`accelsim.timing.schedule`'s ``total_cycles``.

Ports (``BW`` = dram_bytes_per_cycle):
    cmd_w_en : Signal(1), in; cmd_w_addr : Signal(ceil_log2(cmd_depth)), in; cmd_w_data : Signal(128), in
    count : Signal(ceil_log2(cmd_depth) + 1), in    commands in the memory
    start : Signal(1), in                           let the fetcher go (level)
    host_wr_valid : Signal(1), in; host_wr_addr : Signal(BW*32), in; host_wr_data : Signal(BW*8), in;
    host_wr_lane_en : Signal(BW), in
    host_rd_valid : Signal(1), in; host_rd_addr : Signal(BW*32), in; host_rd_lane_en : Signal(BW), in;
    host_rd_tag : Signal(TAG_BITS), in
    host_rsp_valid : Signal(1), out; host_rsp_data : Signal(BW*8), out; host_rsp_tag : Signal(TAG_BITS), out
    done : Signal(1), out
    cycles : Signal(32), out
"""

from __future__ import annotations

from accelsim.rtl.fetcher import Fetcher
from accelsim.rtl.params import CMD_BITS, TAG_BITS, AccelParams
from amaranth import Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

CYCLE_BITS = 32
DRAM_RD = ("rd_valid", "rd_addr", "rd_lane_en", "rd_tag")
DRAM_WR = ("wr_valid", "wr_addr", "wr_data", "wr_lane_en")
DRAM_RSP = ("rsp_valid", "rsp_data", "rsp_tag")


class Harness(wiring.Component):
    def __init__(self, params: AccelParams, *, dram_bytes: int, cmd_depth: int, core=None, dram=None) -> None:
        """``core``/``dram`` default to the real Accelerator and Dram; tests may pass stand-ins with the
        same ports."""
        self.params = params
        self.dram_bytes = dram_bytes
        self.cmd_depth = cmd_depth
        self._core = core
        self._dram = dram
        BW = params.dram_bytes_per_cycle
        aw = max(1, ceil_log2(cmd_depth))
        super().__init__({
            "cmd_w_en": In(1),
            "cmd_w_addr": In(aw),
            "cmd_w_data": In(CMD_BITS),
            "count": In(aw + 1),
            "start": In(1),
            "host_wr_valid": In(1),
            "host_wr_addr": In(BW * 32),
            "host_wr_data": In(BW * 8),
            "host_wr_lane_en": In(BW),
            "host_rd_valid": In(1),
            "host_rd_addr": In(BW * 32),
            "host_rd_lane_en": In(BW),
            "host_rd_tag": In(TAG_BITS),
            "host_rsp_valid": Out(1),
            "host_rsp_data": Out(BW * 8),
            "host_rsp_tag": Out(TAG_BITS),
            "done": Out(1),
            "cycles": Out(CYCLE_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if self._core is None:
            from accelsim.rtl.accelerator import Accelerator

            core = Accelerator(p)
        else:
            core = self._core
        if self._dram is None:
            from .dram import Dram

            dram = Dram(p, size_bytes=self.dram_bytes)
        else:
            dram = self._dram
        m.submodules.accelerator = core
        m.submodules.dram = dram

        mem = m.submodules.cmd_mem = memory.Memory(shape=CMD_BITS, depth=self.cmd_depth, init=[])
        wp = mem.write_port()
        rp = mem.read_port(transparent_for=(wp,))
        fetch = m.submodules.fetcher = Fetcher(host_issue_cycles=p.host_issue_cycles, depth=self.cmd_depth)
        m.d.comb += [
            wp.en.eq(self.cmd_w_en), wp.addr.eq(self.cmd_w_addr), wp.data.eq(self.cmd_w_data),
            rp.addr.eq(fetch.mem_addr), fetch.mem_data.eq(rp.data),
            fetch.start.eq(self.start), fetch.count.eq(self.count),
            core.cmd.eq(fetch.cmd), core.cmd_valid.eq(fetch.cmd_valid), fetch.cmd_ready.eq(core.cmd_ready),
            self.done.eq(core.done),
        ]

        # DRAM channels: the accelerator's, or the host's while it drives them (before start, after done)
        host_wr = dict(zip(DRAM_WR, (self.host_wr_valid, self.host_wr_addr, self.host_wr_data,
                                     self.host_wr_lane_en), strict=True))
        host_rd = dict(zip(DRAM_RD, (self.host_rd_valid, self.host_rd_addr, self.host_rd_lane_en,
                                     self.host_rd_tag), strict=True))
        for names, host in ((DRAM_WR, host_wr), (DRAM_RD, host_rd)):
            with m.If(host[names[0]]):
                m.d.comb += [getattr(dram, n).eq(host[n]) for n in names]
            with m.Else():
                m.d.comb += [getattr(dram, n).eq(getattr(core, n)) for n in names]
        m.d.comb += [getattr(core, n).eq(getattr(dram, n)) for n in DRAM_RSP]
        with m.If(core.done):  # after the layer, responses are the host's read-back
            m.d.comb += core.rsp_valid.eq(0)
        m.d.comb += [
            self.host_rsp_valid.eq(dram.rsp_valid), self.host_rsp_data.eq(dram.rsp_data),
            self.host_rsp_tag.eq(dram.rsp_tag),
        ]

        # cycle counter: 0 in the first accept cycle, T in cycle T, frozen while done is visible
        running = Signal()
        with m.If(fetch.first):
            m.d.sync += running.eq(1)
        with m.If((running | fetch.first) & ~core.done):
            m.d.sync += self.cycles.eq(self.cycles + 1)
        return m


__all__ = ["Harness"]
