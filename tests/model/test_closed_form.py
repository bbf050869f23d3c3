"""The closed-form fast path equals the command-level scheduler wherever it claims to apply, with both
engines (numpy over arrays, Numba point by point; tests/kernels/test_closed_form_numba.py checks that the
two agree field for field)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import workloads
from accelsim.arch import ArchConfig, Dataflow, preset
from accelsim.closed_form import (
    ENGINES,
    arch_fields,
    closed_form_breakdown,
    closed_form_schedule,
    layer_fields,
)
from accelsim.errors import AccelsimError
from accelsim.mapping import lower
from accelsim.timing import schedule_fast
from tests.strategies import archs, layers

BOTH = tuple(e for e in ENGINES if e != "auto")  # numba, numpy


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


@settings(max_examples=300)
@given(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8), st.sampled_from([1, 4]))
def test_equals_scheduler_where_it_applies(layer, arch, out_bytes):
    sched = _scheduled(layer, arch, out_bytes)
    for engine in BOTH:
        closed = closed_form_schedule(layer, arch, out_bytes, engine)
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
            closed = {engine: closed_form_schedule(layer, arch, engine=engine) for engine in BOTH}
            assert (closed["numba"] is None) == (closed["numpy"] is None)
            if closed["numpy"] is not None:
                covered += 1
                sched = schedule_fast(lower(layer, arch), arch)
                for engine in BOTH:
                    _same(closed[engine], sched)
    assert covered >= len(net)  # at least a third of the 3 x 54 (layer, preset) points


@pytest.mark.parametrize("engine", BOTH)
def test_vectorised_equals_scalar(engine):
    rng = random.Random(3)
    net = workloads.load("resnet18")
    pts = [(rng.choice(net), ArchConfig(
        array_rows=rng.choice([4, 8, 16, 32]), array_cols=rng.choice([4, 8, 16, 32]),
        dataflow=rng.choice(list(Dataflow)), ifmap_spad_kib=rng.choice([16, 64, 256]),
        weight_spad_kib=rng.choice([16, 64, 256]), acc_kib=rng.choice([16, 64]),
        dram_bytes_per_cycle=rng.choice([4, 16, 64]), dram_latency_cycles=rng.choice([10, 100]),
        queue_depth=rng.choice([2, 4, 8]), host_issue_cycles=rng.choice([1, 8]))) for _ in range(200)]
    cf = closed_form_breakdown(layer_fields([p[0] for p in pts]), arch_fields([p[1] for p in pts]),
                               engine=engine)
    assert cf.applies.any()
    for i, (layer, arch) in enumerate(pts):
        one = closed_form_schedule(layer, arch, engine=engine)
        assert (one is not None) == bool(cf.applies[i])
        if one is not None:
            assert one.total_cycles == int(cf.total_cycles[i])
            sched = _scheduled(layer, arch)
            assert sched is not None and one.total_cycles == sched.total_cycles
    assert np.all(cf.total_cycles[cf.applies] > 0)
