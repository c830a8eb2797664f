# tests/hostile/hostile.sh - the hostile-input table (sourced by
# tests/run-tests.sh; uses note_result, $run, $top)
#
# Each row of tests/hostile/rows is one hostile input (an address, a domain,
# a message body, a DNS answer) and what mxtier-pipe must do about it. This
# starts, on loopback: faultdns twice, the second serving h.test
# (tests/hostile/hostile.rules) and the first answering REFUSED for every
# name of it (so every row proves that the next resolver is asked); and for
# every row three scripted SMTP peers on one port: mx1 (127.0.2.1), backup
# (127.0.2.2) and a trap (127.0.9.1, inside ignore_networks) that nothing
# may ever reach. It runs mxtier-pipe as an MTA would (as nobody when we are
# root) and checks the exit status, the first line, the envelope mx1
# received (or that no server was reached at all) and the journal rows.

hs_dir=$run/hostile
hs_pipe=$top/plugin/mxtier-pipe
hs_as=()
hs_dns_pids=()
[[ $(id -u) -eq 0 ]] && hs_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
. "$top/tests/smtp/peer.sh"

# hs_words STRING - the row's words, one per line, decoded (see rows)
hs_words() {
	local w words
	read -r -a words <<<"$1"
	for w in "${words[@]}"; do
		[[ $w == "''" ]] && w=
		w=${w//\\s/ }
		printf '%b\0' "$w"
	done
}

# hs_script NRCPT - mx1's script: ESMTP with SMTPUTF8 and 8BITMIME, no
# PIPELINING (one command at a time) and no SIZE (so MAIL FROM carries only
# what the row is about), NRCPT recipients, one message
hs_script() {
	local i
	printf 'send 220 mx1 ESMTP\\r\\n\nexpect EHLO\n'
	printf 'send 250-mx1\\r\\n250-8BITMIME\\r\\n250 SMTPUTF8\\r\\n\n'
	printf 'expect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\n'
	for ((i = 0; i < $1; i++)); do printf 'expect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\n'; done
	printf 'expect DATA\nsend 354 go ahead\\r\\n\ndata\nsend 250 2.0.0 queued\\r\\n\n'
	printf 'expect QUIT\nsend 221 2.0.0 bye\\r\\n\n'
}

# hs_conf FILE PORT - the row's config
hs_conf() {
	cat >"$1" <<CONF
resolver { servers = { "$hs_refuser", "$hs_dns" }  timeout = 1  tries = 1 }
policy { ignore_networks = { "127.0.9.0/24" }  local_names = { "self.h.test" }  backoff_initial = 1 }
smtp { port = $2  helo_name = "client.mxtier.test"  connect_timeout = 2  greeting_timeout = 2
       helo_timeout = 2  mail_timeout = 2  rcpt_timeout = 2  data_timeout = 2
       data_transfer_timeout = 2  data_done_timeout = 2  quit_timeout = 2 }
spool { directory = "$hs_row/spool" }
journal { path = "$hs_row/journal/journal.db" }
CONF
}

# hs_begin_row NAME - the row's folder (hs_row), with a journal and a spool
# folder the delivery user may write
hs_begin_row() {
	hs_row=$hs_dir/$1
	mkdir -p "$hs_row/journal" "$hs_row/spool"
	[[ ${#hs_as[@]} -gt 0 ]] && chown nobody:nogroup "$hs_row/journal" "$hs_row/spool"
	chmod 0755 "$hs_row" "$hs_row/journal" "$hs_row/spool"
}

# hs_connections NAME - how many sessions peer NAME of the row saw
hs_connections() {
	[[ -f $hs_row/$1.log ]] || { echo 0; return; }
	grep -c '^# connection' "$hs_row/$1.log"
}

# hs_envelope PEER - its MAIL FROM and RCPT TO lines, decoded, joined with " ; "
hs_envelope() {
	local line out=
	[[ -f $hs_row/$1.log ]] || return
	while IFS= read -r line; do
		out+="${out:+ ; }$(printf '%b' "${line#C: }")"
	done < <(grep -E '^C: (MAIL FROM|RCPT TO)' "$hs_row/$1.log")
	printf '%s' "$out"
}

# hs_run_row NAME MODE ARGS EXIT FIRST ENVELOPE JOURNAL
hs_run_row() {
	local name=$1 mode=$2 want_exit=$4 want_first=$5 want_env=$6 want_journal=$7
	local -a args=()
	local qid=H$RANDOM$RANDOM rc first out rows why= port= a nrcpt=0 env seen i peer
	hs_begin_row "$name"
	while IFS= read -r -d '' a; do args+=("$a"); done < <(hs_words "$3")
	if [[ $mode == body ]]; then
		# the message is the row's one word; it goes to u@ok.h.test
		printf '%s' "${args[0]}" >"$hs_row/msg.eml"
		args=(-f s@client.test -d ok.h.test u@ok.h.test)
		mode=deliver
		hs_body=1
	else
		printf 'Subject: hostile\n\nbody\n' >"$hs_row/msg.eml"
		hs_body=
	fi
	if [[ $mode == deliver ]]; then
		# the recipients are the words after "-d DOMAIN"; those with a control
		# character never reach mx1
		for ((i = 4; i < ${#args[@]}; i++)); do
			[[ ${args[i]} =~ [[:cntrl:]] ]] || nrcpt=$((nrcpt + 1))
		done
		hs_script "$nrcpt" >"$hs_row/mx1.scr"
		hs_script "$nrcpt" >"$hs_row/backup.scr"
		peer_start "$hs_row" mx1 127.0.2.1 0 "$hs_row/mx1.scr" && port=$PEER_PORT || why+="mx1 did not start; "
		[[ -n $port ]] && { peer_start "$hs_row" backup 127.0.2.2 "$port" "$hs_row/backup.scr" ||
			why+="backup did not start; "; }
		[[ -n $port ]] && { peer_start "$hs_row" trap 127.0.9.1 "$port" "$hs_row/backup.scr" ||
			why+="trap did not start; "; }
	fi
	hs_conf "$hs_row/h.conf" "${port:-2525}"
	chmod a+rx "$hs_row"; chmod a+r "$hs_row/msg.eml" "$hs_row/h.conf"

	if [[ -z $why ]]; then
		if [[ $mode == route ]]; then
			out=$(timeout 60 "$hs_pipe" -c "$hs_row/h.conf" --route "${args[0]}" --json 2>&1)
		else
			out=$(timeout 60 "${hs_as[@]}" "$hs_pipe" -c "$hs_row/h.conf" -q "$qid" "${args[@]:0:4}" -- \
				"${args[@]:4}" <"$hs_row/msg.eml" 2>&1)
		fi
		rc=$?
		first=${out%%$'\n'*}
		[[ $rc -eq $want_exit ]] || why+="exit $rc, want $want_exit; "
		[[ $first =~ $want_first ]] || why+="first line \"$first\" !~ /$want_first/; "
		if [[ $mode == route ]]; then
			[[ $want_journal == '^$' && -z ${out#"$first"} || $out =~ $want_journal ]] ||
				why+="route output !~ /$want_journal/; "
		else
			if [[ $want_env == none ]]; then
				seen=$(( $(hs_connections mx1) + $(hs_connections backup) + $(hs_connections trap) ))
				[[ $seen -eq 0 ]] || why+="$seen session(s) reached a server, want none; "
			else
				peer=mx1
				[[ $want_env =~ ^(mx1|backup):\ (.*) ]] && peer=${BASH_REMATCH[1]} want_env=${BASH_REMATCH[2]}
				env=$(hs_envelope "$peer")
				# body rows: what the peer received in DATA (dots unstuffed),
				# and it must be exactly one message
				[[ -n $hs_body ]] && env+=" ; DATA $(cat "$hs_row/$peer.dump" 2>/dev/null; echo .)" &&
					env=${env%.}
				[[ -n $hs_body && $(grep -c '^# data' "$hs_row/$peer.log") -ne 1 ]] &&
					why+="$peer did not get exactly one message; "
				printf -v want_env '%b' "$want_env"
				[[ $env == "$want_env" ]] || why+="$peer got \"$env\", want \"$want_env\"; "
			fi
			[[ $(hs_connections trap) -eq 0 ]] || why+="the trap in ignore_networks was reached; "
			rows=$(journal_decisions "$hs_row/journal/journal.db" "$qid")
			[[ $rows == "$want_journal" ]] || why+="journal \"$rows\", want \"$want_journal\"; "
		fi
	fi
	peer_stop_all
	report_result "hostile $name" "$why" "${out:-}"
}

# hs_helo_row NAME HOSTNAME EXIT FIRST EHLO - with smtp.helo_name empty, in
# a UTS namespace whose host name is HOSTNAME: the exit status, the first
# line, and the EHLO line mx1 got ("none": no session at all). Needs root
# (unshare -u); without it the row fails, it is never skipped.
hs_helo_row() {
	local name=$1 host=$2 want_exit=$3 want_first=$4 want_ehlo=$5 out rc why= port= ehlo
	hs_begin_row "$name"
	hs_script 1 >"$hs_row/mx1.scr"
	peer_start "$hs_row" mx1 127.0.2.1 0 "$hs_row/mx1.scr" && port=$PEER_PORT || why+="mx1 did not start; "
	hs_conf "$hs_row/h.conf" "${port:-2525}"
	sed -i 's/helo_name = "client.mxtier.test"/helo_name = ""/' "$hs_row/h.conf"
	printf 'Subject: helo\n\nbody\n' >"$hs_row/msg.eml"
	chmod a+rx "$hs_row"; chmod a+r "$hs_row/msg.eml" "$hs_row/h.conf"
	if [[ -z $why ]]; then
		out=$(timeout 60 unshare -u sh -c 'hostname "$1" && shift && exec "$@"' sh "$host" \
			"${hs_as[@]}" "$hs_pipe" -c "$hs_row/h.conf" -f s@client.test -d ok.h.test -- u@ok.h.test \
			<"$hs_row/msg.eml" 2>&1)
		rc=$?
		[[ $rc -eq $want_exit ]] || why+="exit $rc, want $want_exit; "
		[[ ${out%%$'\n'*} =~ $want_first ]] || why+="first line \"${out%%$'\n'*}\" !~ /$want_first/; "
		ehlo=$(grep -m1 '^C: EHLO' "$hs_row/mx1.log" 2>/dev/null)
		ehlo=${ehlo#C: }
		[[ ${ehlo:-none} == "$want_ehlo" ]] || why+="mx1 got \"${ehlo:-none}\", want \"$want_ehlo\"; "
	fi
	peer_stop_all
	report_result "hostile $name" "$why" "${out:-}"
}

# hs_idn_missing_row NAME - libidn2 hidden (a private mount namespace binds
# /dev/null over it): a non-ASCII domain defers as a local problem, never
# bounces, and no server is reached. Needs root; without it the row fails.
hs_idn_missing_row() {
	local name=$1 lib out rc why= port=
	hs_begin_row "$name"
	lib=$(readlink -f "$(ldconfig -p | awk '$1 == "libidn2.so.0" { print $NF; exit }')")
	[[ -f $lib ]] || why+="libidn2.so.0 not found with ldconfig -p; "
	hs_script 1 >"$hs_row/mx1.scr"
	peer_start "$hs_row" mx1 127.0.2.1 0 "$hs_row/mx1.scr" && port=$PEER_PORT || why+="mx1 did not start; "
	hs_conf "$hs_row/h.conf" "${port:-2525}"
	printf 'Subject: idn\n\nbody\n' >"$hs_row/msg.eml"
	chmod a+rx "$hs_row"; chmod a+r "$hs_row/msg.eml" "$hs_row/h.conf"
	if [[ -z $why ]]; then
		out=$(timeout 60 unshare -m sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' sh "$lib" \
			"${hs_as[@]}" "$hs_pipe" -c "$hs_row/h.conf" -f s@client.test -d "$(printf 'b\303\274cher.h.test')" \
			-- "$(printf 'u@b\303\274cher.h.test')" <"$hs_row/msg.eml" 2>&1)
		rc=$?
		[[ $rc -eq 75 ]] || why+="exit $rc, want 75; "
		[[ ${out%%$'\n'*} =~ ^4\.3\.0\ mxtier-pipe:\ cannot\ load\ libidn2 ]] ||
			why+="first line \"${out%%$'\n'*}\" does not say libidn2 cannot be loaded; "
		[[ $(hs_connections mx1) -eq 0 ]] || why+="a server was reached; "
	fi
	peer_stop_all
	report_result "hostile $name" "$why" "${out:-}"
}

# hs_cleanup - stop the row's peers and both faultdns (also on interrupt:
# run-tests.sh's cleanup calls it)
hs_cleanup() {
	local p
	peer_stop_all
	for p in "${hs_dns_pids[@]}"; do kill "$p" 2>/dev/null; done
	hs_dns_pids=()
}

# hs_faultdns RULES VAR - start faultdns on RULES; VAR gets ADDR:PORT
hs_faultdns() {
	world_faultdns_at "$1" 900 || return 1
	printf -v "$2" '%s' "$FAULTDNS_AT"
	hs_dns_pids+=("$FAULTDNS_PID")
}

echo "== the hostile-input table (tests/hostile/rows)"
mkdir -p "$hs_dir"
chmod 0755 "$run" "$hs_dir"
hs_dns= hs_refuser=
cp "$top/tests/hostile/hostile.rules" "$hs_dir/good.rules"
# every name of the zone, and the names the rows ask for that it lacks, REFUSED
{
	awk '$1 !~ /^#/ && NF >= 3 { print $1 " * @refused" }' "$top/tests/hostile/hostile.rules" | sort -u
	echo "gone.h.test * @refused"
} >"$hs_dir/refuse.rules"
hs_faultdns "$hs_dir/refuse.rules" hs_refuser
hs_faultdns "$hs_dir/good.rules" hs_dns
if [[ -z $hs_dns || -z $hs_refuser ]]; then
	note_result "hostile: faultdns did not start: $(cat "$hs_dir"/*.err)" fail
else
	while IFS='|' read -r -u 9 name mode hargs want_exit want_first want_env want_journal; do
		name=$(echo $name)
		[[ -z $name || $name == \#* ]] && continue
		mode=$(echo $mode) want_exit=$(echo $want_exit)
		hargs=$(sed 's/^ *//; s/ *$//' <<<"$hargs")
		want_first=$(sed 's/^ *//; s/ *$//' <<<"$want_first")
		want_env=$(sed 's/^ *//; s/ *$//' <<<"$want_env")
		want_journal=$(sed 's/^ *//; s/ *$//' <<<"$want_journal")
		hs_run_row "$name" "$mode" "$hargs" "$want_exit" "$want_first" "$want_env" "$want_journal"
	done 9<"${MXT_HOSTILE_ROWS:-$top/tests/hostile/rows}"
	# HELO: an empty smtp.helo_name is this host's fully qualified name; a
	# name without a dot stops before any session, instead of a 504
	hs_helo_row helo_is_the_fqdn relay.client-h.test 0 '^2\.0\.0 delivered' 'EHLO relay.client-h.test'
	hs_helo_row helo_without_dot_defers nodot 75 \
		'^4\.3\.5 mxtier-pipe: this host.s name "nodot" is not a fully qualified domain name.*set smtp\.helo_name' none	# libidn2 is loaded only for a non-ASCII name; when it cannot be, defer
	hs_idn_missing_row idn_library_missing_defers
fi
hs_cleanup
