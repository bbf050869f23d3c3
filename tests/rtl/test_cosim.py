"""Layer co-simulation: the Harness/bench plumbing (with fake units) and whole layers on the real RTL."""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np
import pytest

from accelsim.layer import ConvLayer
from tests.rtl.layers import campaign_mode, shared_build_root, small_arch


def _fake_harness_verilog(arch, job) -> str:
    from accelsim.cosim.dram import Dram
    from accelsim.cosim.harness import Harness
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    from tests.rtl.fake_units import FakeAccelerator

    p = AccelParams.from_arch(arch)
    top = Harness(p, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth, core=FakeAccelerator(p),
                  dram=Dram(p, size_bytes=job.dram_bytes))
    return verilog.convert(top, name="harness")


@pytest.mark.rtl
def test_harness_plumbing_with_fake_units(tmp_path):
    """Command memory, fetcher, cycle counter, DRAM load/read-back and the bench, without the datapath:
    the harness's cycle count equals the model's, and the input region reads back as written. Icarus only:
    on Verilator the campaign runs the same harness (with the real units) on every configuration, and a
    separate fake-unit build cost a whole Verilator build (34-95 s) of CI time."""
    from accelsim.cosim.layer import prepare, run_harness

    arch = small_arch(queue_depth=2, host_issue_cycles=2, dram_latency_cycles=5, dram_bytes_per_cycle=4)
    text = None
    for i, layer in enumerate((ConvLayer(N=1, M=6, C=5, H=5, W=5, R=3, S=3, stride=2, pad=1),
                               ConvLayer(N=2, M=3, C=3, H=4, W=3, R=1, S=1, groups=3))):
        job, _ = prepare(layer, arch, seed=i)
        job = dataclasses.replace(job, read_base=0, read_len=layer.input_elems)  # read x back
        text = text or _fake_harness_verilog(arch, job)
        got, cycles, _ = run_harness(text, job, arch, sim="icarus", build_root=tmp_path)
        assert cycles == job.model_cycles
        assert np.array_equal(got, job.image[:layer.input_elems])


# ------------------------------------------------------------------------------------------------------------
# The campaign: whole layers on the real RTL in every dataflow, outputs bit-exact vs accelsim.kernels and
# cycles equal to the model.
#
# The dataflow is a run-time field (CONFIG MODE), so the three dataflows of a configuration share one build:
# Verilator builds each configuration once per session (~40-100 s) and runs every layer of every dataflow on
# it. The full campaign is every configuration x dataflow x layer (CAMPAIGN_ARCHS x DATAFLOWS x 9 layers = 189
# per simulator: 4 configurations of MAC PEs, 3 of dot-product PEs, V = 4); CI runs a deterministic third
# of it per simulator: for configuration c and dataflow d, the layers i with (i + c + d + offset) % 3 == 0,
# offset 0 on Icarus and 1 on Verilator, so every (configuration, dataflow) runs 3 layers and every
# (dataflow, layer, V) runs on at least one configuration on each simulator (the V = 4 configurations are
# 3 consecutive c, so each (dataflow, layer) runs once with V = 4). The full campaign:
#
#     ACCELSIM_CAMPAIGN=full python -m pytest -m campaign tests/rtl/test_cosim.py
#
# (about 25 min on 2 cores; tests/rtl/test_cosim.py --durations shows the split).

