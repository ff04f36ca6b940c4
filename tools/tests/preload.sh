#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side tests of libsmbdirect-preload.so, without the module:
#  - configuration parsing (preload-cfg, built from preload.c itself);
#  - pass-through of everything that does not match;
#  - the swap itself, in the library's test mode that swaps TCP for MPTCP
#    (SMBDIRECT_PRELOAD_TEST_MPTCP=1): descriptor number, O_NONBLOCK,
#    FD_CLOEXEC and options kept, swap at bind, listen and connect, fork,
#    exec and SCM_RIGHTS (preload-check);
#  - the real mode with the family missing: the error, and the TCP
#    fallback with exactly one log line, for clients and servers;
#  - smbd and smbclient through the library in test mode, if installed.
# Usage: BIN=.. OBJ=.. PRELOAD=.. tests/preload.sh.  Ends with
# "N passed, N failed" unless sourced by run.sh, which counts for it.

if [ -z "${npass+x}" ]; then
	standalone=1
	npass=0 nfail=0 bgpids=()
	pass() { npass=$((npass + 1)); echo "PASS: $*"; }
	fail() { nfail=$((nfail + 1)); echo "FAIL: $*"; }
	check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
	same() { [ "$(sha256sum < "$1")" = "$(sha256sum < "$2")" ]; }
fi
skip() { echo "SKIP: $*"; }
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$TOP/out/bin}
OBJ=${OBJ:-$TOP/out/tools-obj}
PRELOAD=${PRELOAD:-$TOP/out/lib/libsmbdirect-preload.so}
PT=$(mktemp -d /tmp/smbd-preload-test.XXXXXX)
CFG=$OBJ/preload-cfg
PCHK=$OBJ/preload-check
pt_cleanup() {
	local p
	for p in "${bgpids[@]}"; do kill "$p" 2>/dev/null; done
	[ -f "$PT/smbd.pid" ] && kill "$(cat "$PT/smbd.pid")" 2>/dev/null
	rm -rf "$PT"
	[ -n "${standalone:-}" ] || cleanup
}
trap pt_cleanup EXIT

# Every variable the library reads, cleared: the tests set their own.
unset SMBDIRECT_PORTS SMBDIRECT_ADDRESSES SMBDIRECT_FALLBACK SMBDIRECT_ROLE \
	SMBDIRECT_FAMILY SMBDIRECT_LOG SMBDIRECT_VERBOSE SMBDIRECT_PRELOAD_TEST_MPTCP
export SMBDIRECT_PRELOAD_CONF=/dev/null

# cfg_is "EXPECTED LINES" [VAR=value...] [-- ADDR PORT...]: every line
# is in what preload-cfg prints with that environment.
cfg_is() {
	local want=$1 out l envs=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	out=$(env "${envs[@]}" "$CFG" "$@" 2>&1)
	while IFS= read -r l; do
		grep -qxF -- "$l" <<<"$out" && continue
		echo "    missing: $l"
		sed 's/^/    got: /' <<<"$out"
		return 1
	done <<<"$want"
}

# ---- configuration ----
check "preload cfg: defaults (port 445, both roles, no fallback)" \
	cfg_is $'ports 445\naddresses\nfallback 0\nrole both\nlog stderr\nverbose 0' SMBDIRECT_FAMILY=19
check "preload cfg: default family is the module's or 19" \
	cfg_is "family AF_SMBDIRECT (family 19)"
check "preload cfg: ports list and range" \
	cfg_is "ports 445 5445 6000-6010" "SMBDIRECT_PORTS=445, 5445 6000-6010"
check "preload cfg: addresses and prefixes" \
	cfg_is "addresses 10.0.0.1/32 fd00::/64 192.168.1.0/24" \
	"SMBDIRECT_ADDRESSES=10.0.0.1,fd00::/64 192.168.1.0/24"
