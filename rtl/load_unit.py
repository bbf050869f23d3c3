"""LoadUnit: executes LOAD commands — the DMA read channel with the implicit im2col address generator.

A LOAD moves ``rows`` rows of ``lanes`` int8 lanes from DRAM into rows ``addr .. addr + rows - 1`` of the
ifmap spad (operand INPUT, ``AR`` lanes) or the weight spad (operand WEIGHT, ``AC`` lanes; addresses wrap
at the power of two above the spad's depth, the model keeps them inside it); docs/microarchitecture.md,
"Commands the units see" (with dot-product PEs a WS input row or an IS weight row has ``AR*V`` lanes; the
row writes are the same, the spads place row ``r`` in bank ``r % V`` themselves):

- INPUT: row ``i`` is pixel ``p0 + i`` (``(n0, e0, f0)``, then ``f+1`` wrapping at ``F`` -> ``e+1``
  wrapping at ``E`` -> ``n+1``), lane ``l`` is reduction index ``(c0, r0, s0) + l`` (``s+1`` wrapping at
  ``S`` -> ``r+1`` wrapping at ``R`` -> ``c+1``; ``c0`` absolute, so groups need nothing else). The lane reads
  ``x_base + ((n*C + c)*H + h)*W + w`` with ``h = e*U + r - pad``, ``w = f*U + s - pad``; outside the input
  (padding) its DRAM lane enable is low, so the DRAM returns 0 and the spad lane is written 0.
- WEIGHT: row ``i`` is ``k = k0 + i``, lane ``l`` is ``m = m0 + l``: address ``w_base + (m0 + l)*K + k0 + i``.
- The layouts are the dataflow's (``regs.dataflow``, accelsim.mapping.step_loads): the above is WS. In OS and
  IS an INPUT row is reduction index ``(c0, r0, s0) + i`` and lane ``l`` pixel ``p0 + l`` (the row base walks
  ``c*H*W + r*W + s``, the lanes ``n*C*H*W + e*U*W + f*U`` with each lane's own window origin); in IS a
  WEIGHT row is channel ``m0 + i`` and lane ``l`` is ``k0 + l`` (row base ``+K``, lanes ``+1``).

Address generation without per-lane multipliers: an address is ``row base + lane offset``. The row base
walks the pixels incrementally (``+U`` per ``f``, ``+U*W - (F-1)*U`` when ``f`` wraps, ``+C*H*W - (E-1)*U*W
- (F-1)*U`` when ``e`` wraps; ``+1`` per weight row) together with the padding window origins
``hb = e*U - pad``, ``wb = f*U - pad``. The lane offsets ``c*H*W + r*W + s`` (weights: ``m*K``) of the
beat's lanes are registers; the next beat's are the current beat's last lane advanced by a chain of
``min(BW, max lanes)`` one-step increments (``+1``, ``+W-(S-1)`` or ``+H*W-(R-1)*W-(S-1)``; weights
``+K``), and every row starts again from the first beat's offsets (saved at accept). A command's start values
take six multipliers, used once per command in the accept cycle (``n0*C*H*W``, ``e0*U*W``, ``e0*U``,
``f0*U``, ``r0*W`` and ``c0*H*W`` or ``m0*K``); seven more form the per-layer products (``H*W``, ``C*H*W``,
``U*W``, ``(F-1)*U``, ``(E-1)*U*W``, ``(R-1)*W``, ``pad*W``), registered from the layer registers, so those
must be stable from the cycle before a LOAD is accepted (the controller guarantees it: a CONFIG dispatched in
``d`` is visible at ``d+1`` and a later LOAD starts at ``d+2`` at the earliest).

Timing (:func:`accelsim.timing.load_unit_cycles`, identical to tests/rtl/fake_units.py ``FakeLoad``):
accepts in ``start`` (``cmd_ready`` high when not busy), issues one read beat per cycle in
``start+1 .. end-1`` with ``end = start + 1 + rows*ceil(lanes/BW)`` (row by row; beat ``j`` of a row carries
lanes ``j*BW .. min(lanes, (j+1)*BW) - 1`` in DRAM lanes ``0..``; beats never straddle rows), and accepts the
next command in ``end``. A beat's 32-bit tag carries (lsb first) the number of lanes it carries, its index in
the row, the spad row and the spad select (:func:`tag_layout`); its response ``L`` cycles later writes the
spad in the response cycle, so the last write is in ``end-1+L``, ``push_next`` (when the command's flag is
set) pulses in ``end-1+L = done-1`` and ``idle`` is high again at ``done = end + L``. ``push_prev`` is 0.

Ports (``BW`` = dram_bytes_per_cycle, ``AR``/``AC`` = array_rows/cols):
    cmd : Signal(192), in; cmd_valid : Signal(1), in; cmd_ready : Signal(1), out
    push_prev : Signal(1), out (always 0); push_next : Signal(1), out; idle : Signal(1), out
    regs : Signal(LayerRegs), in
    rd_valid : Signal(1), out; rd_addr : Signal(BW*32), out; rd_lane_en : Signal(BW), out;
    rd_tag : Signal(TAG_BITS), out
    rsp_valid : Signal(1), in; rsp_data : Signal(BW*8), in; rsp_tag : Signal(TAG_BITS), in
    if_w_en : Signal(1), out; if_w_addr : Signal(ifmap_addr_bits), out; if_w_data : Signal(AR*8), out;
    if_w_mask : Signal(AR), out
    wt_w_en : Signal(1), out; wt_w_addr : Signal(weight_addr_bits), out; wt_w_data : Signal(AC*8), out;
    wt_w_mask : Signal(AC), out
"""

