#!/bin/bash
# Prove the harness against a reference server: start a private Samba smbd
# on 127.0.0.1:$PORT (default 4460) with share "vms" and user test/test, run
# guest-cifs-rw.sh in the guest once per dialect, stop smbd.
#
# usage: samba-smoke.sh [VERS...]        (default: 3.1.1 3.0)
# Env: PORTHOS_SMOKE_PORT (4460); PORTHOS_VM_* as for run-guest.sh.
#
# smbd runs from its own smb.conf/private dir under a temp dir, under setsid
# (smbd signals its process group on exit), and is killed by the pid it
# wrote: other smbd's on this machine are never touched.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${PORTHOS_SMOKE_PORT:-4460}
[ $# -gt 0 ] || set -- 3.1.1 3.0

msg() { echo "samba-smoke: $*" >&2; }

command -v smbd >/dev/null || { msg "smbd missing: apt-get install samba"; exit 125; }
if ss -Hltn "sport = :$PORT" | grep -q .; then
	msg "port $PORT is already in use"; exit 125
fi

D=$(mktemp -d /tmp/porthos-smb.XXXXXX)
SMBPID=""
stop_smbd() {
	if [ -n "$SMBPID" ] && kill -0 "$SMBPID" 2>/dev/null; then
		kill "$SMBPID"
		for _ in $(seq 50); do
			kill -0 "$SMBPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$SMBPID" 2>/dev/null
	fi
	SMBPID=""
}
cleanup() { stop_smbd; rm -rf "$D"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$D"/{private,lock,state,cache,pid,ncalrpc,share}
chmod 0777 "$D/share"
# test -> root: no Unix account "test" is needed on the host
echo 'root = test' > "$D/usermap"
cat > "$D/smb.conf" <<EOF
[global]
	server role = standalone server
	smb ports = $PORT
	interfaces = 127.0.0.1
	bind interfaces only = yes
	disable netbios = yes
	server min protocol = SMB2_02
	passdb backend = tdbsam:$D/private/passdb.tdb
	private dir = $D/private
	lock directory = $D/lock
	state directory = $D/state
	cache directory = $D/cache
	pid directory = $D/pid
	ncalrpc dir = $D/ncalrpc
	log file = $D/log.%m
	log level = 1
	username map = $D/usermap
	map to guest = never
	load printers = no
	printing = bsd
	printcap name = /dev/null
	disable spoolss = yes

[vms]
	path = $D/share
	read only = no
EOF

printf 'test\ntest\n' | smbpasswd -c "$D/smb.conf" -L -s -a root >/dev/null ||
	{ msg "smbpasswd failed"; exit 125; }

setsid smbd -s "$D/smb.conf" --foreground --no-process-group \
	</dev/null >"$D/smbd.out" 2>&1 &
for _ in $(seq 100); do
	[ -s "$D/pid/smbd.pid" ] && ss -Hltn "sport = :$PORT" | grep -q . && break
	sleep 0.1
done
SMBPID=$(cat "$D/pid/smbd.pid" 2>/dev/null)
if [ -z "$SMBPID" ] || ! kill -0 "$SMBPID" 2>/dev/null; then
	msg "smbd did not start"; cat "$D/smbd.out" "$D"/log.* >&2 2>/dev/null; exit 125
fi
msg "smbd $(smbd --version | cut -d' ' -f2) pid $SMBPID on 127.0.0.1:$PORT, share vms=$D/share"

results=()
worst=0
for v in "$@"; do
	msg "=== vers=$v"
	t0=$SECONDS
	"$HERE/run-guest.sh" -t 300 "$HERE/guest-cifs-rw.sh" 10.0.2.2 "$PORT" vms test test "$v"
	rc=$?
	results+=("vers=$v rc=$rc $((SECONDS - t0))s")
	[ "$rc" = 0 ] || worst=$rc
done

stop_smbd
msg "results:"
for r in "${results[@]}"; do msg "  $r"; done
exit "$worst"
