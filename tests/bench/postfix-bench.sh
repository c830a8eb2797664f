#!/bin/bash
# tests/bench/postfix-bench.sh - make bench: delivery throughput of a real
# Postfix through its own smtp(8) client and through the mxtier pipe(8)
# transport, same machine, same run, same concurrency
#
# Starts on loopback: faultdns serving pipe.dlv.test (MX -> 127.0.1.20),
# one smtp-sink on 127.0.1.20, and a private Postfix (tests/mta/lib.sh)
# whose transport map sends native.test to smtp:[127.0.1.20]:PORT and
# pipe.dlv.test to the mxtier pipe(8) service; null.test goes to a pipe(8)
# running dd (reads the message, nothing else: the ceiling of any pipe(8)
# command) and floor.test to one running tests/bench/smtpfloor (reads the
# message and sends it to the sink in one SMTP session, with no config, DNS,
# policy or journal: the ceiling of any pipe(8) transport that delivers over
# SMTP itself). For each of ROUNDS rounds and each transport: N messages are injected with smtp-source while the
# transport is held (defer_transports), then released and flushed; the time
# from the flush to the N-th "status=sent" is the delivery time. Whole-
# machine CPU (from /proc/stat) is read over the same span.
#
# Then, outside Postfix: M deliveries by mxtier-pipe one after another
# (wall and CPU time per delivery), M runs of mxtier-pipe --version (the
# cost of starting the program at all: exec and the dynamic loader) and M of
# dd; and the per-stage cost of a delivery (start-up, config, DNS, plan,
# SMTP, journal) as the real binary reports it with MXTIER_STAGE_TIMES=1,
# also for PIPE_BEFORE (an older mxtier-pipe build) side by side when set.
#
# Environment: N (2000), ROUNDS (3), CONC (20: every transport's
# destination concurrency limit), M (200), ONLY (native, pipe, null or floor: one
# transport, for profiling; the ratio is then meaningless), PERF_RECORD (a
# file: perf record -a -g over each pipe round), PIPE_BEFORE (see above).
# smtp-sink offers no STARTTLS, so neither client does TLS. Prints median
# and spread of each figure and the ratio of the medians. Never asserts.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${N:-2000}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-20}
M=${M:-200}
run=$top/tests/tmp/bench-postfix.$$
mkdir -p "$run"
chmod 0755 "$run"
MTA_DIR=$run/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
. "$top/tests/bench/stats.sh"
pipe=$top/plugin/mxtier-pipe
as_nobody=()
[[ $(id -u) -eq 0 ]] && as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
dns_pid= sink_pid=
cleanup() {
	mta_stop_all
	[[ -n $sink_pid ]] && kill "$sink_pid" 2>/dev/null
	[[ -n $dns_pid ]] && kill "$dns_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "postfix-bench: $*" >&2; exit 1; }

for t in smtp-source smtp-sink postfix; do
	command -v "$t" >/dev/null || die "$t is missing (Debian package postfix)"
done

# --- DNS and the sink -------------------------------------------------------
printf 'pipe.dlv.test MX 10 mx.pipe.dlv.test\nmx.pipe.dlv.test A 127.0.1.20\n' >"$run/bench.rules"
exec 7< <("$top/tests/dns/faultdns" -l 127.0.0.1 -p 0 -z "$run/bench.rules" -t 3600 -P "$run/dns.pid" 2>"$run/dns.err")
IFS= read -r -t 10 line <&7 && [[ $line == "faultdns ready "* ]] || die "faultdns did not start: $(cat "$run/dns.err")"
exec 7<&-
dns=127.0.0.1:${line##* }
dns_pid=$(cat "$run/dns.pid")
sink_port=$(_mta_free_port) || die "no free port"
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u nobody)
# no dump (-d): the sink does the same small work for either transport
timeout 3600 smtp-sink "${sink_user[@]}" "127.0.1.20:$sink_port" 512 >"$run/sink.log" 2>&1 198>&- &
sink_pid=$!
for ((i = 0; i < 500; i++)); do
	ss -ltnH "src 127.0.1.20:$sink_port" | grep -q . && break
	sleep 0.01
done
ss -ltnH "src 127.0.1.20:$sink_port" | grep -q . || die "smtp-sink did not start"

# --- mxtier's config: the defaults, but this world's port and files ----------
mkdir -p "$run/journal" "$run/spool"
cat >"$run/mxtier.conf" <<CONF
resolver { timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = $sink_port  helo_name = "client.mxtier.test" }
spool { directory = "$run/spool" }
journal { path = "$run/journal/journal.db" }
CONF
mta_nobody_path "$run/mxtier.conf" "$run/journal/" "$run/spool/" >/dev/null || die "nobody cannot reach $run"

# --- Postfix ------------------------------------------------------------------
pf=$run/postfix
MTA_POSTFIX_TRANSPORTS="native.test	smtp:[127.0.1.20]:$sink_port
null.test	nullpipe:
floor.test	floorpipe:"
# the ceiling of any pipe(8) transport: a command that only reads the message
MTA_POSTFIX_MASTER="nullpipe  unix  -       n       n       -       -       pipe flags=q user=nobody argv=/bin/dd of=/dev/null status=none
floorpipe unix  -       n       n       -       -       pipe user=nobody argv=$top/tests/bench/smtpfloor 127.0.1.20 $sink_port \${sender} \${recipient}"
MTA_POSTFIX_MAIN="default_destination_concurrency_limit = $CONC
smtp_destination_concurrency_limit = $CONC
mxtier_destination_concurrency_limit = $CONC
nullpipe_destination_concurrency_limit = $CONC
nullpipe_destination_recipient_limit = 1
floorpipe_destination_concurrency_limit = $CONC
floorpipe_destination_recipient_limit = 1
default_process_limit = $((CONC * 2 + 10))
smtp_tls_security_level = none
defer_transports = smtp mxtier nullpipe floorpipe"
MTA_PIPE_TIME_LIMIT=600
mta_postfix_start "$pf" "$pipe" -c "$run/mxtier.conf" --dns-server "$dns" \
	-q '${queue_id}' -f '${sender}' -d '${nexthop}' -- '${recipient}' || die "Postfix did not start"
etc=$pf/etc
pf_port=$(cat "$pf/port")

# busy_ticks - whole-machine CPU time so far (USER_HZ ticks, not idle or iowait)
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
hz=$(getconf CLK_TCK)

# queue_count - messages in Postfix's queue
queue_count() { postqueue -c "$etc" -j 2>/dev/null | wc -l; }

# round TRANSPORT_NAME RECIPIENT - prints "seconds cpu_seconds"
round() {
	local rcpt=$2 t0 t1 c0 c1 i
	# held: every message waits in the deferred queue
	postconf -c "$etc" -e "defer_transports = smtp mxtier nullpipe floorpipe" && postfix -c "$etc" reload >/dev/null 2>&1
	smtp-source -s 10 -d -m "$N" -l 2000 -f sender@client.test -t "$rcpt" -M client.test \
		"127.0.0.1:$pf_port" || { echo "smtp-source failed" >&2; return 1; }
	for ((i = 0; i < 1200; i++)); do
		[[ $(queue_count) -ge $N ]] && break
		sleep 0.05
	done
	[[ $(queue_count) -ge $N ]] || { echo "only $(queue_count) of $N queued" >&2; return 1; }
	# released: from the flush to the N-th delivery
	postconf -c "$etc" -e "defer_transports =" && postfix -c "$etc" reload >/dev/null 2>&1
	coproc WATCH { timeout 900 tail -n0 -F "$pf/maillog" 2>/dev/null |
		awk $MTA_AWK_LINES -v n="$N" '/status=sent/ { if (++c >= n) { print "done"; fflush(); exit } }'; }
	watch_pid=$WATCH_PID	# bash unsets WATCH_PID once the coprocess is gone
	c0=$(busy_ticks)
	t0=$EPOCHREALTIME
	if [[ -n ${PERF_RECORD:-} && $1 == pipe ]]; then
		perf record -a -g -o "$PERF_RECORD" -- sleep 3600 >/dev/null 2>&1 &
		perf_pid=$!
	fi
	postqueue -c "$etc" -f
	IFS= read -r -t 900 line <&"${WATCH[0]}"
	if [[ -n ${perf_pid:-} ]]; then
		kill -INT "$perf_pid"; wait "$perf_pid"; perf_pid=
	fi
	t1=$EPOCHREALTIME
	c1=$(busy_ticks)
	kill "$watch_pid" 2>/dev/null
	wait "$watch_pid" 2>/dev/null
	[[ $line == done ]] || { echo "not all $N were delivered" >&2; return 1; }
	awk -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$hz" 'BEGIN { printf "%.3f %.3f\n", b - a, c / hz }'
}

# stats VALUES... - "median (min..max)"
stats() { bench_stats '%.1f (%.1f..%.1f)' "$@"; }
median() { bench_stats '%s\n' "$@"; }

echo "postfix-bench: $N messages per round, $ROUNDS rounds, concurrency $CONC, $(nproc) CPUs"
native_rate=() pipe_rate=() null_rate=() floor_rate=() native_cpu=() pipe_cpu=() null_cpu=() floor_cpu=()
for ((r = 1; r <= ROUNDS; r++)); do
	# rotate which goes first, so that none always runs on a warmer machine
	case $((r % 3)) in
	1) order="native pipe null floor" ;; 2) order="pipe null floor native" ;;
	0) order="null floor native pipe" ;;
	esac
	for which in $order; do
		[[ -n ${ONLY:-} && $which != "$ONLY" ]] && continue
		case $which in
		native) out=$(round native user@native.test) ;;
		pipe) out=$(round pipe user@pipe.dlv.test) ;;
		null) out=$(round null user@null.test) ;;
		floor) out=$(round floor user@floor.test) ;;
		esac || die "$which round $r failed"
		read -r secs cpu <<<"$out"
		rate=$(awk -v n="$N" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')
		cpu_ms=$(awk -v n="$N" -v c="$cpu" 'BEGIN { printf "%.2f", c * 1000 / n }')
		echo "  round $r $which: $N in ${secs}s = $rate msg/s, machine CPU $cpu_ms ms/msg"
		eval "${which}_rate+=(\"\$rate\"); ${which}_cpu+=(\"\$cpu_ms\")"
	done
done
sent_pipe=$(grep -c 'relay=mxtier,.*status=sent' "$pf/maillog")
bad=$(grep -Ec 'relay=(mxtier|127\.0\.1\.20)[^ ]*,.*status=(bounced|deferred)' "$pf/maillog")

# --- mxtier-pipe alone --------------------------------------------------------
printf 'From: sender@client.test\nTo: user@pipe.dlv.test\nSubject: bench\n\n%s\n' \
	"$(head -c 1500 /dev/zero | tr '\0' x)" >"$run/msg.eml"
chmod a+r "$run/msg.eml"
# seq_run WHAT - M runs one after another; prints "wall_ms_per_run cpu_ms_per_run"
seq_run() {
	local t0 t1 cpu
	t0=$EPOCHREALTIME
	cpu=$( { /usr/bin/time -f '%U %S' "${as_nobody[@]}" bash -c '
		m=$1 what=$2; shift 2
		for ((i = 0; i < m; i++)); do
			if [[ $what == version ]]; then "$1" --version >/dev/null
			elif [[ $what == dd ]]; then /bin/dd of=/dev/null status=none <"$MSG"
			else "$@" <"$MSG" >/dev/null || exit 1; fi
		done' - "$M" "$1" "$pipe" -c "$run/mxtier.conf" --dns-server "$dns" -f sender@client.test \
		-d pipe.dlv.test -- user@pipe.dlv.test >/dev/null; } 2>&1 | tail -1)
	t1=$EPOCHREALTIME
	awk -v a="$t0" -v b="$t1" -v m="$M" -v c="$cpu" 'BEGIN { split(c, x, " ")
		printf "%.2f %.2f\n", (b - a) * 1000 / m, (x[1] + x[2]) * 1000 / m }'
}
export MSG=$run/msg.eml
seq_wall=() seq_cpu=() ver_wall=() ver_cpu=() dd_wall=() dd_cpu=()
for ((r = 1; r <= 3; r++)); do
	read -r w c <<<"$(seq_run deliver)"; seq_wall+=("$w"); seq_cpu+=("$c")
	read -r w c <<<"$(seq_run version)"; ver_wall+=("$w"); ver_cpu+=("$c")
	read -r w c <<<"$(seq_run dd)"; dd_wall+=("$w"); dd_cpu+=("$c")
done

# stage_run BINARY - M deliveries with MXTIER_STAGE_TIMES: prints one line
# "NAME=CPU_MS/WALL_MS ..." of the per-delivery means (start-up: CPU only)
stage_run() {
	"${as_nobody[@]}" env MXTIER_STAGE_TIMES=1 bash -c '
		m=$1; shift
		for ((i = 0; i < m; i++)); do
			"$@" <"$MSG" 2>&1 >/dev/null | grep "^stage-times " || exit 1
		done' - "$M" "$1" -c "$run/mxtier.conf" --dns-server "$dns" -f sender@client.test \
		-d pipe.dlv.test -- user@pipe.dlv.test |
	awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); split(kv[2], cw, "/")
			if (!(kv[1] in c)) o[++n] = kv[1]
			c[kv[1]] += cw[1]; w[kv[1]] += cw[2] }; m++ }
		END { for (i = 1; i <= n; i++) printf "%s=%.3f/%.3f ", o[i], c[o[i]] / m, w[o[i]] / m
			print "" }'
}
# the stage table: median over 3 runs of M deliveries each, for this binary
# and for PIPE_BEFORE (an older build with MXTIER_STAGE_TIMES) when given
stage_names="start-up config dns plan smtp journal"
declare -A stage_cpu stage_wall
for ((r = 1; r <= 3; r++)); do
	for bin in ${PIPE_BEFORE:+"$PIPE_BEFORE"} "$pipe"; do
		line=$(stage_run "$bin")
		[[ -n $line ]] || die "$bin printed no stage-times (built before MXTIER_STAGE_TIMES?)"
		for kv in $line; do
			k=${kv%%=*} v=${kv#*=}
			stage_cpu[$bin,$k]+="${v%/*} " stage_wall[$bin,$k]+="${v#*/} "
		done
	done
done

echo
echo "Delivery throughput through Postfix ($N messages, concurrency $CONC, median (min..max) of $ROUNDS)"
printf '  %-34s %22s %24s\n' "transport" "msg/s" "machine CPU ms/msg"
printf '  %-34s %22s %24s\n' "Postfix smtp(8) -> smtp-sink" "$(stats "${native_rate[@]}")" "$(stats "${native_cpu[@]}")"
printf '  %-34s %22s %24s\n' "Postfix pipe(8) mxtier-pipe" "$(stats "${pipe_rate[@]}")" "$(stats "${pipe_cpu[@]}")"
printf '  %-34s %22s %24s\n' "Postfix pipe(8) dd (reads only)" "$(stats "${null_rate[@]}")" "$(stats "${null_cpu[@]}")"
printf '  %-34s %22s %24s\n' "Postfix pipe(8) smtpfloor" "$(stats "${floor_rate[@]}")" "$(stats "${floor_cpu[@]}")"
if [[ -z ${ONLY:-} ]]; then
	ratio=$(awk -v a="$(median "${pipe_rate[@]}")" -v b="$(median "${native_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
	ceiling=$(awk -v a="$(median "${null_rate[@]}")" -v b="$(median "${native_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
	of_ceiling=$(awk -v a="$(median "${pipe_rate[@]}")" -v b="$(median "${null_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
	echo "  ratio mxtier / native (medians): $ratio   (target >= 0.7)"
	echo "  ratio dd / native: $ceiling (what any pipe(8) command can reach here)"
	echo "  ratio mxtier / dd (medians): $of_ceiling   (goal >= 0.85)"
	floor_dd=$(awk -v a="$(median "${floor_rate[@]}")" -v b="$(median "${null_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
	pipe_floor=$(awk -v a="$(median "${pipe_rate[@]}")" -v b="$(median "${floor_rate[@]}")" 'BEGIN { printf "%.2f", a / b }')
	echo "  ratio smtpfloor / dd (medians): $floor_dd (what any pipe(8) transport that delivers over SMTP itself can reach)"
	echo "  ratio mxtier / smtpfloor (medians): $pipe_floor"
fi
echo "  check: $sent_pipe sent through mxtier in all, $bad deferred or bounced"
echo
echo "mxtier-pipe alone, $M runs one after another (median (min..max) of 3, per run)"
echo "  one delivery (plan, SMTP, journal): wall $(stats "${seq_wall[@]}") ms, CPU $(stats "${seq_cpu[@]}") ms"
echo "  start-up only (--version):           wall $(stats "${ver_wall[@]}") ms, CPU $(stats "${ver_cpu[@]}") ms"
echo "  dd of=/dev/null (reads only):        wall $(stats "${dd_wall[@]}") ms, CPU $(stats "${dd_cpu[@]}") ms"
echo
echo "Per-stage cost of one delivery (MXTIER_STAGE_TIMES, $M deliveries x 3, median; ms CPU / ms wall)"
# fmt3 VALUES... - the median with 3 decimals
fmt3() { bench_stats '%.3f\n' "$@"; }
cols=("$pipe") hdr="this build"
[[ -n ${PIPE_BEFORE:-} ]] && cols=("$PIPE_BEFORE" "$pipe") hdr="before (PIPE_BEFORE)     after (this build)"
printf '  %-10s %s\n' "stage" "$hdr"
for k in $stage_names total; do
	row=$(printf '  %-10s' "$k")
	for bin in "${cols[@]}"; do
		if [[ $k == total ]]; then
			c=0 w=0
			for s in $stage_names; do
				c=$(awk -v a="$c" -v b="$(fmt3 ${stage_cpu[$bin,$s]})" 'BEGIN { print a + b }')
				[[ $s == start-up ]] || w=$(awk -v a="$w" -v b="$(fmt3 ${stage_wall[$bin,$s]})" 'BEGIN { print a + b }')
			done
			row+=$(printf ' %8.3f / %-12.3f' "$c" "$w")
		elif [[ $k == start-up ]]; then
			row+=$(printf ' %8.3f / %-12s' "$(fmt3 ${stage_cpu[$bin,$k]})" "-")
		else
			row+=$(printf ' %8.3f / %-12s' "$(fmt3 ${stage_cpu[$bin,$k]})" "$(fmt3 ${stage_wall[$bin,$k]})")
		fi
	done
	echo "$row"
done
echo "  (start-up: CPU used before main(), exec and dynamic loading; total wall: from main() on)"
echo "postfix-bench: done"
