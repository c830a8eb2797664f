# tests/oracle/protocol.sh - the route oracle (mxtier-pipe --socketmap and
# --route-lines) against its clients: answers, caching, backoff, TLS
# memory, broken and hostile input (sourced by tests/run-tests.sh: uses
# report_result, $top and $run; everything it starts is stopped by
# orc_stop, also from the run's cleanup)
#
# The oracle runs as nobody, as spawn(8) would run it, with DNS from a
# faultdns of its own (-v: one log line per query, which is how queries
# are counted) serving tests/oracle/oracle.rules and a generated zone of
# many domains. Requests go in on stdin (its end is the client's
# half-close) or through a coprocess (one connection, request by request).
# Every wait is bounded: `timeout` around each oracle and client, bounded
# polls for the TTL. Replies are read as netstrings, never guessed.

ORC_PIDS=()
ORC_MANY=2500		# distinct uncached domains of the 5000-lookup run
ORC_RSS_MARGIN_KB=1024	# VmRSS growth allowed from lookup 1000 to 5000

# orc_stop - stop the faultdns and any coprocess or listener left running
orc_stop() {
	local p
	for p in "${ORC_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ORC_PIDS=()
}

# orc_ns STRING... - each STRING as a netstring
orc_ns() {
	local s
	for s in "$@"; do
		printf '%d:%s,' "${#s}" "$s"
	done
}

