"""The `accelsim` command as users run it: outputs, JSON schema, one-line errors with exit 2."""

import json
import subprocess
import sys

import pytest

from accelsim import ConvLayer
from accelsim.arch import Dataflow
from accelsim.cli import main

LAYER = "N=1,M=64,C=64,H=56,W=56,R=3,S=3,stride=1,pad=1,groups=1"


def run(*args):
    return subprocess.run([sys.executable, "-m", "accelsim.cli", *args], capture_output=True, text=True)


def test_simulate_json_schema(capsys):
    assert main(["simulate", "--layer", LAYER, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) >= {"layers", "totals"}
    (layer,) = doc["layers"]
    for key in ("name", "macs", "cycles", "utilization", "mapping_efficiency", "dram_read_bytes",
                "dram_write_bytes", "sram_reads", "sram_writes", "breakdown"):
        assert key in layer
    assert layer["macs"] == 64 * 64 * 9 * 56 * 56
    assert abs(sum(layer["breakdown"].values()) - layer["cycles"]) < 1e-6
    assert doc["totals"]["cycles"] == layer["cycles"]


def test_simulate_network_table(capsys):
    assert main(["simulate", "--network", "resnet18", "--preset", "eyeriss", "--dataflow", "ws"]) == 0
    out = capsys.readouterr().out
    assert "layer1.0.conv1" in out and "total (21 layers)" in out and "12x14 WS" in out


def test_topology_and_onnx_inputs(tmp_path, capsys):
    from accelsim import ConvLayer
    from accelsim.workloads import write_scalesim_csv

    csv = tmp_path / "topo.csv"
    write_scalesim_csv([ConvLayer(M=8, C=4, H=10, W=10, R=3, S=3, name="c1")], csv)
    assert main(["simulate", "--topology", str(csv), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][0]["name"] == "c1"


SCALESIM_CFG = """[general]
run_name = cli
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 8
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 32
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow: os
Bandwidth: 10
[run_presets]
InterfaceBandwidth: {mode}
"""


def test_scalesim_cfg_and_timing(tmp_path, capsys):
    from accelsim.scalesim import ScaleSimConfig, simulate_layer_scalesim

    cfg = tmp_path / "a.cfg"
    cfg.write_text(SCALESIM_CFG.format(mode="CALC"))
    layer = "M=16,C=8,H=12,W=12,R=3,S=3,stride=1,pad=0"
    assert (
        main(["simulate", "--layer", layer, "--scalesim-cfg", str(cfg), "--timing", "scalesim", "--json"])
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    native = simulate_layer_scalesim(
        ConvLayer.parse(layer),
        ScaleSimConfig(
            array_height=8,
            array_width=8,
            ifmap_sram_kib=64,
            filter_sram_kib=64,
            ofmap_sram_kib=32,
            dataflow=Dataflow.OS,
        ),
    )
    assert doc["layers"][0]["cycles"] == native.compute_cycles and doc["arch"]["name"] == "cli"
    assert main(["simulate", "--layer", layer, "--scalesim-cfg", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["layers"][0]["timing"] == "accelsim"
    cfg.write_text(SCALESIM_CFG.format(mode="USER"))
    r = run("simulate", "--layer", layer, "--scalesim-cfg", str(cfg), "--timing", "scalesim")
    assert (
        r.returncode == 2
        and "InterfaceBandwidth must be CALC" in r.stderr
        and len(r.stderr.splitlines()) == 1
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--layer", "M=0"], "layer: M must be a positive integer <= 16,777,216, not 0"),
        (["simulate", "--layer", "H=3,R=5"], "R must be <= padded input height"),
        (["simulate", "--network", "nope"], "workload must be a zoo network"),
        (["simulate", "--layer", LAYER, "--preset", "nope"], "preset must be one of"),
        (["simulate", "--layer", LAYER, "--arch", "/nonexistent.toml"], "arch file must be an existing file"),
        (["simulate", "--layer", LAYER, "--dataflow", "rs"], "invalid choice: 'rs'"),
        (["simulate"], "one of the arguments --network --topology --onnx --layer is required"),
        (["simulate", "--topology", "/nonexistent.csv"], "nonexistent.csv"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    proc = run(*args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_bad_arch_key_and_tile_that_cannot_fit(tmp_path):
    bad = tmp_path / "typo.toml"
    bad.write_text("array_row = 16\n")
    proc = run("simulate", "--layer", LAYER, "--arch", str(bad))
    assert proc.returncode == 2 and "typo.toml: key must be one of" in proc.stderr
    small = tmp_path / "small.toml"
    small.write_text("array_rows = 64\narray_cols = 64\nweight_spad_kib = 4\n")
    proc = run("simulate", "--layer", LAYER, "--arch", str(small))
    assert proc.returncode == 2 and "weight_spad_kib must be >= 8" in proc.stderr


def test_report_writes_every_file(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "--layer", LAYER, "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".accelsim-output.json",
        "breakdown.png",
        "layers.csv",
        "report.md",
        "roofline.png",
        "summary.json",
        "utilization.png",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["macs"] == 64 * 64 * 9 * 56 * 56
    assert (out / "layers.csv").read_text().splitlines()[0].startswith("name,layer,dataflow")
    assert (out / "utilization.png").read_bytes()[:4] == b"\x89PNG"


def test_json_is_streamed_as_the_whole_document_would_be(capsys):
    from accelsim import workloads
    from accelsim.arch import preset
    from accelsim.sim import simulate_network

    assert main(["simulate", "--network", "resnet18", "--json"]) == 0
    whole = simulate_network(workloads.load("resnet18"), preset()).to_dict()
    assert capsys.readouterr().out == json.dumps(whole, indent=1, allow_nan=False) + "\n"


def test_table_columns_never_touch(capsys):
    """LLM-sized numbers (10^13 MACs, 10^10 bytes) stay separate fields of the row."""
    assert main(["simulate", "--layer", "N=4096,M=100000,C=100000"]) == 0
    row = capsys.readouterr().out.splitlines()[2].split()
    assert len(row) == 10 and int(row[1].replace(",", "")) == 4096 * 100_000 * 100_000


def test_cosim_too_long_is_refused_up_front_with_an_estimate(capsys):
    """A layer hours away on the chosen simulator is one line naming the estimate; nothing is built."""
    assert main(["cosim", "--network", "resnet50", "--index", "3", "--max-minutes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "layer1.0.conv3" in err and "icarus" in err and "min'" in err
    assert "must be estimated at most --max-minutes 1" in err
    assert main(["cosim", "--network", "resnet50", "--index", "3", "--max-minutes", "0"]) == 2
