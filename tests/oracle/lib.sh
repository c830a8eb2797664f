# tests/oracle/lib.sh - the world of the route oracle's real-MTA tests
# (sourced by postfix-oracle.sh and exim-oracle.sh after tests/mta/lib.sh)
#
# One zone ZONE (orc.test for Postfix, orx.test for Exim) served by the
# Unbound of mta_dns_start on 127.0.0.153:53, which the MTAs' own clients
# reach through the C library resolver (tests/mta/lib.sh) and mxtier's
# resolver through its configuration. The addresses are NET.1 .. NET.6:
#
#   refuse.ZONE   MX 10 mx1.refuse (NET.1, nothing listens), MX 20 mx2.refuse (NET.2)
#   boff.ZONE     MX 10 mx1.boff (NET.3), MX 20 mx2.boff (NET.4): the
#                 primary refuses first, its backoff goes into mxtier's
#                 journal, then it listens; the next answer puts it last
#   nullmx.ZONE   MX 0 . (RFC 7505)
#   nx.ZONE       no such name (NXDOMAIN: the static zone has nothing there)
#   outage.ZONE   delegated (stub-zone) to a faultdns on 127.0.0.1 that
#                 answers SERVFAIL: Unbound answers SERVFAIL, the DNS outage
#   plain.ZONE    MX 10 mx.plain (NET.5): used when the oracle is gone
#
# orc_world_start DIR ZONE NET   faultdns, the zones, Unbound (mta_dns_start),
#                                the mxtier configuration DIR/mxtier.conf
#                                (journal DIR/journal/, nobody's)
# orc_conf                       path of that configuration
# orc_import LOG                 mxtier-import of LOG into that journal, as
#                                nobody (who runs the oracle); false and why
#                                on stdout when it fails
# orc_backoff HOST               "state failures" of HOST in the journal
# orc_stop                       stop faultdns (the rest: mta_stop_all)

ORC_PIPE=${ORC_PIPE:-$MTA_TOP/plugin/mxtier-pipe}
ORC_IMPORT=${ORC_IMPORT:-$MTA_TOP/plugin/mxtier-import}
ORC_FAULTDNS=${ORC_FAULTDNS:-$MTA_TOP/tests/dns/faultdns}
ORC_DIR=
ORC_FAULT_PID=
orc_as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

# orc_zones ZONE NET FAULTPORT - the Unbound lines of the world above
orc_zones() {
	local z=$1. net=$2 r n t v w
	echo "local-zone: \"$z\" static"
	for r in "refuse MX 10 mx1.refuse" "refuse MX 20 mx2.refuse" \
		"mx1.refuse A $net.1" "mx2.refuse A $net.2" \
		"boff MX 10 mx1.boff" "boff MX 20 mx2.boff" \
		"mx1.boff A $net.3" "mx2.boff A $net.4" \
		"plain MX 10 mx.plain" "mx.plain A $net.5"; do
		read -r n t v w <<<"$r"
		if [[ $t == MX ]]; then
			echo "local-data: \"$n.$z 300 IN MX $v $w.$z\""
		else
			echo "local-data: \"$n.$z 300 IN A $v\""
		fi
	done
	echo "local-data: \"nullmx.$z 300 IN MX 0 .\""
	# the outage: a delegation to a server that only says SERVFAIL
	echo "local-zone: \"outage.$z\" transparent"
	echo "do-not-query-localhost: no"
	echo "stub-zone:"
	echo "  name: \"outage.$z\""
	echo "  stub-addr: 127.0.0.1@$3"
}

orc_world_start() {
	local dir=$1 zone=$2 net=$3 line
	ORC_DIR=$(mkdir -p "$dir" && cd "$dir" && pwd) || return 1
	[[ -x $ORC_FAULTDNS ]] || { mta_log "$ORC_FAULTDNS is not built"; return 1; }
	printf '%s * @servfail\n' "outage.$zone" "_mta-sts.outage.$zone" >"$ORC_DIR/outage.rules"
	exec 7< <(exec "$ORC_FAULTDNS" -l 127.0.0.1 -p 0 -z "$ORC_DIR/outage.rules" -t "$MTA_LIFETIME" \
		-P "$ORC_DIR/faultdns.pid" 2>"$ORC_DIR/faultdns.err" 198>&-)
	IFS= read -r -t 10 line <&7
	exec 7<&-
	[[ $line == "faultdns ready "* ]] || { mta_log "faultdns did not start: $(cat "$ORC_DIR/faultdns.err")"; return 1; }
	ORC_FAULT_PID=$(cat "$ORC_DIR/faultdns.pid")
	orc_zones "$zone" "$net" "${line##* }" >"$ORC_DIR/zones.conf"
	mta_dns_start "$ORC_DIR/dns" "$ORC_DIR/zones.conf" || return 1
	mkdir -p "$ORC_DIR/spool"
	mta_nobody_path "$ORC_DIR/journal" "$ORC_DIR/spool" || return 1
	# 127.0.0.0/8 is the test world: not ignored. Port 2525: the peers'.
	cat >"$ORC_DIR/mxtier.conf" <<CONF
resolver { servers = { "$MTA_DNS_ADDR:53" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = 2525  helo_name = "client.mxtier.test" }
spool { directory = "$ORC_DIR/spool" }
journal { path = "$ORC_DIR/journal/journal.db" }
CONF
	mta_nobody_path "$ORC_DIR/mxtier.conf" "$ORC_PIPE" || return 1
}

orc_conf() { echo "$ORC_DIR/mxtier.conf"; }

orc_import() {
	local rc
	timeout 60 "${orc_as_nobody[@]}" "$ORC_IMPORT" -c "$ORC_DIR/mxtier.conf" "$1" \
		>>"$ORC_DIR/import.out" 2>&1
	rc=$?
	[[ $rc -eq 0 ]] || { echo "mxtier-import $1: exit $rc: $(tail -2 "$ORC_DIR/import.out")"; return 1; }
}

# orc_backoff HOST - the journal's host state as "state failures" (from
# mxtier --report --json, the reader the contracts fix)
orc_backoff() {
	local dom=${1#*.}
	timeout 60 "$MTA_TOP/tui/mxtier" -c "$ORC_DIR/mxtier.conf" --report --json "$dom" 2>/dev/null |
		jq -r --arg h "$1" '[.host_states[]? | select(.host == $h)][0] | "\(.state) \(.failures)"' 2>/dev/null
}

orc_stop() {
	if [[ -n $ORC_FAULT_PID ]]; then
		kill "$ORC_FAULT_PID" 2>/dev/null
		ORC_FAULT_PID=
	fi
}

# orc_nothing_listens ADDR... - false (and which, on stderr) if anything
# listens on ADDR:2525
orc_nothing_listens() {
	local a
	for a in "$@"; do
		if ss -ltnH "src $a:2525" | grep -q .; then
			mta_log "something listens on $a:2525, which must refuse"
			return 1
		fi
	done
}
