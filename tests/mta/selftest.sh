#!/bin/bash
# tests/mta/selftest.sh - prove the MTA harness (lib.sh) with a stand-in
# transport (standin-pipe.sh) in place of mxtier-pipe's delivery mode.
#
# For Postfix and for Exim: ok@ / temp@ / perm@ recipients in dlv.test, the
# null sender, a subdomain; checks what reached the stand-in (stdin, argv or
# environment) and what the MTA made of each exit status. Also smtp-sink
# directly: a stored message and its body hash, and the failure options of
# the table in lib.sh. Runs as root. Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/mta
run=${MTA_SELFTEST_DIR:-$top/tests/tmp/mta-selftest.$$}
rm -rf "$run"
mkdir -p "$run"
MTA_DIR=$run
MTA_TOP=$top
. "$here/lib.sh"

passed=0
failed=0
failures=()
t_start=$(date +%s%N)

cleanup() {
	mta_stop_all
	if [[ $failed -eq 0 && -z ${MTA_KEEP:-} ]]; then rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# check NAME COMMAND... - one test: passes when COMMAND succeeds
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "  ok   $name"
	else
		failed=$((failed + 1))
		failures+=("$name")
		echo "  FAIL $name"
	fi
}
# eq WANT GOT - equality with a message when not
eq() {
	[[ $1 == "$2" ]] && return 0
	echo "       want: $1" >&2
	echo "       got:  $2" >&2
	return 1
}
has() {
	[[ $2 == *"$1"* ]] && return 0
	echo "       want a text with: $1" >&2
	echo "       got: $(head -c 600 <<<"$2")" >&2
	return 1
}

if [[ $(id -u) -ne 0 ]]; then
	echo "selftest: must run as root (Postfix, Exim, the user nobody)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

# the message every test injects: complete headers (so the MTAs add nothing
# but their Received:), dot lines, an mbox "From " line, blank lines, 8-bit
msg=$run/message.txt
{
	printf 'From: Sender <s@snd.test>\n'
	printf 'To: someone@dlv.test\n'
	printf 'Subject: mta harness selftest\n'
	printf 'Date: Sun, 22 Nov 2026 12:00:00 +0000\n'
	printf 'Message-ID: <selftest.%s@snd.test>\n' "$$"
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: 8bit\n'
	printf '\n'
	printf 'first line\n'
	printf '.a line that starts with a dot\n'
	printf '..two dots\n'
	printf 'From the body, not an mbox separator\n'
	printf '\n'
	printf 'gr\xc3\xbc\xc3\x9fe, trailing blanks   \n'
	printf '%0900d\n' 0
	printf 'last line\n'
} >"$msg"
want_hash=$(mta_body_hash "$msg")

# the stand-in's files; the config and record folder are nobody's
standin=$here/standin-pipe.sh
conf=$run/mxtier.conf
printf 'resolver {\n\ttimeout = 1\n\ttries = 1\n}\n' >"$conf"
mta_nobody_path "$run/standin" "$run/journal" "$conf" || { echo "0 passed, 1 failed"; exit 1; }
MTA_PIPE_ENV="MXT_STANDIN_DIR=$run/standin"
DNS=127.0.0.1:5353 # never asked: the stand-in resolves nothing

# record QUEUE_ID - the stand-in's record of its (only) call for QUEUE_ID
record() {
	local f
	f=$(ls "$run/standin/$1".* 2>/dev/null | grep -v '\.msg$' | tail -1)
	[[ -n $f ]] && echo "$f"
}
field() { sed -n "s/^$2=//p" "$1" | head -1; }
calls() { ls "$run/standin/$1".* 2>/dev/null | grep -vc '\.msg$'; }

# strip_received FILE - the message without the first header when that is a
# Received: header (with its continuation lines)
strip_received() {
	awk 'NR == 1 && /^Received: / { skip = 1; next }
	     skip && /^[ \t]/ { next }
	     { skip = 0; print }' "$1"
}

