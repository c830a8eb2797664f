#!/bin/bash
# tests/fuzz/run-fuzz.sh - build the libFuzzer targets and run each for a while
#
# SYNOPSIS
#	bash tests/fuzz/run-fuzz.sh SECONDS [TARGET...]
#
# DESCRIPTION
#	Builds every target (or the TARGETs named: smtpreply, config, plan,
#	dnsmsg, domain, sts, logparse, socketmap) with clang, libFuzzer, ASan (leak checks on) and UBSan
#	into tests/tmp/fuzz/, straight from the shared/*.c sources each needs
#	(never shared/libmxtier.a, which is built without instrumentation).
#	Then runs each for SECONDS on a fresh copy of its seed corpus,
#	tests/fuzz/corpus/TARGET/, so the committed corpus never changes, with
#	the dictionary tests/fuzz/TARGET.dict when there is one. The
#	corpus holds crash-* reproducers of bugs found earlier: they run first,
#	so a bug that comes back fails at once.
#
#	Prints one line per target, "fuzz TARGET: N runs, ok (...)", or the
#	sanitizer's or the broken rule's report with the reproducer's path,
#	and ends with "N passed, N failed". Exit status 0 only when every
#	target passed.
#
#	FUZZ_JOBS=N runs N targets at once (default 1). To replay one
#	reproducer: tests/tmp/fuzz/fuzz_TARGET FILE (fuzz_plan prints what the
#	input decodes to and the plan; MXT_FUZZ_DUMP=1 makes it do so always).
#
#	Needs clang with the libFuzzer runtime: the Debian 12 packages clang and
#	libclang-rt-14-dev (tools/bootstrap installs them), and libconfuse-dev.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

secs=${1:-}
if [[ ! $secs =~ ^[0-9]+$ || $secs -lt 1 ]]; then
	echo "usage: $0 SECONDS [TARGET...]" >&2
	exit 2
fi
shift
all_targets=(smtpreply config plan dnsmsg domain sts logparse socketmap)
targets=("${@:-${all_targets[@]}}")
jobs=${FUZZ_JOBS:-1}
cc=${FUZZ_CC:-clang}
out=$top/tests/tmp/fuzz
mkdir -p "$out"

# sources_of TARGET - the shared/*.c files a target links
sources_of() {
	case $1 in
	smtpreply) echo shared/smtpreply.c ;;
	config) echo shared/config.c shared/addr.c shared/domain.c shared/plan.c \
		shared/notes.c shared/dnsdata.c shared/rng.c shared/sts.c ;;
	plan) echo shared/plan.c shared/planfmt.c shared/json.c shared/notes.c \
		shared/dnsdata.c shared/addr.c shared/domain.c shared/rng.c shared/sts.c ;;
	dnsmsg) echo shared/dnsmsg.c ;;
	domain) echo shared/domain.c shared/addr.c ;;
	sts) echo shared/sts.c shared/domain.c shared/addr.c ;;
	logparse) echo shared/logparse.c ;;
	# the oracle's request loops, framing and formatters (oracle.c brings
	# the resolver, journal and config along, though the target calls only
	# its pure functions)
	socketmap) echo shared/serve.c shared/netstring.c shared/clock.c shared/oracle.c \
		shared/addr.c shared/domain.c shared/idn.c shared/journal.c shared/rng.c \
		shared/routetls.c shared/plan.c shared/notes.c shared/dnsdata.c shared/sts.c \
		shared/stsfetch.c shared/resolve.c shared/dnsmsg.c shared/config.c shared/backoff.c ;;
	*) return 1 ;;
	esac
}

for t in "${targets[@]}"; do
	if ! sources_of "$t" >/dev/null; then
		echo "run-fuzz: unknown target \"$t\"; expected one of: ${all_targets[*]}" >&2
		exit 2
	fi
done

