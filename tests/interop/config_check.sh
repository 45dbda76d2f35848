#!/bin/bash
# porthos-smbd --check: a good file passes; a broken one fails with every
# error and its line, and a server never starts on it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
dir=$(mktemp -d /tmp/porthos-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/share"

cat > "$dir/good.conf" <<CONF
[global]
    netbios name = CHECKME
    listen = 127.0.0.1:4471
    state directory = $dir
[vms]
    path = $dir/share
    read only = no
CONF
out=$("$SMBD" --config "$dir/good.conf" --check 2>&1) || fail "good config refused: $out"
grep -q "configuration OK" <<<"$out" || fail "no OK message: $out"

cat > "$dir/bad.conf" <<CONF
[global]
    netbios name = CHECKME
    server max protocol = SMB9
    idle timeout = soon
[vms]
    path = relative/path
    raed only = no
[vms]
    path = $dir/share
CONF
out=$("$SMBD" --config "$dir/bad.conf" --check 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "broken config accepted"
for want in "bad.conf:3:" "bad.conf:4:" "bad.conf:6:" "bad.conf:7: unknown parameter 'raed only'" "bad.conf:8:"; do
	grep -qF "$want" <<<"$out" || fail "missing error '$want' in: $out"
done
# Without --check the same file stops the server before it listens.
timeout 5 "$SMBD" --config "$dir/bad.conf" >/dev/null 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "server started on a broken config (exit $rc)"
echo "config_check: all checks passed"
