# tests/oracle/exim-oracle.sh - Exim's own smtp transport delivers in the
# order mxtier's route oracle gives (sourced by tests/run-tests.sh; uses
# report_result, $run, $top)
#
# The unpacked Exim (tests/mta/lib.sh) routes orx.test with a manualroute
# router that asks `mxtier-pipe --route-lines` through ${readsocket}, then,
# when that declines (an empty answer, or no answer at all), with a
# dnslookup router: fail-open. The oracle runs per connection under socat
# (as nobody, on 127.0.0.1, bounded lifetime). Exim resolves the host names
# of the answers (byname) and the MX records of dnslookup through the
# Unbound on 127.0.0.153:53 of tests/oracle/lib.sh (zone orx.test on
# 127.0.13.x, peers on port 2525).
#
# Cases (the truth: the peers' dumps and -v logs, Exim's mainlog lines with
# the router that routed, exim -bp):
#   exim -be: the exact readsocket answers (host list byname; empty for
#     null MX, NXDOMAIN and the outage, which dnslookup then handles)
#   refuse   primary refuses: arrives at the backup, routed by the oracle
#   nullmx   bounced (dnslookup: "an MX or SRV record indicated no SMTP
#            service"), no peer saw it
#   nx       bounced, unroutable
#   outage   deferred, and still in the queue
#   backoff  the primary of boff.orx.test refuses one delivery; mxtier-import
#            reads Exim's log into the journal; Exim's own retry hints are
#            removed (else Exim alone would skip the primary and the check
#            could not fail); the primary then listens, and yet the next
#            answer lists it last and the next message goes to the backup,
#            the primary seeing no session at all
#   gone     the oracle stopped: plain.orx.test is delivered by dnslookup
# (ORC_PIPE, ORC_IMPORT: other binaries, to check these checks.)

eo_dir=$run/oracle-exim
MTA_DIR=$eo_dir/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
. "$top/tests/oracle/lib.sh"
eo_t0=$(date +%s)
eo_zone=orx.test
eo_net=127.0.13
eo_from=ex@client.test
eo_socat_pid=

# eo_oracle_start PORT - socat on 127.0.0.1:PORT running the oracle per
# connection, as nobody; waits until it listens
eo_oracle_start() {
	local port=$1 i kid
	timeout "$MTA_LIFETIME" "${orc_as_nobody[@]}" socat \
		"TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" \
		"EXEC:$ORC_PIPE -c $(orc_conf) --route-lines" >"$eo_dir/socat.log" 2>&1 198>&- &
	eo_socat_pid=$!
	MTA_PIDS+=("$eo_socat_pid")
	for ((i = 0; i < 500; i++)); do
		kid=$(_mta_child_pid "$eo_socat_pid")
		if [[ -n $kid ]] && ss -ltnpH "src 127.0.0.1:$port" 2>/dev/null | grep -q "pid=$kid,"; then
			return 0
		fi
		kill -0 "$eo_socat_pid" 2>/dev/null || break
		sleep 0.01
	done
	mta_log "socat on 127.0.0.1:$port did not start: $(tail -3 "$eo_dir/socat.log")"
	return 1
}

# eo_oracle_stop - stop the listener; true once nothing listens on its port
eo_oracle_stop() {
	local i
	kill "$eo_socat_pid" 2>/dev/null
	wait "$eo_socat_pid" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		ss -ltnH "src 127.0.0.1:$eo_port" | grep -q . || return 0
		sleep 0.01
	done
	return 1
}

