#!/bin/bash
# tests/mta/standin-pipe.sh - stand-in for mxtier-pipe's delivery mode
#
# Takes mxtier-pipe's delivery arguments
#   -c FILE --dns-server ADDR [--seed N] -q QUEUE_ID -f SENDER -d DOMAIN [--] RECIPIENT...
#   -c FILE --dns-server ADDR --exim   (SENDER RECIPIENT DOMAIN MESSAGE_ID from the environment)
# records what it got and answers by the recipient's local part:
#   ok, ok+anything     exit 0
#   temp, temp+...      "4.4.1 standin: temporary", exit 75 (EX_TEMPFAIL)
#   perm, perm+...      "5.1.1 standin: no such user", exit 67 (EX_NOUSER)
#   anything else       "4.3.0 standin: no rule for LOCALPART", exit 75
# Several recipients: 75 if any is temporary, else 67 if any is permanent.
#
# Record: $MXT_STANDIN_DIR (else the folder of the -c file + /standin) gets,
# per call, QUEUE_ID.NANOSECONDS (key=value lines: mode, queue_id, sender,
# domain, recipient (one per recipient), config, dns_server, then every
# argument as arg=VALUE and, with --exim, env.NAME=VALUE for Exim's
# variables) and the same name + .msg: stdin byte for byte.
set -u
mode=postfix config="" dns="" seed="" qid="" sender="" domain="" have_sender=0
rcpts=()
args=("$@")
bad() {
	echo "4.3.5 standin: bad arguments: $*"
	exit 75
}
while [[ $# -gt 0 ]]; do
	case $1 in
	-c) [[ $# -ge 2 ]] || bad "-c needs a value"; config=$2; shift 2 ;;
	--dns-server) [[ $# -ge 2 ]] || bad "--dns-server needs a value"; dns+="${dns:+ }$2"; shift 2 ;;
	--seed) [[ $# -ge 2 ]] || bad "--seed needs a value"; seed=$2; shift 2 ;;
	-q) [[ $# -ge 2 ]] || bad "-q needs a value"; qid=$2; shift 2 ;;
	-f) [[ $# -ge 2 ]] || bad "-f needs a value"; sender=$2; have_sender=1; shift 2 ;;
	-d) [[ $# -ge 2 ]] || bad "-d needs a value"; domain=$2; shift 2 ;;
	--exim) mode=exim; shift ;;
	--) shift; rcpts+=("$@"); break ;;
	-*) bad "unknown option $1" ;;
	*) rcpts+=("$1"); shift ;;
	esac
done
if [[ $mode == exim ]]; then
	[[ ${#rcpts[@]} -eq 0 ]] || bad "--exim takes no recipients"
	[[ -v SENDER && -v RECIPIENT && -v DOMAIN ]] || bad "--exim: SENDER, RECIPIENT, DOMAIN not all set"
	sender=$SENDER have_sender=1 domain=$DOMAIN qid=${MESSAGE_ID:-}
	rcpts=("$RECIPIENT")
fi
[[ $have_sender -eq 1 ]] || bad "no sender (-f)"
[[ -n $domain ]] || bad "no domain (-d)"
[[ ${#rcpts[@]} -gt 0 ]] || bad "no recipient"

out=${MXT_STANDIN_DIR:-}
if [[ -z $out ]]; then
	[[ -n $config ]] || bad "no MXT_STANDIN_DIR and no -c"
	out=$(dirname "$config")/standin
fi
name=$out/${qid:-noqid}.$(date +%s%N)
{
	echo "mode=$mode"
	echo "queue_id=$qid"
	echo "sender=$sender"
	echo "domain=$domain"
	for r in "${rcpts[@]}"; do echo "recipient=$r"; done
	echo "config=$config"
	echo "dns_server=$dns"
	echo "seed=$seed"
	echo "uid=$(id -un)"
	for a in "${args[@]}"; do echo "arg=$a"; done
	if [[ $mode == exim ]]; then
		for v in SENDER RECIPIENT DOMAIN LOCAL_PART MESSAGE_ID; do
			echo "env.$v=${!v-(unset)}"
		done
	fi
} >"$name.tmp" || { echo "4.3.0 standin: cannot write $name"; exit 75; }
cat >"$name.msg" || { echo "4.3.0 standin: cannot write $name.msg"; exit 75; }
mv "$name.tmp" "$name"

temp=0 perm=0 first=
for r in "${rcpts[@]}"; do
	lp=${r%@*}
	case $lp in
	ok | ok+*) ;;
	temp | temp+*) temp=1; first=${first:-"4.4.1 standin: temporary"} ;;
	perm | perm+*) perm=1; first=${first:-"5.1.1 standin: no such user"} ;;
	*) temp=1; first=${first:-"4.3.0 standin: no rule for $lp"} ;;
	esac
done
if [[ $temp -eq 1 ]]; then
	echo "${first:0:2}" | grep -q '^4' || first="4.4.1 standin: temporary"
	echo "$first"
	exit 75
fi
if [[ $perm -eq 1 ]]; then
	echo "$first"
	exit 67
fi
exit 0