# orc_read FD - one netstring reply from FD into ORC_REPLY (20 s at most); false on
# end of input, a timeout or broken framing
orc_read() {
	local fd=$1 len data
	ORC_REPLY=
	IFS= read -r -d ':' -t 20 -u "$fd" len || return 1
	[[ $len =~ ^(0|[1-9][0-9]*)$ ]] || return 1
	IFS= read -r -N $((len + 1)) -t 20 -u "$fd" data || return 1
	[[ ${#data} -eq $((len + 1)) && ${data: -1} == , ]] || return 1
	ORC_REPLY=${data%,}
}

# orc_replies FILE - the netstring replies in FILE, one per line ("<broken>" at bad framing)
orc_replies() {
	local fd
	exec {fd}<"$1"
	while orc_read "$fd"; do
		printf '%s\n' "$ORC_REPLY"
	done
	[[ -n $ORC_REPLY ]] && echo "<broken>"
	exec {fd}<&-
}

# orc_queries NAME TYPE - how many queries of NAME/TYPE the faultdns has seen
orc_queries() {
	grep -c -F " $1. $2 -> " "$ORC_DIR/faultdns.log"
}

# orc_as_nobody - run a command as nobody (the oracle refuses root)
orc_as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# orc_run CONF OUT [ARG...] - the oracle as nobody on stdin, replies to OUT, its
# stderr to a file of its own; the exit status is the oracle's (124: timed out)
orc_run() {
	local conf=$1 out=$2; shift 2
	timeout 30 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$top/plugin/mxtier-pipe" "$@" -c "$conf" --dns-server "$ORC_DNS" \
		>"$out" 2>"$(orc_errfile)"
}

# orc_errfile - a new file for one run's stderr (runs in pipelines are subshells: no counter)
orc_errfile() {
	mktemp "$ORC_DIR/stderr.XXXXXX"
}

# orc_start_coproc CONF - the oracle as a coprocess (one connection); ORC_IN/ORC_OUT/ORC_PID
orc_start_coproc() {
	local err
	err=$(orc_errfile)
	coproc ORCCO { exec timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$top/plugin/mxtier-pipe" --socketmap -c "$1" --dns-server "$ORC_DNS" \
		2>"$err"; }
	ORC_OUT=${ORCCO[0]}
	ORC_IN=${ORCCO[1]}
	ORC_PID=$ORCCO_PID
	ORC_PIDS+=("$ORC_PID")
}

# orc_ask KEY... - send "transport KEY" (or KEY itself when it has a space) on the
# coprocess and read the reply into ORC_REPLY
orc_ask() {
	local k
	for k in "$@"; do
		[[ $k == *" "* ]] || k="transport $k"
		orc_ns "$k" >&"$ORC_IN"
	done
	orc_read "$ORC_OUT"
}

# orc_close_coproc - end the connection; the oracle's exit status
orc_close_coproc() {
	local pid=$ORC_PID rc
	exec {ORC_IN}>&-
	wait "$pid"
	rc=$?
	orc_forget "$pid"
	return $rc
}

# orc_forget PID - PID has been reaped: orc_stop must not signal it (or its successor)
orc_forget() {
	local p keep=()
	for p in "${ORC_PIDS[@]}"; do
		[[ $p != "$1" ]] && keep+=("$p")
	done
	ORC_PIDS=("${keep[@]}")
}

# orc_rss PID - VmRSS in kB of the process that timeout PID runs (or PID itself)
orc_rss() {
	local child
	child=$(pgrep -P "$1" | head -1)
	awk '/^VmRSS:/ { print $2 }' "/proc/${child:-$1}/status" 2>/dev/null
}

# orc_start_dns - the faultdns with the oracle's zones; sets ORC_DNS
orc_start_dns() {
	local line i rules=$ORC_DIR/oracle.rules
	{
		cat "$top/tests/oracle/oracle.rules"
		echo "# generated: $ORC_MANY domains with one exchange each"
		echo "ttl 300"
		for ((i = 1; i <= ORC_MANY; i++)); do
			echo "d$i.many.orc.test MX 10 mx.many.orc.test"
		done
	} >"$rules"
	exec 7< <("$top/tests/dns/faultdns" -l 127.0.0.1 -p 0 -z "$rules" -t 900 -v \
		-P "$rules.pid" 2>"$ORC_DIR/faultdns.log" 198>&-)
	if IFS= read -r -t 10 line <&7 && [[ $line == "faultdns ready "* ]]; then
		exec 7<&-
		ORC_DNS=127.0.0.1:${line##* }
		ORC_PIDS+=("$(cat "$rules.pid")")
		return 0
	fi
	exec 7<&-
	echo "oracle: faultdns did not start: $(cat "$ORC_DIR/faultdns.log")" >&2
	return 1
}

ORC_TWO="OK smtp:[mx1.two.orc.test]:25, [mx2.two.orc.test]:25"

orc_answer_tests() {
	local dir=$ORC_DIR conf=$ORC_DIR/mxtier.conf out=$ORC_DIR/out rc got

	# a two-tier domain, as a domain and as an address; null MX; NXDOMAIN;
	# "*", a bare local part, an address literal: NOTFOUND; a map we do not serve
	orc_ns "transport two.orc.test" "transport user@two.orc.test" "transport null.orc.test" \
		"transport nx.orc.test" "transport *" "transport root" "transport user@[198.51.100.1]" \
		"virtual two.orc.test" | orc_run "$conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	if [[ $(sed -n 1,2p <<<"$got") == "$ORC_TWO"$'\n'"$ORC_TWO" ]]; then
		report_result oracle_two_tier_exact ""
	else
		report_result oracle_two_tier_exact "want \"$ORC_TWO\" twice" "$got"
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
	orc_ns "transport slow.orc.test" "transport two.orc.test" | orc_run "$conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	if [[ $rc -eq 0 && $(sed -n 1p <<<"$got") == "TEMP 4."* && $(sed -n 2p <<<"$got") == "$ORC_TWO" ]]; then
		report_result oracle_dns_timeout_temp ""
	else
		report_result oracle_dns_timeout_temp "exit $rc (124: it hung)" "$got"
	fi

	# a bad config: every request TEMP 4.3.5 naming the file and line
	printf 'resolver {\n\ttimeout = 1\n\tbogus = 2\n}\n' >"$dir/bad.conf"
	orc_ns "transport two.orc.test" "tls [mx1.two.orc.test]:25" | orc_run "$dir/bad.conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	if [[ $rc -eq 0 && $(wc -l <<<"$got") -eq 2 && $(grep -c "^TEMP 4.3.5 .*bad.conf:3" <<<"$got") -eq 2 ]]; then
		report_result oracle_bad_config_temp ""
	else
		report_result oracle_bad_config_temp "exit $rc" "$got"
	fi

	# root: refused, with TEMP (the MTA defers and says why)
	orc_ns "transport two.orc.test" | timeout 30 "$top/plugin/mxtier-pipe" --socketmap -c "$conf" \
		--dns-server "$ORC_DNS" >"$out" 2>"$(orc_errfile)"
	rc=$?
	got=$(orc_replies "$out")
	if [[ $EUID -ne 0 ]]; then
		report_result oracle_root_refused "the test runs as root to prove it (EUID $EUID)"
	elif [[ $got == "TEMP 4."*"root"* ]]; then
		report_result oracle_root_refused ""
	else
		report_result oracle_root_refused "exit $rc" "$got"
	fi
}

# orc_tls_tests - tls lookups: the policy a transport answer gave a host, also
# from another connection (Postfix asks from another process); the level's own
# for a host no answer named
orc_tls_tests() {
	local conf=$ORC_DIR/secure.conf out=$ORC_DIR/out rc got
	sed 's/^smtp { }$/smtp { tls_level = secure }/' "$ORC_DIR/mxtier.conf" >"$conf"
	orc_ns "transport two.orc.test" "tls [mx1.two.orc.test]:25" "tls [unknown.orc.test]:25" \
		"tls [mx1.two.orc.test]:2525" | orc_run "$conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	orc_ns "tls [mx2.two.orc.test]:25" "tls mx2.two.orc.test" "tls [bad key" |
		orc_run "$conf" "$out.2" --socketmap
	got="$got
$(orc_replies "$out.2")"
	local want="$ORC_TWO
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

# orc_backoff_tests - the primary's address in backoff: listed last; both: as planned
orc_backoff_tests() {
	local conf=$ORC_DIR/mxtier.conf db=$ORC_DIR/journal.db out=$ORC_DIR/out now got1 got2 got3
	now=$(date +%s%3N)
	# the journal exists (the earlier runs created it as nobody): write as nobody too
	orc_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "INSERT OR REPLACE INTO backoff
		(address, port, failures, retry_at, last_error, updated)
		VALUES ('198.51.100.1', 25, 3, $((now + 3600000)), 'test', $now)"
	orc_ns "transport two.orc.test" | orc_run "$conf" "$out" --socketmap
	got1=$(orc_replies "$out")
	orc_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "INSERT OR REPLACE INTO backoff
		(address, port, failures, retry_at, last_error, updated)
		VALUES ('198.51.100.2', 25, 3, $((now + 3600000)), 'test', $now)"
	orc_ns "transport two.orc.test" | orc_run "$conf" "$out" --socketmap
	got2=$(orc_replies "$out")
	# a retry time already past is no backoff
	orc_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "UPDATE backoff SET retry_at = $((now - 1000))"
	orc_ns "transport two.orc.test" | orc_run "$conf" "$out" --socketmap
	got3=$(orc_replies "$out")
	orc_as_nobody sqlite3 -cmd '.timeout 5000' "$db" "DELETE FROM backoff"
	if [[ $got1 == "OK smtp:[mx2.two.orc.test]:25, [mx1.two.orc.test]:25" &&
		$got2 == "$ORC_TWO" && $got3 == "$ORC_TWO" ]]; then
		report_result oracle_backoff_order ""
	else
		report_result oracle_backoff_order "primary in backoff / both / expired" "$got1
$got2
$got3"
	fi
}

# orc_cache_tests - one DNS lookup for two asks on one connection; a 1 s TTL expires
orc_cache_tests() {
	local conf=$ORC_DIR/mxtier.conf out=$ORC_DIR/out before after got n1= n2= n3= i rc
	before=$(orc_queries cache.orc.test MX)
	orc_ns "transport cache.orc.test" "transport cache.orc.test" "transport user@cache.orc.test" |
		orc_run "$conf" "$out" --socketmap
	after=$(orc_queries cache.orc.test MX)
	got=$(orc_replies "$out")
	if [[ $((after - before)) -eq 1 && $(grep -c -x "OK smtp:\[mx.cache.orc.test\]:25" <<<"$got") -eq 3 ]]; then
		report_result oracle_cache_one_query ""
	else
		report_result oracle_cache_one_query "$((after - before)) MX queries for 3 asks" "$got"
	fi

	# TTL 1 s: asked again at once, cached; asked until the DNS sees a new
	# query (a bounded poll: 10 s), then answered as before
	orc_start_coproc "$conf"
	n1=$(orc_queries ttl1.orc.test MX)
	orc_ask ttl1.orc.test
	got=$ORC_REPLY
	orc_ask ttl1.orc.test
	got="$got
$ORC_REPLY"
	n2=$(orc_queries ttl1.orc.test MX)
	for ((i = 0; i < 50; i++)); do
		sleep 0.2
		orc_ask ttl1.orc.test || break
		n3=$(orc_queries ttl1.orc.test MX)
		[[ $n3 -gt $n2 ]] && break
	done
	got="$got
$ORC_REPLY"
	orc_close_coproc
	rc=$?
	if [[ $rc -eq 0 && $((n2 - n1)) -eq 1 && $((n3 - n2)) -eq 1 &&
		$(grep -c -x "OK smtp:\[mx.ttl1.orc.test\]:25" <<<"$got") -eq 3 ]]; then
		report_result oracle_cache_ttl_expires ""
	else
		report_result oracle_cache_ttl_expires "exit $rc; MX queries: $((n2 - n1)) for 2 asks, then $((n3 - n2)) after $i polls" "$got"
	fi
}

# orc_malformed_tests - broken framing: the request before it answered, then
# the connection closed (EX_PROTOCOL), no crash
orc_malformed_tests() {
	local conf=$ORC_DIR/mxtier.conf out=$ORC_DIR/out rc got name input
	local -A cases=(
		[garbage]='GET / HTTP/1.0\r\n\r\n'
		[short_data]='5:abc,'
		[leading_zero]='05:hello,'
		[missing_comma]='5:hello;'
		[no_length]=':hello,'
	)
	for name in garbage short_data leading_zero missing_comma no_length; do
		input=$(printf '%s' "${cases[$name]}")
		{ orc_ns "transport two.orc.test"; printf "$input"; } | orc_run "$conf" "$out" --socketmap
		rc=$?
		got=$(orc_replies "$out")
		if [[ $rc -eq 76 && $got == "$ORC_TWO" ]]; then
			report_result "oracle_malformed_$name" ""
		else
			report_result "oracle_malformed_$name" "exit $rc (want 76, EX_PROTOCOL; >= 128 is a crash)" "$got"
		fi
	done

	# a huge key: a length over the limit closes at once, before its data
	# (an endless stream follows it: only an early close ends this run)
	{ orc_ns "transport two.orc.test"; printf '99999999:'; cat /dev/zero; } 2>/dev/null |
		orc_run "$conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	if [[ $rc -eq 76 && $got == "$ORC_TWO" ]]; then
		report_result oracle_huge_key_closes ""
	else
		report_result oracle_huge_key_closes "exit $rc (124: it read on)" "$got"
	fi
	# ... one octet over the limit (10000) is refused the same way; the limit itself is served
	{ printf '10001:'; head -c 10001 /dev/zero | tr '\0' a; printf ','; } | orc_run "$conf" "$out" --socketmap
	rc=$?
	{ printf '10000:transport '; head -c 9990 /dev/zero | tr '\0' a; printf ','; orc_ns "transport two.orc.test"; } |
		orc_run "$conf" "$out.2" --socketmap
	got=$(orc_replies "$out.2")
	if [[ $rc -eq 76 && ! -s $out && $(sed -n 1p <<<"$got") == "PERM "* && $(sed -n 2p <<<"$got") == "$ORC_TWO" ]]; then
		report_result oracle_key_at_limit ""
	else
		report_result oracle_key_at_limit "exit $rc for 10001 octets" "$got"
	fi
}

# orc_client_tests - a slow client, a half-closed one over a real socket
orc_client_tests() {
	local conf=$ORC_DIR/mxtier.conf out=$ORC_DIR/out rc got req i port lpid
	# a request dribbled octet by octet (0.05 s apart, well within the 10 s
	# request timeout) is answered
	req=$(orc_ns "transport two.orc.test")
	for ((i = 0; i < ${#req}; i++)); do
		printf '%s' "${req:i:1}"
		sleep 0.05
	done | orc_run "$conf" "$out" --socketmap
	rc=$?
	got=$(orc_replies "$out")
	if [[ $rc -eq 0 && $got == "$ORC_TWO" ]]; then
		report_result oracle_slow_client ""
	else
		report_result oracle_slow_client "exit $rc" "$got"
	fi

	# a client that stops inside a request (and keeps the connection open)
	# is answered up to there, then closed at the request timeout (10 s):
	# no hang (the coprocess's `timeout 120` only bounds one)
	orc_start_coproc "$conf"
	{ orc_ns "transport two.orc.test"; printf '30:transport tw'; } >&"$ORC_IN"
	orc_read "$ORC_OUT"
	got=$ORC_REPLY
	wait "$ORC_PID"
	rc=$?
	orc_forget "$ORC_PID"
	if [[ $rc -eq 76 && $got == "$ORC_TWO" ]]; then
		report_result oracle_stalled_request_closes ""
	else
		report_result oracle_stalled_request_closes "exit $rc (want 76; 124: it hung)" "$got"
	fi
	exec {ORC_IN}>&- 2>/dev/null

	# half-closed: socat listens (one connection, bounded), the client sends
	# four requests, shuts its write side and still gets every answer
	port=$((20000 + RANDOM % 30000))
	# (the oracle's stderr goes to the client too, as under spawn(8): a word
	# on it would break the replies)
	printf '#!/bin/sh\nexec setpriv --reuid=nobody --regid=nogroup --clear-groups %q --socketmap -c %q --dns-server %q\n' \
		"$top/plugin/mxtier-pipe" "$conf" "$ORC_DNS" >"$ORC_DIR/oracle-exec.sh"
	chmod 0755 "$ORC_DIR/oracle-exec.sh"
	timeout 60 socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "EXEC:$ORC_DIR/oracle-exec.sh,stderr" \
		2>"$(orc_errfile)" &
	lpid=$!
	ORC_PIDS+=("$lpid")
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.05
	done
	orc_ns "transport two.orc.test" "transport null.orc.test" "transport *" "transport two.orc.test" |
		timeout 30 socat -t 20 - "TCP:127.0.0.1:$port" >"$out"
	rc=$?
	wait "$lpid" 2>/dev/null
	orc_forget "$lpid"
	got=$(orc_replies "$out")
	if [[ $rc -eq 0 && $(sed -n 1p <<<"$got") == "$ORC_TWO" && $(sed -n 2p <<<"$got") == "OK error:5.1.10 "* &&
		$(sed -n 3p <<<"$got") == "NOTFOUND " && $(sed -n 4p <<<"$got") == "$ORC_TWO" && $(wc -l <<<"$got") -eq 4 ]]; then
		report_result oracle_half_closed_socket ""
	else
		report_result oracle_half_closed_socket "client exit $rc" "$got"
	fi
}

# orc_many_tests - 5000 lookups on one connection, alternating a cached domain
# and 2500 distinct uncached ones; every answer right, VmRSS flat from 1000 to 5000
orc_many_tests() {
	local conf=$ORC_DIR/mxtier.conf i k bad=0 rss1= rss5= rc batch
	orc_start_coproc "$conf"
	k=0
	for batch in 1 2 3 4 5 6 7 8 9 10; do
		# 500 requests out, then their 500 replies (both stay under a pipe's buffer)
		for ((i = k + 1; i <= k + 250; i++)); do
			orc_ns "transport two.orc.test" "transport d$i.many.orc.test"
		done >&"$ORC_IN"
		for ((i = k + 1; i <= k + 250; i++)); do
			orc_read "$ORC_OUT" && [[ $ORC_REPLY == "$ORC_TWO" ]] || bad=$((bad + 1))
			orc_read "$ORC_OUT" && [[ $ORC_REPLY == "OK smtp:[mx.many.orc.test]:25" ]] || bad=$((bad + 1))
		done
		k=$((k + 250))
		[[ $batch -eq 2 ]] && rss1=$(orc_rss "$ORC_PID")
	done
	rss5=$(orc_rss "$ORC_PID")
	orc_close_coproc
	rc=$?
	echo "   oracle VmRSS: ${rss1:-?} kB after 1000 lookups, ${rss5:-?} kB after 5000"
	if [[ $rc -eq 0 && $bad -eq 0 && -n $rss1 && -n $rss5 && $((rss5 - rss1)) -le $ORC_RSS_MARGIN_KB ]]; then
		report_result oracle_5000_lookups_memory_flat ""
	else
		report_result oracle_5000_lookups_memory_flat "exit $rc, $bad wrong replies, VmRSS ${rss1:-?} -> ${rss5:-?} kB (margin $ORC_RSS_MARGIN_KB)"
	fi
}

# orc_lines_tests - --route-lines: CRLF, a last line without newline, an
# over-long line answered empty and the next one still answered
orc_lines_tests() {
	local conf=$ORC_DIR/mxtier.conf out=$ORC_DIR/out rc want
	{
		printf 'two.orc.test\r\nnull.orc.test\nnx.orc.test\n'
		head -c 20000 /dev/zero | tr '\0' a
		printf '\nuser@two.orc.test\n\ntwo.orc.test'
	} | orc_run "$conf" "$out" --route-lines
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

# orc_stderr_test - nothing ever reached stderr in any run above
orc_stderr_test() {
	local f said= n=0
	for f in "$ORC_DIR"/stderr.*; do
		n=$((n + 1))
		[[ -s $f ]] && said+="$(basename "$f"): $(head -c 200 "$f") "
	done
	if [[ -z $said && $n -gt 20 ]]; then
		report_result oracle_stderr_silent ""
	else
		report_result oracle_stderr_silent "${said:-only $n runs}"
	fi
}

orc_tests() {
	ORC_DIR=$run/oracle
	mkdir -p "$ORC_DIR"
	chmod 0777 "$ORC_DIR"		# the journal is nobody's
	if ! orc_as_nobody test -w "$ORC_DIR" -a -x "$ORC_DIR"; then
		report_result oracle_setup "nobody cannot write $ORC_DIR (a parent folder?)"
		return
	fi
	if ! orc_start_dns; then
		report_result oracle_faultdns "did not start"
		return
	fi
	cat >"$ORC_DIR/mxtier.conf" <<EOF
resolver {
	timeout = 1
	tries = 1
}
journal {
	path = "$ORC_DIR/journal.db"
}
smtp { }
EOF
	orc_answer_tests
	orc_tls_tests
	orc_backoff_tests
	orc_cache_tests
	orc_malformed_tests
	orc_client_tests
	orc_many_tests
	orc_lines_tests
	orc_stderr_test
}

echo "== the route oracle: socketmap and route-lines protocol"
LC_ALL=C orc_tests
orc_stop
