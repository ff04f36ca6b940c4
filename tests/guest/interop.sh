#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Interoperability with the kernel's own SMB-Direct client: cifs.ko mounts
# with "rdma" against an AF_SMBDIRECT listener on port 445; the listener
# must complete the SMB-Direct negotiate with cifs and receive cifs's SMB2
# NEGOTIATE as the first PDU of the stream.  Needs a kernel with
# CONFIG_CIFS_SMB_DIRECT (the debug kernel).
. "$AFS_TOP/tests/guest/lib.sh"

afs_need_sdtest
check "insmod af_smbdirect" afs_insmod
check "rdma link up (${AFS_LINK:-rxe})" afs_rdma_up
modprobe cifs >/tmp/modprobe.log 2>&1
if [ ! -e /proc/fs/cifs/rdma_readwrite_threshold ]; then
	sed 's/^/    /' /tmp/modprobe.log
	skip "cifs.ko with SMB-Direct not available on $(uname -r)"
	afs_done
fi

timeout 120 "$SDT" -l "$AFS_LOCAL4" -p 445 smb2server >/tmp/srv.log 2>&1 &
srv=$!
for _ in $(seq 100); do grep -q listening /tmp/srv.log && break; sleep 0.1; done
mkdir -p /tmp/mnt
# No mount.cifs helper: mount(2) gets the address through ip=.
timeout 60 mount -t cifs "//$AFS_LOCAL4/test" /tmp/mnt \
	-o "ip=$AFS_LOCAL4,vers=3.0,rdma,username=u,password=p,sign,echo_interval=5" \
	>/tmp/mount.log 2>&1 &
mnt=$!
wait "$srv"
rc=$?
sed 's/^/    /' /tmp/srv.log
if [ $rc = 0 ]; then pass "cifs.ko -> AF_SMBDIRECT: negotiate + SMB2 NEGOTIATE PDU"
else fail "cifs.ko -> AF_SMBDIRECT: negotiate + SMB2 NEGOTIATE PDU"; fi
wait "$mnt" 2>/dev/null
umount /tmp/mnt 2>/dev/null
dmesg | grep -i "rdma\|smbd" | tail -n 5 | sed 's/^/    /'
check "rmmod af_smbdirect" rmmod af_smbdirect
afs_done
