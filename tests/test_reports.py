"""The example reports committed in reports/ are what `bash scripts/reports.sh` produces today."""

from pathlib import Path

import pytest

from accelsim import arch, report, workloads
from accelsim.sim import simulate_network

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("network", ["resnet50", "mobilenetv2"])
def test_committed_reports_are_current(tmp_path, network):
    report.write(simulate_network(workloads.load(network), arch.preset("gemmini")), tmp_path)
    fresh = sorted(tmp_path.iterdir())  # the report files and the manifest saying accelsim wrote them
    committed = ROOT / "reports" / network
    assert sorted(p.name for p in committed.iterdir()) == [p.name for p in fresh]
    for path in fresh:
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"reports/{network}/{path.name} is stale: run `bash scripts/reports.sh`")


@pytest.mark.parametrize("preset", arch.preset_names())
def test_no_layer_lies_above_its_roof(preset):
    """The roofline plot never shows the impossible: every layer of every zoo network, on every dataflow,
    achieves at most the roof at its operational intensity."""
    from accelsim.arch import Dataflow

    for network in workloads.ZOO_NAMES:
        for dataflow in Dataflow:
            result = simulate_network(workloads.zoo(network), arch.preset(preset).with_dataflow(dataflow))
            roof, _ = report.roofline(result)
            for r in result.layers:
                achieved = r.macs / r.cycles
                bound = roof(r.operational_intensity_macs_per_byte)
                assert achieved <= bound * (1 + 1e-12), (network, dataflow, r.name, achieved, bound)


def test_compare_dataflows_report(tmp_path):
    """`report --compare-dataflows`: dataflows.csv holds, per layer, what each dataflow's own simulation
    gives; report.md's totals are those networks' totals; the plot is written."""
    import csv

    from accelsim.arch import Dataflow
    from accelsim.cli import main

    assert main(["report", "--network", "resnet18", "--preset", "gemmini", "--out", str(tmp_path),
                 "--compare-dataflows"]) == 0
    layers = workloads.load("resnet18")
    by_df = {df: simulate_network(layers, arch.preset("gemmini").with_dataflow(df)) for df in Dataflow}
    rows = list(csv.DictReader((tmp_path / "dataflows.csv").open()))
    assert [r["name"] for r in rows] == [layer.name for layer in layers]
    for df, res in by_df.items():
        for row, r in zip(rows, res.layers, strict=True):
            assert int(row[f"cycles_{df.value}"]) == r.cycles
            assert int(row[f"dram_bytes_{df.value}"]) == r.dram_read_bytes + r.dram_write_bytes
        assert f"| {df.name} | {res.totals.cycles:,} |" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "dataflows.png").read_bytes().startswith(b"\x89PNG")
    assert {df for df in by_df if by_df[df].totals.cycles > 0} == set(Dataflow)


def test_committed_dataflow_comparison_is_current(tmp_path):
    from accelsim.cli import main

    assert main(["report", "--network", "resnet18", "--preset", "gemmini", "--out", str(tmp_path),
                 "--compare-dataflows"]) == 0
    committed = ROOT / "reports" / "resnet18-dataflows"
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"reports/resnet18-dataflows/{path.name} is stale: run `bash scripts/reports.sh`")


@pytest.mark.parametrize(("name", "mapper"), [("resnet50-256k-fixed", []),
                                              ("resnet50-256k-mapped", ["--mapper", "search",
                                                                        "--dataflows", "all"])])
def test_committed_mapped_vs_fixed_is_current(tmp_path, name, mapper):
    """The mapped-vs-fixed example (issue 11): the same Gemmini-sized configuration, fixed lowering and
    searched mappings (docs/mapper.md)."""
    from accelsim.cli import main

    assert main(["report", "--network", "resnet50", "--arch", str(ROOT / "examples" / "gemmini_256k.toml"),
                 "--out", str(tmp_path), *mapper]) == 0
    committed = ROOT / "reports" / name
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"reports/{name}/{path.name} is stale: run `bash scripts/reports.sh`")
