#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fuzz campaign ("make fuzz"): every libFuzzer target runs from its
# committed corpus for FUZZ_RUNS executions or FUZZ_TIME seconds,
# whichever comes first, FUZZ_JOBS targets at a time.  Each corpus is then
# minimized (libFuzzer -merge=1) back into corpus/<target>/.  Prints the
# executions per target and in all; exits non-zero on a crash (its input
# and report are kept and named) or when the total is below FUZZ_GOAL.
#   campaign.sh OUT CORPUS TARGET...
#   FUZZ_RUNS (1500000) FUZZ_TIME (300 s) FUZZ_JOBS (2) FUZZ_GOAL (10000000)
#   FUZZ_MAXLEN (600)
set -u
out=$1 corpus=$2
shift 2
runs=${FUZZ_RUNS:-1500000} tmo=${FUZZ_TIME:-300} jobs=${FUZZ_JOBS:-2}
goal=${FUZZ_GOAL:-10000000} maxlen=${FUZZ_MAXLEN:-600}
camp=$out/campaign

# fuzz <target>: one bounded run; new inputs go to new/, findings to
# crash-*, leak-*, timeout-* or oom-* in the target's directory.
fuzz() {
	local t=$1 w=$camp/$1 seeds=$corpus/$1

	rm -rf "$w"
	mkdir -p "$w/new"
	[ -d "$seeds" ] || seeds=
	# Value profiles help past compares of whole fields (versions, sizes).
	"$out/fuzz_$t" -runs="$runs" -max_total_time="$tmo" -max_len="$maxlen" \
		-use_value_profile=1 -print_final_stats=1 \
		-artifact_prefix="$w/" "$w/new" $seeds >"$w/log" 2>&1
	echo $? >"$w/rc"
}

echo "fuzz campaign: ${#@} targets, each up to $runs executions or $tmo s, $jobs at a time"
start=$(date +%s)
for t in "$@"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	fuzz "$t" &
done
wait

total=0 crashes=0
for t in "$@"; do
	w=$camp/$t
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -n1)
	s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$w/log" | tail -n1)
	total=$((total + ${n:-0}))
	found=$(ls "$w" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true)
	if [ -n "$found" ] || [ "$(cat "$w/rc")" != 0 ]; then
		crashes=$((crashes + 1))
		echo "$t: ${n:-?} executions, FINDING: ${found:-exit $(cat "$w/rc")} in $w"
		grep -m1 -A12 -E 'invariant failed|ERROR: (Address|Leak)Sanitizer|runtime error|deadly signal' "$w/log" |
			sed 's/^/    /'
		continue
	fi
	# Keep only inputs that add coverage, counting value profiles: those
	# keep the boundary cases (a length one past the limit) that plain
	# edge coverage drops, and the corpus stays a few hundred KB.
	rm -rf "$w/min"
	mkdir -p "$w/min" "$corpus/$t"
	if ! "$out/fuzz_$t" -merge=1 -use_value_profile=1 -max_len="$maxlen" \
		"$w/min" "$corpus/$t" "$w/new" \
		>"$w/merge.log" 2>&1; then
		crashes=$((crashes + 1))
		echo "$t: corpus merge failed, see $w/merge.log"
		continue
	fi
	find "$corpus/$t" -type f -delete
	cp "$w/min"/* "$corpus/$t"/ 2>/dev/null
	files=$(find "$corpus/$t" -type f | wc -l)
	bytes=$(find "$corpus/$t" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
	echo "$t: ${n:-0} executions in ${s:-?} s, corpus $files inputs ($bytes bytes)"
done
echo "fuzz campaign: $total executions in all in $(($(date +%s) - start)) s, $crashes targets with findings"
if [ "$crashes" != 0 ]; then
	exit 1
fi
if [ "$total" -lt "$goal" ]; then
	echo "fuzz campaign: fewer than $goal executions; raise FUZZ_RUNS or FUZZ_TIME"
	exit 1
fi
