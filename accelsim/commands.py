"""The command set and its one 192-bit encoding, shared by the model, the firmware generator and the RTL.

See docs/microarchitecture.md. Every command is one 192-bit word; :data:`FIELDS` gives each field's
(lsb, width). Some fields share bits because no opcode uses both (``m0``/``c0``, ``k0``/``e0``,
``addr2``/``n0``/``e0``); the RTL decoder slices the same table. The host writes a command as
:data:`COMMAND_WORDS` little-endian 32-bit words. LOAD, PRELOAD, COMPUTE and STORE name scratchpad and
accumulator rows (``addr``, ``addr2``, ``acc_addr``: docs, "Command encoding").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from accelsim.errors import require

COMMAND_BITS = 192
COMMAND_WORDS = COMMAND_BITS // 32  # the 32-bit words the host writes per command (CMD0..)


class Op(enum.IntEnum):
    CONFIG = 0
    LOAD = 1
    PRELOAD = 2
    COMPUTE = 3
    STORE = 4
    FENCE = 5


# The opcodes as plain ints, for compilable code (accelsim.jit), which compares against module constants.
OP_CONFIG, OP_LOAD, OP_PRELOAD, OP_COMPUTE, OP_STORE, OP_FENCE = (int(op) for op in Op)


class Unit(enum.IntEnum):
    """The three decoupled units; commands go to the queue of their unit (CONFIG/FENCE to none)."""

    LD = 0
    EX = 1
    ST = 2


UNIT_OF = {Op.LOAD: Unit.LD, Op.PRELOAD: Unit.EX, Op.COMPUTE: Unit.EX, Op.STORE: Unit.ST}


class Operand(enum.IntEnum):
    """What a LOAD reads: the input tensor (to the ifmap spad) or the weights (to the weight spad)."""

    INPUT = 0
    WEIGHT = 1


class ConfigReg(enum.IntEnum):
    """Layer registers written by CONFIG; the value field packs the listed sub-fields, lsb first."""

    SHAPE0 = 0  # N:19 C:20 H:16 W:16
    SHAPE1 = 1  # M:20 R:8 S:8 E:16 F:16
    SHAPE2 = 2  # stride:8 pad:8 Cg:20 Mg:20 K:24
    ADDR = 3  # x_base:32 w_base:32 out_base:32 (byte addresses in DRAM, low 32 bits)
    MODE = 4  # dataflow:2 (0 ws, 1 os, 2 is) requantize:1 shift:5 x/w/out_base_hi:16 (address bits 32-47)


CONFIG_LAYOUT: dict[ConfigReg, tuple[tuple[str, int], ...]] = {
    ConfigReg.SHAPE0: (("N", 19), ("C", 20), ("H", 16), ("W", 16)),
    ConfigReg.SHAPE1: (("M", 20), ("R", 8), ("S", 8), ("E", 16), ("F", 16)),
    ConfigReg.SHAPE2: (("stride", 8), ("pad", 8), ("Cg", 20), ("Mg", 20), ("K", 24)),
    ConfigReg.ADDR: (("x_base", 32), ("w_base", 32), ("out_base", 32)),
    ConfigReg.MODE: (("dataflow", 2), ("requantize", 1), ("shift", 5), ("x_base_hi", 16), ("w_base_hi", 16),
                     ("out_base_hi", 16)),
}
ADDRESS_BITS = 48  # DRAM byte addresses: ADDR holds bits 0-31, MODE bits 32-47

# name -> (lsb, width)
FIELDS: dict[str, tuple[int, int]] = {
    "op": (0, 4),
    "pop_prev": (4, 1),
    "pop_next": (5, 1),
    "push_prev": (6, 1),
    "push_next": (7, 1),
    # LOAD / PRELOAD / COMPUTE / STORE (bits 8 and 9 are unused)
    "accumulate": (10, 1),  # COMPUTE: add to the accumulator (1) or overwrite it (0)
    "operand": (11, 1),  # LOAD: Operand
    "rows": (12, 18),  # LOAD/STORE: rows moved; COMPUTE: stream length T
    "lanes": (30, 11),  # LOAD/STORE: valid lanes per row; PRELOAD: valid reduction rows K_t
    "n0": (41, 19),  # first pixel of the tile (n0, e0, f0)
    "e0": (60, 16),
    "f0": (76, 16),
    "c0": (92, 20),  # first reduction index of the tile (c0, r0, s0); c0 absolute (group offset included)
    "r0": (112, 8),
    "s0": (120, 8),
    "m0": (92, 20),  # weight LOAD, STORE: first output channel (absolute); shares bits with c0
    "k0": (41, 24),  # weight LOAD: first reduction index k; shares bits with n0 and e0
    "addr2": (41, 32),  # OS COMPUTE: first weight-spad row of the stream; shares bits with n0, e0 (and k0)
    "k_rows": (73, 18),  # OS COMPUTE: its tile's valid reduction rows K_t (up to a stream's 2**18 - 1 rows)
    # scratchpad rows (docs: "Command encoding"): LOAD the first destination row of its operand's spad;
    # PRELOAD the stationary tile's first row; COMPUTE the streamed operand's first row (OS: the ifmap's)
    "addr": (128, 32),
    "acc_addr": (160, 32),  # COMPUTE, STORE: the first accumulator row
    # CONFIG
    "reg": (8, 8),
    "value": (16, 96),
}


@dataclass(frozen=True, slots=True)
class Command:
    """One command. Unused fields stay 0; ``pack``/``unpack`` are exact inverses for valid commands."""

    op: Op
    pop_prev: int = 0
    pop_next: int = 0
    push_prev: int = 0
    push_next: int = 0
    accumulate: int = 0
    operand: int = 0
    rows: int = 0
    lanes: int = 0
    n0: int = 0
    e0: int = 0
    f0: int = 0
    c0: int = 0
    r0: int = 0
    s0: int = 0
    m0: int = 0
    k0: int = 0
    addr2: int = 0
    k_rows: int = 0
    addr: int = 0
    acc_addr: int = 0
    reg: int = 0
    value: int = 0

    @property
    def unit(self) -> Unit | None:
        return UNIT_OF.get(self.op)

    def used_fields(self) -> tuple[str, ...]:
        common = ("op", "pop_prev", "pop_next", "push_prev", "push_next")
        if self.op == Op.CONFIG:
            return ("op", "reg", "value")
        if self.op == Op.FENCE:
            return ("op",)
        if self.op == Op.LOAD:
            coords = ("m0", "k0") if self.operand == Operand.WEIGHT else ("n0", "e0", "f0", "c0", "r0", "s0")
            return (*common, "addr", "operand", "rows", "lanes", *coords)
        if self.op == Op.PRELOAD:
            return (*common, "addr", "lanes")
        if self.op == Op.COMPUTE:  # addr2 and k_rows are OS's (the weight stream's row, K_t); 0 in WS/IS
            return (*common, "addr", "addr2", "k_rows", "acc_addr", "accumulate", "rows")
        return (*common, "acc_addr", "rows", "lanes", "n0", "e0", "f0", "m0")  # STORE

    def pack(self) -> int:
        word = 0
        for name in self.used_fields():
            lsb, width = FIELDS[name]
            value = int(getattr(self, name))
            require(0 <= value < (1 << width), f"{self.op.name} field {name}", f"in [0, 2**{width})", value)
            word |= value << lsb
        return word

    def words(self) -> tuple[int, ...]:
        """The :data:`COMMAND_WORDS` 32-bit words the host writes, least significant first."""
        word = self.pack()
        return tuple((word >> (32 * i)) & 0xFFFFFFFF for i in range(COMMAND_WORDS))

    @classmethod
    def unpack(cls, word: int) -> Command:
        op = Op((word >> FIELDS["op"][0]) & 0xF)
        probe = cls(op=op, operand=(word >> FIELDS["operand"][0]) & 1)
        values = {name: (word >> FIELDS[name][0]) & ((1 << FIELDS[name][1]) - 1)
                  for name in probe.used_fields()}
        values["op"] = op
        return cls(**values)


def config_value(reg: ConfigReg, **subfields: int) -> int:
    """Pack CONFIG sub-fields (see :data:`CONFIG_LAYOUT`) into the 96-bit value."""
    value, lsb = 0, 0
    names = set()
    for name, width in CONFIG_LAYOUT[reg]:
        names.add(name)
        v = int(subfields.get(name, 0))
        require(0 <= v < (1 << width), f"CONFIG {reg.name}.{name}", f"in [0, 2**{width})", v)
        value |= v << lsb
        lsb += width
    for name in subfields:
        require(name in names, f"CONFIG {reg.name} field", f"one of {sorted(names)}", name)
    return value


def config_fields(reg: ConfigReg, value: int) -> dict[str, int]:
    out, lsb = {}, 0
    for name, width in CONFIG_LAYOUT[reg]:
        out[name] = (value >> lsb) & ((1 << width) - 1)
        lsb += width
    return out


assert all(lsb + width <= COMMAND_BITS for lsb, width in FIELDS.values())
assert {f.name for f in fields(Command)} == set(FIELDS)
