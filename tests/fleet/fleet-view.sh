# tests/fleet/fleet-view.sh - mxtier --fleet against a real PostgreSQL
# (sourced by tests/run-tests.sh: uses report_result, $run, $top; everything
# it starts is stopped by fv_cleanup, also from the run's cleanup)
#
# A private cluster (tests/fleet/lib.sh), the fleet schema made by
# mxtier-ship (the one mxtier-ship(8) documents), and the rows of 8 nodes:
#   local.fleet.test   mx1 (127.0.0.31) refused on relay1-3 (relay1-2 hold
#                      it in backoff), who then delivered to mx2; relay4-8
#                      delivered to mx1
#   remote.fleet.test  mx1 (127.0.0.41) refused on all 8 nodes, all in backoff
# The report (text and JSON) must say "refused from 3 of 8 nodes" with "likely
# their egress" for the first and "8 of 8 nodes: the remote site" for the
# second; the screen (tmux) must list both, open one and show every node's
# state, keep working while a read is stuck behind a lock, and say so on the
# status line when PostgreSQL is down (q still quits); the report then exits
# 1. Every wait is a bounded poll of the screen or the database.

FV_DIR=$run/fleet-view
FV_SOCK=fv-$$
FV_LOCKPID=
FV_SCREEN=
. "$top/tests/fleet/lib.sh"

# fv_cleanup - the tmux server, the lock holder and the cluster
fv_cleanup() {
	tmux -L "$FV_SOCK" kill-server 2>/dev/null
	if [[ -n $FV_LOCKPID ]]; then
		exec 9>&- 2>/dev/null
		kill "$FV_LOCKPID" 2>/dev/null
		wait "$FV_LOCKPID" 2>/dev/null
		FV_LOCKPID=
	fi
	fl_pg_stop
}

# fv_schema - the fleet schema, made by mxtier-ship's first run, with no rows in it
fv_schema() {
	mkdir -p "$FV_DIR/ship"
	printf 'journal { path = "%s" }\nfleet { url = "%s"  node = "fvship" }\n' \
		"$FV_DIR/ship/journal.db" "$FL_PG_URL" >"$FV_DIR/ship.conf"
	timeout 30 "$top/plugin/mxtier-ship" -c "$FV_DIR/ship.conf" >"$FV_DIR/ship.out" 2>&1
	[[ $(fl_psql "SELECT value FROM fleet_meta WHERE key = 'schema_version'" 2>/dev/null) == 1 ]] ||
		return 1
	fl_psql "DELETE FROM fleet_nodes; DELETE FROM fleet_attempts; DELETE FROM fleet_domains;
		DELETE FROM fleet_backoff" >/dev/null
}

# fv_rows - the attempts and backoff of 8 nodes (see the top of this file)
fv_rows() {
	fl_psql "
CREATE TEMP TABLE t_now AS SELECT (extract(epoch FROM now()) * 1000)::bigint AS ms;
INSERT INTO fleet_nodes SELECT 'relay' || n, 'journal' || n, 10, (SELECT ms FROM t_now), 0
    FROM generate_series(1, 8) n;
INSERT INTO fleet_attempts (node, journal, local_id, ts, queue_id, domain, recipient, preference,
    host, address, port, stage, reply_code, enhanced_status, reply_text, outcome, decision, reason,
    duration_ms, source)
SELECT 'relay' || n, 'journal' || n, 1, (SELECT ms FROM t_now) - 60000 + n * 1000, 'L' || n,
    'local.fleet.test', 'u' || n || '@local.fleet.test', 10, 'mx1.local.fleet.test', '127.0.0.31',
    25, 'connect', NULL, NULL, NULL, 'tempfail', 'next_tier',
    'mx1.local.fleet.test[127.0.0.31]:25: Connection refused', 3, 'mxtier-pipe'
    FROM generate_series(1, 3) n
UNION ALL
SELECT 'relay' || n, 'journal' || n, 2, (SELECT ms FROM t_now) - 60000 + n * 1000 + 100, 'L' || n,
    'local.fleet.test', 'u' || n || '@local.fleet.test', 20, 'mx2.local.fleet.test', '127.0.0.32',
    25, 'dot', 250, '2.0.0', 'Ok: queued', 'delivered', 'done', 'delivered', 40, 'mxtier-pipe'
    FROM generate_series(1, 3) n
UNION ALL
SELECT 'relay' || n, 'journal' || n, 1, (SELECT ms FROM t_now) - 60000 + n * 1000, 'L' || n,
    'local.fleet.test', 'u' || n || '@local.fleet.test', 10, 'mx1.local.fleet.test', '127.0.0.31',
    25, 'dot', 250, '2.0.0', 'Ok: queued', 'delivered', 'done', 'delivered', 40, 'mxtier-pipe'
    FROM generate_series(4, 8) n
UNION ALL
SELECT 'relay' || n, 'journal' || n, 3, (SELECT ms FROM t_now) - 30000 + n * 1000, 'R' || n,
    'remote.fleet.test', 'v' || n || '@remote.fleet.test', 10, 'mx1.remote.fleet.test',
    '127.0.0.41', 25, 'connect', NULL, NULL, NULL, 'tempfail', 'defer',
    'mx1.remote.fleet.test[127.0.0.41]:25: Connection refused', 3, 'mxtier-pipe'
    FROM generate_series(1, 8) n;
INSERT INTO fleet_domains SELECT domain, max(ts) FROM fleet_attempts GROUP BY domain;
INSERT INTO fleet_backoff SELECT 'relay' || n, '127.0.0.31', 25, 1, (SELECT ms FROM t_now) + 600000,
    'mx1.local.fleet.test[127.0.0.31]:25: Connection refused', (SELECT ms FROM t_now)
    FROM generate_series(1, 2) n;
INSERT INTO fleet_backoff SELECT 'relay' || n, '127.0.0.41', 25, 2, (SELECT ms FROM t_now) + 600000,
    'mx1.remote.fleet.test[127.0.0.41]:25: Connection refused', (SELECT ms FROM t_now)
    FROM generate_series(1, 8) n;" >/dev/null
}

