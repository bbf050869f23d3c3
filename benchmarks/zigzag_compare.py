"""Our mapper (accelsim.mapper.search) against ZigZag's (zigzag-dse, LOMA) on ResNet-50 layers, in one run.

    python benchmarks/zigzag_compare.py [--layers conv1,layer1.0.conv2,...] [--network] [--reps 1]

Architecture: the ``gemmini`` preset with 256 KiB input and weight scratchpads (issue 11's configuration):
a 16x16 int8 weight-stationary array, 64 KiB int32 accumulator, DRAM 16 B/cycle per channel. ZigZag gets the
equivalent accelerator built by :func:`zigzag_accelerator` (what matches and what cannot is listed there and
in docs/mapper.md, "Against ZigZag"). For each layer it prints ZigZag's chosen mapping's latency, DRAM
traffic (bytes moved between DRAM and the buffers: reads + writes), energy and search wall time, then ours
(objective EDP and cycles, with the arch's dataflow and with every dataflow) and the fixed lowering.

ZigZag is optional (``pip install zigzag-dse==3.9.1``, the ``bench`` extra); without it the script says so
and exits 2. The conversion helpers need no ZigZag and are unit-tested (tests/mapper/test_zigzag_compare.py).

Timing: search wall times are the best of ``--reps`` runs on a shared 2-core machine (other jobs were
running), so they are noisy; ours includes the exact scheduling of the candidates it evaluates.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from accelsim.arch import ArchConfig, Dataflow, preset
from accelsim.errors import AccelsimError, require
from accelsim.layer import ConvLayer
from accelsim.mapper.search import search
from accelsim.workloads.zoo import zoo

# conv1 7x7/2, a 1x1 and a 3x3 of each stage (stride 1 and the stride-2 one of stage 2), the FC
DEFAULT_LAYERS = ("conv1", "layer1.0.conv2", "layer1.0.conv3", "layer2.0.conv2", "layer2.1.conv2",
                  "layer3.1.conv1", "layer3.1.conv2", "layer4.1.conv2", "layer4.0.downsample", "fc")


def issue_arch() -> ArchConfig:
    """Issue 11's configuration: gemmini with its input and weight scratchpads enlarged to 256 KiB."""
    return dataclasses.replace(preset("gemmini"), ifmap_spad_kib=256, weight_spad_kib=256)


