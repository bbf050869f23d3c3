#!/usr/bin/env bash
# All tests, including the RTL benches and co-simulation (Icarus and Verilator). Extra args go to pytest,
# e.g. `bash scripts/test.sh -m "not slow and not rtl"` for the quick run. Runs on every core (pytest-xdist,
# -n auto; `-n 0` for one process): simulator builds are shared between the workers (cosim.runner.build_lock).
set -euo pipefail
ACCELSIM_EXTRAS="test,rtl,sweep" source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
exec python -m pytest -n auto "$@"
