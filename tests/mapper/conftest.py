"""Strategies for the mapper's tests: a layer, an architecture, and one nest of its space."""

from __future__ import annotations

from hypothesis import strategies as st

from accelsim.arch import Dataflow
from accelsim.errors import AccelsimError
from accelsim.mapper.search import candidates
from tests.strategies import archs, layers


@st.composite
def mapped_cases(draw, *, pe_dot_widths=(1, 2, 4)):
    """(layer, arch, nest): a small layer, an architecture it fits, and a nest drawn from its space (any
    dataflow)."""
    layer = draw(layers(max_c=12, max_m=12, max_hw=9))
    arch = draw(archs(max_dim=6, pe_dot_widths=pe_dot_widths))
    try:
        space = candidates(layer, arch, tuple(Dataflow))
    except AccelsimError:
        space = []
    if not space:
        from hypothesis import reject

        reject()
    return layer, arch, space[draw(st.integers(0, len(space) - 1))]
