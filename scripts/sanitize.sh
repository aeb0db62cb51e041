#!/usr/bin/env bash
# Runs the test suite under ThreadSanitizer and under AddressSanitizer, each built in its own
# scratch directory (.build-tsan, .build-asan, ignored by git). Not run in CI: each build takes
# several minutes on two cores. Run it after touching threads, locks, unsafe pointers or the C shim.
#
#   scripts/sanitize.sh                 # both sanitizers, every suite except the packet lab
#   scripts/sanitize.sh thread          # one sanitizer
#   SANITIZE_LAB=1 scripts/sanitize.sh  # the lab suites too (slow under sanitizers)
#   SANITIZE_FILTER=Reader scripts/sanitize.sh address   # only tests matching a filter
#
# The lab suites (names containing "Lab") start agents in network namespaces and send real
# packets; under a sanitizer they take many times longer, so they are skipped unless asked for.
# Kernel tests that load rules into throwaway namespaces run when root, as in scripts/test.sh.
# Exit status: non-zero when a build fails, a test fails or a sanitizer reports a problem.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(thread address)

selection=()
[ -n "${SANITIZE_FILTER:-}" ] && selection+=(--filter "$SANITIZE_FILTER")
[ -n "${SANITIZE_LAB:-}" ] || selection+=(--skip 'Lab')

# A report fails the run instead of only being printed.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1}"

for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        thread) scratch=.build-tsan ;;
        address) scratch=.build-asan ;;
        *) echo "usage: $0 [thread|address]..." >&2; exit 2 ;;
    esac
    echo "== $sanitizer sanitizer (scratch path $scratch)"
    swift build --build-tests --sanitize="$sanitizer" --scratch-path "$scratch"
    swift test --skip-build --sanitize="$sanitizer" --scratch-path "$scratch" "${selection[@]}"
done
