#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): guest-cifs-rw.sh once per
# CASE in one boot, with the cifs debug output kept for the cases that fail.
#
# usage: guest-cifs-suite.sh HOST PORT SHARE USER PASS CASE...
#   CASE  VERS[:OPTS], e.g. 3.1.1  3.0  3.1.1:sign  3.0:sign,seal
#         A leading "?" makes the case informational: its result is
#         reported but does not change the exit status (e.g. ?2.1).
#
# Env: PORTHOS_CIFS_DEBUG=1 (default) turns on cifsFYI and the cifs
# dynamic-debug messages (pr_debug, rate-limited per call site by the
# kernel); the kernel log of a failed case is printed after it. 0 turns
# this off.
#
# Prints one "CIFS-CASE PASS|FAIL|INFO-FAIL <case>" line per case and a
# "CIFS-SUITE ..." summary; exits 1 if a required case failed.
set -u

if [ $# -lt 6 ]; then
	echo "usage: $0 HOST PORT SHARE USER PASS CASE..." >&2
	exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOST=$1 PORT=$2 SHARE=$3 USER_=$4 PASS=$5
shift 5
DEBUG=${PORTHOS_CIFS_DEBUG:-1}

modprobe cifs || { echo "CIFS-SUITE FAIL: modprobe cifs"; exit 1; }
if [ "$DEBUG" = 1 ]; then
	echo 1 > /proc/fs/cifs/cifsFYI
	# cifs_dbg(FYI, ...) is pr_debug: it reaches the log only if dynamic
	# debug enables the module's call sites.
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
	if [ -w /sys/kernel/debug/dynamic_debug/control ]; then
		echo 'module cifs +p' > /sys/kernel/debug/dynamic_debug/control
	else
		echo "note: no dynamic_debug control, cifsFYI messages are not logged"
	fi
fi

results=()
required_failed=0
for c in "$@"; do
	informational=0
	case $c in \?*) informational=1; c=${c#\?} ;; esac
	vers=${c%%:*}
	opts=
	[ "$vers" = "$c" ] || opts=${c#*:}
	echo
	echo "######## case vers=$vers${opts:+ opts=$opts}$([ $informational = 1 ] && echo ' (informational)')"
	dmesg -C
	t0=$SECONDS
	"$HERE/guest-cifs-rw.sh" "$HOST" "$PORT" "$SHARE" "$USER_" "$PASS" "$vers" ${opts:+"$opts"}
	rc=$?
	secs=$((SECONDS - t0))
	if [ "$rc" = 0 ]; then
		verdict=PASS
	else
		if [ "$informational" = 1 ]; then
			verdict=INFO-FAIL
		else
			verdict=FAIL
			required_failed=1
		fi
		echo "---- kernel log of the failed case (last 400 lines) ----"
		dmesg | tail -n 400
		echo "---- end of kernel log ----"
		# a half-done case may leave a mount behind
		awk '$3 == "cifs" {print $2}' /proc/mounts | while read -r m; do
			umount -f "$m" 2>/dev/null
		done
	fi
	results+=("CIFS-CASE $verdict $c (${secs}s)")
	echo "${results[-1]}"
done

echo
echo "######## summary"
printf '%s\n' "${results[@]}"
if [ "$required_failed" = 0 ]; then
	echo "CIFS-SUITE OK"
	exit 0
fi
echo "CIFS-SUITE FAIL"
exit 1
