"""HostCore: a small multi-cycle RV32I core, the first piece of the RISC-V host (docs/microarchitecture.md,
"Host"). Standalone for now: not wired into the Accelerator or the Harness.

Harvard organisation: the instruction memory (``imem_words`` 32-bit words, filled through the load port while
the core is held in reset) and the data memory (``dmem_words`` words, byte-addressed, little-endian) are
separate address spaces, both inside the core; both sizes must be powers of two and addresses wrap modulo
the memory size (the PC's bits [1:0] are ignored). The register file is a 32 x 32-bit memory with
asynchronous reads (x0 is never written, so it reads 0).

Implemented: every RV32I base instruction (LUI, AUIPC, JAL, JALR, BEQ/BNE/BLT/BGE/BLTU/BGEU,
LB/LH/LW/LBU/LHU, SB/SH/SW, ADDI/SLTI/SLTIU/XORI/ORI/ANDI/SLLI/SRLI/SRAI, ADD/SUB/SLL/SLT/SLTU/XOR/SRL/SRA/
OR/AND) and FENCE (a no-op: one hart, in-order memory). ECALL, EBREAK, every other SYSTEM instruction (CSRs)
and every unknown major opcode halt the core: ``halted`` rises the cycle after the halting instruction
executes and stays high until reset. Not checked (undefined behaviour): reserved funct3/funct7 encodings
within a known opcode, misaligned loads/stores (a halfword must be 2-byte aligned, a word 4-byte aligned) and
misaligned jump targets (no exceptions are raised).

Memory-mapped output (the future command port): a store (SB, SH or SW) to a byte address >= 0x8000_0000
does not touch the data memory; instead, in the cycle after the store executes, ``mmio_valid`` is high for
exactly one cycle with ``mmio_addr`` = the store's effective address and ``mmio_data`` = the full 32-bit
rs2 value (not shifted or masked for SB/SH). There is no back-pressure: the sink must take every write.
Loads from that range read the data memory at the wrapped address.

Timing (cycle 0 = the first cycle after reset is released; the FSM is FETCH -> EXEC [-> LOAD]):
    FETCH   the instruction memory's synchronous read port is addressed with the PC
    EXEC    decode, register read, ALU, branch/jump target, write-back, store or MMIO write, PC update
    LOAD    (loads only) the data memory's synchronous read data is aligned, extended and written back
CPI per instruction class:
    loads (LB LH LW LBU LHU)                        CPI = 3
    every other instruction, incl. taken branches,
    jumps, stores, MMIO stores and the halting one   CPI = 2
so a program that executes ``loads`` loads and ``others`` other instructions (counting the halting ECALL/
EBREAK/illegal instruction) raises ``halted`` at cycle ``3 * loads + 2 * others`` (:func:`host_core_cycles`).

Ports:
    imem_w_en : Signal(1), in                  instruction memory load port (use while in reset)
    imem_w_addr : Signal(log2(imem_words)), in  word address
    imem_w_data : Signal(32), in
    halted : Signal(1), out                    the core executed a halting instruction
    pc : Signal(32), out                       program counter (byte address)
    mmio_valid : Signal(1), out                one-cycle pulse per store to an address >= 0x8000_0000
    mmio_addr : Signal(32), out                that store's byte address (valid with ``mmio_valid``)
    mmio_data : Signal(32), out                that store's rs2 value (valid with ``mmio_valid``)
    dbg_reg_addr : Signal(5), in               debug register read (asynchronous)
    dbg_reg_data : Signal(32), out             register ``dbg_reg_addr`` (x0 reads 0)
    dbg_mem_addr : Signal(log2(dmem_words)), in  debug data memory read (synchronous: data next cycle)
    dbg_mem_data : Signal(32), out             data memory word ``dbg_mem_addr`` of the previous cycle
"""

from __future__ import annotations

from amaranth import C, Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require

MMIO_BASE = 0x8000_0000
LOAD_CPI = 3
OTHER_CPI = 2

# RV32I major opcodes (bits [6:0])
OP_LUI, OP_AUIPC, OP_JAL, OP_JALR = 0b0110111, 0b0010111, 0b1101111, 0b1100111
OP_BRANCH, OP_LOAD, OP_STORE = 0b1100011, 0b0000011, 0b0100011
OP_IMM, OP_REG, OP_FENCE = 0b0010011, 0b0110011, 0b0001111


