#!/bin/bash
# Kerberos: smbclient with tickets from a private MIT KDC (tests/kdc/kdc.sh,
# realm PORTHOS.TEST on 127.0.0.1) against Porthos with "kerberos keytab"
# and "realm". One server stays up through:
#  - put/get/ls with bytes compared, signed, for SMB 3.1.1, 3.0 and 2.1; the
#    file belongs to the uid the passdb gives the principal's user;
#  - encrypted with each cipher of 3.1.1 (AES-256-GCM/CCM need the full
#    32-byte Kerberos session key, AES-128 its first 16 bytes) and of 3.0;
#  - NTLM still works for a password user, and is refused for the
#    Kerberos-only user (no NT hash: not even the all-zero hash gets in);
#  - a principal with no passdb entry is refused, and the log says why; a
#    disabled user's principal gets ACCOUNT_DISABLED;
#  - a ticket under a key the keytab does not have (the service key changed
#    on the KDC) is refused; after the keytab is updated, without a restart,
#    a new ticket works;
#  - smbtorture smb2.session.expire* (4-second tickets);
#  - kerberos_client.py: a raw SPNEGO client (python3-gssapi) that names
#    the KRB5 OID, and one that puts NEGOEX first so that the mechListMIC
#    exchange of RFC 4178 takes its extra leg; both sign a tree connect
#    with the derived key.
# A second realm, OTHER.TEST, with its own KDC, trusts ours both ways and
# has a user of the same name: krbuser@OTHER.TEST gets a cross-realm ticket
# for our service, which the keytab decrypts; the realm check alone stops
# it from logging on as krbuser.
# Then other servers: no "realm" (the service principal's realm is used:
# PORTHOS.TEST in, OTHER.TEST out); "realm = OTHER.TEST" (the other way
# round); no keytab at all (Kerberos is not offered, fails cleanly, the log
# says so).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/../kdc/kdc.sh"

KUID=4301
KGID=4301

cleanup() {
	local rc=$?
	porthos_stop || rc=1
	kdc_stop
	exit $rc
}
trap cleanup EXIT

kdc_start || fail "cannot start the test KDC"
echo "== KDC for $KDC_REALM on 127.0.0.1:$KDC_PORT"
DISABLED=krbdisabled
kdc_admin "addprinc -pw $KDC_PASS $DISABLED" || fail "addprinc $DISABLED"
OTHER=OTHER.TEST
kdc_add_trusted_realm "$OTHER" || fail "cannot start the second KDC"
echo "== trusted KDC for $OTHER on 127.0.0.1:$KDC2_PORT"
FOREIGN_CC="FILE:$KDC_DIR/ccache.foreign"
KRB5CCNAME=$FOREIGN_CC kdc_kinit "$KDC_USER" "$KDC_PASS" "$OTHER" || fail "kinit $KDC_USER@$OTHER"
# as_foreign PROTO SHARE COMMANDS: smbclient as $KDC_USER@OTHER.TEST.
as_foreign() {
	KRB5CCNAME=$FOREIGN_CC krb_smbc "$@"
}

# smbtorture's expiry tests run side by side; each gets a share of its own,
# since expire2* waits for a change notification on its share's root and a
# neighbour's file there would complete it.
EXPIRE_TESTS="expire1n expire1s expire1e expire2s expire2e expire_disconnect"
PORTHOS_EXTRA_SHARES=$(for t in $EXPIRE_TESTS; do printf '[%s]\npath = @SRV_DIR@/%s\nread only = no\n' "$t" "$t"; done)

# The Kerberos users have no SMB password; the share lets their uid write.
porthos_pre_start() {
	"$CTL" --passdb "$SRV_DIR/state/passdb" user add "$KDC_USER" --uid "$KUID" --gid "$KGID" \
		--no-password >/dev/null &&
		"$CTL" --passdb "$SRV_DIR/state/passdb" user add "$DISABLED" --uid 4302 --gid 4302 \
			--no-password >/dev/null &&
		"$CTL" --passdb "$SRV_DIR/state/passdb" user disable "$DISABLED" || return 1
	local t
	for t in $EXPIRE_TESTS; do mkdir -p "$SRV_DIR/$t" && chmod 0777 "$SRV_DIR/$t" || return 1; done
	chmod 0777 "$SHARE_DIR" "$SRV_DIR/enc"
}