from __future__ import annotations

from amaranth import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import Out
from amaranth.utils import bits_for

from accelsim.arch import DF_IS, DF_WS
from accelsim.commands import FIELDS, Operand
from accelsim.errors import require

from .params import TAG_BITS, AccelParams, dram_read_members, field, unit_members

ADDR_BITS = 32
LANE_COORD_BITS = 8  # r, s < 256 (the R and S fields are 8 bits)
WINDOW_BITS = 28  # signed e*U - pad, f*U - pad (16-bit coordinate x 8-bit stride) plus r/s and a sign


def tag_layout(params: AccelParams) -> dict[str, tuple[int, int]]:
    """The read tag, name -> (lsb, width): lanes carried, beat index in the row, spad row, spad select."""
    BW = params.dram_bytes_per_cycle
    max_lanes = max(params.ifmap_lanes, params.weight_lanes)  # AR*V for a WS/IS streamed row
    widths = {
        "count": bits_for(min(BW, max_lanes)),
        "beat": max(1, bits_for(-(-max_lanes // BW) - 1)),
        "row": max(params.ifmap_addr_bits, params.weight_addr_bits),
        "weight": 1,
    }
    out, lsb = {}, 0
    for name, width in widths.items():
        out[name] = (lsb, width)
        lsb += width
    require(lsb <= TAG_BITS, "LoadUnit tag", f"at most {TAG_BITS} bits", lsb)
    return out


class LoadUnit(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        self.tag = tag_layout(params)
        BW = params.dram_bytes_per_cycle
        super().__init__({
            **unit_members(),
            **dram_read_members(BW),
            "if_w_en": Out(1),
            "if_w_addr": Out(params.ifmap_addr_bits),
            "if_w_data": Out(params.ifmap_lanes * 8),
            "if_w_mask": Out(params.ifmap_lanes),
            "wt_w_en": Out(1),
            "wt_w_addr": Out(params.weight_addr_bits),
            "wt_w_data": Out(params.weight_lanes * 8),
            "wt_w_mask": Out(params.weight_lanes),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        BW, L = p.dram_bytes_per_cycle, p.dram_latency_cycles
        NL = min(BW, max(p.ifmap_lanes, p.weight_lanes))  # DRAM lanes that can ever carry data
        regs = self.regs

        def u32(value, name):
            sig = Signal(ADDR_BITS, name=name)
            m.d.comb += sig.eq(value)
            return sig

        # ---- per-layer constants (registered from the layer registers)
        W, H, C, S, R = (u32(getattr(regs, n), f"reg_{n}") for n in ("W", "H", "C", "S", "R"))
        U, pad, E, F, K = (u32(getattr(regs, n), f"reg_{n}") for n in ("stride", "pad", "E", "F", "K"))
        hw, chw, uw, fu = (Signal(ADDR_BITS, name=n) for n in ("hw", "chw", "uw", "fu"))
        d_e, d_n, d_r, d_c, pad_off = (Signal(ADDR_BITS, name=n)
                                       for n in ("d_e", "d_n", "d_r", "d_c", "pad_off"))
        hw_c, uw_c, fu_c = u32(H * W, "hw_c"), u32(U * W, "uw_c"), u32((F - 1) * U, "fu_c")
        chw_c = u32(C * hw_c, "chw_c")
        m.d.sync += [
            hw.eq(hw_c), chw.eq(chw_c), uw.eq(uw_c), fu.eq(fu_c),
            d_e.eq(uw_c - fu_c),                              # f wraps: e+1, f=0
            d_n.eq(chw_c - (E - 1) * uw_c - fu_c),            # e wraps too: n+1, e=0, f=0
            d_r.eq(W - (S - 1)),                              # s wraps: r+1, s=0
            d_c.eq(hw_c - (R - 1) * W - (S - 1)),             # r wraps too: c+1, r=0, s=0
            pad_off.eq(pad * W + pad),
        ]

        # ---- command fields
        cmd = self.cmd
        accept = Signal()
        busy = Signal()
        m.d.comb += [self.cmd_ready.eq(~busy), accept.eq(self.cmd_valid & ~busy), self.push_prev.eq(0)]
        c_weight = field(cmd, "operand") == Operand.WEIGHT
        # transposed layouts (docs: "Lowering", step_loads): inputs are rows = k, lanes = pixels unless WS
        # streams them; weights rows = m, lanes = k in IS only
        c_trans = Signal()
        m.d.comb += c_trans.eq(Mux(c_weight, regs.dataflow == DF_IS, regs.dataflow != DF_WS))

        # ---- state
        weight = Signal()  # the command in progress loads weights
        trans = Signal()  # ... in its transposed layout
        push_flag = Signal()
        rows_left = Signal(FIELDS["rows"][1])
        lanes_left = Signal(FIELDS["lanes"][1])  # lanes of the row not yet issued (this beat included)
        row_lanes = Signal(FIELDS["lanes"][1])
        beat = Signal(self.tag["beat"][1])
        spad_row = Signal(self.tag["row"][1])
        row_base = Signal(ADDR_BITS)
        e, f = Signal(16), Signal(16)  # the row's pixel (inputs, WS)
        hb, wb = Signal(signed(WINDOW_BITS)), Signal(signed(WINDOW_BITS))
        row_r, row_s = Signal(LANE_COORD_BITS), Signal(LANE_COORD_BITS)  # the row's (r, s) (inputs, OS/IS)
        # a lane: its offset from the row base and its coordinates: (r, s) of a reduction lane (inputs, WS),
        # (e, f) and the window origins (e*U - pad, f*U - pad) of a pixel lane (inputs, OS/IS)
        shapes = (ADDR_BITS, 16, 16, signed(WINDOW_BITS), signed(WINDOW_BITS))
        names = ("off", "x", "y", "hb", "wb")

        def lane_state(prefix, b):
            return tuple(Signal(sh, name=f"{prefix}_{n}_{b}") for sh, n in zip(shapes, names, strict=True))

        cur = [lane_state("cur", b) for b in range(NL)]
        first = [lane_state("first", b) for b in range(NL)]

        # ---- lane chain: NL consecutive lanes from a first one
        chain_weight, chain_trans = Signal(), Signal()
        m.d.comb += [chain_weight.eq(Mux(accept, c_weight, weight)),
                     chain_trans.eq(Mux(accept, c_trans, trans))]

        def advance(lane, name):
            """One lane further: weights m+1 (offset + K; IS: k+1, offset + 1); inputs WS (c, r, s) + 1 with
            the offset c*H*W + r*W + s; inputs OS/IS the next pixel (n, e, f) with the offset
            n*C*H*W + e*U*W + f*U."""
            off, x, y, lhb, lwb = lane
            nxt = lane_state(name, "n")
            s_wrap, r_wrap = y == S - 1, x == R - 1
            f_wrap, e_wrap = y == F - 1, x == E - 1
            red_step = Mux(~s_wrap, 1, Mux(~r_wrap, d_r, d_c))
            pix_step = Mux(~f_wrap, U, Mux(~e_wrap, d_e, d_n))
            w_, t_ = chain_weight, chain_trans  # no comb logic inside If: one Mux per value
            m.d.comb += [
                nxt[0].eq(off + Mux(w_, Mux(t_, 1, K), Mux(t_, pix_step, red_step))),
                nxt[1].eq(Mux(w_, x, Mux(t_, Mux(f_wrap, Mux(e_wrap, 0, x + 1), x),
                                         Mux(s_wrap, Mux(r_wrap, 0, x + 1), x)))),
                nxt[2].eq(Mux(w_, y, Mux(Mux(t_, f_wrap, s_wrap), 0, y + 1))),
                nxt[3].eq(Mux(~w_ & t_ & f_wrap, Mux(e_wrap, -pad, lhb + U), lhb)),
                nxt[4].eq(Mux(~w_ & t_, Mux(f_wrap, -pad, lwb + U), lwb)),
            ]
            return nxt

        c_c0, c_r0, c_s0 = u32(field(cmd, "c0"), "c_c0"), u32(field(cmd, "r0"), "c_r0"), field(cmd, "s0")
        c_k0 = u32(field(cmd, "k0"), "c_k0")
        c_n0, c_e0, c_f0 = (u32(field(cmd, n), f"c_{n}") for n in ("n0", "e0", "f0"))
        c_eu, c_fu = u32(c_e0 * U, "c_eu"), u32(c_f0 * U, "c_fu")  # e0*U, f0*U
        # m0*K (weights) or c0*H*W (inputs): m0 and c0 share their command bits
        assert FIELDS["m0"] == FIELDS["c0"]
        lane0_scaled = u32(c_c0 * Mux(c_weight, K, hw), "lane0_scaled")
        red_off = u32(lane0_scaled + c_r0 * W + c_s0, "red_off")  # c0*H*W + r0*W + s0
        pix_off = u32(c_n0 * chw + c_e0 * uw + c_fu, "pix_off")  # n0*C*H*W + e0*U*W + f0*U
        c_hb, c_wb = Signal(signed(WINDOW_BITS)), Signal(signed(WINDOW_BITS))
        m.d.comb += [c_hb.eq(c_eu - pad), c_wb.eq(c_fu - pad)]
        chain = [lane_state("chain", 0)]
        with m.If(accept):
            with m.If(c_weight):
                m.d.comb += chain[0][0].eq(Mux(c_trans, 0, lane0_scaled))
            with m.Elif(c_trans):
                m.d.comb += [chain[0][0].eq(pix_off), chain[0][1].eq(field(cmd, "e0")),
                             chain[0][2].eq(field(cmd, "f0")), chain[0][3].eq(c_hb), chain[0][4].eq(c_wb)]
            with m.Else():
                m.d.comb += [chain[0][0].eq(red_off), chain[0][1].eq(field(cmd, "r0")),
                             chain[0][2].eq(field(cmd, "s0"))]
        with m.Else():
            m.d.comb += [x.eq(y) for x, y in zip(chain[0], advance(cur[-1], "adv"), strict=True)]
        for b in range(1, NL):
            chain.append(advance(chain[b - 1], f"chain_{b}"))

        def set_lanes(dst, src):
            return [x.eq(y) for d, s_ in zip(dst, src, strict=True) for x, y in zip(d, s_, strict=True)]

        # ---- accept: latch the command and the first beat
        with m.If(accept):
            m.d.sync += [
                busy.eq(1),
                weight.eq(c_weight),
                trans.eq(c_trans),
                push_flag.eq(field(cmd, "push_next")),
                rows_left.eq(field(cmd, "rows")),
                lanes_left.eq(field(cmd, "lanes")),
                row_lanes.eq(field(cmd, "lanes")),
                beat.eq(0),
                spad_row.eq(field(cmd, "addr")),
                e.eq(c_e0), f.eq(c_f0),
                hb.eq(c_hb), wb.eq(c_wb),
                row_r.eq(field(cmd, "r0")), row_s.eq(field(cmd, "s0")),
            ]
            m.d.sync += set_lanes(cur + first, chain + chain)
            with m.If(c_weight):
                m.d.sync += row_base.eq(self.regs.w_base + c_k0 + Mux(c_trans, lane0_scaled, 0))
            with m.Elif(c_trans):
                m.d.sync += row_base.eq(self.regs.x_base + red_off - pad_off)
            with m.Else():
                m.d.sync += row_base.eq(self.regs.x_base + pix_off - pad_off)

        # ---- issue: one beat per busy cycle
        last_beat_of_row = Signal()
        last = Signal()  # the command's last beat (cycle end-1)
        m.d.comb += [last_beat_of_row.eq(lanes_left <= BW),
                     last.eq(busy & last_beat_of_row & (rows_left == 1))]
        count = Signal(self.tag["count"][1])
        m.d.comb += count.eq(Mux(lanes_left >= BW, BW, lanes_left))
        addrs, enables = [], []
        for b in range(BW):
            if b >= NL:
                addrs.append(Const(0, ADDR_BITS))
                enables.append(Const(0, 1))
                continue
            h = Signal(signed(WINDOW_BITS + 1), name=f"h_{b}")
            w = Signal(signed(WINDOW_BITS + 1), name=f"w_{b}")
            inside = Signal(name=f"inside_{b}")
            a = Signal(ADDR_BITS, name=f"addr_{b}")
            off, x, y, lhb, lwb = cur[b]
            m.d.comb += [
                h.eq(Mux(trans, lhb + row_r, hb + x)), w.eq(Mux(trans, lwb + row_s, wb + y)),
                inside.eq((h >= 0) & (h < regs.H) & (w >= 0) & (w < regs.W)),
                a.eq(row_base + off),
            ]
            addrs.append(a)
            enables.append((lanes_left > b) & (weight | inside))
        m.d.comb += [
            self.rd_valid.eq(busy),
            self.rd_addr.eq(Cat(*addrs)),
            self.rd_lane_en.eq(Mux(busy, Cat(*enables), 0)),
            self.rd_tag.eq(Cat(count, beat, spad_row, weight)),
        ]
        rs_wrap, rr_wrap = row_s == S - 1, row_r == R - 1
        with m.If(busy):
            with m.If(last_beat_of_row):
                m.d.sync += [
                    rows_left.eq(rows_left - 1), lanes_left.eq(row_lanes), beat.eq(0),
                    spad_row.eq(spad_row + 1),
                ]
                m.d.sync += set_lanes(cur, first)
                with m.If(weight):
                    m.d.sync += row_base.eq(row_base + Mux(trans, K, 1))
                with m.Elif(trans):  # the next reduction index (c, r, s) + 1
                    m.d.sync += [
                        row_base.eq(row_base + Mux(~rs_wrap, 1, Mux(~rr_wrap, d_r, d_c))),
                        row_s.eq(Mux(rs_wrap, 0, row_s + 1)),
                        row_r.eq(Mux(rs_wrap, Mux(rr_wrap, 0, row_r + 1), row_r)),
                    ]
                with m.Elif(f == F - 1):
                    m.d.sync += [f.eq(0), wb.eq(-pad)]
                    with m.If(e == E - 1):
                        m.d.sync += [e.eq(0), hb.eq(-pad), row_base.eq(row_base + d_n)]
                    with m.Else():
                        m.d.sync += [e.eq(e + 1), hb.eq(hb + U), row_base.eq(row_base + d_e)]
                with m.Else():
                    m.d.sync += [f.eq(f + 1), wb.eq(wb + U), row_base.eq(row_base + U)]
            with m.Else():
                m.d.sync += [lanes_left.eq(lanes_left - BW), beat.eq(beat + 1)]
                m.d.sync += set_lanes(cur, chain)
        with m.If(last):
            m.d.sync += busy.eq(0)

        # ---- in flight: beats issued in the last L cycles; the push lands with the last beat
        in_flight = Signal(L)  # bit k: a beat was issued k+1 cycles ago
        landing_push = Signal(L)
        m.d.sync += [
            in_flight.eq(Cat(busy, in_flight[:-1])),
            landing_push.eq(Cat(last & push_flag, landing_push[:-1])),
        ]
        m.d.comb += [self.push_next.eq(landing_push[L - 1]), self.idle.eq(~busy & (in_flight == 0))]

        # ---- response: write the spad row named by the tag, lanes of the beat only
        def tag(name):
            lsb, width = self.tag[name]
            return self.rsp_tag[lsb:lsb + width]

        for lanes, en, addr, data, mask, is_weight in (
            (p.ifmap_lanes, self.if_w_en, self.if_w_addr, self.if_w_data, self.if_w_mask, 0),
            (p.weight_lanes, self.wt_w_en, self.wt_w_addr, self.wt_w_data, self.wt_w_mask, 1),
        ):
            m.d.comb += [
                en.eq(self.rsp_valid & (tag("weight") == is_weight)),
                addr.eq(tag("row")),
                data.eq(Cat(*(self.rsp_data[8 * (lane % BW):8 * (lane % BW) + 8] for lane in range(lanes)))),
                mask.eq(Cat(*((tag("beat") == lane // BW) & (tag("count") > lane % BW)
                              for lane in range(lanes)))),
            ]
        return m


__all__ = ["LoadUnit", "tag_layout"]
