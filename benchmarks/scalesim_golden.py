"""Run SCALE-Sim 3.0 over a grid of small layers and arrays; write its numbers as accelsim's golden data.

SCALE-Sim is slow (it builds and walks every cycle's address trace) and pins its own numpy, so it lives in
its own venv and runs in a subprocess::

    python3 -m venv /tmp/ssvenv && /tmp/ssvenv/bin/pip install scalesim==3.0.0 "numpy<2.4"
    .venv/bin/python benchmarks/scalesim_golden.py [--scalesim-python /tmp/ssvenv/bin/python] [--quick]

For every case (layer x array x dataflow x SRAM sizes, ``InterfaceBandwidth: CALC``) the subprocess writes
a config and a one-layer topology, runs ``scalesim.scale_sim.scalesim`` without traces and parses
COMPUTE_REPORT.csv and DETAILED_ACCESS_REPORT.csv. The cases, SCALE-Sim's numbers and its wall time per
case are written to tests/golden/scalesim_compat.json, which tests/model/test_scalesim_compat.py replays
against :func:`accelsim.scalesim.simulate_layer_scalesim`. At the end the script prints how many
cases accelsim reproduces exactly and SCALE-Sim's seconds per case next to accelsim's. The full grid takes
about 5 minutes of one core.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from accelsim.layer import ConvLayer
from accelsim.scalesim import ScaleSimConfig, ScaleSimLayerResult, simulate_layer_scalesim
from accelsim.workloads.scalesim_csv import CONV_COLUMNS, scalesim_rows

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "golden" / "scalesim_compat.json"

# Layers: strides 1/2/3, 1x1, 3x3, 7x7, non-square, (H-R) not a multiple of the stride (SCALE-Sim's ceil
# output size then reads past the input: -1 entries), tiny, FC, and larger than every array.
LAYERS = (
    ConvLayer(M=8, C=3, H=8, W=8, R=3, S=3, pad=1, name="c3x3"),
    ConvLayer(M=10, C=16, H=7, W=7, R=1, S=1, name="pw"),
    ConvLayer(M=6, C=3, H=13, W=13, R=7, S=7, stride=2, pad=3, name="c7s2"),
    ConvLayer(M=5, C=4, H=10, W=10, R=3, S=3, stride=2, name="c3s2odd"),
    ConvLayer(M=7, C=2, H=11, W=9, R=3, S=2, stride=3, name="s3rect"),
    ConvLayer(M=7, C=5, H=12, W=6, R=3, S=1, name="rect"),
    ConvLayer(M=1, C=1, H=3, W=3, R=3, S=3, name="tiny"),
    ConvLayer.fc(64, 20, name="fc"),
    ConvLayer(M=40, C=20, H=14, W=14, R=3, S=3, pad=1, name="big"),
    ConvLayer(M=33, C=17, H=9, W=5, R=2, S=4, stride=2, name="odd"),
    ConvLayer(M=6, C=4, H=8, W=7, R=1, S=1, stride=3, name="pw_s3"),  # stride > filter: whole -1 pixels
    ConvLayer(M=3, C=2, H=9, W=9, R=2, S=2, stride=3, name="gap"),
)
ARRAYS = ((4, 4), (8, 8), (8, 4), (4, 16), (16, 16), (32, 32), (3, 5))
DATAFLOWS = ("os", "ws", "is")
SRAMS_KIB = ((256, 256, 128), (1, 1, 1), (2, 1, 3))
# Extra points: wide arrays with a 1 KiB OFMAP SRAM (hundreds of writes per cycle against 512-word
# drains), and 1-PE-wide arrays (where SCALE-Sim's one-short cycle count gives utilizations over 100 %).
EXTRA = (
    (ConvLayer(M=4, C=2, H=20, W=20, R=3, S=3, name="wide"), (4, 320), ("is",), ((1, 1, 1), (1, 1, 2))),
    (ConvLayer.fc(8, 600, name="fcwide"), (2, 512), ("os", "ws"), ((1, 1, 1),)),
    (ConvLayer(M=300, C=3, H=6, W=6, R=3, S=3, name="mwide"), (4, 256), ("os", "ws"), ((1, 1, 1),)),
    (LAYERS[0], (1, 1), DATAFLOWS, ((1, 1, 1), (64, 64, 64))),
    (LAYERS[7], (1, 3), DATAFLOWS, ((1, 1, 1),)),
    (LAYERS[11], (2, 1), DATAFLOWS, ((1, 1, 1),)),
)
QUICK = dict(layers=LAYERS[:4], arrays=ARRAYS[:2], srams=SRAMS_KIB[:2])

# Runs inside SCALE-Sim's own venv: one JSON job per stdin line, one JSON result per stdout line.
DRIVER = r"""
import contextlib, io, json, os, sys, tempfile, time, traceback
from scalesim.scale_sim import scalesim

