"""ExecuteUnit: PRELOAD/COMPUTE data exact against a numpy model and busy/push cycles equal to
accelsim.timing.busy_cycles (FakeExecute's behaviour), with the spads' read cycles pinned by the bench, in
every dataflow (the MODE register's run-time field: WS, OS, IS in turn); with MAC PEs and with dot-product
PEs (V = 4: V-row spad words, AR*V reduction lanes, OS reading 4 k-rows a cycle)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.rtl.benches import run_component_bench

# small buffers (odd sizes exercise the b*rows adders) so the bench can rewrite every spad row quickly
CONFIGS = {
    "2x3": dict(array_rows=2, array_cols=3, ifmap_rows=7, weight_rows=3, acc_rows=6),
    "4x4": dict(array_rows=4, array_cols=4, ifmap_rows=9, weight_rows=5, acc_rows=8),
    "3x5": dict(array_rows=3, array_cols=5, ifmap_rows=6, weight_rows=4, acc_rows=5),
    "1x4": dict(array_rows=1, array_cols=4, ifmap_rows=5, weight_rows=1, acc_rows=4),
    "5x1": dict(array_rows=5, array_cols=1, ifmap_rows=6, weight_rows=6, acc_rows=7),
    # V = 4: rows per buffer a multiple of V, the stationary buffers hold AR*V rows
    "2x3v4": dict(array_rows=2, array_cols=3, ifmap_rows=12, weight_rows=8, acc_rows=6, pe_dot_width=4),
    "3x2v4": dict(array_rows=3, array_cols=2, ifmap_rows=16, weight_rows=12, acc_rows=5, pe_dot_width=4),
}


def params_of(config: str):
    from accelsim.rtl.params import AccelParams

    from tests.rtl.layers import small_arch

    if config.startswith("arch3x2"):  # the buffer sizes the accelerator really gets from a 1 KiB arch
        V = 4 if config.endswith("v4") else 1
        return AccelParams.from_arch(small_arch(rows=3, cols=2, pe_dot_width=V))
    cfg = CONFIGS[config]
    lanes = max(cfg["array_rows"] * cfg.get("pe_dot_width", 1), cfg["array_cols"])  # both spads: WS/OS, IS
    return AccelParams(dram_bytes_per_cycle=4, dram_latency_cycles=3, queue_depth=2, host_issue_cycles=1,
                       ifmap_lanes=lanes, weight_lanes=lanes, **CONFIGS[config])


def execute_top(params):
    """ExecuteUnit + two test spads (Memory, 1-cycle synchronous read, two write ports each: ``a`` and ``b``,
    so the bench can write a row just before the unit reads it and clobber it right after). A spad word is
    V rows (V = pe_dot_width, as the Scratchpad's): a write port takes a word address, a V-row word and V
    row enables."""
    from accelsim.rtl.execute_unit import ExecuteUnit
    from accelsim.rtl.params import CMD_BITS, LayerRegs
    from amaranth import Module
    from amaranth.lib import memory, wiring
    from amaranth.lib.wiring import In, Out
    from amaranth.utils import exact_log2

    AC, V = params.array_cols, params.pe_dot_width
    sub = exact_log2(V)
    spads = {"if": (params.ifmap_lanes, params.ifmap_rows, params.ifmap_addr_bits),
             "wt": (params.weight_lanes, params.weight_rows, params.weight_addr_bits)}

    class ExecuteTop(wiring.Component):
        def __init__(self):
            members = {
                "cmd": In(CMD_BITS), "cmd_valid": In(1), "regs": In(LayerRegs), "cmd_ready": Out(1),
                "push_prev": Out(1),
                "push_next": Out(1), "idle": Out(1), "last": Out(1),
                "acc_rd_addr": In(params.acc_addr_bits), "acc_rd_data": Out(AC * 32),
                "if_r_addr": Out(params.ifmap_addr_bits), "wt_r_addr": Out(params.weight_addr_bits),
            }
            for s, (lanes, _, aw) in spads.items():
                for w in "ab":
                    members |= {f"{s}_w{w}_en": In(V), f"{s}_w{w}_addr": In(aw - sub),
                                f"{s}_w{w}_data": In(V * lanes * 8)}
            super().__init__(members)

        def elaborate(self, platform):
            m = Module()
            eu = m.submodules.eu = ExecuteUnit(params)
            for s, (lanes, rows, _) in spads.items():
                mem = m.submodules[f"{s}_spad"] = memory.Memory(shape=V * lanes * 8, depth=2 * rows // V,
                                                                init=[])
                for w in "ab":
                    wp = mem.write_port(granularity=lanes * 8) if V > 1 else mem.write_port()
                    m.d.comb += [wp.en.eq(getattr(self, f"{s}_w{w}_en")),
                                 wp.addr.eq(getattr(self, f"{s}_w{w}_addr")),
                                 wp.data.eq(getattr(self, f"{s}_w{w}_data"))]
                rp = mem.read_port()
                m.d.comb += [rp.addr.eq(getattr(eu, f"{s}_r_addr")[sub:]),
                             getattr(eu, f"{s}_r_data").eq(rp.data),
                             getattr(self, f"{s}_r_addr").eq(getattr(eu, f"{s}_r_addr"))]
            inputs = ("cmd", "cmd_valid", "regs", "acc_rd_addr")
            for name in inputs:
                m.d.comb += getattr(eu, name).eq(getattr(self, name))
            for name in ("cmd_ready", "push_prev", "push_next", "idle", "last", "acc_rd_data"):
                m.d.comb += getattr(self, name).eq(getattr(eu, name))
            return m

    return ExecuteTop()


@pytest.mark.rtl
def test_execute_unit_elaborates_and_converts():
    from accelsim.rtl.execute_unit import ExecuteUnit
    from amaranth.back import verilog

    text = verilog.convert(ExecuteUnit(params_of("2x3")), name="execute_unit")
    assert "module execute_unit" in text
    for port in ("cmd_ready", "push_prev", "if_r_addr", "wt_r_data", "acc_rd_data", "idle"):
        assert port in text


def _run(tmp_path: Path, sim: str, config: str, seeds: int, sequences: int) -> None:

    params = params_of(config)
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        execute_top(params),
        toplevel="execute_top",
        bench="bench_execute_unit",
        env={
            "ACCELSIM_PARAMS": json.dumps(dataclasses.asdict(params)),
            "ACCELSIM_SEEDS": str(seeds),
            "ACCELSIM_SEQUENCES": str(sequences),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)


@pytest.mark.rtl
@pytest.mark.parametrize("config", [*CONFIGS, "arch3x2", "arch3x2v4"])
def test_execute_unit_icarus(tmp_path, config):
    _run(tmp_path, "icarus", config, seeds=3, sequences=3)


@pytest.mark.rtl
@pytest.mark.slow
def test_execute_unit_verilator(tmp_path):
    _run(tmp_path, "verilator", "3x5", seeds=4, sequences=4)


@pytest.mark.rtl
@pytest.mark.slow
def test_execute_unit_dot_verilator(tmp_path):
    _run(tmp_path, "verilator", "3x2v4", seeds=4, sequences=4)
