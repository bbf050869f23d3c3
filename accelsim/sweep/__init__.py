"""Design-space sweeps: a space of configurations x workloads, evaluated by accelsim.batch on a backend
(in-process, a local process pool, Dask), streamed to disk as Parquet chunks, resumable, summarised as a
Pareto front and plots. See docs/sweep.md.

``space`` parses and validates the TOML space, ``execute`` evaluates chunks and runs them on a backend,
``pareto`` finds the non-dominated points, ``store`` writes and resumes the output folder, ``plots`` draws,
``cli`` wires ``accelsim sweep``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accelsim.sweep.execute import Backend, chunk_ranges, evaluate_chunk
from accelsim.sweep.space import Space, load, parse

__all__ = ["Backend", "Space", "SweepResult", "evaluate_chunk", "load", "parse", "run_sweep"]


@dataclass(frozen=True)
class SweepResult:
    out: Path
    chunks: int
    chunks_run: int  # chunks evaluated by this call (the others were on disk already)
    points: int  # rows in the table
    valid_points: int
    front_points: int
    paths: tuple[Path, ...]  # the summary files and plots


def run_sweep(space: Space, out: str | Path, *, backend: Backend | None = None, resume: bool = False,
              objectives: tuple[str, ...] | None = None, progress: bool = False, plots: bool = True,
              max_chunks: int | None = None) -> SweepResult:
    """Evaluate every chunk of ``space`` not already done in ``out``, then write the front, summary and
    plots. The front and summary are kept as chunks finish (accelsim.sweep.digest), starting, on
    ``resume``, from the chunks already on disk. ``max_chunks`` stops after that many new chunks (as an
    interrupted sweep)."""
    from accelsim.sweep.digest import Digest
    from accelsim.sweep.execute import run as run_chunks
    from accelsim.sweep.store import Store, write_summary

    backend = backend or Backend()
    objectives = objectives or space.objectives
    chunks = chunk_ranges(space)
    store = Store(out, space, len(chunks), resume=resume)
    digest = Digest.of(space, objectives)
    done = {c[0] for c in chunks if store.is_done(c[0])}
    for index in sorted(done):
        digest.add(index, store.read(index))
    todo = [c for c in chunks if c[0] not in done][:max_chunks]
    bar = _progress(space, chunks, todo) if progress else None
    run = 0
    try:
        for index, rows in run_chunks(space, todo, backend):
            store.write(index, rows)
            digest.add(index, rows)
            run += 1
            if bar is not None:
                start, stop = chunks[index][1:]
                bar.update(stop - start)
    except BaseException:
        if run == 0:
            store.discard()  # nothing finished: leave --out as it was found, so the command can be rerun
        raise
    if bar is not None:
        bar.close()
    written = write_summary(store.out, space, digest, len(chunks), len(done) + run)
    if plots:
        from accelsim.sweep.plots import write_plots

        written += write_plots(store.out, digest)
    front = sum(t.num_rows for t in digest.front.values())
    return SweepResult(out=store.out, chunks=len(chunks), chunks_run=run, points=digest.points,
                       valid_points=digest.valid, front_points=front, paths=tuple(written))


def _progress(space: Space, chunks, todo):
    from tqdm import tqdm

    done = space.size - sum(stop - start for _, start, stop in todo)
    layers = sum(len(w.layer_shape) for w in space.workloads)
    return tqdm(total=space.size, initial=done, unit="cfg", unit_scale=True, dynamic_ncols=True,
                desc=f"sweep ({layers} layers/config)", smoothing=0.1)
