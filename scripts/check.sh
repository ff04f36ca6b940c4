#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every test on every kernel: host deps, kernels (cached), module builds,
# host-side suites, then guests.  Ends with "N passed, N failed" and exits
# non-zero when anything failed.
#   AFS_KERNELS="bookworm trixie sid debug"  kernels to test (default all)
#   AFS_SKIP_LINKS=1                          skip the two-guest runs
#   AFS_FULL=1                                every suite on every kernel,
#                                             and the install tests (make check-full)
. "$(dirname "$0")/lib.sh"
# A failing step is counted, never fatal: the run always reaches its tally.
set +e +o pipefail

kernels=${AFS_KERNELS:-bookworm trixie sid debug}
res=$AFS_OUT/check
rm -rf "$res"
mkdir -p "$res"
passed=0 failed=0
t0=$(date +%s)

ok() { passed=$((passed + 1)); echo "PASS: $*"; }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; echo "FAIL: $*" >>"$res/digest"; }
# tally <name> <log>: add a suite's own "N passed, N failed" line.
tally() {
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$2" | tail -n1)
	if [ -z "$line" ]; then
		ko "$1 (no summary line; see $2)"
		return
	fi
	p=${line%% passed*}
	f=${line#*passed, }; f=${f%% failed*}
	passed=$((passed + p)) failed=$((failed + f))
	echo "$([ "$f" = 0 ] && echo PASS || echo FAIL): $1 ($line)"
	[ "$f" = 0 ] || grep -E 'FAIL|NOT OK' "$2" | head -n 10 |
		sed "s/^/$1: /" >>"$res/digest"
}
# Lines of a guest run: its PASS/FAIL lines count one each.
guest() {
	local name=$1 log=$res/vm-$1.log t0=$SECONDS
	shift
	bash "$AFS_TOP/scripts/vm" -o "$AFS_OUT/runs/$name" "$@" >"$log" 2>&1
	local rc=$? p f
	p=$(grep -c '^\(\[.\] \)\{0,1\}PASS:' "$log")
	f=$(grep -c '^\(\[.\] \)\{0,1\}FAIL:' "$log")
	grep -E '^(\[.\] )?FAIL:' "$log" | sed "s/^/FAIL: $name /; s/FAIL: \(.*\)FAIL: /FAIL: \1/"
	# Each failure with the lines its check printed, for the digest.
	awk -v n="$name" '/^(\[.\] )?FAIL:/ { print n ": " $0; k = 10; next }
		/^(\[.\] )?PASS:/ { k = 0; next }
		k > 0 && /^(\[.\] )?    / { print; k-- }' "$log" >>"$res/digest"
	passed=$((passed + p)) failed=$((failed + f))
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		ko "$name exited $rc"
	fi
	log "guest $name: $p passed, $f failed ($((SECONDS - t0)) s)"
}
have_kernel() { [ -f "$AFS_CACHE/kernels/$1/release" ]; }
release() { cat "$AFS_CACHE/kernels/$1/release"; }

# Host packages, then kernels: the debug kernel builds (once, ~20 min)
# while the stock kernels download.
afs_host_deps $AFS_HOST_PKGS clang
bash "$AFS_TOP/scripts/debug-kernel.sh" >"$res/debug-kernel.log" 2>&1 &
dk=$!
if bash "$AFS_TOP/scripts/stock-kernels.sh" >"$res/stock.log" 2>&1; then
	ok "stock kernels cached"
else
	ko "stock kernels cached (see $res/stock.log)"
	tail -n 5 "$res/stock.log"
fi

# Host-side suites run while the debug kernel may still be building.
make -C "$AFS_TOP/tests/fuzz" check >"$res/fuzz.log" 2>&1
tally "codec selftest and fuzz replay" "$res/fuzz.log"
if [ -f "$AFS_TOP/tools/Makefile" ]; then
	make -C "$AFS_TOP/tools" check >"$res/tools.log" 2>&1
	tally "tools over TCP" "$res/tools.log"
fi

if wait $dk; then
	ok "debug kernel built"
else
	ko "debug kernel built (see $res/debug-kernel.log)"
	tail -n 5 "$res/debug-kernel.log"
fi

# checkpatch from the debug kernel's tree, on every kernel source file.
cp=$AFS_CACHE/kernels/debug/build/scripts/checkpatch.pl
if [ -x "$cp" ]; then
	for f in "$AFS_TOP"/smbdirect/*.[ch] "$AFS_TOP"/include/uapi/linux/*.h \
		 "$AFS_TOP"/tests/kunit/*.c "$AFS_TOP"/tests/kmod/*.c; do
		# compat.h is the one place allowed to test kernel versions, and
		# its shims keep arguments some versions do not use; trace.h has
		# the layout of every TRACE_EVENT; inet.c's two proto_ops are
		# copies filled at init (__ro_after_init).
		case ${f##*/} in
		compat.h) ign=--ignore=LINUX_VERSION_CODE,MACRO_ARG_UNUSED ;;
		trace.h) ign=--ignore=PARENTHESIS_ALIGNMENT,OPEN_ENDED_LINE ;;
		inet.c) ign=--ignore=CONST_STRUCT ;;
		*) ign= ;;
		esac
		if "$cp" --no-tree --quiet --strict --show-types $ign -f "$f" >"$res/checkpatch.log" 2>&1; then
			ok "checkpatch ${f#"$AFS_TOP"/}"
		else
			ko "checkpatch ${f#"$AFS_TOP"/}"
			head -n 10 "$res/checkpatch.log"
		fi
	done
