#!/usr/bin/env bash
# Builds kubenft and the fuzz harness in release mode and fuzzes for a while (default 30 minutes).
# Needs root (nft -c runs in a throwaway network namespace). Usage:
#   scripts/fuzz.sh [MINUTES] [kubenft-fuzz options, e.g. --seed N --iterations N --out DIR]
# Prints the seed first and a summary per kind of finding last; exits 1 when anything was found.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=30
if [[ $# -gt 0 && "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    minutes=$1
    shift
fi
scripts/deps.sh
swift build -c release --product kubenft
swift build -c release --product kubenft-fuzz
bin=$(swift build -c release --show-bin-path)
limit=(--minutes "$minutes")
for arg in "$@"; do
    if [[ "$arg" == --iterations* ]]; then limit=(); fi
done
exec "$bin/kubenft-fuzz" "${limit[@]}" --corpus fixtures/fuzz/seeds --out .build/fuzz-findings "$@"
