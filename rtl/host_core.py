"""HostCore: the multi-cycle RV32IM + Zicsr core of the RISC-V host (docs/microarchitecture.md, "Host").

Implements the contract of :mod:`accelsim.host.soc_map` (memory map, CPI table, mcause codes; its constants
are imported, never copied). One hart, machine mode only, in order, no interrupts.

Organisation: the core owns no memory but its register file (32 x 32 bits, asynchronous reads; x0 reads 0
and is never written). It talks to the SoC through two ports, and decodes the address map itself (it needs
it for the access-fault check anyway):
  * the unified RAM (``ram_bytes`` at ``RAM_BASE``, word-addressed): one synchronous read port (data in the
    cycle after the address) used for the fetch and for loads, and one byte-masked write port;
  * MMIO (``MMIO_BASE`` .. ``MMIO_END``, the registers of the contract only): a load's ``mmio_re`` is high in
    its execute cycle and the core samples ``mmio_rdata`` in that cycle (the register "as it is in the
    load's execute cycle"); a store's ``mmio_we`` is high in its execute cycle with ``mmio_wdata`` = the
    store's whole rs2 (SB/SH act on the whole word), and the core stays in that cycle while ``mmio_ready``
    is low (the SoC holds it low while the dispatcher refuses a store to CMD5).

Timing (cycle 0 = the first cycle after reset, a FETCH; FSM FETCH -> EXEC [-> LOAD | MUL | DIV x 32]):
    FETCH   the RAM read port is addressed with the PC
    EXEC    decode, register read, ALU, branch/jump, CSR, trap, store or MMIO write (stalls while
            ``mmio_ready`` is low); loads address the RAM / sample MMIO; MUL/DIV latch their operands
    LOAD    (loads) align, extend and write back
    MUL     (MUL*) the 33 x 33-bit signed product, write back
    DIV     (DIV*, REM*) 32 steps of a restoring radix-2 divider, write back in the last
so CPI = ``CPI_OTHER`` (2), loads ``CPI_LOAD`` (3), MUL* ``CPI_MUL`` (3), DIV*/REM* ``CPI_DIV`` (34), plus
the cycles a CMD5 store waits. ``mcycle`` reads ``t`` in cycle ``t``; ``minstret`` counts retired
instructions (a trapping one does not retire; a CSR write of a counter wins over its increment).

Traps (in the EXEC cycle of the offending instruction, CPI_OTHER): ``mepc`` = its pc, ``mcause``, ``mtval``
(the address of an access fault or the target of a misaligned jump, the instruction of an illegal one,
else 0), mstatus.MPIE = MIE, MIE = 0,
pc = ``mtvec`` (direct mode; mtvec's two low bits read 0). Causes: ECALL 11, EBREAK 3, illegal instruction
2 (an unknown opcode/funct, SYSTEM funct3 4, an unknown CSR, a write to a read-only CSR), load / store access
fault 5 / 7 (an address outside RAM and the MMIO registers, or a misaligned one: the spec allows an access
fault for accesses that are not emulated), instruction access fault 1 (the PC outside RAM; not in the
contract's table: reaching it means a runaway program). ``trap_unhandled`` pulses with a trap taken while
``mtvec`` is 0 (no handler installed: the harness stops there); instruction address misaligned 0 (a taken
jump or branch to a target that is not 4-byte aligned, mtval = the target; there is no C extension).
MRET: pc = mepc, MIE = MPIE, MPIE = 1. FENCE,
FENCE.I and WFI are no-ops (one hart, no cache, no interrupt).

CSRs: mstatus (MIE, MPIE; MPP reads 3), misa (RV32IM, read-only value, writes ignored), mie/mip (read 0),
mtvec, mscratch, mepc, mcause, mtval, mcycle(h), minstret(h) (writable), cycle(h)/instret(h) (read-only
aliases; ``time`` is not implemented), mvendorid/marchid/mimpid/mhartid (read 0).

Ports (``A`` = log2(ram_bytes) - 2):
    ram_raddr : Signal(A), out; ram_rdata : Signal(32), in   read port (data one cycle after the address)
    ram_waddr : Signal(A), out; ram_wmask : Signal(4), out; ram_wdata : Signal(32), out   byte-masked write
    mmio_addr : Signal(32), out       the load's/store's word address (bits [1:0] zero)
    mmio_re : Signal(1), out; mmio_rdata : Signal(32), in
    mmio_we : Signal(1), out; mmio_wdata : Signal(32), out; mmio_ready : Signal(1), in
    cycle : Signal(64), out; instret : Signal(64), out        mcycle and minstret
    trap_unhandled : Signal(1), out; trap_cause : Signal(4), out   a trap while mtvec is 0, its mcause
    rvfi_* : out, registered: valid in the cycle after an instruction's last cycle (see :data:`RVFI`):
        valid, trap (it trapped instead of retiring), insn, pc_rdata, pc_wdata (the next pc), rd_addr and
        rd_wdata (0 when nothing is written), mem_addr (the byte address), mem_rmask/mem_wmask (1, 3 or 15
        for a byte, halfword, word; not shifted), mem_rdata (the bytes read, shifted down, not extended),
        mem_wdata (rs2 cut to the access size)
"""

