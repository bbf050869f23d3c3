"""cocotb bench of the SoC (run by :func:`accelsim.cosim.soc.run_programs`): many programs, one process.

The top makes its own clock (:func:`accelsim.cosim.runner.register_inputs` with ``clock_period_ns``).
For each job: copy its image over the RAM file, hold reset with ``reload`` high for one edge (the RAM loads
the file again), release reset, then wait for EXIT, an unhandled trap (``fault``) or ``max_cycles`` cycles.
Console bytes and (on request) the retirement trace are collected by coroutines woken on their pulses'
rising edges only (each is a one-cycle pulse at least two cycles apart: CPI >= 2), so Python stays out of
the per-cycle loop. Environment: ACCELSIM_SOC_JOBS (JSON file: jobs, ram_file), ACCELSIM_SOC_RESULT.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import cocotb
from accelsim.cosim.runner import CLOCK_PERIOD_NS as PERIOD_NS
from cocotb.triggers import First, ReadOnly, RisingEdge, Timer

TRACE_FIELDS = ("trap", "insn", "pc_rdata", "pc_wdata", "rd_addr", "rd_wdata", "mem_addr", "mem_rmask",
                "mem_wmask", "mem_rdata", "mem_wdata")


def _u(handle) -> int:
    value = handle.value
    return value.to_unsigned() if hasattr(value, "to_unsigned") else int(value)


async def _console(dut, out: list[int]) -> None:
    while True:
        await RisingEdge(dut.console_valid)
        await ReadOnly()
        out.append(_u(dut.console_data))


async def _trace(dut, out: list[dict]) -> None:
    handles = [(name, getattr(dut, f"rvfi_{name}")) for name in TRACE_FIELDS]
    while True:
        await RisingEdge(dut.rvfi_valid)
        await ReadOnly()
        out.append({name: _u(h) for name, h in handles})


@cocotb.test()
async def run_programs(dut):
    spec = json.loads(Path(os.environ["ACCELSIM_SOC_JOBS"]).read_text())
    ram_file = Path(spec["ram_file"])
    results = []
    for k, job in enumerate(spec["jobs"]):
        dut.rst.value = 1
        if k > 0:
            shutil.copyfile(job["image"], ram_file)
            dut.reload.value = 1
        await RisingEdge(dut.clk)
        dut.reload.value = 0
        await RisingEdge(dut.clk)
        dut.rst.value = 0  # the next edge opens cycle 0
        console: list[int] = []
        trace: list[dict] = []
        tasks = [cocotb.start_soon(_console(dut, console))]
        if job["trace"]:
            tasks.append(cocotb.start_soon(_trace(dut, trace)))
        await RisingEdge(dut.clk)
        t0 = time.perf_counter()
        ended = await First(RisingEdge(dut.exit_valid), RisingEdge(dut.fault),
                            Timer(job["max_cycles"] * PERIOD_NS, unit="ns"))
        await ReadOnly()
        status = "exit" if _u(dut.exit_valid) else "fault" if _u(dut.fault) else "timeout"
        if isinstance(ended, Timer):
            status = "timeout"
        res = {"status": status, "exit_code": _u(dut.exit_code), "cycles": _u(dut.exit_cycle),
               "instret": _u(dut.exit_instret), "fault_cause": _u(dut.fault_cause),
               "fault_pc": _u(dut.rvfi_pc_rdata), "fault_insn": _u(dut.rvfi_insn),
               "sim_seconds": time.perf_counter() - t0}
        await RisingEdge(dut.clk)  # let the collectors take this cycle's pulses
        await ReadOnly()
        for task in tasks:
            task.cancel()
        res["stdout"] = bytes(console).decode("latin-1")
        if job["trace"]:
            res["trace"] = trace
        if status != "exit":
            res.update(exit_code=0, cycles=0, instret=0)
        if status != "fault":
            res.update(fault_cause=0, fault_pc=0, fault_insn=0)
        results.append(res)
        await RisingEdge(dut.clk)
    Path(os.environ["ACCELSIM_SOC_RESULT"]).write_text(json.dumps(results))
