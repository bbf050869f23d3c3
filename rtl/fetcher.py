"""Fetcher: the command source standing in for the host (docs/microarchitecture.md, "Host").

Reads 192-bit commands from a command memory that the bench fills up front and presents them in order on
a valid/ready port: command ``i + 1`` is presented exactly ``HI`` (``host_issue_cycles``) cycles after
command ``i`` was accepted, i.e. ``presented_{i+1} = d_i + HI``, the first term of
``d_i = max(d_{i-1} + HI, ...)`` in :func:`accelsim.schedule.schedule`. Cycle 0 of a layer is the cycle the
first command is accepted (``first`` pulses then).

The command memory has a synchronous read port (data the cycle after the address): the fetcher drives
``mem_addr`` with the index it will hold in the next cycle, so ``mem_data`` always shows command ``index``.

Ports:
    start : Signal(1), in                 begin fetching (level; the memory must be filled before)
    count : Signal(addr_bits + 1), in     number of commands in the memory (sampled while fetching)
    mem_addr : Signal(addr_bits), out     command memory read address
    mem_data : Signal(192), in            command memory read data (one cycle after ``mem_addr``)
    cmd : Signal(192), out                the presented command
    cmd_valid : Signal(1), out
    cmd_ready : Signal(1), in             accepted in a cycle where ``cmd_valid & cmd_ready``
    first : Signal(1), out                the first command is accepted in this cycle (cycle 0)
    finished : Signal(1), out             every command has been accepted
"""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require

from .params import CMD_BITS


class Fetcher(wiring.Component):
    def __init__(self, *, host_issue_cycles: int, depth: int) -> None:
        require(isinstance(host_issue_cycles, int) and host_issue_cycles >= 1, "host_issue_cycles",
                "a positive integer", host_issue_cycles)
        require(isinstance(depth, int) and depth >= 1, "command memory depth", "a positive integer", depth)
        self.host_issue_cycles = host_issue_cycles
        self.depth = depth
        self.addr_bits = max(1, ceil_log2(depth))
        super().__init__({
            "start": In(1),
            "count": In(self.addr_bits + 1),
            "mem_addr": Out(self.addr_bits),
            "mem_data": In(CMD_BITS),
            "cmd": Out(CMD_BITS),
            "cmd_valid": Out(1),
            "cmd_ready": In(1),
            "first": Out(1),
            "finished": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        HI = self.host_issue_cycles
        index = Signal(self.addr_bits + 1)
        running = Signal()  # start seen
        wait = Signal(range(HI))  # cycles until the next command may be presented
        accept = Signal()

        m.d.comb += [
            self.cmd.eq(self.mem_data),
            self.cmd_valid.eq(running & (wait == 0) & (index < self.count)),
            accept.eq(self.cmd_valid & self.cmd_ready),
            self.first.eq(accept & (index == 0)),
            self.finished.eq(running & (index >= self.count)),
            self.mem_addr.eq(index + accept),
        ]
        with m.If(self.start):
            m.d.sync += running.eq(1)
        with m.If(accept):
            m.d.sync += [index.eq(index + 1), wait.eq(HI - 1)]
        with m.Elif(wait != 0):
            m.d.sync += wait.eq(wait - 1)
        return m


__all__ = ["Fetcher"]
