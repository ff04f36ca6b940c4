#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Keepalive and a vanishing peer between two guests on a real link
# (scripts/vm -2; needs tc with netem, i.e. CONFIG_NET_SCHED: the stock
# kernels have it, the debug kernel does not):
#
# 1. the client connects to an echo server, both with a keepalive interval
#    of KA seconds; the connection must survive 5 idle intervals with
#    keepalives going out and being answered (SMBDIRECT_INFO counters),
#    then the server drops all its outgoing traffic (netem loss 100%) and
#    the client must fail with ETIMEDOUT within 2 intervals plus slack,
#    well before the RC retry limit (~7.5 s) would fail it with ECONNRESET;
# 2. the same with the roles swapped: the client goes silent and the
#    server's accepted socket must time out;
# 3. the client process is SIGKILLed: the server sees a clean close at
#    once, not a keepalive timeout.
#
# The guests coordinate through short TCP connections on the same link
# (sync_send/sync_recv); the side that starts a silence measures from the
# moment it told the other side to go silent, so the times are upper
# bounds.  Logs stay in the guest's run directory (keepalive/).
#
#   scripts/vm -2 -k bookworm -p bookworm tests/guest/keepalive2.sh [KA]
. "$AFS_TOP/tests/guest/lib.sh"

KA=${1:-2}		# keepalive interval, seconds (first argument)
SLACK=2			# for timers and a TCG guest's scheduling
CAT=$AFS_TOP/out/bin/smbdcat
ECHO=$AFS_TOP/out/bin/smbd-echo
L=/afs-out/keepalive
[ -d /afs-out ] || L=/tmp/keepalive
mkdir -p "$L"

now() { date +%s.%N; }
# secs T0 T1: T1 - T0 with millisecond precision.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# le A B: A <= B for decimals.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# sync_send N MSG: deliver MSG to the peer's sync_recv N (retries until the
# peer listens, up to 120 s).  sync_recv N: wait up to 120 s for it, print it.
SYNC_PORT=6100
sync_send() {
	for _ in $(seq 600); do
		echo "$2" | timeout 20 "$CAT" -q --raw --tcp "$AFS_PEER4" \
			$((SYNC_PORT + $1)) >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "sync_send $1 $2: peer never listened" >&2
	return 1
}
sync_recv() {
	timeout 120 "$CAT" -q --raw --tcp -l "$AFS_ADDR4" $((SYNC_PORT + $1)) \
		</dev/null 2>/dev/null
}

