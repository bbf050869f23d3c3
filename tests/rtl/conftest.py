"""Fixtures shared by the RTL tests."""

import pytest


@pytest.fixture(scope="session")
def soc_builds(tmp_path_factory):
    """One build directory for every SoC simulation of the session: equal SoC configurations (the SoC tests'
    2x2 accelerator, the firmware-driven co-simulation's) share one simulator build."""
    return tmp_path_factory.mktemp("soc-builds")
