"""Cycle formulas, one function per hardware block: the one copy of each latency.

Every formula is the one in docs/microarchitecture.md ("Timing"); the RTL block that each mirrors is named
in its docstring, and that block's cocotb bench measures its latency against this function. The
command-level scheduler (accelsim.schedule) and the closed form (accelsim.closed_form, compiled) both call
them; a change to a block's latency is a change to its function here and nowhere else.
"""

from __future__ import annotations

from accelsim.arch import DF_OS, ArchConfig
from accelsim.commands import OP_COMPUTE, OP_LOAD, OP_PRELOAD, OP_STORE, Command
from accelsim.jit import compilable

# Constants of the pipelines (docs: "Where the constants come from").
ACCEPT_CYCLES = 1  # every unit spends the cycle it accepts a command latching and decoding it
PRELOAD_EXTRA_CYCLES = 1  # the last weight row settles one cycle after it is read
COMPUTE_EXTRA_CYCLES = 1  # accumulator read-add-write after the de-skew
STORE_EXTRA_CYCLES = 1  # accumulator read latency before the first write beat

# The block formulas below are the one copy of each latency: the scheduler calls them per command, the
# closed form (accelsim.closed_form) per step kind, compiled by Numba (accelsim.jit). They take scalars
# named as in the docs: AR, AC, BW, the dataflow's code ``df`` (arch.DF_*).


@compilable
def ceil_div(a, b):
    return -(-a // b)


@compilable
def load_unit_cycles(rows, lanes, BW):
    """``LoadUnit`` busy cycles: accept, then one beat of up to BW bytes per row chunk (data lands L
    later)."""
    return ACCEPT_CYCLES + rows * ceil_div(lanes, BW)


@compilable
def systolic_array_preload_cycles(AR):
    """``SystolicArray`` weight (WS) / input (IS) preload: AR rows shifted in from the top, + settle."""
    return ACCEPT_CYCLES + AR + PRELOAD_EXTRA_CYCLES


@compilable
def systolic_array_fill_drain_cycles(df, AR, AC):
    """Pipeline fill and drain of one COMPUTE on top of its stream length (skew, de-skew, accumulate; OS
    also shifts its outputs out)."""
    return ACCEPT_CYCLES + AR + AC + COMPUTE_EXTRA_CYCLES + (AR if df == DF_OS else 0)


@compilable
def systolic_array_cycles(stream, df, AR, AC):
    """``SystolicArray`` + ``Accumulator`` COMPUTE: ``1 + T + AR + AC + 1`` (OS: ``+ AR`` to shift outputs
    out)."""
    return stream + systolic_array_fill_drain_cycles(df, AR, AC)


@compilable
def store_unit_cycles(rows, lanes, out_bytes, BW):
    """``StoreUnit`` busy cycles: accept, accumulator read latency, then ``ceil(lanes*ob/BW)`` beats per
    row."""
    return ACCEPT_CYCLES + STORE_EXTRA_CYCLES + rows * ceil_div(lanes * out_bytes, BW)


@compilable
def command_busy_cycles(op, rows, lanes, df, AR, AC, BW, out_bytes):
    """Busy cycles of a queued command on its unit (-1 for a command without a unit)."""
    if op == OP_LOAD:
        return load_unit_cycles(rows, lanes, BW)
    if op == OP_PRELOAD:
        return systolic_array_preload_cycles(AR)
    if op == OP_COMPUTE:
        return systolic_array_cycles(rows, df, AR, AC)
    if op == OP_STORE:
        return store_unit_cycles(rows, lanes, out_bytes, BW)
    return -1


def busy_cycles(cmd: Command, arch: ArchConfig, out_bytes: int) -> int:
    """Busy cycles of a queued command on its unit."""
    busy = command_busy_cycles(int(cmd.op), cmd.rows, cmd.lanes, arch.dataflow.code, arch.array_rows,
                               arch.array_cols, arch.dram_bytes_per_cycle, out_bytes)
    if busy < 0:
        raise ValueError(f"{cmd.op.name} has no unit")
    return busy
