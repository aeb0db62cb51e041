#!/usr/bin/env bash
# Runs the whole test suite: unit and golden tests, kernel loads and real-packet lab tests
# (the last two need root and network namespaces; under CI=true they fail rather than skip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build --build-tests
swift test --skip-build "$@"
