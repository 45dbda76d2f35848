#!/bin/bash
# Samba's smbtorture against Porthos: the suites listed below, with the
# expected failures in tests/knownfail/smbtorture (one "suite.test  reason"
# per line, as Samba lists its own). A failure not listed fails this test,
# and so does a listed test that now passes (so the list stays true).
# TORTURE_SUITES="a b" runs those entries instead, with iptables stalls
# if TORTURE_IPTABLES=yes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# Tests that stall a channel drop its packets with iptables
# (torture:use_iptables), so the run has a network namespace of its own,
# with only a loopback: its rules touch nothing outside it.
if [ -z "${PORTHOS_TORTURE_NETNS:-}" ]; then
	ns=porthos-torture-$$
	ip netns add "$ns" || exit 1
	# Gone with the run, even one that is killed.
	trap 'ip netns del "$ns" 2>/dev/null' EXIT
	trap 'exit 143' TERM INT
	PORTHOS_TORTURE_NETNS=$ns ip netns exec "$ns" sh -c 'ip link set lo up && exec bash "$0"' "$0"
	rc=$?
	exit $rc
fi
. "$here/lib.sh"
knownfail="$here/../knownfail/smbtorture"

suites=(
	smb2.connect smb2.read smb2.rw smb2.dir smb2.getinfo smb2.setinfo smb2.tcon
	smb2.session smb2.multichannel smb2.ioctl.network_interface_info
	smb2.ioctl.compress_notsup_get smb2.ioctl.compress_notsup_set
	smb2.create smb2.compound smb2.compound_find smb2.compound_async smb2.credits smb2.lock smb2.sharemode smb2.oplock
	smb2.delete-on-close-perms smb2.durable-open smb2.durable-v2-open smb2.durable-v2-delay smb2.rename
	# smb2.replay test by test. Of its 40 dhv2-pending* tests (a replay
	# while the first CREATE waits for a break) the -windows ones run: a
	# replay of a pending CREATE gets ACCESS_DENIED as from Windows, and a
	# CREATE whose channel died completes for the session's other channels
	# (smbd/replay_pending.h; the -sane twins expect Samba's
	# FILE_NOT_AVAILABLE). One of each kind runs (5-11 s each; the rest
	# pass too, run by hand); pending3* stall channels (below).
	smb2.replay.dhv2-pending1n-vs-violation-lease-close-windows smb2.replay.dhv2-pending1n-vs-lease-windows
	smb2.replay.dhv2-pending1l-vs-oplock-windows smb2.replay.dhv2-pending1o-vs-lease-windows
	smb2.replay.dhv2-pending2n-vs-oplock-windows smb2.replay.dhv2-pending2l-vs-lease-windows
	smb2.replay.replay-commands smb2.replay.replay-regular smb2.replay.replay-dhv2-oplock1
	smb2.replay.replay-dhv2-oplock2 smb2.replay.replay-dhv2-oplock3 smb2.replay.replay-dhv2-oplock-lease
	smb2.replay.replay-dhv2-lease1 smb2.replay.replay-dhv2-lease2 smb2.replay.replay-dhv2-lease3
	smb2.replay.replay-dhv2-lease-oplock smb2.replay.channel-sequence smb2.replay.replay3
	smb2.replay.replay4 smb2.replay.replay5 smb2.replay.replay6 smb2.replay.replay7
	# smb2.lease test by test: with its two 35-second break time-outs the
	# whole suite can pass the 180 s a run may take on a loaded machine.
	smb2.lease.request smb2.lease.break_twice smb2.lease.nobreakself smb2.lease.statopen
	smb2.lease.statopen2 smb2.lease.statopen3 smb2.lease.statopen4 smb2.lease.upgrade smb2.lease.upgrade2
	smb2.lease.upgrade3 smb2.lease.break smb2.lease.oplock smb2.lease.multibreak smb2.lease.breaking1
	smb2.lease.breaking2 smb2.lease.breaking3 smb2.lease.v2_breaking3 smb2.lease.breaking4
	smb2.lease.breaking5 smb2.lease.breaking6 smb2.lease.lock1 smb2.lease.complex1
	smb2.lease.v2_request_parent smb2.lease.v2_request smb2.lease.v2_epoch1 smb2.lease.v2_epoch2
	smb2.lease.v2_epoch3 smb2.lease.v2_complex1 smb2.lease.v2_complex2 smb2.lease.v2_rename
	smb2.lease.dynamic_share smb2.lease.timeout smb2.lease.unlink smb2.lease.timeout-disconnect
	smb2.lease.rename_wait smb2.lease.duplicate_create smb2.lease.duplicate_open
	smb2.lease.v1_bug15148 smb2.lease.v2_bug15148
	# smb2.notify test by test: "mask" sleeps for 100 s (it passes, run
	# by hand).
	smb2.notify.rec smb2.notify.valid-req smb2.notify.tcon smb2.notify.dir smb2.notify.tdis smb2.notify.tdis1
	smb2.notify.mask-change smb2.notify.close smb2.notify.logoff smb2.notify.invalid-reauth
	smb2.notify.basedir smb2.notify.double smb2.notify.file smb2.notify.tcp smb2.notify.overflow
	smb2.notify.handle-permissions smb2.notify.rmdir1 smb2.notify.rmdir2 smb2.notify.rmdir3
	smb2.notify.rmdir4 smb2.notify.session-reconnect smb2.notify.tree
	# On a continuously available share ("share:suite" runs a suite on
	# another share; its results are named so): persistent handles.
	ca:smb2.durable-v2-open.persistent-open-oplock ca:smb2.durable-v2-open.persistent-open-lease
)
# Tests run with torture:use_iptables, which stall a channel by dropping
# what the client sends on it. Others that can (smb2.oplock.batch22b, the
# smb2.multichannel ones) run without: each waits out a 35 s break
# time-out, and they fail for other reasons (tests/knownfail/smbtorture).
blocking=(
	smb2.replay.dhv2-pending3n-vs-lease-windows smb2.replay.dhv2-pending3o-vs-oplock-windows
)
if [ -n "${TORTURE_SUITES:-}" ]; then
	read -r -a suites <<<"$TORTURE_SUITES"
	blocking=()
