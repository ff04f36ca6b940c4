#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's demonstration, run in two guests on one wire: the server
# guest listens with smbdcat, the client guest sends a random file over
# AF_SMBDIRECT on rxe; both print what they did and the file's SHA-256.
. "$AFS_TOP/tests/guest/lib.sh"

# Where scripts/demo.sh built the tools (AFS_OUT may be outside the tree).
bin=${AFS_OUT:-$AFS_TOP/out}/bin
port=5445
say() { printf '\n== %s\n' "$*"; }

say "$(hostname): kernel $(uname -r), role $AFS_ROLE"
check "load af_smbdirect.ko" afs_insmod
echo "family number in force: $(cat /sys/module/af_smbdirect/parameters/family)"
grep '^SMBDIRECT ' /proc/net/protocols | cut -c1-40
check "rxe on the wire" afs_rdma_up
rdma link show
check "peer answers" afs_wait_peer

if [ "$AFS_ROLE" = server ]; then
	say "listening on $AFS_LOCAL4 port $port"
	receive() {
		timeout 180 "$bin/smbdcat" -v -l "$AFS_LOCAL4" "$port" >/tmp/received 2>/tmp/smbdcat.err
	}
	check "receive a file over AF_SMBDIRECT" receive
	say "smbdcat -v: connection, negotiated parameters, counters"
	cat /tmp/smbdcat.err
	echo "received $(stat -c %s /tmp/received) bytes, sha256 $(sha256sum </tmp/received | cut -c1-64)"
	# Tell the client what arrived, through the shared run directory.
	sha256sum </tmp/received | cut -c1-64 >/afs-out/received.sha256
else
	head -c 4000000 /dev/urandom >/tmp/file
	sum=$(sha256sum </tmp/file | cut -c1-64)
	say "sending 4000000 random bytes, sha256 $sum"
	send() {
		local i
		for i in $(seq 30); do
			"$bin/smbdcat" -v -s 65536 "$AFS_REMOTE4" "$port" </tmp/file \
				2>/tmp/smbdcat.err && return 0
			sleep 1
		done
		return 1
	}
	check "send a file over AF_SMBDIRECT" send
	say "smbdcat -v: connection, negotiated parameters, counters"
	cat /tmp/smbdcat.err
	echo "$sum" >/afs-out/sent.sha256
fi
afs_done
