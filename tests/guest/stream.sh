#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stream sockets over SMB-Direct on one guest (rxe0 <-> rxe1): connect and
# negotiate, names, PDU sizes and fragmentation, write/read splits, both
# directions, bad and oversized headers, non-blocking connect, poll, recv
# flags, EOF, refused connects, many connections (16 and 64 at once), fork
# hand-off, a peer killed mid-transfer, a listener closed with unaccepted
# connections, data integrity up to MaxFragmentedSize, module unload.
# Every test runs over IPv4 and IPv6.
#   stream.sh [--ipproto] [test...]    default: all (see sdtest.c)
#   --ipproto: through socket(AF_INET/6, SOCK_STREAM, IPPROTO_SMBDIRECT)
. "$AFS_TOP/tests/guest/lib.sh"

entry= tag=
if [ "${1:-}" = --ipproto ]; then
	entry=-I tag=" ipproto"
	shift
fi

afs_need_sdtest

all="basic names sizes splits bytes bidir badhdr oversize zerolen nbconnect refused poll peek waitall dontwait eof many addr info backpressure keepalive signals shutdown backlog scm many64 fork kill lclose integrity splice sendflags lshutdown"
tests=${*:-$all}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

for t in $tests; do
	# siw (6.12) keeps the endpoints of connections still in MPA
	# negotiation when their listener is destroyed: kmemleak reports
	# them (allocated in siw_cm_work_handler) and the connecting
	# clients wait for siw's 10 s MPA timeout.  Seen with the debug
	# kernel; the same test passes over rxe.
	if [ "$t" = lclose ] && [ "${AFS_LINK:-rxe}" = siw ]; then
		skip "lclose over siw (siw leaks endpoints of connections in MPA negotiation)"
		continue
	fi
	for v in 4 6; do
		addr=$([ $v = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
		check "$t (IPv$v$tag)" timeout 200 "$SDT" $entry -l "$addr" "$t"
	done
done

# Module unload: refused while a connection is open, clean after.
"$SDT" $entry -l "$AFS_LOCAL4" hold >/tmp/hold.log 2>&1 &
holder=$!
for _ in $(seq 300); do grep -q holding /tmp/hold.log && break; sleep 0.1; done
check "connection held open" grep -q holding /tmp/hold.log
check_fails "rmmod refused with open sockets" rmmod af_smbdirect
kill "$holder"; wait "$holder" 2>/dev/null
check "rmmod after sockets closed" afs_unload
check_fails "module gone" grep -q '^af_smbdirect ' /proc/modules

# Device removal under a listener and a live connection: both fail, the
# device goes away (our ids and verbs objects are released), and the
# module unloads cleanly afterwards.
check "insmod again" afs_insmod
"$SDT" $entry -l "$AFS_LOCAL4" hold >/tmp/hold.log 2>&1 &
holder=$!
for _ in $(seq 300); do grep -q holding /tmp/hold.log && break; sleep 0.1; done
check "rdma link delete ${AFS_LINK:-rxe}0 under a connection" \
	timeout 60 rdma link delete "${AFS_LINK:-rxe}0"
kill "$holder"; wait "$holder" 2>/dev/null
check "rmmod after device removal" afs_unload
afs_done
