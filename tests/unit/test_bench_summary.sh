#!/bin/bash
# bench/summary.py judges issue 4's targets on one run: canned results
# for both servers, the verdict of each cell checked (medians of the runs,
# the loopback alternative only where Samba is near the wire, a failed
# cell, idle memory), and the same results without the loopback figure.
set -euo pipefail
SUMMARY="${srcdir:-$(dirname "$0")/../..}/bench/summary.py"
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT

echo "machine: canned" >"$D/machine.txt"
cell() { # cell SRV WORKLOAD THREADS ENCRYPT KEY VALUE...  (EXTRA: more fields)
	local srv=$1 w=$2 t=$3 e=$4 key=$5 v
	shift 5
	for v in "$@"; do
		echo "smbbench workload=$w threads=$t encrypt=$e sign=0 ops=1000 secs=3.000 $key=$v" \
			"lat_p50_us=100 lat_p99_us=200 srv=$srv srv_cpu_s=1.0 cli_cpu_s=1.0 ${EXTRA:-}" >>"$D/results.txt"
	done
}
# Near the wire (2500 MB/s): 1.05x, but 2300 >= 90% of it.
cell porthos seqwrite 1 0 MBps 2100 2300 2400
cell samba seqwrite 1 0 MBps 2200 2200 2100
# Samba past the wire: the ratio alone counts. Cores busy over the
# client's whole run where it was kept (wall_s), else over the measured secs.
EXTRA="srv_cpu_s=2.5 wall_s=4.00" cell porthos seqwrite 4 0 MBps 3000
cell samba seqwrite 4 0 MBps 4000
cell porthos seqread 4 0 MBps 5300
cell samba seqread 4 0 MBps 4000
cell porthos seqwrite 1 1 MBps 1400
cell samba seqwrite 1 1 MBps 1000
cell porthos randwrite4k 16 0 iops 16000
cell samba randwrite4k 16 0 iops 10000
# 16 streams only: 4 streams are not a target.
cell porthos randwrite4k 4 0 iops 1000
cell samba randwrite4k 4 0 iops 10000
cell porthos meta 1 0 iops 1400
cell samba meta 1 0 iops 1000
# A Porthos run that failed has no rate.
echo "smbbench workload=seqread threads=1 encrypt=0 srv=porthos" >>"$D/results.txt"
cell samba seqread 1 0 MBps 1000
for r in 1 2 3; do echo "limit name=iperf3_loopback_1stream rep=$r MBps=$((2400 + 50 * r))"; done >"$D/limits.txt"
echo "mem srv=porthos conns=200 procs0=1 rss0_kib=7680 pss0_kib=1 anon0_kib=1 procs=1 rss_kib=9216 pss_kib=1 anon_kib=1" >"$D/memory.txt"

MATRIX="seqwrite:1:0 seqread:1:0 seqwrite:4:0 seqread:4:0 seqwrite:1:1 randwrite4k:4:0 randwrite4k:16:0 meta:1:0"
fail=0
expect() { # expect FILE LINE: the summary has this row
	if ! grep -qxF -- "$2" "$1"; then
		echo "FAIL: no line: $2"
		fail=1
	fi
}
python3 "$SUMMARY" "$D" "$MATRIX" >"$D/summary.md"
S=$D/summary.md
expect "$S" "| sequential, plain | seqwrite 1 | 2300 | 2200 | 1.05 | >= 1.3x or >= 2250 MB/s | yes | 0.67 / 0.67 |"
expect "$S" "| sequential, plain | seqread 1 | FAIL | 1000 | - | >= 1.3x or >= 2250 MB/s | NO | - / 0.67 |"
expect "$S" "| sequential, plain | seqwrite 4 | 3000 | 4000 | 0.75 | >= 1.3x (Samba past the wire) | NO | 0.88 / 0.67 |"
expect "$S" "| sequential, plain | seqread 4 | 5300 | 4000 | 1.32 | >= 1.3x (Samba past the wire) | yes | 0.67 / 0.67 |"
expect "$S" "| sequential, encrypted | seqwrite 1 | 1400 | 1000 | 1.40 | >= 1.5x | NO | 0.67 / 0.67 |"
expect "$S" "| random 4 KiB, 16 streams | randwrite4k 16 | 16000 | 10000 | 1.60 | >= 1.5x | yes | 0.67 / 0.67 |"
expect "$S" "| metadata | meta 1 | 1400 | 1000 | 1.40 | >= 1.5x | NO | 0.67 / 0.67 |"
expect "$S" "| idle connections (200; the target names 1000) | VmRSS per connection, KiB | 7.7 | - | - | < 64 KiB | yes | - |"
expect "$S" "4 of 8 met."
if grep -q "randwrite4k 4 |" <(sed -n '/## Targets/,$p' "$S"); then
	echo "FAIL: a 4-stream random cell was judged"
	fail=1
fi

# Without the loopback figure only the ratio counts; 1,000 idle
# connections are the target's own count.
rm "$D/limits.txt"
sed -i 's/conns=200/conns=1000/; s/rss_kib=9216/rss_kib=15360/' "$D/memory.txt"
python3 "$SUMMARY" "$D" "$MATRIX" >"$D/nowire.md"
expect "$D/nowire.md" "| sequential, plain | seqwrite 1 | 2300 | 2200 | 1.05 | >= 1.3x | NO | 0.67 / 0.67 |"
expect "$D/nowire.md" "3 of 8 met."
expect "$D/nowire.md" "| idle connections (1000) | VmRSS per connection, KiB | 7.7 | - | - | < 64 KiB | yes | - |"

[ "$fail" = 0 ] || { sed -n '/## Targets/,$p' "$S"; exit 1; }
echo "ok: targets judged"
