#!/bin/bash
# SMB 3 encryption: smbclient with each SMB3 dialect (the cipher is
# negotiated by the client's preference), impacket with AES-128-CCM, a
# share with "smb encrypt = required" refusing what is not encrypted, and
# large AES-128-GCM WRITEs opened as they arrive (sealed_client.py).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start

src="$SRV_DIR/src.bin"
head -c $((3 * 1024 * 1024 + 7)) /dev/urandom > "$src"
for proto in SMB3_11 SMB3_02 SMB3; do
	for share in enc test; do
		rm -f "$SRV_DIR/back.bin"
		smbclient "//127.0.0.1/$share" -p "$SRV_PORT" -s "$(smbclient_conf)" -m "$proto" \
			-U "$TEST_USER%$TEST_PASS" --client-protection=encrypt \
			-c "put $src e.bin; get e.bin $SRV_DIR/back.bin; del e.bin" >"$SRV_DIR/out" 2>&1 ||
			fail "$proto on [$share] with encryption: $(cat "$SRV_DIR/out")"
		cmp "$src" "$SRV_DIR/back.bin" || fail "$proto [$share]: bytes differ"
	done
	echo "$proto: encrypted put/get ok"
done

# SMB 2.1 has no encryption: the share that requires it refuses the client.
out=$(smbclient //127.0.0.1/enc -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB2_10 \
	-U "$TEST_USER%$TEST_PASS" -c ls 2>&1) && fail "SMB 2.1 reached an encrypted share"
grep -q NT_STATUS_ACCESS_DENIED <<<"$out" || fail "SMB 2.1 on [enc]: $out"

/usr/bin/python3 "$(dirname "$0")/encryption_client.py" 127.0.0.1 "$SRV_PORT" enc "$TEST_USER" "$TEST_PASS"
# Large sealed WRITEs on 3.1.1 with AES-128-GCM, opened as they arrive.
/usr/bin/python3 "$(dirname "$0")/sealed_client.py" 127.0.0.1 "$SRV_PORT" enc "$TEST_USER" "$TEST_PASS" ||
	fail "sealed_client.py"
kill -0 "$SRV_PID" 2>/dev/null || fail "the server died"

# Large sealed replies, sealed on the workers or on the loop as "reply
# crypto" says (auto, the default above, picks by the loop's load).
sealed_put_get() {
	local src="$SRV_DIR/src.bin"
	head -c $((3 * 1024 * 1024 + 7)) /dev/urandom > "$src"
	smbclient "//127.0.0.1/enc" -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3_11 \
		-U "$TEST_USER%$TEST_PASS" --client-protection=encrypt \
		-c "put $src e.bin; get e.bin $SRV_DIR/back.bin; del e.bin" >"$SRV_DIR/out" 2>&1 ||
		{ cat "$SRV_DIR/out" >&2; return 1; }
	cmp "$src" "$SRV_DIR/back.bin"
}
reply_crypto_round workers sealed sealed_put_get
reply_crypto_round loop sealed sealed_put_get
echo "encryption: all checks passed"
