# tests/import/mta-import.sh - real MTAs deliver, mxtier-import reads their
# logs (sourced by tests/run-tests.sh; uses report_result, $run, $top)
#
# The world, all on loopback and made here: an Unbound on 127.0.0.153:53
# serving imp.test (mta_dns_start), which the MTAs reach through the C
# library resolver: Postfix's master and every exim call run in a private
# mount namespace where a resolv.conf naming it is /etc/resolv.conf. A
# private Postfix delivers with its native smtp(8) client, the unpacked Exim
# with a dnslookup router and an smtp transport, both to port 2525 of the MX
# hosts they look up; smtp-sink peers (-v: every command in their log) play
# those hosts on 127.0.11.x. Nothing listens on 127.0.11.1, .7 and .8.
#
# Scenarios (one domain each), for each MTA:
#   refuse  MX 10 mx1 (refused), MX 20 mx2: delivered to mx2
#   grey    MX 10 mx1 answers "451 4.7.1 greylisted" to RCPT, MX 20 mx2
#   user    the only MX answers "550 5.1.1 no such user" to RCPT: bounced
#   nullmx  MX 0 ".": bounced without a connection
#   two     like refuse (mx1 refused, mx2 healthy), one message for two
#           recipients: each recipient has its own attempts
#   greyonly  the only MX greylists: deferred; then a second attempt
#           (postqueue -i, exim -M): deferred again
#   dead    the only MX refuses: deferred (connect line + status line: ONE
#           attempt); a second message (dead2) right after: Postfix 3.7
#           really tries again (refused), Exim does not ("retry time not
#           reached for any host": not an attempt)
#   Both MTAs go on to MX 20 after the 451 of grey. The null MX bounce is
#   dsn=5.1.0 in Postfix's log; Exim's log gives no status code at all.
# The truth: what the peers recorded (messages stored, commands seen), that
# nothing listened on the refused addresses, and the MTAs' own queue tools
# and outcome lines. Then mxtier-import reads each MTA's log: --dry-run JSON
# against the truth, the journal (rows per source, a second import adds
# none), and mxtier --report's explanation. (MI_IMPORT, MI_MXTIER: other
# binaries, to check these checks.)

mi_dir=$run/import
MTA_DIR=$mi_dir/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
mi_import=${MI_IMPORT:-$top/plugin/mxtier-import}
mi_mxtier=${MI_MXTIER:-$top/tui/mxtier}
mi_t0=$(date +%s)

# The peers: NAME ADDRESS (their failure options: mi_sink_opts)
mi_sinks=(
	"mx2.refuse 127.0.11.2"
	"mx1.grey 127.0.11.3"
	"mx2.grey 127.0.11.4"
	"mx.user 127.0.11.5"
	"mx2.two 127.0.11.6"
)

# mi_sink_opts NAME - the peer's smtp-sink failure options, one a line
mi_sink_opts() {
	case $1 in
	mx1.grey) printf '%s\n' -b "451 4.7.1 greylisted" -r rcpt ;;
	mx.user) printf '%s\n' -B "550 5.1.1 no such user" -f rcpt ;;
	esac
}
mi_refused=(127.0.11.1 127.0.11.7 127.0.11.8)

# mi_zones FILE - imp.test for Unbound
mi_zones() {
	local d=imp.test. r n t v w
	{
		echo "local-zone: \"$d\" static"
		for r in "refuse MX 10 mx1.refuse" "refuse MX 20 mx2.refuse" \
			"mx1.refuse A 127.0.11.1" "mx2.refuse A 127.0.11.2" \
			"grey MX 10 mx1.grey" "grey MX 20 mx2.grey" \
			"mx1.grey A 127.0.11.3" "mx2.grey A 127.0.11.4" \
			"user MX 10 mx.user" "mx.user A 127.0.11.5" \
			"two MX 10 mx1.two" "two MX 20 mx2.two" \
			"mx1.two A 127.0.11.7" "mx2.two A 127.0.11.6" \
			"greyonly MX 10 mx1.grey" "dead MX 10 mx.dead" "mx.dead A 127.0.11.8"; do
			read -r n t v w <<<"$r"
			if [[ $t == MX ]]; then
				echo "local-data: \"$n.$d 300 IN MX $v $w.$d\""
			else
				echo "local-data: \"$n.$d 300 IN A $v\""
			fi
		done
		echo "local-data: \"nullmx.$d 300 IN MX 0 .\""
	} >"$1"
}

