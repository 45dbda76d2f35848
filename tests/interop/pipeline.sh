#!/bin/bash
# Deep queues on one connection, as a VM host keeps them: bench/smbpipe
# (the project's pipelined SMB 3.1.1 client) holds hundreds of READs and
# WRITEs in flight, plain and sealed. Every 4 KiB block carries its
# offset; reads check it. The credit window must let 512 requests be in
# flight at once (issue #4), and a client vanishing with a full queue
# costs the server nothing.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

PIPE="$PORTHOS_BUILD/bench/smbpipe"
[ -x "$PIPE" ] || { echo "pipeline: no $PIPE (build first)" >&2; exit 1; }
trap porthos_stop EXIT
porthos_start || exit 1

# pipe_args SHARE WORKLOAD DEPTH SECONDS [--encrypt]: smbpipe's arguments
pipe_args() {
	local share=$1 w=$2 d=$3 s=$4
	shift 4
	ARGS=(--host 127.0.0.1 --port "$SRV_PORT" --share "$share" --user "$TEST_USER"
		--password "$TEST_PASS" --workload "$w" --depth "$d" --seconds "$s" --file-size 64M "$@")
}

# pipe SHARE WORKLOAD DEPTH SECONDS [--encrypt]: one run, its line on stdout
pipe() {
	pipe_args "$@"
	timeout -k 5 120 "$PIPE" "${ARGS[@]}"
}

# vanish SHARE WORKLOAD DEPTH [--encrypt]: a client killed a second into its run
vanish() {
	local share=$1 w=$2 d=$3
	shift 3
	pipe_args "$share" "$w" "$d" 30 "$@"
	"$PIPE" "${ARGS[@]}" >/dev/null 2>&1 &
	local pid=$!
	sleep 1
	kill -0 "$pid" 2>/dev/null || fail "smbpipe $share $w $d ended before it was killed"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
}

# run SHARE WORKLOAD DEPTH SECONDS [--encrypt]: fails the test unless the
# run passed (every READ found the offsets the WRITEs stamped).
run() {
	local line
	line=$(pipe "$@") || fail "smbpipe $*"
	echo "$line"
	LAST=$line
}

# The credit window: 512 4 KiB READs in flight at once on one connection
# (small requests, so neither the client nor the server's intake limits it).
run test randread4k 512 2
grep -q " max_inflight=512 " <<<"$LAST" || fail "never 512 requests in flight: the credit window held them back"
run test randwrite4k 256 2
run test randread4k 64 1
run test seqwrite 64 2
run test seqread 64 2
run enc seqwrite 32 2 --encrypt
run enc seqread 32 2 --encrypt
run enc randwrite4k 128 1 --encrypt
run enc randread4k 128 1 --encrypt

# A client that vanishes with 512 READs in flight, then one with 64 sealed
# 1 MiB WRITEs in flight: the server stays up and serves the next client.
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status")
vanish test randread4k 512
vanish enc seqwrite 64 --encrypt
run test randread4k 64 1
kill -0 "$SRV_PID" || fail "the server died"
# What the vanished clients' requests held is given back (2 s after the
# last large buffer's use the cache lets its buffers go too).
sleep 3
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status")
echo "server VmRSS: $rss0 KiB before the vanishing clients, $rss1 KiB after"
[ "$rss1" -lt $((rss0 + 65536)) ] || fail "the server kept $((rss1 - rss0)) KiB after the clients vanished"

porthos_stop || exit 1
echo "pipeline: passed"
