#!/bin/bash
# The Linux kernel client (cifs.ko in a qemu guest, tests/vm/) with
# sec=krb5 against Porthos: the test KDC (tests/kdc/kdc.sh) and Porthos run
# on the host's 127.0.0.1, which the guest reaches as 10.0.2.2; the guest
# kinits with the user's password and mounts //porthos.porthos.test/test
# (an /etc/hosts name in the guest, the service principal
# cifs/porthos.porthos.test) through cifs.upcall
# (tests/vm/guest-cifs-krb5.sh). Cases: vers=3.1.1, 3.1.1 with seal,
# 3.0 with sign; each is guest-cifs-rw.sh's 64 MiB round trip.
#
# Env: KK_CASES overrides the case list; PORTHOS_LOG_LEVEL (default debug).
# Needs root (qemu, apt for tests/vm/setup.sh); about a minute under TCG.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PORTHOS_BUILD=${PORTHOS_BUILD:-$top/build}
. "$top/tests/interop/lib.sh"
. "$top/tests/kdc/kdc.sh"

CASES=${KK_CASES:-"3.1.1 3.1.1:seal 3.0:sign"}
export PORTHOS_LOG_LEVEL=${PORTHOS_LOG_LEVEL:-debug}

[ "$(id -u)" = 0 ] || fail "kernel_krb5 needs root (qemu guest, apt)"
"$top/tests/vm/setup.sh" >/dev/null || fail "tests/vm/setup.sh failed"

cleanup() {
	local rc=$?
	porthos_stop || rc=1
	kdc_stop
	exit $rc
}
trap cleanup EXIT

kdc_start || fail "cannot start the test KDC"
porthos_pre_start() {
	"$CTL" --passdb "$SRV_DIR/state/passdb" user add "$KDC_USER" --uid 0 --gid 0 \
		--no-password >/dev/null
}
porthos_start "kerberos keytab = $KDC_KEYTAB" "realm = $KDC_REALM" || fail "porthos_start"

echo "== KDC 127.0.0.1:$KDC_PORT ($KDC_REALM), porthos-smbd 127.0.0.1:$SRV_PORT, cases: $CASES"
# shellcheck disable=SC2086
"$top/tests/vm/run-guest.sh" -t 420 "$top/tests/vm/guest-cifs-krb5.sh" \
	"$KDC_PORT" "$SRV_PORT" test "$KDC_REALM" "$KDC_USER" "$KDC_PASS" "$KDC_HOSTNAME" \
	$CASES 2>&1 | tee "$SRV_DIR/guest.log"
rc=${PIPESTATUS[0]}

server_log() {
	echo "---- smbd.log: Kerberos, warnings, errors ----"
	grep -E 'Kerberos|\[(warn|error)\]' "$SRV_DIR/smbd.log" | tail -n 40
	echo "---- kdc.log ----"
	tail -n 20 "$KDC_DIR/kdc.log"
}

case $rc in
0) ;;
124) server_log; fail "the guest timed out" ;;
125) server_log; fail "the qemu harness failed (not a server verdict)" ;;
*) server_log; fail "the kernel client failed: $(grep -E '^KRB5-CASE FAIL' "$SRV_DIR/guest.log" | tr '\n' ';')" ;;
esac
grep -q '^KRB5-SUITE OK' "$SRV_DIR/guest.log" || fail "no KRB5-SUITE OK line from the guest"
for c in $CASES; do
	grep -qF "KRB5-CASE PASS $c (" "$SRV_DIR/guest.log" || fail "case $c did not pass"
done
# The server saw Kerberos logons of that principal, and no NTLM ones.
grep -qF "user '$KDC_USER' authenticated (Kerberos principal '$KDC_USER@$KDC_REALM')" "$SRV_DIR/smbd.log" ||
	fail "no Kerberos logon in the server log"
! grep -q "authenticated (NTLMv2)" "$SRV_DIR/smbd.log" || fail "an NTLM logon happened"
# DebugData calls the session Kerberos ("Security type: Kerberos").
grep -qE 'Security type: (MS)?Kerberos' "$SRV_DIR/guest.log" ||
	fail "the client's DebugData does not show a Kerberos session"
if grep -q 'seal' <<<"$CASES"; then
	awk '/^######## case .*opts=seal/ {on=1; next} /^######## case/ {on=0} on' "$SRV_DIR/guest.log" |
		grep -q 'type: DISK.* encrypted' || fail "the sealed mount's tree is not marked encrypted"
fi
left=$(ls -A "$SHARE_DIR")
[ -z "$left" ] || fail "left on the share: $left"
echo "== evidence"
grep -E '^(== mount |sha256 (src|back) |[[:space:]]+Security type:|KRB5-CASE |[[:space:]]*[0-9/]+ [0-9:]+ +[0-9/]+ [0-9:]+ +cifs/)' \
	"$SRV_DIR/guest.log" | sed 's/^[[:space:]]*//' | awk '!seen[$0]++'
echo "kernel_krb5: all cases passed"
