#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): the Linux kernel client
# (cifs.ko) keeps writing a file while the host breaks its connection
# (tests/interop/kernel_durable.sh): it reconnects, takes its durable
# handle back and finishes, and the file on the share is the one written.
#
# usage: guest-cifs-durable.sh HOST PORT SHARE USER PASS VERS
#
# Prints "DURABLE-WRITING <name>" once the writer runs (the host then
# breaks the connection), and "GUEST-DURABLE-OK" with exit 0 when the
# file reads back whole after a fresh mount; else "GUEST-DURABLE-FAIL: ...".
set -u

[ $# -eq 6 ] || { echo "usage: $0 HOST PORT SHARE USER PASS VERS" >&2; exit 2; }
HOST=$1 PORT=$2 SHARE=$3 USER_=$4 PASS=$5 VERS=$6

SIZE_MB=24
WORK=${PORTHOS_SCRATCH:-/tmp}/cifs-durable.$$
MNT=/mnt/porthos-durable.$$
NAME=porthos-durable-$$.bin
mounted=0

fail() {
	echo "GUEST-DURABLE-FAIL: $*" >&2
	dmesg | grep -iE 'cifs|smb' | tail -n 40 >&2
	[ "$mounted" = 1 ] && umount -f "$MNT" 2>/dev/null
	exit 1
}

do_mount() {
	# cache=none: every write goes to the server as the application makes
	# it, so writes are in flight when the connection breaks.
	mount -t cifs "//$HOST/$SHARE" "$MNT" \
		-o "port=$PORT,vers=$VERS,cache=none,credentials=$WORK/creds" || fail "mount failed"
	mounted=1
}

mkdir -p "$WORK" "$MNT" || fail "cannot create $WORK / $MNT"
umask 077
printf 'username=%s\npassword=%s\n' "$USER_" "$PASS" > "$WORK/creds"
umask 022
modprobe cifs || fail "modprobe cifs failed"
do_mount
dd if=/dev/urandom of="$WORK/src.bin" bs=1M count=$SIZE_MB status=none || fail "dd from /dev/urandom"
sum_src=$(sha256sum < "$WORK/src.bin" | cut -d' ' -f1)

# One open for the whole write: the handle the reconnect must take back.
dd if="$WORK/src.bin" of="$MNT/$NAME" bs=64k conv=fsync 2>"$WORK/dd.err" &
writer=$!
sleep 0.5
echo "DURABLE-WRITING $NAME"
wait "$writer" || fail "the writer failed across the reconnect: $(cat "$WORK/dd.err")"
tail -n1 "$WORK/dd.err"
grep -E 'Reconnect|reconnect' /proc/fs/cifs/Stats 2>/dev/null | head -n3

umount "$MNT" || fail "umount failed"
mounted=0
echo 3 > /proc/sys/vm/drop_caches
do_mount
sum_back=$(sha256sum < "$MNT/$NAME" | cut -d' ' -f1) || fail "read back failed"
echo "sha256 src  $sum_src"
echo "sha256 back $sum_back"
[ "$sum_src" = "$sum_back" ] || fail "SHA256 MISMATCH"
rm -f "$MNT/$NAME"
umount "$MNT" || fail "umount failed"
mounted=0
rm -rf "$WORK"
rmdir "$MNT"
echo "GUEST-DURABLE-OK"
exit 0