# wait_pid PID SECS: the exit status of background job PID, or 124 after
# killing it if it is still running after SECS.
wait_pid() {
	for _ in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

# wait_grep FILE PATTERN SECS
wait_grep() {
	for _ in $(seq $(($3 * 10))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# counters PID LOG: SIGUSR1 to smbdcat, then print its fresh counters as
# "sent received empty" (messages).
counters() {
	local n line
	n=$(grep -c 'counters:' "$2")
	kill -USR1 "$1" || return 1
	for _ in $(seq 100); do
		[ "$(grep -c 'counters:' "$2")" -gt "$n" ] && break
		sleep 0.1
	done
	line=$(grep 'counters:' "$2" | tail -n1)
	echo "$line" | sed -n 's/.*messages sent \([0-9]*\), received \([0-9]*\);.*empty messages \([0-9]*\);.*/\1 \2 \3/p'
}

# listening LOG: an smbd-echo has reported its listener.
listening() { wait_grep "$1" "listening on" 30; }

silence() { tc qdisc add dev "$AFS_DEV" root netem loss 100%; }
unsilence() { tc qdisc del dev "$AFS_DEV" root; }
tc_works() {
	tc qdisc add dev "$AFS_DEV" root netem delay 0ms 2>/dev/null &&
		tc qdisc del dev "$AFS_DEV" root
}

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK})" afs_rdma_up
check "peer reachable" afs_wait_peer

# Both guests must be able to go silent; tell each other.
tc_ok=no
tc_works && tc_ok=yes
if [ "$AFS_ROLE" = server ]; then
	peer_tc=$(sync_recv 0)
	sync_send 1 "$tc_ok"
else
	sync_send 0 "$tc_ok"
	peer_tc=$(sync_recv 1)
fi
if [ "$tc_ok" != yes ] || [ "$peer_tc" != yes ]; then
	skip "keepalive tests: tc netem here: $tc_ok, on the peer: ${peer_tc:-?} (CONFIG_NET_SCHED)"
	check "rmmod af_smbdirect" rmmod af_smbdirect
	afs_done
fi

if [ "$AFS_ROLE" = server ]; then
	# ---- 1: the server goes silent, the client times out ----
	"$ECHO" -v --once --keepalive "$KA" "$AFS_LOCAL4" 5100 2>"$L/echo1.log" &
	epid=$!
	check "1: echo server listening" listening "$L/echo1.log"
	sync_send 2 listening
	go=$(sync_recv 3)
	check "1: told to go silent ($go)" [ "$go" = silent ]
	check "1: drop all outgoing traffic (netem loss 100%)" silence
	wait_pid $epid 60
	erc=$?
	check "1: silenced side's connection ends (exit $erc)" [ $erc != 124 ]
	sed 's/^/    /' "$L/echo1.log"
	check "1: restore the link" unsilence

	# ---- 2: the client goes silent, the accepted socket times out ----
	"$ECHO" -v --once --keepalive "$KA" "$AFS_LOCAL4" 5101 2>"$L/echo2.log" &
	epid=$!
	check "2: echo server listening" listening "$L/echo2.log"
	sync_send 4 listening
	msg=$(sync_recv 5)
	check "2: client exchanged data ($msg)" [ "$msg" = exchanged ]
	check "2: accepted socket has keepalive $KA s" \
		grep -q "keepalive $KA s" "$L/echo2.log"
	sleep $((2 * KA))
	check "2: idle connection still up after 2 intervals" kill -0 $epid
	t0=$(now)
	sync_send 6 silent
	wait_pid $epid $((2 * KA + 60))
	erc=$?
	t1=$(now)
	dt=$(secs "$t0" "$t1")
	echo "    server: accepted socket failed ${dt}s after the client went silent (exit $erc)"
	sed 's/^/    /' "$L/echo2.log"
	check "2: accepted socket fails with ETIMEDOUT" eval \
		'[ $erc = 1 ] && grep -q "conn 1: read: Connection timed out" "$L/echo2.log"'
	check "2: within 2 keepalive intervals + ${SLACK}s (${dt}s)" \
		le "$dt" $((2 * KA + SLACK))
	msg=$(sync_recv 7)
	check "2: client restored the link ($msg)" [ "$msg" = restored ]

	# ---- 3: the client process is killed: a clean close at once ----
	"$ECHO" -v --once --keepalive "$KA" "$AFS_LOCAL4" 5102 2>"$L/echo3.log" &
	epid=$!
	check "3: echo server listening" listening "$L/echo3.log"
	sync_send 8 listening
	msg=$(sync_recv 9)
	t0=$(now)
	check "3: client about to be killed ($msg)" [ "$msg" = killing ]
	wait_pid $epid 60
	erc=$?
	t1=$(now)
	dt=$(secs "$t0" "$t1")
	echo "    server: connection closed ${dt}s after the client was killed (exit $erc)"
	sed 's/^/    /' "$L/echo3.log"
	check "3: killed peer: clean close, not an error" eval \
		'[ $erc = 0 ] && grep -q "conn 1: closed, " "$L/echo3.log" &&
		 ! grep -q "timed out" "$L/echo3.log"'
	check "3: close seen within one keepalive interval (${dt}s)" le "$dt" "$KA"
else
	mkfifo /tmp/in1 /tmp/in2 /tmp/in3

	# ---- 1: the server goes silent, the client times out ----
	msg=$(sync_recv 2)
	check "1: server listening ($msg)" [ "$msg" = listening ]
	"$CAT" -v --keepalive "$KA" "$AFS_REMOTE4" 5100 </tmp/in1 >"$L/out1" 2>"$L/cat1.log" &
	cpid=$!
	exec 3>/tmp/in1
	echo ping-1 >&3
	check "1: echo before idle" wait_grep "$L/out1" ping-1 30
	check "1: keepalive $KA s set before connect" grep -q "keepalive $KA s" "$L/cat1.log"
	read -r s0 r0 e0 < <(counters $cpid "$L/cat1.log")
	sleep $((5 * KA))
	read -r s1 r1 e1 < <(counters $cpid "$L/cat1.log")
	echo ping-2 >&3
	check "1: connection survives 5 idle intervals" wait_grep "$L/out1" ping-2 30
	echo "    client idle $((5 * KA))s: messages sent $s0 -> $s1, received $r0 -> $r1, empty sent $e0 -> $e1"
	check "1: keepalives went out while idle (empty +$((e1 - e0)))" \
		[ $((e1 - e0)) -ge 3 ]
	check "1: and were answered (received +$((r1 - r0)))" \
		[ $((r1 - r0)) -ge 3 ]
	t0=$(now)
	sync_send 3 silent
	wait_pid $cpid $((2 * KA + 60))
	crc=$?
	t1=$(now)
	dt=$(secs "$t0" "$t1")
	exec 3>&-
	echo "    client: failed ${dt}s after the server went silent (exit $crc)"
	sed 's/^/    /' "$L/cat1.log"
	check "1: client fails with ETIMEDOUT (smbdcat: read: Connection timed out)" \
		eval '[ $crc = 1 ] && grep -q "read: Connection timed out" "$L/cat1.log"'
	check "1: within 2 keepalive intervals + ${SLACK}s (${dt}s)" \
		le "$dt" $((2 * KA + SLACK))
	check "1: not before one interval (${dt}s)" le $((KA - 1)) "$dt"

	# ---- 2: the client goes silent, the accepted socket times out ----
	msg=$(sync_recv 4)
	check "2: server listening ($msg)" [ "$msg" = listening ]
	"$CAT" -v --keepalive "$KA" "$AFS_REMOTE4" 5101 </tmp/in2 >"$L/out2" 2>"$L/cat2.log" &
	cpid=$!
	exec 4>/tmp/in2
	echo ping-3 >&4
	check "2: echo" wait_grep "$L/out2" ping-3 30
	sync_send 5 exchanged
	msg=$(sync_recv 6)
	check "2: told to go silent ($msg)" [ "$msg" = silent ]
	check "2: drop all outgoing traffic (netem loss 100%)" silence
	# The server fails by 2 intervals and disconnects; the client has no
	# half-close, so it ends when its stdin does.
	sleep $((2 * KA + SLACK + 8))
	exec 4>&-
	wait_pid $cpid 30
	crc=$?
	check "2: restore the link" unsilence
	echo "    client (silenced) exit $crc"
	sed 's/^/    /' "$L/cat2.log"
	check "2: silenced client's connection was closed by the server" \
		eval '[ $crc = 0 ] || [ $crc = 1 ]'
	sync_send 7 restored

	# ---- 3: this process is killed ----
	msg=$(sync_recv 8)
	check "3: server listening ($msg)" [ "$msg" = listening ]
	"$CAT" -v --keepalive "$KA" "$AFS_REMOTE4" 5102 </tmp/in3 >"$L/out3" 2>"$L/cat3.log" &
	cpid=$!
	exec 5>/tmp/in3
	echo ping-4 >&5
	check "3: echo" wait_grep "$L/out3" ping-4 30
	sync_send 9 killing
	kill -9 $cpid
	wait $cpid 2>/dev/null
	exec 5>&-
	pass "3: client killed with SIGKILL"
fi
# Let the peer's teardown finish before the module goes.
sleep 2
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