# krb_smbc PROTO SHARE COMMANDS [extra args]: smbclient with the ticket in
# $KRB5CCNAME and nothing else (Kerberos required, no password).
krb_smbc() {
	local proto=$1 share=$2 cmds=$3
	shift 3
	smbclient "//$KDC_HOSTNAME/$share" -I 127.0.0.1 -p "$SRV_PORT" -s "$(smbclient_conf)" \
		-m "$proto" -N --use-kerberos=required -c "$cmds" "$@"
}

# server_log_has PATTERN WHAT: the server said so (fixed string).
server_log_has() {
	grep -qF -- "$1" "$SRV_DIR/smbd.log" || fail "$2: the server log lacks '$1'"
}

porthos_start "kerberos keytab = $KDC_KEYTAB" "realm = $KDC_REALM" || fail "porthos_start"
server_log_has "Kerberos: accepting tickets for the principals in $KDC_KEYTAB" "start"
kdc_kinit "$KDC_USER" "$KDC_PASS" || fail "kinit $KDC_USER"

src="$SRV_DIR/src.bin"
head -c $((3 * 1024 * 1024 + 4321)) /dev/urandom >"$src"

# put, ls, get back, compare; on share $2 with extra smbclient args.
round_trip() {
	local proto=$1 share=$2 tag=$3 dir
	shift 3
	case $share in test) dir=$SHARE_DIR ;; enc) dir=$SRV_DIR/enc ;; esac
	krb_smbc "$proto" "$share" "put $src k_$tag.bin; ls k_$tag.bin; get k_$tag.bin $SRV_DIR/back.bin" \
		"$@" >"$SRV_DIR/out" 2>&1 || fail "$tag: $(cat "$SRV_DIR/out")"
	! grep -q NT_STATUS "$SRV_DIR/out" || fail "$tag: $(cat "$SRV_DIR/out")"
	grep -q "k_$tag.bin" "$SRV_DIR/out" || fail "$tag: file not listed"
	cmp "$src" "$dir/k_$tag.bin" || fail "$tag: bytes on the server differ"
	cmp "$src" "$SRV_DIR/back.bin" || fail "$tag: bytes read back differ"
	[ "$(stat -c %u:%g "$dir/k_$tag.bin")" = "$KUID:$KGID" ] ||
		fail "$tag: file owned by $(stat -c %u:%g "$dir/k_$tag.bin"), not the passdb's $KUID:$KGID"
	rm -f "$dir/k_$tag.bin" "$SRV_DIR/back.bin"
	echo "$tag: ok"
}

for proto in SMB3_11 SMB3 SMB2_10; do
	round_trip "$proto" test "signed_$proto" --option='client signing=required'
done
server_log_has "user '$KDC_USER' authenticated (Kerberos principal '$KDC_USER@$KDC_REALM')" "logon"

# Encryption: only one cipher offered at a time, so that one is used. The
# share requires encryption, so nothing passes in the clear.
for c in AES-256-GCM AES-256-CCM AES-128-GCM AES-128-CCM; do
	round_trip SMB3_11 enc "sealed_3.1.1_$c" --client-protection=encrypt \
		--option="client smb3 encryption algorithms=$c"
done
round_trip SMB3 enc "sealed_3.0" --client-protection=encrypt

# NTLM on the same server: the password user works, the Kerberos-only user
# does not, whatever it sends (the zero hash included).
smbc SMB3_11 test ls >"$SRV_DIR/out" 2>&1 || fail "NTLM user: $(cat "$SRV_DIR/out")"
echo "ntlm beside kerberos: ok"
out=$(smbclient //127.0.0.1/test -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3_11 \
	--use-kerberos=off -U "$KDC_USER%anything" -c ls 2>&1) && fail "NTLM logon of a Kerberos-only user"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "Kerberos-only user over NTLM: $out"
out=$(smbclient //127.0.0.1/test -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3_11 \
	--use-kerberos=off --pw-nt-hash -U "$KDC_USER%00000000000000000000000000000000" -c ls 2>&1) &&
	fail "the all-zero NT hash logged on a Kerberos-only user"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "zero hash: $out"
