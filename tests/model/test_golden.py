"""Golden per-layer numbers for the shipped presets (tests/golden/model.json).

Rewritten only by `pytest tests/model/test_golden.py --update-golden` after a deliberate model change;
the diff of that file is then the review of the change."""

import json
from pathlib import Path

import pytest

from accelsim import arch, workloads
from accelsim.sim import simulate_layer

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "model.json"
CASES = [  # (network, layer index): a stem conv, 3x3, 1x1, strided 1x1 shortcut, depthwise, FC
    ("resnet50", 0), ("resnet50", 5), ("resnet50", 4), ("resnet50", 14), ("mobilenetv2", 4), ("resnet50", 53),
]
PRESETS = ["gemmini", "eyeriss", "tpu_v1"]
FIELDS = ["macs", "cycles", "breakdown", "dram_read_bytes", "dram_write_bytes", "sram_reads", "sram_writes",
          "tile", "commands"]


def compute() -> dict:
    out = {}
    for preset in PRESETS:
        cfg = arch.preset(preset)
        for net, index in CASES:
            layer = workloads.load(net)[index]
            r = simulate_layer(layer, cfg).to_dict()
            out[f"{preset}/{net}[{index}] {layer.name}"] = {k: r[k] for k in FIELDS}
    return out


def test_golden_numbers(request):
    current = json.loads(json.dumps(compute()))
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        pytest.fail("golden numbers rewritten; rerun without --update-golden")  # never passes silently
    expected = json.loads(GOLDEN.read_text())
    assert sorted(current) == sorted(expected)
    for key in expected:
        assert current[key] == expected[key], key
