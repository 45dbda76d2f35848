# Sourced INSIDE the guest by the scripts that write a file through the
# Linux kernel client while the host breaks the server (guest-cifs-durable.sh,
# guest-cifs-persistent.sh), and then check that the file came through.
#
# guest_setup TAG MOUNT_OPTS: with HOST PORT SHARE USER_ PASS VERS set,
#   makes WORK, MNT and NAME, writes the credentials, loads cifs and mounts;
#   TAG names the verdict lines ("GUEST-<TAG>-OK", "GUEST-<TAG>-FAIL: ...").
# fail MSG: the FAIL line, the kernel's cifs log, exit 1.
# guest_source SIZE_MB: $WORK/src.bin of random bytes, its sha256 in sum_src.
# guest_check_back: a fresh mount (caches dropped) reads NAME back; its
#   sha256 must be sum_src; cleans up and prints the OK line.

mounted=0

fail() {
	echo "GUEST-$TAG-FAIL: $*" >&2
	dmesg | grep -iE 'cifs|smb' | tail -n 40 >&2
	[ "$mounted" = 1 ] && umount -f "$MNT" 2>/dev/null
	exit 1
}

do_mount() {
	mount -t cifs "//$HOST/$SHARE" "$MNT" \
		-o "port=$PORT,vers=$VERS,$MOUNT_OPTS,credentials=$WORK/creds" || fail "mount failed"
	mounted=1
}

guest_setup() {
	TAG=$1 MOUNT_OPTS=$2
	local tag=${TAG,,}
	WORK=${PORTHOS_SCRATCH:-/tmp}/cifs-$tag.$$
	MNT=/mnt/porthos-$tag.$$
	NAME=porthos-$tag-$$.bin
	mkdir -p "$WORK" "$MNT" || fail "cannot create $WORK / $MNT"
	umask 077
	printf 'username=%s\npassword=%s\n' "$USER_" "$PASS" >"$WORK/creds"
	umask 022
	modprobe cifs || fail "modprobe cifs failed"
	do_mount
}

guest_source() {
	dd if=/dev/urandom of="$WORK/src.bin" bs=1M count="$1" status=none || fail "dd from /dev/urandom"
	sum_src=$(sha256sum <"$WORK/src.bin" | cut -d' ' -f1)
}

guest_check_back() {
	grep -iE 'reconnect' /proc/fs/cifs/Stats 2>/dev/null | head -n 3
	umount "$MNT" || fail "umount failed"
	mounted=0
	echo 3 >/proc/sys/vm/drop_caches
	do_mount
	local sum_back
	sum_back=$(sha256sum <"$MNT/$NAME" | cut -d' ' -f1) || fail "read back failed"
	echo "sha256 src  $sum_src"
	echo "sha256 back $sum_back"
	[ "$sum_src" = "$sum_back" ] || fail "SHA256 MISMATCH"
	rm -f "$MNT/$NAME"
	umount "$MNT" || fail "umount failed"
	mounted=0
	rm -rf "$WORK"
	rmdir "$MNT"
	echo "GUEST-$TAG-OK"
}