# (array shape, DRAM bandwidth) points: square and non-square grids (IS swaps the spads' lane counts), narrow
# and wide DRAM, short and long latency, queue pressure and a slow host; then dot-product PEs (V = 4: WS/IS
# reduce over AR*V lanes, OS reads 4 k-rows a cycle) on three shapes with narrow, medium and wide DRAM (a
# 16-byte beat carries a whole 16-lane row of the 4x4 grid).
CAMPAIGN_ARCHS = {
    "4x4b4": dict(
        rows=4, cols=4, dram_bytes_per_cycle=4, dram_latency_cycles=4, queue_depth=2, host_issue_cycles=1
    ),
    "3x5b16": dict(
        rows=3, cols=5, dram_bytes_per_cycle=16, dram_latency_cycles=9, queue_depth=3, host_issue_cycles=2
    ),
    "4x4b1": dict(
        rows=4, cols=4, dram_bytes_per_cycle=1, dram_latency_cycles=2, queue_depth=4, host_issue_cycles=3
    ),
    "2x3b2": dict(
        rows=2, cols=3, dram_bytes_per_cycle=2, dram_latency_cycles=6, queue_depth=1, host_issue_cycles=1
    ),
    "2x3b2v4": dict(
        rows=2, cols=3, dram_bytes_per_cycle=2, dram_latency_cycles=6, queue_depth=1, host_issue_cycles=1,
        pe_dot_width=4,
    ),
    "3x2b8v4": dict(
        rows=3, cols=2, dram_bytes_per_cycle=8, dram_latency_cycles=3, queue_depth=2, host_issue_cycles=2,
        pe_dot_width=4,
    ),
    "4x4b16v4": dict(
        rows=4, cols=4, dram_bytes_per_cycle=16, dram_latency_cycles=9, queue_depth=3, host_issue_cycles=1,
        pe_dot_width=4,
    ),
}
DATAFLOWS = ("ws", "os", "is")

# Hand-picked shapes every configuration runs: stride 2, padding, 1x1, depthwise, grouped, FC-like, N > 1,
# K and M not multiples of the array, rectangular filters.
FIXED_LAYERS = (
    ConvLayer(N=1, M=6, C=5, H=7, W=6, R=3, S=3, stride=2, pad=1, name="s2p1"),
    ConvLayer(N=2, M=7, C=3, H=5, W=5, R=1, S=1, name="1x1n2"),
    ConvLayer(N=1, M=4, C=4, H=6, W=5, R=3, S=3, stride=1, pad=1, groups=4, name="depthwise"),
    ConvLayer(N=1, M=6, C=4, H=5, W=4, R=2, S=3, stride=1, pad=0, groups=2, name="grouped"),
    ConvLayer(N=1, M=9, C=11, H=1, W=1, R=1, S=1, name="fc"),
    ConvLayer(N=1, M=5, C=3, H=9, W=8, R=3, S=2, stride=2, pad=1, name="rect"),
)
RANDOM_LAYERS = 3  # more per configuration, drawn from a seed per (config, index)
SAMPLE_OFFSET = {"icarus": 0, "verilator": 1}


def _campaign_cases(sim: str, mode: str):
    import random

    from tests.rtl.layers import random_layer

    for c, cfg in enumerate(CAMPAIGN_ARCHS):
        rng = random.Random(f"campaign-{cfg}")
        layers = [*FIXED_LAYERS, *(random_layer(rng, max_hw=7, max_ch=8, name=f"rand{i}")
                                   for i in range(RANDOM_LAYERS))]
        for d, df in enumerate(DATAFLOWS):
            for i, layer in enumerate(layers):
                if mode == "full" or (i + c + d + SAMPLE_OFFSET[sim]) % 3 == 0:
                    yield cfg, df, layer


def _params(sim: str):
    cases = list(_campaign_cases(sim, campaign_mode()))
    return pytest.mark.parametrize(("cfg", "df", "layer"), cases,
                                   ids=[f"{c}-{df}-{layer.name}" for c, df, layer in cases])


@pytest.fixture(scope="session")
def cosim_builds(tmp_path_factory):
    return shared_build_root(tmp_path_factory, "cosim-builds")


def _check(layer, arch, sim, builds, seed=0, requantize_shift=None):
    from accelsim.cosim.layer import cosim_layer

    res = cosim_layer(layer, arch, sim=sim, seed=seed, build_root=builds, requantize_shift=requantize_shift)
    assert res.outputs_match, f"{res.mismatches} output mismatches on {layer.spec()} ({arch.dataflow.name})"
    assert res.rtl_cycles == res.model_cycles, (layer.spec(), arch.dataflow.name)
    return res


def _dot_width(cfg: str) -> int:
    return CAMPAIGN_ARCHS[cfg].get("pe_dot_width", 1)


