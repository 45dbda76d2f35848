#!/bin/bash
# impacket's SMB client (python3-impacket) against Porthos.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start
/usr/bin/python3 "$(dirname "$0")/impacket_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS"