# eo_setup - DNS, peers, the oracle, Exim; false (why on stderr)
eo_setup() {
	mta_world_lock 600 || return 1
	orc_world_start "$eo_dir/world" "$eo_zone" "$eo_net" || return 1
	mta_sink_start mx2.refuse "$eo_net.2" 2525 -v || return 1
	mta_sink_start mx2.boff "$eo_net.4" 2525 -v || return 1
	mta_sink_start mx.plain "$eo_net.5" 2525 -v || return 1
	orc_nothing_listens "$eo_net.1" "$eo_net.3" || return 1
	eo_port=$(_mta_free_port) || return 1
	eo_oracle_start "$eo_port" || return 1
	# the readsocket of the README: the domain and a newline out, one line
	# back; the newline is dropped ({} as the end-of-line string); no
	# answer at all (the oracle gone) gives the empty fail string.
	# An empty route_data makes the router decline: dnslookup takes over.
	eo_expr="\${readsocket{inet:127.0.0.1:$eo_port}{\$domain\\n}{5s}{}{}}"
	MTA_EXIM_ROUTERS="orc_oracle:
  driver = manualroute
  domains = $eo_zone : *.$eo_zone
  route_data = $eo_expr
  transport = orc_smtp
  self = send
  host_find_failed = ignore
  host_all_ignored = defer

orc_dns:
  driver = dnslookup
  domains = $eo_zone : *.$eo_zone
  transport = orc_smtp
  self = send
  no_more"
	MTA_EXIM_TRANSPORTS="orc_smtp:
  driver = smtp
  port = 2525
  connect_timeout = 5s"
	mta_exim_setup "$eo_dir/exim" /bin/true || return 1
	unset MTA_EXIM_ROUTERS MTA_EXIM_TRANSPORTS
}

# eo_answer DOMAIN - what the readsocket of the router expands to, as Exim
# sees it (exim -be with $domain set by a ${sg}), in brackets
eo_answer() {
	local e=${eo_expr//\$domain/$1}
	echo "[$(_mta_exim "$eo_dir/exim" -be "$e" 2>&1)]"
}

# eo_check_answer NAME DOMAIN WANT - the answer matches the regex WANT
eo_check_answer() {
	local got
	got=$(eo_answer "$2")
	report_result "oracle exim: answer $1" "$([[ $got =~ $3 ]] || echo "\"$got\" !~ /$3/")"
}

# eo_message CASE - write a message file with its marker header; prints its path
eo_message() {
	local f=$eo_dir/msg/$1.eml
	printf 'From: %s\nTo: u@x.%s\nSubject: oracle %s\nX-Mxt-Case: %s\n\nbody of %s\n' \
		"$eo_from" "$eo_zone" "$1" "ex-$1" "$1" >"$f"
	echo "$f"
}

# eo_stored CASE - "SINK RCPTS" of each stored message with the case's marker
eo_stored() {
	local name f
	mta_sink_find "X-Mxt-Case: ex-$1" | while read -r name f; do
		echo "$name $(mta_sink_file_rcpts "$f" | sed 's/^<\([^>]*\)>.*/\1/' | paste -sd,)"
	done | paste -sd';'
}

# eo_deliver CASE RCPT WANT STORED [ROUTED] - deliver in the foreground;
# the outcome matches the regex WANT, the peers stored STORED ("none" or
# "SINK RCPTS"), and the => line of a delivery matches ROUTED
eo_deliver() {
	local c=$1 rcpt=$2 want=$3 stored=$4 routed=${5:-} out id s line why=
	out=$(mta_exim_deliver "$eo_dir/exim" "$eo_from" "$rcpt" "$(eo_message "$c")")
	id=${out%% *}
	eo_id[$c]=$id
	[[ $out =~ $want ]] || why+="outcome \"$out\" !~ /$want/; "
	s=$(eo_stored "$c")
	[[ ${s:-none} == "$stored" ]] || why+="peers stored \"${s:-none}\", want \"$stored\"; "
	if [[ -n $routed ]]; then
		line=$(awk -v id="$id" '$3 == id && $4 == "=>"' "$eo_dir/exim/log/mainlog")
		[[ $line =~ $routed ]] || why+="delivery line \"$line\" !~ /$routed/; "
	fi
	report_result "oracle exim: $c" "$why" "$(awk -v id="$id" '$3 == id' "$eo_dir/exim/log/mainlog" | tail -4)"
}

