#!/bin/bash
# Large unsigned WRITEs go from the socket to the file by splice: the data
# lands, refused and failing WRITEs leave the connection in step, and a
# client that vanishes or stalls mid-data costs its connection only.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# A share on a 512 KiB file system, for a WRITE that fills it part way;
# mounted outside the server's directory, which porthos_stop removes.
SMALL_DIR=$(mktemp -d /tmp/porthos-small.XXXXXX)
mount -t tmpfs -o size=512k porthos-small "$SMALL_DIR" ||
	{ rmdir "$SMALL_DIR"; fail "cannot mount a tmpfs on $SMALL_DIR"; }
PORTHOS_EXTRA_SHARES="[small]
path = $SMALL_DIR
read only = no"
cleanup() {
	porthos_stop
	umount "$SMALL_DIR" && rmdir "$SMALL_DIR"
}
trap cleanup EXIT

PORTHOS_LOG_LEVEL=debug porthos_start "auth timeout = 3" || exit 1
timeout -k 5 300 /usr/bin/python3 "$here/splice_write_client.py" 127.0.0.1 "$SRV_PORT" \
	"$TEST_USER" "$TEST_PASS" "$SHARE_DIR" "$SMALL_DIR" "$SRV_DIR/smbd.log" || fail "splice write checks"
echo "splice_write: passed"
