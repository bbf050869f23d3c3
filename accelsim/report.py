"""The only writer of reports: layers.csv, summary.json, report.md and PNG plots (utilization, cycle
breakdown, roofline; with ``--compare-dataflows`` the three dataflows side by side). Output is
byte-identical run to run (no timestamps, fixed PNG metadata). Files are
written through :class:`accelsim.outdir.OutputDir`: atomically, never through a symlink, never over a file
accelsim did not write."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

from accelsim.arch import Dataflow
from accelsim.outdir import OutputDir
from accelsim.result import BREAKDOWN_KEYS, NetworkResult, Timing

# Dataflows the RTL implements and CI co-simulates (outputs bit-exact, cycles equal to the model's).
RTL_VERIFIED = ("WS", "OS", "IS")
COMPARE_COLUMNS = ("cycles", "utilization", "dram_bytes", "energy_pj")

CSV_COLUMNS = (
    "name",
    "layer",
    "dataflow",
    "timing",
    "macs",
    "cycles",
    "utilization",
    "mapping_efficiency",
    *(f"{k}_cycles" for k in BREAKDOWN_KEYS),
    "dram_read_bytes",
    "dram_write_bytes",
    "ifmap_spad_reads",
    "ifmap_spad_writes",
    "weight_spad_reads",
    "weight_spad_writes",
    "acc_reads",
    "acc_writes",
    "operational_intensity_macs_per_byte",
    "energy_pj",
    "time_us",
)
PNG_METADATA = {"Software": None}


def _row(r, pe_dot_width: int = 1) -> dict[str, object]:
    dot = f" V={pe_dot_width}" if pe_dot_width != 1 else ""  # dot-product PEs: the dataflow and its V
    row: dict[str, object] = {
        "name": r.name,
        "layer": r.layer,
        "dataflow": r.dataflow.value + dot,
        "timing": r.timing.value,
        "macs": r.macs,
        "cycles": r.cycles,
        "utilization": f"{r.utilization:.6f}",
        "mapping_efficiency": f"{r.mapping_efficiency:.6f}",
        "dram_read_bytes": r.dram_read_bytes,
        "dram_write_bytes": r.dram_write_bytes,
        "operational_intensity_macs_per_byte": f"{r.operational_intensity_macs_per_byte:.4f}",
        "energy_pj": f"{r.energy_pj:.1f}",
        "time_us": f"{r.time_us:.3f}",
    }
    for k in BREAKDOWN_KEYS:
        row[f"{k}_cycles"] = f"{getattr(r.breakdown, k):.2f}"
    for buf in ("ifmap_spad", "weight_spad", "acc"):
        row[f"{buf}_reads"] = r.sram_reads.get(buf, "")
        row[f"{buf}_writes"] = r.sram_writes.get(buf, "")
    return row


def write(result: NetworkResult, out_dir: str | Path | OutputDir, *, force: bool = False,
          compare: Mapping[Dataflow, NetworkResult] | None = None) -> list[Path]:
    """Write every report file into ``out_dir`` (created; refused when it holds files accelsim did not
    write, unless ``force``: see :mod:`accelsim.outdir`); return the paths written. ``compare`` (the same
    network on the same configuration in each dataflow) adds dataflows.csv and dataflows.png, and a section
    of report.md comparing them layer by layer."""
    out = out_dir if isinstance(out_dir, OutputDir) else OutputDir(out_dir, force=force)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in result.layers:
        writer.writerow(_row(r, result.arch.pe_dot_width))
    summary = json.dumps(result.to_dict(), indent=1, sort_keys=True, allow_nan=False) + "\n"
    files = {"layers.csv": table.getvalue(), "summary.json": summary,
             "report.md": _markdown(result) + (_compare_markdown(compare) if compare else "")}
    if compare:
        files["dataflows.csv"] = _compare_csv(compare)
    mapping = _mapping_file(result)
    if mapping is not None:
        files["mapping.toml"] = mapping
    paths = out.write_all(files)
    paths += _plots(result, out)
    if compare:
        paths.append(_compare_plot(compare, out))
    return paths


def _check_comparable(compare: Mapping[Dataflow, NetworkResult]) -> list[str]:
    names = [[r.name for r in res.layers] for res in compare.values()]
    assert all(n == names[0] for n in names), "the compared results must hold the same layers"
    return names[0]


def _compare_csv(compare: Mapping[Dataflow, NetworkResult]) -> str:
    """Per layer and dataflow: cycles, utilization, DRAM bytes (read + write), energy."""
    names = _check_comparable(compare)
    table = io.StringIO()
    w = csv.writer(table, lineterminator="\n")
    w.writerow(["name", *(f"{col}_{df.value}" for col in COMPARE_COLUMNS for df in compare)])
    for i, name in enumerate(names):
        cells = []
        for col in COMPARE_COLUMNS:
            for res in compare.values():
                r = res.layers[i]
                cells.append({"cycles": r.cycles, "utilization": f"{r.utilization:.6f}",
                              "dram_bytes": r.dram_read_bytes + r.dram_write_bytes,
                              "energy_pj": f"{r.energy_pj:.1f}"}[col])
        w.writerow([name, *cells])
    return table.getvalue()


def _compare_markdown(compare: Mapping[Dataflow, NetworkResult]) -> str:
    lines = ["## Dataflows compared", "", "The same network on the same configuration in each dataflow "
             "(dataflows.csv per layer). RTL-verified dataflows: " + ", ".join(RTL_VERIFIED) + ".", "",
             "![dataflows](dataflows.png)", "",
             "| dataflow | cycles | utilization | DRAM bytes | energy (uJ) | layers fastest |",
             "|---|---:|---:|---:|---:|---:|"]
    fastest = [min(compare, key=lambda df, i=i: compare[df].layers[i].cycles)
               for i in range(len(_check_comparable(compare)))]
    for df, res in compare.items():
        t = res.totals
        lines.append(f"| {df.name} | {t.cycles:,} | {t.utilization:.1%} | "
                     f"{t.dram_read_bytes + t.dram_write_bytes:,} | {t.energy_pj / 1e6:.1f} | "
                     f"{fastest.count(df)} |")
    lines.append("")
    return "\n".join(lines)


def _compare_plot(compare: Mapping[Dataflow, NetworkResult], out: OutputDir) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _check_comparable(compare)
    x = list(range(len(names)))
    width = 0.8 / len(compare)
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.25 * len(names) + 2), 6.4), sharex=True)
    colors = {Dataflow.WS: "#3b75af", Dataflow.OS: "#f28e2b", Dataflow.IS: "#59a14f"}
    for j, (df, res) in enumerate(compare.items()):
        at = [i + (j - (len(compare) - 1) / 2) * width for i in x]
        axes[0].bar(at, [r.cycles / 1e3 for r in res.layers], width, color=colors[df], label=df.name)
        axes[1].bar(at, [(r.dram_read_bytes + r.dram_write_bytes) / 1e6 for r in res.layers], width,
                    color=colors[df], label=df.name)
    axes[0].set_ylabel("kilocycles")
    axes[0].set_title(f"Dataflows per layer — {next(iter(compare.values())).arch.name}")
    axes[0].legend(fontsize=7)
    axes[1].set_ylabel("DRAM MB (read + write)")
    axes[1].set_xticks(x, names, rotation=90, fontsize=6)
    fig.tight_layout()
    return _save(fig, out, "dataflows.png")


def _mapped(result: NetworkResult) -> dict[str, dict]:
    """The layers that ran a loop nest of accelsim.mapper (searched or from a mapping file): name -> tile."""
    return {r.name: dict(r.tile) for r in result.layers if "x_residency" in r.tile}


def _names_distinct(result: NetworkResult) -> bool:
    names = [r.name for r in result.layers]
    return len(set(names)) == len(names)


def _mapping_file(result: NetworkResult) -> str | None:
    """mapping.toml for a run whose layers ran nests (None otherwise, or when layer names repeat, so that a
    name cannot say which layer it is): `accelsim simulate --mapping` of it reruns the report's numbers."""
    mapped = _mapped(result)
    if not mapped or not _names_distinct(result):
        return None
    from accelsim.mapper.mapfile import KEYS, dumps, nest_from_dict

    return dumps({name: nest_from_dict({k: tile[k] for k in KEYS if k in tile}, name)
                  for name, tile in mapped.items()})