from __future__ import annotations

from amaranth import C, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from accelsim.errors import require
from accelsim.host import soc_map as sm

# RV32 major opcodes (bits [6:0])
OP_LUI, OP_AUIPC, OP_JAL, OP_JALR = 0b0110111, 0b0010111, 0b1101111, 0b1100111
OP_BRANCH, OP_LOAD, OP_STORE = 0b1100011, 0b0000011, 0b0100011
OP_IMM, OP_REG, OP_FENCE, OP_SYSTEM = 0b0010011, 0b0110011, 0b0001111, 0b1110011
INSN_ECALL, INSN_EBREAK, INSN_MRET, INSN_WFI = 0x00000073, 0x00100073, 0x30200073, 0x10500073
CAUSE_FETCH_FAULT = 1  # the privileged spec's instruction access fault (not in the contract's table)
MMIO_REGISTERS = sm.REGISTERS
MISA_RV32IM = (1 << 30) | (1 << 8) | (1 << 12)  # MXL = 1 (32-bit), I, M

CSR_MSTATUS, CSR_MISA, CSR_MIE, CSR_MTVEC = 0x300, 0x301, 0x304, 0x305
CSR_MSCRATCH, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL, CSR_MIP = 0x340, 0x341, 0x342, 0x343, 0x344
CSR_MCYCLE, CSR_MINSTRET, CSR_MCYCLEH, CSR_MINSTRETH = 0xB00, 0xB02, 0xB80, 0xB82
CSR_CYCLE, CSR_INSTRET, CSR_CYCLEH, CSR_INSTRETH = 0xC00, 0xC02, 0xC80, 0xC82
CSR_ZERO = (0xF11, 0xF12, 0xF13, 0xF14)  # mvendorid, marchid, mimpid, mhartid

# the trace port (name, width), RVFI-style
RVFI = (("valid", 1), ("trap", 1), ("insn", 32), ("pc_rdata", 32), ("pc_wdata", 32), ("rd_addr", 5),
        ("rd_wdata", 32), ("mem_addr", 32), ("mem_rmask", 4), ("mem_wmask", 4), ("mem_rdata", 32),
        ("mem_wdata", 32))
DIV_STEPS = sm.CPI_DIV - sm.CPI_OTHER  # the divider's cycles after EXEC: one quotient bit each


def _is_pow2(n: object) -> bool:
    return isinstance(n, int) and n >= 8 and n & (n - 1) == 0


