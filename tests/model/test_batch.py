"""accelsim.batch: the compiled whole-layer evaluation equals simulate_layer field for field, with and
without the closed form, compiled and interpreted."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import AccelsimError, workloads
from accelsim.arch import preset, preset_names
from accelsim.batch import Evaluation, evaluate
from accelsim.closed_form import arch_fields, layer_fields
from accelsim.sim import simulate_layer
from tests.strategies import archs, layers


def assert_equals_simulate(ev: Evaluation, index, layer, arch, out_bytes=4):
    try:
        r = simulate_layer(layer, arch, requantize_shift=None if out_bytes == 4 else 0)
    except AccelsimError:
        assert ev["valid"][index] == 0
        return
    columns = ("valid", "cycles", "commands", "macs", "dram_read_bytes", "dram_write_bytes", "sram_reads",
               "sram_writes", "ex_preload_cycles", "ex_fill_drain_cycles", "idle_host_cycles")
    got = {c: int(ev[c][index]) for c in columns}
    assert got == {"valid": 1, "cycles": r.cycles, "commands": r.commands, "macs": r.macs,
                   "dram_read_bytes": r.dram_read_bytes, "dram_write_bytes": r.dram_write_bytes,
                   "sram_reads": sum(r.sram_reads.values()), "sram_writes": sum(r.sram_writes.values()),
                   "ex_preload_cycles": r.breakdown.preload, "ex_fill_drain_cycles": r.breakdown.fill_drain,
                   "idle_host_cycles": r.breakdown.host_stall}
    assert ev.energy_pj[index] == r.energy_pj


@settings(max_examples=60)
@given(st.lists(st.tuples(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8)), min_size=1, max_size=20),
       st.sampled_from([1, 4]), st.booleans())
def test_equals_simulate_layer(points, out_bytes, closed_form):
    ev = evaluate(layer_fields([p[0] for p in points]), arch_fields([p[1] for p in points]), out_bytes,
                  closed_form=closed_form)
    for i, (layer, arch) in enumerate(points):
        assert_equals_simulate(ev, i, layer, arch, out_bytes)


def test_resnet50_on_every_preset_both_paths_and_engines():
    net = workloads.load("resnet50")[::5]
    presets = [preset(name) for name in preset_names()]
    lf = {k: v[:, None] for k, v in layer_fields(net).items()}
    af = {k: v[None, :] for k, v in arch_fields(presets).items()}
    fast = evaluate(lf, af)
    assert 0 < fast["closed_form"].mean() < 1  # both paths really taken
    for other in (evaluate(lf, af, closed_form=False), evaluate(lf, af, interpreted=True)):
        np.testing.assert_array_equal(fast.ints[..., 2:], other.ints[..., 2:])
        np.testing.assert_array_equal(fast.energy_pj, other.energy_pj)
    for i, layer in enumerate(net):
        for j, arch in enumerate(presets):
            assert_equals_simulate(fast, (i, j), layer, arch)


@settings(max_examples=60)
@given(st.lists(st.tuples(layers(max_c=24, max_m=24, max_hw=12), archs(max_dim=8, pe_dot_widths=(2, 4, 8))),
                min_size=1, max_size=20), st.sampled_from([1, 4]), st.booleans())
def test_equals_simulate_layer_with_dot_product_pes(points, out_bytes, closed_form):
    ev = evaluate(layer_fields([p[0] for p in points]), arch_fields([p[1] for p in points]), out_bytes,
                  closed_form=closed_form)
    for i, (layer, arch) in enumerate(points):
        assert_equals_simulate(ev, i, layer, arch, out_bytes)
