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

import contextlib
import csv
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from accelsim.arch import Dataflow
from accelsim.errors import AccelsimError, require
from accelsim.outdir import atomic_write
from accelsim.sweep.space import MODE_KEYS, Space

if TYPE_CHECKING:
    from accelsim.sweep.digest import Digest

MANIFEST_VERSION = 3  # 2: the table has a host column; 3: and a mapper column
STRING_COLUMNS = ("network", "dataflow", "host", "mapper")


def _atomic_write(path: Path, data: bytes) -> None:
    atomic_write(path, data, what="sweep output file")


def to_arrow(rows: dict[str, np.ndarray]):
    import pyarrow as pa

    return pa.table({k: pa.array(v) for k, v in rows.items()})


def from_arrow(table) -> dict[str, np.ndarray]:
    """A table's columns as numpy arrays of the dtypes evaluate_chunk gives (strings as numpy str)."""
    return {c: table[c].to_numpy().astype(str) if c in STRING_COLUMNS else table[c].to_numpy()
            for c in table.column_names}


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
            self._made = [d for d in (self.out, self.points) if not d.exists()]
            self.points.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, (json.dumps(manifest, indent=1) + "\n").encode())
        self.points.mkdir(parents=True, exist_ok=True)

    _made: list[Path] | None = None  # the folders this store created (None: it found a manifest)

    def discard(self) -> None:
        """Undo a store that has written no chunk (a sweep that failed before finishing one, e.g. an
        unreachable Dask scheduler): its manifest and the folders it made go, so the same command can be run
        again. A store that found a manifest (``--resume``), or whose folder holds anything else, is kept."""
        if self._made is None or any(self.points.iterdir()):
            return
        (self.out / "manifest.json").unlink(missing_ok=True)
        for d in reversed(self._made):
            with contextlib.suppress(OSError):
                d.rmdir()

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

    def read(self, index: int) -> dict[str, np.ndarray]:
        """Chunk ``index``'s rows as :func:`accelsim.sweep.execute.evaluate_chunk` returned them."""
        import pyarrow.parquet as pq

        return from_arrow(pq.read_table(self.chunk_path(index)))


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
    """A swept value as the table shows it (dataflow, host and mapper by name)."""
    if key in MODE_KEYS:
        return MODE_KEYS[key][value]
    return Dataflow.from_code(value).value if key == "dataflow" else value
