"""accelsim.host.iss: lockstep against Unicorn on random RV32IM streams, the CPI table, traps, MMIO, the
command sink, ELF loading; the compiled loop against its interpreted source."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.commands import COMMAND_WORDS
from accelsim.errors import AccelsimError
from accelsim.host import iss as iss_mod
from accelsim.host import soc_map
from accelsim.host.iss import Iss, load_elf
from accelsim.host.soc_map import CMD5, FENCES, MMIO_BASE, STATUS
from tests.host.unicorn_ref import UnicornRef, lockstep

DATA_BASE = 0x8800  # x2 points here; loads and stores reach 0x8000..0x8FFF
RAM_BYTES = 1 << 16


# --- a tiny assembler ------------------------------------------------------------------------------------
def r_type(f7, rs2, rs1, f3, rd, op=0x33):
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def i_type(imm, rs1, f3, rd, op=0x13):
    return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op


def s_type(imm, rs2, rs1, f3):
    imm &= 0xFFF
    return (imm >> 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 31) << 7 | 0x23


def b_type(imm, rs2, rs1, f3):
    imm &= 0x1FFF
    return ((imm >> 12) << 31 | ((imm >> 5) & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
            | ((imm >> 1) & 0xF) << 8 | ((imm >> 11) & 1) << 7 | 0x63)


def j_type(imm, rd):
    imm &= 0x1FFFFF
    return ((imm >> 20) << 31 | ((imm >> 1) & 0x3FF) << 21 | ((imm >> 11) & 1) << 20
            | ((imm >> 12) & 0xFF) << 12 | rd << 7 | 0x6F)


ALU = [(0, f3) for f3 in range(8)] + [(0x20, 0), (0x20, 5)]
MULDIV = [(1, f3) for f3 in range(8)]
LOAD_SIZES = {0: 1, 1: 2, 2: 4, 4: 1, 5: 2}
STORE_SIZES = {0: 1, 1: 2, 2: 4}


def random_stream(rng: np.random.Generator, n: int) -> tuple[list[int], list[int]]:
    """``n`` random RV32IM instructions and each one's CPI. Control flow only jumps forward (every
    instruction runs at most once), x2 stays the data pointer and x31 zero (JALR's base: its offset is the
    absolute target, bit 0 sometimes set, which JALR clears), accesses are aligned."""
    words, cpi = [], []

    def rd():
        return int(rng.choice([r for r in range(31) if r != 2]))

    def reg():
        return int(rng.integers(0, 32))

    for i in range(n):
        kind = rng.integers(0, 100)
        left = n - i  # instructions from this one to the end
        c = soc_map.CPI_OTHER
        if kind < 25:
            f7, f3 = ALU[rng.integers(len(ALU))]
            w = r_type(f7, reg(), reg(), f3, rd())
        elif kind < 40:
            f7, f3 = MULDIV[rng.integers(len(MULDIV))]
            w = r_type(f7, reg(), reg(), f3, rd())
            c = soc_map.CPI_MUL if f3 < 4 else soc_map.CPI_DIV
        elif kind < 55:
            f3 = int(rng.choice([0, 2, 3, 4, 6, 7, 1, 5, 5]))
            if f3 in (1, 5):
                w = i_type(int(rng.integers(0, 32)) | (0x400 if f3 == 5 and rng.random() < 0.5 else 0),
                           reg(), f3, rd())
            else:
                w = i_type(int(rng.integers(-2048, 2048)), reg(), f3, rd())
        elif kind < 60:
            w = (int(rng.integers(0, 1 << 20)) << 12) | rd() << 7 | int(rng.choice([0x37, 0x17]))
        elif kind < 72:
            f3 = int(rng.choice(list(LOAD_SIZES)))
            size = LOAD_SIZES[f3]
            w = i_type(int(rng.integers(-2048 // size, 2048 // size)) * size, 2, f3, rd(), op=0x03)
            c = soc_map.CPI_LOAD
        elif kind < 84:
            f3 = int(rng.choice(list(STORE_SIZES)))
            size = STORE_SIZES[f3]
            w = s_type(int(rng.integers(-2048 // size, 2048 // size)) * size, reg(), 2, f3)
        elif kind < 94 and left > 1:
            f3 = int(rng.choice([0, 1, 4, 5, 6, 7]))
            w = b_type(4 * int(rng.integers(1, min(left, 16) + 1)), reg(), reg(), f3)
        elif kind < 96 and left > 1:
            w = j_type(4 * int(rng.integers(1, min(left, 16) + 1)), rd())
        elif kind < 97 and left > 1:  # JALR rd, target(x31)
            target = 4 * (i + int(rng.integers(1, min(left, 16) + 1)))
            w = i_type(target + int(rng.integers(0, 2)), 31, 0, rd(), op=0x67)
        elif kind < 99:  # CSRRW/S/C and their immediate forms on mscratch
            w = i_type(0x340, reg(), int(rng.choice([1, 2, 3, 5, 6, 7])), rd(), op=0x73)
        else:
            w = 0x0000000F  # FENCE
        words.append(w)
        cpi.append(c)
    return words, cpi


def stream_machine(words: list[int], rng: np.random.Generator) -> tuple[Iss, np.ndarray]:
    """An Iss over a RAM holding ``words`` at 0 and random data, with random registers."""
    machine = Iss(minimal_elf(words), ram_bytes=RAM_BYTES)
    machine.mem[0x8000:0x9000] = rng.integers(0, 256, 0x1000, dtype=np.uint8)
    regs = rng.integers(-(1 << 31), 1 << 31, 32)
    regs[rng.integers(0, 32, 6)] = rng.choice([0, 1, -1, -(1 << 31), (1 << 31) - 1], 6)
    regs[0], regs[2], regs[31] = 0, DATA_BASE, 0
    machine.regs[:] = regs
    return machine, regs


def minimal_elf(words: list[int], entry: int = 0) -> bytes:
    """An ELF32 RISC-V executable with one PT_LOAD segment holding ``words`` at address 0."""
    body = b"".join(struct.pack("<I", w & 0xFFFFFFFF) for w in words)
    ehdr = struct.pack("<4sBBBBB7sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, b"\0" * 7, 2, 243, 1, entry, 52,
                       0, 0, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 84, 0, 0, len(body), len(body), 7, 4)
    return ehdr + phdr + body


# --- lockstep against Unicorn ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_random_streams_lockstep_with_unicorn(seed):
    rng = np.random.default_rng(seed)
    words, cpi = random_stream(rng, 400)
    machine, regs = stream_machine(words, rng)
    ref = UnicornRef(machine.mem, 0, regs)
    pcs: list[int] = []
    n = lockstep(machine, ref, 1000, stop_pc=4 * len(words), pcs=pcs)
    assert n == len(pcs) > 100  # forward jumps skip some, never most
    # the CPI table, charged per class of the instructions that ran (the generator knows each one's class)
    assert machine.state[iss_mod.S_CYCLE] == sum(cpi[pc // 4] for pc in pcs)
    assert machine.state[iss_mod.S_INSTRET] == n


def test_interpreted_loop_equals_compiled():
    """`compiled(step_loop)` and the plain Python step_loop end in the same state (STYLE: test .py_func)."""
    rng = np.random.default_rng(99)
    words, _ = random_stream(rng, 300)
    words.append(0x00000073)  # ECALL: traps to mtvec = 0 ... once; stop by the step budget
    out = []
    for interpreted in (False, True):
        machine, _ = stream_machine(words, np.random.default_rng(7))
        machine._step = iss_mod.step_loop if interpreted else machine._step
        why = machine.step(np.zeros((8, COMMAND_WORDS + 1), np.int64), np.zeros(8, np.uint8), 500)
        out.append((why, machine.regs.copy(), machine.state.copy(), machine.mem.copy()))
    (w1, r1, s1, m1), (w2, r2, s2, m2) = out
    assert w1 == w2
    np.testing.assert_array_equal(r1, r2)
    np.testing.assert_array_equal(s1, s2)
    np.testing.assert_array_equal(m1, m2)
    assert s1[iss_mod.S_TRAPS] >= 1


# --- traps, CSRs, MMIO -----------------------------------------------------------------------------------
LI_T0_MMIO = 0x800002B7  # lui t0, 0x80000


def run_words(words: list[int], **kw):
    return Iss(minimal_elf(words), ram_bytes=RAM_BYTES).run(max_cycles=kw.pop("max_cycles", 10_000), **kw)


def exit_with(reg: int) -> list[int]:
    """lui t0, 0x80000; sw reg, 0x24(t0): EXIT <- reg."""
    return [LI_T0_MMIO, s_type(soc_map.EXIT - soc_map.MMIO_BASE, reg, 5, 2)]


def handler_exits_with_mcause(at: int) -> list[int]:
    """A trap handler at word ``at``: a0 <- mcause, a1 <- mtval, a2 <- mepc, then EXIT <- a0."""
    return [i_type(0x342, 0, 2, 10, op=0x73), i_type(0x343, 0, 2, 11, op=0x73),
            i_type(0x341, 0, 2, 12, op=0x73), *exit_with(10)]


@pytest.mark.parametrize(("insn", "cause", "tval"), [
    (0x00000073, soc_map.CAUSE_ECALL_M, 0),
    (0x00100073, soc_map.CAUSE_BREAKPOINT, 0),
    (0xFFFFFFFF, soc_map.CAUSE_ILLEGAL, 0xFFFFFFFF),
    (r_type(0x40, 1, 1, 0, 1), soc_map.CAUSE_ILLEGAL, r_type(0x40, 1, 1, 0, 1)),  # bad funct7
    (i_type(0x7C0, 0, 2, 10, op=0x73), soc_map.CAUSE_ILLEGAL, i_type(0x7C0, 0, 2, 10, op=0x73)),  # no CSR
    (i_type(0xC00, 1, 1, 0, op=0x73), soc_map.CAUSE_ILLEGAL, i_type(0xC00, 1, 1, 0, op=0x73)),  # write cycle
    # the gap between STATUS and CONSOLE
    (i_type(0, 0, 2, 10, op=0x03) | (0x20 << 20) | (5 << 15), soc_map.CAUSE_LOAD_FAULT, 0x80000020),
    (s_type(0x24, 0, 5, 2), soc_map.CAUSE_STORE_FAULT, 0x80000024),
    (None, soc_map.CAUSE_LOAD_FAULT, RAM_BYTES),  # lw from the first address past the RAM
])
def test_traps_go_to_mtvec_with_cause(insn, cause, tval):
    # t0 = MMIO base (for the fault cases), mtvec = handler at word 8
    prog = [LI_T0_MMIO, i_type(32, 0, 0, 6), i_type(0x305, 6, 1, 0, op=0x73), 0x13, insn, 0x13, 0x13, 0x13,
            *handler_exits_with_mcause(8)]
    if insn is None:
        prog[3] = 0x000103B7  # lui t2, 0x10: the RAM's end
        prog[4] = i_type(0, 7, 2, 10, op=0x03)  # lw a0, 0(t2)
    machine = Iss(minimal_elf(prog), ram_bytes=RAM_BYTES)
    r = machine.run(max_cycles=10_000)
    assert r.exit_code == cause
    assert machine.regs[11] & 0xFFFFFFFF == tval
    assert machine.regs[12] == 16  # mepc: the trapping instruction
    assert r.traps == 1
    assert r.instret == 4 + 4  # the trapping instruction does not retire; nor has EXIT's store yet
    # to the EXIT store's execute cycle: csrr x3 + lui + sw, as mcycle in it reads
    assert r.cycles == 2 * 4 + soc_map.CPI_OTHER + 2 * 4 + 1


def test_mret_returns_to_mepc_and_counters_read_the_execute_cycle():
    prog = [
        i_type(0x300 * 0 + 40, 0, 0, 6),            # 0: t1 = 40
        i_type(0x341, 6, 1, 0, op=0x73),            # 4: mepc = 40
        0x30200073,                                 # 8: mret -> 40
        0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
        i_type(0xC00, 0, 2, 10, op=0x73),           # 40: rdcycle a0
        i_type(0xC02, 0, 2, 11, op=0x73),           # 44: rdinstret a1
        i_type(0xF14, 0, 2, 12, op=0x73),           # 48: mhartid
        *exit_with(10),
    ]
    machine = Iss(minimal_elf(prog), ram_bytes=RAM_BYTES)
    r = machine.run()
    assert r.traps == 0
    assert r.exit_code == 3 * soc_map.CPI_OTHER + 1  # rdcycle starts at cycle 6, executes in cycle 7
    assert machine.regs[11] == 4 and machine.regs[12] == 0
    assert r.instret == 7 and r.cycles == 7 * soc_map.CPI_OTHER + 1  # at the EXIT store's execute cycle


def test_console_exit_and_limit():
    msg = b"hi!\n"
    prog = [LI_T0_MMIO]
    for ch in msg:
        prog += [i_type(ch, 0, 0, 10), s_type(soc_map.CONSOLE - soc_map.MMIO_BASE, 10, 5, 0)]  # sb
    prog += [i_type(-5, 0, 0, 10), s_type(soc_map.EXIT - soc_map.MMIO_BASE, 10, 5, 2)]
    r = run_words(prog)
    assert (r.stdout, r.exit_code, r.instret) == (msg, -5, len(prog) - 1)  # before the EXIT store
    spin = run_words([j_type(0, 0)], max_cycles=1001)  # j . : never exits
    assert spin.exit_code is None and spin.cycles == 1002 and spin.instret == 501


def test_status_and_fences_without_a_sink():
    # STATUS reads ready|idle; FENCES counts FENCE commands presented
    # CMD0 = FENCE op, CMD5 = 0
    fence_cmd = [i_type(5, 0, 0, 10), s_type(0, 10, 5, 2), s_type(CMD5 - MMIO_BASE, 0, 5, 2)]
    prog = [LI_T0_MMIO, i_type(STATUS - MMIO_BASE, 5, 2, 11, op=0x03), *fence_cmd, *fence_cmd,
            i_type(FENCES - MMIO_BASE, 5, 2, 12, op=0x03), r_type(0, 12, 11, 0, 10), *exit_with(10)[1:]]
    r = run_words(prog)
    assert r.exit_code == (soc_map.STATUS_READY | soc_map.STATUS_IDLE) + 2
    assert r.commands.shape == (2, COMMAND_WORDS + 1)
    assert r.commands[:, 0].tolist() == [5, 5]
    # issue cycle = the CMD5 store's execute cycle: lui, lw(3), li, sw, sw -> the 2nd sw starts at 2+3+2+2
    assert r.commands[0, COMMAND_WORDS] == 2 + soc_map.CPI_LOAD + 2 + 2 + 1


class DelaySink:
    """Accepts every command ``delay`` cycles after it is presented; FENCES as the recorder, STATUS 0."""

    def __init__(self, delay):
        self.delay, self.seen, self.fences, self.reads = delay, [], 0, []

    def present(self, words, cycle):
        self.seen.append((words, cycle))
        self.fences += (words[0] & 0xF) == 5
        return cycle + self.delay

    def read(self, addr, cycle):
        self.reads.append((addr, cycle))
        return self.fences if addr == soc_map.FENCES else 0


def test_sink_decides_accept_cycles_and_answers_reads():
    fence_cmd = [i_type(5, 0, 0, 10), s_type(0, 10, 5, 2), s_type(CMD5 - MMIO_BASE, 0, 5, 2)]
    prog = [LI_T0_MMIO, *fence_cmd, *fence_cmd, i_type(FENCES - MMIO_BASE, 5, 2, 12, op=0x03),
            i_type(STATUS - MMIO_BASE, 5, 2, 13, op=0x03), r_type(0, 13, 12, 0, 10), *exit_with(10)[1:]]
    base = run_words(prog)
    sink = DelaySink(40)
    r = run_words(prog, sink=sink)
    assert r.exit_code == 2  # FENCES from the sink (2) + STATUS from the sink (0)
    t = base.commands[:, COMMAND_WORDS]
    assert [c for _, c in sink.seen] == [t[0], t[1] + 40]
    assert r.cycles == base.cycles + 80
    assert [a for a, _ in sink.reads] == [soc_map.FENCES, soc_map.STATUS]
    assert sink.reads[0][1] == sink.seen[1][1] + 40 + 2  # the lw after the 2nd CMD5 store: its execute cycle


# --- ELF loading -----------------------------------------------------------------------------------------
def test_elf_errors_are_one_line():
    with pytest.raises(AccelsimError, match="must be an ELF file"):
        load_elf(b"not an elf")
    x86 = bytearray(minimal_elf([0x13]))
    x86[18:20] = struct.pack("<H", 62)
    with pytest.raises(AccelsimError, match="RISC-V ELF"):
        load_elf(bytes(x86))
    big = bytearray(minimal_elf([0x13]))
    big[52 + 20:52 + 24] = struct.pack("<I", RAM_BYTES + 4)  # p_memsz past the RAM
    with pytest.raises(AccelsimError, match="inside the 65,536-byte RAM"):
        load_elf(bytes(big), RAM_BYTES)


@settings(max_examples=25)
@given(st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-(1 << 31), (1 << 31) - 1))
def test_muldiv_semantics(a, b):
    """M extension results against Python's integers (the spec's definitions, written independently)."""
    ua, ub = a & 0xFFFFFFFF, b & 0xFFFFFFFF

    def trunc(x, y):
        return -(abs(x) // abs(y)) if (x < 0) != (y < 0) else abs(x) // abs(y)

    want = [a * b, (a * b) >> 32, (a * ub) >> 32, (ua * ub) >> 32,
            -1 if b == 0 else trunc(a, b), 0xFFFFFFFF if b == 0 else ua // ub,
            a if b == 0 else a - trunc(a, b) * b, ua if b == 0 else ua % ub]
    machine = Iss(minimal_elf([r_type(1, 2, 1, f3, 10 + f3) for f3 in range(8)] + [j_type(0, 0)]),
                  ram_bytes=RAM_BYTES)
    machine.regs[1], machine.regs[2] = a, b
    machine.step(np.zeros((1, COMMAND_WORDS + 1), np.int64), np.zeros(1, np.uint8), 8)
    assert [int(v) & 0xFFFFFFFF for v in machine.regs[10:18]] == [w & 0xFFFFFFFF for w in want]


def test_one_command_register_per_command_word():
    """The SoC map has a register per 32-bit word of a command (accelsim.commands), the last presenting it,
    and nothing overlaps: CMD0..CMD5, FENCES, STATUS, CONSOLE and EXIT are distinct words in the window."""
    assert len(soc_map.COMMAND_REGISTERS) == COMMAND_WORDS == iss_mod.CMD_WORDS
    assert tuple(soc_map.CMD0 + 4 * k for k in range(COMMAND_WORDS)) == soc_map.COMMAND_REGISTERS
    assert soc_map.COMMAND_REGISTERS[-1] == CMD5
    assert len(set(soc_map.REGISTERS)) == len(soc_map.REGISTERS)
    assert all(MMIO_BASE <= r < soc_map.MMIO_END and r % 4 == 0 for r in soc_map.REGISTERS)
