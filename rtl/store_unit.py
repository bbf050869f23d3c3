"""StoreUnit: executes STORE commands (accumulator rows -> optional requantize -> DRAM write channel).

A STORE (acc_addr ``a``, ``rows`` = P_t pixels from ``(n0, e0, f0)``, ``lanes`` = M_t channels from ``m0``)
reads accumulator rows ``a + i`` through a synchronous read port and writes row ``i`` (pixel
``p0 + i``) as ``lanes*ob`` bytes: byte ``b`` of a row is channel ``m0 + b//ob``, byte ``b%ob`` of its
little-endian value (``ob`` = 4 for int32 outputs, 1 when ``regs.requantize``; then each lane goes through
:class:`~accelsim.rtl.requantize.Requantize` with ``regs.shift``). Output layout NCHW at ``regs.out_base``:
``addr = out_base + (((n*M + m)*E + e)*F + f)*ob + byte``. A row is moved in ``ceil(lanes*ob/BW)`` beats;
beat ``j`` carries row bytes ``j*BW ..`` in DRAM lanes ``0 ..`` (lanes past the row's end disabled), each
lane with its own byte address. In IS (``regs.dataflow``) the accumulator is the transpose: row ``i`` is
channel ``m0 + i`` (rows ``E*F*ob`` bytes apart) and lane ``l`` pixel ``p0 + l``, whose offsets from lane 0
(``+ob`` per pixel, ``+ob + (M-1)*E*F*ob`` across an image) a chain computes in ``start+1``; same cycles.

Timing (:func:`accelsim.timing.store_unit_cycles`, busy ``1 + 1 + rows*ceil(lanes*ob/BW)``, tail ``L``):

- ``start``: ``cmd_valid & cmd_ready``; the command and the per-command products are latched.
- ``start+1``: accumulator row 0 is addressed (``acc_rd_addr``); the row base address and the channel
  stride multiples are computed.
- ``start+2 .. end-1``: one write beat per cycle (``wr_valid``). ``acc_rd_addr`` holds the current row and
  moves to the next row during the last beat of the current one, so ``acc_rd_data`` (one cycle later) holds
  the current row during all its beats; the read port must therefore return the addressed row every cycle
  (an always-enabled synchronous read port, as ``amaranth.lib.memory`` ``read_port(domain="sync")``).
- ``end-1``: ``push_prev`` pulses (s2e) when the command's push_prev flag is set. ``push_next`` is always 0.
- ``end``: ``cmd_ready`` is high again (the next STORE may be accepted in ``end``).
- ``end+L``: ``idle`` high again, unless a new command was accepted (the DRAM sends no write
  acknowledgement: the unit counts its beats in flight for ``L`` cycles).

Address generation has no per-lane multiplier. Per command: ``E*F``, ``e0*F + f0``, ``n0*M + m0`` in the
accept cycle, ``(n0*M + m0)*E*F`` and ``(M-1)*E*F`` in ``start+1`` (five shared multipliers), and the
channel-stride multiples ``k*cs`` (``cs = E*F*ob``, ``k = 0..BW``) by an adder chain into registers. Per beat
a beat base address advances (by ``q*cs`` or ``(q+1)*cs`` with ``BW = q*ob + r``) and each lane adds its
multiple (chosen by the beat's byte phase when ``BW`` is not a multiple of ``ob``): one adder per lane. Per
row the row base advances by ``ob``, or by ``ob + (M-1)*E*F*ob`` when the pixel wraps to the next image.

``regs`` must stay constant while a STORE is in progress (CONFIGs only precede a layer's commands, after a
FENCE). Commands have ``rows >= 1`` and ``1 <= lanes <= AC``.

Ports:
    cmd : Signal(192), in                STORE command (accelsim.commands.FIELDS)
    cmd_valid : Signal(1), in
    cmd_ready : Signal(1), out           accepted in a cycle with cmd_valid high (cycle ``start``)
    push_prev : Signal(1), out           s2e pulse in ``end-1`` (when the command's push_prev is set)
    push_next : Signal(1), out           always 0 (the store unit has no next neighbour)
    idle : Signal(1), out                nothing accepted and no write in flight
    regs : Signal(LayerRegs), in         layer registers (E, F, M, out_base, requantize, shift)
    acc_rd_addr : Signal(acc_addr_bits), out    accumulator row read address
    acc_rd_data : Signal(AC*32), in      the row addressed in the previous cycle (lane l = int32 bits 32l..)
    wr_valid : Signal(1), out            a write beat
    wr_addr : Signal(BW*32), out         byte address of DRAM lane d in bits 32d..32d+31
    wr_data : Signal(BW*8), out          byte of DRAM lane d in bits 8d..8d+7
    wr_lane_en : Signal(BW), out         lane d written
"""

from __future__ import annotations

from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from accelsim.arch import DF_IS
from accelsim.commands import FIELDS

