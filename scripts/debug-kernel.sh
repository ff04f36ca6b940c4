#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once) and cache a debug kernel from Debian trixie's linux-source-6.12
# with KUnit, KASAN, lockdep, kmemleak, rxe, siw and SMB-Direct in cifs/ksmbd.
# Prints the cache directory holding bzImage, build/ and modules/.
. "$(dirname "$0")/lib.sh"

afs_lock debug
frag=$AFS_TOP/scripts/debug-kernel.config
opts=$(afs_apt_update)
ver=$(afs_apt_version "$opts" linux-source-6.12 trixie)
[ -n "$ver" ] || die "linux-source-6.12 not found in trixie"
key=$( (echo "$ver"; gcc --version | head -n1; cat "$frag") | sha256sum | cut -c1-12)
dir=$AFS_CACHE/debug-kernel/$key
publish() {
	# Same layout as the stock kernels, under the name "debug".
	local rel
	rel=$(cat "$dir/release")
	ln -sfn bzImage "$dir/vmlinuz"
	# modules -> the tree for /lib/modules/<release> (older caches
	# installed into modules/ itself).
	if [ -d "$dir/modules" ] && [ ! -L "$dir/modules" ]; then
		rm -f "$dir/modules/$rel"
		mv "$dir/modules" "$dir/modroot"
	fi
	ln -sfn "modroot/lib/modules/$rel" "$dir/modules"
	mkdir -p "$AFS_CACHE/kernels"
	ln -sfn "$dir" "$AFS_CACHE/kernels/debug"
	# Under TCG on a busy host, ACPI's AML interpreter with KASAN, lockdep
	# and kmemleak can run past the soft-lockup threshold while routing
	# INTx for virtio, which uses MSI-X anyway.  Real lockups still show
	# (at 2 x watchdog_thresh = 120 s) well inside every test timeout.
	echo "acpi=noirq watchdog_thresh=60" >"$dir/cmdline"
	# Older builds of other configurations are not needed any more.
	find "$AFS_CACHE/debug-kernel" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
}
if [ -f "$dir/done" ]; then
	publish
	echo "$dir"
	exit 0
fi

log "debug kernel: building linux-source-6.12 $ver (cache $dir; about 25 minutes)"
rm -rf "$dir"
mkdir -p "$dir/deb"
(cd "$dir/deb" && apt-get -q $opts download "linux-source-6.12=$ver" >&2)
dpkg-deb -x "$dir"/deb/linux-source-6.12_*.deb "$dir/deb/x"
tarball=$(ls "$dir"/deb/x/usr/src/linux-source-6.12.tar.*)
mkdir -p "$dir/build"
tar -C "$dir/build" --strip-components=1 -xf "$tarball"
rm -rf "$dir/deb"

cd "$dir/build"
make -s allnoconfig KCONFIG_ALLCONFIG="$frag" >&2
# allnoconfig silently drops symbols whose dependencies are not met.
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	grep -qxF "$line" .config || { log "config: $line not set"; missing=1; }
done <"$frag"
[ $missing -eq 0 ] || die "config fragment not fully applied"
nice make -j3 bzImage modules >"$dir/build.log" 2>&1 ||
	{ tail -n 40 "$dir/build.log" >&2; die "kernel build failed"; }
make -s modules_install INSTALL_MOD_PATH="$dir/modroot" INSTALL_MOD_STRIP=1 >&2
cp arch/x86/boot/bzImage "$dir/bzImage"
make -s kernelrelease >"$dir/release"
touch "$dir/done"
publish
log "debug kernel: $(cat "$dir/release") ready"
echo "$dir"
