"""A sweep's output folder: the points table as Parquet chunks written atomically, with completion markers
so ``--resume`` redoes exactly the chunks that are missing, and the summary files made from the chunks.

Layout of ``DIR`` (docs/sweep.md)::

    manifest.json               what the results are of (the space's digest, chunk size, chunk count)
    points/part-000000.parquet  the rows of chunk 0 (config ids [0, chunk_configs)), ...
    points/_part-000000.done    its completion marker (rows, bytes); written after the chunk
    pareto.parquet, pareto.csv  the Pareto front per network over the objectives
    summary.json                counts, front sizes, best point per objective and network
    pareto.png, sensitivity.png

A chunk is written to a dot-file and renamed (accelsim.outdir.atomic_write), then its marker is written
the same way: a killed sweep leaves only whole chunk files, and ``pyarrow.parquet.read_table("DIR/points")``
(or ``pandas.read_parquet``) reads them, skipping markers and temporaries (names starting with ``_`` or
``.``).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accelsim.arch import Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.outdir import atomic_write
from accelsim.sweep.pareto import front_mask
from accelsim.sweep.space import Space

MANIFEST_VERSION = 1
SCATTER_POINTS = 20_000  # points drawn grey in pareto.png (every k-th configuration)


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, data, what="sweep output file")


def to_arrow(rows: dict[str, np.ndarray]):
    import pyarrow as pa

    return pa.table({k: pa.array(v) for k, v in rows.items()})


class Store:
    """The output folder of one space. ``resume=False`` needs a new or empty folder; ``resume=True`` needs
    the same space (digest) as the folder's manifest, or a folder without one."""

    def __init__(self, out: str | Path, space: Space, n_chunks: int, *, resume: bool) -> None:
        self.out = Path(out)
        self.points = self.out / "points"
        manifest = {"version": MANIFEST_VERSION, "space_digest": space.digest,
                    "chunk_configs": space.chunk_configs, "chunks": n_chunks, "configs": space.size}
        path = self.out / "manifest.json"
        if path.exists():
            require(resume, "--out", "a new or empty folder (or pass --resume to continue the sweep there)",
                    str(self.out))
            try:
                old = json.loads(path.read_text())
            except (OSError, ValueError):
                raise AccelsimError(f"{path} must be a readable manifest, not corrupt") from None
            require(old == manifest, "--resume", f"given the space that {path} was written for "
                    f"(digest {old.get('space_digest')})", space.digest)
        else:
            require(not self.out.exists() or (self.out.is_dir() and not any(self.out.iterdir())) or resume,
                    "--out", "a new or empty folder", str(self.out))
            self.points.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, (json.dumps(manifest, indent=1) + "\n").encode())
        self.points.mkdir(parents=True, exist_ok=True)

    def chunk_path(self, index: int) -> Path:
        return self.points / f"part-{index:06d}.parquet"

    def marker_path(self, index: int) -> Path:
        return self.points / f"_part-{index:06d}.done"

    def is_done(self, index: int) -> bool:
        """The chunk's marker exists and its file has the size the marker recorded."""
        try:
            marker = json.loads(self.marker_path(index).read_text())
            return self.chunk_path(index).stat().st_size == marker["bytes"]
        except (OSError, ValueError, KeyError):
            return False

    def write(self, index: int, rows: dict[str, np.ndarray]) -> int:
        """Write chunk ``index`` then its marker; returns its row count."""
        import pyarrow.parquet as pq

        table = to_arrow(rows)
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        data = buf.getvalue()
        _atomic_write(self.chunk_path(index), data)
        marker = {"rows": table.num_rows, "bytes": len(data)}
        _atomic_write(self.marker_path(index), json.dumps(marker).encode())
        return table.num_rows

    def done_paths(self, n_chunks: int) -> list[Path]:
        return [self.chunk_path(i) for i in range(n_chunks) if self.is_done(i)]


