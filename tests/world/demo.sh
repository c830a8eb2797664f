#!/bin/bash
# tests/world/demo.sh - make demo: start the test DNS world on loopback and
# show how mail for a few of its domains would be routed, then stop.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/tests/tmp/demo.$$
WORLD_TOP=$top
. "$top/tests/world/lib.sh"
trap 'world_stop; rm -rf "$run"' EXIT
trap 'exit 130' INT TERM
world_start_unbound "$run/unbound" || exit 1
echo "Test DNS server (Unbound) on $MXT_DNS serving mxt.test."
for d in healthy.mxt.test alias.mxt.test nullmx.mxt.test; do
	echo
	echo "\$ plugin/mxtier-pipe --dns-server $MXT_DNS --route $d"
	"$top/plugin/mxtier-pipe" -c "$top/tests/world/test.conf" --dns-server "$MXT_DNS" --route "$d"
	echo "(exit status $?)"
done
