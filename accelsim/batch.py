"""Whole-layer evaluation in bulk: every (layer, configuration) point compiled, no Python per point.

:func:`evaluate` takes arrays of layer fields and configuration fields (numpy broadcasting, as
:func:`accelsim.closed_form.closed_form_breakdown`) and returns, per point, what
:func:`accelsim.sim.simulate_layer` reports: cycles and their breakdown, commands, MACs, DRAM and SRAM
traffic and energy. Each point runs :func:`evaluate_point`, which lowers the layer with the tiling rules
of accelsim.mapping, takes the closed form where it applies and the command-level scheduler
(:func:`accelsim.engine.schedule_layer`) elsewhere, and counts traffic with
:func:`accelsim.memory.traffic_counts` -- the same functions the one-layer path calls, compiled. This is the
path design-space sweeps take; tests hold it equal to ``simulate_layer`` field for field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from accelsim.arch import EnergyTable
from accelsim.arch import energy_pj as energy_of
from accelsim.closed_form import (
    ARCH_FIELD_DEFAULTS,
    ARCH_FIELDS,
    LAYER_FIELDS,
    REGIME_NONE,
    closed_form_tiled,
)
from accelsim.closed_form.chains import _N_KIND_ROWS
from accelsim.engine import (
    S_ERROR,
    S_FILL_DRAIN,
    S_IDLE,
    S_LAST_DONE,
    S_LEN,
    S_N_COMMANDS,
    S_N_COMPUTE,
    S_PRELOAD,
    S_STREAM,
    schedule_layer,
)
from accelsim.jit import compilable, compiled
from accelsim.layer import gemm_dims
from accelsim.mapping import FIT_OK, MAX_STEP_COMMANDS, SP_COLUMNS, buffer_rows, tile_fit, tile_sizes
from accelsim.memory import traffic_counts
from accelsim.timing import ceil_div

ENERGY_FIELDS = ("mac_pj", "spad_byte_pj", "acc_word_pj", "dram_byte_pj")

# Integer results per point (columns of Evaluation.ints).
INT_COLUMNS = ("valid", "closed_form", "cycles", "ex_stream_cycles", "ex_fill_drain_cycles",
               "ex_preload_cycles", "idle_dram_load_cycles", "idle_dram_store_cycles", "idle_host_cycles",
               "commands", "macs", "dram_read_bytes", "dram_write_bytes", "sram_reads", "sram_writes")
(V_VALID, V_CLOSED, V_CYCLES, V_STREAM, V_FILL_DRAIN, V_PRELOAD, V_IDLE, _, _, V_COMMANDS, V_MACS,
 V_DRAM_READ, V_DRAM_WRITE, V_SRAM_READS, V_SRAM_WRITES) = range(len(INT_COLUMNS))


@compilable
def evaluate_point(N, M, C, H, W, R, S, stride, pad, groups, AR, AC, df, if_kib, w_kib, acc_kib, BW, L, Q, HI,
                   V, out_bytes, mac_pj, spad_byte_pj, acc_word_pj, dram_byte_pj, use_closed_form, kin, bST4,
                   sa, sb, s_ok, ta, tb, t_ok, prog, idle, s, row):
    """One point into ``row`` (INT_COLUMNS); returns its energy in pJ. ``row[V_VALID]`` is 0 (and nothing
    else is written) where the configuration cannot hold the layer's tiles or the token protocol broke."""
    row[:] = 0
    _, _, if_rows, w_rows, acc_rows = buffer_rows(df, AR, AC, V, if_kib, w_kib, acc_kib)
    if tile_fit(df, AR, V, if_rows, w_rows, acc_rows) != FIT_OK:
        return 0.0
    P, K, Mg = gemm_dims(N, M, C, H, W, R, S, stride, pad, groups)
    P_T, K_T, M_T = tile_sizes(df, AR, AC, V, P, K, Mg, if_rows, w_rows, acc_rows)
    regime = REGIME_NONE
    total = stream = fill_drain = preload = commands = 0
    if use_closed_form:
        regime, total, stream, fill_drain, preload, commands = closed_form_tiled(
            groups, P, K, Mg, P_T, K_T, M_T, AR, AC, df, BW, L, Q, HI, V, out_bytes, kin, bST4, sa, sb, s_ok,
            ta, tb, t_ok, prog, idle)
    if regime != REGIME_NONE:
        row[V_CLOSED] = 1
        row[V_CYCLES], row[V_STREAM], row[V_FILL_DRAIN] = total, stream, fill_drain
        row[V_PRELOAD], row[V_COMMANDS] = preload, commands
        for c in range(3):
            row[V_IDLE + c] = idle[c]
    else:
        schedule_layer(df, groups, P, K, Mg, P_T, K_T, M_T, AR, AC, BW, L, Q, HI, V, out_bytes, s)
        if s[S_ERROR] != 0:
            return 0.0
        row[V_CYCLES], row[V_STREAM] = s[S_LAST_DONE], s[S_STREAM]
        row[V_FILL_DRAIN] = s[S_N_COMPUTE] * s[S_FILL_DRAIN]
        row[V_PRELOAD], row[V_COMMANDS] = s[S_PRELOAD], s[S_N_COMMANDS]
        for c in range(3):
            row[V_IDLE + c] = s[S_IDLE + c]
    row[V_VALID] = 1
    x_rd, w_rd, out_wr, if_r, if_w, w_r, w_w, acc_r, acc_w = traffic_counts(
        N, M, C, H, W, R, S, stride, pad, groups, ceil_div(P, P_T), ceil_div(K, K_T), ceil_div(Mg, M_T),
        out_bytes)
    macs = groups * P * K * Mg
    row[V_MACS], row[V_DRAM_READ], row[V_DRAM_WRITE] = macs, x_rd + w_rd, out_wr
    row[V_SRAM_READS], row[V_SRAM_WRITES] = if_r + w_r + acc_r, if_w + w_w + acc_w
    return energy_of(macs, if_r + if_w + w_r + w_w, acc_r + acc_w, x_rd + w_rd + out_wr, mac_pj, spad_byte_pj,
                     acc_word_pj, dram_byte_pj)


