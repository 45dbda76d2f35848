#!/bin/bash
# Write-through reaches the disk before the reply: the WRITE flag, a
# FILE_WRITE_THROUGH open, and every write on a continuously available
# share (as Windows). The shares sit on an ext4 image of their own on a
# loop device, whose sector count shows what was written
# (write_through_client.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

trap porthos_stop EXIT
PORTHOS_EXTRA_SHARES='[plain]
path = @SRV_DIR@/disk/plain
read only = no
[ca]
path = @SRV_DIR@/disk/ca
read only = no
continuous availability = yes'
porthos_pre_start() {
	truncate -s 96M "$SRV_DIR/disk.img"
	mkfs.ext4 -q -F "$SRV_DIR/disk.img"
	mkdir -p "$SRV_DIR/disk"
	mount -o loop "$SRV_DIR/disk.img" "$SRV_DIR/disk"
	mkdir -p "$SRV_DIR/disk/plain" "$SRV_DIR/disk/ca"
}
porthos_post_stop() { # the loop device goes with the mount (autoclear)
	! mountpoint -q "$SRV_DIR/disk" || umount "$SRV_DIR/disk"
}
porthos_start
dev=$(basename "$(findmnt -n -o SOURCE "$SRV_DIR/disk")")
[ -r "/sys/block/$dev/stat" ] || fail "no statistics for $dev"
timeout -k 5 120 /usr/bin/python3 "$here/write_through_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" \
	"$TEST_PASS" "$dev" || fail "write-through checks"
porthos_stop
echo "write_through: passed"
