#!/bin/bash
# tests/tui/run-tui-tests.sh - the mxtier inspector, driven for real
#
# Runs the real tui/mxtier in tmux against the loopback test world: Unbound
# serves dlv.test (tests/world/zones.conf), Postfix's smtp-sink plays the
# mail hosts on 127.0.0.x:2525, and the journal the TUI reads is filled by
# REAL deliveries of plugin/mxtier-pipe (refused.dlv.test: mx1 refuses,
# the backup takes it; greet.dlv.test: 421 greeting; ok.dlv.test). Keys go
# in with tmux send-keys, the screen comes back with capture-pane; every
# wait is a bounded poll of the screen for the expected content (at most
# 100 x 50 ms unless said otherwise), never a blind sleep.
#
# Usage:
#   bash tests/tui/run-tui-tests.sh        standalone: starts what it needs
#   . tests/tui/run-tui-tests.sh           from tests/run-tests.sh: runs the
#                                          same script as a child process and
#                                          counts its lines with note_result
# The child uses the world of the caller when there is one: MXT_DNS
# (exported by world_start_unbound) and smtp-sinks already listening on
# the dlv.test addresses (tests/deliver/scenarios.sh starts the same ones);
# what is missing it starts itself, and stops all of it at the end, also on
# failure or interrupt, together with its tmux server (-L mxt-PID).
#
# Output: "[       OK ] tui NAME" or "[  FAILED  ] tui NAME: why" per test,
# then "N passed, N failed"; exit status 0 only when nothing failed.

