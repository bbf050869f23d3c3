"""The example reports committed in reports/ are what `bash scripts/reports.sh` produces today."""

from pathlib import Path

import pytest

from accelsim import arch, report, workloads
from accelsim.sim import simulate_network

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("network", ["resnet50", "mobilenetv2"])
def test_committed_reports_are_current(tmp_path, network):
    fresh = report.write(simulate_network(workloads.load(network), arch.preset("gemmini")), tmp_path)
    committed = ROOT / "reports" / network
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in fresh)
    for path in fresh:
        assert path.read_bytes() == (committed / path.name).read_bytes(), (
            f"reports/{network}/{path.name} is stale: run `bash scripts/reports.sh`")
