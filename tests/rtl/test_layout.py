"""rtl/ holds only gateware (STYLE.md, "Gateware apart from simulation"): no module of it imports the
simulation package, a simulator interface or the tests; cosim/ imports rtl/, never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIMULATION_ONLY = ("accelsim.cosim", "cocotb", "cocotb_tools", "tests")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module or "")
    return names


def test_gateware_never_imports_simulation():
    modules = sorted((ROOT / "rtl").glob("*.py"))
    assert len(modules) >= 10, modules
    def simulation_only(name: str) -> bool:
        return any(name == s or name.startswith(s + ".") for s in SIMULATION_ONLY)

    bad = {p.name: sorted(filter(simulation_only, _imports(p))) for p in modules}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}


def test_simulation_uses_the_gateware():
    assert any(n.startswith("accelsim.rtl.") for n in _imports(ROOT / "cosim" / "harness.py"))
