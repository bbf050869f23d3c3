"""Host ISS speed: accelsim's Numba ISS against Unicorn (QEMU) on the same firmware, same run.

    python benchmarks/host_iss.py

Runs the layer driver (firmware/conv.c) on ResNet-18 layers and tests/firmware/programs/muldiv.c on
 1. accelsim.host.iss (compiled step loop: CPI accounting and MMIO inside the loop),
 2. Unicorn free-running (no hooks: QEMU's upper bound, but no cycle count and no MMIO model),
 3. Unicorn with a code hook per instruction (what per-class cycle accounting needs) and MMIO hooks,
and prints millions of instructions per second and the ratios.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from unicorn import UC_ARCH_RISCV, UC_HOOK_CODE, UC_HOOK_MEM_WRITE, UC_MODE_RISCV32, Uc

from accelsim.arch import preset
from accelsim.host import soc_map
from accelsim.host.build import build, firmware_dir
from accelsim.host.driver import DESCRIPTOR_SYMBOL, descriptor
from accelsim.host.iss import Iss
from accelsim.workloads import zoo

ROOT = Path(__file__).resolve().parents[1]


def iss_run(elf, patch=None):
    machine = Iss(elf)
    if patch:
        machine.poke(*patch)
    t = time.perf_counter()
    r = machine.run()
    return r.instret, time.perf_counter() - t, machine


def unicorn_run(machine: Iss, hooked: bool):
    """Run from reset until the EXIT store; returns (instructions, seconds)."""
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(soc_map.RAM_BASE, len(machine.mem))
    uc.mem_write(soc_map.RAM_BASE, machine.mem.tobytes())
    uc.mem_map(soc_map.MMIO_BASE, 0x1000)
    count = [0]
    state = {"cmd0": 0, "fences": 0}

    def on_write(uc, access, addr, size, value, data):  # the MMIO model: FENCE released at once, EXIT stops
        if addr == soc_map.CMD0:
            state["cmd0"] = value
        elif addr == soc_map.CMD5 and state["cmd0"] & 0xF == 5:
            state["fences"] += 1
            uc.mem_write(soc_map.FENCES, state["fences"].to_bytes(4, "little"))
        elif addr == soc_map.EXIT:
            uc.emu_stop()

    uc.hook_add(UC_HOOK_MEM_WRITE, on_write, begin=soc_map.MMIO_BASE, end=soc_map.MMIO_END - 1)
    if hooked:
        code = machine.mem.view("<u4")

        def on_code(uc, addr, size, data):  # the per-class CPI charge needs the opcode of every instruction
            count[0] += 3 if (code[addr >> 2] & 0x7F) == 0x03 else 2

        uc.hook_add(UC_HOOK_CODE, on_code)
    t = time.perf_counter()
    uc.emu_start(machine.entry, 0xFFFF_FFFC)
    return time.perf_counter() - t


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        conv = build([firmware_dir() / "conv.c"], Path(tmp) / "conv.elf")
        muldiv = build([ROOT / "tests/firmware/programs/muldiv.c"], Path(tmp) / "muldiv.elf")
        iss_run(muldiv)  # compile (or load the cached machine code)
        arch = preset()
        cases = [("muldiv.c", muldiv, None)]
        for layer in [zoo("resnet18")[i] for i in (1, 7, 16)]:
            cases.append((f"conv.c {layer.name}", conv, (DESCRIPTOR_SYMBOL, descriptor(layer, arch))))
        print(f"{'program':<28}{'instructions':>14}{'ISS MIPS':>10}{'UC free':>10}{'UC hooked':>11}"
              f"{'ISS/free':>10}{'ISS/hooked':>11}")
        for name, elf, patch in cases:
            n, t_iss, _ = iss_run(elf, patch)
            fresh = Iss(elf)
            if patch:
                fresh.poke(*patch)
            t_free = unicorn_run(fresh, hooked=False)
            t_hook = unicorn_run(fresh, hooked=True)
            mips = (n / t_iss / 1e6, n / t_free / 1e6, n / t_hook / 1e6)
            print(f"{name:<28}{n:>14,}{mips[0]:>10.1f}{mips[1]:>10.1f}{mips[2]:>11.2f}"
                  f"{t_free / t_iss:>10.1f}{t_hook / t_iss:>11.0f}")


if __name__ == "__main__":
    main()