class HostCore(wiring.Component):
    def __init__(self, ram_bytes: int = sm.RAM_BYTES_DEFAULT) -> None:
        require(_is_pow2(ram_bytes) and ram_bytes <= sm.MMIO_BASE - sm.RAM_BASE, "ram_bytes",
                f"a power of two in [8, {sm.MMIO_BASE - sm.RAM_BASE:#x}]", ram_bytes)
        require(sm.RAM_BASE % ram_bytes == 0, "RAM_BASE", f"a multiple of ram_bytes ({ram_bytes})",
                sm.RAM_BASE)
        self.ram_bytes = ram_bytes
        self.ram_bits = ceil_log2(ram_bytes)
        a = self.ram_bits - 2
        super().__init__({
            "ram_raddr": Out(a), "ram_rdata": In(32), "ram_waddr": Out(a), "ram_wmask": Out(4),
            "ram_wdata": Out(32),
            "mmio_addr": Out(32), "mmio_re": Out(1), "mmio_rdata": In(32), "mmio_we": Out(1),
            "mmio_wdata": Out(32), "mmio_ready": In(1),
            "cycle": Out(64), "instret": Out(64), "trap_unhandled": Out(1), "trap_cause": Out(4),
            **{f"rvfi_{name}": Out(width) for name, width in RVFI},
        })

    def _in_ram(self, addr):
        return addr[self.ram_bits:] == (sm.RAM_BASE >> self.ram_bits)

    def elaborate(self, platform):
        m = Module()
        regs = m.submodules.regs = Memory(shape=32, depth=32, init=[])
        r_w = regs.write_port()
        r_1, r_2 = (regs.read_port(domain="comb") for _ in range(2))

        pc = Signal(32)
        ir = Signal(32)  # the instruction, held after EXEC
        in_exec = Signal()
        insn = Signal(32)
        m.d.comb += insn.eq(Mux(in_exec, self.ram_rdata, ir))
        pc_word = pc[2:self.ram_bits]

        # ---- architectural state beyond pc and registers -------------------------------------------------
        mie, mpie = Signal(), Signal()
        mtvec, mscratch, mepc, mcause, mtval = (Signal(32, name=n) for n in
                                                ("mtvec", "mscratch", "mepc", "mcause", "mtval"))
        cyc, ret = Signal(64), Signal(64)
        m.d.comb += [self.cycle.eq(cyc), self.instret.eq(ret)]

        # ---- decode (valid in EXEC) ----------------------------------------------------------------------
        opcode, rd, f3, f7 = insn[0:7], insn[7:12], insn[12:15], insn[25:32]
        alt = insn[30]
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

        # legal encodings (everything else is an illegal instruction)
        legal = Signal()
        with m.Switch(opcode):
            with m.Case(OP_LUI, OP_AUIPC, OP_JAL):
                m.d.comb += legal.eq(1)
            with m.Case(OP_JALR):
                m.d.comb += legal.eq(f3 == 0)
            with m.Case(OP_BRANCH):
                m.d.comb += legal.eq((f3 != 2) & (f3 != 3))
            with m.Case(OP_LOAD):
                m.d.comb += legal.eq((f3 != 3) & (f3 != 6) & (f3 != 7))
            with m.Case(OP_STORE):
                m.d.comb += legal.eq(f3 < 3)
            with m.Case(OP_IMM):
                m.d.comb += legal.eq(Mux(f3 == 1, f7 == 0, Mux(f3 == 5, (f7 == 0) | (f7 == 0x20), 1)))
            with m.Case(OP_REG):
                m.d.comb += legal.eq((f7 == 0) | (f7 == 1) | ((f7 == 0x20) & ((f3 == 0) | (f3 == 5))))
            with m.Case(OP_FENCE):
                m.d.comb += legal.eq(f3 < 2)
            with m.Case(OP_SYSTEM):
                m.d.comb += legal.eq(Mux(f3 == 0, (insn == INSN_ECALL) | (insn == INSN_EBREAK)
                                         | (insn == INSN_MRET) | (insn == INSN_WFI), f3 != 4))

        # loads / stores: effective address, map decode, alignment
        ea = Signal(32)
        off = ea[0:2]
        is_store = opcode == OP_STORE
        size_mask = Signal(4)  # 1, 3, 15
        m.d.comb += [
            ea.eq(a + Mux(is_store, imm_s, imm_i)),
            size_mask.eq(Mux(f3[0:2] == 0, 0b0001, Mux(f3[0:2] == 1, 0b0011, 0b1111))),
        ]
        aligned = Signal()
        m.d.comb += aligned.eq(Mux(f3[0:2] == 0, 1, Mux(f3[0:2] == 1, ~ea[0], ea[0:2] == 0)))
        ea_ram, ea_mmio = Signal(), Signal()
        m.d.comb += [
            ea_ram.eq(self._in_ram(ea)),
            ea_mmio.eq(0),
        ]
        for reg in MMIO_REGISTERS:
            with m.If(ea[2:] == (reg >> 2)):
                m.d.comb += ea_mmio.eq(1)
        mem_ok = Signal()
        m.d.comb += [
            mem_ok.eq(aligned & (ea_ram | ea_mmio)),
            self.mmio_addr.eq(Cat(C(0, 2), ea[2:])),
            self.mmio_wdata.eq(rs2),
        ]

        # CSRs: read value and legality (valid in EXEC for SYSTEM f3 != 0)
        csr_addr = insn[20:32]
        csr_rdata, csr_known = Signal(32), Signal()
        csr_src = Signal(32)
        m.d.comb += csr_src.eq(Mux(f3[2], insn[15:20], a))
        mstatus_value = Cat(C(0, 3), mie, C(0, 3), mpie, C(0, 3), C(3, 2))
        csr_reads = {
            CSR_MSTATUS: mstatus_value, CSR_MISA: Const(MISA_RV32IM, 32), CSR_MIE: Const(0, 32),
            CSR_MIP: Const(0, 32), CSR_MTVEC: mtvec, CSR_MSCRATCH: mscratch, CSR_MEPC: mepc,
            CSR_MCAUSE: mcause, CSR_MTVAL: mtval,
            CSR_MCYCLE: cyc[0:32], CSR_MCYCLEH: cyc[32:64],
            CSR_MINSTRET: ret[0:32], CSR_MINSTRETH: ret[32:64],
            CSR_CYCLE: cyc[0:32], CSR_CYCLEH: cyc[32:64], CSR_INSTRET: ret[0:32], CSR_INSTRETH: ret[32:64],
            **{addr: Const(0, 32) for addr in CSR_ZERO},
        }
        with m.Switch(csr_addr):
            for addr, value in csr_reads.items():
                with m.Case(addr):
                    m.d.comb += [csr_rdata.eq(value), csr_known.eq(1)]
        csr_writes = Signal()  # CSRRW always; CSRRS/C unless the source is x0 / zimm 0
        m.d.comb += csr_writes.eq((f3[0:2] == 1) | (insn[15:20] != 0))
        csr_wdata = Signal(32)
        with m.Switch(f3[0:2]):
            with m.Case(1):
                m.d.comb += csr_wdata.eq(csr_src)
            with m.Case(2):
                m.d.comb += csr_wdata.eq(csr_rdata | csr_src)
            with m.Default():
                m.d.comb += csr_wdata.eq(csr_rdata & ~csr_src)
        csr_read_only = csr_addr[10:12] == 0b11

        # register write-back (one per retiring cycle)
        wb_en, wb_data, wb_addr = Signal(), Signal(32), Signal(5)
        m.d.comb += [r_w.addr.eq(wb_addr), r_w.data.eq(wb_data), r_w.en.eq(wb_en & (wb_addr != 0))]

        # retirement / trace (combinational in the retiring cycle, registered onto rvfi_*)
        retire, trap = Signal(), Signal()
        t_pc_w, t_mem_addr, t_rdata, t_wdata = (Signal(32, name=f"t_{n}") for n in
                                                ("pc_wdata", "mem_addr", "mem_rdata", "mem_wdata"))
        t_rmask, t_wmask = Signal(4, name="t_rmask"), Signal(4, name="t_wmask")
        m.d.sync += [
            self.rvfi_valid.eq(retire | trap), self.rvfi_trap.eq(trap), self.rvfi_insn.eq(insn),
            self.rvfi_pc_rdata.eq(pc), self.rvfi_pc_wdata.eq(Mux(trap, mtvec, t_pc_w)),
            self.rvfi_rd_addr.eq(Mux(wb_en, wb_addr, 0)), self.rvfi_rd_wdata.eq(Mux(wb_en & (wb_addr != 0),
                                                                                      wb_data, 0)),
            self.rvfi_mem_addr.eq(t_mem_addr), self.rvfi_mem_rmask.eq(t_rmask),
            self.rvfi_mem_wmask.eq(t_wmask), self.rvfi_mem_rdata.eq(t_rdata), self.rvfi_mem_wdata.eq(t_wdata),
        ]
        with m.If(retire):
            m.d.sync += pc.eq(t_pc_w)

        # counters (a CSR write below overrides these, as the later statement)
        m.d.sync += cyc.eq(cyc + 1)
        with m.If(retire):
            m.d.sync += ret.eq(ret + 1)

        trap_cause, trap_value = Signal(4), Signal(32)
        with m.If(trap):
            m.d.sync += [mepc.eq(pc), mcause.eq(trap_cause), mtval.eq(trap_value), mpie.eq(mie), mie.eq(0),
                         pc.eq(mtvec)]
            m.d.comb += [self.trap_unhandled.eq(mtvec == 0), self.trap_cause.eq(trap_cause)]

        # multi-cycle state
        ld_rd, ld_f3, ld_off, ld_mmio = Signal(5), Signal(3), Signal(2), Signal()
        ld_ea, mmio_q = Signal(32), Signal(32)
        mul_a, mul_b = Signal(33), Signal(33)
        dv_q, dv_r, dv_d = Signal(32), Signal(32), Signal(32)
        dv_neg_q, dv_neg_r, dv_rem = Signal(), Signal(), Signal()
        dv_count = Signal(range(DIV_STEPS))
        pc4 = pc + 4
        m.d.comb += t_pc_w.eq(pc4)
        m.d.comb += self.ram_raddr.eq(pc_word)

        with m.FSM():
            with m.State("FETCH"):
                m.next = "EXEC"
            with m.State("EXEC"):
                m.d.comb += in_exec.eq(1)
                m.d.sync += ir.eq(self.ram_rdata)
                m.next = "FETCH"
                with m.If(~self._in_ram(pc)):
                    m.d.comb += [trap.eq(1), trap_cause.eq(CAUSE_FETCH_FAULT), trap_value.eq(pc)]
                with m.Elif(~legal | (insn[0:2] != 0b11)):
                    m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_ILLEGAL), trap_value.eq(insn)]
                with m.Else():
                    self._execute(m, locals())
            with m.State("LOAD"):
                data = Mux(ld_mmio, mmio_q, self.ram_rdata)
                shifted = Signal(32)
                m.d.comb += [shifted.eq(data >> (ld_off * 8)), retire.eq(1), wb_en.eq(1), wb_addr.eq(ld_rd),
                             t_mem_addr.eq(ld_ea)]
                with m.Switch(ld_f3):
                    with m.Case(0):
                        m.d.comb += [wb_data.eq(shifted[0:8].as_signed()), t_rmask.eq(1),
                                     t_rdata.eq(shifted[0:8])]
                    with m.Case(1):
                        m.d.comb += [wb_data.eq(shifted[0:16].as_signed()), t_rmask.eq(3),
                                     t_rdata.eq(shifted[0:16])]
                    with m.Case(4):
                        m.d.comb += [wb_data.eq(shifted[0:8]), t_rmask.eq(1), t_rdata.eq(shifted[0:8])]
                    with m.Case(5):
                        m.d.comb += [wb_data.eq(shifted[0:16]), t_rmask.eq(3), t_rdata.eq(shifted[0:16])]
                    with m.Default():
                        m.d.comb += [wb_data.eq(data), t_rmask.eq(15), t_rdata.eq(data)]
                m.next = "FETCH"
            with m.State("MUL"):
                prod = Signal(66)
                m.d.comb += [prod.eq(mul_a.as_signed() * mul_b.as_signed()), retire.eq(1), wb_en.eq(1),
                             wb_addr.eq(rd), wb_data.eq(Mux(f3 == 0, prod[0:32], prod[32:64]))]
                m.next = "FETCH"
            with m.State("DIV"):
                # one restoring step: shift in the next dividend bit, subtract when it fits
                r_sh = Signal(33)
                fits = Signal()
                q_new, r_new = Signal(32), Signal(32)
                m.d.comb += [
                    r_sh.eq(Cat(dv_q[31], dv_r)),
                    fits.eq(r_sh >= dv_d),
                    q_new.eq(Cat(fits, dv_q[0:31])),
                    r_new.eq(Mux(fits, r_sh - dv_d, r_sh)),
                ]
                m.d.sync += [dv_q.eq(q_new), dv_r.eq(r_new), dv_count.eq(dv_count + 1)]
                with m.If(dv_count == DIV_STEPS - 1):
                    q_out = Mux(dv_neg_q, -q_new, q_new)
                    r_out = Mux(dv_neg_r, -r_new, r_new)
                    m.d.comb += [retire.eq(1), wb_en.eq(1), wb_addr.eq(rd),
                                 wb_data.eq(Mux(dv_rem, r_out, q_out))]
                    m.next = "FETCH"
        return m

    @staticmethod
    def _jump(m: Module, v: dict, target, *, link: bool) -> None:
        """A taken jump or branch to ``target``: retire (writing pc + 4 to rd if ``link``), or trap with
        CAUSE_FETCH_MISALIGNED (mtval = the target) when the target is not 4-byte aligned (no C extension)."""
        t = Signal(32)
        m.d.comb += t.eq(target)
        with m.If(t[1]):
            m.d.comb += [v["trap"].eq(1), v["trap_cause"].eq(sm.CAUSE_FETCH_MISALIGNED),
                         v["trap_value"].eq(t)]
        with m.Else():
            m.d.comb += [v["retire"].eq(1), v["t_pc_w"].eq(t)]
            if link:
                m.d.comb += [v["wb_en"].eq(1), v["wb_data"].eq(v["pc4"])]

    def _execute(self, m: Module, v: dict) -> None:
        """The EXEC cycle of a legal instruction fetched from RAM (``v``: elaborate's locals)."""
        opcode, rd, f3, insn, pc = v["opcode"], v["rd"], v["f3"], v["insn"], v["pc"]
        a, rs2, ea, off = v["a"], v["rs2"], v["ea"], v["off"]
        retire, trap, trap_cause, trap_value = v["retire"], v["trap"], v["trap_cause"], v["trap_value"]
        wb_en, wb_data, wb_addr = v["wb_en"], v["wb_data"], v["wb_addr"]
        mem_ok, ea_mmio, size_mask = v["mem_ok"], v["ea_mmio"], v["size_mask"]
        m.d.comb += wb_addr.eq(rd)
        with m.Switch(opcode):
            with m.Case(OP_LUI):
                m.d.comb += [retire.eq(1), wb_en.eq(1), wb_data.eq(v["imm_u"])]
            with m.Case(OP_AUIPC):
                m.d.comb += [retire.eq(1), wb_en.eq(1), wb_data.eq(pc + v["imm_u"])]
            with m.Case(OP_JAL):
                self._jump(m, v, pc + v["imm_j"], link=True)
            with m.Case(OP_JALR):
                self._jump(m, v, (a + v["imm_i"]) & ~1, link=True)
            with m.Case(OP_BRANCH):
                with m.If(v["taken"]):
                    self._jump(m, v, pc + v["imm_b"], link=False)
                with m.Else():
                    m.d.comb += retire.eq(1)
            with m.Case(OP_IMM):
                m.d.comb += [retire.eq(1), wb_en.eq(1), wb_data.eq(v["alu"])]
            with m.Case(OP_REG):
                with m.If(insn[25]):  # M extension
                    self._start_muldiv(m, v)
                with m.Else():
                    m.d.comb += [retire.eq(1), wb_en.eq(1), wb_data.eq(v["alu"])]
            with m.Case(OP_LOAD):
                with m.If(~mem_ok):
                    m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_LOAD_FAULT), trap_value.eq(ea)]
                with m.Else():
                    m.d.comb += [self.ram_raddr.eq(ea[2:self.ram_bits]), self.mmio_re.eq(ea_mmio)]
                    m.d.sync += [v["ld_rd"].eq(rd), v["ld_f3"].eq(f3), v["ld_off"].eq(off),
                                 v["ld_mmio"].eq(ea_mmio), v["ld_ea"].eq(ea), v["mmio_q"].eq(self.mmio_rdata)]
                    m.next = "LOAD"
            with m.Case(OP_STORE):
                with m.If(~mem_ok):
                    m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_STORE_FAULT), trap_value.eq(ea)]
                with m.Else():
                    m.d.comb += [v["t_mem_addr"].eq(ea), v["t_wmask"].eq(size_mask),
                                 v["t_wdata"].eq(rs2 & Cat(size_mask[k].replicate(8) for k in range(4)))]
                    with m.If(ea_mmio):
                        m.d.comb += [self.mmio_we.eq(1), retire.eq(self.mmio_ready)]
                        with m.If(~self.mmio_ready):
                            m.next = "EXEC"  # wait for the dispatcher (CMD5): the insn is re-read from pc
                    with m.Else():
                        m.d.comb += [retire.eq(1), self.ram_waddr.eq(ea[2:self.ram_bits])]
                        with m.Switch(f3):
                            with m.Case(0):
                                m.d.comb += [self.ram_wdata.eq(rs2[0:8].replicate(4)),
                                             self.ram_wmask.eq(1 << off)]
                            with m.Case(1):
                                m.d.comb += [self.ram_wdata.eq(rs2[0:16].replicate(2)),
                                             self.ram_wmask.eq(Mux(off[1], 0b1100, 0b0011))]
                            with m.Default():
                                m.d.comb += [self.ram_wdata.eq(rs2), self.ram_wmask.eq(0b1111)]
            with m.Case(OP_FENCE):
                m.d.comb += retire.eq(1)
            with m.Case(OP_SYSTEM):
                self._system(m, v)

    def _start_muldiv(self, m: Module, v: dict) -> None:
        f3, a, rs2 = v["f3"], v["a"], v["rs2"]
        with m.If(~f3[2]):  # MUL MULH MULHSU MULHU
            signed_a = (f3 == 1) | (f3 == 2)
            signed_b = f3 == 1
            m.d.sync += [v["mul_a"].eq(Cat(a, a[31] & signed_a)), v["mul_b"].eq(Cat(rs2, rs2[31] & signed_b))]
            m.next = "MUL"
        with m.Else():  # DIV DIVU REM REMU
            signed = ~f3[0]
            a_neg, b_neg = signed & a[31], signed & rs2[31]
            m.d.sync += [
                v["dv_q"].eq(Mux(a_neg, -a, a)), v["dv_r"].eq(0), v["dv_d"].eq(Mux(b_neg, -rs2, rs2)),
                v["dv_neg_q"].eq((a_neg ^ b_neg) & (rs2 != 0)), v["dv_neg_r"].eq(a_neg),
                v["dv_rem"].eq(f3[1]),
                v["dv_count"].eq(0),
            ]
            m.next = "DIV"

    def _system(self, m: Module, v: dict) -> None:
        f3, insn = v["f3"], v["insn"]
        retire, trap, trap_cause = v["retire"], v["trap"], v["trap_cause"]
        with m.If(f3 == 0), m.Switch(insn):
            with m.Case(INSN_ECALL):
                m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_ECALL_M)]
            with m.Case(INSN_EBREAK):
                m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_BREAKPOINT)]
            with m.Case(INSN_MRET):
                m.d.comb += [retire.eq(1), v["t_pc_w"].eq(v["mepc"])]
                m.d.sync += [v["mie"].eq(v["mpie"]), v["mpie"].eq(1)]
            with m.Default():  # WFI
                m.d.comb += retire.eq(1)
        with m.Else():  # CSR instructions
            writes, wdata, addr = v["csr_writes"], v["csr_wdata"], v["csr_addr"]
            with m.If(~v["csr_known"] | (writes & v["csr_read_only"])):
                m.d.comb += [trap.eq(1), trap_cause.eq(sm.CAUSE_ILLEGAL), v["trap_value"].eq(insn)]
            with m.Else():
                m.d.comb += [retire.eq(1), v["wb_en"].eq(1), v["wb_data"].eq(v["csr_rdata"])]
                with m.If(writes), m.Switch(addr):
                    with m.Case(CSR_MSTATUS):
                        m.d.sync += [v["mie"].eq(wdata[3]), v["mpie"].eq(wdata[7])]
                    with m.Case(CSR_MTVEC):
                        m.d.sync += v["mtvec"].eq(Cat(C(0, 2), wdata[2:]))
                    with m.Case(CSR_MSCRATCH):
                        m.d.sync += v["mscratch"].eq(wdata)
                    with m.Case(CSR_MEPC):
                        m.d.sync += v["mepc"].eq(Cat(C(0, 2), wdata[2:]))
                    with m.Case(CSR_MCAUSE):
                        m.d.sync += v["mcause"].eq(wdata)
                    with m.Case(CSR_MTVAL):
                        m.d.sync += v["mtval"].eq(wdata)
                    with m.Case(CSR_MCYCLE):
                        m.d.sync += v["cyc"][0:32].eq(wdata)
                    with m.Case(CSR_MCYCLEH):
                        m.d.sync += v["cyc"][32:64].eq(wdata)
                    with m.Case(CSR_MINSTRET):
                        m.d.sync += v["ret"][0:32].eq(wdata)
                    with m.Case(CSR_MINSTRETH):
                        m.d.sync += v["ret"][32:64].eq(wdata)


__all__ = ["RVFI", "HostCore"]
