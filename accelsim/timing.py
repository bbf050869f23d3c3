"""Cycle formulas, one function per hardware block, and the command-level scheduler.

Every formula is the one in docs/microarchitecture.md ("Timing"); the RTL block that each mirrors is named
in its docstring, and that block's cocotb bench measures its latency against this function.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from accelsim import mapping
from accelsim.arch import ArchConfig, Dataflow
from accelsim.commands import UNIT_OF, Command, Op, Unit
from accelsim.mapping import Mapping

# Constants of the pipelines (docs: "Where the constants come from").
ACCEPT_CYCLES = 1  # every unit spends the cycle it accepts a command latching and decoding it
PRELOAD_EXTRA_CYCLES = 1  # the last weight row settles one cycle after it is read
COMPUTE_EXTRA_CYCLES = 1  # accumulator read-add-write after the de-skew
STORE_EXTRA_CYCLES = 1  # accumulator read latency before the first write beat


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def load_unit_cycles(rows: int, lanes: int, arch: ArchConfig) -> int:
    """``LoadUnit`` busy cycles: accept, then one beat of up to BW bytes per row chunk (data lands L
    later)."""
    return ACCEPT_CYCLES + rows * ceil_div(lanes, arch.dram_bytes_per_cycle)


def systolic_array_preload_cycles(arch: ArchConfig) -> int:
    """``SystolicArray`` weight (WS) / input (IS) preload: AR rows shifted in from the top, + settle."""
    return ACCEPT_CYCLES + arch.array_rows + PRELOAD_EXTRA_CYCLES


def systolic_array_fill_drain_cycles(arch: ArchConfig) -> int:
    """Pipeline fill and drain of one COMPUTE on top of its stream length (skew, de-skew, accumulate)."""
    extra = arch.array_rows if arch.dataflow is Dataflow.OS else 0  # OS shifts its outputs out
    return ACCEPT_CYCLES + arch.array_rows + arch.array_cols + COMPUTE_EXTRA_CYCLES + extra


def systolic_array_cycles(stream: int, arch: ArchConfig) -> int:
    """``SystolicArray`` + ``Accumulator`` COMPUTE: ``1 + T + AR + AC + 1`` (OS: ``+ AR`` to shift outputs
    out)."""
    return stream + systolic_array_fill_drain_cycles(arch)


def store_unit_cycles(rows: int, lanes: int, out_bytes: int, arch: ArchConfig) -> int:
    """``StoreUnit`` busy cycles: accept, accumulator read latency, then ``ceil(lanes*ob/BW)`` beats per
    row."""
    return ACCEPT_CYCLES + STORE_EXTRA_CYCLES + rows * ceil_div(lanes * out_bytes, arch.dram_bytes_per_cycle)


def busy_cycles(cmd: Command, arch: ArchConfig, out_bytes: int) -> int:
    """Busy cycles of a queued command on its unit."""
    if cmd.op == Op.LOAD:
        return load_unit_cycles(cmd.rows, cmd.lanes, arch)
    if cmd.op == Op.PRELOAD:
        return systolic_array_preload_cycles(arch)
    if cmd.op == Op.COMPUTE:
        return systolic_array_cycles(cmd.rows, arch)
    if cmd.op == Op.STORE:
        return store_unit_cycles(cmd.rows, cmd.lanes, out_bytes, arch)
    raise ValueError(f"{cmd.op.name} has no unit")


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
        "n_compute",
        "pending",
        "preload",
        "qstarts",
        "stream",
    )

    def __init__(self, arch: ArchConfig) -> None:
        self.HI, self.Q = arch.host_issue_cycles, arch.queue_depth
        self.fill_drain = systolic_array_fill_drain_cycles(arch)
        self.last_dispatch = -self.HI
        self.free = [0, 0, 0]
        self.qstarts: list[deque[int]] = [deque(maxlen=self.Q) for _ in range(3)]
        self.pending: list[deque[int]] = [deque() for _ in range(4)]
        self.last_done = 0
        self.stream = self.preload = self.n_compute = 0
        self.idle = [0, 0, 0]

    def run(self, cmds: list[tuple], record: list[tuple[int, int, int, int]] | None = None) -> None:
        HI, Q = self.HI, self.Q
        free, qstarts, pending, idle = self.free, self.qstarts, self.pending, self.idle
        d_prev, last_done = self.last_dispatch, self.last_done
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
        return (self.stream, self.preload, self.n_compute, *self.idle)

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
        self.idle = [i + di for i, di in zip(self.idle, stats_delta[3:], strict=True)]

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
    cycles: tuple[tuple[int, int, int, int], ...] = ()  # per command: dispatch, start, end, done

    @property
    def dispatch(self) -> tuple[int, ...]:
        return tuple(c[0] for c in self.cycles)

    @property
    def start(self) -> tuple[int, ...]:
        return tuple(c[1] for c in self.cycles)

    @property
    def end(self) -> tuple[int, ...]:
        return tuple(c[2] for c in self.cycles)

    @property
    def done(self) -> tuple[int, ...]:
        return tuple(c[3] for c in self.cycles)


def _result(eng: _Engine, record: list | None = None) -> Schedule:
    total, idle = eng.finish()
    return Schedule(
        total_cycles=total,
        ex_stream_cycles=eng.stream,
        ex_fill_drain_cycles=eng.n_compute * eng.fill_drain,
        ex_preload_cycles=eng.preload,
        ex_idle_cycles=tuple(idle),
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

    Steps with equal :func:`mapping.step_signature` share one command list; runs of equal steps (within a
    tile), tiles (within a row), rows (within a group) and groups are each skipped hierarchically. Within a
    run, once the scheduler's state relative to the last dispatch
    repeats (max-plus systems become periodic), whole periods are skipped exactly: every time shifts by the
    period's delay and every statistic by the period's increment."""
    eng = _Engine(arch)
    eng.run(
        [
            command_tuple(c, arch, out_bytes)
            for c in mapping.config_commands(m, requantize_shift=requantize_shift)
        ]
    )
    step_cache: dict[tuple, list[tuple]] = {}
    tile_cache: dict[tuple, list[tuple]] = {}

    def step_tuples(st: mapping.Step) -> list[tuple]:
        sig = mapping.step_signature(m, st)
        cmds = step_cache.get(sig)
        if cmds is None:
            cmds = step_cache[sig] = [command_tuple(c, arch, out_bytes) for c in mapping.step_commands(m, st)]
        return cmds

    def run_tile(tile: mapping.Tile) -> None:
        kt = m.k_tiles
        if kt >= _STEP_RUN_MIN:  # long reductions: skip periods of equal k-steps inside the tile
            # Steps 3 .. k_tiles-4 share one signature (full K_t, not first/last, >= 2 steps from either
            # end of the layer), so only the ends need their signatures computed.
            steps = {k: mapping.tile_step(m, tile, k) for k in (0, 1, 2, 3, kt - 3, kt - 2, kt - 1)}
            runs = [(mapping.step_signature(m, steps[k]), 1, k) for k in (0, 1, 2)]
            runs.append((mapping.step_signature(m, steps[3]), kt - 6, 3))
            runs += [(mapping.step_signature(m, steps[k]), 1, k) for k in (kt - 3, kt - 2, kt - 1)]
            _run_periodic(eng, runs, lambda k: eng.run(step_tuples(steps.get(k, steps[3]))))
            return
        sig = mapping.tile_signature(m, tile)
        cmds = tile_cache.get(sig)
        if cmds is None:
            cmds = tile_cache[sig] = [t for st in mapping.tile_steps(m, tile) for t in step_tuples(st)]
        eng.run(cmds)

    def run_row(row: list[mapping.Tile]) -> None:
        _run_periodic(eng, _runs([mapping.tile_signature(m, t) for t in row]), lambda i: run_tile(row[i]))

    def run_group(g: int) -> None:
        rows = mapping.group_rows(m, g)
        _run_periodic(
            eng,
            _runs([tuple(mapping.tile_signature(m, t) for t in row) for row in rows]),
            lambda i: run_row(rows[i]),
        )

    _run_periodic(eng, _runs([mapping.group_signature(m, g) for g in range(m.layer.groups)]), run_group)
    eng.run([command_tuple(mapping.Command(mapping.Op.FENCE), arch, out_bytes)])
    return _result(eng)


_STEP_RUN_MIN = 16  # k-tiles per tile from which steps are skipped individually
_PERIOD_CHECK_MIN = 3  # items left in a run below which looking for a period costs more than it saves


def _runs(sigs: list) -> list[tuple[object, int, int]]:
    """Run-length encode signatures: (signature, count, index of the run's first item)."""
    out: list[tuple[object, int, int]] = []
    for i, sig in enumerate(sigs):
        if out and out[-1][0] == sig:
            out[-1] = (sig, out[-1][1] + 1, out[-1][2])
        else:
            out.append((sig, 1, i))
    return out


def _run_periodic(eng: _Engine, runs: list[tuple[object, int, int]], run_item) -> None:
    """Run items ``first .. first+count-1`` of every run in order (``run_item(index)``); inside a run of
    equal signatures, skip whole periods once the engine's relative state repeats."""
    for _sig, count, first in runs:
        i, run_end = first, first + count
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
            run_item(i)
            i += 1
