#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One guest, two network namespaces on a veth pair, each with its own rxe:
# a real wire between two stacks in one kernel.  Needs per-namespace rxe
# (7.x); on older kernels it is skipped.
. "$AFS_TOP/tests/guest/lib.sh"

if [ "${AFS_RELEASE%%.*}" -lt 7 ]; then
	skip "per-namespace rxe needs Linux 7.x (running $AFS_RELEASE)"
	afs_done
fi
check "insmod af_smbdirect" afs_insmod
check "two namespaces with rxe each" afs_rdma_netns_up
check "AF_SMBDIRECT socket inside a namespace" ip netns exec nsb \
	python3 -c "import socket; socket.socket($(cat /sys/module/af_smbdirect/parameters/family), socket.SOCK_STREAM)"
ip netns exec nsa rping -s -a 10.99.1.1 -C 10 >/tmp/rping-ns.log 2>&1 &
srv=$!
sleep 1
check "rping between namespaces" ip netns exec nsb rping -c -a 10.99.1.1 -C 10 -v
wait "$srv"
check "rping server finished cleanly" test $? = 0
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