# mi_message FILE CASE - a message with its marker header
mi_message() {
	printf 'From: s@client.test\nTo: u@imp.test\nSubject: import %s\nX-Mxt-Case: %s\n\nbody of %s\n' \
		"$2" "$2" "$2" >"$1"
}

# mi_setup - DNS, peers, Postfix and Exim; false (why on stderr) on failure
mi_setup() {
	local s name addr opts=() a
	mkdir -p "$mi_dir/msg"
	mi_zones "$mi_dir/zones.conf"
	mta_world_lock 600 || return 1
	mta_dns_start "$mi_dir/dns" "$mi_dir/zones.conf" || return 1
	for s in "${mi_sinks[@]}"; do
		read -r name addr <<<"$s"
		mapfile -t opts < <(mi_sink_opts "$name")
		mta_sink_start "$name" "$addr" 2525 -v "${opts[@]}" || return 1
	done
	for a in "${mi_refused[@]}"; do
		if ss -ltnH "src $a:2525" | grep -q .; then
			echo "something listens on $a:2525, which must refuse" >&2
			return 1
		fi
	done
	MTA_POSTFIX_TRANSPORTS=$'.imp.test\tsmtp:'
	MTA_POSTFIX_MAIN="smtp_tcp_port = 2525
smtp_connect_timeout = 5s
smtp_address_preference = ipv4"
	mta_postfix_start "$mi_dir/postfix" /bin/true || return 1
	MTA_EXIM_ROUTERS="imp:
  driver = dnslookup
  domains = imp.test : *.imp.test
  transport = imp_smtp
  no_more"
	MTA_EXIM_TRANSPORTS="imp_smtp:
  driver = smtp
  port = 2525
  connect_timeout = 5s"
	mta_exim_setup "$mi_dir/exim" /bin/true || return 1
	unset MTA_POSTFIX_TRANSPORTS MTA_POSTFIX_MAIN MTA_EXIM_ROUTERS MTA_EXIM_TRANSPORTS
}

# mi_rcpts_seen SINK FROM RCPT - how many RCPT TO:<RCPT> the peer SINK got
# in sessions with MAIL FROM:<FROM> (its -v log: rejected RCPTs too)
mi_rcpts_seen() {
	mta_sink_commands "$1" | awk -v from="MAIL FROM:<$2>" -v rcpt="RCPT TO:<$3>" '
		/^MAIL FROM:/ { mine = (substr($0, 1, length(from)) == from) }
		mine && substr($0, 1, length(rcpt)) == rcpt { n++ }
		END { print n + 0 }'
}

# mi_stored CASE - "SINK RCPT,RCPT" of each message with the case's marker
mi_stored() {
	local name f
	mta_sink_find "X-Mxt-Case: $1" | while read -r name f; do
		echo "$name $(mta_sink_file_rcpts "$f" | sed 's/^<\([^>]*\)>.*/\1/' | paste -sd,)"
	done
}

# mi_truth MTA CASE QID WHAT - record one scenario's queue id and truth
mi_truth() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$mi_dir/truth.tsv"
}

