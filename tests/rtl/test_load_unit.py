"""LoadUnit: elaborates, converts, and (with the real Dram and both Scratchpads) loads every row of real LOAD
commands of every dataflow (WS: input rows are pixels; OS/IS: rows are reduction indices; IS weights rows are
channels) with the im2col/weight values, cycle-exact to accelsim.timing.load_unit_cycles and the tail L."""

from __future__ import annotations

import json

import pytest

from tests.rtl.benches import run_component_bench
from tests.rtl.layers import small_arch

DRAM_BYTES = 4096

# lanes > BW with partial beats; BW = 1; BW > every lane count; odd lanes with L = 1
CONFIGS = {
    "a8x6b4l3": dict(rows=8, cols=6, dram_bytes_per_cycle=4, dram_latency_cycles=3),
    "a4x4b1l2": dict(rows=4, cols=4, dram_bytes_per_cycle=1, dram_latency_cycles=2),
    "a3x5b16l9": dict(rows=3, cols=5, dram_bytes_per_cycle=16, dram_latency_cycles=9),
    "a5x3b2l1": dict(rows=5, cols=3, dram_bytes_per_cycle=2, dram_latency_cycles=1),
}


def load_top(params, dram_bytes: int):
    """LoadUnit + Dram + ifmap/weight Scratchpads, with the host's DRAM write channel, the spads' read ports
    and the unit's DRAM requests and spad writes mirrored out for the monitor."""
    from accelsim.cosim.dram import Dram
    from accelsim.rtl.load_unit import LoadUnit
    from accelsim.rtl.params import CMD_BITS, TAG_BITS, LayerRegs
    from accelsim.rtl.scratchpad import Scratchpad
    from amaranth import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    AR, AC, BW = params.ifmap_lanes, params.weight_lanes, params.dram_bytes_per_cycle  # spad lanes
    ia, wa = params.ifmap_addr_bits, params.weight_addr_bits

    class LoadTop(wiring.Component):
        def __init__(self):
            super().__init__({
                "cmd": In(CMD_BITS), "cmd_valid": In(1), "cmd_ready": Out(1), "push_prev": Out(1),
                "push_next": Out(1), "idle": Out(1), "regs": In(LayerRegs),
                "host_wr_valid": In(1), "host_wr_addr": In(BW * 32), "host_wr_data": In(BW * 8),
                "host_wr_lane_en": In(BW),
                "if_r_addr": In(ia), "if_r_data": Out(AR * 8), "wt_r_addr": In(wa), "wt_r_data": Out(AC * 8),
                "rd_valid": Out(1), "rd_addr": Out(BW * 32), "rd_lane_en": Out(BW), "rd_tag": Out(TAG_BITS),
                "if_w_en": Out(1), "if_w_addr": Out(ia), "if_w_data": Out(AR * 8), "if_w_mask": Out(AR),
                "wt_w_en": Out(1), "wt_w_addr": Out(wa), "wt_w_data": Out(AC * 8), "wt_w_mask": Out(AC),
            })

        def elaborate(self, platform):
            m = Module()
            ld = m.submodules.load_unit = LoadUnit(params)
            dram = m.submodules.dram = Dram(params, size_bytes=dram_bytes)
            ifs = m.submodules.ifmap_spad = Scratchpad(AR, params.ifmap_rows)
            wts = m.submodules.weight_spad = Scratchpad(AC, params.weight_rows)
            for n in ("cmd", "cmd_valid", "regs"):
                m.d.comb += getattr(ld, n).eq(getattr(self, n))
            for n in ("cmd_ready", "push_prev", "push_next", "idle"):
                m.d.comb += getattr(self, n).eq(getattr(ld, n))
            for n in ("rd_valid", "rd_addr", "rd_lane_en", "rd_tag"):
                m.d.comb += [getattr(dram, n).eq(getattr(ld, n)), getattr(self, n).eq(getattr(ld, n))]
            for n in ("rsp_valid", "rsp_data", "rsp_tag"):
                m.d.comb += getattr(ld, n).eq(getattr(dram, n))
            for n in ("valid", "addr", "data", "lane_en"):
                m.d.comb += getattr(dram, f"wr_{n}").eq(getattr(self, f"host_wr_{n}"))
            for pre, spad in (("if", ifs), ("wt", wts)):
                for n in ("en", "addr", "data", "mask"):
                    src = getattr(ld, f"{pre}_w_{n}")
                    m.d.comb += [getattr(spad, f"w_{n}").eq(src), getattr(self, f"{pre}_w_{n}").eq(src)]
                m.d.comb += [spad.r_addr.eq(getattr(self, f"{pre}_r_addr")),
                             getattr(self, f"{pre}_r_data").eq(spad.r_data)]
            return m

    return LoadTop()


def _dut(arch):
    from accelsim.rtl.params import AccelParams

    return load_top(AccelParams.from_arch(arch), DRAM_BYTES)


@pytest.mark.rtl
def test_load_unit_elaborates_and_converts():
    from accelsim.rtl.load_unit import LoadUnit, tag_layout
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    for cfg in CONFIGS.values():
        p = AccelParams.from_arch(small_arch(**cfg))
        text = verilog.convert(LoadUnit(p), name="load_unit")
        assert "module load_unit" in text
        for port in ("rd_lane_en", "rsp_tag", "if_w_mask", "wt_w_data", "push_next", "idle", "cmd_ready"):
            assert port in text
        assert max(lsb + w for lsb, w in tag_layout(p).values()) <= 32


@pytest.mark.rtl
@pytest.mark.parametrize("sim, config, layers", [
    *[("icarus", name, 6) for name in CONFIGS],
    pytest.param("verilator", "a8x6b4l3", 12, marks=pytest.mark.slow),
])
def test_load_unit_bench(tmp_path, sim, config, layers):
    from accelsim.cosim.sim_memory import SOURCE as SIM_MEMORY_SOURCE

    arch = small_arch(**CONFIGS[config])
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        _dut(arch),
        toplevel="load_top",
        bench="bench_load_unit",
        sources=[SIM_MEMORY_SOURCE],
        env={
            "ACCELSIM_ARCH": json.dumps(arch.to_dict()),
            "ACCELSIM_LAYERS": str(layers),
            "ACCELSIM_DRAM_BYTES": str(DRAM_BYTES),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)
