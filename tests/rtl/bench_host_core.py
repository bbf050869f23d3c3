"""cocotb bench: HostCore (rtl/host_core.py) against the reference ISS (tests/rtl/rv32i_iss.py).

Driver: holds the core in reset, writes a program (assembled by tests/rtl/rv32i_asm.py) into the whole
instruction memory (zeros after the program), releases reset. Monitor: every cycle, the MMIO port; the cycle
``halted`` rises. Reference model: the ISS, started from the architectural state the previous program left
(registers and data memory are not reset; the first program starts from all zeros). Checker: after the halt,
every register (debug port) and every data memory word (debug port) equal the ISS's, the MMIO writes equal
the ISS's in order, and the cycle count equals ``host_core_cycles`` of the ISS's instruction mix.
Environment: ACCELSIM_SEED, ACCELSIM_IMEM_WORDS, ACCELSIM_DMEM_WORDS.
"""

from __future__ import annotations

import os
import random

import cocotb
from accelsim.rtl.host_core import host_core_cycles
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge, Timer

from tests.rtl import rv32i_iss
from tests.rtl.benches import start
from tests.rtl.rv32i_asm import I_OPS, R_OPS, SHIFT_OPS, assemble

ALU = """
    li x1, 0x80000005
    li x2, -7
    li x3, 13
    li x4, 0x7ffffff0
    add x5, x1, x2
    sub x6, x2, x3
    sub x7, x3, x2
    sll x8, x2, x3
    srl x9, x2, x3
    sra x10, x2, x3
    slt x11, x2, x3      # -7 < 13
    slt x12, x3, x2
    sltu x13, x2, x3     # 0xfffffff9 < 13 unsigned: no
    sltu x14, x3, x2
    xor x15, x1, x2
    or x16, x1, x3
    and x17, x1, x2
    addi x18, x2, -2048
    slti x19, x2, -6
    slti x20, x2, -8
    sltiu x21, x3, -1    # 13 < 0xffffffff
    sltiu x22, x2, 5
    xori x23, x1, -1
    ori x24, x3, 0x7f0
    andi x25, x2, 0x0f0
    slli x26, x1, 31
    srli x27, x2, 28
    srai x28, x2, 1
    srai x29, x1, 31
    lui x30, 0xfffff
    auipc x31, 0x12345
    sll x1, x4, x1       # shift amount = low 5 bits (5)
    sra x2, x1, x2       # shift amount 25
    add x0, x1, x1       # x0 stays 0
    addi x3, x0, 0
    halt
"""

BRANCHES = """
    li x1, -1
    li x2, 1
    addi x10, x0, 0      # bits: fall-through paths taken
    addi x11, x0, 0      # counts instructions that must be skipped (stays 0)
    beq x1, x1, t1
    addi x11, x11, 1
t1: beq x1, x2, n1
    ori x10, x10, 1
n1: bne x1, x2, t2
    addi x11, x11, 1
t2: bne x1, x1, n2
    ori x10, x10, 2
n2: blt x1, x2, t3       # -1 < 1 signed
    addi x11, x11, 1
t3: blt x2, x1, n3
    ori x10, x10, 4
n3: bge x2, x1, t4
    addi x11, x11, 1
t4: bge x1, x2, n4
    ori x10, x10, 8
n4: bge x1, x1, t5       # equal
    addi x11, x11, 1
t5: bltu x2, x1, t6      # 1 < 0xffffffff unsigned
    addi x11, x11, 1
t6: bltu x1, x2, n6
    ori x10, x10, 16
n6: bgeu x1, x2, t7
    addi x11, x11, 1
t7: bgeu x2, x1, n7
    ori x10, x10, 32
n7: bgeu x2, x2, t8
    addi x11, x11, 1
t8: addi x12, x0, 5      # backward branch: count down
back:
    addi x12, x12, -1
    addi x13, x13, 3
    bne x12, x0, back
    j end
    addi x11, x11, 1
end:
    ebreak
"""

JUMPS = """
    addi x2, x0, 0
    jal x1, sub1         # call, link in x1
    addi x2, x2, 1
    jal x0, skip
sub1:
    addi x2, x2, 10
    jalr x5, 0(x1)       # return, link in x5
    addi x2, x2, 1000
skip:
    auipc x6, 0          # A
    addi x6, x6, 11      # A + 11
    jalr x7, 6(x6)       # A + 17 & ~1 = A + 16
    addi x2, x2, 100     # skipped
    addi x2, x2, 200     # A + 16
    jal x8, fwd
back:
    addi x2, x2, 7
    j out
fwd:
    jal x9, back         # backward jal
out:
    auipc x1, 0
    jalr x1, 12(x1)      # rd == rs1
    addi x2, x2, 1       # skipped
    addi x2, x2, 2
    halt
"""

