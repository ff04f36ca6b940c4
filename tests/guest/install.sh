#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install as a user would, on the Debian release that ships this guest's
# kernel: apt installs the built packages (DKMS compiles the module with
# that release's own gcc and headers), the module loads by name and by
# socket() autoload, the tools carry data over it, the man pages render
# without warnings, and removal leaves nothing behind.  Then the same for
# "make install" and "make uninstall" from the source tarball.
#
# The release is its cached debootstrap root (scripts/deb.sh links it with
# the packages): the guest's own userspace is the host's, whose compiler
# may not be the one the kernel was built with.  The root sits on the
# guest's tmpfs overlay, so nothing here reaches the cache.  The guest has
# no network: scripts/deb.sh fetched dkms, man-db and kmod into a local
# repository, which is the root's only apt source here.
#   install.sh [packages|make]   one half only (default: both)
. "$AFS_TOP/tests/guest/lib.sh"

rel=$AFS_RELEASE
deb=${AFS_MODDIR%/*}/deb
R=
for d in "$deb"/*/root; do
	[ -d "$d/usr/src/linux-headers-$rel" ] && R=$(readlink -f "$d") && suite=${d%/root} && break
done
if [ -z "$R" ]; then
	fail "a release root with linux-headers-$rel (run scripts/deb.sh)"
	afs_done
fi
echo "release root: $R (${suite##*/})"

# The kernel's modules where the root looks for them, with the headers'
# build and source links beside them, as on an installed system.
km=/usr/lib/modules/$rel
cp -Pn "$R$km"/* "$km"/
mount --bind "$km" "$R$km"
mount -t proc proc "$R/proc"
mount -t sysfs sys "$R/sys"
mount --rbind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/run"

in_root() {
	chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

cp -r "$suite/repo" "$R/tmp/afs-repo"
cp "$deb"/af-smbdirect-dkms_*.deb "$deb"/af-smbdirect-tools_*_*.deb "$R/tmp/"
echo 'deb [trusted=yes] file:/tmp/afs-repo ./' >"$R/etc/apt/sources.list"
rm -f "$R"/etc/apt/sources.list.d/*
check "apt-get update (local repository)" in_root apt-get -q update
# A debootstrap root lacks the man-db and kmod every installed system has
# (kmod comes with dkms too, but make install needs it on its own).
check "apt-get install man-db kmod" in_root apt-get -q install -y --no-install-recommends man-db kmod

mods() { ls "$km"/updates/dkms/af_smbdirect.ko* "$km"/updates/af_smbdirect.ko* 2>/dev/null; }
loaded() { grep -q '^af_smbdirect ' /proc/modules; }
sock() {
	in_root python3 -c 'import socket; socket.socket(19, socket.SOCK_STREAM).close()'
}

# man -l as lintian runs it: any warning on stderr fails.
man_clean() {
	local out
	out=$(in_root sh -c "MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z '$1' 2>&1 >/dev/null") ||
		{ echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
}

# One file over rxe between two installed smbdcats.  The receiver's stdin
# stays open until the sender is done: at its EOF smbdcat shuts down its
# sending side, which on SMB-Direct (no half-close) ends the connection.
copy_file() {
	local port=$1 srv ok=1
	head -c 300000 /dev/urandom >"$R/tmp/file"
	rm -f "$R/tmp/hold"
	mkfifo "$R/tmp/hold"
	in_root timeout 120 smbdcat -l "$AFS_LOCAL4" "$port" <"$R/tmp/hold" >"$R/tmp/received" &
	srv=$!
	exec 7>"$R/tmp/hold"
	for _ in $(seq 50); do
		in_root timeout 60 smbdcat "$AFS_LOCAL4" "$port" <"$R/tmp/file" && ok=0 && break
		sleep 0.2
	done
	exec 7>&-
	wait "$srv" && [ "$ok" = 0 ] && cmp "$R/tmp/file" "$R/tmp/received"
}

# What a user expects after installing by either route.
installed_checks() {
	local how=$1 prefix=$2
	check "$how: module file installed for $rel" test -n "$(mods)"
	check "$how: modprobe af_smbdirect" in_root modprobe af_smbdirect
	check "$how: module loaded" loaded
	check "$how: modinfo shows parameter descriptions" \
		sh -c "chroot '$R' modinfo -F parm af_smbdirect | grep -q '^recv_credit_max:receives posted'"
	check "$how: family 19 in sysfs" grep -qx 19 /sys/module/af_smbdirect/parameters/family
	check "$how: modprobe -r af_smbdirect" in_root modprobe -r af_smbdirect
	check_fails "$how: module unloaded" loaded
	check "$how: socket(19, SOCK_STREAM) autoloads the module" sock
	check "$how: module loaded by autoload" loaded
	check "$how: smbdcat copies a file over rxe" copy_file "$3"
	check "$how: tools installed" \
		in_root sh -c "for t in smbdcat smbd-echo smbd-bench; do [ -x $prefix/bin/\$t ] && \$t --help >/dev/null || exit 1; done"
	check "$how: <linux/af_smbdirect.h> compiles" \
		in_root sh -c 'printf "#include <sys/socket.h>\n#include <linux/af_smbdirect.h>\nint main(void) { return AF_SMBDIRECT + SOL_SMBDIRECT + (int)sizeof(struct smbdirect_info); }\n" | gcc -x c -o /dev/null -'
	check "$how: man 7 smbdirect found by name" in_root man -w 7 smbdirect
	local page
	for page in man7/smbdirect.7 man1/smbdcat.1 man1/smbd-echo.1 man1/smbd-bench.1; do
		page=$(ls "$R$prefix/share/man/$page"* 2>/dev/null | head -n1)
		check "$how: man -l ${page##*/} renders without warnings" man_clean "${page#"$R"}"
	done
	afs_unload
}

