#!/bin/bash
# Hostile input must cost nothing: malformed framing, headers, bodies and
# authentication, then a time-bounded mutation fuzz (hostile_client.py).
# The server must stay up, answer with the right statuses, keep its memory
# bounded and keep serving other clients. HOSTILE_SEED reproduces a fuzz run;
# HOSTILE_FUZZ_SECONDS and HOSTILE_GROUPS narrow it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
# A short auth timeout so stalled, never-authenticated connections go quickly.
# The logon back-off would hold the many deliberate logon failures below for
# minutes; tests/interop/logon_backoff.sh tests it on its own.
porthos_start "auth timeout = 2" "max logon delay = 0"

rc=0
HOSTILE_SHARE_DIR="$SHARE_DIR" HOSTILE_AUTH_TIMEOUT=2 \
	timeout -k 5 240 /usr/bin/python3 "$(dirname "$0")/hostile_client.py" \
	127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS" "$SRV_PID" || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "hostile_client.py failed ($rc); last server log lines:"
	tail -15 "$SRV_DIR/smbd.log"
fi

# Whatever happened, a real client is still served.
kill -0 "$SRV_PID" 2>/dev/null || fail "porthos-smbd is gone"
out=$(smbc SMB3 test ls 2>&1) || fail "smbclient after the hostile input: $out"
grep -Eq "^\s+\.\s+D" <<<"$out" || fail "smbclient listing: $out"

trap - EXIT
porthos_stop || rc=1
[ "$rc" -eq 0 ] && echo "hostile: passed"
exit "$rc"
