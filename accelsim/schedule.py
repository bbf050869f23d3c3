"""The command-level scheduler: every command's dispatch, start, end and done cycle (docs: "Timing").

:func:`schedule` runs a command stream command by command and records every command's cycles (the RTL's
co-simulation and the controller bench compare against it); :func:`schedule_fast` gives the same totals
and breakdown for a mapped layer without building every command, by caching the commands of each step and
tile kind (accelsim.mapping) and skipping periods once the scheduler's state repeats. Busy times come from
the block formulas in accelsim.timing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from accelsim import mapping
from accelsim.arch import ArchConfig
from accelsim.commands import UNIT_OF, Command, Op, Unit
from accelsim.mapping import Mapping
from accelsim.timing import busy_cycles, systolic_array_fill_drain_cycles

# The four token counters.
L2E, E2L, E2S, S2E = 0, 1, 2, 3
COUNTER_NAMES = ("l2e", "e2l", "e2s", "s2e")
_POPS = {Unit.LD: (None, E2L), Unit.EX: (L2E, S2E), Unit.ST: (E2S, None)}  # (pop_prev, pop_next)
_PUSHES = {Unit.LD: (None, L2E), Unit.EX: (E2L, E2S), Unit.ST: (S2E, None)}  # (push_prev, push_next)

# EX idle-gap causes (docs: "Cycle breakdown"), indices into Schedule.ex_idle_cycles.
CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST = 0, 1, 2
_KIND_LD, _KIND_PRELOAD, _KIND_COMPUTE, _KIND_ST, _KIND_CONFIG, _KIND_FENCE = range(6)


_KIND_OF = {Op.LOAD: _KIND_LD, Op.PRELOAD: _KIND_PRELOAD, Op.COMPUTE: _KIND_COMPUTE, Op.STORE: _KIND_ST}


def command_tuple(cmd: Command, arch: ArchConfig, out_bytes: int) -> tuple:
    """What the scheduler needs of a command: (kind, unit, busy, tail, pops, pushes at end, pushes at
    done)."""
    if cmd.op == Op.CONFIG:
        return (_KIND_CONFIG, -1, 0, 0, (), (), ())
    if cmd.op == Op.FENCE:
        return (_KIND_FENCE, -1, 0, 0, (), (), ())
    unit = UNIT_OF[cmd.op]
    pop_prev, pop_next = _POPS[unit]
    push_prev, push_next = _PUSHES[unit]
    pops = tuple(c for flag, c in ((cmd.pop_prev, pop_prev), (cmd.pop_next, pop_next)) if flag)
    pushes = tuple(c for flag, c in ((cmd.push_prev, push_prev), (cmd.push_next, push_next)) if flag)
    assert None not in pops and None not in pushes, f"{cmd.op.name} has a flag its unit cannot honour"
    tail = 0 if unit == Unit.EX else arch.dram_latency_cycles
    # LD's l2e push happens when its data has landed (done); every other push at end.
    at_done = tuple(c for c in pushes if c == L2E)
    at_end = tuple(c for c in pushes if c != L2E)
    return (_KIND_OF[cmd.op], int(unit), busy_cycles(cmd, arch, out_bytes), tail, pops, at_end, at_done)


class _Engine:
    """The scheduler's state and its one step rule (docs: "Timing"), shared by :func:`schedule` (every
    command recorded) and :func:`schedule_fast` (rows of identical tiles skipped once periodic)."""

    __slots__ = (
        "HI",
        "Q",
        "fill_drain",
        "free",
        "idle",
        "last_dispatch",
        "last_done",
        "n_commands",
        "n_compute",
        "pending",
        "preload",
        "qstarts",
        "stream",
    )

    def __init__(self, arch: ArchConfig) -> None:
        self.HI, self.Q = arch.host_issue_cycles, arch.queue_depth
        self.fill_drain = systolic_array_fill_drain_cycles(arch.dataflow.code, arch.array_rows,
                                                           arch.array_cols)
        self.last_dispatch = -self.HI
        self.free = [0, 0, 0]
        self.qstarts: list[deque[int]] = [deque(maxlen=self.Q) for _ in range(3)]
        self.pending: list[deque[int]] = [deque() for _ in range(4)]
        self.last_done = 0
        self.stream = self.preload = self.n_compute = self.n_commands = 0
        self.idle = [0, 0, 0]

    def run(self, cmds: list[tuple], record: list[tuple[int, int, int, int]] | None = None) -> None:
        HI, Q = self.HI, self.Q
        free, qstarts, pending, idle = self.free, self.qstarts, self.pending, self.idle
        d_prev, last_done = self.last_dispatch, self.last_done
        self.n_commands += len(cmds)
        for kind, unit, busy, tail, pops, at_end, at_done in cmds:
            d = d_prev + HI
            if unit < 0:
                done = max(d, last_done) if kind == _KIND_FENCE else d
                last_done = max(last_done, done)
                d_prev = d
                if record is not None:
                    record.append((d, d, d, done))
                continue
            qs = qstarts[unit]
            if len(qs) == Q and qs[0] + 1 > d:
                d = qs[0] + 1
            d_prev = d
            ready, cause = d + 1, CAUSE_HOST
            for c in pops:
                t = pending[c].popleft()
                if t >= ready:
                    ready, cause = t, (CAUSE_DRAM_LOAD if c == L2E else CAUSE_DRAM_STORE)
            f = free[unit]
            s = ready if ready > f else f
            e = s + busy
            free[unit] = e
            qs.append(s)
            for c in at_end:
                pending[c].append(e)
            for c in at_done:
                pending[c].append(e + tail)
            if e + tail > last_done:
                last_done = e + tail
            if unit == 1:
                if s > f:
                    idle[cause] += s - f
                if kind == _KIND_PRELOAD:
                    self.preload += busy
                else:
                    self.stream += busy - self.fill_drain
                    self.n_compute += 1
            if record is not None:
                record.append((d, s, e, e + tail))
        self.last_dispatch, self.last_done = d_prev, last_done

    def key(self) -> tuple:
        """The state relative to the last dispatch ``d``: equal keys evolve identically under equal commands.

        Times that can no longer bind are folded to ``None``: every later command starts at >= d + 2, so a
        LD/ST unit free time, a queue-slot time or a pending token time <= d + 1 never wins a max again (and
        never decides an idle cause). The EX free time stays exact: it measures EX idle gaps."""
        d = self.last_dispatch

        def rel(t: int) -> int | None:
            return t - d if t > d + 1 else None

        return (
            self.free[Unit.EX] - d,
            rel(self.free[Unit.LD]),
            rel(self.free[Unit.ST]),
            tuple(tuple(map(rel, q)) for q in self.qstarts),
            tuple(tuple(map(rel, q)) for q in self.pending),
            rel(self.last_done),
        )

    def stats(self) -> tuple[int, ...]:
        return (self.stream, self.preload, self.n_compute, self.n_commands, *self.idle)

    def advance(self, delta: int, stats_delta: tuple[int, ...]) -> None:
        """Shift every time by ``delta`` and add ``stats_delta`` (a whole number of periods skipped)."""
        self.last_dispatch += delta
        self.last_done += delta
        self.free = [f + delta for f in self.free]
        self.qstarts = [deque((t + delta for t in q), maxlen=self.Q) for q in self.qstarts]
        self.pending = [deque(t + delta for t in q) for q in self.pending]
        self.stream += stats_delta[0]
        self.preload += stats_delta[1]
        self.n_compute += stats_delta[2]
        self.n_commands += stats_delta[3]
        self.idle = [i + di for i, di in zip(self.idle, stats_delta[4:], strict=True)]

    def finish(self) -> tuple[int, list[int]]:
        for c, q in enumerate(self.pending):
            assert not q, f"unbalanced {COUNTER_NAMES[c]} tokens"
        total = self.last_done
        idle = list(self.idle)
        idle[CAUSE_DRAM_STORE] += total - self.free[Unit.EX]
        return total, idle


@dataclass(frozen=True, slots=True)
class Schedule:
    """A layer's schedule: totals, and per-command (dispatch, start, end, done) when recorded."""

    total_cycles: int
    ex_stream_cycles: int
    ex_fill_drain_cycles: int
    ex_preload_cycles: int
    ex_idle_cycles: tuple[int, int, int]  # indexed by CAUSE_*
    commands: int  # every command of the stream, CONFIGs and FENCE included
    cycles: tuple[tuple[int, int, int, int], ...] = ()  # per command: dispatch, start, end, done

    def _column(self, i: int) -> tuple[int, ...]:
        return tuple(c[i] for c in self.cycles)

    dispatch = property(lambda self: self._column(0), doc="every command's dispatch cycle")
    start = property(lambda self: self._column(1), doc="every command's start cycle")
    end = property(lambda self: self._column(2), doc="every command's end cycle")
    done = property(lambda self: self._column(3), doc="every command's done cycle")


