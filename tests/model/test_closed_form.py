"""The closed form equals the command-level scheduler wherever it claims to apply, and its two engines (the
one function compiled by Numba, and interpreted) agree field for field."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import workloads
from accelsim.arch import ArchConfig, Dataflow, preset, preset_names
from accelsim.closed_form import (
    ARCH_FIELDS,
    LAYER_FIELDS,
    REGIME_EX,
    REGIME_LD,
    REGIME_MIX,
    REGIME_NONE,
    Engine,
    arch_fields,
    closed_form_breakdown,
    closed_form_schedule,
    layer_fields,
)
from accelsim.errors import AccelsimError
from accelsim.layer import ConvLayer
from accelsim.mapping import lower
from accelsim.schedule import schedule_fast
from tests.strategies import archs, layers

FIELDS = ("applies", "regime", "total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles",
          "ex_preload_cycles", "commands", "ex_idle_cycles")


def _scheduled(layer, arch, out_bytes=4):
    try:
        m = lower(layer, arch)
    except AccelsimError:
        return None
    return schedule_fast(m, arch, out_bytes)


def _same(closed, sched):
    assert closed.total_cycles == sched.total_cycles
    assert closed.ex_stream_cycles == sched.ex_stream_cycles
    assert closed.ex_fill_drain_cycles == sched.ex_fill_drain_cycles
    assert closed.ex_preload_cycles == sched.ex_preload_cycles
    assert tuple(closed.ex_idle_cycles) == tuple(sched.ex_idle_cycles)
    assert closed.commands == sched.commands


def assert_engines_agree(lf, af, out_bytes=4):
    """Both engines on the same broadcast fields: every output field equal in shape, dtype and value.
    Returns the compiled engine's result."""
    got = closed_form_breakdown(lf, af, out_bytes)
    ref = closed_form_breakdown(lf, af, out_bytes, engine=Engine.PYTHON)
    for f in FIELDS:
        a, b = getattr(got, f), getattr(ref, f)
        assert a.shape == b.shape, f
        assert a.dtype == b.dtype, f
        np.testing.assert_array_equal(a, b, err_msg=f)
    return got


@settings(max_examples=300)
@given(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8), st.sampled_from([1, 4]))
def test_equals_scheduler_where_it_applies(layer, arch, out_bytes):
    sched = _scheduled(layer, arch, out_bytes)
    closed = closed_form_schedule(layer, arch, out_bytes)
    if sched is None:  # lowering rejects the configuration: so must the closed form
        assert closed is None
    elif closed is not None:
        _same(closed, sched)


def test_applies_to_most_of_resnet50_on_the_presets():
    """Not a vacuous claim: the closed form covers the bulk of a real network, and is exact there."""
    net = workloads.load("resnet50")
    covered = 0
    for name in ("gemmini", "eyeriss", "tpu_v1"):
        arch = preset(name)
        for layer in net:
            closed = closed_form_schedule(layer, arch)
            if closed is not None:
                covered += 1
                _same(closed, schedule_fast(lower(layer, arch), arch))
    assert covered >= len(net)  # at least a third of the 3 x 54 (layer, preset) points


def test_vectorised_equals_scalar():
    rng = random.Random(3)
    net = workloads.load("resnet18")
    pts = [(rng.choice(net), ArchConfig(
        array_rows=rng.choice([4, 8, 16, 32]), array_cols=rng.choice([4, 8, 16, 32]),
        dataflow=rng.choice(list(Dataflow)), ifmap_spad_kib=rng.choice([16, 64, 256]),
        weight_spad_kib=rng.choice([16, 64, 256]), acc_kib=rng.choice([16, 64]),
        dram_bytes_per_cycle=rng.choice([4, 16, 64]), dram_latency_cycles=rng.choice([10, 100]),
        queue_depth=rng.choice([2, 4, 8]), host_issue_cycles=rng.choice([1, 8]))) for _ in range(200)]
    cf = closed_form_breakdown(layer_fields([p[0] for p in pts]), arch_fields([p[1] for p in pts]))
    assert cf.applies.any()
    for i, (layer, arch) in enumerate(pts):
        one = closed_form_schedule(layer, arch)
        assert (one is not None) == bool(cf.applies[i])
        if one is not None:
            assert one.total_cycles == int(cf.total_cycles[i])
            sched = _scheduled(layer, arch)
            assert sched is not None and one.total_cycles == sched.total_cycles
    assert np.all(cf.total_cycles[cf.applies] > 0)


