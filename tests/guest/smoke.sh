#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module smoke test on one kernel: load, family registration, socket
# creation, refusal to unload while a socket exists, autoload through
# net-pf-<N>, a clear error when the family number is taken, and the RDMA
# link (rping) the protocol tests stand on.
. "$AFS_TOP/tests/guest/lib.sh"

fam=$(python3 -c 'import re,sys; print(re.search(r"#define AF_SMBDIRECT\s+(\d+)", open(sys.argv[1]).read()).group(1))' \
	"$AFS_TOP/include/uapi/linux/af_smbdirect.h")

sock() { python3 -c "import socket,sys; s=socket.socket($fam, socket.$1, ${2:-0}); sys.exit(0)"; }

check "insmod af_smbdirect" afs_insmod
check "family parameter in sysfs is $fam" \
	grep -qx "$fam" /sys/module/af_smbdirect/parameters/family
check "registered in /proc/net/protocols" grep -q '^SMBDIRECT ' /proc/net/protocols
check "socket(AF_SMBDIRECT, SOCK_STREAM, 0)" sock SOCK_STREAM
check "socket(AF_SMBDIRECT, SOCK_STREAM, IPPROTO_TCP)" sock SOCK_STREAM 6
check_fails "SOCK_DGRAM refused" sock SOCK_DGRAM
check_fails "protocol 17 refused" sock SOCK_STREAM 17

# A socket pins the module; closing it releases the pin.
python3 -c "import socket,time; s=socket.socket($fam, socket.SOCK_STREAM); open('/tmp/held','w').close(); time.sleep(30)" &
holder=$!
for _ in $(seq 50); do [ -f /tmp/held ] && break; sleep 0.1; done
check_fails "rmmod refused while a socket exists" rmmod af_smbdirect
kill "$holder"; wait "$holder" 2>/dev/null
check "rmmod after the last socket closed" rmmod af_smbdirect
check_fails "module gone after rmmod" grep -q '^af_smbdirect ' /proc/modules

# Loading with a family some other module owns fails with a clear message.
check_fails "insmod family=2 (AF_INET) refused" afs_insmod family=2
check "taken family explained in the kernel log" \
	sh -c 'dmesg | grep -q "socket family 2 is already registered"'
check_fails "insmod family=99 (out of range) refused" afs_insmod family=99

# Autoload: socket() asks modprobe for net-pf-<N>.
mkdir -p "/lib/modules/$AFS_RELEASE/extra"
cp "$AFS_MODDIR/af_smbdirect.ko" "/lib/modules/$AFS_RELEASE/extra/"
depmod -a
check "socket() autoloads the module" sock SOCK_STREAM
check "module loaded by autoload" grep -q '^af_smbdirect ' /proc/modules
check "rmmod after autoload" rmmod af_smbdirect

# The RDMA link the protocol runs on.
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
rping -s -a "$AFS_LOCAL4" -C 5 -v >/tmp/rping-s.log 2>&1 &
srv=$!
sleep 1
check "rping over ${AFS_LINK:-rxe}" rping -c -a "$AFS_LOCAL4" -C 5 -v
wait "$srv" 2>/dev/null
afs_done
