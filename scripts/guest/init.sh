#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Second stage in the guest (the host's userspace over an overlay): mount the
# API filesystems, bring up the link, run the test, collect the kernel log,
# and reboot, which ends QEMU (-no-reboot).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /dev/pts /dev/shm
# What udev would create: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# /tmp stays on the overlay (its upper layer is tmpfs already): the tree
# under test may itself live under the host's /tmp.
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /afs-out/env.sh
export AFS_TOP AFS_OUT AFS_MODDIR AFS_RELEASE AFS_ROLE AFS_PEER4 AFS_PEER6 AFS_ADDR4 AFS_ADDR6 \
	AFS_LINK AFS_TOPOLOGY AFS_ARGS
hostname "$AFS_HOSTNAME"
ip link set lo up

if [ -n "${AFS_ADDR4:-}" ]; then
	modprobe virtio_net 2>/dev/null
	# The runner gives the link NIC a 52:54:00:99:00:xx address.
	dev=$(grep -l '^52:54:00:99:00:' /sys/class/net/*/address | head -n1 | cut -d/ -f5)
	ip link set "$dev" mtu "$AFS_MTU" up
	ip addr add "$AFS_ADDR4/24" dev "$dev"
	ip -6 addr add "$AFS_ADDR6/64" dev "$dev" nodad
	export AFS_DEV=$dev
fi

# Only what the test does should count as a leak.
[ -w /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak

echo "afs-guest: running $AFS_TEST $AFS_ARGS on $(uname -r)"
cd "$AFS_TOP" || exit 1
# shellcheck disable=SC2086
timeout "$AFS_TEST_TIMEOUT" bash "$AFS_TEST" $AFS_ARGS 2>&1 | tee /afs-out/test.log
rc=${PIPESTATUS[0]}

if [ -w /sys/kernel/debug/kmemleak ]; then
	# Two scans: kmemleak reports an object only once it is seen twice.
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/afs-out/kmemleak.log
fi
dmesg >/afs-out/dmesg.log
echo "$rc" >/afs-out/rc
echo "afs-guest: test exited $rc"
sync
echo b >/proc/sysrq-trigger
