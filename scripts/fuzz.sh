#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fuzz campaign ("make fuzz"): every libFuzzer target in tests/fuzz
# from its committed corpus, at least 10 million executions in all, the
# minimized corpus written back to tests/fuzz/corpus/ for committing.
# Knobs (FUZZ_RUNS, FUZZ_TIME, FUZZ_JOBS): tests/fuzz/campaign.sh.
. "$(dirname "$0")/lib.sh"

afs_host_deps clang
exec make -s -C "$AFS_TOP/tests/fuzz" campaign
