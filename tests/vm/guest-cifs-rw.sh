#!/bin/bash
# Runs INSIDE the guest (tests/vm/run-guest.sh): a read/write round trip
# through the Linux kernel SMB client (cifs.ko) against a server on the host.
#
# usage: guest-cifs-rw.sh HOST PORT SHARE USER PASS VERS [OPTS]
#   e.g. run-guest.sh tests/vm/guest-cifs-rw.sh 10.0.2.2 4460 vms test test 3.1.1
#   OPTS: extra mount options, comma-separated (e.g. "sign" or "seal")
#
# Mounts //HOST/SHARE with the options a user would give (port, vers,
# credentials), writes a 64 MiB random file, remounts with dropped caches,
# reads it back and compares sha256, checks that a second mount (its own
# connection) sees an in-place write through the first (lease breaks),
# and lists what the first made or removed (directory leases),
# checks the directory listing, makes and removes a directory, deletes the
# file. Prints "GUEST-CIFS-OK vers=VERS[,OPTS]"
# and exits 0 on success; otherwise "GUEST-CIFS-FAIL: ..." and exits 1.
set -u

if [ $# -ne 6 ] && [ $# -ne 7 ]; then
	echo "usage: $0 HOST PORT SHARE USER PASS VERS [OPTS]" >&2
	exit 2
fi
HOST=$1 PORT=$2 SHARE=$3 USER_=$4 PASS=$5 VERS=$6 OPTS=${7:-}
# shown in messages: "3.1.1" or "3.1.1,sign"
LABEL=$VERS${OPTS:+,$OPTS}

SIZE_MB=64
SIZE=$((SIZE_MB * 1024 * 1024))
WORK=${PORTHOS_SCRATCH:-/tmp}/cifs-rw.$$
MNT=/mnt/porthos-cifs.$$
NAME=porthos-rw-$$-v$VERS.bin
DIR=porthos-dir-$$-v$VERS
mounted=0

step() { echo "== $*"; }

debugdata() {
	if [ -r /proc/fs/cifs/DebugData ]; then
		echo "---- /proc/fs/cifs/DebugData ----"
		cat /proc/fs/cifs/DebugData
		echo "---------------------------------"
	fi
}

fail() {
	echo "GUEST-CIFS-FAIL: $* (vers=$LABEL)" >&2
	echo "---- kernel log (cifs, tail) ----" >&2
	dmesg | grep -iE 'cifs|smb' | tail -n 30 >&2
	debugdata >&2
	[ "$mounted" = 1 ] && umount "$MNT" 2>/dev/null
	exit 1
}

do_mount() {
	# credentials file: keeps the password out of argv and the kernel log
	mount -t cifs "//$HOST/$SHARE" "$MNT" \
		-o "port=$PORT,vers=$VERS${OPTS:+,$OPTS},credentials=$WORK/creds" ||
		fail "mount -t cifs //$HOST/$SHARE (port=$PORT) failed"
	mounted=1
	grep -q " $MNT cifs " /proc/mounts || fail "$MNT is not a cifs mount"
}

do_umount() {
	umount "$MNT" || fail "umount $MNT failed"
	mounted=0
}

mkdir -p "$WORK" "$MNT" || fail "cannot create $WORK / $MNT"
umask 077
printf 'username=%s\npassword=%s\n' "$USER_" "$PASS" > "$WORK/creds"
umask 022

step "modprobe cifs ($(uname -r))"
modprobe cifs || fail "modprobe cifs failed"
echo "cifs module version: $(cat /sys/module/cifs/version 2>/dev/null || echo ?)"

step "mount //$HOST/$SHARE port=$PORT vers=$LABEL"
do_mount
grep " $MNT cifs " /proc/mounts | sed 's/^/mount: /'

step "write ${SIZE_MB} MiB random data to the share"
dd if=/dev/urandom of="$WORK/src.bin" bs=1M count=$SIZE_MB status=none ||
	fail "dd from /dev/urandom failed"
sum_src=$(sha256sum < "$WORK/src.bin" | cut -d' ' -f1)
rm -f "$MNT/$NAME"
dd if="$WORK/src.bin" of="$MNT/$NAME" bs=1M conv=fsync 2>&1 | tail -n1
[ "${PIPESTATUS[0]}" = 0 ] || fail "write of $NAME to the share failed"

step "umount, drop caches, mount again"
do_umount
sync
echo 3 > /proc/sys/vm/drop_caches
do_mount

step "list the share"
ls -l "$MNT" || fail "ls -l $MNT failed"
# ls -l: perms links owner group size ... name
line=$(ls -l "$MNT" | awk -v n="$NAME" '$NF == n')
[ -n "$line" ] || fail "$NAME is not listed in the directory"
size_ls=$(echo "$line" | awk '{print $5}')
[ "$size_ls" = "$SIZE" ] || fail "ls -l size of $NAME is $size_ls, expected $SIZE"
size_stat=$(stat -c %s "$MNT/$NAME") || fail "stat $NAME failed"
[ "$size_stat" = "$SIZE" ] || fail "stat size of $NAME is $size_stat, expected $SIZE"
echo "listed: $line"

step "read back ${SIZE_MB} MiB"
dd if="$MNT/$NAME" of="$WORK/back.bin" bs=1M 2>&1 | tail -n1
[ "${PIPESTATUS[0]}" = 0 ] || fail "read of $NAME from the share failed"
sum_back=$(sha256sum < "$WORK/back.bin" | cut -d' ' -f1)
echo "sha256 src  $sum_src"
echo "sha256 back $sum_back"
[ "$sum_src" = "$sum_back" ] || fail "SHA256 MISMATCH"
echo "SHA256 MATCH"
rm -f "$WORK/back.bin"

step "two clients: a write through one is seen through the other"
# A second mount with its own connection (and client GUID) caches what it
# reads under a read lease; a write through the first must break that lease,
# or the second would read its stale copy. The break reaches it
# asynchronously, so it gets a few seconds to see the new data.
MNT2=$MNT.b
mkdir -p "$MNT2" || fail "cannot create $MNT2"
mount -t cifs "//$HOST/$SHARE" "$MNT2" \
	-o "port=$PORT,vers=$VERS${OPTS:+,$OPTS},credentials=$WORK/creds,nosharesock" ||
	fail "second mount (nosharesock) failed"
COH=porthos-coherence-$$.txt
echo first-version > "$MNT/$COH" || fail "write of $COH failed"
[ "$(cat "$MNT2/$COH")" = first-version ] || fail "the second client does not read what the first wrote"
[ "$(cat "$MNT2/$COH")" = first-version ] || fail "the second client's second read differs"
# In place, without truncating: only the WRITE itself can tell the second
# client (an open that truncates would break its lease on its own).
printf SECOND | dd of="$MNT/$COH" conv=notrunc status=none || fail "rewrite of $COH failed"
seen=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	seen=$(cat "$MNT2/$COH")
	[ "$seen" = SECONDversion ] && break
	sleep 0.5
done
[ "$seen" = SECONDversion ] || fail "the second client still reads '$seen' after the first rewrote the file"
echo "coherent: the second client reads the first one's write"
rm -f "$MNT/$COH"

step "two clients: what one adds to a directory, or removes, the other lists"
# The second client keeps the share root's entries while it holds a
# directory lease on the root (SMB 3); a file made or removed through the
# first must break that lease, or the second would list its stale copy.
LST=porthos-listed-$$.txt
listed() { ls -a "$MNT2" | grep -qx "$LST"; }
ls -a "$MNT2" > /dev/null || fail "the second client cannot list the share"
ls -a "$MNT2" > /dev/null
: > "$MNT/$LST" || fail "create of $LST failed"
for _ in 1 2 3 4 5 6 7 8 9 10; do listed && break; sleep 0.5; done
listed || fail "the second client does not list $LST, made through the first"
rm -f "$MNT/$LST"
for _ in 1 2 3 4 5 6 7 8 9 10; do listed || break; sleep 0.5; done
! listed || fail "the second client still lists $LST after the first removed it"
echo "coherent: the second client lists what the first made and removed"
umount "$MNT2" || fail "umount $MNT2 failed"
rmdir "$MNT2"

step "mkdir / rmdir"
mkdir "$MNT/$DIR" || fail "mkdir $DIR failed"
[ "$(stat -c %F "$MNT/$DIR")" = directory ] || fail "$DIR is not a directory after mkdir"
ls -ld "$MNT/$DIR"
rmdir "$MNT/$DIR" || fail "rmdir $DIR failed"
[ ! -e "$MNT/$DIR" ] || fail "$DIR still exists after rmdir"
echo "directory made and removed"

step "delete the file"
rm "$MNT/$NAME" || fail "rm $NAME failed"
[ ! -e "$MNT/$NAME" ] || fail "$NAME still exists after rm"
ls -l "$MNT" | awk -v n="$NAME" '$NF == n {found=1} END {exit found}' ||
	fail "$NAME still listed after rm"

debugdata
do_umount
rm -rf "$WORK"
rmdir "$MNT" 2>/dev/null
echo "GUEST-CIFS-OK vers=$LABEL"
exit 0
