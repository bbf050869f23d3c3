"""cocotb bench module of the layer co-simulation (run by :func:`accelsim.cosim.layer.cosim_layer`).

Fills the harness's command memory and DRAM up front (the DRAM through the harness's host write channel,
``BW`` bytes a cycle), starts the fetcher and then only awaits ``done`` — Python stays out of the per-cycle
loop while the layer runs — reads the cycle counter and the output region back through the host read
channel, and writes them to the result file. Comparing is the caller's job.

Environment: ACCELSIM_COSIM_JOB (an .npz written by cosim_layer), ACCELSIM_COSIM_RESULT (where to write).
"""

from __future__ import annotations

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, with_timeout

PERIOD_NS = 10


def _lanes(values: list[int], bits: int) -> int:
    word = 0
    for i, v in enumerate(values):
        word |= int(v) << (bits * i)
    return word


class TB:
    def __init__(self, dut, bw: int) -> None:
        self.dut, self.bw = dut, bw

    def idle_inputs(self) -> None:
        dut = self.dut
        for name in ("start", "cmd_w_en", "host_wr_valid", "host_rd_valid"):
            getattr(dut, name).value = 0

    async def load_commands(self, words: np.ndarray) -> None:
        dut = self.dut
        dut.count.value = len(words)
        for i, w in enumerate(words):
            dut.cmd_w_en.value = 1
            dut.cmd_w_addr.value = i
            dut.cmd_w_data.value = _lanes(w.tolist(), 32)
            await RisingEdge(dut.clk)
        dut.cmd_w_en.value = 0

    async def write_dram(self, image: np.ndarray) -> None:
        dut, bw = self.dut, self.bw
        nz = np.flatnonzero(image)
        if nz.size == 0:
            return
        for base in range(int(nz[0]) - int(nz[0]) % bw, int(nz[-1]) + 1, bw):
            chunk = image[base:base + bw]
            if not chunk.any():
                continue
            dut.host_wr_valid.value = 1
            dut.host_wr_addr.value = _lanes([base + i for i in range(bw)], 32)
            dut.host_wr_data.value = _lanes(list(chunk) + [0] * (bw - len(chunk)), 8)
            dut.host_wr_lane_en.value = (1 << len(chunk)) - 1
            await RisingEdge(dut.clk)
        dut.host_wr_valid.value = 0

    async def read_dram(self, base: int, length: int) -> np.ndarray:
        """Pipelined reads of ``bw`` bytes a cycle; each response carries its chunk index as tag."""
        dut, bw = self.dut, self.bw
        out = np.zeros(length, dtype=np.uint8)
        chunks = [(c, min(bw, length - c)) for c in range(0, length, bw)]
        pending = len(chunks)
        issued = 0
        for _ in range(len(chunks) + 100_000):
            await FallingEdge(dut.clk)
            if int(dut.host_rsp_valid.value):
                tag = dut.host_rsp_tag.value.to_unsigned()
                data = dut.host_rsp_data.value.to_unsigned()
                off, n = chunks[tag]
                out[off:off + n] = [(data >> (8 * i)) & 0xFF for i in range(n)]
                pending -= 1
                if pending == 0:
                    dut.host_rd_valid.value = 0
                    return out
            if issued < len(chunks):
                off, n = chunks[issued]
                dut.host_rd_valid.value = 1
                dut.host_rd_addr.value = _lanes([base + off + i for i in range(bw)], 32)
                dut.host_rd_lane_en.value = (1 << n) - 1
                dut.host_rd_tag.value = issued
                issued += 1
            else:
                dut.host_rd_valid.value = 0
        raise AssertionError(f"{pending} DRAM read responses missing")


@cocotb.test()
async def cosim_layer(dut):
    job = np.load(os.environ["ACCELSIM_COSIM_JOB"])
    meta = json.loads(str(job["meta"]))
    tb = TB(dut, meta["bw"])
    Clock(dut.clk, PERIOD_NS, unit="ns").start()
    tb.idle_inputs()
    dut.rst.value = 1
    await tb.load_commands(job["commands"])
    await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    await tb.write_dram(job["image"])
    for _ in range(meta["latency"] + 2):
        await RisingEdge(dut.clk)

    t0 = time.perf_counter()
    dut.start.value = 1
    await with_timeout(RisingEdge(dut.done), int(job["timeout_cycles"]) * PERIOD_NS, "ns")
    sim_seconds = time.perf_counter() - t0
    await ReadOnly()
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    cycles = dut.cycles.value.to_unsigned()
    outputs = await tb.read_dram(int(job["out_base"]), int(job["out_len"]))
    np.savez(os.environ["ACCELSIM_COSIM_RESULT"], outputs=outputs, cycles=cycles, sim_seconds=sim_seconds)
