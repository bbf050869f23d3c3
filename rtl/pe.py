"""PE: one int8 x int8 -> int32 multiply-accumulate cell (``dot_width`` V = 1) or a V-wide dot-product cell (V
int8 pairs multiplied and their V products added into the int32 sum in one cycle) of the systolic array,
weight-stationary (WS and IS: the stationary operand in ``weight``) or output-stationary (OS: the partial sum
stays) by the ``os`` input.

The cell holds a weight (the stationary operand), passes its activation to the right neighbour and its partial
sum down, one cycle per hop (docs/microarchitecture.md, "Timing": PE (i, j) multiplies in cycle
``tau + i + j``). In the cycle it *multiplies* it sees ``a_in`` (from its left neighbour's ``a_out`` or the
array's skewed input) and ``psum_in`` (from the PE above, 0 at the top), and at the edge closing that cycle
registers ``psum_out = psum_in + a_in * weight`` (int32, two's complement wrap) and ``a_out = a_in``.

The weight is loaded by a shift-down chain during PRELOAD: at an edge where ``w_shift`` is high the cell
takes ``w_in`` (the weight of the PE above, or the array's weight input in the top row); ``w_out`` is the held
weight (feeds the PE below).

Output-stationary (``os`` high; docs/microarchitecture.md, "Timing", OS): ``w_in`` streams down like
``a_in`` streams right (the weight register shifts every cycle, so ``w_out`` is ``w_in`` delayed one cycle)
and the cell multiplies ``a_in * w_in``, adding into its own ``psum_out`` register; ``acc_clear`` zeroes it,
``acc_shift`` takes ``psum_in`` instead (the grid's outputs shift down a row per cycle, out of the bottom).

Ports:
    a_in : Signal(signed(8)), in        activation entering from the left
    a_out : Signal(signed(8)), out      ``a_in`` delayed one cycle (to the right neighbour)
    psum_in : Signal(signed(32)), in    partial sum from above
    psum_out : Signal(signed(32)), out  ``psum_in + a_in * weight`` delayed one cycle (to the PE below)
    w_in : Signal(signed(8)), in        weight shifted in from above
    w_shift : Signal(1), in             shift the weight chain at the closing edge
    w_out : Signal(signed(8)), out      the held weight
    os : Signal(1), in                  output-stationary mode (static during a layer)
    acc_clear : Signal(1), in           OS: zero the partial sum at the closing edge
    acc_shift : Signal(1), in           OS: take ``psum_in`` at the closing edge (shift the outputs down)

Dot-product PE (V = ``dot_width`` > 1; docs/microarchitecture.md, "Dot-product PEs"): ``a_in``, ``a_out``,
``w_in`` and ``w_out`` carry V int8 elements (element v in bits ``8v .. 8v+7``), the held weight is V
elements, and the product above is the dot product ``sum_v a[v] * w[v]``; everything else (the hops, the
shift chain, the OS controls) is as for V = 1, so every latency is unchanged. V = 1 builds the MAC cell
above, port shapes included.

Latency: ``a_out`` and ``psum_out`` 1 cycle after ``a_in``/``psum_in``; a weight shifted at the edge closing
cycle t is used from cycle t+1.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

ACT_BITS = 8
WEIGHT_BITS = 8
PSUM_BITS = 32
PE_LATENCY_CYCLES = 1  # one register per hop, rightwards and downwards


class PE(wiring.Component):
    def __init__(self, dot_width: int = 1) -> None:
        self.dot_width = V = dot_width
        act = signed(ACT_BITS) if V == 1 else unsigned(V * ACT_BITS)
        wgt = signed(WEIGHT_BITS) if V == 1 else unsigned(V * WEIGHT_BITS)
        super().__init__({
            "a_in": In(act),
            "a_out": Out(act),
            "psum_in": In(signed(PSUM_BITS)),
            "psum_out": Out(signed(PSUM_BITS)),
            "w_in": In(wgt),
            "w_shift": In(1),
            "w_out": Out(wgt),
            "os": In(1),
            "acc_clear": In(1),
            "acc_shift": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        V = self.dot_width
        weight = Signal.like(self.w_in, name="weight")
        with m.If(self.w_shift | self.os):
            m.d.sync += weight.eq(self.w_in)
        m.d.comb += self.w_out.eq(weight)
        m.d.sync += self.a_out.eq(self.a_in)
        if V == 1:
            product = Signal(signed(2 * ACT_BITS))
            m.d.comb += product.eq(self.a_in * Mux(self.os, self.w_in, weight))
        else:  # the dot product of V int8 pairs (|sum| < V * 2^14: 16 + log2 V bits)
            w = Signal.like(weight, name="w_mul")
            m.d.comb += w.eq(Mux(self.os, self.w_in, weight))
            terms = [self.a_in[v * ACT_BITS:(v + 1) * ACT_BITS].as_signed()
                     * w[v * WEIGHT_BITS:(v + 1) * WEIGHT_BITS].as_signed() for v in range(V)]
            while len(terms) > 1:  # an adder tree
                terms = [terms[k] + terms[k + 1] for k in range(0, len(terms), 2)]
            product = Signal(signed(2 * ACT_BITS + V.bit_length() - 1))
            m.d.comb += product.eq(terms[0])
        with m.If(~self.os):
            m.d.sync += self.psum_out.eq(self.psum_in + product)  # truncation to 32 bits = int32 wrap
        with m.Elif(self.acc_shift):
            m.d.sync += self.psum_out.eq(self.psum_in)
        with m.Elif(self.acc_clear):
            m.d.sync += self.psum_out.eq(0)
        with m.Else():
            m.d.sync += self.psum_out.eq(self.psum_out + product)
        return m
