"""SCALE-Sim 3.0 compatibility mode: zero difference from SCALE-Sim on every golden case; cfg parsing.

tests/golden/scalesim_compat.json holds SCALE-Sim's own report numbers (written by
benchmarks/scalesim_golden.py, which runs SCALE-Sim 3.0.0). Every column accelsim reproduces is compared
exactly: integers, and SCALE-Sim's percentages bit for bit.
"""

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim import AccelsimError, ConvLayer
from accelsim.arch import Dataflow
from accelsim.scalesim import (
    InterfaceBandwidth,
    ScaleSimConfig,
    parse_scalesim_cfg,
    simulate_layer_scalesim,
)
from tests.strategies import layers

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "scalesim_compat.json").read_text())

# SCALE-Sim report column -> ScaleSimLayerResult attribute: every column of both reports.
MATCHED = {
    "total_cycles": "total_cycles",
    "compute_cycles": "compute_cycles",
    "stall_cycles": "stall_cycles",
    "overall_util_percent": "overall_utilization_percent",
    "mapping_efficiency_percent": "mapping_efficiency_percent",
    "compute_util_percent": "compute_utilization_percent",
    "sram_ifmap_start_cycle": "ifmap_sram_start_cycle",
    "sram_ifmap_stop_cycle": "ifmap_sram_stop_cycle",
    "sram_ifmap_reads": "ifmap_sram_reads",
    "sram_filter_start_cycle": "filter_sram_start_cycle",
    "sram_filter_stop_cycle": "filter_sram_stop_cycle",
    "sram_filter_reads": "filter_sram_reads",
    "sram_ofmap_start_cycle": "ofmap_sram_start_cycle",
    "sram_ofmap_stop_cycle": "ofmap_sram_stop_cycle",
    "sram_ofmap_writes": "ofmap_sram_writes",
    "dram_ifmap_start_cycle": "ifmap_dram_start_cycle",
    "dram_ifmap_stop_cycle": "ifmap_dram_stop_cycle",
    "dram_ifmap_reads": "ifmap_dram_reads",
    "dram_filter_start_cycle": "filter_dram_start_cycle",
    "dram_filter_stop_cycle": "filter_dram_stop_cycle",
    "dram_filter_reads": "filter_dram_reads",
    "dram_ofmap_start_cycle": "ofmap_dram_start_cycle",
    "dram_ofmap_stop_cycle": "ofmap_dram_stop_cycle",
    "dram_ofmap_writes": "ofmap_dram_writes",
}


def case_id(case: dict) -> str:
    rows, cols, ifmap, filt, ofmap, dataflow = case["config"]
    return f"{case['layer'].rsplit('name=', 1)[1]}-{rows}x{cols}-{dataflow}-{ifmap}.{filt}.{ofmap}k"


def test_golden_file_is_complete():
    assert set(MATCHED) == set(GOLDEN["columns"])
    assert len(GOLDEN["cases"]) >= 600
    assert {case["config"][-1] for case in GOLDEN["cases"]} == {"os", "ws", "is"}


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=case_id)
def test_matches_scalesim(case):
    layer = ConvLayer.parse(case["layer"])
    cfg = ScaleSimConfig.from_cfg_fields(dict(zip(GOLDEN["config_keys"], case["config"], strict=True)))
    result = simulate_layer_scalesim(layer, cfg)
    expected = dict(zip(GOLDEN["columns"], case["scalesim"], strict=True))
    diff = {
        column: (expected[column], getattr(result, attr))
        for column, attr in MATCHED.items()
        if getattr(result, attr) != expected[column]
    }
    assert diff == {}


# ------------------------------------------------------------------------------------------ invariants


@st.composite
def configs(draw):
    return ScaleSimConfig(
        array_height=draw(st.integers(1, 9)),
        array_width=draw(st.integers(1, 9)),
        ifmap_sram_kib=draw(st.sampled_from([1, 2, 64])),
        filter_sram_kib=draw(st.sampled_from([1, 2, 64])),
        ofmap_sram_kib=draw(st.sampled_from([1, 2, 64])),
        dataflow=draw(st.sampled_from(list(Dataflow))),
    )


