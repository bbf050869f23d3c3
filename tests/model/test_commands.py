import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim import AccelsimError
from accelsim.commands import (
    COMMAND_BITS,
    FIELDS,
    Command,
    ConfigReg,
    Op,
    Operand,
    config_fields,
    config_value,
)


@st.composite
def commands(draw):
    op = draw(st.sampled_from(list(Op)))
    probe = Command(op=op, operand=draw(st.sampled_from(list(Operand))))
    values = {name: draw(st.integers(0, (1 << FIELDS[name][1]) - 1)) for name in probe.used_fields()}
    values["op"] = op
    if "operand" in values:
        values["operand"] = probe.operand  # which coordinate fields exist depends on it
    return Command(**values)


@given(commands())
def test_pack_unpack_roundtrip(cmd):
    word = cmd.pack()
    assert 0 <= word < 1 << COMMAND_BITS
    assert Command.unpack(word) == cmd
    assert sum(w << (32 * i) for i, w in enumerate(cmd.words())) == word


def test_field_out_of_range_is_an_error():
    with pytest.raises(AccelsimError, match=r"LOAD field rows must be in \[0, 2\*\*18\), not 262144"):
        Command(Op.LOAD, rows=1 << 18).pack()


def test_config_values_roundtrip():
    v = config_value(ConfigReg.SHAPE1, M=64, R=3, S=3, E=56, F=56)
    assert config_fields(ConfigReg.SHAPE1, v) == {"M": 64, "R": 3, "S": 3, "E": 56, "F": 56}
    with pytest.raises(AccelsimError, match="CONFIG SHAPE1 field must be one of"):
        config_value(ConfigReg.SHAPE1, Q=1)


def test_no_two_fields_of_one_opcode_overlap():
    for op in Op:
        for operand in Operand:
            used = Command(op=op, operand=operand).used_fields()
            bits = [set(range(FIELDS[n][0], sum(FIELDS[n]))) for n in used]
            for i in range(len(bits)):
                for j in range(i + 1, len(bits)):
                    assert not bits[i] & bits[j], (op, used[i], used[j])
