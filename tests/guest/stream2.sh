#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stream sockets between two guests over a real link (scripts/vm -2): the
# server guest echoes every PDU, the client guest runs 4 connections each
# over IPv4 and IPv6 with PDUs from 1 byte to the max fragmented size in
# random write splits and verifies every byte; a port without listener
# is refused across the wire.
. "$AFS_TOP/tests/guest/lib.sh"

afs_need_sdtest
check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
check "peer reachable" afs_wait_peer

if [ "$AFS_ROLE" = server ]; then
	timeout 300 "$SDT" -l "$AFS_LOCAL4" -p 5000 -n 4 echoserver >/tmp/e4.log 2>&1 &
	s4=$!
	timeout 300 "$SDT" -l "$AFS_LOCAL6" -p 5000 -n 4 echoserver >/tmp/e6.log 2>&1 &
	s6=$!
	check "echo server IPv4" wait $s4
	check "echo server IPv6" wait $s6
	# Stay up while the client probes a port nobody listens on.
	sleep 40
else
	check "echo 4 connections IPv4" timeout 280 "$SDT" -l "$AFS_REMOTE4" -p 5000 -n 4 echoclient
	check "echo 4 connections IPv6" timeout 280 "$SDT" -l "$AFS_REMOTE6" -p 5000 -n 4 echoclient
	check "no listener across the wire: ECONNREFUSED" \
		timeout 60 "$SDT" -l "$AFS_REMOTE4" -p 5999 refused
fi
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
