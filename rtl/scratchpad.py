"""Scratchpad: an int8 operand memory of ``2*rows_per_buffer`` rows of ``lanes`` byte lanes, addressed by row.

The ifmap spad (``AR`` lanes, ``params.ifmap_rows`` rows per buffer) and the weight spad (``AC`` lanes,
``params.weight_rows``) of docs/microarchitecture.md are two instances; their sizes are those of two buffers
(double buffering), but commands name rows anywhere in them (issue 11). One write port with byte enables (the
load unit writes a beat's lanes of a row in the DRAM response cycle) and one synchronous read port (the
execute unit).

V-row reads (``read_rows`` V > 1, the operand spads of a build with dot-product PEs;
docs/microarchitecture.md, "Dot-product PEs"): the memory is one word of V rows (``V*lanes`` bytes) per V
rows: row ``r`` is word ``r // V``, byte lanes ``(r % V)*lanes ..`` of it (V banks of ``lanes`` bytes sharing
one address), so the load unit's row writes are unchanged (a row write enables its V-th of the word's byte
lanes) and one read returns the V consecutive rows ``r - r % V .. r - r % V + V - 1`` of the word holding row
``r``: a PRELOAD's V k-rows of a PE row, an OS COMPUTE's V k-rows of a cycle. ``rows_per_buffer`` must be a
multiple of V (whole words; AccelParams rounds it up), and a PRELOAD's or COMPUTE's first row is a multiple of
V (the encoding's rule, accelsim.executed checks it), so those reads are aligned. A
reader of one row (the WS/IS streamed operand) selects row ``r % V`` of the word. V = 1 is the one-row memory
above.

Latency: a row written in cycle ``t`` (``w_en`` high) is readable from cycle ``t + 1``; ``r_data`` in
cycle ``t + 1`` is the row addressed by ``r_addr`` in cycle ``t`` (read latency 1 cycle; a read in the cycle
of a write to the same row returns the old row).

Ports (``A = ceil_log2(2*rows_per_buffer)``):
    w_en : Signal(1), in
    w_addr : Signal(A), in
    w_data : Signal(lanes*8), in        byte lane ``l`` in bits ``8l .. 8l+7``
    w_mask : Signal(lanes), in          byte enables (lane ``l`` written when ``w_en & w_mask[l]``)
    r_addr : Signal(A), in
    r_data : Signal(V*lanes*8), out     the word holding the row addressed one cycle earlier (V rows: row
                                        ``r - r % V + v`` in bytes ``v*lanes ..``)
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2, exact_log2

from accelsim.arch import PE_DOT_WIDTHS, PE_DOT_WIDTHS_RULE
from accelsim.errors import require

SCRATCHPAD_READ_LATENCY_CYCLES = 1


class Scratchpad(wiring.Component):
    def __init__(self, lanes: int, rows_per_buffer: int, read_rows: int = 1) -> None:
        require(lanes >= 1, "Scratchpad lanes", ">= 1", lanes)
        require(rows_per_buffer >= 1, "Scratchpad rows_per_buffer", ">= 1", rows_per_buffer)
        require(read_rows in PE_DOT_WIDTHS, "Scratchpad read_rows", PE_DOT_WIDTHS_RULE, read_rows)
        require(rows_per_buffer % read_rows == 0, "Scratchpad rows_per_buffer",
                f"a multiple of read_rows ({read_rows})", rows_per_buffer)
        self.lanes = lanes
        self.rows_per_buffer = rows_per_buffer
        self.read_rows = read_rows
        self.depth = 2 * rows_per_buffer
        self.addr_bits = max(1, ceil_log2(self.depth))
        super().__init__({
            "w_en": In(1),
            "w_addr": In(self.addr_bits),
            "w_data": In(lanes * 8),
            "w_mask": In(lanes),
            "r_addr": In(self.addr_bits),
            "r_data": Out(read_rows * lanes * 8),
        })

    def elaborate(self, platform):
        m = Module()
        V, lanes = self.read_rows, self.lanes
        mem = m.submodules.mem = memory.Memory(shape=V * lanes * 8, depth=self.depth // V, init=[])
        wp = mem.write_port(granularity=8)
        rp = mem.read_port(domain="sync")
        en = self.w_mask & self.w_en.replicate(lanes)
        if V == 1:
            m.d.comb += [wp.addr.eq(self.w_addr), wp.data.eq(self.w_data), wp.en.eq(en),
                         rp.addr.eq(self.r_addr)]
        else:
            sub = exact_log2(V)
            m.d.comb += [
                wp.addr.eq(self.w_addr[sub:]),
                wp.data.eq(self.w_data.replicate(V)),
                wp.en.eq(Cat(*(Mux(self.w_addr[:sub] == v, en, 0) for v in range(V)))),
                rp.addr.eq(self.r_addr[sub:]),
            ]
        m.d.comb += self.r_data.eq(rp.data)
        return m


__all__ = ["SCRATCHPAD_READ_LATENCY_CYCLES", "Scratchpad"]
