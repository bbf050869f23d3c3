"""Dram: elaborates, converts, answers every read exactly L cycles later with its tag and the bytes."""

from __future__ import annotations

import json

import pytest

from tests.rtl.benches import run_component_bench
from tests.rtl.layers import small_arch

DRAM_BYTES = 512

# (BW, L): BW = 1, a typical one, wide with a long latency, L = 1
CONFIGS = {"b1l2": (1, 2), "b4l4": (4, 4), "b16l9": (16, 9), "b2l1": (2, 1)}


def _params(config: str):
    from accelsim.rtl.params import AccelParams

    bw, lat = CONFIGS[config]
    return small_arch(dram_bytes_per_cycle=bw, dram_latency_cycles=lat), AccelParams.from_arch(
        small_arch(dram_bytes_per_cycle=bw, dram_latency_cycles=lat))


@pytest.mark.rtl
def test_dram_ports_and_errors():
    from accelsim.cosim.dram import Dram
    from amaranth.back import verilog

    from accelsim.errors import AccelsimError

    for config in CONFIGS:
        _, p = _params(config)
        text = verilog.convert(Dram(p, size_bytes=DRAM_BYTES), name="dram")
        for port in ("rd_valid", "rd_addr", "rd_lane_en", "rd_tag", "rsp_valid", "rsp_data", "rsp_tag",
                     "wr_valid", "wr_addr", "wr_data", "wr_lane_en"):
            assert port in text
    with pytest.raises(AccelsimError, match="size_bytes must be a power of two"):
        Dram(p, size_bytes=1000)


@pytest.mark.rtl
def test_dram_ports_are_the_accelerators_flipped():
    from accelsim.cosim.dram import Dram
    from accelsim.rtl.params import dram_read_members, dram_write_members
    from amaranth.lib import wiring

    _, p = _params("b4l4")
    BW = p.dram_bytes_per_cycle
    requester = wiring.Signature(dram_read_members(BW) | dram_write_members(BW))
    assert Dram(p, size_bytes=DRAM_BYTES).signature == requester.flip()


@pytest.mark.rtl
@pytest.mark.parametrize("sim, config", [
    *[("icarus", name) for name in CONFIGS],
    pytest.param("verilator", "b4l4", marks=pytest.mark.slow),
])
def test_dram_bench(tmp_path, sim, config):
    from accelsim.cosim.dram import Dram
    from accelsim.cosim.sim_memory import SOURCE as SIM_MEMORY_SOURCE

    arch, p = _params(config)
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        Dram(p, size_bytes=DRAM_BYTES),
        toplevel="dram",
        bench="bench_dram",
        sources=[SIM_MEMORY_SOURCE],
        env={
            "ACCELSIM_ARCH": json.dumps(arch.to_dict()),
            "ACCELSIM_DRAM_BYTES": str(DRAM_BYTES),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)
