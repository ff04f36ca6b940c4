#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# EOF integrity between two guests (scripts/vm -2, e.g. -k bookworm -p
# debug): every byte written before close() is read before EOF.  In each
# round a writer sends 1..64 PDUs of random sizes up to 64 KiB and closes
# at once; the reader reads until EOF and checks the count and every byte
# (tests/guest/sdeof.c).  Rounds 0..R-1: the server guest (a) writes,
# rounds R..2R-1: the client guest (b) writes.  IPv4.
#   eof2.sh [rounds]    default 30 each way
. "$AFS_TOP/tests/guest/lib.sh"

EOF_BIN=$AFS_TOP/out/bin/sdeof
if [ ! -x "$EOF_BIN" ] || [ "$AFS_TOP/tests/guest/sdeof.c" -nt "$EOF_BIN" ]; then
	make -s -C "$AFS_TOP/tests/guest" "$EOF_BIN" >/dev/null || { fail "build sdeof"; afs_done; }
fi
rounds=${1:-30}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
check "peer reachable" afs_wait_peer

# Each round's line as it happens (the run may end on a timeout).
t0=$SECONDS
if [ "$AFS_ROLE" = server ]; then
	role=server addr=$AFS_LOCAL4
	what="$(uname -r) writes rounds 0-$((rounds - 1)), reads rounds $rounds-$((2 * rounds - 1))"
else
	role=client addr=$AFS_REMOTE4
	what="$(uname -r) reads rounds 0-$((rounds - 1)), writes rounds $rounds-$((2 * rounds - 1))"
fi
timeout 420 "$EOF_BIN" -l "$addr" -p 5000 -r "$rounds" $role 2>&1 |
	sed -u 's/^/    /'
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then
	pass "every byte written before close() read before EOF ($what)"
else
	fail "every byte written before close() read before EOF ($what; exit $rc)"
fi
echo "    $((SECONDS - t0)) s"
# The peer may still be reading our last round: give it time to finish.
sleep 5
check "rmmod af_smbdirect" afs_unload
afs_done
