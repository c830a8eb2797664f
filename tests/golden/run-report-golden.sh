# tests/golden/run-report-golden.sh - golden tests of mxtier --report
# Sourced by tests/run-tests.sh after the delivery scenarios (uses
# note_result, $top, $run, $dlv_dir, MXT_DNS). The journals hold real
# deliveries; what changes from run to run (times, durations, queue ids) is
# masked, everything else must equal tests/golden/NAME.out. A time shows as
# HH:MM:SS on its own day and with its date on another (test_inspect), so a
# run near midnight prints either form: both mask to TIME.
# MXT_GOLDEN_UPDATE=1 rewrites NAME.out instead of comparing: every case then
# counts as failed ("NOT RUN"), never as passed (see run-golden.sh).
rg_mask() {
	sed -E 's/([0-9]{4}-[0-9]{2}-[0-9]{2} )?[0-9]{2}:[0-9]{2}:[0-9]{2}( UTC)?/TIME/g'
}
while read -r name conf format domain; do
	[[ -z $name || $name == \#* ]] && continue
	out=$run/golden-$name.out
	args=(-c "$dlv_dir/$conf.conf" --dns-server "$MXT_DNS" --utc --report)
	[[ $format == json ]] && args+=(--json)
	"$top/tui/mxtier" "${args[@]}" "$domain" >"$out.raw" 2>&1
	rc=$?
	if [[ $format == json ]]; then
		if ! jq -S 'del(.attempts[].ts, .attempts[].duration_ms, .attempts[].queue_id,
			.host_states[].retry_at, .host_states[].last_attempt)' "$out.raw" >"$out.json" 2>&1; then
			cp "$out.raw" "$out.json"
		fi
		{ rg_mask <"$out.json"; echo "exit $rc"; } >"$out"
	else
		{ rg_mask <"$out.raw"; echo "exit $rc"; } >"$out"
	fi
	if [[ ${MXT_GOLDEN_UPDATE:-} == 1 ]]; then
		cp "$out" "$top/tests/golden/$name.out"
		echo "[ NOT RUN  ] golden $name: MXT_GOLDEN_UPDATE=1 rewrote $name.out"
		note_result "golden $name (not run: MXT_GOLDEN_UPDATE=1)" fail
		continue
	fi
	if diff -u "$top/tests/golden/$name.out" "$out" >"$out.diff" 2>&1; then
		echo "[       OK ] golden $name"
		note_result "golden $name" ok
	else
		echo "[  FAILED  ] golden $name: output differs:"
		head -40 "$out.diff"
		note_result "golden $name" fail
	fi
done <"$top/tests/golden/report-cases"

# Whatever bytes a server sent, the report JSON is valid UTF-8: a journal
# (its schema made by mxtier-pipe) with a reply text and a backoff error in
# Latin-1 and one in UTF-8. Invalid sequences must come out as U+FFFD, valid
# ones as they are; jq, iconv and Python's strict decoder must accept it.
rj_dir=$run/report-utf8
mkdir -p "$rj_dir/journal"
rj_nobody=()
if [[ $(id -u) -eq 0 ]]; then
	rj_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	chown nobody:nogroup "$rj_dir/journal"
fi
cat >"$rj_dir/mxtier.conf" <<CONF
resolver { servers = { "$MXT_DNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = 2525  helo_name = "client.mxtier.test" }
journal { path = "$rj_dir/journal/journal.db" }
CONF
chmod 0644 "$rj_dir/mxtier.conf"
printf 'Subject: x\n\nx\n' | "${rj_nobody[@]}" "$top/plugin/mxtier-pipe" -c "$rj_dir/mxtier.conf" \
	-f a@b.test -d nullmx.dlv.test -- u@nullmx.dlv.test >"$rj_dir/pipe.out" 2>&1
rj_hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
rj_latin1=$(rj_hex $'550 5.1.1 Empf\xe4nger unbekannt, d\xe9sol\xe9')
rj_utf8=$(rj_hex $'550 5.1.1 Empf\xc3\xa4nger unbekannt \xe2\x80\x94 \xf0\x9f\x93\xa7')
rj_why=
sqlite3 "$rj_dir/journal/journal.db" "
INSERT INTO attempts (ts, queue_id, domain, recipient, preference, host, address, port, stage,
	reply_code, reply_text, outcome, decision, reason, duration_ms)
VALUES (strftime('%s','now') * 1000 - 2000, 'LATIN1', 'ok.dlv.test', 'u@ok.dlv.test', 10,
	'mx1.ok.dlv.test', '127.0.0.21', 2525, 'rcpt', 550, CAST(X'$rj_latin1' AS TEXT),
	'permfail', 'bounce', 'rejected', 5),
	(strftime('%s','now') * 1000 - 1000, 'UTF8', 'ok.dlv.test', 'u@ok.dlv.test', 10,
	'mx1.ok.dlv.test', '127.0.0.21', 2525, 'rcpt', 550, CAST(X'$rj_utf8' AS TEXT),
	'permfail', 'bounce', 'rejected', 5);
INSERT INTO backoff (address, port, failures, retry_at, last_error, updated)
VALUES ('127.0.0.21', 2525, 1, strftime('%s','now') * 1000 + 600000,
	CAST(X'$rj_latin1' AS TEXT), strftime('%s','now') * 1000);" 2>&1 ||
	rj_why+="cannot write the journal ($(head -2 "$rj_dir/pipe.out")); "
"$top/tui/mxtier" -c "$rj_dir/mxtier.conf" --utc --report --json ok.dlv.test \
	>"$rj_dir/report.json" 2>"$rj_dir/report.err"
rc=$?
[[ $rc -eq 0 ]] || rj_why+="exit $rc: $(head -2 "$rj_dir/report.err"); "
jq -e . "$rj_dir/report.json" >/dev/null 2>&1 || rj_why+="jq rejects the JSON; "
iconv -f UTF-8 -t UTF-8 "$rj_dir/report.json" >/dev/null 2>&1 || rj_why+="iconv: not UTF-8; "
python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))' \
	<"$rj_dir/report.json" 2>/dev/null || rj_why+="python3: not strict UTF-8 JSON; "
rj_got=$(jq -r '[.attempts[] | select(.queue_id == "LATIN1" or .queue_id == "UTF8") | .reply_text],
	[.host_states[] | select(.address == "127.0.0.21") | .last_error] | .[]' "$rj_dir/report.json" 2>&1)
rj_want=$'550 5.1.1 Empf\xc3\xa4nger unbekannt \xe2\x80\x94 \xf0\x9f\x93\xa7\n550 5.1.1 Empf\xef\xbf\xbdnger unbekannt, d\xef\xbf\xbdsol\xef\xbf\xbd\n550 5.1.1 Empf\xef\xbf\xbdnger unbekannt, d\xef\xbf\xbdsol\xef\xbf\xbd'
[[ $rj_got == "$rj_want" ]] || rj_why+="texts: got \"$rj_got\", want \"$rj_want\"; "
if [[ -z $rj_why ]]; then
	echo "[       OK ] report_json_utf8"
	note_result "report_json_utf8" ok
else
	echo "[  FAILED  ] report_json_utf8: $rj_why"
	note_result "report_json_utf8" fail
fi
