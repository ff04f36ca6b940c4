#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RDMA read/write offload through the userspace interface on one guest:
# our client role (SMBDIRECT_REGISTER) against our server role
# (SMBDIRECT_RDMA_WRITE/READ), 1 byte to 8 MiB at page-aligned and odd
# offsets, one and several descriptors, with and without
# Send-with-Invalidate; bad requests; then no MR, QP or cm_id is left and
# the module unloads.  IPv4 and IPv6, rxe or siw.
#   rdma.sh [test...]    default: read write inval abuse
. "$AFS_TOP/tests/guest/lib.sh"

SDR=$AFS_TOP/out/bin/sdrdma
if [ ! -x "$SDR" ] || [ "$AFS_TOP/tests/guest/sdrdma.c" -nt "$SDR" ]; then
	make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build sdrdma"; afs_done; }
fi
tests=${*:-read write inval abuse}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
for t in $tests; do
	for v in 4 6; do
		addr=$([ $v = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
		check "$t (IPv$v)" timeout 300 "$SDR" -l "$addr" "$t"
	done
done
# The interface: a reader compares cmsg_type (an int) with the constants.
check "SMBDIRECT_CMSG_* fit cmsg_type, an int" "$SDR" -l "$AFS_LOCAL4" cmsgtype
# Nothing of ours is left on the devices once every socket is closed.
leftover() {
	local n
	sleep 1
	n=$(rdma resource show mr 2>/dev/null | grep -c . || true)
	rdma resource show qp 2>/dev/null | grep -v "qpn 1 " | grep -q . && { rdma resource show qp; return 1; }
	[ "$n" = 0 ] || { rdma resource show mr; return 1; }
}
check "no MR or QP left" leftover
check "rmmod af_smbdirect" afs_unload
afs_done
