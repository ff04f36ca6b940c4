# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the af_smbdirect scripts: cache layout, logging and a
# private apt state that never touches the host's apt configuration.

set -euo pipefail

AFS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFS_CACHE=${AFS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/af_smbdirect}
AFS_OUT=${AFS_OUT:-$AFS_TOP/out}
mkdir -p "$AFS_CACHE" "$AFS_OUT"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The mirror the host already uses, so we hit the same archive it can reach.
afs_mirror() {
	local uri
	uri=$(grep -rhoE '^(URIs:|deb)\s+(\[[^]]*\]\s+)?https?://[^ ]+/debian/?(\s|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?' | head -n1 || true)
	echo "${uri:-http://deb.debian.org/debian}"
}

# Private apt state for the given suites; prints the apt options to use.
# The lists are refreshed at most once a day to keep warm runs fast.
afs_apt_opts() {
	local dir=$AFS_CACHE/apt suites="$*" s
	mkdir -p "$dir/lists/partial" "$dir/archives/partial"
	: >>"$dir/status"
	{
		for s in $suites; do
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(afs_mirror) $s main"
		done
	} >"$dir/sources.list.new"
	cmp -s "$dir/sources.list.new" "$dir/sources.list" 2>/dev/null ||
		{ mv "$dir/sources.list.new" "$dir/sources.list"; rm -f "$dir/updated"; }
	rm -f "$dir/sources.list.new"
	echo "-o Dir::State=$dir -o Dir::State::Lists=$dir/lists" \
	     "-o Dir::State::status=$dir/status -o Dir::Cache=$dir" \
	     "-o Dir::Cache::archives=$dir/archives" \
	     "-o Dir::Etc::SourceList=$dir/sources.list" \
	     "-o Dir::Etc::SourceParts=/dev/null -o APT::Get::List-Cleanup=0" \
	     "-o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false"
}

afs_apt_update() {
	local opts stamp=$AFS_CACHE/apt/updated
	# Scripts run side by side share these lists (apt's own lock is off).
	exec 8>"$AFS_CACHE/.lock-apt"
	flock 8
	opts=$(afs_apt_opts bookworm trixie sid)
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		log "apt: refreshing private package lists"
		# shellcheck disable=SC2086
		apt-get -q $opts update >&2 && touch "$stamp"
	fi
	flock -u 8
	echo "$opts"
}

# Newest candidate version string of a package in a suite.
afs_apt_version() {
	local opts=$1 pkg=$2 suite=$3
	# shellcheck disable=SC2086
	apt-cache $opts madison "$pkg" | awk -v s="$suite" '$0 ~ "/"s"/|"s"/main" {print $3; exit}'
}

# Install host packages the scripts need (Debian 12 host), once.
afs_host_deps() {
	local want="$*" missing=() p
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing host packages: ${missing[*]}"
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
		apt-get -q update >&2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

AFS_HOST_PKGS="build-essential gcc-multilib bc bison flex libelf-dev libssl-dev dwarves cpio zstd xz-utils
	kmod qemu-system-x86 busybox-static debootstrap sparse rdma-core ibverbs-utils
	rdmacm-utils librdmacm-dev libibverbs-dev perftest iproute2 iputils-ping python3 perl procps psmisc util-linux
	samba smbclient cifs-utils rsync"

# Serialise a cache-filling script against concurrent runs of itself.
afs_lock() {
	exec 9>"$AFS_CACHE/.lock-$1"
	flock 9
}