check "preload cfg: match port and network" \
	cfg_is $'match 192.168.1.77 445 1\nmatch 192.168.2.1 445 0\nmatch fd00::5 445 1\nmatch fd01::5 445 0\nmatch 10.0.0.1 446 0\nmatch ::ffff:10.0.0.1 445 1' \
	"SMBDIRECT_ADDRESSES=10.0.0.1,fd00::/64 192.168.1.0/24" -- \
	192.168.1.77 445 192.168.2.1 445 fd00::5 445 fd01::5 445 10.0.0.1 446 ::ffff:10.0.0.1 445
check "preload cfg: any address when none configured" \
	cfg_is $'match 203.0.113.9 445 1\nmatch :: 445 1\nmatch 0.0.0.0 139 0' -- \
	203.0.113.9 445 :: 445 0.0.0.0 139
check "preload cfg: fallback, role, family, log, verbose" \
	cfg_is $'fallback 1\nrole client\nfamily AF_SMBDIRECT (family 27)\nlog /tmp/x.log\nverbose 1' \
	SMBDIRECT_FALLBACK=tcp SMBDIRECT_ROLE=client SMBDIRECT_FAMILY=27 \
	SMBDIRECT_LOG=/tmp/x.log SMBDIRECT_VERBOSE=yes
cat >"$PT/conf" <<'EOF'
# a comment
  ports = 5445 , 445
addresses = 10.1.0.0/16
fallback = yes

role = server
EOF
check "preload cfg: file" cfg_is $'ports 5445 445\naddresses 10.1.0.0/16\nfallback 1\nrole server' \
	SMBDIRECT_PRELOAD_CONF="$PT/conf"
check "preload cfg: environment wins over the file, key by key" \
	cfg_is $'ports 7000\naddresses 10.1.0.0/16\nfallback 0\nrole server' \
	SMBDIRECT_PRELOAD_CONF="$PT/conf" SMBDIRECT_PORTS=7000 SMBDIRECT_FALLBACK=no
for bad in "SMBDIRECT_PORTS=0" "SMBDIRECT_PORTS=65536" "SMBDIRECT_PORTS=445x" \
	"SMBDIRECT_PORTS=20-10" "SMBDIRECT_PORTS=" "SMBDIRECT_ADDRESSES=10.0.0.300" \
	"SMBDIRECT_ADDRESSES=10.0.0.0/33" "SMBDIRECT_ADDRESSES=fd00::/129" \
	"SMBDIRECT_FALLBACK=maybe" "SMBDIRECT_ROLE=peer" "SMBDIRECT_FAMILY=0" \
	"SMBDIRECT_FAMILY=256" "SMBDIRECT_LOG=relative.log"; do
	key=${bad%%=*}
	key=${key#SMBDIRECT_}
	check "preload cfg: rejects $bad" cfg_is "bad ${key,,} '${bad#*=}'" "$bad"
done
# (the key in the message is the file's, lower case)
for l in "ports = 44x" "colour = blue" "no equals sign"; do
	echo "$l" >"$PT/bad.conf"
	check "preload cfg: rejects file line '$l'" eval \
		'! SMBDIRECT_PRELOAD_CONF="$PT/bad.conf" "$CFG" >"$PT/o" && grep -q "^bad " "$PT/o"'
done
check "preload cfg: a named file that does not exist is an error" eval \
	'! SMBDIRECT_PRELOAD_CONF=/nonexistent "$CFG" | grep -q "^bad config file"; [ "${PIPESTATUS[0]}" != 0 ]'

# ---- pass-through: nothing matches, nothing changes ----
export LD_PRELOAD=$PRELOAD
head -c 100000 /dev/urandom >"$PT/in"
port=$((20000 + RANDOM % 20000))
# smbdcat/smbd-echo with --tcp through the library; port not configured.
passthru() {
	local v=$1
	SMBDIRECT_PORTS=445 SMBDIRECT_VERBOSE=1 timeout 20 "$BIN/smbdcat" -q -l --tcp "-$v" "$port" \
		>"$PT/out" 2>"$PT/lerr" </dev/null &
	local l=$! i
	for i in $(seq 100); do
		SMBDIRECT_PORTS=445 SMBDIRECT_VERBOSE=1 "$BIN/smbdcat" -q --tcp \
			"$([ "$v" = 4 ] && echo 127.0.0.1 || echo ::1)" "$port" <"$PT/in" 2>"$PT/cerr" && break
		sleep 0.1
	done
	wait $l && same "$PT/in" "$PT/out" && ! grep -q preload "$PT/lerr" "$PT/cerr"
}
check "preload: TCP on another port passes through (IPv4)" passthru 4
port=$((port + 1))
check "preload: TCP on another port passes through (IPv6)" passthru 6
port=$((port + 1))
check "preload: UDP and UNIX sockets pass through" \
	python3 -c '
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 445 if False else 0)); u.connect(("127.0.0.1", 445))
assert u.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_UDP
a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"
'