LOADS_STORES = """
    li x1, 0x100
    li x2, 0x8899aabb
    li x3, 0x11223344
    sw x2, 0(x1)
    sw x2, 4(x1)
    sw x3, -4(x1)
    sb x3, 4(x1)
    sb x3, 9(x1)
    sb x2, 14(x1)
    sb x2, 7(x1)
    sh x3, 10(x1)
    sh x2, 12(x1)
    sh x3, 16(x1)
    lb x4, 0(x1)
    lb x5, 1(x1)
    lb x6, 2(x1)
    lb x7, 3(x1)
    lbu x8, 0(x1)
    lbu x9, 1(x1)
    lbu x10, 2(x1)
    lbu x11, 3(x1)
    lh x12, 0(x1)
    lh x13, 2(x1)
    lhu x14, 0(x1)
    lhu x15, 2(x1)
    lw x16, 4(x1)
    lw x17, -4(x1)
    lh x18, 10(x1)
    lw x19, 8(x1)
    lw x20, 12(x1)
    lbu x21, 7(x1)
    lw x22, 16(x1)
    lw x1, 0(x1)         # rd == base
    lw x23, 0x7fc(x0)    # memory a previous program may have written
    halt
"""

LOOPS = """
    addi x10, x0, 0      # sum 1..100
    addi x11, x0, 100
sum:
    add x10, x10, x11
    addi x11, x11, -1
    bne x11, x0, sum
    sw x10, 0x1fc(x0)
    li x1, 0x200         # fill 16 words at 0x200 with i * 0x01010101 + sum
    li x4, 0x01010101
    addi x2, x0, 0
    addi x3, x10, 0
fill:
    sw x3, 0(x1)
    add x3, x3, x4
    addi x1, x1, 4
    addi x2, x2, 1
    slti x5, x2, 16
    bne x5, x0, fill
    li x1, 0x200         # memcpy 16 words 0x200 -> 0x300, summing them into x20
    li x6, 0x300
    addi x7, x1, 64
    addi x20, x0, 0
copy:
    lw x8, 0(x1)
    sw x8, 0(x6)
    add x20, x20, x8
    addi x1, x1, 4
    addi x6, x6, 4
    bltu x1, x7, copy
    halt
"""

MMIO = """
    li x1, 0x80000000
    li x2, 0xdeadbeef
    sw x2, 0(x1)
    sw x2, 16(x1)        # back-to-back MMIO writes
    sh x2, 2(x1)
    li x3, 0xffffff00
    sb x3, -1(x3)        # address 0xfffffeff
    sw x2, 0x7fc(x0)     # an ordinary store right after
    lw x4, 0x7fc(x0)
    addi x5, x0, 3
loop:
    sw x5, 4(x1)
    addi x5, x5, -1
    bne x5, x0, loop
    fence                # a no-op
    sw x0, 8(x1)
    .word 0x34011073     # csrrw: halts
"""

FALL_OFF = """
    addi x1, x0, 42
    nop
    sw x1, 0x7f8(x0)
"""  # runs into the zeroed instruction memory (illegal opcode 0): halts

DIRECTED = {"alu": ALU, "branches": BRANCHES, "jumps": JUMPS, "loads_stores": LOADS_STORES, "loops": LOOPS,
            "mmio": MMIO, "fall_off": FALL_OFF}

EDGE_VALUES = (0, 1, -1, 0x7FFFFFFF, -0x80000000, 31, 32, -2048, 2047)


def random_alu_program(rng: random.Random, n: int) -> str:
    """Registers seeded with edge and random values, then ``n`` random ALU reg/imm ops, LUI and AUIPC."""
    lines = []
    for r in range(1, 32):
        value = rng.choice(EDGE_VALUES) if rng.random() < 0.4 else rng.getrandbits(32)
        lines.append(f"li x{r}, {value}")
    for _ in range(n):
        rd, rs1, rs2 = rng.randrange(32), rng.randrange(32), rng.randrange(32)
        kind = rng.randrange(10)
        if kind < 4:
            lines.append(f"{rng.choice(list(R_OPS))} x{rd}, x{rs1}, x{rs2}")
        elif kind < 7:
            lines.append(f"{rng.choice(list(I_OPS))} x{rd}, x{rs1}, {rng.randint(-2048, 2047)}")
        elif kind < 9:
            lines.append(f"{rng.choice(list(SHIFT_OPS))} x{rd}, x{rs1}, {rng.randrange(32)}")
        else:
            lines.append(f"{rng.choice(['lui', 'auipc'])} x{rd}, {rng.getrandbits(20)}")
    lines.append("halt")
    return "\n".join(lines)