# ---- the screen (tmux) ----
# fv_start TAG -- ARGS... - a session running mxtier ARGS through a wrapper
# that records the exit status and then says so on the screen
fv_start() {
	local tag=$1 cmd a
	shift 2
	cmd="env LANG=C.UTF-8 LC_ALL=C.UTF-8 sh $FV_DIR/wrap.sh $tag $top/tui/mxtier"
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	tmux -L "$FV_SOCK" -f /dev/null new-session -d -s "$tag" -x 120 -y 40 "$cmd"
}
fv_screen() { tmux -L "$FV_SOCK" capture-pane -p -t "$1" 2>/dev/null; }
# fv_wait TAG REGEX [TRIES] - poll the screen (50 ms apart, 100 tries unless
# said) until grep -E REGEX matches; FV_SCREEN holds the last capture
fv_wait() {
	local i
	for ((i = 0; i < ${3:-100}; i++)); do
		FV_SCREEN=$(fv_screen "$1")
		grep -Eq -- "$2" <<<"$FV_SCREEN" && return 0
		sleep 0.05
	done
	return 1
}
fv_keys() { local t=$1; shift; tmux -L "$FV_SOCK" send-keys -t "$t" "$@"; }
fv_dump() { printf '\n%s\n' "$FV_SCREEN" | sed 's/^/    | /'; }
# fv_quit TAG - q, then the wrapper's line and status 0; "" when it quit
fv_quit() {
	fv_keys "$1" q
	if ! fv_wait "$1" "MXTIER-EXITED $1" 60; then
		echo "q did not end mxtier within 3 s:$(fv_dump)"
	elif [[ $(cat "$FV_DIR/$1.status" 2>/dev/null) != 0 ]]; then
		echo "exit status $(cat "$FV_DIR/$1.status" 2>/dev/null) after q; "
	fi
}

echo "== the fleet view (mxtier --fleet) against PostgreSQL"
mkdir -p "$FV_DIR"
fv_why=
for fv_tool in tmux jq; do
	command -v "$fv_tool" >/dev/null || fv_why+="$fv_tool is not installed (tools/bootstrap); "
done
[[ -x $top/tui/mxtier ]] || fv_why+="build first: $top/tui/mxtier; "
if [[ -z $fv_why ]]; then
	FL_PG_OPTS="-c fsync=off" fl_pg_start "$FV_DIR/pg" 900 || fv_why+="PostgreSQL did not start; "
fi
if [[ -z $fv_why ]]; then
	fv_schema || fv_why+="mxtier-ship did not create the fleet schema: $(head -3 "$FV_DIR/ship.out" 2>/dev/null); "
	fv_rows || fv_why+="cannot insert the rows; "
fi
report_result "fv_setup_postgresql_8_nodes" "$fv_why"

