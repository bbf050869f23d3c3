"""The scheduler coupled to the ISS: the model of `--host riscv` (docs/host.md, "Coupling to the scheduler").

:class:`SchedulerSink` is a :class:`accelsim.host.iss.CommandSink` that times every command the firmware
presents with the scheduler's own rule (``accelsim.engine.run_commands``, one command at a time): the rule
dispatches a command at ``d_prev + HI`` (raised while its queue is full or a FENCE waits), so setting
``d_prev = t - HI`` before each call makes it dispatch at the presentation cycle ``t``. FENCES and STATUS
are answered from the scheduler's state. It runs in Python per command (tens of microseconds each), for
tests; :func:`run_coupled` is the same coupling compiled into one loop with the ISS, and
:func:`run_layer_coupled` runs the layer driver that way (``simulate --host riscv``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accelsim import engine
from accelsim.arch import ArchConfig
from accelsim.commands import COMMAND_WORDS, FIELDS, OP_FENCE, Command
from accelsim.engine import S_D, S_HI, S_LAST_DONE, S_Q, run_commands, timing_row
from accelsim.host.iss import (
    S_CYCLE,
    S_EVENT_ADDR,
    S_EVENT_CYCLE,
    S_N_CMDS,
    S_N_CONSOLE,
    S_READ_VALID,
    S_READ_VALUE,
    STOP_CMD,
    STOP_CMD_FULL,
    STOP_CONSOLE_FULL,
    STOP_READ,
    Iss,
    step_loop,
)
from accelsim.host.soc_map import FENCES, STATUS, STATUS_IDLE, STATUS_READY
from accelsim.jit import compilable, compiled
from accelsim.schedule import Schedule, state_result
from accelsim.timing import systolic_array_fill_drain_cycles


class SchedulerSink:
    """Accept cycles, FENCE releases and STATUS from accelsim.engine for commands presented at ISS cycles."""

    def __init__(self, arch: ArchConfig, out_bytes: int = 4, *, interpreted: bool = False):
        self.arch, self.out_bytes = arch, out_bytes
        fn = (lambda f: f) if interpreted else compiled
        self._finish = fn(engine.finish)
        self.s = np.zeros(engine.S_LEN, np.int64)
        self.qs, self.qm, self.pend, self.pm = fn(engine.new_state)(
            self.s, arch.host_issue_cycles, arch.queue_depth,
            systolic_array_fill_drain_cycles(arch.dataflow.code, arch.array_rows, arch.array_cols))
        self._run = fn(engine.run_commands)
        self._row = fn(engine.timing_row)
        self.table = np.zeros((1, engine.T_COLUMNS), np.int64)
        self.record = np.zeros((1, 4), np.int64)
        self.fence_releases: list[int] = []
        self.presented: list[tuple[int, int]] = []  # (t, d) per command

    def present(self, words: tuple[int, ...], cycle: int) -> int:
        a = self.arch
        c = Command.unpack(sum(w << (32 * k) for k, w in enumerate(words)))
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
            # the counter register takes the release pulse at the cycle's end: visible from release + 1
            return sum(1 for t in self.fence_releases if t < cycle) & 0xFFFFFFFF
        assert addr == STATUS, addr
        Q = self.arch.queue_depth
        ready = all(self.qm[u, 1] < Q or self.qs[u, self.qm[u, 0]] + 1 <= cycle for u in range(3))
        idle = cycle >= self.s[engine.S_LAST_DONE]
        return (STATUS_READY if ready else 0) | (STATUS_IDLE if idle else 0)

    def finish(self) -> Schedule:
        """The schedule's totals and breakdown (cycles from reset to the FENCE's release), the token
        protocol checked."""
        self._finish(self.s, self.pm)
        return state_result(self.s)


# (lsb, width) of the fields the timing reads, as module constants for the compiled loop
ROWS_LSB, ROWS_W = FIELDS["rows"]
LANES_LSB, LANES_W = FIELDS["lanes"]
POP_PREV_LSB, POP_NEXT_LSB = FIELDS["pop_prev"][0], FIELDS["pop_next"][0]
PUSH_PREV_LSB, PUSH_NEXT_LSB = FIELDS["push_prev"][0], FIELDS["push_next"][0]
OP_W = FIELDS["op"][1]
C_D = COMMAND_WORDS + 1  # command-log column of the accept cycle (step_loop writes the words and t before it)


@compilable
def field_of(cmds, n, lsb, width):
    """Field (lsb, width <= 32) of logged command ``n`` (words in columns 0 .. COMMAND_WORDS - 1)."""
    i = lsb >> 5
    sh = lsb & 31
    v = cmds[n, i] >> sh
    if sh != 0 and sh + width > 32:
        v |= cmds[n, i + 1] << (32 - sh)
    return v & ((1 << width) - 1)


@compilable
def host_loop(mem8, mem32, regs, st, cmds, console, s, qs, qm, pend, pm, table, record, fences, nf,
              df, AR, AC, BW, L, out_bytes):
    """Run the ISS with the scheduler answering: each command is timed by engine.run_commands at its
    presentation cycle and the store waits until its accept cycle; FENCES counts releases at or before the
    load's execute cycle, STATUS reads the queues. Returns (why the ISS stopped, fences recorded)."""
    while True:
        why = step_loop(mem8, mem32, regs, st, cmds, console, 1 << 62)
        if why == STOP_CMD:
            n = st[S_N_CMDS] - 1
            op = cmds[n, 0] & ((1 << OP_W) - 1)
            rows, lanes = field_of(cmds, n, ROWS_LSB, ROWS_W), field_of(cmds, n, LANES_LSB, LANES_W)
            w0 = cmds[n, 0]
            timing_row(table[0], op, rows, lanes, (w0 >> POP_PREV_LSB) & 1, (w0 >> POP_NEXT_LSB) & 1,
                       (w0 >> PUSH_PREV_LSB) & 1, (w0 >> PUSH_NEXT_LSB) & 1, df, AR, AC, BW, L, out_bytes)
            t = st[S_EVENT_CYCLE]
            s[S_D] = t - s[S_HI]
            run_commands(s, qs, qm, pend, pm, table, 1, record, 0)
            d = record[0, 0]
            cmds[n, C_D] = d
            if op == OP_FENCE and nf < fences.shape[0]:
                fences[nf] = record[0, 3]
                nf += 1
            st[S_CYCLE] += d - t
            if st[S_N_CMDS] == cmds.shape[0]:
                return why, nf  # the log is full: the caller saves it
        elif why == STOP_READ:
            c = st[S_EVENT_CYCLE]
            if st[S_EVENT_ADDR] == FENCES:
                v = 0
                for i in range(nf):
                    if fences[i] < c:  # visible from the cycle after the release
                        v += 1
            else:
                ready = True
                for u in range(3):
                    if qm[u, 1] == s[S_Q] and qs[u, qm[u, 0]] + 1 > c:
                        ready = False
                v = (STATUS_READY if ready else 0) | (STATUS_IDLE if c >= s[S_LAST_DONE] else 0)
            st[S_READ_VALUE] = v
            st[S_READ_VALID] = 1
        else:  # exit, cycle limit, or a full console / command log for the caller to empty
            return why, nf


