# amaranth: UnusedElaboratable=no
"""Accumulator: read-modify-write (old read in X, written at the edge closing X+1) and the store read port."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rtl.benches import run_component_bench

SHAPES = [(3, 5), (4, 8), (1, 3), (5, 1)]  # (AC, acc_rows)


@pytest.mark.rtl
def test_accumulator_rejects_bad_parameters():
    from accelsim.rtl.accumulator import Accumulator

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="acc_rows must be a positive integer, not 0"):
        Accumulator(4, 0)
    with pytest.raises(AccelsimError, match="array_cols must be a positive integer, not 0"):
        Accumulator(0, 4)


def _run(tmp_path: Path, sim: str, AC: int, acc_rows: int, seed: int) -> None:
    from accelsim.rtl.accumulator import Accumulator

    tests, failed = run_component_bench(
        tmp_path, sim, Accumulator(AC, acc_rows), toplevel="accumulator", bench="bench_accumulator",
        env={"ACCELSIM_AC": str(AC), "ACCELSIM_ACC_ROWS": str(acc_rows), "ACCELSIM_SEED": str(seed)},
    )
    assert (tests, failed) == (1, 0)


@pytest.mark.rtl
@pytest.mark.parametrize("AC, acc_rows", SHAPES, ids=[f"ac{c}r{r}" for c, r in SHAPES])
def test_accumulator_icarus(tmp_path, AC, acc_rows):
    _run(tmp_path, "icarus", AC, acc_rows, seed=AC * 100 + acc_rows)


@pytest.mark.rtl
@pytest.mark.slow
def test_accumulator_verilator(tmp_path):
    _run(tmp_path, "verilator", 4, 8, seed=5)
