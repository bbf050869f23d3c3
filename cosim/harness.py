"""Harness: Accelerator + Fetcher + command memory + behavioural Dram + cycle counter (simulation only).

The command memory (a :class:`~accelsim.cosim.sim_memory.SimMemory` named ``cmd``, one 192-bit command a
word) and the Dram (named ``dram``) take their contents from the files of the plusargs ``+cmd_init=<file>``
and ``+dram_init=<file>`` at time 0; the Dram is saved to ``+dram_dump=<file>`` when the simulation ends. The
bench sets ``count``, raises ``start`` and waits for ``done``; no data passes through ports from the bench.
Build it with :data:`~accelsim.cosim.sim_memory.SOURCE` as a second Verilog source.

``cycles`` counts from cycle 0 (the cycle the first command is accepted, docs/microarchitecture.md) to the
cycle ``done`` is first visible: it reads ``T`` in cycle ``T`` and freezes once ``done`` is high, so after
the layer it equals :func:`accelsim.schedule.schedule`'s ``total_cycles``.

Ports:
    count : Signal(ceil_log2(cmd_depth) + 1), in    commands in the memory
    start : Signal(1), in                           let the fetcher go (level)
    done : Signal(1), out
    cycles : Signal(32), out
"""

from __future__ import annotations

from accelsim.rtl.fetcher import Fetcher
from accelsim.rtl.params import CMD_BITS, AccelParams
from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from .sim_memory import SimMemory

CYCLE_BITS = 32
COMMAND_MEMORY, DRAM_MEMORY = "cmd", "dram"  # the memories' names: their plusargs' prefixes
DRAM_CHANNELS = (
    "rd_valid", "rd_addr", "rd_lane_en", "rd_tag", "wr_valid", "wr_addr", "wr_data", "wr_lane_en",
)
DRAM_RSP = ("rsp_valid", "rsp_data", "rsp_tag")


class Harness(wiring.Component):
    def __init__(self, params: AccelParams, *, dram_bytes: int, cmd_depth: int, core=None, dram=None) -> None:
        """``core``/``dram`` default to the real Accelerator and Dram; tests may pass stand-ins with the
        same ports."""
        self.params = params
        self.dram_bytes = dram_bytes
        self.cmd_depth = cmd_depth
        self._core = core
        self._dram = dram
        super().__init__({
            "count": In(max(1, ceil_log2(cmd_depth)) + 1),
            "start": In(1),
            "done": Out(1),
            "cycles": Out(CYCLE_BITS),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if self._core is None:
            from accelsim.rtl.accelerator import Accelerator

            core = Accelerator(p)
        else:
            core = self._core
        if self._dram is None:
            from .dram import Dram

            dram = Dram(p, size_bytes=self.dram_bytes, name=DRAM_MEMORY)
        else:
            dram = self._dram
        m.submodules.accelerator = core
        m.submodules.dram = dram

        mem = m.submodules.cmd_mem = SimMemory(width=CMD_BITS, depth=self.cmd_depth, name=COMMAND_MEMORY)
        fetch = m.submodules.fetcher = Fetcher(host_issue_cycles=p.host_issue_cycles, depth=self.cmd_depth)
        m.d.comb += [
            mem.rd_addr.eq(fetch.mem_addr), fetch.mem_data.eq(mem.rd_data),
            fetch.start.eq(self.start), fetch.count.eq(self.count),
            core.cmd.eq(fetch.cmd), core.cmd_valid.eq(fetch.cmd_valid), fetch.cmd_ready.eq(core.cmd_ready),
            self.done.eq(core.done),
        ]
        m.d.comb += [getattr(dram, n).eq(getattr(core, n)) for n in DRAM_CHANNELS]
        m.d.comb += [getattr(core, n).eq(getattr(dram, n)) for n in DRAM_RSP]

        # cycle counter: 0 in the first accept cycle, T in cycle T, frozen while done is visible
        running = Signal()
        with m.If(fetch.first):
            m.d.sync += running.eq(1)
        with m.If((running | fetch.first) & ~core.done):
            m.d.sync += self.cycles.eq(self.cycles + 1)
        return m


__all__ = ["Harness"]
