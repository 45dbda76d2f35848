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
. "$(dirname "$0")/guest-lib.sh"

# cache=none: every write goes to the server as the application makes it,
# through the handle it opened (no cached pages written back later).
guest_setup DURABLE cache=none
guest_source 24

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
guest_check_back
exit 0