from .params import AccelParams, dram_write_members, field, unit_members
from .requantize import Requantize


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class StoreUnit(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        BW, AC = params.dram_bytes_per_cycle, params.array_cols
        super().__init__({
            **unit_members(),
            "acc_rd_addr": Out(params.acc_addr_bits),
            "acc_rd_data": In(AC * 32),
            **dram_write_members(BW),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        BW, AC, L = p.dram_bytes_per_cycle, p.array_cols, p.dram_latency_cycles
        regs = self.regs

        # ---- command state ------------------------------------------------------------------------------
        reading = Signal()  # start+1: accumulator row 0 addressed, addresses being set up
        busy = Signal()  # start+2 .. end-1: one write beat per cycle
        push_flag = Signal()
        ob4 = Signal()  # int32 outputs (ob = 4); else requantized int8 (ob = 1)
        shift = Signal(5)
        rows_left = Signal(FIELDS["rows"][1])
        row_bytes = Signal(16)  # lanes * ob
        bytes_left = Signal(16)  # bytes of the current row from this beat on
        beats_max = _ceil_div(4 * AC, BW)
        beat = Signal(range(max(2, beats_max)))  # beat index within the row
        acc_row = Signal(p.acc_addr_bits)
        e_cnt, f_cnt = Signal(16), Signal(16)
        trans = Signal()  # IS: rows are channels (m0 + i), lanes pixels (from n0, e0, f0)

        # ---- per-command address constants --------------------------------------------------------------
        ef = Signal(32)  # E*F
        pix = Signal(32)  # e0*F + f0
        nm = Signal(32)  # n0*M + m0
        cs = Signal(32)  # channel stride E*F*ob
        rb = Signal(32)  # row base: channel m0, byte 0 of the current pixel
        jump = Signal(32)  # row base step across an image boundary: ob + (M-1)*E*F*ob
        beat_base = Signal(32)  # address of byte 0 of the channel holding the beat's first byte
        phase = Signal(2)  # byte (within its channel) of the beat's first byte; 0 when BW % ob == 0
        mult = [Const(0, 32)] + [Signal(32, name=f"cs_x{k}") for k in range(1, BW + 1)]  # k*cs

        accept = Signal()
        m.d.comb += [
            self.cmd_ready.eq(~reading & ~busy),
            accept.eq(self.cmd_valid & self.cmd_ready),
            self.push_next.eq(0),
        ]
        cmd = self.cmd
        ef_now = Signal(32)
        m.d.comb += ef_now.eq(regs.E * regs.F)
        with m.If(accept):
            lanes = field(cmd, "lanes")
            nbytes = Mux(regs.requantize, lanes, lanes << 2)
            m.d.sync += [
                reading.eq(1),
                push_flag.eq(field(cmd, "push_prev")),
                ob4.eq(~regs.requantize),
                trans.eq(regs.dataflow == DF_IS),
                shift.eq(regs.shift),
                rows_left.eq(field(cmd, "rows")),
                row_bytes.eq(nbytes),
                bytes_left.eq(nbytes),
                beat.eq(0),
                phase.eq(0),
                acc_row.eq(field(cmd, "acc_addr")),
                e_cnt.eq(field(cmd, "e0")),
                f_cnt.eq(field(cmd, "f0")),
                ef.eq(ef_now),
                cs.eq(Mux(regs.requantize, ef_now, ef_now << 2)),
                pix.eq(field(cmd, "e0") * regs.F + field(cmd, "f0")),
                nm.eq(field(cmd, "n0") * regs.M + field(cmd, "m0")),
            ]

        # start+1: row base, image jump and the stride multiples (all combinational assigns at the top level:
        # no comb logic inside If/Switch, whose Verilog always-blocks Icarus may never evaluate from reset)
        idx = Signal(32)  # (n0*M + m0)*E*F + e0*F + f0
        base = Signal(32)
        img = Signal(32)  # (M-1)*E*F + 1: pixels from the last of an image to the first of the next
        m.d.comb += [
            idx.eq(nm * ef + pix),
            base.eq(regs.out_base + Mux(ob4, idx << 2, idx)),
            img.eq((regs.M - 1) * ef + 1),
        ]
        chain = [Const(0, 32)]
        for k in range(1, BW + 1):
            nxt = Signal(32, name=f"cs_chain{k}")
            m.d.comb += nxt.eq(chain[-1] + cs if k > 1 else cs)
            chain.append(nxt)
        # IS: lane j is pixel p0 + j, at lane_rel[j] bytes from lane 0 (+ob per pixel, + the image jump when
        # the pixel before it is the last of its image); rows are channels, cs bytes apart
        AC_P = max(AC, beats_max * BW)  # lane index range a beat's bytes can name
        lane_rel = [Signal(32, name=f"lane_rel{j}") for j in range(AC)]
        rel_chain, q = [Const(0, 32)], Signal(32, name="lane_q0")
        m.d.comb += q.eq(pix)
        for j in range(1, AC):
            wrap = q == ef - 1
            rel = Signal(32, name=f"rel_chain{j}")
            nq = Signal(32, name=f"lane_q{j}")
            m.d.comb += [rel.eq(rel_chain[-1] + Mux(wrap, Mux(ob4, img << 2, img), Mux(ob4, 4, 1))),
                         nq.eq(Mux(wrap, 0, q + 1))]
            rel_chain.append(rel)
            q = nq
        with m.If(reading):
            m.d.sync += [lane_rel[j].eq(rel_chain[j]) for j in range(AC)]
            m.d.sync += [
                reading.eq(0),
                busy.eq(1),
                rb.eq(base),
                beat_base.eq(base),
                jump.eq(Mux(ob4, img << 2, img)),
            ]
            m.d.sync += [mult[k].eq(chain[k]) for k in range(1, BW + 1)]

        # ---- beats --------------------------------------------------------------------------------------
        row_last = Signal()
        final = Signal()
        m.d.comb += [
            row_last.eq(busy & (bytes_left <= BW)),
            final.eq(row_last & (rows_left == 1)),
            self.wr_valid.eq(busy),
            self.push_prev.eq(final & push_flag),
            self.acc_rd_addr.eq(acc_row + (row_last & ~final)),
        ]

        # lane addresses: beat_base + (multiple of cs for the lane's channel) + (byte within the channel)
        q4, r4 = divmod(BW, 4)
        phases4 = sorted({(j * BW) % 4 for j in range(4)})
        addrs = []
        for d in range(BW):
            off1 = mult[d]  # ob = 1: lane d is channel +d
            off4 = Signal(32, name=f"off4_{d}")
            cases = {}
            for ph in phases4:
                t = ph + d
                cases[ph] = Cat(Const(t % 4, 2), mult[t // 4][2:])  # cs is a multiple of 4 when ob = 4
            value = cases[phases4[0]]
            for ph in phases4[1:]:
                value = Mux(phase == ph, cases[ph], value)
            m.d.comb += off4.eq(value)
            a = Signal(32, name=f"lane_addr{d}")
            byte = Signal(range(beats_max * BW + BW), name=f"lane_byte{d}")  # IS: byte of the row
            m.d.comb += byte.eq(beat * BW + d)
            rel = Array([*lane_rel, *([Const(0, 32)] * (AC_P - AC))])[Mux(ob4, byte >> 2, byte)]
            m.d.comb += a.eq(Mux(trans, rb + rel + Mux(ob4, byte[:2], 0), beat_base + Mux(ob4, off4, off1)))
            addrs.append(a)
        m.d.comb += self.wr_addr.eq(Cat(*addrs))
        m.d.comb += self.wr_lane_en.eq(Cat(*[busy & (bytes_left > d) for d in range(BW)]))

        # lane data: row bytes j*BW .. of the raw int32 row (ob = 4) or of the requantized row (ob = 1)
        rq = m.submodules.requantize = Requantize(AC)
        m.d.comb += [rq.i.eq(self.acc_rd_data), rq.shift.eq(shift)]
        width = beats_max * BW * 8
        raw = Signal(width)
        m.d.comb += raw.eq(Mux(ob4, self.acc_rd_data, rq.o))
        m.d.comb += self.wr_data.eq(raw.word_select(beat, BW * 8))

        wrap_f, wrap_e = Signal(), Signal()  # the pixel is the last of its image row / of its image
        rb_next = Signal(32)
        carry = Signal()  # ob = 4: the next beat starts q4+1 channels later
        m.d.comb += [
            wrap_f.eq(f_cnt == regs.F - 1),
            wrap_e.eq(e_cnt == regs.E - 1),
            rb_next.eq(rb + Mux(trans, cs, Mux(wrap_f & wrap_e, jump, Mux(ob4, 4, 1)))),
            carry.eq(phase + r4 >= 4),
        ]
        with m.If(busy):
            with m.If(row_last):
                m.d.sync += [
                    rows_left.eq(rows_left - 1),
                    bytes_left.eq(row_bytes),
                    beat.eq(0),
                    phase.eq(0),
                    acc_row.eq(acc_row + 1),
                    rb.eq(rb_next),
                    beat_base.eq(rb_next),
                    f_cnt.eq(Mux(wrap_f, 0, f_cnt + 1)),
                ]
                with m.If(wrap_f):
                    m.d.sync += e_cnt.eq(Mux(wrap_e, 0, e_cnt + 1))
                with m.If(final):
                    m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += [bytes_left.eq(bytes_left - BW), beat.eq(beat + 1)]
                with m.If(ob4):
                    # BW = q4*4 + r4 bytes: the next beat starts q4 (or q4+1, on a carry) channels later
                    m.d.sync += [
                        phase.eq(Mux(carry, phase + r4 - 4, phase + r4)),
                        beat_base.eq(beat_base + Mux(carry, mult[q4 + 1], mult[q4])),
                    ]
                with m.Else():
                    m.d.sync += beat_base.eq(beat_base + mult[BW])

        # ---- writes in flight: acknowledged L cycles after issue (counted here; the DRAM sends no ack) ---
        in_flight = Signal(L)  # a beat issued k+1 cycles ago in bit k
        m.d.sync += in_flight.eq(Cat(busy, in_flight[:-1]))
        m.d.comb += self.idle.eq(~busy & ~reading & (in_flight == 0))
        return m
