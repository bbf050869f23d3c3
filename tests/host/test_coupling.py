"""The prototype coupling (accelsim.host.coupling): the layer driver on the ISS, every command timed by the
scheduler's rule at the cycle the firmware presents it, FENCES and STATUS answered from its state."""

from __future__ import annotations

from dataclasses import replace

from accelsim.arch import preset
from accelsim.host.coupling import SchedulerSink
from accelsim.host.driver import run_layer
from accelsim.layer import ConvLayer
from accelsim.mapping import lower, program
from accelsim.schedule import schedule


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


def test_compiled_coupling_equals_the_python_sink(conv_elf):
    """run_coupled (ISS + engine rule in one compiled loop) == the ISS handing each event to SchedulerSink."""
    from accelsim.host.coupling import run_coupled
    from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
    from accelsim.host.iss import Iss

    arch = replace(preset(), queue_depth=1)  # long COMPUTEs fill the queue: the store is held back
    layer = ConvLayer(N=1, M=16, C=16, H=32, W=32, R=3, S=3, pad=1)
    sink = SchedulerSink(arch, interpreted=True)
    ref = run_layer(conv_elf, layer, arch, sink=sink)
    machine = Iss(conv_elf)
    machine.poke(DESCRIPTOR_SYMBOL, descriptor(layer, arch))
    got = run_coupled(machine, arch)
    assert (got.exit_code, got.cycles, got.instret) == (ref.exit_code, ref.cycles, ref.instret)
    assert got.commands[:, 4].tolist() == [t for t, _ in sink.presented]
    assert got.commands[:, 5].tolist() == [d for _, d in sink.presented]
    assert got.schedule == sink.finish()
    assert got.fence_releases == (got.schedule.total_cycles,)
    assert (got.commands[:, 5] > got.commands[:, 4]).any()  # back-pressure happened and was charged