@dataclass
class Digest:
    """What one pass over the chunk files gathers: the front per network, the best value of the first
    objective per (network, key, value), a thinned sample for the scatter plot, and counts."""

    objectives: tuple[str, ...]
    keys: tuple[str, ...]
    networks: tuple[str, ...]
    stride: int
    front: dict = field(default_factory=dict)  # network -> pyarrow Table of its front rows
    best: dict = field(default_factory=dict)  # (network, key, value) -> min objectives[0]
    sample: dict = field(default_factory=dict)  # network -> list of (n, 2) arrays
    points: int = 0
    valid: int = 0

    def add(self, table) -> None:
        import pyarrow as pa

        self.points += table.num_rows
        table = table.filter(table["valid"])
        self.valid += table.num_rows
        net_col = table["network"].to_numpy(zero_copy_only=False)
        ids = table["config_id"].to_numpy()
        first = table[self.objectives[0]].to_numpy()
        for net in self.networks:
            sel = net_col == net
            part = table.filter(pa.array(sel))
            merged = pa.concat_tables([self.front[net], part]) if net in self.front else part
            values = np.column_stack([merged[o].to_numpy().astype(np.float64) for o in self.objectives])
            self.front[net] = merged.filter(pa.array(front_mask(values)))
            thin = sel & (ids % self.stride == 0)
            xy = (self.objectives[0], self.objectives[1] if len(self.objectives) > 1 else "pes")
            self.sample.setdefault(net, []).append(np.column_stack([table[c].to_numpy()[thin] for c in xy]))
            for key in self.keys:
                col = table[key].to_numpy(zero_copy_only=False)[sel]
                for value in np.unique(col):
                    best = float(first[sel][col == value].min())
                    slot = (net, key, value.item() if hasattr(value, "item") else value)
                    self.best[slot] = min(best, self.best.get(slot, np.inf))

    def front_table(self):
        """Every network's front, rows sorted by network (space order), objectives, then config_id."""
        import pyarrow as pa

        parts = [self.front[n] for n in self.networks if n in self.front]
        if not parts:
            return None
        table = pa.concat_tables(parts)
        rank = {n: i for i, n in enumerate(self.networks)}
        net_rank = np.array([rank[n] for n in table["network"].to_pylist()])
        cols = [table["config_id"].to_numpy(), *(table[o].to_numpy() for o in self.objectives[::-1]),
                net_rank]
        return table.take(pa.array(np.lexsort(cols)))


def digest_chunks(paths: list[Path], space: Space, objectives: tuple[str, ...]) -> Digest:
    """One pass over the written chunks (one chunk in memory at a time)."""
    import pyarrow.parquet as pq

    stride = max(1, -(-space.size // SCATTER_POINTS))
    d = Digest(objectives=objectives, keys=tuple(k for k, v in zip(space.keys, space.values, strict=True)
                                                    if len(v) > 1),
               networks=tuple(w.name for w in space.workloads), stride=stride)
    for path in paths:
        d.add(pq.read_table(path))
    return d


def write_summary(out: Path, space: Space, d: Digest, n_chunks: int, done: int) -> list[Path]:
    """pareto.parquet, pareto.csv and summary.json from a digest."""
    import pyarrow.parquet as pq

    front = d.front_table()
    paths = []
    if front is not None:
        buf = io.BytesIO()
        pq.write_table(front, buf, compression="zstd")
        _atomic_write(out / "pareto.parquet", buf.getvalue())
        text = io.StringIO()
        w = csv.writer(text, lineterminator="\n")
        w.writerow(front.column_names)
        for row in zip(*(front[c].to_pylist() for c in front.column_names), strict=True):
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])
        _atomic_write(out / "pareto.csv", text.getvalue().encode())
        paths += [out / "pareto.parquet", out / "pareto.csv"]
    networks = {}
    for net in d.networks:
        rows = d.front.get(net)
        entry: dict = {"front_points": 0 if rows is None else rows.num_rows, "best": {}}
        for obj in d.objectives:
            if rows is not None and rows.num_rows:
                vals = rows[obj].to_numpy()
                i = int(np.lexsort((rows["config_id"].to_numpy(), vals))[0])
                entry["best"][obj] = {"value": vals[i].item(), "config_id": int(rows["config_id"][i].as_py())}
        networks[net] = entry
    summary = {
        "space_digest": space.digest, "swept_keys": {k: [_plain(k, x) for x in v] for k, v in
                                                     zip(space.keys, space.values, strict=True)},
        "constraints": dict(space.constraints), "objectives": list(d.objectives),
        "configs": space.size, "feasible_configs": space.feasible_count(),
        "chunks": n_chunks, "chunks_done": done, "points": d.points, "valid_points": d.valid,
        "networks": networks,
    }
    _atomic_write(out / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
    return [*paths, out / "summary.json"]


def _plain(key, value):
    """A swept value as the table shows it (dataflow by name)."""
    return Dataflow.from_code(value).value if key == "dataflow" else value