server_log_has "(no SMB password: Kerberos only)" "NTLM for a Kerberos-only user"
echo "kerberos-only user refused over NTLM: ok"

# A principal the KDC knows but the passdb does not.
(
	export KRB5CCNAME="FILE:$KDC_DIR/ccache.stranger"
	kdc_kinit "$KDC_STRANGER" "$KDC_PASS" || exit 1
	out=$(krb_smbc SMB3_11 test ls 2>&1) && { echo "accepted: $out"; exit 1; }
	grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || { echo "$out"; exit 1; }
) || fail "a principal without a passdb entry"
server_log_has "principal '$KDC_STRANGER@$KDC_REALM' refused: no user '$KDC_STRANGER' in the passdb" \
	"unknown principal"
echo "principal without a passdb entry refused: ok"
(
	export KRB5CCNAME="FILE:$KDC_DIR/ccache.disabled"
	kdc_kinit "$DISABLED" "$KDC_PASS" || exit 1
	out=$(krb_smbc SMB3_11 test ls 2>&1) && { echo "accepted: $out"; exit 1; }
	grep -q NT_STATUS_ACCOUNT_DISABLED <<<"$out" || { echo "$out"; exit 1; }
) || fail "a disabled user's principal"
server_log_has "principal '$DISABLED@$KDC_REALM' refused: user '$DISABLED' is disabled" "disabled user"
echo "disabled user refused: ok"

# The same name from the trusted realm: a valid ticket, the wrong realm.
out=$(as_foreign SMB3_11 test ls 2>&1) && fail "$KDC_USER@$OTHER logged on: $out"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "foreign realm: $out"
server_log_has "principal '$KDC_USER@$OTHER' refused: realm '$OTHER' is not '$KDC_REALM'" "foreign realm"
KRB5CCNAME=$FOREIGN_CC klist | grep "cifs/$KDC_HOSTNAME@$KDC_REALM" >/dev/null ||
	fail "no cross-realm service ticket: the refusal was not the server's"
echo "same user name from a trusted realm refused: ok"

# The service key changes on the KDC but not in the keytab: the new ticket
# cannot be read. Then the keytab gets the new key and, with no restart, a
# fresh ticket works.
kdc_admin "cpw -randkey cifs/$KDC_HOSTNAME" || fail "cpw"
kdestroy >/dev/null 2>&1
kdc_kinit "$KDC_USER" "$KDC_PASS" || fail "kinit"
out=$(krb_smbc SMB3_11 test ls 2>&1) && fail "a ticket under an unknown key was accepted: $out"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "unknown key: $out"
server_log_has "Kerberos: ticket refused:" "unknown key"
grep -F "Kerberos: ticket refused:" "$SRV_DIR/smbd.log" | tail -1 | grep -qiE 'kvno|key' ||
	fail "the refusal does not name the key: $(grep -F 'ticket refused' "$SRV_DIR/smbd.log" | tail -1)"
echo "ticket under an unknown key refused: ok ($(grep -F 'ticket refused' "$SRV_DIR/smbd.log" | tail -1 | sed 's/.*ticket refused: //'))"
kdc_admin "ktadd -k $KDC_KEYTAB cifs/$KDC_HOSTNAME" || fail "ktadd"
kdestroy >/dev/null 2>&1
kdc_kinit "$KDC_USER" "$KDC_PASS" || fail "kinit"
round_trip SMB3_11 test "after_key_rotation" --option='client signing=required'

# Raw SPNEGO: each Kerberos OID, and the mechListMIC's extra leg.
/usr/bin/python3 "$here/kerberos_client.py" 127.0.0.1 "$SRV_PORT" "$KDC_HOSTNAME" test ||
	fail "kerberos_client.py"
# A session ends with its ticket, and re-authentication revives it.
printf '%s\n' "$KDC_PASS" | KRB5CCNAME="FILE:$KDC_DIR/ccache.short" kinit -l 6s "$KDC_USER@$KDC_REALM" \
	>/dev/null || fail "kinit -l 6s"
/usr/bin/python3 "$here/kerberos_client.py" 127.0.0.1 "$SRV_PORT" "$KDC_HOSTNAME" test \
	"FILE:$KDC_DIR/ccache.short" || fail "kerberos_client.py expire"