# ---- sourced by the main runner: run as a child, count its results ----
if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
	echo "== the mxtier TUI in tmux (tests/tui)"
	tui_log=$run/tui.log
	TUI_RUN=$run/tui timeout 600 bash "$top/tests/tui/run-tui-tests.sh" 2>&1 | tee "$tui_log" |
		grep -E '^\[|passed|^tui:'
	tui_summary=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/&/p' "$tui_log" | tail -1)
	while IFS= read -r tui_line; do
		case $tui_line in
		"[       OK ] "*)
			note_result "${tui_line#"[       OK ] "}" ok ;;
		"[  FAILED  ] "*)
			tui_line=${tui_line#"[  FAILED  ] "}
			note_result "${tui_line%%:*}" fail ;;
		esac
	done <"$tui_log"
	[[ -n $tui_summary ]] || note_result "tui (no summary line; see $tui_log)" fail
	unset tui_log tui_summary tui_line
	return 0
fi

# ---- standalone ----
set -u
export LANG=C.UTF-8 LC_ALL=C.UTF-8	# the TUI's UTF-8 path; bash counts characters
# A local time zone in which it is now about noon. The TUI shows a time as
# HH:MM:SS on the day it is shown and with its date otherwise (unit-tested in
# test_inspect), so a run near midnight would see some times as "YYYY-MM-DD
# HH:MM:SS": a backoff set at 23:55 for ten minutes ends tomorrow. With the
# day pinned, every time on the screen has one form, wherever CI runs.
utc_hour=$(date -u +%H)
noon_offset=$((12 - 10#$utc_hour))	# local = UTC + offset; POSIX TZ counts west
export TZ="MXT$((-noon_offset))"
top=$(cd "$(dirname "$0")/../.." && pwd)
tui_dir=${TUI_RUN:-$top/tests/tmp/tui.$$}
rm -rf "$tui_dir"
mkdir -p "$tui_dir"
mxtier=$top/tui/mxtier
pipe=$top/plugin/mxtier-pipe
sock=mxt-$$
passed=0
failed=0
started_world=

WORLD_TOP=$top
. "$top/tests/world/lib.sh"
MTA_DIR=$tui_dir/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"

cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null
	[[ -n ${blackhole_pid:-} ]] && kill "$blackhole_pid" 2>/dev/null
	mta_stop_all
	world_stop
	if [[ $failed -eq 0 && -z ${TUI_KEEP:-} ]]; then rm -rf "$tui_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { echo "[       OK ] tui $1"; passed=$((passed + 1)); }
fail() { echo "[  FAILED  ] tui $1: $2"; failed=$((failed + 1)); }
# check NAME WHY - OK when WHY is empty
check() { if [[ -z $2 ]]; then ok "$1"; else fail "$1" "$2"; fi; }

finish() {
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]]
	exit
}

for tool in tmux jq smtp-sink unbound; do
	command -v "$tool" >/dev/null || { fail "setup" "$tool is not installed (tools/bootstrap)"; finish; }
done
[[ -x $mxtier && -x $pipe ]] || { fail "setup" "build first: $mxtier and $pipe"; finish; }

# ---- the world: DNS and the sinks of refused, greet and ok ----
if [[ -z ${MXT_DNS:-} ]]; then
	world_start_unbound "$tui_dir/unbound" || { fail "setup" "unbound did not start"; finish; }
	started_world=yes
fi
echo "tui: DNS $MXT_DNS${started_world:+ (started here)}"

# sink NAME ADDR [smtp-sink options] - a sink unless the world already has one there
sink() {
	local name=$1 addr=$2
	shift 2
	if ss -ltnH "src $addr:2525" 2>/dev/null | grep -q .; then
		echo "tui: using the sink already on $addr:2525"
		return 0
	fi
	mta_sink_start "$name" "$addr" 2525 "$@"
}
if ! { sink tok1 127.0.0.21 && sink tref2 127.0.0.32 &&
       sink tgreet1 127.0.0.41 -Q connect && sink tgreet2 127.0.0.42; }; then
	fail "setup" "smtp-sink did not start"
	finish
fi

conf=$tui_dir/mxtier.conf
journal=$tui_dir/journal/journal.db
mkdir -p "$tui_dir/journal" "$tui_dir/spool"
cat >"$conf" <<CONF
resolver { timeout = 2  tries = 1 }
policy { ignore_networks = {}  backoff_initial = 600 }
smtp { port = 2525  helo_name = "client.mxtier.test"  connect_timeout = 5  greeting_timeout = 10 }
spool { directory = "$tui_dir/spool" }
journal { path = "$journal" }
CONF
printf 'From: a@client.test\nTo: user@dlv.test\nSubject: tui test\n\nbody\n' >"$tui_dir/msg.eml"
# mxtier-pipe refuses to deliver as root: run it as the MTAs do (user=nobody)
as_nobody=()
if [[ $(id -u) -eq 0 ]]; then
	as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	mta_nobody_path "$conf" "$tui_dir/journal/" "$tui_dir/spool/" >/dev/null ||
		{ fail "setup" "nobody cannot use $tui_dir"; finish; }
fi

# deliver DOMAIN RCPT QID - one real delivery through mxtier-pipe; its first line
deliver() {
	timeout 60 "${as_nobody[@]}" "$pipe" -c "$conf" --dns-server "$MXT_DNS" -q "$3" -f sender@client.test \
		-d "$1" -- "$2" <"$tui_dir/msg.eml" 2>&1 | head -1
	return "${PIPESTATUS[0]}"
}

# ---- the journal, from real deliveries (refused.dlv.test last) ----
why=
out=$(deliver ok.dlv.test user@ok.dlv.test Tok1) || why+="ok.dlv.test: $out; "
out=$(deliver greet.dlv.test user@greet.dlv.test Tgreet1) || why+="greet.dlv.test: $out; "
[[ $out == *backup.greet.dlv.test* ]] || why+="greet.dlv.test did not go to the backup: $out; "
out=$(deliver refused.dlv.test user@refused.dlv.test Tref1) || why+="refused.dlv.test: $out; "
[[ $out == *backup.refused.dlv.test* ]] || why+="refused.dlv.test did not go to the backup: $out; "
rows=$(sqlite3 "$journal" "select count(*) from attempts" 2>&1)
[[ $rows == 5 ]] || why+="journal has $rows rows, want 5; "
check journal_from_real_deliveries "$why"
[[ -z $why ]] || finish

# ---- report mode ----
rep=$tui_dir/report
"$mxtier" -c "$conf" --dns-server "$MXT_DNS" --report refused.dlv.test >"$rep.txt" 2>"$rep.err"
rc=$?
why=
[[ $rc -eq 0 ]] || why+="exit $rc; "
grep -q '^domain refused\.dlv\.test$' "$rep.txt" || why+="no domain line; "
grep -Eq '^  why: last delivery .* to user@refused\.dlv\.test went to backup\.refused\.dlv\.test \(pref 20\) because mx1\.refused\.dlv\.test \(pref 10\) refused the connection$' "$rep.txt" ||
	why+="explanation: $(grep why: "$rep.txt"); "
grep -Eq 'mx1\.refused\.dlv\.test +127\.0\.0\.31 +backoff until' "$rep.txt" || why+="no backoff state of mx1; "
check report_text "$why"

"$mxtier" -c "$conf" --dns-server "$MXT_DNS" --report --json refused.dlv.test >"$rep.json" 2>"$rep.err"
rc=$?
why=
[[ $rc -eq 0 ]] || why+="exit $rc; "
if ! jq -e . "$rep.json" >/dev/null 2>&1; then
	why+="not JSON: $(head -c 300 "$rep.json"); "
else
	t() {	# t JQ_EXPR - must be true
		jq -e "$1" "$rep.json" >/dev/null 2>&1 || why+="false: $1; "
	}
	t '.domain == "refused.dlv.test" and .result == "ok" and .status == null'
	t '[.tiers[].preference] == [10, 20]'
	t '[.tiers[].hosts[].name] == ["mx1.refused.dlv.test", "backup.refused.dlv.test"]'
	t '.tiers[0].hosts[0].addresses[0] | .address == "127.0.0.31" and .family == "ipv4" and .usable'
	t '[.attempts[] | .host] == ["backup.refused.dlv.test", "mx1.refused.dlv.test"]'
	t '.attempts[0] | .outcome == "delivered" and .decision == "done" and .stage == "dot" and .reply_code == 250'
	t '.attempts[1] | .outcome == "tempfail" and .decision == "next_tier" and .stage == "connect" and .preference == 10'
	t '.attempts[0].ts >= .attempts[1].ts'
	t '.host_states[] | select(.address == "127.0.0.31") | .state == "backoff" and .failures == 1'
	t '.host_states[] | select(.address == "127.0.0.32") | .state == "ok"'
	t '.explanation | test("went to backup\\.refused\\.dlv\\.test .*mx1\\.refused\\.dlv\\.test \\(pref 10\\) refused the connection")'
fi
check report_json "$why"

"$mxtier" -c "$conf" --dns-server "$MXT_DNS" --report --json refused.dlv.test greet.dlv.test \
	>"$rep.2.json" 2>"$rep.err"
rc=$?
why=
[[ $rc -eq 0 ]] || why+="exit $rc; "
jq -e 'type == "array" and length == 2 and .[0].domain == "refused.dlv.test" and .[1].domain == "greet.dlv.test"' \
	"$rep.2.json" >/dev/null 2>&1 || why+="not an array of the two reports: $(head -c 200 "$rep.2.json"); "
check report_json_several_is_array "$why"

why=
out=$("$mxtier" -c "$conf" --dns-server "$MXT_DNS" --report 'bad..domain' 2>&1)
rc=$?
[[ $rc -eq 1 && $out == *'bad domain'* ]] || why+="bad domain: exit $rc, \"$out\"; "
printf 'policy { no_such_key = 1 }\n' >"$tui_dir/bad.conf"
out=$("$mxtier" -c "$tui_dir/bad.conf" --report ok.dlv.test 2>&1)
rc=$?
[[ $rc -eq 1 && $out == *'bad configuration'*bad.conf* ]] || why+="bad config: exit $rc, \"$out\"; "
out=$("$mxtier" --report 2>&1)
rc=$?
[[ $rc -eq 1 ]] || why+="no domain: exit $rc; "
out=$("$mxtier" -c "$conf" --dns-server "$MXT_DNS" --journal "$tui_dir/none/j.db" --report --json ok.dlv.test 2>"$rep.err")
rc=$?
[[ $rc -eq 0 ]] || why+="missing journal: exit $rc; "
jq -e '.attempts == [] and .result == "ok"' <<<"$out" >/dev/null 2>&1 || why+="missing journal: $out; "
grep -q 'no journal' "$rep.err" || why+="missing journal: no note on stderr; "
[[ ! -e $tui_dir/none ]] || why+="the missing journal's folder was created; "
check report_errors_and_exit_status "$why"

# the KEYS section of mxtier(1) lists the key table row for row
why=
man=$top/man/mxtier.1
if [[ ! -f $man ]]; then
	why="no $man"
else
	awk '/^\.SH KEYS/ { on = 1; next } /^\.SH / { on = 0 }
	     on && /^\.TP/ { want = 1; next }
	     on && want == 1 { sub(/^\.B /, ""); gsub(/"/, ""); names = $0; want = 2; next }
	     on && want == 2 { print names "\t" $0; want = 0 }' "$man" | sed 's/\\-/-/g; s/\\(em/—/g' >"$tui_dir/keys.man"
	"$mxtier" --keys >"$tui_dir/keys.bin"
	diff -u "$tui_dir/keys.bin" "$tui_dir/keys.man" >"$tui_dir/keys.diff" ||
		why="mxtier --keys and the man page differ: $(head -20 "$tui_dir/keys.diff")"
	[[ -s $tui_dir/keys.bin ]] || why="mxtier --keys printed nothing"
fi
check man_keys_match_key_table "$why"

# ---- the screen ----
# A session runs the binary through a wrapper that records its exit status
# and the terminal modes afterwards, then says so on the (normal) screen.
cat >"$tui_dir/wrap.sh" <<'WRAP'
#!/bin/sh
# wrap.sh TAG COMMAND... - run COMMAND; record its status and the tty modes after it
tag=$1
shift
"$@"
echo $? >"$TUI_DIR/$tag.status"
stty -a >"$TUI_DIR/$tag.stty" 2>&1
echo "MXTIER-EXITED $tag"
exec sleep 600
WRAP

# start TAG W H [env NAME=V...] -- ARGS... - a new session running mxtier ARGS
start() {
	local tag=$1 w=$2 h=$3 envs=() a
	shift 3
	while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	local cmd="env TUI_DIR=$tui_dir ${envs[*]} sh $tui_dir/wrap.sh $tag $mxtier"
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	tmux -L "$sock" -f /dev/null new-session -d -s "$tag" -x "$w" -y "$h" "$cmd"
}
# screen TAG - the pane's text now
screen() { tmux -L "$sock" capture-pane -p -t "$1" 2>/dev/null; }
# settle TAG - capture again until two captures in a row agree (at most 1 s):
# a capture can fall between two writes of one repaint, and show part of it
settle() {
	local i prev
	for ((i = 0; i < 20; i++)); do
		prev=$SCREEN
		sleep 0.05
		SCREEN=$(screen "$1")
		[[ $SCREEN == "$prev" ]] && return 0
	done
	return 0
}
# wait_for TAG REGEX [TRIES] - poll the screen until grep -E REGEX matches on a
# settled screen (see settle); SCREEN holds it, for the checks that follow
wait_for() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		SCREEN=$(screen "$1")
		if grep -Eq -- "$2" <<<"$SCREEN"; then
			settle "$1"
			if grep -Eq -- "$2" <<<"$SCREEN"; then return 0; fi
		fi
		sleep 0.05
	done
	return 1
}
# wait_gone TAG REGEX - poll until REGEX no longer matches
wait_gone() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		SCREEN=$(screen "$1")
		if ! grep -Eq -- "$2" <<<"$SCREEN"; then return 0; fi
		sleep 0.05
	done
	return 1
}
keys() { local t=$1; shift; tmux -L "$sock" send-keys -t "$t" "$@"; }
# right - the right side of the screen (after the pane separator)
right() { sed -n 's/^[^│]*│ \{0,1\}//p' <<<"$SCREEN"; }
# left - the domain pane
left() { sed -n 's/│.*//p' <<<"$SCREEN"; }
# line_of REGEX - first line number of the right side matching, or 0
line_of() { right | grep -En -m1 -- "$1" | cut -d: -f1 | grep . || echo 0; }
# dump - the screen for a failure message
dump() { printf '\n%s\n' "$SCREEN" | sed 's/^/    | /'; }

S=main
start $S 100 30 -- -c "$conf" --dns-server "$MXT_DNS" refused.dlv.test
why=
if ! wait_for $S '│ refused\.dlv\.test  ok: 2 tiers, 2 hosts, 2 usable addresses'; then
	why="the plan of refused.dlv.test did not show:$(dump)"
else
	echo "$SCREEN" >"$tui_dir/main-100x30.txt"
	p10=$(line_of '^pref 10  \(tier 1 of 2')
	h1=$(line_of '^  1\. mx1\.refused\.dlv\.test$')
	a1=$(line_of '^       127\.0\.0\.31 +ipv4 +ttl 300 +usable +backoff until [0-9:]+ \(1 failure\)')
	p20=$(line_of '^pref 20  \(tier 2 of 2')
	h2=$(line_of '^  2\. backup\.refused\.dlv\.test$')
	a2=$(line_of '^       127\.0\.0\.32 +ipv4 +ttl 300 +usable +ok$')
	if ! [[ $p10 -gt 0 && $p10 -lt $h1 && $h1 -lt $a1 && $a1 -lt $p20 && $p20 -lt $h2 && $h2 -lt $a2 ]]; then
		why="tiers/hosts/addresses not in order (lines $p10 $h1 $a1 $p20 $h2 $a2):$(dump)"
	fi
fi
check plan_tiers_in_order "$why"

why=
att=$(line_of '^(\[ | {1,2})Attempts')
# the table's rows start with a time (a second row per attempt may hold its reason)
rows=$(right | sed -n "$((att + 2)),$((att + 8))p" | grep -E '^[0-9:]{8} ')
r1=$(sed -n 1p <<<"$rows")
r2=$(sed -n 2p <<<"$rows")
if [[ $att -eq 0 ]]; then
	why="no attempts pane:$(dump)"
elif ! [[ $r1 =~ ^([0-9:]{8})\ .*backup\.refused\.dlv\.test\ +(127\.0\.0\.32\ +)?dot\ +250 &&
	  $r2 =~ ^([0-9:]{8})\ .*mx1\.refused\.dlv\.test\ +(127\.0\.0\.31\ +)?connect ]]; then
	why="rows are not newest first (backup/dot, then mx1/connect):$(dump)"
elif [[ ${r1:0:8} < ${r2:0:8} ]]; then
	why="first row is older than the second: ${r1:0:8} < ${r2:0:8}"
elif ! right | grep -q "newest first, 2"; then
	why="title does not say newest first, 2"
elif ! right | sed -n "$att,\$p" | grep -q "Connection refused"; then
	why="the refusal is not shown in the attempts:$(dump)"
fi
check attempts_newest_first "$why"

why=
expl=$(right | awk '/^why: / { on = 1 } /^(\[ | +)Plan/ { on = 0 } on' | tr -s ' \n' '  ')
[[ $expl =~ why:\ last\ delivery\ [0-9:]+\ to\ user@refused\.dlv\.test\ went\ to\ backup\.refused\.dlv\.test\ \(pref\ 20\)\ because\ mx1\.refused\.dlv\.test\ \(pref\ 10\)\ refused\ the\ connection ]] ||
	why="explanation: \"$expl\""
check explanation_names_backup_and_refusal "$why"

# navigation: the list is the argument, then the journal's domains newest first
why=
if ! [[ $(left | sed -n 2,4p | tr -d ' ' | tr '\n' ' ') == ">refused.dlv.test greet.dlv.test ok.dlv.test " ]]; then
	why="domain list: $(left | sed -n 1,5p | tr '\n' '|')"
fi
keys $S j
wait_for $S '│ greet\.dlv\.test  ok: 2 tiers' || why+="j did not select greet.dlv.test:$(dump)"
left | grep -q '^>greet\.dlv\.test' || why+="no > on greet.dlv.test; "
right | grep -q '^  1\. mx1\.greet\.dlv\.test$' || why+="plan does not follow to greet.dlv.test:$(dump)"
[[ $(right | awk '/^why: /,/Plan/' | tr -s ' \n' '  ') == *'mx1.greet.dlv.test (pref 10) answered 421 at greeting'* ]] ||
	why+="explanation does not follow: $(right | grep '^why')"
keys $S j
wait_for $S '│ ok\.dlv\.test  ok: 2 tiers' || why+="second j did not select ok.dlv.test:$(dump)"
keys $S k
wait_for $S '│ greet\.dlv\.test  ok: 2 tiers' || why+="k did not go back to greet.dlv.test; "
keys $S Up
wait_for $S '│ refused\.dlv\.test  ok: 2 tiers' || why+="Up did not go back to refused.dlv.test; "
right | grep -q '^  2\. backup\.refused\.dlv\.test$' || why+="plan did not follow back; "
check navigation_j_k_right_side_follows "$why"

# Tab moves the focus; the focused pane's title is bracketed (not colour alone)
why=
keys $S Tab
wait_for $S '│\[ Plan \]' || why+="Tab did not focus the plan:$(dump)"
keys $S Tab
wait_for $S '│\[ Attempts \]' || why+="Tab did not focus the attempts; "
wait_for $S 'selected: .*refused\.dlv\.test' || why+="no detail of the selected attempt; "
keys $S Tab
wait_for $S '^\[ Domains \]' || why+="Tab did not come back to the domains; "
check tab_switches_focus "$why"

# filter
why=
keys $S /
wait_for $S 'filter: _' || why+="/ shows no prompt; "
keys $S o k
if wait_for $S '^\[ Domains \] 1/3'; then
	[[ $(left | grep -c '\.dlv\.test') -eq 1 ]] && left | grep -q 'ok\.dlv\.test' ||
		why+="filter \"ok\" did not narrow the list to ok.dlv.test:$(dump)"
else
	why+="filter \"ok\" did not narrow the list:$(dump)"
fi
keys $S Enter
wait_for $S 'filter "ok"' || why+="Enter did not keep the filter; "
keys $S Escape
wait_for $S '^\[ Domains \] 3 ' || why+="Esc did not clear the filter:$(dump)"
[[ $(left | grep -c '\.dlv\.test') -eq 3 ]] || why+="not all domains back after Esc; "
check filter_narrows_domain_list "$why"

# add a domain, and a bad one
why=
keys $S a
wait_for $S 'add domain: _' || why+="a shows no prompt; "
keys $S nullmx.dlv.test Enter
wait_for $S '│ nullmx\.dlv\.test  null_mx 5\.1\.10' || why+="nullmx.dlv.test was not added and looked up:$(dump)"
left | grep -q '^>nullmx\.dlv\.test' || why+="nullmx.dlv.test not selected in the list; "
keys $S a
wait_for $S 'add domain: _' || why+="second a shows no prompt; "
keys $S 'bad..name' Enter
wait_for $S '^error: cannot add "bad\.\.name": ' || why+="no error line for a bad domain:$(dump)"
[[ $(left | grep -c 'bad') -eq 0 ]] || why+="the bad domain was added; "
check add_domain_and_bad_domain_error "$why"

# help overlay: every row of the key table, and any key closes it
why=
keys $S '?'
if wait_for $S '─ Keys ─'; then
	while IFS=$'\t' read -r names help; do
		grep -Fq -- "$names" <<<"$SCREEN" || why+="help lacks \"$names\"; "
		grep -Fq -- "${help:0:30}" <<<"$SCREEN" || why+="help lacks \"${help:0:30}\"; "
	done <"$tui_dir/keys.bin"
else
	why+="? shows no key table:$(dump)"
fi
keys $S Escape
wait_gone $S '─ Keys ─' || why+="the key table did not close; "
check help_overlay_shows_key_table "$why"

# a delivery while the TUI is open shows up without a key press
why=
keys $S Home
wait_for $S '│ refused\.dlv\.test  ok:' || why+="Home did not select refused.dlv.test; "
keys $S j j
wait_for $S '│ ok\.dlv\.test  ok: 2 tiers' || why+="could not select ok.dlv.test; "
wait_for $S 'newest first, 1$' || why+="ok.dlv.test should list 1 attempt:$(dump)"
out=$(deliver ok.dlv.test "live$$@ok.dlv.test" Tlive) || why+="live delivery failed: $out; "
if wait_for $S 'newest first, 2$' 100; then
	# the explanation may wrap over lines, and a capture can fall between two
	# writes of one repaint: poll until the joined text names the delivery
	for ((i = 0; i < 100; i++)); do
		[[ $(right | awk '/^why: /,/Plan/' | tr -s ' \n' '  ') == *"to live$$@ok.dlv.test went to mx1.ok.dlv.test"* ]] && break
		sleep 0.05
		SCREEN=$(screen $S)
	done
	((i < 100)) || why+="the explanation does not name the new delivery:$(dump)"
else
	why+="the new row did not appear within 5 s:$(dump)"
fi
check live_row_appears_without_key "$why"

# resize to 80x24: repainted, nothing wraps, the hint line is the last row
# resize_why - what is wrong with the screen at 80x24, "" when nothing
resize_why() {
	local why= n last col i line
	[[ $(tmux -L "$sock" display -p -t $S '#{pane_width}x#{pane_height}') == 80x24 ]] || why+="pane is not 80x24; "
	n=$(wc -l <<<"$SCREEN")
	[[ $n -eq 24 ]] || why+="$n rows; "
	last=$(sed -n 24p <<<"$SCREEN")
	[[ $last == *"? help  q quit" ]] || why+="last row is not the hint line: \"$last\"; "
	sed -n 1p <<<"$SCREEN" | grep -q '^ mxtier ' || why+="first row is not the title; "
	# the pane separator sits in one column on every row between title and status
	col=$(sed -n 3p <<<"$SCREEN" | sed 's/│.*//' | wc -m)
	for ((i = 2; i <= 23; i++)); do
		line=$(sed -n "${i}p" <<<"$SCREEN")
		[[ ${line:$((col - 1)):1} == "│" ]] || { why+="row $i has no separator at column $col: \"$line\"; "; break; }
		[[ ${#line} -le 80 ]] || why+="row $i is ${#line} columns; "
	done
	grep -q '│ ok\.dlv\.test  ok: 2 tiers' <<<"$SCREEN" || why+="the selected domain is not shown; "
	echo "$why"
}
tmux -L "$sock" resize-window -t $S -x 80 -y 24
for ((try = 0; try < 100; try++)); do
	SCREEN=$(screen $S)
	why=$(resize_why)
	[[ -n $why ]] || break
	sleep 0.05
done
[[ -z $why ]] || why+="$(dump)"
echo "$SCREEN" >"$tui_dir/main-80x24.txt"
check resize_80x24_redraws_cleanly "$why"

# q: exit status 0 and the terminal restored
why=
keys $S q
if wait_for $S "MXTIER-EXITED $S"; then
	[[ $(cat "$tui_dir/$S.status") == 0 ]] || why+="exit status $(cat "$tui_dir/$S.status"); "
	grep -q 'Domains' <<<"$SCREEN" && why+="the TUI is still on the screen:$(dump)"
	grep -Eq '(^| )icanon( |$)' "$tui_dir/$S.stty" && grep -Eq '(^| )echo( |$)' "$tui_dir/$S.stty" ||
		why+="terminal modes not restored: $(tr '\n' ' ' <"$tui_dir/$S.stty" | head -c 300); "
else
	why="q did not end mxtier:$(dump)"
fi
check quit_status_0_terminal_restored "$why"

# a missing journal: a note on the status line, the plan still shows, nothing created
why=
S=nojournal
# a short path, whatever the checkout's: the whole note must fit in 100 columns
nojournal=/tmp/mxt-nojournal.$$
rm -rf "$nojournal"
start $S 100 30 -- -c "$conf" --dns-server "$MXT_DNS" --journal "$nojournal/journal.db" ok.dlv.test
wait_for $S '│ ok\.dlv\.test  ok: 2 tiers' || why+="no plan without a journal:$(dump)"
wait_for $S "^note: no journal at $nojournal/journal.db" || why+="no note on the status line:$(dump)"
wait_for $S '\(no journal\)' || why+="attempts pane does not say there is no journal; "
keys $S q
wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
[[ $(cat "$tui_dir/$S.status" 2>/dev/null) == 0 ]] || why+="exit status not 0; "
[[ ! -e $nojournal ]] || why+="something was created at the journal's path; "
rm -rf "$nojournal"
check missing_journal_is_a_note "$why"

# the journal is only read: a session leaves its rows and file as they were
why=
before=$(sqlite3 "$journal" "select count(*), max(id) from attempts")
sum_before=$(sha256sum <"$journal")
S=readonly
start $S 100 30 -- -c "$conf" --dns-server "$MXT_DNS" greet.dlv.test
wait_for $S '│ greet\.dlv\.test  ok: 2 tiers' || why+="no plan:$(dump)"
keys $S j r
wait_for $S '│ (ok|refused)\.dlv\.test  ok: 2 tiers' || why+="j/r did not work:$(dump)"
keys $S q
wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
[[ $(sqlite3 "$journal" "select count(*), max(id) from attempts") == "$before" ]] || why+="rows changed; "
[[ $(sha256sum <"$journal") == "$sum_before" ]] || why+="the journal file changed; "
check journal_never_written "$why"

# DNS never blocks the screen: a server that never answers
why=
if command -v python3 >/dev/null; then
	coproc BLACKHOLE { exec python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(120)'; }
	blackhole_pid=$BLACKHOLE_PID
	read -r -t 10 bport <&"${BLACKHOLE[0]}"
	S=slowdns
	start $S 100 30 -- -c "$conf" --dns-server "127.0.0.1:$bport" ok.dlv.test
	wait_for $S '│ ok\.dlv\.test  resolving…' || why+="no \"resolving…\":$(dump)"
	keys $S '?'
	wait_for $S '─ Keys ─' 20 || why+="keys are not handled while resolving:$(dump)"
	grep -q 'resolving…' <<<"$SCREEN" || why+="the lookup ended too early to tell; "
	keys $S Escape
	# resolver.timeout 2 s x 1 try: the lookup gives up, the screen says so
	wait_for $S '│ ok\.dlv\.test  tempfail 4\.4\.3' 200 || why+="the lookup never gave up:$(dump)"
	keys $S q
	wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
	kill "$blackhole_pid" 2>/dev/null
	wait "$blackhole_pid" 2>/dev/null
	blackhole_pid=
else
	why="python3 is needed for the silent DNS server"
fi
check dns_lookup_never_blocks_keys "$why"

# colours: only without NO_COLOR; never the only sign (the unusable/! markers are text)
why=
S=color
start $S 100 30 -- -c "$conf" --dns-server "$MXT_DNS" refused.dlv.test
wait_for $S '│ refused\.dlv\.test  ok: 2 tiers' || why+="no plan:$(dump)"
tmux -L "$sock" capture-pane -e -p -t $S >"$tui_dir/color.ansi"
grep -Eq $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7])(;[0-9;]*)?m' "$tui_dir/color.ansi" || why+="no colour at all with colours allowed; "
keys $S q
wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
S=nocolor
start $S 100 30 NO_COLOR=1 -- -c "$conf" --dns-server "$MXT_DNS" refused.dlv.test
wait_for $S '│ refused\.dlv\.test  ok: 2 tiers' || why+="no plan with NO_COLOR:$(dump)"
tmux -L "$sock" capture-pane -e -p -t $S >"$tui_dir/nocolor.ansi"
grep -Eq $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|38|48)(;[0-9;]*)?m' "$tui_dir/nocolor.ansi" && why+="colour despite NO_COLOR; "
grep -Eq $'\e\\[([0-9;]*;)?7(;[0-9;]*)?m' "$tui_dir/nocolor.ansi" || why+="no reverse video for the title/selection with NO_COLOR; "
keys $S q
wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
check no_color_honoured "$why"

# a journal filled only by mxtier-import from a Postfix log: the domain is in
# the list without being named, its rows show their source, the explanation
# names Postfix, and the refused primary is in backoff from the log alone
why=
imp=$tui_dir/imported
mkdir -p "$imp"
stamp=$(date -u '+%b %e %H:%M:%S')
cat >"$imp/mail.log" <<LOG
$stamp mail postfix/smtp[321]: connect to mx1.refused.dlv.test[127.0.0.31]:2525: Connection refused
$stamp mail postfix/smtp[321]: 4B2C1D0E9F: to=<imp@refused.dlv.test>, relay=backup.refused.dlv.test[127.0.0.32]:2525, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 77)
LOG
sed "s|journal *{[^}]*}|journal { path = \"$imp/journal.db\" }|" "$conf" >"$imp/mxtier.conf"
grep -q "$imp/journal.db" "$imp/mxtier.conf" || printf 'journal { path = "%s" }\n' "$imp/journal.db" >>"$imp/mxtier.conf"
"$top/plugin/mxtier-import" -c "$imp/mxtier.conf" --node relay7 "$imp/mail.log" 2>"$imp/import.err" ||
	why+="import failed: $(cat "$imp/import.err"); "
S=imported
start $S 120 34 -- -c "$imp/mxtier.conf" --dns-server "$MXT_DNS"
wait_for $S '│ refused\.dlv\.test  ok: 2 tiers' || why+="the imported domain is not listed and selected:$(dump)"
wait_for $S 'Postfix delivered to backup\.refused\.dlv\.test' || why+="the explanation does not name Postfix:$(dump)"
wait_for $S 'postfix +mx1\.refused\.dlv\.test' || why+="the attempt rows do not show their source:$(dump)"
wait_for $S '127\.0\.0\.31 .* backoff until .*\(1 failure\)' || why+="the refused primary is not in backoff:$(dump)"
keys $S q
wait_for $S "MXTIER-EXITED $S" || why+="q did not end it; "
check journal_only_from_mxtier_import "$why"

finish
