# tests/fleet/fleet-backoff.sh - R13 with the fleet's backoff, end to end
# (sourced by tests/run-tests.sh; uses report_result, $run, $top)
#
# The world, all on loopback and made here: a faultdns serving fb.test
# (MX 10 mx1.fb.test = 127.0.5.1, MX 20 backup.fb.test = 127.0.5.2), and a
# healthy scripted SMTP peer (tests/smtp/smtppeer) on each address, one
# port for both. The real mxtier-pipe delivers as an MTA runs it (as nobody
# when we are root). Between deliveries the local journal's fleet_backoff
# table is filled with sqlite3, as mxtier-ship's pull would leave it: node
# "relayA" saw mx1's address fail. Each case checks, from the peers' own
# transcripts, which peer got a connection and the message, and the
# journal's rows and reasons:
#   baseline   no fleet entry: mx1 takes the message (and the journal is made)
#   on         fleet_backoff = true: mx1 sees no connection, backup takes it,
#              mx1's skipped row names relayA
#   off        the same entry, fleet_backoff = false: mx1 takes it
#   expired    the entry's retry time passed, true: mx1 takes it
#   oracle     mxtier-pipe --socketmap puts mx1 last when on, not when off
# The peers and the faultdns are stopped at the end (and end by themselves).

fb_dir=$run/fleet-backoff
fb_pipe=$top/plugin/mxtier-pipe
fb_as=()
[[ $(id -u) -eq 0 ]] && fb_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fb_port=
fb_dns=
fb_dns_pid=
. "$top/tests/smtp/peer.sh"

