"""Test-local FAKE units and a top that plugs them into the real Controller + Fetcher.

The fakes have the unit command interface of the shared RTL conventions (``cmd``/``cmd_valid``/``cmd_ready``,
``push_prev``/``push_next`` pulses, ``idle``) and keep exactly the busy/tail timing of the contract
(:func:`accelsim.timing.busy_cycles`, tails of ``L``) without moving any data, so the controller's
dispatch/token/FENCE rules are checked independently of the datapath:

- FakeLoad: accepts in ``start``, issues one beat per cycle (``ceil(lanes/BW)`` per row) in
  ``start+1 .. end-1``; a beat lands ``L`` cycles after issue; ``push_next`` pulses when the last beat lands
  (cycle ``end-1+L``); ``idle`` again at ``done = end+L``.
- FakeExecute: PRELOAD ``AR+2`` / COMPUTE ``T+AR+AC+2`` (OS ``T+2AR+AC+2``) busy cycles; pushes pulse in
  ``end-1``.
- FakeStore: ``start+1`` reads the accumulator, beats (``ceil(lanes*ob/BW)`` per row) in ``start+2 .. end-1``;
  ``push_prev`` pulses in ``end-1``; ``idle`` again at ``end+L`` (the last write acknowledged).

Each fake also exposes ``last`` (a pulse in cycle ``end-1``) and the LD/ST fakes ``retire`` (a pulse in cycle
``done-1``) so the bench can measure end and done.
"""

from __future__ import annotations

from accelsim.rtl.controller import Controller, unit_connections
from accelsim.rtl.fetcher import Fetcher
from accelsim.rtl.params import (
    CMD_BITS,
    AccelParams,
    LayerRegs,
    dram_read_members,
    dram_write_members,
    field,
    unit_members,
)
from amaranth import Cat, Module, Signal
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from accelsim.arch import DF_OS
from accelsim.commands import Op


def _unit_ports() -> dict:
    return {**unit_members(), "last": Out(1), "retire": Out(1)}


class _Beats:
    """Row/beat walker shared by the LD and ST fakes: ``rows`` rows of ``row_units`` units, BW per beat."""

    def __init__(self, bw: int, name: str) -> None:
        self.rows_left = Signal(16, name=f"{name}_rows_left")
        self.units_left = Signal(16, name=f"{name}_units_left")
        self.row_units = Signal(16, name=f"{name}_row_units")
        self.bw = bw

    def load(self, m: Module, rows, row_units) -> None:
        m.d.sync += [self.rows_left.eq(rows), self.units_left.eq(row_units), self.row_units.eq(row_units)]

    def step(self, m: Module, last: Signal) -> None:
        """Issue one beat this cycle; ``last`` is driven high on the final beat."""
        with m.If(self.units_left <= self.bw):
            with m.If(self.rows_left == 1):
                m.d.comb += last.eq(1)
            m.d.sync += [self.rows_left.eq(self.rows_left - 1), self.units_left.eq(self.row_units)]
        with m.Else():
            m.d.sync += self.units_left.eq(self.units_left - self.bw)


