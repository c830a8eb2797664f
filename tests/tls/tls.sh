# tests/tls/tls.sh - the TLS table: each level against each kind of peer
# (sourced by tests/run-tests.sh; uses note_result, report_result,
# journal_decisions, $run, $top)
#
# The world, all on loopback and made here: a test CA and server
# certificates (tests/tls/certs.sh); a validating Unbound (world_start_dnssec)
# serving sec.test signed, with TLSA records of the peers' keys, and
# plain.test unsigned; one scripted SMTP peer per host on 127.0.3.N, each
# with its certificate (or none: the peer that strips STARTTLS); and an
# HTTPS server (tests/tls/https.sh) at 127.0.3.20:443 serving the MTA-STS
# policy of sts.plain.test (enforce, mx: mx2.sts.plain.test only) and one
# at 127.0.3.21:443 serving that of stst.plain.test (testing, naming its MX
# host, whose certificate carries the wrong name).
#
# Each row delivers one message as an MTA would (as nobody when root) at one
# smtp.tls_level and checks: the exit status, the first line, which peers got
# MAIL FROM (a peer that fails its check must never see the message), and
# the journal's tls/tls_failure columns in order. Route rows check the route
# JSON with jq; report rows check mxtier --report's explanation.

tl_dir=$run/tls
tl_pipe=$top/plugin/mxtier-pipe
tl_as=()
[[ $(id -u) -eq 0 ]] && tl_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
. "$top/tests/smtp/peer.sh"
. "$top/tests/tls/certs.sh"
. "$top/tests/tls/https.sh"

# The peers: NAME ADDRESS CERTIFICATE ("" = offers no STARTTLS)
tl_peers=(
	"mx1.dane.sec.test 127.0.3.1 selfsigned-mx1.dane.sec.test"
	"mx2.dane.sec.test 127.0.3.2 mx2.dane.sec.test"
	"mx1.badtlsa.sec.test 127.0.3.3 mx1.badtlsa.sec.test"
	"mx2.badtlsa.sec.test 127.0.3.4 mx2.badtlsa.sec.test"
	"mx.notlsa.sec.test 127.0.3.5 mx.notlsa.sec.test"
	"mx.strip.sec.test 127.0.3.6 -"
	"mx.ta.sec.test 127.0.3.7 mx.ta.sec.test"
	"mx.good.plain.test 127.0.3.8 mx.good.plain.test"
	"mx.wrong.plain.test 127.0.3.9 wrongname-mx.wrong.plain.test"
	"mx.expired.plain.test 127.0.3.10 expired-mx.expired.plain.test"
	"mx.self.plain.test 127.0.3.11 selfsigned-mx.self.plain.test"
	"mx1.sts.plain.test 127.0.3.12 mx1.sts.plain.test"
	"mx2.sts.plain.test 127.0.3.13 mx2.sts.plain.test"
)

# tl_script TLS - a peer's script: STARTTLS offered when TLS is 1, one message
tl_script() {
	printf 'send 220 mx ESMTP\\r\\n\nexpect EHLO\n'
	if [[ $1 == 1 ]]; then
		printf 'send 250-mx\\r\\n250 STARTTLS\\r\\n\nexpect STARTTLS\nsend 220 2.0.0 go\\r\\n\n'
		printf 'starttls\nexpect EHLO\n'
	fi
	printf 'send 250 mx\\r\\n\nexpect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\n'
	printf 'expect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\nexpect DATA\nsend 354 go\\r\\n\n'
	printf 'data\nsend 250 2.0.0 queued\\r\\n\nexpect QUIT\nsend 221 bye\\r\\n\n'
}

