#!/bin/bash
# Prepare everything tests/vm/run-guest.sh needs (idempotent):
#   - host packages: qemu, busybox-static, cpio, kmod, cifs-utils, xz, zstd
#   - a Debian kernel for the guest, fetched with `apt-get download` and
#     unpacked into the cache (never installed into the host's /boot)
#   - depmod over the unpacked modules (the guest runs the host's modprobe)
#   - a small initramfs: static busybox, the modules needed to mount the
#     host's / over virtio-9p, and tests/vm/initramfs/{init,stage2}
# A second run only checks and returns.
#
# Env:
#   PORTHOS_VM_CACHE  cache dir (default /var/cache/porthos-test-vm)
#   PORTHOS_VM_KPKG   kernel package, a meta package or a concrete one
#                     (default linux-image-6.12-amd64, else linux-image-amd64).
#                     The default is resolved once and remembered as
#                     $CACHE/current; an explicit value is resolved with
#                     apt-cache on every run (~0.5 s) and not remembered.
#
# Prints "KVER=<version>" on its last line, for scripts.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PORTHOS_VM_CACHE:-/var/cache/porthos-test-vm}
# Modules the initramfs loads before the root is reachable; their
# dependencies are added by modprobe --show-depends.
INITRD_MODS="virtio_pci virtio_net 9pnet_virtio 9p overlay"

say() { echo "setup: $*" >&2; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, depmod, cache under /var)"

# --- host packages -------------------------------------------------------
# command -> package that provides it
need_pkgs=()
check_cmd() {
	if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
		need_pkgs+=("$2")
	fi
}
check_cmd qemu-system-x86_64 qemu-system-x86
check_cmd /bin/busybox busybox-static
check_cmd cpio cpio
check_cmd modprobe kmod
check_cmd depmod kmod
check_cmd mount.cifs cifs-utils
check_cmd xz xz-utils
check_cmd zstd zstd
check_cmd flock util-linux
# The dynamic "busybox" package is useless in an initramfs without libc:
# insist on the static one.
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
	need_pkgs+=(busybox-static)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	mapfile -t need_pkgs < <(printf '%s\n' "${need_pkgs[@]}" | sort -u)
	say "installing missing host packages: ${need_pkgs[*]}"
	# --no-remove: never let apt remove anything (e.g. samba) to satisfy this
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			--no-remove "${need_pkgs[@]}" >&2; then
		say "install failed, running apt-get update and retrying"
		apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
			--no-remove "${need_pkgs[@]}" >&2
	fi
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9	# concurrent run-guest.sh calls must not unpack twice

# --- guest kernel --------------------------------------------------------
kver_dir=""
if [ -z "${PORTHOS_VM_KPKG:-}" ] && [ -L "$CACHE/current" ] &&
		[ -f "$CACHE/current/unpacked" ]; then
	kver_dir=$(readlink -f "$CACHE/current")
