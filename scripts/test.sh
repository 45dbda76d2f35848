#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine:
# installs what is missing, builds with -Werror, runs the unit tests (cmocka)
# and the interop tests against real clients; then builds a second tree,
# build-asan/, with ASan and UBSan and runs the unit and interop tests again
# against it (names prefixed asan/). Prints one summary line over both.
#   scripts/test.sh                      everything
#   TESTS="smbclient" scripts/test.sh    only the named interop tests
#   SANITIZE=0 scripts/test.sh           without the sanitizer pass
#   SANITIZE=thread scripts/test.sh      the second pass with ThreadSanitizer
#                                        instead (build-tsan/, names tsan/):
#                                        the loop, the I/O workers and the
#                                        clients' own threads, for races
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh test || exit 1
scripts/build.sh --enable-werror || exit 1

# Interop tests left out of the sanitizer pass, with the reason printed.
declare -A sanitizer_skip=(
	[fuzz]="the fuzz targets are a clang build of their own, with ASan and UBSan"
)

passed=0
failed=0
failed_names=()

record() { # name rc [seconds]
	local took=${3:+ (${3} s)}
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $1$took"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		echo "FAIL: $1$took"
	fi
}

# run_pass PREFIX BUILD_DIR: the unit tests and the interop tests of one build.
run_pass() {
	local prefix=$1 dir=$2 before=$failed
	export PORTHOS_BUILD="$top/$dir"
	echo "== ${prefix}unit tests"
	local unit_rc=0 f t log rc
	rm -f "$dir"/tests/unit/*.trs
	# Built two jobs at a time, run one at a time.
	make -s -j2 -C "$dir" check TESTS= >"$dir/unit.log" 2>&1
	if ! make -s -C "$dir" check >"$dir/unit.log" 2>&1; then
		unit_rc=1
		cat "$dir/unit.log"
		for f in "$dir"/tests/unit/*.log; do
			[ -f "$f" ] && grep -Eq '^\[  FAILED  \]|ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" && cat "$f"
		done
	fi
	for f in "$dir"/tests/unit/*.trs; do
		[ -f "$f" ] || continue
		t=${prefix}unit/$(basename "$f" .trs)
		grep -q ':test-result: PASS' "$f" && record "$t" 0 || record "$t" 1
	done
	[ "$unit_rc" -eq 0 ] || [ "$failed" -gt "$before" ] || record "${prefix}unit/make-check" 1

	echo "== ${prefix}interop tests"
	for t in ${TESTS:-$(cd tests/interop && ls *.sh | grep -v '^lib.sh$' | sed 's/\.sh$//')}; do
		if [ -n "$prefix" ] && [ -n "${sanitizer_skip[$t]:-}" ]; then
			echo "-- $t: not run in the sanitizer pass: ${sanitizer_skip[$t]}"
			continue
		fi
		log="$dir/interop-$t.log"
		echo "-- $t"
		local t0=$SECONDS
		timeout -k 10 1200 "tests/interop/$t.sh" >"$log" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] || tail -40 "$log"
		# With its time: the suite must stay well under 30 minutes on 2 cores.
		record "${prefix}interop/$t" "$rc" "$((SECONDS - t0))"
	done
}

start=$SECONDS
run_pass "" build
echo "== first pass: $((SECONDS - start)) s"

if [ "${SANITIZE:-1}" = 0 ]; then
	echo "== sanitizer pass skipped (SANITIZE=0)"
else
	start=$SECONDS
	# Sanitizer reports are failures: UBSan stops at the first (as ASan
	# does), LeakSanitizer checks at every exit; a program ThreadSanitizer
	# reported on exits with status 66. The server's own settings are in
	# tests/interop/lib.sh.
	if [ "${SANITIZE:-1}" = thread ]; then
		san=tsan
		echo "== building build-tsan/ (--enable-sanitizers=thread: TSan)"
		export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1"
		args="--enable-werror --enable-sanitizers=thread"
	else
		san=asan
		echo "== building build-asan/ (--enable-sanitizers: ASan, UBSan)"
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
		export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
		args="--enable-werror --enable-sanitizers"
	fi
	mkdir -p "build-$san"
	if { [ -f "build-$san/Makefile" ] && [ "$(cat "build-$san/.configure-args" 2>/dev/null)" = "$args" ]; } ||
		(cd "build-$san" && ../configure -q $args && printf '%s' "$args" >.configure-args); then
		if make -s -j2 -C "build-$san" >"build-$san/build.log" 2>&1; then
			rm -rf "build-$san/sanitizer-reports"
			run_pass "$san/" "build-$san"
		else
			cat "build-$san/build.log"
			record "$san/build" 1
		fi
	else
		record "$san/configure" 1
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS
	echo "== sanitizer pass: $((SECONDS - start)) s"
fi

echo
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
