"""Swept points equal simulate_network; backends agree bit for bit; a killed sweep resumes to the same
table; the output files are deterministic."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from accelsim import workloads
from accelsim.cli import main
from accelsim.errors import AccelsimError
from accelsim.sim import simulate_network
from accelsim.sweep import Backend, load, run_sweep
from accelsim.sweep.execute import COLUMNS, chunk_ranges, evaluate_chunk
from accelsim.sweep.pareto import front_mask
from accelsim.sweep.space import config


def table(out):
    t = pq.read_table(out / "points")
    return t.take(np.lexsort((t["network"].to_numpy(zero_copy_only=False), t["config_id"].to_numpy())))


def chunks(out):
    """The bytes of every chunk file and marker (invalid points hold NaN: Table.equals says unequal)."""
    return {p.name: p.read_bytes() for p in (out / "points").iterdir() if not p.name.startswith(".")}


def test_points_equal_simulate_network(space_file):
    s = load(space_file)
    rows = evaluate_chunk(s, 0, s.size)
    assert tuple(rows) == COLUMNS
    n = rows["config_id"].size
    assert n == s.feasible_count() * 2
    valid = rows["valid"]
    assert 0 < valid.sum() < n  # OS on 32 rows cannot hold an output tile in 1 KiB
    layers = {"mobilenetv2": workloads.load("mobilenetv2"),
              "tiny": workloads.load(space_file.parent / "tiny.csv")}
    rng = np.random.default_rng(0)
    sample = [*rng.choice(np.flatnonzero(valid), 10, replace=False),
              *rng.choice(np.flatnonzero(~valid), 3, replace=False)]
    for i in sample:
        row = {c: rows[c][i] for c in COLUMNS}
        arch = config(s, row)
        if not row["valid"]:
            with pytest.raises(AccelsimError):
                simulate_network(layers[row["network"]], arch)
            continue
        t = simulate_network(layers[row["network"]], arch).totals
        got = {c: row[c].item() for c in ("cycles", "time_us", "utilization", "energy_pj", "macs",
                                           "dram_read_bytes", "dram_write_bytes")}
        assert got == {"cycles": t.cycles, "time_us": t.time_us, "utilization": t.utilization,
                       "energy_pj": t.energy_pj, "macs": t.macs, "dram_read_bytes": t.dram_read_bytes,
                       "dram_write_bytes": t.dram_write_bytes}  # exactly, floats included


def test_backends_agree_bit_for_bit_and_front_is_non_dominated(space_file, tmp_path):
    s = load(space_file)
    import distributed  # noqa: F401  # the sweep extra: scripts/test.sh installs it; missing must fail, not skip
    runs = {"inprocess": Backend("inprocess"), "pool": Backend("pool", workers=2),
            "dask": Backend("dask", workers=2, address="local")}
    outs = {name: run_sweep(s, tmp_path / name, backend=b, plots=False).out for name, b in runs.items()}
    ref = outs.pop("inprocess")
    for out in outs.values():
        assert chunks(out) == chunks(ref)
        for name in ("pareto.csv", "summary.json"):
            assert (out / name).read_bytes() == (ref / name).read_bytes()
    t, front = table(ref), pq.read_table(ref / "pareto.parquet")
    for net in ("mobilenetv2", "tiny"):
        of_net = t["network"].to_numpy(zero_copy_only=False) == net
        mine = t.filter(of_net & t["valid"].to_numpy())
        vals = np.column_stack([mine["cycles"].to_numpy(), mine["energy_pj"].to_numpy()])
        want = set(mine["config_id"].to_numpy()[front_mask(vals)].tolist())
        got = front.filter(np.asarray(front["network"].to_numpy(zero_copy_only=False) == net))
        assert set(got["config_id"].to_pylist()) == want and len(want) == got.num_rows


def test_resume_after_kill_equals_uninterrupted_run(space_file, tmp_path):
    s = load(space_file)
    n_chunks = len(chunk_ranges(s))
    assert n_chunks == 11
    whole = run_sweep(s, tmp_path / "whole", backend=Backend("inprocess")).out
    part = run_sweep(s, tmp_path / "part", backend=Backend("inprocess"), max_chunks=4)
    assert part.chunks_run == 4
    out = part.out
    (out / "points" / "_part-000002.done").unlink()  # killed before its marker was written
    (out / "points" / ".part-000005.parquet.tmp").write_bytes(b"PAR1 half a chunk")  # killed mid-write
    assert pq.read_table(out / "points").num_rows > 0  # what it wrote is readable
    with pytest.raises(AccelsimError, match="--out must be a new or empty folder"):
        run_sweep(s, out, backend=Backend("inprocess"))
    res = run_sweep(s, out, backend=Backend("inprocess"), resume=True)
    assert res.chunks_run == n_chunks - 3
    assert chunks(out) == chunks(whole)
    assert table(out).num_rows == res.points == s.feasible_count() * 2  # nothing lost, nothing twice
    for name in ("pareto.parquet", "pareto.csv", "summary.json", "pareto.png", "sensitivity.png"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name
    again = run_sweep(s, out, backend=Backend("inprocess"), resume=True)
    assert again.chunks_run == 0


def test_resume_refuses_another_space(space_file, tmp_path):
    s = load(space_file)
    run_sweep(s, tmp_path / "o", backend=Backend("inprocess"), max_chunks=1, plots=False)
    space_file.write_text(space_file.read_text().replace("max_pes = 256", "max_pes = 64"))
    with pytest.raises(AccelsimError, match="--resume must be given the space that"):
        run_sweep(load(space_file), tmp_path / "o", backend=Backend("inprocess"), resume=True)


def test_cli_sweep_json_is_deterministic(space_file, tmp_path, capsys):
    docs = []
    for name in ("a", "b"):
        assert main(["sweep", str(space_file), "--out", str(tmp_path / name), "--workers", "1", "--json",
                     "--objectives", "energy_pj,time_us,pes"]) == 0
        docs.append(capsys.readouterr().out)
    assert docs[0] == docs[1]
    summary = json.loads(docs[0])
    assert summary["objectives"] == ["energy_pj", "time_us", "pes"]
    assert summary["valid_points"] < summary["points"] == 2 * summary["feasible_configs"]
    for name in ("pareto.parquet", "pareto.csv", "pareto.png", "sensitivity.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert chunks(tmp_path / "a") == chunks(tmp_path / "b")


def test_cli_on_a_running_dask_scheduler(space_file, tmp_path, capsys):
    import distributed  # the sweep extra: scripts/test.sh installs it; missing must fail, not skip
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        args = ["sweep", str(space_file), "--out", str(tmp_path / "d"), "--dask", address, "--no-plots"]
        assert main(args) == 0
    assert "Pareto front" in capsys.readouterr().out
    run_sweep(load(space_file), tmp_path / "i", backend=Backend("inprocess"), plots=False)
    assert chunks(tmp_path / "d") == chunks(tmp_path / "i")
    assert (tmp_path / "d" / "pareto.csv").read_bytes() == (tmp_path / "i" / "pareto.csv").read_bytes()


def test_points_on_a_dot_product_base_equal_simulate_network(space_file):
    """A base of V-wide dot-product PEs (pe_dot_width, issue 10): every point has the base's V, and its
    numbers (utilization against PEs x V MACs a cycle) are simulate_network's."""
    space_file.write_text(space_file.read_text().replace('base = "gemmini"', 'base = "tensorcore"'))
    s = load(space_file)
    assert s.base.pe_dot_width == 4
    rows = evaluate_chunk(s, 0, s.size)
    valid = rows["valid"]
    assert valid.any()
    layers = {"mobilenetv2": workloads.load("mobilenetv2"),
              "tiny": workloads.load(space_file.parent / "tiny.csv")}
    for i in np.random.default_rng(1).choice(np.flatnonzero(valid), 6, replace=False):
        row = {c: rows[c][i] for c in COLUMNS}
        arch = config(s, row)
        assert arch.pe_dot_width == 4
        t = simulate_network(layers[row["network"]], arch).totals
        assert (row["cycles"].item(), row["utilization"].item(), row["energy_pj"].item()) == (
            t.cycles, t.utilization, t.energy_pj)