# mi_world_check MTA CASE WANT_OUTCOME GOT_OUTCOME WANT_STORED WANT_SEEN...
# - the MTA's outcome matches (regex), the peers stored WANT_STORED ("none"
# or "SINK RCPTS"), and each "SINK FROM RCPT N" of WANT_SEEN holds
mi_world_check() {
	local mta=$1 case=$2 want=$3 got=$4 stored=$5 why= s sink from rcpt n seen
	shift 5
	[[ $got =~ $want ]] || why+="outcome \"$got\" !~ /$want/; "
	s=$(mi_stored "$mta-$case" | paste -sd';')
	[[ ${s:-none} == "$stored" ]] || why+="peers stored \"${s:-none}\", want \"$stored\"; "
	for s in "$@"; do
		read -r sink from rcpt n <<<"$s"
		seen=$(mi_rcpts_seen "$sink" "$from" "$rcpt")
		[[ $seen -eq $n ]] || why+="$sink got RCPT $rcpt from $from $seen times, want $n; "
	done
	report_result "import world: $mta $case" "$why" "$got"
}

# mi_run_postfix - the scenarios through Postfix's smtp(8)
mi_run_postfix() {
	local pf=$mi_dir/postfix c q out f=pf@client.test
	local -A qid=()
	for c in refuse grey user nullmx two greyonly dead dead2; do
		mi_message "$mi_dir/msg/pf-$c.eml" "pf-$c"
	done
	# all at once (Postfix delivers them in parallel), dead2 after dead
	for c in refuse grey user nullmx greyonly dead; do
		qid[$c]=$(mta_postfix_send "$pf" "$f" "u@$c.imp.test" "$mi_dir/msg/pf-$c.eml")
	done
	qid[two]=$(mta_postfix_send "$pf" "$f" "a@two.imp.test,b@two.imp.test" "$mi_dir/msg/pf-two.eml")
	out=$(mta_postfix_wait "$pf" "${qid[refuse]}")
	mi_world_check pf refuse '^sent 2\.0\.0 250 ' "$out" "mx2.refuse u@refuse.imp.test" \
		"mx2.refuse $f u@refuse.imp.test 1"
	out=$(mta_postfix_wait "$pf" "${qid[grey]}")
	mi_world_check pf grey '^sent 2\.0\.0 250 ' "$out" "mx2.grey u@grey.imp.test" \
		"mx1.grey $f u@grey.imp.test 1" "mx2.grey $f u@grey.imp.test 1"
	out=$(mta_postfix_wait "$pf" "${qid[user]}")
	mi_world_check pf user '^bounced 5\.1\.1 host mx\.user\.imp\.test\[127\.0\.11\.5\] said: 550 5\.1\.1 no such user' \
		"$out" none "mx.user $f u@user.imp.test 1"
	out=$(mta_postfix_wait "$pf" "${qid[nullmx]}")
	mi_world_check pf nullmx '^bounced 5\.1\.0 Domain nullmx\.imp\.test does not accept mail \(nullMX\)' "$out" none
	out="$(mta_postfix_wait "$pf" "${qid[two]}") / $(mta_postfix_wait "$pf" "${qid[two]}")"
	mi_world_check pf two '^sent 2\.0\.0 250 .* / sent 2\.0\.0 250 ' "$out" "mx2.two a@two.imp.test,b@two.imp.test" \
		"mx2.two $f a@two.imp.test 1" "mx2.two $f b@two.imp.test 1"
	out=$(mta_postfix_wait "$pf" "${qid[dead]}")
	# the second message for the dead host only once the first is deferred
	qid[dead2]=$(mta_postfix_send "$pf" "$f" "v@dead.imp.test" "$mi_dir/msg/pf-dead2.eml")
	out+=" / $(mta_postfix_wait "$pf" "${qid[dead2]}")"
	mi_world_check pf dead '^deferred 4\.4\.1 connect to mx\.dead\.imp\.test\[127\.0\.11\.8\]:2525: Connection refused / deferred 4\.4\.1 ' \
		"$out" none
	out=$(mta_postfix_wait "$pf" "${qid[greyonly]}")
	mta_postfix_flush "$pf" "${qid[greyonly]}" >/dev/null 2>&1
	out+=" / $(mta_postfix_wait "$pf" "${qid[greyonly]}")"
	mi_world_check pf greyonly '^deferred 4\.7\.1 host mx1\.grey\.imp\.test\[127\.0\.11\.3\] said: 451 4\.7\.1 greylisted \(in reply to RCPT TO command\) / deferred 4\.7\.1 ' \
		"$out" none "mx1.grey $f u@greyonly.imp.test 2"
	# the queue tool: exactly the deferred ones are still there
	out=$(mta_postfix_queue_json "$pf" | jq -r '.queue_id' | sort | paste -sd' ')
	q=$(printf '%s\n' "${qid[greyonly]}" "${qid[dead]}" "${qid[dead2]}" | sort | paste -sd' ')
	report_result "import world: pf queue" "$([[ $out == "$q" ]] || echo "postqueue -j lists \"$out\", want \"$q\"")"
	for c in refuse grey user nullmx two greyonly dead dead2; do
		mi_truth postfix "$c" "${qid[$c]}" ""
	done
}

