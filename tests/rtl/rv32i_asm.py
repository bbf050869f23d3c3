"""A tiny two-pass RV32I assembler for the HostCore tests (not a general tool).

Syntax: one instruction per line, ``#`` comments, ``label:`` definitions, registers ``x0``..``x31``,
immediates in any Python integer literal form, memory operands ``imm(xN)``. Branch and JAL targets are
labels or byte offsets. Pseudo-instructions: ``li rd, imm`` (always LUI + ADDI, so code size does not depend
on the value), ``nop``, ``mv rd, rs``, ``j label``, ``halt`` (= ECALL); ``.word value`` emits a raw word.
"""

from __future__ import annotations

import re

R_OPS = {  # funct3, funct7
    "add": (0, 0), "sub": (0, 0x20), "sll": (1, 0), "slt": (2, 0), "sltu": (3, 0), "xor": (4, 0),
    "srl": (5, 0), "sra": (5, 0x20), "or": (6, 0), "and": (7, 0),
}
I_OPS = {"addi": 0, "slti": 2, "sltiu": 3, "xori": 4, "ori": 6, "andi": 7}
SHIFT_OPS = {"slli": (1, 0), "srli": (5, 0), "srai": (5, 0x20)}
LOADS = {"lb": 0, "lh": 1, "lw": 2, "lbu": 4, "lhu": 5}
STORES = {"sb": 0, "sh": 1, "sw": 2}
BRANCHES = {"beq": 0, "bne": 1, "blt": 4, "bge": 5, "bltu": 6, "bgeu": 7}
FIXED = {"ecall": 0x00000073, "ebreak": 0x00100073, "fence": 0x0FF0000F, "halt": 0x00000073,
         "nop": 0x00000013}


def _reg(tok: str) -> int:
    if not re.fullmatch(r"x([0-9]|[12][0-9]|3[01])", tok):
        raise ValueError(f"register must be x0..x31, not {tok!r}")
    return int(tok[1:])


def _imm(tok: str, bits: int, signed: bool = True) -> int:
    value = int(tok, 0)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not lo <= value <= hi:
        raise ValueError(f"immediate must be in [{lo}, {hi}], not {value}")
    return value & ((1 << bits) - 1)


def _mem(tok: str) -> tuple[int, int]:
    match = re.fullmatch(r"(.*)\((x\d+)\)", tok)
    if not match:
        raise ValueError(f"memory operand must be imm(xN), not {tok!r}")
    return _imm(match[1] or "0", 12), _reg(match[2])


def r_type(f7: int, rs2: int, rs1: int, f3: int, rd: int, opcode: int) -> int:
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode


def i_type(imm: int, rs1: int, f3: int, rd: int, opcode: int) -> int:
    return (imm & 0xFFF) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opcode


def s_type(imm: int, rs2: int, rs1: int, f3: int) -> int:
    return (imm >> 5 & 0x7F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1F) << 7 | 0b0100011


def b_type(off: int, rs2: int, rs1: int, f3: int) -> int:
    return ((off >> 12 & 1) << 31 | (off >> 5 & 0x3F) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12
            | (off >> 1 & 0xF) << 8 | (off >> 11 & 1) << 7 | 0b1100011)


def j_type(off: int, rd: int) -> int:
    return ((off >> 20 & 1) << 31 | (off >> 1 & 0x3FF) << 21 | (off >> 11 & 1) << 20
            | (off >> 12 & 0xFF) << 12 | rd << 7 | 0b1101111)


def _split(src: str) -> list[tuple[str | None, str, list[str]]]:
    """(label, mnemonic, operands) per line; label-only lines have an empty mnemonic."""
    out = []
    for raw in src.splitlines():
        line = raw.split("#", 1)[0].strip()
        while ":" in line:
            label, line = line.split(":", 1)
            out.append((label.strip(), "", []))
            line = line.strip()
        if line:
            mnem, _, rest = line.partition(" ")
            ops = [t.strip() for t in rest.split(",")] if rest.strip() else []
            out.append((None, mnem.lower(), ops))
    return out


def _size(mnem: str) -> int:
    return 8 if mnem == "li" else 4


def assemble(src: str) -> list[int]:
    """Assemble ``src`` (loaded at address 0) into 32-bit instruction words."""
    lines = _split(src)
    labels: dict[str, int] = {}
    pc = 0
    for label, mnem, _ in lines:
        if label is not None:
            if label in labels:
                raise ValueError(f"label must be defined once, not twice: {label!r}")
            labels[label] = pc
        else:
            pc += _size(mnem)
    words: list[int] = []
    for label, mnem, ops in lines:
        if label is None:
            words.extend(_encode(mnem, ops, 4 * len(words), labels))
    return words


def _target(tok: str, pc: int, labels: dict[str, int]) -> int:
    return labels[tok] - pc if tok in labels else int(tok, 0)


def _encode(mnem: str, ops: list[str], pc: int, labels: dict[str, int]) -> list[int]:
    if mnem in FIXED:
        return [FIXED[mnem]]
    if mnem == ".word":
        return [_imm(ops[0], 32, signed=False)]
    if mnem in R_OPS:
        f3, f7 = R_OPS[mnem]
        return [r_type(f7, _reg(ops[2]), _reg(ops[1]), f3, _reg(ops[0]), 0b0110011)]
    if mnem in I_OPS:
        return [i_type(_imm(ops[2], 12), _reg(ops[1]), I_OPS[mnem], _reg(ops[0]), 0b0010011)]
    if mnem in SHIFT_OPS:
        f3, f7 = SHIFT_OPS[mnem]
        return [r_type(f7, _imm(ops[2], 5, signed=False), _reg(ops[1]), f3, _reg(ops[0]), 0b0010011)]
    if mnem in LOADS:
        imm, rs1 = _mem(ops[1])
        return [i_type(imm, rs1, LOADS[mnem], _reg(ops[0]), 0b0000011)]
    if mnem in STORES:
        imm, rs1 = _mem(ops[1])
        return [s_type(imm, _reg(ops[0]), rs1, STORES[mnem])]
    if mnem in BRANCHES:
        off = _target(ops[2], pc, labels)
        _imm(str(off), 13)
        return [b_type(off, _reg(ops[1]), _reg(ops[0]), BRANCHES[mnem])]
    if mnem in ("lui", "auipc"):
        opcode = 0b0110111 if mnem == "lui" else 0b0010111
        return [_imm(ops[1], 20, signed=False) << 12 | _reg(ops[0]) << 7 | opcode]
    if mnem in ("jal", "j"):
        rd, tok = (0, ops[0]) if mnem == "j" else (_reg(ops[0]), ops[1])
        off = _target(tok, pc, labels)
        _imm(str(off), 21)
        return [j_type(off, rd)]
    if mnem == "jalr":
        if len(ops) == 2:
            imm, rs1 = _mem(ops[1])
        else:
            imm, rs1 = _imm(ops[2], 12), _reg(ops[1])
        return [i_type(imm, rs1, 0, _reg(ops[0]), 0b1100111)]
    if mnem == "mv":
        return [i_type(0, _reg(ops[1]), 0, _reg(ops[0]), 0b0010011)]
    if mnem == "li":
        value = int(ops[1], 0) & 0xFFFF_FFFF
        lo = value & 0xFFF
        lo -= (lo & 0x800) << 1
        hi = ((value - lo) >> 12) & 0xFFFFF
        rd = _reg(ops[0])
        return [hi << 12 | rd << 7 | 0b0110111, i_type(lo, rd, 0, rd, 0b0010011)]
    raise ValueError(f"mnemonic must be an RV32I instruction this assembler knows, not {mnem!r}")
