#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Diagnostics: /proc/net/smbdirect and smbdirect-ss list a live connection
# (client, server, listener) with its phase, addresses, device and
# counters, only in its own network namespace; the trace events fire for
# phase changes, messages, credits and RDMA offload.
. "$AFS_TOP/tests/guest/lib.sh"

afs_need_sdtest
SS=$AFS_TOP/out/bin/smbdirect-ss
T=/sys/kernel/tracing
check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
check "trace events registered" test -d $T/events/af_smbdirect/afsmbd_state
echo 1 >$T/events/af_smbdirect/enable 2>/dev/null
echo >$T/trace 2>/dev/null

"$SDT" -l "$AFS_LOCAL4" hold >/tmp/hold.log 2>&1 &
holder=$!
for _ in $(seq 300); do grep -q holding /tmp/hold.log && break; sleep 0.1; done
check "connection held open" grep -q holding /tmp/hold.log
listed() {
	cat /proc/net/smbdirect
	head -1 /proc/net/smbdirect | grep -q "^inode role phase local remote device" &&
	grep -q " client connected $AFS_LOCAL4:" /proc/net/smbdirect &&
	grep -q " server connected $AFS_LOCAL4:" /proc/net/smbdirect &&
	grep -q " listener idle $AFS_LOCAL4:" /proc/net/smbdirect &&
	grep " client connected " /proc/net/smbdirect | grep -q " ${AFS_LINK:-rxe}0 "
}
check "/proc/net/smbdirect lists client, server and listener" listed
ss_table() {
	"$SS" -a -e | tee /dev/stderr | grep -c "connected" | grep -qx 2 &&
	"$SS" -l | grep -q listener && ! "$SS" | grep -q listener &&
	"$SS" -p negotiate | grep -vq connected
}
check "smbdirect-ss table and filters" ss_table
ss_json() {
	"$SS" -a -j | python3 -c '
import json, sys
socks = json.load(sys.stdin)
roles = sorted(s["role"] for s in socks)
assert roles == ["client", "listener", "server"], roles
c = [s for s in socks if s["role"] == "client"][0]
assert c["phase"] == "connected" and c["send_size"] > 0, c
print("ok", len(socks))'
}
check "smbdirect-ss -j is JSON with the sockets" ss_json
netns_empty() {
	ip netns add afsdiag || return 1
	local n
	n=$(ip netns exec afsdiag cat /proc/net/smbdirect | wc -l)
	ip netns del afsdiag
	[ "$n" = 1 ]	# the header only
}
check "another namespace sees none of them" netns_empty
kill "$holder"; wait "$holder" 2>/dev/null

traced() {
	grep -c afsmbd $T/trace
	grep -q "afsmbd_state: ino=[0-9]* 5->6" $T/trace &&
	grep -q "afsmbd_send: ino=" $T/trace &&
	grep -q "afsmbd_recv: ino=" $T/trace
}
check "trace events: phases, sends, receives" traced
echo 0 >$T/events/af_smbdirect/enable 2>/dev/null
check "rmmod af_smbdirect" afs_unload
afs_done
