# tests/fleet/ship.sh - mxtier-ship against a real PostgreSQL and four nodes
# (sourced by tests/run-tests.sh; uses report_result, $run, $top, MXT_DNS)
#
# A private PostgreSQL cluster (tests/fleet/lib.sh) is the fleet database.
# Four simulated nodes n1..n4 each have their own configuration (fleet.node)
# and journal, and deliver in the test world: Unbound's dlv.test, smtp-sink
# at 127.0.0.21 (ok.dlv.test) and 127.0.0.32 (the backup of
# refused.dlv.test, whose primary 127.0.0.31 refuses, so every node puts it
# in backoff). mxtier-pipe runs as nobody, 16 deliveries at once per node,
# while each node's mxtier-ship --follow (as nobody too: it writes the
# journal) ships.
#
# "Exactly once" is checked three ways per node: the set of local ids equals
# the set in fleet_attempts (and their contents), fleet_nodes.shipped_id is
# the newest local id, and a trigger the test puts on fleet_attempts
# records every row ever proposed for insertion in a committed transaction
# (BEFORE INSERT fires before ON CONFLICT DO NOTHING drops a row): each
# local id must be there exactly once, so a row shipped twice is seen even
# though the primary key would hide it.
#
# Cases: schema; deliveries; exactly once after the first wave; PostgreSQL
# stopped for a while (deliveries go on, shippers keep running and say why,
# a one-shot run exits 75 without the password), then started: everything
# arrives once; SIGTERM ends the followers with 0; SIGKILL in the middle of
# a backlog of 100,000 imported-style rows, then a restart; a journal made
# anew ships from id 0 under its new identity; the backoff push replaces a
# node's set (a cleared local backoff disappears) and the pull brings only
# the other nodes' running entries; no message shows the password.

fl_dir=$run/fleet
fl_pipe=$top/plugin/mxtier-pipe
fl_ship=$top/plugin/mxtier-ship
fl_as=()
[[ $(id -u) -eq 0 ]] && fl_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fl_nodes=(n1 n2 n3 n4)
fl_wave=16			# deliveries at once per node
declare -A fl_follow_pid=()
fl_own_sinks=()

. "$top/tests/fleet/lib.sh"
if ! declare -F mta_sink_start >/dev/null; then
	MTA_DIR=$run/mta
	MTA_TOP=$top
	. "$top/tests/mta/lib.sh"
fi

# fl_sqlite DB SQL - sqlite3 on a node's journal as nobody (no root-owned -wal or -shm)
fl_sqlite() {
	"${fl_as[@]}" sqlite3 -cmd '.timeout 10000' "$1" "$2"
}

# fl_conf NODE - the configuration of a node, with its own journal; prints its path
fl_conf() {
	local f=$fl_dir/$1.conf
	mkdir -p "$fl_dir/journal-$1" "$fl_dir/spool"
	cat >"$f" <<CONF
resolver { servers = { "$MXT_DNS" }  timeout = 5  tries = 2 }
policy { ignore_networks = {}  backoff_initial = 600 }
smtp { port = 2525  helo_name = "$1.client.mxtier.test"  connect_timeout = 5  greeting_timeout = 10
       rcpt_timeout = 10  data_done_timeout = 10 }
spool { directory = "$fl_dir/spool" }
journal { path = "$fl_dir/journal-$1/journal.db" }
fleet { url = "$FL_PG_URL"  node = "$1" }
CONF
	mta_nobody_path "$f" "$fl_dir/journal-$1/" "$fl_dir/spool/" >/dev/null
	echo "$f"
}

# fl_db NODE - the node's journal
fl_db() {
	echo "$fl_dir/journal-$1/journal.db"
}

# fl_sink NAME ADDR - make sure a sink listens on ADDR:2525 (the delivery scenarios' may run)
fl_sink() {
	if ss -ltnH "src $2:2525" | grep -q .; then
		return 0
	fi
	mta_sink_start "$1" "$2" 2525 && fl_own_sinks+=("$1")
}

