#!/usr/bin/env bash
# Regenerates the example reports in reports/ (byte-identical run to run; tests/test_reports.py checks
# that the committed ones are current).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
for net in resnet50 mobilenetv2; do
    accelsim report --network "$net" --preset gemmini --out "$ROOT/reports/$net" >/dev/null
done
accelsim report --network resnet18 --preset gemmini --compare-dataflows --out "$ROOT/reports/resnet18-dataflows" \
    >/dev/null
# the mapper's example (issue 11, docs/mapper.md): fixed lowering and searched mappings on one configuration
accelsim report --network resnet50 --arch "$ROOT/examples/gemmini_256k.toml" --out "$ROOT/reports/resnet50-256k-fixed" \
    >/dev/null
accelsim report --network resnet50 --arch "$ROOT/examples/gemmini_256k.toml" --mapper search --dataflows all \
    --out "$ROOT/reports/resnet50-256k-mapped" >/dev/null
echo "reports/ regenerated"
