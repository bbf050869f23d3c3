"""Shared test settings: hypothesis profiles (derandomized in CI; no deadline because Numba compiles), and
the kernels' fixed route rule instead of routes measured on this machine (results must not depend on timings;
tests/kernels/test_autotune.py tests the measuring)."""

import os

os.environ.setdefault("ACCELSIM_KERNEL_ROUTES", "rule")

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.json from the current code instead of checking against it")
