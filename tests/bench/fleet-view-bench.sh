#!/bin/bash
# tests/bench/fleet-view-bench.sh - make bench: the fleet view on a big fleet database
#
# Makes, inside PostgreSQL with generate_series, a fleet database of ROWS
# attempts (default 10,000,000) over DOMAINS domains (default 100,000) and 8
# nodes, in the schema of mxtier-ship(8): a seventh of the attempts are
# refused connections, the rest deliveries; 1% of the domains share two
# "hot" addresses (a big provider's MX), so those addresses have ROWS/100
# attempts each; each domain's attempts go round the 8 nodes and its two
# hosts; every node has 1,000 backoff entries. SCALE=N divides ROWS
# and DOMAINS by N for development (SCALE=100: 100,000 rows). The cluster is
# kept under tests/tmp/fleetbench-ROWS-DOMAINS and reused by the next run
# (FLEETBENCH_FRESH=1 makes it again), since making 10 million rows takes
# minutes; the measurements themselves take seconds.
#
# Measures, RUNS times (default 7), median and spread:
#   - mxtier --fleet --report for one ordinary domain and for one that uses
#     the hot addresses: wall time of the whole program (start, connect,
#     reads, print) and the reads alone (MXTIER_TIMING);
#   - the first screen of mxtier --fleet in tmux (120x40): the program's own
#     time from its start to the first frame drawn with the selected
#     domain's rows (MXTIER_FIRST_FRAME);
#   - memory: max RSS of a report of 1 domain and of 200 domains, and the
#     screen's VmRSS after opening 10 and then 200 domains one by one
#     (each one's rows on the screen before the next): flat means the same.
# Prints the plan of every query (EXPLAIN ANALYZE) once. Goal of issue 13:
# under 150 ms, memory flat. Prints, never asserts.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SCALE=${SCALE:-1}
ROWS=$(( ${ROWS:-10000000} / SCALE ))
DOMAINS=$(( ${DOMAINS:-100000} / SCALE ))
RUNS=${RUNS:-7}
. "$top/tests/bench/stats.sh"
. "$top/tests/fleet/lib.sh"
cache=$top/tests/tmp/fleetbench-$ROWS-$DOMAINS
run=$top/tests/tmp/fleetbench-run.$$
sock=mxt-fleetbench-$$
cleanup() { tmux -L "$sock" kill-server 2>/dev/null; fl_pg_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$run"
[[ ${FLEETBENCH_FRESH:-} == 1 ]] && rm -rf "$cache"
for tool in tmux /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "fleet-view-bench: $tool is missing" >&2; exit 1; }
done

# a server's settings, not the tests' fsync=off: what a fleet database has
FL_PG_OPTS="-c shared_buffers=256MB -c work_mem=16MB -c maintenance_work_mem=512MB \
-c wal_level=minimal -c max_wal_senders=0 -c max_parallel_maintenance_workers=1"
fl_pg_start "$cache" 3600 || { echo "fleet-view-bench: PostgreSQL did not start" >&2; exit 1; }