server_log_has "of '$KDC_USER' expired with its ticket" "session expiry"

# smbtorture's expiry tests (smbtorture.sh skips them: they need Kerberos):
# 4-second tickets, every command answered NETWORK_SESSION_EXPIRED but
# CLOSE, LOGOFF and unlocks, re-authentication, and the client that
# disconnects instead. Each sleeps through its ticket: run side by side,
# each on its own share. Samba's client will not use GSSAPI towards an
# address, hence the name.
pids=()
for t in $EXPIRE_TESTS; do
	(cd "$SRV_DIR" && timeout -k 5 120 smbtorture "//127.0.0.1/$t" -p "$SRV_PORT" -s "$(smbclient_conf)" \
		--option=gensec:target_hostname="$KDC_HOSTNAME" -U "$KDC_USER%$KDC_PASS" --realm="$KDC_REALM" \
		--use-kerberos=required --option=torture:progress=no "smb2.session.$t") \
		>"$SRV_DIR/torture-$t.log" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
for t in $EXPIRE_TESTS; do
	# With the server's last word on tickets: expire1s was once refused
	# its first session setup (LOGON_FAILURE) in the sanitizer pass.
	grep -q "^success: $t" "$SRV_DIR/torture-$t.log" ||
		fail "smbtorture smb2.session.$t: $(grep -A3 -E '^(failure|error|skip)' "$SRV_DIR/torture-$t.log")
server log: $(grep -i -E 'ticket|kerberos|gss|logon' "$SRV_DIR/smbd.log" | tail -8)"
	echo "smbtorture smb2.session.$t: ok"
done

kill -0 "$SRV_PID" 2>/dev/null || fail "the server died"
porthos_stop || fail "porthos_stop"

# No "realm": the service principal's realm (PORTHOS.TEST) is the one.
porthos_start "kerberos keytab = $KDC_KEYTAB" || fail "porthos_start without realm"
out=$(krb_smbc SMB3_11 test ls 2>&1) || fail "without 'realm': $out"
server_log_has "client realm = the service principal's" "start without realm"
out=$(as_foreign SMB3_11 test ls 2>&1) && fail "without 'realm', $KDC_USER@$OTHER logged on: $out"
server_log_has "realm '$OTHER' is not '$KDC_REALM' (the service principal's)" "foreign realm, no 'realm'"
echo "no 'realm': the service principal's realm is used: ok"
porthos_stop || fail "porthos_stop"

# A realm that is not the ticket's.
porthos_start "kerberos keytab = $KDC_KEYTAB" "realm = $OTHER" || fail "porthos_start $OTHER"
out=$(krb_smbc SMB3_11 test ls 2>&1) && fail "a ticket from another realm was accepted: $out"
grep -q NT_STATUS_LOGON_FAILURE <<<"$out" || fail "other realm: $out"
server_log_has "principal '$KDC_USER@$KDC_REALM' refused: realm '$KDC_REALM' is not 'OTHER.TEST'" \
	"other realm"
# ... and the user of that realm is welcome, through the trust.
as_foreign SMB3_11 test ls >"$SRV_DIR/out" 2>&1 || fail "$KDC_USER@$OTHER with realm = $OTHER: $(cat "$SRV_DIR/out")"
server_log_has "user '$KDC_USER' authenticated (Kerberos principal '$KDC_USER@$OTHER')" "trusted realm"
echo "realm = $OTHER: its users in, ours out: ok"
porthos_stop || fail "porthos_stop"

# No keytab: Kerberos is not offered; a client that insists fails cleanly.
porthos_start || fail "porthos_start without keytab"
out=$(krb_smbc SMB3_11 test ls 2>&1) && fail "Kerberos without a keytab: $out"
grep -q NT_STATUS_ <<<"$out" || fail "no keytab: $out"
server_log_has "(Kerberos is off: no 'kerberos keytab' configured)" "no keytab"
smbc SMB3_11 test ls >"$SRV_DIR/out" 2>&1 || fail "NTLM without keytab: $(cat "$SRV_DIR/out")"
kill -0 "$SRV_PID" 2>/dev/null || fail "the server died"
echo "no keytab: Kerberos refused cleanly, NTLM works: ok"
echo "kerberos: all checks passed"
