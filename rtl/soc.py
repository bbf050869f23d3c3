"""Soc: the RISC-V host SoC (docs/microarchitecture.md, "Host"): HostCore + unified RAM + MMIO + Accelerator.

Implements the memory map of :mod:`accelsim.host.soc_map` (constants imported, never copied):
  * RAM (``ram_bytes``, a power of two, at ``RAM_BASE``): :class:`Ram` (an Amaranth memory: one synchronous
    read port, one byte-masked write port) unless the caller passes a component with the same ports (the
    simulation harness passes one that loads the program image from a file);
  * CMD0..CMD4 are registers; a store to CMD5 presents ``Cat(CMD0, .., CMD4, <the store's value>)`` to the
    Accelerator's ``cmd`` with ``cmd_valid`` in the store's execute cycle and holds the core there while
    ``cmd_ready`` is low (the accept cycle is the dispatch cycle);
  * FENCES counts the Accelerator's ``released`` pulses (one per FENCE); STATUS = {idle, ready}, where ready
    is the dispatcher's ``cmd_ready`` for the command being built (its opcode is in CMD0) and idle its
    ``idle``; CMD0..CMD5, CONSOLE and EXIT read 0; stores to FENCES / STATUS are ignored;
  * CONSOLE and EXIT stores come out as registered one-cycle pulses for the harness (rtl/ has no simulation
    constructs: the harness prints and stops).
The core decodes the map (access faults); the Accelerator's DRAM channels are ports (the DRAM is outside).

Ports (``BW`` = dram_bytes_per_cycle):
    the Accelerator's DRAM read/write channels (rd_*, rsp_*, wr_*), as :class:`~accelsim.rtl.accelerator
    .Accelerator`
    console_valid : Signal(1), out; console_data : Signal(8), out    in the cycle after a CONSOLE store
    exit_valid : Signal(1), out; exit_code : Signal(32), out         in the cycle after an EXIT store
    exit_cycle : Signal(64), out; exit_instret : Signal(64), out     mcycle / minstret in that store's
                                                                     execute cycle (what csrr reads there)
    fault : Signal(1), out; fault_cause : Signal(4), out             in the cycle after a trap taken while
                                                                     mtvec is 0 (no handler)
    rvfi_* : out                                                     the core's trace port
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.host import soc_map as sm

from .accelerator import Accelerator
from .host_core import RVFI, HostCore
from .params import CMD_BITS, AccelParams, dram_read_members, dram_write_members

RAM_PORTS = ("raddr", "rdata", "waddr", "wmask", "wdata")


def ram_members(ram_bytes: int) -> dict:
    a = ceil_log2(ram_bytes) - 2
    return {"raddr": In(a), "rdata": Out(32), "waddr": In(a), "wmask": In(4), "wdata": In(32)}


class Ram(wiring.Component):
    """``ram_bytes`` of RAM as 32-bit words: ``rdata`` in cycle t+1 is the word at ``raddr`` in cycle t (read
    before the write of cycle t); bytes with ``wmask`` set are written at the edge closing the cycle."""

    def __init__(self, ram_bytes: int, init: tuple[int, ...] = ()) -> None:
        self.ram_bytes, self.init = ram_bytes, init
        super().__init__(ram_members(ram_bytes))

    def elaborate(self, platform):
        m = Module()
        mem = m.submodules.mem = Memory(shape=32, depth=self.ram_bytes // 4, init=self.init)
        r, w = mem.read_port(), mem.write_port(granularity=8)
        m.d.comb += [r.addr.eq(self.raddr), self.rdata.eq(r.data), w.addr.eq(self.waddr), w.en.eq(self.wmask),
                     w.data.eq(self.wdata)]
        return m


class Soc(wiring.Component):
    def __init__(self, params: AccelParams, *, ram_bytes: int = sm.RAM_BYTES_DEFAULT, ram=None,
                 accelerator=None) -> None:
        """``ram``/``accelerator`` default to :class:`Ram` and the real Accelerator; the simulation harness
        passes its own RAM (and tests may pass a stand-in accelerator) with the same ports."""
        self.params = params
        self.ram_bytes = ram_bytes
        self.core = HostCore(ram_bytes)  # checks ram_bytes
        self._ram = ram
        self._accelerator = accelerator
        BW = params.dram_bytes_per_cycle
        super().__init__({
            **dram_read_members(BW), **dram_write_members(BW),
            "console_valid": Out(1), "console_data": Out(8),
            "exit_valid": Out(1), "exit_code": Out(32), "exit_cycle": Out(64), "exit_instret": Out(64),
            "fault": Out(1), "fault_cause": Out(4),
            **{f"rvfi_{name}": Out(width) for name, width in RVFI},
        })

    def elaborate(self, platform):
        m = Module()
        core = m.submodules.core = self.core
        ram = m.submodules.ram = self._ram if self._ram is not None else Ram(self.ram_bytes)
        acc = m.submodules.accelerator = (self._accelerator if self._accelerator is not None
                                          else Accelerator(self.params))

        m.d.comb += [
            ram.raddr.eq(core.ram_raddr), core.ram_rdata.eq(ram.rdata), ram.waddr.eq(core.ram_waddr),
            ram.wmask.eq(core.ram_wmask), ram.wdata.eq(core.ram_wdata),
        ]
        m.d.comb += [getattr(self, f"rvfi_{name}").eq(getattr(core, f"rvfi_{name}")) for name, _ in RVFI]
        for name in ("rd_valid", "rd_addr", "rd_lane_en", "rd_tag", "wr_valid", "wr_addr", "wr_data",
                     "wr_lane_en"):
            m.d.comb += getattr(self, name).eq(getattr(acc, name))
        for name in ("rsp_valid", "rsp_data", "rsp_tag"):
            m.d.comb += getattr(acc, name).eq(getattr(self, name))

        # ---- MMIO ----------------------------------------------------------------------------------------
        addr, wdata = core.mmio_addr, core.mmio_wdata
        *held, present = sm.COMMAND_REGISTERS  # the last word's store presents the command
        assert 32 * len(sm.COMMAND_REGISTERS) == CMD_BITS
        cmd = [Signal(32, name=f"cmd{k}") for k in range(len(held))]
        fences = Signal(32)
        store = {reg: Signal(name=f"store_{name}") for reg, name in (
            *((reg, f"cmd{k}") for k, reg in enumerate(sm.COMMAND_REGISTERS)),
            (sm.CONSOLE, "console"), (sm.EXIT, "exit"))}
        for reg, sig in store.items():
            m.d.comb += sig.eq(core.mmio_we & (addr == reg))
        for k, reg in enumerate(held):
            with m.If(store[reg]):
                m.d.sync += cmd[k].eq(wdata)
        last = Signal(32)  # the last word, presented between its stores (keeps cmd stable)
        with m.If(store[present]):
            m.d.sync += last.eq(wdata)
        m.d.comb += [
            acc.cmd.eq(Cat(*cmd, Mux(store[present], wdata, last))),
            acc.cmd_valid.eq(store[present]),
            core.mmio_ready.eq(~store[present] | acc.cmd_ready),
        ]
        with m.If(acc.released):
            m.d.sync += fences.eq(fences + 1)
        with m.Switch(addr):
            with m.Case(sm.FENCES):
                m.d.comb += core.mmio_rdata.eq(fences)
            with m.Case(sm.STATUS):
                m.d.comb += core.mmio_rdata.eq(
                    (acc.cmd_ready * sm.STATUS_READY) | (acc.idle * sm.STATUS_IDLE))

        # ---- harness outputs (registered pulses) -----------------------------------------------------
        m.d.sync += [
            self.console_valid.eq(store[sm.CONSOLE]), self.exit_valid.eq(store[sm.EXIT]),
            self.fault.eq(core.trap_unhandled),
        ]
        with m.If(store[sm.CONSOLE]):
            m.d.sync += self.console_data.eq(wdata[0:8])
        with m.If(store[sm.EXIT]):
            m.d.sync += [self.exit_code.eq(wdata), self.exit_cycle.eq(core.cycle),
                         self.exit_instret.eq(core.instret)]
        with m.If(core.trap_unhandled):
            m.d.sync += self.fault_cause.eq(core.trap_cause)
        return m


__all__ = ["RAM_PORTS", "Ram", "Soc", "ram_members"]
