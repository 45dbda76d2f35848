#!/bin/bash
# Builds the libFuzzer targets in build-fuzz/ (CC=clang --enable-fuzzing:
# every object instrumented for coverage, with ASan and UBSan) and runs
# each over its seed corpus (tests/fuzz/corpus/<target>/).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target for SECONDS (default 60)
#   scripts/fuzz.sh --runs N [TARGET...]    each for N inputs after its corpus
# TARGET is a name such as fuzz_rpc; the default is all of them. Crashing
# inputs land in build-fuzz/tests/fuzz/crashes/; reproduce one with
#   build-fuzz/tests/fuzz/fuzz_rpc build-fuzz/tests/fuzz/crashes/fuzz_rpc-crash-...
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

seconds=60
runs=
case "${1:-}" in
--runs)
	runs=${2:?--runs wants a number}
	shift 2
	;;
[0-9]*)
	seconds=$1
	shift
	;;
esac

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev, or scripts/deps.sh test)" >&2
	exit 1
fi
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p build-fuzz
cd build-fuzz
args="CC=clang --enable-fuzzing --enable-werror"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$args" ]; then
	../configure -q CC=clang --enable-fuzzing --enable-werror
	printf '%s' "$args" >.configure-args
fi
make_args=(FUZZ_SECONDS="$seconds" FUZZ_RUNS="$runs")
if [ $# -gt 0 ]; then
	make_args+=(FUZZ_TARGETS="${*/#/tests/fuzz/}")
fi
# Two jobs at most: the machines this runs on are shared.
make -s -j2 "${make_args[@]}" fuzz
