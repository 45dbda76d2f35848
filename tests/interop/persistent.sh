#!/bin/bash
# Persistent handles on a continuously available share: a raw client
# writes through one while the server is killed with SIGKILL (and then
# stopped with SIGTERM) and started again on the same state directory; it
# takes its handle back and the file is byte-identical, nothing
# acknowledged lost (persistent_client.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
trap porthos_stop EXIT
PORTHOS_EXTRA_SHARES='[ca]
path = @SRV_DIR@/ca
read only = no
continuous availability = yes'
porthos_pre_start() { mkdir -p "$SRV_DIR/ca"; }
porthos_start

# The server goes while the client writes: killed (a crash: no shutdown,
# no cleanup), or stopped in order with the handle still open (as by
# "systemctl restart"), which must exit cleanly and keep the record.
across() {
	local sig=$1 ready="$SRV_DIR/ready-$1" log="$SRV_DIR/client-$1.log" rc=0 status=0
	timeout -k 5 180 /usr/bin/python3 "$here/persistent_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" \
		"$TEST_PASS" ca "$ready" > "$log" 2>&1 &
	local client=$!
	wait_client_file "$ready" "$client" || { cat "$log"; fail "the client never got going"; }
	ls "$SRV_DIR/state/persistent" | grep -q '\.ph$' || fail "no record in the store while the handle is open"

	kill -"$sig" "$SRV_PID"
	wait "$SRV_PID" 2>/dev/null || status=$?
	echo "stopped porthos-smbd $SRV_PID with SIG$sig (exit status $status)"
	[ "$sig" = KILL ] || [ "$status" -eq 0 ] || fail "porthos-smbd exited with $status on SIG$sig with a client's files open"
	porthos_run || fail "porthos-smbd did not start again"

	wait "$client" || rc=$?
	cat "$log"
	[ "$rc" -eq 0 ] || fail "persistent_client.py failed across SIG$sig"
	[ "$(grep -c "persistent handles: 1 restored" "$SRV_DIR/smbd.log")" -eq "$2" ] ||
		fail "the server log does not say it restored the handle"
	ls "$SRV_DIR/state/persistent" | grep -q '\.ph$' && fail "the record outlived the CLOSE"
	return 0
}
across KILL 1
across TERM 2
echo "persistent: passed"
