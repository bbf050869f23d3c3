"""accel.h's encoders, compiled for the host and run on the ISS, write the same 192-bit words as
accelsim.commands for random field values of every command; the headers are generated, never stale."""

from __future__ import annotations

import re
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.commands import FIELDS, Command, ConfigReg, Op, Operand
from accelsim.host import soc_map
from accelsim.host.header import accel_fields_h, soc_h
from accelsim.host.iss import Iss

CASE_FIELDS = ("kind", "deps", "addr", "addr2", "k_rows", "acc_addr", "accumulate", "rows", "lanes", "n0",
               "e0", "f0", "c0", "r0", "s0", "m0", "k0", "reg", "v0", "v1", "v2")
KINDS = ("config", "load_input", "load_weight", "preload", "compute", "store", "fence")  # encode.c's enum
MAX_CASES = 64
DEPS = ("pop_prev", "pop_next", "push_prev", "push_next")


def field(name):
    return st.integers(0, (1 << FIELDS[name][1]) - 1)


@st.composite
def commands(draw):
    kind = draw(st.sampled_from(KINDS))
    deps = {name: draw(st.integers(0, 1)) for name in DEPS}
    names = ("addr", "addr2", "k_rows", "acc_addr", "accumulate", "rows", "lanes", "n0", "e0", "f0", "c0",
             "r0", "s0", "m0", "k0")
    f = {name: draw(field(name)) for name in names}
    if kind == "config":
        return Command(Op.CONFIG, reg=draw(st.sampled_from(list(ConfigReg))), value=draw(field("value")))
    if kind == "load_input":
        return Command(Op.LOAD, operand=Operand.INPUT, **deps, **{k: f[k] for k in (
            "addr", "rows", "lanes", "n0", "e0", "f0", "c0", "r0", "s0")})
    if kind == "load_weight":
        return Command(Op.LOAD, operand=Operand.WEIGHT, **deps, **{k: f[k] for k in (
            "addr", "rows", "lanes", "m0", "k0")})
    if kind == "preload":
        return Command(Op.PRELOAD, **deps, addr=f["addr"], lanes=f["lanes"])
    if kind == "compute":
        return Command(Op.COMPUTE, **deps, **{k: f[k] for k in ("addr", "addr2", "k_rows", "acc_addr",
                                                                   "accumulate", "rows")})
    if kind == "store":
        return Command(Op.STORE, **deps, **{k: f[k] for k in ("acc_addr", "rows", "lanes", "n0", "e0", "f0",
                                                                 "m0")})
    return Command(Op.FENCE)


def case(cmd: Command) -> bytes:
    values = {name: getattr(cmd, name, 0) for name in CASE_FIELDS if hasattr(cmd, name)}
    kind = {Op.CONFIG: "config", Op.PRELOAD: "preload", Op.COMPUTE: "compute", Op.STORE: "store",
            Op.FENCE: "fence"}.get(cmd.op)
    if cmd.op == Op.LOAD:
        kind = "load_input" if cmd.operand == Operand.INPUT else "load_weight"
    values["kind"] = KINDS.index(kind)
    values["deps"] = sum(getattr(cmd, name) << i for i, name in enumerate(DEPS))
    values["reg"] = int(cmd.reg)
    values.update(v0=cmd.value & 0xFFFFFFFF, v1=(cmd.value >> 32) & 0xFFFFFFFF, v2=cmd.value >> 64)
    return struct.pack(f"<{len(CASE_FIELDS)}I", *(int(values.get(name, 0)) for name in CASE_FIELDS))


@settings(max_examples=20)
@given(st.lists(commands(), min_size=1, max_size=MAX_CASES))
def test_c_encoders_equal_python_encoding(program_elf, cmds):
    machine = Iss(program_elf("encode"))
    payload = b"".join(case(c) for c in cmds)
    machine.poke("enc_cases", payload + bytes(len(CASE_FIELDS) * 4 * (MAX_CASES - len(cmds))))
    machine.poke("enc_count", struct.pack("<I", len(cmds)))
    r = machine.run(max_cycles=10_000_000)
    assert r.exit_code == 0
    assert r.command_words() == [c.pack() for c in cmds]


def test_headers_carry_every_field_and_register():
    fields = dict(re.findall(r"#define (ACCEL_F_\w+) (\w+)u", accel_fields_h()))
    for name, (lsb, width) in FIELDS.items():
        assert int(fields[f"ACCEL_F_{name.upper()}_LSB"], 0) == lsb
        assert int(fields[f"ACCEL_F_{name.upper()}_WIDTH"], 0) == width
    soc = dict(re.findall(r"#define SOC_(\w+) (\w+)u", soc_h()))
    assert int(soc["CMD5"], 0) == soc_map.CMD5 and int(soc["CPI_DIV"], 0) == soc_map.CPI_DIV
    assert int(soc["RAM_BYTES_DEFAULT"], 0) == soc_map.RAM_BYTES_DEFAULT
