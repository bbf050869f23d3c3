"""C programs built with `accelsim firmware build` run on the ISS exactly as the same source compiled natively
with the host's gcc: console output and exit code; two of them also in lockstep with Unicorn."""

from __future__ import annotations

import subprocess

import pytest

from accelsim.host.iss import Iss
from tests.firmware.conftest import PROGRAMS
from tests.host.unicorn_ref import UnicornRef, lockstep

NATIVE = ["printf", "recursion", "muldiv", "bytes", "structcopy"]


@pytest.mark.parametrize("name", NATIVE)
def test_program_matches_native(name, program_elf, tmp_path):
    native = tmp_path / name
    subprocess.run(["gcc", "-O2", "-w", "-o", str(native), str(PROGRAMS / f"{name}.c")], check=True)
    want = subprocess.run([str(native)], capture_output=True, timeout=30)
    got = Iss(program_elf(name)).run(max_cycles=50_000_000)
    assert got.traps == 0
    assert got.stdout.decode() == want.stdout.decode()
    assert got.exit_code == want.returncode
    assert got.stdout.count(b"\n") >= 5  # the programs print, so an empty console cannot pass


@pytest.mark.parametrize("name", ["printf", "recursion"])
def test_program_lockstep_with_unicorn(name, program_elf):
    machine = Iss(program_elf(name))
    ref = UnicornRef(machine.mem, machine.entry)
    n = lockstep(machine, ref, 200_000)
    assert machine.state[0] != 0 and n > 10_000  # ran to its EXIT store, every instruction compared


def test_printf_of_a_bad_pointer_faults_instead_of_hanging(program_elf):
    r = Iss(program_elf("badptr")).run(max_cycles=1_000_000)
    assert r.stdout == b"before\n"
    assert r.exit_code == 128 + 5  # crt0's trap handler: 128 + mcause (load access fault)
    assert r.traps == 1
