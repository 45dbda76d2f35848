#!/bin/bash
# File I/O on the worker pool: requests on one connection complete out of
# order, many are in flight at once, and closes, logoffs and dropped
# connections racing with transfers neither crash nor lose the server.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

trap porthos_stop EXIT
porthos_start || exit 1
timeout -k 5 300 /usr/bin/python3 "$here/async_io_client.py" 127.0.0.1 "$SRV_PORT" test \
	"$TEST_USER" "$TEST_PASS" "$SHARE_DIR" || fail "async I/O checks"
porthos_stop || exit 1
echo "async_io: passed"
