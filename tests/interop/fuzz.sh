#!/bin/bash
# The libFuzzer targets (tests/fuzz) for a fixed number of inputs each, after
# replaying their seed corpus: a crash, a leak, a time-out or any ASan/UBSan
# report fails. Builds build-fuzz/ with clang through scripts/fuzz.sh (about
# a minute on 2 cores the first time); the runs take under a minute.
#   FUZZ_TEST_RUNS=N   inputs per target (default 20000)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
start=$SECONDS
"$top/scripts/fuzz.sh" --runs "${FUZZ_TEST_RUNS:-20000}"
rc=$?
echo "fuzz: $((SECONDS - start)) s, build included"
[ "$rc" -eq 0 ] && echo "fuzz: passed"
exit "$rc"