# the toolchain: clang and its libFuzzer runtime, or say what to install
probe=$out/probe.c
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! command -v "$cc" >/dev/null 2>&1 ||
   ! "$cc" -fsanitize=fuzzer,address,undefined -o "$out/probe" "$probe" >"$out/probe.log" 2>&1; then
	echo "run-fuzz: $cc with the libFuzzer runtime is missing; install the Debian packages" \
	     "clang and libclang-rt-14-dev (tools/bootstrap does)" >&2
	[[ -s $out/probe.log ]] && sed 's/^/    /' "$out/probe.log" | head -5 >&2
	echo "0 passed, ${#targets[@]} failed"
	exit 1
fi

confuse_flags=$(pkg-config --cflags --libs libconfuse 2>/dev/null || echo -lconfuse)
CFLAGS_FUZZ=(-g -O1 -std=c11 -Wall -Wextra "-fsanitize=fuzzer,address,undefined"
	     -fno-sanitize-recover=undefined -D_GNU_SOURCE -Ishared)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

passed=0
failed=0

# build TARGET - compile one target; false (log kept) on error
build() {
	local t=$1 libs=()

	[[ $t == config ]] && read -r -a libs <<<"$confuse_flags"
	if [[ $t == socketmap ]]; then
		read -r -a libs <<<"$confuse_flags $(pkg-config --cflags libcurl 2>/dev/null) -lcares -lsqlite3 -ldl"
		libs+=(-DPACKAGE_VERSION='"fuzz"' -DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"')
	fi
	# shellcheck disable=SC2046
	"$cc" "${CFLAGS_FUZZ[@]}" -o "$out/fuzz_$t" "tests/fuzz/fuzz_$t.c" $(sources_of "$t") \
		"${libs[@]}" >"$out/build_$t.log" 2>&1
}

# run TARGET - fuzz one target for $secs on a fresh corpus copy; writes run_TARGET.log
run() {
	local t=$1
	local work=$out/work_$t dict=()

	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	cp "tests/fuzz/corpus/$t/"* "$work/corpus/" 2>/dev/null
	[[ -f tests/fuzz/$t.dict ]] && dict=(-dict="$top/tests/fuzz/$t.dict")
	(cd "$work" && "$out/fuzz_$t" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" corpus \
		>"$out/run_$t.log" 2>&1)
	echo $? >"$work/rc"
}

# report TARGET - one line for a target that ran; the details when it failed
report() {
	local t=$1
	local log=$out/run_$t.log rc runs cov ft rate repro

	rc=$(cat "$out/work_$t/rc" 2>/dev/null || echo 1)
	runs=$(sed -n 's/^Done \([0-9]*\) runs in.*/\1/p' "$log" | tail -1)
	[[ -z $runs ]] && runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [[ $rc -eq 0 ]] && grep -q '^Done [0-9]* runs' "$log"; then
		echo "fuzz $t: ${runs:-0} runs, ok (cov: ${cov:-?}, ft: ${ft:-?}, ${rate:-?} runs/s)"
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	repro=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	echo "fuzz $t: FAILED after ${runs:-?} runs (exit $rc)"
	# the sanitizer's report or the broken rule, without libFuzzer's chatter
	grep -v -E '^(INFO:|#[0-9]+\s|MS: |base unit:|artifact_prefix|stat::|Done |\*\*\*|NOTE: libFuzzer|      Combine libFuzzer|0x[0-9a-f]+,|Base64: |\\|$)' "$log" |
		grep -v -E ' in (fuzzer::|__sanitizer_print_stack_trace|__libc_start|_start )' |
		head -60 | sed 's/^/    /'
	if [[ -n $repro ]]; then
		echo "    reproducer: $repro (replay: $out/fuzz_$t $repro)"
	else
		echo "    no reproducer written; full log: $log"
	fi
}

# build everything first; a target that does not build fails
runnable=()
for t in "${targets[@]}"; do
	if build "$t"; then
		runnable+=("$t")
	else
		echo "fuzz $t: FAILED to build"
		sed 's/^/    /' "$out/build_$t.log" | head -30
		failed=$((failed + 1))
	fi
done

running=0
for t in "${runnable[@]}"; do
	run "$t" &
	running=$((running + 1))
	if [[ $running -ge $jobs ]]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

for t in "${runnable[@]}"; do
	report "$t"
done
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