else
	kpkg=${PORTHOS_VM_KPKG:-}
	if [ -z "$kpkg" ]; then
		if apt-cache show linux-image-6.12-amd64 >/dev/null 2>&1; then
			kpkg=linux-image-6.12-amd64
		else
			kpkg=linux-image-amd64
		fi
	fi
	# Follow meta packages (linux-image-amd64 -> linux-image-6.1.0-N-amd64)
	# until a package that ships /boot/vmlinuz-*.
	real=$kpkg
	for _ in 1 2 3; do
		dep=$(apt-cache depends "$real" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
		[ -n "$dep" ] || break
		real=$dep
	done
	kver=${real#linux-image-}
	kver=${kver%-unsigned}
	[ "$kver" != "$real" ] || die "cannot resolve a kernel image from $kpkg"
	kver_dir=$CACHE/$kver
	if [ ! -f "$kver_dir/unpacked" ]; then
		say "fetching $real (for $kpkg) into $kver_dir"
		rm -rf "$kver_dir"
		mkdir -p "$kver_dir/deb"
		# apt downloads as _apt when it can write there (else it warns)
		chown _apt "$kver_dir/deb" 2>/dev/null || true
		(cd "$kver_dir/deb" && apt-get download -q "$real" >&2) ||
			die "apt-get download $real failed"
		say "unpacking $(basename "$kver_dir"/deb/*.deb)"
		dpkg-deb -x "$kver_dir"/deb/*.deb "$kver_dir/root"
		rm -rf "$kver_dir/deb"	# the .deb is ~100 MB, the tree is enough
		touch "$kver_dir/unpacked"
	fi
	# An explicit PORTHOS_VM_KPKG is for this run only: "current" stays
	# the default kernel.
	if [ -z "${PORTHOS_VM_KPKG:-}" ]; then
		ln -sfn "$kver" "$CACHE/current.tmp"
		mv -T "$CACHE/current.tmp" "$CACHE/current"
	fi
fi

kver=$(basename "$kver_dir")
root=$kver_dir/root
# merged-/usr packages may ship usr/lib/modules instead of lib/modules
moddir=$root/lib/modules/$kver
[ -d "$moddir" ] || moddir=$root/usr/lib/modules/$kver
[ -d "$moddir" ] || die "no modules dir for $kver under $root"
[ -f "$root/boot/vmlinuz-$kver" ] || die "no $root/boot/vmlinuz-$kver"
ln -sfn "root/boot/vmlinuz-$kver" "$kver_dir/vmlinuz"
# The guest bind-mounts this over /lib/modules/$kver.
echo "$moddir" > "$kver_dir/moddir"

if [ ! -f "$moddir/modules.dep" ]; then
	say "depmod for $kver"
	# depmod wants <base>/lib/modules/<kver>
	depmod -b "${moddir%/lib/modules/"$kver"}" "$kver"
fi

# --- initramfs -----------------------------------------------------------
initrd=$kver_dir/initrd.img
rebuild=0
[ -f "$initrd" ] || rebuild=1
for f in "$HERE/setup.sh" "$HERE/initramfs/init" "$HERE/initramfs/stage2" /bin/busybox; do
	[ "$rebuild" = 1 ] || [ ! "$f" -nt "$initrd" ] || rebuild=1
done
if [ "$rebuild" = 1 ]; then
	say "building initramfs for $kver"
	work=$(mktemp -d /tmp/porthos-initrd.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work"/{bin,dev,proc,sys,lib/modules,lower,rw,newroot}
	cp /bin/busybox "$work/bin/busybox"
	ln -s busybox "$work/bin/sh"
	install -m 0755 "$HERE/initramfs/init" "$work/init"
	install -m 0755 "$HERE/initramfs/stage2" "$work/stage2"
	# insmod order, dependencies first, each module once
	: > "$work/modules.order"
	# shellcheck disable=SC2086
	modprobe -d "${moddir%/lib/modules/"$kver"}" -S "$kver" -a --show-depends $INITRD_MODS |
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue	# "builtin x" needs nothing
		name=$(basename "$path")
		case $name in
		*.ko.xz)  out=${name%.xz};  xz -dc "$path" > "$work/lib/modules/$out" ;;
		*.ko.zst) out=${name%.zst}; zstd -qdc "$path" > "$work/lib/modules/$out" ;;
		*.ko.gz)  out=${name%.gz};  gzip -dc "$path" > "$work/lib/modules/$out" ;;
		*.ko)     out=$name;        cp "$path" "$work/lib/modules/$out" ;;
		*) continue ;;
		esac
		grep -qx "$out" "$work/modules.order" || echo "$out" >> "$work/modules.order"
	done
	[ -s "$work/modules.order" ] || say "note: all initramfs modules are built in"
	say "initramfs modules: $(tr '\n' ' ' < "$work/modules.order")"
	# busybox needs /dev/console before devtmpfs is mounted
	mknod -m 600 "$work/dev/console" c 5 1
	(cd "$work" && find . -print0 | sort -z |
		cpio --quiet -o -0 -H newc -R 0:0) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$work"
	trap - EXIT
fi

say "ready: kernel $kver, cache $kver_dir"
echo "KVER=$kver"
