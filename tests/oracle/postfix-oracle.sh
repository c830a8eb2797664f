# tests/oracle/postfix-oracle.sh - Postfix's own smtp(8) delivers in the
# order mxtier's route oracle gives (sourced by tests/run-tests.sh; uses
# report_result, $run, $top)
#
# A private Postfix (tests/mta/lib.sh) asks `mxtier-pipe --socketmap`, run
# per connection by a spawn(8) service on 127.0.0.1, for its transport
# (transport_maps) and its TLS policy (smtp_tls_policy_maps). Its smtp(8)
# client resolves the bracketed MX host names of the answers itself, through
# the Unbound on 127.0.0.153:53 of tests/oracle/lib.sh (the world: zone
# orc.test on 127.0.12.x, peers on port 2525); bounces to the sender domain
# client.test go to the local mailbox (a regexp table before the socketmap).
#
# Cases (the truth: the peers' dumps and -v logs, Postfix's status lines,
# postqueue -j, and what listened where):
#   postmap -q: the exact answers of transport lookups (address, bare
#     domain, null MX, NXDOMAIN, DNS outage, "*", not an address) and of a
#     tls lookup
#   RCPT TO  smtpd's reject_unlisted_recipient asks the oracle while the
#            client is still there: null MX and NXDOMAIN 550, outage 4xx
#   refuse   primary refuses: arrives at the backup (relay= the backup)
#   nullmx   (queued by a second smtpd without that check) bounced 5.1.10,
#            no peer saw it
#   nx       likewise, bounced 5.1.2
#   outage   likewise, deferred, and still in the queue
#   backoff  the primary of boff.orc.test refuses one delivery; mxtier-import
#            reads Postfix's log into the journal (the primary's address is
#            in backoff); the primary then listens, and yet the next answer
#            lists it last and the next message goes to the backup, the
#            primary seeing no session at all
#   no table warnings in the log but those of the outage
# (ORC_PIPE, ORC_IMPORT: other binaries, to check these checks.)

po_dir=$run/oracle-postfix
MTA_DIR=$po_dir/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
. "$top/tests/oracle/lib.sh"
po_t0=$(date +%s)
po_zone=orc.test
po_net=127.0.12
po_from=pf@client.test

# po_setup - DNS, peers, the oracle's service, Postfix; false (why on stderr)
po_setup() {
	local sport
	mta_world_lock 600 || return 1
	orc_world_start "$po_dir/world" "$po_zone" "$po_net" || return 1
	mta_sink_start mx2.refuse "$po_net.2" 2525 -v || return 1
	mta_sink_start mx2.boff "$po_net.4" 2525 -v || return 1
	orc_nothing_listens "$po_net.1" "$po_net.3" || return 1
	sport=$(_mta_free_port) || return 1
	po_qport=$(_mta_free_port) || return 1
	[[ $po_qport != "$sport" ]] || { mta_log "the same free port twice"; return 1; }
	po_map=socketmap:inet:127.0.0.1:$sport
	# a pattern table: Postfix asks every table for the full address before
	# any for the domain, so a domain key of a hash table would never win
	# over the socketmap
	printf '/@client\\.test$/\tmailbox:\n' >"$po_dir/local-transport"
	MTA_POSTFIX_TRANSPORT_MAPS="regexp:$po_dir/local-transport, $po_map:transport"
	MTA_POSTFIX_MAIN="smtp_address_preference = ipv4
smtp_connect_timeout = 5s
smtp_tls_policy_maps = $po_map:tls"
	# the oracle, one process per connection; and a second smtpd that
	# queues what the first rejects at RCPT (the bounce and defer paths);
	# tlsmgr: the tls answers (may) make smtp(8) start its TLS client
	MTA_POSTFIX_MASTER="127.0.0.1:$sport inet n n n - 0 spawn user=nobody argv=$ORC_PIPE -c $(orc_conf) --socketmap
127.0.0.1:$po_qport inet n - n - - smtpd -o smtpd_reject_unlisted_recipient=no
tlsmgr unix - - n 1000? 1 tlsmgr"
	mta_postfix_start "$po_dir/postfix" /bin/true || return 1
	unset MTA_POSTFIX_TRANSPORT_MAPS MTA_POSTFIX_MAIN MTA_POSTFIX_MASTER
}

# po_q KEY [TABLE] - postmap -q KEY against the oracle: "rc=N VALUE"
po_q() {
	local out rc
	out=$(timeout 30 postmap -c "$po_dir/postfix/etc" -q "$1" "$po_map:${2:-transport}" 2>"$po_dir/postmap.err")
	rc=$?
	echo "rc=$rc $out"
}

# po_check_q NAME KEY TABLE WANT - the answer matches the regex WANT
po_check_q() {
	local got
	got=$(po_q "$2" "$3")
	report_result "oracle postfix: postmap -q $1" \
		"$([[ $got =~ $4 ]] || echo "\"$got\" !~ /$4/ $(head -c 300 "$po_dir/postmap.err")")"
}

