# tests/deliver/body.sh - the message body as a server receives it (sourced
# by tests/run-tests.sh; uses note_result, $run, $top)
#
# mxtier-pipe delivers one hostile message to a scripted peer
# (tests/smtp/smtppeer) on 127.0.1.51, found through a faultdns of this
# script's own (body.test MX 10 mx.body.test). The message holds a bare CR,
# a bare LF, the smuggling patterns <CR>.<CR> and <LF>.<LF> each followed by
# SMTP commands, a 3000-octet line, a NUL and a last line without its line
# end. The case checks the exact octets the peer took in DATA (after it
# un-stuffed the dots), that SIZE= announced exactly what was sent, and that
# the peer saw one message and nothing after it but QUIT: no command was
# smuggled in.

bd_dir=$run/body
mkdir -p "$bd_dir"
chmod 0755 "$run" "$bd_dir"
declare -F peer_start >/dev/null || . "$top/tests/smtp/peer.sh"
bd_as=()
[[ $(id -u) -eq 0 ]] && bd_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
bd_dns_pid=

# bd_ok NAME WHY - count one case: OK when WHY is empty
bd_ok() {
	if [[ -z $2 ]]; then
		echo "[       OK ] body $1"
		note_result "body $1" ok
	else
		echo "[  FAILED  ] body $1: $2"
		note_result "body $1" fail
	fi
}

# bd_dns_start - faultdns for body.test on 127.0.0.1, any port; sets bd_dns
bd_dns_start() {
	world_faultdns_at "$bd_dir/body.rules" 300 || return 1
	bd_dns=$FAULTDNS_AT bd_dns_pid=$FAULTDNS_PID
}

echo "== the message body on the wire (line ends, smuggling, long lines, NUL)"
printf '%s\n' 'body.test MX 10 mx.body.test' 'mx.body.test A 127.0.1.51' >"$bd_dir/body.rules"
peer_script_healthy mx.body >"$bd_dir/healthy.scr"

# the message, and what the peer must have after un-stuffing the dots: every
# line end CRLF, the 3000-octet line L as 998, SPACE + 997, SPACE + 997,
# SPACE + 8 octets (Postfix smtp_line_length_limit = 998)
bd_long=$(printf 'L%.0s' {1..10}; for ((i = 0; i < 299; i++)); do printf '%09d.' "$i"; done)
bd_long=${bd_long:0:3000}
{
	printf 'From: sender@client.test\nTo: user@body.test\nSubject: body\n\n'
	printf 'bare\rcr\nbare lf\ncrlf\r\n'
	printf 'cr smuggle\r.\rMAIL FROM:<evil@smuggle.test>\r\nRCPT TO:<victim@body.test>\r\nDATA\r\n'
	printf 'lf smuggle\n.\nMAIL FROM:<evil2@smuggle.test>\nQUIT\n'
	printf '%s\n' "$bd_long"
	printf 'nul\0here\nlast line'
} >"$bd_dir/msg.eml"
{
	printf 'From: sender@client.test\r\nTo: user@body.test\r\nSubject: body\r\n\r\n'
	printf 'bare\r\ncr\r\nbare lf\r\ncrlf\r\n'
	printf 'cr smuggle\r\n.\r\nMAIL FROM:<evil@smuggle.test>\r\nRCPT TO:<victim@body.test>\r\nDATA\r\n'
	printf 'lf smuggle\r\n.\r\nMAIL FROM:<evil2@smuggle.test>\r\nQUIT\r\n'
	printf '%s\r\n %s\r\n %s\r\n %s\r\n' "${bd_long:0:998}" "${bd_long:998:997}" \
		"${bd_long:1995:997}" "${bd_long:2992}"
	printf 'nul\0here\r\nlast line\r\n'
} >"$bd_dir/want.dump"
chmod a+r "$bd_dir/msg.eml"
# on the wire the two "." lines went out as ".."
bd_size=$(( $(stat -c %s "$bd_dir/want.dump") + 2 ))

if ! bd_dns_start || ! peer_start "$bd_dir" mx 127.0.1.51 0 "$bd_dir/healthy.scr"; then
	bd_ok setup "the DNS server or the SMTP peer did not start"
else
	cat >"$bd_dir/mxtier.conf" <<CONF
resolver { servers = { "$bd_dns" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = $PEER_PORT  helo_name = "client.mxtier.test" }
spool { directory = "$bd_dir/spool"  memory_limit = 1024 }
journal { path = "$bd_dir/journal/journal.db" }
CONF
	chmod 0644 "$bd_dir/mxtier.conf"
	mkdir -p "$bd_dir/spool" "$bd_dir/journal"
	[[ ${#bd_as[@]} -gt 0 ]] && chown nobody:nogroup "$bd_dir/spool" "$bd_dir/journal"
	why=
	out=$(timeout 60 "${bd_as[@]}" "$top/plugin/mxtier-pipe" -c "$bd_dir/mxtier.conf" -q BODY1 \
		-f sender@client.test -d body.test -- user@body.test <"$bd_dir/msg.eml" 2>&1 198>&-)
	rc=$?
	peer_stop_all
	[[ $rc -eq 0 ]] || why+="exit $rc ($(head -1 <<<"$out")), want 0; "
	if ! cmp -s "$bd_dir/mx.dump" "$bd_dir/want.dump"; then
		why+="the peer received other octets: $(cmp "$bd_dir/mx.dump" "$bd_dir/want.dump" 2>&1 | head -1)"
		why+=" (od -c $bd_dir/mx.dump); "
	fi
	n=$(grep -c '^# data ' "$bd_dir/mx.log")
	[[ $n -eq 1 ]] || why+="the peer saw $n messages, want exactly 1; "
	[[ $(peer_accepted "$bd_dir" mx) -eq 1 ]] || why+="the peer accepted $(peer_accepted "$bd_dir" mx), want 1; "
	# after the data: only QUIT, and nothing went against the script
	cmds=$(sed -n '/^# data /,$p' "$bd_dir/mx.log" | grep '^C: ' | tr '\n' '|')
	[[ $cmds == 'C: QUIT|' ]] || why+="commands after the data: \"$cmds\", want only QUIT; "
	grep -q '^!' "$bd_dir/mx.log" && why+="the peer logged: $(grep '^!' "$bd_dir/mx.log" | head -1); "
	grep -Eq "^C: MAIL FROM:<sender@client.test> (.* )?SIZE=$bd_size( |\$)" "$bd_dir/mx.log" ||
		why+="MAIL FROM without SIZE=$bd_size: $(grep '^C: MAIL' "$bd_dir/mx.log" | head -1); "
	[[ -z $(ls -A "$bd_dir/spool") ]] || why+="files left in the spool directory; "
	bd_ok hostile_body_exact "$why"
fi
peer_stop_all
[[ -n $bd_dns_pid ]] && kill "$bd_dns_pid" 2>/dev/null
