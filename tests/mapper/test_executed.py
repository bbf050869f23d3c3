"""Searched mappings executed: the mapper's command streams, decoded from the 192-bit encoding, run on the
executed-mapping checker (accelsim.executed: flat addressable memories filled with garbage) give the
reference convolution bit for bit and exactly the traffic the model predicts for the nest; the fixed
lowering's nest emits accelsim.mapping.program's stream word for word (addresses included)."""

from __future__ import annotations

from hypothesis import given, settings

from accelsim import mapping
from accelsim.errors import AccelsimError
from accelsim.executed import execute_mapping
from accelsim.mapper.nest import LoopNest, commands, traffic
from accelsim.reference import conv2d_numpy
from tests.mapper.conftest import mapped_cases
from tests.strategies import archs, layers, operands


@settings(max_examples=120)
@given(layers(max_c=12, max_m=12), archs(max_dim=6, pe_dot_widths=(1, 2, 4)))
def test_fixed_nest_emits_the_fixed_program(layer, arch):
    try:
        m = mapping.lower(layer, arch)
    except AccelsimError:
        return
    got = [c.pack() for c in commands(layer, arch, LoopNest.fixed(layer, arch))]
    assert got == [c.pack() for c in mapping.program(m)]


@settings(max_examples=150)
@given(mapped_cases())
def test_searched_space_executes_exactly(case):
    layer, arch, nest = case
    a = nest.arch(arch)
    x, w = operands(layer, "int8", seed=7)
    out, counts = execute_mapping(x, w, mapping.lower(layer, a), a, commands=commands(layer, arch, nest))
    assert (out == conv2d_numpy(x, w, stride=layer.stride, pad=layer.pad, groups=layer.groups)).all()
    assert counts.traffic() == traffic(layer, nest)
    assert counts.macs == layer.macs
