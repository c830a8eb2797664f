# tests/deliver/nothing-lost.sh - nothing is lost under a real Postfix
# (sourced by tests/run-tests.sh after scenarios.sh, whose MTA helpers and
# dlv_marked it uses; needs note_result, $run, $top, $dlv_pipe)
#
# A private Postfix hands kill.dlv.test and burst.dlv.test to mxtier-pipe
# (pipe(8)); their MX hosts live on 127.0.1.11 and 127.0.1.12 and a faultdns
# of this test's own serves their names, so that it can be stopped.
#
# killed_mid_data: mxtier-pipe is SIGKILLed after the server said 354 to
#   DATA, while the message is on its way. Postfix must keep the message
#   queued (deferred), and the retry must deliver it exactly once, byte for
#   byte, for its one recipient (the SMTP peer's own record), with the
#   journal intact.
# dns_stopped_during_burst: 24 messages, one recipient each (user0 to
#   user23); the DNS server stops once the first one was sent. Every message
#   is then either sent or still queued, none bounced; with DNS back and the
#   queue flushed, each arrives exactly once: the sink stored one message
#   for each recipient (its X-Rcpt-Args), with the body intact, and nothing
#   else.

nl_dir=$run/nothing-lost
mkdir -p "$nl_dir"
chmod 0755 "$nl_dir"
. "$top/tests/smtp/peer.sh"

# nl_ok NAME WHY - count one case
nl_ok() {
	if [[ -z $2 ]]; then
		echo "[       OK ] nothing-lost $1"
		note_result "nothing-lost $1" ok
	else
		echo "[  FAILED  ] nothing-lost $1: $2"
		note_result "nothing-lost $1" fail
	fi
}

# nl_dns_start PORT - faultdns for the two domains on 127.0.0.1:PORT (0: any);
# sets nl_dns (ADDR:PORT) and nl_dns_pid
nl_dns_start() {
	world_faultdns_at "$nl_dir/nl.rules" 600 "$1" || return 1
	nl_dns=$FAULTDNS_AT nl_dns_pid=$FAULTDNS_PID
}

# nl_dns_stop - stop it and wait until it is gone
nl_dns_stop() {
	local i
	kill "$nl_dns_pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$nl_dns_pid" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -9 "$nl_dns_pid" 2>/dev/null
}

