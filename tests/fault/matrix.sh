# tests/fault/matrix.sh - the fault matrix (sourced by tests/run-tests.sh;
# uses note_result, $run, $top)
#
# Each row of tests/fault/rows names one fault and what mxtier-pipe must do.
# For every row this starts, on loopback: faultdns serving fm.test
# (tests/fault/fm.rules, once for all rows), and two scripted SMTP peers
# (tests/smtp/smtppeer) on 127.0.1.1 (mx1, pref 10) and 127.0.1.2 (backup,
# pref 20), one port for both; the row's fault goes into mx1's script or into
# the local setup. Then it runs mxtier-pipe as an MTA would (as nobody when
# we are root) and checks the exit status, the first line of output, the
# journal rows, and every message the peers took during the call, from their
# own transcripts (peer_deliveries): a row whose SINK names a peer wants
# exactly one message there, for exactly the one recipient, byte for byte,
# and none anywhere else; SINK none wants none at all. A second copy, at the
# same peer or the other one, fails the row. Every peer and mount is
# stopped after its row.

fm_dir=$run/fault
fm_pipe=$top/plugin/mxtier-pipe
fm_peer=$top/tests/smtp/smtppeer
fm_as=()
[[ $(id -u) -eq 0 ]] && fm_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fm_port=
. "$top/tests/smtp/peer.sh"
fm_mounts=()

# fm_message FILE - the default message: headers, dot lines, 8-bit text
fm_message() {
	{
		printf 'From: sender@client.test\nTo: user@fm.test\nSubject: fault matrix\n'
		printf 'Message-ID: <%s@client.test>\n\n' "$RANDOM$RANDOM"
		printf '.a line that starts with a dot\n..two dots\n.\nbody line\n'
		printf 'caf\303\251 8-bit\nlast line\n'
	} >"$1"
}

# fm_wire FILE - the message as the server must receive it in DATA, dots
# unstuffed (spool.h): CRLF, a bare CR and a bare LF each end a line and
# become CRLF, a last line without its line end gets CRLF, and a line over
# 998 octets is broken after 998 and then every 997 with CRLF SPACE
fm_wire() {
	perl -0777 -pe 's/\r\n|\r|\n/\r\n/g; $_ .= "\r\n" if length($_) && !/\r\n\z/;
		s/([^\r\n]{999,})/my $l = $1; my $o = substr($l, 0, 998, "");
			$o .= "\r\n " . substr($l, 0, 997, "") while length $l; $o/ge' <"$1"
}

# fm_script STAGE FAULT - mx1's script: a healthy session up to STAGE, then FAULT
fm_script() {
	local stage=$1 fault=$2 out= code text
	case $stage:$fault in
	greeting:4xx) code='421 4.3.2 try later' ;; greeting:5xx) code='554 5.3.2 not now' ;;
	ehlo:4xx) code='451 4.3.0 not now' ;; ehlo:5xx) code='502 5.5.1 no EHLO here' ;;
	starttls:4xx) code='454 4.7.0 TLS not available' ;; starttls:5xx) code='554 5.7.3 no TLS' ;;
	mail:4xx) code='451 4.3.0 try later' ;; mail:5xx) code='550 5.7.1 sender refused' ;;
	rcpt:4xx) code='451 4.7.1 greylisted' ;; rcpt:5xx) code='550 5.1.1 no such user' ;;
	data:4xx) code='451 4.3.0 no data now' ;; data:5xx) code='554 5.3.4 no data today' ;;
	dot:4xx) code='452 4.3.1 disk full' ;; dot:5xx) code='552 5.3.4 message refused' ;;
	esac
	case $fault in
	4xx|5xx) text="send $code\\r\\n" ;;
	drop) text="close" ;;
	silence) text="sleep 30000" ;;
	drip) text="drip $([[ $stage == greeting ]] && echo 220 || echo 250)-still going\\r\\n 50" ;;
	longline) text="longline 100000" ;;
	garbage) text="garbage" ;;
	mixed) text="send 250-all is well\\r\\n550-but not really\\r\\n421 and going away\\r\\n" ;;
	badtls) text=$'send 220 2.0.0 go ahead\\r\\n\nbadtls' ;;
	esac
	case $stage in
	greeting) out+="$text"$'\n' ;;
	ehlo)
		out+=$'send 220 mx1 ESMTP\\r\\n\nexpect EHLO\n'"$text"$'\n'
		[[ $fault == 5xx ]] && out+=$'expect HELO\nsend 250 mx1\\r\\n\n'"$(peer_script_tail)" ;;
	starttls)
		out+=$'send 220 mx1 ESMTP\\r\\n\nexpect EHLO\nsend 250-mx1\\r\\n250-8BITMIME\\r\\n250 STARTTLS\\r\\n\n'
		out+=$'expect STARTTLS\n'"$text"$'\n'
		[[ $fault == 4xx || $fault == 5xx ]] && out+="$(peer_script_tail)" ;;
	mail|rcpt|data|dot)
		out+=$'send 220 mx1 ESMTP\\r\\n\nexpect EHLO\nsend 250-mx1\\r\\n250 8BITMIME\\r\\n\n'
		out+=$'expect MAIL FROM:\n'
		[[ $stage == mail ]] && { printf '%s%s\n' "$out" "$text"; return; }
		out+=$'send 250 2.1.0 ok\\r\\n\nexpect RCPT TO:\n'
		[[ $stage == rcpt ]] && { printf '%s%s\n' "$out" "$text"; return; }
		out+=$'send 250 2.1.5 ok\\r\\n\nexpect DATA\n'
		[[ $stage == data ]] && { printf '%s%s\n' "$out" "$text"; return; }
		out+=$'send 354 go ahead\\r\\n\ndata\n'"$text"$'\n' ;;
	esac
	printf '%s\n' "$out"
}

