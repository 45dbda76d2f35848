#!/bin/bash
# Users map to Unix identities: files a session creates belong to its user,
# the kernel's permission checks apply to it (no "everything as root"), and
# the share access lists (valid users, invalid users, read list, write list,
# @group entries) decide who gets in and who may write. smbclient is the
# client; ownership and contents are checked on disk.
#
# Users (uid:gid): alice 4101:100 ("users", so @users matches her),
# bob 4102:4102, carol 4103:4103, dave 4104:100. None needs an entry in
# /etc/passwd: the passdb carries the ids, and group 100 exists on Debian.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PW='Id3ntity-pass'
USERS_GID=$(getent group users | cut -d: -f3)
[ "$USERS_GID" = 100 ] || fail "expected group 'users' with gid 100 (Debian's), got '$USERS_GID'"

# [lists]: read only, but alice is in the write list; bob is listed valid
# and invalid (invalid wins); carol is in neither; dave gets in by @users.
# [rl]: writable, but @users are in the read list.
PORTHOS_EXTRA_SHARES='[lists]
path = @SRV_DIR@/lists
read only = yes
valid users = alice, bob, @users
invalid users = bob
write list = alice
[rl]
path = @SRV_DIR@/lists
read only = no
read list = @users'

porthos_pre_start() {
	local u
	mkdir -p "$SRV_DIR/lists" && chmod 0777 "$SRV_DIR/lists"
	for u in alice:4101:100 bob:4102:4102 carol:4103:4103 dave:4104:100; do
		IFS=: read -r name uid gid <<<"$u"
		printf '%s\n' "$PW" | "$CTL" --passdb "$SRV_DIR/state/passdb" user add "$name" \
			--uid "$uid" --gid "$gid" --password-stdin >/dev/null || return 1
	done
	# The share: root-owned and not writable at the top, one private
	# directory each, a sticky drop box, a group directory, and files
	# readable by all or only by root.
	chmod 0755 "$SHARE_DIR"
	mkdir -p "$SHARE_DIR/alice" "$SHARE_DIR/bob" "$SHARE_DIR/drop" "$SHARE_DIR/grp"
	chown 4101:100 "$SHARE_DIR/alice" && chmod 0700 "$SHARE_DIR/alice"
	echo "bob's secret" >"$SHARE_DIR/bob/secret.txt"
	chown -R 4102:4102 "$SHARE_DIR/bob" && chmod 0700 "$SHARE_DIR/bob"
	chmod 1777 "$SHARE_DIR/drop"
	echo "bob's note" >"$SHARE_DIR/drop/bobs.txt"
	chown 4102:4102 "$SHARE_DIR/drop/bobs.txt"
	chown 0:100 "$SHARE_DIR/grp" && chmod 0770 "$SHARE_DIR/grp"
	echo public >"$SHARE_DIR/pub.txt" && chmod 0644 "$SHARE_DIR/pub.txt"
	echo private >"$SHARE_DIR/priv.txt" && chmod 0600 "$SHARE_DIR/priv.txt"
}

trap porthos_stop EXIT
porthos_start || exit 1

# as USER SHARE COMMANDS: smbclient as one of the test users (SMB 3.1.1).
as() {
	local user=$1 share=$2 cmds=$3
	smbclient "//127.0.0.1/$share" -p "$SRV_PORT" -s "$(smbclient_conf)" -m SMB3_11 \
		-U "$user%$PW" -c "$cmds" 2>&1
}
# expect_ok USER SHARE COMMANDS WHAT / expect_denied ...: NT_STATUS_ACCESS_DENIED.
expect_ok() {
	local out
	out=$(as "$1" "$2" "$3")
	if grep -q NT_STATUS_ <<<"$out"; then
		fail "$4: expected success, got: $out"
	fi
	echo "ok: $4"
}
expect_denied() {
	local out
	out=$(as "$1" "$2" "$3")
	grep -q NT_STATUS_ACCESS_DENIED <<<"$out" || fail "$4: expected ACCESS_DENIED, got: $out"
	echo "ok: $4 (denied)"
}
owner() { stat -c %u:%g "$1"; }

work=$(mktemp -d /tmp/porthos-identity.XXXXXX)
trap 'rm -rf "$work"; porthos_stop' EXIT
echo "alice's data" >"$work/a.txt"
cd "$work" || exit 1

echo "== files belong to the session's user"
expect_ok alice test "put a.txt alice/a.txt; mkdir alice/sub" "alice writes in her directory"
[ "$(owner "$SHARE_DIR/alice/a.txt")" = 4101:100 ] || fail "alice/a.txt owned by $(owner "$SHARE_DIR/alice/a.txt")"
[ "$(owner "$SHARE_DIR/alice/sub")" = 4101:100 ] || fail "alice/sub owned by $(owner "$SHARE_DIR/alice/sub")"
cmp -s a.txt "$SHARE_DIR/alice/a.txt" || fail "alice/a.txt content differs"
expect_ok alice test "get alice/a.txt back.txt" "alice reads her file"
cmp -s a.txt back.txt || fail "read back differs"