# nl_wait_log FILE REGEX [TRIES] - poll until FILE has a line matching REGEX
nl_wait_log() {
	local i
	for ((i = 0; i < ${3:-600}; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# nl_queued QID - is the message still in Postfix's queue?
nl_queued() { mta_postfix_queue_json "$nl_pf" | grep -q "\"queue_id\": *\"$1\""; }

echo "== nothing lost under Postfix (SIGKILL mid-DATA, DNS gone during a burst)"
cat >"$nl_dir/nl.rules" <<'EOF'
kill.dlv.test MX 10 mx.kill.dlv.test
mx.kill.dlv.test A 127.0.1.11
burst.dlv.test MX 10 mx.burst.dlv.test
mx.burst.dlv.test A 127.0.1.12
EOF
peer_script_healthy mx.kill >"$nl_dir/healthy.scr"
# the server takes the envelope, says 354 and then reads nothing: the client
# is stuck in the middle of DATA until it is killed
{
	printf 'send 220 mx.kill ESMTP\\r\\n\nexpect EHLO\nsend 250 mx.kill\\r\\n\n'
	printf 'expect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\nexpect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\n'
	printf 'expect DATA\nsend 354 go ahead\\r\\n\nsleep 60000\n'
} >"$nl_dir/stall.scr"

nl_pf=$nl_dir/postfix
nl_conf=$nl_dir/mxtier.conf
if ! nl_dns_start 0 || ! peer_start "$nl_dir" stall 127.0.1.11 0 "$nl_dir/stall.scr"; then
	nl_ok setup "the DNS server or the SMTP peer did not start"
else
	nl_port=$PEER_PORT
	cat >"$nl_conf" <<CONF
resolver { timeout = 1  tries = 1 }
policy { ignore_networks = {} }
smtp { port = $nl_port  helo_name = "client.mxtier.test" }
spool { directory = "$nl_dir/spool"  memory_limit = 65536 }
journal { path = "$nl_dir/journal/journal.db" }
CONF
	mta_nobody_path "$nl_conf" "$nl_dir/spool/" "$nl_dir/journal/" >/dev/null
	if ! mta_sink_start nlburst 127.0.1.12 "$nl_port" ||
	   ! mta_postfix_start "$nl_pf" "$dlv_pipe" -c "$nl_conf" --dns-server "$nl_dns" \
		-q '${queue_id}' -f '${sender}' -d '${nexthop}' -- '${recipient}'; then
		nl_ok setup "smtp-sink or Postfix did not start"
	else
		# --- SIGKILL in the middle of DATA -----------------------------
		why=
		dlv_message "$nl_dir/kill.eml" 3072	# 4 MB: more than the socket buffers take
		qid=$(mta_postfix_send "$nl_pf" sender@client.test user@kill.dlv.test "$nl_dir/kill.eml") ||
			why+="Postfix did not take the message; "
		if [[ -z $why ]]; then
			if nl_wait_log "$nl_dir/stall.log" '^S: 354'; then
				pids=$(pgrep -f -- "mxtier-pipe -c $nl_conf .* -q $qid ")
				if [[ $(wc -w <<<"$pids") -eq 1 ]]; then
					kill -KILL "$pids"
				else
					why+="not one mxtier-pipe process for $qid: \"$pids\"; "
				fi
			else
				why+="the session never reached DATA; "
			fi
			got=$(mta_postfix_wait "$nl_pf" "$qid")
			[[ $got == deferred\ 4.* ]] || why+="Postfix says \"$got\", want deferred 4.x.x; "
			echo "   after the kill Postfix says: $got"
			nl_queued "$qid" || why+="$qid is not in the queue after the kill; "
			# the retry finds a server that works
			peer_stop_all
			peer_start "$nl_dir" retry 127.0.1.11 "$nl_port" "$nl_dir/healthy.scr" ||
				why+="the second peer did not start; "
			mta_postfix_flush "$nl_pf" "$qid"
			got=$(mta_postfix_wait "$nl_pf" "$qid")
			[[ $got =~ ^sent\ 2\.0\.0\ .*delivered\ via\ mx\.kill\.dlv\.test\[127\.0\.1\.11\] ]] ||
				why+="the retry: \"$got\", want sent via mx.kill.dlv.test; "
			nl_queued "$qid" && why+="$qid is still queued after it was sent; "
			[[ $(peer_accepted "$nl_dir" stall) -eq 0 ]] || why+="the stalled server accepted it; "
			got=$(peer_deliveries "$nl_dir" retry)
			[[ $(wc -l <<<"$got") -eq 1 && -n $got ]] ||
				why+="accepted $(peer_accepted "$nl_dir" retry) times, want once; "
			read -r _ off size rcpts <<<"$got"
			[[ $rcpts == "<user@kill.dlv.test>" ]] ||
				why+="accepted for \"$rcpts\", want <user@kill.dlv.test>; "
			h=$(peer_message "$nl_dir" retry "${off:-0}" "${size:-0}" | mta_body | sha256sum)
			[[ $h == $(mta_body <"$nl_dir/kill.eml" | sha256sum) ]] ||
				why+="the body that arrived differs from the one sent; "
			[[ $(sqlite3 "$nl_dir/journal/journal.db" 'pragma integrity_check') == ok ]] ||
				why+="the journal is damaged; "
			rows=$(sqlite3 "$nl_dir/journal/journal.db" "select group_concat(stage || ':' || decision, ' ')
				from (select * from attempts where queue_id = '$qid' order by id)")
			[[ $rows == dot:done ]] || why+="journal rows \"$rows\", want \"dot:done\"; "
			[[ -z $(ls -A "$nl_dir/spool") ]] || why+="files left in the spool directory; "
		fi
		nl_ok killed_mid_data "$why"

		# --- the DNS server goes away during a burst -----------------------
		why=
		qids=()
		nl_msg=$(dlv_marked "$dlv_dir/msg.eml" "burst.$$")
		for ((i = 0; i < 24; i++)); do
			if ((i == 12)); then
				# the burst is under way: once one message was sent, DNS goes
				nl_wait_log "$nl_pf/maillog" 'to=<user[0-9]+@burst\.dlv\.test>.*status=sent' ||
					why+="nothing was sent before the DNS server stopped; "
				nl_dns_stop
			fi
			q=$(mta_postfix_send "$nl_pf" sender@client.test "user$i@burst.dlv.test" "$nl_msg") ||
				{ why+="Postfix did not take message $i; "; continue; }
			qids+=("$q")
		done
		sent=0 deferred=0 other=
		for q in "${qids[@]}"; do
			got=$(mta_postfix_wait "$nl_pf" "$q")
			case $got in
			sent\ *) sent=$((sent + 1)) ;;
			deferred\ 4.*) deferred=$((deferred + 1)); nl_queued "$q" || why+="$q deferred but not queued; " ;;
			*) other+="$q: $got; " ;;
			esac
		done
		[[ -z $other ]] || why+="neither sent nor deferred: $other"
		((deferred > 0)) || why+="no message was deferred: the outage did not happen; "
		grep -q 'status=bounced' "$nl_pf/maillog" && why+="something bounced; "
		# DNS comes back on the same port; the queue is flushed
		nl_dns_start "${nl_dns##*:}" || why+="the DNS server did not come back; "
		mta_postfix_flush "$nl_pf"
		for q in "${qids[@]}"; do
			grep -q ": $q: .*status=sent" "$nl_pf/maillog" && continue
			got=$(mta_postfix_wait "$nl_pf" "$q")
			[[ $got == sent\ * ]] || why+="$q after the flush: $got; "
		done
		n=$(mta_sink_messages nlburst)
		[[ $n -eq ${#qids[@]} ]] || why+="the sink has $n messages, want ${#qids[@]} (each exactly once); "
		for q in "${qids[@]}"; do
			[[ $(grep -c ": $q: .*status=sent" "$nl_pf/maillog") -eq 1 ]] || why+="$q not sent exactly once; "
		done
		# the sink's own record: one message per recipient, none twice, none missing
		got=$(mta_sink_find "X-Mxt-Case: burst.$$" | while read -r name file; do
			r=$(mta_sink_file_rcpts "$file" | tr '\n' ' ')
			[[ $(mta_sink_file_body_hash "$file") == $(mta_body_hash "$nl_msg") ]] || r+="(body differs) "
			echo "$name ${r% }"
		done | sort | uniq -c | awk '{ $1 = $1; print }')
		want=$(for ((i = 0; i < 24; i++)); do echo "1 nlburst <user$i@burst.dlv.test>"; done | sort)
		[[ $got == "$want" ]] ||
			why+="not one copy per recipient at the sink: $(diff <(echo "$want") <(echo "$got") |
				sed -n 's/^< 1 nlburst /missing /p; s/^> \([0-9]*\) nlburst /got \1 for /p' |
				head -6 | tr '\n' ' ')...; "
		echo "   burst: ${#qids[@]} messages, $sent sent at once, $deferred deferred while DNS was down"
		nl_ok dns_stopped_during_burst "$why"
	fi
	mta_postfix_stop "$nl_pf"
	mta_sink_stop nlburst
fi
peer_stop_all
[[ -n ${nl_dns_pid:-} ]] && nl_dns_stop