fi

# Module builds (W=1, sparse where the headers allow), each with its
# kernel's own compiler.
built=
for k in $kernels; do
	if ! have_kernel "$k"; then
		ko "build for $k (kernel not cached)"
		continue
	fi
	root=$([ "$k" = debug ] && echo - || echo "$AFS_CACHE/roots/$k")
	if bash "$AFS_TOP/scripts/build-module.sh" "$(release "$k")" "$root" >"$res/build-$k.log" 2>&1; then
		ok "build for $k ($(release "$k"), W=1, warning-free)"
		built="$built $k"
	else
		ko "build for $k ($(release "$k"))"
		tail -n 20 "$res/build-$k.log"
	fi
done
if [ -f "$AFS_TOP/tests/guest/Makefile" ]; then
	make -C "$AFS_TOP/tests/guest" OUT="$AFS_OUT/bin" >"$res/guest-progs.log" 2>&1 ||
		ko "guest test programs build (see $res/guest-progs.log)"
fi
[ -f "$AFS_TOP/tools/Makefile" ] && make -C "$AFS_TOP/tools" O="$AFS_OUT" >>"$res/guest-progs.log" 2>&1
# i386 builds (sdopt32 is built above): SMBDIRECT_INFO has one layout.
if make -C "$AFS_TOP/tools" O="$AFS_OUT" m32 >"$res/m32.log" 2>&1; then
	ok "tools build as i386 programs (gcc -m32, -Werror)"
else
	ko "tools build as i386 programs (see $res/m32.log)"
fi
# Debian packages (lintian errors and warnings fail) and what installing
# them offline in a guest needs (tests/guest/install.sh).
debs=
if bash "$AFS_TOP/scripts/deb.sh" >"$res/deb.log" 2>&1; then
	ok "Debian packages built, lintian clean"
	debs=1
else
	ko "Debian packages built (see $res/deb.log)"
	tail -n 10 "$res/deb.log"
fi
case " $built " in *" debug "*)
	bash "$AFS_TOP/scripts/ksmbd-tools.sh" >"$res/ksmbd-tools.log" 2>&1 ||
		ko "ksmbd-tools fetched (see $res/ksmbd-tools.log)"
	;;
esac

# Guests: per kernel, then two-guest links.  A warm run must stay well
# inside CI's 90 minutes on 2 cores, so each suite runs where it tells
# most (times from a warm run, TCG):
#   6.1 (oldest): smoke, stream, options, offload, listing, kernel consumer
#   6.12: the offload (its options and stream are the debug kernel's 6.12)
#   7.x (newest): options, offload, the stream suite through
#     IPPROTO_SMBDIRECT, network namespaces
#   debug 6.12 (KASAN, lockdep, kmemleak): KUnit, the stream suite over
#     siw, the offload over rxe and siw, options over siw (the iWARP
#     ones), trace events, cifs.ko and ksmbd, a rogue peer (offload abuse
#     too), lifecycle races, fault injection
# AFS_FULL=1 (make check-full) runs every suite on every kernel and link.
full=${AFS_FULL:-}
for k in $built; do
	r=$(release "$k")
	case $k in
	bookworm) suites="smoke stream options rdma diag kernel" ;;
	trixie) suites="rdma" ;;
	debug) suites="diag rdma" ;;
	*) suites="options rdma" ;;
	esac
	[ "${r%%.*}" -ge 7 ] && suites="$suites stream-ipproto netns"
	[ -n "$full" ] && suites="smoke stream options rdma diag kernel stream-ipproto" &&
		[ "${r%%.*}" -ge 7 ] && suites="$suites netns"
	for t in $suites; do
		case $t in
		stream-ipproto) guest "$t-$k" -k "$k" "$AFS_TOP/tests/guest/stream.sh" --ipproto ;;
		*) guest "$t-$k" -k "$k" "$AFS_TOP/tests/guest/$t.sh" ;;
		esac
	done