@compilable
def evaluate_points(N, M, C, H, W, R, S, stride, pad, groups, AR, AC, df, if_kib, w_kib, acc_kib, BW, L, Q,
                    HI, V, mac_pj, spad_byte_pj, acc_word_pj, dram_byte_pj, out_bytes, use_closed_form, ints,
                    energy):
    """:func:`evaluate_point` at every index of the 2-D field arrays (broadcast views: a field that is the
    same along an axis has stride 0 there and is never copied) into ``ints`` (rows, cols, INT_COLUMNS) and
    ``energy`` (rows, cols)."""
    kin = np.zeros((_N_KIND_ROWS, 8))
    bST4 = np.zeros(4)
    sa, sb, s_ok = np.zeros(15, np.int64), np.zeros(15, np.int64), np.zeros(15, np.bool_)
    ta, tb, t_ok = np.zeros(7, np.int64), np.zeros(7, np.int64), np.zeros(7, np.bool_)
    prog = np.zeros((MAX_STEP_COMMANDS, SP_COLUMNS), np.int64)
    idle = np.zeros(3, np.int64)
    s = np.zeros(S_LEN, np.int64)
    rows, cols = N.shape
    for i in range(rows):
        for j in range(cols):
            energy[i, j] = evaluate_point(
                N[i, j], M[i, j], C[i, j], H[i, j], W[i, j], R[i, j], S[i, j], stride[i, j], pad[i, j],
                groups[i, j], AR[i, j], AC[i, j], df[i, j], if_kib[i, j], w_kib[i, j], acc_kib[i, j],
                BW[i, j], L[i, j], Q[i, j], HI[i, j], V[i, j], out_bytes, mac_pj[i, j], spad_byte_pj[i, j],
                acc_word_pj[i, j], dram_byte_pj[i, j], use_closed_form, kin, bST4, sa, sb, s_ok, ta, tb,
                t_ok, prog, idle, s, ints[i, j])


@dataclass(frozen=True)
class Evaluation:
    """Per-point results, in the broadcast shape of the inputs: ``ints[..., column]`` (INT_COLUMNS) and
    ``energy_pj``. Points with ``valid == 0`` (tiles that do not fit) carry zeros."""

    ints: np.ndarray
    energy_pj: np.ndarray

    def __getitem__(self, column: str) -> np.ndarray:
        if column == "energy_pj":
            return self.energy_pj
        return self.ints[..., INT_COLUMNS.index(column)]


def evaluate(layer_fields: dict, arch_fields: dict, out_bytes: int = 4, *, closed_form: bool = True,
             interpreted: bool = False) -> Evaluation:
    """Every broadcast (layer, configuration) point. ``arch_fields`` holds :data:`ARCH_FIELDS` (dataflow as
    its code or a Dataflow) and, optionally, :data:`ENERGY_FIELDS` (default: EnergyTable's).
    ``closed_form=False`` schedules every point (the closed form gives the same numbers where it
    applies, faster)."""
    arch = {**ARCH_FIELD_DEFAULTS, **arch_fields}
    df = arch["dataflow"]
    arch["dataflow"] = df.code if hasattr(df, "code") else df
    defaults = EnergyTable()
    energy = {k: arch.get(k, getattr(defaults, k)) for k in ENERGY_FIELDS}
    names = (*LAYER_FIELDS, *ARCH_FIELDS, *ENERGY_FIELDS)
    values = [layer_fields[k] for k in LAYER_FIELDS] + [arch[k] for k in ARCH_FIELDS] + list(energy.values())
    values = [np.asarray(v, np.float64 if name in ENERGY_FIELDS else np.int64) for name, v in zip(
        names, values, strict=True)]
    shape = np.broadcast_shapes(*(v.shape for v in values))
    grid = (math.prod(shape[:-1]), shape[-1]) if shape else (1, 1)
    fields = [np.broadcast_to(v, shape).reshape(grid) for v in values]  # views, no copies
    ints, energy_pj = np.empty((*grid, len(INT_COLUMNS)), np.int64), np.empty(grid)  # evaluate_point sets all
    run = evaluate_points if interpreted else compiled(evaluate_points)
    run(*fields, int(out_bytes), bool(closed_form), ints, energy_pj)
    return Evaluation(ints.reshape((*shape, len(INT_COLUMNS))), energy_pj.reshape(shape))
