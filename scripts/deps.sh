#!/bin/bash
# Installs the Debian packages Porthos needs that are missing.
#   scripts/deps.sh build   what building needs
#   scripts/deps.sh test    that, plus the peers the tests talk to
#   scripts/deps.sh bench   build, plus what `make bench` runs (Samba's smbd,
#                           with the vfs modules the reference share uses,
#                           libsmbclient for the kit's client, iperf3)
# Idempotent: when everything is there it only checks.
set -euo pipefail

build_pkgs=(build-essential autoconf automake libtool pkg-config
	libssl-dev libevent-dev libtalloc-dev libcmocka-dev
	libcpg-dev libquorum-dev libcmap-dev libcorosync-common-dev
	libibverbs-dev librdmacm-dev libkrb5-dev liburing-dev)
# Peers: Samba's smbclient and smbtorture, impacket, the kernel client in a
# qemu guest, a private MIT KDC for Kerberos (kadmin.local is in
# krb5-admin-server, kinit in krb5-user; keyutils for cifs.upcall;
# python3-gssapi for a raw SPNEGO client); clang and its runtimes for the
# libFuzzer targets (tests/interop/fuzz.sh); mkfs.ext4 and mkfs.xfs for
# file systems of a test's own on a loop device (write_through.sh; an XFS
# that shares blocks for block cloning, vdisk_ops.sh); iptables, for
# smbtorture to stall channels (tests/interop/smbtorture.sh).
# Never ksmbd-tools: it conflicts with (removes) samba.
test_pkgs=(smbclient samba-testsuite python3-impacket cifs-utils
	qemu-system-x86 busybox-static cpio zstd xz-utils
	krb5-kdc krb5-admin-server krb5-user keyutils python3-gssapi
	clang libclang-rt-14-dev e2fsprogs xfsprogs iptables)

bench_pkgs=(samba samba-vfs-modules smbclient libsmbclient-dev libnss-wrapper iperf3 python3-impacket)

want=("${build_pkgs[@]}")
case "${1:-build}" in
test) want+=("${test_pkgs[@]}") ;;
bench) want+=("${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
