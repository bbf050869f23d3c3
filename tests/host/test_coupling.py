"""The prototype coupling (accelsim.host.coupling): the layer driver on the ISS, every command timed by the
scheduler's rule at the cycle the firmware presents it, FENCES and STATUS answered from its state."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings

from accelsim.arch import preset
from accelsim.commands import COMMAND_WORDS
from accelsim.errors import AccelsimError
from accelsim.host.coupling import SchedulerSink
from accelsim.host.driver import run_layer
from accelsim.layer import ConvLayer
from accelsim.mapping import lower, program
from accelsim.schedule import schedule
from tests.strategies import archs, layers


def test_driver_with_the_scheduler_in_the_loop(conv_elf):
    arch = preset()
    layer = ConvLayer(N=1, M=40, C=24, H=10, W=10, R=3, S=3, pad=1)
    sink = SchedulerSink(arch, interpreted=True)  # interpreted: no compile of the engine in this test
    r = run_layer(conv_elf, layer, arch, sink=sink)
    h = sink.finish()
    fixed = schedule(program(lower(layer, arch)), arch, interpreted=True)  # the fixed-HI host
    assert r.exit_code == 0 and h.commands == fixed.commands == len(r.commands)
    assert all(d >= t for t, d in sink.presented)
    assert sink.presented[0][0] == sink.presented[0][1]  # empty queues: the first command goes at once
    # the firmware presents commands no faster than every HI cycles and starts later: a max-plus schedule
    # is monotone, so the coupled layer ends no earlier than the fixed-HI one (which starts at cycle 0)
    gaps = [b[0] - a[1] for a, b in zip(sink.presented, sink.presented[1:], strict=False)]
    assert min(gaps) >= arch.host_issue_cycles
    assert h.total_cycles >= fixed.total_cycles + sink.presented[0][0]
    assert sink.fence_releases == [h.total_cycles]
    # the firmware spun on FENCES until the release: it exits a few instructions after it
    assert h.total_cycles < r.cycles < h.total_cycles + 100


@pytest.mark.parametrize("name", ["gemmini", "tensorcore"])
def test_compiled_coupling_equals_the_python_sink(conv_elf, name):
    """run_coupled (ISS + engine rule in one compiled loop) == the ISS handing each event to SchedulerSink."""
    from accelsim.host.coupling import run_coupled
    from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
    from accelsim.host.iss import Iss

    arch = replace(preset(name), queue_depth=1)  # long COMPUTEs fill the queue: the store is held back
    layer = ConvLayer(N=1, M=16, C=16, H=32, W=32, R=3, S=3, pad=1)
    sink = SchedulerSink(arch, interpreted=True)
    ref = run_layer(conv_elf, layer, arch, sink=sink)
    machine = Iss(conv_elf)
    machine.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch))
    got = run_coupled(machine, arch)
    assert (got.exit_code, got.cycles, got.instret) == (ref.exit_code, ref.cycles, ref.instret)
    assert got.commands[:, COMMAND_WORDS].tolist() == [t for t, _ in sink.presented]
    assert got.commands[:, COMMAND_WORDS + 1].tolist() == [d for _, d in sink.presented]
    assert got.schedule == sink.finish()
    assert got.fence_releases == (got.schedule.total_cycles,)
    # back-pressure happened and was charged
    assert (got.commands[:, COMMAND_WORDS + 1] > got.commands[:, COMMAND_WORDS]).any()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(), arch=archs(pe_dot_widths=(1, 2, 4, 8)))
def test_sink_at_the_fetchers_times_is_the_schedule(layer, arch):
    """Presented at the fetcher's times (t_i = d_{i-1} + HI), the sink is accelsim.schedule.schedule."""
    try:
        cmds = program(lower(layer, arch))
    except AccelsimError:  # a layer the buffers cannot hold: not this test's subject
        assume(False)
    want = schedule(cmds, arch)
    sink = SchedulerSink(arch)
    d = -arch.host_issue_cycles
    for c in cmds:
        d = sink.present(c.words(), d + arch.host_issue_cycles)
    assert [d for _, d in sink.presented] == list(want.dispatch)
    assert sink.finish() == replace(want, cycles=())  # totals and the whole breakdown


