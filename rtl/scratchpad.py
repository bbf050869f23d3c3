"""Scratchpad: an int8 operand memory of two buffers, ``rows_per_buffer`` rows of ``lanes`` byte lanes each.

The ifmap spad (``AR`` lanes, ``params.ifmap_rows`` rows per buffer) and the weight spad (``AC`` lanes,
``params.weight_rows``) of docs/microarchitecture.md are two instances. Buffer ``b`` holds rows
``b*rows_per_buffer .. (b+1)*rows_per_buffer - 1``. One write port with byte enables (the load unit writes a
beat's lanes of a row in the DRAM response cycle) and one synchronous read port (the execute unit).

Latency: a row written in cycle ``t`` (``w_en`` high) is readable from cycle ``t + 1``; ``r_data`` in
cycle ``t + 1`` is the row addressed by ``r_addr`` in cycle ``t`` (read latency 1 cycle; a read in the cycle
of a write to the same row returns the old row).

Ports (``A = ceil_log2(2*rows_per_buffer)``):
    w_en : Signal(1), in
    w_addr : Signal(A), in
    w_data : Signal(lanes*8), in        byte lane ``l`` in bits ``8l .. 8l+7``
    w_mask : Signal(lanes), in          byte enables (lane ``l`` written when ``w_en & w_mask[l]``)
    r_addr : Signal(A), in
    r_data : Signal(lanes*8), out       the row addressed one cycle earlier
"""

from __future__ import annotations

from amaranth import Module
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require

SCRATCHPAD_READ_LATENCY_CYCLES = 1


class Scratchpad(wiring.Component):
    def __init__(self, lanes: int, rows_per_buffer: int) -> None:
        require(lanes >= 1, "Scratchpad lanes", ">= 1", lanes)
        require(rows_per_buffer >= 1, "Scratchpad rows_per_buffer", ">= 1", rows_per_buffer)
        self.lanes = lanes
        self.rows_per_buffer = rows_per_buffer
        self.depth = 2 * rows_per_buffer
        self.addr_bits = max(1, ceil_log2(self.depth))
        super().__init__({
            "w_en": In(1),
            "w_addr": In(self.addr_bits),
            "w_data": In(lanes * 8),
            "w_mask": In(lanes),
            "r_addr": In(self.addr_bits),
            "r_data": Out(lanes * 8),
        })

    def elaborate(self, platform):
        m = Module()
        mem = m.submodules.mem = memory.Memory(shape=self.lanes * 8, depth=self.depth, init=[])
        wp = mem.write_port(granularity=8)
        rp = mem.read_port(domain="sync")
        m.d.comb += [
            wp.addr.eq(self.w_addr),
            wp.data.eq(self.w_data),
            wp.en.eq(self.w_mask & self.w_en.replicate(self.lanes)),
            rp.addr.eq(self.r_addr),
            self.r_data.eq(rp.data),
        ]
        return m


__all__ = ["SCRATCHPAD_READ_LATENCY_CYCLES", "Scratchpad"]
