#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Socket options, ioctls and readiness APIs on one guest: per-socket
# limits and the negotiate they produce, SMBDIRECT_INFO's device and
# counters, TCP_INFO, the connect timeout, the default port, SOL_SOCKET
# options, FIONREAD/SIOCOUTQ, epoll/select, SO_SNDTIMEO, readv/writev and
# close with and without linger.  IPv4 and IPv6.
#   options.sh [test...]    default: all (see sdopt.c for the names)
. "$AFS_TOP/tests/guest/lib.sh"

SDO=$AFS_TOP/out/bin/sdopt
if [ ! -x "$SDO" ] || [ "$AFS_TOP/tests/guest/sdopt.c" -nt "$SDO" ]; then
	make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build sdopt"; afs_done; }
fi

all="limits negotiated device counters tcpinfo timeout port solsocket ioctls epoll select sndtimeo iov linger chunkecho bothwrite protocol memlimit bufbytes memtotal"
tests=${*:-$all}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

for t in $tests; do
	for v in 4 6; do
		addr=$([ $v = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
		check "$t (IPv$v)" timeout 200 "$SDO" -l "$addr" -t "${AFS_LINK:-rxe}" "$t"
	done
done
check "no violations logged" sh -c '! dmesg | grep -q "disconnecting$"'
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
