#!/bin/bash
# The FSCTLs of virtual-disk hosts (sparse files, server-side copy, block
# cloning) through impacket's raw SMB3 IOCTLs; see vdisk_ops_client.py.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start
/usr/bin/python3 "$(dirname "$0")/vdisk_ops_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS" \
	"$SHARE_DIR"
