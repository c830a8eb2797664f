# tests/mta/lib.sh - real MTAs and SMTP sinks for end-to-end tests (sourced by bash)
#
# Everything runs on loopback, as root (like CI), and is bounded in time:
# every server is started under a lifetime (MTA_LIFETIME seconds, default
# 900) so it stops by itself if the test run is killed, every client call is
# wrapped in `timeout`, every wait reads an event (a log line, a listening
# socket) with a time limit. mta_stop_all stops everything started here.
#
# Variables (set before calling, all optional):
#   MTA_DIR        scratch folder for sinks (default $MTA_TOP/tests/tmp/mta.$$)
#   MTA_CACHE      where Debian's exim4 is unpacked (default $MTA_TOP/tests/tmp/mta-cache)
#   MTA_LIFETIME   seconds any server started here may live (default 900)
#   MTA_WAIT       seconds a wait for an outcome may take (default
#                  MTA_PIPE_TIME_LIMIT + 30)
#   MTA_PIPE_ENV   "NAME=value ..." extra environment for the delivery command
#                  (Postfix export_environment, Exim transport `environment`)
#   MTA_PIPE_TIME_LIMIT  seconds the delivery command may run (default 60;
#                  Postfix then BOUNCES, Exim defers: timeout_defer)
#   MTA_POSTFIX_QUEUE_LIFETIME  maximal_queue_lifetime and
#                  bounce_queue_lifetime of Postfix (default 300s)
#   MTA_POSTFIX_TRANSPORTS  lines put before Postfix's transport map (make
#                  bench: "native.test smtp:[127.0.1.20]:PORT" for the
#                  smtp(8) client; the master.cf has an smtp service)
#   MTA_POSTFIX_TRANSPORT_MAPS  Postfix's transport_maps instead of the
#                  texthash map above (tests/oracle: the route oracle)
#   MTA_POSTFIX_MAIN  lines appended to Postfix's main.cf
#   MTA_POSTFIX_MASTER  lines appended to Postfix's master.cf
#   MTA_EXIM_MAIN, MTA_EXIM_ROUTERS, MTA_EXIM_TRANSPORTS, MTA_EXIM_RETRY
#                  lines for Exim's configuration: after the main options,
#                  BEFORE the routers and the retry rule of mta_exim_setup
#                  (so they win), after its transports
#   MTA_RESOLV     a resolv.conf (set by mta_dns_start): Postfix's master
#                  and every exim call then run in a private mount namespace
#                  where this file is /etc/resolv.conf (see mta_dns_start)
#
# Outside the work tree, this touches (as root): /etc/exim4/trusted_configs (each exim.conf while it is set up:
# without it Exim drops root for the delivery and cannot run the transport
# as nobody), the user Debian-exim (created if missing), and apt-get
# (download of exim4-daemon-light exim4-base exim4-config, install of
# libidn12 libgnutls-dane0 when exim4 misses them).
#
# SMTP sinks (Postfix smtp-sink, every message dumped to a file)
#   mta_sink_start NAME ADDR PORT [smtp-sink options...]
#   mta_sink_stop NAME               stop it (the dump stays)
#   mta_sink_messages NAME           number of messages the sink stored
#   mta_sink_file NAME N             path of the N-th stored message (1 = oldest)
#   mta_sink_body_hash NAME N        sha256 of the N-th message's body
#   mta_sink_envelope NAME N         its X-Mail-Args / X-Rcpt-Args lines
#   mta_sink_find LINE               "NAME FILE" of every message any sink
#                                    started here stored whose header has
#                                    exactly LINE (a test's own marker, e.g.
#                                    "X-Mxt-Case: ID"), sinks by name
#   mta_sink_file_rcpts FILE         the recipients smtp-sink recorded for
#                                    that message (X-Rcpt-Args), one a line
#   mta_sink_file_body_hash FILE     sha256 of that message's body
#   mta_sink_commands NAME           the SMTP commands the sink received,
#                                    one a line ("MAIL FROM:<a>", "RCPT
#                                    TO:<b>", ...; sinks started with -v only;
#                                    rejected RCPTs are here, not in a dump)
#   mta_world_lock [SECONDS]         serialize runs that use 127.0.0.x:2525
#   mta_smtp_send ADDR PORT FROM TO FILE   a bash /dev/tcp SMTP client; prints
#                                    the reply to the final dot (exit 0 on 2xx)
#                                    (TO: one address or several, a,b,...)
#   mta_body_hash FILE               sha256 of a message file's body (see below)
#
# Postfix (private instance, pipe(8) transport "mxtier" for dlv.test)
#   mta_postfix_start DIR PIPE_COMMAND...
#   mta_postfix_send DIR FROM TO FILE      prints the queue id
#                                          (TO: one address or a,b,... as RCPTs)
#   mta_postfix_wait DIR QUEUE_ID          prints "sent|deferred|bounced DSN TEXT";
#                                          each call waits for the next outcome
#   mta_postfix_queue_json DIR             postqueue -j
#   mta_postfix_flush DIR [QUEUE_ID]       postqueue -f (or -i QUEUE_ID)
#   mta_postfix_bounce_text DIR QUEUE_ID   the non-delivery notification
#   mta_postfix_stop DIR
#
# Exim (Debian's exim4 unpacked, not installed; pipe transport for dlv.test)
#   mta_exim_setup DIR PIPE_COMMAND...     PIPE_COMMAND: constant words only
#   mta_exim_deliver DIR FROM TO FILE      prints "ID delivered" or "ID deferred|bounced
#                                          OUTPUT (EXIM'S REASON)"; FROM "" = <>
#                                          (TO: one address or a,b,...)
#   mta_exim_queue DIR                     exim -bp
#   mta_exim_retry DIR ID                  exim -M ID (force a new attempt)
#   mta_exim_bounce_text DIR ID            the bounce the sender got
#
# DNS for the MTAs' own clients (Postfix smtp(8), Exim dnslookup), which use
# the C library resolver: port 53 and /etc/resolv.conf, nothing else
#   mta_dns_start DIR ZONES   Unbound on 127.0.0.153:53 (needs root and a
#                             free port 53 there) answering from the file
#                             ZONES (local-zone:/local-data: lines), every
#                             other name NXDOMAIN; writes DIR/resolv.conf and
#                             sets MTA_RESOLV to it. Stopped by mta_stop_all.
#   mta_resolv_run CMD...     CMD in a private mount namespace where
#                             MTA_RESOLV is bind-mounted over /etc/resolv.conf
#                             (just CMD when MTA_RESOLV is empty). A daemon
#                             started so (Postfix's master) and all its
#                             children stay in that namespace.
#
#   mta_nobody_path PATH...   make files readable and folders writable for
#                             `nobody` (who runs the delivery command); checks
#                             every parent folder is searchable by nobody
#   mta_stop_all              stop everything started here
#
# Message bodies: all hashes here are over the body only (after the first
# empty line), with LF line ends, as smtp-sink stores it and as the pipe
# transports of both MTAs hand it over.
#
# What the delivery command gets on stdin (LF line ends, no "From " line,
# no Return-Path:/Delivered-To:, nothing appended; body byte for byte):
#   Postfix (injected over SMTP):  "Received: from HELO (localhost
#     [127.0.0.1])\n\tby postfix.mxtier.test (Postfix) with ESMTP id QID\n\tfor
#     <RCPT>; DATE" in front; Message-Id:, Date:, From: (the envelope
#     sender) appended to the header when missing. A header-less message
#     gets them too, before an empty line.
#   Exim (exim -bm -oi):  "Received: from IDENT by exim.mxtier.test with local
#     (Exim 4.96)\n\t(envelope-from <SENDER>)\n\tid ID\n\tfor RCPT;\n\tDATE" in
#     front (IDENT: the -oMt tag mta_exim_deliver uses to find the id);
#     Message-Id:, From:, Date: appended when missing. CRLF input becomes LF.
# A message with complete headers (From, To, Subject, Date, Message-ID)
# thus arrives as ONE Received: header + the message byte for byte.