fv_conf=$FV_DIR/mxtier.conf
printf 'fleet { url = "%s" }\n' "$FL_PG_URL" >"$fv_conf"
cat >"$FV_DIR/wrap.sh" <<WRAP
#!/bin/sh
# wrap.sh TAG COMMAND... - run COMMAND; record its status; say so on the screen
tag=\$1
shift
"\$@"
echo \$? >"$FV_DIR/\$tag.status"
echo "MXTIER-EXITED \$tag"
exec sleep 600
WRAP

# ---- the report, text ----
fv_out=$FV_DIR/report
"$top/tui/mxtier" -c "$fv_conf" --fleet --report local.fleet.test remote.fleet.test \
	>"$fv_out.txt" 2>"$fv_out.err"
fv_rc=$?
fv_why=
[[ $fv_rc -eq 0 ]] || fv_why+="exit $fv_rc: $(head -2 "$fv_out.err"); "
fv_local=$(sed -n '/^domain local\.fleet\.test/,/^domain /p' "$fv_out.txt")
fv_remote=$(sed -n '/^domain remote\.fleet\.test/,$p' "$fv_out.txt")
grep -q '^domain local\.fleet\.test (fleet of 8 nodes)$' <<<"$fv_local" || fv_why+="no local domain line; "
grep -Eq '^  why: mx1\.local\.fleet\.test \[127\.0\.0\.31\] refused from 3 of 8 nodes: likely their egress \(relay1, relay2, relay3 fail; 5 other nodes reach it\)$' <<<"$fv_local" ||
	fv_why+="local explanation: $(grep 'why:' <<<"$fv_local"); "
grep -Eq '^  mx1\.local\.fleet\.test +127\.0\.0\.31 +refused from 3 of 8 nodes, last [0-9: -]+ on relay3; ok from 5 of 8 nodes$' <<<"$fv_local" ||
	fv_why+="local summary of 127.0.0.31: $(grep '127.0.0.31  ' <<<"$fv_local" | head -1); "
grep -Eq '^      relay1 +backoff +refused, last .*, backoff until .* \(1 failure\)$' <<<"$fv_local" || fv_why+="relay1 is not in backoff; "
grep -Eq '^      relay3 +failing +refused, last [0-9: -]+$' <<<"$fv_local" || fv_why+="relay3 is not failing; "
grep -Eq '^      relay5 +ok +ok, last [0-9: -]+$' <<<"$fv_local" || fv_why+="relay5 is not ok; "
[[ $(grep -Ec '^  [0-9: -]+  relay[1-8]  u[1-8]@local\.fleet\.test  pref ' <<<"$fv_local") -eq 11 ]] ||
	fv_why+="local: not 11 attempt rows with their node; "
grep -Eq '^  why: mx1\.remote\.fleet\.test \[127\.0\.0\.41\] refused from 8 of 8 nodes: the remote site' <<<"$fv_remote" ||
	fv_why+="remote explanation: $(grep 'why:' <<<"$fv_remote"); "
grep -Eq '^  mx1\.remote\.fleet\.test +127\.0\.0\.41 +refused from 8 of 8 nodes, last [0-9: -]+ on relay8$' <<<"$fv_remote" ||
	fv_why+="remote summary: $(grep '127.0.0.41  ' <<<"$fv_remote" | head -1); "
report_result "fv_report_text_local_vs_remote" "$fv_why" "$(head -20 "$fv_out.txt")"

# ---- the report, JSON ----
"$top/tui/mxtier" -c "$fv_conf" --fleet --report --json local.fleet.test remote.fleet.test \
	>"$fv_out.json" 2>"$fv_out.err"
fv_rc=$?
fv_why=
[[ $fv_rc -eq 0 ]] || fv_why+="exit $fv_rc: $(head -2 "$fv_out.err"); "
if ! jq -e 'type == "array" and length == 2' "$fv_out.json" >/dev/null 2>&1; then
	fv_why+="not an array of two: $(head -c 300 "$fv_out.json"); "
