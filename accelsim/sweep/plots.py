"""The sweep's plots: the Pareto scatter and the per-key sensitivity, byte-reproducible (Agg, fixed PNG
metadata, as accelsim.report)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from accelsim.outdir import atomic_write
from accelsim.report import PNG_METADATA
from accelsim.sweep.digest import Digest


def write_plots(out: Path, d: Digest) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    paths = []
    fronts = d.front
    nets = [n for n in d.networks if n in fronts and fronts[n].num_rows]
    if not nets:
        return paths
    x_name, y_name = d.objectives[0], d.objectives[1] if len(d.objectives) > 1 else "pes"
    samples = d.sample
    fig, axes = plt.subplots(1, len(nets), figsize=(4.2 * len(nets), 3.6), squeeze=False)
    for ax, net in zip(axes[0], nets, strict=True):
        sample = np.concatenate(samples[net]) if samples.get(net) else np.zeros((0, 2))
        ax.scatter(sample[:, 0], sample[:, 1], s=4, c="0.7", linewidths=0,
                   label=f"points (every {d.stride})" if d.stride > 1 else "points")
        front = fronts[net]
        fx, fy = front[x_name].to_numpy(), front[y_name].to_numpy()
        order = np.lexsort((fy, fx))
        ax.step(fx[order], fy[order], where="post", c="tab:red", lw=1)
        ax.scatter(fx, fy, s=12, c="tab:red", label=f"Pareto front ({front.num_rows})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        ax.set_title(net)
        ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(_png(fig, out / "pareto.png"))

    if d.keys:
        cols = min(3, len(d.keys))
        rows = -(-len(d.keys) // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 3.0 * rows), squeeze=False)
        for ax, key in zip(axes.flat, d.keys, strict=False):
            for net in nets:
                items = sorted((v, b) for (n, k, v), b in d.best.items() if n == net and k == key)
                overall = min(b for _, b in items)
                ax.plot([str(v) for v, _ in items], [b / overall for _, b in items], marker="o", label=net)
            ax.set_xlabel(key)
            ax.set_ylabel(f"best {x_name} / overall best")
            ax.tick_params(axis="x", labelsize=7, rotation=45)
        for ax in list(axes.flat)[len(d.keys):]:
            ax.set_visible(False)
        axes.flat[0].legend(fontsize=7)
        fig.tight_layout()
        paths.append(_png(fig, out / "sensitivity.png"))
    return paths


def _png(fig, path: Path) -> Path:
    """Render in memory with report's fixed metadata (byte-reproducible), close, write atomically."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata=PNG_METADATA)
    plt.close(fig)
    return atomic_write(path, buf.getvalue(), what="sweep plot")
