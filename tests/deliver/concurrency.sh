# tests/deliver/concurrency.sh - many mxtier-pipe processes, one journal
# (sourced by tests/run-tests.sh right after tests/deliver/scenarios.sh;
# uses its sinks, dlv_conf, dlv_counts, dlv_changed, dlv_ok, and the world
# lock it holds)
#
# CONC_N mxtier-pipe processes (default 64) start at the same instant and
# deliver into ONE fresh journal: half to ok.dlv.test (sink ok1: one attempt
# row each), half to refused.dlv.test (mx1 refuses or is in backoff, the
# backup ref2 takes it: two rows each). Meanwhile `mxtier --report` (text
# and --json, in turn) reads the same journal in a loop. The barrier is a
# flock: this shell holds the lock exclusively, every process waits for a
# shared lock on it (flock -s), and once /proc/locks shows all of them
# waiting the lock is dropped and they all start together. The deliveries
# run as nobody, as the MTAs run them (mxtier-pipe refuses root).
#
# Cases: barrier, exit status and first line of every process, the sinks'
# counts, every recipient's message stored exactly once at its sink (the
# sinks' own record: X-Rcpt-Args of each message marked by this burst's
# X-Mxt-Case: header, and its body), the journal's rows (in total and per
# queue id), its integrity, no journal warning from any process, every
# report during the burst.

conc_n=${CONC_N:-64}
conc_dir=$dlv_dir/concurrency
conc_as=()
[[ $(id -u) -eq 0 ]] && conc_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# conc_waiters FILE - how many flock requests wait on FILE (from /proc/locks)
conc_waiters() {
	local ino
	ino=$(stat -c %i "$1") || { echo 0; return; }
	grep -c -- "-> FLOCK .*:$ino " /proc/locks 2>/dev/null || true
}

# conc_reports DIR KIND - mxtier --report (KIND text or json) in a loop
# until DIR/done exists, then once more; at most 400 runs or 240 s. One
# line per run in DIR/reports.KIND: "N EXIT WHEN", WHEN "during" for a run
# started after the release (DIR/go) and before the end (DIR/done), "after"
# for the last one
conc_reports() {
	local dir=$1 kind=$2 i rc when end=$((SECONDS + 240)) opt=()
	[[ $kind == json ]] && opt=(--json)
	: >"$dir/reports.$kind"
	for ((i = 0; i < 400 && SECONDS < end; i++)); do
		when=before
		[[ -e $dir/go ]] && when=during
		[[ -e $dir/done ]] && when=after
		timeout 30 "$top/tui/mxtier" -c "$c_conc" --dns-server "$MXT_DNS" --report \
			"${opt[@]}" ok.dlv.test refused.dlv.test \
			>"$dir/report.$kind.$i" 2>"$dir/report.$kind.$i.err"
		rc=$?
		echo "$i $rc $when" >>"$dir/reports.$kind"
		[[ $when == after ]] && break
	done
}

# conc_report_valid FILE KIND - a complete report of both domains
conc_report_valid() {
	if [[ $2 == json ]]; then
		jq -e 'type == "array" and length == 2 and .[0].domain == "ok.dlv.test" and
			.[1].domain == "refused.dlv.test" and (.[0].attempts | type == "array") and
			(.[1].explanation | type == "string")' "$1" >/dev/null 2>&1
	else
		grep -q '^domain ok\.dlv\.test$' "$1" && grep -q '^domain refused\.dlv\.test$' "$1"
	fi
}