done
# Install as a user would (apt and DKMS, make install) on the oldest and
# the newest stock kernel.  Each run builds the module twice under TCG,
# about 30 min on a 2-core host: only with AFS_FULL=1 (make check-full),
# since the packages themselves are built and linted above every time.
for k in ${AFS_FULL:+bookworm sid}; do
	case " $built " in *" $k "*)
		[ -n "$debs" ] && guest "install-$k" -k "$k" -T 2700 "$AFS_TOP/tests/guest/install.sh" ;;
	esac
done
case " $built " in *" debug "*)
	guest "kunit-debug" -k debug "$AFS_TOP/tests/guest/kunit.sh"
	guest "stream-siw-debug" -k debug -l siw "$AFS_TOP/tests/guest/stream.sh"
	# Over siw the options that differ for iWARP; all of them with AFS_FULL.
	guest "options-siw-debug" -k debug -l siw "$AFS_TOP/tests/guest/options.sh" \
		$([ -n "$full" ] || echo port negotiated device limits counters)
	guest "rdma-siw-debug" -k debug -l siw "$AFS_TOP/tests/guest/rdma.sh"
	guest "interop-cifs-debug" -k debug "$AFS_TOP/tests/guest/interop.sh"
	guest "interop-ksmbd-debug" -k debug "$AFS_TOP/tests/guest/interop-ksmbd.sh"
	guest "violations-debug" -k debug "$AFS_TOP/tests/guest/violations.sh"
	# Lifecycle races and allocation failures: KASAN, lockdep, kmemleak.
	guest "lifecycle-debug" -k debug -T 900 "$AFS_TOP/tests/guest/lifecycle.sh"
	guest "fault-debug" -k debug "$AFS_TOP/tests/guest/fault.sh"
	;;
esac

# link <name> <link> <kernel a> <kernel b>
link() {
	case " $built " in *" $3 "*) ;; *) return ;; esac
	case " $built " in *" $4 "*) ;; *) return ;; esac
	guest "$1" -2 -k "$3" -p "$4" -l "$2" "$AFS_TOP/tests/guest/link.sh"
	if python3 "$AFS_TOP/scripts/pcap-check.py" "$AFS_OUT/runs/$1/link.pcap" "$2" >"$res/pcap-$1.log" 2>&1; then
		ok "$1 pcap holds $2 traffic over IPv4 and IPv6"
	else
		ko "$1 pcap holds $2 traffic over IPv4 and IPv6 ($(cat "$res/pcap-$1.log"))"
	fi
}
if [ -z "${AFS_SKIP_LINKS:-}" ]; then
	# The README's first command as a newcomer runs it: demo.sh with an
	# output directory that does not exist yet, as on a fresh clone.
	case " $built " in *" bookworm "*)
		if AFS_OUT=$res/demo-out bash "$AFS_TOP/scripts/demo.sh" >"$res/demo.log" 2>&1; then
			ok "make demo from an empty output directory"
		else
			ko "make demo from an empty output directory (see $res/demo.log)"
			tail -n 5 "$res/demo.log"
		fi
		;;
	esac
	link link-rxe-bookworm-debug rxe bookworm debug
	link link-siw-debug-debug siw debug debug
	link link-rxe-trixie-sid rxe trixie sid
	case " $built " in *" bookworm "*" debug "*)
		[ -n "$full" ] &&
			guest "stream2-bookworm-debug" -2 -k bookworm -p debug "$AFS_TOP/tests/guest/stream2.sh"
		# Every byte before EOF, 6.1 writing to the debug kernel and back.
		guest "eof2-bookworm-debug" -2 -k bookworm -p debug "$AFS_TOP/tests/guest/eof2.sh"
		;;
	esac
	# A silent peer (netem drops its traffic; the debug kernel has no
	# NET_SCHED): keepalive timeout at 2 s, transport retries at 10 s.
	case " $built " in *" bookworm "*)
		guest "keepalive2-bookworm" -2 -k bookworm -p bookworm -T 400 "$AFS_TOP/tests/guest/keepalive2.sh"
		[ -n "$full" ] &&
			guest "keepalive2-10-bookworm" -2 -k bookworm -p bookworm -T 400 "$AFS_TOP/tests/guest/keepalive2.sh" 10
		;;
	esac
fi

# The failures again with what their checks printed, last, where a CI
# log's tail shows them.
if [ -s "$res/digest" ]; then
	echo "---- failure details (all in $res and $AFS_OUT/runs) ----"
	head -n 28 "$res/digest"
fi
log "check took $(($(date +%s) - t0)) s; logs in $res and $AFS_OUT/runs"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
