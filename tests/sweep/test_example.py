"""reports/sweep-example is what `bash scripts/sweep_example.sh` produces today, byte for byte."""

from pathlib import Path

from accelsim.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_committed_sweep_example_is_current(tmp_path, capsys):
    assert main(["sweep", str(ROOT / "examples" / "sweep.toml"), "--out", str(tmp_path / "out"),
                 "--workers", "1"]) == 0
    assert "plot: " in capsys.readouterr().out
    committed = ROOT / "reports" / "sweep-example"
    fresh = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert fresh == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for rel in fresh:
        assert (tmp_path / "out" / rel).read_bytes() == (committed / rel).read_bytes(), (
            f"reports/sweep-example/{rel} is stale: run `bash scripts/sweep_example.sh`")