# fm_cleanup - stop the row's peers, undo its mounts
fm_cleanup() {
	local m
	peer_stop_all
	for m in "${fm_mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
	fm_mounts=()
}

# fm_peer NAME ADDR SCRIPT [LATER] - a peer of the row, on the matrix's port
fm_peer() {
	peer_start "$fm_row" "$1" "$2" "${fm_port:-0}" "$3" ${4:+"$4"} && fm_port=$PEER_PORT
}

# fm_tmpfs DIR OPTIONS - a small tmpfs at DIR (needs root: make check runs as
# root on CI); fails the row when it cannot be mounted
fm_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "$2" mxtier-fault "$1" || return 1
	fm_mounts+=("$1")
}

# fm_conf FILE - the row's config
fm_conf() {
	cat >"$1" <<CONF
resolver { servers = { "$fm_dns" }  timeout = 1  tries = 1 }
policy { ignore_networks = {}  backoff_initial = 1 }
smtp { port = $fm_port  helo_name = "client.mxtier.test"  starttls = ${fm_starttls:-opportunistic}
       connect_timeout = 2  greeting_timeout = 2  helo_timeout = 2  starttls_timeout = 2
       mail_timeout = 2  rcpt_timeout = 2  data_timeout = 2  data_transfer_timeout = 2
       data_done_timeout = 2  quit_timeout = 2 }
spool { directory = "$fm_row/spool" }
journal { path = "$fm_row/journal/journal.db" }
CONF
}

# fm_local WHAT - set up a local fault: may change fm_conf_file, fm_msg,
# fm_stdin ("closed"), and fm_extra (a check run after mxtier-pipe, which
# appends to why)
fm_local() {
	local i
	case $1 in
	config_unreadable) chmod 000 "$fm_conf_file" ;;
	config_invalid) printf 'smtp {\n  port = "twenty-five"\n}\n' >>"$fm_conf_file" ;;
	journal_ro)
		fm_tmpfs "$fm_row/journal" "ro,size=64k" || return 1
		fm_extra=fm_check_journal_unopened ;;
	journal_full)
		# the journal exists, then its filesystem fills up
		fm_tmpfs "$fm_row/journal" "size=256k,mode=0755" || return 1
		[[ ${#fm_as[@]} -gt 0 ]] && chown nobody:nogroup "$fm_row/journal"
		"${fm_as[@]}" "$fm_pipe" -c "$fm_conf_file" -q FILL -f s@client.test -d ok.fm.test -- u@ok.fm.test \
			<"$fm_msg" >/dev/null 2>&1 || { echo "the first delivery failed" >&2; return 1; }
		# restart mx1: it takes a limited number of sessions
		dd if=/dev/zero of="$fm_row/journal/filler" bs=4k 2>/dev/null
		fm_extra=fm_check_journal_full ;;
	spool_readonly)
		mkdir -p "$fm_row/spool" && chown root:root "$fm_row/spool" && chmod 0555 "$fm_row/spool"
		fm_big_message ;;
	spool_full)
		fm_tmpfs "$fm_row/spool" "size=64k,mode=0777" || return 1
		fm_big_message ;;
	big) fm_big_message ;;
	stdin_closed) fm_stdin=closed ;;
	no_final_newline) printf 'Subject: cut\n\nthe writer went away mid-li' >"$fm_msg" ;;
	nul) printf 'Subject: nul\n\nbefore\0after\n\0\n' >"$fm_msg" ;;
	bare_lf) printf 'Subject: lf\n\none\ntwo\n\nfour\n' >"$fm_msg" ;;
	bare_cr) printf 'Subject: cr\n\none\rtwo\r\nthree\r\r\nend\n' >"$fm_msg" ;;
	crlf) printf 'Subject: crlf\r\n\r\none\r\n.two\r\n\r\n' >"$fm_msg" ;;
	long_lines)
		{ printf 'Subject: long\n\n'; head -c 999 /dev/zero | tr '\0' a; echo
		  head -c 20000 /dev/zero | tr '\0' b; echo; echo end; } >"$fm_msg" ;;
	dots)
		printf 'Subject: dots\n\n.\n..\n...\n. \n.x\nx.\n.\r\n.' >"$fm_msg" ;;
	*) echo "unknown local fault $1" >&2; return 1 ;;
	esac
}