def _mapping_lines(result: NetworkResult) -> list[str]:
    mapped = _mapped(result)
    if not mapped:
        return []
    where = ("in mapping.toml: `accelsim simulate --mapping mapping.toml` with this arch reruns them"
             if _names_distinct(result) else "in summary.json's `tile` (layer names repeat: no mapping.toml)")
    return [f"Mapping: {len(mapped)} of {len(result.layers)} layers run a loop nest of accelsim.mapper (the "
            f"rest the fixed lowering); their nests are {where}.", ""]


def _markdown(result: NetworkResult) -> str:
    a, t = result.arch, result.totals
    pct = {k: getattr(t.breakdown, k) / t.cycles for k in BREAKDOWN_KEYS} if t.cycles else {}
    lines = [
        f"# accelsim report: {a.name} ({a.grid_text})",
        "",
        f"{t.layers} layers, {t.macs:,} MACs in {t.cycles:,} cycles "
        f"({t.time_us / 1000:.3f} ms at {a.clock_mhz:g} MHz): utilization {t.utilization:.1%}, "
        f"DRAM {t.dram_read_bytes:,} B read / {t.dram_write_bytes:,} B written, "
        f"energy {t.energy_pj / 1e6:.1f} uJ; area estimate {result.area.area:,.0f} LUT4-equivalents "
        "(iCE40 LUT4 + FF + 256 x 4-kbit BRAM of the build running WS, OS and IS; docs/synthesis.md).",
        "",
        "Where the cycles go: " + ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in pct.items()) + ".",
        "",
        *_mapping_lines(result),
        "![utilization](utilization.png)",
        "![breakdown](breakdown.png)",
        "![roofline](roofline.png)",
        "",
        "| layer | MACs | cycles | util | map. eff | "
        + " | ".join(k.replace("_", " ") for k in BREAKDOWN_KEYS)
        + " | DRAM rd B | DRAM wr B |",
        "|---|" + "---:|" * (6 + len(BREAKDOWN_KEYS)),
    ]
    for r in result.layers:
        bd = " | ".join(f"{getattr(r.breakdown, k) / r.cycles:.1%}" for k in BREAKDOWN_KEYS)
        lines.append(
            f"| {r.name} | {r.macs:,} | {r.cycles:,} | {r.utilization:.1%} | "
            f"{r.mapping_efficiency:.1%} | {bd} | {r.dram_read_bytes:,} | {r.dram_write_bytes:,} |"
        )
    lines.append("")
    return "\n".join(lines)


