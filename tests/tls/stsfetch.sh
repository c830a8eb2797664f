# tests/tls/stsfetch.sh - MTA-STS policy fetches against real HTTPS servers
# (sourced by tests/run-tests.sh: uses report_result, $run, $top and the
# world's Unbound, MXT_DNS; alone: bash tests/tls/stsfetch.sh)
#
# Makes two test CAs and three certificates with openssl, then starts on
# loopback (tests/tls/https.sh), all on port 443 (STS_PORT when not root):
#   127.0.43.1  openssl s_server -WWW, good certificate for mta-sts.sts.mxt.test
#               (the address Unbound gives that name: tests/world/zones.conf)
#   127.0.43.2  the same name, signed by a CA the client does not trust
#   127.0.43.3  a good CA, but a certificate for www.sts.mxt.test
#   127.0.43.4  a 301 redirect to 127.0.43.1's policy, .5 a 404, .6 text/html
#   127.0.43.7  a listener that accepts and never answers
#   127.0.43.8  nothing (connection refused)
# and runs tests/tls/stsprobe against them: fetch checks each outcome and
# its RFC 8460 type; obtain checks the cache in a journal (a second delivery
# fetches nothing, a new TXT id fetches again, a dead server leaves the
# cached policy in force until it expires). Each check is one test.
# STS_VERBOSE=1 prints what each call printed.

sts_alone=
if ! declare -F report_result >/dev/null; then
	# run alone: the bits of tests/run-tests.sh this needs
	sts_alone=1
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	run=$top/tests/tmp/stsfetch.$$
	mkdir -p "$run"
	passed=0 failed=0
	report_result() {
		if [[ -z $2 ]]; then
			echo "[       OK ] $1"
			passed=$((passed + 1))
		else
			echo "[  FAILED  ] $1: $2"
			[[ -n ${3:-} ]] && printf '%s\n' "$3" | head -5 | sed 's/^/    | /'
			failed=$((failed + 1))
		fi
	}
	WORLD_TOP=$top
	. "$top/tests/world/lib.sh"
	world_start_unbound "$run/unbound" || report_result "world: unbound" "did not start"
	trap 'https_stop_all; world_stop' EXIT
fi
. "$top/tests/tls/https.sh"

sts_dir=$run/sts
sts_www=$sts_dir/www
sts_port=443
[[ $(id -u) -ne 0 ]] && sts_port=${STS_PORT:-8443}
sts_life=120
sts_domain=sts.mxt.test
sts_probe=("$top/tests/tls/stsprobe" -c "$sts_dir/ca.crt" -p "$sts_port" -t 2000)
sts_journal=$sts_dir/journal.db

echo "== MTA-STS policy fetches over HTTPS (tests/tls/stsfetch.sh)"
mkdir -p "$sts_www/.well-known"

# sts_policy TEXT - what 127.0.43.1 serves now (printf format: \n, \r)
sts_policy() {
	printf "$1" >"$sts_www/.well-known/mta-sts.txt"
}

# sts_fetches - requests 127.0.43.1 has served so far (s_server's FILE: lines)
sts_fetches() {
	grep -c '^FILE:' "$sts_dir/www-127.0.43.1-$sts_port.log" 2>/dev/null || echo 0
}

# sts_expect NAME WANT GOT - GOT must start with WANT
sts_expect() {
	[[ -n ${STS_VERBOSE:-} ]] && printf '    %s\n' "$3"
	if [[ $3 == "$2"* ]]; then
		report_result "$1" ""
	else
		report_result "$1" "want \"$2...\"" "$3"
	fi
}

# sts_response FILE STATUS TYPE BODY - a canned HTTP response
sts_response() {
	printf 'HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s' \
		"$2" "$3" "${#4}" "${5:-}" "$4" >"$1"
}

sts_setup() {
	local enf='version: STSv1\nmode: enforce\nmx: mx1.sts.mxt.test\nmx: *.backup.sts.mxt.test\nmax_age: 604800\n'
	https_make_ca "$sts_dir" ca && https_make_ca "$sts_dir" otherca &&
	https_make_cert "$sts_dir" ca "mta-sts.$sts_domain" good &&
	https_make_cert "$sts_dir" otherca "mta-sts.$sts_domain" untrusted &&
	https_make_cert "$sts_dir" ca "www.$sts_domain" wrongname || return 1
	sts_policy "$enf"
	sts_response "$sts_dir/redirect.http" "301 Moved Permanently" text/plain "moved" \
		"Location: https://mta-sts.$sts_domain:$sts_port/.well-known/mta-sts.txt"$'\r\n'
	sts_response "$sts_dir/404.http" "404 Not Found" text/plain "no policy here"
	sts_response "$sts_dir/html.http" "200 OK" "text/html; charset=utf-8" "$(printf "$enf")"
	https_start_www "$sts_dir" 127.0.43.1 "$sts_port" "$sts_dir/good.crt" "$sts_dir/good.key" \
		"$sts_www" "$sts_life" && sts_www_pid=$HTTPS_PID &&
	https_start_www "$sts_dir" 127.0.43.2 "$sts_port" "$sts_dir/untrusted.crt" \
		"$sts_dir/untrusted.key" "$sts_www" "$sts_life" &&
	https_start_www "$sts_dir" 127.0.43.3 "$sts_port" "$sts_dir/wrongname.crt" \
		"$sts_dir/wrongname.key" "$sts_www" "$sts_life" &&
	https_start_canned "$sts_dir" 127.0.43.4 "$sts_port" "$sts_dir/good.crt" "$sts_dir/good.key" \
		"$sts_dir/redirect.http" "$sts_life" &&
	https_start_canned "$sts_dir" 127.0.43.5 "$sts_port" "$sts_dir/good.crt" "$sts_dir/good.key" \
		"$sts_dir/404.http" "$sts_life" &&
	https_start_canned "$sts_dir" 127.0.43.6 "$sts_port" "$sts_dir/good.crt" "$sts_dir/good.key" \
		"$sts_dir/html.http" "$sts_life" &&
	https_start_stall "$sts_dir" 127.0.43.7 "$sts_port" "$sts_life"
}

