"""ExecuteUnit: runs PRELOAD and COMPUTE (WS) on a :class:`SystolicArray` and an :class:`Accumulator`
(docs/microarchitecture.md, "Timing"; model: :func:`accelsim.timing.systolic_array_preload_cycles` and
:func:`accelsim.timing.systolic_array_cycles`). A drop-in replacement for tests/rtl/fake_units.FakeExecute:
identical cycle behaviour on the unit interface, plus the data path.

One command at a time. The accept (``cmd_valid & cmd_ready``) cycle is ``start``; ``cmd_ready`` and
``idle`` are high exactly when no command is busy, so the next command can be accepted in the cycle the
previous one ``end``s.

- PRELOAD (buf b, lanes K_t), busy ``1 + AR + 1``: cycle ``start+1+q`` (q = 0..AR-1) reads weight-spad row
  ``b*weight_rows + AR-1-q`` (bottom row first); in ``start+2+q`` that row (zeros when ``AR-1-q >= K_t``) is
  shifted into grid row 0 (every grid row shifts down) at the closing edge, so at ``end = start+AR+2``
  PE (i, j) holds weight-spad row ``b*weight_rows + i``, lane j (0 for i >= K_t).
- COMPUTE (buf b, acc_buf a, accumulate, rows T), busy ``1 + T + AR + AC + 1``: cycle ``start+1+t`` reads
  ifmap-spad row ``b*ifmap_rows + t``; it enters the array in ``tau = start+2+t``; the array presents its
  output row in ``tau + AR + AC - 1``, when the accumulator reads old row ``a*acc_rows + t``; the row
  ``(accumulate ? old : 0) + new`` is written at the edge closing ``tau + AR + AC``. The last write closes
  ``end - 1``, so the next command (a PRELOAD may overwrite the weights) never disturbs this one.
- ``push_prev`` / ``push_next`` pulse in ``end - 1`` when the command's flags are set; ``last`` pulses in
  ``end - 1`` for every command.

Ports:
    cmd : Signal(128), in                 command (accelsim.commands encoding)
    cmd_valid : Signal(1), in
    cmd_ready : Signal(1), out            not busy; accepted in a cycle with ``cmd_valid``
    push_prev : Signal(1), out            e2l token pulse in ``end - 1``
    push_next : Signal(1), out            e2s token pulse in ``end - 1``
    idle : Signal(1), out                 nothing accepted and nothing in flight (= ``cmd_ready``)
    regs : Signal(LayerRegs), in          layer registers (unused by this unit)
    last : Signal(1), out                 the last busy cycle (``end - 1``) of any command (monitor)
    if_r_addr : Signal(ifmap_addr_bits), out    ifmap spad read address (data the next cycle)
    if_r_data : Signal(AR*8), in                ifmap spad read data, lane i = int8 for grid row i
    wt_r_addr : Signal(weight_addr_bits), out   weight spad read address (data the next cycle)
    wt_r_data : Signal(AC*8), in                weight spad read data, lane j = int8 for grid column j
    acc_rd_addr : Signal(acc_addr_bits), in     store-side accumulator read address
    acc_rd_data : Signal(AC*32), out            the row addressed in the previous cycle, lane j = int32

Latency (busy cycles, tail 0): PRELOAD ``systolic_array_preload_cycles = AR + 2``; COMPUTE
``systolic_array_cycles(T) = T + AR + AC + 2``.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.commands import FIELDS, Op

from .accumulator import Accumulator
from .params import AccelParams, field, unit_members
from .systolic_array import SystolicArray


class ExecuteUnit(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        AR, AC = params.array_rows, params.array_cols
        super().__init__({
            **unit_members(),
            "last": Out(1),
            "if_r_addr": Out(params.ifmap_addr_bits),
            "if_r_data": In(AR * 8),
            "wt_r_addr": Out(params.weight_addr_bits),
            "wt_r_data": In(AC * 8),
            "acc_rd_addr": In(params.acc_addr_bits),
            "acc_rd_data": Out(AC * 32),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        AR, AC = p.array_rows, p.array_cols
        rows_bits = FIELDS["rows"][1]
        array = m.submodules.array = SystolicArray(AR, AC)
        acc = m.submodules.acc = Accumulator(AC, p.acc_rows)
        assert acc.addr_bits == p.acc_addr_bits

        # ---- command sequencing: busy cycles left after the accept cycle (as FakeExecute) ----------------
        left = Signal(((1 << rows_bits) - 1 + AR + AC + 1).bit_length())
        is_compute = Signal()
        buf = Signal()
        push_prev, push_next = Signal(), Signal()
        m.d.comb += [
            self.cmd_ready.eq(left == 0),
            self.idle.eq(left == 0),
            self.last.eq(left == 1),
            self.push_prev.eq(self.last & push_prev),
            self.push_next.eq(self.last & push_next),
        ]
        accept = Signal()
        m.d.comb += accept.eq(self.cmd_valid & self.cmd_ready)

        # PRELOAD state
        k_t = Signal(FIELDS["lanes"][1])
        # COMPUTE state
        acc_base = Signal(p.acc_addr_bits)
        accumulate = Signal()
        rd_t = Signal(rows_bits)  # next ifmap row to read
        rd_left = Signal(rows_bits)  # ifmap rows still to read
        wr_t = Signal(rows_bits)  # next accumulator row the array presents

        with m.If(accept):
            op = field(self.cmd, "op")
            rows = field(self.cmd, "rows")
            is_pre = op == Op.PRELOAD
            m.d.sync += [
                is_compute.eq(~is_pre),
                buf.eq(field(self.cmd, "buf")),
                push_prev.eq(field(self.cmd, "push_prev")),
                push_next.eq(field(self.cmd, "push_next")),
                k_t.eq(field(self.cmd, "lanes")),
                acc_base.eq(Mux(field(self.cmd, "acc_buf"), p.acc_rows, 0)),
                accumulate.eq(field(self.cmd, "accumulate")),
                rd_t.eq(0),
                rd_left.eq(Mux(is_pre, 0, rows)),
                wr_t.eq(0),
                left.eq(Mux(is_pre, AR + 1, rows + (AR + AC + 1))),
            ]
        with m.Elif(left != 0):
            m.d.sync += left.eq(left - 1)

        # ---- PRELOAD: read row left-2 in start+1 .. start+AR, shift it in one cycle later ----------------
        pre_read = Signal()
        pre_row = Signal(max(1, ceil_log2(AR + 2)))
        pre_shift = Signal()
        pre_zero = Signal()
        m.d.comb += [
            pre_read.eq(~is_compute & (left >= 2)),
            pre_row.eq(left - 2),
            self.wt_r_addr.eq(Mux(buf, p.weight_rows, 0) + pre_row),
        ]
        m.d.sync += [pre_shift.eq(pre_read), pre_zero.eq(pre_row >= k_t)]
        m.d.comb += [
            array.w_shift.eq(pre_shift),
            array.w_in.eq(Mux(pre_zero, 0, self.wt_r_data)),
        ]

        # ---- COMPUTE: read ifmap row t in start+1+t, present it in start+2+t -------------------------------
        cmp_read = Signal()
        in_valid = Signal()
        m.d.comb += [
            cmp_read.eq(rd_left != 0),
            self.if_r_addr.eq(Mux(buf, p.ifmap_rows, 0) + rd_t),
        ]
        with m.If(cmp_read & ~accept):
            m.d.sync += [rd_t.eq(rd_t + 1), rd_left.eq(rd_left - 1)]
        m.d.sync += in_valid.eq(cmp_read)
        m.d.comb += [
            array.in_valid.eq(in_valid),
            array.in_data.eq(Mux(in_valid, self.if_r_data, 0)),
        ]

        # ---- the array presents row wr_t: accumulator read-modify-write ------------------------------------
        m.d.comb += [
            acc.rmw_valid.eq(array.out_valid),
            acc.rmw_addr.eq(acc_base + wr_t),
            acc.rmw_accumulate.eq(accumulate),
            acc.rmw_data.eq(array.out_data),
            acc.rd_addr.eq(self.acc_rd_addr),
            self.acc_rd_data.eq(acc.rd_data),
        ]
        with m.If(array.out_valid & ~accept):
            m.d.sync += wr_t.eq(wr_t + 1)
        return m
