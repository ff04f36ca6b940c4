#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# RDMA offload throughput beside the verbs baseline on the same link, in
# one run (scripts/vm -2): smbd-bench --rdma-write / --rdma-read against
# smbd-echo --rdma, then ib_write_bw -R / ib_read_bw -R, at 64 KiB, 512 KiB
# and 4 MiB, and the ratios.  Guest a (server) is the side that issues the
# RDMA operations in both (smbd-echo, the perftest clients), so the data
# flows the same way: a -> b for writes, b -> a for reads.  The guests
# coordinate through short TCP connections on the link.  Passes when every
# run completes with checked data; the ratios are reported, not asserted
# (TCG guests: the numbers say little about real hardware).
#   scripts/vm -2 -k bookworm -p bookworm tests/guest/rdma-bench2.sh
. "$AFS_TOP/tests/guest/lib.sh"

CAT=$AFS_TOP/out/bin/smbdcat
ECHO=$AFS_TOP/out/bin/smbd-echo
BENCH=$AFS_TOP/out/bin/smbd-bench
L=/afs-out/bench
[ -d /afs-out ] || L=/tmp/bench
mkdir -p "$L"
# size count window: counts keep each run a few seconds under TCG
RUNS="65536 400 4
524288 100 4
4194304 20 4"
PORT=5445

SYNC_PORT=6200
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
	timeout 300 "$CAT" -q --raw --tcp -l "$AFS_ADDR4" $((SYNC_PORT + $1)) \
		</dev/null 2>/dev/null
}

wait_grep_listen() {
	for _ in $(seq 150); do
		grep -q "listening on" "$L/echo.log" && return 0
		sleep 0.2
	done
	return 1
}

# perftest's average bandwidth (MiB/s) from its report.
pt_bw() { awk '/#bytes/ { getline; print $4; exit }' "$1"; }

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK})" afs_rdma_up
check "peer reachable" afs_wait_peer
dev=$(rdma link show | awk '{ split($2, a, "/"); print a[1]; exit }')

if [ "$AFS_ROLE" = server ]; then
	"$ECHO" -v --rdma "$AFS_LOCAL4" $PORT 2>"$L/echo.log" &
	epid=$!
	check "smbd-echo --rdma listening" wait_grep_listen
	sync_send 1 ready
	# The perftest clients, when the peer's server is up.
	while read -r size n _; do
		for t in write read; do
			go=$(sync_recv 2)
			check "peer's ib_${t}_bw server for $size up ($go)" [ "$go" = "$t $size" ]
			ok=
			for _ in 1 2 3 4 5; do
				timeout 120 "ib_${t}_bw" -R -F -d "$dev" -s "$size" -n "$n" \
					"$AFS_PEER4" >"$L/ib_${t}_$size.log" 2>&1 && { ok=1; break; }
				sleep 1
			done
			bw=$(pt_bw "$L/ib_${t}_$size.log")
			check "ib_${t}_bw -R -s $size: ${bw:-no result} MiB/s" [ -n "$ok" ] && [ -n "$bw" ]
			[ -z "$ok" ] && sed 's/^/    /' "$L/ib_${t}_$size.log" | tail -n 5
			sync_send 3 "${bw:-0}"
		done
	done <<<"$RUNS"
	sync_recv 4 >/dev/null
	kill "$epid" 2>/dev/null
	wait "$epid" 2>/dev/null
	sed 's/^/    /' "$L/echo.log" | tail -n 4
else
	go=$(sync_recv 1)
	check "server ready ($go)" [ "$go" = ready ]
	declare -A ours theirs
	for t in write read; do
		while read -r size n w; do
			"$BENCH" "--rdma-$t" -s "$size" -n "$n" -w "$w" "$AFS_PEER4" $PORT \
				>"$L/bench_${t}_$size.log" 2>&1
			rc=$?
			mbs=$(sed -n 's/.*throughput=\([0-9.]*\)MB\/s.*/\1/p' "$L/bench_${t}_$size.log")
			check "smbd-bench --rdma-$t -s $size -n $n -w $w: ${mbs:-no result} MB/s" \
				[ $rc = 0 ] && [ -n "$mbs" ]
			[ $rc = 0 ] || sed 's/^/    /' "$L/bench_${t}_$size.log" | tail -n 5
			ours[$t-$size]=${mbs:-0}
		done <<<"$RUNS"
	done
	while read -r size n _; do
		for t in write read; do
			timeout 150 "ib_${t}_bw" -R -F -d "$dev" -s "$size" -n "$n" \
				>"$L/ib_${t}_${size}_server.log" 2>&1 &
			spid=$!
			sleep 1
			sync_send 2 "$t $size"
			theirs[$t-$size]=$(sync_recv 3)
			wait "$spid" 2>/dev/null
		done
	done <<<"$RUNS"
	sync_send 4 done
	# MB/s (10^6) against perftest's MiB/s.
	echo "RDMA offload vs verbs on ${AFS_LINK} ($(uname -r)):" | tee "$L/ratios.txt"
	while read -r size _; do
		for t in write read; do
			awk -v t="$t" -v s="$size" -v o="${ours[$t-$size]}" -v p="${theirs[$t-$size]}" \
				'BEGIN { pb = p * 1.048576;
					printf "  rdma-%-5s %8d B: smbd-bench %9.2f MB/s, ib_%s_bw %9.2f MB/s, ratio %s\n",
					t, s, o, t, pb, (pb > 0 ? sprintf("%.3f", o / pb) : "n/a") }'
		done
	done <<<"$RUNS" | tee -a "$L/ratios.txt" | sed 's/^/    /'
	summary=$(awk '/ratio/ { split($2, s, " "); r = r sprintf(" %s %s %s", $1, $2, $NF) }
		END { print r }' "$L/ratios.txt")
	check "ratios to perftest:$summary" grep -q ratio "$L/ratios.txt"
fi
check "rmmod af_smbdirect" afs_unload
afs_done
