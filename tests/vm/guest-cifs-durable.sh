#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): the Linux kernel client
# (cifs.ko) writes half a file, the host breaks its connection
# (tests/interop/kernel_durable.sh), and it writes the rest through the
# same handle: it reconnects, takes its durable handle back and finishes,
# and the file on the share is the one written.
#
# usage: guest-cifs-durable.sh HOST PORT SHARE USER PASS VERS
#
# Prints "DURABLE-WRITING <name>" once half is written (the host then
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
	# it, through the handle it opened (no cached pages written back later).
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
# Half is written, then nothing is in flight while the host breaks the
# connection (a break in the middle of sending a WRITE fails that write
# in the client, whatever the server keeps), then the rest follows
# through the same handle.
python3 - "$WORK/src.bin" "$MNT/$NAME" <<'PY' || fail "the writer failed across the reconnect"
import os
import sys
import time

src = open(sys.argv[1], "rb").read()
half = len(src) // 2
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)


def put(data, off):
    while data:
        n = os.pwrite(fd, data[:65536], off)
        data, off = data[n:], off + n


put(src[:half], 0)
os.fsync(fd)
print("DURABLE-WRITING", sys.argv[2], flush=True)
time.sleep(3)
put(src[half:], half)
os.fsync(fd)
os.close(fd)
print("written: %d bytes through one handle" % len(src), flush=True)
PY
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
