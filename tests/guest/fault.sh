#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Allocation failures on the debug kernel (failslab and fail_page_alloc,
# stack-filtered to af_smbdirect's text, task filter off so that CM and
# completion work count too):
#   - the data path allocates nothing: with every allocation made under
#     the module failing, switched on after the connection is up, data
#     still flows both ways byte-exact (sdstress faultxfer);
#   - connect, accept, negotiate and transfer under probability and
#     interval sweeps: every call works or fails with a clean errno,
#     nothing hangs, what arrives is exact (sdstress faultloop);
#   - afterwards: RDMA resources (cm_id, QP, CQ, MR, PD) back to their
#     baseline, the socket family works again, kmemleak silent, the module
#     unloads.
# Injected failures make the kernel print allocation-failure reports with
# call traces, which scripts/vm would take for bugs: this suite scans the
# kernel log itself (the runner's patterns, allocation-failure reports
# allowed), saves it to /tmp/fault-klog.N and clears it after each phase.
# While failures are injected the console shows emergencies only.
#   fault.sh [phase...]    default: all (xfer sweep)
. "$AFS_TOP/tests/guest/lib.sh"

SDS=$AFS_TOP/out/bin/sdstress
if [ ! -x "$SDS" ] || [ "$AFS_TOP/tests/guest/sdstress.c" -nt "$SDS" ]; then
	make -s -C "$AFS_TOP/tests/guest" "$SDS" >/dev/null || { fail "build sdstress"; afs_done; }
fi
afs_need_sdtest
DBG=/sys/kernel/debug
if [ ! -d $DBG/failslab ] || [ ! -d $DBG/fail_page_alloc ]; then
	fail "fault injection (failslab, fail_page_alloc) in this kernel"
	afs_done
fi
phases=${*:-xfer sweep}
# Writing to the FIFO of a program that already exited must not end us.
trap '' PIPE

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

# ---- the kernel log ----
bad='BUG:|WARNING:|Oops|Kernel panic|general protection fault|UBSAN:|INFO: task .* blocked|kmemleak: [0-9]+ new suspected|unreferenced object|possible circular locking'
allowed='page allocation failure|vmalloc error|FAULT_INJECTION: forcing a failure|: vmalloc_node_range for size|Unable to allocate memory'
nlog=0
klog_clean() {
	local f traces reports
	nlog=$((nlog + 1))
	f=/tmp/fault-klog.$nlog
	dmesg >"$f"
	if grep -E "$bad" "$f"; then
		return 1
	fi
	traces=$(grep -c 'Call Trace:' "$f")
	reports=$(grep -cE "$allowed" "$f")
	if [ "$traces" -gt "$reports" ]; then
		echo "$traces call traces, only $reports allocation-failure reports ($f):"
		grep -B 5 'Call Trace:' "$f" | head -n 40
		return 1
	fi
	[ "$traces" = 0 ] || echo "$traces allocation-failure reports with call traces (allowed)"
	dmesg -C
}

# ---- fault injection ----
range=
mod_range() {
	local s e
	read -r s e < <(awk '$4 == "[af_smbdirect]" && ($2 == "t" || $2 == "T") { print $1 }' /proc/kallsyms |
		sort | sed -n '1p;$p' | tr '\n' ' ')
	[ -n "$s" ] && [ -n "$e" ] || return 1
	# 64-bit addresses: bash arithmetic wraps, printf %x prints them right.
	range="0x$s $(printf '0x%x' $((16#$e + 4096)))"
	echo "module text $range"
}

TIMES=100000000
# fi_on <probability> <interval>: both kinds, stack-filtered, no task filter.
fi_on() {
	local d start end
	read -r start end <<<"$range"
	for d in $DBG/failslab $DBG/fail_page_alloc; do
		echo 0 >$d/probability
		echo "$2" >$d/interval
		echo $TIMES >$d/times
		echo 0 >$d/space
		echo 0 >$d/verbose
		echo N >$d/task-filter
		echo 32 >$d/stacktrace-depth
		echo "$start" >$d/require-start
		echo "$end" >$d/require-end
		echo 0 >$d/reject-start
		echo 0 >$d/reject-end
		echo N >$d/ignore-gfp-wait
	done
	echo N >$DBG/failslab/cache-filter
	echo N >$DBG/fail_page_alloc/ignore-gfp-highmem
	echo 0 >$DBG/fail_page_alloc/min-order
	echo 1 4 1 7 >/proc/sys/kernel/printk
	echo "$1" >$DBG/failslab/probability
	echo "$1" >$DBG/fail_page_alloc/probability
}
# fi_off: prints how many failures each kind injected.
fi_off() {
	local d
	echo 0 >$DBG/failslab/probability
	echo 0 >$DBG/fail_page_alloc/probability
	echo 7 4 1 7 >/proc/sys/kernel/printk
	for d in failslab fail_page_alloc; do
		echo "$d: $((TIMES - $(cat $DBG/$d/times))) failures injected"
	done
}

