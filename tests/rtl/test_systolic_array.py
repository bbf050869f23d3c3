# amaranth: UnusedElaboratable=no
"""SystolicArray: weight shift-in, skewed rows reach PE (i, j) in tau+i+j, whole output rows AR+AC-1 cycles
after their input (the latency inside accelsim.timing.systolic_array_cycles); output-stationary: sums settled
AR+AC-1 cycles after the last pair, then AR rows shifted out. MAC PEs (V = 1) and dot-product PEs (V = 4,
each PE reducing 4 int8 pairs a cycle) on the same latencies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rtl.benches import run_component_bench

SHAPES = [(2, 3), (4, 4), (3, 5), (1, 4), (5, 1), (1, 1)]
DOT_SHAPES = [(2, 3), (3, 2), (1, 1)]  # V = 4


@pytest.mark.rtl
def test_systolic_array_rejects_bad_shape():
    from accelsim.rtl.systolic_array import SystolicArray

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="array_rows must be a positive integer, not 0"):
        SystolicArray(0, 4)
    with pytest.raises(AccelsimError, match="array_cols must be a positive integer, not -1"):
        SystolicArray(4, -1)
    with pytest.raises(AccelsimError, match="dot_width must be one of 1, 2, 4, 8, not 3"):
        SystolicArray(2, 2, dot_width=3)


def _run(tmp_path: Path, sim: str, AR: int, AC: int, seed: int, V: int = 1) -> None:
    from accelsim.rtl.systolic_array import SystolicArray

    tests, failed = run_component_bench(
        tmp_path, sim, SystolicArray(AR, AC, dot_width=V), toplevel="systolic_array",
        bench="bench_systolic_array",
        env={"ACCELSIM_AR": str(AR), "ACCELSIM_AC": str(AC), "ACCELSIM_V": str(V),
             "ACCELSIM_SEED": str(seed)},
    )
    assert (tests, failed) == (2, 0)


@pytest.mark.rtl
@pytest.mark.parametrize("AR, AC", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_systolic_array_icarus(tmp_path, AR, AC):
    _run(tmp_path, "icarus", AR, AC, seed=10 * AR + AC)


@pytest.mark.rtl
@pytest.mark.parametrize("AR, AC", DOT_SHAPES, ids=[f"{r}x{c}v4" for r, c in DOT_SHAPES])
def test_systolic_array_dot_icarus(tmp_path, AR, AC):
    _run(tmp_path, "icarus", AR, AC, seed=10 * AR + AC + 4, V=4)


@pytest.mark.rtl
@pytest.mark.slow
def test_systolic_array_verilator(tmp_path):
    _run(tmp_path, "verilator", 4, 3, seed=43)


@pytest.mark.rtl
@pytest.mark.slow
def test_systolic_array_dot_verilator(tmp_path):
    _run(tmp_path, "verilator", 3, 4, seed=34, V=4)
