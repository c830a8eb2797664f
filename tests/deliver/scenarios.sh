# tests/deliver/scenarios.sh - delivery scenarios end to end (sourced by
# tests/run-tests.sh; uses note_result, $run, $top, MXT_DNS)
#
# Real components only: Unbound serves dlv.test (tests/world/zones.conf),
# Postfix's smtp-sink plays every MX host on 127.0.0.x:2525 with its
# failure options, and mxtier-pipe delivers - first called directly (every
# preset), then through a private Postfix (pipe(8)) and an unpacked Exim
# (pipe transport). Each case checks the exit status or the MTA's outcome,
# the first line of output, the journal rows, and what the sinks stored:
# every sink's count grew by exactly what the case wants (one message at
# one sink, or nothing anywhere), and, found by a header unique to the case
# (X-Mxt-Case:), the message was stored exactly once, at that sink, for
# exactly its one recipient (X-Rcpt-Args), with its body intact. A second
# copy anywhere, or none, fails the case.

MTA_DIR=$run/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"

dlv_pipe=$top/plugin/mxtier-pipe
# mxtier-pipe refuses to deliver as root: run it as the MTAs do (user=nobody)
dlv_as=()
[[ $(id -u) -eq 0 ]] && dlv_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
dlv_dir=$run/deliver
mkdir -p "$dlv_dir"

# The sinks: name address options. Nothing listens on .31, .81, .82, .92, .101.
dlv_sinks=(
	"ok1 127.0.0.21"
	"ok2 127.0.0.22"
	"ref2 127.0.0.32"
	"greet1 127.0.0.41 -Q connect"
	"greet2 127.0.0.42"
	"grey1 127.0.0.51 -b 451_4.7.1_greylisted,_try_later -r rcpt"
	"grey2 127.0.0.52"
	"rej1 127.0.0.61 -B 550_5.1.1_no_such_user -f rcpt"
	"rej2 127.0.0.62"
	"drop1 127.0.0.71 -q ."
	"relay 127.0.0.91"
	"boff2 127.0.0.102"
)

# dlv_conf NAME PRESET [EXTRA] - a config with its own journal
dlv_conf() {
	local f=$dlv_dir/$1.conf
	mkdir -p "$dlv_dir/journal-$1"
	cat >"$f" <<CONF
resolver { timeout = 2  tries = 1 }
policy {
	fallback = "$2"
	ignore_networks = {}
	backoff_initial = 600
	${3:-}
}
smtp { port = 2525  helo_name = "client.mxtier.test"  connect_timeout = 5  greeting_timeout = 10
       rcpt_timeout = 10  data_done_timeout = 10 }
spool { directory = "$dlv_dir/spool" }
journal { path = "$dlv_dir/journal-$1/journal.db" }
CONF
	mkdir -p "$dlv_dir/spool"
	mta_nobody_path "$f" "$dlv_dir/journal-$1/" "$dlv_dir/spool/" >/dev/null
	echo "$f"
}

# dlv_counts - "name=count ..." of every sink
dlv_counts() {
	local s out=
	for s in "${dlv_sinks[@]}"; do
		set -- $s
		out+="$1=$(mta_sink_messages "$1") "
	done
	echo "$out"
}

