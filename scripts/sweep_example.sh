#!/usr/bin/env bash
# Regenerates reports/sweep-example from examples/sweep.toml (byte-identical run to run;
# tests/sweep/test_example.py checks that the committed files are current).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
rm -rf "$ROOT/reports/sweep-example"
accelsim sweep "$ROOT/examples/sweep.toml" --out "$ROOT/reports/sweep-example" --workers 1
