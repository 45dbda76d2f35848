#!/bin/bash
# Durable handles from raw sockets (durable_client.py): taken back after a
# dropped connection with data, lock and oplock; refused to another user;
# closed for another client that needs what they cache, and after their
# time-out; not granted where the share says no; bounded in number; and
# AppInstanceId/AppInstanceVersion taking a file over from an earlier
# instance of the same application on another client. The
# smbtorture suites smb2.durable-open, smb2.durable-v2-open and
# smb2.durable-v2-delay run in smbtorture.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

USER2=durableother
USER2_PASS='0ther-durable!'
PORTHOS_EXTRA_SHARES="[nodurable]
path = @SRV_DIR@/nodurable
read only = no
durable handles = no"
porthos_pre_start() {
	mkdir -p "$SRV_DIR/nodurable" &&
		printf '%s\n' "$USER2_PASS" | "$CTL" --passdb "$SRV_DIR/state/passdb" user add "$USER2" \
			--uid 0 --gid 0 --password-stdin >/dev/null
}
trap porthos_stop EXIT

porthos_start "max open files = 4" || exit 1
timeout -k 5 300 /usr/bin/python3 "$here/durable_client.py" 127.0.0.1 "$SRV_PORT" "$TEST_USER" "$TEST_PASS" \
	"$USER2" "$USER2_PASS" "$SHARE_DIR" "$SRV_DIR/smbd.log" || fail "durable handle checks"
echo "durable: passed"
