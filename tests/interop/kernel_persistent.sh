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

trap stop_helper_and_server EXIT
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
	wait_guest_line PERSISTENT-WRITING || exit 0
	sleep 1.5
	kill -KILL "$SRV_PID"
	echo "host: killed porthos-smbd $SRV_PID with SIGKILL" | tee -a "$SRV_DIR/host.log"
	sleep 1
	porthos_run && echo "$SRV_PID" >"$SRV_DIR/new.pid"
	echo "host: porthos-smbd started again, pid $SRV_PID"
) &
HELPER=$!

echo "== porthos-smbd on 127.0.0.1:$SRV_PORT"
"$top/tests/vm/run-guest.sh" -t 300 "$top/tests/vm/guest-cifs-persistent.sh" 10.0.2.2 "$SRV_PORT" ca \
	"$TEST_USER" "$TEST_PASS" 3.0 2>&1 | tee -a "$SRV_DIR/guest.log"
rc=${PIPESTATUS[0]}
wait "$HELPER"
HELPER=
[ -s "$SRV_DIR/new.pid" ] && SRV_PID=$(cat "$SRV_DIR/new.pid")
guest_verdict "$rc" PERSISTENT
grep -q '^host: killed' "$SRV_DIR/host.log" 2>/dev/null || fail "the host did not kill the server"
grep -q "persistent handles: [1-9][0-9]* restored" "$SRV_DIR/smbd.log" ||
	{ server_log_summary; fail "the restarted server restored no persistent handle"; }
grep -q "durable handle of .* reconnected" "$SRV_DIR/smbd.log" ||
	{ server_log_summary; fail "the client did not take its persistent handle back"; }
echo "== evidence"
grep -E "back from the store|restored|reconnected" "$SRV_DIR/smbd.log" | head -n 6
grep -E '^(sha256|GUEST-PERSISTENT)' "$SRV_DIR/guest.log"
echo "kernel_persistent: passed"
