#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): the kernel client with
# sec=krb5. Sets up Kerberos in the guest only (its /etc is the tmpfs
# overlay, so nothing reaches the host): a krb5.conf in /scratch naming the
# host's test KDC at 10.0.2.2, an /etc/hosts line for the server's name,
# and a request-key rule that runs cifs.upcall with that krb5.conf. Then
# kinit with the password, and for each CASE guest-cifs-rw.sh's round trip
# (mount //NAME/SHARE with sec=krb5,ip=10.0.2.2, 64 MiB write, remount,
# read back, sha256, ls, mkdir/rmdir, rm). The cifs service ticket must
# then be in the cache: the kernel really used Kerberos.
#
# usage: guest-cifs-krb5.sh KDC_PORT SMB_PORT SHARE REALM USER PASS NAME CASE...
#   NAME  the server's host name (the service principal is cifs/NAME)
#   CASE  VERS[:OPTS], e.g. 3.1.1  3.1.1:seal  3.0:sign
# Prints one "KRB5-CASE PASS|FAIL <case>" line per case and a final
# "KRB5-SUITE OK" or "KRB5-SUITE FAIL"; exits 1 if a case failed.
set -u

if [ $# -lt 8 ]; then
	echo "usage: $0 KDC_PORT SMB_PORT SHARE REALM USER PASS NAME CASE..." >&2
	exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KDC_PORT=$1 SMB_PORT=$2 SHARE=$3 REALM=$4 USER_=$5 PASS=$6 NAME=$7
shift 7
HOST_IP=${PORTHOS_HOST_IP:-10.0.2.2}
S=${PORTHOS_SCRATCH:-/scratch}

# cifs.upcall logs to syslog only: keep it in a file to show on failure.
if command -v busybox >/dev/null; then
	busybox syslogd -n -O "$S/syslog" &
	SYSLOG_PID=$!
fi

cat >"$S/krb5.conf" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
	forwardable = false
	default_ccache_name = FILE:$S/ccache
[realms]
	$REALM = {
		kdc = $HOST_IP:$KDC_PORT
	}
[domain_realm]
	$NAME = $REALM
EOF
echo "$HOST_IP $NAME" >>/etc/hosts
mkdir -p /etc/request-key.d
printf 'create cifs.spnego * * /usr/sbin/cifs.upcall -k %s %%k\n' "$S/krb5.conf" \
	>/etc/request-key.d/cifs.spnego.conf
# cifs.upcall (cifs-utils 7.0) does not take KRB5CCNAME from the mounting
# process here (it logs "get_cachename_from_process_env: pid == 0"): the
# krb5.conf it is given names the cache instead.
export KRB5_CONFIG="$S/krb5.conf"
export KRB5CCNAME="FILE:$S/ccache"

show_logs() {
	echo "---- cifs.upcall / request-key (syslog) ----"
	cat "$S/syslog" 2>/dev/null | tail -n 40
	echo "---- klist ----"
	klist 2>&1
}

printf '%s\n' "$PASS" | kinit "$USER_@$REALM" >"$S/kinit.out" 2>&1 || {
	cat "$S/kinit.out"
	echo "KRB5-SUITE FAIL: kinit $USER_@$REALM via $HOST_IP:$KDC_PORT"
	exit 1
}
klist

modprobe cifs || { echo "KRB5-SUITE FAIL: modprobe cifs"; exit 1; }
failed=0
results=()
for c in "$@"; do
	vers=${c%%:*}
	opts=
	[ "$vers" = "$c" ] || opts=${c#*:}
	echo
	echo "######## case vers=$vers sec=krb5${opts:+ opts=$opts}"
	dmesg -C
	t0=$SECONDS
	# The password in the credentials file is never used with sec=krb5.
	"$HERE/guest-cifs-rw.sh" "$NAME" "$SMB_PORT" "$SHARE" "$USER_" unused "$vers" \
		"sec=krb5,ip=$HOST_IP${opts:+,$opts}"
	rc=$?
	if [ "$rc" = 0 ] && ! klist | grep -q "cifs/$NAME@$REALM"; then
		echo "no cifs/$NAME ticket in the cache: the mount did not use Kerberos"
		rc=1
	fi
	if [ "$rc" = 0 ]; then
		verdict=PASS
	else
		verdict=FAIL
		failed=1
		show_logs
		awk '$3 == "cifs" {print $2}' /proc/mounts | while read -r m; do umount -f "$m"; done
	fi
	results+=("KRB5-CASE $verdict $c ($((SECONDS - t0))s)")
	echo "${results[-1]}"
done

echo
echo "######## summary"
klist
printf '%s\n' "${results[@]}"
[ -z "${SYSLOG_PID:-}" ] || kill "$SYSLOG_PID" 2>/dev/null
if [ "$failed" = 0 ]; then
	echo "KRB5-SUITE OK"
	exit 0
fi
echo "KRB5-SUITE FAIL"
exit 1