def test_simulate_with_the_riscv_host(capsys):
    """`simulate --host riscv`: the layer's cycles are the firmware's run to EXIT, the breakdown sums to
    them, the traffic is the fixed host's, and the host costs time the fixed-HI model does not see."""
    from accelsim.cli import main
    from accelsim.result import BREAKDOWN_KEYS
    from accelsim.sim import simulate_network

    layer = ConvLayer(name="c", N=1, M=32, C=32, H=8, W=8, R=3, S=3, pad=1)
    arch = preset("gemmini")
    (r,) = simulate_network([layer], arch, host="riscv").layers
    (fixed,) = simulate_network([layer], arch).layers
    assert sum(getattr(r.breakdown, k) for k in BREAKDOWN_KEYS) == r.cycles
    assert r.cycles > fixed.cycles and r.breakdown.host_stall > fixed.breakdown.host_stall
    assert (r.macs, r.dram_read_bytes, r.dram_write_bytes) == (fixed.macs, fixed.dram_read_bytes,
                                                               fixed.dram_write_bytes)
    assert main(["simulate", "--layer", "M=32,C=32,H=8,W=8,R=3,S=3,pad=1", "--host", "riscv", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][0]["cycles"] == r.cycles


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(max_c=24, max_m=24, max_hw=10), arch=archs(max_dim=8, pe_dot_widths=(1, 2, 4, 8)))
def test_riscv_breakdown_sums_to_the_cycles_and_counts_the_host(layer, arch):
    """With the firmware in the loop, on random layers: the buckets sum to the cycles, none is negative,
    and the host stall is at least the cycles the firmware costs over the fixed-HI host (the instant
    host's schedule is no later than the fixed-HI one: docs "Cycle breakdown", host stall >= T - T0)."""
    from accelsim.result import BREAKDOWN_KEYS
    from accelsim.sim import simulate_network

    try:
        lower(layer, arch)
    except AccelsimError:
        assume(False)
    (r,) = simulate_network([layer], arch, host="riscv").layers
    (fixed,) = simulate_network([layer], arch).layers
    parts = {k: getattr(r.breakdown, k) for k in BREAKDOWN_KEYS}
    assert sum(parts.values()) == r.cycles
    assert min(parts["dram_stall"], parts["host_stall"], parts["preload"], parts["fill_drain"]) >= 0
    assert r.breakdown.host_stall >= r.cycles - fixed.cycles


def test_riscv_host_is_refused_with_scalesim_timing(capsys):
    from accelsim.cli import main

    assert main(["simulate", "--network", "resnet18", "--host", "riscv", "--timing", "scalesim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--host riscv must be used with --timing accelsim" in err[0]


def test_fences_are_visible_from_the_cycle_after_the_release():
    """The SoC's FENCES counter register takes the release pulse at the end of the release cycle."""
    from accelsim.host.soc_map import FENCES

    cfg = preset("gemmini")
    sink = SchedulerSink(cfg)
    t = 100
    for c in program(lower(ConvLayer(name="x", N=1, M=16, C=16, H=4, W=4, R=1, S=1), cfg)):
        t = sink.present(c.words(), t) + 8
    (release,) = sink.fence_releases
    assert (sink.read(FENCES, release), sink.read(FENCES, release + 1)) == (0, 1)


def test_simulate_with_the_riscv_host_and_dot_product_pes(capsys):
    """`simulate --preset tensorcore --host riscv` (V = 4): the firmware drives the V-wide tiling; traffic is
    the fixed host's, the breakdown sums, and the firmware costs no less than the fixed-HI host."""
    from accelsim.cli import main
    from accelsim.result import BREAKDOWN_KEYS
    from accelsim.sim import simulate_network

    layer = ConvLayer(name="c", N=1, M=32, C=40, H=8, W=8, R=3, S=3, pad=1)
    arch = preset("tensorcore")
    (r,) = simulate_network([layer], arch, host="riscv").layers
    (fixed,) = simulate_network([layer], replace(arch, host_issue_cycles=1)).layers
    assert sum(getattr(r.breakdown, k) for k in BREAKDOWN_KEYS) == r.cycles
    assert r.cycles > fixed.cycles and r.breakdown.host_stall >= r.cycles - fixed.cycles
    assert (r.macs, r.dram_read_bytes, r.dram_write_bytes) == (fixed.macs, fixed.dram_read_bytes,
                                                               fixed.dram_write_bytes)
    assert main(["simulate", "--layer", "M=32,C=40,H=8,W=8,R=3,S=3,pad=1", "--preset", "tensorcore",
                 "--host", "riscv", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][0]["cycles"] == r.cycles
