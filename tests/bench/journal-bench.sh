#!/bin/bash
# tests/bench/journal-bench.sh - make bench: the inspector on a big journal
#
# Builds a journal with ROWS attempt rows (default 100000) over DOMAINS
# domains (default 1000) straight through SQLite, then measures, each RUNS
# times (default 7), the wall time of:
#   - mxtier --report for one domain (plan lookup against a local Unbound
#     included), and
#   - mxtier's first full screen in tmux (from start until the attempts of
#     the selected domain are on the screen),
# and prints the median and the spread (min..max) in milliseconds, plus the
# peak memory (max RSS) of the report. Speed is measured here, never
# asserted in tests.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${ROWS:-100000}
DOMAINS=${DOMAINS:-1000}
RUNS=${RUNS:-7}
run=$top/tests/tmp/bench.$$
WORLD_TOP=$top
. "$top/tests/world/lib.sh"
sock=mxt-bench-$$
cleanup() { tmux -L "$sock" kill-server 2>/dev/null; world_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run"
world_start_unbound "$run/unbound" >/dev/null || exit 1

db=$run/journal/journal.db
mkdir -p "$run/journal"
# mxtier-pipe refuses to deliver as root: run it as the MTAs do (user=nobody)
as_nobody=()
if [[ $(id -u) -eq 0 ]]; then
	as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	chown nobody:nogroup "$run/journal"
fi
# the schema comes from mxtier-pipe itself (a delivery to a null MX domain)
cat >"$run/mxtier.conf" <<CONF
resolver { servers = { "$MXT_DNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = 2525 }
journal { path = "$db" }
CONF
printf 'Subject: x\n\nx\n' | "${as_nobody[@]}" "$top/plugin/mxtier-pipe" -c "$run/mxtier.conf" -f a@b.test \
	-d nullmx.dlv.test -- u@nullmx.dlv.test >/dev/null
sqlite3 "$db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
INSERT INTO attempts (ts, queue_id, domain, recipient, preference, host, address, port,
	stage, reply_code, enhanced_status, reply_text, outcome, decision, reason, duration_ms)
SELECT (strftime('%s','now') - ($ROWS - i)) * 1000, 'Q' || i,
	CASE WHEN i % $DOMAINS = 0 THEN 'refused.dlv.test' ELSE 'd' || (i % $DOMAINS) || '.bench.test' END,
	'user' || i || '@x.test', 10, 'mx1.x.test', '192.0.2.' || (i % 250), 25,
	CASE WHEN i % 3 = 0 THEN 'connect' ELSE 'dot' END, CASE WHEN i % 3 = 0 THEN NULL ELSE 250 END,
	NULL, 'ok', CASE WHEN i % 3 = 0 THEN 'tempfail' ELSE 'delivered' END,
	CASE WHEN i % 3 = 0 THEN 'next_tier' ELSE 'done' END, 'benchmark row', 12
FROM n;
SQL
echo "journal: $(sqlite3 "$db" 'select count(*) from attempts') attempt rows over $DOMAINS domains, $(du -h "$db" | cut -f1)"

# stats NAME values... - median and spread in ms
stats() {
	local name=$1; shift
	printf '%s\n' "$@" | sort -n | awk -v name="$name" '
		{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%-44s median %7.1f ms   spread %.1f..%.1f ms   (%d runs)\n", name, m, v[1], v[NR], NR }'
}

now_ns() { date +%s%N; }

times=()
for ((r = 0; r < RUNS; r++)); do
	t0=$(now_ns)
	"$top/tui/mxtier" -c "$run/mxtier.conf" --report refused.dlv.test >/dev/null || exit 1
	times+=($(( ($(now_ns) - t0) / 1000 ))e-3)
done
stats "mxtier --report (one domain)" "${times[@]}"
rss=$( { /usr/bin/time -f '%M' "$top/tui/mxtier" -c "$run/mxtier.conf" --report refused.dlv.test >/dev/null; } 2>&1 | tail -1)
echo "mxtier --report peak memory (max RSS)          ${rss} KiB"

times=()
for ((r = 0; r < RUNS; r++)); do
	tmux -L "$sock" kill-server 2>/dev/null
	t0=$(now_ns)
	tmux -L "$sock" new-session -d -x 120 -y 40 "$top/tui/mxtier -c $run/mxtier.conf refused.dlv.test"
	for ((i = 0; i < 2000; i++)); do
		if tmux -L "$sock" capture-pane -p 2>/dev/null | grep -q 'mx1\.refused\.dlv\.test' &&
		   tmux -L "$sock" capture-pane -p | grep -q 'benchmark row'; then
			break
		fi
	done
	times+=($(( ($(now_ns) - t0) / 1000 ))e-3)
done
stats "mxtier first full screen (tmux, 120x40)" "${times[@]}"