def zigzag_layer(layer: ConvLayer, layer_id: int = 0, out_bits: int = 32) -> dict:
    """Our ConvLayer as one layer of ZigZag's workload (its list-of-dicts format, as its ONNX Conv parser
    builds it): B=N, G=groups, K=M/groups, C=C/groups, OY=E, OX=F, FY=R, FX=S, IY=H, IX=W with symmetric
    padding ``pad``. Operands are int8 and partial sums int32; ``out_bits`` is what a final output costs in
    DRAM (ours writes int32 outputs unless a requantize shift is given)."""
    g = layer.groups
    return {
        "id": layer_id,
        "name": layer.name or f"layer{layer_id}",
        "operator_type": "Conv",
        "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
        "dimension_relations": [f"ix={layer.stride}*ox+1*fx", f"iy={layer.stride}*oy+1*fy"],
        "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
        "loop_sizes": [layer.N, layer.M // g, g, layer.F, layer.E, layer.C // g, layer.S, layer.R],
        "operand_precision": {"W": 8, "I": 8, "O": 32, "O_final": out_bits},
        "operand_source": {"W": layer_id, "I": layer_id},  # both from DRAM: no layer feeds another
        "pr_loop_dims": ["IX", "IY"],
        "pr_loop_sizes": [layer.W, layer.H],
        "padding": [[layer.pad, layer.pad], [layer.pad, layer.pad]],
    }


def _port(name: str, kind: str, bits_min: int, bits_max: int, allocation: list[str]) -> dict:
    return {"name": name, "type": kind, "bandwidth_min": bits_min, "bandwidth_max": bits_max,
            "allocation": allocation}


def zigzag_accelerator(arch: ArchConfig) -> dict:
    """ZigZag's accelerator description of ``arch`` (a WS array; for its YAML parser, JSON is YAML).

    Matched: the AR x AC MAC array (its systolic drain counted), a 1-byte weight register per PE (the
    stationary weight) and no partial-sum register (in WS a column's sum leaves the array every cycle for
    the accumulator, as ours does: a per-PE register would let ZigZag accumulate in place, an output-
    stationary array in disguise); the input, weight and accumulator
    scratchpads' sizes, each its own memory with its own ports; DRAM with a read channel and a write channel
    of BW bytes/cycle each; our energy table (per byte for int8 memories and DRAM, per int32 word for the
    accumulator, per MAC). Not expressible: DRAM latency (ZigZag parses a memory's ``latency`` but no cost
    uses it), the scratchpads' one-row-per-cycle port width (given as AR bytes for inputs and weights, AC
    words for the accumulator), and our im2col load unit's re-reading of overlapping windows.
    """
    e = arch.energy
    bw_bits = 8 * arch.dram_bytes_per_cycle
    rows, cols = arch.array_rows, arch.array_cols
    acc_bits = arch.acc_bits
    # ZigZag charges r_cost / w_cost per access of a port's bandwidth_max bits (a narrower transfer counts
    # as its fraction of one, in bandwidth_min steps): so each cost is our per-byte (per-word) energy times
    # the port's width, which makes ZigZag's energy per byte (word) ours.
    dram_pj = e.dram_byte_pj * arch.dram_bytes_per_cycle

    def sram(kib: int, operand: str, word_bits: int, width_bits: int, cost: float) -> dict:
        low = [f"{operand}, tl"] + ([f"{operand}, th"] if operand == "O" else [])
        high = [f"{operand}, fh"] + ([f"{operand}, fl"] if operand == "O" else [])
        return {"size": kib * 1024 * 8, "r_cost": cost, "w_cost": cost, "area": 0, "latency": 1,
                "operands": [operand], "served_dimensions": ["D1", "D2"],
                "ports": [_port("r_port_1", "read", word_bits, width_bits, low),
                          _port("w_port_1", "write", word_bits, width_bits, high)]}

    return {
        "name": f"{arch.name}_ws",
        "memories": {
            "w_reg": {"size": arch.weight_bits, "r_cost": 0.0, "w_cost": 0.0, "area": 0, "latency": 1,
                      "operands": ["I2"], "served_dimensions": [],
                      "ports": [_port("r_port_1", "read", 8, 8, ["I2, tl"]),
                                _port("w_port_1", "write", 8, 8, ["I2, fh"])]},
            "ifmap_spad": sram(arch.ifmap_spad_kib, "I1", 8, 8 * rows, e.spad_byte_pj * rows),
            "weight_spad": sram(arch.weight_spad_kib, "I2", 8, 8 * rows, e.spad_byte_pj * rows),
            "acc": sram(arch.acc_kib, "O", acc_bits, acc_bits * cols, e.acc_word_pj * cols),
            "dram": {"size": 10**10, "r_cost": dram_pj, "w_cost": dram_pj, "area": 0,
                     "latency": arch.dram_latency_cycles, "operands": ["I1", "I2", "O"],
                     "served_dimensions": ["D1", "D2"],
                     "ports": [_port("r_port_1", "read", 8, bw_bits, ["I1, tl", "I2, tl", "O, tl"]),
                               _port("w_port_1", "write", 8, bw_bits,
                                     ["I1, fh", "I2, fh", "O, fh", "O, fl"])]},
        },
        "operational_array": {"unit_energy": e.mac_pj, "unit_area": 1, "dimensions": ["D1", "D2"],
                              "sizes": [rows, cols], "systolic_dimensions": ["D1", "D2"]},
    }


def zigzag_mapping(arch: ArchConfig) -> list[dict]:
    """Our WS spatial unrolling in ZigZag's terms: input channels C on the array's rows (D1), output
    channels K on its columns (D2). Ours unrolls the GEMM reduction C*R*S on the rows (im2col), which ZigZag
    can only do with its mixed spatial mappings; plain C is what a conv mapping in ZigZag means by WS."""
    return [{"name": "default", "spatial_mapping": {"D1": [f"C, {arch.array_rows}"],
                                                    "D2": [f"K, {arch.array_cols}"]},
             "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]


def dram_bytes(cme) -> tuple[float, float]:
    """(read, write) bytes between ZigZag's top memory (DRAM) and the level below it, from the chosen
    mapping's data movement: elements per period x precision x periods x spatial copies, per direction."""
    from zigzag.hardware.architecture.memory_port import DataDirection
    from zigzag.mapping.data_movement import DataMoveAttr

    read = write = 0.0
    for op in cme.layer.layer_operands:
        top = cme.mapping.mem_level[op] - 1
        move = cme.mapping.unit_mem_data_movement[op][top]
        amount = move.get_attribute(DataMoveAttr.DATA_TRANS_AMOUNT_PER_PERIOD)
        bits = move.get_attribute(DataMoveAttr.DATA_PRECISION)
        periods = move.get_attribute(DataMoveAttr.DATA_TRANS_PERIOD_COUNT)
        copies = cme.mapping.spatial_mapping.unit_count[op][top + 1]
        for d, sign in ((DataDirection.RD_OUT_TO_LOW, "r"), (DataDirection.WR_IN_BY_LOW, "w")):
            b = amount.get(d) * bits.get(d) * periods.get(d) * copies / 8
            if sign == "r":
                read += b
            else:
                write += b
    return read, write


def run_zigzag(layer: ConvLayer, arch: ArchConfig, opt: str, workdir: Path) -> dict:
    """ZigZag's default search (spatial mapping fixed to ours, LOMA temporal search) on one layer."""
    from zigzag.api import get_hardware_performance_zigzag

    acc, mapping = workdir / "accelerator.yaml", workdir / "mapping.yaml"
    acc.write_text(json.dumps(zigzag_accelerator(arch)))
    mapping.write_text(json.dumps(zigzag_mapping(arch)))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        energy, latency, cmes = get_hardware_performance_zigzag(
            [zigzag_layer(layer)], str(acc), str(mapping), opt=opt, dump_folder=str(workdir / "out"),
            loma_show_progress_bar=False)
    seconds = time.perf_counter() - start
    cme = cmes[0][1][0][0]  # SumStage's total, then the one layer's best
    read, write = dram_bytes(cme)
    dram_pj = sum(levels[-1] for levels in cme.mem_energy_breakdown.values())
    return {"cycles": float(latency), "dram_bytes": read + write, "dram_read_bytes": read,
            "dram_write_bytes": write, "energy_pj": float(energy), "seconds": seconds,
            "mac_pj": float(cme.mac_energy), "dram_pj": float(dram_pj),
            "spatial_utilization": float(cme.mac_spatial_utilization)}


def run_ours(layer: ConvLayer, arch: ArchConfig, objective: str, dataflows) -> dict:
    m = search(layer, arch, objective=objective, dataflows=dataflows)
    return {**ours_row(m.result, arch), "seconds": m.seconds, "fixed": m.fixed,
            "dataflow": m.nest.dataflow.name}


def ours_row(r, arch: ArchConfig) -> dict:
    """A LayerResult's figures; its MAC and DRAM shares of the energy, the rest being on-chip memories."""
    dram = r.dram_read_bytes + r.dram_write_bytes
    return {"cycles": float(r.cycles), "dram_bytes": float(dram), "energy_pj": float(r.energy_pj),
            "mac_pj": r.macs * arch.energy.mac_pj, "dram_pj": dram * arch.energy.dram_byte_pj}


def best_of(reps: int, run):
    """The run with the least wall time of ``reps`` (results are deterministic; times are not)."""
    return min((run() for _ in range(reps)), key=lambda r: r["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", default=",".join(DEFAULT_LAYERS),
                        help="comma-separated ResNet-50 layer names (accelsim.workloads.zoo)")
    parser.add_argument("--network", action="store_true",
                        help="every ResNet-50 layer (each distinct shape searched once, counted per use)")
    parser.add_argument("--reps", type=int, default=1, help="search runs per contender; the best time counts")
    parser.add_argument("--zigzag-opt", default="latency", choices=("latency", "energy", "EDP"))
    args = parser.parse_args(argv)
    try:
        import zigzag  # noqa: F401
    except ImportError:
        print("zigzag_compare: ZigZag is not installed (pip install 'accelsim[bench]' or zigzag-dse==3.9.1)",
              file=sys.stderr)
        return 2
    logging.disable(logging.CRITICAL)
    arch = issue_arch()
    by_name = {layer.name: layer for layer in zoo("resnet50")}
    names = list(by_name) if args.network else [n for n in args.layers.split(",") if n]
    try:
        require(args.reps >= 1, "--reps", "a positive integer", args.reps)
        for n in names:
            require(n in by_name, "--layers", "ResNet-50 layer names (accelsim.workloads.zoo)", n)
    except AccelsimError as e:
        print(e, file=sys.stderr)
        return 2
    all_df = tuple(Dataflow)
    warm = time.perf_counter()
    search(ConvLayer(N=1, M=16, C=16, H=4, W=4, R=3, S=3, pad=1), arch, dataflows=all_df)  # compile (Numba)
    warm = time.perf_counter() - warm
    print(f"arch: {arch.name} {arch.array_rows}x{arch.array_cols} {arch.dataflow.name}, "
          f"spads {arch.ifmap_spad_kib}/{arch.weight_spad_kib}/{arch.acc_kib} KiB, "
          f"DRAM {arch.dram_bytes_per_cycle} B/cycle, L={arch.dram_latency_cycles}; "
          f"ZigZag opt={args.zigzag_opt}; times best of {args.reps}; our one-off JIT warm-up {warm:.1f} s "
          "(not in the search times)")
    head = (f"{'layer':<20} {'who':<22} {'cycles':>11} {'DRAM KB':>9} {'energy uJ':>10} {'(dram':>7}"
            f" {'mac':>6} {'chip)':>6} {'search s':>9} {'cyc/ZZ':>7} {'DRAM/ZZ':>8}")
    print(head)
    print("-" * len(head))
    shapes: dict[ConvLayer, list[str]] = {}
    for n in names:
        shapes.setdefault(dataclasses.replace(by_name[n], name=""), []).append(n)
    totals: dict[str, dict[str, float]] = {}
    for uses in shapes.values():
        n, layer = uses[0] + (f" x{len(uses)}" if len(uses) > 1 else ""), by_name[uses[0]]
        with tempfile.TemporaryDirectory() as tmp:
            zz = best_of(args.reps, lambda layer=layer, tmp=tmp: run_zigzag(layer, arch, args.zigzag_opt,
                                                                               Path(tmp)))
        rows = {"ZigZag LOMA": zz}
        rows["ours edp WS"] = best_of(args.reps, lambda layer=layer: run_ours(layer, arch, "edp", None))
        rows["ours cycles WS"] = best_of(args.reps, lambda layer=layer: run_ours(layer, arch, "cycles", None))
        rows["ours edp any-df"] = best_of(args.reps, lambda layer=layer: run_ours(layer, arch, "edp", all_df))
        rows["fixed lowering"] = {**ours_row(rows["ours edp WS"]["fixed"], arch), "seconds": 0.0}
        for who, r in rows.items():
            label = who + (f" ({r['dataflow']})" if who.endswith("any-df") else "")
            print(f"{n if who == 'ZigZag LOMA' else '':<20} {label:<22} " + _figures(r, zz))
            t = totals.setdefault(who, dict.fromkeys(SUMMED, 0.0))
            for k in SUMMED:
                t[k] += r[k] * (1 if k == "seconds" else len(uses))  # a shape is searched once
        print(f"{'':<20} ZigZag spatial utilisation {zz['spatial_utilization']:.2f}, "
              f"DRAM read {zz['dram_read_bytes'] / 1e3:,.1f} KB write {zz['dram_write_bytes'] / 1e3:,.1f} KB")
    print("-" * len(head))
    for who, t in totals.items():
        label = "total" if who == "ZigZag LOMA" else ""
        print(f"{label:<20} {who:<22} " + _figures(t, totals["ZigZag LOMA"]))
    return 0


SUMMED = ("cycles", "dram_bytes", "energy_pj", "dram_pj", "mac_pj", "seconds")


def _figures(r: dict, zz: dict) -> str:
    chip = r["energy_pj"] - r["dram_pj"] - r["mac_pj"]
    return (f"{r['cycles']:>11,.0f} {r['dram_bytes'] / 1e3:>9,.1f} {r['energy_pj'] / 1e6:>10.2f} "
            f"{r['dram_pj'] / 1e6:>7.2f} {r['mac_pj'] / 1e6:>6.2f} {chip / 1e6:>6.2f} {r['seconds']:>9.3f} "
            f"{r['cycles'] / zz['cycles']:>7.2f} {r['dram_bytes'] / zz['dram_bytes']:>8.2f}")


if __name__ == "__main__":
    sys.exit(main())
