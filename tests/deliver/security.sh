# tests/deliver/security.sh - mxtier-pipe's local safety rules, end to end
# (sourced by tests/run-tests.sh after tests/deliver/scenarios.sh; uses its
# sinks, dlv_conf, dlv_counts, dlv_changed, dlv_ok and the world lock)
#
#   - delivery mode refuses root (before reading the config or the message,
#     before any lookup or connection); --route runs as root
#   - a configuration writable by group or others, or owned by a third
#     user, is refused (delivery, --route and mxtier --report alike)
#   - the journal is created 0600 and the spool file 0600, even under
#     umask 000; a missing or unwritable spool directory defers
#   - the binaries import no way to run a command or a shell, and no SQL
#     interface that takes text to run (sqlite3_exec and friends)
#
# Deliveries run as nobody, as the MTAs run them.

sec_dir=$dlv_dir/security
sec_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
sec_root_line='4.3.0 mxtier-pipe: refusing to run as root; run it as an unprivileged user (Postfix pipe(8) user=, Exim transport user =)'

# sec_check NAME WHY - count a case: OK when WHY is empty
sec_check() {
	if [[ -z $2 ]]; then dlv_ok "security $1" ok; else dlv_ok "security $1" fail "$2"; fi
}

# sec_run [ENV=VALUE...] [--] AS CONF DOMAIN [MSG] - deliver one message;
# sets sec_out, sec_rc, sec_first, sec_sink (sinks that got it, or none).
# AS: root or nobody
sec_run() {
	local as=$1 conf=$2 domain=$3 msg=${4:-$dlv_dir/msg.eml} before run=()
	[[ $as == nobody ]] && run=("${sec_as[@]}")
	before=$(dlv_counts)
	sec_out=$(timeout 60 "${run[@]}" "$dlv_pipe" -c "$conf" --dns-server "$MXT_DNS" -q "S$RANDOM" \
		-f sender@client.test -d "$domain" -- "user@$domain" <"$msg" 2>&1 198>&-)
	sec_rc=$?
	sec_first=${sec_out%%$'\n'*}
	sec_sink=$(dlv_changed "$before" "$(dlv_counts)")
}

# sec_conf NAME [SED_SCRIPT] - a copy of a delivery config (postfix preset,
# its own journal), edited by SED_SCRIPT, mode 0644, owned by root
sec_conf() {
	local f
	f=$(dlv_conf "sec-$1" postfix)
	[[ -n ${2:-} ]] && sed -i "$2" "$f"
	chown root:root "$f"
	chmod 0644 "$f"
	echo "$f"
}

