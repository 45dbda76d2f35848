#!/bin/bash
# No path trick reaches outside a share. On disk, before any client
# connects, the share gets symlinks that leave it (absolute, relative
# "../outside", /etc, /proc/self/root), symlinks that stay inside (which
# must work) and an admin-made hard link to an outside file. Then impacket
# (raw SMB3 requests, path_escape_client.py) and smbclient try every way
# out: "..", separators, drive and device prefixes, NULs, lone surrogates,
# long names, walks/creates/deletes/renames/links through the escaping
# links, named streams (refused: not served), @GMT tokens and TWrp (no
# snapshot yet), reparse-point opens and FSCTLs on the links, case
# variants (Unicode folding included), NFC/NFD spellings, look-alike dots
# and slashes, invalid UTF-16, and odd TREE_CONNECT paths. Every attempt
# must fail, and at the end the directory next to the share, the share's
# parent, /etc and / must be exactly as before (names, bytes, mtimes, link
# counts).
#
# The hard link hl_admin is by construction the outside file itself: a
# hard link has no target to confine, so an administrator who makes one
# has chosen to export that file. What is tested instead is that a client
# cannot make one (FileLinkInformation to outside names is refused).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cleanup() {
	local rc=$?
	porthos_stop || rc=1
	exit $rc
}
trap cleanup EXIT
porthos_start

out="$SRV_DIR/outside"
mkdir -p "$out/sub"
head -c 3333 /dev/urandom > "$out/secret"
echo "deep outside" > "$out/sub/deep.txt"
echo "hard linked by the admin" > "$out/hardlinked"
ln "$out/hardlinked" "$SHARE_DIR/hl_admin"

echo "inside the share" > "$SHARE_DIR/inside.txt"
echo "to be renamed" > "$SHARE_DIR/mv_src.txt"
mkdir -p "$SHARE_DIR/realdir" "$SHARE_DIR/sub"
echo "real dir file" > "$SHARE_DIR/realdir/file_in_real.txt"
ln -s "$out" "$SHARE_DIR/link_abs"
ln -s ../outside "$SHARE_DIR/link_rel"
ln -s ../outside "$SHARE_DIR/link_del"
ln -s /etc "$SHARE_DIR/link_etc"
ln -s /proc/self/root "$SHARE_DIR/link_proc"
ln -s ../outside/secret "$SHARE_DIR/link_secret"
ln -s "$out/secret" "$SHARE_DIR/link_abs_file"
ln -s inside.txt "$SHARE_DIR/link_file_in"
ln -s realdir "$SHARE_DIR/dir_link_in"
ln -s ../realdir "$SHARE_DIR/sub/up_link"
# Names that differ only by case: two files, and an escaping link beside a
# directory inside; a name in NFC (its NFD spelling is another name).
printf 'twin lower' > "$SHARE_DIR/twin"
printf 'twin upper' > "$SHARE_DIR/TWIN"
ln -s ../outside "$SHARE_DIR/esc"
mkdir "$SHARE_DIR/ESC"
echo inner > "$SHARE_DIR/ESC/inner.txt"
printf 'nfc' > "$SHARE_DIR/caf$(printf '\303\251')"

