#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Tests for smbdcat, smbd-echo and smbd-bench over TCP (--tcp) on loopback,
# IPv4 and IPv6.  Usage: BIN=/path/to/bin tests/run.sh
# Ends with "N passed, N failed"; exits non-zero if anything failed.

BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
CAT=$BIN/smbdcat
ECHO=$BIN/smbd-echo
BENCH=$BIN/smbd-bench
T=$(mktemp -d /tmp/smbd-tools-test.XXXXXX)
TMO="timeout 30"
npass=0
nfail=0
bgpids=()

cleanup()
{
	local p

	for p in "${bgpids[@]}"; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

pass() { npass=$((npass + 1)); echo "PASS: $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL: $*"; }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
same() { [ "$(sha256sum < "$1")" = "$(sha256sum < "$2")" ]; }

# listen_bg IN OUT ERR CMD...: run CMD (with @PORT@ replaced by a random
# high port) in the background until it reports "listening on" on ERR.
# Sets PORT and PID; retries with another port if the bind fails.
listen_bg()
{
	local in=$1 out=$2 err=$3 try i
	shift 3
	for try in 1 2 3 4 5 6 7 8; do
		PORT=$((20000 + RANDOM % 40000))
		"${@/@PORT@/$PORT}" < "$in" > "$out" 2> "$err" &
		PID=$!
		bgpids+=("$PID")
		# Generous: CI machines can be loaded (kernel builds, guests).
		for i in $(seq 600); do
			grep -q "listening on" "$err" && return 0
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	done
	echo "cannot start listener: $*: $(cat "$err")" >&2
	return 1
}

# wait_bg PID: exit status of a background job, killing it after 30 s.
wait_bg()
{
	local i

	for i in $(seq 600); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill "$1" 2>/dev/null
	wait "$1"
}

# make_framed FILE SIZE...: a Direct-TCP stream of random PDUs.
make_framed()
{
	local f=$1 s h
	shift
	: > "$f"
	for s; do
		h=$(printf '%08x' "$s")
		printf "\\x${h:0:2}\\x${h:2:2}\\x${h:4:2}\\x${h:6:2}" >> "$f"
		head -c "$s" /dev/urandom >> "$f"
	done
}

head -c 0 /dev/urandom > "$T/in0"
head -c 1 /dev/urandom > "$T/in1"
head -c 1048576 /dev/urandom > "$T/in1m"

# --help
for p in "$CAT" "$ECHO" "$BENCH"; do
	check "$(basename "$p") --help" \
		eval '"$p" --help > "$T/help" && grep -q "^usage:" "$T/help"'
	check "$(basename "$p") bad option exits non-zero" \
		eval '! "$p" --no-such-option > /dev/null 2>&1'
done

for addr in 127.0.0.1 ::1; do
	# File copy, client to listener and listener to client.
	for f in in0 in1 in1m; do
		for opts in "" "-s 1000" "--raw"; do
			name="copy $f $addr ${opts:-framed}"
			rm -f "$T/out"
			listen_bg /dev/null "$T/out" "$T/lerr" \
				$CAT -v -l --tcp $opts $addr @PORT@ || { fail "$name"; continue; }
			$TMO $CAT --tcp $opts $addr $PORT < "$T/$f" 2> "$T/cerr"
			rc=$?
			wait_bg $PID
			lrc=$?
			check "$name send" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/$f" "$T/out"'

			listen_bg "$T/$f" /dev/null "$T/lerr" \
				$CAT -v -l --tcp $opts $addr @PORT@ || { fail "$name"; continue; }
			$TMO $CAT --tcp $opts $addr $PORT < /dev/null > "$T/out" 2> "$T/cerr"
			rc=$?
			wait_bg $PID
			lrc=$?
			check "$name receive" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/$f" "$T/out"'
		done
	done

	# Echo server: framed stream of many PDU sizes, byte-exact via --raw.
	make_framed "$T/framed" 0 1 2 3 4 5 100 1023 1024 1025 4095 4096 4097 \
		65535 65536 65537 131072 1000000 0 7
	listen_bg /dev/null /dev/null "$T/eerr" $ECHO -v --tcp $addr @PORT@ ||
		{ fail "echo start $addr"; continue; }
	EPID=$PID
	$TMO $CAT --raw --tcp $addr $PORT < "$T/framed" > "$T/out" 2> "$T/cerr"
	rc=$?
	check "echo raw many sizes $addr" eval '[ $rc = 0 ] && same "$T/framed" "$T/out"'

	# Several concurrent clients: smbdcat file copies and smbd-bench runs.
	pids=()
	for i in 1 2 3; do
		$TMO $CAT --tcp -s $((i * 3000)) $addr $PORT < "$T/in1m" \
			> "$T/cc$i" 2> "$T/ccerr$i" &
		pids+=($!)
	done
	$TMO $BENCH --tcp -n 300 -s 0,1,100,4096,65536 $addr $PORT > "$T/b1" 2>&1 &
	pids+=($!)
	$TMO $BENCH --tcp -n 100 -w 8 -s 1000,300000 $addr $PORT > "$T/b2" 2>&1 &
	pids+=($!)
	$TMO $BENCH --tcp -n 2000 -w 4 -s 17 $addr $PORT > "$T/b3" 2>&1 &
	pids+=($!)
	ok=1
	for p in "${pids[@]}"; do
		wait "$p" || ok=0
	done
	for i in 1 2 3; do
		same "$T/in1m" "$T/cc$i" || ok=0
	done
	[ "$(cat "$T/b1" "$T/b2" "$T/b3" | grep -c '^tcp .*throughput=')" = 8 ] || ok=0
	check "echo concurrent clients $addr" [ $ok = 1 ]
	check "echo counted connections $addr" \
		eval '[ $(grep -c "closed, " "$T/eerr") = 7 ]'
	kill $EPID
	wait $EPID 2>/dev/null

	# Framing errors: a valid PDU is echoed, then a bad header drops us.
	printf '\x00\x00\x00\x03abc' > "$T/good"
	{ cat "$T/good"; printf '\x01\x00\x00\x05hello'; } > "$T/bad"
	listen_bg /dev/null /dev/null "$T/eerr" $ECHO -v --once --tcp $addr @PORT@ ||
		{ fail "echo start $addr"; continue; }
	$TMO $CAT --raw --tcp $addr $PORT < "$T/bad" > "$T/out" 2> "$T/cerr"
	rc=$?
	wait_bg $PID
	erc=$?
	check "echo drops bad header $addr" eval '[ $rc != 124 ] && [ $erc = 1 ] &&
		grep -q "invalid frame header 01000005" "$T/eerr" &&
		same "$T/good" "$T/out"'

	# smbdcat itself rejects a bad header from its peer.
	listen_bg "$T/bad" /dev/null "$T/lerr" $CAT -v -l --raw --tcp $addr @PORT@ ||
		{ fail "cat start $addr"; continue; }
	$TMO $CAT --tcp $addr $PORT < /dev/null > "$T/out" 2> "$T/cerr"
	rc=$?
	wait_bg $PID
	check "smbdcat rejects bad header $addr" eval '[ $rc = 1 ] &&
		grep -q "invalid frame header" "$T/cerr" && [ "$(cat "$T/out")" = abc ]'

	# --once exits 0 after a clean connection; --max-conns queues others.
	listen_bg /dev/null /dev/null "$T/eerr" $ECHO -v --once --tcp $addr @PORT@ ||
		{ fail "echo start $addr"; continue; }
	$TMO $CAT --raw --tcp $addr $PORT < "$T/good" > "$T/out" 2> "$T/cerr"
	rc=$?
	wait_bg $PID
	lrc=$?
	check "echo --once clean exit $addr" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/good" "$T/out"'

	listen_bg /dev/null /dev/null "$T/eerr" $ECHO --max-conns 1 --tcp -v $addr @PORT@ ||
		{ fail "echo start $addr"; continue; }
	EPID=$PID
	pids=()
	for i in 1 2 3; do
		$TMO $CAT --tcp $addr $PORT < "$T/in1m" > "$T/cc$i" 2>/dev/null &
		pids+=($!)
	done
	ok=1
	for p in "${pids[@]}"; do
		wait "$p" || ok=0
	done
	for i in 1 2 3; do
		same "$T/in1m" "$T/cc$i" || ok=0
	done
	check "echo --max-conns 1 $addr" [ $ok = 1 ]
	kill $EPID
	wait $EPID 2>/dev/null
done

# Hostname resolution and -4/-6 selection.
listen_bg /dev/null "$T/out" "$T/lerr" $CAT -v -l -4 --tcp @PORT@ ||
	fail "listen -4"
$TMO $CAT -4 --tcp localhost $PORT < "$T/in1m" 2> "$T/cerr"
rc=$?
wait_bg $PID
lrc=$?
check "hostname localhost -4" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/in1m" "$T/out"'

listen_bg /dev/null "$T/out" "$T/lerr" $CAT -v -l --tcp @PORT@ ||
	fail "listen wildcard"
$TMO $CAT -v --tcp 127.0.0.1 $PORT < "$T/in1" 2> "$T/cerr"
rc=$?
wait_bg $PID
lrc=$?
check "wildcard listener accepts IPv4" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/in1" "$T/out" &&
	grep -q "connected local 127.0.0.1:" "$T/cerr"'

# --keepalive: TCP keepalive (one probe after SECS idle) on the connecting,
# the listening and the accepted socket; out-of-range values are refused.
listen_bg /dev/null "$T/out" "$T/lerr" $CAT -v -l --tcp --keepalive 7 127.0.0.1 @PORT@ ||
	fail "listen --keepalive"
$TMO $CAT -v --tcp --keepalive 5 127.0.0.1 $PORT < "$T/in1m" 2> "$T/cerr"
rc=$?
wait_bg $PID
lrc=$?
check "smbdcat --keepalive copy" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/in1m" "$T/out"'
check "smbdcat --keepalive on connect" \
	grep -q "tcp keepalive: idle 5 s, interval 5 s, probes 1" "$T/cerr"
check "smbdcat --keepalive on accept" \
	grep -q "tcp keepalive: idle 7 s, interval 7 s, probes 1" "$T/lerr"
listen_bg /dev/null /dev/null "$T/eerr" $ECHO -v --once --tcp --keepalive 3 127.0.0.1 @PORT@ ||
	fail "echo start --keepalive"
$TMO $CAT --tcp 127.0.0.1 $PORT < "$T/in1" > "$T/out" 2> "$T/cerr"
rc=$?
wait_bg $PID
lrc=$?
check "smbd-echo --keepalive" eval '[ $rc = 0 ] && [ $lrc = 0 ] && same "$T/in1" "$T/out" &&
	grep -q "tcp keepalive: idle 3 s, interval 3 s, probes 1" "$T/eerr"'
check "smbdcat no keepalive by default" eval '! grep -q "tcp keepalive" "$T/cerr"'
for p in "$CAT" "$ECHO"; do
	check "$(basename "$p") --keepalive out of range" \
		eval '! "$p" --tcp --keepalive 86401 127.0.0.1 1 < /dev/null > /dev/null 2> "$T/err" &&
		grep -q "invalid keepalive interval" "$T/err"'
	check "$(basename "$p") --help lists --keepalive" \
		eval '"$p" --help | grep -q -- "--keepalive SECS"'
done

# SIGUSR1 makes smbdcat print its counters and carry on.
listen_bg /dev/null "$T/out" "$T/lerr" $CAT -v -l --tcp 127.0.0.1 @PORT@ ||
	fail "listen for SIGUSR1"
$CAT --tcp 127.0.0.1 $PORT < <(cat "$T/in1"; sleep 3) 2> "$T/cerr" &
CPID=$!
bgpids+=("$CPID")
for i in $(seq 60); do [ -s "$T/out" ] && break; sleep 0.05; done
kill -USR1 $CPID
wait_bg $CPID
rc=$?
wait_bg $PID
lrc=$?
check "smbdcat SIGUSR1 prints counters" eval '[ $rc = 0 ] && [ $lrc = 0 ] &&
	same "$T/in1" "$T/out" && grep -q "^smbdcat: sent 5 bytes (1 PDUs)" "$T/cerr"'

# RDMA offload needs AF_SMBDIRECT: refused over TCP with a reason.
$TMO $BENCH --rdma-write --tcp 127.0.0.1 1 > /dev/null 2> "$T/err1"
rc1=$?
$TMO $BENCH --inval -s 4k 127.0.0.1 1 > /dev/null 2> "$T/err2"
rc2=$?
$TMO $ECHO --rdma --tcp 1 > /dev/null 2> "$T/err3"
rc3=$?
check "smbd-bench --rdma-write refuses --tcp" eval '[ $rc1 = 1 ] && grep -q "need AF_SMBDIRECT" "$T/err1"'
check "smbd-bench --inval needs an RDMA mode" eval '[ $rc2 = 1 ] && grep -q "go with --rdma" "$T/err2"'
check "smbd-echo --rdma refuses --tcp" eval '[ $rc3 = 1 ] && grep -q "needs AF_SMBDIRECT" "$T/err3"'
check "smbd-bench --help lists --rdma-write" eval '$BENCH --help | grep -q -- --rdma-write'

# libsmbdirect-preload.so's tests count in this tally (tests/preload.sh).
OBJ=${OBJ:-$(dirname "$BIN")/tools-obj}
if [ -x "$OBJ/preload-check" ]; then
	. "$(dirname "$0")/preload.sh"
else
	fail "preload tests: $OBJ/preload-check not built"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
