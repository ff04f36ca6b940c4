#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# An in-kernel consumer (tests/kmod/afsmbd_sample.ko) on one guest, over
# IPv4 and IPv6:
#   - client mode against userspace smbd-echo: PDUs of 1 byte to 1 MiB sent
#     with kernel_sendmsg (kvec) and sock_sendmsg (bvec), echoes read with
#     kernel_recvmsg (kvec) and sock_recvmsg (bvec), every byte checked in
#     module init, so insmod fails when anything is wrong;
#   - the failure paths: no listener (ECONNREFUSED) and a wrong echo (EIO);
#   - server mode (kernel_bind/listen/accept in a kthread) against sdtest's
#     userspace echoclient, and rmmod under a live, busy connection;
#   - RDMA offload through the exported functions (namespace AFSMBD):
#     mode=rdma-client registers kmalloc, vmalloc and page buffers
#     (afsmbd_register_iter, kvec and bvec, 1 byte to 8 MiB) for a
#     userspace server (sdrdma serve) that RDMA-writes and -reads them,
#     sees SMBDIRECT_CMSG_INVALIDATED through kernel_recvmsg and
#     deregisters; mode=rdma-server moves the data of a userspace client's
#     registrations with afsmbd_rdma_xfer and answers with
#     SMBDIRECT_CMSG_REMOTE_INVALIDATE through kernel_sendmsg; each side
#     corrupting the data on purpose (-X) is noticed by the other.
. "$AFS_TOP/tests/guest/lib.sh"

KO=$AFS_MODDIR/afsmbd_sample.ko
ECHO=$AFS_TOP/out/bin/smbd-echo
CAT=$AFS_TOP/out/bin/smbdcat

if [ ! -f "$KO" ]; then
	fail "sample module built for $AFS_RELEASE (scripts/build-module.sh)"
	afs_done
fi
if [ ! -x "$ECHO" ] || [ ! -x "$CAT" ]; then
	make -s -C "$AFS_TOP/tools" O="$AFS_TOP/out" >/dev/null ||
		{ fail "build tools"; afs_done; }
fi
afs_need_sdtest
SDR=$AFS_TOP/out/bin/sdrdma
if [ ! -x "$SDR" ] || [ "$AFS_TOP/tests/guest/sdrdma.c" -nt "$SDR" ]; then
	make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build sdrdma"; afs_done; }
fi

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

# The kernel log is never cleared (the runner scans all of it): klog_mark
# writes a marker, and klog_wait looks only at what follows the last one.
mark=0
klog_mark() {
	mark=$((mark + 1))
	echo "kernel.sh: mark $mark" >/dev/kmsg
}
klog_since() { dmesg | sed -n "/kernel.sh: mark $mark\$/,\$p"; }

# klog_wait <pattern> [n]: wait (20 s at most) until the log since the mark
# has n (default 1) lines matching the extended regular expression.
klog_wait() {
	local _
	for _ in $(seq 100); do
		[ "$(klog_since | grep -cE "$1")" -ge "${2:-1}" ] && return 0
		sleep 0.2
	done
	klog_since | grep afsmbd_sample | tail -n 5
	return 1
}

# start_bg <log> <command...>: run in the background until "listening".
start_bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	bg=$!
	for _ in $(seq 100); do
		grep -q listening "$log" && return 0
		sleep 0.2
	done
	return 1
}

# wrong_echo <addr> <port>: a peer that answers the client's first PDU (1
# byte) with another byte, late enough for the client to have sent it.
wrong_echo() { exec "$CAT" -v -l "$1" "$2" < <(sleep 8; printf Y) >/dev/null; }

sample() { timeout 300 insmod "$KO" "$@"; }
unload_sample() { rmmod afsmbd_sample; }