# ---- the swap, in MPTCP test mode ----
if python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)' 2>/dev/null; then
	for mode in swap listen; do
		for v in 4 6; do
			port=$((port + 2))
			SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS="$port-$((port + 1))" \
				timeout 60 "$PCHK" "$mode" "$v" "$port" 262 >"$PT/chk" 2>"$PT/chkerr"
			rc=$?
			while IFS= read -r l; do
				case $l in
				"ok: "*) pass "preload $mode IPv$v: ${l#ok: }" ;;
				"not ok: "*) fail "preload $mode IPv$v: ${l#not ok: }" ;;
				esac
			done <"$PT/chk"
			check "preload $mode IPv$v: preload-check exited 0" [ $rc = 0 ]
			[ $rc = 0 ] || sed 's/^/    /' "$PT/chkerr"
		done
	done
	# With fallback a non-blocking connect completes before it returns.
	port=$((port + 2))
	SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS="$port-$((port + 1))" SMBDIRECT_FALLBACK=1 \
		timeout 60 "$PCHK" swap 4 "$port" 262 >"$PT/chk" 2>&1
	check "preload swap with fallback=1: non-blocking connect swapped, stays non-blocking" \
		eval '[ $? = 0 ] && grep -q "^ok: client: O_NONBLOCK kept" "$PT/chk"'
	# Not swapped when the role or the address says no.
	port=$((port + 2))
	noswap() {
		SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS="$port-$((port + 1))" "$@" \
			timeout 60 "$PCHK" swap 4 "$port" 6 >"$PT/chk" 2>&1 ||
			{ grep 'not ok' "$PT/chk" | head -n 3; return 1; }
	}
	# With protocol 6 expected, every "new socket" check must fail.
	noswap_all() {
		SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS="$port-$((port + 1))" "$@" \
			timeout 60 "$PCHK" swap 4 "$port" 6 >"$PT/chk" 2>&1
		grep -q 'ok: server echoes' "$PT/chk" &&
			! grep -q '^ok: .*: same descriptor, new socket' "$PT/chk" &&
			[ "$(grep -c '^not ok: .*: same descriptor, new socket' "$PT/chk")" -ge 4 ]
	}
	check "preload: addresses=127.0.0.2 leaves 127.0.0.1 alone" noswap_all env SMBDIRECT_ADDRESSES=127.0.0.2
	port=$((port + 2))
	only_side() {
		SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS="$port-$((port + 1))" SMBDIRECT_ROLE=$1 \
			timeout 60 "$PCHK" swap 4 "$port" 262 >"$PT/chk" 2>&1
		grep -q "^$2: listener: same descriptor, new socket" "$PT/chk" &&
			grep -q "^$3: client: same descriptor, new socket" "$PT/chk"
	}
	check "preload: role=server swaps listeners only" only_side server ok "not ok"
	port=$((port + 2))
	check "preload: role=client swaps connects only" only_side client "not ok" ok
	port=$((port + 2))
else
	skip "preload swap tests: no MPTCP on this host (net.mptcp.enabled=0?)"
fi