def test_campaign_covers_every_dataflow_shape_and_layer():
    """The CI sample keeps the campaign's coverage: every (configuration, dataflow) pair, every (dataflow,
    layer, V) on each simulator, a third of the full set: the MAC-PE campaign's 36 cases plus 27 with V = 4
    (3 shapes, one Verilator build each)."""
    dot = [c for c in CAMPAIGN_ARCHS if _dot_width(c) != 1]
    assert len(dot) == 3 and {_dot_width(c) for c in dot} == {4}
    for sim in SAMPLE_OFFSET:
        full, ci = list(_campaign_cases(sim, "full")), list(_campaign_cases(sim, "ci"))
        assert len(full) == len(CAMPAIGN_ARCHS) * len(DATAFLOWS) * (len(FIXED_LAYERS) + RANDOM_LAYERS) == 189
        assert len(ci) == 63 and set(map(repr, ci)) <= set(map(repr, full))
        assert len([c for c in ci if c[0] not in dot]) == 36
        assert {(c, d) for c, d, _ in ci} == {(c, d) for c in CAMPAIGN_ARCHS for d in DATAFLOWS}
        for V in (1, 4):  # every (dataflow, layer) with MAC and with dot-product PEs
            assert ({(d, layer.name) for c, d, layer in ci if _dot_width(c) == V}
                    == {(d, layer.name) for c, d, layer in full if _dot_width(c) == V})
    assert len(set(CAMPAIGN_ARCHS)) >= 3 and set(DATAFLOWS) == {"ws", "os", "is"}


@pytest.mark.rtl
@pytest.mark.campaign
@_params("icarus")
def test_campaign_icarus(cfg, df, layer, cosim_builds):
    _check(
        layer,
        small_arch(**CAMPAIGN_ARCHS[cfg], dataflow=df),
        "icarus",
        cosim_builds,
        seed=zlib.crc32(layer.spec().encode()) % 1000,
    )


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.campaign
@_params("verilator")
def test_campaign_verilator(cfg, df, layer, cosim_builds):
    _check(layer, small_arch(**CAMPAIGN_ARCHS[cfg], dataflow=df), "verilator", cosim_builds, seed=7)


@pytest.mark.rtl
def test_os_dot_product_stale_rows_add_nothing(cosim_builds):
    """OS with V = 4 reads 4 k-rows of each operand a cycle: the last k-tile's last read reaches past K_t
    into rows a previous (full) k-tile left in that buffer; the execute unit zeroes them (the load unit's
    rows of the buffer's last WEIGHT LOAD). K = 349 on 2x3 with 1 KiB spads: 3 k-tiles of 168, 168, 13
    rows, the third in the buffer of the first, 13 % 4 != 0 (without the zeroing 9 outputs differ)."""
    from accelsim.mapping import lower

    layer = ConvLayer(N=1, M=9, C=349, H=1, W=1, R=1, S=1, name="kstale")
    arch = small_arch(**CAMPAIGN_ARCHS["2x3b2v4"], dataflow="os")
    m = lower(layer, arch)
    assert (m.K_T, m.k_tiles) == (168, 3) and (layer.C - 2 * m.K_T) % arch.pe_dot_width != 0
    _check(layer, arch, "icarus", cosim_builds, seed=1)


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize("df", DATAFLOWS)
@pytest.mark.parametrize(("V", "shape"), [(2, (3, 2, 4)), (8, (2, 3, 2))], ids=["v2-3x2b4", "v8-2x3b2"])
def test_other_dot_widths_icarus(V, shape, df, cosim_builds):
    """The campaign runs V = 4; V = 2 and 8 (from_arch takes 1, 2, 4, 8) on three layers per dataflow (18
    Icarus runs, about a minute in all)."""
    rows, cols, bw = shape
    arch = small_arch(rows=rows, cols=cols, dram_bytes_per_cycle=bw, dataflow=df, pe_dot_width=V)
    for layer in (FIXED_LAYERS[0], FIXED_LAYERS[2], FIXED_LAYERS[4]):
        _check(layer, arch, "icarus", cosim_builds, seed=3)