class FakeLoad(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        super().__init__(_unit_ports())

    def elaborate(self, platform):
        m = Module()
        L, BW = self.params.dram_latency_cycles, self.params.dram_bytes_per_cycle
        busy = Signal()
        push_next = Signal()
        beats = _Beats(BW, "ld")
        in_flight = Signal(L)  # beat issued k+1 cycles ago in bit k
        landing_push = Signal(L)
        m.d.comb += self.cmd_ready.eq(~busy)
        with m.If(self.cmd_valid & self.cmd_ready):
            m.d.sync += [busy.eq(1), push_next.eq(field(self.cmd, "push_next"))]
            beats.load(m, field(self.cmd, "rows"), field(self.cmd, "lanes"))
        beat = Signal()
        m.d.comb += beat.eq(busy)
        with m.If(busy):
            beats.step(m, self.last)
        with m.If(self.last):
            m.d.sync += busy.eq(0)
        m.d.sync += [
            in_flight.eq(Cat(beat, in_flight[:-1])),
            landing_push.eq(Cat(self.last & push_next, landing_push[:-1])),
        ]
        landing_last = Signal(L)
        m.d.sync += landing_last.eq(Cat(self.last, landing_last[:-1]))
        m.d.comb += [
            self.push_next.eq(landing_push[L - 1]),
            self.retire.eq(landing_last[L - 1]),
            self.idle.eq(~busy & (in_flight == 0)),
        ]
        return m


class FakeExecute(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        super().__init__(_unit_ports())

    def elaborate(self, platform):
        m = Module()
        AR, AC = self.params.array_rows, self.params.array_cols
        left = Signal(17)  # busy cycles left after the accept cycle
        push_prev, push_next = Signal(), Signal()
        m.d.comb += [self.cmd_ready.eq(left == 0), self.idle.eq(left == 0), self.last.eq(left == 1)]
        with m.If(self.cmd_valid & self.cmd_ready):
            with m.If(field(self.cmd, "op") == Op.PRELOAD):
                m.d.sync += left.eq(AR + 1)
            with m.Elif(self.regs.dataflow == DF_OS):  # OS shifts its AR output rows out too
                m.d.sync += left.eq(field(self.cmd, "rows") + 2 * AR + AC + 1)
            with m.Else():
                m.d.sync += left.eq(field(self.cmd, "rows") + AR + AC + 1)
            m.d.sync += [push_prev.eq(field(self.cmd, "push_prev")),
                         push_next.eq(field(self.cmd, "push_next"))]
        with m.Elif(left != 0):
            m.d.sync += left.eq(left - 1)
        m.d.comb += [self.push_prev.eq(self.last & push_prev), self.push_next.eq(self.last & push_next)]
        return m


class FakeStore(wiring.Component):
    def __init__(self, params: AccelParams) -> None:
        self.params = params
        super().__init__(_unit_ports())

    def elaborate(self, platform):
        m = Module()
        L, BW = self.params.dram_latency_cycles, self.params.dram_bytes_per_cycle
        reading = Signal()  # start+1: the accumulator read before the first beat
        busy = Signal()
        push_prev = Signal()
        beats = _Beats(BW, "st")
        in_flight = Signal(L)
        landing_last = Signal(L)
        m.d.comb += self.cmd_ready.eq(~busy & ~reading)
        with m.If(self.cmd_valid & self.cmd_ready):
            lanes = field(self.cmd, "lanes")
            row_bytes = Signal(16)
            m.d.comb += row_bytes.eq(lanes)
            with m.If(~self.regs.requantize):
                m.d.comb += row_bytes.eq(lanes << 2)
            m.d.sync += [reading.eq(1), push_prev.eq(field(self.cmd, "push_prev"))]
            beats.load(m, field(self.cmd, "rows"), row_bytes)
        with m.If(reading):
            m.d.sync += [reading.eq(0), busy.eq(1)]
        beat = Signal()
        m.d.comb += beat.eq(busy)
        with m.If(busy):
            beats.step(m, self.last)
        with m.If(self.last):
            m.d.sync += busy.eq(0)
        m.d.sync += [
            in_flight.eq(Cat(beat, in_flight[:-1])),
            landing_last.eq(Cat(self.last, landing_last[:-1])),
        ]
        m.d.comb += [
            self.push_prev.eq(self.last & push_prev),
            self.retire.eq(landing_last[L - 1]),
            self.idle.eq(~busy & ~reading & (in_flight == 0)),
        ]
        return m


class FakeTop(wiring.Component):
    """Command memory (loaded through ``cmd_w_*``) + Fetcher + Controller + the three fakes.

    Monitor outputs: ``dispatch`` (a command accepted), ``<u>_start`` (a unit handshake), ``<u>_last``,
    ``<u>_retire``, ``done``, ``regs``.
    """

    CMD_DEPTH = 1024

    def __init__(self, params: AccelParams) -> None:
        self.params = params
        aw = 10
        members = {
            "cmd_w_en": In(1),
            "cmd_w_addr": In(aw),
            "cmd_w_data": In(CMD_BITS),
            "count": In(aw + 1),
            "start": In(1),
            "dispatch": Out(1),
            "done": Out(1),
            "regs": Out(LayerRegs),
        }
        for u in ("ld", "ex", "st"):
            members |= {f"{u}_start": Out(1), f"{u}_last": Out(1), f"{u}_retire": Out(1)}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        mem = m.submodules.cmd_mem = memory.Memory(shape=CMD_BITS, depth=self.CMD_DEPTH, init=[])
        wp = mem.write_port()
        rp = mem.read_port(transparent_for=(wp,))
        fetch = m.submodules.fetcher = Fetcher(host_issue_cycles=p.host_issue_cycles, depth=self.CMD_DEPTH)
        ctrl = m.submodules.controller = Controller(p)
        units = {"ld": FakeLoad(p), "ex": FakeExecute(p), "st": FakeStore(p)}
        for u, unit in units.items():
            m.submodules[u] = unit
        m.d.comb += [
            wp.en.eq(self.cmd_w_en), wp.addr.eq(self.cmd_w_addr), wp.data.eq(self.cmd_w_data),
            rp.addr.eq(fetch.mem_addr), fetch.mem_data.eq(rp.data),
            fetch.start.eq(self.start), fetch.count.eq(self.count),
            ctrl.cmd.eq(fetch.cmd), ctrl.cmd_valid.eq(fetch.cmd_valid), fetch.cmd_ready.eq(ctrl.cmd_ready),
            self.dispatch.eq(fetch.cmd_valid & ctrl.cmd_ready),
            self.done.eq(ctrl.done),
            self.regs.eq(ctrl.regs),
        ]
        for u, unit in units.items():
            m.d.comb += [
                *unit_connections(ctrl, u, unit),
                getattr(self, f"{u}_start").eq(unit.cmd_valid & unit.cmd_ready),
                getattr(self, f"{u}_last").eq(unit.last),
                getattr(self, f"{u}_retire").eq(unit.retire),
            ]
        return m



class FakeAccelerator(wiring.Component):
    """Controller + the fakes behind the Accelerator's ports (DRAM channels idle): lets the Harness and the
    cosim flow be checked for cycles and plumbing without the datapath."""

    def __init__(self, params: AccelParams) -> None:
        self.params = params
        BW = params.dram_bytes_per_cycle
        super().__init__({"cmd": In(CMD_BITS), "cmd_valid": In(1), "cmd_ready": Out(1), "done": Out(1),
                          **dram_read_members(BW), **dram_write_members(BW)})

    def elaborate(self, platform):
        m = Module()
        ctrl = m.submodules.controller = Controller(self.params)
        m.d.comb += [ctrl.cmd.eq(self.cmd), ctrl.cmd_valid.eq(self.cmd_valid),
                     self.cmd_ready.eq(ctrl.cmd_ready), self.done.eq(ctrl.done)]
        for u, cls in (("ld", FakeLoad), ("ex", FakeExecute), ("st", FakeStore)):
            unit = m.submodules[u] = cls(self.params)
            m.d.comb += unit_connections(ctrl, u, unit)
        return m
