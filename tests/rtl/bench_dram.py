"""cocotb bench: the behavioural Dram (cosim/dram.py) against a bytearray model.

Driver: random traffic over several seeds: write beats and read beats (each lane with its own random
address, random lane enables, random tags), idle cycles, bursts of back-to-back reads, and reads of bytes
written in the same or the previous cycles (addresses drawn from a small window half of the time; upper
address bits random, since addresses are taken modulo the size).
Monitor: samples ``rsp_valid``/``rsp_tag``/``rsp_data`` every cycle (falling edge).
Reference model: a bytearray; a write applies at the edge closing its cycle; a read sees the memory before
its own cycle's write; disabled lanes read 0.
Checker: every response arrives exactly ``L`` = ``arch.dram_latency_cycles`` cycles after its request (the
measured latency is asserted per tag), with its tag and data; no response without a request; ``rsp_data`` is 0
when nothing is answered.

Environment: ACCELSIM_ARCH (JSON of ArchConfig.to_dict()), ACCELSIM_DRAM_BYTES, ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
from cocotb.triggers import FallingEdge

from accelsim.arch import from_dict
from tests.rtl.benches import check_latency, pack, start, uval

CYCLES_PER_SEED = 300
SEEDS = 3
CHANNELS = ("rd_valid", "rd_addr", "rd_lane_en", "rd_tag", "wr_valid", "wr_addr", "wr_data", "wr_lane_en")


class TB:
    def __init__(self, dut, bw: int, latency: int, size: int) -> None:
        self.dut, self.BW, self.L, self.size = dut, bw, latency, size
        self.mem = bytearray(size)
        self.t = 0
        self.issued: dict[int, int] = {}  # tag -> request cycle
        self.latencies: set[int] = set()

    def addresses(self, rng: random.Random, window: bool) -> list[int]:
        """BW distinct byte addresses (distinct modulo the size), upper bits random."""
        if window and self.BW <= 8:
            base = rng.randrange(self.size)
            offs = [(base + o) % self.size for o in rng.sample(range(8), self.BW)]
        else:
            offs = rng.sample(range(self.size), self.BW)
        return [o + self.size * rng.randrange(1 << 8) for o in offs]

    async def run(self, rng: random.Random, cycles: int) -> int:
        dut, BW, L = self.dut, self.BW, self.L
        expect: dict[int, tuple[int, int] | None] = {}  # cycle -> (tag, data) or None (no response)
        checked = 0
        recent: list[int] = []
        burst = 0
        for i in range(cycles + L):
            await FallingEdge(dut.clk)
            self.t += 1
            t = self.t
            # monitor: outputs depend on state only
            want = expect.pop(t, None)
            valid, data = uval(dut.rsp_valid), uval(dut.rsp_data)
            if want is None:
                assert valid == 0 and data == 0, f"cycle {t}: unasked response ({valid}, {data:#x})"
            else:
                assert valid == 1, f"cycle {t}: no response for tag {want[0]:#x}"
                tag = uval(dut.rsp_tag)
                assert (tag, data) == want, f"cycle {t}: (tag, data) ({tag:#x}, {data:#x}) != model {want}"
                self.latencies.add(t - self.issued.pop(tag))
                checked += 1
            if i >= cycles:
                dut.rd_valid.value = 0
                dut.wr_valid.value = 0
                continue
            # cycle t's read: sees the memory before this cycle's write
            if burst == 0 and rng.random() < 0.1:
                burst = rng.randint(2, 12)
            read = burst > 0 or rng.random() < 0.5
            burst = max(0, burst - 1)
            dut.rd_valid.value = int(read)
            if read:
                addrs = (rng.sample(recent, min(BW, len(recent))) if recent and rng.random() < 0.5 else [])
                addrs += self.addresses(rng, rng.random() < 0.5)[:BW - len(addrs)]
                en = rng.choice(((1 << BW) - 1, rng.getrandbits(BW)))
                tag = rng.getrandbits(32)
                while tag in self.issued:
                    tag = rng.getrandbits(32)
                self.issued[tag] = t
                word = 0
                for b, a in enumerate(addrs):
                    if (en >> b) & 1:
                        word |= self.mem[a % self.size] << (8 * b)
                expect[t + L] = (tag, word)
                dut.rd_addr.value = pack(addrs, 32)
                dut.rd_lane_en.value = en
                dut.rd_tag.value = tag
            write = rng.random() < 0.5
            dut.wr_valid.value = int(write)
            if write:
                addrs = self.addresses(rng, rng.random() < 0.5)
                en = rng.choice(((1 << BW) - 1, rng.getrandbits(BW)))
                data = rng.getrandbits(8 * BW)
                dut.wr_addr.value = pack(addrs, 32)
                dut.wr_lane_en.value = en
                dut.wr_data.value = data
                for b, a in enumerate(addrs):
                    if (en >> b) & 1:
                        self.mem[a % self.size] = (data >> (8 * b)) & 0xFF
                        recent.append(a)
                recent = recent[-32:]
        assert not expect and not self.issued, f"unanswered: {expect}"
        return checked


@cocotb.test()
async def dram_answers_after_latency(dut):
    arch = from_dict(json.loads(os.environ["ACCELSIM_ARCH"]))
    size = int(os.environ["ACCELSIM_DRAM_BYTES"])
    base_seed = int(os.environ.get("ACCELSIM_SEED", "1"))
    await start(dut, reset_cycles=0, **dict.fromkeys(CHANNELS, 0))  # a memory: nothing to reset
    await FallingEdge(dut.clk)
    tb = TB(dut, arch.dram_bytes_per_cycle, arch.dram_latency_cycles, size)
    total = 0
    for seed in range(base_seed, base_seed + SEEDS):
        total += await tb.run(random.Random(seed), CYCLES_PER_SEED)
    check_latency("read latency (L)", tb.latencies, arch.dram_latency_cycles)
    dut._log.info("%d reads answered, measured latency %s = L", total, sorted(tb.latencies))
