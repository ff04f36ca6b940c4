#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demonstration: two QEMU guests on Debian 12's kernel joined by a
# virtual wire with Soft-RoCE; one listens on AF_SMBDIRECT, the other sends
# a 4 MB file; the SHA-256 on both sides must match.  Needs only the stock
# 6.1 kernel (a minute or two to fetch on a cold cache).
. "$(dirname "$0")/lib.sh"

afs_host_deps $AFS_HOST_PKGS
bash "$AFS_TOP/scripts/stock-kernels.sh" bookworm >/dev/null
rel=$(cat "$AFS_CACHE/kernels/bookworm/release")
bash "$AFS_TOP/scripts/build-module.sh" "$rel" "$AFS_CACHE/roots/bookworm"
make -s -C "$AFS_TOP/tools" O="$AFS_OUT" >/dev/null
run=$AFS_OUT/runs/demo
# A fresh clone has no out/runs yet; the verdict log goes next to the run.
mkdir -p "$AFS_OUT/runs"
# lib.sh sets -e: a failed run must still reach the logs and the verdict.
rc=0
bash "$AFS_TOP/scripts/vm" -2 -k bookworm -T 400 -o "$run" "$AFS_TOP/tests/guest/demo.sh" >"$run.log" 2>&1 || rc=$?
for g in a b; do
	printf '\n######## guest %s\n' "$g"
	grep -v '^\s*$' "$run/$g/test.log" || true
done
printf '\n######## verdict\n'
cat "$run.log"
sent=$(cat "$run/b/sent.sha256" 2>/dev/null || true)
got=$(cat "$run/a/received.sha256" 2>/dev/null || true)
if [ $rc = 0 ] && [ -n "$sent" ] && [ "$sent" = "$got" ]; then
	echo "demo: the file arrived intact over SMB-Direct (sha256 $sent)"
else
	echo "demo: FAILED (sent ${sent:-nothing}, received ${got:-nothing}); logs in $run"
	exit 1
fi