echo "== concurrency: $conc_n mxtier-pipe processes into one journal, mxtier --report reading"
if [[ ${#MTA_SINK_PID[@]} -eq 0 ]]; then
	dlv_ok "concurrency: sinks" fail "the sinks of the delivery scenarios are not running"
else
	rm -rf "$conc_dir"
	mkdir -p "$conc_dir"
	c_conc=$(dlv_conf conc postfix)
	# 64 processes and a report loop share 2 cores: this test is about the
	# journal, so a DNS answer that waits for the CPU is not its failure
	sed -i 's/^resolver { timeout = 2  tries = 1 }$/resolver { timeout = 5  tries = 2 }/' "$c_conc"
	grep -q 'timeout = 5  tries = 2' "$c_conc" || echo "concurrency: resolver timeout not raised" >&2
	conc_db=$dlv_dir/journal-conc/journal.db
	rm -f "$conc_db" "$conc_db-wal" "$conc_db-shm"
	conc_marker=conc.$$
	conc_msg=$(dlv_marked "$dlv_dir/msg.eml" "$conc_marker")
	conc_lock=$conc_dir/barrier
	: >"$conc_lock"
	conc_before=$(dlv_counts)
	exec 197>"$conc_lock"
	flock -x 197

	conc_pids=()
	for ((i = 0; i < conc_n; i++)); do
		if ((i % 2)); then d=refused.dlv.test; else d=ok.dlv.test; fi
		(
			timeout 120 flock -s -w 90 "$conc_lock" "${conc_as[@]}" "$dlv_pipe" \
				-c "$c_conc" --dns-server "$MXT_DNS" -q "C$$x$i" -f sender@client.test \
				-d "$d" -- "user$i@$d" <"$conc_msg" >"$conc_dir/out.$i" 2>&1
			echo $? >"$conc_dir/rc.$i"
		) 197>&- 198>&- &
		conc_pids+=($!)
	done
	# the barrier: every process waits on the lock (at most 20 s)
	for ((w = 0; w < 2000; w++)); do
		conc_waiting=$(conc_waiters "$conc_lock")
		[[ $conc_waiting -ge $conc_n ]] && break
		sleep 0.01
	done
	if [[ $conc_waiting -eq $conc_n ]]; then
		dlv_ok "concurrency barrier_all_waiting" ok
	else
		dlv_ok "concurrency barrier_all_waiting" fail "$conc_waiting of $conc_n processes waited on the barrier"
	fi
	conc_t0=$(date +%s%N)
	touch "$conc_dir/go"
	flock -u 197
	exec 197>&-
	# the readers start with the burst, so the first run of each is during it
	conc_reports "$conc_dir" json 198>&- &
	conc_rpid=$!
	conc_reports "$conc_dir" text 198>&- &
	conc_rpid2=$!
	wait "${conc_pids[@]}"
	conc_ms=$(( ($(date +%s%N) - conc_t0) / 1000000 ))
	touch "$conc_dir/done"
	wait "$conc_rpid" "$conc_rpid2"
	conc_after=$(dlv_counts)
	echo "   $conc_n deliveries in $conc_ms ms"

	# every process exited 0 and said where the message went
	why=
	nrc=0 nline=0
	for ((i = 0; i < conc_n; i++)); do
		rc=$(cat "$conc_dir/rc.$i" 2>/dev/null)
		first=$(head -1 "$conc_dir/out.$i" 2>/dev/null)
		if [[ $rc != 0 ]]; then
			nrc=$((nrc + 1))
			[[ $nrc -le 3 ]] && why+="process $i: exit ${rc:-none}: $first; "
		fi
		if ((i % 2)); then want='^2\.0\.0 delivered via backup\.refused\.dlv\.test\[127\.0\.0\.32\]:2525'
		else want='^2\.0\.0 delivered via mx1\.ok\.dlv\.test\[127\.0\.0\.21\]:2525'; fi
		if ! [[ $first =~ $want ]]; then
			nline=$((nline + 1))
			[[ $nline -le 3 ]] && why+="process $i: first line \"$first\"; "
		fi
	done
	if [[ $nrc -eq 0 ]]; then dlv_ok "concurrency all_exit_0" ok
	else dlv_ok "concurrency all_exit_0" fail "$nrc of $conc_n did not exit 0: $why"; fi
	if [[ $nline -eq 0 ]]; then dlv_ok "concurrency first_lines" ok
	else dlv_ok "concurrency first_lines" fail "$nline of $conc_n first lines wrong: $why"; fi

	# the sinks: ok1 and ref2 got half each, no other sink anything
	why=
	conc_total=0
	for a in $conc_after; do
		for b in $conc_before; do
			[[ ${a%%=*} == "${b%%=*}" ]] || continue
			n=$(( ${a#*=} - ${b#*=} ))
			conc_total=$((conc_total + n))
			case ${a%%=*} in
			ok1|ref2) [[ $n -eq $((conc_n / 2)) ]] || why+="${a%%=*} got $n, want $((conc_n / 2)); " ;;
			*) [[ $n -eq 0 ]] || why+="${a%%=*} got $n, want 0; " ;;
			esac
		done
	done
	[[ $conc_total -eq $conc_n ]] || why+="the sinks got $conc_total messages, want $conc_n; "
	if [[ -z $why ]]; then dlv_ok "concurrency sinks_got_every_message_once" ok
	else dlv_ok "concurrency sinks_got_every_message_once" fail "$why"; fi

	# per recipient: user$i's message stored once, at its sink, for it alone
	why=
	unset conc_seen
	declare -gA conc_seen=()
	conc_hash=$(mta_body_hash "$conc_msg")
	nbad=0
	while read -r name file; do
		[[ -n $name ]] || continue
		r=$(mta_sink_file_rcpts "$file" | tr '\n' ' ')
		conc_seen["$name ${r% }"]=$(( ${conc_seen["$name ${r% }"]:-0} + 1 ))
		if [[ $(mta_sink_file_body_hash "$file") != "$conc_hash" ]]; then
			nbad=$((nbad + 1))
			[[ $nbad -le 3 ]] && why+="the body stored at $name for ${r% } differs from the message; "
		fi
	done < <(mta_sink_find "X-Mxt-Case: $conc_marker")
	nmiss=0 ndup=0
	for ((i = 0; i < conc_n; i++)); do
		if ((i % 2)); then k="ref2 <user$i@refused.dlv.test>"; else k="ok1 <user$i@ok.dlv.test>"; fi
		case ${conc_seen[$k]:-0} in
		1) unset "conc_seen[$k]" ;;
		0) nmiss=$((nmiss + 1)); [[ $nmiss -le 3 ]] && why+="nothing stored at ${k/ / for }; " ;;
		*) ndup=$((ndup + 1)); [[ $ndup -le 3 ]] && why+="${conc_seen[$k]} copies at ${k/ / for }; "
		   unset "conc_seen[$k]" ;;
		esac
	done
	[[ $nmiss -eq 0 ]] || why+="$nmiss of $conc_n recipients got nothing; "
	[[ $ndup -eq 0 ]] || why+="$ndup of $conc_n recipients got more than one copy; "
	# whatever is left was stored where, or for whom, nothing should be
	nq=0
	for k in "${!conc_seen[@]}"; do
		nq=$((nq + 1))
		[[ $nq -le 3 ]] && why+="${conc_seen[$k]} unexpected at ${k/ / for }; "
	done
	[[ $nq -eq 0 ]] || why+="$nq unexpected recipient and sink pairs; "
	if [[ -z $why ]]; then dlv_ok "concurrency each_recipient_exactly_once" ok
	else dlv_ok "concurrency each_recipient_exactly_once" fail "$why"; fi
	unset conc_seen

	# the journal: 1 row per ok.dlv.test message, 2 per refused.dlv.test
	why=
	want_rows=$(( (conc_n + 1) / 2 + 2 * (conc_n / 2) ))
	rows=$(timeout 30 sqlite3 "$conc_db" "select count(*) from attempts" 2>&1)
	[[ $rows == "$want_rows" ]] || why+="$rows attempt rows, want $want_rows; "
	timeout 30 sqlite3 -separator ' ' "$conc_db" "select queue_id, group_concat(ifnull(stage,'-') || ':' ||
		outcome || ':' || decision, ' ') from (select * from attempts order by id) group by queue_id" \
		>"$conc_dir/rows" 2>&1
	nq=$(wc -l <"$conc_dir/rows")
	[[ $nq -eq $conc_n ]] || why+="$nq queue ids in the journal, want $conc_n; "
	nbad=0 nskipped=0
	for ((i = 0; i < conc_n; i++)); do
		got=$(sed -n "s/^C$$x$i //p" "$conc_dir/rows")
		if ((i % 2)); then
			case $got in
			'connect:tempfail:next_tier dot:delivered:done') ;;
			'-:skipped:next_tier dot:delivered:done') nskipped=$((nskipped + 1)) ;;
			*) nbad=$((nbad + 1)); [[ $nbad -le 3 ]] && why+="C$$x$i: \"$got\"; " ;;
			esac
		else
			[[ $got == 'dot:delivered:done' ]] ||
				{ nbad=$((nbad + 1)); [[ $nbad -le 3 ]] && why+="C$$x$i: \"$got\"; "; }
		fi
	done
	[[ $nbad -eq 0 ]] || why+="$nbad queue ids with wrong rows; "
	echo "   journal: $rows rows; refused.dlv.test: $((conc_n / 2 - nskipped)) tried mx1 (refused), $nskipped skipped it (backoff)"
	if [[ -z $why ]]; then dlv_ok "concurrency journal_rows_per_queue_id" ok
	else dlv_ok "concurrency journal_rows_per_queue_id" fail "$why"; fi

	ic=$(timeout 30 sqlite3 "$conc_db" "pragma integrity_check; pragma journal_mode" 2>&1 | tr '\n' ' ')
	if [[ $ic == "ok wal " ]]; then dlv_ok "concurrency journal_integrity" ok
	else dlv_ok "concurrency journal_integrity" fail "integrity_check, journal_mode: $ic"; fi

	# no process warned about the journal (e.g. "database is locked")
	nwarn=$(grep -l -i -E 'warning|locked|busy' "$conc_dir"/out.* 2>/dev/null | wc -l)
	if [[ $nwarn -eq 0 ]]; then
		dlv_ok "concurrency no_journal_warnings" ok
	else
		dlv_ok "concurrency no_journal_warnings" fail "$nwarn of $conc_n processes warned, e.g. \"$(grep -h -i -E 'warning|locked|busy' "$conc_dir"/out.* | head -1)\"; locked: $(grep -l -i 'locked' "$conc_dir"/out.* | wc -l)"
	fi

	# every report exited 0 and was complete; JSON ones parse
	why=
	nrep=0 nduring=0 njson=0 nbadrep=0
	for kind in json text; do
		while read -r i rc when; do
			f=$conc_dir/report.$kind.$i
			nrep=$((nrep + 1))
			[[ $when == during ]] && nduring=$((nduring + 1))
			if [[ $rc -ne 0 ]] || ! conc_report_valid "$f" "$kind" ||
			   grep -q -i -E 'locked|busy|malformed|error' "$f.err"; then
				nbadrep=$((nbadrep + 1))
				[[ $nbadrep -le 3 ]] && why+="report $kind.$i ($when): exit $rc, $(head -c 200 "$f.err" | tr '\n' ' '); "
			elif [[ $kind == json && $when == during ]]; then
				njson=$((njson + 1))
			fi
		done <"$conc_dir/reports.$kind"
	done
	echo "   reports: $nrep runs, $nduring during the burst ($njson of them JSON and valid), $nbadrep bad"
	[[ $nbadrep -eq 0 ]] || why+="$nbadrep of $nrep reports failed; "
	[[ $njson -ge 1 ]] || why+="no valid --json report ran during the burst ($nduring ran); "
	if [[ -z $why ]]; then dlv_ok "concurrency reports_during_burst" ok
	else dlv_ok "concurrency reports_during_burst" fail "$why"; fi
fi
unset conc_n conc_dir conc_as conc_pids conc_rpid conc_lock conc_before conc_after conc_total \
	conc_rpid2 conc_db conc_t0 conc_ms conc_waiting nrc nline nbad nskipped nwarn nrep nduring njson nbadrep \
	want_rows nq w f kind conc_marker conc_msg conc_hash nmiss ndup name file r k
