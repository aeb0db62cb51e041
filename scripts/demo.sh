#!/usr/bin/env bash
# Compiles the bundled demo cluster (fixtures/demo) and prints the nftables ruleset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product kubenft >&2
read -r -a node_args < fixtures/demo/case.args
exec .build/release/kubenft compile -f fixtures/demo/manifests "${node_args[@]}" "$@"