def _plots(result: NetworkResult, out: OutputDir) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "accelsim"
    layers = result.layers
    names = [r.name for r in layers]
    x = range(len(layers))
    width = max(6.0, 0.18 * len(layers) + 2)
    paths = []

    fig, ax = plt.subplots(figsize=(width, 3.6))
    ax.bar(x, [100 * r.utilization for r in layers], color="#3b75af", label="utilization")
    ax.plot(x, [100 * r.mapping_efficiency for r in layers], "k.", label="mapping efficiency")
    ax.set_ylabel("% of PE-cycles")
    ax.set_ylim(0, 105)
    ax.set_xticks(list(x), names, rotation=90, fontsize=6)
    ax.set_title(f"PE utilization per layer — {result.arch.name}")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    paths.append(_save(fig, out, "utilization.png"))

    fig, ax = plt.subplots(figsize=(width, 3.6))
    bottom = [0.0] * len(layers)
    colors = ["#3b75af", "#9ecae9", "#f28e2b", "#ffbe7d", "#e15759", "#76b7b2"]
    for key, color in zip(BREAKDOWN_KEYS, colors, strict=True):
        vals = [getattr(r.breakdown, key) / 1e3 for r in layers]
        ax.bar(x, vals, bottom=bottom, color=color, label=key.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_ylabel("kilocycles")
    ax.set_xticks(list(x), names, rotation=90, fontsize=6)
    ax.set_title("Cycle breakdown per layer")
    ax.legend(fontsize=7, ncols=3)
    fig.tight_layout()
    paths.append(_save(fig, out, "breakdown.png"))

    oi = [r.operational_intensity_macs_per_byte for r in layers]
    perf = [r.macs / r.cycles for r in layers]
    roof, label = roofline(result)
    ridge = result.arch.macs_per_cycle / (2 * result.arch.dram_bytes_per_cycle)  # where the two roofs meet
    lo, hi = min([*oi, ridge]) / 4, max([*oi, ridge]) * 4
    grid = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.loglog(grid, [roof(g) for g in grid], "k-", label=label)
    ax.loglog(oi, perf, "o", color="#e15759", markersize=4, label="layers")
    ax.set_xlabel("operational intensity (MACs / DRAM byte)")
    ax.set_ylabel("achieved MACs / cycle")
    ax.set_title("Roofline")
    ax.legend(fontsize=7)
    fig.tight_layout()
    paths.append(_save(fig, out, "roofline.png"))
    return paths


def roofline(result: NetworkResult):
    """``(roof, label)``: the most MACs per cycle a layer of operational intensity ``I`` (MACs per DRAM byte,
    read and write bytes together, as in the CSV) can reach, and the plot's legend saying why.

    DRAM has separate read and write channels of ``dram_bytes_per_cycle`` each (docs/microarchitecture.md),
    so a layer moving ``rd`` and ``wr`` bytes takes at least ``max(rd, wr) / BW >= (rd + wr) / (2 BW)``
    cycles: ``MACs / cycle <= min(PEs, 2 BW I)``. SCALE-Sim's CALC mode never stalls on DRAM: only the
    compute roof bounds it.
    """
    a = result.arch
    peak, bw = a.macs_per_cycle, a.dram_bytes_per_cycle
    if any(r.timing is Timing.SCALESIM for r in result.layers):
        return (lambda intensity: float(peak)), f"roof: {peak} MACs/cycle (SCALE-Sim CALC: no DRAM bound)"
    label = f"roof: min({peak} MACs/cycle, 2 x {bw} B/cycle x intensity)\n(separate read and write channels)"
    return (lambda intensity: min(float(peak), 2 * bw * intensity)), label


def _save(fig, out: OutputDir, name: str) -> Path:
    import matplotlib.pyplot as plt

    try:
        return out.savefig(name, fig, dpi=110, metadata=PNG_METADATA)
    finally:
        plt.close(fig)
