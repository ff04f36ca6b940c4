#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A misbehaving SMB-Direct peer (tests/guest/rogue.c, librdmacm + verbs)
# against AF_SMBDIRECT on one guest (rxe0 <-> rxe1).  Every protocol
# violation must give the socket a clear error (EPROTO), one counted
# violation in SMBDIRECT_INFO and one rate-limited kernel log line
# "peer <addr>: <what>; disconnecting"; legitimate refusals (a failure
# Status, a version range without 0x0100) are no violation.  Our own data
# messages never ask for a response (data-flags), and peers that connect
# and stay silent pin only a few hundred bytes each (silent).  RDMA offload
# abuse: a Send-with-Invalidate of a token the peer was not given is a
# violation; a write to a stale token changes no memory and fails the
# connection; a peer that stops answering our RDMA read fails it too, no
# hang.  Listeners stay healthy, nothing leaks, and the module unloads at
# the end.
#   violations.sh [mode...]    default: all (see rogue.c for the modes)
. "$AFS_TOP/tests/guest/lib.sh"

ROGUE=$AFS_TOP/out/bin/rogue
if [ ! -x "$ROGUE" ] || [ "$AFS_TOP/tests/guest/rogue.c" -nt "$ROGUE" ]; then
	make -s -C "$AFS_TOP/tests/guest" "$ROGUE" >/dev/null ||
		{ fail "build rogue"; afs_done; }
fi

# mode  expected log line, an extended regex ("-" for none)
server_modes="
neg-version		invalid negotiate response
neg-short		invalid negotiate response
neg-credits0		invalid negotiate response
neg-reqcredits0		invalid negotiate response
neg-maxrecv		invalid negotiate response
neg-frag		invalid negotiate response
neg-prefsend		invalid negotiate response
neg-status		-
neg-prefsend-small	-
data-offset		malformed data transfer message
data-align		malformed data transfer message
data-short		malformed data transfer message
data-credreq0		malformed data transfer message
data-frag-total		bad fragment sequence or length
data-frag-seq		bad fragment sequence or length
data-nocredit		message sent without a credit
data-credit-overflow	credits granted past 65535
data-oversize-small	(message longer than MaxReceiveSize|sent a message the device refused as invalid)
data-empty-align	malformed data transfer message
data-empty-offset	malformed data transfer message
data-empty-remaining	(bad fragment sequence or length|malformed data transfer message)
data-flags		-
"
client_modes="
req-version		-
req-credits0		invalid negotiate request
req-maxrecv		invalid negotiate request
req-frag		invalid negotiate request
req-short		invalid negotiate request
req-data-offset		malformed data transfer message
req-nocredit		message sent without a credit
silent			-
"
# RDMA offload (rogue.c, "RDMA offload abuse"): tokens the peer was not
# given, a write to a stale token, a peer that stops during our RDMA read.
# A token the device knows (and may invalidate) reaches us with the
# message and is not ours; one it does not know (or, on siw, one of
# another protection domain) fails the receive with "remote invalid
# request", which only the peer's message causes.
rdma_modes="
rdma-inval-foreign	(invalidated a token we did not give|sent a message the device refused as invalid)
rdma-inval-stale	(invalidated a token we did not give|sent a message the device refused as invalid)
rdma-inval-bogus	sent a message the device refused as invalid
rdma-write-stale	-
req-rdma-stall		-
"
# Run over IPv6 as well (one of each kind).
v6_modes="neg-version neg-status data-offset req-credits0 req-data-offset"

check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up

what_of() {
	printf '%s\n%s\n%s\n' "$server_modes" "$client_modes" "$rdma_modes" |
		awk -v m="$1" '$1 == m { $1 = ""; sub(/^ +/, ""); print }'
}

# The kernel log lines after line $1 that name a violation.
new_violations() {
	dmesg | tail -n +"$(($1 + 1))" | grep 'af_smbdirect: peer .*; disconnecting$'
}

# One mode: rogue's own checks, then exactly the expected log line.
run() {
	local m=$1 v=$2 addr what n lines peer port=5000 pre
	addr=$([ "$v" = 4 ] && echo "$AFS_LOCAL4" || echo "$AFS_LOCAL6")
	what=$(what_of "$m")
	n=$(dmesg | wc -l)
	check "$m (IPv$v)" timeout 300 "$ROGUE" -l "$addr" -p $port "$m"
	lines=$(new_violations "$n")
	[ -n "$lines" ] && echo "    $lines"
	if [ "$what" = - ]; then
		check "$m (IPv$v): no violation logged" test -z "$lines"
		return
	fi
	# The kernel's peer: the rogue listener, or the rogue client's port.
	if [ "$v" = 4 ]; then pre="peer $addr:"; else pre="peer \[$addr\]:"; fi
	case $m in
	req-*) peer="$pre[0-9]+" ;;
	*) peer="$pre$port" ;;
	esac
	check "$m (IPv$v): one log line \"$what\"" \
		test "$(echo "$lines" | grep -cE "^.*af_smbdirect: $peer: $what; disconnecting$")" = 1 -a \
		"$(echo "$lines" | grep -c .)" = 1
}

all=$(printf '%s\n%s\n%s\n' "$server_modes" "$client_modes" "$rdma_modes" |
	awk 'NF { print $1 }')
modes=${*:-$all}
for m in $modes; do
	[ -n "$(what_of "$m")" ] || { fail "unknown mode $m"; continue; }
	run "$m" 4
	case " $v6_modes " in *" $m "*) [ $# = 0 ] && run "$m" 6 ;; esac
done

# Reported, not asserted as a violation: a message longer than the
# negotiated receive size fails the receive work request in the device.
n=$(dmesg | wc -l)
oversize() {
	timeout 300 "$ROGUE" -l "$AFS_LOCAL4" data-oversize >/tmp/oversize.log 2>&1
}
check "data-oversize (IPv4): recv fails, no crash" oversize
grep -E 'oversize message|FAILED' /tmp/oversize.log | sed 's/^/    /'
dmesg | tail -n +"$((n + 1))" | grep af_smbdirect | sed 's/^/    /'

# No connection left behind: every cm_id is gone once the sockets closed,
# and the module unloads.
no_cm_ids() {
	local i
	for i in $(seq 50); do
		[ -z "$(rdma resource show cm_id 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	rdma resource show cm_id
	return 1
}
check "no RDMA CM ids left" no_cm_ids
# ... and no MR or QP of ours (rogue checks its own releases).
no_mr_qp() {
	rdma resource show qp 2>/dev/null | grep -v "qpn 1 " | grep -q . &&
		{ rdma resource show qp; return 1; }
	[ -z "$(rdma resource show mr 2>/dev/null)" ] || { rdma resource show mr; return 1; }
}
check "no MR or QP left" no_mr_qp
check "rmmod af_smbdirect" afs_unload
check_fails "module gone" grep -q '^af_smbdirect ' /proc/modules
afs_done
