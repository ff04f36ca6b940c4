#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch ksmbd-tools (ksmbd.mountd, ksmbd.adduser, ksmbd.control, ...) and the
# libraries the host lacks as .debs through the private apt state, and
# extract them into $AFS_CACHE/ksmbd-tools/root without installing anything
# on the host.  Guests run the host's userspace over 9p, so the binaries
# work there with LD_LIBRARY_PATH=ROOT/lib/x86_64-linux-gnu (bookworm's libnl
# is not merged-/usr).  Prints the root directory ROOT and links it as
# out/ksmbd-tools for the guest tests.
#   KSMBD_SUITE=bookworm|trixie|sid   where ksmbd-tools comes from (trixie)
# trixie's 3.5.x runs on a Debian 12 host (its libglib2.0-0t64 dependency is
# the host's libglib2.0-0 under another name) and works with 6.12's ksmbd.
. "$(dirname "$0")/lib.sh"

suite=${KSMBD_SUITE:-trixie}
dir=$AFS_CACHE/ksmbd-tools
# libnl from bookworm: the same version as the host's libnl-3-200, which
# rdma-core already pulls in; libnl-genl-3-200 is what the host is missing.
libs="libnl-3-200 libnl-genl-3-200"

afs_lock ksmbd-tools
opts=$(afs_apt_update)
ver=$(afs_apt_version "$opts" ksmbd-tools "$suite")
[ -n "$ver" ] || die "no ksmbd-tools in $suite"
stamp="ksmbd-tools=$ver/$suite $libs"
# Guests find the root through out/, whose path they know.
link() { ln -sfn "$dir/root" "$AFS_OUT/ksmbd-tools"; echo "$dir/root"; }
if [ -f "$dir/done" ] && [ "$(cat "$dir/done")" = "$stamp" ] &&
   [ -x "$dir/root/usr/sbin/ksmbd.mountd" ]; then
	link
	exit 0
fi

log "ksmbd-tools $ver ($suite): downloading"
rm -rf "$dir"
mkdir -p "$dir/deb"
# shellcheck disable=SC2086
(cd "$dir/deb" && apt-get -q $opts download "ksmbd-tools=$ver" >&2)
for p in $libs; do
	v=$(afs_apt_version "$opts" "$p" bookworm)
	[ -n "$v" ] || die "no $p in bookworm"
	# shellcheck disable=SC2086
	(cd "$dir/deb" && apt-get -q $opts download "$p=$v" >&2)
done
for d in "$dir"/deb/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
rm -rf "$dir/deb"
[ -x "$dir/root/usr/sbin/ksmbd.mountd" ] || die "ksmbd-tools: no ksmbd.mountd in the package"
# Every library the tools link must resolve from the host plus this root.
missing=$(LD_LIBRARY_PATH=$dir/root/lib/x86_64-linux-gnu:$dir/root/usr/lib/x86_64-linux-gnu \
	ldd "$dir/root/usr/sbin/ksmbd.mountd" 2>&1 | grep -E 'not found|version .* not found' || true)
[ -z "$missing" ] || die "ksmbd-tools: unresolved libraries: $missing"
echo "$stamp" >"$dir/done"
link
