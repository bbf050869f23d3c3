"""A small space shared by the sweep tests: two networks (a zoo network and a SCALE-Sim CSV), arrays of
different shapes and dataflows, an accumulator small enough that some configurations cannot hold a layer."""

import pytest

from accelsim import workloads
from accelsim.layer import ConvLayer

SPACE = """
base = "gemmini"
workloads = ["mobilenetv2", "tiny.csv"]
chunk_configs = {chunk}

[space]
array_rows = [4, 32]
array_cols = {{start = 4, stop = 16, factor = 2}}
dataflow = ["ws", "os", "is"]
acc_kib = [1, 64]
dram_bytes_per_cycle = {{start = 8, stop = 24, step = 8}}
clock_mhz = [500.0, 1000.0]

[constraints]
max_pes = 256
"""


@pytest.fixture
def space_file(tmp_path):
    """The space TOML (chunks of 20 configurations: 7 chunks) and its CSV workload, in tmp_path."""
    layers = (ConvLayer(N=1, M=24, C=16, H=14, W=14, R=3, S=3, stride=1, pad=0, groups=1, name="a"),
              ConvLayer(N=1, M=40, C=24, H=9, W=9, R=1, S=1, stride=2, pad=0, groups=1, name="b"))
    workloads.write_scalesim_csv(layers, tmp_path / "tiny.csv")
    path = tmp_path / "space.toml"
    path.write_text(SPACE.format(chunk=20))
    return path
