"""Cycle formulas, one function per hardware block, and the command-level scheduler.

Every formula is the one in docs/microarchitecture.md ("Timing"); the RTL block that each mirrors is named
in its docstring, and that block's cocotb bench measures its latency against this function.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.arch import ArchConfig, Dataflow
from accelsim.commands import Command, Op, Operand, Unit

# Constants of the pipelines (docs: "Where the constants come from").
ACCEPT_CYCLES = 1  # every unit spends the cycle it accepts a command latching and decoding it
PRELOAD_EXTRA_CYCLES = 1  # the last weight row settles one cycle after it is read
COMPUTE_EXTRA_CYCLES = 1  # accumulator read-add-write after the de-skew
STORE_EXTRA_CYCLES = 1  # accumulator read latency before the first write beat


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def load_unit_cycles(rows: int, lanes: int, arch: ArchConfig) -> int:
    """``LoadUnit`` busy cycles: accept, then one beat of up to BW bytes per row chunk (data lands L later)."""
    return ACCEPT_CYCLES + rows * ceil_div(lanes, arch.dram_bytes_per_cycle)


def systolic_array_preload_cycles(arch: ArchConfig) -> int:
    """``SystolicArray`` weight (WS) / input (IS) preload: AR rows shifted in from the top, + settle."""
    return ACCEPT_CYCLES + arch.array_rows + PRELOAD_EXTRA_CYCLES


def systolic_array_fill_drain_cycles(arch: ArchConfig) -> int:
    """Pipeline fill and drain of one COMPUTE on top of its stream length (skew, de-skew, accumulate)."""
    extra = arch.array_rows if arch.dataflow is Dataflow.OS else 0  # OS shifts its outputs out
    return ACCEPT_CYCLES + arch.array_rows + arch.array_cols + COMPUTE_EXTRA_CYCLES + extra


def systolic_array_cycles(stream: int, arch: ArchConfig) -> int:
    """``SystolicArray`` + ``Accumulator`` COMPUTE: ``1 + T + AR + AC + 1`` (OS: ``+ AR`` to shift outputs out)."""
    return stream + systolic_array_fill_drain_cycles(arch)


def store_unit_cycles(rows: int, lanes: int, out_bytes: int, arch: ArchConfig) -> int:
    """``StoreUnit`` busy cycles: accept, accumulator read latency, then ``ceil(lanes*ob/BW)`` beats per row."""
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


# The four token counters, indexed by (producer unit, consumer unit).
L2E, E2L, E2S, S2E = "l2e", "e2l", "e2s", "s2e"
_POPS = {  # unit -> (counter popped by pop_prev, counter popped by pop_next)
    Unit.LD: (None, E2L),
    Unit.EX: (L2E, S2E),
    Unit.ST: (E2S, None),
}
_PUSHES = {  # unit -> (counter pushed by push_prev, counter pushed by push_next)
    Unit.LD: (None, L2E),
    Unit.EX: (E2L, E2S),
    Unit.ST: (S2E, None),
}

# EX idle-gap causes (docs: "Cycle breakdown").
CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST = "dram_load", "dram_store", "host"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Per-command cycle numbers (None for CONFIG/FENCE start/end) and the layer's totals."""

    dispatch: tuple[int, ...]
    start: tuple[int, ...]
    end: tuple[int, ...]
    done: tuple[int, ...]
    total_cycles: int
    ex_stream_cycles: int
    ex_fill_drain_cycles: int
    ex_preload_cycles: int
    ex_idle_cycles: dict[str, int]


def schedule(program: list[Command], arch: ArchConfig, out_bytes: int = 4) -> Schedule:
    """Schedule a command stream at command granularity (docs: "Timing")."""
    HI, Q, L = arch.host_issue_cycles, arch.queue_depth, arch.dram_latency_cycles
    fill_drain = systolic_array_fill_drain_cycles(arch)
    n = len(program)
    dispatch = [0] * n
    start = [0] * n
    end = [0] * n
    done = [0] * n
    queue_starts: dict[Unit, list[int]] = {u: [] for u in Unit}
    unit_free = {u: 0 for u in Unit}
    pushes: dict[str, list[int]] = {L2E: [], E2L: [], E2S: [], S2E: []}
    popped = dict.fromkeys(pushes, 0)
    idle = {CAUSE_DRAM_LOAD: 0, CAUSE_DRAM_STORE: 0, CAUSE_HOST: 0}
    stream = preload = 0
    last_dispatch = -HI
    last_done = 0
    for i, cmd in enumerate(program):
        unit = cmd.unit
        d = last_dispatch + HI
        if unit is not None:
            qs = queue_starts[unit]
            if len(qs) >= Q:
                d = max(d, qs[len(qs) - Q] + 1)
        dispatch[i] = last_dispatch = d
        if unit is None:  # CONFIG: a register write; FENCE: releases when everything earlier is done
            start[i] = end[i] = d
            done[i] = max(d, last_done) if cmd.op == Op.FENCE else d
            continue
        ready, cause = d + 1, CAUSE_HOST
        prev_counter, next_counter = _POPS[unit]
        for flag, counter in ((cmd.pop_prev, prev_counter), (cmd.pop_next, next_counter)):
            if flag:
                t = pushes[counter][popped[counter]]
                popped[counter] += 1
                if t >= ready:
                    ready = t
                    cause = CAUSE_DRAM_LOAD if counter == L2E else CAUSE_DRAM_STORE
        free = unit_free[unit]
        s = max(ready, free)
        busy = busy_cycles(cmd, arch, out_bytes)
        e = s + busy
        tail = L if unit != Unit.EX else 0
        start[i], end[i], done[i] = s, e, e + tail
        unit_free[unit] = e
        queue_starts[unit].append(s)
        last_done = max(last_done, e + tail)
        prev_push, next_push = _PUSHES[unit]
        if cmd.push_prev:
            pushes[prev_push].append(e)
        if cmd.push_next:
            pushes[next_push].append(e + tail)
        if unit == Unit.EX:
            if s > free:
                idle[cause] += s - free
            if cmd.op == Op.PRELOAD:
                preload += busy
            else:
                stream += busy - fill_drain
    total = max(done) if n else 0
    ex_busy_end = unit_free[Unit.EX]
    idle[CAUSE_DRAM_STORE] += total - ex_busy_end
    n_compute = sum(1 for c in program if c.op == Op.COMPUTE)
    for counter in pushes:
        assert popped[counter] == len(pushes[counter]), f"unbalanced {counter} tokens"
    return Schedule(
        dispatch=tuple(dispatch), start=tuple(start), end=tuple(end), done=tuple(done), total_cycles=total,
        ex_stream_cycles=stream, ex_fill_drain_cycles=n_compute * fill_drain, ex_preload_cycles=preload,
        ex_idle_cycles=idle,
    )


__all__ = [
    "Operand", "Schedule", "busy_cycles", "load_unit_cycles", "schedule", "store_unit_cycles",
    "systolic_array_cycles", "systolic_array_preload_cycles",
]