@settings(max_examples=40)
@given(st.lists(st.tuples(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8)), min_size=1, max_size=40),
       st.sampled_from([1, 4]))
def test_compiled_equals_interpreted_on_strategy_points(points, out_bytes):
    assert_engines_agree(layer_fields([p[0] for p in points]), arch_fields([p[1] for p in points]), out_bytes)


def test_compiled_equals_interpreted_on_resnet50_x_presets():
    net = workloads.load("resnet50")
    presets = [preset(name) for name in preset_names()]
    lf = {k: v[:, None] for k, v in layer_fields(net).items()}
    af = {k: v[None, :] for k, v in arch_fields(presets).items()}
    for out_bytes in (1, 4):
        got = assert_engines_agree(lf, af, out_bytes)
        assert got.applies.shape == (len(net), len(presets)) and got.applies.any()


def test_compiled_equals_interpreted_on_a_sweep_grid():
    """Two distinct ResNet-50 shapes x a grid of 2592 configs over every dataflow (as benchmarks/model.py
    sweeps): both regimes and the non-applicable points all occur, and agree."""
    net = workloads.load("resnet50")
    picked = list({(layer.C, layer.M, layer.H, layer.R, layer.stride): layer for layer in net}.values())[1:3]
    grid = {
        "array_rows": (4, 16, 64), "array_cols": (8, 128), "dataflow": tuple(d.code for d in Dataflow),
        "ifmap_spad_kib": (8, 256), "weight_spad_kib": (8, 256), "acc_kib": (4, 128),
        "dram_bytes_per_cycle": (2, 64), "dram_latency_cycles": (0, 200), "queue_depth": (1, 2, 3),
        "host_issue_cycles": (1, 40),
    }
    combos = np.array(list(itertools.product(*grid.values())), np.int64)
    af = {k: combos[None, :, i] for i, k in enumerate(grid)}
    lf = {k: v[:, None] for k, v in layer_fields(picked).items()}
    got = assert_engines_agree(lf, af)
    assert {REGIME_NONE, REGIME_EX, REGIME_LD, REGIME_MIX} <= set(np.unique(got.regime).tolist())


def test_compiled_equals_interpreted_on_wide_random_points():
    """Uniform random integer fields over wide ranges (not only valid ArchConfigs: tiny scratchpads,
    out-of-range dataflow codes, zero latency), one flat batch."""
    rng = np.random.default_rng(11)
    n = 4000
    groups = rng.choice([1, 1, 1, 2, 4, 32], n)
    lf = {
        "N": rng.integers(1, 4, n), "M": groups * rng.integers(1, 300, n),
        "C": groups * rng.integers(1, 300, n),
        "H": rng.integers(7, 60, n), "W": rng.integers(7, 60, n), "R": rng.integers(1, 8, n),
        "S": rng.integers(1, 8, n), "stride": rng.integers(1, 4, n), "pad": rng.integers(0, 4, n),
        "groups": groups,
    }
    af = {
        "array_rows": rng.integers(1, 200, n), "array_cols": rng.integers(1, 200, n),
        "dataflow": rng.integers(0, 4, n), "ifmap_spad_kib": rng.integers(1, 512, n),
        "weight_spad_kib": rng.integers(1, 512, n), "acc_kib": rng.integers(1, 256, n),
        "dram_bytes_per_cycle": rng.integers(1, 128, n), "dram_latency_cycles": rng.integers(0, 500, n),
        "queue_depth": rng.integers(1, 10, n), "host_issue_cycles": rng.integers(1, 64, n),
    }
    got = assert_engines_agree(lf, af, out_bytes=2)
    assert {REGIME_NONE, REGIME_EX, REGIME_LD, REGIME_MIX} <= set(np.unique(got.regime).tolist())
    assert not got.applies[af["dataflow"] == 3].any()


