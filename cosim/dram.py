"""Dram: the behavioural DRAM of the simulation harness (not part of the synthesizable accelerator).

A byte-addressed memory of ``size_bytes`` bytes with one read channel and one write channel, each of ``BW``
byte lanes (``BW`` = dram_bytes_per_cycle); every lane carries its own 32-bit byte address, so one beat may
gather/scatter arbitrary bytes (the load unit's implicit im2col, the store unit's byte-sliced outputs).

Latency (docs/microarchitecture.md, "DMA"/"DRAM"): a read request accepted in cycle ``t`` (``rd_valid``)
is answered in cycle ``t + L`` exactly (``L`` = dram_latency_cycles >= 1): ``rsp_valid`` high, ``rsp_tag`` =
the request's ``rd_tag``, ``rsp_data`` lane ``b`` = the byte at ``rd_addr`` lane ``b`` when ``rd_lane_en[b]``,
else 0. A new request may be issued every cycle (fully pipelined, ``BW`` bytes per cycle). The memory is read
in the request cycle: a read and a write of the same byte in the same cycle return the old byte. A write beat
(``wr_valid``) writes every lane with ``wr_lane_en[b]`` at the edge closing its cycle; the DRAM sends no write
acknowledgement (the store unit counts ``L`` cycles itself). Addresses are taken modulo ``size_bytes``
(a power of two); the lanes of one write beat must address distinct bytes.

The storage is a byte-wide :class:`~accelsim.cosim.sim_memory.SimMemory` named ``name`` with ``BW`` write
ports and ``BW`` synchronous read ports, followed by an ``L - 1`` stage pipeline of (valid, tag, data); it
starts zeroed, or with the contents of the file given as ``+<name>_init=<file>``, and is saved to
``+<name>_dump=<file>`` when the simulation ends (build it with :data:`~accelsim.cosim.sim_memory.SOURCE`).

Ports (``BW`` = dram_bytes_per_cycle):
    rd_valid : Signal(1), in; rd_addr : Signal(BW*32), in; rd_lane_en : Signal(BW), in;
    rd_tag : Signal(TAG_BITS), in
    rsp_valid : Signal(1), out; rsp_data : Signal(BW*8), out; rsp_tag : Signal(TAG_BITS), out
    wr_valid : Signal(1), in; wr_addr : Signal(BW*32), in; wr_data : Signal(BW*8), in;
    wr_lane_en : Signal(BW), in
"""

from __future__ import annotations

from accelsim.rtl.params import TAG_BITS, AccelParams, dram_read_members, dram_write_members, flipped
from amaranth import Cat, Module, Signal
from amaranth.lib import wiring

from accelsim.errors import require

from .sim_memory import SimMemory


class Dram(wiring.Component):
    def __init__(self, params: AccelParams, *, size_bytes: int, name: str = "dram") -> None:
        require(size_bytes >= 2 and size_bytes & (size_bytes - 1) == 0, "Dram size_bytes",
                "a power of two >= 2", size_bytes)
        require(params.dram_latency_cycles >= 1, "Dram latency (dram_latency_cycles)", ">= 1",
                params.dram_latency_cycles)
        self.params = params
        self.size_bytes = size_bytes
        self.name = name
        BW = params.dram_bytes_per_cycle
        super().__init__(flipped(dram_read_members(BW) | dram_write_members(BW)))

    def elaborate(self, platform):
        m = Module()
        BW, L = self.params.dram_bytes_per_cycle, self.params.dram_latency_cycles
        aw = (self.size_bytes - 1).bit_length()
        mem = m.submodules.mem = SimMemory(width=8, depth=self.size_bytes, name=self.name, read_ports=BW,
                                           write_ports=BW)
        ens = []
        for b in range(BW):
            en = Signal(name=f"rd_en_{b}")
            m.d.sync += en.eq(self.rd_valid & self.rd_lane_en[b])
            ens.append(en.replicate(8))
        m.d.comb += [
            mem.wr_en.eq(self.wr_lane_en & self.wr_valid.replicate(BW)),
            mem.wr_addr.eq(Cat(self.wr_addr[32 * b:32 * b + aw] for b in range(BW))),
            mem.wr_data.eq(self.wr_data),
            mem.rd_addr.eq(Cat(self.rd_addr[32 * b:32 * b + aw] for b in range(BW))),
        ]
        lanes = [mem.rd_data[8 * b:8 * b + 8] & ens[b] for b in range(BW)]
        # stage 1 is the memory read itself; L - 1 more register stages
        valid, tag, data = Signal(name="rsp_valid_1"), Signal(TAG_BITS, name="rsp_tag_1"), Signal(BW * 8)
        m.d.sync += [valid.eq(self.rd_valid), tag.eq(self.rd_tag)]
        m.d.comb += data.eq(Cat(*lanes))
        for stage in range(2, L + 1):
            v2 = Signal(name=f"rsp_valid_{stage}")
            t2 = Signal(TAG_BITS, name=f"rsp_tag_{stage}")
            d2 = Signal(BW * 8, name=f"rsp_data_{stage}")
            m.d.sync += [v2.eq(valid), t2.eq(tag), d2.eq(data)]
            valid, tag, data = v2, t2, d2
        m.d.comb += [self.rsp_valid.eq(valid), self.rsp_tag.eq(tag), self.rsp_data.eq(data)]
        return m


__all__ = ["Dram"]
