"""accelsim.host.coupled: the scheduler as the ISS's command sink.

The sink is the engine's rule with the host's presentation times, so presenting a command stream at the
fetcher's times (``t_i = d_{i-1} + HI``) must reproduce accelsim.schedule.schedule exactly; and with the real
firmware in the loop, every command is dispatched no earlier than presented, the program ends after the
FENCE releases, and the commands are mapping.program's."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, assume, given, settings

from accelsim.arch import preset
from accelsim.errors import AccelsimError
from accelsim.host import soc_map as sm
from accelsim.host.build import build_conv
from accelsim.host.coupled import SchedulerSink, run_layer
from accelsim.layer import ConvLayer
from accelsim.mapping import lower, program
from accelsim.schedule import schedule
from tests.strategies import archs, layers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layer=layers(), arch=archs())
def test_sink_at_the_fetchers_times_is_the_schedule(layer, arch):
    try:
        cmds = program(lower(layer, arch))
    except AccelsimError:  # a layer the buffers cannot hold: not this test's subject
        assume(False)
    want = schedule(cmds, arch)
    sink = SchedulerSink(arch)
    d = -arch.host_issue_cycles
    for c in cmds:
        d = sink.present(c.words(), d + arch.host_issue_cycles)
    got = sink.finish()
    assert [c[1:] for c in sink.cycles] == [tuple(c) for c in want.cycles]
    assert replace(got, cycles=want.cycles) == want  # totals and the whole breakdown


def test_fences_and_status_as_the_rtl_registers_show_them():
    arch = preset("gemmini")
    sink = SchedulerSink(arch)
    cmds = program(lower(ConvLayer(name="x", N=1, M=16, C=16, H=4, W=4, R=1, S=1), arch))
    t = 100
    for c in cmds:
        t = sink.present(c.words(), t) + 8
    (release,) = sink.fence_done
    assert sink.read(sm.FENCES, release) == 0 and sink.read(sm.FENCES, release + 1) == 1
    assert not sink.read(sm.STATUS, release) & sm.STATUS_IDLE
    assert sink.read(sm.STATUS, release + 1) & sm.STATUS_IDLE


@pytest.fixture(scope="module")
def conv_elf(tmp_path_factory):
    return build_conv(tmp_path_factory.mktemp("fw") / "conv.elf")


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_firmware_in_the_loop(conv_elf, dataflow):
    arch = preset("gemmini").with_dataflow(dataflow)
    layer = ConvLayer(name="l", N=1, M=24, C=20, H=9, W=9, R=3, S=3, stride=2, pad=1)
    sink = SchedulerSink(arch)
    run = run_layer(conv_elf, layer, arch, sink=sink)
    assert run.commands == len(sink.cycles) == len(program(lower(layer, arch)))
    assert run.schedule.commands == run.commands
    presented = [c[0] for c in sink.cycles]
    dispatched = [c[1] for c in sink.cycles]
    assert all(t <= d for t, d in zip(presented, dispatched, strict=True))
    assert all(a < b for a, b in itertools.pairwise(presented))  # one core, in order
    (release,) = sink.fence_done
    assert release == run.last_done < run.exit_cycle  # the program waited for the FENCE


def test_simulate_with_the_riscv_host(capsys):
    """`simulate --host riscv`: the layer's cycles are the firmware's run, the breakdown sums to them, and
    the host costs time the fixed-HI model does not see."""
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
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0]["cycles"] == r.cycles


def test_riscv_host_is_refused_with_scalesim_timing(capsys):
    from accelsim.cli import main

    assert main(["simulate", "--network", "resnet18", "--host", "riscv", "--timing", "scalesim"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--host riscv must be used with --timing accelsim" in err[0]