# sts_fetch ADDR - one fetch of sts.mxt.test's policy from ADDR
sts_fetch() {
	"${sts_probe[@]}" fetch "$sts_domain" "$1" 2>&1
}

# sts_obtain [OPTIONS] TXT - one mx_sts_obtain with the journal and the world's DNS
sts_obtain() {
	"${sts_probe[@]}" -j "$sts_journal" -d "${MXT_DNS:-127.0.0.1:9}" "${@:1:$#-1}" \
		obtain "$sts_domain" "${!#}" 2>&1
}

sts_tests() {
	local out before t0 ms now

	# fetch: each kind of server
	out=$(sts_fetch 127.0.43.1)
	sts_expect "sts fetch: enforce policy" \
		"fetched mode=enforce max_age=604800 mx=mx1.sts.mxt.test,*.backup.sts.mxt.test" "$out"
	sts_policy 'version: STSv1\r\nmode: testing\r\nmx: MX1.sts.mxt.test\r\nmax_age: 86400\r\n'
	out=$(sts_fetch 127.0.43.1)
	sts_expect "sts fetch: testing policy (CRLF)" \
		"fetched mode=testing max_age=86400 mx=mx1.sts.mxt.test" "$out"
	sts_policy 'version: STSv1\nmode: enforcing\nmx: mx1.sts.mxt.test\nmax_age: 86400\n'
	out=$(sts_fetch 127.0.43.1)
	sts_expect "sts fetch: malformed policy is sts-policy-invalid" \
		"failure=sts-policy-invalid why=invalid policy: mode 'enforcing'" "$out"
	{
		printf 'version: STSv1\nmode: enforce\nmx: mx1.sts.mxt.test\nmax_age: 86400\n'
		head -c 70000 /dev/zero | tr '\0' 'a' | fold -w 60 | sed 's/^/x-pad: /'
	} >"$sts_www/.well-known/mta-sts.txt"
	out=$(sts_fetch 127.0.43.1)
	sts_expect "sts fetch: oversize policy is a fetch error" \
		"failure=sts-policy-fetch-error why=policy larger than 65536 octets" "$out"
	out=$(sts_fetch 127.0.43.2)
	sts_expect "sts fetch: certificate from an untrusted CA is sts-webpki-invalid" \
		"failure=sts-webpki-invalid why=certificate verify failed: mta-sts.sts.mxt.test[127.0.43.2]" \
		"$out"
	out=$(sts_fetch 127.0.43.3)
	sts_expect "sts fetch: certificate for another name is sts-webpki-invalid" \
		"failure=sts-webpki-invalid why=certificate verify failed:" "$out"
	before=$(sts_fetches)
	out=$(sts_fetch 127.0.43.4)
	sts_expect "sts fetch: a redirect is a fetch error, not followed" \
		"failure=sts-policy-fetch-error why=HTTP 301" "$out"
	t=$(grep -c '^GET /.well-known/mta-sts.txt ' "$sts_dir/canned-127.0.43.4-$sts_port.log.req")
	if [[ $t -ne 1 || $(sts_fetches) -ne $before ]]; then
		report_result "sts fetch: the redirect target is never asked" \
			"redirect server asked $t times, policy server $(($(sts_fetches) - before))"
	else
		report_result "sts fetch: the redirect target is never asked" ""
	fi
	out=$(sts_fetch 127.0.43.5)
	sts_expect "sts fetch: HTTP 404 is a fetch error" "failure=sts-policy-fetch-error why=HTTP 404" "$out"
	out=$(sts_fetch 127.0.43.6)
	sts_expect "sts fetch: text/html is a fetch error" \
		"failure=sts-policy-fetch-error why=Content-Type is text/html" "$out"
	t0=$(date +%s%N)
	out=$(sts_fetch 127.0.43.7)
	ms=$((($(date +%s%N) - t0) / 1000000))
	sts_expect "sts fetch: a stalling server is a fetch error" \
		"failure=sts-policy-fetch-error why=no policy from mta-sts.sts.mxt.test[127.0.43.7]:$sts_port within 2000 ms" \
		"$out"
	if [[ $ms -ge 1900 && $ms -lt 5000 ]]; then
		report_result "sts fetch: the stall ends at the timeout (${ms} ms)" ""
	else
		report_result "sts fetch: the stall ends at the timeout" "took $ms ms, want 2000..5000"
	fi
	out=$(sts_fetch 127.0.43.8)
	sts_expect "sts fetch: connection refused is a fetch error" \
		"failure=sts-policy-fetch-error why=connect to mta-sts.sts.mxt.test[127.0.43.8]:$sts_port: Connection refused" \
		"$out"

	# obtain: the cache in the journal, the address from the world's DNS
	sts_policy 'version: STSv1\nmode: enforce\nmx: mx1.sts.mxt.test\nmax_age: 86400\n'
	before=$(sts_fetches)
	out=$(sts_obtain "v=STSv1; id=one;")
	sts_expect "sts obtain: first delivery fetches and caches" \
		"applies=yes fetched=yes failure=- mode=enforce id=one max_age=86400 mx=mx1.sts.mxt.test note=MTA-STS policy of sts.mxt.test fetched" \
		"$out"
	t=$(sqlite3 "$sts_journal" "select id || ' ' || mode || ' ' || max_age || ' ' || mx from sts_policies where domain = 'sts.mxt.test'" 2>&1)
	sts_expect "sts obtain: the policy is in the journal" "one enforce 86400 mx1.sts.mxt.test" "$t"
	out=$(sts_obtain "v=STSv1; id=one;")
	sts_expect "sts obtain: same id uses the cache" \
		"applies=yes fetched=no failure=- mode=enforce id=one" "$out"
	if [[ $(sts_fetches) -eq $((before + 1)) ]]; then
		report_result "sts obtain: the second delivery fetched nothing" ""
	else
		report_result "sts obtain: the second delivery fetched nothing" \
			"the policy server saw $(($(sts_fetches) - before)) requests, want 1"
	fi
	sts_policy 'version: STSv1\nmode: testing\nmx: mx1.sts.mxt.test\nmx: mx2.sts.mxt.test\nmax_age: 86400\n'
	out=$(sts_obtain "v=STSv1; id=two;")
	sts_expect "sts obtain: a new id fetches again" \
		"applies=yes fetched=yes failure=- mode=testing id=two max_age=86400 mx=mx1.sts.mxt.test,mx2.sts.mxt.test" \
		"$out"
	if [[ $(sts_fetches) -eq $((before + 2)) ]]; then
		report_result "sts obtain: the new id cost exactly one fetch" ""
	else
		report_result "sts obtain: the new id cost exactly one fetch" \
			"the policy server saw $(($(sts_fetches) - before)) requests, want 2"
	fi
	out=$(sts_obtain -F "v=STSv1; id=three;")
	sts_expect "sts obtain: cache only (-F) keeps the cached policy" \
		"applies=yes fetched=no failure=- mode=testing id=two" "$out"
	out=$(sts_obtain -s nxdomain -r 0 "")
	sts_expect "sts obtain: TXT gone, the cached policy holds" \
		"applies=yes fetched=no failure=- mode=testing id=two" "$out"
	https_stop "$sts_www_pid"
	out=$(sts_obtain "v=STSv1; id=three;")
	sts_expect "sts obtain: dead server, the unexpired cached policy applies" \
		"applies=yes fetched=no failure=sts-policy-fetch-error mode=testing id=two" "$out"
	report_result "sts obtain: the note says the fetch failed and the cache is used" \
		"$([[ $out == *"Connection refused"*"the cached policy (id two"* ]] || echo "note: ${out#*note=}")"
	now=$(($(date +%s) * 1000 + 86400 * 1000 + 1000))
	out=$(sts_obtain -n "$now" "v=STSv1; id=three;")
	sts_expect "sts obtain: dead server, cached policy expired: none applies" \
		"applies=no fetched=no failure=sts-policy-fetch-error mode=- id=-" "$out"
	out=$(sts_obtain "v=STSv1; id=bad-id;")
	sts_expect "sts obtain: an invalid TXT record leaves the cached policy" \
		"applies=yes fetched=no failure=- mode=testing id=two" "$out"
	out=$("${sts_probe[@]}" -d "${MXT_DNS:-127.0.0.1:9}" -r 2 obtain "$sts_domain" "" 2>&1)
	sts_expect "sts obtain: several v=STSv1 records, nothing cached: none applies" \
		"applies=no fetched=no failure=- mode=- id=- max_age=0 mx= note=_mta-sts.sts.mxt.test has 2 v=STSv1 records" \
		"$out"
}

if sts_setup; then
	sts_tests
else
	report_result "sts: test servers" "did not start (see $sts_dir)"
fi
https_stop_all

if [[ -n $sts_alone ]]; then
	echo "$passed passed, $failed failed"
	[[ $failed -eq 0 ]] && rm -rf "$run"
	[[ $failed -eq 0 ]]
fi
