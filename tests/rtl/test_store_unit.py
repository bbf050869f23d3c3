"""StoreUnit: elaborates, converts, and moves accumulator rows to DRAM byte for byte with FakeStore's timing.

The bench top wraps the unit with an accumulator-like memory (``2*acc_rows`` rows of AC int32 lanes, one
synchronous always-enabled read port driven by the unit, one write port the bench fills) and exposes the DRAM
write channel; the bench is tests/rtl/bench_store_unit.py.
"""

from __future__ import annotations

import json

import pytest

from tests.rtl.benches import run_component_bench
from tests.rtl.layers import small_arch

# BW = 1 (every row wider than a beat), BW = 4, BW = 6 and BW = 3 (not multiples of ob = 4: beats start
# inside an int32, at phases 0/2 and 0/3/2/1), BW = 16 with AC = 8 (int32 rows of 4..32 bytes, int8 rows of
# 1..8 bytes: narrower and wider than a beat); long and short L.
CONFIGS = {
    "b1l3c4": dict(dram_bytes_per_cycle=1, dram_latency_cycles=3, cols=4),
    "b4l5c4": dict(dram_bytes_per_cycle=4, dram_latency_cycles=5, cols=4),
    "b6l1c5": dict(dram_bytes_per_cycle=6, dram_latency_cycles=1, cols=5, rows=2),
    "b3l2c5": dict(dram_bytes_per_cycle=3, dram_latency_cycles=2, cols=5, rows=3),
    "b16l7c8": dict(dram_bytes_per_cycle=16, dram_latency_cycles=7, cols=8, rows=3),
}


def store_top(params):
    """The unit + an accumulator-like memory the bench fills (row ``acc_w_addr`` <- ``acc_w_data``)."""
    from accelsim.rtl.params import CMD_BITS, LayerRegs
    from accelsim.rtl.store_unit import StoreUnit
    from amaranth import Module
    from amaranth.lib import memory, wiring
    from amaranth.lib.wiring import In, Out

    AC, BW = params.array_cols, params.dram_bytes_per_cycle

    class StoreTop(wiring.Component):
        def __init__(self):
            super().__init__({
                "cmd": In(CMD_BITS), "cmd_valid": In(1), "cmd_ready": Out(1),
                "push_prev": Out(1), "push_next": Out(1), "idle": Out(1), "regs": In(LayerRegs),
                "acc_w_en": In(1), "acc_w_addr": In(params.acc_addr_bits), "acc_w_data": In(AC * 32),
                "acc_rd_addr": Out(params.acc_addr_bits),
                "wr_valid": Out(1), "wr_addr": Out(BW * 32), "wr_data": Out(BW * 8), "wr_lane_en": Out(BW),
            })

        def elaborate(self, platform):
            m = Module()
            mem = m.submodules.acc = memory.Memory(shape=AC * 32, depth=2 * params.acc_rows, init=[])
            wp = mem.write_port()
            rp = mem.read_port(domain="sync")
            st = m.submodules.store = StoreUnit(params)
            m.d.comb += [
                wp.en.eq(self.acc_w_en), wp.addr.eq(self.acc_w_addr), wp.data.eq(self.acc_w_data),
                rp.addr.eq(st.acc_rd_addr), st.acc_rd_data.eq(rp.data), self.acc_rd_addr.eq(st.acc_rd_addr),
                st.cmd.eq(self.cmd), st.cmd_valid.eq(self.cmd_valid), self.cmd_ready.eq(st.cmd_ready),
                self.push_prev.eq(st.push_prev), self.push_next.eq(st.push_next), self.idle.eq(st.idle),
                st.regs.eq(self.regs),
                self.wr_valid.eq(st.wr_valid), self.wr_addr.eq(st.wr_addr), self.wr_data.eq(st.wr_data),
                self.wr_lane_en.eq(st.wr_lane_en),
            ]
            return m

    return StoreTop()


def _dut(arch):
    from accelsim.rtl.params import AccelParams

    return store_top(AccelParams.from_arch(arch))


@pytest.mark.rtl
def test_store_unit_elaborates_and_converts():
    from accelsim.rtl.params import AccelParams
    from accelsim.rtl.store_unit import StoreUnit
    from amaranth.back import verilog

    odd = [dict(dram_bytes_per_cycle=bw, cols=cols) for bw, cols in ((2, 1), (5, 7), (7, 2), (64, 16))]
    for cfg in [*CONFIGS.values(), *odd]:
        text = verilog.convert(StoreUnit(AccelParams.from_arch(small_arch(**cfg))), name="store_unit")
        assert "module store_unit" in text
        for port in ("cmd_ready", "push_prev", "idle", "acc_rd_addr", "acc_rd_data", "wr_lane_en", "wr_addr"):
            assert port in text


@pytest.mark.rtl
@pytest.mark.parametrize("sim, config, programs, direct", [
    *[("icarus", name, 3, 32) for name in CONFIGS],
    pytest.param("verilator", "b6l1c5", 12, 200, marks=pytest.mark.slow),
])
def test_store_unit_matches_contract(tmp_path, sim, config, programs, direct):
    arch = small_arch(**CONFIGS[config])
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        _dut(arch),
        toplevel="store_top",
        bench="bench_store_unit",
        env={
            "ACCELSIM_ARCH": json.dumps(arch.to_dict()),
            "ACCELSIM_PROGRAMS": str(programs),
            "ACCELSIM_DIRECT": str(direct),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)
