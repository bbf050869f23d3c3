"""Evaluate a chunk of a space, and run chunks on a backend: in-process, a local process pool, or Dask.

:func:`evaluate_chunk` is the one function every backend runs: a pure function of (space, config-id range)
that calls :func:`accelsim.batch.evaluate` once per workload over (distinct layer shapes x configurations)
and sums each network's layers in the order :func:`accelsim.sim.simulate_network` does, so a row equals
that network's totals bit for bit and every backend returns the same bytes. Backends only decide where the
function runs; the caller writes what comes back (workers of a cluster need not share a file system).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from accelsim.arch import Dataflow
from accelsim.batch import ENERGY_FIELDS, INT_COLUMNS, evaluate
from accelsim.closed_form import ARCH_FIELDS
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapper.search import MAPPERS
from accelsim.sim import HOSTS
from accelsim.sweep.space import SWEEP_KEYS, Space, area_of, config

# Columns of the points table, in order (dataflow as its name; network totals as NetworkTotals names them).
COLUMNS = ("config_id", "network", *SWEEP_KEYS, "pes", "macs_per_cycle", "sram_kib", "area", "valid",
           "cycles", "time_us", "utilization", "energy_pj", "macs", "dram_read_bytes", "dram_write_bytes",
           "dram_bytes", "commands", "closed_form_layers")
DATAFLOW_NAMES = np.array([Dataflow.from_code(c).value for c in range(3)])
HOST_NAMES = np.array(HOSTS)
MAPPER_NAMES = np.array(MAPPERS)
DASK_CONNECT_TIMEOUT_S = 5
# accelsim.batch result columns a network row sums over its layers (valid first, cycles second)
SUMMED = [INT_COLUMNS.index(c) for c in ("valid", "cycles", "macs", "dram_read_bytes", "dram_write_bytes",
                                         "commands", "closed_form")]


def evaluate_chunk(space: Space, start: int, stop: int) -> dict[str, np.ndarray]:
    """The table rows (COLUMNS -> arrays) of the feasible configurations ``start <= config_id < stop``, per
    configuration every workload in order. Invalid points (a layer whose tiles cannot fit) have
    ``valid = False``, zero counts and NaN times, utilization and energy."""
    cfg = space.configs(start, stop)
    n = cfg["config_id"].size
    arch = {k: cfg[k][None, :] for k in ARCH_FIELDS}
    arch.update({k: getattr(space.base.energy, k) for k in ENERGY_FIELDS})
    pes = cfg["array_rows"] * cfg["array_cols"]
    macs_per_cycle = pes * cfg["pe_dot_width"]
    per_network = []
    for w in space.workloads:
        ev = evaluate({k: v[:, None] for k, v in w.shapes.items()}, arch)
        if cfg["host"].any():
            _host_in_the_loop(space, w, cfg, ev)
        if cfg["mapper"].any():
            _mapper_search(space, w, cfg, ev)
        uses = np.bincount(w.layer_shape, minlength=len(ev.ints))  # layers of each shape (every shape > 0)
        valid = ev["valid"].all(axis=0)
        sums = np.einsum("s,snc->nc", uses, ev.ints)[:, SUMMED]  # integer sums over the layers: exact
        sums[~valid] = 0
        shape_time_us = ev["cycles"] / cfg["clock_mhz"]
        energy = np.zeros(n)
        time_us = np.zeros(n)
        for j in w.layer_shape:  # left to right, as simulate_network's sum() over its layers
            energy = energy + ev.energy_pj[j]
            time_us = time_us + shape_time_us[j]
        cycles, macs, dram_read, dram_write, commands, closed = (sums[:, c] for c in range(1, len(SUMMED)))
        with np.errstate(divide="ignore", invalid="ignore"):
            utilization = np.where(valid, macs / (macs_per_cycle * cycles), np.nan)
        per_network.append({
            "valid": valid, "cycles": cycles, "time_us": np.where(valid, time_us, np.nan),
            "utilization": utilization, "energy_pj": np.where(valid, energy, np.nan), "macs": macs,
            "dram_read_bytes": dram_read, "dram_write_bytes": dram_write,
            "dram_bytes": dram_read + dram_write, "commands": commands, "closed_form_layers": closed,
        })
    k = len(space.workloads)
    out = {key: np.repeat(cfg[key], k) for key in ("config_id", *SWEEP_KEYS)}
    out["dataflow"] = DATAFLOW_NAMES[out["dataflow"]]
    out["host"] = HOST_NAMES[out["host"]]
    out["mapper"] = MAPPER_NAMES[out["mapper"]]
    out["network"] = np.tile(np.array([w.name for w in space.workloads]), n)
    out["pes"] = np.repeat(pes, k)
    out["macs_per_cycle"] = np.repeat(macs_per_cycle, k)
    out["area"] = np.repeat(area_of(cfg), k)
    out["sram_kib"] = np.repeat(cfg["ifmap_spad_kib"] + cfg["weight_spad_kib"] + cfg["acc_kib"], k)
    for col in per_network[0] if per_network else ():
        out[col] = np.stack([p[col] for p in per_network], axis=1).reshape(-1)  # config-major
    return {c: out[c] for c in COLUMNS}


def _host_in_the_loop(space: Space, w, cfg: dict[str, np.ndarray], ev) -> None:
    """Overwrite, in ``ev``, the points of the configurations whose host is ``riscv`` with what
    :func:`accelsim.sim.simulate_network` reports for them with ``host="riscv"`` (the firmware on the
    instruction-level host model, per distinct (shape, configuration); milliseconds each). Points
    whose tiles do not fit stay invalid."""
    from accelsim.sim import _simulate_shape_riscv

    _replace_points(space, w, cfg, ev, "host", lambda layer, arch: _simulate_shape_riscv(layer, arch, None))


def _mapper_search(space: Space, w, cfg: dict[str, np.ndarray], ev) -> None:
    """Overwrite, in ``ev``, the points of the configurations whose mapper is ``search`` with each distinct
    layer's searched mapping (accelsim.mapper.search, objective EDP in the configuration's dataflow: what
    `simulate --mapper search` reports). Points whose tiles do not fit stay invalid."""
    from accelsim.mapper.search import search

    _replace_points(space, w, cfg, ev, "mapper", lambda layer, arch: search(layer, arch).result)


def _replace_points(space: Space, w, cfg: dict[str, np.ndarray], ev, key: str, simulate) -> None:
    """Overwrite the valid points of the configurations whose ``key`` is non-zero (not the default mode)
    with ``simulate(layer, arch)``'s LayerResult, per distinct shape."""
    cols = [INT_COLUMNS.index(c) for c in ("closed_form", "cycles", "commands", "macs", "dram_read_bytes",
                                          "dram_write_bytes")]
    layers = [ConvLayer(**{k: int(v[s]) for k, v in w.shapes.items()}) for s in range(len(w.shapes["N"]))]
    for j in np.flatnonzero(cfg[key]):
        arch = config(space, {k: cfg[k][j] for k in ("config_id", *SWEEP_KEYS)})
        for s, layer in enumerate(layers):
            if ev.ints[s, j, INT_COLUMNS.index("valid")]:
                r = simulate(layer, arch)
                ev.ints[s, j, cols] = (0, r.cycles, r.commands, r.macs, r.dram_read_bytes, r.dram_write_bytes)
                ev.energy_pj[s, j] = r.energy_pj


