#!/bin/bash
# tests/world/demo.sh - make demo: the product's point in one command
#
# Starts, on loopback: Unbound serving the test domains, smtp-sink peers
# playing their mail hosts (a healthy domain, one whose primary refuses
# connections, one whose primary greylists, a null MX, an implicit MX),
# delivers a handful of messages through mxtier-pipe into a demo journal,
# and opens the mxtier inspector on it. Everything stops when it exits.
# DEMO_NO_TUI=1 prints the reports instead of opening the screen.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/tests/tmp/demo.$$
WORLD_TOP=$top
MTA_TOP=$top
MTA_DIR=$run/mta
. "$top/tests/world/lib.sh"
. "$top/tests/mta/lib.sh"
cleanup() { mta_stop_all; world_stop; rm -rf "$run"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$run/journal" "$run/spool"
world_start_unbound "$run/unbound" >/dev/null || exit 1
mta_sink_start ok 127.0.0.21 2525 &&
mta_sink_start refused-backup 127.0.0.32 2525 &&
mta_sink_start grey-primary 127.0.0.51 2525 -b "451 4.7.1 greylisted, try again later" -r rcpt &&
mta_sink_start grey-backup 127.0.0.52 2525 &&
mta_sink_start implicit 127.0.0.111 2525 || exit 1
conf=$run/mxtier.conf
cat >"$conf" <<CONF
# the demo world: mail hosts on 127.0.0.x:2525
resolver { servers = { "$MXT_DNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = 2525  helo_name = "demo.mxtier.test"  connect_timeout = 3 }
spool { directory = "$run/spool" }
journal { path = "$run/journal/journal.db" }
CONF

printf 'From: demo@mxtier.test\nTo: someone\nSubject: mxtier demo\n\nHello.\n' >"$run/msg"
# mxtier-pipe refuses to deliver as root: run it as the MTAs do (user=nobody)
as_nobody=()
if [[ $(id -u) -eq 0 ]]; then
	as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	mta_nobody_path "$conf" "$run/journal/" "$run/spool/" >/dev/null || exit 1
fi
echo "Delivering demo messages through mxtier-pipe (DNS: Unbound on $MXT_DNS) ..."
n=0
for rcpt in alice@ok.dlv.test bob@refused.dlv.test carol@grey.dlv.test \
	dave@nullmx.dlv.test erin@implicit.dlv.test frank@refused.dlv.test; do
	n=$((n + 1))
	printf '  %-24s ' "$rcpt"
	"${as_nobody[@]}" "$top/plugin/mxtier-pipe" -c "$conf" -q "DEMO$n" -f demo@mxtier.test \
		-d "${rcpt#*@}" -- "$rcpt" <"$run/msg" 2>&1 | head -1
done

domains=(refused.dlv.test grey.dlv.test ok.dlv.test nullmx.dlv.test implicit.dlv.test)
if [[ ${DEMO_NO_TUI:-} == 1 || ! -t 1 ]]; then
	"$top/tui/mxtier" -c "$conf" --report "${domains[@]}"
	exit $?
fi
echo "Opening the inspector (q quits, ? shows the keys) ..."
"$top/tui/mxtier" -c "$conf" "${domains[@]}"
