# tests/tls/certs.sh - certificates for the TLS tests, made with the openssl command
#
# Sourced (bash):   . tests/tls/certs.sh; tls_certs DIR NAME... || exit 1
# Run:              bash tests/tls/certs.sh DIR NAME...
#
# Makes DIR (if needed) and writes into it:
#   ca.pem, ca.key          the test CA "mxtier test CA" (self-signed, P-256,
#                           one year); the trust anchor for tls.ca_file
#   ca.tlsa                 "2 0 1 HEX": DANE-TA, SHA-256 of the CA certificate
#                           (the servers send the CA in their chain, as RFC 7671
#                           5.2.2 asks, so this record matches)
#   NAME.pem, NAME.key      for each NAME: a good certificate for NAME (subject
#                           CN and subjectAltName DNS:NAME), signed by the CA;
#                           NAME.pem is the chain, leaf then CA, ready for a
#                           server (smtppeer -c NAME.pem -k NAME.key)
#   NAME.tlsa               "3 1 1 HEX": DANE-EE, SHA-256 of the leaf's
#                           SubjectPublicKeyInfo
# and, for the first plain NAME (call it FIRST), the broken ones:
#   wrongname.pem/.key/.tlsa  signed by the CA, good dates, but the only name
#                           is "wrong-name.invalid"
#   expired.pem/.key/.tlsa  FIRST, signed by the CA, valid only from
#                           2020-01-01 to 2020-01-02 (made with `openssl ca`
#                           -startdate/-enddate: OpenSSL 3.0's x509 cannot
#                           set dates)
#   selfsigned.pem/.key/.tlsa  FIRST, self-signed, no CA involved: only a
#                           DANE-EE TLSA record (selfsigned.tlsa) can
#                           authenticate it
# A NAME written KIND:HOST, KIND one of good, wrongname, expired, selfsigned,
# makes that kind for HOST as KIND-HOST.pem/.key/.tlsa instead (a
# wrongname:HOST certificate carries "wrong-name.invalid"), for tests that
# need several broken servers with their own names.
#
# The .tlsa files hold the association data alone, one line, as a zone
# writes it after "TLSA": a zone includes it with
#   echo "_25._tcp.mx.example.test. 300 IN TLSA $(cat DIR/mx.example.test.tlsa)"
# tls_tlsa_rr OWNER FILE prints that line. Private keys are unencrypted
# (tests only). Existing files are overwritten; DIR/.work holds the
# scratch files (CSRs, openssl ca's database) and can be removed.
# Keys are EC P-256: fast to make, and OpenSSL treats them like any other.

# tls_cnf_ca DIR - the config for the CA certificate and for `openssl ca`
tls_cnf_ca() {
	cat <<EOF
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[ dn ]
CN = mxtier test CA
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca ]
default_ca = testca
[ testca ]
database = $1/.work/index.txt
new_certs_dir = $1/.work
serial = $1/.work/serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ anything ]
commonName = supplied
EOF
}

# tls_cnf_leaf CN SAN - config for a server certificate request and its extensions
tls_cnf_leaf() {
	cat <<EOF
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = leaf
[ dn ]
CN = $1
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$2
subjectKeyIdentifier = hash
EOF
}

# tls_tlsa_ee CERT - "3 1 1 HEX" for a certificate file (its first certificate)
tls_tlsa_ee() {
	local h
	h=$(openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		sha256sum) || return 1
	echo "3 1 1 ${h%% *}"
}

# tls_tlsa_ta CERT - "2 0 1 HEX": SHA-256 of the whole certificate
tls_tlsa_ta() {
	local h
	h=$(openssl x509 -in "$1" -outform DER | sha256sum) || return 1
	echo "2 0 1 ${h%% *}"
}

# tls_tlsa_rr OWNER FILE - a zone line: OWNER 300 IN TLSA <FILE's data>
tls_tlsa_rr() {
	echo "$1 300 IN TLSA $(cat "$2")"
}

# tls_leaf DIR KIND HOST BASE - one server certificate of KIND for HOST as BASE.*
tls_leaf() {
	local dir=$1 kind=$2 base=$4 name=$3 w=$1/.work
	[[ $kind == wrongname ]] && name=wrong-name.invalid
	tls_cnf_leaf "$name" "$name" >"$w/$base.cnf" || return 1
	case $kind in
	selfsigned)
		openssl req -x509 -config "$w/$base.cnf" -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
			-keyout "$dir/$base.key" -out "$dir/$base.pem" 2>"$w/err" || return 1
		;;
	expired)
		openssl req -new -config "$w/$base.cnf" -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$dir/$base.key" -out "$w/$base.csr" 2>"$w/err" || return 1
		openssl ca -batch -config "$w/ca.cnf" -cert "$dir/ca.pem" -keyfile "$dir/ca.key" \
			-extfile "$w/$base.cnf" -extensions leaf -notext \
			-startdate 20200101000000Z -enddate 20200102000000Z \
			-in "$w/$base.csr" -out "$w/$base.crt" 2>"$w/err" || return 1
		cat "$w/$base.crt" "$dir/ca.pem" >"$dir/$base.pem" || return 1
		;;
	good | wrongname)
		openssl req -new -config "$w/$base.cnf" -newkey ec \
			-pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$dir/$base.key" -out "$w/$base.csr" 2>"$w/err" || return 1
		openssl x509 -req -in "$w/$base.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
			-set_serial "0x$(openssl rand -hex 8)" -days 365 -sha256 \
			-extfile "$w/$base.cnf" -extensions leaf \
			-out "$w/$base.crt" 2>"$w/err" || return 1
		cat "$w/$base.crt" "$dir/ca.pem" >"$dir/$base.pem" || return 1
		;;
	*)
		echo "certs.sh: unknown kind $kind (good, wrongname, expired, selfsigned)" >&2
		return 1
		;;
	esac
	tls_tlsa_ee "$dir/$base.pem" >"$dir/$base.tlsa"
}

# tls_certs DIR NAME... - the CA and the certificates described above
tls_certs() {
	local dir=$1 arg first= w
	shift
	if [[ -z $dir || $# -eq 0 ]]; then
		echo "usage: certs.sh DIR NAME|KIND:NAME..." >&2
		return 2
	fi
	command -v openssl >/dev/null || { echo "certs.sh: no openssl command" >&2; return 1; }
	w=$dir/.work
	mkdir -p "$w" || return 1
	: >"$w/index.txt"
	echo 01 >"$w/serial"
	tls_cnf_ca "$dir" >"$w/ca.cnf" || return 1
	if ! openssl req -x509 -config "$w/ca.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -days 365 -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>"$w/err"; then
		echo "certs.sh: the CA:" >&2
		cat "$w/err" >&2
		return 1
	fi
	tls_tlsa_ta "$dir/ca.pem" >"$dir/ca.tlsa" || return 1
	for arg; do
		if [[ $arg == *:* ]]; then
			tls_leaf "$dir" "${arg%%:*}" "${arg#*:}" "${arg%%:*}-${arg#*:}" || break
			arg=
			continue
		fi
		tls_leaf "$dir" good "$arg" "$arg" || break
		if [[ -z $first ]]; then
			first=$arg
			tls_leaf "$dir" wrongname "$arg" wrongname &&
				tls_leaf "$dir" expired "$arg" expired &&
				tls_leaf "$dir" selfsigned "$arg" selfsigned || break
		fi
		arg=
	done
	if [[ -n $arg ]]; then
		echo "certs.sh: making the certificate for $arg failed:" >&2
		cat "$w/err" >&2
		return 1
	fi
	return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	tls_certs "$@"
	exit
fi
