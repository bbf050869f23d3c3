"""A prototype of the scheduler coupled to the ISS (docs/host.md, "Coupling to the scheduler").

:class:`SchedulerSink` is a :class:`accelsim.host.iss.CommandSink` that times every command the firmware
presents with the scheduler's own rule (``accelsim.engine.run_commands``, one command at a time), without
changing engine.py: the rule dispatches a command at ``d_prev + HI`` (raised while its queue is full), so
setting ``d_prev = t - HI`` before each call makes it dispatch at the presentation cycle ``t``. FENCES and
STATUS are answered from the scheduler's state. It runs in Python per command (tens of microseconds each):
a measurement tool for the proposal, not the model's fast path, which the docs describe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim import engine
from accelsim.arch import ArchConfig
from accelsim.commands import OP_FENCE, Command
from accelsim.host.soc_map import FENCES, STATUS, STATUS_IDLE, STATUS_READY
from accelsim.jit import compiled
from accelsim.timing import systolic_array_fill_drain_cycles


class SchedulerSink:
    """Accept cycles, FENCE releases and STATUS from accelsim.engine for commands presented at ISS cycles."""

    def __init__(self, arch: ArchConfig, out_bytes: int = 4, *, interpreted: bool = False):
        self.arch, self.out_bytes = arch, out_bytes
        fn = (lambda f: f) if interpreted else compiled
        self._finish = fn(engine.finish)
        Q = arch.queue_depth
        self.s = np.zeros(engine.S_LEN, np.int64)
        self.qs, self.qm = np.zeros((3, Q), np.int64), np.zeros((3, 2), np.int64)
        self.pend, self.pm = np.zeros((4, engine.CAP), np.int64), np.zeros((4, 2), np.int64)
        fn(engine.init_state)(self.s, self.qm, self.pm, arch.host_issue_cycles, Q,
                                    systolic_array_fill_drain_cycles(arch.dataflow.code, arch.array_rows,
                                                                     arch.array_cols))
        self._run = fn(engine.run_commands)
        self._row = fn(engine.timing_row)
        self.table = np.zeros((1, engine.T_COLUMNS), np.int64)
        self.record = np.zeros((1, 4), np.int64)
        self.fence_releases: list[int] = []
        self.presented: list[tuple[int, int]] = []  # (t, d) per command

    def present(self, words: tuple[int, int, int, int], cycle: int) -> int:
        a = self.arch
        c = Command.unpack(words[0] | words[1] << 32 | words[2] << 64 | words[3] << 96)
        ok = self._row(self.table[0], int(c.op), c.rows, c.lanes, c.pop_prev, c.pop_next, c.push_prev,
                       c.push_next, a.dataflow.code, a.array_rows, a.array_cols, a.dram_bytes_per_cycle,
                       a.dram_latency_cycles, self.out_bytes)
        assert ok, f"{c.op.name} has a flag its unit cannot honour"
        self.s[engine.S_D] = cycle - self.s[engine.S_HI]  # the rule's d_prev + HI is now the presentation
        self._run(self.s, self.qs, self.qm, self.pend, self.pm, self.table, 1, self.record, 0)
        d = int(self.record[0, 0])
        if int(c.op) == OP_FENCE:
            self.fence_releases.append(int(self.record[0, 3]))
        self.presented.append((cycle, d))
        return d

    def read(self, addr: int, cycle: int) -> int:
        if addr == FENCES:
            return sum(1 for t in self.fence_releases if t <= cycle) & 0xFFFFFFFF
        assert addr == STATUS, addr
        Q = self.arch.queue_depth
        ready = all(self.qm[u, 1] < Q or self.qs[u, self.qm[u, 0]] + 1 <= cycle for u in range(3))
        idle = cycle >= self.s[engine.S_LAST_DONE]
        return (STATUS_READY if ready else 0) | (STATUS_IDLE if idle else 0)

    def finish(self) -> HostSchedule:
        self._finish(self.s, self.pm)
        s = self.s
        assert s[engine.S_ERROR] == 0, f"token protocol broken ({s[engine.S_ERROR]})"
        return HostSchedule(total_cycles=int(s[engine.S_LAST_DONE]),
                            ex_idle_cycles=tuple(int(v) for v in s[engine.S_IDLE:engine.S_IDLE + 3]),
                            commands=int(s[engine.S_N_COMMANDS]))


@dataclass(frozen=True)
class HostSchedule:
    """The coupled run's totals: cycles from reset to the FENCE's release; EX idle per engine.CAUSE_*."""

    total_cycles: int
    ex_idle_cycles: tuple[int, ...]
    commands: int
