"""Layer co-simulation: the Harness/bench plumbing (with fake units) and whole layers on the real RTL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from accelsim.layer import ConvLayer
from tests.rtl.layers import small_arch

ROOT = Path(__file__).resolve().parents[2]


def _fake_harness_verilog(arch, job) -> str:
    from amaranth.back import verilog

    from accelsim.rtl.harness import Harness
    from accelsim.rtl.params import AccelParams
    from tests.rtl.fake_units import FakeAccelerator, FakeDram

    p = AccelParams.from_arch(arch)
    top = Harness(p, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth, core=FakeAccelerator(p),
                  dram=FakeDram(p, size_bytes=job.dram_bytes))
    return verilog.convert(top, name="harness")


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_harness_plumbing_with_fake_units(tmp_path, sim):
    """Command memory, fetcher, cycle counter, DRAM load/read-back and the bench, without the datapath:
    the harness's cycle count equals the model's, and the input region reads back as written."""
    from accelsim.rtl.cosim import prepare, run_harness

    arch = small_arch(queue_depth=2, host_issue_cycles=2, dram_latency_cycles=5, dram_bytes_per_cycle=4)
    text = None
    for i, layer in enumerate((ConvLayer(N=1, M=6, C=5, H=5, W=5, R=3, S=3, stride=2, pad=1),
                               ConvLayer(N=2, M=3, C=3, H=4, W=3, R=1, S=1, groups=3))):
        job, _ = prepare(layer, arch, seed=i)
        job = dataclasses.replace(job, read_base=0, read_len=layer.input_elems)  # read x back
        text = text or _fake_harness_verilog(arch, job)
        got, cycles, _ = run_harness(text, job, arch, sim=sim, build_root=tmp_path)
        assert cycles == job.model_cycles
        assert np.array_equal(got, job.image[:layer.input_elems])