else
	fv_t() {	# fv_t JQ_EXPR - must be true
		jq -e "$1" "$fv_out.json" >/dev/null 2>&1 || fv_why+="false: $1; "
	}
	fv_t '.[0].domain == "local.fleet.test" and .[1].domain == "remote.fleet.test"'
	fv_t '.[0].nodes == ["relay1","relay2","relay3","relay4","relay5","relay6","relay7","relay8"]'
	fv_t '.[0].scope == "local" and (.[0].explanation | test("refused from 3 of 8 nodes: likely their egress"))'
	fv_t '.[1].scope == "all" and (.[1].explanation | test("refused from 8 of 8 nodes: the remote site"))'
	fv_t '.[0].host_states[] | select(.address == "127.0.0.31") | .failing_nodes == 3 and .ok_nodes == 5 and .unknown_nodes == 0 and .scope == "local" and .host == "mx1.local.fleet.test" and .preference == 10 and (.summary | test("^refused from 3 of 8 nodes, last .* on relay3; ok from 5 of 8 nodes$"))'
	fv_t '[.[0].host_states[] | select(.address == "127.0.0.31") | .nodes[] | .state] == ["backoff","backoff","failing","ok","ok","ok","ok","ok"]'
	fv_t '.[0].host_states[] | select(.address == "127.0.0.31") | .nodes[0] | .node == "relay1" and .failure == "refused" and .failures == 1 and .retry_at > .last_attempt and (.last_error | test("Connection refused"))'
	fv_t '.[0].host_states[] | select(.address == "127.0.0.32") | .ok_nodes == 3 and .unknown_nodes == 5 and .scope == "none"'
	fv_t '.[1].host_states | length == 1 and .[0].failing_nodes == 8 and .[0].scope == "all" and ([.[0].nodes[] | .state] | unique) == ["backoff"]'
	fv_t '(.[0].attempts | length) == 11 and .[0].attempts[0].node == "relay8" and ([.[0].attempts[] | .node | test("^relay[1-8]$")] | all)'
	fv_t '.[0].attempts[0] | has("ts") and has("queue_id") and has("outcome") and has("decision") and has("source") and .source == "mxtier-pipe"'
	fv_t '[.[1].attempts[].ts] == ([.[1].attempts[].ts] | sort | reverse)'
fi
report_result "fv_report_json_local_vs_remote" "$fv_why" "$(head -c 400 "$fv_out.json")"

# a domain no node tried: an empty report, exit 0
fv_why=
fv_text=$("$top/tui/mxtier" -c "$fv_conf" --fleet --report nobody.fleet.test 2>&1)
fv_rc=$?
[[ $fv_rc -eq 0 ]] || fv_why+="exit $fv_rc; "
grep -q 'why: no attempts for nobody\.fleet\.test in the fleet database' <<<"$fv_text" || fv_why+="$fv_text; "
report_result "fv_report_unknown_domain" "$fv_why"

# ---- the screen ----
fv_why=
fv_start list -- -c "$fv_conf" --fleet
if ! fv_wait list '^ mxtier .* fleet postgresql://fleet:\*\*\*\*@127\.0\.0\.1:[0-9]+/fleet +8 nodes'; then
	fv_why+="no title with the masked URL and 8 nodes:$(fv_dump)"
fi
# the newest domain first, selected: remote.fleet.test
fv_wait list '^\[ Domains \] 2 ' || fv_why+="the list does not have 2 domains:$(fv_dump)"
fv_wait list '^>remote\.fleet\.test' || fv_why+="remote.fleet.test (the newest) is not first and selected:$(fv_dump)"
grep -Eq '^ local\.fleet\.test' <<<"$FV_SCREEN" || fv_why+="local.fleet.test is not second; "
fv_wait list 'refused from 8 of 8 nodes: the remote site' || fv_why+="remote's explanation is not shown:$(fv_dump)"
report_result "fv_tui_domain_list_newest_first" "$fv_why"

fv_why=
fv_keys list j
fv_wait list '^>local\.fleet\.test' || fv_why+="j did not select local.fleet.test:$(fv_dump)"
fv_keys list Enter
fv_wait list '\[ Hosts across the fleet \]' || fv_why+="Enter did not open (focus) the hosts pane:$(fv_dump)"
fv_wait list 'refused from 3 of 8 nodes: likely their egress' || fv_why+="local's explanation is not shown:$(fv_dump)"
fv_wait list '^[^│]*│ mx1\.local\.fleet\.test \[127\.0\.0\.31\]  pref 10$' || fv_why+="no host line of mx1:$(fv_dump)"
grep -Eq '│   refused from 3 of 8 nodes, last [0-9: -]+ on relay3; ok from 5 of 8 nodes' <<<"$FV_SCREEN" ||
	fv_why+="no summary under mx1:$(fv_dump)"
for fv_n in 1 2; do
	grep -Eq "│     relay$fv_n  refused, last [0-9: -]+, backoff until" <<<"$FV_SCREEN" ||
		fv_why+="relay$fv_n's backoff is not shown; "
