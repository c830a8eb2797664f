# tests/oracle/protocol.sh - the route oracle (mxtier-pipe --socketmap and
# --route-lines) against its clients: answers, caching, backoff, TLS
# memory, broken and hostile input (sourced by tests/run-tests.sh: uses
# report_result, $top and $run; everything it starts is stopped by
# op_stop, also from the run's cleanup)
#
# The oracle runs as nobody, as spawn(8) would run it, with DNS from a
# faultdns of its own (-v: one log line per query, which is how queries
# are counted) serving tests/oracle/oracle.rules and a generated zone of
# many domains. Requests go in on stdin (its end is the client's
# half-close) or through a coprocess (one connection, request by request).
# Every wait is bounded: `timeout` around each oracle and client, bounded
# polls for the TTL. Replies are read as netstrings, never guessed.

OP_PIDS=()
OP_MANY=2500		# distinct uncached domains of the 5000-lookup run
OP_RSS_MARGIN_KB=1024	# VmRSS growth allowed from lookup 1000 to 5000
# AddressSanitizer's allocator grows by itself (about 0.9 MB here with its
# quarantine off): 4 MB still catches a plan or an answer kept per lookup
if ldd "$top/plugin/mxtier-pipe" 2>/dev/null | grep -q libasan; then OP_RSS_MARGIN_KB=4096; fi

# op_stop - stop the faultdns and any coprocess or listener left running
op_stop() {
	local p
	for p in "${OP_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	OP_PIDS=()
}

# op_ns STRING... - each STRING as a netstring
op_ns() {
	local s
	for s in "$@"; do
		printf '%d:%s,' "${#s}" "$s"
	done
}

