# tests/world/dnssec.sh - a validating Unbound serving signed zones (sourced by lib.sh)
#
#   world_start_dnssec DIR VAR SPEC...
#	Signs each zone of a SPEC and starts a second, validating Unbound
#	("validator iterator") on 127.0.0.1:PORT (a free port) that serves
#	them as auth-zones for its iterator, with the trust anchor (DS) of
#	each signed zone. Sets and exports MXT_<VAR>=127.0.0.1:PORT; its pid
#	goes to WORLD_PIDS so world_stop stops it, and it stops by itself
#	after $WORLD_LIFETIME s. Works in DIR (keys, signed zones, unbound.conf,
#	unbound.fifo.log with the validator's words on every bogus answer).
#	A SPEC is ZONE=ZONEFILE[:MODE], ZONEFILE in presentation form (any
#	$ORIGIN), MODE one of
#	    (none)            signed: answers carry AD
#	    insecure          served unsigned, no trust anchor: never AD
#	    bogus             signed, then every A, AAAA, MX, TXT and TLSA record
#	                      edited: those answers are bogus (SERVFAIL)
#	    bogus=NAME[,NAME] signed, then only the records owned by NAME
#	                      (absolute, without the final dot) edited
#	Fails, saying why on stderr, when a tool is missing or Unbound does
#	not start.
#   world_start_dnssec_test DIR
#	The zones of the unit tests (tests/world/dnssec/): dnssec.test signed
#	with a bogus TLSA at _25._tcp.mx.badtlsa.dnssec.test, insec.test
#	insecure, bogus.test bogus; sets MXT_DNSSEC.
#
# A table test writes its own zone files (TLSA records of the certificates
# it makes) and calls world_start_dnssec with them.

# world_dnssec_edit SIGNED OWNERS - edit data records of a signed zone file in
# place so their signatures no longer match; OWNERS "" means every owner
world_dnssec_edit() {
	local signed=$1 owners=$2
	awk -F'\t' -v OFS='\t' -v owners="$owners" '
	BEGIN {
		n = split(owners, list, ",")
		for (i = 1; i <= n; i++)
			want[tolower(list[i]) "."] = 1
	}
	function edit(type, rdata,    parts, k, last, c) {
		if (type == "A") {
			k = split(rdata, parts, ".")
			parts[4] = (parts[4] + 1) % 256
			return parts[1] "." parts[2] "." parts[3] "." parts[4]
		}
		if (type == "AAAA")
			return rdata == "2001:db8:bad::1" ? "2001:db8:bad::2" : "2001:db8:bad::1"
		if (type == "MX") {
			split(rdata, parts, " ")
			return (parts[1] + 1) % 65536 " " parts[2]
		}
		if (type == "TXT")
			return rdata " \"bogus\""
		if (type == "TLSA") {
			last = substr(rdata, length(rdata), 1)
			c = (last == "0") ? "1" : "0"
			return substr(rdata, 1, length(rdata) - 1) c
		}
		return rdata
	}
	{
		if ((owners == "" || (tolower($1) in want)) && NF >= 5 &&
		    $4 ~ /^(A|AAAA|MX|TXT|TLSA)$/) {
			$5 = edit($4, $5)
			edited++
		}
		print
	}
	END { if (edited == 0) exit 1 }' "$signed" >"$signed.edited" &&
		mv "$signed.edited" "$signed"
}

# world_dnssec_zone DIR ZONE FILE MODE - sign (or copy) one zone into DIR;
# appends its unbound.conf lines to DIR/zones.conf
world_dnssec_zone() {
	local dir=$1 zone=$2 file=$3 mode=$4 zdir=$1/zone-$2 zsk ksk ds
	mkdir -p "$zdir"
	if [[ $mode == insecure ]]; then
		cp "$file" "$zdir/zone" || return 1
	else
		# keys and signatures in the zone's own folder (ldns-keygen writes to .)
		if ! (cd "$zdir" &&
			zsk=$(ldns-keygen -a ECDSAP256SHA256 "$zone") &&
			ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$zone") &&
			ldns-signzone -n -o "$zone" -f zone "$file" "$zsk" "$ksk" &&
			ldns-key2ds -n -2 "$ksk.key" >ds) >"$zdir/sign.log" 2>&1; then
			echo "world: cannot sign $zone: $(tail -3 "$zdir/sign.log")" >&2
			return 1
		fi
		case $mode in
		bogus) world_dnssec_edit "$zdir/zone" "" ;;
		bogus=*) world_dnssec_edit "$zdir/zone" "${mode#bogus=}" ;;
		'') true ;;
		*) echo "world: unknown zone mode \"$mode\" for $zone" >&2; return 1 ;;
		esac || { echo "world: no record to edit in $zone ($mode)" >&2; return 1; }
		ds=$(tr '\t' ' ' <"$zdir/ds" | tr -s ' ')
		echo "  trust-anchor: \"$ds\"" >>"$dir/zones.conf"
	fi
	{
		echo "  local-zone: \"$zone.\" transparent"
		echo "auth-zone:"
		echo "  name: \"$zone.\""
		echo "  zonefile: \"$zdir/zone\""
		echo "  for-upstream: yes"
		echo "  for-downstream: no"
		echo "  fallback-enabled: no"
		echo "server:"
	} >>"$dir/zones.conf"
}

world_start_dnssec() {
	local dir=$1 var=$2 spec zone rest file mode tool
	shift 2
	for tool in unbound ldns-keygen ldns-signzone ldns-key2ds; do
		command -v "$tool" >/dev/null ||
			{ echo "world: $tool is not installed (apt-get install unbound ldnsutils)" >&2; return 1; }
	done
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	echo "server:" >"$dir/zones.conf"
	for spec in "$@"; do
		zone=${spec%%=*}
		rest=${spec#*=}
		file=${rest%%:*}
		mode=
		[[ $rest == *:* ]] && mode=${rest#*:}
		[[ $file == /* ]] || file=$PWD/$file
		world_dnssec_zone "$dir" "${zone%.}" "$file" "$mode" || return 1
	done
	world_run_unbound "$dir" "$var" "validator iterator" "  val-log-level: 2"
}

world_start_dnssec_test() {
	local z=$WORLD_TOP/tests/world/dnssec
	world_start_dnssec "$1" DNSSEC \
		"dnssec.test=$z/dnssec.test.zone:bogus=_25._tcp.mx.badtlsa.dnssec.test" \
		"insec.test=$z/insec.test.zone:insecure" \
		"bogus.test=$z/bogus.test.zone:bogus"
}
