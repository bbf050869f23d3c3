"""cocotb bench: Fetcher + command memory (tests/rtl/test_fetcher.py's FetcherTop).

Driver: fills the command memory with random 192-bit words, starts the fetcher, and drives ``cmd_ready`` with
random back-pressure (a sink that is ready with probability 1/2, or always). Monitor: every cycle, valid,
ready and the presented word. Reference model: command i+1 is presented exactly HI cycles after command i
was accepted and stays presented until accepted; words come out in memory order; ``first`` pulses with the
first accept (cycle 0); ``finished`` rises after the last. Environment: ACCELSIM_HI, ACCELSIM_SEED.
"""

from __future__ import annotations

import os
import random

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from accelsim.commands import COMMAND_BITS
from tests.rtl.benches import start, uval


class TB:
    def __init__(self, dut, hi: int, rng: random.Random) -> None:
        self.dut, self.hi, self.rng = dut, hi, rng

    async def load(self, words: list[int]) -> None:
        dut = self.dut
        dut.rst.value = 1
        dut.start.value = 0
        dut.cmd_ready.value = 0
        dut.count.value = len(words)
        for i, w in enumerate(words):
            dut.w_en.value, dut.w_addr.value, dut.w_data.value = 1, i, w
            await RisingEdge(dut.clk)
        dut.w_en.value = 0
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        for _ in range(self.rng.randint(0, 3)):
            await RisingEdge(dut.clk)
        dut.start.value = 1

    async def run(self, words: list[int], p_ready: float) -> None:
        dut = self.dut
        await self.load(words)
        got: list[int] = []
        last_accept = None
        presented_at = None
        t = 0
        while len(got) < len(words):
            await FallingEdge(dut.clk)
            ready = int(self.rng.random() < p_ready)
            dut.cmd_ready.value = ready
            await ReadOnly()
            valid = uval(dut.cmd_valid)
            if valid and presented_at is None:
                presented_at = t
                if last_accept is not None:
                    assert t == last_accept + self.hi, f"command {len(got)} presented at {t}, accepted " \
                        f"predecessor at {last_accept}, HI={self.hi}"
            if last_accept is not None and presented_at is None:
                assert t < last_accept + self.hi, f"command {len(got)} not presented at {t}"
            if valid and ready:
                word = uval(dut.cmd)
                assert word == words[len(got)], f"command {len(got)}: {word:#x} != {words[len(got)]:#x}"
                assert uval(dut.first) == (len(got) == 0)
                got.append(word)
                last_accept, presented_at = t, None
            else:
                assert not uval(dut.first)
            t += 1
            assert t < 100 * (len(words) + 1) * self.hi, "fetcher stalled"
        await FallingEdge(dut.clk)
        dut.cmd_ready.value = 1
        for _ in range(self.hi + 2):
            await FallingEdge(dut.clk)
            assert not uval(dut.cmd_valid), "presented a command past count"
            assert uval(dut.finished)


@cocotb.test()
async def fetcher_presents_every_hi_cycles(dut):
    hi = int(os.environ["ACCELSIM_HI"])
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, reset_cycles=0, start=0, cmd_ready=0, w_en=0)  # each trial loads during a reset
    tb = TB(dut, hi, rng)
    for trial in range(6):
        n = rng.randint(1, 40)
        words = [rng.getrandbits(COMMAND_BITS) for _ in range(n)]
        await tb.run(words, p_ready=1.0 if trial % 2 == 0 else 0.5)
        dut._log.info("trial %d: %d commands, HI=%d", trial, n, hi)
