#!/usr/bin/env bash
# The main job on a built-in default: simulate ResNet-50 on the default preset. Extra args go to the CLI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [ $# -eq 0 ]; then set -- simulate --network resnet50; fi
exec accelsim "$@"
