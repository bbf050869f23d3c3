"""Addressable scratchpads on the RTL (issue 11): a layer's fixed program with its tiles moved to other rows
(tests/remap.py: both buffers of every memory swapped and moved, differently per memory) runs bit-exact
with the kernels and in exactly the cycles accelsim.schedule gives it, in every dataflow, with MAC PEs and
with V = 4 dot-product PEs, on Verilator (sharing the campaign's builds). The fixed program's own runs are the
campaign (tests/rtl/test_cosim.py)."""

from __future__ import annotations

import pytest

from accelsim.layer import ConvLayer
from tests.rtl.layers import shared_build_root, small_arch
from tests.rtl.test_cosim import CAMPAIGN_ARCHS, DATAFLOWS

# Several tiles on the small arrays, so both buffers of every memory are used; "deep" gives OS several
# k-tiles, the last ragged (V = 4: 13 rows, so its last word reaches past K_t into stale rows, which k_rows
# zeroes).
LAYERS = (ConvLayer(N=1, M=6, C=5, H=7, W=6, R=3, S=3, stride=2, pad=1, name="s2p1"),
          ConvLayer(N=1, M=7, C=13, H=4, W=4, R=1, S=1, name="1x1"),
          ConvLayer(N=1, M=5, C=349, H=2, W=2, R=1, S=1, name="deep"))
ARCHS = {1: "3x5b16", 4: "3x2b8v4"}


@pytest.fixture(scope="session")
def addressing_builds(tmp_path_factory):
    return shared_build_root(tmp_path_factory, "cosim-builds")


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("V", sorted(ARCHS))
@pytest.mark.parametrize("df", DATAFLOWS)
def test_remapped_program_on_the_rtl(df, V, addressing_builds):
    from accelsim.cosim.layer import harness_verilog, prepare, run_harness

    from accelsim.mapping import lower, program
    from accelsim.schedule import schedule
    from tests.remap import remapped

    arch = small_arch(**CAMPAIGN_ARCHS[ARCHS[V]], dataflow=df)
    assert arch.pe_dot_width == V
    for seed, layer in enumerate(LAYERS):
        m = lower(layer, arch)
        assert m.p_tiles * m.k_tiles * m.m_tiles > 2, layer.name
        fixed = program(m)
        moved = remapped(m, arch, fixed)
        assert [c.pack() for c in moved] != [c.pack() for c in fixed]
        job, want = prepare(layer, arch, seed=seed, remap=lambda mp, prog: remapped(mp, arch, prog))
        assert job.model_cycles == schedule(moved, arch).total_cycles == schedule(fixed, arch).total_cycles
        text = harness_verilog(arch, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth)
        got, cycles, _ = run_harness(text, job, arch, sim="verilator", build_root=addressing_builds,
                                     seed=seed)
        assert (got.view("<i4").reshape(want.shape) == want).all(), (layer.name, df, V)
        assert cycles == job.model_cycles, (layer.name, df, V)
