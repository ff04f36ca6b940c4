#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Interoperability with the kernel's own SMB-Direct server: ksmbd listens on
# RDMA port 445 (5445 over siw) and an AF_SMBDIRECT client socket
# (out/bin/smb2probe) completes the SMB-Direct negotiate with it, then
# speaks SMB2 over the socket's Direct-TCP framing: NEGOTIATE, ECHOs past
# the SMB-Direct credit window, an NTLMv2 session with 64 KiB WRITEs and
# READs of a file, a related compound that spans several SMB-Direct
# messages each way, and WRITEs and READs of 4 KiB to 8 MiB through RDMA
# channels from registered buffers: RDMA_V1 on dialect 3.0 and
# RDMA_V1_INVALIDATE (Send-with-Invalidate seen) on 3.1.1.  Needs
# a kernel with CONFIG_SMB_SERVER_SMBDIRECT (the debug kernel) and
# ksmbd-tools extracted on the host by scripts/ksmbd-tools.sh.
. "$AFS_TOP/tests/guest/lib.sh"

PROBE=$AFS_TOP/out/bin/smb2probe
KROOT=$(dirname "$AFS_MODDIR")/ksmbd-tools
WORK=/tmp/ksmbd
USER_=smbtest PASS_=secret

if [ ! -x "$PROBE" ] || [ "$AFS_TOP/tests/guest/smb2probe.c" -nt "$PROBE" ]; then
	make -s -C "$AFS_TOP/tests/guest" >/dev/null || { fail "build smb2probe"; afs_done; }
fi
if [ ! -x "$KROOT/usr/sbin/ksmbd.mountd" ]; then
	fail "ksmbd-tools not found at $KROOT (run scripts/ksmbd-tools.sh on the host)"
	afs_done
fi
export LD_LIBRARY_PATH=$KROOT/lib/x86_64-linux-gnu:$KROOT/usr/lib/x86_64-linux-gnu
export PATH=$KROOT/usr/sbin:$PATH

if ! modprobe ksmbd >/tmp/modprobe.log 2>&1; then
	sed 's/^/    /' /tmp/modprobe.log
	skip "no ksmbd module on $(uname -r)"
	afs_done
fi
# Without CONFIG_SMB_SERVER_SMBDIRECT ksmbd_rdma_init is an inline stub.
if ! grep -q ' ksmbd_rdma_init[[:space:]]*\[ksmbd\]' /proc/kallsyms; then
	rmmod ksmbd
	skip "ksmbd without SMB-Direct on $(uname -r)"
	afs_done
fi

check "insmod af_smbdirect" afs_insmod
# The RDMA device must exist before ksmbd starts: it picks its port then.
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
port=$([ "${AFS_LINK:-rxe}" = siw ] && echo 5445 || echo 445)
dmesg_from=$(dmesg | wc -l)

mkdir -p "$WORK/share" /etc/ksmbd
cat >"$WORK/ksmbd.conf" <<EOF
[global]
	server min protocol = SMB3_00
	server signing = disabled
	smbd max io size = 8MB
	smb2 max read = 64K
	smb2 max write = 64K
	smb2 max trans = 64K
[test]
	path = $WORK/share
	writeable = yes
	force user = root
EOF
check "ksmbd.adduser $USER_" ksmbd.adduser -C "$WORK/ksmbd.conf" -P "$WORK/pwd.db" \
	-a "$USER_" -p "$PASS_"
ksmbd.mountd -n -C "$WORK/ksmbd.conf" -P "$WORK/pwd.db" >"$WORK/mountd.log" 2>&1 &
mountd=$!

# ksmbd's RDMA listener shows as a listening cm_id on port $port.
listening() { rdma res show cm_id 2>/dev/null | grep -q "LISTEN.*:$port\b"; }
wait_listen() {
	local i
	for i in $(seq 150); do
		listening && return 0
		kill -0 "$mountd" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}
check "ksmbd.mountd started, RDMA listener on port $port" wait_listen
if ! listening; then
	sed 's/^/    /' "$WORK/mountd.log"
	rdma res show cm_id 2>&1 | sed 's/^/    /'
fi

