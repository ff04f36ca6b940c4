#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Socket options, ioctls and readiness APIs on one guest: per-socket
# limits and the negotiate they produce, SMBDIRECT_INFO's device and
# counters, TCP_INFO, the connect timeout, the default port, SOL_SOCKET
# options, FIONREAD/SIOCOUTQ, epoll/select, SO_SNDTIMEO, readv/writev and
# close with and without linger; and abi32: an i386 build of sdopt reads
# SMBDIRECT_INFO on a live connection as the 64-bit one does (skipped on
# kernels without IA32 emulation, the debug kernel).  IPv4 and IPv6.
#   options.sh [test...]    default: all (see sdopt.c for the names)
. "$AFS_TOP/tests/guest/lib.sh"

SDO=$AFS_TOP/out/bin/sdopt SDO32=$AFS_TOP/out/bin/sdopt32
for p in "$SDO" "$SDO32"; do
	if [ ! -x "$p" ] || [ "$AFS_TOP/tests/guest/sdopt.c" -nt "$p" ]; then
		make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build sdopt"; afs_done; }
	fi
done

all="limits negotiated device counters tcpinfo timeout port solsocket ioctls epoll select sndtimeo iov linger chunkecho bothwrite abi32 protocol memlimit bufbytes memtotal"
tests=${*:-$all}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

for t in $tests; do
	for v in 4 6; do
		addr=$([ $v = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
		if [ "$t" != abi32 ]; then
			check "$t (IPv$v)" timeout 200 "$SDO" -l "$addr" -t "${AFS_LINK:-rxe}" "$t"
		# abi.vsyscall32 exists exactly when IA32 emulation is built in.
		elif [ ! -e /proc/sys/abi/vsyscall32 ]; then
			skip "$t (IPv$v): kernel without IA32 emulation"
		else
			check "$t (IPv$v)" timeout 200 "$SDO32" -l "$addr" -t "${AFS_LINK:-rxe}" abi "$SDO"
		fi
	done
done
check "no violations logged" sh -c '! dmesg | grep -q "disconnecting$"'
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