# fl_wave_run TAG - fl_wave deliveries at once on every node (half ok, half refused);
# prints "FAILED" lines for each delivery that did not exit 0
fl_wave_run() {
	local tag=$1 n i d pids=()
	for n in "${fl_nodes[@]}"; do
		for ((i = 0; i < fl_wave; i++)); do
			if ((i % 2)); then d=refused.dlv.test; else d=ok.dlv.test; fi
			(
				timeout 120 "${fl_as[@]}" "$fl_pipe" -c "$fl_dir/$n.conf" -q "F$tag$n$i" \
					-f sender@client.test -d "$d" -- "u$i@$d" <"$fl_dir/msg.eml" \
					>"$fl_dir/out.$tag.$n.$i" 2>&1
				echo $? >"$fl_dir/rc.$tag.$n.$i"
			) 197>&- 198>&- &
			pids+=($!)
		done
	done
	wait "${pids[@]}"
	for n in "${fl_nodes[@]}"; do
		for ((i = 0; i < fl_wave; i++)); do
			[[ $(cat "$fl_dir/rc.$tag.$n.$i" 2>/dev/null) == 0 ]] ||
				echo "FAILED $n.$i: exit $(cat "$fl_dir/rc.$tag.$n.$i" 2>/dev/null): $(head -1 "$fl_dir/out.$tag.$n.$i")"
		done
	done
}

# fl_jid NODE - the journal_id of the node's journal
fl_jid() {
	fl_sqlite "$(fl_db "$1")" "SELECT value FROM journal_meta WHERE key = 'journal_id'"
}

# fl_wait_shipped NODE SECONDS - wait until the fleet has the node's newest local id
fl_wait_shipped() {
	local n=$1 end=$((SECONDS + $2)) want got
	while ((SECONDS <= end)); do
		want="$(fl_jid "$n") $(fl_sqlite "$(fl_db "$n")" "SELECT coalesce(max(id), 0) FROM attempts")"
		got=$(fl_psql "SELECT journal || ' ' || shipped_id FROM fleet_nodes WHERE node = '$n'" 2>/dev/null)
		[[ -n $got && $got == "$want" ]] && return 0
		sleep 0.2
	done
	echo "the fleet has \"${got:-nothing}\" for $n, the journal \"$want\""
	return 1
}

