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