# stats NAME UNIT values... - median and spread
stats() {
	local name=$1 unit=$2
	shift 2
	printf '  %-58s ' "$name"
	bench_stats "median %8.1f $unit   spread %.1f..%.1f   (%d runs)\n" "$@"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

if [[ $(fl_psql "SELECT value FROM fleet_meta WHERE key = 'bench_rows'" 2>/dev/null) != "$ROWS/$DOMAINS" ]]; then
	echo "fleet-view-bench: making $ROWS attempts over $DOMAINS domains and 8 nodes (once; kept in $cache)"
	t0=$(now_ms)
	# one transaction that creates the tables: with wal_level minimal the rows skip the WAL
	fl_psql "
SET client_min_messages = warning;
BEGIN;
DROP TABLE IF EXISTS fleet_meta, fleet_nodes, fleet_attempts, fleet_domains, fleet_backoff;
CREATE TABLE fleet_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE fleet_nodes (node text PRIMARY KEY, journal text NOT NULL, shipped_id bigint NOT NULL,
    shipped_at bigint NOT NULL, backoff_at bigint NOT NULL DEFAULT 0);
CREATE TABLE fleet_attempts (
    node text NOT NULL, journal text NOT NULL, local_id bigint NOT NULL,
    ts bigint NOT NULL, queue_id text, domain text NOT NULL, recipient text,
    preference integer, host text, address text, port integer, stage text,
    reply_code integer, enhanced_status text, reply_text text, outcome text NOT NULL,
    decision text, reason text, duration_ms integer, tls text, tls_failure text,
    source text NOT NULL);
CREATE TABLE fleet_domains (domain text PRIMARY KEY, last_ts bigint NOT NULL);
CREATE TABLE fleet_backoff (
    node text NOT NULL, address text NOT NULL, port integer NOT NULL,
    failures integer NOT NULL, retry_at bigint NOT NULL, last_error text,
    updated bigint NOT NULL,
    PRIMARY KEY (node, address, port));
CREATE TEMP TABLE t_now AS SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms;
INSERT INTO fleet_attempts
SELECT 'relay' || (1 + k % 8), 'journal' || (1 + k % 8), i,
    (SELECT ms FROM t_now) - ($ROWS - i) * 10, 'Q' || i, 'd' || d || '.bench.test',
    'u' || (i % 1000) || '@d' || d || '.bench.test', 10 + 10 * h,
    'mx' || (1 + h) || '.d' || d || '.bench.test', addr, 25,
    CASE WHEN fail THEN 'connect' ELSE 'dot' END, CASE WHEN fail THEN NULL ELSE 250 END,
    CASE WHEN fail THEN NULL ELSE '2.0.0' END, CASE WHEN fail THEN NULL ELSE 'Ok: queued' END,
    CASE WHEN fail THEN 'tempfail' ELSE 'delivered' END,
    CASE WHEN fail THEN 'next_tier' ELSE 'done' END,
    CASE WHEN fail THEN 'mx1.d' || d || '.bench.test[' || addr || ']:25: Connection refused'
         ELSE 'delivered' END,
    30, NULL, NULL, 'mxtier-pipe'
FROM (SELECT i, d, k, h, k % 7 = 0 AS fail,
        CASE WHEN d % 100 = 0 THEN '192.0.2.' || (1 + h)
             ELSE '10.' || ((2 * d + h) / 65536 % 256) || '.' || ((2 * d + h) / 256 % 256)
                  || '.' || ((2 * d + h) % 256) END AS addr
      FROM (SELECT i, (i::bigint * 7919) % $DOMAINS AS d, i / $DOMAINS AS k, (i / $DOMAINS / 8) % 2 AS h
            FROM generate_series(1, $ROWS) i) g) s;
ALTER TABLE fleet_attempts ADD PRIMARY KEY (node, journal, local_id);
CREATE INDEX fleet_attempts_domain_ts ON fleet_attempts (domain, ts DESC);
CREATE INDEX fleet_attempts_address_ts ON fleet_attempts (address, ts DESC);
INSERT INTO fleet_domains SELECT domain, max(ts) FROM fleet_attempts GROUP BY domain;
CREATE INDEX fleet_domains_last_ts ON fleet_domains (last_ts DESC);
INSERT INTO fleet_nodes SELECT 'relay' || n, 'journal' || n, $ROWS, (SELECT ms FROM t_now), 0
    FROM generate_series(1, 8) n;
INSERT INTO fleet_backoff SELECT 'relay' || n, '10.0.' || (k / 256) || '.' || (k % 256), 25, 1,
    (SELECT ms FROM t_now) + 3600000, 'Connection refused', (SELECT ms FROM t_now)
    FROM generate_series(1, 8) n, generate_series(0, 999) k;
INSERT INTO fleet_meta VALUES ('schema_version', '1'), ('bench_rows', '$ROWS/$DOMAINS');
COMMIT;
ANALYZE;" >/dev/null || { echo "fleet-view-bench: making the database failed" >&2; exit 1; }
	echo "  made in $(( ($(now_ms) - t0) / 1000 )) s: $(fl_psql "SELECT pg_size_pretty(pg_database_size('fleet'))")"
fi

conf=$run/mxtier.conf
printf 'fleet { url = "%s" }\n' "$FL_PG_URL" >"$conf"
plain=d$((DOMAINS / 2 + 42)).bench.test	# two addresses of its own, ~ROWS/DOMAINS attempts
hot=d$((DOMAINS / 2)).bench.test		# the two hot addresses (DOMAINS / 2 is a multiple of 100)
mxtier=$top/tui/mxtier
echo "fleet-view-bench: $(fl_psql "SELECT count(*) FROM fleet_attempts") attempts, $(fl_psql "SELECT count(*) FROM fleet_domains") domains, 8 nodes; $RUNS runs"

echo "  query plans for $hot (EXPLAIN ANALYZE, as mxtier ran them):"
MXTIER_EXPLAIN=1 "$mxtier" -c "$conf" --fleet --report "$hot" 2>&1 >/dev/null |
	grep -E 'explain|Scan|Limit|Execution Time' | sed 's/^/    /'

for which in plain hot; do
	dom=${!which}
	wall=() reads=() rss=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now_ms)
		out=$(MXTIER_TIMING=1 /usr/bin/time -f 'maxrss %M' "$mxtier" -c "$conf" --fleet --report "$dom" 2>&1 >/dev/null)
		wall+=($(($(now_ms) - t0)))
		reads+=("$(sed -n "s/^mxtier: timing: $dom \([0-9]*\) ms$/\1/p" <<<"$out")")
		rss+=("$(sed -n 's/^maxrss //p' <<<"$out")")
	done
	stats "mxtier --fleet --report ($which domain): whole program" ms "${wall[@]}"
	stats "  of which the reads (MXTIER_TIMING)" ms "${reads[@]}"
