#!/bin/bash
# A multichannel client's channel dies while a lease break goes to it: the
# server sends the break again on the session's other channel and closes
# the stalled one (channel_stall_client.py). The channel's death is an
# iptables rule dropping what it sends, so the test runs in a network
# namespace of its own, with only a loopback.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PORTHOS_STALL_NETNS:-}" ]; then
	ns=porthos-stall-$$
	ip netns add "$ns"
	# Gone with the run, even one that is killed.
	trap 'ip netns del "$ns" 2>/dev/null' EXIT
	trap 'exit 143' TERM INT
	rc=0
	PORTHOS_STALL_NETNS=$ns ip netns exec "$ns" sh -c 'ip link set lo up && exec bash "$0"' "$0" || rc=$?
	exit $rc
fi
. "$here/lib.sh"
trap porthos_stop EXIT
porthos_start

port_file="$SRV_DIR/channel1-port" blocked="$SRV_DIR/channel1-blocked"
timeout -k 5 120 /usr/bin/python3 "$here/channel_stall_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" \
	"$TEST_PASS" "$port_file" "$blocked" > "$SRV_DIR/client.log" 2>&1 &
client=$!
wait_client_file "$port_file" "$client" || { cat "$SRV_DIR/client.log"; fail "the client never bound its second channel"; }
iptables -I OUTPUT -p tcp --sport "$(cat "$port_file")" -j DROP
touch "$blocked"

rc=0
wait "$client" || rc=$?
cat "$SRV_DIR/client.log"
[ "$rc" -eq 0 ] || fail "channel_stall_client.py failed"
grep -q "closed: stalled while a lease break waited" "$SRV_DIR/smbd.log" ||
	fail "the server did not close the stalled channel"
echo "channel_stall: passed"
