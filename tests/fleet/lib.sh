# tests/fleet/lib.sh - a real PostgreSQL for the fleet tests and benches (sourced by bash)
#
# One private cluster of Debian's postgresql, made with initdb in the test's
# own folder and owned by the postgres user (PostgreSQL refuses root), on
# 127.0.0.1 at a free port with its socket in the test folder. The server
# runs under timeout(1), so it stops by itself after its lifetime if the
# test run is killed; the test stops it with fl_pg_stop (trap).
#
#   fl_pg_start DIR [LIFETIME]   initdb DIR/data (once), start postgres, wait
#                                for pg_isready (bounded), create the database
#                                "fleet"; sets FL_PG_PORT, FL_PG_URL (with the
#                                password of role fleet: the shippers connect
#                                over TCP with scram-sha-256), FL_PG_URL_NOPASS
#   fl_pg_stop                   fast shutdown, waited for (bounded)
#   fl_pg_pause                  stop the cluster: "PostgreSQL is down"
#   fl_pg_resume                 start the same cluster on the same port again
#   fl_pg_running                true while the postmaster runs
#   fl_psql SQL                  run SQL on the database fleet as the superuser
#                                over the socket; unaligned rows, "|" between
#                                columns; fails on an SQL error
#
# FL_PG_OPTS adds server settings ("-c name=value ..."); the tests turn fsync
# off (a lost cluster is rebuilt by the next run), the bench keeps it on.
# fl_log MESSAGE says why something failed, on stderr.

FL_PG_BIN=${FL_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
FL_PG_DIR=
FL_PG_PORT=
FL_PG_URL=
FL_PG_URL_NOPASS=
FL_PG_LIFETIME=
FL_PG_WRAPPER=
FL_PG_OPTS=${FL_PG_OPTS:-}
FL_PG_PASSWORD=fl-Secret-42
fl_as_postgres=(setpriv --reuid=postgres --regid=postgres --clear-groups)

fl_log() {
	echo "fleet lib: $*" >&2
}

# _fl_free_port - a TCP port no socket uses, below the ephemeral range (see _mta_free_port)
_fl_free_port() {
	local port try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 12000))	# below the ephemeral ports (32768-60999)
		if ! ss -tanH "sport = :$port" | grep -q .; then	# no socket of any state uses it
			echo "$port"
			return 0
		fi
	done
	return 1
}

