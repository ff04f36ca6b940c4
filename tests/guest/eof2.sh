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

t0=$SECONDS
if [ "$AFS_ROLE" = server ]; then
	timeout 500 "$EOF_BIN" -l "$AFS_LOCAL4" -p 5000 -r "$rounds" server >/tmp/eof.log 2>&1
	rc=$?
	what="$(uname -r) writes rounds 0-$((rounds - 1)), reads rounds $rounds-$((2 * rounds - 1))"
else
	timeout 500 "$EOF_BIN" -l "$AFS_REMOTE4" -p 5000 -r "$rounds" client >/tmp/eof.log 2>&1
	rc=$?
	what="$(uname -r) reads rounds 0-$((rounds - 1)), writes rounds $rounds-$((2 * rounds - 1))"
fi
grep -E 'LOST|failed|rounds lost|sdeof' /tmp/eof.log | sed 's/^/    /'
if [ $rc = 0 ]; then
	pass "every byte written before close() read before EOF ($what)"
else
	fail "every byte written before close() read before EOF ($what; exit $rc)"
	tail -n 5 /tmp/eof.log | sed 's/^/    /'
fi
echo "    $((SECONDS - t0)) s"
# The peer may still be reading our last round: give it time to finish.
sleep 5
check "rmmod af_smbdirect" afs_unload
afs_done
