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
