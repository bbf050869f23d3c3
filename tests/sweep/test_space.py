"""Space files: ranges, constraints, and bad input through the CLI (one stderr line, exit 2)."""

import sys

import numpy as np
import pytest

from accelsim.cli import main
from accelsim.sweep import space as space_mod


def test_ranges_constraints_and_config_ids(space_file):
    s = space_mod.load(space_file)
    assert s.keys == ("array_rows", "array_cols", "dataflow", "acc_kib", "dram_bytes_per_cycle",
                      "clock_mhz")
    assert s.values[1] == (4, 8, 16)  # geometric, stop inclusive
    assert s.values[4] == (8, 16, 24)  # arithmetic, stop inclusive
    assert s.values[2] == (0, 1, 2)  # dataflow codes
    assert s.size == 2 * 3 * 3 * 2 * 3 * 2
    cfg = s.configs(0, s.size)
    assert (cfg["array_rows"] * cfg["array_cols"] <= 256).all()
    assert cfg["config_id"].size == s.feasible_count() == 5 * 3 * 2 * 3 * 2  # only 32x16 is out
    # config_id is the mixed-radix index of the values, the first key most significant
    i = int(cfg["config_id"][-1])
    assert i == 1 * (3 * 3 * 2 * 3 * 2) + 1 * (3 * 2 * 3 * 2) + 3 * 2 * 3 * 2 - 1  # 32x8, other keys last
    assert cfg["weight_spad_kib"][0] == 128 and cfg["queue_depth"][0] == 8  # from the base preset


def test_range_forms():
    values = space_mod._values
    assert values("k", {"start": 8, "stop": 64, "factor": 1.5}, "s") == (8, 12, 18, 27, 40, 61)  # 40.5, 60.75
    assert values("k", {"start": 2, "stop": 3, "factor": 1.2}, "s") == (2, 3)  # 2, 2.4, 2.88: deduped
    assert values("k", {"start": 0.5, "stop": 1.0, "step": 0.25}, "s") == (0.5, 0.75, 1.0)
    assert values("k", {"start": 4, "stop": 4, "step": 8}, "s") == (4,)
    assert values("k", 7, "s") == (7,)


def _run_bad(tmp_path, capsys, text, *extra):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize(("text", "message"), [
    ('workloads = ["resnet18"]\n[space]\narray_rowz = [8]\n',
     "bad.toml: space key must be one of ['array_rows', 'array_cols', 'dataflow'"),
    ('workloads = ["resnet18"]\n[space]\narray_rows = {start = 32, stop = 8, step = 8}\n',
     "bad.toml: space.array_rows range must be non-empty (start <= stop)"),
    ('workloads = ["resnet18"]\n[space]\narray_rows = []\n',
     "bad.toml: space.array_rows must be a non-empty"),
    ('workloads = ["resnet18"]\n[space]\narray_rows = [8, 64]\n[constraints]\nmax_pes = 32\n',
     "bad.toml: constraints must be met by at least one configuration, not {'max_pes': 32}"),
    ('workloads = ["resnet18"]\n[space]\nqueue_depth = [0]\n',
     "arch 'bad.toml: space.queue_depth': queue_depth must be a positive integer"),
    ('workloads = ["resnet18"]\n[space]\ndataflow = ["ws", "rs"]\n', "dataflow must be one of ws, os, is"),
    ('workloads = ["resnet18"]\n[constraints]\narea_mm2 = 4\n', "bad.toml: constraints key must be one of"),
    ('workloads = []\n', "bad.toml: workloads must be a non-empty list"),
    ('workloads = ["resnet18"]\nspace = 3\n', "bad.toml: space must be a table"),
    # dot-product PEs, the area and MAC budgets
    ('workloads = ["resnet18"]\n[space]\npe_dot_width = [1, 3]\n',
     "pe_dot_width must be one of 1, 2, 4, 8"),
    ('workloads = ["resnet18"]\n[constraints]\nmax_area = -1\n',
     "bad.toml: constraints.max_area must be a non-negative number, not -1"),
    ('workloads = ["resnet18"]\n[constraints]\nmax_macs_per_cycle = 1\n',
     "bad.toml: constraints must be met by at least one configuration, not {'max_macs_per_cycle': 1}"),
    ('workloads = ["resnet18"]\n[constraints]\nmax_area = 1000\n',
     "bad.toml: constraints must be met by at least one configuration, not {'max_area': 1000}"),
    ('workloads = ["resnet18"]\n[constraints]\nmin_macs = 4\n',
     "bad.toml: constraints key must be one of ['max_pes', 'min_pes', 'max_macs_per_cycle'"),
])
def test_bad_space_is_one_line_exit_2(tmp_path, capsys, text, message):
    line = _run_bad(tmp_path, capsys, text)
    assert line.startswith("accelsim: error: ") and message in line, line
    assert not (tmp_path / "out").exists()


