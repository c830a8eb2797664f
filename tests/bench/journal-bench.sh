#!/bin/bash
# tests/bench/journal-bench.sh - make bench: the journal and the inspector at scale
#
# Builds two journals straight through SQLite, a small one (SMALL_ROWS,
# default 10000) and a big one (ROWS, default 1000000 attempt rows over
# DOMAINS, default 10000, domains; the journal's trigger keeps its domains
# table as mxtier-pipe's inserts would), then measures on each, RUNS times
# (default 7):
#   - mxtier --report for one domain (its plan looked up in a local Unbound
#     included): wall time and peak memory (max RSS);
#   - mxtier's first full screen in tmux, 120x40: from the start of the
#     program until the selected domain's attempts are on the screen (the
#     tmux server runs already, so only mxtier's start is timed), and its
#     peak memory (VmHWM);
# and on the big journal the insert rate of 16 writer processes at once
# (tests/bench/journal-writers: each its own connection, as mxtier-pipe
# processes have; once with one open per writer, once with an open, insert
# and close per row as one delivery does). Prints median and spread
# (min..max). Speed is measured here, never asserted in tests.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${ROWS:-1000000}
SMALL_ROWS=${SMALL_ROWS:-10000}
DOMAINS=${DOMAINS:-10000}
RUNS=${RUNS:-7}
WRITERS=${WRITERS:-16}
run=$top/tests/tmp/bench.$$
WORLD_TOP=$top
. "$top/tests/world/lib.sh"
. "$top/tests/bench/stats.sh"
sock=mxt-bench-$$
cleanup() { tmux -L "$sock" kill-server 2>/dev/null; world_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run"
world_start_unbound "$run/unbound" >/dev/null || exit 1
writers=$top/tests/bench/journal-writers
[[ -x $writers ]] || { echo "journal-bench: $writers is missing: make bench builds it" >&2; exit 1; }

# mxtier-pipe refuses to deliver as root: run it as the MTAs do (user=nobody)
as_nobody=()
[[ $(id -u) -eq 0 ]] && as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# make_journal NAME ROWS DOMAINS - a journal whose schema mxtier-pipe made
# (a delivery to a null MX domain), filled with ROWS rows over DOMAINS
# domains, the newest last; refused.dlv.test is one of them (a real domain
# of the test world, so that its plan resolves)
make_journal() {
	local dir=$run/$1 rows=$2 domains=$3
	mkdir -p "$dir/journal"
	[[ ${#as_nobody[@]} -gt 0 ]] && chown nobody:nogroup "$dir/journal"
	cat >"$dir/mxtier.conf" <<CONF
resolver { servers = { "$MXT_DNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = 2525 }
journal { path = "$dir/journal/journal.db" }
CONF
	printf 'Subject: x\n\nx\n' | "${as_nobody[@]}" "$top/plugin/mxtier-pipe" -c "$dir/mxtier.conf" \
		-f a@b.test -d nullmx.dlv.test -- u@nullmx.dlv.test >/dev/null
	sqlite3 "$dir/journal/journal.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO attempts (ts, queue_id, domain, recipient, preference, host, address, port,
	stage, reply_code, enhanced_status, reply_text, outcome, decision, reason, duration_ms)
SELECT (strftime('%s','now') - ($rows - i)) * 1000, 'Q' || i,
	CASE WHEN i % $domains = 0 THEN 'refused.dlv.test' ELSE 'd' || (i % $domains) || '.bench.test' END,
	'user' || i || '@x.test', 10, 'mx1.x.test', '192.0.2.' || (i % 250), 25,
	CASE WHEN i % 3 = 0 THEN 'connect' ELSE 'dot' END, CASE WHEN i % 3 = 0 THEN NULL ELSE 250 END,
	NULL, 'ok', CASE WHEN i % 3 = 0 THEN 'tempfail' ELSE 'delivered' END,
	CASE WHEN i % 3 = 0 THEN 'next_tier' ELSE 'done' END, 'benchmark row', 12
FROM n;
SQL
	[[ ${#as_nobody[@]} -gt 0 ]] && chown nobody:nogroup "$dir/journal"/*
	echo "journal $1: $(sqlite3 "$dir/journal/journal.db" 'select count(*) from attempts') rows over" \
		"$(sqlite3 "$dir/journal/journal.db" 'select count(*) from domains') domains," \
		"$(du -h "$dir/journal/journal.db" | cut -f1)"
}

# stats NAME UNIT values... - median and spread
stats() {
	local name=$1 unit=$2; shift 2
	printf '  %-46s ' "$name"
	bench_stats "median %8.1f $unit   spread %.1f..%.1f   (%d runs)\n" "$@"
}

# ms_since T0 - milliseconds since $EPOCHREALTIME was T0
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# measure NAME - report and first screen on journal NAME
measure() {
	local conf=$run/$1/mxtier.conf times=() rss=() t0 i pid hwm
	for ((r = 0; r < RUNS; r++)); do
		t0=$EPOCHREALTIME
		"$top/tui/mxtier" -c "$conf" --report refused.dlv.test >/dev/null || { echo "report failed" >&2; exit 1; }
		times+=("$(ms_since "$t0")")
	done
	stats "mxtier --report refused.dlv.test" ms "${times[@]}"
	for ((r = 0; r < 3; r++)); do
		rss+=("$( { /usr/bin/time -f '%M' "$top/tui/mxtier" -c "$conf" --report refused.dlv.test >/dev/null; } 2>&1 | tail -1)")
	done
	stats "mxtier --report peak memory (max RSS)" KiB "${rss[@]}"

	times=() rss=()
	for ((r = 0; r < RUNS; r++)); do
		t0=$EPOCHREALTIME
		tmux -L "$sock" new-window -d -t bench: -n run "exec $top/tui/mxtier -c $conf refused.dlv.test"
		for ((i = 0; i < 4000; i++)); do
			screen=$(tmux -L "$sock" capture-pane -p -t bench:run 2>/dev/null)
			[[ $screen == *mx1.refused.dlv.test* && $screen == *"benchmark row"* ]] && break
		done
		times+=("$(ms_since "$t0")")
		pid=$(tmux -L "$sock" display -p -t bench:run '#{pane_pid}')
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		rss+=("${hwm:-0}")
		tmux -L "$sock" kill-window -t bench:run
		((i < 4000)) || { echo "the first screen never showed the attempts" >&2; exit 1; }
	done
	stats "mxtier first full screen (tmux 120x40)" ms "${times[@]}"
	stats "mxtier peak memory at first screen (VmHWM)" KiB "${rss[@]}"
}

tmux -L "$sock" -f /dev/null new-session -d -s bench -x 120 -y 40 "sleep 3600"
tmux -L "$sock" set -g default-size 120x40 2>/dev/null
make_journal small "$SMALL_ROWS" 100
make_journal big "$ROWS" "$DOMAINS"
echo "small journal ($SMALL_ROWS rows):"
measure small
echo "big journal ($ROWS rows over $DOMAINS domains):"
measure big

echo "insert rate, $WRITERS writer processes at once, into the big journal:"
db=$run/big/journal/journal.db
for mode in "" -o; do
	rates=() p99=()
	for ((r = 0; r < 3; r++)); do
		if [[ -z $mode ]]; then rows=2000; else rows=200; fi
		out=$("${as_nobody[@]}" "$writers" $mode "$db" "$WRITERS" "$rows") ||
			{ echo "journal-writers failed: $out" >&2; exit 1; }
		rates+=("$(awk '$1 == "rate" { print $2 }' <<<"$out")")
		p99+=("$(awk '$1 == "insert" && $2 == "latency" { for (i = 1; i < NF; i++) if ($i == "p99") print $(i + 1) }' <<<"$out")")
	done
	if [[ -z $mode ]]; then
		stats "one open per writer, $rows rows each" rows/s "${rates[@]}"
	else
		stats "open+insert+close per row (as a delivery)" rows/s "${rates[@]}"
	fi
	stats "  insert p99" us "${p99[@]}"
done
echo "journal-bench: done"
