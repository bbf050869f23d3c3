"""PE: one-cycle activation and partial-sum hops, int8 x int8 + int32 wrap, weight shift chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from accelsim.rtl.sim import run_bench

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, sim: str, seed: int) -> None:
    from accelsim.rtl.pe import PE
    from amaranth.back import verilog

    src = tmp_path / "pe.v"
    src.write_text(verilog.convert(PE(), name="pe"))
    tests, failed = run_bench(
        sim=sim, verilog_sources=[src], toplevel="pe", test_module="tests.rtl.bench_pe",
        build_dir=tmp_path / f"build_{sim}", python_path=[ROOT], extra_env={"ACCELSIM_SEED": str(seed)},
    )
    assert (tests, failed) == (1, 0)


@pytest.mark.rtl
@pytest.mark.parametrize("seed", [1, 2])
def test_pe_icarus(tmp_path, seed):
    _run(tmp_path, "icarus", seed)


@pytest.mark.rtl
@pytest.mark.slow
def test_pe_verilator(tmp_path):
    _run(tmp_path, "verilator", 3)