def numbers(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    out = []
    for cell in lines[1].split(",")[1:]:
        cell = cell.strip()
        if cell:
            value = float(cell)
            out.append(int(value) if value.is_integer() and "." not in cell and "e" not in cell else value)
    return out

for line in sys.stdin:
    job = json.loads(line)
    with tempfile.TemporaryDirectory() as tmp:
        cfg, topo = os.path.join(tmp, "scale.cfg"), os.path.join(tmp, "topo.csv")
        layout = os.path.join(tmp, "layout.csv")  # read even when unused; a header is enough
        open(cfg, "w").write(job["cfg"])
        open(topo, "w").write(job["topology"])
        open(layout, "w").write("Layer name, unused,\n")
        try:
            cpu, start = time.process_time(), time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo, layout=layout)
                sim.run_scale(top_path=os.path.join(tmp, "out"))
            cpu, seconds = time.process_time() - cpu, time.perf_counter() - start
            run = os.path.join(tmp, "out", "golden")
            result = {"compute": numbers(os.path.join(run, "COMPUTE_REPORT.csv")),
                      "detail": numbers(os.path.join(run, "DETAILED_ACCESS_REPORT.csv")),
                      "seconds": seconds, "cpu_seconds": cpu, "wall_seconds": seconds}
        except Exception:
            result = {"error": traceback.format_exc(limit=3)[-600:]}
    print(json.dumps(result), flush=True)
