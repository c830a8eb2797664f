# tests/smtp/peer.sh - start and stop tests/smtp/smtppeer from test scripts
# (sourced; needs $top)
#
# peer_start DIR NAME ADDR PORT SCRIPT [LATER_SCRIPT] - a peer on ADDR:PORT
#   (PORT 0: it picks one) with its dump in DIR/NAME.dump and its transcript
#   in DIR/NAME.log; waits for its ready line, sets PEER_PORT, adds its pid
#   to PEER_PIDS. It ends by itself after 120 s or 64 connections.
# peer_stop_all - stop every peer started so far
# peer_accepted DIR NAME - how many messages the peer answered with a plain
#   "250 " right after their data (a multi-line reply that starts with 250-
#   is no acceptance)
PEER_PIDS=()
PEER_PORT=

peer_start() {
	local dir=$1 name=$2 addr=$3 port=$4 fifo=$1/$2.fifo line pid
	rm -f "$fifo"; mkfifo "$fifo"
	"$top/tests/smtp/smtppeer" -l "$addr" -p "$port" -s "$5" ${6:+-S "$6"} -t 120 -n 64 \
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

peer_accepted() {
	[[ -f $1/$2.log ]] || { echo 0; return; }
	awk '/^# data [0-9]+ octets/ { d = 1; next } d && /^S: / { if ($2 == "250") n++; d = 0 }
	     END { print n + 0 }' "$1/$2.log"
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