probe() {
	local t=$1
	shift
	timeout "${PROBE_TMO:-90}" "$PROBE" -p "$port" -t "$t" "$@" "$AFS_REMOTE4" >"$WORK/probe-$t.log" 2>&1
	local rc=$?
	sed 's/^/    /' "$WORK/probe-$t.log"
	return $rc
}
# probe prints its own lines; keep them visible whether it passes or not.
run_probe() {
	local name=$1
	shift
	if probe "$@"; then pass "$name"; else fail "$name"; fi
}
run_probe "AF_SMBDIRECT -> ksmbd: SMB2 NEGOTIATE" negotiate
run_probe "AF_SMBDIRECT -> ksmbd: ECHOs past the SMB-Direct credit window" echo
run_probe "AF_SMBDIRECT -> ksmbd: NTLMv2 session, 64 KiB WRITE/READ" io \
	-u "$USER_" -w "$PASS_" -s test
check "file written through ksmbd has 512 KiB" \
	test "$(stat -c %s "$WORK/share/smb2probe.bin" 2>/dev/null)" = 524288
run_probe "AF_SMBDIRECT -> ksmbd: compound CREATE+WRITE+READ+CLOSE over several messages" \
	compound -u "$USER_" -w "$PASS_" -s test

# RDMA channels: smb2probe registers its buffers (SMBDIRECT_REGISTER), ksmbd
# RDMA-reads the WRITE data and RDMA-writes the READ data.  The files on
# the share must have the MD5 the probe printed for what it wrote.
md5_match() {
	local name sum n=0
	while read -r name sum; do
		n=$((n + 1))
		[ "$(md5sum <"$WORK/share/$name" | cut -d' ' -f1)" = "$sum" ] ||
			{ echo "$name on the share differs from what was written"; return 1; }
	done < <(sed -n 's/^ok: \(rdma-[0-9]*\.bin\):.* md5 \([0-9a-f]*\)$/\1 \2/p' "$WORK/probe-rdma.log")
	echo "$n files match"
	[ "$n" = 5 ]
}
for d in 300 311; do
	ch=$([ $d = 300 ] && echo "3.0 RDMA_V1" || echo "3.1.1 RDMA_V1_INVALIDATE")
	rm -f "$WORK"/share/rdma-*.bin
	PROBE_TMO=280 run_probe "AF_SMBDIRECT -> ksmbd: dialect $ch WRITE/READ 4 KiB..8 MiB from registered buffers" \
		rdma -D $d -u "$USER_" -w "$PASS_" -s test
	check "dialect $ch: files on the share have what was written" md5_match
done

# Teardown: ksmbd.control stops the server and mountd; then both unload.
check "ksmbd.control -s" timeout 30 ksmbd.control -s
mountd_exit() {
	local i
	for i in $(seq 100); do
		kill -0 "$mountd" 2>/dev/null || return 0
		sleep 0.2
	done
	return 1
}
check "ksmbd.mountd exited" mountd_exit
kill "$mountd" 2>/dev/null
wait "$mountd" 2>/dev/null
rmmod_retry() {
	for _ in $(seq 50); do
		rmmod "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	rmmod "$1"
}
check "rmmod ksmbd" rmmod_retry ksmbd
check "rmmod af_smbdirect" rmmod_retry af_smbdirect

# Neither ksmbd nor our module complained about the connections.  ksmbd
# logs "smb_direct: disconnected" at error level for every ordinary close.
klog_clean() {
	local bad
	bad=$(dmesg | tail -n +"$((dmesg_from + 1))" |
		grep -iE 'ksmbd|smbd|smb_direct|rdma' | grep -v 'smb_direct: disconnected$' |
		grep -iE 'error|fail|invalid|disconnect|refus|bad |timed? ?out|warn' || true)
	[ -z "$bad" ] && return 0
	echo "$bad"
	return 1
}
check "no ksmbd or af_smbdirect errors in the kernel log" klog_clean
dmesg | tail -n +"$((dmesg_from + 1))" | grep -iE 'ksmbd|smbd|smb_direct' |
	tail -n 8 | sed 's/^/    /'
afs_done