# mi_run_exim - the scenarios through Exim's dnslookup + smtp transport
mi_run_exim() {
	local ex=$mi_dir/exim c out id f=ex@client.test
	local -A qid=()
	for c in refuse grey user nullmx two greyonly dead dead2; do
		mi_message "$mi_dir/msg/ex-$c.eml" "ex-$c"
	done
	# mi_ex CASE RCPTS - deliver in the foreground; sets out and qid[CASE]
	mi_ex() {
		out=$(mta_exim_deliver "$ex" "$f" "$2" "$mi_dir/msg/ex-$1.eml")
		qid[$1]=${out%% *}
	}
	mi_ex refuse u@refuse.imp.test
	mi_world_check ex refuse '^[-0-9A-Za-z]+ delivered$' "$out" "mx2.refuse u@refuse.imp.test" \
		"mx2.refuse $f u@refuse.imp.test 1"
	mi_ex grey u@grey.imp.test
	mi_world_check ex grey '^[-0-9A-Za-z]+ delivered$' "$out" "mx2.grey u@grey.imp.test" \
		"mx1.grey $f u@grey.imp.test 1" "mx2.grey $f u@grey.imp.test 1"
	mi_ex user u@user.imp.test
	mi_world_check ex user ' bounced \(u@user\.imp\.test R=imp T=imp_smtp H=mx\.user\.imp\.test \[127\.0\.11\.5\]: SMTP error from remote mail server after RCPT TO:<u@user\.imp\.test>: 550 5\.1\.1 no such user\)$' \
		"$out" none "mx.user $f u@user.imp.test 1"
	mi_ex nullmx u@nullmx.imp.test
	mi_world_check ex nullmx ' bounced \(u@nullmx\.imp\.test: an MX or SRV record indicated no SMTP service\)$' "$out" none
	mi_ex two a@two.imp.test,b@two.imp.test
	mi_world_check ex two '^[-0-9A-Za-z]+ delivered$' "$out" "mx2.two a@two.imp.test,b@two.imp.test" \
		"mx2.two $f a@two.imp.test 1" "mx2.two $f b@two.imp.test 1"
	mi_ex dead u@dead.imp.test
	id=$out
	mi_ex dead2 v@dead.imp.test
	mi_world_check ex dead ' deferred \(u@dead\.imp\.test R=imp T=imp_smtp defer \(111\): Connection refused\) / .* deferred \(v@dead\.imp\.test R=imp T=imp_smtp defer \(-54\): retry time not reached for any host for .dead\.imp\.test.\)$' \
		"$id / $out" none
	mi_ex greyonly u@greyonly.imp.test
	id=$out
	out=$(mta_exim_retry "$ex" "${qid[greyonly]}")
	mi_world_check ex greyonly ' deferred \(u@greyonly\.imp\.test R=imp T=imp_smtp defer \(-44\) H=mx1\.grey\.imp\.test \[127\.0\.11\.3\]: SMTP error from remote mail server after RCPT TO:<u@greyonly\.imp\.test>: 451 4\.7\.1 greylisted\) / .* deferred \(.*451 4\.7\.1 greylisted\)$' \
		"$id / $out" none "mx1.grey $f u@greyonly.imp.test 2"
	out=$(mta_exim_queue "$ex" | awk 'NF >= 3 && $3 ~ /-/ { print $3 }' | sort | paste -sd' ')
	id=$(printf '%s\n' "${qid[greyonly]}" "${qid[dead]}" "${qid[dead2]}" | sort | paste -sd' ')
	report_result "import world: ex queue" "$([[ $out == "$id" ]] || echo "exim -bp lists \"$out\", want \"$id\"")"
	for c in refuse grey user nullmx two greyonly dead dead2; do
		mi_truth exim "$c" "${qid[$c]}" ""
	done
}