MTA_TOP=${MTA_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MTA_LIFETIME=${MTA_LIFETIME:-900}
MTA_PIPE_TIME_LIMIT=${MTA_PIPE_TIME_LIMIT:-60}
MTA_WAIT=${MTA_WAIT:-$((MTA_PIPE_TIME_LIMIT + 30))}
MTA_PIPE_ENV=${MTA_PIPE_ENV:-}
MTA_CACHE=${MTA_CACHE:-$MTA_TOP/tests/tmp/mta-cache}
MTA_DIR=${MTA_DIR:-$MTA_TOP/tests/tmp/mta.$$}
MTA_AWK_LINES=
if awk -W version 2>&1 | grep -q mawk; then MTA_AWK_LINES="-W interactive"; fi
# What runs is recorded once per shell: a second file of the same run that
# sources this again (tests/import/mta-import.sh after scenarios.sh) must
# not forget the servers the first one started, or nothing stops them.
if [[ -z ${MTA_LIB_SHELL:-} || $MTA_LIB_SHELL != "$BASHPID" ]]; then
	MTA_LIB_SHELL=$BASHPID
	MTA_PIDS=()
	MTA_POSTFIX_DIRS=()
	MTA_EXIM_DIRS=()
	declare -gA MTA_SINK_DIR=() MTA_SINK_PID=()
fi

mta_log() { echo "mta: $*" >&2; }

# ---------------------------------------------------------------------------
# smtp-sink
#
# Failure injection, each verified by hand against smtp-sink of Postfix
# 3.7.11 with mta_smtp_send (the first four are re-checked by selftest.sh).
# Command names for -q/-Q/-r/-f: CONNECT HELO EHLO MAIL RCPT DATA . RSET
# QUIT (case-insensitive, comma-separated). -r/-f reply and the session goes
# on; -q/-Q end it. "stored" = a dump file is written (mta_sink_messages
# counts it): smtp-sink stores a message even when it then rejects or drops
# at the dot.
#
#   want                       option      client sees                       stored
#   -------------------------  ----------  --------------------------------  ------
#   421 at the greeting        -Q connect  "421 4.0.0 Server closing          no
#                                          connection" (no 220), then EOF
#   4xx / 5xx greeting         -r connect  "450 4.3.0 Error: command failed"  no
#                              -f connect  "500 5.3.0 Error: command failed"
#                                          as greeting; the session goes on
#                                          (EHLO is answered)
#   no greeting, just close    -q connect  EOF right after connect            no
#   4xx at RCPT (greylisting)  -r rcpt     "450 4.3.0 Error: command failed"  no
#                                          to every RCPT TO
#   5xx at RCPT (no such user) -f rcpt     "500 5.3.0 Error: command failed"  no
#                                          to every RCPT TO
#   421 at RCPT                -Q rcpt     "421 4.0.0 Server closing          no
#                                          connection", EOF
#   5xx at MAIL, 4xx at DATA   -f mail (500 5.3.0), -r data (450 4.3.0)       no
#   drop after the final dot   -q .        EOF instead of a reply to the dot  YES
#                                          (the client must count it as 451:
#                                          RFC 5321 3.8; a retry duplicates)
#   421 after the final dot    -Q .        "421 4.0.0 ...", EOF               YES
#   4xx / 5xx after the dot    -r . / -f . 450 4.3.0 / 500 5.3.0              YES
#   own reply texts            -b "451 4.7.1 greylisted, try later" -r rcpt
#                              -B "550 5.1.1 no such user" -f rcpt: exactly
#                              that text (the whole reply line, code included)
#   reject during DATA         -A 0        "550 This violates SMTP" right     no
#                                          after 354, then EOF
#   slow replies               -w 2 (DATA reply 2 s late), -W rcpt:2 (RCPT
#                              reply 2 s late)
# Quirk: smtp-sink's EHLO reply ends with an empty "250 " line.
# -r and -f imply -p (no PIPELINING announced).
# ---------------------------------------------------------------------------

# mta_world_lock [SECONDS] - hold, until this shell exits, the machine-wide
# lock of the dlv.test world's fixed sink addresses (127.0.0.x:2525): two
# test runs at once would collide there (mta_sink_start refuses a taken
# address). Waits at most SECONDS (default 600) for another run to finish.
# The lock is fd 198 of this shell; servers started here get it closed
# (198>&-) so that a server left over cannot hold the lock.
# A shell that holds it already keeps it: opening the file again would make
# a new lock that waits for the old one, which servers started since (with
# fd 198 open) still hold.
mta_world_lock() {
	[[ ${MTA_WORLD_LOCKED:-} == "$BASHPID" ]] && return 0
	exec 198>"${TMPDIR:-/tmp}/mxtier-mta-world.lock" &&
		flock -w "${1:-600}" 198 ||
		{ mta_log "another test run holds the dlv.test sink addresses"; return 1; }
	MTA_WORLD_LOCKED=$BASHPID
}

# _mta_child_pid PID - the single child of PID (the program run by timeout)
_mta_child_pid() {
	local kids
	kids=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
	echo "${kids%% *}"
}

mta_sink_start() {
	local name=$1 addr=$2 port=$3 dir tpid kid i
	shift 3
	# smtp-sink binds with SO_REUSEPORT: a second sink on the same ADDR:PORT
	# starts without error and the kernel then splits the connections
	# between the two. So refuse when anything listens there already.
	if ss -ltnpH "src $addr:$port" 2>/dev/null | grep -q .; then
		mta_log "$addr:$port is taken: $(ss -ltnpH "src $addr:$port" | sed 's/.*users://' | head -1)"
		return 1
	fi
	dir=$MTA_DIR/sink-$name
	rm -rf "$dir"
	mkdir -p "$dir/dump"
	local user=()
	if [[ $(id -u) -eq 0 ]]; then
		# smtp-sink refuses to run as root: -u drops to nobody after bind
		user=(-u nobody)
		chown nobody "$dir/dump"
	fi
	# the strftime part keeps the file names sortable by time; smtp-sink
	# appends a random hex number. Order is taken from the file times.
	timeout "$MTA_LIFETIME" smtp-sink "${user[@]}" -d "$dir/dump/%Y%m%d%H%M%S." "$@" \
		"inet:$addr:$port" 64 >"$dir/sink.log" 2>&1 198>&- &
	tpid=$!
	MTA_PIDS+=("$tpid")
	MTA_SINK_DIR[$name]=$dir
	MTA_SINK_PID[$name]=$tpid
	echo "$addr:$port" >"$dir/address"
	# Readiness: poll the kernel's table of listening sockets (ss -ltnp) for
	# this very smtp-sink process on ADDR:PORT. smtp-sink prints nothing when
	# it is ready, so its output cannot be read for it; a quick bounded
	# poll (up to 500 x 10 ms) of the socket table can. Checking the pid
	# (not just the port) keeps a stale sink from another run from passing.
	for ((i = 0; i < 500; i++)); do
		kid=$(_mta_child_pid "$tpid")
		if [[ -n $kid ]] && ss -ltnpH "src $addr:$port" 2>/dev/null | grep -q "pid=$kid,"; then
			return 0
		fi
		if ! kill -0 "$tpid" 2>/dev/null; then
			break
		fi
		sleep 0.01
	done
	mta_log "smtp-sink $name on $addr:$port did not start: $(tail -3 "$dir/sink.log")"
	kill "$tpid" 2>/dev/null
	return 1
}

# mta_sink_stop NAME - stop one sink (its dump stays readable)
mta_sink_stop() {
	local pid=${MTA_SINK_PID[$1]:-}
	[[ -n $pid ]] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "MTA_SINK_PID[$1]"
	return 0
}

# _mta_sink_files NAME - dump files, oldest first (by modification time, ns)
_mta_sink_files() {
	local dir=${MTA_SINK_DIR[$1]:-$MTA_DIR/sink-$1}
	find "$dir/dump" -type f -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

mta_sink_messages() {
	_mta_sink_files "$1" | wc -l
}

mta_sink_file() {
	_mta_sink_files "$1" | sed -n "${2}p"
}

# mta_sink_envelope NAME N - the envelope smtp-sink recorded
mta_sink_envelope() {
	local f
	f=$(mta_sink_file "$1" "$2")
	[[ -n $f ]] || return 1
	sed -n '/^Received: /q; /^X-\(Mail\|Rcpt\|Helo\)-Args: /p' "$f"
}

# smtp-sink's dump of one message is:
#   X-Client-Addr:, X-Client-Proto:, [X-Helo-Args:], X-Mail-Args:,
#   X-Rcpt-Args: (one per RCPT), then its own 3-line "Received: from HELO
#   ([ADDR])\n\tby HOST (smtp-sink) with PROTO id HEX;\n\tDATE" header,
#   then the message as received (CRLF turned into LF, dot-stuffing
#   undone), then ONE extra empty line.
# _mta_sink_message FILE - the message as the client sent it (LF line ends)
_mta_sink_message() {
	awk '
		state == 0 { if ($0 ~ /^Received: /) state = 1; next }
		state == 1 { if ($0 ~ /^[ \t]/) next; state = 2 }
		state == 2 { if (have) print prev; prev = $0; have = 1 }
		END { if (have && prev != "") print prev }
	' "$1"
}

# mta_body - the body of the message on stdin: everything after the first
# empty line (CR before LF removed)
mta_body() {
	sed 's/\r$//' | awk 'body { print; next } /^$/ { body = 1 }'
}

mta_body_hash() {
	mta_body <"$1" | sha256sum | cut -d' ' -f1
}

mta_sink_body_hash() {
	local f
	f=$(mta_sink_file "$1" "$2")
	[[ -n $f ]] || { mta_log "sink $1 has no message $2"; return 1; }
	mta_sink_file_body_hash "$f"
}

mta_sink_file_body_hash() {
	_mta_sink_message "$1" | mta_body | sha256sum | cut -d' ' -f1
}

mta_sink_file_rcpts() {
	sed -n '/^Received: /q; s/^X-Rcpt-Args: //p' "$1"
}

mta_sink_commands() {
	local dir=${MTA_SINK_DIR[$1]:-$MTA_DIR/sink-$1}
	sed -n 's/\r$//; s/^smtp-sink: \(\(EHLO\|HELO\|MAIL FROM\|RCPT TO\|DATA\|RSET\|QUIT\)\b.*\)/\1/p' "$dir/sink.log"
}

mta_sink_find() {
	local name f
	for name in $(printf '%s\n' "${!MTA_SINK_DIR[@]}" | sort); do
		# candidates anywhere in the file; then the header only (up to
		# the first empty line) counts
		for f in $(grep -l -x -F -r -e "$1" "${MTA_SINK_DIR[$name]}/dump" 2>/dev/null | sort); do
			awk -v want="$1" '$0 == "" { exit } $0 == want { found = 1; exit }
				END { exit !found }' "$f" && echo "$name $f"
		done
	done
}

# ---------------------------------------------------------------------------
# a small SMTP client in bash (/dev/tcp): no dependency beyond bash
# ---------------------------------------------------------------------------

# _mta_reply FD - read one (multi-line) reply; sets MTA_REPLY (last line)
_mta_reply() {
	local line
	MTA_REPLY=
	while IFS= read -r -t 15 -u "$1" line 2>/dev/null; do
		line=${line%$'\r'}
		echo "<- $line" >&2
		if [[ ${line:3:1} != - ]]; then
			MTA_REPLY=$line
			return 0
		fi
	done
	MTA_REPLY="(connection lost)"
	echo "<- $MTA_REPLY" >&2
	return 1
}

# _mta_cmd FD LINE EXPECT - send one command, expect a reply code class
_mta_cmd() {
	echo "-> $2" >&2
	printf '%s\r\n' "$2" 1>&"$1" 2>/dev/null
	_mta_reply "$1" || return 1
	[[ ${MTA_REPLY:0:1} == "$3" ]]
}

# _mta_rcpts FD TO - one RCPT TO per comma-separated address of TO
_mta_rcpts() {
	local r rcpts
	IFS=, read -r -a rcpts <<<"$2"
	for r in "${rcpts[@]}"; do
		_mta_cmd "$1" "RCPT TO:<$r>" 2 || return 1
	done
}

# _mta_smtp_dialogue ADDR PORT FROM TO FILE [HELO]
_mta_smtp_dialogue() {
	local addr=$1 port=$2 from=$3 to=$4 file=$5 helo=${6:-client.mxtier.test} fd line
	exec {fd}<>"/dev/tcp/$addr/$port" || { echo "(connect failed)"; return 1; }
	if ! _mta_reply "$fd" || [[ ${MTA_REPLY:0:1} != 2 ]]; then
		echo "$MTA_REPLY"; return 1
	fi
	_mta_cmd "$fd" "EHLO $helo" 2 &&
		_mta_cmd "$fd" "MAIL FROM:<$from>" 2 &&
		_mta_rcpts "$fd" "$to" &&
		_mta_cmd "$fd" "DATA" 3 || { echo "$MTA_REPLY"; return 1; }
	echo "-> (message from $file)" >&2
	while IFS= read -r line || [[ -n $line ]]; do
		line=${line%$'\r'}
		[[ $line == .* ]] && line=.$line
		printf '%s\r\n' "$line"
	done <"$file" 1>&"$fd" 2>/dev/null
	if _mta_cmd "$fd" "." 2; then
		echo "$MTA_REPLY"
		_mta_cmd "$fd" "QUIT" 2
		exec {fd}>&-
		return 0
	fi
	echo "$MTA_REPLY"
	exec {fd}>&-
	return 1
}

# mta_smtp_send ADDR PORT FROM TO FILE - whole dialogue bounded to 60 s; the
# transcript goes to stderr, the reply to the final dot (or the failing
# reply) to stdout
mta_smtp_send() {
	# SIGPIPE ignored: a server that hangs up mid-message (smtp-sink -A)
	# must not kill the client before it reads the reply
	timeout 60 bash -c 'trap "" PIPE; . "$1"; shift; _mta_smtp_dialogue "$@"' _ "${BASH_SOURCE[0]}" "$@"
}

# ---------------------------------------------------------------------------
# waiting for log lines: event-driven, bounded
# ---------------------------------------------------------------------------

# _mta_follow LOG AWK_PROGRAM [awk options...] - feed LOG from its first
# line, and every line appended later, to an awk program that prints what it
# wants and calls exit when done. Bounded by MTA_WAIT seconds. The tail runs
# in a process substitution (not a pipeline) so it can be stopped the moment
# awk is done: in a pipeline, bash would wait for tail until its next write.
_mta_follow() {
	local log=$1 prog=$2 fd tpid rc
	shift 2
	exec {fd}< <(exec timeout "$MTA_WAIT" tail -n +1 -F "$log" 2>/dev/null)
	tpid=$!
	# mawk (Debian's awk) reads a pipe in big blocks and would sit on a
	# matching line until more input comes: -W interactive reads by line
	# shellcheck disable=SC2086 # empty or two words
	awk $MTA_AWK_LINES "$@" "$prog" <&"$fd"
	rc=$?
	kill "$tpid" 2>/dev/null
	exec {fd}<&-
	return $rc
}

# ---------------------------------------------------------------------------
# nobody's files
# ---------------------------------------------------------------------------

# mta_nobody_path PATH... - folders: created, owned by nobody, mode 0755;
# files: readable by everyone. Then checks, as nobody, that each is reachable
# (every parent folder searchable). The delivery command runs as nobody.
mta_nobody_path() {
	local p
	for p in "$@"; do
		if [[ -f $p ]]; then
			chmod a+r "$p"
			runuser -u nobody -- test -r "$p" || { mta_log "nobody cannot read $p (a parent folder?)"; return 1; }
		else
			mkdir -p "$p" && chown nobody:nogroup "$p" && chmod 0755 "$p"
			runuser -u nobody -- test -w "$p" -a -x "$p" || { mta_log "nobody cannot write $p (a parent folder?)"; return 1; }
		fi
	done
}

# mta_mailbox_script FILE - the local "mailbox" of both MTAs: writes the
# message on stdin to FOLDER/ID (ID: argument 2, else $MESSAGE_ID from Exim)
_mta_mailbox_script() {
	cat >"$1" <<'SCRIPT'
#!/bin/sh
# local mailbox of the test MTAs: store the message on stdin as FOLDER/ID
dir=$1
id=${2:-$MESSAGE_ID}
cat >"$dir/.$id.$$" && mv "$dir/.$id.$$" "$dir/$id" || exit 75
exit 0
SCRIPT
	chmod 0755 "$1"
}

# ---------------------------------------------------------------------------
# Postfix: a private instance
#
# DIR/etc      config_directory: main.cf, master.cf, transport, mailbox.sh
# DIR/queue    queue_directory       DIR/data  data_directory (postfix's)
# DIR/maillog  the log (postlogd)    DIR/mailbox  bounces and other local
#                                    mail, one file per queue id (nobody's)
# DIR/port     the smtpd injection port (127.0.0.1)
#
# Routing (transport_maps): dlv.test and .dlv.test -> mxtier: (empty
# nexthop: ${nexthop} is then the recipient domain, verified), every other
# domain -> mailbox: (so bounces land in DIR/mailbox and nothing leaves).
# ---------------------------------------------------------------------------

# DESIGN.md 6 says the default /etc/postfix/main.cf must list a private
# config_directory in alternate_config_directories. Not so as root on this
# Postfix 3.7.11: postfix -c DIR check/start/stop, master -c, sendmail -C,
# postqueue -c all work without it (verified; CI runs as root). So this
# file does not edit /etc/postfix/main.cf; as a non-root user nothing here
# works anyway (smtp-sink -u, pipe user=nobody, exim -C).

# _mta_free_port - a TCP port no socket uses, below the kernel's ephemeral
# range: a port in that range can be taken between the check and the
# master's bind by any outgoing connection of a concurrent test, and the
# master then fails to start with nothing in the maillog
_mta_free_port() {
	local port try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 12000))	# below the ephemeral ports (32768-60999)
		if ! ss -tanH "sport = :$port" | grep -q .; then	# no socket of any state uses it
			echo "$port"
			return 0
		fi
	done
	return 1
}