fi
stalls() {
	local b
	for b in "${blocking[@]}"; do [ "$b" = "$1" ] && return 0; done
	[ "${TORTURE_IPTABLES:-no}" = yes ]
}

trap porthos_stop EXIT
# smb2.session.expire* need Kerberos: kerberos.sh runs them against its KDC.
# smb2.session.reauth2-5 re-authenticate as anonymous, which Windows allows;
# Porthos refuses null sessions unless told to.
# A second user for the tests that need one (smb2.session.bind_different_user).
USER2=porthostest2
USER2_PASS='An0ther-pass!'
PORTHOS_EXTRA_SHARES='[test2]
path = @SRV_DIR@/share2
read only = no
[ca]
path = @SRV_DIR@/ca
read only = no
continuous availability = yes'
porthos_pre_start() {
	mkdir -p "$SRV_DIR/ca" "$SRV_DIR/share2"
	printf '%s\n' "$USER2_PASS" | "$CTL" --passdb "$SRV_DIR/state/passdb" user add "$USER2" \
		--uid 0 --gid 0 --password-stdin >/dev/null
}
PORTHOS_ALLOW_ANONYMOUS=yes porthos_start || exit 1

results="$SRV_DIR/torture-results"

# run_entry ENTRY SHARE OUT: one smbtorture run (on SHARE unless the entry
# names its share), its results appended to OUT as "result name" lines.
run_entry() {
	local entry=$1 share=$2 out=$3 prefix= iptables=no suite=$1 log rc
	! stalls "$entry" || iptables=yes
	if [[ "$entry" == *:* ]]; then
		share=${entry%%:*} suite=${entry#*:} prefix="$share:"
	fi
	log="$SRV_DIR/torture-$entry.log"
	local t0=$SECONDS
	(cd "$SRV_DIR" && timeout -k 5 180 smbtorture "//127.0.0.1/$share" -p "$SRV_PORT" -s "$(smbclient_conf)" \
		-U "$TEST_USER%$TEST_PASS" --option=torture:progress=no --option=torture:use_iptables=$iptables \
		--option=torture:user2name="$USER2" --option=torture:user2password="$USER2_PASS" \
		--option=torture:user2domain=WORKGROUP "$suite") >"$log" 2>&1
	rc=$?
	echo "$((SECONDS - t0)) $entry" >>"$SRV_DIR/torture-times"
	# A suite that hangs, crashes or reports nothing is a failure of its own.
	if [ $rc -ge 124 ] || ! grep -qE '^(success|failure|error|skip|xfail): ' "$log"; then
		echo "error $entry" >>"$out"
		echo "$entry: smbtorture exited with $rc" >>"$log"
		return
	fi
	# "success: name", "failure: name [", "error: name [", "skip: name [":
	# a multi-test suite prefixes nothing, so qualify names with the suite
	# unless the suite itself is a single test. A name with spaces
	# ("OVERWRITE_IF Existing") is written with underscores.
	sed -nE 's/^(success|failure|error|skip|xfail): ([^[]*[^[ ]).*/\1 \2/p' "$log" |
	while read -r result name; do
		name=${name// /_}
		case "$suite" in
		*."$name") full=$suite ;;
		*) full="$suite.$name" ;;
		esac
		echo "$result $prefix$full"
	done >>"$out"
}