# The attempts each scenario must give, as jq over the --dry-run objects of
# its queue id (an array; order not asserted). $src is the source, $pf is
# true for Postfix (which logs the port: 2525), false for Exim (which does
# not: null). at(OUTCOME; N; COND): exactly N attempts with that outcome,
# each satisfying COND.
mi_jq_defs='
def at($o; $n; f): (map(select(.outcome == $o)) | length == $n and all(.[]; f));
def port_ok: if $pf then .port == 2525 else .port == null end;
def from($h; $a): .host == $h and .address == $a;
def refused($h; $a): from($h; $a) and .stage == "connect" and .reply_code == null and port_ok;
def sent($h; $a): from($h; $a) and .reply_code == 250 and .enhanced_status == "2.0.0" and port_ok;
def common($r): all(.[]; .recipient == $r and .domain == ($r | sub(".*@"; ""))
	and .source == $src and .ts != null);
'

# mi_case_jq MTA CASE - the jq condition for one scenario (see mi_jq_defs)
mi_case_jq() {
	case $2 in
	refuse) echo 'length == 2 and common("u@refuse.imp.test")
		and at("tempfail"; 1; refused("mx1.refuse.imp.test"; "127.0.11.1"))
		and at("delivered"; 1; sent("mx2.refuse.imp.test"; "127.0.11.2"))' ;;
	grey) echo 'length == 2 and common("u@grey.imp.test")
		and at("tempfail"; 1; from("mx1.grey.imp.test"; "127.0.11.3") and .stage == "rcpt"
			and .reply_code == 451 and .enhanced_status == "4.7.1")
		and at("delivered"; 1; sent("mx2.grey.imp.test"; "127.0.11.4"))' ;;
	user) echo 'length == 1 and common("u@user.imp.test")
		and at("permfail"; 1; from("mx.user.imp.test"; "127.0.11.5") and .stage == "rcpt"
			and .reply_code == 550 and .enhanced_status == "5.1.1" and port_ok
			and (.reply_text | contains("no such user")))' ;;
	nullmx)
		# Postfix logs dsn=5.1.0; Exim logs no status at all (null, or
		# the RFC 7505 code 5.1.10 if the parser supplies it)
		if [[ $1 == postfix ]]; then
			echo 'length == 1 and common("u@nullmx.imp.test") and at("permfail"; 1; .host == null
				and .address == null and .reply_code == null and .enhanced_status == "5.1.0")'
		else
			echo 'length == 1 and common("u@nullmx.imp.test") and at("permfail"; 1; .host == null
				and .address == null and .reply_code == null
				and (.enhanced_status == null or .enhanced_status == "5.1.10"))'
		fi ;;
	two) echo 'length == 4 and all(.[]; .domain == "two.imp.test" and .source == $src)
		and ([.[] | select(.recipient == "a@two.imp.test")]
			| at("tempfail"; 1; refused("mx1.two.imp.test"; "127.0.11.7"))
			and at("delivered"; 1; sent("mx2.two.imp.test"; "127.0.11.6")))
		and ([.[] | select(.recipient == "b@two.imp.test")]
			| at("tempfail"; 1; refused("mx1.two.imp.test"; "127.0.11.7"))
			and at("delivered"; 1; sent("mx2.two.imp.test"; "127.0.11.6")))' ;;
	greyonly) echo 'length == 2 and common("u@greyonly.imp.test")
		and at("tempfail"; 2; from("mx1.grey.imp.test"; "127.0.11.3") and .stage == "rcpt"
			and .reply_code == 451 and .enhanced_status == "4.7.1")' ;;
	dead) echo 'length == 1 and common("u@dead.imp.test")
		and at("tempfail"; 1; refused("mx.dead.imp.test"; "127.0.11.8"))' ;;
	dead2)
		# Postfix tried again; Exim did not ("retry time not reached")
		if [[ $1 == postfix ]]; then
			echo 'length == 1 and common("v@dead.imp.test")
				and at("tempfail"; 1; refused("mx.dead.imp.test"; "127.0.11.8"))'
		else
			echo 'length == 0'
		fi ;;
	esac
}

