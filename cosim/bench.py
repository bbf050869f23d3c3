"""cocotb bench module of the layer co-simulation (run by :func:`accelsim.cosim.layer.run_harness`).

The simulator has loaded the command memory and the DRAM from files before time 0 (plusargs, see
:mod:`accelsim.cosim.sim_memory`) and saves the DRAM when the simulation ends. The top makes its own clock
(:func:`accelsim.cosim.runner.register_inputs` with ``clock_period_ns``). The bench resets the harness, sets
the command count, raises ``start`` and then only awaits ``done`` — neither Python nor a VPI call runs per
cycle while the layer runs — and writes the cycle counter and the seconds from start to done (wall, and
the simulator process's CPU) to the result file.
Comparing is the caller's job.

Environment: ACCELSIM_COSIM_JOB (JSON: count, timeout_cycles), ACCELSIM_COSIM_RESULT (where to write JSON).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cocotb
from accelsim.cosim.runner import CLOCK_PERIOD_NS as PERIOD_NS
from cocotb.triggers import ReadOnly, RisingEdge, with_timeout


@cocotb.test()
async def cosim_layer(dut):
    job = json.loads(os.environ["ACCELSIM_COSIM_JOB"])
    dut.start.value = 0
    dut.count.value = job["count"]
    dut.rst.value = 1
    for _ in range(2):
        await RisingEdge(dut.clk)
    dut.rst.value = 0
    await RisingEdge(dut.clk)

    t0, cpu0 = time.perf_counter(), time.process_time()
    dut.start.value = 1
    await with_timeout(RisingEdge(dut.done), job["timeout_cycles"] * PERIOD_NS, "ns")
    sim_seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    await ReadOnly()
    await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)  # the last output bytes are in the DRAM, saved when the simulation ends
    cycles = dut.cycles.value.to_unsigned()
    Path(os.environ["ACCELSIM_COSIM_RESULT"]).write_text(json.dumps(
        {"cycles": cycles, "sim_seconds": sim_seconds, "sim_cpu_seconds": cpu_seconds}))