# stdin_checks MTA QUEUE_ID - what the stand-in read equals the injected
# message with one Received: header in front, byte for byte
stdin_checks() {
	local mta=$1 id=$2 rec
	rec=$(record "$id") || { check "$mta $id: stand-in was called" false; return; }
	check "$mta $id: stdin body hash equals the injected body" \
		eq "$want_hash" "$(mta_body_hash "$rec.msg")"
	check "$mta $id: stdin = one Received: header + the injected message, byte for byte" \
		cmp -s <(strip_received "$rec.msg") "$msg"
	check "$mta $id: first line of stdin is the MTA's Received: header" \
		eq "Received: " "$(head -c 10 "$rec.msg")"
}

# ---------------------------------------------------------------------------
echo "== smtp-sink"
# addresses of our own (127.0.77.x), not the dlv.test world's 127.0.0.x:
# another test run on this machine may be using those right now
if check "sink starts on 127.0.77.21:2525" mta_sink_start plain 127.0.77.21 2525; then
	reply=$(mta_smtp_send 127.0.77.21 2525 s@snd.test ok@ok.dlv.test "$msg" 2>"$run/sink-plain.log")
	check "sink: 250 to the final dot" has "250 2.0.0" "$reply"
	check "sink: one message stored" eq 1 "$(mta_sink_messages plain)"
	check "sink: stored body hash equals the sent body" eq "$want_hash" "$(mta_sink_body_hash plain 1)"
	check "sink: envelope recorded" eq $'X-Helo-Args: client.mxtier.test\nX-Mail-Args: <s@snd.test>\nX-Rcpt-Args: <ok@ok.dlv.test>' \
		"$(mta_sink_envelope plain 1)"
	reply=$(mta_smtp_send 127.0.77.21 2525 '' ok@ok.dlv.test "$msg" 2>/dev/null)
	check "sink: second message (null sender) stored in order" eq "X-Mail-Args: <>" \
		"$(mta_sink_envelope plain 2 | grep Mail)"
	mta_sink_stop plain
fi
# the option table of lib.sh
sink_case() {
	local name=$1 addr=$2 want=$3 stored=$4 reply
	shift 4
	if mta_sink_start "$name" "$addr" 2525 "$@"; then
		reply=$(mta_smtp_send "$addr" 2525 s@snd.test ok@ok.dlv.test "$msg" 2>"$run/sink-$name.log")
		check "sink $*: client sees \"$want\"" has "$want" "$reply"
		check "sink $*: $stored message(s) stored" eq "$stored" "$(mta_sink_messages "$name")"
		mta_sink_stop "$name"
	else
		check "sink $name starts" false
	fi
}
sink_case greet 127.0.77.41 "421 4.0.0" 0 -Q connect
sink_case grey 127.0.77.51 "450 4.3.0" 0 -r rcpt
sink_case reject 127.0.77.61 "500 5.3.0" 0 -f rcpt
sink_case dropdot 127.0.77.71 "(connection lost)" 1 -q .
check "sink on a busy address:port fails instead of hanging" \
	bash -c '. "$1"; MTA_DIR=$2; mta_sink_start a 127.0.77.22 2525 && ! mta_sink_start b 127.0.77.22 2525 2>/dev/null; r=$?; mta_stop_all; exit $r' _ "$here/lib.sh" "$run/busy"

