#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Two guests on a wire: both load the module, bring up rxe or siw on the
# virtual NIC and exchange RDMA traffic with rping over IPv4 and IPv6.  The
# host keeps the link's pcap; check.sh verifies it saw RDMA packets.
. "$AFS_TOP/tests/guest/lib.sh"

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK})" afs_rdma_up
check "peer reachable over IPv4" afs_wait_peer
check "peer reachable over IPv6" ping -6 -c1 -W5 "$AFS_PEER6"

# The server serves one rping per address family and the client retries
# until the server listens.  Either side may see an attempt fail (the
# client racing the server's listen, a slow TCG host): the server then
# listens again and the client tries again, each bounded in time, so a
# failed attempt can neither leave the other side waiting for ever nor
# end the run early.
if [ "$AFS_ROLE" = server ]; then
	serve_rping() {
		local end=$((SECONDS + 240))
		while [ $SECONDS -lt $end ]; do
			timeout 120 rping -s -a "$1" -C 20 -S 4096 && return 0
			echo "rping server on $1 failed; listening again"
			sleep 1
		done
		return 1
	}
	check "rping server IPv4" serve_rping "$AFS_LOCAL4"
	check "rping server IPv6" serve_rping "$AFS_LOCAL6"
else
	retry_rping() {
		local end=$((SECONDS + 240))
		while [ $SECONDS -lt $end ]; do
			timeout 60 rping -c -a "$1" -C 20 -S 4096 -v && return 0
			sleep 2
		done
		return 1
	}
	check "rping IPv4 across the wire" retry_rping "$AFS_REMOTE4"
	check "rping IPv6 across the wire" retry_rping "$AFS_REMOTE6"
fi
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
