"""accelsim.mapper.search: never worse than the fixed lowering; with gap 0 the exact optimum of the space."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from accelsim import arch as arch_mod
from accelsim.arch import Dataflow
from accelsim.errors import AccelsimError
from accelsim.layer import ConvLayer
from accelsim.mapper.nest import evaluate_nest
from accelsim.mapper.search import OBJECTIVES, candidates, objective_key, search, search_network
from tests.strategies import archs, layers


@settings(max_examples=25)
@given(layers(max_c=10, max_m=10, max_hw=7), archs(max_dim=5))
def test_gap_zero_finds_the_optimum_of_the_space(layer, arch):
    try:
        space = candidates(layer, arch, tuple(Dataflow))
    except AccelsimError:
        return
    for objective in ("cycles", "edp"):
        got = search(layer, arch, objective=objective, gap=0, dataflows=tuple(Dataflow))
        best = min(objective_key(objective, evaluate_nest(layer, arch, n)) for n in space)
        assert objective_key(objective, got.result) == best
        assert got.exhaustive
        assert objective_key(objective, got.result) <= objective_key(objective, got.fixed)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_never_worse_than_the_fixed_lowering(objective):
    from accelsim.workloads.zoo import zoo

    arch = dataclasses.replace(arch_mod.preset("gemmini"), ifmap_spad_kib=256, weight_spad_kib=256)
    layers = zoo("resnet18")[:6]
    for layer, m in zip(layers, search_network(layers, arch, objective=objective), strict=True):
        assert m.result.name == layer.name
        assert objective_key(objective, m.result) <= objective_key(objective, m.fixed)
        assert m.result.cycles == evaluate_nest(layer, arch, m.nest).cycles  # the result is the nest's


def test_budget_keeps_the_best_found():
    arch = arch_mod.preset("gemmini")
    layer = ConvLayer(N=1, M=256, C=256, H=14, W=14, R=3, S=3, stride=1, pad=1, groups=1)
    m = search(layer, arch, objective="cycles", budget_s=1e-9)
    assert not m.exhaustive and m.result.cycles <= m.fixed.cycles


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"objective": "speed"}, "--objective must be one of cycles, energy, edp, dram"),
    ({"gap": 1.5}, "--gap must be a fraction"),
    ({"budget_s": 0}, "--budget-s must be a positive number of seconds"),
])
def test_bad_search_options(kwargs, message):
    with pytest.raises(AccelsimError, match=message):
        search(ConvLayer(N=1, M=8, C=8, H=4, W=4, R=1, S=1, stride=1, pad=0, groups=1),
               arch_mod.preset("gemmini"), **kwargs)