# op_read FD - one netstring reply from FD into OP_REPLY (20 s at most); false on
# end of input, a timeout or broken framing
op_read() {
	local fd=$1 len data
	OP_REPLY=
	IFS= read -r -d ':' -t 20 -u "$fd" len || return 1
	[[ $len =~ ^(0|[1-9][0-9]*)$ ]] || return 1
	IFS= read -r -N $((len + 1)) -t 20 -u "$fd" data || return 1
	[[ ${#data} -eq $((len + 1)) && ${data: -1} == , ]] || return 1
	OP_REPLY=${data%,}
}

# op_replies FILE - the netstring replies in FILE, one per line ("<broken>" at bad framing)
op_replies() {
	local fd
	exec {fd}<"$1"
	while op_read "$fd"; do
		printf '%s\n' "$OP_REPLY"
	done
	[[ -n $OP_REPLY ]] && echo "<broken>"
	exec {fd}<&-
}

# op_queries NAME TYPE - how many queries of NAME/TYPE the faultdns has seen
op_queries() {
	grep -c -F " $1. $2 -> " "$OP_DIR/faultdns.log"
}

# op_as_nobody - run a command as nobody (the oracle refuses root)
op_as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# op_run CONF OUT [ARG...] - the oracle as nobody on stdin, replies to OUT, its
# stderr to a file of its own; the exit status is the oracle's (124: timed out)
op_run() {
	local conf=$1 out=$2; shift 2
	timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$top/plugin/mxtier-pipe" "$@" -c "$conf" --dns-server "$OP_DNS" \
		>"$out" 2>"$(op_errfile)"
}

# op_errfile - a new file for one run's stderr (runs in pipelines are subshells: no counter)
op_errfile() {
	mktemp "$OP_DIR/stderr.XXXXXX"
}

# op_start_coproc CONF - the oracle as a coprocess (one connection); OP_IN/OP_OUT/OP_PID
op_start_coproc() {
	local err
	err=$(op_errfile)
	# under AddressSanitizer freed memory waits in a quarantine (256 MB):
	# without it, VmRSS shows what the oracle keeps, as in a normal build
	coproc ORCCO { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
		exec timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$top/plugin/mxtier-pipe" --socketmap -c "$1" --dns-server "$OP_DNS" \
		2>"$err"; }
	OP_OUT=${ORCCO[0]}
	OP_IN=${ORCCO[1]}
	OP_PID=$ORCCO_PID
	OP_PIDS+=("$OP_PID")
}

# op_ask KEY... - send "transport KEY" (or KEY itself when it has a space) on the
# coprocess and read the reply into OP_REPLY
op_ask() {
	local k
	for k in "$@"; do
		[[ $k == *" "* ]] || k="transport $k"
		op_ns "$k" >&"$OP_IN"
	done
	op_read "$OP_OUT"
}

# op_close_coproc - end the connection; the oracle's exit status
op_close_coproc() {
	local pid=$OP_PID rc
	exec {OP_IN}>&-
	wait "$pid"
	rc=$?
	op_forget "$pid"
	return $rc
}

# op_forget PID - PID has been reaped: op_stop must not signal it (or its successor)
op_forget() {
	local p keep=()
	for p in "${OP_PIDS[@]}"; do
		[[ $p != "$1" ]] && keep+=("$p")
	done
	OP_PIDS=("${keep[@]}")
}

# op_rss PID - VmRSS in kB of the process that timeout PID runs (or PID itself)
op_rss() {
	local child
	child=$(pgrep -P "$1" | head -1)
	awk '/^VmRSS:/ { print $2 }' "/proc/${child:-$1}/status" 2>/dev/null
}

# op_start_dns - the faultdns with the oracle's zones; sets OP_DNS
op_start_dns() {
	local line i rules=$OP_DIR/oracle.rules
	{
		cat "$top/tests/oracle/oracle.rules"
		echo "# generated: $OP_MANY domains with one exchange each"
		echo "ttl 300"
		for ((i = 1; i <= OP_MANY; i++)); do
			echo "d$i.many.orc.test MX 10 mx.many.orc.test"
		done
	} >"$rules"
	exec 7< <("$top/tests/dns/faultdns" -l 127.0.0.1 -p 0 -z "$rules" -t 900 -v \
		-P "$rules.pid" 2>"$OP_DIR/faultdns.log" 198>&-)
	if IFS= read -r -t 10 line <&7 && [[ $line == "faultdns ready "* ]]; then
		exec 7<&-
		OP_DNS=127.0.0.1:${line##* }
		OP_PIDS+=("$(cat "$rules.pid")")
		return 0
	fi
	exec 7<&-
	echo "oracle: faultdns did not start: $(cat "$OP_DIR/faultdns.log")" >&2
	return 1
}

OP_TWO="OK smtp:[mx1.two.orc.test]:25, [mx2.two.orc.test]:25"

op_answer_tests() {
	local dir=$OP_DIR conf=$OP_DIR/mxtier.conf out=$OP_DIR/out rc got

	# a two-tier domain, as a domain and as an address; null MX; NXDOMAIN;
	# "*", a bare local part, an address literal: NOTFOUND; a map we do not serve
	op_ns "transport two.orc.test" "transport user@two.orc.test" "transport null.orc.test" \
		"transport nx.orc.test" "transport *" "transport root" "transport user@[198.51.100.1]" \
		"virtual two.orc.test" | op_run "$conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	if [[ $(sed -n 1,2p <<<"$got") == "$OP_TWO"$'\n'"$OP_TWO" ]]; then
		report_result oracle_two_tier_exact ""
	else
		report_result oracle_two_tier_exact "want \"$OP_TWO\" twice" "$got"
	fi
	if [[ $(sed -n 3p <<<"$got") == "OK error:5.1.10 "*"null.orc.test"* ]]; then
		report_result oracle_null_mx ""
	else
		report_result oracle_null_mx "got: $(sed -n 3p <<<"$got")"
	fi
	if [[ $(sed -n 4p <<<"$got") == "OK error:5.1.2 "*"nx.orc.test"* ]]; then
		report_result oracle_nxdomain ""
	else
		report_result oracle_nxdomain "got: $(sed -n 4p <<<"$got")"
	fi
	if [[ $(sed -n 5,7p <<<"$got") == $'NOTFOUND \nNOTFOUND \nNOTFOUND ' ]]; then
		report_result oracle_notfound_star_root_literal ""
	else
		report_result oracle_notfound_star_root_literal "got: $(sed -n 5,7p <<<"$got" | tr '\n' '|')"
	fi
	if [[ $(sed -n 8p <<<"$got") == "PERM "* && $rc -eq 0 && $(wc -l <<<"$got") -eq 8 ]]; then
		report_result oracle_unknown_map_perm ""
	else
		report_result oracle_unknown_map_perm "exit $rc, reply 8: $(sed -n 8p <<<"$got")"
	fi

	# a DNS timeout: TEMP within the resolver's timeout (1 s, 1 try), the
	# connection goes on; `timeout 30` only bounds a hang
	op_ns "transport slow.orc.test" "transport two.orc.test" | op_run "$conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	if [[ $rc -eq 0 && $(sed -n 1p <<<"$got") == "TEMP 4."* && $(sed -n 2p <<<"$got") == "$OP_TWO" ]]; then
		report_result oracle_dns_timeout_temp ""
	else
		report_result oracle_dns_timeout_temp "exit $rc (124: it hung)" "$got"
	fi

	# a bad config: every request TEMP 4.3.5 naming the file and line
	printf 'resolver {\n\ttimeout = 1\n\tbogus = 2\n}\n' >"$dir/bad.conf"
	op_ns "transport two.orc.test" "tls [mx1.two.orc.test]:25" | op_run "$dir/bad.conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	if [[ $rc -eq 0 && $(wc -l <<<"$got") -eq 2 && $(grep -c "^TEMP 4.3.5 .*bad.conf:3" <<<"$got") -eq 2 ]]; then
		report_result oracle_bad_config_temp ""
	else
		report_result oracle_bad_config_temp "exit $rc" "$got"
	fi

	# root: refused, with TEMP (the MTA defers and says why)
	op_ns "transport two.orc.test" | timeout 30 "$top/plugin/mxtier-pipe" --socketmap -c "$conf" \
		--dns-server "$OP_DNS" >"$out" 2>"$(op_errfile)"
	rc=$?
	got=$(op_replies "$out")
	if [[ $EUID -ne 0 ]]; then
		report_result oracle_root_refused "the test runs as root to prove it (EUID $EUID)"
	elif [[ $got == "TEMP 4."*"root"* ]]; then
		report_result oracle_root_refused ""
	else
		report_result oracle_root_refused "exit $rc" "$got"
	fi
}

# op_tls_tests - tls lookups: the policy a transport answer gave a host, also
# from another connection (Postfix asks from another process); the level's own
# for a host no answer named
op_tls_tests() {
	local conf=$OP_DIR/secure.conf out=$OP_DIR/out rc got
	sed 's/^smtp { }$/smtp { tls_level = secure }/' "$OP_DIR/mxtier.conf" >"$conf"
	op_ns "transport two.orc.test" "tls [mx1.two.orc.test]:25" "tls [unknown.orc.test]:25" \
		"tls [mx1.two.orc.test]:2525" | op_run "$conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	op_ns "tls [mx2.two.orc.test]:25" "tls mx2.two.orc.test" "tls [bad key" |
		op_run "$conf" "$out.2" --socketmap
	got="$got
$(op_replies "$out.2")"
	local want="$OP_TWO
OK secure match=mx1.two.orc.test:two.orc.test:.two.orc.test
OK secure match=hostname
OK secure match=hostname
OK secure match=mx2.two.orc.test:two.orc.test:.two.orc.test
OK secure match=mx2.two.orc.test:two.orc.test:.two.orc.test
NOTFOUND "
	if [[ $rc -eq 0 && $got == "$want" ]]; then
		report_result oracle_tls_answers ""
	else
		report_result oracle_tls_answers "exit $rc" "$(diff <(echo "$want") <(echo "$got"))"
	fi
}

# op_backoff_tests - the primary's address in backoff: listed last; both: as planned
op_backoff_tests() {
	local conf=$OP_DIR/mxtier.conf db=$OP_DIR/journal.db out=$OP_DIR/out now got1 got2 got3
	now=$(date +%s%3N)
	# the journal exists (the earlier runs created it as nobody): write as nobody too
	op_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "INSERT OR REPLACE INTO backoff
		(address, port, failures, retry_at, last_error, updated)
		VALUES ('198.51.100.1', 25, 3, $((now + 3600000)), 'test', $now)"
	op_ns "transport two.orc.test" | op_run "$conf" "$out" --socketmap
	got1=$(op_replies "$out")
	op_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "INSERT OR REPLACE INTO backoff
		(address, port, failures, retry_at, last_error, updated)
		VALUES ('198.51.100.2', 25, 3, $((now + 3600000)), 'test', $now)"
	op_ns "transport two.orc.test" | op_run "$conf" "$out" --socketmap
	got2=$(op_replies "$out")
	# a retry time already past is no backoff
	op_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "UPDATE backoff SET retry_at = $((now - 1000))"
	op_ns "transport two.orc.test" | op_run "$conf" "$out" --socketmap
	got3=$(op_replies "$out")
	op_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "DELETE FROM backoff"
	if [[ $got1 == "OK smtp:[mx2.two.orc.test]:25, [mx1.two.orc.test]:25" &&
		$got2 == "$OP_TWO" && $got3 == "$OP_TWO" ]]; then
		report_result oracle_backoff_order ""
	else
		report_result oracle_backoff_order "primary in backoff / both / expired" "$got1
$got2
$got3"
	fi
}

# op_cache_tests - one DNS lookup for two asks on one connection; a 1 s TTL expires
op_cache_tests() {
	local conf=$OP_DIR/mxtier.conf out=$OP_DIR/out before after got n1= n2= n3= i rc
	before=$(op_queries cache.orc.test MX)
	op_ns "transport cache.orc.test" "transport cache.orc.test" "transport user@cache.orc.test" |
		op_run "$conf" "$out" --socketmap
	after=$(op_queries cache.orc.test MX)
	got=$(op_replies "$out")
	if [[ $((after - before)) -eq 1 && $(grep -c -x "OK smtp:\[mx.cache.orc.test\]:25" <<<"$got") -eq 3 ]]; then
		report_result oracle_cache_one_query ""
	else
		report_result oracle_cache_one_query "$((after - before)) MX queries for 3 asks" "$got"
	fi

	# TTL 1 s: asked again at once, cached; asked until the DNS sees a new
	# query (a bounded poll: 10 s), then answered as before
	op_start_coproc "$conf"
	n1=$(op_queries ttl1.orc.test MX)
	op_ask ttl1.orc.test
	got=$OP_REPLY
	op_ask ttl1.orc.test
	got="$got
$OP_REPLY"
	n2=$(op_queries ttl1.orc.test MX)
	for ((i = 0; i < 50; i++)); do
		sleep 0.2
		op_ask ttl1.orc.test || break
		n3=$(op_queries ttl1.orc.test MX)
		[[ $n3 -gt $n2 ]] && break
	done
	got="$got
$OP_REPLY"
	op_close_coproc
	rc=$?
	if [[ $rc -eq 0 && $((n2 - n1)) -eq 1 && $((n3 - n2)) -eq 1 &&
		$(grep -c -x "OK smtp:\[mx.ttl1.orc.test\]:25" <<<"$got") -eq 3 ]]; then
		report_result oracle_cache_ttl_expires ""
	else
		report_result oracle_cache_ttl_expires "exit $rc; MX queries: $((n2 - n1)) for 2 asks, then $((n3 - n2)) after $i polls" "$got"
	fi
}

# op_malformed_tests - broken framing: the request before it answered, then
# the connection closed (EX_PROTOCOL), no crash
op_malformed_tests() {
	local conf=$OP_DIR/mxtier.conf out=$OP_DIR/out rc got name input
	local -A cases=(
		[garbage]='GET / HTTP/1.0\r\n\r\n'
		[short_data]='5:abc,'
		[leading_zero]='05:hello,'
		[missing_comma]='5:hello;'
		[no_length]=':hello,'
	)
	for name in garbage short_data leading_zero missing_comma no_length; do
		input=$(printf '%s' "${cases[$name]}")
		{ op_ns "transport two.orc.test"; printf "$input"; } | op_run "$conf" "$out" --socketmap
		rc=$?
		got=$(op_replies "$out")
		if [[ $rc -eq 76 && $got == "$OP_TWO" ]]; then
			report_result "oracle_malformed_$name" ""
		else
			report_result "oracle_malformed_$name" "exit $rc (want 76, EX_PROTOCOL; >= 128 is a crash)" "$got"
		fi
	done

	# a huge key: a length over the limit closes at once, before its data
	# (an endless stream follows it: only an early close ends this run)
	{ op_ns "transport two.orc.test"; printf '99999999:'; cat /dev/zero; } 2>/dev/null |
		op_run "$conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	if [[ $rc -eq 76 && $got == "$OP_TWO" ]]; then
		report_result oracle_huge_key_closes ""
	else
		report_result oracle_huge_key_closes "exit $rc (124: it read on)" "$got"
	fi
	# ... one octet over the limit (10000) is refused the same way; the limit itself is served
	{ printf '10001:'; head -c 10001 /dev/zero | tr '\0' a; printf ','; } | op_run "$conf" "$out" --socketmap
	rc=$?
	{ printf '10000:transport '; head -c 9990 /dev/zero | tr '\0' a; printf ','; op_ns "transport two.orc.test"; } |
		op_run "$conf" "$out.2" --socketmap
	got=$(op_replies "$out.2")
	if [[ $rc -eq 76 && ! -s $out && $(sed -n 1p <<<"$got") == "PERM "* && $(sed -n 2p <<<"$got") == "$OP_TWO" ]]; then
		report_result oracle_key_at_limit ""
	else
		report_result oracle_key_at_limit "exit $rc for 10001 octets" "$got"
	fi
}

# op_client_tests - a slow client, a half-closed one over a real socket
op_client_tests() {
	local conf=$OP_DIR/mxtier.conf out=$OP_DIR/out rc got req i port lpid
	# a request dribbled octet by octet (0.05 s apart, well within the 10 s
	# request timeout) is answered
	req=$(op_ns "transport two.orc.test")
	for ((i = 0; i < ${#req}; i++)); do
		printf '%s' "${req:i:1}"
		sleep 0.05
	done | op_run "$conf" "$out" --socketmap
	rc=$?
	got=$(op_replies "$out")
	if [[ $rc -eq 0 && $got == "$OP_TWO" ]]; then
		report_result oracle_slow_client ""
	else
		report_result oracle_slow_client "exit $rc" "$got"
	fi

	# a client that stops inside a request (and keeps the connection open)
	# is answered up to there, then closed at the request timeout (10 s):
	# no hang (the coprocess's `timeout 120` only bounds one)
	op_start_coproc "$conf"
	{ op_ns "transport two.orc.test"; printf '30:transport tw'; } >&"$OP_IN"
	op_read "$OP_OUT"
	got=$OP_REPLY
	wait "$OP_PID"
	rc=$?
	op_forget "$OP_PID"
	if [[ $rc -eq 76 && $got == "$OP_TWO" ]]; then
		report_result oracle_stalled_request_closes ""
	else
		report_result oracle_stalled_request_closes "exit $rc (want 76; 124: it hung)" "$got"
	fi
	exec {OP_IN}>&- 2>/dev/null

	# half-closed: socat listens (one connection, bounded), the client sends
	# four requests, shuts its write side and still gets every answer
	port=$((20000 + RANDOM % 12000))	# below the ephemeral ports (32768-60999)
	# (the oracle's stderr goes to the client too, as under spawn(8): a word
	# on it would break the replies)
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups %q --socketmap -c %q --dns-server %q\n' \
		"$top/plugin/mxtier-pipe" "$conf" "$OP_DNS" >"$OP_DIR/oracle-exec.sh"
	chmod 0755 "$OP_DIR/oracle-exec.sh"
	timeout 60 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "EXEC:$OP_DIR/oracle-exec.sh,stderr" \
		2>"$(op_errfile)" &
	lpid=$!
	OP_PIDS+=("$lpid")
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.05
	done
	op_ns "transport two.orc.test" "transport null.orc.test" "transport *" "transport two.orc.test" |
		timeout 30 socat -t 20 - "TCP:127.0.0.1:$port" >"$out"
	rc=$?
	wait "$lpid" 2>/dev/null
	op_forget "$lpid"
	got=$(op_replies "$out")
	if [[ $rc -eq 0 && $(sed -n 1p <<<"$got") == "$OP_TWO" && $(sed -n 2p <<<"$got") == "OK error:5.1.10 "* &&
		$(sed -n 3p <<<"$got") == "NOTFOUND " && $(sed -n 4p <<<"$got") == "$OP_TWO" && $(wc -l <<<"$got") -eq 4 ]]; then
		report_result oracle_half_closed_socket ""
	else
		report_result oracle_half_closed_socket "client exit $rc" "$got"
	fi
}

# op_many_tests - 5000 lookups on one connection, alternating a cached domain
# and 2500 distinct uncached ones; every answer right, VmRSS flat from 1000 to 5000
op_many_tests() {
	local conf=$OP_DIR/mxtier.conf i k bad=0 rss1= rss5= rc batch
	op_start_coproc "$conf"
	k=0
	for batch in 1 2 3 4 5 6 7 8 9 10; do
		# 500 requests out, then their 500 replies (both stay under a pipe's buffer)
		for ((i = k + 1; i <= k + 250; i++)); do
			op_ns "transport two.orc.test" "transport d$i.many.orc.test"
		done >&"$OP_IN"
		for ((i = k + 1; i <= k + 250; i++)); do
			op_read "$OP_OUT" && [[ $OP_REPLY == "$OP_TWO" ]] || bad=$((bad + 1))
			op_read "$OP_OUT" && [[ $OP_REPLY == "OK smtp:[mx.many.orc.test]:25" ]] || bad=$((bad + 1))
		done
		k=$((k + 250))
		[[ $batch -eq 2 ]] && rss1=$(op_rss "$OP_PID")
	done
	rss5=$(op_rss "$OP_PID")
	op_close_coproc
	rc=$?
	echo "   oracle VmRSS: ${rss1:-?} kB after 1000 lookups, ${rss5:-?} kB after 5000"
	if [[ $rc -eq 0 && $bad -eq 0 && -n $rss1 && -n $rss5 && $((rss5 - rss1)) -le $OP_RSS_MARGIN_KB ]]; then
		report_result oracle_5000_lookups_memory_flat ""
	else
		report_result oracle_5000_lookups_memory_flat "exit $rc, $bad wrong replies, VmRSS ${rss1:-?} -> ${rss5:-?} kB (margin $OP_RSS_MARGIN_KB)"
	fi
}

# op_lines_tests - --route-lines: CRLF, a last line without newline, an
# over-long line answered empty and the next one still answered
op_lines_tests() {
	local conf=$OP_DIR/mxtier.conf out=$OP_DIR/out rc want
	{
		printf 'two.orc.test\r\nnull.orc.test\nnx.orc.test\n'
		head -c 20000 /dev/zero | tr '\0' a
		printf '\nuser@two.orc.test\n\ntwo.orc.test'
	} | op_run "$conf" "$out" --route-lines
	rc=$?
	want="mx1.two.orc.test:mx2.two.orc.test byname



mx1.two.orc.test:mx2.two.orc.test byname

mx1.two.orc.test:mx2.two.orc.test byname"
	if [[ $rc -eq 0 && $(cat "$out"; echo .) == "$want
." ]]; then
		report_result oracle_route_lines ""
	else
		report_result oracle_route_lines "exit $rc" "$(diff <(echo "$want") "$out")"
	fi
}

# op_stderr_test - nothing ever reached stderr in any run above
op_stderr_test() {
	local f said= n=0
	for f in "$OP_DIR"/stderr.*; do
		n=$((n + 1))
		[[ -s $f ]] && said+="$(basename "$f"): $(head -c 200 "$f") "
	done
	if [[ -z $said && $n -gt 20 ]]; then
		report_result oracle_stderr_silent ""
	else
		report_result oracle_stderr_silent "${said:-only $n runs}"
	fi
}

op_tests() {
	OP_DIR=$run/oracle
	mkdir -p "$OP_DIR"
	chmod 0777 "$OP_DIR"		# the journal is nobody's
	if ! op_as_nobody test -w "$OP_DIR" -a -x "$OP_DIR"; then
		report_result oracle_setup "nobody cannot write $OP_DIR (a parent folder?)"
		return
	fi
	if ! op_start_dns; then
		report_result oracle_faultdns "did not start"
		return
	fi
	cat >"$OP_DIR/mxtier.conf" <<EOF
resolver {
	timeout = 1
	tries = 1
}
journal {
	path = "$OP_DIR/journal.db"
}
smtp { }
EOF
	op_answer_tests
	op_tls_tests
	op_backoff_tests
	op_cache_tests
	op_malformed_tests
	op_client_tests
	op_many_tests
	op_lines_tests
	op_stderr_test
}

echo "== the route oracle: socketmap and route-lines protocol"
LC_ALL=C op_tests
op_stop
