"""The model's RISC-V host: an RV32IM + Zicsr instruction-set simulator timed with the SoC's CPI table.

One plain-Python step loop (:func:`step_loop`, ``@compilable``) that :func:`accelsim.jit.compiled` turns into
machine code with Numba, so the same source runs interpreted (``.py_func``, for tests) and compiled (tens of
millions of instructions a second). It executes the firmware ELF over the contract of
:mod:`accelsim.host.soc_map`: unified RAM at ``RAM_BASE``, the MMIO registers, the CPI table, traps to
``mtvec`` with the contract's mcause codes. docs/host.md describes the design.

Timing: instruction ``i`` starts (its FETCH) at cycle ``c_i`` and takes its class's CPI; its execute cycle is
``c_i + 1``. That is the cycle a CMD5 store presents its command, a load samples an MMIO register and a CSR
instruction reads ``mcycle`` (which then reads ``c_i + 1``; ``minstret`` reads the instructions retired
before it). A CMD5 store that waits for the dispatcher takes ``CPI_OTHER + (d - t)`` where ``t`` is its
execute cycle and ``d`` the accept cycle.

Commands go to a *sink*. With no sink (``Iss.run(sink=None)``) the compiled loop itself plays an accelerator
that accepts every command the cycle it is presented (``d = t``), releases a FENCE at once (FENCES counts the
FENCE commands presented) and reports STATUS = ready | idle; every command is recorded with its issue cycle.
With a :class:`CommandSink` the loop returns to Python at each command and each FENCES/STATUS read, and the
sink answers: ``present(words, t) -> d >= t`` and ``read(addr, t) -> value``. That is the interface the
scheduler couples to (docs/host.md, "Coupling to the scheduler").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from accelsim.commands import COMMAND_WORDS
from accelsim.errors import AccelsimError, require
from accelsim.host.soc_map import (
    CAUSE_BREAKPOINT,
    CAUSE_ECALL_M,
    CAUSE_FETCH_MISALIGNED,
    CAUSE_ILLEGAL,
    CAUSE_LOAD_FAULT,
    CAUSE_STORE_FAULT,
    CMD0,
    CMD5,
    CONSOLE,
    CPI_DIV,
    CPI_LOAD,
    CPI_MUL,
    CPI_OTHER,
    EXIT,
    FENCES,
    MMIO_BASE,
    MMIO_END,
    RAM_BASE,
    RAM_BYTES_DEFAULT,
    STATUS,
    STATUS_IDLE,
    STATUS_READY,
)
from accelsim.jit import compilable, compiled

# A cause correct programs never raise and so not in the contract's table: a fetch outside RAM. A misaligned
# load or store is an access fault (mcause 5 / 7), as the RTL core raises it (the privileged spec allows
# either); a taken jump or branch to a target that is not 4-byte aligned raises CAUSE_FETCH_MISALIGNED.
CAUSE_FETCH_FAULT = 1

OP_FENCE_CODE = 5  # accelsim.commands.OP_FENCE (tests/host holds them equal)
CMD_WORDS = COMMAND_WORDS  # CMD0 .. CMD5

# state vector slots (int64)
(S_PC, S_CYCLE, S_INSTRET, S_MSTATUS, S_MIE, S_MTVEC, S_MSCRATCH, S_MEPC, S_MCAUSE, S_MTVAL, S_EXIT_CODE,
 S_FENCES, S_N_CMDS, S_N_CONSOLE, S_CMD0, S_CMD1, S_CMD2, S_CMD3, S_CMD4, S_SYNC, S_READ_VALID, S_READ_VALUE,
 S_EVENT_ADDR, S_EVENT_CYCLE, S_WADDR, S_WDATA, S_WSIZE, S_MAX_CYCLES, S_TRAPS, S_SLOTS) = range(30)

# why step_loop returned
STOP_EXIT, STOP_STEPS, STOP_CYCLES, STOP_CMD, STOP_READ, STOP_CMD_FULL, STOP_CONSOLE_FULL = range(7)

MISA_RV32IM = (1 << 30) | (1 << 8) | (1 << 12)  # MXL=1 (32-bit), I, M

CSR_MSTATUS, CSR_MISA, CSR_MIE, CSR_MTVEC = 0x300, 0x301, 0x304, 0x305
CSR_MSCRATCH, CSR_MEPC, CSR_MCAUSE, CSR_MTVAL, CSR_MIP = 0x340, 0x341, 0x342, 0x343, 0x344
CSR_MCYCLE, CSR_MINSTRET, CSR_MCYCLEH, CSR_MINSTRETH = 0xB00, 0xB02, 0xB80, 0xB82
CSR_CYCLE, CSR_INSTRET, CSR_CYCLEH, CSR_INSTRETH = 0xC00, 0xC02, 0xC80, 0xC82
CSR_MVENDORID, CSR_MHARTID = 0xF11, 0xF14
CSR_NONE = -1  # not implemented: the instruction is illegal


@compilable
def sx32(v):
    """``v`` as a signed 32-bit value (registers hold signed values in int64)."""
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


@compilable
def csr_read(st, csr):
    """A CSR's value at the instruction's execute cycle, or CSR_NONE if it does not exist."""
    if csr == CSR_MSTATUS:
        return st[S_MSTATUS]
    if csr == CSR_MISA:
        return MISA_RV32IM
    if csr == CSR_MIE:
        return st[S_MIE]
    if csr == CSR_MTVEC:
        return st[S_MTVEC]
    if csr == CSR_MSCRATCH:
        return st[S_MSCRATCH]
    if csr == CSR_MEPC:
        return st[S_MEPC]
    if csr == CSR_MCAUSE:
        return st[S_MCAUSE]
    if csr == CSR_MTVAL:
        return st[S_MTVAL]
    if csr == CSR_MIP:
        return 0
    if csr in (CSR_MCYCLE, CSR_CYCLE):
        return (st[S_CYCLE] + 1) & 0xFFFFFFFF
    if csr in (CSR_MCYCLEH, CSR_CYCLEH):
        return ((st[S_CYCLE] + 1) >> 32) & 0xFFFFFFFF
    if csr in (CSR_MINSTRET, CSR_INSTRET):
        return st[S_INSTRET] & 0xFFFFFFFF
    if csr in (CSR_MINSTRETH, CSR_INSTRETH):
        return (st[S_INSTRET] >> 32) & 0xFFFFFFFF
    if CSR_MVENDORID <= csr <= CSR_MHARTID:
        return 0
    return CSR_NONE


@compilable
def csr_write(st, csr, value):
    """Write a CSR (the caller checked it exists and is writable). The counters ignore writes."""
    value &= 0xFFFFFFFF
    if csr == CSR_MSTATUS:
        st[S_MSTATUS] = value & 0x1888  # MIE, MPIE, MPP
    elif csr == CSR_MIE:
        st[S_MIE] = value & 0x888
    elif csr == CSR_MTVEC:
        st[S_MTVEC] = value & 0xFFFFFFFC  # direct mode only
    elif csr == CSR_MSCRATCH:
        st[S_MSCRATCH] = value
    elif csr == CSR_MEPC:
        st[S_MEPC] = value & 0xFFFFFFFC
    elif csr == CSR_MCAUSE:
        st[S_MCAUSE] = value
    elif csr == CSR_MTVAL:
        st[S_MTVAL] = value


@compilable
def trap(st, pc, cause, tval):
    """Enter the trap handler: mepc, mcause, mtval, mstatus (MPIE <- MIE, MIE <- 0, MPP <- M); the
    instruction does not retire and costs CPI_OTHER."""
    st[S_MEPC] = pc
    st[S_MCAUSE] = cause
    st[S_MTVAL] = tval & 0xFFFFFFFF
    mie = (st[S_MSTATUS] >> 3) & 1
    st[S_MSTATUS] = (st[S_MSTATUS] & ~0x88) | (mie << 7) | 0x1800
    st[S_CYCLE] += CPI_OTHER
    st[S_TRAPS] += 1
    return st[S_MTVEC]


@compilable
def step_loop(mem8, mem32, regs, st, cmds, console, max_steps):
    """Execute up to ``max_steps`` instructions; return why it stopped (STOP_*). ``mem8``/``mem32`` are two
    views of the RAM, ``regs`` 32 int64 (signed 32-bit values), ``st`` the state vector (S_*), ``cmds`` an
    (n, 5) int64 log of presented commands (four words and the issue cycle), ``console`` a uint8 buffer."""
    ram_bytes = mem8.shape[0]
    pc = st[S_PC]
    steps = 0
    while steps < max_steps:
        if st[S_CYCLE] >= st[S_MAX_CYCLES]:
            st[S_PC] = pc
            return STOP_CYCLES
        steps += 1
        off = pc - RAM_BASE
        if off < 0 or off >= ram_bytes:
            pc = trap(st, pc, CAUSE_FETCH_FAULT, pc)
            continue
        insn = np.int64(mem32[off >> 2])
        opcode = insn & 0x7F
        rd = (insn >> 7) & 31
        f3 = (insn >> 12) & 7
        rs1 = (insn >> 15) & 31
        rs2 = (insn >> 20) & 31
        f7 = insn >> 25
        a = regs[rs1]
        b = regs[rs2]
        npc = pc + 4
        cost = CPI_OTHER
        if opcode == 0x33:  # OP
            if f7 == 0:
                if f3 == 0:
                    r = a + b
                elif f3 == 1:
                    r = (a & 0xFFFFFFFF) << (b & 31)
                elif f3 == 2:
                    r = 1 if a < b else 0
                elif f3 == 3:
                    r = 1 if (a & 0xFFFFFFFF) < (b & 0xFFFFFFFF) else 0
                elif f3 == 4:
                    r = a ^ b
                elif f3 == 5:
                    r = (a & 0xFFFFFFFF) >> (b & 31)
                elif f3 == 6:
                    r = a | b
                else:
                    r = a & b
            elif f7 == 0x20 and f3 == 0:
                r = a - b
            elif f7 == 0x20 and f3 == 5:
                r = a >> (b & 31)
            elif f7 == 1:
                ua = a & 0xFFFFFFFF
                ub = b & 0xFFFFFFFF
                if f3 < 4:
                    cost = CPI_MUL
                    if f3 == 0:
                        r = a * b
                    elif f3 == 1:
                        r = (a * b) >> 32
                    elif f3 == 2:
                        r = (a * ub) >> 32
                    else:  # MULHU = MULHSU + b when a is negative (a's unsigned value is a + 2**32)
                        r = ((a * ub) >> 32) + (ub if a < 0 else 0)
                else:
                    cost = CPI_DIV
                    if f3 == 4:  # DIV: truncate toward zero; /0 -> -1; overflow -> -2**31 (sx32 wraps)
                        if b == 0:
                            r = -1
                        else:
                            q = abs(a) // abs(b)
                            r = -q if (a < 0) != (b < 0) else q
                    elif f3 == 5:
                        r = -1 if ub == 0 else ua // ub
                    elif f3 == 6:  # REM: the dividend's sign; %0 -> a
                        if b == 0:
                            r = a
                        else:
                            m = abs(a) % abs(b)
                            r = -m if a < 0 else m
                    else:
                        r = ua if ub == 0 else ua % ub
            else:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            if rd != 0:
                regs[rd] = sx32(r)
        elif opcode == 0x13:  # OP-IMM
            imm = ((insn >> 20) ^ 0x800) - 0x800
            if f3 == 0:
                r = a + imm
            elif f3 == 2:
                r = 1 if a < imm else 0
            elif f3 == 3:
                r = 1 if (a & 0xFFFFFFFF) < (imm & 0xFFFFFFFF) else 0
            elif f3 == 4:
                r = a ^ imm
            elif f3 == 6:
                r = a | imm
            elif f3 == 7:
                r = a & imm
            elif f3 == 1 and f7 == 0:
                r = (a & 0xFFFFFFFF) << rs2
            elif f3 == 5 and f7 == 0:
                r = (a & 0xFFFFFFFF) >> rs2
            elif f3 == 5 and f7 == 0x20:
                r = a >> rs2
            else:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            if rd != 0:
                regs[rd] = sx32(r)
        elif opcode == 0x03:  # LOAD
            addr = (a + (((insn >> 20) ^ 0x800) - 0x800)) & 0xFFFFFFFF
            if f3 == 3 or f3 > 5:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            size = 1 << (f3 & 3)
            if addr & (size - 1):
                pc = trap(st, pc, CAUSE_LOAD_FAULT, addr)
                continue
            off = addr - RAM_BASE
            if 0 <= off < ram_bytes:
                if size == 4:
                    r = np.int64(mem32[off >> 2])
                elif size == 2:
                    r = np.int64(mem8[off]) | (np.int64(mem8[off + 1]) << 8)
                else:
                    r = np.int64(mem8[off])
            elif MMIO_BASE <= addr < MMIO_END:
                reg = addr & ~3
                if reg in (FENCES, STATUS):
                    if st[S_SYNC] != 0:
                        if st[S_READ_VALID] == 0:  # ask the sink, then run this load again
                            st[S_EVENT_ADDR] = reg
                            st[S_EVENT_CYCLE] = st[S_CYCLE] + 1
                            st[S_PC] = pc
                            return STOP_READ
                        st[S_READ_VALID] = 0
                        word = st[S_READ_VALUE] & 0xFFFFFFFF
                    elif reg == FENCES:
                        word = st[S_FENCES] & 0xFFFFFFFF
                    else:
                        word = STATUS_READY | STATUS_IDLE
                elif STATUS < reg < CONSOLE:  # the gap: no register
                    pc = trap(st, pc, CAUSE_LOAD_FAULT, addr)
                    continue
                else:
                    word = 0  # write-only registers read 0
                r = (word >> (8 * (addr & 3))) & ((1 << (8 * size)) - 1)
            else:
                pc = trap(st, pc, CAUSE_LOAD_FAULT, addr)
                continue
            if f3 == 0:
                r = ((r & 0xFF) ^ 0x80) - 0x80
            elif f3 == 1:
                r = ((r & 0xFFFF) ^ 0x8000) - 0x8000
            cost = CPI_LOAD
            if rd != 0:
                regs[rd] = sx32(r)
        elif opcode == 0x23:  # STORE
            addr = (a + ((((insn >> 25) << 5 | rd) ^ 0x800) - 0x800)) & 0xFFFFFFFF
            if f3 > 2:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            size = 1 << f3
            if addr & (size - 1):
                pc = trap(st, pc, CAUSE_STORE_FAULT, addr)
                continue
            st[S_WADDR] = addr  # the last store, for lockstep checks
            st[S_WDATA] = b & ((1 << (8 * size)) - 1)
            st[S_WSIZE] = size
            off = addr - RAM_BASE
            if 0 <= off < ram_bytes:
                if size == 4:
                    mem32[off >> 2] = b & 0xFFFFFFFF
                elif size == 2:
                    mem8[off] = b & 0xFF
                    mem8[off + 1] = (b >> 8) & 0xFF
                else:
                    mem8[off] = b & 0xFF
            elif MMIO_BASE <= addr < MMIO_END:
                reg = addr & ~3
                value = b & 0xFFFFFFFF  # SB/SH act on the whole word with rs2's value
                if reg == CONSOLE:
                    n = st[S_N_CONSOLE]
                    if n >= console.shape[0]:
                        st[S_PC] = pc
                        return STOP_CONSOLE_FULL
                    console[n] = value & 0xFF
                    st[S_N_CONSOLE] = n + 1
                elif reg == EXIT:
                    st[S_EXIT_CODE] = sx32(value)
                    st[S_CYCLE] += CPI_OTHER
                    st[S_INSTRET] += 1
                    st[S_PC] = npc
                    return STOP_EXIT
                elif reg == CMD5:
                    n = st[S_N_CMDS]
                    if n >= cmds.shape[0]:
                        st[S_PC] = pc
                        return STOP_CMD_FULL
                    for k in range(CMD_WORDS - 1):
                        cmds[n, k] = st[S_CMD0 + k]
                    cmds[n, CMD_WORDS - 1] = value
                    cmds[n, CMD_WORDS] = st[S_CYCLE] + 1
                    st[S_N_CMDS] = n + 1
                    if st[S_SYNC] != 0:  # the sink decides the accept cycle: retire, then hand over
                        st[S_EVENT_CYCLE] = st[S_CYCLE] + 1
                        st[S_CYCLE] += CPI_OTHER
                        st[S_INSTRET] += 1
                        st[S_PC] = npc
                        return STOP_CMD
                    if (st[S_CMD0] & 0xF) == OP_FENCE_CODE:
                        st[S_FENCES] += 1
                elif CMD0 <= reg < CMD5:
                    st[S_CMD0 + ((reg - CMD0) >> 2)] = value
                elif STATUS < reg < CONSOLE:  # the gap: no register
                    pc = trap(st, pc, CAUSE_STORE_FAULT, addr)
                    continue
                # FENCES, STATUS: read-only, a store is ignored
            else:
                pc = trap(st, pc, CAUSE_STORE_FAULT, addr)
                continue
        elif opcode == 0x63:  # BRANCH
            if f3 == 0:
                taken = a == b
            elif f3 == 1:
                taken = a != b
            elif f3 == 4:
                taken = a < b
            elif f3 == 5:
                taken = a >= b
            elif f3 == 6:
                taken = (a & 0xFFFFFFFF) < (b & 0xFFFFFFFF)
            elif f3 == 7:
                taken = (a & 0xFFFFFFFF) >= (b & 0xFFFFFFFF)
            else:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            if taken:
                imm = (((insn >> 31) << 12) | (((insn >> 7) & 1) << 11) | (((insn >> 25) & 0x3F) << 5)
                       | (((insn >> 8) & 0xF) << 1))
                target = (pc + ((imm ^ 0x1000) - 0x1000)) & 0xFFFFFFFF
                if target & 3:
                    pc = trap(st, pc, CAUSE_FETCH_MISALIGNED, target)
                    continue
                npc = target
        elif opcode == 0x6F:  # JAL
            imm = (((insn >> 31) << 20) | (((insn >> 12) & 0xFF) << 12) | (((insn >> 20) & 1) << 11)
                   | (((insn >> 21) & 0x3FF) << 1))
            target = (pc + ((imm ^ 0x100000) - 0x100000)) & 0xFFFFFFFF
            if target & 3:
                pc = trap(st, pc, CAUSE_FETCH_MISALIGNED, target)
                continue
            if rd != 0:
                regs[rd] = sx32(pc + 4)
            npc = target
        elif opcode == 0x67:  # JALR
            if f3 != 0:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            target = (a + (((insn >> 20) ^ 0x800) - 0x800)) & 0xFFFFFFFE
            if target & 3:
                pc = trap(st, pc, CAUSE_FETCH_MISALIGNED, target)
                continue
            if rd != 0:
                regs[rd] = sx32(pc + 4)
            npc = target
        elif opcode == 0x37:  # LUI
            if rd != 0:
                regs[rd] = sx32(insn & 0xFFFFF000)
        elif opcode == 0x17:  # AUIPC
            if rd != 0:
                regs[rd] = sx32(pc + (insn & 0xFFFFF000))
        elif opcode == 0x0F:  # MISC-MEM: FENCE, FENCE.I (no caches: nothing to order)
            if f3 > 1:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
        elif opcode == 0x73:  # SYSTEM
            if f3 == 0:
                if insn == 0x00000073:
                    pc = trap(st, pc, CAUSE_ECALL_M, 0)
                    continue
                if insn == 0x00100073:
                    pc = trap(st, pc, CAUSE_BREAKPOINT, 0)
                    continue
                if insn == 0x30200073:  # MRET: MIE <- MPIE, MPIE <- 1
                    mpie = (st[S_MSTATUS] >> 7) & 1
                    st[S_MSTATUS] = (st[S_MSTATUS] & ~0x8) | (mpie << 3) | 0x80
                    npc = st[S_MEPC]
                else:
                    pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                    continue
            elif f3 == 4:
                pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                continue
            else:
                csr = insn >> 20
                src = rs1 if f3 >= 5 else (a & 0xFFFFFFFF)  # CSRR*I: the rs1 field is a 5-bit immediate
                old = csr_read(st, csr)
                kind = f3 & 3
                writes = kind == 1 or rs1 != 0
                if old == CSR_NONE or (writes and (csr >> 10) == 3):
                    pc = trap(st, pc, CAUSE_ILLEGAL, insn)
                    continue
                if writes:
                    if kind == 1:
                        new = src
                    elif kind == 2:
                        new = old | src
                    else:
                        new = old & ~src
                    csr_write(st, csr, new)
                if rd != 0:
                    regs[rd] = sx32(old)
        else:
            pc = trap(st, pc, CAUSE_ILLEGAL, insn)
            continue
        st[S_CYCLE] += cost
        st[S_INSTRET] += 1
        pc = npc
    st[S_PC] = pc
    return STOP_STEPS


# ------------------------------------------------------------------------------------------------------


class CommandSink(Protocol):
    """What the host's command port talks to (docs/host.md): the scheduler, or a test's recorder."""

    def present(self, words: tuple[int, ...], cycle: int) -> int:
        """Command presented at ``cycle`` (the CMD5 store's execute cycle; ``words``: CMD0..CMD5); return
        its accept cycle
        ``d >= cycle`` (the store holds the core until then)."""

    def read(self, addr: int, cycle: int) -> int:
        """The value of FENCES or STATUS (``addr``) as the load samples it at ``cycle``."""


@dataclass(frozen=True)
class RunResult:
    """What a program run produced. ``commands`` is an (n, CMD_WORDS + 1) int64 array: CMD0..CMD5 and the
    cycle the command was presented (with a sink, the cycle it was accepted is the sink's answer)."""

    exit_code: int | None  # None: the cycle limit came first
    stdout: bytes
    cycles: int  # mcycle in the EXIT store's execute cycle (as the RTL SoC reports it), else the limit
    instret: int  # instructions retired before the EXIT store
    commands: np.ndarray
    traps: int

    def command_words(self) -> list[int]:
        """The presented commands as 192-bit integers."""
        rows = self.commands[:, :CMD_WORDS].tolist()
        return [sum(int(w) << (32 * k) for k, w in enumerate(row)) for row in rows]


EM_RISCV = 243


def counters(st, exited: bool) -> tuple[int, int]:
    """``(cycles, instret)`` as the SoC reports a program's end: mcycle and minstret in the EXIT store's
    execute cycle (the loop has already counted the whole store, CPI_OTHER cycles, and retired it)."""
    if exited:
        return int(st[S_CYCLE]) - CPI_OTHER + 1, int(st[S_INSTRET]) - 1
    return int(st[S_CYCLE]), int(st[S_INSTRET])


def load_elf(data: bytes, ram_bytes: int = RAM_BYTES_DEFAULT, *, what: str = "program"
             ) -> tuple[np.ndarray, int, dict[str, tuple[int, int]]]:
    """An RV32 ELF's RAM image (uint8, ``ram_bytes``), entry point and symbols ``name -> (address, size)``.
    A wrong file, architecture or a program too large for the RAM raise a one-line AccelsimError naming
    ``what``. The one ELF loader: the RTL SoC's RAM image (accelsim.cosim.soc.load_elf) comes from it too."""
    import io

    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    require(ram_bytes > 0 and ram_bytes & (ram_bytes - 1) == 0 and ram_bytes <= 1 << 30, "RAM size",
            "a power of two of at most 1 GiB", ram_bytes)
    try:
        elf = ELFFile(io.BytesIO(data))
        header = elf.header
    except (ELFError, ValueError, OSError) as err:
        raise AccelsimError(f"{what} must be an ELF file, not unreadable ({err})") from None
    require(elf.elfclass == 32 and header["e_machine"] in ("EM_RISCV", EM_RISCV) and elf.little_endian,
            what, "a 32-bit RISC-V ELF (little-endian; riscv64-unknown-elf-gcc -march=rv32im -mabi=ilp32)",
            f"{elf.elfclass}-bit {header['e_machine']}")
    mem = np.zeros(ram_bytes, np.uint8)
    for seg in elf.iter_segments():
        if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
            continue
        start, size = seg["p_paddr"] - RAM_BASE, seg["p_memsz"]
        require(start >= 0 and start + size <= ram_bytes, what, f"inside the {ram_bytes:,}-byte RAM at "
                f"{RAM_BASE:#x}", f"a segment at {seg['p_paddr']:#x}..{seg['p_paddr'] + size:#x}")
        body = seg.data()
        mem[start:start + len(body)] = np.frombuffer(body, np.uint8)
    symbols = {}
    symtab = elf.get_section_by_name(".symtab")
    if symtab is not None:
        for sym in symtab.iter_symbols():
            if sym.name:
                symbols[sym.name] = (sym["st_value"], sym["st_size"])
    return mem, header["e_entry"], symbols


@functools.lru_cache(maxsize=8)
def _load_elf_cached(data: bytes, ram_bytes: int) -> tuple[np.ndarray, int, dict[str, tuple[int, int]]]:
    """load_elf, parsed once per ELF (one driver ELF runs every layer of a network); callers copy."""
    mem, entry, symbols = load_elf(data, ram_bytes)
    mem.flags.writeable = False
    return mem, entry, symbols


class Iss:
    """One hart with its RAM, loaded from an ELF; :meth:`run` executes it."""

    def __init__(self, elf: bytes | str | Path, *, ram_bytes: int = RAM_BYTES_DEFAULT,
                 interpreted: bool = False):
        data = Path(elf).read_bytes() if isinstance(elf, (str, Path)) else bytes(elf)
        image, self.entry, symbols = _load_elf_cached(data, ram_bytes)
        self.mem, self.symbols = image.copy(), dict(symbols)
        self.regs = np.zeros(32, np.int64)
        self.state = np.zeros(S_SLOTS, np.int64)
        self.state[S_PC] = self.entry
        self.state[S_MSTATUS] = 0x1800
        self.state[S_MAX_CYCLES] = 1 << 62  # run() sets its own limit; step() runs unbounded
        self._step = step_loop if interpreted else compiled(step_loop)

    def poke(self, symbol: str, payload: bytes) -> None:
        """Write ``payload`` over the ELF symbol ``symbol`` (a descriptor the loader patches)."""
        require(symbol in self.symbols, "program symbol", "defined in the ELF", symbol)
        addr, size = self.symbols[symbol]
        require(len(payload) == size, f"payload for {symbol}", f"{size} bytes (the symbol's size)",
                len(payload))
        self.mem[addr - RAM_BASE:addr - RAM_BASE + size] = np.frombuffer(payload, np.uint8)

    def step(self, cmds: np.ndarray, console: np.ndarray, max_steps: int) -> int:
        """Run the step loop once as it is (lockstep tests call it with ``max_steps=1``)."""
        return self._step(self.mem, self.mem.view(np.uint32), self.regs, self.state, cmds, console, max_steps)

    def run(self, *, max_cycles: int = 1 << 40, sink: CommandSink | None = None) -> RunResult:
        """Run until the program writes EXIT or ``max_cycles`` cycles have passed."""
        st = self.state
        st[S_MAX_CYCLES] = max_cycles
        st[S_SYNC] = 0 if sink is None else 1
        cmds = np.zeros((1024, CMD_WORDS + 1), np.int64)
        console = np.zeros(4096, np.uint8)
        out = bytearray()
        log = []
        exit_code = None
        while True:
            why = self.step(cmds, console, 1 << 62)
            n = int(st[S_N_CONSOLE])
            out += console[:n].tobytes()
            st[S_N_CONSOLE] = 0
            if why in (STOP_CMD_FULL, STOP_CMD, STOP_EXIT, STOP_CYCLES):
                log.append(cmds[:st[S_N_CMDS]].copy())
                st[S_N_CMDS] = 0
            if why == STOP_EXIT:
                exit_code = int(st[S_EXIT_CODE])
                break
            if why == STOP_CYCLES:
                break
            if why == STOP_CMD:
                words = tuple(int(w) for w in log[-1][-1, :CMD_WORDS])
                t = int(st[S_EVENT_CYCLE])
                d = int(sink.present(words, t))
                require(d >= t, "a command's accept cycle", f">= its presentation cycle {t}", d)
                st[S_CYCLE] += d - t
            elif why == STOP_READ:
                st[S_READ_VALUE] = int(sink.read(int(st[S_EVENT_ADDR]), int(st[S_EVENT_CYCLE])))
                st[S_READ_VALID] = 1
        commands = np.concatenate(log) if log else np.zeros((0, CMD_WORDS + 1), np.int64)
        return RunResult(exit_code, bytes(out), *counters(st, exit_code is not None), commands,
                         int(st[S_TRAPS]))