done
grep -Eq '│     relay3  refused, last [0-9: -]+$' <<<"$FV_SCREEN" || fv_why+="relay3's refusal is not shown; "
grep -Eq '│     relay8  ok, last [0-9: -]+$' <<<"$FV_SCREEN" || fv_why+="relay8's ok is not shown; "
grep -Eq '│ time +node +recipient' <<<"$FV_SCREEN" || fv_why+="the attempts table has no node column:$(fv_dump)"
grep -Eq '│ [0-9:]{8} relay8 +u8@local\.fl' <<<"$FV_SCREEN" || fv_why+="the newest attempt (relay8) is not first:$(fv_dump)"
report_result "fv_tui_opens_domain_per_node_state" "$fv_why"
fv_why=$(fv_quit list)
report_result "fv_tui_quits_status_0" "$fv_why"

# a read stuck behind a lock: "loading…", keys still work, q quits at once
fv_why=
mkfifo "$FV_DIR/lock.fifo"
"$FL_PG_BIN/psql" -X -q -h "$FL_PG_DIR/sock" -p "$FL_PG_PORT" -U fleet -d fleet \
	<"$FV_DIR/lock.fifo" >"$FV_DIR/lock.out" 2>&1 &
FV_LOCKPID=$!
exec 9>"$FV_DIR/lock.fifo"
echo "BEGIN; LOCK TABLE fleet_attempts IN ACCESS EXCLUSIVE MODE;" >&9
for ((fv_i = 0; fv_i < 100; fv_i++)); do
	[[ $(fl_psql "SELECT count(*) FROM pg_locks WHERE relation = 'fleet_attempts'::regclass
		AND mode = 'AccessExclusiveLock' AND granted") == 1 ]] && break
	sleep 0.05
done
((fv_i < 100)) || fv_why+="the lock was not taken: $(cat "$FV_DIR/lock.out"); "
fv_start stuck -- -c "$fv_conf" --fleet
fv_wait stuck '^>remote\.fleet\.test' || fv_why+="the list (not locked) did not come:$(fv_dump)"
fv_wait stuck '│ remote\.fleet\.test  loading…' || fv_why+="the domain does not say loading…:$(fv_dump)"
grep -Eq '^loading…' <<<"$FV_SCREEN" || fv_why+="the status line does not say loading…:$(fv_dump)"
fv_keys stuck '?'
fv_wait stuck '─ Keys ─' 20 || fv_why+="? did not show the keys while the read waits:$(fv_dump)"
fv_keys stuck Escape
fv_wait stuck '│ remote\.fleet\.test  loading…' || fv_why+="the read ended (the lock did not hold?)"
fv_why+=$(fv_quit stuck)
echo "ROLLBACK;" >&9
exec 9>&-
wait "$FV_LOCKPID" 2>/dev/null
FV_LOCKPID=
report_result "fv_tui_never_waits_on_a_stuck_read" "$fv_why"

# PostgreSQL down: the screen says so and quits on q; the report exits 1
fv_why=
fl_pg_pause || fv_why+="PostgreSQL did not stop; "
fv_start down -- -c "$fv_conf" --fleet
fv_wait down '^error: fleet unreachable, retrying: connection to server at "127\.0\.0\.1", port [0-9]+ failed' ||
	fv_why+="no status line saying the database is unreachable:$(fv_dump)"
grep -q 'Connection refused' <<<"$FV_SCREEN" || fv_why+="the status line does not say why:$(fv_dump)"
grep -q "$FL_PG_PASSWORD" <<<"$FV_SCREEN" && fv_why+="the password is on the screen; "
fv_why+=$(fv_quit down)
report_result "fv_tui_database_down_status_line_and_q" "$fv_why"

fv_why=
"$top/tui/mxtier" -c "$fv_conf" --fleet --report local.fleet.test >"$fv_out.down" 2>"$fv_out.down.err"
fv_rc=$?
[[ $fv_rc -eq 1 ]] || fv_why+="exit $fv_rc, want 1; "
[[ -s $fv_out.down ]] && fv_why+="something on stdout: $(head -2 "$fv_out.down"); "
grep -Eq '^mxtier: cannot read the fleet: fleet database postgresql://fleet:\*\*\*\*@127\.0\.0\.1:[0-9]+/fleet: .*Connection refused' "$fv_out.down.err" ||
	fv_why+="stderr: $(head -2 "$fv_out.down.err"); "
grep -q "$FL_PG_PASSWORD" "$fv_out.down.err" && fv_why+="the password is in the message; "
report_result "fv_report_database_down_exits_1" "$fv_why"

fv_cleanup
unset fv_why fv_rc fv_out fv_conf fv_local fv_remote fv_text fv_i fv_n fv_tool
