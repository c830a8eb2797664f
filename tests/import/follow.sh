# tests/import/follow.sh - mxtier-import: --follow, rotation, restarts, bad input
# (sourced by tests/run-tests.sh: uses report_result; everything it starts
# is stopped by imp_stop, also from the run's cleanup)
#
# The log is written by tests/import/genlog.sh: message n (queue id
# %010X of n) gives 1 attempt, 2 when n % 4 == 0 (a refused primary held by
# PID). After every phase the journal must hold exactly the attempts of
# the messages written so far: each (queue id, recipient, host) once,
# nothing lost, nothing doubled. Waits are bounded polls of the journal.

IMP_PIDS=()

# imp_kill PID - kill -9 the importer that timeout PID runs (a crash: no
# cleanup of its own), and reap both
imp_kill() {
	pkill -KILL -P "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# imp_stop - stop every importer this file started
imp_stop() {
	local p
	for p in "${IMP_PIDS[@]}"; do
		imp_kill "$p"
	done
	IMP_PIDS=()
}

# imp_expected FIRST COUNT - attempts of messages FIRST..FIRST+COUNT-1
imp_expected() {
	local n total=0
	for ((n = $1; n < $1 + $2; n++)); do
		total=$((total + (n % 4 == 0 ? 2 : 1)))
	done
	echo "$total"
}

# imp_wait_rows DB N - wait (at most 20 s) until the journal holds N rows; prints what it holds
imp_wait_rows() {
	local got= deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		got=$(sqlite3 "$1" 'select count(*) from attempts' 2>/dev/null)
		[[ $got == "$2" ]] && break
		sleep 0.05
	done
	echo "${got:-none}"
}

# imp_check NAME DB N - N rows, all distinct, every message's attempts there
imp_check() {
	local name=$1 db=$2 want=$3 got dup
	got=$(imp_wait_rows "$db" "$want")
	# a moment more for a doubled row to show up (a wrong run writes more than N)
	dup=$(sqlite3 "$db" "select count(*) - count(distinct queue_id || ' ' || recipient || ' ' ||
		host || ' ' || outcome) from attempts" 2>&1)
	if [[ $got != "$want" ]]; then
		report_result "$name" "journal has $got attempt rows, want $want"
	elif [[ $dup != 0 ]]; then
		report_result "$name" "$dup doubled rows"
	else
		report_result "$name" ""
	fi
}

# imp_start DIR LOG - mxtier-import --follow in the background (bounded life)
imp_start() {
	timeout 300 "$top/plugin/mxtier-import" -c "$1/mxtier.conf" --node n1 --follow "$2" \
		2>>"$1/import.err" &
	IMP_PIDS+=($!)
}

imp_follow_tests() {
	local dir=$run/import-follow log db pid out n
	mkdir -p "$dir"
	log=$dir/mail.log
	db=$dir/journal.db
	printf 'journal { path = "%s" }\n' "$db" >"$dir/mxtier.conf"
	gen() { "$top/tests/import/genlog.sh" "$1" "$2" >>"$log"; }

	# 1. a running follower sees lines appended, in pieces, across line boundaries
	gen 0 40
	imp_start "$dir" "$log"
	pid=${IMP_PIDS[-1]}
	imp_check "import_follow_initial" "$db" "$(imp_expected 0 40)"
	"$top/tests/import/genlog.sh" 40 20 >"$dir/chunk"
	head -c 1234 "$dir/chunk" >>"$log"		# half a line first
	tail -c +1235 "$dir/chunk" >>"$log"
	imp_check "import_follow_appended" "$db" "$(imp_expected 0 60)"

	# 2. rotation by rename while following: lines still written to the old
	# file after the rename (the writer has not reopened yet), then the new file
	gen 60 10
	mv "$log" "$log.1"
	"$top/tests/import/genlog.sh" 70 5 >>"$log.1"
	"$top/tests/import/genlog.sh" 75 10 >"$log"
	imp_check "import_follow_rename" "$db" "$(imp_expected 0 85)"

	# 3. copytruncate while following, and lines written right after the truncation
	gen 85 10
	cp "$log" "$log-ct" && : >"$log"
	gen 95 10
	imp_check "import_follow_copytruncate" "$db" "$(imp_expected 0 105)"

	# 4. kill -9 in the middle of a large append, then restart: nothing lost or doubled
	gen 105 3000 &
	n=$!
	while kill -0 "$n" 2>/dev/null && [[ $(sqlite3 "$db" 'select count(*) from attempts' 2>/dev/null) -lt $(imp_expected 0 200) ]]; do
		sleep 0.01
	done
	imp_kill "$pid"
	wait "$n"
	imp_start "$dir" "$log"
	pid=${IMP_PIDS[-1]}
	imp_check "import_follow_kill_restart" "$db" "$(imp_expected 0 3105)"

	# 5. rotated (rename) and then copytruncated while nothing was running
	imp_kill "$pid"
	gen 3105 10
	mv "$log" "$log.2" && gen 3115 10
	imp_start "$dir" "$log"
	pid=${IMP_PIDS[-1]}
	imp_check "import_restart_after_rename" "$db" "$(imp_expected 0 3125)"
	imp_kill "$pid"
	gen 3125 10
	cp "$log" "$log-ct2" && : >"$log" && gen 3135 10
	imp_start "$dir" "$log"
	pid=${IMP_PIDS[-1]}
	imp_check "import_restart_after_copytruncate" "$db" "$(imp_expected 0 3145)"

	# 6. SIGTERM ends it with exit 0 and its counts (timeout passes the signal on)
	kill -TERM "$pid"
	wait "$pid"
	n=$?
	if [[ $n -eq 0 ]] && grep -q "lines, .* attempts" "$dir/import.err"; then
		report_result "import_follow_sigterm" ""
	else
		report_result "import_follow_sigterm" "exit $n" "$(tail -3 "$dir/import.err")"
	fi

	# 7. every log once more without --follow (the rotated ones too): nothing new
	out=$("$top/plugin/mxtier-import" -c "$dir/mxtier.conf" --node n1 "$log.1" "$log-ct" "$log.2" \
		"$log-ct2" "$log" 2>&1)
	n=$(sqlite3 "$db" 'select count(*) from attempts')
	if [[ $n == "$(imp_expected 0 3145)" ]] && ! grep -q '[1-9][0-9]* new' <<<"$out"; then
		report_result "import_again_adds_nothing" ""
	else
		report_result "import_again_adds_nothing" "$n rows after a second import" "$out"
	fi
	imp_stop
}

# hostile input: garbage, truncated lines, another program's log, a 1 GiB
# line: skipped with a count on stderr, the good lines around them still read
imp_bad_input_tests() {
	local dir=$run/import-bad out rc good
	mkdir -p "$dir"
	"$top/tests/import/genlog.sh" 0 4 >"$dir/good.log"
	good=$(imp_expected 0 4)
	{
		head -c 200000 /dev/urandom
		echo
		"$top/tests/import/genlog.sh" 0 4 | cut -c 1-60	# truncated lines
		printf 'Nov 30 10:00:00 host sshd[12]: Accepted publickey for root from 192.0.2.9\n'
		printf 'Nov 30 10:00:00 host kernel: [ 1.0] eth0: link up\n'
		printf '\0\0\0 postfix/smtp[1]: \xff\xfe to=<\n'
		cat "$dir/good.log"
	} >"$dir/bad.log"
	out=$(timeout 60 "$top/plugin/mxtier-import" --dry-run --from postfix "$dir/bad.log" 2>"$dir/err")
	rc=$?
	if [[ $rc -ne 0 ]]; then
		report_result "import_bad_input_garbage" "exit $rc" "$(cat "$dir/err")"
	elif [[ $(grep -c '"outcome"' <<<"$out") != "$good" ]]; then
		report_result "import_bad_input_garbage" "$(grep -c '"outcome"' <<<"$out") attempts, want $good" "$out"
	elif ! grep -q 'lines skipped' "$dir/err"; then
		report_result "import_bad_input_garbage" "no skipped count on stderr" "$(cat "$dir/err")"
	elif ! jq -e . >/dev/null <<<"$out"; then
		report_result "import_bad_input_garbage" "output is not JSON lines" "$out"
	else
		report_result "import_bad_input_garbage" ""
	fi

	# a 1 GiB line between two good logs, through a pipe (memory stays bounded)
	out=$( { cat "$dir/good.log"; head -c 1073741824 /dev/zero | tr '\0' x; echo; cat "$dir/good.log"; } |
		timeout 120 "$top/plugin/mxtier-import" --dry-run --from postfix - 2>"$dir/err2")
	rc=$?
	if [[ $rc -eq 0 && $(grep -c '"outcome"' <<<"$out") == $((good * 2)) ]] &&
		grep -q '1 lines over' "$dir/err2"; then
		report_result "import_bad_input_1g_line" ""
	else
		report_result "import_bad_input_1g_line" "exit $rc, $(grep -c '"outcome"' <<<"$out") attempts (want $((good * 2)))" "$(cat "$dir/err2")"
	fi

	# gzip, stdin and a missing file: 66 for the missing one, the others read
	gzip -c "$dir/good.log" >"$dir/good.log.gz"
	out=$(timeout 60 "$top/plugin/mxtier-import" --dry-run "$dir/good.log.gz" "$dir/missing.log" 2>"$dir/err3")
	rc=$?
	if [[ $rc -eq 66 && $(grep -c '"outcome"' <<<"$out") == "$good" ]] && grep -q 'missing.log' "$dir/err3"; then
		report_result "import_gzip_and_missing_file" ""
	else
		report_result "import_gzip_and_missing_file" "exit $rc, $(grep -c '"outcome"' <<<"$out") attempts" "$(cat "$dir/err3")"
	fi

	# bad arguments and a bad config: clear messages, their exit codes
	out=$("$top/plugin/mxtier-import" --from sendmail x 2>&1)
	rc=$?
	printf 'journal { pathh = "x" }\n' >"$dir/bad.conf"
	local out2 rc2
	out2=$("$top/plugin/mxtier-import" -c "$dir/bad.conf" "$dir/good.log" 2>&1)
	rc2=$?
	if [[ $rc -eq 64 && $out == *"expected postfix, exim or auto"* && $rc2 -eq 78 &&
		$out2 == *"bad.conf:1"* ]]; then
		report_result "import_bad_arguments_and_config" ""
	else
		report_result "import_bad_arguments_and_config" "exit $rc / $rc2" "$out
$out2"
	fi
}

echo "== mxtier-import: follow, rotation, restart, bad input"
imp_follow_tests
imp_bad_input_tests
imp_stop
