"""Fixtures shared by the RTL tests."""

import pytest

from tests.rtl.layers import shared_build_root


@pytest.fixture(scope="session")
def soc_builds(tmp_path_factory):
    """One build directory for every SoC simulation of the session: equal SoC configurations (the SoC tests'
    2x2 accelerator, the firmware-driven co-simulation's) share one simulator build."""
    return shared_build_root(tmp_path_factory, "soc-builds")

