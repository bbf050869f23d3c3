"""The area model (accelsim.area) against every synthesized point of docs/synthesis.json (written by
scripts/synth.py), its coefficients against a refit of that data, and its monotonicity."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from accelsim import area
from accelsim.arch import ArchConfig, preset

DATA = Path(__file__).resolve().parents[2] / "docs" / "synthesis.json"
POINTS = json.loads(DATA.read_text())["points"]


def arch_of(p: dict) -> ArchConfig:
    return ArchConfig(name="synth", array_rows=p["array_rows"], array_cols=p["array_cols"],
                      pe_dot_width=p["pe_dot_width"], ifmap_spad_kib=p["ifmap_spad_kib"],
                      weight_spad_kib=p["weight_spad_kib"], acc_kib=p["acc_kib"])


def test_data_has_the_points_the_doc_compares():
    """WS-only and WS+OS+IS builds of one array (8x8), V = 1, 2, 4 at equal MACs a cycle, two or more
    array sizes at V = 1 and two buffer sizes: what docs/synthesis.md's tables and the fit need."""
    pts = list(POINTS.values())
    assert {p["dataflows"] for p in pts if (p["array_rows"], p["array_cols"]) == (8, 8)} == {"ws", "all"}
    macs = {}
    for p in pts:
        macs.setdefault(p["array_rows"] * p["array_cols"] * p["pe_dot_width"], set()).add(p["pe_dot_width"])
    assert any(vs >= {1, 2, 4} for vs in macs.values())
    assert len({p["array_rows"] for p in pts if p["pe_dot_width"] == 1 and p["dataflows"] == "ws"}) >= 2
    assert len({(p["ifmap_spad_kib"], p["acc_kib"]) for p in pts}) >= 2
    for p in pts:
        assert p["luts"] > 0 and p["ffs"] > 0 and p["brams"] > 0 and len(p["verilog_sha256"]) == 64


@pytest.mark.parametrize("key", sorted(POINTS))
def test_model_within_stated_error_of_every_synthesized_point(key):
    p = POINTS[key]
    est = area.estimate_area(arch_of(p), dataflows=area.DATAFLOW_SETS[p["dataflows"]])
    assert est.brams == p["brams"]  # counted from the memories' shapes, not fitted
    tol = area.STATED_ERROR_PCT / 100
    assert est.luts == pytest.approx(p["luts"], rel=tol)
    assert est.ffs == pytest.approx(p["ffs"], rel=tol)
    assert est.area == pytest.approx(area.combine(p["luts"], p["ffs"], p["brams"]), rel=tol)


def test_coefficients_are_the_fit_of_the_data():
    luts, ffs = area.fit_coefficients(POINTS.values())
    assert luts == pytest.approx(area.LUT_COEFFS, abs=0.11)
    assert ffs == pytest.approx(area.FF_COEFFS, abs=0.11)


def test_monotone_in_array_size_v_and_sram():
    base = preset("gemmini")
    a0 = area.estimate_area(base)
    for bigger in (replace(base, array_rows=32), replace(base, array_cols=32), replace(base, pe_dot_width=2),
                   replace(base, pe_dot_width=4, array_rows=32)):
        assert area.estimate_area(bigger).area > a0.area
        assert area.estimate_area(bigger).luts > a0.luts
    for field in ("ifmap_spad_kib", "weight_spad_kib", "acc_kib"):
        more = area.estimate_area(replace(base, **{field: 4 * getattr(base, field)}))
        assert more.brams > a0.brams and more.area > a0.area
    # over a grid, every step up in one key never lowers any figure: in AR, AC and V for a WS-only build, and
    # along square arrays for the default build (a non-square build of all three dataflows provisions each
    # spad at the most lanes and the most rows any dataflow needs, AccelParams.from_arch, so its BRAMs can
    # fall as AR*V grows toward AC: 2x32 builds its 4 KiB spads as 64 KiB)
    rows = np.array([2, 4, 8, 16, 32])
    ws = area.DATAFLOW_SETS["ws"]
    for V in (1, 2, 4, 8):
        for kib in (4, 16, 64):
            a = area.area_arrays(rows[:, None], rows[None, :], V, kib, kib, 2 * kib, ws)
            for name in ("luts", "ffs", "brams", "area"):
                assert (np.diff(a[name], axis=0) >= 0).all() and (np.diff(a[name], axis=1) >= 0).all(), name
            w = area.area_arrays(rows[:, None], rows[None, :], min(2 * V, 8), kib, kib, 2 * kib, ws)
            assert (w["area"] >= a["area"]).all() and (w["luts"] >= a["luts"]).all()
            s = area.area_arrays(rows[:, None], rows[None, :], V, 2 * kib, 2 * kib, 4 * kib, ws)
            assert (s["brams"] >= a["brams"]).all() and (s["area"] >= a["area"]).all()
            sq = area.area_arrays(rows, rows, V, kib, kib, 2 * kib)
            assert (np.diff(sq["area"]) > 0).all() and (np.diff(sq["brams"]) >= 0).all()
            wider = area.area_arrays(rows, rows, min(2 * V, 8), kib, kib, 2 * kib)["area"]
            bigger = area.area_arrays(rows, rows, V, 2 * kib, 2 * kib, 4 * kib)["area"]
            assert (wider >= sq["area"]).all() and (bigger >= sq["area"]).all()


def test_os_is_build_costs_more_than_ws_only():
    a = preset("gemmini")
    assert area.estimate_area(a).area > area.estimate_area(a, dataflows=area.DATAFLOW_SETS["ws"]).area


def test_bram_count_takes_the_fewest_blocks():
    assert area.bram_count(16, 256) == 1 and area.bram_count(8, 512) == 1 and area.bram_count(32, 1024) == 8
    assert area.bram_count(128, 512) == 16  # 8 wide x 2 deep of 256x16, or 16 x 1 of 512x8
    assert area.bram_count(512, 128) == 32  # a shallow wide memory still takes whole blocks


def test_simulate_reports_the_estimate_next_to_cycles_and_energy(capsys, tmp_path):
    """`accelsim simulate` prints the estimate on its summary line and in --json (key ``area``); the report's
    summary states it; all are estimate_area of the configuration simulated (V = 4 here)."""
    from accelsim.cli import main

    args = ["simulate", "--preset", "tensorcore", "--layer", "N=1,M=32,C=16,H=8,W=8,R=3,S=3,stride=1,pad=1"]
    want = area.estimate_area(preset("tensorcore"))
    assert main(args) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"uJ, area {want.area:,.0f} LUT4-eq (iCE40 estimate); timing: accelsim" in last, last
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["area"] == want.to_dict() and doc["area"]["area_lut4_eq"] == round(want.area) > 0
    assert main(["report", *args[1:], "--out", str(tmp_path / "r")]) == 0
    md = (tmp_path / "r" / "report.md").read_text()
    assert f"area estimate {want.area:,.0f} LUT4-equivalents" in md
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["area"] == want.to_dict()