# fl_once NODE - why the node's journal and the fleet differ ("" when each row is there once)
fl_once() {
	local n=$1 db jid why= nl nf dup seen
	db=$(fl_db "$n")
	jid=$(fl_jid "$n")
	fl_sqlite "$db" "SELECT id || '|' || ts || '|' || coalesce(queue_id, '') || '|' || domain ||
		'|' || coalesce(recipient, '') || '|' || coalesce(address, '') || '|' ||
		coalesce(port, '') || '|' || coalesce(stage, '') || '|' || coalesce(reply_code, '') ||
		'|' || outcome || '|' || coalesce(decision, '') || '|' || source
		FROM attempts ORDER BY id" >"$fl_dir/local.$n"
	fl_psql "SELECT local_id || '|' || ts || '|' || coalesce(queue_id, '') || '|' || domain ||
		'|' || coalesce(recipient, '') || '|' || coalesce(address, '') || '|' ||
		coalesce(port::text, '') || '|' || coalesce(stage, '') || '|' ||
		coalesce(reply_code::text, '') || '|' || outcome || '|' || coalesce(decision, '') ||
		'|' || source FROM fleet_attempts WHERE node = '$n' AND journal = '$jid'
		ORDER BY local_id" >"$fl_dir/fleet.$n"
	nl=$(wc -l <"$fl_dir/local.$n")
	nf=$(wc -l <"$fl_dir/fleet.$n")
	[[ $nl -gt 0 ]] || why+="the journal of $n has no attempts; "
	[[ $nl == "$nf" ]] || why+="$n: $nl local rows, $nf in the fleet; "
	cmp -s "$fl_dir/local.$n" "$fl_dir/fleet.$n" ||
		why+="$n: the rows differ: $(diff "$fl_dir/local.$n" "$fl_dir/fleet.$n" | head -3 | tr '\n' ' '); "
	dup=$(fl_psql "SELECT local_id || 'x' || count(*) FROM fl_seen WHERE node = '$n' AND
		journal = '$jid' GROUP BY local_id HAVING count(*) > 1 ORDER BY local_id LIMIT 5")
	[[ -z $dup ]] || why+="$n: rows proposed for insertion more than once (id x times): $(echo $dup); "
	seen=$(fl_psql "SELECT count(DISTINCT local_id) FROM fl_seen WHERE node = '$n' AND journal = '$jid'")
	[[ $seen == "$nl" ]] || why+="$n: $seen distinct rows inserted, $nl local; "
	echo "$why"
}

# fl_follow_start NODE - the node's mxtier-ship --follow, as nobody, in the background
fl_follow_start() {
	timeout 600 "${fl_as[@]}" "$fl_ship" -c "$fl_dir/$1.conf" --follow \
		>"$fl_dir/follow.$1.out" 2>"$fl_dir/follow.$1.err" </dev/null 197>&- 198>&- &
	fl_follow_pid[$1]=$!
}

# fl_follow_stop NODE - SIGTERM, waited for at most 15 s; its exit status in
# fl_stop_rc ("hung" when it had to be killed)
fl_follow_stop() {
	local pid=${fl_follow_pid[$1]:-} i
	fl_stop_rc=none
	[[ -n $pid ]] || return
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fl_stop_rc=hung
	else
		wait "$pid"
		fl_stop_rc=$?
	fi
	unset "fl_follow_pid[$1]"
}

# fl_ship_once NODE [OPTIONS] - one run as nobody; output in fl_out, status in fl_rc
fl_ship_once() {
	local n=$1
	shift
	fl_out=$(timeout 120 "${fl_as[@]}" "$fl_ship" -c "$fl_dir/$n.conf" "$@" 2>&1 </dev/null)
	fl_rc=$?
}

# fl_cleanup - stop every shipper, sink and the cluster this script started
fl_cleanup() {
	local n s
	for n in "${!fl_follow_pid[@]}"; do
		fl_follow_stop "$n"
	done
	for s in "${fl_own_sinks[@]}"; do
		mta_sink_stop "$s"
	done
	fl_own_sinks=()
	fl_pg_stop
}

echo "== fleet: mxtier-ship into a real PostgreSQL, four nodes"
rm -rf "$fl_dir"
mkdir -p "$fl_dir"
if [[ ! -x $fl_ship ]]; then
	report_result "fleet ship: setup" "$fl_ship is not built"
elif ! FL_PG_OPTS="-c fsync=off -c synchronous_commit=off" fl_pg_start "$fl_dir/pg" 900; then
	report_result "fleet ship: setup" "PostgreSQL did not start (see $fl_dir/pg/postgres.log)"
elif ! fl_sink fl_ok1 127.0.0.21 || ! fl_sink fl_ref2 127.0.0.32; then
	report_result "fleet ship: setup" "the smtp-sinks did not start"
	fl_cleanup
else
	printf 'From: sender@client.test\nSubject: fleet\n\nhello fleet\n' >"$fl_dir/msg.eml"
	chmod a+r "$fl_dir/msg.eml"
	for n in "${fl_nodes[@]}"; do
		fl_conf "$n" >/dev/null
	done

	# the first run makes the journal and the schema
	fl_ship_once n1
	why=
	[[ $fl_rc -eq 0 ]] || why+="exit $fl_rc: $fl_out; "
	[[ $(fl_psql "SELECT value FROM fleet_meta WHERE key = 'schema_version'" 2>&1) == 1 ]] ||
		why+="no schema_version 1; "
	t=$(fl_psql "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE
		tablename LIKE 'fleet%'" 2>&1)
	[[ $t == "fleet_attempts fleet_backoff fleet_domains fleet_meta fleet_nodes" ]] ||
		why+="tables: $t; "
	report_result "fleet ship: schema created by the first run" "$why"
	# the test's witness of every proposed insert
	fl_psql "CREATE TABLE fl_seen (node text, journal text, local_id bigint);
		CREATE FUNCTION fl_seen_f() RETURNS trigger LANGUAGE plpgsql AS
		\$\$ BEGIN INSERT INTO fl_seen VALUES (NEW.node, NEW.journal, NEW.local_id); RETURN NEW; END \$\$;
		CREATE TRIGGER fl_seen_t BEFORE INSERT ON fleet_attempts FOR EACH ROW
		EXECUTE FUNCTION fl_seen_f();" >/dev/null ||
		report_result "fleet ship: witness trigger" "could not be created"

	# wave 1, shippers following
	for n in "${fl_nodes[@]}"; do
		fl_follow_start "$n"
	done
	why=$(fl_wave_run w1)
	report_result "fleet ship: wave 1, $fl_wave deliveries at once on each of 4 nodes" "$why"
	for n in "${fl_nodes[@]}"; do
		why=$(fl_wait_shipped "$n" 30)
		[[ -n $why ]] || why=$(fl_once "$n")
		report_result "fleet ship: $n every attempt exactly once (following)" "$why"
	done

	# PostgreSQL down for a while: deliveries go on, shippers keep running
	why=
	fl_pg_pause || why+="the cluster did not stop; "
	fl_ship_once n1
	[[ $fl_rc -eq 75 ]] || why+="a one-shot run with the database down exits $fl_rc, not 75; "
	[[ $fl_out == *"****"*"Connection refused"* ]] || why+="its message: $fl_out; "
	w=$(fl_wave_run w2)
	[[ -z $w ]] || why+="deliveries failed while PostgreSQL was down: $w; "
	for n in "${fl_nodes[@]}"; do
		kill -0 "${fl_follow_pid[$n]}" 2>/dev/null || why+="the shipper of $n ended; "
		grep -q 'trying again in' "$fl_dir/follow.$n.err" || why+="the shipper of $n said nothing; "
	done
	fl_pg_resume || why+="the cluster did not start again; "
	report_result "fleet ship: PostgreSQL down: deliveries go on, shippers wait and say why" "$why"
	for n in "${fl_nodes[@]}"; do
		why=$(fl_wait_shipped "$n" 60)
		[[ -n $why ]] || why=$(fl_once "$n")
		grep -q 'shipping again' "$fl_dir/follow.$n.err" || why+="$n never said it ships again; "
		report_result "fleet ship: $n everything arrives once after PostgreSQL is back" "$why"
	done

	why=
	for n in "${fl_nodes[@]}"; do
		fl_follow_stop "$n"
		[[ $fl_stop_rc == 0 ]] || why+="$n: exit $fl_stop_rc; "
		grep -q 'stopped;' "$fl_dir/follow.$n.err" || why+="$n did not say it stopped; "
	done
	report_result "fleet ship: SIGTERM ends --follow with status 0" "$why"

	# SIGKILL in the middle of a backlog, then a restart
	fl_conf k1 >/dev/null
	fl_ship_once k1
	why=
	[[ $fl_rc -eq 0 ]] || why+="the first run: $fl_out; "
	kdb=$(fl_db k1)
	fl_sqlite "$kdb" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
		INSERT INTO attempts (ts, queue_id, domain, recipient, preference, host, address, port,
		stage, reply_code, reply_text, outcome, decision, reason, duration_ms, source, node)
		SELECT 1790000000000 + x, 'K' || x, 'd' || (x % 997) || '.kill.test', 'r' || x || '@kill.test',
		10, 'mx.kill.test', '192.0.2.' || (x % 200), 25, 'rcpt', 451,
		'4.7.1 try later' || char(9) || x, 'tempfail', 'next_host', 'greylisted', x % 5000,
		'postfix', 'k1' FROM c"
	kmax=$(fl_sqlite "$kdb" "SELECT max(id) FROM attempts")
	# in a subshell, so that the shell does not report the kill
	(
		timeout 120 "${fl_as[@]}" "$fl_ship" -c "$fl_dir/k1.conf" --batch 250 \
			>"$fl_dir/kill.out" 2>"$fl_dir/kill.err" </dev/null
		echo $? >"$fl_dir/kill.rc"
	) 2>/dev/null 197>&- 198>&- &
	kpid=$!
	ksid=0
	for ((i = 0; i < 600; i++)); do
		ksid=$(fl_psql "SELECT shipped_id FROM fleet_nodes WHERE node = 'k1'")
		[[ ${ksid:-0} -gt 0 ]] && break
		sleep 0.02
	done
	# mxtier-ship is the child of timeout(1), the child of the subshell
	ktimeout=$(pgrep -P "$kpid" | head -1)
	kship=$(pgrep -P "${ktimeout:-0}" | head -1)
	if [[ -n $kship ]]; then
		kill -KILL "$kship"
	else
		why+="mxtier-ship had ended before the kill; "
	fi
	wait "$kpid"
	[[ $(cat "$fl_dir/kill.rc") == 137 ]] || why+="the killed run's status is $(cat "$fl_dir/kill.rc"), not 137; "
	ksid=$(fl_psql "SELECT shipped_id FROM fleet_nodes WHERE node = 'k1'")
	if [[ ${ksid:-0} -le 0 || ${ksid:-0} -ge $kmax ]]; then
		why+="the kill did not land inside the run (shipped_id $ksid of $kmax); "
	fi
	fl_ship_once k1
	[[ $fl_rc -eq 0 ]] || why+="the restart: exit $fl_rc: $fl_out; "
	[[ $fl_out != *"already"* ]] || why+="the restart met rows shipped already: $fl_out; "
	w=$(fl_wait_shipped k1 5)
	[[ -z $w ]] || why+="$w; "
	why+=$(fl_once k1)
	report_result "fleet ship: SIGKILL mid-backlog (at $ksid of $kmax) and a restart lose and double nothing" "$why"

	# a journal made anew ships from 0 under its new identity
	why=
	old=$(fl_jid n4)
	oldn=$(fl_psql "SELECT count(*) FROM fleet_attempts WHERE node = 'n4' AND journal = '$old'")
	rm -f "$(fl_db n4)" "$(fl_db n4)-wal" "$(fl_db n4)-shm"
	fl_ship_once n4
	[[ $fl_rc -eq 0 ]] || why+="the run on an empty journal: $fl_out; "
	new=$(fl_jid n4)
	[[ -n $new && $new != "$old" ]] || why+="the new journal has id \"$new\" (old \"$old\"); "
	fl_sqlite "$(fl_db n4)" "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
		INSERT INTO attempts (ts, queue_id, domain, outcome, decision, source)
		SELECT 1795000000000 + x, 'N' || x, 'new.test', 'delivered', 'done', 'mxtier-pipe' FROM c"
	fl_ship_once n4
	[[ $fl_rc -eq 0 ]] || why+="the run on the new journal: $fl_out; "
	[[ $(fl_psql "SELECT journal || ' ' || shipped_id FROM fleet_nodes WHERE node = 'n4'") == "$new 300" ]] ||
		why+="fleet_nodes: $(fl_psql "SELECT journal || ' ' || shipped_id FROM fleet_nodes WHERE node = 'n4'"); "
	[[ $(fl_psql "SELECT count(*) FROM fleet_attempts WHERE node = 'n4' AND journal = '$old'") == "$oldn" ]] ||
		why+="the old journal's rows changed; "
	[[ $(fl_psql "SELECT min(local_id) || '-' || max(local_id) FROM fleet_attempts WHERE node = 'n4'
		AND journal = '$new'") == 1-300 ]] || why+="the new journal's ids are not 1-300; "
	why+=$(fl_once n4)
	report_result "fleet ship: a journal made anew ships from id 0 beside the old one" "$why"

	# backoff: push replaces each node's set; pull brings the others' running entries
	why=
	for n in n1 n2 n3; do
		fl_ship_once "$n"
		[[ $fl_rc -eq 0 ]] || why+="$n: $fl_out; "
		l=$(fl_sqlite "$(fl_db "$n")" "SELECT address || '|' || port || '|' || failures || '|' ||
			retry_at FROM backoff ORDER BY 1")
		f=$(fl_psql "SELECT address || '|' || port || '|' || failures || '|' || retry_at FROM
			fleet_backoff WHERE node = '$n' ORDER BY 1")
		[[ -n $l ]] || why+="$n has no local backoff (127.0.0.31 refused); "
		[[ $l == "$f" ]] || why+="$n: local {$(echo $l)} fleet {$(echo $f)}; "
	done
	report_result "fleet ship: each node's backoff is in fleet_backoff" "$why"

	why=
	fl_sqlite "$(fl_db n3)" "DELETE FROM backoff"
	fl_ship_once n3
	[[ $fl_rc -eq 0 ]] || why+="$fl_out; "
	c=$(fl_psql "SELECT count(*) FROM fleet_backoff WHERE node = 'n3'")
	[[ $c == 0 ]] || why+="$c rows of n3 stay after its local backoff was cleared; "
	report_result "fleet ship: a cleared local backoff disappears from the fleet" "$why"

	why=
	now=$(($(date +%s) * 1000))
	fl_psql "INSERT INTO fleet_backoff VALUES ('n9', '192.0.2.99', 25, 2, $((now + 3600000)), 'refused', $now),
		('n9', '192.0.2.98', 25, 1, $((now - 60000)), 'expired', $now)" >/dev/null
	fl_ship_once n1
	[[ $fl_rc -eq 0 ]] || why+="$fl_out; "
	want=$(fl_psql "SELECT node || '|' || address || '|' || port || '|' || retry_at FROM fleet_backoff
		WHERE node <> 'n1' AND retry_at > $now ORDER BY 1")
	got=$(fl_sqlite "$(fl_db n1)" "SELECT node || '|' || address || '|' || port || '|' || retry_at
		FROM fleet_backoff ORDER BY 1")
	[[ $got == "$want" ]] || why+="pulled {$(echo $got)}, expected {$(echo $want)}; "
	[[ $got == *"n2|127.0.0.31|2525|"* && $got == *"n9|192.0.2.99|"* ]] ||
		why+="n2's and n9's running entries are missing; "
	[[ $got != *"n1|"* && $got != *"n3|"* && $got != *"192.0.2.98"* ]] ||
		why+="its own, a cleared or an expired entry was pulled; "
	report_result "fleet ship: the pull fills the local fleet_backoff with the other nodes' running entries" "$why"

	why=
	if grep -rlF "$FL_PG_PASSWORD" "$fl_dir"/follow.* "$fl_dir"/kill.* >/dev/null 2>&1; then
		why="the password appears in $(grep -rlF "$FL_PG_PASSWORD" "$fl_dir"/follow.* "$fl_dir"/kill.* | head -1)"
	fi
	grep -q '\*\*\*\*' "$fl_dir"/follow.n1.err || why+="the followers' messages show no masked URL; "
	report_result "fleet ship: no message shows the password" "$why"

	fl_cleanup
fi