"""

# SCALE-Sim's report columns, in report order (COMPUTE_REPORT.csv, then DETAILED_ACCESS_REPORT.csv).
COLUMNS = (
    "total_cycles",  # "Total Cycles (incl. prefetch)"
    "compute_cycles",  # "Total Cycles"
    "stall_cycles",
    "overall_util_percent",
    "mapping_efficiency_percent",
    "compute_util_percent",
    *(
        f"{mem}_{op}_{what}"
        for mem in ("sram", "dram")
        for op in ("ifmap", "filter", "ofmap")
        for what in ("start_cycle", "stop_cycle", "writes" if op == "ofmap" else "reads")
    ),
)
CONFIG_KEYS = ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "Dataflow")
ABOUT = (
    "SCALE-Sim 3.0.0 (Python 3.11, numpy 2.3), InterfaceBandwidth CALC, one layer per run; written by "
    "benchmarks/scalesim_golden.py. layer: accelsim ConvLayer spec (SCALE-Sim IFMAP = H+2*pad x W+2*pad); "
    "scalesim: its report numbers in the order of columns (percentages as it reports them)."
)


def config_text(config: dict[str, object]) -> str:
    """A SCALE-Sim 3.0 config file with every key its reader needs."""
    return (
        "[general]\nrun_name = golden\n\n"
        "[architecture_presets]\n"
        f"ArrayHeight: {config['ArrayHeight']}\nArrayWidth: {config['ArrayWidth']}\n"
        f"IfmapSramSzkB: {config['IfmapSramSzkB']}\nFilterSramSzkB: {config['FilterSramSzkB']}\n"
        f"OfmapSramSzkB: {config['OfmapSramSzkB']}\n"
        "IfmapOffset: 0\nFilterOffset: 10000000\nOfmapOffset: 20000000\n"
        f"Dataflow: {config['Dataflow']}\nBandwidth: 10\nReadRequestBuffer: 32\nWriteRequestBuffer: 32\n\n"
        "[layout]\nIfmapCustomLayout: False\nIfmapSRAMBankBandwidth: 10\nIfmapSRAMBankNum: 10\n"
        "IfmapSRAMBankPort: 2\nFilterCustomLayout: False\nFilterSRAMBankBandwidth: 10\n"
        "FilterSRAMBankNum: 10\nFilterSRAMBankPort: 2\n\n"
        "[sparsity]\nSparsitySupport: false\nSparseRep: ellpack_block\nOptimizedMapping: false\n"
        "BlockSize: 8\nRandomNumberGeneratorSeed: 40\n\n"
        "[run_presets]\nInterfaceBandwidth: CALC\nUseRamulatorTrace: False\n"
    )


def topology_text(layer: ConvLayer) -> str:
    header = ", ".join(CONV_COLUMNS) + ","
    (row,) = scalesim_rows([layer])
    return header + "\n" + ", ".join(str(x) for x in row) + ",\n"


def cases(quick: bool) -> list[dict[str, object]]:
    grid = QUICK if quick else dict(layers=LAYERS, arrays=ARRAYS, srams=SRAMS_KIB)
    out = []
    for layer in grid["layers"]:
        for rows, cols in grid["arrays"]:
            for dataflow in DATAFLOWS:
                for ifmap_kib, filter_kib, ofmap_kib in grid["srams"]:
                    config = [rows, cols, ifmap_kib, filter_kib, ofmap_kib, dataflow]
                    out.append({"layer": layer.spec() + f",name={layer.name}", "config": config})
    for layer, (rows, cols), dataflows, srams in () if quick else EXTRA:
        for dataflow in dataflows:
            for ifmap_kib, filter_kib, ofmap_kib in srams:
                config = [rows, cols, ifmap_kib, filter_kib, ofmap_kib, dataflow]
                out.append({"layer": layer.spec() + f",name={layer.name}", "config": config})
    return out


def run_scalesim(python: str, jobs: list[dict[str, object]]) -> list[dict[str, object]]:
    proc = subprocess.Popen(
        [python, "-c", DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/tmp"
    )
    assert proc.stdin is not None and proc.stdout is not None
    results = []
    for i, job in enumerate(jobs):
        layer = ConvLayer.parse(str(job["layer"]))
        config = dict(zip(CONFIG_KEYS, job["config"], strict=True))
        proc.stdin.write(json.dumps({"cfg": config_text(config), "topology": topology_text(layer)}) + "\n")
        proc.stdin.flush()
        result = json.loads(proc.stdout.readline())
        results.append(result)
        status = f"{result['seconds']:.2f} s" if "seconds" in result else "ERROR " + result["error"]
        print(f"[{i + 1}/{len(jobs)}] {job['layer']} {job['config']}: {status}", file=sys.stderr)
    proc.stdin.close()
    proc.wait()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalesim-python", default="/tmp/ssvenv/bin/python", help="python with scalesim")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="golden JSON to write")
    parser.add_argument("--quick", action="store_true", help="a small grid (seconds) instead of the full one")
    args = parser.parse_args(argv)

    jobs = cases(args.quick)
    results = run_scalesim(args.scalesim_python, jobs)
    golden = []
    for job, result in zip(jobs, results, strict=True):
        if "error" in result:
            print(f"skipped (SCALE-Sim failed): {job}", file=sys.stderr)
            continue
        numbers = [*result["compute"], *result["detail"]]
        assert len(numbers) == len(COLUMNS), numbers
        golden.append({**job, "scalesim": numbers, "scalesim_seconds": round(result["seconds"], 3)})

    # One case per line; the column names once.
    lines = [json.dumps(case, separators=(",", ":")) for case in golden]
    text = (
        "{\n"
        f'"about":{json.dumps(ABOUT)},\n'
        f'"config_keys":{json.dumps(CONFIG_KEYS, separators=(",", ":"))},\n'
        f'"columns":{json.dumps(COLUMNS, separators=(",", ":"))},\n'
        '"cases":[\n' + ",\n".join(lines) + "\n]}\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {len(golden)} cases to {args.out} ({len(text) // 1024} KiB)")

    # Agreement and speed: accelsim's closed form on the same cases.
    ours, exact = [], 0
    for case in golden:
        layer = ConvLayer.parse(str(case["layer"]))
        config = ScaleSimConfig.from_cfg_fields(dict(zip(CONFIG_KEYS, case["config"], strict=True)))
        start = time.perf_counter()
        result = simulate_layer_scalesim(layer, config)
        ours.append(time.perf_counter() - start)
        exact += accelsim_numbers(result) == case["scalesim"]
    theirs = [case["scalesim_seconds"] for case in golden]
    if golden:
        print(
            f"accelsim reproduces {exact}/{len(golden)} cases exactly; "
            f"SCALE-Sim: {sum(theirs) / len(theirs):.3f} s/case (max {max(theirs):.2f} s); "
            f"accelsim: {1e6 * sum(ours) / len(ours):.1f} us/case; "
            f"ratio {sum(theirs) / sum(ours):.0f}x"
        )
    return 0


def accelsim_numbers(result: ScaleSimLayerResult) -> list[float]:
    """``result`` as a row of COLUMNS."""
    renamed = {
        "overall_util_percent": "overall_utilization_percent",
        "compute_util_percent": "compute_utilization_percent",
    }
    out = []
    for column in COLUMNS:
        mem, _, rest = column.partition("_")
        if mem in ("sram", "dram"):  # sram_ifmap_reads -> ifmap_sram_reads
            operand, _, what = rest.partition("_")
            column = f"{operand}_{mem}_{what}"
        out.append(getattr(result, renamed.get(column, column)))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
