"""SystolicArray: an AR x AC grid of :class:`PE` with input skew and output de-skew in hardware, weight-
stationary (WS; IS is the same grid with the operands swapped by the execute unit) or output-stationary
(``os`` high) at run time (docs/microarchitecture.md, "Timing"; model:
:func:`accelsim.timing.systolic_array_cycles`).

Grid row i <-> reduction lane i (activation lane i), grid column j <-> output lane j. PE (i, j) holds weight
``W[i][j]``; an input row ``a[0..AR-1]`` presented on ``in_data`` in cycle ``tau`` yields the output row
``out[j] = sum_i a[i] * W[i][j]`` (int8 operands signed, int32 wrap) presented as a whole on ``out_data`` in
cycle ``tau + AR + AC - 1``:

- skew: lane i is delayed i cycles, so it enters PE (i, 0) in cycle ``tau + i``; activations move one
  column right per cycle, so PE (i, j) multiplies in cycle ``tau + i + j``;
- partial sums move one row down per cycle; column j's sum leaves the bottom row in ``tau + AR + j``;
- de-skew: column j is delayed ``AC - 1 - j`` cycles, so every column is presented in ``tau + AR + AC - 1``.

``in_valid`` travels alongside (a delay line of ``AR + AC - 1`` cycles) and comes out as ``out_valid``.
Input rows may be presented back to back (one per cycle) or with gaps.

Weights are shifted in from the top: at an edge where ``w_shift`` is high, grid row 0 takes ``w_in`` and every
grid row i > 0 takes the weights of row i - 1. So AR shifts, bottom row first, load the whole grid; a row
shifted at the edge closing cycle t is used from cycle t+1. Weights must not be shifted while rows are in
flight (the execute unit runs one command at a time).

Output-stationary (``os`` high): ``w_in`` is a streamed row too, lane j skewed by j cycles, flowing down
the columns as activations flow along the rows, so PE (i, j) multiplies ``in_data`` lane i and ``w_in`` lane
j presented in cycle ``tau`` in cycle ``tau + i + j`` and adds the product into its own register. A pulse on
``acc_clear`` zeroes every PE's sum; while ``acc_shift`` is high the sums shift down one row per cycle and
``out_data`` is the bottom row (grid row AR - 1 first, then AR - 2, ...), without de-skew.

Dot-product PEs (``dot_width`` V > 1; docs/microarchitecture.md, "Dot-product PEs"): every PE reduces V
int8 pairs a cycle, so the reduction runs over ``AR*V`` lanes: grid row i takes ``in_data`` lanes
``i*V .. i*V+V-1`` (as one V-element word, skewed by i like a V = 1 lane) and holds the V weights
``W[i*V+v][j]``; ``w_in`` carries V elements per column (lane ``j*V+v`` = element v of column j), one V-wide
row of the shift chain a cycle; in OS lane ``i*V+v`` of ``in_data`` and lane ``j*V+v`` of ``w_in`` are the
v-th of the V reduction elements PE (i, j) multiplies in a cycle. The skews, de-skews, shifts and every
latency are those of V = 1.

Ports (lane k of a flat vector is bits ``[k*w, (k+1)*w)``; V = 1 below unless noted):
    in_data : Signal(AR*V*8), in     activation row, lane i*V+v = int8 element v for grid row i
    in_valid : Signal(1), in         marks a row (delayed to ``out_valid``; the grid computes every cycle)
    out_data : Signal(AC*32), out    output row, lane j = int32 sum of column j
    out_valid : Signal(1), out       ``in_valid`` delayed ``AR + AC - 1`` cycles
    w_in : Signal(AC*V*8), in        weight row shifted into grid row 0, lane j*V+v = element v, column j
    w_shift : Signal(1), in          shift the weights down one row at the closing edge
    os : Signal(1), in               output-stationary mode (static during a layer)
    acc_clear : Signal(1), in        OS: zero every PE's sum at the closing edge
    acc_shift : Signal(1), in        OS: shift the sums down one row; ``out_data`` = the bottom row

Latency: ``AR + AC - 1`` cycles from ``in_data`` to ``out_data`` (the part of
:func:`accelsim.timing.systolic_array_fill_drain_cycles` inside this block; its bench measures it).
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accelsim.arch import PE_DOT_WIDTHS, PE_DOT_WIDTHS_RULE
from accelsim.errors import require

from .pe import ACT_BITS, PE, PSUM_BITS, WEIGHT_BITS


def _delay(m: Module, sig, n: int, name: str):
    """``sig`` delayed ``n`` cycles through a chain of registers (``n`` = 0 returns ``sig``)."""
    for k in range(n):
        reg = Signal.like(sig, name=f"{name}_d{k + 1}")
        m.d.sync += reg.eq(sig)
        sig = reg
    return sig


class SystolicArray(wiring.Component):
    def __init__(self, array_rows: int, array_cols: int, output_stationary: bool = True,
                 dot_width: int = 1) -> None:
        for what, v in (("array_rows", array_rows), ("array_cols", array_cols)):
            require(isinstance(v, int) and v >= 1, what, "a positive integer", v)
        require(dot_width in PE_DOT_WIDTHS, "SystolicArray dot_width", PE_DOT_WIDTHS_RULE, dot_width)
        self.array_rows = array_rows
        self.array_cols = array_cols
        self.output_stationary = output_stationary  # False: a WS/IS-only grid (``os`` ignored)
        self.dot_width = dot_width
        super().__init__({
            "in_data": In(array_rows * dot_width * ACT_BITS),
            "in_valid": In(1),
            "out_data": Out(array_cols * PSUM_BITS),
            "out_valid": Out(1),
            "w_in": In(array_cols * dot_width * WEIGHT_BITS),
            "w_shift": In(1),
            "os": In(1),
            "acc_clear": In(1),
            "acc_shift": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        AR, AC, V = self.array_rows, self.array_cols, self.dot_width
        pes = [[PE(V) for _ in range(AC)] for _ in range(AR)]
        for i in range(AR):
            for j in range(AC):
                m.submodules[f"pe_{i}_{j}"] = pes[i][j]
        for i in range(AR):
            lane = Signal.like(pes[i][0].a_in, name=f"lane_{i}")
            m.d.comb += lane.eq(self.in_data[i * V * ACT_BITS:(i + 1) * V * ACT_BITS])
            m.d.comb += pes[i][0].a_in.eq(_delay(m, lane, i, f"skew_{i}"))
            for j in range(1, AC):
                m.d.comb += pes[i][j].a_in.eq(pes[i][j - 1].a_out)
        os = Signal()
        m.d.comb += os.eq(self.os if self.output_stationary else 0)
        for j in range(AC):
            w_lane = Signal.like(pes[0][j].w_in, name=f"w_lane_{j}")
            m.d.comb += w_lane.eq(self.w_in[j * V * WEIGHT_BITS:(j + 1) * V * WEIGHT_BITS])
            w_top = w_lane
            if self.output_stationary and j > 0:
                w_top = Mux(os, _delay(m, w_lane, j, f"w_skew_{j}"), w_lane)
            m.d.comb += [
                pes[0][j].psum_in.eq(0),
                pes[0][j].w_in.eq(w_top),
            ]
            for i in range(AR):
                m.d.comb += [pes[i][j].w_shift.eq(self.w_shift), pes[i][j].os.eq(os),
                             pes[i][j].acc_clear.eq(self.acc_clear), pes[i][j].acc_shift.eq(self.acc_shift)]
                if i > 0:
                    m.d.comb += [pes[i][j].psum_in.eq(pes[i - 1][j].psum_out),
                                 pes[i][j].w_in.eq(pes[i - 1][j].w_out)]
            bottom = pes[AR - 1][j].psum_out
            out = _delay(m, bottom, AC - 1 - j, f"deskew_{j}")
            m.d.comb += self.out_data[j * PSUM_BITS:(j + 1) * PSUM_BITS].eq(Mux(os, bottom, out))
        m.d.comb += self.out_valid.eq(_delay(m, self.in_valid, AR + AC - 1, "valid"))
        return m