# _fl_postmaster_pid - the running postmaster's pid (from postmaster.pid), or nothing
_fl_postmaster_pid() {
	local pid
	[[ -n $FL_PG_DIR && -r $FL_PG_DIR/data/postmaster.pid ]] || return 1
	pid=$(head -1 "$FL_PG_DIR/data/postmaster.pid" 2>/dev/null)
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

fl_pg_running() {
	_fl_postmaster_pid >/dev/null
}

# _fl_pg_launch - start postgres on FL_PG_PORT, wait until it accepts connections
_fl_pg_launch() {
	local i
	# -s INT: a fast shutdown when the lifetime is over; -k: KILL if that hangs.
	# Started from a subshell, so that it is no job of the caller's shell: a
	# test's plain "wait" for its own background jobs must not wait for it.
	# shellcheck disable=SC2086
	FL_PG_WRAPPER=$(
		"${fl_as_postgres[@]}" timeout -s INT -k 10 "$FL_PG_LIFETIME" \
			"$FL_PG_BIN/postgres" -D "$FL_PG_DIR/data" -h 127.0.0.1 -p "$FL_PG_PORT" \
			-k "$FL_PG_DIR/sock" -c shared_buffers=32MB -c max_connections=60 \
			-c logging_collector=off $FL_PG_OPTS \
			>>"$FL_PG_DIR/postgres.log" 2>&1 </dev/null 198>&- 199>&- &
		echo $!
	)
	for ((i = 0; i < 300; i++)); do
		if "$FL_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$FL_PG_PORT" -t 1; then
			return 0
		fi
		kill -0 "$FL_PG_WRAPPER" 2>/dev/null || break
		sleep 0.1
	done
	fl_log "postgres did not become ready on 127.0.0.1:$FL_PG_PORT: $(tail -5 "$FL_PG_DIR/postgres.log")"
	return 1
}

fl_pg_start() {
	local dir=$1 try
	FL_PG_LIFETIME=${2:-900}
	[[ -x $FL_PG_BIN/initdb && -x $FL_PG_BIN/postgres ]] ||
		{ fl_log "no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install postgresql)"; return 1; }
	FL_PG_DIR=$(mkdir -p "$dir" && cd "$dir" && pwd) || return 1
	mkdir -p "$FL_PG_DIR/sock"
	chown postgres:postgres "$FL_PG_DIR" "$FL_PG_DIR/sock"
	chmod 0700 "$FL_PG_DIR/sock"
	runuser -u postgres -- test -w "$FL_PG_DIR" -a -x "$FL_PG_DIR" ||
		{ fl_log "the postgres user cannot write $FL_PG_DIR (a parent folder?)"; return 1; }
	if [[ ! -f $FL_PG_DIR/data/PG_VERSION ]]; then
		printf '%s\n' "$FL_PG_PASSWORD" >"$FL_PG_DIR/pwfile"
		chown postgres:postgres "$FL_PG_DIR/pwfile"
		chmod 0600 "$FL_PG_DIR/pwfile"
		"${fl_as_postgres[@]}" "$FL_PG_BIN/initdb" -D "$FL_PG_DIR/data" -U fleet \
			--pwfile="$FL_PG_DIR/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
			-E UTF8 --locale=C.UTF-8 >"$FL_PG_DIR/initdb.log" 2>&1 </dev/null ||
			{ fl_log "initdb failed: $(tail -5 "$FL_PG_DIR/initdb.log")"; return 1; }
	fi
	for try in 1 2 3; do
		FL_PG_PORT=$(_fl_free_port) || { fl_log "no free port"; return 1; }
		_fl_pg_launch && break
		fl_pg_stop
		[[ $try -lt 3 ]] || return 1
	done
	if [[ -z $(fl_psql "SELECT 1 FROM pg_database WHERE datname = 'fleet'" 2>/dev/null) ]]; then
		"$FL_PG_BIN/psql" -X -q -h "$FL_PG_DIR/sock" -p "$FL_PG_PORT" -U fleet -d postgres \
			-c "CREATE DATABASE fleet" >/dev/null 2>&1 </dev/null ||
			{ fl_log "CREATE DATABASE fleet failed"; return 1; }
	fi
	FL_PG_URL="postgresql://fleet:$FL_PG_PASSWORD@127.0.0.1:$FL_PG_PORT/fleet"
	FL_PG_URL_NOPASS="postgresql://fleet@127.0.0.1:$FL_PG_PORT/fleet"
	return 0
}

# fl_psql SQL - run SQL on database fleet over the socket, as the superuser
fl_psql() {
	"$FL_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$FL_PG_DIR/sock" -p "$FL_PG_PORT" \
		-U fleet -d fleet -c "$1" </dev/null
}

# _fl_pg_shutdown - fast shutdown of the postmaster, waited for (bounded)
_fl_pg_shutdown() {
	local pid i
	pid=$(_fl_postmaster_pid) || pid=
	if [[ -n $pid ]]; then
		kill -INT "$pid" 2>/dev/null
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	fi
	# timeout(1) ends with its postgres; it is not our child, so poll it
	if [[ -n $FL_PG_WRAPPER ]]; then
		for ((i = 0; i < 100; i++)); do
			kill -0 "$FL_PG_WRAPPER" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$FL_PG_WRAPPER" 2>/dev/null && kill -KILL "$FL_PG_WRAPPER" 2>/dev/null
		FL_PG_WRAPPER=
	fi
}

fl_pg_pause() {
	_fl_pg_shutdown
	! fl_pg_running
}

fl_pg_resume() {
	[[ -n $FL_PG_DIR && -n $FL_PG_PORT ]] || { fl_log "fl_pg_resume before fl_pg_start"; return 1; }
	fl_pg_running && return 0
	_fl_pg_launch
}

fl_pg_stop() {
	[[ -n $FL_PG_DIR ]] || return 0
	_fl_pg_shutdown
}
