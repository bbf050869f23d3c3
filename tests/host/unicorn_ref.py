"""Unicorn (QEMU's RISC-V) as the reference ISS we did not write, stepped one instruction at a time, and the
lockstep loop that holds accelsim's ISS to it: pc, the 32 registers and every store, per instruction."""

from __future__ import annotations

import numpy as np
from unicorn import UC_ARCH_RISCV, UC_HOOK_MEM_WRITE, UC_MODE_RISCV32, Uc
from unicorn.riscv_const import UC_RISCV_REG_PC, UC_RISCV_REG_X0

from accelsim.commands import COMMAND_WORDS
from accelsim.host import iss as iss_mod
from accelsim.host.soc_map import MMIO_BASE, RAM_BASE


class UnicornRef:
    def __init__(self, image: np.ndarray, pc: int, regs: np.ndarray | None = None):
        self.uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
        self.uc.mem_map(RAM_BASE, len(image))
        self.uc.mem_write(RAM_BASE, image.tobytes())
        self.uc.mem_map(MMIO_BASE, 0x1000)  # the registers, as plain memory: stores are what we compare
        self.writes: list[tuple[int, int, int]] = []
        self.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_write)
        if regs is not None:
            for i in range(1, 32):
                self.uc.reg_write(UC_RISCV_REG_X0 + i, int(regs[i]) & 0xFFFFFFFF)
        self.pc = pc

    def _on_write(self, uc, access, address, size, value, user_data):
        self.writes.append((address, size, value & ((1 << (8 * size)) - 1)))

    def step(self) -> None:
        self.writes.clear()
        self.uc.emu_start(self.pc, 0xFFFF_FFFC, count=1)
        self.pc = self.uc.reg_read(UC_RISCV_REG_PC)

    def regs(self) -> list[int]:
        return [self.uc.reg_read(UC_RISCV_REG_X0 + i) & 0xFFFFFFFF for i in range(32)]


def lockstep(machine: iss_mod.Iss, ref: UnicornRef, max_steps: int, *, stop_pc: int | None = None,
             pcs: list[int] | None = None) -> int:
    """Step both until ``machine`` exits, reaches ``stop_pc`` or ``max_steps``; assert equal state after
    every instruction; ``pcs`` collects the pc of each. Returns the instructions compared."""
    st = machine.state
    st[iss_mod.S_MAX_CYCLES] = 1 << 62
    cmds = np.zeros((1 << 16, COMMAND_WORDS + 1), np.int64)
    console = np.zeros(1 << 16, np.uint8)
    for n in range(max_steps):
        if stop_pc is not None and st[iss_mod.S_PC] == stop_pc:
            return n
        st[iss_mod.S_WSIZE] = 0
        st[iss_mod.S_N_CONSOLE] = 0
        pc = int(st[iss_mod.S_PC])
        if pcs is not None:
            pcs.append(pc)
        why = machine.step(cmds, console, 1)
        ref.step()
        where = f"after instruction {n} at pc {pc:#x}"
        assert st[iss_mod.S_TRAPS] == 0, f"ISS trapped {where} (mcause {st[iss_mod.S_MCAUSE]})"
        got = [int(v) & 0xFFFFFFFF for v in machine.regs]
        assert int(st[iss_mod.S_PC]) == ref.pc, f"pc {int(st[iss_mod.S_PC]):#x} != {ref.pc:#x} {where}"
        assert got == ref.regs(), f"registers differ {where}"
        mine = ([(int(st[iss_mod.S_WADDR]), int(st[iss_mod.S_WSIZE]), int(st[iss_mod.S_WDATA]))]
                if st[iss_mod.S_WSIZE] else [])
        assert mine == ref.writes, f"stores {mine} != {ref.writes} {where}"
        if why == iss_mod.STOP_EXIT:
            return n + 1
    return max_steps
