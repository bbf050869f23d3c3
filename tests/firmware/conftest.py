"""Firmware ELFs built once per session with `accelsim firmware build` (the RISC-V toolchain must be
installed: a missing one fails the build loudly, it never skips)."""

from pathlib import Path

import pytest

from accelsim.cli import main
from accelsim.host.build import build, firmware_dir

PROGRAMS = Path(__file__).resolve().parent / "programs"


@pytest.fixture(scope="session")
def elf_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("firmware")


@pytest.fixture(scope="session")
def program_elf(elf_dir):
    """``program_elf(name)``: tests/firmware/programs/NAME.c built by `accelsim firmware build` (cached)."""
    cache = {}

    def get(name: str) -> Path:
        if name not in cache:
            out = elf_dir / f"{name}.elf"
            assert main(["firmware", "build", str(PROGRAMS / f"{name}.c"), "-o", str(out)]) == 0
            cache[name] = out
        return cache[name]

    return get


@pytest.fixture(scope="session")
def conv_elf(elf_dir):
    return build([firmware_dir() / "conv.c"], elf_dir / "conv.elf")
