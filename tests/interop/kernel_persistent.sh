#!/bin/bash
# The Linux kernel client (cifs.ko in a qemu guest, tests/vm/run-guest.sh),
# mounted with persistenthandles on a continuously available share, runs
# a dd while the host kills porthos-smbd with SIGKILL and starts it again
# on the same state directory: the server reads the persistent handle back
# from its store, the client reconnects and takes it back, dd finishes,
# and the file's checksum matches after a fresh mount
# (tests/vm/guest-cifs-persistent.sh).
# Needs root (qemu). Under TCG about a minute.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PORTHOS_BUILD=${PORTHOS_BUILD:-$top/build}
. "$top/tests/interop/lib.sh"

[ "$(id -u)" = 0 ] || fail "kernel_persistent needs root (qemu guest)"
"$top/tests/vm/setup.sh" >/dev/null || fail "tests/vm/setup.sh failed"

KILLER=
stop_all() {
	local rc=$?
	[ -z "$KILLER" ] || { kill "$KILLER" 2>/dev/null; wait "$KILLER" 2>/dev/null; }
	porthos_stop || rc=1
	exit $rc
}
trap stop_all EXIT
export PORTHOS_LOG_LEVEL=${PORTHOS_LOG_LEVEL:-debug}
PORTHOS_EXTRA_SHARES='[ca]
path = @SRV_DIR@/ca
read only = no
continuous availability = yes'
porthos_pre_start() { mkdir -p "$SRV_DIR/ca"; }
porthos_start || fail "porthos_start"
: >"$SRV_DIR/guest.log"

# Once dd is under way, the server is killed and started again: SRV_PID
# changes in this subshell only, so the new pid goes through a file.
(
	for _ in $(seq 1200); do
		grep -q '^PERSISTENT-WRITING' "$SRV_DIR/guest.log" && break
		sleep 0.1
	done
	grep -q '^PERSISTENT-WRITING' "$SRV_DIR/guest.log" || exit 0
	sleep 1.5
	kill -KILL "$SRV_PID"
	echo "host: killed porthos-smbd $SRV_PID with SIGKILL"
	sleep 1
	porthos_run && echo "$SRV_PID" >"$SRV_DIR/new.pid"
	echo "host: porthos-smbd started again, pid $SRV_PID"
) &
KILLER=$!

echo "== porthos-smbd on 127.0.0.1:$SRV_PORT"
"$top/tests/vm/run-guest.sh" -t 300 "$top/tests/vm/guest-cifs-persistent.sh" 10.0.2.2 "$SRV_PORT" ca \
	"$TEST_USER" "$TEST_PASS" 3.0 2>&1 | tee -a "$SRV_DIR/guest.log"
rc=${PIPESTATUS[0]}
wait "$KILLER"
KILLER=
[ -s "$SRV_DIR/new.pid" ] && SRV_PID=$(cat "$SRV_DIR/new.pid")

server_log() {
	echo "---- smbd.log: connections, persistent handles, failed calls ----"
	grep -E 'closed:|persistent handle|durable handle|-> NT_STATUS_' "$SRV_DIR/smbd.log" |
		grep -vE -- '-> NT_STATUS_(OK|MORE_PROCESSING_REQUIRED|PENDING)$' | tail -n 40
}
[ "$rc" = 0 ] || server_log
case $rc in
0) ;;
124) fail "the guest timed out" ;;
125) fail "the qemu harness failed (not a server verdict)" ;;
*) fail "the kernel client failed: $(grep -E '^GUEST-PERSISTENT-FAIL' "$SRV_DIR/guest.log")" ;;
esac
grep -q '^GUEST-PERSISTENT-OK' "$SRV_DIR/guest.log" || fail "no GUEST-PERSISTENT-OK from the guest"
grep -q '^host: killed' "$SRV_DIR/guest.log" "$SRV_DIR"/*.log 2>/dev/null || true
grep -q "persistent handles: [1-9][0-9]* restored" "$SRV_DIR/smbd.log" ||
	{ server_log; fail "the restarted server restored no persistent handle"; }
grep -q "durable handle of .* reconnected" "$SRV_DIR/smbd.log" ||
	{ server_log; fail "the client did not take its persistent handle back"; }
echo "== evidence"
grep -E "back from the store|restored|reconnected" "$SRV_DIR/smbd.log" | head -n 6
grep -E '^(sha256|GUEST-PERSISTENT)' "$SRV_DIR/guest.log"
echo "kernel_persistent: passed"
