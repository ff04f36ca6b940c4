#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Lifecycle stress on one guest, meant for the debug kernel (KASAN,
# lockdep and kmemleak must stay silent; scripts/vm reads the kernel log):
#   storm       connect/close storms with random delays, closes and
#               shutdowns during the setup, refused connects, data in flight
#   connshut    a blocking connect() raced by shutdown(SHUT_RDWR): it
#               returns within seconds, recv/send after it fail cleanly
#   kashake     SMBDIRECT_KEEPALIVE_INTERVAL changes racing a failing
#               connection, then a pause for timers left behind
#   negtimer    refused connects with connect_timeout 1, then a pause
#   lclose      listeners closed while their children time out and break
#               the negotiate (rogue peers)
#   many        256 concurrent connections, each checked
#   ldevremove  a listener whose device is deleted: accept() fails with
#               ENETDOWN every time, at once, and poll shows POLLERR
#   devremove   rdma link delete under live traffic
#   unload      rmmod right after killing a process with live traffic
# Every step runs sdstress (tests/guest/sdstress.c) or rogue; each prints
# how long it took.
#   lifecycle.sh [step...]    default: all
. "$AFS_TOP/tests/guest/lib.sh"

SDS=$AFS_TOP/out/bin/sdstress
ROGUE=$AFS_TOP/out/bin/rogue
for p in sdstress rogue; do
	if [ ! -x "$AFS_TOP/out/bin/$p" ] || [ "$AFS_TOP/tests/guest/$p.c" -nt "$AFS_TOP/out/bin/$p" ]; then
		make -s -C "$AFS_TOP/tests/guest" "$AFS_TOP/out/bin/$p" >/dev/null ||
			{ fail "build $p"; afs_done; }
	fi
done

all="storm connshut kashake negtimer lclose many ldevremove devremove unload"
steps=${*:-$all}
LINK=${AFS_LINK:-rxe}

check "insmod af_smbdirect" afs_insmod
check "rdma link up ($LINK)" afs_rdma_up

# start_bg <log> <word> <command...>: run in the background until the log
# shows <word> (60 s at most); $bg is its pid.
start_bg() {
	local log=$1 word=$2 _
	shift 2
	"$@" >"$log" 2>&1 &
	bg=$!
	for _ in $(seq 300); do
		grep -q "$word" "$log" && return 0
		kill -0 "$bg" 2>/dev/null || break
		sleep 0.2
	done
	cat "$log"
	return 1
}

# The device of the listening end (veth0) again, after a deletion.
link_again() {
	rdma link show "${LINK}0" >/dev/null 2>&1 ||
		rdma link add "${LINK}0" type "$LINK" netdev veth0
}

# wait_pid <pid> <secs>: its exit status, or fail after secs.
wait_pid() {
	local i
	for i in $(seq $(($2 * 5))); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return; }
		sleep 0.2
	done
	echo "still running after $2 s"
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 1
}

show() { sed 's/^/    /' "$1"; }
at() { echo "    at $((SECONDS - t0)) s: $*"; }

# checkv <name> <command...>: check, and show what the command printed
# (its tally) either way.
checkv() {
	local name=$1 out=/tmp/lifecycle-step.log
	shift
	if "$@" >"$out" 2>&1; then
		pass "$name"
	else
		fail "$name"
	fi
	sed 's/^/    /' "$out" | tail -n 40
}

step() {
	local t0=$SECONDS
	case $1 in
	storm)
		checkv "storm: 6 threads connecting and closing at random points for 30 s (IPv4)" \
			timeout 200 "$SDS" -l "$AFS_LOCAL4" -n 6 -t 30 storm
		checkv "storm: 4 threads for 8 s (IPv6)" \
			timeout 200 "$SDS" -l "$AFS_LOCAL6" -n 4 -t 8 storm
		;;
	connshut)
		checkv "connect raced by shutdown(SHUT_RDWR) in each setup phase: returns within 10 s, 80 rounds" \
			timeout 280 "$SDS" -l "$AFS_LOCAL4" -n 80 connshut
		;;
	kashake)
		checkv "keepalive interval changed while the connection fails, 30 rounds" \
			timeout 200 "$SDS" -l "$AFS_LOCAL4" -n 30 kashake
		;;
	negtimer)
		checkv "refused connects with connect_timeout 1, 40 rounds, timers past teardown" \
			timeout 200 "$SDS" -l "$AFS_LOCAL4" -n 40 negtimer
		;;
	lclose)
		checkv "listener closed while children time out and break the negotiate (3 rounds)" \
			timeout 280 "$ROGUE" -l "$AFS_LOCAL4" lclose
		;;
	many)
		checkv "256 concurrent connections, each checked both ways" \
			timeout 280 "$SDS" -l "$AFS_LOCAL4" -n 256 many
		;;
	ldevremove)
		check "listener bound to ${LINK}0's address" \
			start_bg /tmp/ldev.log listening "$SDS" -l "$AFS_LOCAL4" ldevremove
		pid=$bg
		check "rdma link delete ${LINK}0 under the listener" \
			timeout 60 rdma link delete "${LINK}0"
		kill -USR1 "$pid"
		check "listener without device: accept() fails with ENETDOWN at once, every time; POLLERR" \
			wait_pid "$pid" 60
		show /tmp/ldev.log
		check "${LINK}0 again" link_again
		;;
	devremove)
		check "live traffic on 2 connections" \
			start_bg /tmp/traffic.log traffic "$SDS" -l "$AFS_LOCAL4" -n 2 traffic
		pid=$bg
		at "traffic running"
		sleep 2
		check "rdma link delete ${LINK}0 under live traffic" \
			timeout 60 rdma link delete "${LINK}0"
		at "link deleted"
		check "every stream ended with EOF or a clean errno, none hangs" \
			wait_pid "$pid" 90
		at "traffic ended"
		show /tmp/traffic.log
		check "${LINK}0 again" link_again
		;;
	unload)
		check "live traffic on 2 connections" \
			start_bg /tmp/traffic2.log traffic "$SDS" -l "$AFS_LOCAL4" -n 2 traffic
		pid=$bg
		at "traffic running"
		sleep 2
		kill -9 "$pid"
		wait "$pid" 2>/dev/null
		at "killed"
		check "rmmod right after killing live traffic" afs_unload
		at "unloaded"
		check "insmod again" afs_insmod
		;;
	*)
		fail "unknown step $1"
		;;
	esac
	echo "    $1: $((SECONDS - t0)) s"
}

for s in $steps; do
	step "$s"
done

# Nothing left behind: every cm_id is gone, and the module unloads.
no_cm_ids() {
	local i
	for i in $(seq 100); do
		[ -z "$(rdma resource show cm_id 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	rdma resource show cm_id
	return 1
}
check "no RDMA CM ids left" no_cm_ids
check "rmmod af_smbdirect" afs_unload
check_fails "module gone" grep -q '^af_smbdirect ' /proc/modules
afs_done
