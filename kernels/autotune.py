"""Which convolution route is fastest on this machine: measured once per shape class, kept on disk.

The fixed rule of :func:`accelsim.kernels.rule_route` was fitted on one machine; on another (an AMD EPYC
whose BLAS is slower for conv2_x than the direct loops by 3x) it picks the slower route. So for every
layer where the choice is close (not tiny: those always take the direct loops), :func:`measured_route`
times each candidate route once on this machine and remembers the fastest:

- Key: the **shape class** (dtype; dense, grouped or depthwise; stride 1 or more; log2 of the per-group
  output channels ``Mg``, of the reduction length ``Kg`` and of the output pixels ``P = N*E*F``) and the
  **CPU** (model name, core count, machine). Layers of one class run alike on one CPU.
- Measurement: random operands of the first layer seen in the class (batch cut to keep it under ~2**30
  MACs), each candidate run once to compile and warm up, then timed ``REPS`` times in turn; the best time
  of each wins. It happens once per class and CPU, ever: the choice goes to
  ``$ACCELSIM_CACHE_DIR`` (default ``$XDG_CACHE_HOME/accelsim`` or ``~/.cache/accelsim``)
  ``/kernel_routes.json``, written atomically.
- Deterministic fallback: when that file cannot be written (read-only home, full disk) nothing is
  measured and the fixed rule decides, so two runs never pick differently; ``ACCELSIM_KERNEL_ROUTES=rule``
  asks for the rule explicitly (the test suite does, so its results do not depend on timings).

Only speed changes with the route: int8 results are bit-exact on every route; float32 results are those of
the route's accumulation order, within the tolerance :func:`accelsim.kernels.conv2d` states.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from accelsim import inputs, outdir
from accelsim.errors import AccelsimError

REPS = 3
MEASURE_MACS = 1 << 30  # a measurement runs every candidate REPS + 1 times: keep one run under ~a second
CACHE_NAME = "kernel_routes.json"
_FORMAT = 1

_memory: dict[str, str] = {}  # this process's view of the file: key -> route
_loaded_from: Path | None = None
_unwritable: set[Path] = set()


def cache_path() -> Path:
    if os.environ.get("ACCELSIM_CACHE_DIR"):
        return Path(os.environ["ACCELSIM_CACHE_DIR"]) / CACHE_NAME
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "accelsim" / CACHE_NAME


def cpu_id() -> str:
    """The CPU's model name, core count and architecture (a timing from one CPU says nothing of another)."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            names = (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
            model = next(names, model)
    except OSError:
        pass
    return f"{model or 'unknown'} x{os.cpu_count()} {platform.machine()}"


def shape_class(N, M, C, R, S, E, F, groups, stride, dtype) -> str:
    Mg, Kg, P = M // groups, (C // groups) * R * S, N * E * F
    kind = "dense" if groups == 1 else "depthwise" if groups == C == M else "grouped"
    log2 = [max(int(n), 1).bit_length() - 1 for n in (Mg, Kg, P)]  # floor(log2 n)
    return f"{np.dtype(dtype).name} {kind} s{min(int(stride), 2)} Mg2^{log2[0]} Kg2^{log2[1]} P2^{log2[2]}"


def _read(path: Path) -> dict:
    """The cache file's document; a fresh one when it is missing, unreadable or not ours."""
    try:
        doc = json.loads(inputs.read_bytes(path, "kernel route cache", limit=inputs.CONFIG_LIMIT_BYTES))
    except (AccelsimError, ValueError):
        doc = None
    if isinstance(doc, dict) and doc.get("format") == _FORMAT and isinstance(doc.get("cpus"), dict):
        return doc
    return {"format": _FORMAT, "cpus": {}}


def _load(path: Path) -> None:
    global _loaded_from
    if _loaded_from != path:
        _memory.clear()
        _loaded_from = path
        entries = _read(path)["cpus"].get(cpu_id(), {})
        if isinstance(entries, dict):
            _memory.update({k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, str)})


def _writable(path: Path) -> bool:
    if path in _unwritable:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ok = os.access(path.parent, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))
    except OSError:
        ok = False
    if not ok:
        _unwritable.add(path)
    return ok


def _store(path: Path, key: str, route: str) -> bool:
    """Add ``key -> route`` to the file (other CPUs' entries kept); False if it could not be written."""
    doc = _read(path)
    entries = doc["cpus"].get(cpu_id())
    doc["cpus"][cpu_id()] = {**(entries if isinstance(entries, dict) else {}), key: route}
    try:
        outdir.atomic_write(path, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode(),
                            what="kernel route cache")
    except AccelsimError:
        _unwritable.add(path)
        return False
    return True


def time_routes(kernels: dict[str, Callable], shape: tuple[int, ...], dtype, timer=time.perf_counter
                ) -> dict[str, float]:
    """Best wall time of each kernel on random operands of ``shape`` = (N, M, C, H, W, R, S, stride,
    groups): one untimed call each (compiles, warms caches), then REPS timed rounds taking turns."""
    N, M, C, H, W, R, S, stride, groups = shape
    rng = np.random.default_rng(0)
    if np.dtype(dtype) == np.int8:
        x = rng.integers(-128, 128, (N, C, H, W), dtype=np.int8)
        w = rng.integers(-128, 128, (M, C // groups, R, S), dtype=np.int8)
    else:
        x = rng.standard_normal((N, C, H, W), dtype=np.float32)
        w = rng.standard_normal((M, C // groups, R, S), dtype=np.float32)
    E, F = (H - R) // stride + 1, (W - S) // stride + 1
    out = np.empty((N, M, E, F), dtype=np.int32 if x.dtype == np.int8 else np.float32)
    best = dict.fromkeys(kernels, float("inf"))
    for kernel in kernels.values():
        kernel(x, w, stride, 0, groups, out)
    for _ in range(REPS):
        for name, kernel in kernels.items():
            start = timer()
            kernel(x, w, stride, 0, groups, out)
            best[name] = min(best[name], timer() - start)
    return best


def measured_route(dims: tuple[int, ...], dtype, kernels: dict[str, Callable], fallback: str,
                   timer=time.perf_counter) -> str:
    """The fastest of ``kernels`` for layers like ``dims`` = (N, M, C, R, S, E, F, groups, stride) on
    this CPU: from the cache file, else measured now and stored; ``fallback`` (the rule's choice) when
    ACCELSIM_KERNEL_ROUTES=rule or the cache cannot be written."""
    if os.environ.get("ACCELSIM_KERNEL_ROUTES", "measure") == "rule" or len(kernels) < 2:
        return fallback
    path = cache_path()
    _load(path)
    key = shape_class(*dims, dtype)
    if key in _memory and _memory[key] in kernels:
        return _memory[key]
    if not _writable(path):
        return fallback
    N, M, C, R, S, E, F, groups, stride = dims
    N = max(1, min(N, MEASURE_MACS // max(1, M * E * F * (C // groups) * R * S)))
    shape = (N, M, C, (E - 1) * stride + R, (F - 1) * stride + S, R, S, stride, groups)
    times = time_routes(kernels, shape, dtype, timer)
    route = min(sorted(times), key=times.__getitem__)  # ties: alphabetical, the same every run
    if not _store(path, key, route):
        return fallback
    _memory[key] = route
    return route


__all__ = ["cache_path", "cpu_id", "measured_route", "shape_class", "time_routes"]
