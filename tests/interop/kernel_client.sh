#!/bin/bash
# The Linux kernel SMB client (cifs.ko of Debian's own kernel, booted in a
# qemu guest by tests/vm/run-guest.sh) against Porthos. For each case the
# guest mounts //10.0.2.2/test (the host's 127.0.0.1), writes a 64 MiB
# random file, remounts with dropped caches, reads it back and compares
# sha256, checks that a second mount on its own connection reads an
# in-place write made through the first (the write must break the second
# client's read lease), lists the directory (name and size), makes and
# removes a directory and deletes the file (tests/vm/guest-cifs-rw.sh).
#
# Required cases: vers=3.1.1 and vers=3.0, each unsigned (the kernel's
# default against a server that does not require signing) and with the
# "sign" mount option, vers=3.1.1 with "seal" (SMB3 encryption), and
# multichannel (a second channel bound to the session, MS-SMB2 3.3.5.5)
# signed with 3.1.1 and sealed with 3.0: the client must show the extra
# channel, and more connections than mounts must carry data.
# Informational (reported, never failing the test):
# vers=2.1.
#
# Env: KC_CASES overrides the case list (see tests/vm/guest-cifs-suite.sh);
# PORTHOS_CIFS_DEBUG=0 turns the guest's cifs debug log off;
# PORTHOS_CAPTURE=1 records the TCP conversation with dumpcap (tshark
# package) on lo into $SRV_DIR/kernel_client.pcapng (keep it with
# PORTHOS_KEEP=1); PORTHOS_LOG_LEVEL (default here: debug).
# Needs root (qemu, apt for tests/vm/setup.sh). Under TCG it takes 80 s on an
# idle 2-CPU host and up to ~2.5 min on a busy one (guest hard limit 420 s).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export PORTHOS_BUILD=${PORTHOS_BUILD:-$top/build}
. "$top/tests/interop/lib.sh"

MC=multichannel,max_channels=2
CASES=${KC_CASES:-"3.1.1 3.0 3.1.1:sign 3.0:sign 3.1.1:seal 3.1.1:$MC,sign 3.0:$MC,seal ?2.1"}
export PORTHOS_LOG_LEVEL=${PORTHOS_LOG_LEVEL:-debug}

[ "$(id -u)" = 0 ] || fail "kernel_client needs root (qemu guest, apt)"
"$top/tests/vm/setup.sh" >/dev/null || fail "tests/vm/setup.sh failed"

CAP_PID=
stop_all() {
	local rc=$?
	if [ -n "$CAP_PID" ]; then
		kill "$CAP_PID" 2>/dev/null
		wait "$CAP_PID" 2>/dev/null
		CAP_PID=
	fi
	porthos_stop || rc=1
	exit $rc
}
trap stop_all EXIT
# The guest reaches the host as 10.0.2.2 (qemu's user network), not as the
# 127.0.0.1 the server listens on: that is the address to bind channels to.
porthos_start "multi channel addresses = 10.0.2.2;rss" || fail "porthos_start"

if [ "${PORTHOS_CAPTURE:-0}" = 1 ]; then
	command -v dumpcap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q tshark >/dev/null ||
		fail "cannot install tshark"
	dumpcap -q -i lo -f "tcp port $SRV_PORT" -w "$SRV_DIR/kernel_client.pcapng" \
		>"$SRV_DIR/dumpcap.log" 2>&1 &
	CAP_PID=$!
	sleep 1
	echo "capturing tcp port $SRV_PORT on lo into $SRV_DIR/kernel_client.pcapng"
fi

echo "== porthos-smbd on 127.0.0.1:$SRV_PORT, cases: $CASES"
# shellcheck disable=SC2086
"$top/tests/vm/run-guest.sh" -t 420 -e PORTHOS_CIFS_DEBUG="${PORTHOS_CIFS_DEBUG:-1}" \
	"$top/tests/vm/guest-cifs-suite.sh" 10.0.2.2 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS" \
	$CASES 2>&1 | tee "$SRV_DIR/guest.log"
