#!/bin/bash
# tests/bench/oracle-bench.sh - make bench: Postfix's own smtp(8) with
# mxtier-pipe --socketmap as its transport and TLS policy oracle, against
# plain smtp(8) resolving MX itself; same Postfix, same DNS, same run. Then
# the oracle's lookups per second on one connection, cached and uncached.
#
# Starts on loopback (as root, like the real-MTA tests): an Unbound on
# 127.0.0.153:53 (tests/mta/lib.sh mta_dns_start; Postfix's master runs in a
# private mount namespace where it is /etc/resolv.conf) serving orb.test:
# bench.orb.test MX 10 mx.orb.test (A 127.0.1.30) and d1 .. dK.orb.test with
# the same MX; one smtp-sink (no dump) on 127.0.1.30; a private Postfix with
# a spawn(8) service running the oracle. For each of ROUNDS rounds and each
# way, N messages to u1 .. uN@bench.orb.test are injected (socat) while
# smtp is held (defer_transports); then the way's tables are set
# (oracle: transport_maps and smtp_tls_policy_maps ask the socketmap;
# native: no socketmap at all, Postfix looks up the MX itself) and smtp
# released, both with a reload, before the clock starts: the time from
# `postqueue -f` to the N-th "status=sent" is the delivery time. Whole-
# machine CPU (from /proc/stat) is read over the same span. The order of
# the two ways alternates from round to round.
#
# Lookups: `mxtier-pipe --socketmap` as nobody, fed netstrings on stdin:
# L lookups of one address (cached after the first), K lookups of K
# distinct domains (each a DNS round trip), L tls lookups of one host.
#
# Environment: N (2000), ROUNDS (6), CONC (20: smtp's destination
# concurrency limit), L (20000), K (2000), ORC_PIPE (another oracle binary),
# KEEP (keep the files). Prints median and spread of each figure, the ratio
# of the medians and the median of the ratios within each round (the two
# ways of a round run back to back; goal: oracle / native >= 0.95).
# Never asserts.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000}
ROUNDS=${ROUNDS:-6}
CONC=${CONC:-20}
L=${L:-20000}
K=${K:-2000}
run=$top/tests/tmp/bench-oracle.$$
mkdir -p "$run"
chmod 0755 "$run"
MTA_DIR=$run/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
. "$top/tests/bench/stats.sh"
pipe=${ORC_PIPE:-$top/plugin/mxtier-pipe}
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
sink_addr=127.0.1.30
sink_pid=
cleanup() {
	mta_stop_all
	[[ -n $sink_pid ]] && kill "$sink_pid" 2>/dev/null
	wait 2>/dev/null
	[[ -n ${KEEP:-} ]] || rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "oracle-bench: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (DNS on 127.0.0.153:53 for Postfix's own client)"
for t in socat smtp-sink postfix unbound; do
	command -v "$t" >/dev/null || die "$t is missing"
done
[[ -x $pipe ]] || die "$pipe is not built"
mta_world_lock 600 || die "another test run holds the MTA world"

# --- DNS and the sink -------------------------------------------------------
{
	echo 'local-zone: "orb.test." static'
	echo 'local-data: "bench.orb.test. 300 IN MX 10 mx.orb.test."'
	echo "local-data: \"mx.orb.test. 300 IN A $sink_addr\""
	for ((i = 1; i <= K; i++)); do
		echo "local-data: \"d$i.orb.test. 300 IN MX 10 mx.orb.test.\""
	done
} >"$run/zones.conf"
mta_dns_start "$run/dns" "$run/zones.conf" || die "Unbound did not start"
sink_port=$(_mta_free_port) || die "no free port"
# no dump (-d): the sink does the same small work for either way
timeout 3600 smtp-sink -u nobody "$sink_addr:$sink_port" 512 >"$run/sink.log" 2>&1 198>&- &
sink_pid=$!
for ((i = 0; i < 500; i++)); do
	ss -ltnH "src $sink_addr:$sink_port" | grep -q . && break
	sleep 0.01
done
ss -ltnH "src $sink_addr:$sink_port" | grep -q . || die "smtp-sink did not start"

# --- the oracle's configuration ----------------------------------------------
mkdir -p "$run/journal" "$run/spool"
cat >"$run/mxtier.conf" <<CONF
resolver { servers = { "$MTA_DNS_ADDR:53" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = $sink_port  helo_name = "client.mxtier.test" }
spool { directory = "$run/spool" }
journal { path = "$run/journal/journal.db" }
CONF
mta_nobody_path "$run/mxtier.conf" "$run/journal/" "$run/spool/" "$pipe" >/dev/null || die "nobody cannot reach $run"

# --- Postfix ------------------------------------------------------------------
pf=$run/postfix
sport=$(_mta_free_port) || die "no free port"
map=socketmap:inet:127.0.0.1:$sport
printf '/@client\\.test$/\tmailbox:\n' >"$run/local-transport"
MTA_POSTFIX_TRANSPORT_MAPS="regexp:$run/local-transport"
MTA_POSTFIX_MASTER="127.0.0.1:$sport inet n n n - 0 spawn user=nobody argv=$pipe -c $run/mxtier.conf --socketmap
tlsmgr    unix  -       -       n       1000?   1       tlsmgr"
MTA_POSTFIX_MAIN="smtp_tcp_port = $sink_port
smtp_address_preference = ipv4
smtp_tls_security_level = may
smtp_destination_concurrency_limit = $CONC
default_process_limit = $((CONC * 2 + 10))
defer_transports = smtp"
mta_postfix_start "$pf" /bin/true || die "Postfix did not start"
etc=$pf/etc
pf_port=$(cat "$pf/port")
# lib.sh sends what no table names to an error: here smtp(8) takes it
postconf -c "$etc" -e "default_transport = smtp" || die "postconf failed"

# the lookup through Postfix's own client, once, so a broken oracle shows
out=$(timeout 30 postmap -c "$etc" -q user@bench.orb.test "$map:transport" 2>/dev/null)
echo "oracle-bench: transport of user@bench.orb.test: $out"
[[ $out == "smtp:[mx.orb.test]:$sink_port"* ]] || die "the oracle's answer is not smtp:[mx.orb.test]:$sink_port"

busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
hz=$(getconf CLK_TCK)
queue_count() { postqueue -c "$etc" -j 2>/dev/null | wc -l; }

# tables WAY HELD - main.cf for the way (oracle or native), smtp held or not
tables() {
	local held=
	[[ $2 == held ]] && held=smtp
	if [[ $1 == oracle ]]; then
		postconf -c "$etc" -e "transport_maps = regexp:$run/local-transport, $map:transport" \
			"smtp_tls_policy_maps = $map:tls" "defer_transports = $held"
	else
		postconf -c "$etc" -e "transport_maps = regexp:$run/local-transport" \
			"smtp_tls_policy_maps =" "defer_transports = $held"
	fi && postfix -c "$etc" reload >/dev/null 2>&1
}

# The messages: N, each to its own recipient (u1 .. uN@bench.orb.test),
# 2000 octets of body, in one pipelined SMTP session. (smtp-source repeats
# one recipient, and qmgr's resolver client answers a repeated address
# from its cache without asking trivial-rewrite: the oracle would be asked
# once a round instead of once a message.)
awk -v n="$N" 'BEGIN {
	for (i = 0; i < 25; i++) line = line "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
	printf "EHLO client.test\r\n"
	for (i = 1; i <= n; i++)
		printf "MAIL FROM:<sender@client.test>\r\nRCPT TO:<u%d@bench.orb.test>\r\nDATA\r\n" \
			"From: sender@client.test\r\nSubject: bench %d\r\n\r\n%s.\r\n", i, i, line
	printf "QUIT\r\n" }' >"$run/inject.smtp"

# inject - the messages into Postfix; false when not all were queued
inject() {
	timeout 300 socat -t 60 - "TCP:127.0.0.1:$pf_port" <"$run/inject.smtp" >"$run/inject.out" 2>&1
	[[ $(grep -c 'queued as' "$run/inject.out") -eq $N ]] ||
		{ echo "smtpd queued $(grep -c 'queued as' "$run/inject.out") of $N" >&2; return 1; }
}

# round WAY - prints "seconds cpu_seconds"
round() {
	local t0 t1 c0 c1 i line
	tables "$1" held || return 1
	inject || return 1
	for ((i = 0; i < 1200; i++)); do
		[[ $(queue_count) -ge $N ]] && break
		sleep 0.05
	done
	[[ $(queue_count) -ge $N ]] || { echo "only $(queue_count) of $N queued" >&2; return 1; }
	tables "$1" released || return 1
	coproc WATCH { timeout 900 tail -n0 -F "$pf/maillog" 2>/dev/null |
		awk $MTA_AWK_LINES -v n="$N" '/status=sent/ { if (++c >= n) { print "done"; fflush(); exit } }'; }
	watch_pid=$WATCH_PID
	c0=$(busy_ticks)
	t0=$EPOCHREALTIME
	postqueue -c "$etc" -f
	IFS= read -r -t 900 line <&"${WATCH[0]}"
	t1=$EPOCHREALTIME
	c1=$(busy_ticks)
	kill "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
	[[ $line == "done" ]] || { echo "not all $N were delivered" >&2; return 1; }
	awk -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$hz" 'BEGIN { printf "%.3f %.3f\n", b - a, c / hz }'
}

stats() { bench_stats '%.1f (%.1f..%.1f)' "$@"; }
median() { bench_stats '%s\n' "$@"; }

echo "oracle-bench: $N messages per round, $ROUNDS rounds, concurrency $CONC, $(nproc) CPUs"
native_rate=() oracle_rate=() native_cpu=() oracle_cpu=() pair=()
for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then order="native oracle"; else order="oracle native"; fi
	for way in $order; do
		out=$(round "$way") || die "$way round $r failed"
		read -r secs cpu <<<"$out"
		rate=$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
		cpu_ms=$(awk -v n="$N" -v c="$cpu" 'BEGIN { printf "%.2f", c * 1000 / n }')
		echo "  round $r $way: $N in ${secs}s = $rate msg/s, machine CPU $cpu_ms ms/msg"
		eval "${way}_rate+=(\"\$rate\"); ${way}_cpu+=(\"\$cpu_ms\")"
	done
	# the two ways of one round ran back to back: their ratio is less
	# disturbed by what else the machine did meanwhile
	pair+=("$(awk -v a="${oracle_rate[-1]}" -v b="${native_rate[-1]}" 'BEGIN { printf "%.3f", a / b }')")
done
# the check: every message sent to the sink, none went anywhere else
sent=$(grep -c "relay=mx\.orb\.test\[$sink_addr\]:$sink_port,.*status=sent" "$pf/maillog")
bad=$(grep -E "status=(bounced|deferred)" "$pf/maillog" | grep -vc "status=deferred (deferred transport)")
nexthops=$(grep -o 'relay=[^,]*' "$pf/maillog" | sort | uniq -c | paste -sd' ')
warn=$(grep -c 'warning:' "$pf/maillog")

# --- lookups on one connection -------------------------------------------------
# netstrings KEY... - one "transport KEY" (or "tls KEY" when KEY is [..])
# netstring per argument on stdout
netstrings() {
	awk '{ q = (substr($0, 1, 1) == "[" ? "tls " : "transport ") $0
		printf "%d:%s,", length(q), q }'
}
for ((i = 0; i < L; i++)); do echo user@bench.orb.test; done | netstrings >"$run/cached.ns"
for ((i = 1; i <= K; i++)); do echo "user@d$i.orb.test"; done | netstrings >"$run/uncached.ns"
for ((i = 0; i < L; i++)); do echo "[mx.orb.test]:$sink_port"; done | netstrings >"$run/tls.ns"
chmod a+r "$run"/*.ns
# lookups FILE COUNT WANT - lookups per second of one connection fed FILE
# (COUNT queries); WANT: how each answer starts. Prints "rate answers_ok"
lookups() {
	local t0 t1 ok
	t0=$EPOCHREALTIME
	timeout 600 "${as_nobody[@]}" "$pipe" -c "$run/mxtier.conf" --socketmap <"$1" >"$run/answers" 2>"$run/answers.err"
	t1=$EPOCHREALTIME
	ok=$(grep -o "[0-9]*:$3" "$run/answers" | wc -l)
	awk -v a="$t0" -v b="$t1" -v n="$2" -v ok="$ok" 'BEGIN { printf "%.0f %d\n", n / (b - a), ok }'
}
c_rate=() u_rate=() t_rate=()
for ((r = 1; r <= 3; r++)); do
	read -r x c_ok <<<"$(lookups "$run/cached.ns" "$L" "OK smtp:")"; c_rate+=("$x")
	read -r x u_ok <<<"$(lookups "$run/uncached.ns" "$K" "OK smtp:")"; u_rate+=("$x")
	read -r x t_ok <<<"$(lookups "$run/tls.ns" "$L" "OK ")"; t_rate+=("$x")
done

echo
echo "Postfix smtp(8) with and without the route oracle ($N messages, concurrency $CONC, median (min..max) of $ROUNDS)"
printf '  %-44s %22s %24s\n' "way" "msg/s" "machine CPU ms/msg"
printf '  %-44s %22s %24s\n' "native: Postfix looks up the MX" "$(stats "${native_rate[@]}")" "$(stats "${native_cpu[@]}")"
printf '  %-44s %22s %24s\n' "oracle: socketmap transport + tls policy" "$(stats "${oracle_rate[@]}")" "$(stats "${oracle_cpu[@]}")"
ratio=$(awk -v a="$(median "${oracle_rate[@]}")" -v b="$(median "${native_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
echo "  ratio oracle / native (medians): $ratio   (goal >= 0.95)"
echo "  ratio oracle / native within each round: $(bench_stats '%.2f (%.2f..%.2f)' "${pair[@]}")"
echo "  check: $sent sent to the sink of $((N * ROUNDS * 2)), $bad deferred or bounced, $warn warnings; relays: $nexthops"
echo
echo "mxtier-pipe --socketmap, lookups per second on one connection (median (min..max) of 3)"
echo "  transport, one domain ($L, cached):       $(bench_stats '%.0f (%.0f..%.0f)' "${c_rate[@]}")   ($c_ok answered OK smtp:)"
echo "  transport, $K distinct domains (uncached): $(bench_stats '%.0f (%.0f..%.0f)' "${u_rate[@]}")   ($u_ok answered OK smtp:)"
echo "  tls, one host ($L):                        $(bench_stats '%.0f (%.0f..%.0f)' "${t_rate[@]}")   ($t_ok answered OK)"
echo "oracle-bench: done"