# mi_total MTA - attempts in the whole log (bounces to the local mailbox
# transport are none)
mi_total() {
	case $1 in postfix) echo 14 ;; exim) echo 13 ;; esac
}

# mi_dry MTA FROM - mxtier-import --dry-run of the MTA's log; the JSON
# lines go to $mi_dir/dry-MTA-FROM.json
mi_dry() {
	local out=$mi_dir/dry-$1-$2.json rc
	timeout 60 "$mi_import" --dry-run --from "$2" "$mi_dir/logs/$1.log" >"$out" 2>"$out.err"
	rc=$?
	[[ $rc -eq 0 ]] || { echo "exit $rc: $(head -3 "$out.err")"; return 1; }
	jq -e . "$out" >/dev/null 2>&1 || { echo "not JSON lines: $(head -c 300 "$out")"; return 1; }
}

# mi_check_dry MTA - the --dry-run attempts of each scenario against the truth
mi_check_dry() {
	local mta=$1 src=$1 pf=false why c q got want keys
	[[ $mta == postfix ]] && pf=true
	why=$(mi_dry "$mta" "$mta")
	report_result "import dry-run: $mta runs" "$why"
	[[ -z $why ]] || return
	# every object has exactly the keys of the contract
	keys='["address","domain","enhanced_status","host","outcome","port","queue_id","recipient","reply_code","reply_text","source","stage","ts"]'
	got=$(jq -sc --argjson k "$keys" '[.[] | select((keys_unsorted | sort) != $k)] | length' "$mi_dir/dry-$mta-$mta.json")
	report_result "import dry-run: $mta keys" "$([[ $got == 0 ]] || echo "$got objects do not have exactly the keys $keys")" \
		"$(head -2 "$mi_dir/dry-$mta-$mta.json")"
	want=$(mi_total "$mta")
	got=$(jq -s 'length' "$mi_dir/dry-$mta-$mta.json")
	report_result "import dry-run: $mta total" "$([[ $got == "$want" ]] || echo "$got attempts, want $want")" \
		"$(jq -c '[.queue_id, .recipient, .outcome, .host]' "$mi_dir/dry-$mta-$mta.json")"
	while IFS=$'\t' read -r m c q _; do
		[[ $m == "$mta" ]] || continue
		why=
		jq -se --arg q "$q" --arg src "$src" --argjson pf "$pf" \
			"$mi_jq_defs [.[] | select(.queue_id == \$q)] | $(mi_case_jq "$mta" "$c")" \
			"$mi_dir/dry-$mta-$mta.json" >/dev/null 2>&1 ||
			why="the attempts of $q do not match the truth: $(mi_case_jq "$mta" "$c" | tr -s '\t\n' '  ')"
		report_result "import dry-run: $mta $c" "$why" \
			"$(jq -c --arg q "$q" 'select(.queue_id == $q)' "$mi_dir/dry-$mta-$mta.json")"
	done <"$mi_dir/truth.tsv"
	# --from auto finds the same
	why=$(mi_dry "$mta" auto)
	if [[ -z $why ]] && ! cmp -s "$mi_dir/dry-$mta-$mta.json" "$mi_dir/dry-$mta-auto.json"; then
		why="--from auto differs from --from $mta"
	fi
	report_result "import dry-run: $mta auto" "$why" \
		"$(diff "$mi_dir/dry-$mta-$mta.json" "$mi_dir/dry-$mta-auto.json" 2>&1 | head -4)"
}

