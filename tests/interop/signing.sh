#!/bin/bash
# Large signed WRITEs checked as they arrive (smbd/arrival_check.c): with
# each signing algorithm, a slow 4 MiB WRITE lands whole, one changed after
# signing is refused and leaves the file as it was, and a client that
# vanishes mid-frame costs nothing (signed_client.py); then smbclient puts
# and gets a large file signed with each dialect's algorithm.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
# debug: the client counts the server's "checked as it arrives" lines.
PORTHOS_LOG_LEVEL=debug porthos_start

/usr/bin/python3 "$(dirname "$0")/signed_client.py" 127.0.0.1 "$SRV_PORT" test "$TEST_USER" "$TEST_PASS" \
	"$SRV_DIR/smbd.log" || fail "signed_client.py"

src="$SRV_DIR/src.bin"
head -c $((9 * 1024 * 1024 + 5)) /dev/urandom > "$src"
for proto in SMB3_11 SMB3 SMB2_10; do
	rm -f "$SRV_DIR/back.bin"
	before=$(grep -c "signed frame of .* checked as it arrives" "$SRV_DIR/smbd.log" || true)
	smbc "$proto" test "put $src s.bin; get s.bin $SRV_DIR/back.bin; del s.bin" >"$SRV_DIR/out" 2>&1 ||
		fail "$proto signed put/get: $(cat "$SRV_DIR/out")"
	cmp "$src" "$SRV_DIR/back.bin" || fail "$proto signed: bytes differ"
	after=$(grep -c "signed frame of .* checked as it arrives" "$SRV_DIR/smbd.log" || true)
	[ "$after" -gt "$before" ] || fail "$proto: no large signed WRITE was checked as it arrived"
	echo "$proto: signed put/get of 9 MiB ok, $((after - before)) WRITEs checked as they arrived"
done
kill -0 "$SRV_PID" 2>/dev/null || fail "the server died"

# Large signed replies, signed on the workers or on the loop as "reply
# crypto" says (auto, the default above, picks by the loop's load).
signed_put_get() {
	local src="$SRV_DIR/src.bin"
	head -c $((9 * 1024 * 1024 + 5)) /dev/urandom > "$src"
	smbc SMB3_11 test "put $src s.bin; get s.bin $SRV_DIR/back.bin; del s.bin" >"$SRV_DIR/out" 2>&1 ||
		{ cat "$SRV_DIR/out" >&2; return 1; }
	cmp "$src" "$SRV_DIR/back.bin"
}
reply_crypto_round workers signed signed_put_get
reply_crypto_round loop signed signed_put_get
echo "signing: all checks passed"
