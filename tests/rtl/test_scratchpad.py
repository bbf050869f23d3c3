"""Scratchpad: elaborates, converts, keeps every byte written under its mask, reads it back a cycle later.

The bench runs in-process with amaranth.sim. Driver: random traffic over several seeds' worth of cycles:
write beats with random byte masks (including empty and full masks) to random rows, idle cycles in between,
and a read address every cycle, often the row being written in the same cycle. Monitor: ``r_data`` every
cycle. Reference model: a (2*rows_per_buffer) x lanes uint8 array; a write applies at the edge closing its
cycle. Checker: the measured read latency (the delay at which ``r_data`` is the row addressed in cycle ``t``
as it was before cycle ``t``'s write: read-old-data) equals SCRATCHPAD_READ_LATENCY_CYCLES, every cycle.
With ``read_rows`` V > 1 (dot-product PEs) the read returns the V-row word holding the addressed row (rows
``r - r % V .. r - r % V + V - 1``) and the row writes are those of V = 1.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.rtl.benches import check_latency, measure_latency, simulate

CYCLES_PER_SEED = 400
SEEDS = 3

# (lanes, rows_per_buffer, read_rows V): a typical spad, 1 lane, odd lanes with a non-power-of-two depth,
# 64 lanes; V-row reads: 4 rows of 3 lanes (buffer 1 starts at word 3), 2 rows, 8 rows of 1 lane
CONFIGS = {"l4r8": (4, 8, 1), "l1r3": (1, 3, 1), "l13r5": (13, 5, 1), "l64r4": (64, 4, 1),
           "l3r12v4": (3, 12, 4), "l5r6v2": (5, 6, 2), "l1r8v8": (1, 8, 8)}


def _dut(lanes: int, rows: int, read_rows: int = 1):
    from accelsim.rtl.scratchpad import Scratchpad

    return Scratchpad(lanes, rows, read_rows)


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
    with pytest.raises(AccelsimError, match=r"rows_per_buffer must be a multiple of read_rows \(4\), not 6"):
        Scratchpad(4, 6, read_rows=4)
    assert len(Scratchpad(3, 12, read_rows=4).r_data) == 4 * 3 * 8


@pytest.mark.rtl
@pytest.mark.parametrize("config", CONFIGS)
def test_scratchpad_reads_what_was_written(config):
    from accelsim.rtl.scratchpad import SCRATCHPAD_READ_LATENCY_CYCLES

    lanes, rows, V = CONFIGS[config]
    dut = _dut(lanes, rows, V)
    mem = np.zeros((dut.depth, lanes), np.uint8)
    outs, model = [], []  # per cycle: r_data; the row addressed in that cycle as it was before its write

    async def bench(ctx):
        base_seed = sum(map(ord, config))
        for seed in range(base_seed, base_seed + SEEDS):
            rng = random.Random(seed)
            for k in range(CYCLES_PER_SEED + rng.randint(0, 5)):  # then an idle gap before the next seed
                w_row = rng.randrange(dut.depth)
                r_row = w_row if rng.random() < 0.3 else rng.randrange(dut.depth)
                write = k < CYCLES_PER_SEED and rng.random() < 0.6
                mask = rng.choice((0, (1 << lanes) - 1, rng.getrandbits(lanes)))
                data = rng.getrandbits(8 * lanes)
                for port, value in (("r_addr", r_row), ("w_en", int(write)), ("w_addr", w_row),
                                    ("w_mask", mask), ("w_data", data)):
                    ctx.set(getattr(dut, port), value)
                outs.append(ctx.get(dut.r_data))
                word = r_row - r_row % V
                model.append(int.from_bytes(mem[word:word + V].tobytes(), "little"))  # old data
                if write:
                    for lane in range(lanes):
                        if (mask >> lane) & 1:
                            mem[w_row, lane] = (data >> (8 * lane)) & 0xFF
                await ctx.tick()

    simulate(dut, bench)
    assert len(outs) >= SEEDS * CYCLES_PER_SEED
    check_latency("scratchpad read latency", [measure_latency(outs, model)], SCRATCHPAD_READ_LATENCY_CYCLES)
