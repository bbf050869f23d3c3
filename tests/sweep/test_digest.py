"""The digest kept as chunks finish equals the one computed from scratch over all the points, whatever the
order and subset of chunks; a fresh sweep never reads its chunk files back; a sweep resumed from any set of
finished chunks writes the same front and summary as an uninterrupted one."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelsim import workloads
from accelsim.layer import ConvLayer
from accelsim.sweep import Backend, load, run_sweep
from accelsim.sweep.digest import Digest
from accelsim.sweep.execute import chunk_ranges, evaluate_chunk
from accelsim.sweep.pareto import front_mask
from accelsim.sweep.space import OBJECTIVES
from accelsim.sweep.store import Store, to_arrow
from tests.sweep.conftest import SPACE


@pytest.fixture(scope="module")
def space(tmp_path_factory):
    """The shared test space (11 chunks of 20 configurations), its rows per chunk computed once."""
    root = tmp_path_factory.mktemp("space")
    layers = (ConvLayer(N=1, M=24, C=16, H=14, W=14, R=3, S=3, stride=1, pad=0, groups=1, name="a"),
              ConvLayer(N=1, M=40, C=24, H=9, W=9, R=1, S=1, stride=2, pad=0, groups=1, name="b"))
    workloads.write_scalesim_csv(layers, root / "tiny.csv")
    (root / "space.toml").write_text(SPACE.format(chunk=20))
    s = load(root / "space.toml")
    return s, {i: evaluate_chunk(s, a, b) for i, a, b in chunk_ranges(s)}


def from_scratch(s, rows, objectives, stride):
    """The digest's contents computed directly from every point at once, the obvious way."""
    valid = rows["valid"]
    front, best, sample = {}, {}, {}
    xy = (objectives[0], objectives[1] if len(objectives) > 1 else "pes")
    for net in (w.name for w in s.workloads):
        sel = valid & (rows["network"] == net)
        mine = {c: v[sel] for c, v in rows.items()}
        keep = front_mask(np.column_stack([mine[o].astype(float) for o in objectives]))
        order = np.argsort(mine["config_id"][keep], kind="stable")
        front[net] = to_arrow({c: v[keep][order] for c, v in mine.items()})
        thin = mine["config_id"] % stride == 0
        sample[net] = np.column_stack([mine[c][thin] for c in xy])
        for key, values in zip(s.keys, s.values, strict=True):
            if len(values) == 1:
                continue
            for value, first in zip(mine[key].tolist(), mine[objectives[0]].tolist(), strict=True):
                best[(net, key, value)] = min(float(first), best.get((net, key, value), np.inf))
    return front, best, sample


chunk_orders = st.permutations(range(11)).flatmap(lambda p: st.integers(1, 11).map(lambda k: p[:k]))
objective_lists = st.lists(st.sampled_from(OBJECTIVES), min_size=1, max_size=3, unique=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=chunk_orders, objectives=objective_lists)
def test_incremental_digest_equals_from_scratch(space, order, objectives):
    s, per_chunk = space
    d = Digest.of(s, tuple(objectives))
    for i in order:
        d.add(i, per_chunk[i])
    everything = {c: np.concatenate([per_chunk[i][c] for i in sorted(order)]) for c in per_chunk[0]}
    front, best, sample = from_scratch(s, everything, tuple(objectives), d.stride)
    assert d.points == everything["valid"].size and d.valid == everything["valid"].sum()
    got = d.front
    assert got.keys() == front.keys()
    for net in front:
        assert got[net].equals(front[net]), net
        assert np.array_equal(np.concatenate(d.sample[net]), sample[net])
    assert d.best == best
    in_order = Digest.of(s, tuple(objectives))
    for i in sorted(order):
        in_order.add(i, per_chunk[i])
    assert d.front_table().equals(in_order.front_table())


def test_a_fresh_sweep_never_reads_its_chunks_back(space, tmp_path, monkeypatch):
    s, _ = space

    def refuse(self, index):
        raise AssertionError(f"chunk {index} read back")

    monkeypatch.setattr(Store, "read", refuse)
    res = run_sweep(s, tmp_path / "o", backend=Backend("pool", workers=2), plots=False)
    assert res.chunks_run == 11 and res.front_points > 0


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sets(st.integers(0, 10), max_size=10))
def test_resume_from_any_finished_chunks_equals_uninterrupted(space, tmp_path_factory, first):
    """Chunks ``first`` finished before the kill (any subset, in any order); the resumed sweep (pool of 2:
    completion order) writes the uninterrupted sweep's front, summary and plots byte for byte."""
    s, per_chunk = space
    tmp = tmp_path_factory.mktemp("resume")
    whole = run_sweep(s, tmp / "whole", backend=Backend("inprocess")).out
    store = Store(tmp / "part", s, len(per_chunk), resume=False)
    for i in first:
        store.write(i, per_chunk[i])
    res = run_sweep(s, tmp / "part", backend=Backend("pool", workers=2), resume=True)
    assert res.chunks_run == 11 - len(first)
    for name in ("pareto.parquet", "pareto.csv", "summary.json", "pareto.png", "sensitivity.png"):
        assert (res.out / name).read_bytes() == (whole / name).read_bytes(), name
    assert pq.read_table(res.out / "points").num_rows == res.points
