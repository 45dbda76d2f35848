#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): the Linux kernel client
# (cifs.ko), mounted with persistenthandles on a continuously available
# share, copies a file with dd while the host kills porthos-smbd with
# SIGKILL and starts it again (tests/interop/kernel_persistent.sh); dd
# goes on once the client has reconnected and taken its persistent handle
# back, and the file reads back whole after a fresh mount.
#
# usage: guest-cifs-persistent.sh HOST PORT SHARE USER PASS VERS
#
# Prints "PERSISTENT-WRITING" once dd has started (the host then kills the
# server), and "GUEST-PERSISTENT-OK" with exit 0 when the file reads back
# whole; else "GUEST-PERSISTENT-FAIL: ...".
set -u

[ $# -eq 6 ] || { echo "usage: $0 HOST PORT SHARE USER PASS VERS" >&2; exit 2; }
HOST=$1 PORT=$2 SHARE=$3 USER_=$4 PASS=$5 VERS=$6

SIZE_MB=48
WORK=${PORTHOS_SCRATCH:-/tmp}/cifs-persistent.$$
MNT=/mnt/porthos-persistent.$$
NAME=porthos-persistent-$$.bin
mounted=0

fail() {
	echo "GUEST-PERSISTENT-FAIL: $*" >&2
	dmesg | grep -iE 'cifs|smb' | tail -n 40 >&2
	[ "$mounted" = 1 ] && umount -f "$MNT" 2>/dev/null
	exit 1
}

do_mount() {
	# persistenthandles: ask for them (the share says it is continuously
	# available); hard: retry what the server's death interrupted instead
	# of failing it; cache=none: each write goes to the server as dd makes
	# it, through the handle dd opened.
	mount -t cifs "//$HOST/$SHARE" "$MNT" \
		-o "port=$PORT,vers=$VERS,cache=none,hard,persistenthandles,credentials=$WORK/creds" ||
		fail "mount failed"
	mounted=1
}

mkdir -p "$WORK" "$MNT" || fail "cannot create $WORK / $MNT"
umask 077
printf 'username=%s\npassword=%s\n' "$USER_" "$PASS" > "$WORK/creds"
umask 022
modprobe cifs || fail "modprobe cifs failed"
do_mount
grep -q persistenthandles /proc/mounts || fail "the mount does not use persistent handles: $(grep cifs /proc/mounts)"
dd if=/dev/urandom of="$WORK/src.bin" bs=1M count=$SIZE_MB status=none || fail "dd from /dev/urandom"
sum_src=$(sha256sum < "$WORK/src.bin" | cut -d' ' -f1)

echo "PERSISTENT-WRITING $NAME"
dd if="$WORK/src.bin" of="$MNT/$NAME" bs=64k conv=fsync status=none || fail "dd failed across the restart"
echo "dd: $SIZE_MB MiB written through one handle"
grep -iE 'reconnect' /proc/fs/cifs/Stats 2>/dev/null | head -n3

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
echo "GUEST-PERSISTENT-OK"
exit 0
