"""Properties of simulate_layer over random layers x configs (STYLE.md "Tests")."""

import math
from dataclasses import FrozenInstanceError, replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from accelsim import AccelsimError, memory
from accelsim.result import BREAKDOWN_KEYS
from accelsim.sim import simulate_layer, simulate_network
from tests.strategies import archs, layers


def simulated(layer, cfg, **kw):
    try:
        return simulate_layer(layer, cfg, **kw)
    except AccelsimError:
        assume(False)


@given(layers(max_c=16, max_m=16, max_hw=12), archs(), st.sampled_from([None, 4]))
def test_layer_result_properties(layer, cfg, shift):
    r = simulated(layer, cfg, requantize_shift=shift)
    assert r.macs == layer.macs
    assert r.cycles >= layer.macs / cfg.pes
    assert 0 < r.utilization <= 1
    assert 0 < r.mapping_efficiency <= 1
    assert tuple(r.breakdown.to_dict()) == BREAKDOWN_KEYS
    assert math.isclose(r.breakdown.total, r.cycles, rel_tol=1e-12, abs_tol=1e-6)
    for key, value in r.breakdown.to_dict().items():
        assert value >= -1e-9, key  # no negative stall
    # compulsory traffic: every used input, every weight, every output moved at least once
    ob = 4 if shift is None else 1
    assert r.dram_read_bytes >= memory.touched_input_elems(layer) + layer.weight_elems
    assert r.dram_write_bytes == layer.output_elems * ob
    assert r.sram_writes["acc"] >= layer.output_elems
    assert r.energy_pj > 0


@given(layers(max_c=16, max_m=16, max_hw=12), archs())
def test_more_dram_bandwidth_is_never_slower(layer, cfg):
    slow = simulated(layer, cfg)
    fast = simulate_layer(layer, replace(cfg, dram_bytes_per_cycle=2 * cfg.dram_bytes_per_cycle))
    assert fast.cycles <= slow.cycles


@given(layers(max_c=16, max_m=16, max_hw=12), archs())
def test_faster_host_and_lower_latency_are_never_slower(layer, cfg):
    base = simulated(layer, cfg)
    assume(cfg.host_issue_cycles > 1)
    assert (
        simulate_layer(layer, replace(cfg, host_issue_cycles=cfg.host_issue_cycles - 1)).cycles <= base.cycles
    )
    assert (
        simulate_layer(layer, replace(cfg, dram_latency_cycles=cfg.dram_latency_cycles // 2)).cycles
        <= base.cycles
    )


@given(layers(), archs())
def test_deterministic_and_name_independent(layer, cfg):
    a = simulated(layer, cfg)
    b = simulate_layer(replace(layer, name="other"), cfg)
    assert b.name == "other"
    assert replace(a, name="x") == replace(b, name="x")


def test_network_totals_add_up():
    from accelsim import arch, workloads

    res = simulate_network(workloads.load("resnet18"), arch.preset())
    t = res.totals
    assert t.layers == 21
    assert t.macs == sum(r.macs for r in res.layers) == 1_814_073_344
    assert t.cycles == sum(r.cycles for r in res.layers)
    assert math.isclose(t.breakdown.total, t.cycles, rel_tol=1e-12)
    assert 0 < t.utilization <= 1
    assert res.to_dict()["totals"]["cycles"] == t.cycles


def test_a_cached_result_cannot_be_changed_by_a_caller():
    """simulate_layer shares one result among layers of the same shape: every part of it is read-only."""
    from accelsim import arch, workloads

    layer = workloads.load("resnet18")[1]
    r = simulate_layer(layer, arch.preset())
    with pytest.raises(FrozenInstanceError):
        r.breakdown.dram_stall = 0.0
    for mapping in (r.sram_reads, r.sram_writes, r.tile):
        with pytest.raises(TypeError):
            mapping["acc"] = 0
    assert simulate_layer(layer, arch.preset()) == r


def test_network_with_the_closed_form_batch_equals_the_scheduler(monkeypatch):
    """Many distinct shapes take the closed form in one batch: the results are the scheduler's, field for
    field (and the batch really serves most of them)."""
    from accelsim import arch, closed_form, sim, workloads

    net = workloads.load("resnet50") + workloads.load("mobilenetv2")
    cfg = arch.preset("eyeriss")
    monkeypatch.setattr(sim, "CLOSED_FORM_MIN_SHAPES", 10**9)
    by_scheduler = simulate_network(net, cfg)
    served = []
    original = closed_form.ClosedForm.schedule

    def schedule(self, i):
        s = original(self, i)
        served.append(s is not None)
        return s

    monkeypatch.setattr(closed_form.ClosedForm, "schedule", schedule)
    monkeypatch.setattr(sim, "CLOSED_FORM_MIN_SHAPES", 1)
    sim._simulate_shape.cache_clear()
    batched = simulate_network(net, cfg)
    assert batched == by_scheduler
    assert len(served) == len({replace(x, name="") for x in net}) and sum(served) >= len(served) // 2


@given(layers(max_c=16, max_m=16, max_hw=12), archs(pe_dot_widths=(2, 4, 8)), st.sampled_from([None, 4]))
def test_layer_result_properties_with_dot_product_pes(layer, cfg, shift):
    """V-wide dot-product PEs (issue 10): the grid's peak is PEs x V MACs a cycle; the breakdown still sums
    to the cycles, its ideal compute is MACs / (PEs x V)."""
    r = simulated(layer, cfg, requantize_shift=shift)
    assert r.cycles >= layer.macs / cfg.macs_per_cycle
    assert 0 < r.utilization <= 1
    assert 0 < r.mapping_efficiency <= 1
    assert math.isclose(r.breakdown.ideal_compute, layer.macs / (cfg.pes * cfg.pe_dot_width))
    assert math.isclose(r.breakdown.total, r.cycles, rel_tol=1e-12, abs_tol=1e-6)
    for key, value in r.breakdown.to_dict().items():
        assert value >= -1e-9, key
