#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Load the KUnit module (debug kernel only; the runner boots with
# kunit.enable=1) and turn each KUnit case's KTAP result into a PASS/FAIL
# line.  A run with no case fails.
. "$AFS_TOP/tests/guest/lib.sh"

ko=$AFS_MODDIR/af_smbdirect_kunit.ko
if [ ! -f "$ko" ]; then
	fail "KUnit module built for $AFS_RELEASE"
	afs_done
fi
check "insmod af_smbdirect_kunit" insmod "$ko"

# KTAP in the kernel log: "    # Subtest: <suite>" opens a suite, the
# case results are the lines indented by exactly four spaces.
dmesg | sed -E 's/^\[[ 0-9.]+\] //' | sed -n '/^KTAP version/,$p' >/tmp/ktap.log
n=0
while read -r verdict suite name; do
	n=$((n + 1))
	if [ "$verdict" = skip ]; then
		skip "kunit $suite.$name"
	elif [ "$verdict" = ok ]; then
		pass "kunit $suite.$name"
	else
		fail "kunit $suite.$name"
	fi
done < <(awk '
	/^    # Subtest: / { suite = $3 }
	/^    (not ok|ok) [0-9]+ / {
		v = ($1 == "not") ? "not_ok" : "ok"
		if (v == "ok" && $0 ~ /# SKIP/) v = "skip"
		name = (v == "ok") ? $3 : $4
		print v, suite, name
	}
	/^not ok [0-9]+ af_smbdirect_/ { print "not_ok", $4, "(suite)" }' /tmp/ktap.log)
[ "$n" -gt 0 ] || fail "KUnit ran at least one case"
check "rmmod af_smbdirect_kunit" rmmod af_smbdirect_kunit
afs_done