# tl_zones PORT - write sec.test and plain.test into $tl_dir
tl_zones() {
	local c=$tl_dir/certs
	{
		printf '$ORIGIN sec.test.\n$TTL 300\n'
		printf '@ IN SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 300\n'
		printf '@ IN NS ns.sec.test.\nns IN A 127.0.0.1\n'
		printf 'dane IN MX 10 mx1.dane\ndane IN MX 20 mx2.dane\n'
		printf 'mx1.dane IN A 127.0.3.1\nmx2.dane IN A 127.0.3.2\n'
		printf '_%s._tcp.mx1.dane IN TLSA %s\n' "$1" "$(cat "$c/selfsigned-mx1.dane.sec.test.tlsa")"
		printf 'badtlsa IN MX 10 mx1.badtlsa\nbadtlsa IN MX 20 mx2.badtlsa\n'
		printf 'mx1.badtlsa IN A 127.0.3.3\nmx2.badtlsa IN A 127.0.3.4\n'
		# the key of another host: authentication must fail
		printf '_%s._tcp.mx1.badtlsa IN TLSA %s\n' "$1" "$(cat "$c/mx2.dane.sec.test.tlsa")"
		printf 'notlsa IN MX 10 mx.notlsa\nmx.notlsa IN A 127.0.3.5\n'
		printf 'strip IN MX 10 mx.strip\nmx.strip IN A 127.0.3.6\n'
		printf '_%s._tcp.mx.strip IN TLSA %s\n' "$1" "$(cat "$c/mx.notlsa.sec.test.tlsa")"
		printf 'ta IN MX 10 mx.ta\nmx.ta IN A 127.0.3.7\n'
		printf '_%s._tcp.mx.ta IN TLSA %s\n' "$1" "$(cat "$c/ca.tlsa")"
	} >"$tl_dir/sec.test.zone"
	{
		printf '$ORIGIN plain.test.\n$TTL 300\n'
		printf '@ IN SOA ns.plain.test. hostmaster.plain.test. 1 3600 600 86400 300\n'
		printf '@ IN NS ns.plain.test.\nns IN A 127.0.0.1\n'
		printf 'good IN MX 10 mx.good\nmx.good IN A 127.0.3.8\n'
		printf 'wrong IN MX 10 mx.wrong\nmx.wrong IN A 127.0.3.9\n'
		printf 'expired IN MX 10 mx.expired\nmx.expired IN A 127.0.3.10\n'
		printf 'self IN MX 10 mx.self\nmx.self IN A 127.0.3.11\n'
		printf 'sts IN MX 10 mx1.sts\nsts IN MX 20 mx2.sts\n'
		printf 'mx1.sts IN A 127.0.3.12\nmx2.sts IN A 127.0.3.13\n'
		printf '_mta-sts.sts IN TXT "v=STSv1; id=tls1;"\nmta-sts.sts IN A 127.0.3.20\n'
		printf 'stst IN MX 10 mx.wrong\n'
		printf '_mta-sts.stst IN TXT "v=STSv1; id=tls2;"\nmta-sts.stst IN A 127.0.3.21\n'
	} >"$tl_dir/plain.test.zone"
}

