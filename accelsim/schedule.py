"""The command-level scheduler: every command's dispatch, start, end and done cycle (docs: "Timing").

:func:`schedule` runs a command stream command by command and records every command's cycles (the RTL's
co-simulation and the controller bench compare against it); :func:`schedule_fast` gives the same totals
and breakdown for a mapped layer without building its command stream. Both run the one state machine of
accelsim.engine, compiled by Numba (``interpreted=True`` runs the same code in the interpreter, for the
tests); busy times come from the block formulas in accelsim.timing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim import engine
from accelsim.arch import ArchConfig
from accelsim.commands import Command
from accelsim.engine import CAUSE_DRAM_LOAD, CAUSE_DRAM_STORE, CAUSE_HOST
from accelsim.jit import compiled
from accelsim.mapping import Mapping
from accelsim.timing import systolic_array_fill_drain_cycles

__all__ = ["CAUSE_DRAM_LOAD", "CAUSE_DRAM_STORE", "CAUSE_HOST", "Schedule", "command_tuple", "schedule",
           "schedule_fast"]

_ERRORS = {engine.ERR_UNDERFLOW: "a token pop finds its counter empty",
           engine.ERR_OVERFLOW: f"more than {engine.CAP} tokens of a counter outstanding",
           engine.ERR_UNBALANCED: "every token counter is zero at the end",
           engine.ERR_FLAGS: "each command's token flags to be ones its unit can honour"}


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


def _fn(f, interpreted: bool):
    return f if interpreted else compiled(f)


def state_result(s: np.ndarray, record: np.ndarray | None = None) -> Schedule:
    error = int(s[engine.S_ERROR])
    assert error == 0, f"the command stream breaks the token protocol: expected {_ERRORS.get(error, error)}"
    idle = s[engine.S_IDLE:engine.S_IDLE + 3]
    return Schedule(
        total_cycles=int(s[engine.S_LAST_DONE]),
        ex_stream_cycles=int(s[engine.S_STREAM]),
        ex_fill_drain_cycles=int(s[engine.S_N_COMPUTE] * s[engine.S_FILL_DRAIN]),
        ex_preload_cycles=int(s[engine.S_PRELOAD]),
        ex_idle_cycles=(int(idle[0]), int(idle[1]), int(idle[2])),
        commands=int(s[engine.S_N_COMMANDS]),
        cycles=() if record is None else tuple(map(tuple, record.tolist())),
    )


def timing_table(program: list[Command], arch: ArchConfig, out_bytes: int = 4,
                 interpreted: bool = False) -> np.ndarray:
    """The timing table (engine.T_COLUMNS) of a command stream."""
    row = _fn(engine.timing_row, interpreted)
    table = np.zeros((len(program), engine.T_COLUMNS), np.int64)
    for i, c in enumerate(program):
        ok = row(table[i], int(c.op), c.rows, c.lanes, c.pop_prev, c.pop_next, c.push_prev, c.push_next,
                 arch.dataflow.code, arch.array_rows, arch.array_cols, arch.dram_bytes_per_cycle,
                 arch.dram_latency_cycles, out_bytes)
        assert ok, f"{c.op.name} has a flag its unit cannot honour"
    return table


def command_tuple(cmd: Command, arch: ArchConfig, out_bytes: int) -> tuple[int, ...]:
    """One command's timing row: (op, unit, busy, tail, pops, pushes at end, pushes at done)."""
    return tuple(timing_table([cmd], arch, out_bytes, interpreted=True)[0].tolist())


def schedule(program: list[Command], arch: ArchConfig, out_bytes: int = 4, *,
             interpreted: bool = False) -> Schedule:
    """Schedule a command stream command by command, recording every command's cycles (docs: "Timing")."""
    table = timing_table(program, arch, out_bytes, interpreted)
    s = np.zeros(engine.S_LEN, np.int64)
    qs, qm, pend, pm = _fn(engine.new_state, interpreted)(
        s, arch.host_issue_cycles, arch.queue_depth,
        systolic_array_fill_drain_cycles(arch.dataflow.code, arch.array_rows, arch.array_cols))
    record = np.zeros((len(program), 4), np.int64)
    _fn(engine.run_commands, interpreted)(s, qs, qm, pend, pm, table, len(program), record, 0)
    _fn(engine.finish, interpreted)(s, pm)
    return state_result(s, record)


def schedule_fast(m: Mapping, arch: ArchConfig, out_bytes: int = 4, *, interpreted: bool = False) -> Schedule:
    """The same totals and breakdown as ``schedule(program(m))`` without building the command stream
    (:func:`accelsim.engine.schedule_layer`); ``out_bytes`` (1 when requantizing, else 4) is all of the
    requantization that changes timing."""
    layer = m.layer
    s = np.zeros(engine.S_LEN, np.int64)
    _fn(engine.schedule_shape, interpreted)(
        *layer.shape, m.dataflow.code, m.P_T, m.K_T, m.M_T, arch.array_rows, arch.array_cols,
        arch.dram_bytes_per_cycle, arch.dram_latency_cycles, arch.queue_depth, arch.host_issue_cycles,
        m.pe_dot_width, out_bytes, s)
    return state_result(s)
