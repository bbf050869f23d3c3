"""Searched mappings on the RTL (issue 11): for hidden random layers (drawn from a seed per configuration),
the mapping `accelsim.mapper.search` chooses (objective EDP, any dataflow) and two more nests drawn from the
layer's space (one keeping an operand resident where the space has such a nest) run on the RTL from their
command streams: outputs bit-exact with the kernels' reference, RTL cycles equal to the model's schedule of
the nest, zero difference. With MAC PEs and with V = 4 dot-product PEs, on Verilator (the campaign's
builds of these configurations are shared: no build of its own)."""

from __future__ import annotations

import random

import pytest

from accelsim.arch import Dataflow
from tests.rtl.layers import random_layer, shared_build_root, small_arch
from tests.rtl.test_cosim import CAMPAIGN_ARCHS

ARCHS = ("3x5b16", "3x2b8v4")
LAYERS_PER_ARCH = 3


def _cases():
    for name in ARCHS:
        rng = random.Random(f"mapper-{name}")
        for i in range(LAYERS_PER_ARCH):
            yield name, random_layer(rng, max_hw=7, max_ch=8, name=f"rand{i}"), i


CASES = list(_cases())


@pytest.fixture(scope="session")
def mapper_builds(tmp_path_factory):
    return shared_build_root(tmp_path_factory, "cosim-builds")


def _nests(layer, arch, seed):
    """The searched nest and two drawn from the space (the first keeping an operand if any does)."""
    from accelsim.mapper.nest import LoopNest
    from accelsim.mapper.program import RES_KEEP
    from accelsim.mapper.search import candidates, search

    chosen = search(layer, arch, objective="edp", dataflows=tuple(Dataflow)).nest
    fixed = LoopNest.fixed(layer, arch)
    space = [n for n in candidates(layer, arch, tuple(Dataflow)) if n not in (chosen, fixed)]
    rng = random.Random(seed)
    kept = [n for n in space if RES_KEEP in (n.x_res, n.w_res)]
    drawn = [rng.choice(kept or space)]
    drawn.append(rng.choice([n for n in space if n not in drawn]))
    return [chosen, *drawn]


@pytest.mark.rtl
@pytest.mark.slow
@pytest.mark.parametrize(("cfg", "layer", "seed"), CASES, ids=[f"{c}-{lay.name}" for c, lay, _ in CASES])
def test_searched_mappings_on_the_rtl(cfg, layer, seed, mapper_builds):
    from accelsim.cosim.layer import harness_verilog, prepare, run_harness

    from accelsim.mapper.nest import commands, schedule

    arch = small_arch(**CAMPAIGN_ARCHS[cfg])
    for nest in _nests(layer, arch, seed):
        prog = commands(layer, arch, nest)
        a = nest.arch(arch)
        job, want = prepare(layer, a, seed=seed, remap=lambda _m, _p, prog=prog: prog)
        assert job.model_cycles == schedule(layer, arch, nest).total_cycles
        text = harness_verilog(a, dram_bytes=job.dram_bytes, cmd_depth=job.cmd_depth)
        got, cycles, _ = run_harness(text, job, a, sim="verilator", build_root=mapper_builds, seed=seed)
        assert (got.view("<i4").reshape(want.shape) == want).all(), (layer.name, nest.describe())
        assert cycles == job.model_cycles, (layer.name, nest.describe())


@pytest.mark.rtl
def test_cli_cosim_runs_a_mapping_file_and_the_search(tmp_path, capsys, monkeypatch, mapper_builds):
    """`accelsim cosim --mapping FILE` (a nest keeping an operand resident, as `map --save` writes it) and
    `cosim --mapper search`, as users run them: outputs bit-exact, RTL cycles equal to the model's, and the
    JSON names the nest run."""
    import json

    from accelsim import arch as arch_mod
    from accelsim.cli import main
    from accelsim.layer import ConvLayer
    from accelsim.mapper.mapfile import dumps
    from accelsim.mapper.program import RES_KEEP
    from accelsim.mapper.search import candidates
    from tests.rtl.test_cosim import SMALL_TOML

    monkeypatch.setenv("ACCELSIM_BUILD_DIR", str(mapper_builds))
    arch_file = tmp_path / "small.toml"
    arch_file.write_text(SMALL_TOML)
    layer = ConvLayer(N=1, M=5, C=3, H=6, W=5, R=3, S=3, stride=2, pad=1, groups=1, name="layer")
    nest = next(n for n in candidates(layer, arch_mod.load(arch_file)) if n.x_res == RES_KEEP)
    mapping = tmp_path / "m.toml"
    mapping.write_text(dumps({"layer": nest}))
    spec = "N=1,M=5,C=3,H=6,W=5,R=3,S=3,stride=2,pad=1,groups=1"
    for how in (["--mapping", str(mapping)], ["--mapper", "search"]):
        assert main(["cosim", "--layer", spec, "--arch", str(arch_file), "--json", *how]) == 0, how
        doc = json.loads(capsys.readouterr().out)
        assert doc["outputs_match"] and doc["rtl_cycles"] == doc["model_cycles"] > 0, how
        if how[0] == "--mapping":
            assert doc["mapping"] == nest.to_dict()
