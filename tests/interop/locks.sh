#!/bin/bash
# SMB2 byte-range locks between two clients (two hosts sharing an image
# file): mandatory locks against READ/WRITE, blocking locks granted on
# unlock and on the holder's connection dropping, CANCEL, validation.
# smbtorture smb2.lock covers the protocol corner cases; this covers what a
# cluster of VM hosts depends on. See locks_client.py for the list.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start

/usr/bin/python3 "$(dirname "$0")/locks_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS"
