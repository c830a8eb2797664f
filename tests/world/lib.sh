# tests/world/lib.sh - start and stop the loopback test world (sourced by bash)
#
#   world_start_unbound DIR    real DNS server (Unbound, local-data zones);
#                              sets MXT_DNS=127.0.0.1:PORT
#   world_start_faultdns DIR NAME [faultdns options]
#                              fault-injecting responder on a free port;
#                              sets MXT_<NAME>=127.0.0.1:PORT, or [::1]:PORT
#                              when WORLD_LISTEN=::1
#   world_start_dnssec DIR VAR ZONE=FILE[:MODE]...
#                              validating Unbound with signed zones (dnssec.sh)
#   world_stop                 stops everything started here
#
# Servers are also bounded by a lifetime (timeout / -t), so they stop by
# themselves if the test run is killed. Readiness is read from the server's
# own output ("start of service", "faultdns ready PORT"), never guessed.

WORLD_PIDS=()
WORLD_TOP=${WORLD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORLD_LIFETIME=${WORLD_LIFETIME:-1800}

# world_big_records KIND - 300 MX records (and their addresses, 10.0.x.y) for
# the capped-answer domain: KIND is unbound or faultdns
world_big_records() {
	local i
	for ((i = 1; i <= 300; i++)); do
		if [[ $1 == unbound ]]; then
			echo "local-data: \"big.mxt.test. 300 IN MX $i mx$i.big.mxt.test.\""
			echo "local-data: \"mx$i.big.mxt.test. 300 IN A 10.0.$((i / 256)).$((i % 256))\""
		else
			echo "big.flt.test MX $i mx$i.big.flt.test"
		fi
	done
}

# world_wait_line FIFO PATTERN SECONDS - read FIFO until a line matches; prints it
world_wait_line() {
	local fifo=$1 pattern=$2 secs=$3 line
	while IFS= read -r -t "$secs" line <&7; do
		echo "$line" >>"$fifo.log"
		if [[ $line == *$pattern* ]]; then
			printf '%s\n' "$line"
			return 0
		fi
	done
	return 1
}

# world_run_unbound DIR VAR MODULES [EXTRA] - start Unbound on 127.0.0.1 at a
# free port with DIR/zones.conf (written by the caller), the module-config
# MODULES and EXTRA lines for its server: clause; export MXT_<VAR>. Its output
# goes to DIR/unbound.fifo.log; it stops with world_stop or after
# $WORLD_LIFETIME s. Fails, saying why on stderr, when it does not start.
world_run_unbound() {
	local dir=$1 var=$2 modules=$3 extra=${4:-} port try fifo pid
	command -v unbound >/dev/null || { echo "world: unbound is not installed (apt-get install unbound)" >&2; return 1; }
	for try in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 12000))	# below the ephemeral ports (32768-60999)
		cat >"$dir/unbound.conf" <<CONF
server:
  interface: 127.0.0.1@$port
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "$modules"
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  do-ip6: no
  # keep the answer order of the zone: addresses keep DNS order (R8)
  rrset-roundrobin: no
$extra
  include: "$dir/zones.conf"
remote-control:
  control-enable: no
CONF
		fifo=$dir/unbound.fifo
		rm -f "$fifo"; mkfifo "$fifo"
		timeout "$WORLD_LIFETIME" unbound -d -c "$dir/unbound.conf" >"$fifo" 2>&1 &
		pid=$!
		exec 7<"$fifo"
		if world_wait_line "$fifo" "start of service" 15 >/dev/null; then
			# keep draining its output so it never blocks on a full pipe
			cat <&7 >>"$fifo.log" &
			WORLD_PIDS+=("$pid" "$!")
			exec 7<&-
			printf -v "MXT_$var" '127.0.0.1:%s' "$port"
			export "MXT_$var"
			return 0
		fi
		exec 7<&-
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	done
	echo "world: unbound ($modules) did not start; see $dir/unbound.fifo.log" >&2
	return 1
}

world_start_unbound() {
	local dir=$1
	mkdir -p "$dir"
	{
		cat "$WORLD_TOP/tests/world/zones.conf"
		echo '# generated: 300 MX records, more than the default cap of 100'
		world_big_records unbound
	} >"$dir/zones.conf"
	world_run_unbound "$dir" DNS iterator
}

world_start_faultdns() {
	local dir=$1 name=$2; shift 2
	local rules=$dir/faults.rules fifo=$dir/faultdns-$name.fifo line pid
	mkdir -p "$dir"
	{
		cat "$WORLD_TOP/tests/world/faults.rules"
		world_big_records faultdns
	} >"$rules"
	rm -f "$fifo"; mkfifo "$fifo"
	local listen=${WORLD_LISTEN:-127.0.0.1}
	"$WORLD_TOP/tests/dns/faultdns" -l "$listen" -p 0 -z "$rules" -t "$WORLD_LIFETIME" "$@" >"$fifo" 2>"$dir/faultdns-$name.err" &
	pid=$!
	exec 7<"$fifo"
	if line=$(world_wait_line "$fifo" "faultdns ready" 10); then
		cat <&7 >/dev/null &
		WORLD_PIDS+=("$pid" "$!")
		exec 7<&-
		if [[ $listen == *:* ]]; then
			printf -v "MXT_$name" '[%s]:%s' "$listen" "${line##* }"
		else
			printf -v "MXT_$name" '%s:%s' "$listen" "${line##* }"
		fi
		export "MXT_$name"
		return 0
	fi
	exec 7<&-
	kill "$pid" 2>/dev/null
	echo "world: faultdns did not start: $(cat "$dir/faultdns-$name.err")" >&2
	return 1
}

# world_faultdns_at RULES LIFETIME [PORT] - one more faultdns, serving the
# rules file RULES on 127.0.0.1:PORT (default 0: any), for a test's own zone;
# it stops by itself after LIFETIME s. Sets FAULTDNS_AT (ADDR:PORT) and
# FAULTDNS_PID; its stderr goes to RULES.err. Fails, saying why on stderr,
# when it does not become ready within 10 s.
world_faultdns_at() {
	local line
	FAULTDNS_AT= FAULTDNS_PID=
	exec 7< <("$WORLD_TOP/tests/dns/faultdns" -l 127.0.0.1 -p "${3:-0}" -z "$1" -t "$2" \
		-P "$1.pid" 2>"$1.err" 198>&-)
	if IFS= read -r -t 10 line <&7 && [[ $line == "faultdns ready "* ]]; then
		exec 7<&-
		FAULTDNS_AT=127.0.0.1:${line##* }
		FAULTDNS_PID=$(cat "$1.pid")
		return 0
	fi
	exec 7<&-
	echo "faultdns on $1 did not start: $(cat "$1.err")" >&2
	return 1
}

world_stop() {
	local pid
	for pid in "${WORLD_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${WORLD_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	WORLD_PIDS=()
}

# the validating Unbound with signed zones: world_start_dnssec (DANE tests)
. "$(dirname "${BASH_SOURCE[0]}")/dnssec.sh"
