/*
 * fleetdb - the fleet's PostgreSQL database (see fleetdb.h)
 *
 * The schema is created by the steps of `migrations`, one per version; a
 * database at version N runs the steps after N in one transaction, under
 * pg_advisory_xact_lock(FLEET_LOCK), and records the new version in
 * fleet_meta. The lock is released by the COMMIT or ROLLBACK, so a crash
 * never leaves it held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fleetdb.h"

#define DEFAULT_APPNAME	"mxtier-ship"
/* the advisory lock that serialises schema changes: "mxtier" in ASCII */
#define FLEET_LOCK	"120364116567410"

/* Version 1: the schema of mxtier-ship(8). */
static const char schema_v1[] =
	"CREATE TABLE IF NOT EXISTS fleet_meta (key text PRIMARY KEY, value text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS fleet_nodes ("
	" node text PRIMARY KEY,"
	" journal text NOT NULL,"
	" shipped_id bigint NOT NULL,"
	" shipped_at bigint NOT NULL,"
	" backoff_at bigint NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS fleet_attempts ("
	" node text NOT NULL, journal text NOT NULL, local_id bigint NOT NULL,"
	" ts bigint NOT NULL, queue_id text, domain text NOT NULL, recipient text,"
	" preference integer, host text, address text, port integer, stage text,"
	" reply_code integer, enhanced_status text, reply_text text, outcome text NOT NULL,"
	" decision text, reason text, duration_ms integer, tls text, tls_failure text,"
	" source text NOT NULL,"
	" PRIMARY KEY (node, journal, local_id));"
	"CREATE INDEX IF NOT EXISTS fleet_attempts_domain_ts ON fleet_attempts (domain, ts DESC);"
	"CREATE INDEX IF NOT EXISTS fleet_attempts_address_ts ON fleet_attempts (address, ts DESC);"
	"CREATE TABLE IF NOT EXISTS fleet_domains (domain text PRIMARY KEY, last_ts bigint NOT NULL);"
	"CREATE INDEX IF NOT EXISTS fleet_domains_last_ts ON fleet_domains (last_ts DESC);"
	"CREATE TABLE IF NOT EXISTS fleet_backoff ("
	" node text NOT NULL, address text NOT NULL, port integer NOT NULL,"
	" failures integer NOT NULL, retry_at bigint NOT NULL, last_error text,"
	" updated bigint NOT NULL,"
	" PRIMARY KEY (node, address, port));";

/* migrations[v - 1] brings a database from version v - 1 to v */
static const char *const migrations[MX_FLEETDB_SCHEMA_VERSION] = { schema_v1 };

/* scrub - replace every occurrence of secret in s by "****" (in place; s only shrinks or stays) */
static void
scrub(char *s, const char *secret)
{
	size_t	n = secret != NULL ? strlen(secret) : 0;
	char   *p;

	/* a password of a few characters would blank half a message; those are guessable anyway */
	if (n < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "****", 4);
		memmove(p + 4, p + n, strlen(p + n) + 1);
	}
}