mta_postfix_start() {
	local dir=$1 port etc word cmd="" env
	shift
	[[ $# -gt 0 ]] || { mta_log "mta_postfix_start DIR PIPE_COMMAND..."; return 1; }
	command -v postfix >/dev/null || { mta_log "postfix is not installed"; return 1; }
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
	etc=$dir/etc
	# a master of an earlier start in DIR goes first
	if [[ -f $dir/queue/pid/master.pid ]]; then mta_postfix_stop "$dir"; fi
	rm -rf "$etc" "$dir/queue" "$dir/data" "$dir/mailbox" "$dir/wait" "$dir/maillog"
	mkdir -p "$etc" "$dir/queue" "$dir/data" "$dir/wait"
	chown postfix "$dir/data"
	mta_nobody_path "$dir/mailbox" || return 1
	_mta_mailbox_script "$etc/mailbox.sh"
	port=$(_mta_free_port) || { mta_log "no free port"; return 1; }
	echo "$port" >"$dir/port"
	for word in "$@"; do
		case $word in
		*[[:space:]]*) cmd+=" { $word }" ;;
		*) cmd+=" $word" ;;
		esac
	done
	env="TZ MAIL_CONFIG LANG"
	for word in $MTA_PIPE_ENV; do env+=" $word"; done
	# MTA_POSTFIX_TRANSPORTS: lines put first (make bench: "x.test smtp:[ADDR]:PORT")
	{
		[[ -n ${MTA_POSTFIX_TRANSPORTS:-} ]] && printf '%s\n' "$MTA_POSTFIX_TRANSPORTS"
		printf 'dlv.test\tmxtier:\n.dlv.test\tmxtier:\n*\tmailbox:\n'
	} >"$etc/transport"
	cat >"$etc/main.cf" <<EOF
# private Postfix instance for mxtier's end-to-end tests (tests/mta/lib.sh)
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = postfix.mxtier.test
mydomain = mxtier.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
alias_maps =
alias_database =
biff = no
# nothing may leave this machine: dlv.test goes to mxtier, all else to a file
transport_maps = ${MTA_POSTFIX_TRANSPORT_MAPS:-texthash:$etc/transport}
default_transport = error:5.7.1 no network in tests
relay_transport = error:5.7.1 no network in tests
# one recipient per pipe(8) call: exact per-recipient status
mxtier_destination_recipient_limit = 1
# a command that runs longer is killed and the message BOUNCES (5.3.0
# "Command time limit exceeded"): pipe(8) cannot be told to defer instead
mxtier_time_limit = ${MTA_PIPE_TIME_LIMIT}s
mailbox_destination_recipient_limit = 1
export_environment = $env
# short lives, no retries behind a test's back (tests flush on purpose)
maximal_queue_lifetime = ${MTA_POSTFIX_QUEUE_LIFETIME:-300s}
bounce_queue_lifetime = ${MTA_POSTFIX_QUEUE_LIFETIME:-300s}
queue_run_delay = 3600s
minimal_backoff_time = 3600s
maximal_backoff_time = 3600s
delay_warning_time = 0
smtpd_banner = \$myhostname ESMTP mxtier test Postfix
${MTA_POSTFIX_MAIN:-}
EOF
	cat >"$etc/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
smtp      unix  -       -       n       -       -       smtp
mailbox   unix  -       n       n       -       -       pipe flags=q null_sender= user=nobody argv=$etc/mailbox.sh $dir/mailbox \${queue_id}
mxtier    unix  -       n       n       -       -       pipe flags=q null_sender= user=nobody argv=${cmd# }
${MTA_POSTFIX_MASTER:-}
EOF
	MTA_POSTFIX_DIRS+=("$dir")
	# "postfix check" creates the queue folders and checks the setup (its
	# fatal errors go to the maillog); then the master itself, with a
	# lifetime (-e) so it stops by itself, and -w so it returns only once it
	# is ready (or failed).
	if ! timeout 60 postfix -c "$etc" check >"$dir/check.out" 2>&1; then
		mta_log "postfix check failed: $(cat "$dir/check.out"; tail -5 "$dir/maillog" 2>/dev/null)"
		return 1
	fi
	if ! timeout 60 "${MTA_RESOLV_RUN[@]}" /usr/lib/postfix/sbin/master -c "$etc" -e "$MTA_LIFETIME" -w >"$dir/master.out" 2>&1 198>&-; then
		mta_log "postfix master did not start: $(cat "$dir/master.out"; tail -5 "$dir/maillog" 2>/dev/null)"
		return 1
	fi
	# ready = the smtpd port listens (master opens it before -w returns)
	if ! ss -ltnH "src 127.0.0.1:$port" | grep -q .; then
		mta_log "postfix smtpd is not listening on 127.0.0.1:$port"
		return 1
	fi
	return 0
}

_mta_postfix_etc() { echo "$(cd "$1" && pwd)/etc"; }

# mta_postfix_send DIR FROM TO FILE - inject over SMTP (smtpd on DIR/port);
# prints the queue id. The SMTP transcript goes to DIR/inject.log.
mta_postfix_send() {
	local dir=$1 reply
	reply=$(mta_smtp_send 127.0.0.1 "$(cat "$dir/port")" "$2" "$3" "$4" 2>>"$dir/inject.log") || {
		mta_log "postfix refused the message: $reply"; return 1; }
	# "250 2.0.0 Ok: queued as 4AbCdE1234"
	[[ $reply =~ queued\ as\ ([0-9A-Za-z]+) ]] || { mta_log "no queue id in: $reply"; return 1; }
	echo "${BASH_REMATCH[1]}"
}

# mta_postfix_wait DIR QUEUE_ID - wait for the next outcome of that message
# (each call returns the next one: after a flush, call it again). Prints
#   sent|deferred|bounced DSN TEXT
# where TEXT is the part in parentheses of Postfix's "status=..." log line.
# A message that expired prints "bounced - expired, returned to sender".
mta_postfix_wait() {
	local dir=$1 qid=$2 seen line out
	seen=$(cat "$dir/wait/$qid" 2>/dev/null || echo 0)
	line=$(_mta_follow "$dir/maillog" '
		index($0, q) && ($0 ~ / to=<.* status=[a-z]+ / || $0 ~ /status=expired/) {
			if (n++ < skip) next
			print; exit 0
		}' -v q=": $qid: " -v skip="$seen")
	if [[ -z $line ]]; then
		echo "timeout"
		mta_log "no outcome for $qid within ${MTA_WAIT}s (see $dir/maillog)"
		return 1
	fi
	echo $((seen + 1)) >"$dir/wait/$qid"
	if [[ $line =~ ,\ dsn=([^,]*),\ status=([a-z]+)\ \((.*)\)$ ]]; then
		out="${BASH_REMATCH[2]} ${BASH_REMATCH[1]} ${BASH_REMATCH[3]}"
	elif [[ $line == *status=expired* ]]; then
		out="bounced - expired, returned to sender"
	else
		out="unknown - $line"
	fi
	# pipe(8) turns the command's newline into a space: drop trailing blanks
	echo "${out%"${out##*[! ]}"}"
}

mta_postfix_queue_json() {
	timeout 30 postqueue -c "$(_mta_postfix_etc "$1")" -j
}

# mta_postfix_flush DIR [QUEUE_ID] - deliver deferred mail now
mta_postfix_flush() {
	if [[ -n ${2:-} ]]; then
		timeout 30 postqueue -c "$(_mta_postfix_etc "$1")" -i "$2"
	else
		timeout 30 postqueue -c "$(_mta_postfix_etc "$1")" -f
	fi
}

# mta_postfix_bounce_text DIR QUEUE_ID - the non-delivery notification that
# Postfix sent for QUEUE_ID, as the sender's mailbox (DIR/mailbox) got it.
# Waits (bounded) for the bounce to be created and delivered.
mta_postfix_bounce_text() {
	local dir=$1 qid=$2 bqid
	bqid=$(_mta_follow "$dir/maillog" '
		index($0, q) { sub(/.*notification: /, ""); print; exit 0 }' \
		-v q=": $qid: sender non-delivery notification: ")
	[[ -n $bqid ]] || { mta_log "no bounce for $qid"; return 1; }
	_mta_follow "$dir/maillog" 'index($0, q) && / status=sent / { print; exit 0 }' \
		-v q=": $bqid: to=<" >/dev/null
	[[ -f $dir/mailbox/$bqid ]] || { mta_log "bounce $bqid of $qid not in $dir/mailbox"; return 1; }
	cat "$dir/mailbox/$bqid"
}

mta_postfix_stop() {
	local dir=$1 etc pid i d rest=()
	dir=$(cd "$dir" 2>/dev/null && pwd) || return 0
	etc=$dir/etc
	pid=$(tr -d ' ' <"$dir/queue/pid/master.pid" 2>/dev/null)
	timeout 30 postfix -c "$etc" stop >/dev/null 2>&1
	# wait (bounded) for the master to be gone; then make sure of it
	if [[ -n $pid ]]; then
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.02
		done
		if kill -0 "$pid" 2>/dev/null; then
			timeout 30 postfix -c "$etc" abort >/dev/null 2>&1
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	for d in "${MTA_POSTFIX_DIRS[@]}"; do
		[[ $d == "$dir" ]] || rest+=("$d")
	done
	MTA_POSTFIX_DIRS=("${rest[@]}")
}

# ---------------------------------------------------------------------------
# Exim: Debian's exim4 unpacked beside Postfix (the packages conflict)
#
# DIR/exim.conf   the configuration     DIR/spool   spool_directory
# DIR/log/        mainlog, rejectlog, paniclog
# DIR/mailbox/    bounces and other local mail, one file per Exim message id
#
# Routers: dlv.test and *.dlv.test -> transport mxtier (pipe), every other
# domain -> transport mailbox (a pipe that stores the message in
# DIR/mailbox/ID). Nothing is sent over the network.
# ---------------------------------------------------------------------------

MTA_EXIM=

# _mta_exim_unpack - apt-get download + dpkg -x into MTA_CACHE (once)
_mta_exim_unpack() {
	local root=$MTA_CACHE/exim4 p lib
	if [[ ! -x $root/usr/sbin/exim4 ]]; then
		mkdir -p "$MTA_CACHE/debs" && rm -rf "$root.new" && mkdir -p "$root.new" || return 1
		# _apt cannot write into a root-owned folder: give it one
		chmod 0777 "$MTA_CACHE/debs"
		for p in exim4-daemon-light exim4-base exim4-config; do
			if ! ls "$MTA_CACHE/debs/${p}_"*.deb >/dev/null 2>&1; then
				(cd "$MTA_CACHE/debs" && timeout 300 apt-get download -q "$p" >/dev/null 2>&1) ||
					{ mta_log "apt-get download $p failed (apt-get update first?)"; return 1; }
			fi
		done
		for p in "$MTA_CACHE/debs/"*.deb; do
			dpkg -x "$p" "$root.new" || return 1
		done
		rm -rf "$root" && mv "$root.new" "$root" || return 1
	fi
	# its libraries (DESIGN.md 6): installed packages, not unpacked ones
	if ldd "$root/usr/sbin/exim4" | grep -q 'not found'; then
		DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq libidn12 libgnutls-dane0 >/dev/null 2>&1 ||
			{ mta_log "apt-get install libidn12 libgnutls-dane0 failed"; return 1; }
		if ldd "$root/usr/sbin/exim4" | grep 'not found'; then
			mta_log "exim4 still misses libraries"; return 1
		fi
	fi
	# the user compiled into Debian's exim4
	if ! getent passwd Debian-exim >/dev/null; then
		useradd --system --user-group --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin Debian-exim || { mta_log "cannot create user Debian-exim"; return 1; }
	fi
	MTA_EXIM=$root/usr/sbin/exim4
}

# _mta_exim DIR ARGS... - run exim with DIR's configuration, bounded
_mta_exim() {
	local dir=$1
	shift
	# a delivery (-odf, -M) may take the pipe's whole time limit
	timeout $((MTA_PIPE_TIME_LIMIT + MTA_WAIT)) "${MTA_RESOLV_RUN[@]}" "$MTA_EXIM" -C "$dir/exim.conf" "$@"
}

mta_exim_setup() {
	local dir=$1 word cmd="" env=""
	shift
	[[ $# -gt 0 ]] || { mta_log "mta_exim_setup DIR PIPE_COMMAND..."; return 1; }
	_mta_exim_unpack || return 1
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
	# Exim expands the command and refuses tainted data in it: the words
	# must be constants. Keep them plain (no blanks, quotes, $ or \).
	for word in "$@"; do
		case $word in
		*[[:space:]\"\$\\]*) mta_log "mta_exim_setup: word must be plain: $word"; return 1 ;;
		esac
		cmd+=" $word"
	done
	for word in $MTA_PIPE_ENV; do env+="${env:+ : }$word"; done
	rm -rf "$dir/spool" "$dir/log" "$dir/mailbox"
	mkdir -p "$dir/spool" "$dir/log"
	chown Debian-exim:Debian-exim "$dir/spool" "$dir/log"
	mta_nobody_path "$dir/mailbox" || return 1
	_mta_mailbox_script "$dir/mailbox.sh"
	cat >"$dir/exim.conf" <<EOF
# Exim for mxtier's end-to-end tests (tests/mta/lib.sh)
exim_path = $MTA_EXIM
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
pid_file_path = $dir/exim.pid
exim_user = Debian-exim
exim_group = Debian-exim
primary_hostname = exim.mxtier.test
qualify_domain = mxtier.test
keep_environment =
# no daemon, no network: messages come from the command line (-bm)
local_interfaces = 127.0.0.1
daemon_smtp_ports = 0
host_lookup =
rfc1413_hosts =
# bounces that cannot be delivered are dropped, not frozen
ignore_bounce_errors_after = 0s
timeout_frozen_after = 1h
delay_warning =
log_selector = +received_recipients +delivery_size
${MTA_EXIM_MAIN:-}

begin routers

${MTA_EXIM_ROUTERS:-}

mxtier:
  driver = accept
  domains = dlv.test : *.dlv.test
  transport = mxtier

mailbox:
  driver = accept
  transport = mailbox

begin transports

mxtier:
  driver = pipe
  command =$cmd
  user = nobody
  group = nogroup
  # the message as is: no "From " line before it, no newline after it
  message_prefix =
  message_suffix =
  # 75 (EX_TEMPFAIL) and 73 (EX_CANTCREAT) defer, every other failure bounces
  temp_errors = 73:75
  # our first line of output goes into the bounce and into the log
  return_fail_output = true
  log_fail_output = true
  log_defer_output = true
  # one recipient per call: exact per-recipient status
  batch_max = 1
  # a command that runs too long is killed; without timeout_defer that
  # BOUNCES the message ("pipe delivery process timed out")
  timeout = ${MTA_PIPE_TIME_LIMIT}s
  timeout_defer = true
  environment = $env

mailbox:
  driver = pipe
  command = $dir/mailbox.sh $dir/mailbox
  user = nobody
  group = nogroup
  message_prefix =
  message_suffix =
  return_path_add
  envelope_to_add
  temp_errors = 73:75

${MTA_EXIM_TRANSPORTS:-}

begin retry

${MTA_EXIM_RETRY:-}
*  *  F,1h,1h

begin rewrite
EOF
	chmod 0644 "$dir/exim.conf"
	_mta_exim_trust add "$dir/exim.conf" || { mta_log "cannot edit /etc/exim4/trusted_configs"; return 1; }
	MTA_EXIM_DIRS+=("$dir")
	_mta_exim "$dir" -bV >"$dir/check.out" 2>&1 || {
		mta_log "exim rejects $dir/exim.conf: $(tail -5 "$dir/check.out")"; return 1; }
}

# _mta_exim_result DIR ID START - the outcome of ID's delivery attempt logged
# after line START of the mainlog:
#   delivered
#   deferred OUTPUT (EXIM'S REASON)     OUTPUT: the command's first line
#   bounced OUTPUT (EXIM'S REASON)      (log_defer_output / log_fail_output)
#   none                                nothing logged for ID
_mta_exim_result() {
	awk -v id="$2" -v start="$3" '
		NR <= start || $3 != id { next }
		/ transport output: / { o = $0; sub(/.* transport output: /, "", o); next }
		$4 == "=>" { ok = 1 }
		$4 == "**" { f = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ \*\* /, "", f) }
		$4 == "==" { d = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ == /, "", d) }
		END {
			if (o != "") o = o " "
			if (f != "") print "bounced " o "(" f ")"
			else if (d != "") print "deferred " o "(" d ")"
			else if (ok) print "delivered"
			else print "none"
		}' "$1/log/mainlog"
}

# _mta_exim_trust add|remove CONF - Exim drops root when a -C file is not
# listed in TRUSTED_CONFIG_LIST (Debian: /etc/exim4/trusted_configs): it
# receives as Debian-exim and re-executes itself for the delivery, and with
# an untrusted -C it then cannot switch to the transport's user ("exim user
# lost privilege for using -C option", "unable to set uid=65534", message
# frozen). Entries whose file no longer exists are dropped on the way.
_mta_exim_trust() {
	local op=$1 conf=$2 list=/etc/exim4/trusted_configs
	mkdir -p /etc/exim4 || return 1
	(
		flock -w 30 9 || exit 1
		{
			if [[ -f $list ]]; then
				while IFS= read -r line; do
					[[ $line == "$conf" ]] && continue
					[[ $line == /* && ! -e $line ]] && continue
					echo "$line"
				done <"$list"
			fi
			if [[ $op == add ]]; then echo "$conf"; fi
		} >"$list.new" && chmod 0644 "$list.new" && mv "$list.new" "$list"
	) 9>"${TMPDIR:-/tmp}/mxtier-mta-exim.lock"
}

_mta_exim_loglines() { { wc -l <"$1/log/mainlog"; } 2>/dev/null || echo 0; }

# mta_exim_deliver DIR FROM TO FILE - submit (exim -bm, dot lines kept with
# -oi) and deliver in the foreground (-odf). Prints "ID OUTCOME [TEXT]".
mta_exim_deliver() {
	local dir=$1 from=$2 to=$3 file=$4 tag id start rcpts
	dir=$(cd "$dir" && pwd)
	[[ -n $from ]] || from='<>'	# the null sender
	# a unique ident (-oMt, allowed for root) finds this message's id in the log
	tag=mta$$x$RANDOM$RANDOM
	start=$(_mta_exim_loglines "$dir")
	# -odf: the call returns when the delivery attempt is over
	IFS=, read -r -a rcpts <<<"$to"
	_mta_exim "$dir" -odf -oi -oMt "$tag" -f "$from" -- "${rcpts[@]}" <"$file" >"$dir/deliver.out" 2>&1
	id=$(awk -v tag="$tag" -v start="$start" 'NR > start && $4 == "<=" && index($0, " U=" tag " ") { print $3; exit 0 }' "$dir/log/mainlog")
	[[ -n $id ]] || { mta_log "exim did not take the message: $(cat "$dir/deliver.out")"; return 1; }
	echo "$id $(_mta_exim_result "$dir" "$id" "$start")"
}

# mta_exim_retry DIR ID - a new delivery attempt now (exim -M: ignores retry
# times); prints "ID OUTCOME [TEXT]" like mta_exim_deliver
mta_exim_retry() {
	local dir=$1 id=$2 start
	start=$(_mta_exim_loglines "$dir")
	_mta_exim "$dir" -M "$id" >"$dir/retry.out" 2>&1
	echo "$id $(_mta_exim_result "$dir" "$id" "$start")"
}

# mta_exim_queue DIR - what is still queued (exim -bp)
mta_exim_queue() {
	_mta_exim "$1" -bp
}

# mta_exim_bounce_text DIR ID - the bounce Exim sent for ID, as the sender's
# mailbox (DIR/mailbox) got it. The bounce is a new message ("<= <> R=ID");
# Exim delivers it in the background: wait (bounded) for its delivery.
mta_exim_bounce_text() {
	local dir=$1 id=$2 bid
	bid=$(_mta_follow "$dir/log/mainlog" '$4 == "<=" && $5 == "<>" && index($0, " R=" id " ") { print $3; exit 0 }' -v id="$id")
	[[ -n $bid ]] || { mta_log "no bounce for $id in $dir/log/mainlog"; return 1; }
	_mta_follow "$dir/log/mainlog" '$3 == bid && ($4 == "=>" || $4 == "**" || $4 == "==") { exit 0 }' -v bid="$bid"
	[[ -f $dir/mailbox/$bid ]] || { mta_log "bounce $bid of $id not in $dir/mailbox"; return 1; }
	cat "$dir/mailbox/$bid"
}


# ---------------------------------------------------------------------------
# ---------------------------------------------------------------------------
# DNS on port 53 for the MTAs' own SMTP clients
#
# Postfix smtp(8) and Exim's dnslookup router ask the C library resolver,
# which reads /etc/resolv.conf and talks to port 53 only. So: an Unbound on
# 127.0.0.153:53 (Linux answers on all of 127/8 without an interface
# address; 127.0.0.153 is not the machine's own resolver) and a resolv.conf
# naming it, bind-mounted over /etc/resolv.conf in a private mount namespace
# (unshare -m --propagation private: the mount is invisible outside). Postfix's
# master is started inside it, so smtp(8) (unchrooted, see master.cf above)
# inherits it; every exim call (_mta_exim) runs inside its own. Verified as
# root with Postfix 3.7.11 and Exim 4.96: both look up MX and A records there.
# ---------------------------------------------------------------------------

MTA_RESOLV=${MTA_RESOLV:-}
MTA_RESOLV_RUN=()
MTA_DNS_ADDR=127.0.0.153

# _mta_resolv_prefix - set MTA_RESOLV_RUN, the words put before a command
_mta_resolv_prefix() {
	MTA_RESOLV_RUN=()
	[[ -n $MTA_RESOLV ]] || return 0
	# shellcheck disable=SC2016 # expanded by the inner sh
	MTA_RESOLV_RUN=(unshare -m --propagation private sh -c
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$MTA_RESOLV")
}
_mta_resolv_prefix

mta_resolv_run() {
	"${MTA_RESOLV_RUN[@]}" "$@"
}

mta_dns_start() {
	local dir=$1 zones=$2 tpid
	command -v unbound >/dev/null || { mta_log "unbound is not installed"; return 1; }
	if ss -lunH "src $MTA_DNS_ADDR:53" 2>/dev/null | grep -q .; then
		mta_log "$MTA_DNS_ADDR:53 is taken (another test run? mta_world_lock)"
		return 1
	fi
	dir=$(mkdir -p "$dir" && cd "$dir" && pwd) || return 1
	cp "$zones" "$dir/zones.conf" || return 1
	cat >"$dir/unbound.conf" <<CONF
server:
  interface: $MTA_DNS_ADDR@53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  do-ip6: no
  rrset-roundrobin: no
  # nothing leaves this machine: every name outside the zones is NXDOMAIN
  local-zone: "." static
  include: "$dir/zones.conf"
remote-control:
  control-enable: no
CONF
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$MTA_DNS_ADDR" >"$dir/resolv.conf"
	chmod 0644 "$dir/resolv.conf"
	: >"$dir/unbound.log"
	timeout "$MTA_LIFETIME" unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 198>&- &
	tpid=$!
	MTA_PIDS+=("$tpid")
	# ready: Unbound says so ("start of service"); a failure ends it
	if [[ -z $(MTA_WAIT=15 _mta_follow "$dir/unbound.log" '
		/start of service/ { print "up"; exit 0 }
		/fatal error|error:/ { exit 1 }') ]]; then
		mta_log "unbound on $MTA_DNS_ADDR:53 did not start: $(tail -3 "$dir/unbound.log")"
		kill "$tpid" 2>/dev/null
		return 1
	fi
	MTA_RESOLV=$dir/resolv.conf
	_mta_resolv_prefix
}

# mta_stop_all - stop every sink and Postfix started here, untrust every
# Exim configuration written here. Safe to call more than once (trap EXIT).
mta_stop_all() {
	local pid d
	for pid in "${MTA_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${MTA_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	MTA_PIDS=()
	for d in "${MTA_POSTFIX_DIRS[@]}"; do
		mta_postfix_stop "$d"
	done
	MTA_POSTFIX_DIRS=()
	for d in "${MTA_EXIM_DIRS[@]}"; do
		_mta_exim_trust remove "$d/exim.conf"
	done
	MTA_EXIM_DIRS=()
	MTA_RESOLV=
	_mta_resolv_prefix
}