@settings(max_examples=40)
@given(layers(max_n=1, max_c=6, max_m=12, max_hw=12).filter(lambda layer: layer.groups == 1), configs())
def test_invariants(layer, cfg):
    r = simulate_layer_scalesim(layer, cfg)
    H, W = layer.H + 2 * layer.pad, layer.W + 2 * layer.pad
    E = -(-(H - layer.R + layer.stride) // layer.stride)
    F = -(-(W - layer.S + layer.stride) // layer.stride)
    assert E >= layer.E and F >= layer.F  # SCALE-Sim's ceil output size
    assert r.macs == E * F * layer.M * layer.R * layer.S * layer.C
    assert r.pes == cfg.array_height * cfg.array_width
    assert r.stall_cycles == 0
    assert r.macs <= (r.compute_cycles + 1) * r.pes  # "Total Cycles" is one short of the array's cycles,
    assert r.overall_utilization > 0  # (so "Overall Util %" can top 100 % on a 1 x 1 array)
    assert r.total_cycles > r.compute_cycles
    assert 0 < r.mapping_efficiency <= 1 and 0 < r.compute_utilization <= 1
    # DRAM: every word the layer touches at least once, never more often than the SRAM is read.
    assert 0 < r.ifmap_dram_reads <= r.ifmap_sram_reads
    assert layer.weight_elems <= r.filter_dram_reads <= r.filter_sram_reads
    assert r.ofmap_dram_writes >= E * F * layer.M
    assert r.ifmap_dram_start_cycle < 0 and r.filter_dram_start_cycle < 0
    assert r.ofmap_dram_start_cycle <= r.compute_cycles <= r.ofmap_dram_stop_cycle


@settings(max_examples=20)
@given(layers(max_n=1, max_c=6, max_m=12, max_hw=12).filter(lambda layer: layer.groups == 1), configs())
def test_large_srams_read_each_word_once(layer, cfg):
    big = ScaleSimConfig(
        array_height=cfg.array_height, array_width=cfg.array_width, ifmap_sram_kib=4096,
        filter_sram_kib=4096, ofmap_sram_kib=4096, dataflow=cfg.dataflow,
    )
    r = simulate_layer_scalesim(layer, big)
    assert r.filter_dram_reads == layer.weight_elems
    assert r.ifmap_dram_reads <= (layer.H + 2 * layer.pad) * (layer.W + 2 * layer.pad) * layer.C
    assert r.ifmap_dram_stop_cycle == r.filter_dram_stop_cycle == -1


def test_resnet50_layer_is_fast():
    import time

    layer = ConvLayer(M=64, C=64, H=56, W=56, R=3, S=3, pad=1, name="res2a_branch2b")
    cfg = ScaleSimConfig(array_height=32, array_width=32, ifmap_sram_kib=6144, filter_sram_kib=6144,
                         ofmap_sram_kib=2048, dataflow=Dataflow.WS)
    simulate_layer_scalesim(layer, cfg)
    start = time.perf_counter()
    r = simulate_layer_scalesim(layer, cfg)
    assert time.perf_counter() - start < 0.05  # typically ~0.15 ms; SCALE-Sim takes ~12 s
    # SCALE-Sim 3.0.0's own numbers for this layer and config (benchmarks/scalesim_golden.py).
    assert (r.total_cycles, r.compute_cycles, r.ifmap_dram_reads, r.ofmap_dram_writes) == (
        159229, 116279, 215296, 3612703,
    )


# ------------------------------------------------------------------------------------ layer restrictions


def test_groups_and_batch_rejected():
    cfg = ScaleSimConfig()
    grouped = ConvLayer(M=64, C=64, H=8, W=8, R=3, S=3, groups=32, name="conv2")
    with pytest.raises(AccelsimError, match=re.escape(
        "layer conv2: groups must be 1 in SCALE-Sim compatibility mode, not 32"
    )):
        simulate_layer_scalesim(grouped, cfg)
    with pytest.raises(AccelsimError, match=re.escape("layer b: N must be 1 in SCALE-Sim compatibility")):
        simulate_layer_scalesim(ConvLayer(N=2, name="b"), cfg)
    user = ScaleSimConfig(interface_bandwidth=InterfaceBandwidth.USER, bandwidth_words_per_cycle=(10,))
    with pytest.raises(AccelsimError, match="interface_bandwidth must be CALC"):
        simulate_layer_scalesim(ConvLayer(), user)


def test_config_validation():
    message = "ScaleSimConfig array_height must be a positive integer, not 0"
    with pytest.raises(AccelsimError, match=re.escape(message)):
        ScaleSimConfig(array_height=0)
    with pytest.raises(AccelsimError, match="ifmap_offset must be a non-negative integer, not -1"):
        ScaleSimConfig(ifmap_offset=-1)
    with pytest.raises(AccelsimError, match="dataflow must be a Dataflow, not 'ws'"):
        ScaleSimConfig(dataflow="ws")  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- cfg files

FULL_CFG = """\
[general]
run_name = scale_example

[architecture_presets]
ArrayHeight:    32
ArrayWidth:     16
IfmapSramSzkB:   64
FilterSramSzkB:  32
OfmapSramSzkB:   16
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : is
Bandwidth : 10, 20
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""

MINIMAL_CFG = """\
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 4
IfmapSramSzkB: 1
FilterSramSzkB: 2
OfmapSramSzkB: 3
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow: os

[run_presets]
InterfaceBandwidth: CALC
"""


def write(tmp_path, text, name="scale.cfg"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_full_cfg(tmp_path):
    cfg = parse_scalesim_cfg(write(tmp_path, FULL_CFG))
    assert cfg == ScaleSimConfig(
        array_height=32, array_width=16, ifmap_sram_kib=64, filter_sram_kib=32, ofmap_sram_kib=16,
        dataflow=Dataflow.IS, bandwidth_words_per_cycle=(10, 20), run_name="scale_example",
    )


def test_minimal_cfg_and_key_case(tmp_path):
    cfg = parse_scalesim_cfg(write(tmp_path, MINIMAL_CFG.replace("ArrayHeight", "arrayheight")))
    assert (cfg.array_height, cfg.array_width, cfg.dataflow) == (8, 4, Dataflow.OS)
    assert (cfg.ifmap_sram_kib, cfg.filter_sram_kib, cfg.ofmap_sram_kib) == (1, 2, 3)
    golden = ScaleSimConfig.from_cfg_fields(
        {"ArrayHeight": 8, "ArrayWidth": 4, "IfmapSramSzkB": 1, "FilterSramSzkB": 2, "OfmapSramSzkB": 3,
         "Dataflow": "os"}
    )
    assert cfg == golden


def test_scalesim_repo_example_cfg(tmp_path):
    """configs/scale.cfg of scale-sim-v3 (no [layout]/[sparsity], an older MemoryBanks key)."""
    text = MINIMAL_CFG.replace("[run_presets]", "MemoryBanks: 1\nBandwidth : 10\n\n[run_presets]")
    cfg = parse_scalesim_cfg(write(tmp_path, text + "UseRamulatorTrace: False\n"))
    assert cfg.bandwidth_words_per_cycle == (10,)


BAD_CFGS = [
    (("ArrayHeight: 8", "ArrayHeight: x"),
     "scale.cfg [architecture_presets] ArrayHeight must be a positive integer, not 'x'"),
    (("ArrayWidth: 4", "ArrayWidth: 0"),
     "scale.cfg [architecture_presets] ArrayWidth must be a positive integer, not '0'"),
    (("IfmapOffset: 0", "IfmapOffset: -5"),
     "scale.cfg [architecture_presets] IfmapOffset must be a non-negative integer, not '-5'"),
    (("Dataflow: os", "Dataflow: OS"),
     "scale.cfg [architecture_presets] Dataflow must be one of 'os', 'ws', 'is', not 'OS'"),
    (("InterfaceBandwidth: CALC", "InterfaceBandwidth: fast"),
     "scale.cfg [run_presets] InterfaceBandwidth must be CALC or USER, not 'fast'"),
    (("ArrayHeight: 8", "ArrayHieght: 8"),
     "scale.cfg [architecture_presets] key must be one of ArrayHeight, ArrayWidth, Bandwidth, Dataflow, "),
    (("OfmapSramSzkB: 3\n", ""),
     "scale.cfg [architecture_presets] keys must include OfmapSramSzkB, not ['ArrayHeight', "),
    (("[run_presets]\nInterfaceBandwidth: CALC\n", ""),
     "scale.cfg [run_presets] keys must include InterfaceBandwidth, not []"),
    (("[run_presets]", "[run_preset]"), "scale.cfg section must be one of [architecture_presets], "),
    (("Dataflow: os", "Dataflow: os\nBandwidth: 10, x"),
     "scale.cfg [architecture_presets] Bandwidth must be comma-separated positive integers, not '10, x'"),
    (("Dataflow: os", "Dataflow: os\nDataflow: ws"), "scale.cfg must be a valid INI file (While reading"),
    (("Dataflow: os", "Dataflow: os\nDATAFLOW: ws"),
     "scale.cfg [architecture_presets] Dataflow must be given once, not 'DATAFLOW'"),
    (("[run_presets]", "[layout]\nIfmapCustomLayout: True\n\n[run_presets]"),
     "scale.cfg [layout] IfmapCustomLayout must be False in SCALE-Sim compatibility mode, not 'True'"),
    (("[run_presets]", "[sparsity]\nSparsitySupport: true\n\n[run_presets]"),
     "scale.cfg [sparsity] SparsitySupport must be False in SCALE-Sim compatibility mode, not 'true'"),
    (("[run_presets]", "[layout]\nIfmapSRAMBankNum: many\n\n[run_presets]"),
     "scale.cfg [layout] IfmapSRAMBankNum must be a positive integer, not 'many'"),
    (("InterfaceBandwidth: CALC", "InterfaceBandwidth: CALC\nUseRamulatorTrace: maybe"),
     "scale.cfg [run_presets] UseRamulatorTrace must be True or False, not 'maybe'"),
    (("[architecture_presets]", "ArrayHeight: 8\n[architecture_presets]"),
     "scale.cfg must be a valid INI file (File contains no section headers."),
]


@pytest.mark.parametrize(("edit", "message"), BAD_CFGS, ids=[m.split(" must")[0][10:] for _, m in BAD_CFGS])
def test_bad_cfg(tmp_path, edit, message):
    old, new = edit
    assert old in MINIMAL_CFG
    with pytest.raises(AccelsimError, match="^" + re.escape(message)):
        parse_scalesim_cfg(write(tmp_path, MINIMAL_CFG.replace(old, new, 1)))


def test_missing_cfg_file(tmp_path):
    with pytest.raises(AccelsimError, match=r"SCALE-Sim config file must be an existing file, not .*nope"):
        parse_scalesim_cfg(tmp_path / "nope.cfg")


# ------------------------------------------------------------------ --timing scalesim through accelsim's API


def test_layer_result_carries_scalesim_numbers():
    from accelsim.arch import ArchConfig
    from accelsim.result import BREAKDOWN_KEYS, Timing
    from accelsim.scalesim import scalesim_config, simulate_layer_result

    layer = ConvLayer(M=24, C=5, H=11, W=9, R=3, S=2, stride=2, pad=1, name="l")
    for dataflow in Dataflow:
        arch = ArchConfig(array_rows=4, array_cols=7, ifmap_spad_kib=1, weight_spad_kib=2, acc_kib=1,
                          dataflow=dataflow)
        native = simulate_layer_scalesim(layer, scalesim_config(arch))
        r = simulate_layer_result(layer, arch)
        assert r.timing is Timing.SCALESIM and r.cycles == native.compute_cycles and r.macs == native.macs
        assert r.utilization == native.overall_utilization
        assert r.mapping_efficiency == native.mapping_efficiency
        assert r.sram_reads == {"ifmap": native.ifmap_sram_reads, "filter": native.filter_sram_reads}
        assert r.sram_writes == {"ofmap": native.ofmap_sram_writes}
        assert r.dram_read_bytes == native.ifmap_dram_reads + native.filter_dram_reads
        assert r.dram_write_bytes == native.ofmap_dram_writes
        assert tuple(r.breakdown.to_dict()) == BREAKDOWN_KEYS
        assert min(r.breakdown.to_dict().values()) >= 0 and abs(r.breakdown.total - r.cycles) < 1e-6


def test_cfg_to_arch_round_trip(tmp_path):
    from accelsim.scalesim import arch_from_scalesim_cfg, scalesim_config

    cfg = tmp_path / "a.cfg"
    cfg.write_text("[general]\nrun_name = r1\n[architecture_presets]\nArrayHeight: 8\nArrayWidth: 12\n"
                   "IfmapSramSzkB: 64\nFilterSramSzkB: 32\nOfmapSramSzkB: 16\nIfmapOffset: 0\n"
                   "FilterOffset: 10000000\nOfmapOffset: 20000000\nDataflow: os\n"
                   "[run_presets]\nInterfaceBandwidth: CALC\n")
    arch = arch_from_scalesim_cfg(cfg)
    assert (arch.name, arch.array_rows, arch.array_cols, arch.dataflow) == ("r1", 8, 12, Dataflow.OS)
    assert (arch.ifmap_spad_kib, arch.weight_spad_kib, arch.acc_kib) == (64, 32, 16)
    assert scalesim_config(arch) == parse_scalesim_cfg(cfg)


def test_user_bandwidth_cfg_maps_to_dram_bandwidth_outside_compatibility_mode(tmp_path):
    """docs: USER mode's first Bandwidth is dram_bytes_per_cycle for accelsim's own timing; only
    --timing scalesim (which reproduces CALC) refuses it."""
    from accelsim.scalesim import arch_from_scalesim_cfg

    cfg = write(tmp_path, MINIMAL_CFG.replace("InterfaceBandwidth: CALC", "InterfaceBandwidth: USER").replace(
        "Dataflow: os", "Dataflow: os\nBandwidth: 10"), "user.cfg")
    assert arch_from_scalesim_cfg(cfg).dram_bytes_per_cycle == 10
    with pytest.raises(AccelsimError, match="InterfaceBandwidth must be CALC with --timing scalesim"):
        arch_from_scalesim_cfg(cfg, for_scalesim_timing=True)