echo "== security: root, configuration ownership and modes, file modes, spool directory"
if [[ ${#MTA_SINK_PID[@]} -eq 0 ]]; then
	dlv_ok "security: sinks" fail "the sinks of the delivery scenarios are not running"
elif [[ $(id -u) -ne 0 ]]; then
	dlv_ok "security: setup" fail "these tests switch users: run them as root"
else
	rm -rf "$sec_dir"
	mkdir -p "$sec_dir"
	c_sec=$(sec_conf base)

	# ---- root ----
	# -c names a file that does not exist: reading it would say "cannot read"
	why=
	sec_run root "$sec_dir/no-such.conf" ok.dlv.test
	[[ $sec_rc -eq 75 ]] || why+="exit $sec_rc, want 75; "
	[[ $sec_out == "$sec_root_line" ]] || why+="output \"$sec_out\", want only the refusal line; "
	[[ $sec_sink == none ]] || why+="sink got: $sec_sink; "
	if command -v strace >/dev/null; then
		# nothing but the dynamic loader's files; no socket at all
		timeout 60 strace -f -qq -e trace=socket,connect,openat,open -o "$sec_dir/strace.root" \
			"$dlv_pipe" -c "$c_sec" --dns-server "$MXT_DNS" -f a@client.test -d ok.dlv.test \
			-- user@ok.dlv.test <"$dlv_dir/msg.eml" >/dev/null 2>&1 198>&-
		# the loader opens libc: a trace without it traced nothing
		grep -q -E '^[0-9]+ +open(at)?\(.*libc\.so' "$sec_dir/strace.root" 2>/dev/null ||
			why+="strace recorded nothing (can it trace here?); "
		grep -q -E '^[0-9]+ +(socket|connect)\(' "$sec_dir/strace.root" &&
			why+="a socket was made: $(grep -E 'socket|connect' "$sec_dir/strace.root" | head -1); "
		grep -q -F "$c_sec" "$sec_dir/strace.root" && why+="the configuration was opened; "
	else
		# without it nothing proves "no socket, no configuration": fail
		why+="strace is not installed (tools/bootstrap installs it); "
	fi
	sec_check root_refused_in_delivery_mode "$why"

	why=
	out=$(SENDER=sender@client.test RECIPIENT=user@ok.dlv.test DOMAIN=ok.dlv.test MESSAGE_ID=S1 \
		timeout 60 "$dlv_pipe" -c "$c_sec" --dns-server "$MXT_DNS" --exim <"$dlv_dir/msg.eml" 2>&1 198>&-)
	rc=$?
	[[ $rc -eq 75 && $out == "$sec_root_line" ]] || why+="exit $rc, output \"$out\"; "
	sec_check root_refused_exim_mode "$why"

	why=
	out=$(timeout 60 "$dlv_pipe" -c "$c_sec" --dns-server "$MXT_DNS" --route ok.dlv.test 2>&1 198>&-)
	rc=$?
	[[ $rc -eq 0 ]] || why+="exit $rc; "
	[[ $out == *mx1.ok.dlv.test* && $out != *root* ]] || why+="output \"${out:0:300}\"; "
	sec_check root_may_run_route "$why"

	# ---- the configuration file ----
	# (modes that leave the file readable by nobody: else it cannot be read at all)
	for mode in 0666 0664 0646 0606; do
		why=
		f=$(sec_conf "mode$mode")
		chmod "$mode" "$f"
		sec_run nobody "$f" ok.dlv.test
		want="4.3.5 mxtier-pipe: bad configuration: $f: writable by other users (mode $mode); fix with chmod go-w $f"
		[[ $sec_rc -eq 75 ]] || why+="exit $sec_rc, want 75; "
		[[ $sec_first == "$want" ]] || why+="first line \"$sec_first\", want \"$want\"; "
		[[ $sec_sink == none ]] || why+="sink got: $sec_sink; "
		sec_check "config_writable_refused_$mode" "$why"
	done

	why=
	f=$dlv_dir/sec-mode0666.conf
	out=$(timeout 60 "$dlv_pipe" -c "$f" --dns-server "$MXT_DNS" --route ok.dlv.test 2>&1 198>&-)
	rc=$?
	want="4.3.5 mxtier-pipe: bad configuration: $f: writable by other users (mode 0666); fix with chmod go-w $f"
	[[ $rc -eq 75 && ${out%%$'\n'*} == "$want" ]] || why+="--route: exit $rc, \"$out\"; "
	out=$(timeout 60 "$top/tui/mxtier" -c "$f" --dns-server "$MXT_DNS" --report ok.dlv.test 2>&1 198>&-)
	rc=$?
	[[ $rc -eq 1 && $out == *"bad configuration"*"$f: writable by other users (mode 0666); fix with chmod go-w $f"* ]] ||
		why+="mxtier --report: exit $rc, \"${out:0:300}\"; "
	sec_check config_writable_refused_by_route_and_report "$why"

	why=
	f=$(sec_conf foreign)
	chown daemon:daemon "$f"
	sec_run nobody "$f" ok.dlv.test
	want="4.3.5 mxtier-pipe: bad configuration: $f: owned by uid $(id -u daemon), neither root nor the user running this (uid $(id -u nobody)); fix with chown root $f"
	[[ $sec_rc -eq 75 ]] || why+="exit $sec_rc, want 75; "
	[[ $sec_first == "$want" ]] || why+="first line \"$sec_first\", want \"$want\"; "
	[[ $sec_sink == none ]] || why+="sink got: $sec_sink; "
	sec_check config_foreign_owner_refused "$why"

	why=
	f=$(sec_conf own)
	chown nobody:nogroup "$f"
	sec_run nobody "$f" ok.dlv.test
	[[ $sec_rc -eq 0 && $sec_first == "2.0.0 delivered via mx1.ok.dlv.test"* && $sec_sink == ok1 ]] ||
		why+="exit $sec_rc, first line \"$sec_first\", sink got: $sec_sink; "
	f=$(sec_conf rootonly)
	chmod 0600 "$f"
	out=$(timeout 60 "$dlv_pipe" -c "$f" --dns-server "$MXT_DNS" --route ok.dlv.test 2>&1 198>&-)
	rc=$?
	[[ $rc -eq 0 ]] || why+="root's 0600 config, --route: exit $rc, \"${out:0:200}\"; "
	sec_check config_owned_by_root_or_running_user_accepted "$why"

	why=
	out=$(timeout 60 "$dlv_pipe" -c /dev/null --dns-server "$MXT_DNS" --route ok.dlv.test 2>&1 198>&-)
	rc=$?
	[[ $out != *"bad configuration"* && $out == *mx1.ok.dlv.test* ]] || why+="exit $rc, \"${out:0:200}\"; "
	sec_check config_dev_null_means_defaults "$why"

	# ---- the journal: 0600, even when the umask would allow more ----
	why=
	f=$(sec_conf journal)
	jdb=$dlv_dir/journal-sec-journal/journal.db
	rm -f "$jdb" "$jdb-wal" "$jdb-shm"
	before=$(dlv_counts)
	out=$( (umask 000; timeout 60 "${sec_as[@]}" "$dlv_pipe" -c "$f" --dns-server "$MXT_DNS" \
		-f sender@client.test -d ok.dlv.test -- user@ok.dlv.test <"$dlv_dir/msg.eml" 2>&1 198>&-) )
	rc=$?
	[[ $rc -eq 0 && $(dlv_changed "$before" "$(dlv_counts)") == ok1 ]] || why+="delivery: exit $rc, \"$out\"; "
	got=$(stat -c '%a %U' "$jdb" 2>&1)
	[[ $got == "600 nobody" ]] || why+="journal mode and owner: $got, want 600 nobody; "
	for x in wal shm; do
		[[ ! -e $jdb-$x ]] || [[ $(stat -c %a "$jdb-$x") == 600 ]] ||
			why+="$x file mode $(stat -c %a "$jdb-$x"); "
	done
	sec_check journal_created_0600 "$why"

	# ---- the spool file: 0600, unlinked, in spool.directory ----
	# memory_limit 4096 and a 64 KiB message: the message goes to a file.
	# stdin is a FIFO this shell keeps open, so the file can be looked at
	# through /proc while mxtier-pipe still reads.
	why=
	sdir=$sec_dir/spool
	mkdir -p "$sdir"
	chown nobody:nogroup "$sdir"
	chmod 0755 "$sdir"
	f=$(sec_conf spool "s|^spool { .*|spool { directory = \"$sdir\"  memory_limit = 4096 }|")
	dlv_message "$sec_dir/spool.eml" 64
	mkfifo "$sec_dir/stdin"
	before=$(dlv_counts)
	# read-write: the open does not wait for a reader (Linux)
	if ! exec 196<>"$sec_dir/stdin"; then
		why+="cannot open the FIFO; "
	else
		( umask 000; exec "${sec_as[@]}" "$dlv_pipe" -c "$f" --dns-server "$MXT_DNS" -q S-spool \
			-f sender@client.test -d ok.dlv.test -- user@ok.dlv.test \
			<"$sec_dir/stdin" >"$sec_dir/spool.out" 2>&1 196>&- 198>&- ) &
		spid=$!
		timeout 30 head -c 40000 "$sec_dir/spool.eml" >&196
		sfile= got=
		for ((i = 0; i < 500; i++)); do
			for fd in /proc/$spid/fd/*; do
				[[ $(readlink "$fd" 2>/dev/null) == "$sdir/mxtier-spool."*" (deleted)" ]] || continue
				sfile=$(readlink "$fd")
				got=$(stat -L -c '%a %U' "$fd" 2>&1)
				break 2
			done
			sleep 0.01
		done
		timeout 30 tail -c +40001 "$sec_dir/spool.eml" >&196
		exec 196>&-
		echo "   spool file: ${sfile:-none} ($got)"
		[[ -n $sfile ]] || why+="no unlinked spool file in $sdir among $spid's files: $(ls -l /proc/$spid/fd/ 2>&1 | tail -n +2 | sed 's/.*-> //' | tr '\n' ' '); "
		[[ -z $sfile || $got == "600 nobody" ]] || why+="spool file $sfile: $got, want 600 nobody; "
	fi
	# bounded: this wait is at most 60 s
	rc=none
	if [[ -n ${spid:-} ]]; then
		for ((i = 0; i < 600; i++)); do kill -0 "$spid" 2>/dev/null || break; sleep 0.1; done
		kill "$spid" 2>/dev/null
		wait "$spid"
		rc=$?
	fi
	[[ $rc -eq 0 && $(dlv_changed "$before" "$(dlv_counts)") == ok1 ]] ||
		why+="delivery: exit $rc, \"$(head -c 300 "$sec_dir/spool.out")\"; "
	n=$(mta_sink_messages ok1)
	[[ $(mta_sink_body_hash ok1 "$n") == $(mta_body_hash "$sec_dir/spool.eml") ]] ||
		why+="the body at the sink differs from the message; "
	[[ -z $(ls -A "$sdir") ]] || why+="files left in the spool directory: $(ls -A "$sdir"); "
	sec_check spool_file_0600_unlinked "$why"

	# ---- a spool directory that cannot be used defers at once ----
	why=
	d=$sec_dir/no-such-spool
	f=$(sec_conf spool-missing "s|^spool { .*|spool { directory = \"$d\" }|")
	sec_run nobody "$f" ok.dlv.test
	want="4.3.0 mxtier-pipe: spool directory $d: No such file or directory (spool.directory in $f)"
	[[ $sec_rc -eq 75 && $sec_first == "$want" && $sec_sink == none ]] ||
		why+="exit $sec_rc, first line \"$sec_first\", sink got: $sec_sink; want 75, \"$want\", none; "
	sec_check spool_dir_missing_defers "$why"

	why=
	d=$sec_dir/root-spool
	mkdir -p "$d"
	chmod 0755 "$d"
	f=$(sec_conf spool-ro "s|^spool { .*|spool { directory = \"$d\"  memory_limit = 4096 }|")
	sec_run nobody "$f" ok.dlv.test
	want="4.3.0 mxtier-pipe: spool directory $d: not writable: Permission denied (spool.directory in $f)"
	[[ $sec_rc -eq 75 && $sec_first == "$want" && $sec_sink == none ]] ||
		why+="exit $sec_rc, first line \"$sec_first\", sink got: $sec_sink; want 75, \"$want\", none; "
	# the same with a message that needs the directory (over memory_limit)
	sec_run nobody "$f" ok.dlv.test "$sec_dir/spool.eml"
	[[ $sec_rc -eq 75 && $sec_first == "$want" && $sec_sink == none ]] ||
		why+="big message: exit $sec_rc, first line \"$sec_first\", sink got: $sec_sink; "
	sec_check spool_dir_not_writable_defers "$why"

	why=
	f=$(sec_conf spool-file "s|^spool { .*|spool { directory = \"$dlv_dir/msg.eml\" }|")
	sec_run nobody "$f" ok.dlv.test
	want="4.3.0 mxtier-pipe: spool directory $dlv_dir/msg.eml: Not a directory (spool.directory in $f)"
	[[ $sec_rc -eq 75 && $sec_first == "$want" && $sec_sink == none ]] ||
		why+="exit $sec_rc, first line \"$sec_first\", sink got: $sec_sink; "
	sec_check spool_dir_not_a_directory_defers "$why"

	# ---- what the binaries can call ----
	# sec_imports REGEX - "BINARY imports NAMES; " for each binary that
	# imports a dynamic symbol matching REGEX (whole name), else nothing
	sec_imports() {
		local b got
		for b in "$dlv_pipe" "$top/tui/mxtier"; do
			got=$(nm -D --undefined-only "$b" 2>&1 | awk '{ print $NF }' | sed 's/@.*//' |
				grep -x -E "$1" | tr '\n' ' ')
			[[ -z $got ]] || printf '%s imports %s; ' "${b##*/}" "$got"
		done
	}
	why=$(sec_imports 'system|popen|fork|vfork|clone|execl|execlp|execle|execv|execve|execvp|execvpe|fexecve|posix_spawn|posix_spawnp|wordexp')
	got=$(grep -n -E '\b(system|popen|fork|vfork|execl|execlp|execle|execv|execve|execvp|execvpe|posix_spawnp?|wordexp)\s*\(' \
		"$top"/plugin/*.c "$top"/shared/*.c "$top"/tui/*.c 2>&1 | head -3)
	[[ -z $got ]] || why+="source: $got; "
	sec_check no_command_or_shell_is_run "$why"

	why=$(sec_imports 'sqlite3_exec|sqlite3_get_table|sqlite3_mprintf|sqlite3_vmprintf|sqlite3_snprintf')
	sec_check sql_only_prepared_statements "$why"
fi
unset -f sec_imports
unset sec_dir sec_as sec_root_line c_sec sec_out sec_rc sec_first sec_sink mode f want jdb sdir spid \
	sfile got fd d b x i before out rc
