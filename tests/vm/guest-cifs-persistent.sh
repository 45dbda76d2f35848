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
. "$(dirname "$0")/guest-lib.sh"

# persistenthandles: ask for them (the share says it is continuously
# available); hard: retry what the server's death interrupted instead of
# failing it; cache=none: each write goes to the server as dd makes it,
# through the handle dd opened.
guest_setup PERSISTENT cache=none,hard,persistenthandles
grep -q persistenthandles /proc/mounts || fail "the mount does not use persistent handles: $(grep cifs /proc/mounts)"
guest_source 48

echo "PERSISTENT-WRITING $NAME"
dd if="$WORK/src.bin" of="$MNT/$NAME" bs=64k conv=fsync status=none || fail "dd failed across the restart"
echo "dd: 48 MiB written through one handle"
guest_check_back
exit 0