echo "== POSIX permissions apply to the user"
expect_denied alice test "put a.txt bob/x.txt" "alice cannot write in bob's 0700 directory"
[ ! -e "$SHARE_DIR/bob/x.txt" ] || fail "bob/x.txt was created"
expect_denied alice test "get bob/secret.txt s.txt" "alice cannot read in bob's directory"
expect_denied alice test "ls bob/*" "alice cannot list bob's directory"
expect_ok alice test "get pub.txt p.txt" "alice reads a world-readable file"
expect_denied alice test "get priv.txt q.txt" "alice cannot read root's 0600 file"
expect_denied alice test "put a.txt pub.txt" "alice cannot overwrite root's 0644 file"
[ "$(cat "$SHARE_DIR/pub.txt")" = public ] || fail "pub.txt changed"
expect_denied alice test "put a.txt top.txt" "alice cannot create in the root-owned 0755 share root"
expect_denied alice test "mkdir topdir" "alice cannot mkdir in the share root"
expect_denied alice test "del pub.txt" "alice cannot delete in the share root"
[ -f "$SHARE_DIR/pub.txt" ] || fail "pub.txt was deleted"
# A stat open (attributes only) of a file she may not read: Windows grants
# it through the directory; reading the data stays denied.
/usr/bin/python3 - "$SRV_PORT" "$PW" <<'PY' || fail "attribute-only open of priv.txt"
import sys
from impacket.smbconnection import SMBConnection, SessionError
from impacket.smb3structs import FILE_READ_ATTRIBUTES, FILE_READ_DATA, SMB2_DIALECT_30
c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=int(sys.argv[1]), preferredDialect=SMB2_DIALECT_30)
c.login("alice", sys.argv[2])
t = c.connectTree("test")
f = c.openFile(t, "priv.txt", desiredAccess=FILE_READ_ATTRIBUTES, creationOption=0)
info = c._SMBConnection.queryInfo(t, f, fileInfoClass=4)  # FileBasicInformation
assert len(info) >= 36, info
c.closeFile(t, f)
try:
    c.openFile(t, "priv.txt", desiredAccess=FILE_READ_DATA, creationOption=0)
    sys.exit("read-data open of priv.txt succeeded")
except SessionError as e:
    assert e.getErrorCode() == 0xC0000022, hex(e.getErrorCode())
PY
echo "ok: alice reads the attributes of a file she cannot read"

echo "== the sticky drop box"
expect_ok alice test "put a.txt drop/alice.txt" "alice drops a file"
[ "$(owner "$SHARE_DIR/drop/alice.txt")" = 4101:100 ] || fail "drop/alice.txt owned by $(owner "$SHARE_DIR/drop/alice.txt")"
expect_denied alice test "del drop/bobs.txt" "alice cannot delete bob's file under the sticky bit"
expect_denied alice test "rename drop/bobs.txt drop/mine.txt" "alice cannot rename bob's file under the sticky bit"
[ -f "$SHARE_DIR/drop/bobs.txt" ] || fail "bobs.txt is gone"
expect_ok alice test "rename drop/alice.txt drop/alice2.txt; del drop/alice2.txt" "alice renames and deletes her own"
[ ! -e "$SHARE_DIR/drop/alice2.txt" ] || fail "drop/alice2.txt still exists"

echo "== group permissions"
expect_ok alice test "put a.txt grp/g.txt" "alice writes in a directory of her group"
expect_denied bob test "put a.txt grp/b.txt" "bob (not in the group) cannot"
expect_denied bob test "ls grp/*" "bob cannot list it"

echo "== root stays root"
smbc SMB3_11 test "get priv.txt r.txt; get bob/secret.txt s2.txt" >/dev/null 2>&1 ||
	fail "the uid 0 user could not read root's and bob's files"
cmp -s r.txt "$SHARE_DIR/priv.txt" || fail "priv.txt read as root differs"

echo "ok: the uid 0 user reads everything"
echo "== share access lists"
expect_ok alice lists "put a.txt l.txt" "alice (write list) writes on a read-only share"
[ "$(owner "$SHARE_DIR/../lists/l.txt")" = 4101:100 ] || fail "lists/l.txt has the wrong owner"
expect_denied bob lists "ls" "bob (valid and invalid users) is refused"
expect_denied carol lists "ls" "carol (not a valid user) is refused"
expect_ok dave lists "ls" "dave (valid through @users) gets in"
expect_denied dave lists "put a.txt d.txt" "dave (not in the write list) cannot write"
expect_denied alice rl "put a.txt r2.txt" "alice (read list through @users) cannot write on a writable share"
expect_ok bob rl "put a.txt b2.txt" "bob (not in the read list) writes there"

echo "== no anonymous access, IPC\$ included"
out=$(smbclient -L 127.0.0.1 -p "$SRV_PORT" -s "$(smbclient_conf)" -N 2>&1)
grep -qE 'NT_STATUS_(ACCESS_DENIED|LOGON_FAILURE)' <<<"$out" || fail "anonymous share listing: $out"
echo "ok: anonymous share listing refused"

cd / || exit 1
porthos_stop || exit 1
echo "identity: all checks passed"
