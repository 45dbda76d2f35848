#!/bin/bash
# The Linux kernel client (cifs.ko in a qemu guest, tests/vm/run-guest.sh)
# writes half a file through one open, the host breaks its TCP connection,
# and the rest goes through the same open: the client reconnects, takes
# its durable handle back (the server's log says so) and finishes the
# write, and the file reads back whole after a fresh
# mount (tests/vm/guest-cifs-durable.sh). The connection is reset from the
# server's side with ss -K (the kernel's SOCK_DESTROY), as a failing
# network would.
# Needs root (qemu, ss -K). Under TCG about a minute.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PORTHOS_BUILD=${PORTHOS_BUILD:-$top/build}
. "$top/tests/interop/lib.sh"

[ "$(id -u)" = 0 ] || fail "kernel_durable needs root (qemu guest, ss -K)"
"$top/tests/vm/setup.sh" >/dev/null || fail "tests/vm/setup.sh failed"

trap stop_helper_and_server EXIT
export PORTHOS_LOG_LEVEL=${PORTHOS_LOG_LEVEL:-debug}
porthos_start || fail "porthos_start"
: >"$SRV_DIR/guest.log"

# Once the guest writes, every connection to the server's port is reset.
(
	wait_guest_line DURABLE-WRITING || exit 0
	ss -K -tn state established "( sport = :$SRV_PORT )" >"$SRV_DIR/ss.log" 2>&1
	echo "host: reset $(grep -c "127.0.0.1:$SRV_PORT" "$SRV_DIR/ss.log") connection(s) to the server"
) &
HELPER=$!

echo "== porthos-smbd on 127.0.0.1:$SRV_PORT"
"$top/tests/vm/run-guest.sh" -t 300 "$top/tests/vm/guest-cifs-durable.sh" 10.0.2.2 "$SRV_PORT" test \
	"$TEST_USER" "$TEST_PASS" 3.1.1 2>&1 | tee -a "$SRV_DIR/guest.log"
rc=${PIPESTATUS[0]}
wait "$HELPER"
HELPER=
guest_verdict "$rc" DURABLE
grep -q "127.0.0.1:$SRV_PORT" "$SRV_DIR/ss.log" || fail "the host reset no connection: $(cat "$SRV_DIR/ss.log")"
grep -q "kept for .* ms for its client to reconnect" "$SRV_DIR/smbd.log" ||
	fail "the server kept no durable handle when the connection broke"
grep -q "durable handle of .* reconnected" "$SRV_DIR/smbd.log" ||
	fail "the client did not take its durable handle back"
echo "== evidence"
grep -E "kept for|reconnected|closed: socket error|closed: closed by peer" "$SRV_DIR/smbd.log" | head -n 8
grep -E '^(sha256|GUEST-DURABLE)' "$SRV_DIR/guest.log"
echo "kernel_durable: passed"