DOT_SPACE = """
base = "gemmini"
workloads = ["tiny.csv"]
objectives = ["cycles", "area"]

[space]
array_rows = [2, 4, 8]
array_cols = [8, 16]
dataflow = ["ws", "os", "is"]
pe_dot_width = [1, 2, 4]
"""


def test_swept_pe_dot_width_points_equal_simulate_and_area(space_file, tmp_path):
    """pe_dot_width is a sweep key: every point with V != 1 equals simulate_network of its configuration
    (utilization against PEs x V), and its area and macs_per_cycle columns are accelsim.area's estimate and
    PEs x V of that configuration, as `accelsim simulate` reports them."""
    from accelsim.area import estimate_area

    path = space_file.with_name("dot.toml")
    path.write_text(DOT_SPACE)
    s = load(path)
    assert s.keys == ("array_rows", "array_cols", "dataflow", "pe_dot_width")
    rows = evaluate_chunk(s, 0, s.size)
    assert tuple(rows) == COLUMNS and rows["config_id"].size == s.size == 54
    layers = workloads.load(space_file.parent / "tiny.csv")
    seen = set()
    for i in np.flatnonzero(rows["pe_dot_width"] != 1):
        row = {c: rows[c][i] for c in COLUMNS}
        arch = config(s, row)
        assert arch.pe_dot_width == row["pe_dot_width"] in (2, 4)
        assert row["macs_per_cycle"] == arch.macs_per_cycle
        assert row["area"] == estimate_area(arch).area
        if not row["valid"]:
            with pytest.raises(AccelsimError):
                simulate_network(layers, arch)
            continue
        seen.add((arch.pe_dot_width, arch.dataflow.value))
        t = simulate_network(layers, arch).totals
        assert (row["cycles"].item(), row["utilization"].item(), row["energy_pj"].item(), row["macs"].item(),
                row["dram_read_bytes"].item()) == (t.cycles, t.utilization, t.energy_pj, t.macs,
                                                   t.dram_read_bytes)
    assert {v for v, _ in seen} == {2, 4} and {d for _, d in seen} == {"ws", "os", "is"}
    # V changes the numbers: not the V = 1 point under another name
    v1 = (rows["pe_dot_width"] == 1) & rows["valid"]
    v4 = (rows["pe_dot_width"] == 4) & rows["valid"]
    assert rows["cycles"][v4].sum() != rows["cycles"][v1].sum() and rows["area"][v4].min() > 0
    res = run_sweep(s, tmp_path / "dot", backend=Backend("inprocess"), plots=False)
    front = pq.read_table(res.out / "pareto.parquet")
    valid = rows["valid"]
    vals = np.column_stack([rows["cycles"][valid], rows["area"][valid]])
    assert set(front["config_id"].to_pylist()) == set(rows["config_id"][valid][front_mask(vals)].tolist())