# fb_setup - the zone, the two peers, the journal's directory and the message
fb_setup() {
	mkdir -p "$fb_dir/journal" "$fb_dir/spool" || return 1
	cat >"$fb_dir/fb.rules" <<'RULES'
fb.test MX 10 mx1.fb.test
fb.test MX 20 backup.fb.test
mx1.fb.test A 127.0.5.1
backup.fb.test A 127.0.5.2
RULES
	world_faultdns_at "$fb_dir/fb.rules" 300 || return 1
	fb_dns=$FAULTDNS_AT
	fb_dns_pid=$FAULTDNS_PID
	peer_script_healthy mx1 >"$fb_dir/mx1.script"
	peer_script_healthy backup >"$fb_dir/backup.script"
	peer_start "$fb_dir" mx1 127.0.5.1 0 "$fb_dir/mx1.script" || return 1
	fb_port=$PEER_PORT
	peer_start "$fb_dir" backup 127.0.5.2 "$fb_port" "$fb_dir/backup.script" || return 1
	if [[ ${#fb_as[@]} -gt 0 ]]; then
		chown nobody:nogroup "$fb_dir/journal" "$fb_dir/spool" || return 1
	fi
	printf 'From: sender@client.test\nTo: user@fb.test\nSubject: fleet backoff\n\nbody\n' \
		>"$fb_dir/message"
	chmod a+r "$fb_dir/message"
}

# fb_stop - stop the peers and the faultdns (also from run-tests.sh's cleanup)
fb_stop() {
	peer_stop_all
	[[ -n $fb_dns_pid ]] && kill "$fb_dns_pid" 2>/dev/null
	fb_dns_pid=
	return 0
}

# fb_conf ON - a config with policy.fleet_backoff = ON (true or false); prints its path
fb_conf() {
	local f=$fb_dir/$1.conf
	cat >"$f" <<CONF
resolver { servers = { "$fb_dns" }  timeout = 2  tries = 1 }
policy { ignore_networks = {}  fleet_backoff = $1 }
smtp { port = $fb_port  helo_name = "client.mxtier.test"  connect_timeout = 5
       greeting_timeout = 10  rcpt_timeout = 10  data_done_timeout = 10 }
spool { directory = "$fb_dir/spool" }
journal { path = "$fb_dir/journal/journal.db" }
CONF
	chmod a+r "$f"
	echo "$f"
}

# fb_sql SQL - run SQL on the journal as its owner (nobody writes it)
fb_sql() {
	"${fb_as[@]}" sqlite3 -cmd '.timeout 5000' "$fb_dir/journal/journal.db" "$1"
}

# fb_fleet_entry RETRY_AT - the fleet_backoff table holds exactly relayA's
# entry for mx1's address, as mxtier-ship's pull writes it
fb_fleet_entry() {
	fb_sql "DELETE FROM fleet_backoff; INSERT INTO fleet_backoff (node, address, port,
		failures, retry_at, last_error, updated) VALUES ('relayA', '127.0.5.1', $fb_port,
		3, $1, '421 4.3.2 relayA was told to go away', $(date +%s%3N))"
}

# fb_conns PEER - connections the peer has seen so far
fb_conns() {
	grep -c '^# connection ' "$fb_dir/$1.log" 2>/dev/null || true
}

# fb_deliver CASE ON - one delivery with fleet_backoff = ON, queue id CASE;
# sets fb_got ("mx1=N backup=N": new connections and messages per peer as
# "conns/msgs"), fb_rc and fb_first
fb_deliver() {
	local qid=$1 conf c1 c2 m1 m2 out
	conf=$(fb_conf "$2")
	c1=$(fb_conns mx1) c2=$(fb_conns backup)
	m1=$(peer_deliveries "$fb_dir" mx1 | wc -l) m2=$(peer_deliveries "$fb_dir" backup | wc -l)
	out=$(timeout 60 "${fb_as[@]}" "$fb_pipe" -c "$conf" -q "$qid" -f sender@client.test \
		-d fb.test -- user@fb.test <"$fb_dir/message" 2>&1)
	fb_rc=$?
	fb_first=${out%%$'\n'*}
	fb_got="mx1=$(($(fb_conns mx1) - c1))/$(($(peer_deliveries "$fb_dir" mx1 | wc -l) - m1))"
	fb_got+=" backup=$(($(fb_conns backup) - c2))/$(($(peer_deliveries "$fb_dir" backup | wc -l) - m2))"
}

# fb_rows QID - "host:outcome:decision ..." of the delivery's journal rows
fb_rows() {
	fb_sql "SELECT group_concat(host || ':' || outcome || ':' || decision, ' ') FROM
		(SELECT * FROM attempts WHERE queue_id = '$1' ORDER BY id)"
}

# fb_case NAME WANT_GOT WANT_ROWS [REASON_PATTERN] - check the last delivery
fb_case() {
	local why= rows reason
	[[ $fb_rc -eq 0 ]] || why+="exit $fb_rc ($fb_first); "
	[[ $fb_got == "$2" ]] || why+="peers saw $fb_got, want $2; "
	rows=$(fb_rows "$1")
	[[ $rows == "$3" ]] || why+="journal rows \"$rows\", want \"$3\"; "
	if [[ -n ${4:-} ]]; then
		reason=$(fb_sql "SELECT reason FROM attempts WHERE queue_id = '$1'
			AND outcome = 'skipped'")
		[[ $reason == $4 ]] || why+="skip reason \"$reason\" is not like \"$4\"; "
	fi
	report_result "fleet_backoff_$1" "$why"
}

# fb_oracle ON - the socketmap's transport answer for fb.test with fleet_backoff = ON
fb_oracle() {
	local conf key="transport fb.test"
	conf=$(fb_conf "$1")
	printf '%d:%s,' "${#key}" "$key" |
		timeout 30 "${fb_as[@]}" "$fb_pipe" --socketmap -c "$conf" 2>"$fb_dir/oracle-$1.err" |
		sed 's/^[0-9]*://; s/,$//'
}

# fb_tests - every case, in order (each builds on the journal the one before left)
fb_tests() {
	local now plain last
	if ! fb_setup; then
		report_result fleet_backoff_world "the faultdns or a peer did not start"
		fb_stop
		return
	fi
	now=$(date +%s%3N)
	fb_deliver baseline false
	fb_case baseline "mx1=1/1 backup=0/0" "mx1.fb.test:delivered:done"

	fb_fleet_entry $((now + 3600000))
	fb_deliver on true
	fb_case on "mx1=0/0 backup=1/1" \
		"mx1.fb.test:skipped:next_tier backup.fb.test:delivered:done" \
		"mx1.fb.test\[127.0.5.1\]:$fb_port is in backoff learned from relayA until * after 3 failures (last: 421 4.3.2 relayA was told to go away)"

	fb_deliver off false
	fb_case off "mx1=1/1 backup=0/0" "mx1.fb.test:delivered:done"

	# mx1 worked for this node meanwhile: the fleet's entry is still the only one
	plain="OK smtp:[mx1.fb.test]:$fb_port, [backup.fb.test]:$fb_port"
	last="OK smtp:[backup.fb.test]:$fb_port, [mx1.fb.test]:$fb_port"
	local got_on got_off
	got_on=$(fb_oracle true)
	got_off=$(fb_oracle false)
	if [[ $got_on == "$last" && $got_off == "$plain" ]]; then
		report_result fleet_backoff_oracle ""
	else
		report_result fleet_backoff_oracle "on: \"$got_on\" (want \"$last\"); off: \"$got_off\"" \
			"$(cat "$fb_dir"/oracle-*.err 2>/dev/null)"
	fi

	fb_fleet_entry $((now - 1000))
	fb_deliver expired true
	fb_case expired "mx1=1/1 backup=0/0" "mx1.fb.test:delivered:done"
	got_on=$(fb_oracle true)
	[[ $got_on == "$plain" ]] && report_result fleet_backoff_oracle_expired "" ||
		report_result fleet_backoff_oracle_expired "on, expired: \"$got_on\", want \"$plain\""

	# nothing of this node's own: every skip came from the fleet table
	local own
	own=$(fb_sql "SELECT count(*) FROM backoff")
	[[ $own == 0 ]] && report_result fleet_backoff_no_local_state "" ||
		report_result fleet_backoff_no_local_state "$own rows in the local backoff table"

	fb_stop
}

echo "== R13 with the fleet's backoff (tests/fleet/fleet-backoff.sh)"
fb_tests
