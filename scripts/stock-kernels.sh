#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch and cache Debian's stock kernels (bookworm 6.1, trixie 6.12 and the
# newest in sid) plus a debootstrap root per release holding that release's
# compiler and linux-headers, since each kernel is built with its own gcc.
# Prints one line per kernel: "<suite> <release> <kernel-cache-dir> <root>".
. "$(dirname "$0")/lib.sh"

afs_lock stock
suites=${*:-bookworm trixie sid}
opts=$(afs_apt_update)

# The kernel release a suite's linux-image-amd64 points at, e.g. 6.1.0-50-amd64.
release_of() {
	# shellcheck disable=SC2086
	apt-cache $opts depends "linux-image-amd64=$(afs_apt_version "$opts" linux-image-amd64 "$1")" |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -n1
}

fetch_image() {
	local rel=$1 dir=$2 pkgs
	[ -f "$dir/done" ] && return 0
	log "kernel $rel: downloading"
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	# The image package and the pieces sid splits it into (linux-base-,
	# linux-binary-, linux-modules-<release>), nothing else.
	# shellcheck disable=SC2086
	pkgs=$( (echo "linux-image-$rel"; apt-cache $opts depends "linux-image-$rel" |
		sed -n "s/^ *Depends: \(linux-[a-z]*-$rel\)$/\1/p") | sort -u)
	# shellcheck disable=SC2086
	(cd "$dir/deb" && apt-get -q $opts download $pkgs >&2)
	for d in "$dir"/deb/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	rm -rf "$dir/deb"
	local img mods
	img=$(find "$dir/root" \( -name "vmlinuz-$rel" -o -path "*/modules/$rel/vmlinuz" \) | head -n1)
	mods=$(find "$dir/root" -maxdepth 4 -type d -path "*/modules/$rel" | head -n1)
	[ -n "$img" ] && [ -n "$mods" ] || die "kernel $rel: no vmlinuz or modules"
	ln -sf "${img#"$dir"/}" "$dir/vmlinuz"
	ln -sf "${mods#"$dir"/}" "$dir/modules"
	depmod -b "${mods%/lib/modules/$rel}" "$rel" 2>/dev/null ||
		depmod -b "${mods%/modules/$rel}" "$rel"
	echo "$rel" >"$dir/release"
	touch "$dir/done"
}

make_root() {
	local suite=$1 rel=$2 root=$AFS_CACHE/roots/$1
	if [ ! -f "$root/.afs-done" ]; then
		log "root $suite: debootstrap (a few minutes)"
		rm -rf "$root"
		debootstrap --variant=minbase --include=make,gcc,libc6-dev,xz-utils \
			"$suite" "$root" "$(afs_mirror)" >"$AFS_CACHE/debootstrap-$suite.log" 2>&1 ||
			{ tail -n 20 "$AFS_CACHE/debootstrap-$suite.log" >&2; die "debootstrap $suite failed"; }
		touch "$root/.afs-done"
	fi
	# perl and python3 run kernel-doc for W=1; sparse serves C=1.
	if [ ! -d "$root/usr/src/linux-headers-$rel" ] || [ ! -x "$root/usr/bin/sparse" ]; then
		log "root $suite: installing linux-headers-$rel"
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c \
			"apt-get -q -o Acquire::Check-Valid-Until=false update && apt-get install -y -q --no-install-recommends linux-headers-$rel perl python3 sparse" \
			>"$AFS_CACHE/headers-$suite.log" 2>&1 ||
			{ tail -n 20 "$AFS_CACHE/headers-$suite.log" >&2; die "headers $rel failed"; }
	fi
	echo "$root"
}

for suite in $suites; do
	rel=$(release_of "$suite")
	[ -n "$rel" ] || die "no kernel found for $suite"
	kdir=$AFS_CACHE/kernels/$rel
	fetch_image "$rel" "$kdir"
	root=$(make_root "$suite" "$rel")
	# Stable names for the runner: kernels/<suite> -> kernels/<release>.
	ln -sfn "$rel" "$AFS_CACHE/kernels/$suite"
	echo "$suite $rel $kdir $root"
done
