"""PE: one-cycle activation and partial-sum hops, int8 x int8 + int32 wrap, weight shift chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rtl.benches import run_component_bench


def _run(tmp_path: Path, sim: str, seed: int) -> None:
    from accelsim.rtl.pe import PE

    tests, failed = run_component_bench(
        tmp_path, sim, PE(), toplevel="pe", bench="bench_pe",
        env={"ACCELSIM_SEED": str(seed)},
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