# Two runs at a time, each on a share of its own, taking the next entry
# as they finish: most tests wait (break time-outs, sleeps) far more than
# they work, so the two halve the time on 2 cores. Entries that name a
# share, and the channel stalls (they share iptables chains), run after,
# one at a time.
parallel=() serial=()
for entry in "${suites[@]}"; do
	if [[ "$entry" == *:* ]]; then serial+=("$entry"); else parallel+=("$entry"); fi
done
serial+=("${blocking[@]}")
printf '%s\n' "${parallel[@]}" > "$SRV_DIR/torture-queue"
echo 0 > "$SRV_DIR/torture-next"
worker() { # worker SHARE OUT
	local i entry
	while :; do
		i=$(flock "$SRV_DIR/torture-next" sh -c 'i=$(cat "$0"); echo $((i + 1)) > "$0"; echo "$i"' \
			"$SRV_DIR/torture-next")
		entry=$(sed -n "$((i + 1))p" "$SRV_DIR/torture-queue")
		[ -n "$entry" ] || return 0
		run_entry "$entry" "$1" "$2"
	done
}
worker test "$results.0" &
other=$!
worker test2 "$results.1"
wait "$other"
for entry in "${serial[@]}"; do
	run_entry "$entry" test "$results.2"
done
cat "$results.0" "$results.1" "$results.2" > "$results" 2>/dev/null

# A known-failure entry names one test, or ends in '*' to name every test
# that starts so (a family waiting on one feature, e.g. session binding).
mapfile -t patterns < <(grep -vE '^[[:space:]]*(#|$)' "$knownfail" | awk '{print $1}')
is_known() {
	local p
	for p in "${patterns[@]}"; do
		case "$p" in
		*'*') [[ "$1" == "${p%\*}"* ]] && return 0 ;;
		*) [ "$1" = "$p" ] && return 0 ;;
		esac
	done
	return 1
}
bad=0
while read -r result name; do
	listed=no
	is_known "$name" && listed=yes
	case "$result/$listed" in
	success/no) echo "ok        $name" ;;
	skip/*) echo "skip      $name" ;;
	success/yes) echo "UNEXPECTED SUCCESS $name (remove it from tests/knownfail/smbtorture)"; bad=1 ;;
	*/yes) echo "knownfail $name" ;;
	*/no)
		echo "FAILED    $name"
		bad=1
		;;
	esac
done <"$results"
if [ $bad -ne 0 ]; then
	for f in "$SRV_DIR"/torture-*.log; do
		grep -B2 -A6 -E '^(failure|error):' "$f" | head -60
	done
	tail -30 "$SRV_DIR/smbd.log"
fi
echo "smbtorture: $(grep -c '^success' "$results") succeeded, $(grep -cE '^(failure|error)' "$results") failed (known: $(grep -cvE '^\s*(#|$)' "$knownfail"))"
echo "slowest runs (s): $(sort -rn "$SRV_DIR/torture-times" | head -5 | paste -sd ' ' | sed 's/ \([0-9]\)/, \1/g')"
exit $bad
