#!/bin/bash
# Boot a qemu guest running a Debian kernel whose root is the host's / (9p,
# read-only, tmpfs overlay), run SCRIPT [ARGS...] in it and stream its output.
#
# usage: run-guest.sh [-t SECS] [-m MB] [-c CPUS] [-e NAME=VALUE]... [-v] [-k]
#                     SCRIPT [ARGS...]
#   -t  hard timeout in seconds, boot included (default 300)
#   -m  guest RAM in MiB (default 2048)
#   -c  vCPUs (default: min(nproc, 4))
#   -e  export NAME=VALUE to the script (repeatable)
#   -v  print the guest kernel console after the run
#   -k  keep the temp dir (console.log, out.log, qemu.log, job/)
#
# Exit status: the script's; 124 on timeout; 125 on a harness/boot failure
# (the tail of the guest console is printed).
#
# In the guest: cwd and $PORTHOS_SCRATCH = /scratch (tmpfs, writable),
# PORTHOS_HOST_IP=10.0.2.2 (the host's 127.0.0.1), PORTHOS_GUEST_IP=10.0.2.15,
# PORTHOS_GUEST_KVER. The whole guest filesystem is writable, but writes stay
# in guest RAM. /run and /scratch are guest-only tmpfs; host files under /run
# are NOT visible.
#
# Env: PORTHOS_VM_CACHE (see setup.sh), PORTHOS_VM_ACCEL=auto|kvm|tcg
# (auto: TCG if /sys/module/kvm_pvm exists or /dev/kvm is unusable or KVM
# fails to boot; KVM otherwise).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PORTHOS_VM_CACHE:-/var/cache/porthos-test-vm}
ACCEL=${PORTHOS_VM_ACCEL:-auto}

TIMEOUT=300
MEM=2048
CPUS=$(nproc)
[ "$CPUS" -le 4 ] || CPUS=4
VERBOSE=0
KEEP=0
ENVS=()

usage() {
	sed -n '4,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 125
}
msg() { echo "run-guest: $*" >&2; }

while getopts "t:m:c:e:vkh" o; do
	case $o in
	t) TIMEOUT=$OPTARG ;;
	m) MEM=$OPTARG ;;
	c) CPUS=$OPTARG ;;
	e) case $OPTARG in
	   [A-Za-z_]*=*) ENVS+=("$OPTARG") ;;
	   *) msg "bad -e $OPTARG"; exit 125 ;;
	   esac ;;
	v) VERBOSE=1 ;;
	k) KEEP=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || usage
for n in "$TIMEOUT" "$MEM" "$CPUS"; do
	case $n in ''|*[!0-9]*) msg "not a number: $n"; exit 125 ;; esac
done