# Nothing of ours may remain after removal.
removed_checks() {
	local how=$1 prefix=$2
	check_fails "$how: module files gone" test -n "$(mods)"
	check_fails "$how: modinfo af_smbdirect fails (depmod ran)" in_root modinfo af_smbdirect
	check_fails "$how: modprobe af_smbdirect fails" in_root modprobe af_smbdirect
	check_fails "$how: header gone" test -e "$R$prefix/include/linux/af_smbdirect.h"
	check_fails "$how: tools gone" sh -c "ls '$R$prefix'/bin/smbd* 2>/dev/null | grep ."
	check_fails "$how: man pages gone" sh -c \
		"ls '$R$prefix'/share/man/man7/smbdirect.7* '$R$prefix'/share/man/man1/smbd* 2>/dev/null | grep ."
}

# Files with our names, beyond what the root held before.  Its build/ is
# scripts/build-module.sh's scratch tree, which the host may be rewriting
# under us: not part of the installed system.
ours() {
	find "$R" -xdev \( -path "$R/tmp" -o -path "$R/build" \) -prune -o \
		\( -name '*af_smbdirect*' -o -name '*af-smbdirect*' \) -print | sort
}
ours >/tmp/ours.before
ours_unchanged() { ours | diff /tmp/ours.before -; }

check "rdma link up (rxe)" afs_rdma_up

# The Debian packages: apt install, use, apt remove, dpkg --purge.
packages() {
	echo "$(date +%T) packages"
	check "apt install ./af-smbdirect-dkms ./af-smbdirect-tools" \
		in_root sh -c 'cd /tmp && apt-get -q install -y ./af-smbdirect-dkms_*.deb ./af-smbdirect-tools_*.deb'
	check "dkms status: installed for $rel" \
		sh -c "chroot '$R' dkms status -m af-smbdirect -k '$rel' | grep -q ': installed'"
	installed_checks package /usr 5450
	check "apt remove af-smbdirect-dkms af-smbdirect-tools" \
		in_root apt-get -q remove -y af-smbdirect-dkms af-smbdirect-tools
	removed_checks package /usr
	check_fails "package: dkms tree gone" test -e "$R/var/lib/dkms/af-smbdirect"
	check_fails "package: source gone" sh -c "ls -d '$R'/usr/src/af-smbdirect-* 2>/dev/null | grep ."
	check "dpkg --purge af-smbdirect-dkms af-smbdirect-tools" \
		in_root dpkg --purge af-smbdirect-dkms af-smbdirect-tools
	check_fails "package: dpkg keeps no record" \
		sh -c "chroot '$R' dpkg-query -W -f '\${db:Status-Abbrev}\n' 'af-smbdirect*' | grep -v '^un'"
	check "package: no file named af_smbdirect or af-smbdirect left" ours_unchanged
}

# make install and make uninstall from the source tarball, with the
# release's compiler.
make_install() {
	local src
	echo "$(date +%T) make install"
	mkdir -p "$R/tmp/src"
	tar -C "$R/tmp/src" -xf "$deb"/af-smbdirect_*.tar.*
	src=$(cd "$R/tmp/src" && echo af-smbdirect-*)
	check "make install" in_root make -C "/tmp/src/$src" install
	installed_checks "make install" /usr 5451
	check "make uninstall" in_root make -C "/tmp/src/$src" uninstall
	removed_checks "make uninstall" /usr
	check "make uninstall: no file named af_smbdirect left outside the tree" ours_unchanged
}

case ${1:-all} in
packages) packages ;;
make) make_install ;;
*) packages; make_install ;;
esac
echo "$(date +%T) done"
afs_done
