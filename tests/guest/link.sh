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

# The server side serves one rping per address family; the client retries
# until the server is listening.
if [ "$AFS_ROLE" = server ]; then
	check "rping server IPv4" timeout 120 rping -s -a "$AFS_LOCAL4" -C 20 -S 4096
	check "rping server IPv6" timeout 120 rping -s -a "$AFS_LOCAL6" -C 20 -S 4096
else
	retry_rping() {
		local i
		for i in $(seq 30); do
			rping -c -a "$1" -C 20 -S 4096 -v && return 0
			sleep 1
		done
		return 1
	}
	check "rping IPv4 across the wire" retry_rping "$AFS_REMOTE4"
	check "rping IPv6 across the wire" retry_rping "$AFS_REMOTE6"
fi
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