# mi_conf NAME - a configuration with its own journal; prints its path
mi_conf() {
	mkdir -p "$mi_dir/$1"
	cat >"$mi_dir/$1/conf" <<CONF
resolver { servers = { "$MTA_DNS_ADDR:53" }  timeout = 2  tries = 1 }
smtp { port = 2525 }
journal { path = "$mi_dir/$1/journal.db" }
CONF
	echo "$mi_dir/$1/conf"
}

# mi_rows DB - "source|node|count" of the attempts, one per source
mi_rows() {
	sqlite3 "$1" "select source, ifnull(node, '-'), count(*) from attempts group by source, node
		order by source" 2>&1 | paste -sd' '
}

# mi_import CONF LOG... - import into the journal of CONF as node n1
mi_import() {
	local conf=$1 log rc
	shift
	for log in "$@"; do
		timeout 60 "$mi_import" -c "$conf" --node n1 "$log" >>"${conf%/conf}/import.out" 2>&1
		rc=$?
		[[ $rc -eq 0 ]] || { echo "mxtier-import $log: exit $rc: $(tail -2 "${conf%/conf}/import.out")"; return 1; }
	done
}

# mi_check_journal - both logs into one journal: rows per source; again: none added
mi_check_journal() {
	local conf why got want q
	conf=$(mi_conf both)
	want="exim|n1|$(mi_total exim) postfix|n1|$(mi_total postfix)"
	why=$(mi_import "$conf" "$mi_dir/logs/postfix.log" "$mi_dir/logs/exim.log")
	got=$(mi_rows "$mi_dir/both/journal.db")
	[[ -n $why || $got == "$want" ]] || why="rows \"$got\", want \"$want\""
	report_result "import journal: rows per source" "$why"
	# the rows of one scenario, as the journal has them
	q=$(awk -F'\t' '$1 == "postfix" && $2 == "refuse" { print $3 }' "$mi_dir/truth.tsv")
	got=$(sqlite3 "$mi_dir/both/journal.db" "select group_concat(outcome || ':' || ifnull(host, '-') || ':' ||
		ifnull(address, '-'), ' ') from (select * from attempts where queue_id = '$q'
		order by outcome desc)" 2>&1)
	want="tempfail:mx1.refuse.imp.test:127.0.11.1 delivered:mx2.refuse.imp.test:127.0.11.2"
	report_result "import journal: postfix refuse rows" "$([[ $got == "$want" ]] || echo "rows \"$got\", want \"$want\"")"
	why=$(mi_import "$conf" "$mi_dir/logs/postfix.log" "$mi_dir/logs/exim.log")
	got=$(mi_rows "$mi_dir/both/journal.db")
	want="exim|n1|$(mi_total exim) postfix|n1|$(mi_total postfix)"
	[[ -n $why || $got == "$want" ]] || why="after a second import: rows \"$got\", want \"$want\""
	report_result "import journal: a second import adds nothing" "$why"
}