# fm_big_message - 3 MiB, over the spool's memory limit of 64 KiB
fm_big_message() {
	sed -i 's/^spool {/spool { memory_limit = 65536 /' "$fm_conf_file"
	{ printf 'Subject: big\n\n'; head -c 2400000 /dev/urandom | base64 -w 76; } >"$fm_msg"
}

# fm_check_journal_unopened - the warning says that nothing is recorded and
# that backoff is off while the journal cannot be opened
fm_check_journal_unopened() {
	fm_check_journal_warning
	grep -q 'delivering without a journal: no attempt is recorded and host backoff (R13) is off' \
		<<<"$fm_out" || why+="the warning does not say that backoff (R13) is off; "
}

# fm_check_journal_warning - the delivery warned about the journal, after the status line
fm_check_journal_warning() {
	grep -q '^mxtier-pipe: warning: journal' <<<"${fm_out#*$'\n'}" ||
		why+="no journal warning after the status line; "
}

# fm_check_journal_full - the warning; then free the space so that the rows
# can be read: the failed delivery must have left none
fm_check_journal_full() {
	fm_check_journal_warning
	rm -f "$fm_row/journal/filler"
}

# fm_run_row NAME SETUP EXIT FIRST SINK JOURNAL
fm_run_row() {
	local name=$1 setup=$2 want_exit=$3 want_first=$4 want_sink=$5 want_journal=$6
	local kind stage fault extra domain qid=F$RANDOM$RANDOM rc first sink rows why=
	local p mark_mx1=0 mark_backup=0 mark got peer conn off size rcpts
	fm_row=$fm_dir/$name
	mkdir -p "$fm_row/journal" "$fm_row/spool"
	[[ ${#fm_as[@]} -gt 0 ]] && chown nobody:nogroup "$fm_row/journal" "$fm_row/spool"
	chmod 0755 "$fm_row" "$fm_row/journal" "$fm_row/spool"
	fm_msg=$fm_row/msg.eml fm_stdin= fm_extra= fm_starttls=
	fm_message "$fm_msg"
	read -r kind stage fault extra <<<"$setup"
	peer_script_healthy >"$fm_row/healthy.scr"
	case $kind in
	smtp)
		domain=smtp.fm.test
		[[ $extra == require ]] && fm_starttls=require
		fm_script "$stage" "$fault" >"$fm_row/mx1.scr"
		if [[ $stage != connect ]]; then
			fm_peer mx1 127.0.1.1 "$fm_row/mx1.scr" \
				$([[ $fault == badtls ]] && echo "$fm_row/healthy.scr") || why+="mx1 did not start; "
		fi
		fm_peer backup 127.0.1.2 "$fm_row/healthy.scr" || why+="backup did not start; " ;;
	dns)
		domain=$stage.fm.test
		[[ $stage == long253 ]] && domain=$fm_long253
		[[ $stage == long254 ]] && domain=$fm_long254
		[[ $stage == label64 ]] && domain=$fm_label64
		fm_peer mx1 127.0.1.1 "$fm_row/healthy.scr" || why+="mx1 did not start; "
		fm_peer backup 127.0.1.2 "$fm_row/healthy.scr" || why+="backup did not start; " ;;
	local)
		domain=ok.fm.test
		fm_peer mx1 127.0.1.1 "$fm_row/healthy.scr" || why+="mx1 did not start; " ;;
	esac
	fm_conf_file=$fm_row/fm.conf
	fm_conf "$fm_conf_file"
	[[ $kind == local ]] && { fm_local "$stage" || why+="could not set up $stage; "; }
	chmod a+rx "$fm_row"; [[ -f $fm_msg ]] && chmod a+r "$fm_msg"

	if [[ -z $why ]]; then
		# what the peers took before this call (journal_full's first
		# delivery) is not this call's
		[[ -f $fm_row/mx1.log ]] && mark_mx1=$(wc -l <"$fm_row/mx1.log")
		[[ -f $fm_row/backup.log ]] && mark_backup=$(wc -l <"$fm_row/backup.log")
		if [[ $fm_stdin == closed ]]; then
			fm_out=$(timeout 60 "${fm_as[@]}" "$fm_pipe" -c "$fm_conf_file" -q "$qid" \
				-f sender@client.test -d "$domain" -- "user@$domain" <&- 2>&1)
		else
			fm_out=$(timeout 60 "${fm_as[@]}" "$fm_pipe" -c "$fm_conf_file" -q "$qid" \
				-f sender@client.test -d "$domain" -- "user@$domain" <"$fm_msg" 2>&1)
		fi
		rc=$?
		first=${fm_out%%$'\n'*}
		# every message a peer took during the call: "PEER CONN OFFSET SIZE RCPT..."
		got=
		for p in mx1 backup; do
			mark=mark_$p
			got+=$(peer_deliveries "$fm_row" "$p" "${!mark}" | sed "s/^/$p /")$'\n'
		done
		got=$(sed '/^$/d' <<<"$got")
		sink=$(awk '{ printf "%s%s", sep, $1; sep = " " }' <<<"$got")
		sink=${sink:-none}
		[[ -n $fm_extra ]] && $fm_extra
		rows=$(journal_decisions "$fm_row/journal/journal.db" "$qid")
		[[ $rc -eq $want_exit ]] || why+="exit $rc, want $want_exit; "
		[[ $first =~ $want_first ]] || why+="first line \"$first\" !~ /$want_first/; "
		[[ $sink == "$want_sink" ]] || why+="accepted by: $sink, want $want_sink; "
		[[ $rows == "$want_journal" ]] || why+="journal \"$rows\", want \"$want_journal\"; "
		# each message taken: for the row's one recipient, byte for byte
		while read -r peer conn off size rcpts; do
			[[ -n $peer ]] || continue
			[[ $rcpts == "<user@$domain>" ]] ||
				why+="$peer (connection $conn) took it for \"$rcpts\", want <user@$domain>; "
			cmp -s <(fm_wire "$fm_msg") <(peer_message "$fm_row" "$peer" "$off" "$size") ||
				why+="$peer (connection $conn) did not receive the message byte for byte; "
		done <<<"$got"
	fi
	fm_cleanup
	report_result "fault $name" "$why" "${fm_out:-}"
	fm_out=
}

