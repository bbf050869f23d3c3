"""Reference instruction-set simulator for HostCore (rtl/host_core.py): slow, obvious, decodes the binary.

Same architectural contract as the core: Harvard memories that wrap, FENCE a no-op, ECALL/EBREAK/SYSTEM and
unknown opcodes halt (and count as executed), stores to byte addresses >= 0x8000_0000 are MMIO writes
``(address, full rs2)``. Misaligned data accesses raise (the core leaves them undefined).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASK = 0xFFFF_FFFF
MMIO_BASE = 0x8000_0000


def _sx(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


@dataclass
class Result:
    regs: list[int]
    dmem: list[int]
    mmio: list[tuple[int, int]] = field(default_factory=list)
    loads: int = 0
    others: int = 0  # every other executed instruction, including the halting one

    @property
    def instructions(self) -> int:
        return self.loads + self.others


def run(imem: list[int], *, dmem_words: int, regs: list[int] | None = None, dmem: list[int] | None = None,
        max_instructions: int = 100_000) -> Result:
    """Execute from pc 0 until a halting instruction; ``imem`` beyond the program reads 0 (illegal: halt)."""
    imem_words = len(imem)
    x = list(regs) if regs is not None else [0] * 32
    x[0] = 0
    mem = list(dmem) if dmem is not None else [0] * dmem_words
    res = Result(regs=x, dmem=mem)
    pc = 0

    def daddr(ea: int, size: int) -> tuple[int, int]:
        if ea % size:
            raise ValueError(f"data address must be {size}-byte aligned, not {ea:#x}")
        return (ea >> 2) % dmem_words, ea & 3

    for _ in range(max_instructions):
        insn = imem[(pc >> 2) % imem_words]
        opcode, rd, f3 = insn & 0x7F, insn >> 7 & 0x1F, insn >> 12 & 7
        a, b = x[insn >> 15 & 0x1F], x[insn >> 20 & 0x1F]
        alt = insn >> 30 & 1
        imm_i = _sx(insn >> 20, 12)
        imm_s = _sx((insn >> 25) << 5 | (insn >> 7 & 0x1F), 12)
        imm_b = _sx((insn >> 31) << 12 | (insn >> 7 & 1) << 11 | (insn >> 25 & 0x3F) << 5
                    | (insn >> 8 & 0xF) << 1, 13)
        imm_u = insn & 0xFFFFF000
        imm_j = _sx((insn >> 31) << 20 | (insn >> 12 & 0xFF) << 12 | (insn >> 20 & 1) << 11
                    | (insn >> 21 & 0x3FF) << 1, 21)
        next_pc = (pc + 4) & MASK
        wb = None
        if opcode == 0b0110111:
            wb = imm_u
        elif opcode == 0b0010111:
            wb = pc + imm_u
        elif opcode == 0b1101111:
            wb, next_pc = pc + 4, (pc + imm_j) & MASK
        elif opcode == 0b1100111:
            wb, next_pc = pc + 4, (a + imm_i) & MASK & ~1
        elif opcode == 0b1100011:
            sa, sb = _sx(a, 32), _sx(b, 32)
            taken = {0: a == b, 1: a != b, 4: sa < sb, 5: sa >= sb, 6: a < b, 7: a >= b}[f3]
            if taken:
                next_pc = (pc + imm_b) & MASK
        elif opcode in (0b0010011, 0b0110011):
            rhs = b if opcode == 0b0110011 else imm_i & MASK
            sh = rhs & 31
            wb = {
                0: a - rhs if opcode == 0b0110011 and alt else a + rhs,
                1: a << sh,
                2: int(_sx(a, 32) < _sx(rhs, 32)),
                3: int(a < rhs),
                4: a ^ rhs,
                5: _sx(a, 32) >> sh if alt else a >> sh,
                6: a | rhs,
                7: a & rhs,
            }[f3]
        elif opcode == 0b0000011:
            size = {0: 1, 1: 2, 2: 4, 4: 1, 5: 2}[f3]
            word, off = daddr((a + imm_i) & MASK, size)
            raw = mem[word] >> (8 * off) & ((1 << (8 * size)) - 1)
            wb = _sx(raw, 8 * size) if f3 < 4 else raw
            res.loads += 1
        elif opcode == 0b0100011:
            ea = (a + imm_s) & MASK
            if ea >= MMIO_BASE:
                res.mmio.append((ea, b))
            else:
                size = {0: 1, 1: 2, 2: 4}[f3]
                word, off = daddr(ea, size)
                lane = ((1 << (8 * size)) - 1) << (8 * off)
                mem[word] = (mem[word] & ~lane) | ((b << (8 * off)) & lane)
        elif opcode == 0b0001111:
            pass
        else:  # ECALL, EBREAK, CSR, illegal: halt
            res.others += 1
            return res
        if opcode != 0b0000011:
            res.others += 1
        if wb is not None and rd:
            x[rd] = wb & MASK
        pc = next_pc
    raise RuntimeError(f"program did not halt within {max_instructions} instructions")
