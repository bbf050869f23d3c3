"""Requantize: elaborates, converts, rejects bad parameters, and matches accelsim.reference.requantize."""

from __future__ import annotations

import pytest

from tests.rtl.benches import run_component_bench


def _dut(lanes: int):
    from accelsim.rtl.requantize import Requantize

    return Requantize(lanes)


@pytest.mark.rtl
def test_requantize_rejects_bad_lanes():
    from accelsim.rtl.requantize import Requantize

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="lanes must be a positive integer"):
        Requantize(0)


@pytest.mark.rtl
def test_requantize_amaranth_sim_matches_reference():
    """The same edge values through amaranth.sim (no Verilog), as a fast first check."""
    import random

    import numpy as np
    from accelsim.rtl.requantize import Requantize
    from amaranth.sim import Simulator

    from accelsim.reference import requantize
    from tests.rtl.bench_requantize import edge_values

    dut = Requantize(3)
    rng = random.Random(5)

    async def bench(ctx):
        for shift in (0, 1, 7, 16, 30, 31):
            vals = edge_values(shift)
            vals += [0] * (-len(vals) % 3)
            for at in range(0, len(vals), 3):
                vec = vals[at:at + 3]
                rng.shuffle(vec)
                ctx.set(dut.shift, shift)
                ctx.set(dut.i, sum((v & 0xFFFFFFFF) << (32 * lane) for lane, v in enumerate(vec)))
                word = ctx.get(dut.o)
                got = np.array([(word >> (8 * lane)) & 0xFF for lane in range(3)], dtype=np.uint8)
                got = got.view(np.int8)
                want = requantize(np.array(vec, dtype=np.int32), shift)
                assert got.tolist() == want.tolist(), (shift, vec)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()


@pytest.mark.rtl
@pytest.mark.parametrize("sim, lanes", [
    ("icarus", 1),
    ("icarus", 4),
    pytest.param("verilator", 8, marks=pytest.mark.slow),
])
def test_requantize_matches_reference(tmp_path, sim, lanes):
    tests, failed = run_component_bench(
        tmp_path, sim, _dut(lanes), toplevel="requantize", bench="bench_requantize",
        env={"ACCELSIM_LANES": str(lanes), "ACCELSIM_SEED": str(lanes + 11)},
    )
    assert (tests, failed) == (1, 0)