/* flatten - libpq's message on one line: newlines and tabs become single spaces */
static void
flatten(char *s)
{
	char   *r, *w;
	bool	space = false;

	for (r = w = s; *r != '\0'; r++) {
		if (*r == '\n' || *r == '\t' || *r == '\r' || *r == ' ') {
			space = w != s;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

/* url_password - the user-info password of a URI as written (percent-encoded), into out */
static void
url_password(const char *url, char *out, size_t outlen)
{
	const char *auth, *end, *at = NULL, *colon, *p;

	out[0] = '\0';
	if (url == NULL || (auth = strstr(url, "://")) == NULL)
		return;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL || (colon = memchr(auth, ':', (size_t)(at - auth))) == NULL)
		return;
	snprintf(out, outlen, "%.*s", (int)(at - colon - 1), colon + 1);
}

/* say_error - "prefix: message" into err, on one line, with the passwords blanked */
static void
say_error(char *err, size_t errlen, const char *prefix, const char *message,
	  const char *pass1, const char *pass2)
{
	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "%s: %s", prefix, message != NULL && *message != '\0' ?
		 message : "unknown error");
	flatten(err);
	scrub(err, pass1);
	scrub(err, pass2);
}

/* mx_fleetdb_sqlstate - the SQLSTATE of a failed result ("" when none) */
const char *
mx_fleetdb_sqlstate(const PGresult *res)
{
	const char *s = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s != NULL ? s : "";
}

/* mx_fleetdb_error - WHAT: libpq's message, on one line, no password */
bool
mx_fleetdb_error(PGconn *c, const PGresult *res, const char *what, char *err, size_t errlen)
{
	const char *msg = NULL;

	if (res != NULL && *PQresultErrorMessage(res) != '\0')
		msg = PQresultErrorMessage(res);
	else if (c != NULL)
		msg = PQerrorMessage(c);
	say_error(err, errlen, what, msg, c != NULL ? PQpass(c) : NULL, NULL);
	return false;
}

/* quiet - libpq notice processor: the server's NOTICEs are not for our stderr */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* mx_fleetdb_connect - a connection with bounded waits, or NULL and err */
PGconn *
mx_fleetdb_connect(const char *url, const char *appname, int timeout_s, char *err,
		   size_t errlen)
{
	char	masked[MX_FLEET_URL_MAX + 64], timeout[16], prefix[MX_FLEET_URL_MAX + 96];
	char	pass[MX_FLEET_URL_MAX + 1];
	const char *keys[12], *values[12];
	PGconn *c;
	int	n = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (url == NULL || (strncmp(url, "postgresql://", 13) != 0 &&
			    strncmp(url, "postgres://", 11) != 0)) {
		snprintf(err, errlen, "the fleet URL %s is not a postgresql:// URI",
			 url != NULL && *url != '\0' ? mx_fleet_url_mask(url, masked,
			 sizeof(masked)) : "(none)");
		return NULL;
	}
	mx_fleet_url_mask(url, masked, sizeof(masked));
	snprintf(prefix, sizeof(prefix), "fleet database %s", masked);
	url_password(url, pass, sizeof(pass));
	snprintf(timeout, sizeof(timeout), "%d", timeout_s > 0 ? timeout_s : 10);
	/* these come first: what the URI says wins over them */
	keys[n] = "connect_timeout", values[n++] = timeout;
	keys[n] = "fallback_application_name", values[n++] = appname ? appname : DEFAULT_APPNAME;
	/* a peer that vanishes without a word is noticed within about a minute */
	keys[n] = "keepalives", values[n++] = "1";
	keys[n] = "keepalives_idle", values[n++] = "20";
	keys[n] = "keepalives_interval", values[n++] = "10";
	keys[n] = "keepalives_count", values[n++] = "3";
	keys[n] = "tcp_user_timeout", values[n++] = "60000";
	keys[n] = "dbname", values[n++] = url;
	keys[n] = NULL, values[n] = NULL;
	c = PQconnectdbParams(keys, values, 1);
	if (c == NULL) {
		snprintf(err, errlen, "%s: out of memory", prefix);
		return NULL;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		say_error(err, errlen, prefix, PQerrorMessage(c), PQpass(c), pass);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	if (!mx_fleetdb_set_timeout(c, MX_FLEETDB_STATEMENT_TIMEOUT_MS, err, errlen)) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* mx_fleetdb_close - close a connection */
void
mx_fleetdb_close(PGconn *c)
{
	if (c != NULL)
		PQfinish(c);
}

/* mx_fleetdb_exec - run one command string; false and err on failure */
bool
mx_fleetdb_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	bool	ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		mx_fleetdb_error(c, res, "fleet database", err, errlen);
	PQclear(res);
	return ok;
}

/* mx_fleetdb_set_timeout - SET statement_timeout for this session */
bool
mx_fleetdb_set_timeout(PGconn *c, int ms, char *err, size_t errlen)
{
	char	sql[64];

	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", ms > 0 ? ms : 0);
	return mx_fleetdb_exec(c, sql, err, errlen);
}

/* read_version - the recorded schema version inside the current transaction, or -1 */
static int
read_version(PGconn *c, char *err, size_t errlen)
{
	PGresult *res;
	int	v = -1;

	/*
	 * Two statements: a query that names a missing table fails as it is
	 * parsed. pg_class is read as a table, with this statement's snapshot:
	 * to_regclass() would use the catalog snapshot taken before the wait
	 * for the advisory lock and miss a schema just created by another.
	 */
	res = PQexec(c, "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
		     "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		     "WHERE c.relname = 'fleet_meta' AND n.nspname = current_schema())");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		goto fail;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	res = PQexec(c, "SELECT coalesce((SELECT value FROM fleet_meta "
		     "WHERE key = 'schema_version'), '0')");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		goto fail;
	v = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
fail:
	mx_fleetdb_error(c, res, "fleet database: reading the schema version", err, errlen);
	PQclear(res);
	return -1;
}

/* mx_fleetdb_version - the schema version (0 = none yet), -1 and err on failure */
int
mx_fleetdb_version(PGconn *c, char *err, size_t errlen)
{
	return read_version(c, err, errlen);
}

/* mx_fleetdb_migrate - create or update the schema, once, under the advisory lock */
bool
mx_fleetdb_migrate(PGconn *c, char *err, size_t errlen)
{
	char	sql[160];
	int	v;

	if (!mx_fleetdb_exec(c, "BEGIN", err, errlen))
		return false;
	if (!mx_fleetdb_exec(c, "SELECT pg_advisory_xact_lock(" FLEET_LOCK ")", err, errlen) ||
	    (v = read_version(c, err, errlen)) < 0)
		goto fail;
	if (v > MX_FLEETDB_SCHEMA_VERSION) {
		snprintf(err, errlen, "fleet database: its schema (version %d) was made by a newer "
			 "mxtier; this one knows version %d", v, MX_FLEETDB_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < MX_FLEETDB_SCHEMA_VERSION; v++)
		if (!mx_fleetdb_exec(c, migrations[v], err, errlen))
			goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO fleet_meta (key, value) VALUES "
		 "('schema_version', '%d') ON CONFLICT (key) DO UPDATE SET value = excluded.value",
		 MX_FLEETDB_SCHEMA_VERSION);
	if (!mx_fleetdb_exec(c, sql, err, errlen) || !mx_fleetdb_exec(c, "COMMIT", err, errlen))
		goto fail;
	return true;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return false;
}
