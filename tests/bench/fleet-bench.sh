#!/bin/bash
# tests/bench/fleet-bench.sh - make bench: mxtier-ship's shipping rate and --follow's lag
#
# A private PostgreSQL cluster (tests/fleet/lib.sh, default durability:
# fsync and synchronous_commit on) and one local journal of ROWS attempts
# (default 200,000; the shape of mxtier-pipe's rows, a few hundred domains,
# reply texts of some 60 bytes), written with sqlite3.
#   - Shipping rate: RUNS times (default 3) a one-shot mxtier-ship ships the
#     whole journal under a new node name (so from id 0), default batches;
#     rows/s of wall time (the database's work included) and the shipper's
#     own CPU seconds, medians.
#   - Lag of --follow: a follower ships the backlog, then LAGS times (default
#     50) one row is inserted into the journal and timed until the fleet's
#     fleet_nodes.shipped_id reaches it (psql polled every 10 ms); median and
#     max in ms. The goal of issue 13 is under 2 s.
# Prints the figures, never asserts.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${ROWS:-200000}
RUNS=${RUNS:-3}
LAGS=${LAGS:-50}
run=$top/tests/tmp/fbench.$$
ship=$top/plugin/mxtier-ship
. "$top/tests/bench/stats.sh"
. "$top/tests/fleet/lib.sh"
fb_follow=
fb_cleanup() {
	if [[ -n $fb_follow ]]; then
		kill -TERM "$fb_follow" 2>/dev/null
		wait "$fb_follow" 2>/dev/null
	fi
	fl_pg_stop
	rm -rf "$run"
}
trap fb_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run"
[[ -x $ship ]] || { echo "fleet-bench: $ship is not built" >&2; exit 1; }
fl_pg_start "$run/pg" 600 || { echo "fleet-bench: PostgreSQL did not start" >&2; exit 1; }

# fb_conf NODE - a configuration for node NODE on the one journal
fb_conf() {
	printf 'journal { path = "%s/journal.db" }\nfleet { url = "%s"  node = "%s" }\n' \
		"$run" "$FL_PG_URL" "$1" >"$run/$1.conf"
	echo "$run/$1.conf"
}

"$ship" -c "$(fb_conf bench-init)" >/dev/null || { echo "fleet-bench: the first run failed" >&2; exit 1; }
sqlite3 "$run/journal.db" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ROWS)
	INSERT INTO attempts (ts, queue_id, domain, recipient, preference, host, address, port,
	stage, reply_code, enhanced_status, reply_text, outcome, decision, reason, duration_ms, tls, source)
	SELECT 1790000000000 + x * 37, printf('4Xk%07dQ', x), 'd' || (x % 500) || '.example.net',
	'user' || x || '@d' || (x % 500) || '.example.net', 10, 'mx' || (x % 3) || '.example.net',
	'192.0.2.' || (x % 250), 25, CASE WHEN x % 7 = 0 THEN 'rcpt' ELSE 'dot' END,
	CASE WHEN x % 7 = 0 THEN 451 ELSE 250 END, CASE WHEN x % 7 = 0 THEN '4.7.1' ELSE '2.0.0' END,
	CASE WHEN x % 7 = 0 THEN 'Greylisted, please try again in 300 seconds' ELSE
	'Ok: queued as 4Xk' || x || ' by mx.example.net' END,
	CASE WHEN x % 7 = 0 THEN 'tempfail' ELSE 'delivered' END,
	CASE WHEN x % 7 = 0 THEN 'next_host' ELSE 'done' END, NULL, x % 900, 'tls', 'mxtier-pipe' FROM c" ||
	{ echo "fleet-bench: filling the journal failed" >&2; exit 1; }
rows=$(sqlite3 "$run/journal.db" "SELECT count(*) FROM attempts")
echo "== mxtier-ship: $rows local attempts into PostgreSQL $(fl_psql 'SHOW server_version'), $RUNS runs"

rates=() cpus=()
for ((i = 1; i <= RUNS; i++)); do
	conf=$(fb_conf "bench-r$i")
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$run/t" "$ship" -c "$conf" >"$run/out" 2>"$run/err" ||
		{ echo "fleet-bench: run $i failed: $(head -3 "$run/err")" >&2; exit 1; }
	t1=$(date +%s%N)
	n=$(fl_psql "SELECT count(*) FROM fleet_attempts WHERE node = 'bench-r$i'")
	[[ $n == "$rows" ]] || echo "fleet-bench: run $i shipped $n of $rows rows" >&2
	rates+=("$(awk -v n="$rows" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')")
	cpus+=("$(awk '{ printf "%.2f", $1 + $2 }' "$run/t")")
done
bench_stats "shipping rate: median %.0f rows/s of wall time (min %.0f, max %.0f; %d runs; goal 20000)\n" "${rates[@]}"
bench_stats "mxtier-ship's own CPU per run: median %.2f s (min %.2f, max %.2f; %d runs)\n" "${cpus[@]}"

# --follow's lag: one row at a time
conf=$(fb_conf bench-lag)
"$ship" -c "$conf" --follow >"$run/follow.out" 2>"$run/follow.err" &
fb_follow=$!
want=$(sqlite3 "$run/journal.db" "SELECT max(id) FROM attempts")
for ((w = 0; w < 1200; w++)); do
	[[ $(fl_psql "SELECT shipped_id FROM fleet_nodes WHERE node = 'bench-lag'") == "$want" ]] && break
	sleep 0.05
done
lags=()
for ((i = 0; i < LAGS; i++)); do
	t0=$(date +%s%N)
	id=$(sqlite3 "$run/journal.db" "INSERT INTO attempts (ts, domain, outcome, source)
		VALUES ($(date +%s%3N), 'lag.example.net', 'delivered', 'mxtier-pipe'); SELECT last_insert_rowid()")
	for ((w = 0; w < 1000; w++)); do
		got=$(fl_psql "SELECT shipped_id FROM fleet_nodes WHERE node = 'bench-lag'")
		[[ ${got:-0} -ge $id ]] && break
		sleep 0.01
	done
	t1=$(date +%s%N)
	lags+=($(((t1 - t0) / 1000000)))
	# a different point of the follower's poll cycle each time
	sleep "0.0$((i % 10))"
done
bench_stats "--follow lag (local insert to the row in PostgreSQL): median %.0f ms (min %d, max %d; %d rows; goal under 2000)\n" "${lags[@]}"
