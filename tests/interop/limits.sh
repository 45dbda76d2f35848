#!/bin/bash
# Resource limits: one client must not starve the others or make the
# server's memory grow without bound. limits_client.py does the work, in two
# phases against two servers:
#   limits: "max connections", "max open files" and "max async requests"
#           set small, each enforced with the status Windows gives;
#   load:   2,000+ connections at once, 200 connections declaring 8 MiB
#           frames and stalling, a stall half-way through a frame, and a
#           client that never reads its replies: RSS stays bounded and
#           smbclient is still served promptly.
# Then: the server raises its descriptor limit to the hard one at start, and
# says so when "max connections" cannot fit under it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
HERE=$(dirname "$0")
trap porthos_stop EXIT

# This test's own descriptors: 2,000+ sockets here and as many in the server.
conns=2100
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((conns + 300)) ]; then
	conns=$(($(ulimit -Hn) - 300))
	echo "NOTE: hard descriptor limit $(ulimit -Hn): testing $conns connections at once"
fi
ulimit -Sn $((conns + 300))

rc=0
run_client() { # phase
	local sc conf
	conf=$(smbclient_conf)
	sc="smbclient //127.0.0.1/test -p $SRV_PORT -s $conf -m SMB3"
	LIMITS_SHARE_DIR="$SHARE_DIR" LIMITS_CONNS=$conns LIMITS_SMBCLIENT="$sc -U $TEST_USER%$TEST_PASS -c ls" \
		timeout -k 5 100 /usr/bin/python3 "$HERE/limits_client.py" "$1" 127.0.0.1 "$SRV_PORT" test \
		"$TEST_USER" "$TEST_PASS" "$SRV_PID" || {
		echo "limits_client.py $1 failed; last server log lines:"
		tail -15 "$SRV_DIR/smbd.log"
		rc=1
	}
}

echo "== phase limits"
# The server starts with a soft descriptor limit below the hard one.
ulimit -Sn 512
porthos_start "max connections = 20" "max open files = 10" "max async requests = 4" "max logon delay = 0"
ulimit -Sn $((conns + 300))
soft=$(awk '/Max open files/ {print $4}' "/proc/$SRV_PID/limits")
hard=$(awk '/Max open files/ {print $5}' "/proc/$SRV_PID/limits")
if [ "$soft" = "$hard" ]; then
	echo "ok:   the server raised its descriptor limit from 512 to the hard limit ($hard)"
else
	echo "FAIL: the server's descriptor limit is $soft, hard $hard"
	rc=1
fi
run_client limits
n=$(grep -c 'max connections' "$SRV_DIR/smbd.log" || true)
if [ "$n" -ge 1 ] && [ "$n" -le 2 ]; then
	echo "ok:   refused connections logged, rate-limited ($n line(s) for 5 refusals)"
else
	echo "FAIL: 'max connections' logged $n times for 5 refusals (want 1, rate-limited)"
	rc=1
fi
grep -q 'max open files' "$SRV_DIR/smbd.log" || { echo "FAIL: no log line for max open files"; rc=1; }
grep -q 'max async requests' "$SRV_DIR/smbd.log" || { echo "FAIL: no log line for max async requests"; rc=1; }
porthos_stop || rc=1

echo "== phase load"
porthos_start "auth timeout = 5" "max logon delay = 0"
run_client load
kill -0 "$SRV_PID" 2>/dev/null || fail "porthos-smbd is gone"
out=$(smbc SMB3 test ls 2>&1) || { echo "FAIL: smbclient after the load: $out"; rc=1; }
porthos_stop || rc=1

echo "== max connections above the descriptor limit"
# A hard limit the configured maximum cannot fit under: the server starts
# and says so. Quick mode, no config file.
d=$(mktemp -d /tmp/porthos-test.XXXXXX)
pid=
trap 'porthos_stop; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$d"' EXIT
mkdir -p "$d/share" "$d/state"
port=$(free_port)
(ulimit -Sn 512 && ulimit -Hn 1024 && exec "$SMBD" --share test="$d/share" --listen 127.0.0.1:"$port" --state-dir "$d/state" \
	>"$d/log" 2>&1) &
pid=$!
for _ in $(seq 1 50); do
	grep -q ready "$d/log" 2>/dev/null && break
	sleep 0.1
done
if grep -q 'max connections = 16384 cannot be reached: the file descriptor limit is 1024' "$d/log"; then
	echo "ok:   logged: $(grep -o 'max connections = 16384 cannot.*' "$d/log")"
else
	echo "FAIL: no warning that max connections cannot fit:"
	cat "$d/log" || true
	rc=1
fi
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
rm -rf "$d"

trap - EXIT
[ "$rc" -eq 0 ] && echo "limits: passed"
exit "$rc"
