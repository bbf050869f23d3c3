"""Controller: elaborates, converts, and (with FAKE units) meets accelsim.schedule.schedule, cycle for
cycle."""

from __future__ import annotations

import json

import pytest

from tests.rtl.benches import run_component_bench
from tests.rtl.layers import small_arch

# (Q, HI, L, BW, AR, AC): queue pressure (Q=1), slow host (HI=7), long/short DRAM latency, narrow/wide DRAM
CONFIGS = {
    "q1h1l3b4": dict(queue_depth=1, host_issue_cycles=1, dram_latency_cycles=3, dram_bytes_per_cycle=4),
    "q2h3l9b2": dict(queue_depth=2, host_issue_cycles=3, dram_latency_cycles=9, dram_bytes_per_cycle=2),
    "q4h1l1b16": dict(queue_depth=4, host_issue_cycles=1, dram_latency_cycles=1, dram_bytes_per_cycle=16,
                      rows=3, cols=5),
    "q3h7l20b8": dict(queue_depth=3, host_issue_cycles=7, dram_latency_cycles=20, dram_bytes_per_cycle=8,
                      rows=2, cols=3),
    "q8h2l6b1": dict(queue_depth=8, host_issue_cycles=2, dram_latency_cycles=6, dram_bytes_per_cycle=1,
                     rows=4, cols=2),
}


def _fake_top(arch):
    from accelsim.rtl.params import AccelParams

    from tests.rtl.fake_units import FakeTop

    return FakeTop(AccelParams.from_arch(arch))


@pytest.mark.rtl
def test_controller_elaborates_and_converts(tmp_path):
    from accelsim.rtl.controller import Controller
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    for cfg in CONFIGS.values():
        text = verilog.convert(Controller(AccelParams.from_arch(small_arch(**cfg))), name="controller")
        assert "module controller" in text
        for port in ("ld_cmd_valid", "ex_push_prev", "st_idle", "done", "cmd_ready"):
            assert port in text


@pytest.mark.rtl
@pytest.mark.parametrize("sim, config, programs", [
    *[("icarus", name, 6) for name in CONFIGS],
    pytest.param("verilator", "q2h3l9b2", 12, marks=pytest.mark.slow),
])
def test_controller_matches_schedule(tmp_path, sim, config, programs):
    arch = small_arch(**CONFIGS[config])
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        _fake_top(arch),
        toplevel="fake_top",
        bench="bench_controller",
        env={
            "ACCELSIM_ARCH": json.dumps(arch.to_dict()),
            "ACCELSIM_PROGRAMS": str(programs),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)