# tl_setup - certificates, zones, resolver, peers and the policy server;
# sets tl_port; false (why on stderr) when something did not start
tl_setup() {
	local p name addr cert names=()
	mkdir -p "$tl_dir/www/.well-known" "$tl_dir/www2/.well-known"
	for p in "${tl_peers[@]}"; do
		read -r name addr cert <<<"$p"
		case $cert in
		-) names+=("$name") ;;
		"$name") names+=("$name") ;;
		*) names+=("${cert%%-*}:$name") ;;
		esac
	done
	tls_certs "$tl_dir/certs" "${names[@]}" mta-sts.sts.plain.test mta-sts.stst.plain.test \
		>/dev/null || return 1
	chmod a+r "$tl_dir/certs"/*.pem
	PEER_EXTRA=()
	tl_port=
	for p in "${tl_peers[@]}"; do
		read -r name addr cert <<<"$p"
		if [[ $cert == - ]]; then
			PEER_EXTRA=()
			tl_script 0 >"$tl_dir/$name.scr"
		else
			PEER_EXTRA=(-c "$tl_dir/certs/$cert.pem" -k "$tl_dir/certs/$cert.key")
			tl_script 1 >"$tl_dir/$name.scr"
		fi
		peer_start "$tl_dir" "$name" "$addr" "${tl_port:-0}" "$tl_dir/$name.scr" || return 1
		tl_port=$PEER_PORT
	done
	PEER_EXTRA=()
	tl_zones "$tl_port"
	world_start_dnssec "$tl_dir/dns" TLSDNS "sec.test=$tl_dir/sec.test.zone" \
		"plain.test=$tl_dir/plain.test.zone:insecure" || return 1
	printf 'version: STSv1\r\nmode: enforce\r\nmx: mx2.sts.plain.test\r\nmax_age: 86400\r\n' \
		>"$tl_dir/www/.well-known/mta-sts.txt"
	https_start_www "$tl_dir" 127.0.3.20 443 "$tl_dir/certs/mta-sts.sts.plain.test.pem" \
		"$tl_dir/certs/mta-sts.sts.plain.test.key" "$tl_dir/www" 300 || return 1
	tl_https_pid=$HTTPS_PID
	printf 'version: STSv1\r\nmode: testing\r\nmx: mx.wrong.plain.test\r\nmax_age: 86400\r\n' \
		>"$tl_dir/www2/.well-known/mta-sts.txt"
	https_start_www "$tl_dir" 127.0.3.21 443 "$tl_dir/certs/mta-sts.stst.plain.test.pem" \
		"$tl_dir/certs/mta-sts.stst.plain.test.key" "$tl_dir/www2" 300 || return 1
}

# tl_conf FILE LEVEL JOURNALDIR - the row's config
tl_conf() {
	cat >"$1" <<CONF
resolver { servers = { "$MXT_TLSDNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = { "127.0.9.0/24" }  backoff_initial = 1 }
smtp { port = $tl_port  helo_name = "client.mxtier.test"  tls_level = "$2"
       connect_timeout = 5  greeting_timeout = 5  helo_timeout = 5  starttls_timeout = 5
       mail_timeout = 5  rcpt_timeout = 5  data_timeout = 5  data_done_timeout = 5
       quit_timeout = 5 }
tls { ca_file = "$tl_dir/certs/ca.pem" }
spool { directory = "$3" }
journal { path = "$3/journal.db" }
CONF
	chmod a+r "$1"
}

# tl_mail_count NAME - how many MAIL FROM commands peer NAME has seen so far
tl_mail_count() {
	grep -c '^C: MAIL FROM' "$tl_dir/$1.log" 2>/dev/null || true
}

# tl_journal_tls DB QID - "tls/tls_failure ..." of the delivery's rows, in order
tl_journal_tls() {
	sqlite3 "$1" "select group_concat(ifnull(tls, '-') || '/' || ifnull(tls_failure, '-'), ' ')
		from (select * from attempts where queue_id = '$2' order by id)" 2>&1
}

# tl_row NAME LEVEL DOMAIN EXIT FIRST MAILED JOURNAL - one delivery; MAILED
# is the peer that must get the message ("none": no peer gets MAIL FROM)
tl_row() {
	local name=$1 level=$2 domain=$3 want_exit=$4 want_first=$5 mailed=$6 want_tls=$7
	local row=$tl_dir/rows/$name qid=T$RANDOM$RANDOM out rc why= p pname before after got
	local -A count=()
	mkdir -p "$row"
	[[ ${#tl_as[@]} -gt 0 ]] && chown nobody:nogroup "$row"
	cp -f "$tl_dir/journal.db" "$row/journal.db" 2>/dev/null	# the shared MTA-STS cache
	[[ -f $row/journal.db && ${#tl_as[@]} -gt 0 ]] && chown nobody:nogroup "$row/journal.db"
	tl_conf "$row/conf" "$level" "$row"
	printf 'Subject: tls %s\n\nbody\n' "$name" >"$row/msg.eml"
	chmod a+r "$row/msg.eml"
	for p in "${tl_peers[@]}"; do
		read -r pname _ <<<"$p"
		count[$pname]=$(tl_mail_count "$pname")
	done
	out=$(timeout 60 "${tl_as[@]}" "$tl_pipe" -c "$row/conf" -q "$qid" -f s@client.test \
		-d "$domain" -- "u@$domain" <"$row/msg.eml" 2>&1)
	rc=$?
	[[ $rc -eq $want_exit ]] || why+="exit $rc, want $want_exit; "
	[[ ${out%%$'\n'*} =~ $want_first ]] || why+="first line !~ /$want_first/; "
	got=
	for p in "${tl_peers[@]}"; do
		read -r pname _ <<<"$p"
		after=$(tl_mail_count "$pname")
		[[ $after -ne ${count[$pname]} ]] && got+="${got:+ }$pname"
	done
	[[ ${got:-none} == "$mailed" ]] || why+="MAIL FROM reached \"${got:-none}\", want \"$mailed\"; "
	got=$(tl_journal_tls "$row/journal.db" "$qid")
	[[ $got == "$want_tls" ]] || why+="journal tls \"$got\", want \"$want_tls\"; "
	report_result "tls $name" "$why" "$out"
}

# tl_route NAME LEVEL DOMAIN JQ - the route JSON must satisfy the jq filter
tl_route() {
	local row=$tl_dir/rows/$1 out why=
	mkdir -p "$row"
	tl_conf "$row/conf" "$2" "$row"
	out=$(timeout 60 "$tl_pipe" -c "$row/conf" --route "$3" --json 2>&1)
	jq -e "$4" <<<"$out" >/dev/null 2>&1 || why="route JSON does not satisfy: $4"
	report_result "tls $1" "$why" "$out"
}

# tl_report NAME LEVEL DOMAIN JOURNALROW TEXT - mxtier --report over the
# journal of an earlier row: its "why:" line must contain TEXT
tl_report() {
	local row=$tl_dir/rows/$4 out why=
	out=$(timeout 60 "$top/tui/mxtier" -c "$row/conf" --report "$3" 2>&1)
	[[ $(grep -m1 '  why: ' <<<"$out") == *"$5"* ]] || why="the explanation does not say \"$5\""
	report_result "tls $1" "$why" "$out"
}

# tl_https_fetches - how many times the policy server sent the policy
tl_https_fetches() {
	grep -c 'mta-sts.txt' "$tl_dir"/www-127.0.3.20-443.log 2>/dev/null || true
}

tl_main() {
	local f1 f2
	rm -rf "$tl_dir"
	mkdir -p "$tl_dir/rows"
	chmod 0755 "$tl_dir" "$tl_dir/rows"
	if ! tl_setup 2>"$tl_dir/setup.err"; then
		report_result "tls world" "the TLS world did not start: $(tail -3 "$tl_dir/setup.err")"
		peer_stop_all
		https_stop_all
		return
	fi
	#      NAME                  LEVEL     DOMAIN              EXIT FIRST     MAILED                JOURNAL tls/failure
	tl_row dane_ee               dane      dane.sec.test       0  '^2\.0\.0 ' mx1.dane.sec.test     'dane/-'
	tl_row dane_ta               dane      ta.sec.test         0  '^2\.0\.0 ' mx.ta.sec.test        'dane/-'
	tl_row dane_tlsa_mismatch    dane      badtlsa.sec.test    0  '^2\.0\.0 ' mx2.badtlsa.sec.test  'tls/tlsa-invalid tls/-'
	tl_row dane_no_tlsa_is_may   dane      notlsa.sec.test     0  '^2\.0\.0 ' mx.notlsa.sec.test    'tls/-'
	tl_row dane_only_no_tlsa     dane-only notlsa.sec.test     75 '^4\.7\.5 ' none                  '-/dane-required'
	tl_row dane_stripped         dane      strip.sec.test      75 '^4\.7\.4 ' none                  'none/starttls-not-supported'
	tl_row dane_insecure_is_may  dane      good.plain.test     0  '^2\.0\.0 ' mx.good.plain.test    'tls/-'
	tl_row verify_good           verify    good.plain.test     0  '^2\.0\.0 ' mx.good.plain.test    'verified/-'
	tl_row secure_good           secure    good.plain.test     0  '^2\.0\.0 ' mx.good.plain.test    'verified/-'
	tl_row verify_wrong_name     verify    wrong.plain.test    75 '^4\.7\.5 ' none                  'tls/certificate-host-mismatch'
	tl_row verify_expired        verify    expired.plain.test  75 '^4\.7\.5 ' none                  'tls/certificate-expired'
	tl_row verify_self_signed    verify    self.plain.test     75 '^4\.7\.5 ' none                  'tls/certificate-not-trusted'
	tl_row verify_stripped       verify    strip.sec.test      75 '^4\.7\.4 ' none                  'none/starttls-not-supported'
	tl_row encrypt_self_signed   encrypt   self.plain.test     0  '^2\.0\.0 ' mx.self.plain.test    'tls/-'
	tl_row may_wrong_name        may       wrong.plain.test    0  '^2\.0\.0 ' mx.wrong.plain.test   'tls/-'
	tl_row encrypt_stripped      encrypt   strip.sec.test      75 '^4\.7\.4 ' none                  'none/starttls-not-supported'
	tl_row none_stripped         none      strip.sec.test      0  '^2\.0\.0 ' mx.strip.sec.test     'none/-'
	# MTA-STS enforce: mx1 is not in the policy, mx2 must be verified
	f1=$(tl_https_fetches)
	tl_row sts_enforce           may       sts.plain.test      0  '^2\.0\.0 ' mx2.sts.plain.test    '-/validation-failure verified/-'
	cp "$tl_dir/rows/sts_enforce/journal.db" "$tl_dir/journal.db"	# the cache for what follows
	f2=$(tl_https_fetches)
	report_result "tls sts_fetched_once" "$([[ $f2 -eq $((f1 + 1)) ]] || echo "the policy was fetched $((f2 - f1)) times, want 1")"
	tl_row sts_cached            may       sts.plain.test      0  '^2\.0\.0 ' mx2.sts.plain.test    '-/validation-failure verified/-'
	report_result "tls sts_cache_fetches_nothing" "$([[ $(tl_https_fetches) -eq $f2 ]] || echo "a delivery with a current cached policy fetched it again")"
	# MTA-STS testing: the certificate is checked and its failure journalled, not enforced
	tl_row sts_testing           may       stst.plain.test     0  '^2\.0\.0 ' mx.wrong.plain.test   'tls/certificate-host-mismatch'
	tl_route route_sts_testing   may       stst.plain.test \
		'.mta_sts.mode == "testing" and .mta_sts.mx == ["mx.wrong.plain.test"] and .tiers[0].hosts[0].tls.sts_match == true and .tiers[0].hosts[0].usable == true'
	https_stop "$tl_https_pid"
	tl_row sts_server_dead       may       sts.plain.test      0  '^2\.0\.0 ' mx2.sts.plain.test    '-/validation-failure verified/-'
	tl_report report_names_sts   may       sts.plain.test sts_enforce "mx1.sts.plain.test (pref 10) is not in the MTA-STS policy of sts.plain.test"
	tl_report report_names_dane  dane      badtlsa.sec.test dane_tlsa_mismatch "failed DANE authentication (tlsa-invalid)"
	tl_route route_dane          dane      dane.sec.test \
		'.dnssec == true and .mta_sts == null and .tiers[0].hosts[0].tls.policy == "dane" and .tiers[0].hosts[0].tls.tlsa == 1 and .tiers[1].hosts[0].tls.policy == "may"'
	tl_route route_insecure      dane      good.plain.test \
		'.dnssec == false and .tiers[0].hosts[0].tls.policy == "may"'
	tl_route route_dane_only     dane-only notlsa.sec.test \
		'.result == "tempfail" and .status == "4.7.5" and .tiers[0].hosts[0].usable == false'
	peer_stop_all
	https_stop_all
}

tl_main
