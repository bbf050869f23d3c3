"""cocotb bench: Controller + Fetcher with FAKE units (tests/rtl/fake_units.py) vs accelsim.schedule.schedule.

Driver: loads a random layer's command stream (accelsim.mapping.program; the dataflows WS, OS, IS in turn)
into the command memory and starts the fetcher. Monitor: samples every cycle (at the falling edge) the
dispatcher's accepts, the units' starts, their last busy cycles and their last DRAM beats, and the ``done``
output. Reference model: accelsim.schedule.schedule. Checker: every command's dispatch, start, end and done
cycle and the FENCE's release (the layer's total cycles) equal the schedule exactly; the layer registers equal
the CONFIG values.

Environment: ACCELSIM_ARCH (JSON of ArchConfig.to_dict()), ACCELSIM_PROGRAMS (how many), ACCELSIM_SEED.
"""

from __future__ import annotations

import json
import os
import random

import cocotb
from accelsim.rtl.params import LayerRegs
from cocotb.triggers import FallingEdge, RisingEdge

from accelsim.arch import Dataflow, from_dict
from accelsim.commands import Op, Unit
from accelsim.mapping import lower, program
from accelsim.schedule import schedule
from tests.rtl.benches import Monitor, layer_regs, start, uval
from tests.rtl.layers import random_layer

UNITS = {Unit.LD: "ld", Unit.EX: "ex", Unit.ST: "st"}
DATAFLOWS = (Dataflow.WS, Dataflow.OS, Dataflow.IS)
EVENTS = ("dispatch", "done", *(f"{u}_{e}" for u in UNITS.values() for e in ("start", "last", "retire")))


class TB:
    def __init__(self, dut, arch) -> None:
        self.dut = dut
        self.arch = arch

    async def reset_and_load(self, words: list[int]) -> None:
        dut = self.dut
        dut.rst.value = 1
        dut.start.value = 0
        dut.count.value = len(words)
        for i, word in enumerate(words):
            dut.cmd_w_en.value = 1
            dut.cmd_w_addr.value = i
            dut.cmd_w_data.value = word
            await RisingEdge(dut.clk)
        dut.cmd_w_en.value = 0
        await RisingEdge(dut.clk)
        await RisingEdge(dut.clk)
        dut.rst.value = 0
        await RisingEdge(dut.clk)
        dut.start.value = 1

    async def monitor(self, limit: int) -> dict:
        """Record event cycles until ``done`` (cycle 0 = the first accepted command)."""
        dut = self.dut
        mon = Monitor(dut, EVENTS)
        t = None
        for _ in range(limit):
            await FallingEdge(dut.clk)
            if t is None:
                if not uval(dut.dispatch):
                    continue
                t = 0
            if mon.sample(t)["done"]:
                return {name: mon.cycles(name) for name in EVENTS}
            t += 1
        raise AssertionError(f"no done within {limit} cycles (events {dict(mon.trace)})")

    def check(self, prog, ev: dict, sched) -> None:
        assert len(ev["dispatch"]) == len(prog), f"{len(ev['dispatch'])} dispatches, program has {len(prog)}"
        assert tuple(ev["dispatch"]) == sched.dispatch, f"dispatch {ev['dispatch']} != model {sched.dispatch}"
        for unit, u in UNITS.items():
            idx = [i for i, c in enumerate(prog) if c.unit == unit]
            starts = ev[f"{u}_start"]
            ends = [t + 1 for t in ev[f"{u}_last"]]
            dones = [t + 1 for t in ev[f"{u}_retire"]] if unit != Unit.EX else ends
            for what, got, want in (("start", starts, sched.start), ("end", ends, sched.end),
                                    ("done", dones, sched.done)):
                exp = [want[i] for i in idx]
                assert got == exp, f"{u} {what}: rtl {got} != model {exp}"
        assert ev["done"][0] == sched.total_cycles, f"done at {ev['done'][0]} != model {sched.total_cycles}"
        assert ev["done"][0] == sched.done[-1] and prog[-1].op == Op.FENCE

    def check_regs(self, prog) -> None:
        got, want = uval(self.dut.regs), layer_regs(prog)
        for name, fld in LayerRegs:
            value = (got >> fld.offset) & ((1 << fld.width) - 1)
            assert value == want[name], f"regs.{name} = {value}, CONFIG wrote {want[name]}"


@cocotb.test()
async def controller_matches_schedule(dut):
    arch = from_dict(json.loads(os.environ["ACCELSIM_ARCH"]))
    n_programs = int(os.environ.get("ACCELSIM_PROGRAMS", "4"))
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    await start(dut, reset_cycles=0, start=0, cmd_w_en=0)  # each program is loaded during a reset
    tb = TB(dut, arch)
    checked = 0
    base_arch = arch
    while checked < n_programs:  # the dataflows in turn (OS: no PRELOAD, COMPUTE pops l2e)
        arch = base_arch.with_dataflow(DATAFLOWS[checked % len(DATAFLOWS)])
        layer = random_layer(rng, max_hw=rng.choice((4, 8, 12)))
        shift = rng.choice((None, None, 3))
        prog = program(lower(layer, arch), requantize_shift=shift)
        if len(prog) > 1024:
            continue
        sched = schedule(prog, arch, out_bytes=1 if shift is not None else 4)
        await tb.reset_and_load([c.pack() for c in prog])
        ev = await tb.monitor(sched.total_cycles + 200)
        tb.check(prog, ev, sched)
        tb.check_regs(prog)
        checked += 1
        dut._log.info("program %d (%s): %s, %d commands, %d cycles match", checked, arch.dataflow.name,
                      layer.spec(), len(prog), sched.total_cycles)