done
stats "  max RSS, report of 1 domain" KiB "${rss[@]}"
many=()
for ((k = 1; k <= 200; k++)); do many+=("d$((k * 37 % DOMAINS)).bench.test"); done
rss=()
for ((i = 0; i < 3; i++)); do
	rss+=("$( { /usr/bin/time -f '%M' "$mxtier" -c "$conf" --fleet --report "${many[@]}" >/dev/null; } 2>&1 | tail -1)")
done
stats "  max RSS, report of 200 domains" KiB "${rss[@]}"

# the screen: a tmux server runs already, so only mxtier's own start is timed
tmux -L "$sock" -f /dev/null new-session -d -s bench -x 120 -y 40 "sleep 3600"
first=()
for ((i = 0; i < RUNS; i++)); do
	rm -f "$run/ff"
	tmux -L "$sock" new-window -d -t bench: -n run \
		"env LANG=C.UTF-8 MXTIER_FIRST_FRAME=$run/ff $mxtier -c $conf --fleet"
	for ((k = 0; k < 400; k++)); do
		[[ -s $run/ff ]] && break
		sleep 0.025
	done
	first+=("$(sed -n 's/^first_frame_ms //p' "$run/ff" 2>/dev/null)")
	tmux -L "$sock" kill-window -t bench:run
done
stats "mxtier --fleet first screen with data (tmux 120x40)" ms "${first[@]}"

# memory while opening domains one by one: wait for each one's header
tmux -L "$sock" new-window -d -t bench: -n mem "env LANG=C.UTF-8 $mxtier -c $conf --fleet"
pid=$(tmux -L "$sock" display -p -t bench:mem '#{pane_pid}')
rss10= rss200= opened=0
for ((k = 1; k <= 200; k++)); do
	tmux -L "$sock" send-keys -t bench:mem j
	for ((w = 0; w < 200; w++)); do
		screen=$(tmux -L "$sock" capture-pane -p -t bench:mem)
		sel=$(sed -n 's/^>\([^ │!]*\).*/\1/p' <<<"$screen" | head -1)
		[[ -n $sel ]] && grep -Eq "│ $sel  [0-9]+ nodes, .* read " <<<"$screen" && break
		sleep 0.01
	done
	((w < 200)) && opened=$((opened + 1))
	[[ $k -eq 10 ]] && rss10=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
done
rss200=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
printf '  %-58s %s KiB after 10, %s KiB after 200 (peak %s KiB; %d of 200 shown)\n' \
	"mxtier --fleet screen memory opening domains (VmRSS)" "$rss10" "$rss200" "$hwm" "$opened"
tmux -L "$sock" kill-window -t bench:mem
echo "  goal (issue 13): report and first screen under 150 ms, memory flat"
