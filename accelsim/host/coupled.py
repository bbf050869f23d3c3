"""The host in the loop, in the model: the ISS (accelsim.host.iss) runs the firmware and the command scheduler
(accelsim.engine) answers it, cycle for cycle as the RTL SoC does.

:class:`SchedulerSink` is the ISS's :class:`~accelsim.host.iss.CommandSink`. A command the firmware presents
at cycle ``t`` (its CMD3 store's execute cycle) is dispatched at ``d = max(t, the cycle its queue has a free
slot)``: the engine's rule with the presentation time in place of ``d_prev + HI`` (the engine runs with
``HI = 0`` and its last dispatch set to ``t``; the host presents in order, so ``t`` never precedes the last
dispatch). The ISS's store then waits ``d - t`` cycles, as the core does under back-pressure. A load of
FENCES at cycle ``t`` sees the FENCEs released before ``t`` (the RTL's counter register updates the cycle
after the release pulse); STATUS sees ``idle`` once every dispatched command is done before ``t`` and
``ready`` (the dispatcher would take the command in CMD0 now, as the RTL's ``cmd_ready``).

The breakdown of a layer run this way is the engine's, with ``host_stall`` now meaning real firmware time: EX
idle because the command it needed had not been presented yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim import engine
from accelsim.arch import ArchConfig
from accelsim.commands import Command, Op
from accelsim.host import soc_map as sm
from accelsim.jit import compiled
from accelsim.timing import systolic_array_fill_drain_cycles


class SchedulerSink:
    """The accelerator as the model's scheduler sees it, answering the ISS's MMIO traffic."""

    def __init__(self, arch: ArchConfig, out_bytes: int = 4, *, interpreted: bool = False) -> None:
        self.arch, self.out_bytes = arch, out_bytes
        fn = (lambda f: f) if interpreted else compiled
        self._row, self._run = fn(engine.timing_row), fn(engine.run_commands)
        self.s = np.zeros(engine.S_LEN, np.int64)
        fill_drain = systolic_array_fill_drain_cycles(arch.dataflow.code, arch.array_rows, arch.array_cols)
        self.qs, self.qm, self.pend, self.pm = fn(engine.new_state)(self.s, 0, arch.queue_depth, fill_drain)
        self.table = np.zeros((1, engine.T_COLUMNS), np.int64)
        self.record = np.zeros((1, 4), np.int64)
        self.fence_done: list[int] = []
        self.cycles: list[tuple[int, int, int, int, int]] = []  # per command: presented, d, start, end, done

    def present(self, words: tuple[int, int, int, int], cycle: int) -> int:
        cmd = Command.unpack(sum(w << (32 * i) for i, w in enumerate(words)))
        a = self.arch
        ok = self._row(self.table[0], int(cmd.op), cmd.rows, cmd.lanes, cmd.pop_prev, cmd.pop_next,
                       cmd.push_prev, cmd.push_next, a.dataflow.code, a.array_rows, a.array_cols,
                       a.dram_bytes_per_cycle, a.dram_latency_cycles, self.out_bytes)
        assert ok, f"{cmd.op.name} has a flag its unit cannot honour"
        self.s[engine.S_D] = cycle  # d = max(t, queue free): the rule with t in place of d_prev + HI
        self._run(self.s, self.qs, self.qm, self.pend, self.pm, self.table, 1, self.record, 0)
        d, start, end, done = (int(v) for v in self.record[0])
        if cmd.op == Op.FENCE:
            self.fence_done.append(done)
        self.cycles.append((cycle, d, start, end, done))
        return d

    def read(self, addr: int, cycle: int) -> int:
        if addr == sm.FENCES:
            return sum(done < cycle for done in self.fence_done) & 0xFFFF_FFFF
        if addr == sm.STATUS:
            idle = int(self.s[engine.S_LAST_DONE]) < cycle
            return sm.STATUS_READY | (sm.STATUS_IDLE if idle else 0)
        return 0

    def finish(self):
        """The schedule's totals and breakdown (accelsim.schedule.Schedule), the token protocol checked."""
        from accelsim.schedule import _result

        compiled(engine.finish)(self.s, self.pm)
        return _result(self.s)


@dataclass(frozen=True)
class HostRun:
    """A layer run with the firmware in the loop: the program's end and the accelerator's schedule."""

    exit_cycle: int  # mcycle in the EXIT store's execute cycle, as the RTL SoC reports it
    instret: int  # instructions retired before EXIT
    commands: int
    schedule: object  # accelsim.schedule.Schedule
    first_dispatch: int
    last_done: int


def run_layer(elf, layer, arch: ArchConfig, *, requantize_shift: int | None = None,
              max_cycles: int = 1 << 40, sink: SchedulerSink | None = None) -> HostRun:
    """Run the layer driver ELF (firmware/conv.c) on the ISS coupled to the scheduler (``sink``, or a new
    one for ``arch``)."""
    from accelsim.errors import require
    from accelsim.host.driver import run_layer as iss_run_layer
    from accelsim.sim import out_bytes_of

    sink = SchedulerSink(arch, out_bytes_of(requantize_shift)) if sink is None else sink
    res = iss_run_layer(elf, layer, arch, requantize_shift=requantize_shift, max_cycles=max_cycles, sink=sink)
    require(res.exit_code == 0, f"layer driver on {layer.name or 'the layer'}", "exit 0",
            f"exit {res.exit_code} ({res.stdout.decode(errors='replace').strip()!r})")
    sched = sink.finish()
    return HostRun(exit_cycle=res.cycles - sm.CPI_OTHER + 1, instret=res.instret - 1,
                   commands=len(sink.cycles), schedule=sched, first_dispatch=sink.cycles[0][1],
                   last_done=int(sink.s[engine.S_LAST_DONE]))


__all__ = ["HostRun", "SchedulerSink", "run_layer"]


def conv_elf() -> Path:
    """The layer driver ELF, built once per source version into the user's cache (keyed by the digest of
    firmware/, the generated headers and the compiler's version), so every simulation runs the same bytes."""
    import hashlib
    import os
    import subprocess

    from accelsim.host.build import build_conv, compiler, firmware_dir
    from accelsim.host.header import HEADERS

    gcc = compiler()
    h = hashlib.sha256()
    for path in sorted(firmware_dir().iterdir()):
        if path.suffix in (".c", ".h", ".S", ".ld"):
            h.update(path.name.encode() + path.read_bytes())
    for name, make in sorted(HEADERS.items()):
        h.update(name.encode() + make().encode())
    h.update(subprocess.run([gcc, "--version"], capture_output=True, text=True).stdout.encode())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "accelsim" / "firmware"
    out = cache / f"conv-{h.hexdigest()[:16]}.elf"
    if not out.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        build_conv(tmp)
        tmp.replace(out)
    return out