def chunk_ranges(space: Space) -> list[tuple[int, int, int]]:
    """(index, start, stop) of every chunk of ``space.chunk_configs`` configuration ids."""
    step = space.chunk_configs
    return [(i, start, min(start + step, space.size)) for i, start in enumerate(range(0, space.size, step))]


@dataclass(frozen=True)
class Backend:
    """Where chunks run: ``inprocess``; ``pool`` (``workers`` processes); ``dask`` at ``address`` (a
    scheduler ``tcp://host:port``, or ``local`` for a LocalCluster of ``workers`` processes)."""

    kind: str = "pool"
    workers: int = 0  # 0: every core
    address: str = ""

    def __post_init__(self) -> None:
        kinds = ("inprocess", "pool", "dask")
        require(self.kind in kinds, "backend", f"one of {', '.join(kinds)}", self.kind)
        require(self.workers >= 0, "--workers", "a non-negative integer", self.workers)

    @property
    def n_workers(self) -> int:
        return self.workers or os.cpu_count() or 1


def run(space: Space, chunks: Iterable[tuple[int, int, int]], backend: Backend
        ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(index, rows) of every chunk, in completion order; at most a few chunks per worker in flight, so
    memory stays bounded whatever the space's size."""
    chunks = list(chunks)
    if backend.kind == "inprocess" or (backend.kind == "pool" and backend.n_workers == 1):
        for index, start, stop in chunks:
            yield index, evaluate_chunk(space, start, stop)
    elif backend.kind == "pool":
        yield from _run_pool(space, chunks, backend.n_workers)
    else:
        yield from _run_dask(space, chunks, backend)


def _run_pool(space, chunks, workers):
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    todo = iter(chunks)
    # fork: workers start with the parent's imports and loaded machine code (spawn reloads both, ~1 s each)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_end_with_parent) as pool:
        pending = {}
        while True:
            while len(pending) < 2 * workers:
                item = next(todo, None)
                if item is None:
                    break
                pending[pool.submit(evaluate_chunk, space, item[1], item[2])] = item[0]
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=pending.get):
                yield pending.pop(fut), fut.result()


