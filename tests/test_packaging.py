"""The built wheel installs accelsim.kernels, accelsim.rtl and accelsim.cosim from the repo's kernels/, rtl/
and cosim/ folders."""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_imports_subpackages(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("accelsim-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Dependencies (numpy, numba, ...) come from the test venv, appended *after* the scratch site so the
    # editable accelsim there can never shadow the wheel (nested .pth files in it are not processed).
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    probe = (
        "import accelsim, accelsim.kernels, accelsim.rtl, accelsim.cosim, accelsim.workloads;"
        "import accelsim.scalesim, accelsim.sweep, accelsim.mapper;"
        "print(accelsim.__file__); print(accelsim.kernels.__file__); print(accelsim.rtl.__file__);"
        "print(accelsim.cosim.__file__);"
        "from accelsim.cosim.sim_memory import SOURCE; print(SOURCE.is_file());"
        "from importlib.resources import files; "
        "print(sorted(p.name for p in files('accelsim.presets').iterdir()));"
        "from accelsim.host.build import firmware_dir; d = firmware_dir(); print(d);"
        "print(sorted(p.name for p in d.iterdir() if p.suffix in ('.S', '.c', '.h', '.ld')))"
    )
    out = subprocess.run(
        [str(python), "-I", "-c", probe], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    lines = out.stdout.splitlines()
    for line in lines[:4]:
        assert line.startswith(str(site)), line
    assert lines[1].endswith("accelsim/kernels/__init__.py")
    assert lines[2].endswith("accelsim/rtl/__init__.py")
    assert lines[3].endswith("accelsim/cosim/__init__.py")
    assert lines[4] == "True"  # sim_memory.v, the Verilog every harness build needs, ships as package data
    assert lines[6].startswith(str(site)) and lines[6].endswith("accelsim/firmware")  # the firmware sources
    assert lines[7] == "['accel.h', 'conv.c', 'crt0.S', 'link.ld', 'stdio.c']"  # ship as package data


def test_every_package_folder_is_in_the_wheel_list():
    """pyproject's hand-kept package list names every folder with an __init__.py (under its package-dir
    mapping), so a new subpackage cannot be left out of the wheel (stop 17's accelsim.mapper was)."""
    import tomllib

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setup["packages"])
    found = set()
    for package, folder in setup["package-dir"].items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *rel)))
    assert found - listed == set(), "missing from [tool.setuptools] packages"
    assert listed - found == set(), "listed but without a folder"