# ---- real mode, family missing ----
if [ ! -e /sys/module/af_smbdirect ] &&
	! python3 -c 'import socket; socket.socket(19, socket.SOCK_STREAM)' 2>/dev/null; then
	missing_no_fallback() {
		SMBDIRECT_PORTS=$port "$PCHK" connect 4 "$port" >"$PT/o" 2>"$PT/e"
		grep -qx "connect: EAFNOSUPPORT" "$PT/o" && [ "$(wc -l <"$PT/e")" = 1 ] &&
			grep -q "connect 127.0.0.1:$port over AF_SMBDIRECT (family 19) failed (socket: Address family not supported by protocol)$" "$PT/e" ||
			{ cat "$PT/o" "$PT/e"; return 1; }
	}
	check "preload: family missing, no fallback: connect fails EAFNOSUPPORT, one log line" \
		missing_no_fallback
	bind_no_fallback() {
		SMBDIRECT_PORTS=$port "$BIN/smbdcat" -l --tcp -4 127.0.0.1 "$port" </dev/null >/dev/null 2>"$PT/e"
		grep -q "bind 127.0.0.1:$port over AF_SMBDIRECT (family 19) failed (socket: Address family not supported by protocol)$" "$PT/e" &&
			grep -q "smbdcat: .*Address family not supported" "$PT/e" ||
			{ cat "$PT/e"; return 1; }
	}
	check "preload: family missing, no fallback: bind fails" bind_no_fallback
	# Both ends fall back to TCP, each with one log line, and data flows.
	fallback_both() {
		SMBDIRECT_PORTS=$port SMBDIRECT_FALLBACK=tcp SMBDIRECT_LOG="$PT/srv.log" \
			timeout 20 "$BIN/smbdcat" -q -l --tcp -4 127.0.0.1 "$port" >"$PT/out" 2>"$PT/lerr" </dev/null &
		local l=$! i
		for i in $(seq 100); do
			[ -s "$PT/srv.log" ] && break
			sleep 0.05
		done
		SMBDIRECT_PORTS=$port SMBDIRECT_FALLBACK=tcp timeout 20 "$BIN/smbdcat" -q --tcp 127.0.0.1 "$port" \
			<"$PT/in" 2>"$PT/cerr"
		wait $l && same "$PT/in" "$PT/out" &&
			[ "$(wc -l <"$PT/srv.log")" = 1 ] && [ "$(wc -l <"$PT/cerr")" = 1 ] &&
			grep -q "listen 127.0.0.1:$port over AF_SMBDIRECT (family 19) failed (socket: .*); falling back to TCP$" "$PT/srv.log" &&
			grep -q "connect 127.0.0.1:$port over AF_SMBDIRECT (family 19) failed (socket: .*); falling back to TCP$" "$PT/cerr" ||
			{ cat "$PT/srv.log" "$PT/lerr" "$PT/cerr"; return 1; }
	}
	check "preload: family missing, fallback=tcp: client and server use TCP, one line each" fallback_both
	port=$((port + 1))
	# A non-blocking connect with fallback completes before returning.
	fallback_nonblock() {
		SMBDIRECT_PRELOAD_TEST_MPTCP= SMBDIRECT_PORTS=$port SMBDIRECT_FALLBACK=1 python3 - "$port" <<'EOF' 2>"$PT/e"
import socket, sys, errno
port = int(sys.argv[1])
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
import os
os.environ["SMBDIRECT_ROLE"] = "client"       # the listener stays TCP silently
l.bind(("127.0.0.1", port)); l.listen()
c = socket.socket(); c.setblocking(False)
r = c.connect_ex(("127.0.0.1", port))
assert r in (0, errno.EINPROGRESS), r
assert c.getblocking() is False
a, _ = l.accept(); c.setblocking(True); c.send(b"x"); assert a.recv(1) == b"x"
EOF
	}
	check "preload: fallback keeps a non-blocking socket non-blocking" fallback_nonblock
	port=$((port + 1))
	bad_config() {
		SMBDIRECT_PORTS=nope "$PCHK" connect 4 "$port" >"$PT/o" 2>"$PT/e"
		grep -qx "connect: EINVAL" "$PT/o" &&
			grep -q "bad configuration: ports 'nope'; refusing TCP socket calls" "$PT/e" ||
			{ cat "$PT/o" "$PT/e"; return 1; }
	}
	check "preload: a bad configuration fails TCP calls with EINVAL and says why" bad_config