echo "== the fault matrix (tests/fault/rows)"
mkdir -p "$fm_dir"
chmod 0755 "$run" "$fm_dir"
# names at the length limits: 253 octets is the longest domain, 63 the longest label
fm_l63=$(printf 'a%.0s' {1..63})
fm_long253=$fm_l63.$fm_l63.$fm_l63.$(printf 'b%.0s' {1..53}).fm.test
fm_long254=$fm_l63.$fm_l63.$fm_l63.$(printf 'b%.0s' {1..54}).fm.test
fm_label64=a$fm_l63.fm.test
{
	cat "$top/tests/fault/fm.rules"
	# (the two names over the limits cannot be served; mxtier-pipe must refuse them first)
	echo "$fm_long253 MX 10 mx1.fm.test"
	echo "mx1.big.fm.test A 127.0.1.1"
	for ((i = 1; i <= 300; i++)); do echo "big.fm.test MX $i mx$i.big.fm.test"; done
} >"$fm_dir/fm.rules"
fm_dns=
world_faultdns_at "$fm_dir/fm.rules" 900 && fm_dns=$FAULTDNS_AT fm_dns_pid=$FAULTDNS_PID
if [[ -z $fm_dns ]]; then
	note_result "fault: faultdns did not start: $(cat "$fm_dir/fm.rules.err")" fail
else
	while IFS='|' read -r -u 9 name setup want_exit want_first want_sink want_journal; do
		name=$(echo $name)
		[[ -z $name || $name == \#* ]] && continue
		setup=$(echo $setup) want_exit=$(echo $want_exit) want_sink=$(echo $want_sink)
		want_first=$(sed 's/^ *//; s/ *$//' <<<"$want_first")
		want_journal=$(echo $want_journal)
		fm_run_row "$name" "$setup" "$want_exit" "$want_first" "$want_sink" "$want_journal"
	done 9<"${MXT_FAULT_ROWS:-$top/tests/fault/rows}"
	kill "$fm_dns_pid" 2>/dev/null
fi