# dlv_changed BEFORE AFTER - the sinks whose count grew, each named once
# per message it got ("ok1 ok1": two), "none" if none
dlv_changed() {
	local b a n out=
	for a in $2; do
		for b in $1; do
			[[ ${a%%=*} == "${b%%=*}" ]] || continue
			for ((n = ${b#*=}; n < ${a#*=}; n++)); do
				out+="${a%%=*} "
			done
		done
	done
	out=${out% }
	echo "${out:-none}"
}

# dlv_marked MSG MARKER - a copy of MSG whose first header is
# "X-Mxt-Case: MARKER"; prints its path
dlv_marked() {
	local f=$dlv_dir/case-$2.eml
	{ printf 'X-Mxt-Case: %s\n' "$2"; cat "$1"; } >"$f"
	chmod a+r "$f"
	echo "$f"
}

# dlv_arrivals MARKER WANT_SINK RCPT MSG - the sinks' own record of the
# message marked MARKER: stored exactly once, at WANT_SINK (none: nowhere),
# for exactly RCPT, with MSG's body. Prints what is wrong, nothing if all
# is well.
dlv_arrivals() {
	local marker=$1 want=$2 rcpt=$3 msg=$4 name file r got= bad=
	while read -r name file; do
		[[ -n $name ]] || continue
		got+="$name "
		r=$(mta_sink_file_rcpts "$file" | tr '\n' ' ')
		[[ $r == "<$rcpt> " ]] || bad+="$name stored it for \"${r% }\", want <$rcpt>; "
		[[ $(mta_sink_file_body_hash "$file") == $(mta_body_hash "$msg") ]] ||
			bad+="the body stored at $name differs from the message; "
	done < <(mta_sink_find "X-Mxt-Case: $marker")
	got=${got% }
	[[ ${got:-none} == "$want" ]] || bad="the message was stored at: ${got:-none}, want $want; $bad"
	printf '%s' "$bad"
}

# dlv_journal CONF QID - "stage:outcome:decision" of its rows, in order
dlv_journal() {
	local db
	db=$(sed -n 's/^journal { path = "\(.*\)" }$/\1/p' "$1")
	sqlite3 "$db" "select group_concat(ifnull(stage,'-') || ':' || outcome || ':' || decision, ' ')
		from (select * from attempts where queue_id = '$2' order by id)" 2>&1
}

# dlv_message FILE SIZE_KB - a message with complete headers and tricky lines
dlv_message() {
	{
		printf 'From: sender@client.test\nTo: user@dlv.test\nSubject: mxtier test\n'
		printf 'Date: Sun, 22 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@client.test>\n\n' "$RANDOM$RANDOM"
		printf '.a line that starts with a dot\n..two dots\n.\nbody line\n'
		if [[ ${2:-0} -gt 0 ]]; then
			head -c $(( $2 * 1024 )) /dev/urandom | base64 -w 76
		fi
		printf 'last line\n'
	} >"$1"
}

dlv_ok() {	# NAME OK? WHY - count a case
	if [[ $2 == ok ]]; then
		echo "[       OK ] deliver $1"
	else
		echo "[  FAILED  ] deliver $1: $3"
	fi
	note_result "deliver $1" "$2"
}

# dlv_direct NAME CONF DOMAIN EXIT LINE_REGEX SINK JOURNAL [SENDER] [MSG]
# Run mxtier-pipe as an MTA would and check everything.
dlv_direct() {
	local name=$1 conf=$2 domain=$3 want_exit=$4 want_line=$5 want_sink=$6 want_journal=$7
	local sender=${8-sender@client.test} msg=${9:-$dlv_dir/msg.eml}
	local qid=D$RANDOM$RANDOM before after out rc first got_sink rows why=
	msg=$(dlv_marked "$msg" "$name.$qid")
	before=$(dlv_counts)
	out=$(timeout 120 "${dlv_as[@]}" "$dlv_pipe" -c "$conf" --dns-server "$MXT_DNS" -q "$qid" -f "$sender" \
		-d "$domain" -- "user@$domain" <"$msg" 2>&1)
	rc=$?
	after=$(dlv_counts)
	first=${out%%$'\n'*}
	got_sink=$(dlv_changed "$before" "$after")
	rows=$(dlv_journal "$conf" "$qid")
	[[ $rc -eq $want_exit ]] || why+="exit $rc, want $want_exit; "
	[[ $first =~ $want_line ]] || why+="first line \"$first\" !~ /$want_line/; "
	[[ $got_sink == "$want_sink" ]] || why+="sink got: $got_sink, want $want_sink; "
	[[ $rows == $want_journal ]] || why+="journal \"$rows\", want \"$want_journal\"; "
	why+=$(dlv_arrivals "$name.$qid" "$want_sink" "user@$domain" "$msg")
	if [[ -z $why ]]; then dlv_ok "$name" ok; else dlv_ok "$name" fail "$why"; fi
}

dlv_setup_sinks() {
	local s name addr opts
	for s in "${dlv_sinks[@]}"; do
		set -- $s
		name=$1 addr=$2
		shift 2
		opts=()
		for o in "$@"; do opts+=("${o//_/ }"); done
		mta_sink_start "$name" "$addr" 2525 "${opts[@]}" || return 1
	done
}

echo "== delivery scenarios (mxtier-pipe direct, smtp-sink peers)"
# the sink addresses are fixed by the zone: one run on this machine at a time
if ! mta_world_lock 900 || ! dlv_setup_sinks; then
	note_result "deliver: sinks" fail
else
	dlv_message "$dlv_dir/msg.eml" 0
	dlv_message "$dlv_dir/big.eml" 6144		# about 8 MB after base64
	for preset in postfix greeting qmail; do
		dlv_conf "$preset" "$preset" >/dev/null
	done
	c_pf=$dlv_dir/postfix.conf c_gr=$dlv_dir/greeting.conf c_qm=$dlv_dir/qmail.conf
	c_relay=$(dlv_conf relay postfix 'fallback_relay = { "relay.dlv.test:2525" }')

	dlv_direct healthy "$c_pf" ok.dlv.test 0 '^2\.0\.0 delivered via mx1\.ok\.dlv\.test\[127\.0\.0\.21\]:2525' ok1 'dot:delivered:done'
	dlv_direct null_sender "$c_pf" ok.dlv.test 0 '^2\.0\.0 ' ok1 'dot:delivered:done' ''
	dlv_direct big_message "$c_pf" ok.dlv.test 0 '^2\.0\.0 ' ok1 'dot:delivered:done' sender@client.test "$dlv_dir/big.eml"
	dlv_direct primary_refused_backup "$c_pf" refused.dlv.test 0 'backup\.refused\.dlv\.test\[127\.0\.0\.32\]' ref2 'connect:tempfail:next_tier dot:delivered:done'
	dlv_direct greeting_421_postfix "$c_pf" greet.dlv.test 0 'backup\.greet' greet2 'greeting:tempfail:next_tier dot:delivered:done'
	dlv_direct greeting_421_greeting "$c_gr" greet.dlv.test 0 'backup\.greet' greet2 'greeting:tempfail:next_tier dot:delivered:done'
	dlv_direct greeting_421_qmail "$c_qm" greet.dlv.test 75 '^4\.[0-9.]+ host mx1\.greet\.dlv\.test\[127\.0\.0\.41\] refused to talk to me: 421' none 'greeting:tempfail:defer'
	dlv_direct greylist_postfix "$c_pf" grey.dlv.test 0 'backup\.grey' grey2 'rcpt:tempfail:next_tier dot:delivered:done'
	dlv_direct greylist_greeting "$c_gr" grey.dlv.test 75 '^4\.7\.1 host mx1\.grey\.dlv\.test\[127\.0\.0\.51\] said: 451 4\.7\.1 greylisted' none 'rcpt:tempfail:defer'
	dlv_direct greylist_qmail "$c_qm" grey.dlv.test 75 '451 4\.7\.1 greylisted.*RCPT TO' none 'rcpt:tempfail:defer'
	dlv_direct rcpt_5xx_bounce "$c_pf" reject.dlv.test 67 '^5\.1\.1 host mx1\.reject\.dlv\.test\[127\.0\.0\.61\] said: 550 5\.1\.1 no such user \(in reply to RCPT TO command\)' none 'rcpt:permfail:bounce'
	dlv_direct dropped_after_dot "$c_pf" dropdot.dlv.test 75 '^4\.4\.2 lost connection with mx1\.dropdot\.dlv\.test\[127\.0\.0\.71\] while sending end of data' drop1 'dot:tempfail:defer'
	dlv_direct all_hosts_fail "$c_pf" allfail.dlv.test 75 '^4\.4\.1 connect to mx2\.allfail\.dlv\.test\[127\.0\.0\.82\]:2525: Connection refused' none 'connect:tempfail:next_tier connect:tempfail:defer'
	dlv_direct null_mx "$c_pf" nullmx.dlv.test 68 '^5\.1\.10 domain nullmx\.dlv\.test does not accept mail' none '-:permfail:bounce'
	dlv_direct nxdomain "$c_pf" nosuch.dlv.test 68 '^5\.1\.2 domain nosuch\.dlv\.test does not exist' none '-:permfail:bounce'
	dlv_direct fallback_relay "$c_relay" relayed.dlv.test 0 'relay\.dlv\.test\[127\.0\.0\.91\]:2525' relay 'connect:tempfail:fallback_relay dot:delivered:done'
	# a journal that cannot be opened never changes the delivery; the status
	# line still comes first and the warning follows it
	c_nojournal=$(dlv_conf nojournal postfix)
	sed -i "s|^journal { path = .*|journal { path = \"$dlv_dir/no-such-dir/journal.db\" }|" "$c_nojournal"
	m=$(dlv_marked "$dlv_dir/msg.eml" nojournal.$$)
	before=$(dlv_counts)
	out=$(timeout 120 "${dlv_as[@]}" "$dlv_pipe" -c "$c_nojournal" --dns-server "$MXT_DNS" -f a@client.test \
		-d ok.dlv.test -- user@ok.dlv.test <"$m" 2>&1)
	rc=$?
	got=$(dlv_changed "$before" "$(dlv_counts)")
	why=$(dlv_arrivals nojournal.$$ ok1 user@ok.dlv.test "$m")
	if [[ $rc -eq 0 && ${out%%$'\n'*} == "2.0.0 delivered via mx1.ok.dlv.test"* &&
	      $(printf '%s\n' "$out" | sed -n 2p) == "mxtier-pipe: warning: journal "*"no-such-dir"* &&
	      $got == ok1 && -z $why ]]; then
		dlv_ok journal_unavailable_still_delivers ok
	else
		dlv_ok journal_unavailable_still_delivers fail "exit $rc, sinks got: $got, $why output: $out"
	fi
	dlv_direct backoff_first "$c_pf" backoff.dlv.test 0 'backup\.backoff' boff2 'connect:tempfail:next_tier dot:delivered:done'
	dlv_direct backoff_skips_failed_host "$c_pf" backoff.dlv.test 0 'backup\.backoff' boff2 '-:skipped:next_tier dot:delivered:done'
fi

# dlv_mta_check NAME WHAT QID GOT WANT_REGEX BEFORE SINK CONF JOURNAL MARKER RCPT MSG
# WHAT: postfix or exim; GOT: the MTA's outcome line
dlv_mta_check() {
	local name=$1 qid=$3 got=$4 want=$5 before=$6 want_sink=$7 conf=$8 want_journal=$9
	local marker=${10} rcpt=${11} msg=${12} after got_sink rows why=
	after=$(dlv_counts)
	got_sink=$(dlv_changed "$before" "$after")
	rows=$(dlv_journal "$conf" "$qid")
	[[ $got =~ $want ]] || why+="outcome \"$got\" !~ /$want/; "
	[[ $got_sink == "$want_sink" ]] || why+="sink got: $got_sink, want $want_sink; "
	[[ $rows == $want_journal ]] || why+="journal \"$rows\", want \"$want_journal\"; "
	why+=$(dlv_arrivals "$marker" "$want_sink" "$rcpt" "$msg")
	if [[ -z $why ]]; then dlv_ok "$2 $name" ok; else dlv_ok "$2 $name" fail "$why"; fi
}

# dlv_postfix NAME DOMAIN WANT_REGEX SINK JOURNAL [QUEUED]
# inject through the private Postfix; QUEUED=queued: the message must still
# be in Postfix's queue afterwards (postqueue -j)
dlv_postfix() {
	local before qid got m marker=postfix.$1.$$
	m=$(dlv_marked "$dlv_dir/msg.eml" "$marker")
	before=$(dlv_counts)
	qid=$(mta_postfix_send "$pf_dir" sender@client.test "user@$2" "$m") || {
		dlv_ok "postfix $1" fail "injection failed"; return; }
	got=$(mta_postfix_wait "$pf_dir" "$qid")
	if [[ ${6:-} == queued ]] && ! mta_postfix_queue_json "$pf_dir" | grep -q "\"queue_id\": *\"$qid\""; then
		got+=" (NOT in the queue)"
	fi
	dlv_mta_check "$1" postfix "$qid" "$got" "$3" "$before" "$4" "$c_pfmta" "$5" "$marker" "user@$2" "$m"
}

# dlv_exim NAME DOMAIN WANT_REGEX SINK JOURNAL [QUEUED]
dlv_exim() {
	local before out id got m marker=exim.$1.$$
	m=$(dlv_marked "$dlv_dir/msg.eml" "$marker")
	before=$(dlv_counts)
	out=$(mta_exim_deliver "$ex_dir" sender@client.test "user@$2" "$m") || {
		dlv_ok "exim $1" fail "exim did not take the message"; return; }
	id=${out%% *}
	got=${out#* }
	if [[ ${6:-} == queued ]] && ! mta_exim_queue "$ex_dir" | grep -q "$id"; then
		got+=" (NOT in the queue)"
	fi
	dlv_mta_check "$1" exim "$id" "$got" "$3" "$before" "$4" "$c_exmta" "$5" "$marker" "user@$2" "$m"
}

if [[ ${#MTA_SINK_PID[@]} -gt 0 ]]; then
	echo "== delivery through a private Postfix (pipe(8) transport)"
	c_pfmta=$(dlv_conf postfix-mta postfix)
	pf_dir=$run/postfix
	if ! mta_postfix_start "$pf_dir" "$dlv_pipe" -c "$c_pfmta" --dns-server "$MXT_DNS" \
		-q '${queue_id}' -f '${sender}' -d '${nexthop}' -- '${recipient}'; then
		note_result "postfix: start" fail
	else
		dlv_postfix healthy ok.dlv.test '^sent 2\.0\.0 .*mx1\.ok\.dlv\.test\[127\.0\.0\.21\]' ok1 'dot:delivered:done'
		dlv_postfix primary_refused_backup refused.dlv.test '^sent 2\.0\.0 .*backup\.refused' ref2 'connect:tempfail:next_tier dot:delivered:done'
		dlv_postfix greeting_421 greet.dlv.test '^sent ' greet2 'greeting:tempfail:next_tier dot:delivered:done'
		dlv_postfix greylisting_primary grey.dlv.test '^sent .*backup\.grey' grey2 'rcpt:tempfail:next_tier dot:delivered:done'
		dlv_postfix rcpt_5xx_bounce reject.dlv.test '^bounced 5\.1\.1 host mx1\.reject\.dlv\.test\[127\.0\.0\.61\] said: 550 5\.1\.1 no such user' none 'rcpt:permfail:bounce'
		qid=$(sed -n 's/.*: \([0-9A-Z]*\): to=<user@reject\.dlv\.test>.*status=bounced.*/\1/p' "$pf_dir/maillog" | tail -1)
		if mta_postfix_bounce_text "$pf_dir" "$qid" | grep -q 'Status: 5\.1\.1' &&
		   mta_postfix_bounce_text "$pf_dir" "$qid" | grep -q 'mx1\.reject\.dlv\.test\[127\.0\.0\.61\] said: 550 5\.1\.1'; then
			dlv_ok "postfix bounce_names_host_and_reply" ok
		else
			dlv_ok "postfix bounce_names_host_and_reply" fail "bounce of $qid lacks Status: 5.1.1 or our line"
		fi
		dlv_postfix dropped_after_dot dropdot.dlv.test '^deferred 4\.4\.2 lost connection with mx1\.dropdot' drop1 'dot:tempfail:defer' queued
		dlv_postfix all_hosts_fail allfail.dlv.test '^deferred 4\.4\.1 connect to mx2\.allfail' none 'connect:tempfail:next_tier connect:tempfail:defer' queued
		dlv_postfix null_mx nullmx.dlv.test '^bounced 5\.1\.10 domain nullmx\.dlv\.test does not accept mail' none '-:permfail:bounce'
		dlv_postfix nxdomain nosuch.dlv.test '^bounced 5\.1\.2 ' none '-:permfail:bounce'
		dlv_postfix backoff_first backoff.dlv.test '^sent .*backup\.backoff' boff2 'connect:tempfail:next_tier dot:delivered:done'
		dlv_postfix backoff_skips backoff.dlv.test '^sent .*backup\.backoff' boff2 '-:skipped:next_tier dot:delivered:done'
	fi

	echo "== delivery through Exim (Debian's exim4 unpacked; pipe transport)"
	c_exmta=$(dlv_conf exim-mta postfix)
	ex_dir=$run/exim
	if ! mta_exim_setup "$ex_dir" "$dlv_pipe" -c "$c_exmta" --dns-server "$MXT_DNS" --exim; then
		note_result "exim: setup" fail
	else
		dlv_exim healthy ok.dlv.test '^delivered' ok1 'dot:delivered:done'
		dlv_exim primary_refused_backup refused.dlv.test '^delivered' ref2 'connect:tempfail:next_tier dot:delivered:done'
		dlv_exim greylisting_primary grey.dlv.test '^delivered' grey2 'rcpt:tempfail:next_tier dot:delivered:done'
		dlv_exim rcpt_5xx_bounce reject.dlv.test '^bounced .*5\.1\.1 host mx1\.reject\.dlv\.test\[127\.0\.0\.61\] said: 550 5\.1\.1 no such user' none 'rcpt:permfail:bounce'
		dlv_exim dropped_after_dot dropdot.dlv.test '^deferred .*4\.4\.2 lost connection' drop1 'dot:tempfail:defer' queued
		dlv_exim all_hosts_fail allfail.dlv.test '^deferred .*4\.4\.1 connect to mx2\.allfail' none 'connect:tempfail:next_tier connect:tempfail:defer' queued
		dlv_exim null_mx nullmx.dlv.test '^bounced .*5\.1\.10 ' none '-:permfail:bounce'
		dlv_exim nxdomain nosuch.dlv.test '^bounced .*5\.1\.2 ' none '-:permfail:bounce'
		dlv_exim backoff_first backoff.dlv.test '^delivered' boff2 'connect:tempfail:next_tier dot:delivered:done'
		dlv_exim backoff_skips backoff.dlv.test '^delivered' boff2 '-:skipped:next_tier dot:delivered:done'
	fi
fi
