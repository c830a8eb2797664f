#!/bin/bash
# tests/run-tests.sh - run every test of make check and print the summary
#
# Starts the loopback test world (Unbound, faultdns twice), runs the cmocka
# unit and resolver tests and the golden tests of mxtier-pipe --route, stops
# the world (also on failure or interrupt) and ends with one line:
# (MXT_VALGRIND=1: only the cmocka tests, each under valgrind memcheck; a
# leak or memory error fails the binary with exit 99)
#   N passed, N failed
# Exit status 0 only when nothing failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
run=$top/tests/tmp/run.$$
mkdir -p "$run"
passed=0
failed=0
failures=()

WORLD_TOP=$top
. "$top/tests/world/lib.sh"

cleanup() {
	if declare -F mta_stop_all >/dev/null; then mta_stop_all; fi
	if declare -F op_stop >/dev/null; then op_stop; fi
	if declare -F fm_cleanup >/dev/null; then fm_cleanup; fi
	if declare -F hs_cleanup >/dev/null; then hs_cleanup; fi
	if declare -F fb_stop >/dev/null; then fb_stop; fi
	if declare -F peer_stop_all >/dev/null; then peer_stop_all; fi
	if declare -F https_stop_all >/dev/null; then https_stop_all; fi
	if declare -F imp_stop >/dev/null; then imp_stop; fi
	if declare -F orc_stop >/dev/null; then orc_stop; fi
	if declare -F fl_cleanup >/dev/null; then fl_cleanup; fi
	if declare -F deb_cleanup >/dev/null; then deb_cleanup; fi
	if declare -F fv_cleanup >/dev/null; then fv_cleanup; fi
	world_stop
	if [[ $failed -eq 0 ]]; then rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# note_result NAME OK? - count one test
note_result() {
	if [[ $2 == ok ]]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$1")
	fi
}

# report_result NAME WHY [OUTPUT] - print "[ OK ]" or "[ FAILED ]" with WHY
# (and the first lines of OUTPUT) and count it; WHY empty means it passed
report_result() {
	if [[ -z $2 ]]; then
		echo "[       OK ] $1"
		note_result "$1" ok
	else
		echo "[  FAILED  ] $1: $2"
		[[ -n ${3:-} ]] && printf '%s\n' "$3" | head -5 | sed 's/^/    | /'
		note_result "$1" fail
	fi
}

# journal_decisions DB QUEUE_ID - "stage:outcome:decision ..." of the
# delivery's journal rows, in order ("-" when there are none or no journal)
journal_decisions() {
	local rows=
	if [[ -r $1 ]]; then
		rows=$(sqlite3 "$1" "select group_concat(ifnull(stage,'-') || ':' || outcome || ':' ||
			decision, ' ') from (select * from attempts where queue_id = '$2' order by id)" 2>&1)
	fi
	echo "${rows:--}"
}

# run_cmocka BINARY - run one cmocka binary and count its tests
run_cmocka() {
	local bin=$1 out rc p f s
	if [[ ${MXT_VALGRIND:-} == 1 ]]; then
		out=$(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 "$bin" 2>&1)
	else
		out=$("$bin" 2>&1)
	fi
	rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}
	f=${f:-0}
	# a skipped test proved nothing: it counts as failed
	if [[ ${s:-0} -gt 0 ]]; then
		f=$((f + s))
		failures+=($(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \(test_[A-Za-z0-9_]*\)$/\1 (skipped)/p'))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [[ $f -gt 0 ]]; then
		failures+=($(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \(test_[A-Za-z0-9_]*\)$/\1/p'))
	fi
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		# crashed or failed outside a test: that is a failure too
		note_result "$(basename "$bin") (exit $rc)" fail
	fi
}

echo "== starting the test world"
world_start_unbound "$run/unbound" || { note_result "world: unbound" fail; }
world_start_faultdns "$run/faultdns" FAULTDNS || { note_result "world: faultdns" fail; }
world_start_faultdns "$run/slowdns" SLOWDNS -d 200 || { note_result "world: slow faultdns" fail; }
WORLD_LISTEN=::1 world_start_faultdns "$run/faultdns6" FAULTDNS6 || { note_result "world: faultdns on ::1" fail; }
world_start_dnssec_test "$run/dnssec" || { note_result "world: validating unbound" fail; }
export MXT_DEADDNS=127.0.0.1:9
echo "   unbound ${MXT_DNS:-?}  faultdns ${MXT_FAULTDNS:-?} ${MXT_FAULTDNS6:-?}  slow ${MXT_SLOWDNS:-?}  dnssec ${MXT_DNSSEC:-?}"

for t in tests/unit/test_input tests/unit/test_plan tests/unit/test_config tests/unit/test_resolve \
	tests/unit/test_deliver tests/unit/test_spool tests/unit/test_journal \
	tests/unit/test_smtpreply tests/unit/test_smtp tests/unit/test_inspect tests/unit/test_mailaddr \
	tests/unit/test_sts tests/unit/test_logparse tests/unit/test_logimport tests/unit/test_oracle; do
	echo "== $t"
	run_cmocka "$t"
done

if [[ ${MXT_VALGRIND:-} == 1 ]]; then
	# make check-valgrind: the unit tests only, each under memcheck
	echo
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
	exit
fi

echo "== golden tests of mxtier-pipe --route"
. "$top/tests/golden/run-golden.sh"

. "$top/tests/deliver/scenarios.sh"
. "$top/tests/deliver/concurrency.sh"
. "$top/tests/deliver/nothing-lost.sh"
. "$top/tests/deliver/security.sh"
. "$top/tests/deliver/body.sh"
. "$top/tests/fault/matrix.sh"
. "$top/tests/hostile/hostile.sh"
. "$top/tests/tls/stsfetch.sh"
. "$top/tests/tls/tls.sh"
. "$top/tests/import/mta-import.sh"
. "$top/tests/import/follow.sh"
. "$top/tests/oracle/protocol.sh"
. "$top/tests/oracle/postfix-oracle.sh"
. "$top/tests/oracle/exim-oracle.sh"
. "$top/tests/fleet/ship.sh"
. "$top/tests/fleet/fleet-backoff.sh"

echo "== golden tests of mxtier --report (journals of the scenarios above)"
. "$top/tests/golden/run-report-golden.sh"

echo "== the mxtier TUI in tmux"
. "$top/tests/tui/run-tui-tests.sh"

. "$top/tests/deb/package.sh"
. "$top/tests/fleet/fleet-view.sh"

echo "== the MTA harness's own test (stand-in transport under Postfix and Exim)"
if out=$(MTA_DIR=$run/selftest timeout 600 bash "$top/tests/mta/selftest.sh" 2>&1); then :; fi
printf '%s\n' "$out" | grep -E '^\[|passed' | tail -5
p=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
f=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
if [[ -z $p ]]; then
	note_result "mta selftest (no summary)" fail
else
	passed=$((passed + p))
	failed=$((failed + f))
	[[ $f -eq 0 ]] || failures+=("mta selftest: $f failed")
fi

echo
if [[ $failed -gt 0 ]]; then
	echo "failed tests:"
	printf '  %s\n' "${failures[@]}"
	echo "(files kept in $run)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