# ---------------------------------------------------------------------------
echo "== Postfix (pipe(8) transport)"
t0=$(date +%s%N)
pf=$run/postfix
maincf_hash=$(sha256sum </etc/postfix/main.cf)
if check "postfix starts" mta_postfix_start "$pf" "$standin" -c "$conf" --dns-server "$DNS" \
	-q '${queue_id}' -f '${sender}' -d '${nexthop}' -- '${recipient}'; then
	echo "   (started in $(( ($(date +%s%N) - t0) / 1000000 )) ms; smtpd 127.0.0.1:$(cat "$pf/port"))"

	# ok@: delivered
	q=$(mta_postfix_send "$pf" s@snd.test ok@ok.dlv.test "$msg")
	check "postfix ok@: injected (queue id $q)" test -n "$q"
	check "postfix ok@: exit 0 -> status=sent" has "sent 2.0.0" "$(mta_postfix_wait "$pf" "$q")"
	if rec=$(record "$q"); then
		check "postfix ok@: argv sender" eq s@snd.test "$(field "$rec" sender)"
		check "postfix ok@: argv recipient" eq ok@ok.dlv.test "$(field "$rec" recipient)"
		check "postfix ok@: argv domain = \${nexthop} = recipient domain" eq ok.dlv.test "$(field "$rec" domain)"
		check "postfix ok@: argv queue id = Postfix queue id" eq "$q" "$(field "$rec" queue_id)"
		check "postfix ok@: runs as nobody" eq nobody "$(field "$rec" uid)"
		check "postfix ok@: -c and --dns-server passed" eq "$conf $DNS" "$(field "$rec" config) $(field "$rec" dns_server)"
	else
		check "postfix ok@: stand-in was called" false
	fi
	stdin_checks postfix "$q"
	check "postfix ok@: no longer queued" eq "" "$(mta_postfix_queue_json "$pf" | grep "\"$q\"")"

	# null sender, recipient in a subdomain
	q=$(mta_postfix_send "$pf" '' ok@sub.ok.dlv.test "$msg")
	check "postfix <>: exit 0 -> status=sent" has "sent 2.0.0" "$(mta_postfix_wait "$pf" "$q")"
	if rec=$(record "$q"); then
		check "postfix <>: sender is an empty argument after -f" \
			eq $'arg=-f\narg=\narg=-d' "$(grep -A2 -x 'arg=-f' "$rec")"
		check "postfix <>: \${nexthop} of a subdomain = that subdomain" eq sub.ok.dlv.test "$(field "$rec" domain)"
	else
		check "postfix <>: stand-in was called" false
	fi

	# temp@: deferred, still queued; a flush tries again
	q=$(mta_postfix_send "$pf" s@snd.test temp@ok.dlv.test "$msg")
	check "postfix temp@: exit 75 -> deferred with our dsn and text" \
		eq "deferred 4.4.1 standin: temporary" "$(mta_postfix_wait "$pf" "$q")"
	check "postfix temp@: still in the deferred queue (postqueue -j)" \
		has "\"queue_name\": \"deferred\", \"queue_id\": \"$q\"" "$(mta_postfix_queue_json "$pf")"
	check "postfix temp@: delay_reason is our text" \
		has '"address": "temp@ok.dlv.test", "delay_reason": "standin: temporary"' "$(mta_postfix_queue_json "$pf")"
	stdin_checks postfix "$q"
	mta_postfix_flush "$pf" "$q"
	check "postfix temp@: flushed -> tried again -> deferred" \
		eq "deferred 4.4.1 standin: temporary" "$(mta_postfix_wait "$pf" "$q")"
	check "postfix temp@: the stand-in was called twice" eq 2 "$(calls "$q")"

	# perm@: bounced, the bounce carries our text
	q=$(mta_postfix_send "$pf" s@snd.test perm@ok.dlv.test "$msg")
	check "postfix perm@: exit 67 -> bounced with our dsn and text" \
		eq "bounced 5.1.1 standin: no such user" "$(mta_postfix_wait "$pf" "$q")"
	bounce=$(mta_postfix_bounce_text "$pf" "$q")
	check "postfix perm@: bounce names the recipient and our text" has "<perm@ok.dlv.test>: standin: no such user" "$bounce"
	check "postfix perm@: bounce DSN Status is our 5.1.1" has $'Action: failed\nStatus: 5.1.1' "$bounce"
	check "postfix perm@: bounce Diagnostic-Code" has "Diagnostic-Code: x-unix; standin: no such user" "$bounce"
	check "postfix perm@: bounce went to the sender" has "To: s@snd.test" "$bounce"
	check "postfix perm@: not queued any more" eq "" "$(mta_postfix_queue_json "$pf" | grep "\"$q\"")"
	echo "   (postfix part: $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
	check "postfix stops" mta_postfix_stop "$pf"
	check "postfix: no master left" bash -c '! kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null' _ "$pf/queue/pid/master.pid"
	check "postfix: /etc/postfix/main.cf untouched" eq "$maincf_hash" "$(sha256sum </etc/postfix/main.cf)"
fi

