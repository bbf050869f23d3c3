"""Fetcher: command i+1 presented exactly HI cycles after command i was accepted, in memory order."""

from __future__ import annotations

import pytest

from tests.rtl.benches import run_component_bench

DEPTH = 64


def _top(hi: int):
    from accelsim.rtl.fetcher import Fetcher
    from accelsim.rtl.params import CMD_BITS
    from amaranth import Module
    from amaranth.lib import memory, wiring
    from amaranth.lib.wiring import In, Out

    class FetcherTop(wiring.Component):
        def __init__(self):
            super().__init__({
                "w_en": In(1), "w_addr": In(6), "w_data": In(CMD_BITS), "count": In(7), "start": In(1),
                "cmd": Out(CMD_BITS), "cmd_valid": Out(1), "cmd_ready": In(1), "first": Out(1),
                "finished": Out(1),
            })

        def elaborate(self, platform):
            m = Module()
            mem = m.submodules.mem = memory.Memory(shape=CMD_BITS, depth=DEPTH, init=[])
            wp = mem.write_port()
            rp = mem.read_port(transparent_for=(wp,))
            f = m.submodules.fetcher = Fetcher(host_issue_cycles=hi, depth=DEPTH)
            m.d.comb += [
                wp.en.eq(self.w_en), wp.addr.eq(self.w_addr), wp.data.eq(self.w_data),
                rp.addr.eq(f.mem_addr), f.mem_data.eq(rp.data), f.start.eq(self.start),
                f.count.eq(self.count),
                self.cmd.eq(f.cmd), self.cmd_valid.eq(f.cmd_valid), f.cmd_ready.eq(self.cmd_ready),
                self.first.eq(f.first), self.finished.eq(f.finished),
            ]
            return m

    return FetcherTop()


@pytest.mark.rtl
def test_fetcher_rejects_bad_parameters():
    from accelsim.rtl.fetcher import Fetcher

    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="host_issue_cycles must be a positive integer, not 0"):
        Fetcher(host_issue_cycles=0, depth=4)
    with pytest.raises(AccelsimError, match="command memory depth must be a positive integer"):
        Fetcher(host_issue_cycles=1, depth=0)


@pytest.mark.rtl
@pytest.mark.parametrize("sim, hi", [
    ("icarus", 1), ("icarus", 4), pytest.param("verilator", 3, marks=pytest.mark.slow),
])
def test_fetcher_issue_spacing(tmp_path, sim, hi):

    tests, failed = run_component_bench(
        tmp_path, sim, _top(hi), toplevel="fetcher_top", bench="bench_fetcher",
        env={"ACCELSIM_HI": str(hi), "ACCELSIM_SEED": "7"},
    )
    assert (tests, failed) == (1, 0)