# A fingerprint of a tree: every entry with type, size, link count, mode,
# mtime (ns) and, for files, the content hash; symlink targets too.
fingerprint() {
	(cd "$1" && find . -printf '%p %y %s %n %m %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}
# Names only (with the directory's own mtime) for directories other
# processes may touch: the share's parent holds smbd.log, which grows.
names() {
	(cd "$1" && find . -maxdepth 1 -printf '%p\n' | LC_ALL=C sort)
}
snap="$SRV_DIR/snap"
mkdir "$snap"
smbclient_conf >/dev/null # created lazily otherwise, in the share's parent
fingerprint "$out" > "$snap/outside.before"
names "$SRV_DIR" > "$snap/parent.before"
stat -c '%n %s %Y %h %i' /etc /etc/passwd /etc/hostname /etc/shadow 2>/dev/null > "$snap/etc.before" || true
sha256sum /etc/passwd /etc/hostname > "$snap/etc.sum.before"
names /etc > "$snap/etcnames.before"
names / > "$snap/rootnames.before"
names /tmp | grep -v porthos-test > "$snap/tmpnames.before" || true

rc=0
/usr/bin/python3 "$(dirname "$0")/path_escape_client.py" 127.0.0.1 "$SRV_PORT" test \
	"$TEST_USER" "$TEST_PASS" "$SRV_DIR" || rc=1
kill -0 "$SRV_PID" 2>/dev/null || fail "CRITICAL: porthos-smbd died during the impacket checks"

# smbclient: what a user can type. Each command must be refused with an
# NT_STATUS error; smbclient goes on after a failed command, so each runs
# on its own and its output is checked.
echo "== smbclient"
echo "pesc smbclient upload" > "$snap/up.txt"
sc_refused() { # description, commands
	local o
	o=$(smbc SMB3_11 test "$2" 2>&1) || true
	if grep -q NT_STATUS_ <<<"$o"; then
		printf '  %-50s %s\n' "$1" "$(grep -o 'NT_STATUS_[A-Z_]*' <<<"$o" | head -1)"
	else
		echo "FAIL: smbclient '$2' was not refused: $o" >&2
		rc=1
	fi
}
sc_refused "get ..\\outside\\secret" "get ..\\outside\\secret $snap/got1"
sc_refused "get ../outside/secret" "get ../outside/secret $snap/got2"
sc_refused "get link_abs\\secret" "get link_abs\\secret $snap/got3"
sc_refused "get link_rel/secret" "get link_rel/secret $snap/got4"
sc_refused "get link_secret" "get link_secret $snap/got5"
sc_refused "get link_etc\\hostname" "get link_etc\\hostname $snap/got6"
sc_refused "cd link_rel; ls" "cd link_rel; ls"
sc_refused "ls link_abs\\*" "ls link_abs\\*"
sc_refused "ls link_proc\\*" "ls link_proc\\*"
sc_refused "put up.txt link_rel\\pesc_put.txt" "put $snap/up.txt link_rel\\pesc_put.txt"
sc_refused "put up.txt link_etc\\pesc_put.txt" "put $snap/up.txt link_etc\\pesc_put.txt"
sc_refused "mkdir link_abs\\pesc_dir" "mkdir link_abs\\pesc_dir"
sc_refused "del link_rel\\secret" "del link_rel\\secret"
sc_refused "rmdir link_rel\\sub" "rmdir link_rel\\sub"
sc_refused "rename mv_src.txt link_abs\\pesc_mv" "rename mv_src.txt link_abs\\pesc_mv"
sc_refused "rename link_rel\\secret pesc_stolen" "rename link_rel\\secret pesc_stolen"
sc_refused "hardlink mv_src.txt link_rel\\pesc_hl" "hardlink mv_src.txt link_rel\\pesc_hl"
sc_refused "hardlink mv_src.txt link_abs\\pesc_hl" "hardlink mv_src.txt link_abs\\pesc_hl"
sc_refused "hardlink mv_src.txt link_etc\\pesc_hl" "hardlink mv_src.txt link_etc\\pesc_hl"
sc_refused "allinfo link_abs_file" "allinfo link_abs_file"
# smbclient resolves ".." itself (it never sends one; a ".." at the root
# stays at the root), so these can only land inside the share: check that
# they did, then undo them. The raw ".." requests are in the Python part.
o=$(smbc SMB3_11 test "cd realdir; put $snap/up.txt ..\\..\\pesc_put.txt; mkdir ..\\..\\pesc_dir;
	rename ..\\mv_src.txt ..\\..\\pesc_mv" 2>&1) || true
for n in pesc_put.txt pesc_dir pesc_mv; do
	[ -e "$SHARE_DIR/$n" ] || [ -e "$SHARE_DIR/realdir/$n" ] ||
		{ echo "FAIL: smbclient '..' command for $n neither landed inside nor reported: $o" >&2; rc=1; }
done
rm -rf "$SHARE_DIR/pesc_put.txt" "$SHARE_DIR/pesc_dir" "$SHARE_DIR/realdir/pesc_put.txt" "$SHARE_DIR/realdir/pesc_dir"
mv "$SHARE_DIR/pesc_mv" "$SHARE_DIR/mv_src.txt" 2>/dev/null || mv "$SHARE_DIR/realdir/pesc_mv" "$SHARE_DIR/mv_src.txt" 2>/dev/null || true
o=$(smbc SMB3_11 "test\\.." ls 2>&1) && { echo "FAIL: smbclient //host/test\\.. connected: $o" >&2; rc=1; }
grep -q NT_STATUS_BAD_NETWORK_NAME <<<"$o" || { echo "FAIL: //host/test\\..: $o" >&2; rc=1; }
# In-share links work through smbclient too.
smbc SMB3_11 test "get link_file_in $snap/got_in; get dir_link_in\\file_in_real.txt $snap/got_real" \
	>/dev/null 2>&1 || { echo "FAIL: smbclient get through in-share links" >&2; rc=1; }
cmp -s "$snap/got_in" "$SHARE_DIR/inside.txt" || { echo "FAIL: link_file_in via smbclient" >&2; rc=1; }
cmp -s "$snap/got_real" "$SHARE_DIR/realdir/file_in_real.txt" || { echo "FAIL: dir_link_in via smbclient" >&2; rc=1; }
for f in got1 got2 got3 got4 got5 got6; do
	if [ -s "$snap/$f" ]; then
		echo "FAIL: CRITICAL: smbclient fetched outside content into $f" >&2
		rc=1
	fi
done
kill -0 "$SRV_PID" 2>/dev/null || fail "CRITICAL: porthos-smbd died during the smbclient checks"

# Nothing outside the share changed.
echo "== on-disk checks"
fingerprint "$out" > "$snap/outside.after"
if ! diff -u "$snap/outside.before" "$snap/outside.after"; then
	echo "FAIL: CRITICAL: the directory next to the share changed" >&2
	rc=1
fi
names "$SRV_DIR" > "$snap/parent.after"
if ! diff -u "$snap/parent.before" "$snap/parent.after"; then
	echo "FAIL: CRITICAL: names appeared in the share's parent" >&2
	rc=1
fi
stat -c '%n %s %Y %h %i' /etc /etc/passwd /etc/hostname /etc/shadow 2>/dev/null > "$snap/etc.after" || true
diff -u "$snap/etc.before" "$snap/etc.after" || { echo "FAIL: CRITICAL: /etc changed" >&2; rc=1; }
sha256sum -c --quiet "$snap/etc.sum.before" || { echo "FAIL: CRITICAL: /etc contents changed" >&2; rc=1; }
names /etc > "$snap/etcnames.after"
diff -u "$snap/etcnames.before" "$snap/etcnames.after" || { echo "FAIL: /etc names changed" >&2; rc=1; }
names / > "$snap/rootnames.after"
diff -u "$snap/rootnames.before" "$snap/rootnames.after" || { echo "FAIL: / names changed" >&2; rc=1; }
names /tmp | grep -v porthos-test > "$snap/tmpnames.after" || true
if grep pesc "$snap/tmpnames.after"; then
	echo "FAIL: CRITICAL: a pesc_* name appeared in /tmp" >&2
	rc=1
fi
# No marker name anywhere outside the share (all are created only by
# attempts that must fail, except the controls, which clean up).
stray=$( (find "$SRV_DIR" -name 'pesc*' -not -path "$SHARE_DIR/*"; find / /etc /tmp -maxdepth 1 -name 'pesc*') 2>/dev/null || true)
[ -z "$stray" ] || { echo "FAIL: CRITICAL: marker names outside the share: $stray" >&2; rc=1; }
stray=$(find "$SHARE_DIR" -name 'pesc*' 2>/dev/null || true)
[ -z "$stray" ] || { echo "FAIL: names left in the share by refused attempts: $stray" >&2; rc=1; }
# Streams and @GMT tokens are never names on disk.
stray=$(find "$SHARE_DIR" \( -name '*:*' -o -iname '*@GMT*' \) 2>/dev/null || true)
[ -z "$stray" ] || { echo "FAIL: stream or @GMT syntax became a name on disk: $stray" >&2; rc=1; }
# In-share links are intact (the test deletes only link_del, as a link).
[ -L "$SHARE_DIR/link_rel" ] && [ -L "$SHARE_DIR/link_abs" ] && [ -L "$SHARE_DIR/link_etc" ] ||
	{ echo "FAIL: a fixture symlink disappeared" >&2; rc=1; }
[ -f "$SHARE_DIR/mv_src.txt" ] || { echo "FAIL: mv_src.txt vanished" >&2; rc=1; }

[ "$rc" -eq 0 ] || exit 1
echo "path_escape: all checks passed"