for v in 4 6; do
	a=$([ $v = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
	p=$((5440 + v))

	# Client mode against the userspace echo server.
	klog_mark
	check "smbd-echo listening (IPv$v)" start_bg /tmp/echo$v.log "$ECHO" -v "$a" $p
	echo_pid=$bg
	check "kernel client: kvec and bvec PDUs of 1 B to 1 MiB echoed and verified (IPv$v)" \
		sample addr="$a" port=$p
	check "kernel client reported success (IPv$v)" \
		klog_wait "afsmbd_sample: client: [0-9]+ PDUs .* verified"
	check "rmmod afsmbd_sample after the client run (IPv$v)" unload_sample
	kill "$echo_pid"; wait "$echo_pid" 2>/dev/null

	# Failures reach insmod: nobody listening, and an echo that differs.
	check_fails "kernel client refused on a port without listener (IPv$v)" \
		sample addr="$a" port=5999
	check "refusal explained in the kernel log (IPv$v)" \
		klog_wait "afsmbd_sample: client: connect to .*: -111"
	klog_mark
	check "smbdcat listening (IPv$v)" start_bg /tmp/cat$v.log wrong_echo "$a" $p
	cat_pid=$bg
	check_fails "kernel client rejects a wrong echo (IPv$v)" sample addr="$a" port=$p
	check "wrong echo explained: EIO and the byte (IPv$v)" \
		klog_wait "afsmbd_sample: client: echo of PDU 0 .* differs at byte 4"
	kill "$cat_pid" 2>/dev/null; wait "$cat_pid" 2>/dev/null

	# Server mode: userspace clients against the kernel's echo thread.
	klog_mark
	check "kernel server listening (IPv$v)" sample mode=server addr="$a" port=$p
	check "userspace echoclient, 2 connections, via the kernel server (IPv$v)" \
		timeout 280 "$SDT" -l "$a" -p $p -n 2 echoclient
	check "kernel server closed both connections cleanly (IPv$v)" \
		klog_wait "afsmbd_sample: server: connection from .* closed" 2
	# A busy connection: rmmod must stop the thread and close it.
	"$CAT" -q "$a" $p </dev/zero >/dev/null 2>&1 &
	cat_pid=$!
	check "busy connection accepted by the kernel server (IPv$v)" \
		klog_wait "afsmbd_sample: server: connection from [^ ]*\$" 3
	sleep 3
	check "rmmod afsmbd_sample under a busy connection (IPv$v)" timeout 60 rmmod afsmbd_sample
	check "busy connection stopped by rmmod (IPv$v)" \
		klog_wait "afsmbd_sample: server: connection from .* stopped by rmmod"
	kill "$cat_pid" 2>/dev/null; wait "$cat_pid" 2>/dev/null
	# RDMA offload over IPv4 (rdma.sh covers both for the engine).
	[ $v = 4 ] || continue

	# RDMA offload, the module as client: userspace moves the data.
	klog_mark
	check "sdrdma serve listening (IPv$v)" start_bg /tmp/serve$v.log "$SDR" -l "$a" -p $p serve
	serve_pid=$bg
	check "kernel rdma-client: kmalloc, vmalloc and page buffers of 1 B to 8 MiB registered, RDMA-written and -read by userspace, invalidation seen (IPv$v)" \
		sample mode=rdma-client addr="$a" port=$p
	check "kernel rdma-client reported success (IPv$v)" \
		klog_wait "afsmbd_sample: rdma-client: [0-9]+ transfers .* verified"
	check "sdrdma serve answered every request (IPv$v)" wait "$serve_pid"
	sed 's/^/    /' /tmp/serve$v.log
	check "rmmod afsmbd_sample after the rdma-client run (IPv$v)" unload_sample
	# ... and notices a server that writes a wrong byte.
	klog_mark
	check "sdrdma serve -X listening (IPv$v)" start_bg /tmp/servex$v.log "$SDR" -X -l "$a" -p $p serve
	serve_pid=$bg
	check_fails "kernel rdma-client rejects data written wrong (IPv$v)" \
		sample mode=rdma-client addr="$a" port=$p
	check "wrong RDMA data explained in the kernel log (IPv$v)" \
		klog_wait "afsmbd_sample: rdma-client: transfer 0 .* the server wrote differs at byte 0"
	wait "$serve_pid" 2>/dev/null

	# The module as server: userspace registers, the kernel moves the data.
	klog_mark
	check "kernel rdma-server listening (IPv$v)" sample mode=rdma-server addr="$a" port=$p
	check "userspace client: registrations of 1 B to 8 MiB written and read by the kernel server, invalidation on request (IPv$v)" \
		timeout 280 "$SDR" -l "$a" -p $p client
	check "kernel rdma-server closed the connection cleanly (IPv$v)" \
		klog_wait "afsmbd_sample: rdma-server: connection from .* closed, 14 transfers .* 0 with wrong data"
	# ... and notices a client whose buffer holds the wrong data.
	check "userspace client -X: the kernel server reports the wrong data (IPv$v)" \
		timeout 280 "$SDR" -X -l "$a" -p $p client
	check "kernel rdma-server explained the wrong data (IPv$v)" \
		klog_wait "afsmbd_sample: rdma-server: transfer 1 .* data read from the peer differs at byte 0"
	check "rmmod afsmbd_sample after the rdma-server runs (IPv$v)" unload_sample
done

# Nothing the sample did may pin the family module.
check "rmmod af_smbdirect" afs_unload
afs_done
