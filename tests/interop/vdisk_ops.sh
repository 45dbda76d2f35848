#!/bin/bash
# The FSCTLs of virtual-disk hosts (sparse files, server-side copy, block
# cloning) through impacket's raw SMB3 IOCTLs; see vdisk_ops_client.py.
# Block cloning needs a file system that shares blocks: the share
# "reflink" sits on an XFS image of its own (reflink=1) on a loop device.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

trap porthos_stop EXIT
PORTHOS_EXTRA_SHARES='[reflink]
path = @SRV_DIR@/xfs/share
read only = no'
porthos_pre_start() {
	# 300 MiB is the least mkfs.xfs makes; the image is sparse.
	truncate -s 320M "$SRV_DIR/xfs.img"
	mkfs.xfs -q -f -m reflink=1 "$SRV_DIR/xfs.img"
	mkdir -p "$SRV_DIR/xfs"
	mount -o loop "$SRV_DIR/xfs.img" "$SRV_DIR/xfs"
	mkdir -p "$SRV_DIR/xfs/share"
}
porthos_post_stop() { # the loop device goes with the mount (autoclear)
	! mountpoint -q "$SRV_DIR/xfs" || umount "$SRV_DIR/xfs"
}
porthos_start
timeout -k 5 300 /usr/bin/python3 "$here/vdisk_ops_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" \
	"$TEST_PASS" "$SHARE_DIR" reflink "$SRV_DIR/xfs/share" || fail "vdisk ops checks"
porthos_stop
echo "vdisk_ops: passed"
