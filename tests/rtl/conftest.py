"""Fixtures and collection rules shared by the RTL tests."""

import pytest

from tests.rtl.layers import campaign_mode, shared_build_root


@pytest.fixture(scope="session")
def soc_builds(tmp_path_factory):
    """One build directory for every SoC simulation of the session: equal SoC configurations (the SoC tests'
    2x2 accelerator, the firmware-driven co-simulation's) share one simulator build."""
    return shared_build_root(tmp_path_factory, "soc-builds")


def pytest_collection_modifyitems(config, items):
    """``full``-marked tests run only with ACCELSIM_CAMPAIGN=full; CI (the default, ``ci``) deselects them,
    as it runs the campaign's fixed sample: they are reported as deselected, never skipped."""
    if campaign_mode() == "full":
        return
    keep = [item for item in items if item.get_closest_marker("full") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("full")])
        items[:] = keep
