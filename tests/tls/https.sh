# tests/tls/https.sh - HTTPS test servers on loopback for the MTA-STS tests
# (sourced by bash; needs openssl and socat)
#
#   https_make_ca DIR NAME
#       a test CA: DIR/NAME.crt and DIR/NAME.key (EC P-256, 2 days)
#   https_make_cert DIR CA HOST NAME
#       a server certificate for HOST (CN and subjectAltName DNS:HOST)
#       signed by CA (made by https_make_ca in DIR): DIR/NAME.crt, NAME.key
#   https_start_www DIR ADDR PORT CERT KEY ROOT LIFETIME
#       `openssl s_server -WWW` on ADDR:PORT serving files from ROOT (put
#       the policy at ROOT/.well-known/mta-sts.txt; every file is sent as
#       text/plain, a missing one as a 200 with an error text); it logs
#       "FILE:PATH" per request to DIR/www-ADDR-PORT.log. Stops by itself
#       after LIFETIME s.
#   https_start_canned DIR ADDR PORT CERT KEY RESPONSE LIFETIME
#       TLS (socat) on ADDR:PORT answering every request with the raw HTTP
#       response in the file RESPONSE (status line, headers, body), after
#       reading the request head; each request is a "GET" line in
#       DIR/canned-ADDR-PORT.log
#   https_start_stall DIR ADDR PORT LIFETIME
#       a TCP listener (socat) that accepts and never says anything
#   https_stop PID / https_stop_all
#       stop one server (HTTPS_PID of its start) / every server started here
#
# Each start sets HTTPS_PID and returns only once the server listens (read
# from its own output: s_server's "ACCEPT", socat's "listening on"), or
# fails within 10 s saying why on stderr. Ports below 1024 need root.

HTTPS_PIDS=()

# https_make_ca DIR NAME - a self-signed test CA
https_make_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1/$2.key" -out "$1/$2.crt" -days 2 -subj "/CN=mxtier test CA $2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		2>"$1/$2.err" || { cat "$1/$2.err" >&2; return 1; }
}

# https_make_cert DIR CA HOST NAME - a server certificate for HOST signed by CA
https_make_cert() {
	local dir=$1 ca=$2 host=$3 name=$4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$host" 2>"$dir/$name.err" &&
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' \
		"$host" >"$dir/$name.ext" &&
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" \
		2>>"$dir/$name.err" || { cat "$dir/$name.err" >&2; return 1; }
}

# https_run LOG PATTERN CMD... - start CMD (its output through a FIFO into
# LOG), wait until a line has PATTERN (10 s); sets HTTPS_PID (the command)
https_run() {
	local log=$1 pattern=$2 fifo=$1.fifo line; shift 2
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	"$@" </dev/null >"$fifo" 2>&1 &
	HTTPS_PID=$!
	HTTPS_PIDS+=("$HTTPS_PID")
	exec 6<"$fifo"
	rm -f "$fifo"
	while IFS= read -r -t 10 line <&6; do
		printf '%s\n' "$line" >>"$log"
		if [[ $line == *"$pattern"* ]]; then
			# keep draining its output into the log; ends with the server
			cat <&6 >>"$log" &
			exec 6<&-
			return 0
		fi
	done
	exec 6<&-
	kill "$HTTPS_PID" 2>/dev/null
	wait "$HTTPS_PID" 2>/dev/null
	echo "https: the server logging to $log did not start: $(tail -3 "$log" 2>/dev/null)" >&2
	return 1
}

# https_start_www DIR ADDR PORT CERT KEY ROOT LIFETIME - openssl s_server -WWW
https_start_www() {
	local dir=$1 addr=$2 port=$3 cert=$4 key=$5 root=$6 life=$7
	local log=$dir/www-$addr-$port.log
	: >"$log"
	# s_server serves files relative to its working directory
	https_run "$log" ACCEPT env -C "$root" timeout "$life" openssl s_server -WWW \
		-accept "$addr:$port" -cert "$cert" -key "$key"
}

# https_start_canned DIR ADDR PORT CERT KEY RESPONSE LIFETIME - one fixed response
https_start_canned() {
	local dir=$1 addr=$2 port=$3 cert=$4 key=$5 resp=$6 life=$7
	local log=$dir/canned-$addr-$port.log script=$dir/canned-$addr-$port.sh
	# read the request head (to the empty line), note its first line, answer
	cat >"$script" <<EOF
#!/bin/bash
first=
while IFS= read -r -t 5 line; do
	line=\${line%\$'\r'}
	[[ -z \$first ]] && first=\$line && echo "\$first" >>"$log.req"
	[[ -z \$line ]] && break
done
cat "$resp"
EOF
	chmod +x "$script"
	: >"$log"
	: >"$log.req"
	https_run "$log" "listening on" timeout "$life" socat -d -d \
		"OPENSSL-LISTEN:$port,bind=$addr,reuseaddr,fork,cert=$cert,key=$key,verify=0" \
		"EXEC:$script"
}

# https_start_stall DIR ADDR PORT LIFETIME - accepts, then silence
https_start_stall() {
	local dir=$1 addr=$2 port=$3 life=$4
	local log=$dir/stall-$addr-$port.log
	: >"$log"
	# -u: only what the client sends is read (and dropped); nothing goes back
	https_run "$log" "listening on" timeout "$life" socat -d -d -u \
		"TCP-LISTEN:$port,bind=$addr,reuseaddr,fork" OPEN:/dev/null
}

# https_stop PID - stop one server started here and wait for it
https_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# https_stop_all - stop every server started here
https_stop_all() {
	local pid
	for pid in "${HTTPS_PIDS[@]}"; do
		https_stop "$pid"
	done
	HTTPS_PIDS=()
}