else
	skip "preload family-missing tests: an AF_SMBDIRECT family exists on this host"
fi

# ---- Samba through the library, in MPTCP test mode ----
samba_mptcp() {
	local d=$PT/samba sp=$((port + 3)) i
	mkdir -p "$d/share" "$d/lock" "$d/state" "$d/cache" "$d/pid" "$d/priv" "$d/log"
	cat >"$d/smb.conf" <<EOF
[global]
	smb ports = $sp
	interfaces = 127.0.0.1 ::1
	bind interfaces only = yes
	lock directory = $d/lock
	state directory = $d/state
	cache directory = $d/cache
	pid directory = $d/pid
	private dir = $d/priv
	ncalrpc dir = $d/ncalrpc
	log file = $d/log/%m.log
	disable netbios = yes
	server min protocol = SMB3_00
	passdb backend = tdbsam:$d/priv/passdb.tdb
	map to guest = never
	load printers = no
	printcap name = /dev/null
[test]
	path = $d/share
	read only = no
	force user = root
EOF
	(echo secret; echo secret) | LD_PRELOAD= smbpasswd -c "$d/smb.conf" -s -a root >/dev/null || return 1
	# Its own process group (no --no-process-group): smbd signals its
	# whole group when it exits.
	SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS=$sp SMBDIRECT_VERBOSE=1 \
		SMBDIRECT_LOG="$d/preload.log" smbd -F -s "$d/smb.conf" \
		</dev/null >"$d/smbd.out" 2>&1 &
	echo $! >"$PT/smbd.pid"
	for i in $(seq 100); do
		grep -q "bind 127.0.0.1:$sp" "$d/preload.log" 2>/dev/null && break
		sleep 0.1
	done
	head -c 3000000 /dev/urandom >"$d/big"
	for h in 127.0.0.1 ::1; do
		SMBDIRECT_PRELOAD_TEST_MPTCP=1 SMBDIRECT_PORTS=$sp SMBDIRECT_VERBOSE=1 \
			SMBDIRECT_LOG="$d/preload.log" timeout 60 smbclient -p "$sp" -U root%secret \
			"//$h/test" -c "put $d/big big; get big $d/big.back; mkdir sub; ls" \
			>"$d/client.out" 2>&1 || { cat "$d/client.out"; return 1; }
		same "$d/big" "$d/share/big" && same "$d/big" "$d/big.back" || return 1
		rm -rf "$d/share/sub" "$d/big.back"
	done
	kill "$(cat "$PT/smbd.pid")"
	rm -f "$PT/smbd.pid"
	# Swapped: both listeners at bind, both clients at connect.
	grep -q "bind 127.0.0.1:$sp: TCP swapped" "$d/preload.log" &&
		grep -q "bind \[::1\]:$sp: TCP swapped" "$d/preload.log" &&
		grep -q "connect 127.0.0.1:$sp: TCP swapped" "$d/preload.log" &&
		grep -q "connect \[::1\]:$sp: TCP swapped" "$d/preload.log" ||
		{ cat "$d/preload.log"; return 1; }
}
if command -v smbd >/dev/null && command -v smbclient >/dev/null && [ "$(id -u)" = 0 ] &&
	python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)' 2>/dev/null; then
	check "preload: smbd and smbclient, swapped for MPTCP, IPv4 and IPv6, 3 MB both ways" samba_mptcp
else
	skip "preload: smbd/smbclient test (needs samba, smbclient, root and MPTCP)"
fi
unset LD_PRELOAD

if [ -n "${standalone:-}" ]; then
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
fi