def _result(eng: _Engine, record: list | None = None) -> Schedule:
    total, idle = eng.finish()
    return Schedule(
        total_cycles=total,
        ex_stream_cycles=eng.stream,
        ex_fill_drain_cycles=eng.n_compute * eng.fill_drain,
        ex_preload_cycles=eng.preload,
        ex_idle_cycles=tuple(idle),
        commands=eng.n_commands,
        cycles=tuple(record or ()),
    )  # type: ignore[arg-type]


def schedule(program: list[Command], arch: ArchConfig, out_bytes: int = 4) -> Schedule:
    """Schedule a command stream command by command, recording every command's cycles (docs: "Timing")."""
    eng = _Engine(arch)
    record: list[tuple[int, int, int, int]] = []
    eng.run([command_tuple(c, arch, out_bytes) for c in program], record)
    return _result(eng, record)


def schedule_fast(
    m: Mapping, arch: ArchConfig, out_bytes: int = 4, *, requantize_shift: int | None = None
) -> Schedule:
    """The same schedule as ``schedule(program(m))`` without building every command.

    The loops (group, outer, inner, k) are walked as runs of equal near (:func:`mapping.near_runs`): items
    of a run have equal kinds, hence equal commands (:func:`mapping.kind_commands`, cached per kind). Within
    a run, once the scheduler's state relative to the last dispatch repeats (max-plus systems become
    periodic), whole periods are skipped exactly: every time shifts by the period's delay and every
    statistic by the period's increment."""
    eng = _Engine(arch)
    eng.run([command_tuple(c, arch, out_bytes)
             for c in mapping.config_commands(m, requantize_shift=requantize_shift)])
    step_cache: dict[mapping.StepKind, list[tuple]] = {}
    tile_cache: dict[mapping.TileKind, list[tuple]] = {}
    n_outer, n_inner = m.loops
    k_runs = mapping.near_runs(m.k_tiles)

    def step_tuples(kind: mapping.StepKind) -> list[tuple]:
        cmds = step_cache.get(kind)
        if cmds is None:
            cmds = [command_tuple(c, arch, out_bytes) for c in mapping.kind_commands(m, kind)]
            step_cache[kind] = cmds
        return cmds

    def run_tile(tile: mapping.TileKind) -> None:
        if m.k_tiles >= _STEP_RUN_MIN:  # long reductions: skip periods of equal k-steps inside the tile
            _run_periodic(eng, k_runs, lambda kn: eng.run(step_tuples(mapping.step_kind(m, tile, kn))))
            return
        cmds = tile_cache.get(tile)
        if cmds is None:
            cmds = tile_cache[tile] = [t for kn, count, _ in k_runs for _ in range(count)
                                       for t in step_tuples(mapping.step_kind(m, tile, kn))]
        eng.run(cmds)

    def run_group(gn: mapping.Near) -> None:
        def run_row(on: mapping.Near) -> None:
            row = mapping.near_in(gn, on, n_outer)
            _run_periodic(eng, mapping.near_runs(n_inner),
                          lambda inn: run_tile(mapping.tile_kind(m, row, on[1] == 0, inn)))

        _run_periodic(eng, mapping.near_runs(n_outer), run_row)

    _run_periodic(eng, mapping.near_runs(m.layer.groups), run_group)
    eng.run([command_tuple(Command(Op.FENCE), arch, out_bytes)])
    return _result(eng)


_STEP_RUN_MIN = 16  # k-tiles per tile from which steps are skipped individually
_PERIOD_CHECK_MIN = 3  # items left in a run below which looking for a period costs more than it saves


def _run_periodic(eng: _Engine, runs: list[tuple[mapping.Near, int, int]], run_item) -> None:
    """Run every item of every run in order (``run_item(near)``, equal for all items of a run); inside a
    run, skip whole periods once the engine's relative state repeats."""
    for near, count, _first in runs:
        i, run_end = 0, count
        seen: dict[tuple, tuple[int, int, tuple[int, ...]]] = {}
        while i < run_end:
            if run_end - i > _PERIOD_CHECK_MIN:
                key = eng.key()
                hit = seen.get(key)
                if hit is not None:
                    j, d_j, stats_j = hit
                    period = i - j
                    jumps = (run_end - i) // period
                    stats_i = eng.stats()
                    eng.advance(
                        jumps * (eng.last_dispatch - d_j),
                        tuple(jumps * (a - b) for a, b in zip(stats_i, stats_j, strict=True)),
                    )
                    i += jumps * period
                    seen.clear()
                    continue
                seen[key] = (i, eng.last_dispatch, eng.stats())
            run_item(near)
            i += 1
