"""accelsim.mapper.nest: fit checks, exact evaluation, closed-form traffic and the cycle bound."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from hypothesis import given, settings

from accelsim import arch as arch_mod
from accelsim import engine, sim
from accelsim.arch import Dataflow
from accelsim.commands import OP_LOAD
from accelsim.errors import AccelsimError
from accelsim.layer import ConvLayer, gemm_dims
from accelsim.mapper import nest as nest_mod
from accelsim.mapper import program
from accelsim.mapper.nest import LoopNest, check, evaluate_nest, traffic
from accelsim.mapper.search import busy_bound
from accelsim.mapping import OPERAND_INPUT
from tests.mapper.conftest import mapped_cases
from tests.strategies import archs, layers

LAYER = ConvLayer(N=1, M=64, C=32, H=14, W=14, R=3, S=3, stride=1, pad=1, groups=1, name="l")


@settings(max_examples=60)
@given(layers(max_c=12, max_m=12), archs(max_dim=6, pe_dot_widths=(1, 2, 4)))
def test_fixed_nest_evaluates_as_simulate(layer, arch):
    try:
        ref = sim.simulate_layer(layer, arch)
    except AccelsimError:
        return
    got = evaluate_nest(layer, arch, LoopNest.fixed(layer, arch))
    for field in ("cycles", "breakdown", "dram_read_bytes", "dram_write_bytes", "sram_reads", "sram_writes",
                  "energy_pj", "commands", "utilization"):
        assert getattr(got, field) == getattr(ref, field), field


@settings(max_examples=80)
@given(mapped_cases())
def test_traffic_counts_the_loads(case):
    """The closed-form spad writes and weight DRAM bytes equal the generated LOADs' rows x lanes."""
    layer, arch, nest = case
    table = nest_mod.program_table(layer, arch, nest)
    loads = table[table[:, program.C_OP] == OP_LOAD]
    elems = loads[:, program.C_ROWS] * loads[:, program.C_LANES]
    is_x = loads[:, program.C_OPERAND] == OPERAND_INPUT
    tr = traffic(layer, nest)
    assert tr.ifmap_spad_writes == int(elems[is_x].sum())
    assert tr.weight_spad_writes == int(elems[~is_x].sum()) == tr.dram_weight_read_bytes


@settings(max_examples=80)
@given(mapped_cases())
def test_bound_is_below_the_schedule(case):
    layer, arch, nest = case
    a = nest.arch(arch)
    P, K, Mg = gemm_dims(*layer.shape)
    p_tiles, _, m_tiles = nest_mod.geometry(layer, a, nest).tiles
    lb = busy_bound(a.dataflow.code, a.pe_dot_width, a.array_rows, a.array_cols, a.dram_bytes_per_cycle,
                    a.dram_latency_cycles, 4, layer.groups, P, K, Mg, nest.P_T, nest.K_T, nest.M_T,
                    m_tiles if nest.x_res == program.RES_STEP else 1,
                    p_tiles if nest.w_res == program.RES_STEP else 1)
    assert lb <= nest_mod.schedule(layer, arch, nest).total_cycles


def test_keeping_an_operand_loads_it_once():
    arch = dataclasses.replace(arch_mod.preset("gemmini"), ifmap_spad_kib=256, weight_spad_kib=256)
    fixed = LoopNest.fixed(LAYER, arch)
    kept = dataclasses.replace(fixed, x_res=program.RES_KEEP)
    base, once = traffic(LAYER, fixed), traffic(LAYER, kept)
    assert base.dram_input_read_bytes == 4 * once.dram_input_read_bytes  # M = 64 over 16 columns
    assert evaluate_nest(LAYER, arch, kept).dram_read_bytes < sim.simulate_layer(LAYER, arch).dram_read_bytes


@pytest.mark.parametrize(("change", "message"), [
    ({"P_T": 10_000}, "P_T must be in [1, 196]"),
    ({"K_T": 17}, "K_T must be in [1, 16]"),
    ({"x_depth": 0}, "x_depth must be in [1, 64]"),
    ({"x_res": program.RES_KEEP, "x_depth": 64},
     "ifmap_spad_kib must be holding 1152 slots of 196 rows (225,792 rows; it has 8,192)"),
])
def test_check_names_the_broken_rule(change, message):
    arch = arch_mod.preset("gemmini")
    nest = dataclasses.replace(LoopNest.fixed(LAYER, arch), **change)
    with pytest.raises(AccelsimError, match=re.escape(message)):
        check(LAYER, arch, nest)


def test_os_reduction_tile_is_a_multiple_of_v():
    arch = arch_mod.preset("tensorcore").with_dataflow(Dataflow.OS)
    nest = LoopNest(4, 30, 16, dataflow=Dataflow.OS)
    with pytest.raises(AccelsimError, match="K_T must be a multiple of pe_dot_width = 4"):
        check(LAYER, arch, nest)


def test_nest_in_another_dataflow_reports_it():
    arch = arch_mod.preset("gemmini")
    nest = dataclasses.replace(LoopNest.fixed(LAYER, arch.with_dataflow("is")))
    r = evaluate_nest(LAYER, arch, nest)
    assert r.dataflow is Dataflow.IS and r.tile["dataflow"] == "is"
    assert r.cycles == sim.simulate_layer(LAYER, arch.with_dataflow("is")).cycles
    assert np.isfinite(r.energy_pj)


def test_flags_a_unit_cannot_honour_are_their_own_error():
    """A LOAD that pops the previous-queue token (LD has none) stops the schedule with ERR_FLAGS, not as a
    token underflow."""
    arch = arch_mod.preset("gemmini")
    table = nest_mod.program_table(LAYER, arch, LoopNest.fixed(LAYER, arch)).copy()
    first_load = int(np.flatnonzero(table[:, program.C_OP] == OP_LOAD)[0])
    a = LoopNest.fixed(LAYER, arch).arch(arch)
    for flags in (0, 1):
        table[first_load, program.C_POP_PREV] = flags
        s = np.zeros(engine.S_LEN, np.int64)
        nest_mod.schedule_table(table, len(table), a.dataflow.code, a.array_rows, a.array_cols,
                                a.dram_bytes_per_cycle, a.dram_latency_cycles, a.queue_depth,
                                a.host_issue_cycles, 4, nest_mod.TOKEN_CAP, s)
        assert s[engine.S_ERROR] == (engine.ERR_FLAGS if flags else 0)
