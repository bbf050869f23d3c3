"""cocotb bench: Scratchpad (rtl/scratchpad.py) against a numpy model of its rows.

Driver: random traffic over several seeds' worth of cycles: write beats with random byte masks (including
empty and full masks) to random rows, with idle cycles in between, and a read address every cycle, often
the row being written in the same cycle. Monitor: samples ``r_data`` every cycle (falling edge).
Reference model: a (2*rows_per_buffer) x lanes uint8 array; a write applies at the edge closing its cycle.
Checker: ``r_data`` in cycle ``t + SCRATCHPAD_READ_LATENCY_CYCLES`` equals the row addressed in cycle ``t`` as
it was before cycle ``t``'s write (read-old-data); the measured read latency is the constant's 1 cycle.

Environment: ACCELSIM_SPAD (JSON {"lanes", "rows_per_buffer"}), ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
import numpy as np
from accelsim.rtl.scratchpad import SCRATCHPAD_READ_LATENCY_CYCLES
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

CYCLES_PER_SEED = 400
SEEDS = 3


def uval(sig) -> int:
    value = sig.value
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


class TB:
    def __init__(self, dut, lanes: int, rows_per_buffer: int) -> None:
        self.dut, self.lanes, self.depth = dut, lanes, 2 * rows_per_buffer
        self.mem = np.zeros((self.depth, lanes), np.uint8)

    def row_word(self, row: int) -> int:
        return int.from_bytes(self.mem[row].tobytes(), "little")

    async def run(self, rng: random.Random, cycles: int) -> int:
        """Random traffic; returns how many reads were checked."""
        dut, lanes = self.dut, self.lanes
        pending: list[tuple[int, int]] = []  # (cycle due, expected row word)
        checked, t = 0, 0
        for t in range(cycles + SCRATCHPAD_READ_LATENCY_CYCLES):
            await FallingEdge(dut.clk)
            while pending and pending[0][0] == t:
                got = uval(dut.r_data)
                assert got == pending[0][1], f"cycle {t}: r_data {got:#x} != model {pending[0][1]:#x}"
                pending.pop(0)
                checked += 1
            if t >= cycles:
                continue
            # cycle t's inputs (the outputs above depend only on state)
            w_row = rng.randrange(self.depth)
            r_row = w_row if rng.random() < 0.3 else rng.randrange(self.depth)
            dut.r_addr.value = r_row
            pending.append((t + SCRATCHPAD_READ_LATENCY_CYCLES, self.row_word(r_row)))  # old data
            write = rng.random() < 0.6
            dut.w_en.value = int(write)
            mask = rng.choice((0, (1 << lanes) - 1, rng.getrandbits(lanes)))
            data = rng.getrandbits(8 * lanes)
            dut.w_addr.value = w_row
            dut.w_mask.value = mask
            dut.w_data.value = data
            if write:
                for lane in range(lanes):
                    if (mask >> lane) & 1:
                        self.mem[w_row, lane] = (data >> (8 * lane)) & 0xFF
        return checked


@cocotb.test()
async def scratchpad_reads_what_was_written(dut):
    cfg = json.loads(os.environ["ACCELSIM_SPAD"])
    base_seed = int(os.environ.get("ACCELSIM_SEED", "1"))
    Clock(dut.clk, 10, unit="ns").start()
    dut.rst.value = 0
    dut.w_en.value = 0
    tb = TB(dut, cfg["lanes"], cfg["rows_per_buffer"])
    await FallingEdge(dut.clk)
    total = 0
    for seed in range(base_seed, base_seed + SEEDS):
        total += await tb.run(random.Random(seed), CYCLES_PER_SEED)
        dut.w_en.value = 0
        for _ in range(random.Random(seed).randint(0, 5)):  # idle gap between seeds
            await FallingEdge(dut.clk)
    assert total == SEEDS * CYCLES_PER_SEED
    dut._log.info("%d reads match; read latency %d cycle (read-old-data on a same-cycle write)", total,
                  SCRATCHPAD_READ_LATENCY_CYCLES)
