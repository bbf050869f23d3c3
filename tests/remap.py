"""A layer's fixed program with its tiles placed elsewhere: the test of addressable scratchpads.

:func:`remapped` moves every slot of :func:`accelsim.mapping.slot_rows` to other legal rows of its memory (the
memories of an RTL build of the arch's dataflow, :func:`accelsim.mapping.built_buffers`): buffer 0 goes to the
top of the memory and buffer 1 to a V-aligned row part-way up the free space (a different fraction per
memory), so the two buffers swap places and neither starts where the fixed lowering put it. Only ``addr``,
``addr2`` and ``acc_addr`` change: a machine that ignored them, or read them as buffer indices, computes
wrong outputs.
"""

from __future__ import annotations

from dataclasses import replace

from accelsim.arch import ArchConfig, Dataflow
from accelsim.commands import Command, Op, Operand
from accelsim.mapping import BUFFERS, Mapping, built_buffers, slot_rows

FRACTION = {"ifmap": (1, 3), "weight": (2, 3), "acc": (1, 2)}  # where buffer 1 goes in the free rows


def memory_rows(arch: ArchConfig) -> dict[str, int]:
    """Rows of each memory of an RTL build of ``arch``'s dataflow (what accelsim.executed models)."""
    _, _, ifmap, weight, acc = map(int, built_buffers(
        (arch.dataflow.code,), arch.array_rows, arch.array_cols, arch.pe_dot_width, arch.ifmap_spad_kib,
        arch.weight_spad_kib, arch.acc_kib))
    return {"ifmap": BUFFERS * ifmap, "weight": BUFFERS * weight, "acc": BUFFERS * acc}


def new_bases(total: int, slot: int, align: int, fraction: tuple[int, int]) -> tuple[int, int]:
    """(buffer 0's new first row, buffer 1's): buffer 0 at the top, buffer 1 ``fraction`` up the rows the
    two slots leave free, both multiples of ``align`` and disjoint."""
    free = total - BUFFERS * slot
    assert free >= 0 and total % align == 0 and slot % align == 0, (total, slot, align)
    return total - slot, free * fraction[0] // fraction[1] // align * align


def remapped(m: Mapping, arch: ArchConfig, prog: list[Command]) -> list[Command]:
    """``prog`` (:func:`accelsim.mapping.program` of ``m``) with every row address moved (module doc)."""
    V = m.pe_dot_width
    totals = memory_rows(arch)
    slots = dict(zip(("ifmap", "weight", "acc"), slot_rows(m), strict=True))
    bases = {name: new_bases(totals[name], slots[name], 1 if name == "acc" else V, FRACTION[name])
             for name in slots}

    def move(name: str, row: int) -> int:
        b, offset = divmod(row, slots[name])
        assert b < BUFFERS, (name, row, slots[name])
        return bases[name][b] + offset

    is_is, is_os = m.dataflow is Dataflow.IS, m.dataflow is Dataflow.OS
    out = []
    for c in prog:
        if c.op == Op.LOAD:
            c = replace(c, addr=move("weight" if c.operand == Operand.WEIGHT else "ifmap", c.addr))
        elif c.op == Op.PRELOAD:
            c = replace(c, addr=move("ifmap" if is_is else "weight", c.addr))
        elif c.op == Op.COMPUTE:
            c = replace(c, addr=move("weight" if is_is else "ifmap", c.addr),
                        addr2=move("weight", c.addr2) if is_os else 0, acc_addr=move("acc", c.acc_addr))
        elif c.op == Op.STORE:
            c = replace(c, acc_addr=move("acc", c.acc_addr))
        out.append(c)
    return out
