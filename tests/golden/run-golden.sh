# tests/golden/run-golden.sh - golden tests of mxtier-pipe --route
# Sourced by tests/run-tests.sh (uses note_result, $run, $top, MXT_*).
# Each case of tests/golden/cases runs the real binary against the test
# world; its stdout+stderr and exit status must equal NAME.out, and JSON
# output must parse (jq).
# MXT_GOLDEN_UPDATE=1 rewrites NAME.out from this run instead of comparing:
# nothing is then tested, so every case counts as failed ("NOT RUN") and the
# run can never look green; review the diff (git diff tests/golden) and run
# again without it.
golden_dir=$top/tests/golden
# a copy the config check accepts wherever the tree came from (git archive
# makes files 0664; a clone by another user owns them): root's, mode 0644
golden_conf=$run/golden-test.conf
install -m 0644 "$top/tests/world/test.conf" "$golden_conf"
while read -r name srv want args; do
	[[ -z $name || $name == \#* ]] && continue
	out=$run/golden-$name.out
	dns_args=()
	for var in ${srv//,/ }; do	# SERVER,SERVER...: asked in this order
		var=MXT_$var
		dns_args+=(--dns-server "${!var:-127.0.0.1:9}")
	done
	# shellcheck disable=SC2086
	"$top/plugin/mxtier-pipe" -c "$golden_conf" "${dns_args[@]}" \
		$args >"$out.stdout" 2>"$out.stderr"
	rc=$?
	{ cat "$out.stdout" "$out.stderr"; echo "exit $rc"; } >"$out"
	ok=ok
	why=
	if [[ $rc -ne $want ]]; then
		ok=fail; why="exit $rc, want $want"
	fi
	if [[ $args == *--json* && $want != 75 || $name == *_json ]]; then
		if ! jq -e . "$out.stdout" >/dev/null 2>&1; then
			ok=fail; why="${why:+$why; }stdout is not valid JSON"
		fi
	fi
	if [[ ${MXT_GOLDEN_UPDATE:-} == 1 ]]; then
		cp "$out" "$golden_dir/$name.out"
		echo "[ NOT RUN  ] golden $name: MXT_GOLDEN_UPDATE=1 rewrote $name.out${why:+ ($why)}"
		note_result "golden $name (not run: MXT_GOLDEN_UPDATE=1)" fail
		continue
	elif ! diff -u "$golden_dir/$name.out" "$out" >"$out.diff" 2>&1; then
		ok=fail; why="${why:+$why; }output differs:"$'\n'"$(head -40 "$out.diff")"
	fi
	if [[ $ok == ok ]]; then
		echo "[       OK ] golden $name"
	else
		echo "[  FAILED  ] golden $name: $why"
	fi
	note_result "golden $name" "$ok"
done <"$golden_dir/cases"