# po_message CASE - write a message file with its marker header; prints its path
po_message() {
	local f=$po_dir/msg/$1.eml
	printf 'From: %s\nTo: u@x.%s\nSubject: oracle %s\nX-Mxt-Case: %s\n\nbody of %s\n' \
		"$po_from" "$po_zone" "$1" "pf-$1" "$1" >"$f"
	echo "$f"
}

# po_stored CASE - "SINK RCPTS" of each stored message with the case's marker
po_stored() {
	local name f
	mta_sink_find "X-Mxt-Case: pf-$1" | while read -r name f; do
		echo "$name $(mta_sink_file_rcpts "$f" | sed 's/^<\([^>]*\)>.*/\1/' | paste -sd,)"
	done | paste -sd';'
}

# po_sessions SINK - EHLO/HELO commands the sink received (its sessions)
po_sessions() {
	mta_sink_commands "$1" | grep -c '^\(EHLO\|HELO\) '
}

# po_send PORT RCPT FILE - inject over SMTP at 127.0.0.1:PORT; prints the queue id
po_send() {
	local reply
	reply=$(mta_smtp_send 127.0.0.1 "$1" "$po_from" "$2" "$3" 2>>"$po_dir/inject.log") ||
		{ mta_log "postfix refused the message: $reply"; return 1; }
	[[ $reply =~ queued\ as\ ([0-9A-Za-z]+) ]] || { mta_log "no queue id in: $reply"; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# po_rcpt CASE RCPT WANT - smtpd (reject_unlisted_recipient, the default)
# asks the oracle at RCPT time: the reply to RCPT TO matches the regex WANT
po_rcpt() {
	local got
	got=$(mta_smtp_send 127.0.0.1 "$(cat "$po_dir/postfix/port")" "$po_from" "$2" \
		"$(po_message "rcpt-$1")" 2>>"$po_dir/inject.log")
	report_result "oracle postfix: RCPT TO $1" "$([[ $got =~ $3 ]] || echo "reply \"$got\" !~ /$3/")"
}

# po_deliver CASE RCPT WANT STORED [PORT] - send (to the smtpd on PORT,
# default the main one), wait for the outcome, compare it (regex WANT) and
# what the peers stored ("none" or "SINK RCPTS")
po_deliver() {
	local c=$1 rcpt=$2 want=$3 stored=$4 port=${5:-$(cat "$po_dir/postfix/port")} qid out s why=
	qid=$(po_send "$port" "$rcpt" "$(po_message "$c")") ||
		{ report_result "oracle postfix: $c" "Postfix did not take the message"; return 1; }
	po_qid[$c]=$qid
	out=$(mta_postfix_wait "$po_dir/postfix" "$qid")
	[[ $out =~ $want ]] || why+="outcome \"$out\" !~ /$want/; "
	s=$(po_stored "$c")
	[[ ${s:-none} == "$stored" ]] || why+="peers stored \"${s:-none}\", want \"$stored\"; "
	report_result "oracle postfix: $c" "$why" "$(grep ": $qid: " "$po_dir/postfix/maillog" | tail -4)"
}

# po_warnings - table warnings in the maillog other than the outage's:
# a temporary error is logged in two lines, the second naming the key
po_warnings() {
	grep -E 'warning: .*(socketmap|127\.0\.0\.1:[0-9]+:(transport|tls))' "$po_dir/postfix/maillog" |
		grep -v " postfix/postmap\[" |
		grep -v -e "lookup error for \"[^\"]*@outage\.$po_zone\"" -e 'socketmap server temporary error: ' |
		head -3
	# every temporary error is followed by the outage key's lookup error
	awk -v key="@outage.$po_zone\"" '
		/postfix\/postmap\[/ { next }
		/socketmap server temporary error: / { pid = $5; line = $0; next }
		pid != "" && $5 == pid { if (index($0, "lookup error for") && index($0, key)) pid = ""; next }
		END { if (pid != "") print "unexplained: " line }' "$po_dir/postfix/maillog"
}

po_run() {
	local a=$po_net why out
	declare -gA po_qid=()
	mkdir -p "$po_dir/msg"
	# the exact answers (tls: mxtier's default level, opportunistic)
	po_check_q "address" "u@refuse.$po_zone" transport \
		"^rc=0 smtp:\[mx1\.refuse\.$po_zone\]:2525, \[mx2\.refuse\.$po_zone\]:2525$"
	po_check_q "bare domain" "refuse.$po_zone" transport \
		"^rc=0 smtp:\[mx1\.refuse\.$po_zone\]:2525, \[mx2\.refuse\.$po_zone\]:2525$"
	po_check_q "null MX" "u@nullmx.$po_zone" transport '^rc=0 error:5\.1\.10 .'
	po_check_q "NXDOMAIN" "u@nx.$po_zone" transport '^rc=0 error:5\.1\.2 .'
	# TEMP: postmap reports a lookup error and prints nothing
	po_check_q "DNS outage" "u@outage.$po_zone" transport '^rc=[1-9][0-9]* $'
	po_check_q "*" "*" transport '^rc=1 $'
	po_check_q "not an address" "no domain here" transport '^rc=1 $'
	po_check_q "tls" "[mx2.refuse.$po_zone]:2525" tls '^rc=0 may$'
	# deliveries
	po_deliver refuse "u@refuse.$po_zone" \
		"^sent 2\.0\.0 250 " "mx2.refuse u@refuse.$po_zone"
	out=$(grep ": ${po_qid[refuse]:-none}: to=<" "$po_dir/postfix/maillog" | tail -1)
	report_result "oracle postfix: refuse went to the backup's address" \
		"$([[ $out == *" relay=mx2.refuse.${po_zone}[$a.2]:2525,"* ]] || echo "relay not mx2: $out")"
	# smtpd asks at RCPT time already: the sender hears of it at once
	po_rcpt nullmx "u@nullmx.$po_zone" '^550 5\.1\.[0-9]+ .*<u@nullmx\.orc\.test>'
	po_rcpt nx "u@nx.$po_zone" '^550 5\.1\.[0-9]+ .*<u@nx\.orc\.test>'
	po_rcpt outage "u@outage.$po_zone" '^4[0-9][0-9] 4\.[0-9.]+ .*<u@outage\.orc\.test>'
	# queued anyway (the second smtpd): bounced, bounced, deferred
	po_deliver nullmx "u@nullmx.$po_zone" '^bounced 5\.1\.10 ' none "$po_qport"
	out=$(mta_postfix_bounce_text "$po_dir/postfix" "${po_qid[nullmx]:-none}" 2>&1)
	report_result "oracle postfix: the sender got the null MX bounce" \
		"$([[ $out == *"Status: 5.1.10"* ]] || echo "no \"Status: 5.1.10\" in the bounce")" "$out"
	po_deliver nx "u@nx.$po_zone" '^bounced 5\.1\.2 ' none "$po_qport"
	po_deliver outage "u@outage.$po_zone" '^deferred 4\.' none "$po_qport"
	out=$(mta_postfix_queue_json "$po_dir/postfix" 2>/dev/null | jq -r '.queue_id' | paste -sd' ')
	report_result "oracle postfix: outage stays queued" \
		"$([[ -n ${po_qid[outage]:-} && $out == "${po_qid[outage]}" ]] ||
			echo "postqueue -j lists \"$out\", want \"${po_qid[outage]:-}\"")"
	# backoff: before, mx1 first; the primary refuses, the backup takes it
	po_check_q "boff before" "u@boff.$po_zone" transport \
		"^rc=0 smtp:\[mx1\.boff\.$po_zone\]:2525, \[mx2\.boff\.$po_zone\]:2525$"
	po_deliver boff1 "u@boff.$po_zone" "^sent 2\.0\.0 250 " "mx2.boff u@boff.$po_zone"
	grep -v ' postfix/\(master\|postfix-script\|postlog\)\[' "$po_dir/postfix/maillog" >"$po_dir/maillog.1"
	why=$(orc_import "$po_dir/maillog.1")
	[[ -n $why ]] || { out=$(orc_backoff "mx1.boff.$po_zone"); [[ $out == "backoff "* ]] ||
		why="mx1.boff is \"$out\" in the journal, want backoff"; }
	report_result "oracle postfix: the refused primary is in backoff after mxtier-import" "$why"
	mta_sink_start mx1.boff "$a.3" 2525 -v ||
		{ report_result "oracle postfix: backoff" "the primary's sink did not start"; return; }
	po_check_q "boff after backoff" "u@boff.$po_zone" transport \
		"^rc=0 smtp:\[mx2\.boff\.$po_zone\]:2525, \[mx1\.boff\.$po_zone\]:2525$"
	po_deliver boff2 "v@boff.$po_zone" "^sent 2\.0\.0 250 " "mx2.boff v@boff.$po_zone"
	out=$(po_sessions mx1.boff)
	report_result "oracle postfix: the primary in backoff saw no session" \
		"$([[ $out == 0 ]] || echo "$out sessions on mx1.boff")"
	out=$(po_warnings)
	report_result "oracle postfix: no table warnings but the outage's" "$([[ -z $out ]] || echo "$out")"
}

po_main() {
	echo "== Postfix's smtp(8) with mxtier-pipe --socketmap as transport and TLS policy oracle"
	rm -rf "$po_dir"
	mkdir -p "$po_dir"
	if ! po_setup 2>"$po_dir/setup.err"; then
		report_result "oracle postfix: world" "the world did not start: $(tail -3 "$po_dir/setup.err")"
	else
		po_run
	fi
	mta_stop_all
	orc_stop
	echo "   (oracle postfix: $(($(date +%s) - po_t0)) s)"
}

po_main
