#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build af_smbdirect.ko, the sample in-kernel consumer (tests/kmod) and,
# where the kernel has KUnit, the KUnit module for one kernel, with that
# kernel's own compiler.
#   build-module.sh <release> <root>   stock kernel: build in its release root
#   build-module.sh <release> -        debug kernel: host compiler, build tree
#                                      from scripts/debug-kernel.sh
# Modules land in $AFS_OUT/<release>/.  Extra make flags: $AFS_MAKEFLAGS.
. "$(dirname "$0")/lib.sh"

rel=$1 root=$2
# Trees built for the same kernel share its build directory.
afs_lock "build-$rel"
out=$AFS_OUT/$rel
mkdir -p "$out"
rm -f "$out"/*.ko

# Sources are copied per kernel so builds for several kernels never share
# objects.
copy_tree() {
	mkdir -p "$1"
	rm -rf "${1:?}"/*
	tar -C "$AFS_TOP" --exclude=.git --exclude=out --exclude='*.o' --exclude='*.ko' \
		-cf - Kbuild Makefile smbdirect include tests/kunit tests/kmod | tar -C "$1" -xf -
}

if [ "$root" = - ]; then
	# The published debug kernel (scripts/debug-kernel.sh makes it).
	kdir=$(readlink -f "$AFS_CACHE/kernels/debug")/build
	[ -f "$kdir/.config" ] || die "no debug kernel: run scripts/debug-kernel.sh"
	src=$AFS_CACHE/build/$rel
	copy_tree "$src"
	run() { (cd "$src" && "$@"); }
	srcin=$src
else
	kdir=/usr/src/linux-headers-$rel
	src=$root/build/af_smbdirect
	copy_tree "$src"
	# A private mount namespace gives the chroot a /proc (7.x's objtool
	# reads it) that disappears with the build.
	run() {
		unshare --mount --propagation private sh -c \
			'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" \
			/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ \
			sh -c 'cd /build/af_smbdirect && "$@"' sh "$@"
	}
	srcin=/build/af_smbdirect
fi

# W=1 and sparse (C=2) always, except where a headers package lacks the
# script its Makefile uses to vet sparse (Debian's 7.x).
flags="W=1 C=2 ${AFS_MAKEFLAGS:-}"
khost=$([ "$root" = - ] && echo "$kdir" || echo "$root$kdir")
if grep -qs checker-valid "$khost"/../linux-headers-*-common/Makefile &&
   ! ls "$khost"/../linux-headers-*-common/scripts/checker-valid.sh >/dev/null 2>&1; then
	flags="W=1 ${AFS_MAKEFLAGS:-}"
	log "$rel: no sparse (headers lack scripts/checker-valid.sh)"
fi
# shellcheck disable=SC2086
run make -C "$kdir" M="$srcin" $flags modules >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; die "module build for $rel failed"; }
cp "$src/smbdirect/af_smbdirect.ko" "$out/"
# The sample consumer is a module of its own; its offload modes call
# af_smbdirect.ko's exported functions (namespace AFSMBD), whose versions
# modpost finds in the module's Module.symvers.
# shellcheck disable=SC2086
run make -C "$kdir" M="$srcin/tests/kmod" KBUILD_EXTRA_SYMBOLS="$srcin/Module.symvers" \
	$flags modules >>"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; die "sample module build for $rel failed"; }
cp "$src/tests/kmod/afsmbd_sample.ko" "$out/"
if grep -q '^CONFIG_KUNIT=y' "$khost/.config" 2>/dev/null && [ -f "$src/tests/kunit/Kbuild" ]; then
	# shellcheck disable=SC2086
	run make -C "$kdir" M="$srcin/tests/kunit" $flags modules \
		>>"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; die "KUnit build for $rel failed"; }
	cp "$src"/tests/kunit/*.ko "$out/"
fi
# Warnings fail the build: W=1 is part of the contract.
if grep -E 'warning:|error:' "$out/build.log" >&2; then
	die "module build for $rel has warnings"
fi
log "built $(cd "$out" && echo *.ko) for $rel"
