# tests/smtp/peer.sh - start and stop tests/smtp/smtppeer from test scripts
# (sourced; needs $top)
#
# peer_start DIR NAME ADDR PORT SCRIPT [LATER_SCRIPT] - a peer on ADDR:PORT
#   (PORT 0: it picks one) with its dump in DIR/NAME.dump and its transcript
#   in DIR/NAME.log; waits for its ready line, sets PEER_PORT, adds its pid
#   to PEER_PIDS. It ends by itself after 120 s or 64 connections.
# peer_stop_all - stop every peer started so far
# peer_deliveries DIR NAME [SKIP] - the peer's own record of what it took,
#   read from its transcript: one line per message it answered with a plain
#   "250 " right after the data (a multi-line reply that starts with 250- is
#   no acceptance): "CONN OFFSET SIZE RCPT...", CONN the connection number,
#   OFFSET and SIZE where the message's octets lie in DIR/NAME.dump, RCPT
#   each recipient of that transaction that the peer answered 2xx, as the
#   client wrote it (<a@b>, parameters dropped). Replies are paired with
#   the commands in order, so pipelined commands count right. SKIP: leave
#   out messages whose data ended in the first SKIP lines of the transcript
#   (what came before a test's own call).
# peer_message DIR NAME OFFSET SIZE - those octets of the dump
# peer_accepted DIR NAME - how many messages the peer took (peer_deliveries)
PEER_PIDS=()
PEER_PORT=
PEER_EXTRA=()		# more smtppeer options for the next peer_start (-c CERT -k KEY)

peer_start() {
	local dir=$1 name=$2 addr=$3 port=$4 fifo=$1/$2.fifo line pid
	rm -f "$fifo"; mkfifo "$fifo"
	"$top/tests/smtp/smtppeer" -l "$addr" -p "$port" -s "$5" ${6:+-S "$6"} -t 120 -n 64 \
		"${PEER_EXTRA[@]}" \
		-d "$dir/$name.dump" -L "$dir/$name.log" >"$fifo" 2>"$dir/$name.err" 198>&- &
	pid=$!
	if IFS= read -r -t 10 line <"$fifo" && [[ $line == "smtppeer ready "* ]]; then
		PEER_PORT=${line##* }
		PEER_PIDS+=("$pid")
		return 0
	fi
	kill "$pid" 2>/dev/null
	echo "peer $name did not start on $addr:$port: $(cat "$dir/$name.err")" >&2
	return 1
}

peer_stop_all() {
	local p
	for p in "${PEER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PEER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	PEER_PIDS=()
}

peer_deliveries() {
	[[ -f $1/$2.log ]] || return 0
	awk -v skip="${3:-0}" '
	# reply - one final reply line CODE to the oldest command not yet answered
	function reply(code,   cmd, i) {
		if (dot) {			# the reply to the final dot
			if (code == "250" && NR > skip)
				printf "%d %d %d%s\n", conn, start, size, rcpts
			dot = 0; rcpts = ""
			return
		}
		if (tail >= head)
			return			# nothing asked: garbage, a drip
		cmd = q[tail++]
		if (cmd ~ /^(MAIL|RSET|EHLO|HELO)/)
			rcpts = ""
		else if (cmd ~ /^RCPT/ && code ~ /^2/)
			rcpts = rcpts " " substr(cmd, 5)
	}
	/^# connection [0-9]+ / { conn = $3; head = tail = 0; q[head++] = "GREETING"; rcpts = ""; dot = 0; next }
	/^# data [0-9]+ octets/ { start = off; size = $3; off += $3; dot = 1; next }
	/^! the client went away in the middle of the data \(/ {
		n = $0; sub(/.*\(/, "", n); off += n + 0; next }
	/^C: / {
		line = substr($0, 4)
		if (toupper(substr(line, 1, 8)) == "RCPT TO:") {
			a = substr(line, 9); sub(/^ +/, "", a)
			# ESMTP parameters after the address go
			while (match(a, / [A-Za-z0-9-]+(=[^ >]*)?$/)) a = substr(a, 1, RSTART - 1)
			q[head++] = "RCPT" a
		} else
			q[head++] = toupper(line)
		next
	}
	/^S: / {
		text = substr($0, 4)
		n = split(text, part, /\\x0d\\x0a|\\x0a/)
		for (i = 1; i <= n; i++)
			if (part[i] ~ /^[0-9][0-9][0-9]( |$)/)
				reply(substr(part[i], 1, 3))
		next
	}' "$1/$2.log"
}

peer_message() {
	tail -c +$(($3 + 1)) "$1/$2.dump" 2>/dev/null | head -c "$4"
}

peer_accepted() {
	peer_deliveries "$1" "$2" | wc -l
}

# peer_script_healthy - a plain ESMTP session that takes one message
peer_script_healthy() {
	printf 'send 220 %s ESMTP\\r\\n\nexpect EHLO\nsend 250-%s\\r\\n250-8BITMIME\\r\\n250 SIZE 100000000\\r\\n\n' "${1:-peer}" "${1:-peer}"
	peer_script_tail
}

# peer_script_tail - the rest of a healthy session after the EHLO reply
peer_script_tail() {
	printf 'expect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\nexpect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\n'
	printf 'expect DATA\nsend 354 go ahead\\r\\n\ndata\nsend 250 2.0.0 queued\\r\\n\n'
	printf 'expect QUIT\nsend 221 2.0.0 bye\\r\\n\n'
}
