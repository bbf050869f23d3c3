"""The block formulas: each one's number from the docs, and the command -> formula dispatch."""

import pytest

from accelsim import arch, timing
from accelsim.arch import DF_IS, DF_OS, DF_WS
from accelsim.commands import Command, Op
from accelsim.jit import compiled


def test_block_formulas_match_the_docs():
    AR = AC = BW = 16
    assert timing.load_unit_cycles(rows=100, lanes=16, BW=BW) == 1 + 100
    assert timing.load_unit_cycles(rows=100, lanes=17, BW=BW) == 1 + 200
    assert timing.systolic_array_preload_cycles(AR) == 1 + 16 + 1
    assert timing.systolic_array_cycles(512, DF_WS, AR, AC) == 1 + 512 + 16 + 16 + 1
    assert timing.systolic_array_cycles(512, DF_IS, AR, AC) == 1 + 512 + 16 + 16 + 1
    assert timing.systolic_array_cycles(512, DF_OS, AR, AC) == 1 + 512 + 16 + 16 + 1 + 16
    assert timing.store_unit_cycles(rows=10, lanes=16, out_bytes=4, BW=BW) == 2 + 10 * 4
    assert timing.store_unit_cycles(rows=10, lanes=16, out_bytes=1, BW=BW) == 2 + 10


@pytest.mark.parametrize("cmd, busy", [
    (Command(Op.LOAD, rows=3, lanes=5), 1 + 3 * 2),
    (Command(Op.PRELOAD, lanes=2), 1 + 4 + 1),
    (Command(Op.COMPUTE, rows=7), 1 + 7 + 4 + 6 + 1),
    (Command(Op.STORE, rows=2, lanes=6), 2 + 2 * 6),
])
def test_busy_cycles_picks_the_block_formula(cmd, busy):
    cfg = arch.ArchConfig(array_rows=4, array_cols=6, dram_bytes_per_cycle=4)
    assert timing.busy_cycles(cmd, cfg, out_bytes=4) == busy


def test_busy_cycles_of_a_command_without_a_unit():
    with pytest.raises(ValueError, match="FENCE has no unit"):
        timing.busy_cycles(Command(Op.FENCE), arch.ArchConfig(), out_bytes=4)


def test_formulas_compile_to_the_same_numbers():
    """The compiled twins (what the closed form runs) give the interpreter's numbers."""
    for fn, args in [(timing.load_unit_cycles, (9, 33, 16)), (timing.store_unit_cycles, (9, 7, 4, 3)),
                     (timing.systolic_array_cycles, (40, DF_OS, 8, 4)), (timing.ceil_div, (-7, 2))]:
        assert compiled(fn)(*args) == fn(*args)