def test_scalar_fields_and_dataflow_enum_broadcast_alike():
    layer = workloads.load("resnet50")[5]
    lf = {k: getattr(layer, k) for k in LAYER_FIELDS}
    for dataflow in Dataflow:
        arch = preset("eyeriss")
        af = {k: getattr(arch, k) for k in ARCH_FIELDS}
        af["dataflow"] = dataflow
        got = assert_engines_agree(lf, af)
        assert got.total_cycles.shape == () and got.ex_idle_cycles.shape == (3,)


def test_engine_must_be_an_engine():
    lf = layer_fields(workloads.load("resnet18")[:3])
    with pytest.raises(AccelsimError, match="closed-form engine must be one of"):
        closed_form_breakdown(lf, arch_fields([preset()]), engine="fortran")


# ------------------------------------------------------------------ dot-product PEs (pe_dot_width, issue 10)

DOT_WIDTHS = (1, 2, 4, 8)


@settings(max_examples=300)
@given(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8, pe_dot_widths=DOT_WIDTHS[1:]),
       st.sampled_from([1, 4]))
def test_equals_scheduler_where_it_applies_with_dot_product_pes(layer, arch, out_bytes):
    sched = _scheduled(layer, arch, out_bytes)
    closed = closed_form_schedule(layer, arch, out_bytes)
    if sched is None:
        assert closed is None
    elif closed is not None:
        _same(closed, sched)


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_applies_to_resnet50_on_the_tensorcore_preset(dataflow):
    net = workloads.load("resnet50")
    arch = preset("tensorcore").with_dataflow(dataflow)
    covered = 0
    for layer in net:
        closed = closed_form_schedule(layer, arch)
        if closed is not None:
            covered += 1
            _same(closed, schedule_fast(lower(layer, arch), arch))
    assert covered >= len(net) // 3


@settings(max_examples=40)
@given(st.lists(st.tuples(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8, pe_dot_widths=DOT_WIDTHS)),
                min_size=1, max_size=40), st.sampled_from([1, 4]))
def test_compiled_equals_interpreted_with_dot_product_pes(points, out_bytes):
    assert_engines_agree(layer_fields([p[0] for p in points]), arch_fields([p[1] for p in points]), out_bytes)


# ------------------------------------------------------------------ the MIX regime (3x3 max-plus state)


def _random_point(rng, dataflow):
    net = _NETS
    if rng.random() < 0.5:
        layer = net[rng.integers(len(net))]
    else:
        g = int(rng.choice([1, 1, 2, 4]))
        i = rng.integers
        layer = ConvLayer(N=int(i(1, 3)), M=g * int(i(1, 40)), C=g * int(i(1, 40)), H=int(i(3, 20)),
                          W=int(i(3, 20)), R=int(i(1, 4)), S=int(i(1, 4)), stride=int(i(1, 3)),
                          pad=int(i(0, 2)), groups=g)
    arch = ArchConfig(
        array_rows=int(rng.choice([2, 4, 8, 16, 32, 64])), array_cols=int(rng.choice([2, 4, 8, 16, 32, 64])),
        dataflow=dataflow, pe_dot_width=int(rng.choice([1, 4])),
        ifmap_spad_kib=int(rng.choice([1, 4, 16, 64, 256])),
        weight_spad_kib=int(rng.choice([1, 4, 16, 64, 256])), acc_kib=int(rng.choice([1, 4, 16, 64])),
        dram_bytes_per_cycle=int(rng.choice([1, 2, 4, 16, 64])),
        dram_latency_cycles=int(rng.choice([0, 1, 10, 50, 200, 500])),
        queue_depth=int(rng.choice([1, 2, 3, 4, 5, 8, 16])),
        host_issue_cycles=int(rng.choice([1, 2, 4, 8, 20, 60])))
    return layer, arch


_NETS = (*workloads.load("resnet50"), *workloads.load("resnet18"))