class TB:
    def __init__(self, dut) -> None:
        self.dut = dut
        self.imem_words = int(os.environ.get("ACCELSIM_IMEM_WORDS", "256"))
        self.dmem_words = int(os.environ.get("ACCELSIM_DMEM_WORDS", "512"))
        self.regs = [0] * 32
        self.dmem = [0] * self.dmem_words

    async def read_regs(self) -> list[int]:
        out = []
        for r in range(32):
            self.dut.dbg_reg_addr.value = r
            await Timer(1, unit="ns")
            out.append(self.dut.dbg_reg_data.value.to_unsigned())
        return out

    async def read_dmem(self) -> list[int]:
        dut, out = self.dut, []
        for i in range(self.dmem_words + 1):
            await FallingEdge(dut.clk)
            if i:
                out.append(dut.dbg_mem_data.value.to_unsigned())
            if i < self.dmem_words:
                dut.dbg_mem_addr.value = i
        return out

    async def run(self, name: str, src: str) -> None:
        dut = self.dut
        words = assemble(src)
        assert len(words) <= self.imem_words, f"{name}: {len(words)} words do not fit"
        imem = words + [0] * (self.imem_words - len(words))
        want = rv32i_iss.run(imem, dmem_words=self.dmem_words, regs=self.regs, dmem=self.dmem)
        await FallingEdge(dut.clk)
        dut.rst.value = 1
        for i, w in enumerate(imem):
            dut.imem_w_en.value, dut.imem_w_addr.value, dut.imem_w_data.value = 1, i, w
            await FallingEdge(dut.clk)
        dut.imem_w_en.value = 0
        await FallingEdge(dut.clk)
        dut.rst.value = 0  # cycle 0 starts at the next rising edge's previous half: count edges
        mmio: list[tuple[int, int]] = []
        cycles = 0
        limit = 4 * want.instructions + 100
        while True:
            await RisingEdge(dut.clk)
            await ReadOnly()
            cycles += 1
            if int(dut.mmio_valid.value):
                mmio.append((dut.mmio_addr.value.to_unsigned(), dut.mmio_data.value.to_unsigned()))
            if int(dut.halted.value):
                break
            assert cycles < limit, f"{name}: no halt after {cycles} cycles"
        await FallingEdge(dut.clk)
        regs = await self.read_regs()
        dmem = await self.read_dmem()
        for r in range(32):
            assert regs[r] == want.regs[r], f"{name}: x{r} = {regs[r]:#010x}, ISS {want.regs[r]:#010x}"
        for i in range(self.dmem_words):
            assert dmem[i] == want.dmem[i], f"{name}: dmem[{i}] = {dmem[i]:#010x}, ISS {want.dmem[i]:#010x}"
        assert mmio == want.mmio, f"{name}: MMIO writes {mmio} != ISS {want.mmio}"
        expected = host_core_cycles(loads=want.loads, others=want.others)
        assert cycles == expected, f"{name}: {cycles} cycles, formula {expected} " \
            f"({want.loads} loads, {want.others} others)"
        dut._log.info("%s: %d instructions (%d loads), %d cycles, %d MMIO writes", name, want.instructions,
                      want.loads, cycles, len(mmio))
        self.regs, self.dmem = want.regs, want.dmem


async def _start(dut) -> TB:
    """A TB whose reference state is what the core holds now (zeros, or what an earlier test left)."""
    await start(dut, reset_cycles=0, imem_w_en=0, dbg_reg_addr=0, dbg_mem_addr=0)
    dut.rst.value = 1  # held while the bench reads the state and loads a program
    tb = TB(dut)
    tb.regs, tb.dmem = await tb.read_regs(), await tb.read_dmem()
    return tb


@cocotb.test()
async def directed_programs(dut):
    tb = await _start(dut)
    for name, src in DIRECTED.items():
        await tb.run(name, src)
    await tb.run("loads_stores_again", LOADS_STORES)  # x23 now reads what "loops"/"mmio" left behind


@cocotb.test()
async def random_alu_programs(dut):
    tb = await _start(dut)
    rng = random.Random(int(os.environ.get("ACCELSIM_SEED", "1")))
    for i in range(int(os.environ.get("ACCELSIM_RANDOM_PROGRAMS", "5"))):
        await tb.run(f"random_alu_{i}", random_alu_program(rng, 150))
