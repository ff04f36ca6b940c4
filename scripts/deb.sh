#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the Debian packages from a copy of the tree (dpkg-buildpackage,
# unsigned), check them with lintian, and fetch what installing them
# offline needs in each release's cached root (tests/guest/install.sh).
#   deb.sh [suite...]      suites to fetch for (default: bookworm sid)
# Results in $AFS_OUT/deb: the packages, lintian.log, and per suite a
# local repository (<suite>/repo) and a link to the root (<suite>/root).
. "$(dirname "$0")/lib.sh"

afs_host_deps dpkg-dev debhelper dh-dkms lintian
out=$AFS_OUT/deb
ver=$(dpkg-parsechangelog -l "$AFS_TOP/debian/changelog" -S Version)
src=$out/src/af-smbdirect-$ver
rm -rf "$out"
mkdir -p "$src"

# What git tracks or would track: no build products, no .git.  A tree
# unpacked from a tarball has no git: everything but out/.
if git -C "$AFS_TOP" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$AFS_TOP" && git ls-files -co --exclude-standard -z) |
		(cd "$AFS_TOP" && tar --null -T - -cf -) | tar -C "$src" -xf -
else
	tar -C "$AFS_TOP" --exclude=./out -cf - . | tar -C "$src" -xf -
fi
log "deb: building af-smbdirect $ver"
(cd "$src" && dpkg-buildpackage -us -uc) >"$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log" >&2; die "dpkg-buildpackage failed (see $out/build.log)"; }
mv "$out"/src/*.deb "$out"/src/*.dsc "$out"/src/*.tar.* "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"

# Every tag, informational ones included, goes to the log; errors and
# warnings fail.
lintian --info --display-info --pedantic "$out"/*.changes >"$out/lintian.log" 2>&1
lintian --fail-on error,warning "$out"/*.changes >/dev/null 2>&1 ||
	{ cat "$out/lintian.log" >&2; die "lintian: errors or warnings (see $out/lintian.log)"; }
log "deb: $(cd "$out" && echo *.deb); lintian: $(grep -cE '^[A-Z]: ' "$out/lintian.log") tag(s)"

# The guest has no network: download dkms, man-db and kmod with their
# dependencies for each root, as its own apt would, from the private lists
# (read only: no package cache written, the root's status only read).
opts=$(afs_apt_update)
suites=${*:-bookworm sid}
for suite in $suites; do
	root=$AFS_CACHE/roots/$suite
	[ -f "$root/var/lib/dpkg/status" ] || die "no root for $suite: run scripts/stock-kernels.sh"
	mkdir -p "$out/$suite/repo/partial"
	# shellcheck disable=SC2086
	apt-get -q $opts -o Dir::State::status="$root/var/lib/dpkg/status" \
		-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
		-o Dir::Cache::archives="$out/$suite/repo" -o APT::Default-Release="$suite" \
		--download-only --no-install-recommends -y install dkms man-db kmod \
		>"$out/$suite/fetch.log" 2>&1 ||
		{ tail -n 20 "$out/$suite/fetch.log" >&2; die "fetching dkms for $suite failed"; }
	rm -rf "$out/$suite/repo/partial" "$out/$suite/repo/lock"
	(cd "$out/$suite/repo" && dpkg-scanpackages -m . >Packages 2>/dev/null)
	ln -sfn "$root" "$out/$suite/root"
	log "deb: $suite: $(grep -c '^Package:' "$out/$suite/repo/Packages") package(s) for an offline install"
done
