#!/bin/bash
# Directory leases: changes through another client, or made on the
# share's directory by a local process, break them, what does not change
# a listing does not, and "smb3 directory leases = no" turns them off
# (dir_lease_client.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

trap porthos_stop EXIT
porthos_start
timeout -k 5 120 /usr/bin/python3 "$here/dir_lease_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" "$TEST_PASS" \
	--share-dir "$SHARE_DIR" || fail "directory lease checks"
porthos_stop

porthos_start "smb3 directory leases = no"
timeout -k 5 60 /usr/bin/python3 "$here/dir_lease_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" "$TEST_PASS" \
	--off || fail "directory leases turned off"
porthos_stop
echo "dir_lease: passed"