# ---------------------------------------------------------------------------
echo "== Exim (pipe transport, --exim)"
t0=$(date +%s%N)
ex=$run/exim
if check "exim set up" mta_exim_setup "$ex" "$standin" -c "$conf" --dns-server "$DNS" --exim; then
	echo "   (set up in $(( ($(date +%s%N) - t0) / 1000000 )) ms)"

	out=$(mta_exim_deliver "$ex" s@snd.test ok@ok.dlv.test "$msg")
	id=${out%% *}
	check "exim ok@: exit 0 -> delivered ($id)" eq delivered "${out#* }"
	if rec=$(record "$id"); then
		check "exim ok@: SENDER" eq s@snd.test "$(field "$rec" env.SENDER)"
		check "exim ok@: RECIPIENT" eq ok@ok.dlv.test "$(field "$rec" env.RECIPIENT)"
		check "exim ok@: DOMAIN = recipient domain" eq ok.dlv.test "$(field "$rec" env.DOMAIN)"
		check "exim ok@: MESSAGE_ID = Exim message id" eq "$id" "$(field "$rec" env.MESSAGE_ID)"
		check "exim ok@: runs as nobody" eq nobody "$(field "$rec" uid)"
		check "exim ok@: command words are constants" eq \
			"$(printf 'arg=%s\n' -c "$conf" --dns-server "$DNS" --exim)" "$(grep '^arg=' "$rec")"
	else
		check "exim ok@: stand-in was called" false
	fi
	stdin_checks exim "$id"
	check "exim ok@: not queued any more" eq "" "$(mta_exim_queue "$ex" | grep -F "$id")"

	out=$(mta_exim_deliver "$ex" '' ok@sub.ok.dlv.test "$msg")
	id=${out%% *}
	check "exim <>: exit 0 -> delivered" eq delivered "${out#* }"
	if rec=$(record "$id"); then
		check "exim <>: SENDER is set and empty" eq "env.SENDER=" "$(grep '^env.SENDER=' "$rec")"
		check "exim <>: DOMAIN of a subdomain" eq sub.ok.dlv.test "$(field "$rec" env.DOMAIN)"
	else
		check "exim <>: stand-in was called" false
	fi

	out=$(mta_exim_deliver "$ex" s@snd.test temp@ok.dlv.test "$msg")
	id=${out%% *}
	check "exim temp@: exit 75 -> deferred with our first line" has "deferred 4.4.1 standin: temporary (" "${out#* }"
	check "exim temp@: still queued (exim -bp)" has "$id <s@snd.test>" "$(mta_exim_queue "$ex")"
	stdin_checks exim "$id"
	out=$(mta_exim_retry "$ex" "$id")
	check "exim temp@: forced retry (-M) -> deferred again" has "deferred 4.4.1 standin: temporary (" "${out#* }"
	check "exim temp@: the stand-in was called twice" eq 2 "$(calls "$id")"

	out=$(mta_exim_deliver "$ex" s@snd.test perm@ok.dlv.test "$msg")
	id=${out%% *}
	check "exim perm@: exit 67 -> bounced with our first line" has "bounced 5.1.1 standin: no such user (" "${out#* }"
	bounce=$(mta_exim_bounce_text "$ex" "$id")
	check "exim perm@: bounce carries our first line" has "5.1.1 standin: no such user" "$bounce"
	check "exim perm@: bounce went to the sender" has "To: s@snd.test" "$bounce"
	check "exim perm@: not queued any more" eq "" "$(mta_exim_queue "$ex" | grep -F "$id")"
	echo "   (exim part: $(( ($(date +%s%N) - t0) / 1000000 )) ms)"
fi

mta_stop_all
check "exim: its config left trusted_configs" bash -c '! grep -qxF "$1" /etc/exim4/trusted_configs' _ "$ex/exim.conf"
check "no process of this run left" bash -c '! pgrep -f -- "$1/" >/dev/null' _ "$run"

echo
echo "selftest took $(( ($(date +%s%N) - t_start) / 1000000 )) ms"
if [[ $failed -gt 0 ]]; then
	echo "failed tests:"
	printf '  %s\n' "${failures[@]}"
	echo "(files kept in $run)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