rc=${PIPESTATUS[0]}

server_log() {
	echo "---- smbd.log: warnings, errors and failed calls ----"
	grep -E '\[(warn|error)\]|-> NT_STATUS_' "$SRV_DIR/smbd.log" |
		grep -vE -- '-> NT_STATUS_(OK|MORE_PROCESSING_REQUIRED)$' | tail -n 60
	echo "---- smbd.log: last 60 lines ----"
	tail -n 60 "$SRV_DIR/smbd.log"
}

case $rc in
0) ;;
124) server_log; fail "the guest timed out" ;;
125) server_log; fail "the qemu harness failed (not a server verdict)" ;;
*) server_log; fail "the kernel client failed: $(grep -E '^CIFS-CASE (FAIL|INFO-FAIL)' "$SRV_DIR/guest.log" | tr '\n' ';')" ;;
esac

grep -q '^CIFS-SUITE OK' "$SRV_DIR/guest.log" || fail "no CIFS-SUITE OK line from the guest"
for c in $CASES; do
	case $c in \?*) continue ;; esac
	grep -qF "CIFS-CASE PASS $c (" "$SRV_DIR/guest.log" || fail "case $c did not pass"
done
# A sealed mount must really be encrypted: the client's DebugData for that
# case marks the tree "encrypted" (the case's section runs to the next one).
if grep -q 'seal' <<<"$CASES"; then
	# (grep reads it all: with -q it could leave awk to die of SIGPIPE,
	# which pipefail would take for a failure)
	awk '/^######## case .*opts=.*seal/ {on=1; next} /^######## case/ {on=0} on' "$SRV_DIR/guest.log" |
		grep 'type: DISK.* encrypted' >/dev/null || fail "the sealed mount's tree is not marked encrypted"
fi
# A multichannel mount must have bound its second channel, and that
# channel must have carried data: every case makes two mounts (write, then
# read), each with one data-carrying connection, and each multichannel
# case adds at least one more (the server logs each connection's bytes
# when it closes).
n_mc=0
n_cases=0
for c in $CASES; do
	grep -qF "CIFS-CASE PASS ${c#\?} (" "$SRV_DIR/guest.log" || continue
	n_cases=$((n_cases + 1))
	case $c in *multichannel*) n_mc=$((n_mc + 1)) ;; esac
done
if [ "$n_mc" -gt 0 ]; then
	n_extra=$(grep -c 'Extra Channels: 1' "$SRV_DIR/guest.log")
	[ "$n_extra" -ge "$n_mc" ] || fail "multichannel mounts show $n_extra extra channels, expected $n_mc"
	# (the guest's last connections may still be closing: up to 5 s)
	for _ in $(seq 50); do
		data_conns=$(sed -nE 's/.* closed: .*\(([0-9]+) PDUs, ([0-9]+) KiB in, ([0-9]+) KiB out\)$/\2 \3/p' \
			"$SRV_DIR/smbd.log" | awk '$1 + $2 > 1024' | wc -l)
		[ "$data_conns" -ge $((2 * n_cases + n_mc)) ] && break
		sleep 0.1
	done
	[ "$data_conns" -ge $((2 * n_cases + n_mc)) ] ||
		fail "only $data_conns connections carried data for $n_cases mounts x2 + $n_mc second channels"
	echo "multichannel: $n_extra extra channels bound, $data_conns connections carried data"
fi
# Every case deletes what it made: the share must be empty again.
left=$(ls -A "$SHARE_DIR")
[ -z "$left" ] || fail "left on the share: $left"
echo "== evidence"
grep -E '^(== mount |sha256 (src|back) |Number of credits:.*Dialect|[[:space:]]+Security type:|CIFS-CASE )' \
	"$SRV_DIR/guest.log" | sed 's/^[[:space:]]*//'
echo "kernel_client: all required cases passed"