# ---- resources ----
res() { rdma resource show 2>/dev/null | sed 's/  */ /g'; }
back_to() {
	local i
	for i in $(seq 100); do
		[ "$(res)" = "$1" ] && return 0
		sleep 0.2
	done
	echo "baseline:"; echo "$1"
	echo "now:"; res
	rdma resource show cm_id
	return 1
}
refcnt_zero() {
	local i
	for i in $(seq 100); do
		[ "$(cat /sys/module/af_smbdirect/refcnt)" = 0 ] && return 0
		sleep 0.2
	done
	echo "refcnt $(cat /sys/module/af_smbdirect/refcnt)"
	return 1
}

check "kernel log clean before" klog_clean
check "af_smbdirect text range from /proc/kallsyms" mod_range
base=$(res)
echo "$base" | sed 's/^/    /'

# Injection reaches the module: socket() fails while it is on.
probe() {
	local out
	fi_on 100 1
	out=$("$SDS" probe)
	fi_off >/dev/null
	echo "$out"
	[ "$out" = "socket ENOMEM" ]
}
check "injection works: socket() fails with ENOMEM while it is on" probe

# run_go <log> <secs> <probability> <interval> <command...>: start the
# command with a FIFO as stdin, wait for "ready", switch failures on, send
# "go", wait for "done" or its exit (secs at most), switch them off, send
# "end", wait for its exit.  Its status; its output stays in <log>.
run_go() {
	local log=$1 secs=$2 prob=$3 ival=$4 fifo=/tmp/fault.fifo pid i rc=0
	shift 4
	rm -f $fifo
	mkfifo $fifo
	"$@" <$fifo >"$log" 2>&1 &
	pid=$!
	exec 9>$fifo
	for i in $(seq 300); do
		grep -q ready "$log" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	if ! grep -q ready "$log"; then
		exec 9>&-
		wait $pid
		return 1
	fi
	fi_on "$prob" "$ival"
	echo go >&9 2>/dev/null
	for i in $(seq $((secs * 5))); do
		grep -q '^done' "$log" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	fi_off >/tmp/fault-fi.log
	echo end >&9 2>/dev/null
	exec 9>&-
	for i in $(seq 100); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	kill -9 $pid 2>/dev/null && { echo "still running after $secs s" >>/tmp/fault-fi.log; rc=1; }
	wait $pid || rc=1
	cat /tmp/fault-fi.log >>"$log"
	return $rc
}

# checkv <name> <log> <command...>: check, then show the log either way.
checkv() {
	local name=$1 log=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name"; fi
	sed 's/^/    /' "$log" | tail -n 30
}

# ---- the data path allocates nothing ----
xfer() {
	checkv "data both ways, byte-exact, with every allocation under the module failing" /tmp/fx.log \
		run_go /tmp/fx.log 120 100 1 "$SDS" -l "$AFS_LOCAL4" faultxfer
	check "xfer: RDMA resources back to baseline" back_to "$base"
	check "xfer: kernel log clean" klog_clean
}

# ---- connect, accept, negotiate, transfer under failures ----
sweep() {
	local p prob ival
	for p in "100 1" "10 1" "2 1" "100 30" "100 300"; do
		read -r prob ival <<<"$p"
		checkv "probability $prob% interval $ival: every call works or fails cleanly, nothing hangs" \
			/tmp/fl.log run_go /tmp/fl.log 100 "$prob" "$ival" \
			"$SDS" -l "$AFS_LOCAL4" -t 10 faultloop
		check "probability $prob% interval $ival: RDMA resources back to baseline" back_to "$base"
		check "probability $prob% interval $ival: kernel log clean" klog_clean
	done
}

for ph in $phases; do
	t0=$SECONDS
	case $ph in
	xfer) xfer ;;
	sweep) sweep ;;
	*) fail "unknown phase $ph" ;;
	esac
	echo "    $ph: $((SECONDS - t0)) s"
done

# Afterwards everything works and nothing is left.
check "no faults: a connection works (sdtest basic)" timeout 120 "$SDT" -l "$AFS_LOCAL4" basic
check "RDMA resources back to baseline" back_to "$base"
check "no socket left (module refcount 0)" refcnt_zero
check "kernel log clean after" klog_clean
check "rmmod af_smbdirect" afs_unload
check_fails "module gone" grep -q '^af_smbdirect ' /proc/modules
afs_done
