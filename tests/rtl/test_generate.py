"""`accelsim rtl generate`: the Accelerator's Verilog and manifest for a configuration, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from accelsim.cli import main
from accelsim.commands import COMMAND_BITS


@pytest.mark.rtl
def test_generate_writes_verilog_and_manifest(tmp_path, capsys):
    toml = tmp_path / "a.toml"
    toml.write_text('name = "g"\narray_rows = 3\narray_cols = 5\ndataflow = "ws"\nifmap_spad_kib = 1\n'
                    'weight_spad_kib = 1\nacc_kib = 1\ndram_bytes_per_cycle = 4\n')
    assert main(["rtl", "generate", "--arch", str(toml), "--out", str(tmp_path / "v")]) == 0
    v, j = tmp_path / "v" / "accelerator.v", tmp_path / "v" / "accelerator.json"
    assert capsys.readouterr().out.split() == [str(v), str(j)]
    text = v.read_text()
    assert "module accelerator(" in text.replace(" (", "(")
    for port in ("cmd", "cmd_valid", "cmd_ready", "done", "rd_addr", "rsp_data", "wr_lane_en"):
        assert f" {port}" in text
    manifest = json.loads(j.read_text())
    assert manifest["params"]["array_rows"] == 3 and manifest["params"]["array_cols"] == 5
    # one build runs every dataflow (MODE register); IS needs 5-lane ifmap rows on a 3x5 grid
    assert manifest["params"]["dataflows"] == [0, 1, 2] and manifest["params"]["ifmap_lanes"] == 5
    assert manifest["ports"]["rd_addr"] == {"dir": "out", "width": 4 * 32}
    assert manifest["ports"]["cmd"] == {"dir": "in", "width": COMMAND_BITS}


@pytest.mark.rtl
@pytest.mark.parametrize(("args", "message"), [
    (["--arch", "NOLAT"], "dram_latency_cycles must be >= 1 for the RTL, not 0"),
    (["--preset", "tpu_v1"], "array_rows x array_cols must be at most 64 x 64 PEs"),
])
def test_generate_rejects_what_it_cannot_build(tmp_path, args, message):
    nolat = tmp_path / "nolat.toml"
    nolat.write_text('name = "nolat"\ndataflow = "is"\ndram_latency_cycles = 0\n')
    args = [str(nolat) if a == "NOLAT" else a for a in args]
    r = subprocess.run(
        [sys.executable, "-m", "accelsim.cli", "rtl", "generate", *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.rtl
def test_generated_verilog_is_reproducible(tmp_path):
    """Two generations give the same bytes, and the text names no file of this checkout (no `src` attributes
    with absolute paths), so a generated design can be diffed and cached across machines."""
    from accelsim.rtl.generate import generate_verilog

    from accelsim.arch import ArchConfig

    arch = ArchConfig(name="r", array_rows=2, array_cols=3, ifmap_spad_kib=1, weight_spad_kib=1, acc_kib=1)
    first = [p.read_bytes() for p in generate_verilog(arch, tmp_path / "a")]
    second = [p.read_bytes() for p in generate_verilog(arch, tmp_path / "b")]
    assert first == second
    text = first[0].decode()
    assert "module accelerator" in text
    checkout = str(Path(generate_verilog.__code__.co_filename).resolve().parents[1])
    assert "src =" not in text and checkout not in text