@pytest.mark.parametrize("dataflow", list(Dataflow), ids=lambda d: d.name)
def test_equals_scheduler_on_a_seeded_random_grid(dataflow):
    """1,500 random points per dataflow (zoo and random layer shapes; arrays 2-64, V in {1, 4}, scratchpads
    1-256 KiB, DRAM 1-64 B/cycle and 0-500 cycles, queues 1-16, host 1-60 cycles/command): wherever the
    closed form claims a point, every field equals schedule_fast's; all three regimes occur, MIX on many."""
    rng = np.random.default_rng(2026 + dataflow.code)
    pts = [_random_point(rng, dataflow) for _ in range(1500)]
    out_bytes = int(rng.choice([1, 4]))
    cf = closed_form_breakdown(layer_fields([p[0] for p in pts]), arch_fields([p[1] for p in pts]), out_bytes)
    seen = {r: 0 for r in (REGIME_NONE, REGIME_EX, REGIME_LD, REGIME_MIX)}
    for i, (layer, arch) in enumerate(pts):
        sched = _scheduled(layer, arch, out_bytes)
        closed = cf.schedule(i)
        if sched is None:
            assert closed is None
            continue
        seen[int(cf.regime[i])] += 1
        if closed is not None:
            _same(closed, sched)
    assert min(seen.values()) > 0 and seen[REGIME_MIX] >= 100, seen


def test_mix_covers_the_sweep_points_ex_and_ld_miss():
    """ResNet-50 x the closed-form space's wide arrays and long latency (where EX and LD miss most): MIX
    takes a sizeable share of the points (17 % measured), exactly (a sample checked against the
    scheduler)."""
    net = workloads.load("resnet50")
    grid = {
        "array_rows": (32, 64), "array_cols": (32, 64), "dataflow": tuple(d.code for d in Dataflow),
        "ifmap_spad_kib": (128,), "weight_spad_kib": (128,), "acc_kib": (64,),
        "dram_bytes_per_cycle": (16, 64), "dram_latency_cycles": (100,), "queue_depth": (8,),
        "host_issue_cycles": (1,),
    }
    archs_ = [ArchConfig(**{**dict(zip(grid, c, strict=True)), "dataflow": Dataflow.from_code(c[2])})
              for c in itertools.product(*grid.values())]
    cf = closed_form_breakdown({k: v[:, None] for k, v in layer_fields(net).items()},
                               {k: v[None, :] for k, v in arch_fields(archs_).items()})
    mix = cf.regime == REGIME_MIX
    assert mix.mean() >= 0.15, mix.mean()
    for li, ai in list(zip(*np.nonzero(mix), strict=True))[::7]:
        _same(cf.schedule(li * len(archs_) + ai), schedule_fast(lower(net[li], archs_[ai]), archs_[ai]))


def test_sweep_path_equals_the_scheduler_on_a_resnet50_grid_where_mix_applies():
    """accelsim.batch.evaluate (the sweep's path) with and without the closed form on every distinct
    ResNet-50 shape x 1,152 configs around the sweep benchmark's spaces (wide arrays, long latencies, every
    dataflow, V in {1, 4}): every column equal at every point; MIX takes 12 % of them (measured)."""
    from accelsim.batch import INT_COLUMNS, evaluate

    resnet50 = workloads.load("resnet50")
    net = list({(layer.C, layer.M, layer.H, layer.R, layer.stride): layer for layer in resnet50}.values())
    grid = {
        "array_rows": (8, 32, 64), "array_cols": (16, 64), "dataflow": tuple(d.code for d in Dataflow),
        "ifmap_spad_kib": (32, 256), "weight_spad_kib": (128,), "acc_kib": (16, 128),
        "dram_bytes_per_cycle": (4, 32), "dram_latency_cycles": (20, 200), "queue_depth": (2, 8),
        "host_issue_cycles": (1,), "pe_dot_width": (1, 4),
    }
    combos = np.array(list(itertools.product(*grid.values())), np.int64)
    af = {k: combos[None, :, i] for i, k in enumerate(grid)}
    lf = {k: v[:, None] for k, v in layer_fields(net).items()}
    fast, slow = evaluate(lf, af), evaluate(lf, af, closed_form=False)
    cols = [i for i, c in enumerate(INT_COLUMNS) if c != "closed_form"]
    np.testing.assert_array_equal(fast.ints[..., cols], slow.ints[..., cols])
    np.testing.assert_array_equal(fast.energy_pj, slow.energy_pj)
    regime = closed_form_breakdown(lf, af).regime
    assert (regime == REGIME_MIX).sum() >= 0.05 * regime.size
    assert (fast["closed_form"] == (regime != REGIME_NONE)).all()
