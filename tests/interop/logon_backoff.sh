#!/bin/bash
# Failed logons from one address slow down (conf "max logon delay"): the
# first five wrong passwords are answered at once, later ones are held for
# a doubling delay; the server keeps serving others meanwhile, and the
# right password still works (and clears the record).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start "max logon delay = 2"

wrong() {
	smbclient //127.0.0.1/test -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3 \
		-U "$TEST_USER%not-the-password" -c ls >"$SRV_DIR/out" 2>&1 && fail "a wrong password was accepted"
	grep -q NT_STATUS_LOGON_FAILURE "$SRV_DIR/out" || fail "wrong password: $(cat "$SRV_DIR/out")"
}
ms() { date +%s%3N; }

t0=$(ms)
for i in 1 2 3 4 5; do wrong; done
free=$(( $(ms) - t0 ))
[ "$free" -lt 3000 ] || fail "the first five failures took ${free} ms; they should be answered at once"

# Failures 6, 7 and 8 are held 0.5 s, 1 s and 2 s (the configured ceiling).
t0=$(ms)
wrong
held6=$(( $(ms) - t0 ))
t0=$(ms)
wrong
wrong
held78=$(( $(ms) - t0 ))
[ "$held6" -ge 450 ] || fail "the 6th failure was answered in ${held6} ms, not held 500 ms"
[ "$held78" -ge 2900 ] || fail "the 7th and 8th failures took ${held78} ms, not at least 3 s"
grep -q "repeated logon failures" "$SRV_DIR/smbd.log" || fail "the back-off is not logged"
grep -q "session setup failed: NT_STATUS_LOGON_FAILURE" "$SRV_DIR/smbd.log" || fail "failures are not logged"

# While a failure is held, another client is served.
wrong &
bg=$!
sleep 0.3
t0=$(ms)
smbc SMB3 test ls >/dev/null 2>&1 || fail "a good logon failed while a failure was being held"
served=$(( $(ms) - t0 ))
wait "$bg"
# The good logon above came from the same address, so it also reset the record.
t0=$(ms)
wrong
again=$(( $(ms) - t0 ))
[ "$again" -lt 1500 ] || fail "after a successful logon the next failure still waited ${again} ms"
echo "logon back-off: free ${free} ms for 5, held ${held6} ms then ${held78} ms, good logon in ${served} ms"
