"""ExecuteUnit: runs PRELOAD and COMPUTE (WS, OS, IS) on a :class:`SystolicArray` and an :class:`Accumulator`
(docs/microarchitecture.md, "Timing"; model: :func:`accelsim.timing.systolic_array_preload_cycles` and
:func:`accelsim.timing.systolic_array_cycles`). A drop-in replacement for tests/rtl/fake_units.FakeExecute:
identical cycle behaviour on the unit interface, plus the data path.

One command at a time. The accept (``cmd_valid & cmd_ready``) cycle is ``start``; ``cmd_ready`` and
``idle`` are high exactly when no command is busy, so the next command can be accepted in the cycle the
previous one ``end``s.

- PRELOAD (addr b, lanes K_t), busy ``1 + AR + 1``: cycle ``start+1+q`` (q = 0..AR-1) reads weight-spad row
  ``b + AR-1-q`` (bottom row first); in ``start+2+q`` that row (zeros when ``AR-1-q >= K_t``) is
  shifted into grid row 0 (every grid row shifts down) at the closing edge, so at ``end = start+AR+2``
  PE (i, j) holds weight-spad row ``b + i``, lane j (0 for i >= K_t).
- COMPUTE (addr b, acc_addr a, accumulate, rows T), busy ``1 + T + AR + AC + 1``: cycle ``start+1+t`` reads
  ifmap-spad row ``b + t``; it enters the array in ``tau = start+2+t``; the array presents its
  output row in ``tau + AR + AC - 1``, when the accumulator reads old row ``a + t``; the row
  ``(accumulate ? old : 0) + new`` is written at the edge closing ``tau + AR + AC``. The last write closes
  ``end - 1``, so the next command (a PRELOAD may overwrite the weights) never disturbs this one.
- The dataflow is the MODE register's (``regs.dataflow``, run time, static during a layer). IS is WS with the
  spads' roles swapped: PRELOAD reads the ifmap spad (rows k, AC pixel lanes), COMPUTE streams the weight spad
  (rows m, AR k-lanes); same cycles. OS (no PRELOAD): COMPUTE (rows = K_t, ifmap rows from ``addr``, weight
  rows from ``addr2``), busy ``1 + T + AR + AC + 1 + AR``, clears the grid's sums in ``start``, reads ifmap
  row ``addr + t`` (AR pixel lanes) and weight row ``addr2 + t`` (AC channel lanes) in ``start+1+t`` and
  presents both in ``tau = start+2+t`` (weights skewed by column), so PE (i, j) adds
  ``x[t][i] * w[t][j]`` in ``tau + i + j``; the sums are final at ``start + T + AR + AC`` (the WS row
  presentation cycle of the last row), then grid row ``AR-1-q`` is presented in
  ``start + T + AR + AC + 1 + q`` (q = 0..AR-1, the grid shifting down) and read-modified-written into
  accumulator row ``a + AR-1-q`` at the next edge: the last write closes ``end - 1`` again.
- Dot-product PEs (V = ``pe_dot_width`` > 1; docs/microarchitecture.md, "Dot-product PEs"; same cycles):
  both spads return a word of V consecutive rows per read (:class:`Scratchpad` with ``read_rows = V``; the
  read addresses ``addr``, ``addr2`` of PRELOAD and COMPUTE are multiples of V). A PRELOAD reads in
  ``start+1+q`` the V k-rows ``b + (AR-1-q)*V ..  + V-1`` (one word) and shifts them in as grid row 0's V
  weights per column (k-rows ``>= K_t`` as zeros); a WS/IS COMPUTE reads streamed row ``b + t`` (``AR*V``
  k-lanes) as row ``(b + t) % V`` of its word; an OS COMPUTE (``rows`` = ``ceil(K_t / V)``, ``k_rows``
  = K_t) reads k-rows ``t*V .. t*V + V-1`` of both streams in ``start+1+t``; its weights at k-rows ``>= K_t``
  enter as zeros, so stale spad rows in the last word add nothing.
- ``push_prev`` / ``push_next`` pulse in ``end - 1`` when the command's flags are set; ``last`` pulses in
  ``end - 1`` for every command.

Ports:
    cmd : Signal(192), in                 command (accelsim.commands encoding)
    cmd_valid : Signal(1), in
    cmd_ready : Signal(1), out            not busy; accepted in a cycle with ``cmd_valid``
    push_prev : Signal(1), out            e2l token pulse in ``end - 1``
    push_next : Signal(1), out            e2s token pulse in ``end - 1``
    idle : Signal(1), out                 nothing accepted and nothing in flight (= ``cmd_ready``)
    regs : Signal(LayerRegs), in          layer registers (the dataflow)
    last : Signal(1), out                 the last busy cycle (``end - 1``) of any command (monitor)
    if_r_addr : Signal(ifmap_addr_bits), out    ifmap spad read address (data the next cycle)
    if_r_data : Signal(V*ifmap_lanes*8), in     ifmap spad read data: V rows (lane i: k-lane i; IS: column i)
    wt_r_addr : Signal(weight_addr_bits), out   weight spad read address (data the next cycle)
    wt_r_data : Signal(V*weight_lanes*8), in    weight spad read data: V rows (lane j: grid column j)
    acc_rd_addr : Signal(acc_addr_bits), in     store-side accumulator read address
    acc_rd_data : Signal(AC*32), out            the row addressed in the previous cycle, lane j = int32

Latency (busy cycles, tail 0): PRELOAD ``systolic_array_preload_cycles = AR + 2``; COMPUTE
``systolic_array_cycles(T, df) = T + AR + AC + 2`` (OS: ``+ AR``).
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2, exact_log2

from accelsim.arch import DF_IS, DF_OS
from accelsim.commands import FIELDS, Op

from .accumulator import Accumulator
from .params import AccelParams, field, unit_members
from .systolic_array import SystolicArray


class ExecuteUnit(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        AC = params.array_cols
        super().__init__({
            **unit_members(),
            "last": Out(1),
            "if_r_addr": Out(params.ifmap_addr_bits),
            "if_r_data": In(params.pe_dot_width * params.ifmap_lanes * 8),
            "wt_r_addr": Out(params.weight_addr_bits),
            "wt_r_data": In(params.pe_dot_width * params.weight_lanes * 8),
            "acc_rd_addr": In(params.acc_addr_bits),
            "acc_rd_data": Out(AC * 32),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        AR, AC, V = p.array_rows, p.array_cols, p.pe_dot_width
        rows_bits = FIELDS["rows"][1]
        array = m.submodules.array = SystolicArray(AR, AC, output_stationary=DF_OS in p.dataflows,
                                                   dot_width=V)
        acc = m.submodules.acc = Accumulator(AC, p.acc_rows)
        assert acc.addr_bits == p.acc_addr_bits

        # ---- the dataflow (MODE register, static during a layer) -----------------------------------------
        is_os, is_is = Signal(), Signal()
        m.d.comb += [is_os.eq((self.regs.dataflow == DF_OS) if DF_OS in p.dataflows else 0),
                     is_is.eq((self.regs.dataflow == DF_IS) if DF_IS in p.dataflows else 0),
                     array.os.eq(is_os)]

        # ---- command sequencing: busy cycles left after the accept cycle (as FakeExecute) ----------------
        left = Signal(((1 << rows_bits) - 1 + 2 * AR + AC + 1).bit_length())
        is_compute = Signal()
        base = Signal(32)  # addr: the first row of the streamed (COMPUTE) or stationary (PRELOAD) operand
        base2 = Signal(32)  # addr2: OS COMPUTE's first weight row
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
        rd_t = Signal(rows_bits)  # next streamed row to read
        rd_left = Signal(rows_bits)  # streamed rows still to read
        wr_t = Signal(rows_bits)  # next accumulator row the array presents (WS, IS)

        op = field(self.cmd, "op")
        is_pre = op == Op.PRELOAD
        with m.If(accept):
            rows = field(self.cmd, "rows")
            m.d.sync += [
                is_compute.eq(~is_pre),
                base.eq(field(self.cmd, "addr")),
                base2.eq(field(self.cmd, "addr2")),
                push_prev.eq(field(self.cmd, "push_prev")),
                push_next.eq(field(self.cmd, "push_next")),
                k_t.eq(field(self.cmd, "lanes")),
                acc_base.eq(field(self.cmd, "acc_addr")),
                accumulate.eq(field(self.cmd, "accumulate")),
                rd_t.eq(0),
                rd_left.eq(Mux(is_pre, 0, rows)),
                wr_t.eq(0),
                left.eq(Mux(is_pre, AR + 1, rows + Mux(is_os, 2 * AR + AC + 1, AR + AC + 1))),
            ]
        with m.Elif(left != 0):
            m.d.sync += left.eq(left - 1)
        # OS: the grid's sums start from zero for every COMPUTE
        m.d.comb += array.acc_clear.eq(accept & ~is_pre & is_os)

        # ---- PRELOAD (WS: weight spad, IS: ifmap spad): read row left-2 in start+1 .. start+AR, shift it
        # in one cycle later (V > 1: the word of k-rows (left-2)*V .. (left-2)*V + V-1)
        pre_read = Signal()
        pre_row = Signal(max(1, ceil_log2(AR + 2)))
        pre_shift = Signal()
        m.d.comb += [
            pre_read.eq(~is_compute & (left >= 2)),
            pre_row.eq(left - 2),
        ]
        m.d.sync += pre_shift.eq(pre_read)
        if V == 1:
            pre_zero = Signal()
            m.d.sync += pre_zero.eq(pre_row >= k_t)
        else:  # element v of the word is k-row pre_row*V + v
            pre_zero = Signal(V)
            m.d.sync += pre_zero.eq(Cat(pre_row * V + v >= k_t for v in range(V)))

        # ---- COMPUTE: read streamed row t in start+1+t, present it in start+2+t ---------------------------
        cmp_read = Signal()
        in_valid = Signal()
        m.d.comb += cmp_read.eq(rd_left != 0)
        with m.If(cmp_read & ~accept):
            m.d.sync += [rd_t.eq(rd_t + 1), rd_left.eq(rd_left - 1)]
        m.d.sync += in_valid.eq(cmp_read)

        # ---- which spad feeds what: WS streams the ifmap spad through weights preloaded from the weight
        # spad, IS the other way round; OS streams both (docs: "Lowering")
        if_base = base  # WS streams it, IS preloads from it, OS streams it from addr
        wt_base = Mux(is_os, base2, base)  # WS preloads from it, IS streams it, OS streams it from addr2
        if V == 1:
            m.d.comb += [
                self.if_r_addr.eq(if_base + Mux(is_is, pre_row, rd_t)),
                self.wt_r_addr.eq(wt_base + Mux(is_is | is_os, rd_t, pre_row)),
            ]
            streamed = Mux(is_is, self.wt_r_data[:AR * 8], self.if_r_data[:AR * 8])
            stationary = Mux(is_is, self.if_r_data[:AC * 8], self.wt_r_data[:AC * 8])
            m.d.comb += [
                array.in_data.eq(Mux(in_valid, streamed, 0)),
                array.w_in.eq(Mux(is_os, Mux(in_valid, self.wt_r_data[:AC * 8], 0),
                                  Mux(pre_zero, 0, stationary))),
            ]
        else:
            # the spads return V-row words (buffers start on a word): WS/IS stream row t = row t % V of its
            # word; PRELOAD and OS take the word's V rows as the V elements of each PE row / column
            rd_k = rd_t * V
            m.d.comb += [
                self.if_r_addr.eq(if_base + Mux(is_is, pre_row * V, Mux(is_os, rd_k, rd_t))),
                self.wt_r_addr.eq(wt_base + Mux(is_is, rd_t, Mux(is_os, rd_k, pre_row * V))),
            ]
            sub = Signal(exact_log2(V))  # the streamed row's place in its word
            m.d.sync += sub.eq(Mux(is_is, self.wt_r_addr, self.if_r_addr)[:exact_log2(V)])
            ifl, wtl = p.ifmap_lanes, p.weight_lanes

            def row(word, lanes):
                """Row ``sub`` of a V-row word, its first AR*V lanes (a streamed WS/IS row)."""
                return word.word_select(sub, lanes * 8)[:AR * V * 8]

            def elements(word, lanes, n, zero):
                """Lanes ``n``, V elements each (element v = row v of the word; 0 where ``zero[v]``)."""
                return Cat(Mux(zero[v], 0, word[(v * lanes + x) * 8:(v * lanes + x + 1) * 8])
                           for x in range(n) for v in range(V))

            none = Signal(V)  # no element zeroed
            streamed = Mux(is_is, row(self.wt_r_data, wtl), row(self.if_r_data, ifl))
            stationary = Mux(is_is, elements(self.if_r_data, ifl, AC, pre_zero),
                             elements(self.wt_r_data, wtl, AC, pre_zero))
            os_zero = Signal(V)  # OS: the weight elements of k-rows >= K_t (the COMPUTE's k_rows)
            if DF_OS in p.dataflows:
                k_os = Signal(FIELDS["k_rows"][1])
                with m.If(accept):
                    m.d.sync += k_os.eq(field(self.cmd, "k_rows"))
                m.d.sync += os_zero.eq(Cat(rd_k + v >= k_os for v in range(V)))
            m.d.comb += [
                array.in_data.eq(Mux(in_valid, Mux(is_os, elements(self.if_r_data, ifl, AR, none), streamed),
                                     0)),
                array.w_in.eq(Mux(is_os, Mux(in_valid, elements(self.wt_r_data, wtl, AC, os_zero), 0),
                                  stationary)),
            ]
        m.d.comb += [array.in_valid.eq(in_valid), array.w_shift.eq(pre_shift)]

        # ---- OS: the AR output rows shift out of the bottom in the AR cycles before end - 1 (left = AR+1
        # .. 2), grid row AR-1 first, into accumulator rows left-2
        os_out = Signal()
        m.d.comb += [
            os_out.eq(is_os & is_compute & (left >= 2) & (left <= AR + 1)),
            array.acc_shift.eq(os_out),
        ]

        # ---- the array presents a row: accumulator read-modify-write ---------------------------------------
        m.d.comb += [
            acc.rmw_valid.eq(Mux(is_os, os_out, array.out_valid)),
            acc.rmw_addr.eq(acc_base + Mux(is_os, left - 2, wr_t)),
            acc.rmw_accumulate.eq(accumulate),
            acc.rmw_data.eq(array.out_data),
            acc.rd_addr.eq(self.acc_rd_addr),
            self.acc_rd_data.eq(acc.rd_data),
        ]
        with m.If(array.out_valid & ~accept):
            m.d.sync += wr_t.eq(wr_t + 1)
        return m
