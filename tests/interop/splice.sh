#!/bin/bash
# Large unsigned WRITEs go from the socket to the file by splice, and large
# unsigned READs from the file to the socket: the data lands and comes back
# byte for byte, short READs and END_OF_FILE are right, replies queued
# behind a spliced one keep their order, refused and failing WRITEs leave
# the connection in step, and a client that vanishes or stalls mid-data
# costs its connection only.
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

# splice_client.py [TEST...]: all of its tests by default.
client() {
	timeout -k 5 300 /usr/bin/python3 "$here/splice_client.py" 127.0.0.1 "$SRV_PORT" \
		"$TEST_USER" "$TEST_PASS" "$SHARE_DIR" "$SMALL_DIR" "$SRV_DIR/smbd.log" "$@"
}

PORTHOS_LOG_LEVEL=debug porthos_start "auth timeout = 3" || exit 1
client || fail "splice checks"
# READ's pipes are filled by io_uring above; here by the worker threads,
# and on the loop itself without them.
for how in "io uring = no" "io threads = 0"; do
	porthos_stop || fail "stopping the server"
	echo "== READs with '$how'"
	PORTHOS_LOG_LEVEL=debug porthos_start "$how" || exit 1
	client test_reads || fail "splice READ checks with '$how'"
done
echo "splice: passed"
