#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine:
# installs what is missing, builds with -Werror, runs the unit tests (cmocka)
# and the interop tests against real clients, and prints one summary line.
#   scripts/test.sh            everything
#   TESTS="smbclient" scripts/test.sh   only the named interop tests
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/deps.sh test || exit 1
scripts/build.sh --enable-werror || exit 1
export PORTHOS_BUILD="$top/build"

passed=0
failed=0
failed_names=()

record() { # name rc
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS: $1"
	else
		failed=$((failed + 1))
		failed_names+=("$1")
		echo "FAIL: $1"
	fi
}

echo "== unit tests"
if make -s -C build check >build/unit.log 2>&1; then
	unit_rc=0
else
	unit_rc=1
	cat build/unit.log
	for f in build/tests/unit/*.log; do
		[ -f "$f" ] && grep -q '^\[  FAILED  \]' "$f" && cat "$f"
	done
fi
for f in build/tests/unit/*.trs; do
	[ -f "$f" ] || continue
	name=unit/$(basename "$f" .trs)
	grep -q ':test-result: PASS' "$f" && record "$name" 0 || record "$name" 1
done
[ "$unit_rc" -eq 0 ] || [ "$failed" -gt 0 ] || record "unit/make-check" 1

echo "== interop tests"
for t in ${TESTS:-$(cd tests/interop && ls *.sh | grep -v '^lib.sh$' | sed 's/\.sh$//')}; do
	log="build/interop-$t.log"
	echo "-- $t"
	timeout -k 10 1200 "tests/interop/$t.sh" >"$log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || tail -40 "$log"
	record "interop/$t" "$rc"
done

echo
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