eo_run() {
	local a=$eo_net z=${eo_zone//./\\.} why out
	declare -gA eo_id=()
	mkdir -p "$eo_dir/msg"
	eo_check_answer refuse "refuse.$eo_zone" "^\[mx1\.refuse\.$z::2525:mx2\.refuse\.$z::2525 byname\]$"
	eo_check_answer nullmx "nullmx.$eo_zone" '^\[\]$'
	eo_check_answer nx "nx.$eo_zone" '^\[\]$'
	eo_check_answer outage "outage.$eo_zone" '^\[\]$'
	eo_deliver refuse "u@refuse.$eo_zone" '^[-0-9A-Za-z]+ delivered$' "mx2.refuse u@refuse.$eo_zone" \
		" R=orc_oracle T=orc_smtp S=[0-9]+ H=mx2\.refuse\.$z \[${a//./\\.}\.2\] "
	eo_deliver nullmx "u@nullmx.$eo_zone" ' bounced \(.*an MX or SRV record indicated no SMTP service\)$' none
	eo_deliver nx "u@nx.$eo_zone" ' bounced \(.*Unrouteable address\)$' none
	eo_deliver outage "u@outage.$eo_zone" ' deferred \(' none
	out=$(mta_exim_queue "$eo_dir/exim" | awk 'NF >= 3 && $3 ~ /-/ { print $3 }' | paste -sd' ')
	report_result "oracle exim: outage stays queued" \
		"$([[ -n ${eo_id[outage]:-} && $out == "${eo_id[outage]}" ]] ||
			echo "exim -bp lists \"$out\", want \"${eo_id[outage]:-}\"")"
	# backoff
	eo_check_answer "boff before" "boff.$eo_zone" "^\[mx1\.boff\.$z::2525:mx2\.boff\.$z::2525 byname\]$"
	eo_deliver boff1 "u@boff.$eo_zone" '^[-0-9A-Za-z]+ delivered$' "mx2.boff u@boff.$eo_zone" \
		" R=orc_oracle T=orc_smtp S=[0-9]+ H=mx2\.boff\.$z \[${a//./\\.}\.4\] "
	cp "$eo_dir/exim/log/mainlog" "$eo_dir/mainlog.1" && chmod 0644 "$eo_dir/mainlog.1"
	why=$(orc_import "$eo_dir/mainlog.1")
	[[ -n $why ]] || { out=$(orc_backoff "mx1.boff.$eo_zone"); [[ $out == "backoff "* ]] ||
		why="mx1.boff is \"$out\" in the journal, want backoff"; }
	report_result "oracle exim: the refused primary is in backoff after mxtier-import" "$why"
	# Exim's own memory of the refusal would skip the primary by itself
	rm -f "$eo_dir/exim/spool/db/"*
	mta_sink_start mx1.boff "$a.3" 2525 -v ||
		{ report_result "oracle exim: backoff" "the primary's sink did not start"; return; }
	eo_check_answer "boff after backoff" "boff.$eo_zone" "^\[mx2\.boff\.$z::2525:mx1\.boff\.$z::2525 byname\]$"
	eo_deliver boff2 "v@boff.$eo_zone" '^[-0-9A-Za-z]+ delivered$' "mx2.boff v@boff.$eo_zone" \
		" R=orc_oracle T=orc_smtp S=[0-9]+ H=mx2\.boff\.$z \[${a//./\\.}\.4\] "
	out=$(mta_sink_commands mx1.boff | grep -c '^\(EHLO\|HELO\) ')
	report_result "oracle exim: the primary in backoff saw no session" \
		"$([[ $out == 0 ]] || echo "$out sessions on mx1.boff")"
	# fail-open: with the oracle present plain.orx.test is the oracle's,
	# without it dnslookup's
	eo_deliver plain1 "u@plain.$eo_zone" '^[-0-9A-Za-z]+ delivered$' "mx.plain u@plain.$eo_zone" \
		" R=orc_oracle T=orc_smtp S=[0-9]+ H=mx\.plain\.$z \[${a//./\\.}\.5\] "
	eo_oracle_stop || { report_result "oracle exim: oracle gone" "socat still listens"; return; }
	eo_check_answer "oracle gone" "plain.$eo_zone" '^\[\]$'
	eo_deliver gone "u@plain.$eo_zone" '^[-0-9A-Za-z]+ delivered$' "mx.plain u@plain.$eo_zone" \
		" R=orc_dns T=orc_smtp S=[0-9]+ H=mx\.plain\.$z \[${a//./\\.}\.5\] "
}

eo_main() {
	echo "== Exim's smtp transport with mxtier-pipe --route-lines as manualroute oracle"
	rm -rf "$eo_dir"
	mkdir -p "$eo_dir"
	if ! eo_setup 2>"$eo_dir/setup.err"; then
		report_result "oracle exim: world" "the world did not start: $(tail -3 "$eo_dir/setup.err")"
	else
		eo_run
	fi
	mta_stop_all
	orc_stop
	echo "   (oracle exim: $(($(date +%s) - eo_t0)) s)"
}

eo_main