# mi_check_report MTA WORD - mxtier --report on a journal of that MTA's log
# alone: the explanation of refuse.imp.test names the MTA (WORD), the backup
# it delivered to and the refused primary; --report --json works
mi_check_report() {
	local mta=$1 word=$2 conf why= out= line w
	conf=$(mi_conf "report-$mta")
	why=$(mi_import "$conf" "$mi_dir/logs/$mta.log")
	if [[ -z $why ]]; then
		out=$(timeout 60 "$mi_mxtier" -c "$conf" --report refuse.imp.test 2>&1)
		line=$(grep -m1 '  why: ' <<<"$out")
		for w in "$word" mx2.refuse.imp.test mx1.refuse.imp.test; do
			[[ $line == *"$w"* ]] || why+="the explanation does not name \"$w\"; "
		done
	fi
	report_result "import report: $mta refuse" "$why" "$out"
	why=
	out=$(timeout 60 "$mi_mxtier" -c "$conf" --report --json refuse.imp.test 2>&1) ||
		why="exit $?"
	[[ -n $why ]] || jq -e '[.. | strings] | any(contains("mx2.refuse.imp.test"))' <<<"$out" >/dev/null 2>&1 ||
		why="not JSON, or without the backup host"
	report_result "import report: $mta --json" "$why" "$out"
	# the refused primary is in backoff (R13) from the imported failure, as
	# after mxtier-pipe's own; the backup that took the mail is ok. Exim's log
	# names no port: the backoff is kept under smtp.port (2525 here)
	why=
	jq -e '.host_states | (map(select(.host == "mx1.refuse.imp.test"))[0] | .state == "backoff"
		and .failures == 1) and (map(select(.host == "mx2.refuse.imp.test"))[0].state == "ok")' \
		<<<"$out" >/dev/null 2>&1 || why="host states: $(jq -c '[.host_states[] | [.host, .state,
		.failures]]' <<<"$out" 2>&1)"
	report_result "import report: $mta backoff of the refused primary" "$why"
	# not attempts, but kept: Exim's "retry time not reached" (dead2) is the note of dead.imp.test
	if [[ $mta == exim ]]; then
		out=$(timeout 60 "$mi_mxtier" -c "$conf" --report dead.imp.test 2>&1)
		why=
		grep -q '^  note .*retry time not reached' <<<"$out" || why="no note in the report"
		[[ $(sqlite3 "${conf%/conf}/journal.db" "select count(*) from attempts where
			recipient = 'v@dead.imp.test'") == 0 ]] || why+=" dead2 has attempt rows"
		report_result "import report: exim retry time not reached is a note" "$why" "$out"
	fi
}

mi_imports() {
	mi_check_dry postfix
	mi_check_dry exim
	mi_check_journal
	mi_check_report postfix Postfix
	mi_check_report exim Exim
}

mi_main() {
	local resolv
	echo "== real Postfix and Exim deliver, mxtier-import reads their logs"
	rm -rf "$mi_dir"
	mkdir -p "$mi_dir/msg" "$mi_dir/logs"
	resolv=$(sha256sum </etc/resolv.conf)
	if ! mi_setup 2>"$mi_dir/setup.err"; then
		report_result "import world" "the MTA world did not start: $(tail -3 "$mi_dir/setup.err")"
		mta_stop_all
		return
	fi
	mi_run_postfix
	mi_run_exim
	# the test DNS was seen only inside the MTAs' mount namespaces
	report_result "import world: /etc/resolv.conf untouched" \
		"$([[ $(sha256sum </etc/resolv.conf) == "$resolv" ]] || echo "/etc/resolv.conf changed")"
	# the logs as they are now: the MTAs log nothing more
	grep -v ' postfix/\(master\|postfix-script\|postlog\)\[' "$mi_dir/postfix/maillog" >"$mi_dir/logs/postfix.log"
	cp "$mi_dir/exim/log/mainlog" "$mi_dir/logs/exim.log"
	# (the test DNS stays up: mxtier --report looks imp.test up)
	if [[ -x $mi_import ]]; then
		mi_imports
	else
		report_result "import: mxtier-import" "plugin/mxtier-import is not built"
	fi
	mta_stop_all
	echo "   (import world: $(($(date +%s) - mi_t0)) s)"
}

mi_main
