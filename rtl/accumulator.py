"""Accumulator: the int32 output SRAM behind the systolic array (docs/microarchitecture.md, "Accumulator";
the ``COMPUTE_EXTRA_CYCLES`` of :func:`accelsim.timing.systolic_array_cycles`).

``2 * acc_rows`` rows (the size of two buffers of ``acc_rows``; COMPUTE and STORE name rows) of AC int32
lanes, with two ports:

- a read-modify-write port for the execute unit: in the cycle X the array presents a row (``rmw_valid``), the
  old row at ``rmw_addr`` is read; at the edge closing X+1 the row is written with
  ``(rmw_accumulate ? old : 0) + rmw_data`` (lane-wise, int32 wrap). The read is transparent to the write of
  the previous row, so back-to-back updates of the same row (X and X+1) accumulate correctly too.
- a synchronous read port for the store unit: ``rd_data`` in cycle t+1 is the row addressed by ``rd_addr`` in
  cycle t (a row written at the edge closing t is read as its old value; the store unit only reads rows whose
  last write happened before its command started).

Ports:
    rmw_valid : Signal(1), in             update row ``rmw_addr`` with ``rmw_data``
    rmw_addr : Signal(addr_bits), in      ``addr_bits = ceil_log2(2*acc_rows)``
    rmw_accumulate : Signal(1), in        1: old + new, 0: new
    rmw_data : Signal(AC*32), in          the new row, lane j = int32
    rd_addr : Signal(addr_bits), in       store read port
    rd_data : Signal(AC*32), out          the row addressed in the previous cycle

Latency: an update presented in cycle X is written at the edge closing X+1 (``ACCUMULATOR_WRITE_CYCLES = 2``:
readable through ``rd_*`` when addressed in X+2 or later); ``rd_data`` 1 cycle after ``rd_addr``.
"""

from __future__ import annotations

from amaranth import Cat, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require

ACC_BITS = 32
ACCUMULATOR_WRITE_CYCLES = 2  # presented in X, written at the edge closing X+1


class Accumulator(wiring.Component):
    def __init__(self, array_cols: int, acc_rows: int) -> None:
        require(isinstance(array_cols, int) and array_cols >= 1, "array_cols", "a positive integer",
                array_cols)
        require(isinstance(acc_rows, int) and acc_rows >= 1, "acc_rows", "a positive integer", acc_rows)
        self.array_cols = array_cols
        self.acc_rows = acc_rows
        self.addr_bits = max(1, ceil_log2(2 * acc_rows))
        super().__init__({
            "rmw_valid": In(1),
            "rmw_addr": In(self.addr_bits),
            "rmw_accumulate": In(1),
            "rmw_data": In(array_cols * ACC_BITS),
            "rd_addr": In(self.addr_bits),
            "rd_data": Out(array_cols * ACC_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        AC = self.array_cols
        mem = m.submodules.mem = memory.Memory(shape=AC * ACC_BITS, depth=2 * self.acc_rows, init=[])
        wp = mem.write_port()
        old_port = mem.read_port(transparent_for=(wp,))
        st_port = mem.read_port()

        # cycle X: read the old row; register what the write in X+1 needs
        w_valid = Signal()
        w_addr = Signal(self.addr_bits)
        w_accumulate = Signal()
        w_new = Signal(AC * ACC_BITS)
        m.d.comb += old_port.addr.eq(self.rmw_addr)
        m.d.sync += [
            w_valid.eq(self.rmw_valid),
            w_addr.eq(self.rmw_addr),
            w_accumulate.eq(self.rmw_accumulate),
            w_new.eq(self.rmw_data),
        ]
        # cycle X+1: old row on old_port.data; write at the closing edge
        lanes = []
        for j in range(AC):
            old = old_port.data[j * ACC_BITS:(j + 1) * ACC_BITS]
            new = w_new[j * ACC_BITS:(j + 1) * ACC_BITS]
            lane = Signal(ACC_BITS, name=f"sum_{j}")
            m.d.comb += lane.eq(new + (old & w_accumulate.replicate(ACC_BITS)))  # 32-bit truncation = wrap
            lanes.append(lane)
        m.d.comb += [
            wp.en.eq(w_valid),
            wp.addr.eq(w_addr),
            wp.data.eq(Cat(*lanes)),
            st_port.addr.eq(self.rd_addr),
            self.rd_data.eq(st_port.data),
        ]
        return m