def test_bad_objective_and_unknown_key_name_the_key(tmp_path, capsys):
    line = _run_bad(tmp_path, capsys, 'workloads = ["resnet18"]\n', "--objectives", "cycles,area_mm2")
    assert "--objectives entry must be one of ['cycles', 'time_us'" in line and "not 'area_mm2'" in line
    line = _run_bad(tmp_path, capsys, 'workloads = ["resnet18"]\n[space]\nrows = [1]\n')
    assert "not 'rows'" in line and "'array_rows'" in line


def test_unreachable_dask_scheduler_fails_fast(tmp_path, capsys):
    import distributed  # noqa: F401  # the sweep extra: scripts/test.sh installs it; missing must fail, not skip
    path = tmp_path / "ok.toml"
    path.write_text('workloads = ["resnet18"]\n[space]\narray_rows = [8, 16]\n')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dask", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "accelsim: error: --dask scheduler must be reachable within 5 s, not 'tcp://127.0.0.1:9' ("), err
    assert not (tmp_path / "out").exists()  # nothing was evaluated: --out is left as found, so a rerun works
    (tmp_path / "empty").mkdir()
    assert main(["sweep", str(path), "--out", str(tmp_path / "empty"), "--dask", "tcp://127.0.0.1:9"]) == 2
    assert (tmp_path / "empty").is_dir() and not any((tmp_path / "empty").iterdir())
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--no-plots"]) == 0


def test_dask_missing_is_one_line(tmp_path, capsys, monkeypatch):
    """Without the sweep extra (``bash scripts/run.sh`` installs none), --dask says what to install."""
    path = tmp_path / "ok.toml"
    path.write_text('workloads = ["resnet18"]\n[space]\narray_rows = [8, 16]\n')
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dask", "local"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "accelsim: error: --dask must have Dask installed (pip install 'accelsim[sweep]'), not missing"]
    assert not (tmp_path / "out").exists()


def test_area_and_mac_budget_constraints_filter_exactly(tmp_path):
    """max_area (accelsim.area's estimate), min/max_macs_per_cycle (PEs x V) keep exactly the
    configurations a brute-force check of every configuration of the product keeps."""
    from dataclasses import replace

    from accelsim.area import estimate_area

    path = tmp_path / "c.toml"
    base = ('workloads = ["resnet18"]\n[space]\narray_rows = [4, 8, 16]\narray_cols = [8, 16]\n'
            'pe_dot_width = [1, 2, 4]\nacc_kib = [16, 64]\n')
    path.write_text(base)
    whole = space_mod.load(path)
    every = whole.configs(0, whole.size)
    archs = [replace(whole.base, array_rows=int(r), array_cols=int(c), pe_dot_width=int(v), acc_kib=int(a))
             for r, c, v, a in zip(every["array_rows"], every["array_cols"], every["pe_dot_width"],
                                   every["acc_kib"], strict=True)]
    areas = np.array([estimate_area(a).area for a in archs])
    macs = np.array([a.macs_per_cycle for a in archs])
    budget = float(np.median(areas))
    path.write_text(base + f"[constraints]\nmax_area = {budget}\nmin_macs_per_cycle = 64\n"
                           "max_macs_per_cycle = 256\n")
    s = space_mod.load(path)
    cfg = s.configs(0, s.size)
    want = every["config_id"][(areas <= budget) & (macs >= 64) & (macs <= 256)]
    assert 0 < want.size < whole.size
    assert cfg["config_id"].tolist() == want.tolist() and s.feasible_count() == want.size


def test_area_is_an_objective(tmp_path, capsys):
    line = _run_bad(tmp_path, capsys, 'workloads = ["resnet18"]\n', "--objectives", "cycles,areas")
    assert "--objectives entry must be one of ['cycles'" in line and "'area']" in line
    assert "not 'areas'" in line
    assert space_mod.parse_objectives("area,cycles") == ("area", "cycles")
