"""Running a cocotb bench on an Amaranth component, as every block test does."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from accelsim.cosim.runner import run_bench

ROOT = Path(__file__).resolve().parents[2]


def run_component_bench(tmp_path: Path, sim: str, component, *, toplevel: str, bench: str,
                        env: Mapping[str, str]) -> tuple[int, int]:
    """Convert ``component`` to ``<tmp_path>/src/<toplevel>.v`` and run the cocotb module
    ``tests.rtl.<bench>`` on it with ``sim`` (built in ``<tmp_path>/build_<sim>``, the repository on
    PYTHONPATH, ``env`` added to the environment); return (tests, failed)."""
    from amaranth.back import verilog

    src = tmp_path / "src" / f"{toplevel}.v"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(verilog.convert(component, name=toplevel))
    return run_bench(sim=sim, verilog_sources=[src], toplevel=toplevel, test_module=f"tests.rtl.{bench}",
                     build_dir=tmp_path / f"build_{sim}", python_path=[ROOT], extra_env=env)
