"""Requantize: int32 accumulators -> int8 outputs, per lane, exactly :func:`accelsim.reference.requantize`.

``q = clamp((acc + 2**(shift-1)) >> shift, -128, 127)`` for ``shift > 0`` (round half up; the add is exact in
33 bits, the shift arithmetic) and ``q = clamp(acc, -128, 127)`` for ``shift == 0``. The rounding constant
``(1 << shift) >> 1`` is shared by every lane; each lane has one 33-bit adder, one arithmetic barrel shifter
and a saturating compare.

Ports:
    shift : Signal(5), in            right shift, 0..31 (the layer register ``shift``)
    i : Signal(lanes*32), in         lane l is the two's complement int32 in bits ``32*l .. 32*l+31``
    o : Signal(lanes*8), out         lane l is the int8 in bits ``8*l .. 8*l+7``

Latency: 0 cycles (purely combinational; ``o`` follows ``i`` and ``shift`` in the same cycle). The
``StoreUnit`` applies it between the accumulator read port and the DRAM write beat, inside the
``STORE_EXTRA_CYCLES`` budget of :func:`accelsim.timing.store_unit_cycles`.
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accelsim.errors import require

INT8_MIN, INT8_MAX = -128, 127


class Requantize(wiring.Component):
    def __init__(self, lanes: int) -> None:
        require(isinstance(lanes, int) and lanes >= 1, "Requantize lanes", "a positive integer", lanes)
        self.lanes = lanes
        super().__init__({"shift": In(5), "i": In(lanes * 32), "o": Out(lanes * 8)})

    def elaborate(self, platform):
        m = Module()
        half = Signal(32)  # 2**(shift-1), 0 for shift == 0
        m.d.comb += half.eq((Const(1, 32) << self.shift) >> 1)
        outs = []
        for lane in range(self.lanes):
            acc = self.i[32 * lane:32 * lane + 32].as_signed()
            wide = Signal(signed(33), name=f"wide{lane}")  # acc + half: exact, |acc + half| < 2**32
            shifted = Signal(signed(33), name=f"shifted{lane}")
            q = Signal(8, name=f"q{lane}")
            m.d.comb += [
                wide.eq(acc + half),
                shifted.eq(wide >> self.shift),  # arithmetic (wide is signed)
                q.eq(Mux(shifted > INT8_MAX, INT8_MAX,
                         Mux(shifted < INT8_MIN, Const(INT8_MIN, signed(8)), shifted[:8]))),
            ]
            outs.append(q)
        m.d.comb += self.o.eq(Cat(*outs))
        return m