@dataclass(frozen=True)
class CoupledRun:
    exit_code: int | None
    cycles: int  # mcycle in the EXIT store's execute cycle, as the RTL SoC reports it (iss.counters)
    instret: int  # retired before the EXIT store
    schedule: Schedule
    commands: np.ndarray  # (n, COMMAND_WORDS + 2): CMD0..CMD5, presentation cycle t, accept cycle d
    fence_releases: tuple[int, ...]


def run_coupled(machine: Iss, arch: ArchConfig, *, max_cycles: int = 1 << 40, out_bytes: int = 4,
                interpreted: bool = False) -> CoupledRun:
    """Run ``machine`` (an Iss with its program loaded) with the scheduler in the loop, compiled."""
    from accelsim.host.iss import S_EXIT_CODE, S_MAX_CYCLES, S_SYNC, STOP_EXIT, counters

    sink = SchedulerSink(arch, out_bytes, interpreted=interpreted)  # its state arrays, initialised
    st = machine.state
    st[S_MAX_CYCLES], st[S_SYNC] = max_cycles, 1
    loop = host_loop if interpreted else compiled(host_loop)
    cmds = np.zeros((4096, C_D + 1), np.int64)
    console = np.zeros(4096, np.uint8)
    fences = np.zeros(64, np.int64)
    nf, log, out = 0, [], bytearray()
    a = arch
    while True:
        why, nf = loop(machine.mem, machine.mem.view(np.uint32), machine.regs, st, cmds, console, sink.s,
                       sink.qs, sink.qm, sink.pend, sink.pm, sink.table, sink.record, fences, nf,
                       a.dataflow.code, a.array_rows, a.array_cols, a.dram_bytes_per_cycle,
                       a.dram_latency_cycles, out_bytes)
        log.append(cmds[:st[S_N_CMDS]].copy())
        st[S_N_CMDS] = 0
        out += console[:st[S_N_CONSOLE]].tobytes()
        st[S_N_CONSOLE] = 0
        if why not in (STOP_CMD, STOP_CMD_FULL, STOP_CONSOLE_FULL):
            break
    return CoupledRun(int(st[S_EXIT_CODE]) if why == STOP_EXIT else None, *counters(st, why == STOP_EXIT),
                      sink.finish(), np.concatenate(log), tuple(fences[:nf].tolist()))


@functools.cache
def conv_elf() -> Path:
    """The layer driver ELF, built once per source version into the user's cache (keyed by the digest of
    firmware/, the generated headers and the compiler's version), so every simulation runs the same bytes.
    Once per process: every layer shape of a network would otherwise hash the sources and run gcc again."""
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


def run_layer_coupled(layer, arch: ArchConfig, *, requantize_shift: int | None = None,
                      elf: str | Path | None = None, max_cycles: int = 1 << 40) -> CoupledRun:
    """One layer with the firmware in the loop: the layer driver ELF (``elf``, else :func:`conv_elf`) with
    the layer's descriptor, on the ISS coupled to the scheduler (compiled); a one-line error unless the
    driver exits 0."""
    from accelsim.errors import require
    from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
    from accelsim.sim import out_bytes_of

    machine = Iss(conv_elf() if elf is None else elf)
    machine.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch, requantize_shift=requantize_shift))
    run = run_coupled(machine, arch, max_cycles=max_cycles, out_bytes=out_bytes_of(requantize_shift))
    require(run.exit_code == 0, f"layer driver on {layer.name or 'the layer'}", "exit 0",
            f"exit {run.exit_code}")
    return run
