"""The ``host`` axis: a ``riscv`` point is simulate_network with the firmware in the loop, a ``fixed`` point
the fast model, and the two differ; a bad host value is one clear error."""

import numpy as np
import pytest

from accelsim import workloads
from accelsim.errors import AccelsimError
from accelsim.sim import simulate_network
from accelsim.sweep import load
from accelsim.sweep.execute import COLUMNS, evaluate_chunk
from accelsim.sweep.space import config

HOST_SPACE = """
base = "gemmini"
workloads = ["tiny.csv"]

[space]
array_rows = [4, 8]
dataflow = ["ws", "os"]
acc_kib = [1, 64]
host = ["fixed", "riscv"]
"""


def test_riscv_points_equal_simulate_network_with_the_host_in_the_loop(space_file):
    path = space_file.with_name("host.toml")
    path.write_text(HOST_SPACE)
    s = load(path)
    assert s.keys[-1] == "host" and s.values[-1] == (0, 1)
    rows = evaluate_chunk(s, 0, s.size)
    assert tuple(rows) == COLUMNS and set(rows["host"].tolist()) == {"fixed", "riscv"}
    layers = workloads.load(space_file.parent / "tiny.csv")
    checked = {"fixed": 0, "riscv": 0}
    for i in range(rows["config_id"].size):
        row = {c: rows[c][i] for c in COLUMNS}
        arch = config(s, row)
        if not row["valid"]:
            with pytest.raises(AccelsimError):
                simulate_network(layers, arch, host=str(row["host"]))
            continue
        net = simulate_network(layers, arch, host=str(row["host"]))
        t = net.totals
        assert (row["cycles"].item(), row["time_us"].item(), row["utilization"].item(),
                row["energy_pj"].item(), row["macs"].item(), row["dram_read_bytes"].item(),
                row["dram_write_bytes"].item(), row["commands"].item()) == (
            t.cycles, t.time_us, t.utilization, t.energy_pj, t.macs, t.dram_read_bytes, t.dram_write_bytes,
            sum(layer.commands for layer in net.layers))
        checked[str(row["host"])] += 1
        if row["host"] == "riscv":
            assert row["closed_form_layers"] == 0
    assert checked["fixed"] > 0 and checked["riscv"] == checked["fixed"]
    riscv = (rows["host"] == "riscv") & rows["valid"]
    fixed = (rows["host"] == "fixed") & rows["valid"]
    assert not np.array_equal(rows["cycles"][riscv], rows["cycles"][fixed])  # the firmware costs cycles


def test_a_bad_host_is_one_clear_error(space_file):
    path = space_file.with_name("host.toml")
    path.write_text(HOST_SPACE.replace('"riscv"', '"arm"'))
    with pytest.raises(AccelsimError, match=r"space\.host must be one of fixed, riscv, not 'arm'"):
        load(path)
