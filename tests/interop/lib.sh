# Shared helpers for the interop tests: start a private porthos-smbd on a
# loopback port with its own config, users and share, and stop it by pid.
# Sourced by each tests/interop/*.sh; the caller sets PORTHOS_BUILD.

: "${PORTHOS_BUILD:?set PORTHOS_BUILD to the build directory}"
SMBD="$PORTHOS_BUILD/porthos-smbd"
CTL="$PORTHOS_BUILD/porthos-ctl"
TEST_USER=porthostest
TEST_PASS='Pa55-word!'

# Picks a free loopback TCP port in 4470-4599.
free_port() {
	local p
	for p in $(shuf -i 4470-4599 -n 130); do
		if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# porthos_start [extra [global] lines...]: a server with shares "test" (rw),
# "ro" (read only) and "enc" (rw, encryption required), plus any sections in
# PORTHOS_EXTRA_SHARES; a function porthos_pre_start, if the caller defines
# one, runs with SRV_DIR set just before the server starts (to create the
# extra shares' directories and users); porthos_post_stop, if defined, runs
# once the server has stopped, before SRV_DIR goes (to unmount what
# porthos_pre_start mounted). Sets SRV_DIR, SRV_PORT, SRV_PID, SHARE_DIR.
porthos_start() {
	SRV_DIR=$(mktemp -d /tmp/porthos-test.XXXXXX)
	SHARE_DIR="$SRV_DIR/share"
	mkdir -p "$SHARE_DIR" "$SRV_DIR/ro" "$SRV_DIR/enc" "$SRV_DIR/state"
	SRV_PORT=$(free_port)
	{
		echo "[global]"
		echo "netbios name = PORTHOSTEST"
		echo "listen = 127.0.0.1:$SRV_PORT"
		echo "state directory = $SRV_DIR/state"
		echo "log level = ${PORTHOS_LOG_LEVEL:-info}"
		echo "allow anonymous = ${PORTHOS_ALLOW_ANONYMOUS:-no}"
		for line in "$@"; do echo "$line"; done
		echo "[test]"
		echo "path = $SHARE_DIR"
		echo "read only = no"
		echo "comment = Porthos test share"
		echo "[ro]"
		echo "path = $SRV_DIR/ro"
		echo "read only = yes"
		echo "[enc]"
		echo "path = $SRV_DIR/enc"
		echo "read only = no"
		echo "smb encrypt = required"
		# More share sections from the caller; @SRV_DIR@ stands for $SRV_DIR.
		[ -z "${PORTHOS_EXTRA_SHARES:-}" ] || printf '%s\n' "${PORTHOS_EXTRA_SHARES//@SRV_DIR@/$SRV_DIR}"
	} > "$SRV_DIR/porthos.conf"
	! declare -F porthos_pre_start >/dev/null || porthos_pre_start || return 1
	printf '%s\n' "$TEST_PASS" | "$CTL" --passdb "$SRV_DIR/state/passdb" user add "$TEST_USER" \
		--uid 0 --gid 0 --password-stdin >/dev/null
	: >"$SRV_DIR/smbd.log"
	porthos_run
}

# porthos_run: starts the server of $SRV_DIR (again, after a crash the
# test caused: same port, same state directory) and waits for it to listen.
porthos_run() {
	ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:quarantine_size_mb=16:log_path=$SRV_DIR/sanitizer" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SRV_DIR/sanitizer" TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:log_path=$SRV_DIR/sanitizer" "$SMBD" --config "$SRV_DIR/porthos.conf" >>"$SRV_DIR/smbd.log" 2>&1 &
	SRV_PID=$!
	local i
	for i in $(seq 1 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$SRV_PORT") 2>/dev/null; then
			return 0
		fi
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "porthos-smbd did not start:" >&2
	cat "$SRV_DIR/smbd.log" >&2
	return 1
}

# Stops the server; fails if it had died on its own (a crash is a failure).
# It must exit cleanly on SIGTERM, log no broken control lock rule, and, in a
# sanitizer build (scripts/test.sh's second pass), leave no sanitizer report
# (LeakSanitizer runs at that exit): any of these ends the test as failed,
# from an EXIT trap too. Reports are kept
# in $PORTHOS_BUILD/sanitizer-reports/.
porthos_stop() {
	local rc=0 bad=0 status=0
	if [ -n "${SRV_PID:-}" ]; then
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "porthos-smbd had exited by itself:" >&2
			tail -20 "$SRV_DIR/smbd.log" >&2
			rc=1
		else
			kill "$SRV_PID"
			# Until it has exited (a zombie), 60 s at most: then it is killed, and fails.
			local i
			for i in $(seq 1 600); do
				kill -0 "$SRV_PID" 2>/dev/null || break
				[ "$(awk '{print $3}' "/proc/$SRV_PID/stat" 2>/dev/null)" != Z ] || break
				sleep 0.1
			done
			[ "$i" -lt 600 ] || kill -KILL "$SRV_PID" 2>/dev/null || true
			wait "$SRV_PID" 2>/dev/null || status=$?
			if [ "$status" -ne 0 ] && [ "$status" -ne 127 ]; then
				echo "porthos-smbd exited with status $status on SIGTERM:" >&2
				tail -20 "$SRV_DIR/smbd.log" >&2
				bad=1
			fi
		fi
		SRV_PID=
	fi
	! declare -F porthos_post_stop >/dev/null || porthos_post_stop || rc=1
	# An internal rule broken (smbd/control.h) is logged by any build.
	if [ -n "${SRV_DIR:-}" ] && grep -h "control lock rule broken" "$SRV_DIR"/*.log 2>/dev/null >&2; then
		echo "porthos-smbd broke the control lock rule (lines above)" >&2
		bad=1
	fi
	if [ -n "${SRV_DIR:-}" ] && compgen -G "$SRV_DIR/sanitizer.*" >/dev/null; then
		mkdir -p "$PORTHOS_BUILD/sanitizer-reports"
		local f
		for f in "$SRV_DIR"/sanitizer.*; do
			cp "$f" "$PORTHOS_BUILD/sanitizer-reports/$(basename "$0" .sh)-$(basename "$f")"
			echo "porthos-smbd sanitizer report ($f):" >&2
			head -60 "$f" >&2
		done
		bad=1
	fi
	if [ "${PORTHOS_KEEP:-0}" != 1 ] && [ -n "${SRV_DIR:-}" ]; then
		rm -rf "$SRV_DIR"
	fi
	[ "$bad" -eq 0 ] || exit 1
	return $rc
}

# A private smbclient config so the system's /etc/samba is never read.
smbclient_conf() {
	local conf="$SRV_DIR/smb-client.conf"
	[ -f "$conf" ] || printf '[global]\n  client min protocol = SMB2_02\n' > "$conf"
	echo "$conf"
}

# smbc PROTO SHARE COMMANDS [extra args]: runs smbclient with signing required.
smbc() {
	local proto=$1 share=$2 cmds=$3
	shift 3
	smbclient "//127.0.0.1/$share" -p "$SRV_PORT" -s "$(smbclient_conf)" -m "$proto" \
		-U "$TEST_USER%$TEST_PASS" --option='client signing=required' -c "$cmds" "$@"
}

# Restarts the server with "reply crypto = $1" (debug log) and runs $3, a
# put and get of large files; their replies must have been $2 ("sealed" or
# "signed") on a worker with "workers", and never with "loop".
reply_crypto_round() {
	local where=$1 verb=$2 put_get=$3 n
	porthos_stop
	PORTHOS_LOG_LEVEL=debug porthos_start "reply crypto = $where"
	"$put_get" || fail "reply crypto = $where: the put/get failed"
	n=$(grep -c "bytes $verb on a worker" "$SRV_DIR/smbd.log" || true)
	if [ "$where" = workers ]; then
		[ "$n" -gt 0 ] || fail "reply crypto = workers: no reply was $verb on a worker"
	else
		[ "$n" -eq 0 ] || fail "reply crypto = $where: $n replies $verb on a worker"
	fi
	echo "reply crypto = $where: put/get ok, $n replies $verb on a worker"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# wait_client_file FILE PID: waits up to 30 s for background client PID
# to make FILE (its signal that it got going; made whole, by a rename),
# while it runs; false if it does not.
wait_client_file() {
	local _
	for _ in $(seq 300); do
		[ -e "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	[ -e "$1" ]
}

# For the kernel-client tests that break the server while a guest writes
# (kernel_durable.sh, kernel_persistent.sh): HELPER is a background job of
# the host's (it breaks the server at the guest's signal), stopped with the
# server on exit.
HELPER=
stop_helper_and_server() {
	local rc=$?
	[ -z "$HELPER" ] || { kill "$HELPER" 2>/dev/null; wait "$HELPER" 2>/dev/null; }
	porthos_stop || rc=1
	exit $rc
}

# wait_guest_line PREFIX: until the guest prints a line starting so (in
# $SRV_DIR/guest.log), two minutes at most; false if it never does.
wait_guest_line() {
	local _
	for _ in $(seq 1200); do
		grep -q "^$1" "$SRV_DIR/guest.log" && return 0
		sleep 0.1
	done
	return 1
}

# What the server saw, for a failure's diagnosis.
server_log_summary() {
	echo "---- smbd.log: connections, kept handles, failed calls ----"
	grep -E 'closed:|persistent handle|durable handle|-> NT_STATUS_' "$SRV_DIR/smbd.log" |
		grep -vE -- '-> NT_STATUS_(OK|MORE_PROCESSING_REQUIRED|PENDING)$' | tail -n 40
}

# guest_verdict RC TAG: run-guest.sh's exit status and the guest's
# GUEST-<TAG>-OK / -FAIL lines (in $SRV_DIR/guest.log) as the test's verdict.
guest_verdict() {
	[ "$1" = 0 ] || server_log_summary
	case $1 in
	0) ;;
	124) fail "the guest timed out" ;;
	125) fail "the qemu harness failed (not a server verdict)" ;;
	*) fail "the kernel client failed: $(grep -E "^GUEST-$2-FAIL" "$SRV_DIR/guest.log")" ;;
	esac
	grep -q "^GUEST-$2-OK" "$SRV_DIR/guest.log" || fail "no GUEST-$2-OK from the guest"
}