def _end_with_parent() -> None:
    """A pool worker gets SIGTERM when the sweep's process dies (Linux prctl PR_SET_PDEATHSIG), so a killed
    sweep leaves no idle workers behind; elsewhere a no-op."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def dask_client(backend: Backend):
    """A distributed.Client for ``backend`` (LocalCluster for ``local``); one-line errors when Dask is
    missing or the scheduler does not answer within DASK_CONNECT_TIMEOUT_S."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise AccelsimError("--dask must have Dask installed (pip install 'accelsim[sweep]'), not missing"
                            ) from None
    if backend.address == "local":
        cluster = LocalCluster(n_workers=backend.n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    require(backend.address.startswith(("tcp://", "tls://", "ws://", "wss://", "inproc://")), "--dask",
            "'local' or a scheduler address such as tcp://host:8786", backend.address)
    try:
        return Client(backend.address, timeout=DASK_CONNECT_TIMEOUT_S), None
    except (OSError, TimeoutError) as err:
        raise AccelsimError(f"--dask scheduler must be reachable within {DASK_CONNECT_TIMEOUT_S} s, not "
                            f"{backend.address!r} ({type(err).__name__})") from None


def _run_dask(space, chunks, backend):
    client, cluster = dask_client(backend)  # first: its one-line error when Dask is missing
    try:
        from distributed import as_completed

        workers = max(1, len(client.scheduler_info().get("workers", {})) or backend.n_workers)
        shared = client.scatter(space, broadcast=True)
        todo = iter(chunks)
        index_of = {}

        def submit():
            item = next(todo, None)
            if item is None:
                return None
            fut = client.submit(evaluate_chunk, shared, item[1], item[2], pure=False)
            index_of[fut.key] = item[0]
            return fut

        first = [f for f in (submit() for _ in range(2 * workers)) if f is not None]
        queue = as_completed(first)
        for fut in queue:
            rows = fut.result()
            yield index_of.pop(fut.key), rows
            fut.release()
            nxt = submit()
            if nxt is not None:
                queue.add(nxt)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
