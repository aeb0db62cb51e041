#!/bin/sh
# Builds kubenft-bench in release mode and runs it. Arguments are passed through, e.g.
#   scripts/bench.sh --scenarios 1000x10,3000x10,10000x10 --json-file bench.json
#   scripts/bench.sh --suites policies,diff --policy-scenarios 2000x100,20000x1000
# Suites: services (N services × M endpoints), policies (P pods × Q NetworkPolicies), diff
# (ChangeAnalysis.compare at scale); all three by default.
# The kernel-load figures need root (they create and delete network namespaces); without root
# they are skipped with a note in the report.
set -eu
cd "$(dirname "$0")/.."
scratch="${KUBENFT_BENCH_SCRATCH:-.build-release}"
swift build -c release --product kubenft-bench --scratch-path "$scratch" >&2
exec "$scratch/release/kubenft-bench" "$@"