def host_core_cycles(*, loads: int, others: int) -> int:
    """Cycles from reset release until ``halted`` rises: ``LOAD_CPI * loads + OTHER_CPI * others``, where
    ``others`` counts every executed non-load instruction including the halting one."""
    return LOAD_CPI * loads + OTHER_CPI * others


def _is_pow2(n: object) -> bool:
    return isinstance(n, int) and n >= 2 and n & (n - 1) == 0


class HostCore(wiring.Component):
    def __init__(self, imem_words: int = 256, dmem_words: int = 256) -> None:
        require(_is_pow2(imem_words), "imem_words", "a power of two >= 2", imem_words)
        require(_is_pow2(dmem_words), "dmem_words", "a power of two >= 2", dmem_words)
        self.imem_words, self.dmem_words = imem_words, dmem_words
        self.imem_bits, self.dmem_bits = ceil_log2(imem_words), ceil_log2(dmem_words)
        super().__init__({
            "imem_w_en": In(1), "imem_w_addr": In(self.imem_bits), "imem_w_data": In(32),
            "halted": Out(1), "pc": Out(32),
            "mmio_valid": Out(1), "mmio_addr": Out(32), "mmio_data": Out(32),
            "dbg_reg_addr": In(5), "dbg_reg_data": Out(32),
            "dbg_mem_addr": In(self.dmem_bits), "dbg_mem_data": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        imem = m.submodules.imem = Memory(shape=32, depth=self.imem_words, init=[])
        dmem = m.submodules.dmem = Memory(shape=32, depth=self.dmem_words, init=[])
        regs = m.submodules.regs = Memory(shape=32, depth=32, init=[])
        i_w, i_r = imem.write_port(), imem.read_port()
        d_w, d_r, d_dbg = dmem.write_port(granularity=8), dmem.read_port(), dmem.read_port()
        r_w = regs.write_port()
        r_1, r_2, r_dbg = (regs.read_port(domain="comb") for _ in range(3))

        pc = Signal(32)
        m.d.comb += [
            i_w.en.eq(self.imem_w_en), i_w.addr.eq(self.imem_w_addr), i_w.data.eq(self.imem_w_data),
            i_r.addr.eq(pc[2:]), self.pc.eq(pc),
            r_dbg.addr.eq(self.dbg_reg_addr), self.dbg_reg_data.eq(r_dbg.data),
            d_dbg.addr.eq(self.dbg_mem_addr), self.dbg_mem_data.eq(d_dbg.data),
        ]

        # decode
        insn = i_r.data
        opcode, rd, f3 = insn[0:7], insn[7:12], insn[12:15]
        alt = insn[30]  # SUB / SRA / SRAI
        imm_i, imm_s, imm_b, imm_u, imm_j = (Signal(32, name=f"imm_{k}") for k in "isbuj")
        m.d.comb += [
            imm_i.eq(insn[20:32].as_signed()),
            imm_s.eq(Cat(insn[7:12], insn[25:32]).as_signed()),
            imm_b.eq(Cat(C(0, 1), insn[8:12], insn[25:31], insn[7], insn[31]).as_signed()),
            imm_u.eq(Cat(C(0, 12), insn[12:32])),
            imm_j.eq(Cat(C(0, 1), insn[21:31], insn[20], insn[12:20], insn[31]).as_signed()),
            r_1.addr.eq(insn[15:20]), r_2.addr.eq(insn[20:25]),
        ]
        a, rs2 = r_1.data, r_2.data

        # ALU (OP and OP-IMM share it; only OP has SUB)
        b = Signal(32)
        alu = Signal(32)
        shamt = b[0:5]
        m.d.comb += b.eq(Mux(opcode == OP_REG, rs2, imm_i))
        with m.Switch(f3):
            with m.Case(0):
                m.d.comb += alu.eq(Mux((opcode == OP_REG) & alt, a - b, a + b))
            with m.Case(1):
                m.d.comb += alu.eq(a << shamt)
            with m.Case(2):
                m.d.comb += alu.eq(a.as_signed() < b.as_signed())
            with m.Case(3):
                m.d.comb += alu.eq(a < b)
            with m.Case(4):
                m.d.comb += alu.eq(a ^ b)
            with m.Case(5):
                m.d.comb += alu.eq(Mux(alt, a.as_signed() >> shamt, a >> shamt))
            with m.Case(6):
                m.d.comb += alu.eq(a | b)
            with m.Case(7):
                m.d.comb += alu.eq(a & b)

        taken = Signal()
        with m.Switch(f3):
            with m.Case(0):
                m.d.comb += taken.eq(a == rs2)
            with m.Case(1):
                m.d.comb += taken.eq(a != rs2)
            with m.Case(4):
                m.d.comb += taken.eq(a.as_signed() < rs2.as_signed())
            with m.Case(5):
                m.d.comb += taken.eq(a.as_signed() >= rs2.as_signed())
            with m.Case(6):
                m.d.comb += taken.eq(a < rs2)
            with m.Case(7):
                m.d.comb += taken.eq(a >= rs2)

        # loads / stores
        ea = Signal(32)
        off = ea[0:2]
        m.d.comb += [
            ea.eq(a + Mux(opcode == OP_STORE, imm_s, imm_i)),
            d_r.addr.eq(ea[2:]), d_w.addr.eq(ea[2:]),
        ]
        load_rd, load_f3, load_off = Signal(5), Signal(3), Signal(2)

        wb_en, wb_data = Signal(), Signal(32)
        m.d.comb += [r_w.addr.eq(rd), r_w.data.eq(wb_data), r_w.en.eq(wb_en & (r_w.addr != 0))]
        pc4 = pc + 4
        m.d.sync += self.mmio_valid.eq(0)

        with m.FSM():
            with m.State("FETCH"):
                m.next = "EXEC"
            with m.State("EXEC"):
                m.d.sync += pc.eq(pc4)
                m.next = "FETCH"
                with m.Switch(opcode):
                    with m.Case(OP_LUI):
                        m.d.comb += [wb_en.eq(1), wb_data.eq(imm_u)]
                    with m.Case(OP_AUIPC):
                        m.d.comb += [wb_en.eq(1), wb_data.eq(pc + imm_u)]
                    with m.Case(OP_JAL):
                        m.d.comb += [wb_en.eq(1), wb_data.eq(pc4)]
                        m.d.sync += pc.eq(pc + imm_j)
                    with m.Case(OP_JALR):
                        m.d.comb += [wb_en.eq(1), wb_data.eq(pc4)]
                        m.d.sync += pc.eq((a + imm_i) & ~1)
                    with m.Case(OP_BRANCH), m.If(taken):
                        m.d.sync += pc.eq(pc + imm_b)
                    with m.Case(OP_IMM, OP_REG):
                        m.d.comb += [wb_en.eq(1), wb_data.eq(alu)]
                    with m.Case(OP_LOAD):
                        m.d.sync += [load_rd.eq(rd), load_f3.eq(f3), load_off.eq(off)]
                        m.next = "LOAD"
                    with m.Case(OP_STORE):
                        with m.If(ea[31]):
                            m.d.sync += [self.mmio_valid.eq(1), self.mmio_addr.eq(ea), self.mmio_data.eq(rs2)]
                        with m.Else(), m.Switch(f3):
                            with m.Case(0):
                                m.d.comb += [d_w.data.eq(rs2[0:8].replicate(4)), d_w.en.eq(1 << off)]
                            with m.Case(1):
                                m.d.comb += [d_w.data.eq(rs2[0:16].replicate(2)),
                                             d_w.en.eq(Mux(off[1], 0b1100, 0b0011))]
                            with m.Default():
                                m.d.comb += [d_w.data.eq(rs2), d_w.en.eq(0b1111)]
                    with m.Case(OP_FENCE):
                        pass
                    with m.Default():  # ECALL, EBREAK, CSR*, illegal
                        m.d.sync += [pc.eq(pc), self.halted.eq(1)]
                        m.next = "HALT"
            with m.State("LOAD"):
                shifted = Signal(32)
                m.d.comb += [shifted.eq(d_r.data >> (load_off * 8)), wb_en.eq(1), r_w.addr.eq(load_rd)]
                with m.Switch(load_f3):
                    with m.Case(0):
                        m.d.comb += wb_data.eq(shifted[0:8].as_signed())
                    with m.Case(1):
                        m.d.comb += wb_data.eq(shifted[0:16].as_signed())
                    with m.Case(4):
                        m.d.comb += wb_data.eq(shifted[0:8])
                    with m.Case(5):
                        m.d.comb += wb_data.eq(shifted[0:16])
                    with m.Default():
                        m.d.comb += wb_data.eq(d_r.data)
                m.next = "FETCH"
            with m.State("HALT"):
                pass
        return m
