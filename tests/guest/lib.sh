# SPDX-License-Identifier: GPL-2.0
# Helpers for tests that run inside a guest (sourced).  Results are lines
# "PASS: name", "FAIL: name" or "SKIP: name"; the runner counts them.

AFS_FAILED=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; AFS_FAILED=1; }
skip() { echo "SKIP: $*"; }

# check <name> <command...>: one test that passes if the command succeeds.
# The command runs in this shell, so a function may set variables.
check() {
	local name=$1 out=/tmp/afs-check.$$
	shift
	local rc=0
	if "$@" >"$out" 2>&1; then
		pass "$name"
	else
		rc=1
		fail "$name"
		sed 's/^/    /' "$out" | tail -n 20
	fi
	rm -f "$out"
	return $rc
}

# check_fails <name> <command...>: passes if the command fails.
check_fails() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		fail "$name (unexpectedly succeeded)"
	else
		pass "$name"
	fi
}

afs_done() { exit $AFS_FAILED; }

# Unload af_smbdirect once closing sockets have finished their teardown
# (up to 10 s): a socket's last reference goes after close() returns.
afs_unload() {
	local i
	for i in $(seq 50); do
		rmmod af_smbdirect 2>/dev/null && return 0
		sleep 0.2
	done
	rmmod af_smbdirect
}

# insmod does not resolve dependencies: load the module's first.
afs_insmod() {
	local dep
	for dep in $(modinfo -F depends "$AFS_MODDIR/af_smbdirect.ko" | tr , ' '); do
		modprobe "$dep" || return 1
	done
	insmod "$AFS_MODDIR/af_smbdirect.ko" "$@"
}

# Bring up the RDMA link(s) this topology uses.  One guest: a veth pair in
# the initial namespace with a device on each end (rxe on 6.1/6.12 works
# only there).  Two guests: a device on the virtual NIC.
# Sets AFS_LOCAL4/6 and AFS_REMOTE4/6 to the addresses to listen/connect on.
afs_rdma_up() {
	local type=${AFS_LINK:-rxe} mod
	mod=$([ "$type" = siw ] && echo siw || echo rdma_rxe)
	modprobe "$mod" 2>/dev/null
	if [ "$AFS_TOPOLOGY" = two ]; then
		rdma link add "${type}0" type "$type" netdev "$AFS_DEV" || return 1
		AFS_LOCAL4=$AFS_ADDR4 AFS_LOCAL6=$AFS_ADDR6
		AFS_REMOTE4=$AFS_PEER4 AFS_REMOTE6=$AFS_PEER6
	else
		ip link add veth0 type veth peer name veth1 || return 1
		ip addr add 10.99.0.1/24 dev veth0
		ip addr add 10.99.0.2/24 dev veth1
		ip -6 addr add fd99::1/64 dev veth0 nodad
		ip -6 addr add fd99::2/64 dev veth1 nodad
		ip link set veth0 up
		ip link set veth1 up
		rdma link add "${type}0" type "$type" netdev veth0 || return 1
		rdma link add "${type}1" type "$type" netdev veth1 || return 1
		AFS_LOCAL4=10.99.0.1 AFS_LOCAL6=fd99::1
		AFS_REMOTE4=10.99.0.2 AFS_REMOTE6=fd99::2
	fi
	export AFS_LOCAL4 AFS_LOCAL6 AFS_REMOTE4 AFS_REMOTE6
}

# Two namespaces nsa (10.99.1.1, fd99:1::1) and nsb (10.99.1.2, fd99:1::2)
# on a veth pair, each end with its own rxe (7.x has per-namespace rxe).
afs_rdma_netns_up() {
	modprobe rdma_rxe || return 1
	ip netns add nsa && ip netns add nsb || return 1
	ip link add va netns nsa type veth peer name vb netns nsb || return 1
	ip -n nsa addr add 10.99.1.1/24 dev va
	ip -n nsb addr add 10.99.1.2/24 dev vb
	ip -n nsa -6 addr add fd99:1::1/64 dev va nodad
	ip -n nsb -6 addr add fd99:1::2/64 dev vb nodad
	ip -n nsa link set va up && ip -n nsa link set lo up
	ip -n nsb link set vb up && ip -n nsb link set lo up
	ip netns exec nsa rdma link add rxea type rxe netdev va || return 1
	ip netns exec nsb rdma link add rxeb type rxe netdev vb || return 1
}

# The sdtest program; check.sh builds it on the host, a hand run may not
# have (the guest's tree is a writable overlay, so building here works).
SDT=$AFS_TOP/out/bin/sdtest
afs_need_sdtest() {
	if [ ! -x "$SDT" ] || [ "$AFS_TOP/tests/guest/sdtest.c" -nt "$SDT" ]; then
		make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build sdtest"; afs_done; }
	fi
}

# Wait until the peer guest answers on the link (two guests only).
afs_wait_peer() {
	local i
	for i in $(seq 60); do
		ping -c1 -W1 "$AFS_PEER4" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
