"""accelsim.kernels.autotune: the route measured fastest per shape class and CPU, stored once on disk, and
the fixed rule whenever measuring would not be repeatable. Timings here come from a fake clock."""

import json

import numpy as np
import pytest
from accelsim.kernels import autotune, choose_route, conv2d, rule_route

from accelsim.reference import conv2d as reference

DIMS = (1, 64, 64, 3, 3, 56, 56, 1, 1)  # N M C R S E F groups stride: ResNet-50 conv2_x


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A private cache directory and an empty in-process view of it; measuring switched on."""
    monkeypatch.setenv("ACCELSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("ACCELSIM_KERNEL_ROUTES", "measure")
    monkeypatch.setattr(autotune, "_memory", {})
    monkeypatch.setattr(autotune, "_loaded_from", None)
    monkeypatch.setattr(autotune, "_unwritable", set())
    return tmp_path / autotune.CACHE_NAME


class FakeClock:
    """Kernels that advance a clock by their cost; records every call."""

    def __init__(self, costs):
        self.now, self.calls = 0.0, []
        self.kernels = {name: self._kernel(name, cost) for name, cost in costs.items()}

    def _kernel(self, name, cost):
        def run(x, w, stride, pad, groups, out):
            self.calls.append(name)
            self.now += cost
        return run

    def __call__(self):
        return self.now


def test_the_fastest_route_wins_and_is_measured_once(fresh):
    clock = FakeClock({"direct": 1.0, "im2col": 3.0})
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "direct"
    assert clock.calls.count("direct") == clock.calls.count("im2col") == autotune.REPS + 1
    doc = json.loads(fresh.read_text())
    assert doc["cpus"][autotune.cpu_id()] == {autotune.shape_class(*DIMS, np.float32): "direct"}
    clock.calls.clear()
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "direct"
    assert clock.calls == []  # from memory
    autotune._loaded_from = None
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "direct"
    assert clock.calls == []  # from the file, in a new process


def test_keyed_by_shape_class_dtype_and_cpu(fresh, monkeypatch):
    clock = FakeClock({"direct": 1.0, "im2col": 3.0})
    autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock)
    measured = len(clock.calls)
    autotune.measured_route((1, 64, 64, 3, 3, 55, 57, 1, 1), np.float32, clock.kernels, "x", timer=clock)
    assert len(clock.calls) == measured  # E x F = 3135: the same class as 56 x 56
    autotune.measured_route(DIMS, np.int8, clock.kernels, "igemm", timer=clock)
    autotune.measured_route((1, 64, 64, 3, 3, 14, 14, 1, 1), np.float32, clock.kernels, "x", timer=clock)
    assert len(clock.calls) == 3 * measured
    this_cpu = autotune.cpu_id()
    monkeypatch.setattr(autotune, "cpu_id", lambda: "another CPU")
    monkeypatch.setattr(autotune, "_loaded_from", None)
    autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock)
    assert len(clock.calls) == 4 * measured
    assert set(json.loads(fresh.read_text())["cpus"]) == {this_cpu, "another CPU"}


def test_ties_go_the_same_way_every_time(fresh):
    clock = FakeClock({"im2col": 2.0, "direct": 2.0})
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "direct"


def test_rule_when_asked_or_when_the_cache_cannot_be_written(fresh, monkeypatch):
    clock = FakeClock({"direct": 1.0, "im2col": 3.0})
    monkeypatch.setenv("ACCELSIM_KERNEL_ROUTES", "rule")
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "im2col"
    monkeypatch.setenv("ACCELSIM_KERNEL_ROUTES", "measure")
    monkeypatch.setattr(autotune.os, "access", lambda path, mode: False)  # a read-only cache directory
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "im2col"
    assert clock.calls == [] and not fresh.exists()


def test_rule_when_the_write_fails_after_measuring(fresh, monkeypatch):
    clock = FakeClock({"direct": 1.0, "im2col": 3.0})

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(autotune.os, "replace", full)
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "im2col"
    clock.calls.clear()
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "im2col", timer=clock) == "im2col"
    assert clock.calls == []  # not measured again in this process


@pytest.mark.parametrize("content", [b"not json", b'{"format": 99}', b'{"format": 1, "cpus": []}', b"\xff"])
def test_a_corrupt_cache_is_measured_again_and_rewritten(fresh, content):
    fresh.write_bytes(content)
    clock = FakeClock({"direct": 3.0, "im2col": 1.0})
    assert autotune.measured_route(DIMS, np.float32, clock.kernels, "direct", timer=clock) == "im2col"
    assert json.loads(fresh.read_text())["format"] == 1


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_real_measurement_changes_speed_not_numbers(fresh, dtype):
    layer = dict(N=1, M=32, C=32, R=3, S=3, E=12, F=12, groups=1)  # not tiny: measured
    route = choose_route(**layer, dtype=dtype)
    assert route in (("direct", "im2col", "igemm") if dtype == np.int8 else ("direct", "im2col"))
    assert rule_route(**layer, dtype=dtype) in ("igemm", "im2col")
    assert len(json.loads(fresh.read_text())["cpus"][autotune.cpu_id()]) == 1
    rng = np.random.default_rng(1)
    if dtype == np.int8:
        x = rng.integers(-128, 128, (1, 32, 14, 14), dtype=np.int8)
        w = rng.integers(-128, 128, (32, 32, 3, 3), dtype=np.int8)
        np.testing.assert_array_equal(conv2d(x, w), reference(x, w))
    else:
        x = rng.standard_normal((1, 32, 14, 14), dtype=np.float32)
        w = rng.standard_normal((32, 32, 3, 3), dtype=np.float32)
        np.testing.assert_allclose(conv2d(x, w), reference(x, w), rtol=1e-4, atol=1e-4)
