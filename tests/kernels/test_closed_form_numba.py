"""The Numba closed form (accelsim.kernels.closed_form) against the numpy engine of accelsim.closed_form,
field for field (applies, regime, total and every breakdown field), and its compiled form against its
Python source. tests/model/test_closed_form.py checks both engines against the command-level scheduler."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from accelsim.kernels.closed_form import closed_form_point
from hypothesis import given
from hypothesis import strategies as st

import accelsim.closed_form as cfm
from accelsim import workloads
from accelsim.arch import Dataflow, preset, preset_names
from accelsim.closed_form import (
    ARCH_FIELDS,
    DATAFLOW_CODE,
    LAYER_FIELDS,
    REGIME_EX,
    REGIME_LD,
    REGIME_NONE,
    arch_fields,
    closed_form_breakdown,
    layer_fields,
)
from accelsim.errors import AccelsimError
from tests.strategies import archs, layers

FIELDS = ("applies", "regime", "total_cycles", "ex_stream_cycles", "ex_fill_drain_cycles",
          "ex_preload_cycles", "ex_idle_cycles")


def assert_engines_agree(lf, af, out_bytes=4):
    """Both engines on the same broadcast fields: every output field equal in shape, dtype and value.
    Returns the numpy engine's result."""
    ref = closed_form_breakdown(lf, af, out_bytes, engine="numpy")
    got = closed_form_breakdown(lf, af, out_bytes, engine="numba")
    for f in FIELDS:
        a, b = getattr(got, f), getattr(ref, f)
        assert a.shape == b.shape, f
        assert a.dtype == b.dtype, f
        np.testing.assert_array_equal(a, b, err_msg=f)
    return ref


@given(st.lists(st.tuples(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8)), min_size=1, max_size=40),
       st.sampled_from([1, 4]))
def test_numba_equals_numpy_on_strategy_points(points, out_bytes):
    assert_engines_agree(layer_fields([p[0] for p in points]), arch_fields([p[1] for p in points]), out_bytes)


def test_numba_equals_numpy_on_resnet50_x_presets():
    net = workloads.load("resnet50")
    presets = [preset(name) for name in preset_names()]
    lf = {k: v[:, None] for k, v in layer_fields(net).items()}
    af = {k: v[None, :] for k, v in arch_fields(presets).items()}
    for out_bytes in (1, 4):
        ref = assert_engines_agree(lf, af, out_bytes)
        assert ref.applies.shape == (len(net), len(presets)) and ref.applies.any()


def test_numba_equals_numpy_on_a_sweep_grid():
    """Eight distinct ResNet-50 shapes x a grid of 7776 configs over every dataflow (as benchmarks/model.py
    sweeps): both regimes and the non-applicable points all occur, and agree."""
    net = workloads.load("resnet50")
    picked = list({(layer.C, layer.M, layer.H, layer.R, layer.stride): layer for layer in net}.values())[:8]
    grid = {
        "array_rows": (4, 16, 64), "array_cols": (8, 32, 128), "dataflow": tuple(DATAFLOW_CODE.values()),
        "ifmap_spad_kib": (8, 256), "weight_spad_kib": (8, 256), "acc_kib": (4, 128),
        "dram_bytes_per_cycle": (2, 16, 64), "dram_latency_cycles": (0, 200), "queue_depth": (1, 2, 3, 8),
        "host_issue_cycles": (1, 8, 40),
    }
    combos = np.array(list(itertools.product(*grid.values())), np.int64)
    af = {k: combos[None, :, i] for i, k in enumerate(grid)}
    lf = {k: v[:, None] for k, v in layer_fields(picked).items()}
    ref = assert_engines_agree(lf, af)
    assert {REGIME_NONE, REGIME_EX, REGIME_LD} <= set(np.unique(ref.regime).tolist())


def test_numba_equals_numpy_on_wide_random_points():
    """Uniform random integer fields over wide ranges (not only valid ArchConfigs: tiny scratchpads,
    out-of-range dataflow codes, zero latency), one flat batch."""
    rng = np.random.default_rng(11)
    n = 20000
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
    ref = assert_engines_agree(lf, af, out_bytes=2)
    assert {REGIME_NONE, REGIME_EX, REGIME_LD} <= set(np.unique(ref.regime).tolist())
    assert not ref.applies[af["dataflow"] == 3].any()


def test_scalar_fields_and_dataflow_enum_broadcast_alike():
    layer = workloads.load("resnet50")[5]
    lf = {k: getattr(layer, k) for k in LAYER_FIELDS}
    for dataflow in Dataflow:
        arch = preset("eyeriss")
        af = {k: getattr(arch, k) for k in ARCH_FIELDS}
        af["dataflow"] = dataflow
        ref = assert_engines_agree(lf, af)
        assert ref.total_cycles.shape == () and ref.ex_idle_cycles.shape == (3,)


def test_compiled_point_equals_py_func():
    """closed_form_point compiled and as plain Python (its helpers compiled) on points of every regime."""
    rng = np.random.default_rng(5)
    net = workloads.load("resnet50")
    seen = set()
    scratch = lambda: (np.zeros((7, 8)), np.zeros(4), np.zeros(15, np.int64), np.zeros(15, np.int64),  # noqa: E731
                       np.zeros(15, np.bool_), np.zeros(7, np.int64), np.zeros(7, np.int64),
                       np.zeros(7, np.bool_))
    for _ in range(60):
        layer = net[rng.integers(len(net))]
        args = [np.int64(getattr(layer, k)) for k in LAYER_FIELDS] + [
            np.int64(x) for x in (rng.choice([4, 16, 64]), rng.choice([8, 32]), rng.integers(3),
                                  rng.choice([16, 256]), rng.choice([16, 256]), rng.choice([8, 64]),
                                  rng.choice([4, 64]), rng.choice([0, 100]), rng.choice([1, 2, 5]),
                                  rng.choice([1, 8]))
        ] + [4]
        idle_c, idle_py = np.zeros(3, np.int64), np.zeros(3, np.int64)
        compiled = closed_form_point(*args, *scratch(), idle_c)
        python = closed_form_point.py_func(*args, *scratch(), idle_py)
        assert tuple(int(x) for x in compiled) == tuple(int(x) for x in python)
        np.testing.assert_array_equal(idle_c, idle_py)
        seen.add(int(compiled[0]))
    assert seen == {REGIME_NONE, REGIME_EX, REGIME_LD}


def test_engine_choice(monkeypatch):
    lf = layer_fields(workloads.load("resnet18")[:3])
    af = arch_fields([preset()])
    with pytest.raises(AccelsimError, match="engine must be one of"):
        closed_form_breakdown(lf, af, engine="fortran")
    solved = []
    numpy_solve = cfm._solve
    monkeypatch.setattr(cfm, "_solve", lambda *a: solved.append(1) or numpy_solve(*a))
    closed_form_breakdown(lf, af)
    assert not solved  # auto is Numba where it imports
    monkeypatch.setattr(cfm, "_NUMBA_POINTS", False)  # as if accelsim.kernels could not be imported
    auto = closed_form_breakdown(lf, af)  # falls back to numpy
    assert solved
    ref = closed_form_breakdown(lf, af, engine="numpy")
    np.testing.assert_array_equal(auto.total_cycles, ref.total_cycles)
    with pytest.raises(AccelsimError, match="engine must be 'numpy' or 'auto'"):
        closed_form_breakdown(lf, af, engine="numba")
