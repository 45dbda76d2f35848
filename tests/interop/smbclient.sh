#!/bin/bash
# smbclient (Samba) against Porthos with signing required, for SMB 3.1.1
# and 3.0: list shares, then put/get/rename/mkdir/rmdir/del with checks of
# the bytes read back and of what is on the server's disk.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
trap porthos_stop EXIT
porthos_start

src="$SRV_DIR/src.bin"
head -c $((5 * 1024 * 1024 + 12345)) /dev/urandom > "$src"

for proto in SMB3_11 SMB3; do
	echo "== $proto"
	out=$(smbclient -L //127.0.0.1 -p "$SRV_PORT" -s "$(smbclient_conf)" -m "$proto" \
		-U "$TEST_USER%$TEST_PASS" --option='client signing=required' 2>&1) || fail "share list: $out"
	grep -Eq '^\s+test\s+Disk\s+Porthos test share' <<<"$out" || fail "share 'test' not listed: $out"
	grep -Eq '^\s+IPC\$\s+IPC' <<<"$out" || fail "IPC\$ not listed: $out"

	dir="d_$proto"
	smbc "$proto" test "mkdir $dir; cd $dir; put $src file.bin; rename file.bin renamed.bin; ls" \
		> "$SRV_DIR/out" 2>&1 || fail "put/rename: $(cat "$SRV_DIR/out")"
	grep -q renamed.bin "$SRV_DIR/out" || fail "renamed file not listed"
	cmp "$src" "$SHARE_DIR/$dir/renamed.bin" || fail "bytes on the server differ"
	[ ! -e "$SHARE_DIR/$dir/file.bin" ] || fail "old name still exists"

	smbc "$proto" test "cd $dir; get renamed.bin $SRV_DIR/back.bin" >/dev/null 2>&1 || fail "get"
	cmp "$src" "$SRV_DIR/back.bin" || fail "bytes read back differ"

	smbc "$proto" test "cd $dir; mkdir sub; rmdir sub; del renamed.bin; cd ..; rmdir $dir" \
		> "$SRV_DIR/out" 2>&1 || fail "cleanup: $(cat "$SRV_DIR/out")"
	[ ! -e "$SHARE_DIR/$dir" ] || fail "directory not removed"

	# The read-only share refuses writes and says so.
	if smbc "$proto" ro "put $src x.bin" > "$SRV_DIR/out" 2>&1 && ! grep -q NT_STATUS "$SRV_DIR/out"; then
		fail "write to read-only share succeeded"
	fi
	grep -q NT_STATUS_ACCESS_DENIED "$SRV_DIR/out" || fail "read-only refusal: $(cat "$SRV_DIR/out")"
	[ ! -e "$SRV_DIR/ro/x.bin" ] || fail "file created on read-only share"
	rm -f "$SRV_DIR/back.bin"
done

# Wrong password and unknown user are refused with LOGON_FAILURE.
out=$(smbclient //127.0.0.1/test -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3 -U "$TEST_USER%wrong" -c ls 2>&1) &&
	fail "wrong password accepted"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "wrong password: $out"
out=$(smbclient //127.0.0.1/test -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3 -U "nobody%x" -c ls 2>&1) &&
	fail "unknown user accepted"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "unknown user: $out"
out=$(smbc SMB3 nosuchshare ls 2>&1) && fail "unknown share accepted"
grep -q NT_STATUS_BAD_NETWORK_NAME <<<"$out" || fail "unknown share: $out"
echo "smbclient: all checks passed"
