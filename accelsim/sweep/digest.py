"""What a sweep keeps of its points while they stream to disk: the Pareto front per network, the best value
of the first objective per (network, swept key, value), a thinned sample for the scatter plot, and counts.

A :class:`Digest` takes chunks (table rows, COLUMNS -> arrays) as they finish, in any order, and holds only
small state: each network's front so far (the front of a union is the front of the union of the fronts,
accelsim.sweep.pareto), a minimum per (network, key, value), and every ``stride``-th configuration's point.
So a sweep never reads its chunk files back, memory does not grow with the sweep, and the result does not
depend on the order chunks arrive in (a pool's completion order, a resumed sweep's chunks read from disk
first): fronts come out sorted by ``config_id`` and samples in chunk order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accelsim.sweep.pareto import front_mask
from accelsim.sweep.space import Space
from accelsim.sweep.store import _plain, to_arrow

SCATTER_POINTS = 20_000  # points drawn grey in pareto.png (every k-th configuration)


@dataclass
class Digest:
    objectives: tuple[str, ...]
    networks: tuple[str, ...]
    stride: int  # configurations with config_id % stride == 0 go into the sample
    radix: tuple[int, ...]  # values per swept key of the space (config_id is a mixed-radix number)
    key_pos: tuple[int, ...]  # digit of each key of ``keys`` in config_id
    key_labels: tuple[tuple, ...]  # each key's values as the table shows them
    keys: tuple[str, ...]  # the swept keys with more than one value
    points: int = 0
    valid: int = 0
    _front: dict = field(default_factory=dict)  # network -> COLUMNS -> array (its front so far)
    _best: dict = field(default_factory=dict)  # network -> per key: (min objectives[0], seen) by value
    _sample: dict = field(default_factory=dict)  # network -> chunk index -> (n, 2) array

    @classmethod
    def of(cls, space: Space, objectives: tuple[str, ...]) -> Digest:
        pos = tuple(i for i, v in enumerate(space.values) if len(v) > 1)
        labels = tuple(tuple(_plain(space.keys[i], x.item()) for x in np.asarray(space.values[i]))
                       for i in pos)
        return cls(objectives=tuple(objectives), networks=tuple(w.name for w in space.workloads),
                   stride=max(1, -(-space.size // SCATTER_POINTS)), radix=tuple(len(v) for v in space.values),
                   key_pos=pos, key_labels=labels, keys=tuple(space.keys[i] for i in pos))

    def add(self, index: int, rows: dict[str, np.ndarray]) -> None:
        """Fold in chunk ``index``'s rows (once per chunk; chunks in any order)."""
        valid = rows["valid"].astype(bool)
        self.points += valid.size
        self.valid += int(valid.sum())
        ids = rows["config_id"]
        digits = np.unravel_index(ids, self.radix) if self.key_pos else ()
        net_col = rows["network"]
        xy = (self.objectives[0], self.objectives[1] if len(self.objectives) > 1 else "pes")
        for net in self.networks:
            sel = valid & (net_col == net)
            part = {c: v[sel] for c, v in rows.items()}
            old = self._front.get(net)
            merged = part if old is None else {c: np.concatenate((old[c], v)) for c, v in part.items()}
            values = np.column_stack([merged[o].astype(np.float64) for o in self.objectives])
            keep = front_mask(values)
            self._front[net] = {c: v[keep] for c, v in merged.items()}
            thin = part["config_id"] % self.stride == 0
            self._sample.setdefault(net, {})[index] = np.column_stack([part[c][thin] for c in xy])
            first = part[self.objectives[0]].astype(np.float64)
            best = self._best.setdefault(net, [(np.full(len(v), np.inf), np.zeros(len(v), bool))
                                               for v in self.key_labels])
            for (low, seen), p in zip(best, self.key_pos, strict=True):
                digit = digits[p][sel]
                np.minimum.at(low, digit, first)
                seen[digit] = True

    @property
    def front(self) -> dict:
        """network -> pyarrow Table of its front rows, by config_id (every network once a chunk is in)."""
        out = {}
        for net, cols in self._front.items():
            order = np.argsort(cols["config_id"], kind="stable")
            out[net] = to_arrow({c: v[order] for c, v in cols.items()})
        return out

    @property
    def best(self) -> dict:
        """(network, key, value) -> the least ``objectives[0]`` of a valid point with that value."""
        out = {}
        for net, per_key in self._best.items():
            for key, labels, (low, seen) in zip(self.keys, self.key_labels, per_key, strict=True):
                for j in np.flatnonzero(seen):
                    out[(net, key, labels[j])] = float(low[j])
        return out

    @property
    def sample(self) -> dict:
        """network -> the sampled (x, y) arrays, one per chunk in chunk order."""
        return {net: [per[i] for i in sorted(per)] for net, per in self._sample.items()}

    def front_table(self):
        """Every network's front, rows sorted by network (space order), objectives, then config_id."""
        import pyarrow as pa

        fronts = self.front
        parts = [fronts[n] for n in self.networks if n in fronts]
        if not parts:
            return None
        table = pa.concat_tables(parts)
        rank = {n: i for i, n in enumerate(self.networks)}
        net_rank = np.array([rank[n] for n in table["network"].to_pylist()])
        cols = [table["config_id"].to_numpy(), *(table[o].to_numpy() for o in self.objectives[::-1]),
                net_rank]
        return table.take(pa.array(np.lexsort(cols)))
