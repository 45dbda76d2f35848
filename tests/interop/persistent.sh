#!/bin/bash
# Persistent handles on a continuously available share: a raw client
# writes through one while the server is killed with SIGKILL and started
# again on the same state directory; it takes its handle back and the
# file is byte-identical, nothing acknowledged lost (persistent_client.py).
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

ready="$SRV_DIR/ready"
timeout -k 5 180 /usr/bin/python3 "$here/persistent_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" "$TEST_PASS" \
	ca "$ready" > "$SRV_DIR/client.log" 2>&1 &
client=$!
for _ in $(seq 300); do
	[ -e "$ready" ] && break
	kill -0 "$client" 2>/dev/null || break
	sleep 0.1
done
[ -e "$ready" ] || { cat "$SRV_DIR/client.log"; fail "the client never got going"; }
ls "$SRV_DIR/state/persistent" | grep -q '\.ph$' || fail "no record in the store while the handle is open"

# The crash: no shutdown, no cleanup.
kill -KILL "$SRV_PID"
wait "$SRV_PID" 2>/dev/null || true
echo "killed porthos-smbd $SRV_PID with SIGKILL"
porthos_run || fail "porthos-smbd did not start again"

rc=0
wait "$client" || rc=$?
cat "$SRV_DIR/client.log"
[ "$rc" -eq 0 ] || fail "persistent_client.py failed"
grep -q "persistent handles: 1 restored" "$SRV_DIR/smbd.log" || fail "the server log does not say it restored the handle"
ls "$SRV_DIR/state/persistent" | grep -q '\.ph$' && fail "the record outlived the CLOSE"
echo "persistent: passed"