SCRIPT=$(readlink -f -- "$1") || { msg "no such script: $1"; exit 125; }
shift
[ -f "$SCRIPT" ] || { msg "no such script: $SCRIPT"; exit 125; }
case $SCRIPT in
/run/*|/proc/*|/sys/*|/dev/*|/scratch/*)
	msg "$SCRIPT is under a guest-only mount; put it elsewhere"; exit 125 ;;
esac

# --- cache: kernel + initramfs -----------------------------------------
setup_out=$(PORTHOS_VM_CACHE=$CACHE "$HERE/setup.sh") || {
	msg "setup.sh failed"; exit 125; }
KVER=$(printf '%s\n' "$setup_out" | sed -n 's/^KVER=//p' | tail -n1)
KDIR=$CACHE/$KVER
MODDIR=$(cat "$KDIR/moddir" 2>/dev/null)
if [ -z "$KVER" ] || [ ! -f "$KDIR/vmlinuz" ] || [ ! -f "$KDIR/initrd.img" ] ||
		[ -z "$MODDIR" ]; then
	msg "cache $KDIR is incomplete"; exit 125
fi
case "$KDIR$MODDIR" in
*[,\ ]*) msg "cache path must not contain spaces or commas: $KDIR"; exit 125 ;;
esac

# --- temp dir and job ----------------------------------------------------
T=$(mktemp -d /tmp/porthos-vm.XXXXXX) || exit 125
QPID=""
TPID=""
cleanup() {
	[ -n "$QPID" ] && kill -KILL "$QPID" 2>/dev/null
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	[ -n "$QPID" ] && wait "$QPID" 2>/dev/null
	[ -n "$TPID" ] && wait "$TPID" 2>/dev/null
	if [ "$KEEP" = 1 ]; then
		msg "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT
trap 'msg "terminated"; exit 143' TERM

mkdir "$T/job"
# single-quote for any POSIX sh (stage2 sources this with busybox sh)
shq() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	for e in "${ENVS[@]}"; do
		printf 'export %s=%s\n' "${e%%=*}" "$(shq "${e#*=}")"
	done
	if [ -x "$SCRIPT" ]; then
		printf 'exec %s' "$(shq "$SCRIPT")"
	else
		printf 'exec /bin/sh %s' "$(shq "$SCRIPT")"
	fi
	for a in "$@"; do printf ' %s' "$(shq "$a")"; done
	printf '\n'
} > "$T/job/cmd"
: > "$T/out.log"
: > "$T/console.log"

pick_accel() {
	case $ACCEL in
	kvm|tcg) echo "$ACCEL" ;;
	auto)
		if [ -e /sys/module/kvm_pvm ]; then
			echo tcg	# PVM cannot run a stock kernel
		elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
			echo kvm
		else
			echo tcg
		fi ;;
	*) msg "PORTHOS_VM_ACCEL must be auto, kvm or tcg"; exit 125 ;;
	esac
}

start_qemu() {
	local accel=$1 a cpu
	if [ "$accel" = kvm ]; then
		a="-accel kvm"; cpu=host
	else
		a="-accel tcg,thread=multi"; cpu=max
	fi
	# shellcheck disable=SC2086
	qemu-system-x86_64 -name porthos-vm \
		-machine pc $a -cpu $cpu -smp "$CPUS" -m "$MEM" \
		-nodefaults -no-user-config -display none -monitor none -no-reboot \
		-kernel "$KDIR/vmlinuz" -initrd "$KDIR/initrd.img" \
		-append "console=ttyS0 panic=-1 mitigations=off porthos.kver=$KVER porthos.moddir=$MODDIR" \
		-chardev "file,id=con,path=$T/console.log,append=on" -serial chardev:con \
		-chardev "file,id=out,path=$T/out.log,append=on" -serial chardev:out \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$T/job,mount_tag=porthosjob,security_model=none,multidevs=remap" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
		</dev/null >"$T/qemu.log" 2>&1 &
	QPID=$!
}

console_tail() {
	msg "---- qemu.log ----"
	tail -n 20 "$T/qemu.log" >&2
	msg "---- guest console (tail) ----"
	tail -n 40 "$T/console.log" >&2
	msg "------------------------------"
}

ACCEL_USED=$(pick_accel) || exit 125
t0=$SECONDS
start_qemu "$ACCEL_USED"
tail -n +1 -f "$T/out.log" &
TPID=$!

timed_out=0
announced=0
boot_retry=1
announce() {
	if [ "$announced" = 0 ] && [ -s "$T/job/started" ]; then
		announced=1
		msg "guest ready after $((SECONDS - t0)) s ($ACCEL_USED, kernel $KVER, guest uptime $(cat "$T/job/started") s)"
	fi
}
while kill -0 "$QPID" 2>/dev/null; do
	announce
	if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
		timed_out=1
		break
	fi
	sleep 0.2
	# A guest that dies before its script starts (a KVM that cannot run the
	# kernel, or a rare panic while booting under emulation) boots once
	# more, with TCG unless KVM was asked for: nothing was tested yet.
	if [ "$boot_retry" = 1 ] && ! kill -0 "$QPID" 2>/dev/null && [ ! -e "$T/job/started" ]; then
		wait "$QPID" 2>/dev/null
		boot_retry=0
		msg "the guest died before its script started ($ACCEL_USED): booting it once more"
		console_tail
		[ "$ACCEL" = kvm ] || ACCEL_USED=tcg
		start_qemu "$ACCEL_USED"
	fi
done

if [ "$timed_out" = 1 ]; then
	kill -KILL "$QPID" 2>/dev/null
	wait "$QPID" 2>/dev/null
	QPID=""
	sleep 0.3	# let tail print the last output
	if [ -e "$T/job/started" ]; then
		msg "TIMEOUT after $TIMEOUT s (script still running)"
		[ "$VERBOSE" = 1 ] && cat "$T/console.log" >&2
		exit 124
	fi
	msg "TIMEOUT after $TIMEOUT s before the guest was ready"
	console_tail
	exit 125
fi

wait "$QPID" 2>/dev/null
QPID=""
announce
sleep 0.3
kill "$TPID" 2>/dev/null
wait "$TPID" 2>/dev/null
TPID=""
[ "$VERBOSE" = 1 ] && { msg "---- guest console ----"; cat "$T/console.log" >&2; }

if [ ! -f "$T/job/rc" ]; then
	if [ -e "$T/job/started" ]; then
		msg "guest died while the script ran (no exit status)"
	else
		msg "guest failed to boot"
	fi
	console_tail
	exit 125
fi
rc=$(cat "$T/job/rc")
msg "script exited $rc after $((SECONDS - t0)) s total"
case $rc in ''|*[!0-9]*) exit 125 ;; esac
exit "$rc"
