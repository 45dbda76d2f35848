#!/bin/bash
# SMB2 CHANGE_NOTIFY: raw requests through impacket (create, write, rename,
# delete, WATCH_TREE, queued changes, CANCEL, close -> NOTIFY_CLEANUP,
# small buffers -> NOTIFY_ENUM_DIR), then smbclient's "notify" command.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start

/usr/bin/python3 "$(dirname "$0")/notify_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS" \
	"$SHARE_DIR"

# smbclient's notify prints each change until it is stopped (line-buffered,
# since the time-out kills it).
mkdir -p "$SHARE_DIR/smbc"
out="$SRV_DIR/smbclient-notify.out"
timeout -k 2 6 stdbuf -oL smbclient "//127.0.0.1/test" -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3 \
	-U "$TEST_USER%$TEST_PASS" -c 'notify smbc' >"$out" 2>&1 &
watcher=$!
sleep 2
touch "$SHARE_DIR/smbc/from-smbclient.txt"
wait "$watcher" || true
if ! grep -q 'from-smbclient.txt' "$out"; then
	echo "FAIL: smbclient notify did not print the new file:" >&2
	cat "$out" >&2
	exit 1
fi
echo "ok: smbclient notify reported the new file"
