"""Scratchpad: elaborates, converts, keeps every byte written under its mask, reads it back a cycle later."""

from __future__ import annotations

import json

import pytest

from tests.rtl.benches import run_component_bench

# (lanes, rows_per_buffer): a typical spad, 1 lane, odd lanes with a non-power-of-two depth, 64 lanes
CONFIGS = {"l4r8": (4, 8), "l1r3": (1, 3), "l13r5": (13, 5), "l64r4": (64, 4)}


def _dut(lanes: int, rows: int):
    from accelsim.rtl.scratchpad import Scratchpad

    return Scratchpad(lanes, rows)


@pytest.mark.rtl
def test_scratchpad_ports_and_errors():
    from accelsim.rtl.scratchpad import Scratchpad
    from amaranth.back import verilog

    from accelsim.errors import AccelsimError

    spad = Scratchpad(13, 5)
    assert (spad.depth, spad.addr_bits) == (10, 4)
    assert len(spad.w_data) == 13 * 8 and len(spad.w_mask) == 13 and len(spad.r_addr) == 4
    text = verilog.convert(spad, name="scratchpad")
    for port in ("w_en", "w_addr", "w_data", "w_mask", "r_addr", "r_data"):
        assert port in text
    with pytest.raises(AccelsimError, match="lanes must be >= 1"):
        Scratchpad(0, 4)


@pytest.mark.rtl
@pytest.mark.parametrize("sim, config", [
    *[("icarus", name) for name in CONFIGS],
    pytest.param("verilator", "l13r5", marks=pytest.mark.slow),
])
def test_scratchpad_bench(tmp_path, sim, config):
    lanes, rows = CONFIGS[config]
    tests, failed = run_component_bench(
        tmp_path,
        sim,
        _dut(lanes, rows),
        toplevel="scratchpad",
        bench="bench_scratchpad",
        env={
            "ACCELSIM_SPAD": json.dumps({"lanes": lanes, "rows_per_buffer": rows}),
            "ACCELSIM_SEED": str(sum(map(ord, config))),
        },
    )
    assert (tests, failed) == (1, 0)