@pytest.mark.rtl
@pytest.mark.parametrize("sim", ["icarus", pytest.param("verilator", marks=pytest.mark.slow)])
def test_requantized_outputs(sim, cosim_builds):
    for (shift, layer), df in zip(((0, FIXED_LAYERS[0]), (9, FIXED_LAYERS[2]), (31, FIXED_LAYERS[4])),
                                  DATAFLOWS, strict=True):
        arch = small_arch(**CAMPAIGN_ARCHS["3x5b16"], dataflow=df)
        _check(layer, arch, sim, cosim_builds, seed=shift, requantize_shift=shift)


# ------------------------------------------------------------------------------------------------------------
# `accelsim cosim` as users run it


def _cli(*args, env=None):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "accelsim.cli", "cosim", *args], capture_output=True, text=True, env=env
    )


SMALL_TOML = (
    'name = "small"\narray_rows = 4\narray_cols = 4\ndataflow = "os"\nifmap_spad_kib = 1\n'
    "weight_spad_kib = 1\nacc_kib = 1\ndram_bytes_per_cycle = 4\ndram_latency_cycles = 4\n"
    "queue_depth = 2\nhost_issue_cycles = 1\n"
)


@pytest.mark.rtl
def test_cli_cosim_json(tmp_path):
    import json

    toml = tmp_path / "small.toml"
    toml.write_text(SMALL_TOML)
    r = _cli(
        "--layer",
        "N=1,M=5,C=3,H=6,W=5,R=3,S=3,stride=2,pad=1,groups=1",
        "--arch",
        str(toml),
        "--sim",
        "icarus",
        "--seed",
        "3",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) >= {"outputs_match", "rtl_cycles", "model_cycles", "macs", "wall_seconds", "simulator"}
    assert doc["outputs_match"] is True and doc["rtl_cycles"] == doc["model_cycles"] > 0
    assert doc["simulator"] == "icarus" and doc["macs"] == 5 * 3 * 9 * 3 * 3


@pytest.mark.rtl
def test_cli_cosim_network_index(tmp_path):
    toml = tmp_path / "small.toml"
    toml.write_text(SMALL_TOML)
    r = _cli("--network", "resnet18", "--index", "99", "--arch", str(toml))
    assert r.returncode == 2 and "--index must be in [0, 21), not 99" in r.stderr


@pytest.mark.rtl
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--sim", "icarus", "--arch", "NOLAT"], "dram_latency_cycles must be >= 1 for the RTL, not 0"),
        (["--preset", "tpu_v1"], "at most 64 x 64 PEs to build in simulation"),
        (
            ["--sim", "icarus", "--arch", "TINY"],
            "weight_spad_kib must be >= 2 to hold one 32x32 weight tile per buffer, not 1",
        ),
        (["--sim", "icarus", "--arch", "SMALL", "--requantize", "40"], "requantize shift must be in [0, 31]"),
        (["--sim", "icarus", "--arch", "SMALL", "--no-icarus"], "simulator icarus must be installed"),
    ],
)
def test_cli_cosim_bad_input_is_one_line(tmp_path, extra, message):
    import os
    import sys

    tiny = tmp_path / "tiny.toml"
    tiny.write_text("array_rows = 32\narray_cols = 32\nweight_spad_kib = 1\n")
    small = tmp_path / "small.toml"
    small.write_text(SMALL_TOML)
    nolat = tmp_path / "nolat.toml"
    nolat.write_text(SMALL_TOML.replace("dram_latency_cycles = 4", "dram_latency_cycles = 0"))
    env = None
    if "--no-icarus" in extra:  # a PATH with the venv's tools but no iverilog/vvp
        extra = [e for e in extra if e != "--no-icarus"]
        env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    files = {"TINY": tiny, "SMALL": small, "NOLAT": nolat}
    extra = [str(files[e]) if e in files else e for e in extra]
    r = _cli("--layer", "M=4,C=4,H=4,W=4,R=3,S=3,pad=1", *extra, env=env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
