/*
 * journal - the delivery journal and host backoff state (see journal.h)
 *
 * One SQLite connection per handle, in WAL mode with a busy handler so that
 * many writer processes and the readers (TUI, reports) never fail on a lock
 * they could have waited for. The schema is created on first open inside one
 * BEGIN IMMEDIATE transaction and carries PRAGMA user_version (now 2); an
 * older journal is migrated the same way by the first read-write open, and
 * read as it is by a read-only one; a journal newer than this code is
 * refused.
 *
 * Version 2 adds the table domains (each domain's newest attempt), kept by a
 * trigger on every insert, so that the list of recent domains is an index
 * range however many attempts the journal holds.
 *
 * Version 3 adds the TLS of each attempt (columns tls and tls_failure of
 * attempts) and the MTA-STS policy cache (table sts_policies, one row per
 * domain: RFC 8461 5.1).
 *
 * Version 4 adds where each attempt comes from (columns source, node and
 * import_id of attempts: mxtier-import's identity of the log line, unique
 * where set, so a log imported twice adds nothing), the import position of
 * each log file (table import_files) and the notes an imported log leaves on
 * a domain that are not attempts (table domain_notes).
 *
 * Version 5 adds the TLS policy the route oracle gave each host (table
 * route_tls), which the MTA asks for in a separate lookup.
 *
 * Version 6 adds the journal's identity (table journal_meta, key
 * journal_id: 16 random bytes from getrandom() in hex, made once, when the
 * file is created or migrated) and the backoff other nodes of the fleet saw
 * (table fleet_backoff, replaced whole by mxtier-ship's pull, read by
 * address). From version 6 on the prune keeps the attempt with the largest
 * id, whatever its age: SQLite hands out max(id) + 1, so deleting the
 * newest row would give its id again, and mxtier-ship's position (the
 * highest id shipped) would skip the new row.
 *
 * Every statement is prepared on its first use and reused after. Each call
 * clears the error text first and fills it on failure ("journal PATH: WHAT:
 * REASON"); nothing is ever printed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "backoff.h"
#include "clock.h"
#include "journal.h"
#include "sts.h"

#define JOURNAL_VERSION		6	/* PRAGMA user_version of this schema */
#define JOURNAL_BUSY_MS		5000	/* busy timeout and open retry budget */

enum journal_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_INSERT,
	ST_COUNT_ALL,
	ST_COUNT_DOMAIN,
	ST_GET_BACKOFF,
	ST_PUT_BACKOFF,
	ST_DEL_BACKOFF,
	ST_PRUNE_ATTEMPTS,
	ST_PRUNE_BACKOFF,
	ST_PRUNE_DOMAINS,
	ST_PRUNE_CHECK,
	ST_RECENT,
	ST_DOMAINS,
	ST_LAST_ID,
	ST_GET_STS,
	ST_PUT_STS,
	ST_GET_POS,
	ST_PUT_POS,
	ST_ADD_NOTE,
	ST_LATEST_NOTE,
	ST_GET_ROUTE_TLS,
	ST_PUT_ROUTE_TLS,
	ST_GET_ID,
	ST_SHIP,
	ST_BACKOFF_ALL,
	ST_DEL_FLEET,
	ST_PUT_FLEET,
	ST_GET_FLEET,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_INSERT] = "INSERT INTO attempts (ts, queue_id, domain, recipient,"
	    " preference, host, address, port, stage, reply_code,"
	    " enhanced_status, reply_text, outcome, decision, reason,"
	    " duration_ms, tls, tls_failure, source, node, import_id) VALUES (?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,"
	    " ?20, ?21) ON CONFLICT (import_id) WHERE import_id IS NOT NULL DO NOTHING",
	[ST_COUNT_ALL] = "SELECT count(*) FROM attempts",
	[ST_COUNT_DOMAIN] = "SELECT count(*) FROM attempts WHERE domain = ?1",
	[ST_GET_BACKOFF] = "SELECT failures, retry_at, last_error FROM backoff"
	    " WHERE address = ?1 AND port = ?2",
	[ST_PUT_BACKOFF] = "INSERT INTO backoff (address, port, failures,"
	    " retry_at, last_error, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (address, port) DO UPDATE SET"
	    " failures = excluded.failures, retry_at = excluded.retry_at,"
	    " last_error = excluded.last_error, updated = excluded.updated",
	[ST_DEL_BACKOFF] = "DELETE FROM backoff WHERE address = ?1 AND port = ?2",
	/* the newest id stays (ids only grow); +id keeps the planner on the ts index */
	[ST_PRUNE_ATTEMPTS] = "DELETE FROM attempts WHERE ts < ?1"
	    " AND +id < (SELECT max(id) FROM attempts)",
	[ST_PRUNE_BACKOFF] = "DELETE FROM backoff WHERE retry_at < ?1",
	[ST_PRUNE_DOMAINS] = "DELETE FROM domains WHERE last_ts < ?1",
	/* min() over an index is one seek; backoff holds only failing addresses */
	[ST_PRUNE_CHECK] = "SELECT coalesce((SELECT ts FROM attempts"
	    " WHERE +id < (SELECT max(id) FROM attempts) ORDER BY ts LIMIT 1) < ?1, 0)"
	    " OR coalesce((SELECT min(retry_at) FROM backoff) < ?2, 0)"
	    " OR coalesce((SELECT min(last_ts) FROM domains) < ?1, 0)",
	[ST_RECENT] = "SELECT id, ts, queue_id, domain, recipient, preference, host, address,"
	    " port, stage, reply_code, enhanced_status, reply_text, outcome, decision,"
	    " reason, duration_ms, tls, tls_failure, source, node FROM attempts"
	    " WHERE domain = ?1 ORDER BY ts DESC, id DESC LIMIT ?2",
	[ST_DOMAINS] = "SELECT domain FROM domains WHERE last_ts >= ?1"
	    " ORDER BY last_ts DESC LIMIT ?2",
	[ST_LAST_ID] = "SELECT ifnull(max(id), 0) FROM attempts",
	[ST_GET_STS] = "SELECT id, mode, max_age, mx, fetched FROM sts_policies WHERE domain = ?1",
	[ST_PUT_STS] = "INSERT OR REPLACE INTO sts_policies (domain, id, mode, max_age, mx, fetched)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_GET_POS] = "SELECT dev, ino, offset, head_len, head_hash, updated FROM import_files"
	    " WHERE path = ?1",
	[ST_PUT_POS] = "INSERT OR REPLACE INTO import_files (path, dev, ino, offset, head_len,"
	    " head_hash, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_ADD_NOTE] = "INSERT INTO domain_notes (ts, domain, queue_id, recipient, source, node,"
	    " text, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT (import_id) WHERE import_id IS NOT NULL DO NOTHING",
	[ST_LATEST_NOTE] = "SELECT text, source, ts FROM domain_notes WHERE domain = ?1"
	    " ORDER BY ts DESC, id DESC LIMIT 1",
	[ST_GET_ROUTE_TLS] = "SELECT policy FROM route_tls WHERE host = ?1 AND port = ?2"
	    " AND expires > ?3",
	[ST_PUT_ROUTE_TLS] = "INSERT INTO route_tls (host, port, policy, rank, domain, expires)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (host, port) DO UPDATE SET"
	    " policy = excluded.policy, rank = excluded.rank, domain = excluded.domain,"
	    " expires = excluded.expires WHERE route_tls.rank <= excluded.rank"
	    " OR route_tls.expires <= ?7",
	[ST_GET_ID] = "SELECT value FROM journal_meta WHERE key = 'journal_id'",
	[ST_SHIP] = "SELECT id, ts, queue_id, domain, recipient, preference, host, address,"
	    " port, stage, reply_code, enhanced_status, reply_text, outcome, decision,"
	    " reason, duration_ms, tls, tls_failure, source, node FROM attempts"
	    " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[ST_BACKOFF_ALL] = "SELECT address, port, failures, retry_at, last_error, updated"
	    " FROM backoff ORDER BY address, port",
	[ST_DEL_FLEET] = "DELETE FROM fleet_backoff",
	[ST_PUT_FLEET] = "INSERT OR REPLACE INTO fleet_backoff (node, address, port, failures,"
	    " retry_at, last_error, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_GET_FLEET] = "SELECT node, failures, retry_at, last_error, updated FROM fleet_backoff"
	    " WHERE address = ?1 AND port = ?2 AND retry_at > ?3"
	    " ORDER BY retry_at DESC, node LIMIT 1",
};

/* ST_RECENT on a journal before version 4: no source, node */
static const char recent_v3_sql[] =
    "SELECT id, ts, queue_id, domain, recipient, preference, host, address,"
    " port, stage, reply_code, enhanced_status, reply_text, outcome, decision,"
    " reason, duration_ms, tls, tls_failure, 'mxtier-pipe', NULL FROM attempts"
    " WHERE domain = ?1 ORDER BY ts DESC, id DESC LIMIT ?2";

/* ST_RECENT on a journal before version 3: no TLS columns */
static const char recent_v2_sql[] =
    "SELECT id, ts, queue_id, domain, recipient, preference, host, address,"
    " port, stage, reply_code, enhanced_status, reply_text, outcome, decision,"
    " reason, duration_ms, NULL, NULL, 'mxtier-pipe', NULL FROM attempts WHERE domain = ?1"
    " ORDER BY ts DESC, id DESC LIMIT ?2";

/* ST_DOMAINS on a version 1 journal (read-only opens do not migrate) */
static const char domains_v1_sql[] =
    "SELECT domain, max(ts) AS last FROM attempts WHERE ts >= ?1"
    " GROUP BY domain ORDER BY last DESC LIMIT ?2";

/* Version 1, run inside BEGIN IMMEDIATE when user_version is 0. */
static const char *const schema_v1_sql[] = {
	"CREATE TABLE IF NOT EXISTS attempts ("
	    "id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, queue_id TEXT,"
	    " domain TEXT NOT NULL, recipient TEXT, preference INTEGER,"
	    " host TEXT, address TEXT, port INTEGER, stage TEXT,"
	    " reply_code INTEGER, enhanced_status TEXT, reply_text TEXT,"
	    " outcome TEXT NOT NULL, decision TEXT, reason TEXT,"
	    " duration_ms INTEGER)",
	"CREATE INDEX IF NOT EXISTS attempts_domain_ts ON attempts (domain, ts)",
	"CREATE INDEX IF NOT EXISTS attempts_ts ON attempts (ts)",
	"CREATE TABLE IF NOT EXISTS backoff ("
	    "address TEXT NOT NULL, port INTEGER NOT NULL,"
	    " failures INTEGER NOT NULL, retry_at INTEGER NOT NULL,"
	    " last_error TEXT, updated INTEGER NOT NULL,"
	    " PRIMARY KEY (address, port))",
};

/* Version 3 on top of 2: TLS per attempt, the MTA-STS policy cache. */
static const char *const schema_v3_sql[] = {
	"ALTER TABLE attempts ADD COLUMN tls TEXT",
	"ALTER TABLE attempts ADD COLUMN tls_failure TEXT",
	"CREATE TABLE IF NOT EXISTS sts_policies ("
	    "domain TEXT NOT NULL PRIMARY KEY, id TEXT NOT NULL, mode TEXT NOT NULL,"
	    " max_age INTEGER NOT NULL, mx TEXT NOT NULL, fetched INTEGER NOT NULL)"
	    " WITHOUT ROWID",
};

/*
 * Version 4 on top of 3: where attempts come from, import positions, notes.
 * A column added with a constant default costs nothing on a big table: the
 * rows written before say mxtier-pipe without being rewritten.
 */
static const char *const schema_v4_sql[] = {
	"ALTER TABLE attempts ADD COLUMN source TEXT NOT NULL DEFAULT 'mxtier-pipe'",
	"ALTER TABLE attempts ADD COLUMN node TEXT",
	"ALTER TABLE attempts ADD COLUMN import_id INTEGER",
	"CREATE UNIQUE INDEX IF NOT EXISTS attempts_import_id ON attempts (import_id)"
	    " WHERE import_id IS NOT NULL",
	"CREATE TABLE IF NOT EXISTS import_files ("
	    "path TEXT NOT NULL PRIMARY KEY, dev INTEGER NOT NULL, ino INTEGER NOT NULL,"
	    " offset INTEGER NOT NULL, head_len INTEGER NOT NULL, head_hash INTEGER NOT NULL,"
	    " updated INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS domain_notes ("
	    "id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, domain TEXT NOT NULL,"
	    " queue_id TEXT, recipient TEXT, source TEXT NOT NULL, node TEXT, text TEXT NOT NULL,"
	    " import_id INTEGER)",
	"CREATE UNIQUE INDEX IF NOT EXISTS domain_notes_import_id ON domain_notes (import_id)"
	    " WHERE import_id IS NOT NULL",
	"CREATE INDEX IF NOT EXISTS domain_notes_domain_ts ON domain_notes (domain, ts)",
};

/*
 * Version 5 on top of 4: the TLS policy the route oracle gave each host it
 * named (mxtier-pipe --socketmap), for the MTA's later policy lookup.
 */
static const char *const schema_v5_sql[] = {
	"CREATE TABLE IF NOT EXISTS route_tls ("
	    "host TEXT NOT NULL, port INTEGER NOT NULL, policy TEXT NOT NULL,"
	    " rank INTEGER NOT NULL, domain TEXT NOT NULL, expires INTEGER NOT NULL,"
	    " PRIMARY KEY (host, port)) WITHOUT ROWID",
};

/*
 * Version 6 on top of 5: the journal's identity (its row is inserted by
 * create_schema_once with a fresh random value) and the fleet's backoff,
 * found by address (a small table, but read on every delivery when
 * policy.fleet_backoff is on).
 */
static const char *const schema_v6_sql[] = {
	"CREATE TABLE IF NOT EXISTS journal_meta ("
	    "key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS fleet_backoff ("
	    "node TEXT NOT NULL, address TEXT NOT NULL, port INTEGER NOT NULL,"
	    " failures INTEGER NOT NULL, retry_at INTEGER NOT NULL, last_error TEXT,"
	    " updated INTEGER NOT NULL, PRIMARY KEY (node, address, port)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS fleet_backoff_address ON fleet_backoff"
	    " (address, port, retry_at)",
};

/* Version 2 on top of 1: each domain's newest attempt, kept by a trigger. */
static const char *const schema_v2_sql[] = {
	"CREATE TABLE IF NOT EXISTS domains ("
	    "domain TEXT NOT NULL PRIMARY KEY, last_ts INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS domains_last_ts ON domains (last_ts)",
	"CREATE TRIGGER IF NOT EXISTS attempts_domains AFTER INSERT ON attempts BEGIN"
	    " INSERT INTO domains (domain, last_ts) VALUES (new.domain, new.ts)"
	    " ON CONFLICT (domain) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts);"
	    " END",
	"INSERT OR REPLACE INTO domains (domain, last_ts)"
	    " SELECT domain, max(ts) FROM attempts GROUP BY domain",
};

struct mx_journal {
	sqlite3	*db;
	char	*path;
	bool	readonly;
	int64_t	version;		/* PRAGMA user_version as opened */
	int64_t	busy_since;		/* busy_wait: when this wait began */
	sqlite3_stmt *st[ST_COUNT];
	char	err[1024];
};

/* journal_fail - record "journal PATH: what: SQLite's message" */
static void
journal_fail(struct mx_journal *j, const char *what)
{
	snprintf(j->err, sizeof(j->err), "journal %s: %s: %s", j->path, what,
		 j->db != NULL ? sqlite3_errmsg(j->db) : "not open");
}

/* journal_fail_text - record "journal PATH: what: text" */
static void
journal_fail_text(struct mx_journal *j, const char *what, const char *text)
{
	snprintf(j->err, sizeof(j->err), "journal %s: %s: %s", j->path, what, text);
}

/* is_busy - a lock another connection holds: worth another try */
static bool
is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/*
 * busy_wait - SQLite's busy handler: wait a little and try again until
 * JOURNAL_BUSY_MS have passed. SQLite's own (busy_timeout) backs off to
 * 100 ms naps, so under many writers a process that lost a few times sleeps
 * through the moments the lock is free; naps of at most 10 ms with a little
 * jitter keep the waits fair and short.
 */
static int
busy_wait(void *arg, int count)
{
	struct mx_journal *j = arg;
	int64_t	now = mx_clock_mono_ms();
	struct timespec ts;

	if (count == 0)
		j->busy_since = now;
	if (now - j->busy_since >= JOURNAL_BUSY_MS)
		return 0;
	/* 0.25, 0.5, 1 ... 8 ms, then 10 ms; never SQLite's 100 ms, but not
	 * so short that many waiters (64 under valgrind on 2 CPUs) starve the
	 * lock holder of CPU by polling */
	ts.tv_sec = 0;
	ts.tv_nsec = (count < 6 ? 250000L << count : 10000000L) + (long)(now % 7) * 100000L;
	nanosleep(&ts, NULL);
	return 1;
}

/* pause_ms - sleep a little before retrying */
static void
pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * run_sql - prepare, run and finalize one statement (open-time only); the
 * first column of the first row goes to text (when not NULL) and to *num
 */
static int
run_sql(struct mx_journal *j, const char *sql, char *text, size_t textlen,
	int64_t *num)
{
	sqlite3_stmt *st = NULL;
	int	rc;
	bool	first = true;

	rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (first && text != NULL) {
			const unsigned char *t = sqlite3_column_text(st, 0);

			snprintf(text, textlen, "%s", t != NULL ? (const char *)t : "");
		}
		if (first && num != NULL)
			*num = sqlite3_column_int64(st, 0);
		first = false;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* set_wal - switch the file to WAL mode (retried while another opener holds it) */
static bool
set_wal(struct mx_journal *j, int64_t deadline)
{
	char	mode[32] = "";
	int	rc, tries = 0;

	for (;;) {
		/* already WAL (every open but the first): no lock needed */
		rc = run_sql(j, "PRAGMA journal_mode", mode, sizeof(mode), NULL);
		if (rc == SQLITE_OK && strcmp(mode, "wal") == 0)
			return true;
		if (rc == SQLITE_OK)
			rc = run_sql(j, "PRAGMA journal_mode = WAL", mode, sizeof(mode), NULL);
		if (rc == SQLITE_OK)
			break;
		if (!is_busy(rc) || mx_clock_mono_ms() >= deadline) {
			journal_fail(j, "journal_mode");
			return false;
		}
		pause_ms(tries < 5 ? 1 << tries++ : 20);
	}
	if (strcmp(mode, "wal") != 0) {
		char	why[96];

		snprintf(why, sizeof(why), "WAL mode refused (journal_mode is %s)", mode);
		journal_fail_text(j, "journal_mode", why);
		return false;
	}
	return true;
}

/*
 * random_hex - 16 random bytes as 32 hex digits into out (33 bytes):
 * getrandom(), or /dev/urandom where that is missing; false when neither works
 */
static bool
random_hex(char out[33])
{
	unsigned char b[16];
	size_t	got = 0;
	ssize_t	n;
	int	fd, i;

	while (got < sizeof(b)) {
		n = getrandom(b + got, sizeof(b) - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n < 0 && errno != EINTR)
			break;
	}
	if (got < sizeof(b) && (fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) >= 0) {
		while (got < sizeof(b)) {
			n = read(fd, b + got, sizeof(b) - got);
			if (n > 0)
				got += (size_t)n;
			else if (n == 0 || errno != EINTR)
				break;
		}
		close(fd);
	}
	if (got < sizeof(b))
		return false;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return true;
}

/* run_all - the statements of one schema step, until one fails */
static int
run_all(struct mx_journal *j, const char *const *sql, size_t n)
{
	size_t	i;
	int	rc = SQLITE_OK;

	for (i = 0; rc == SQLITE_OK && i < n; i++)
		rc = run_sql(j, sql[i], NULL, 0, NULL);
	return rc;
}

/*
 * create_schema_once - one try: BEGIN IMMEDIATE, create or migrate up to
 * JOURNAL_VERSION from whatever version is there, COMMIT
 */
static int
create_schema_once(struct mx_journal *j, int64_t *version)
{
	char	set[64];
	int	rc;

	*version = 0;
	if ((rc = run_sql(j, "BEGIN IMMEDIATE", NULL, 0, NULL)) != SQLITE_OK)
		return rc;
	rc = run_sql(j, "PRAGMA user_version", NULL, 0, version);
	if (rc == SQLITE_OK && *version < JOURNAL_VERSION) {
		if (*version < 1)
			rc = run_all(j, schema_v1_sql, sizeof(schema_v1_sql) / sizeof(schema_v1_sql[0]));
		if (rc == SQLITE_OK && *version < 2)
			rc = run_all(j, schema_v2_sql, sizeof(schema_v2_sql) / sizeof(schema_v2_sql[0]));
		if (rc == SQLITE_OK && *version < 3)
			rc = run_all(j, schema_v3_sql, sizeof(schema_v3_sql) / sizeof(schema_v3_sql[0]));
		if (rc == SQLITE_OK && *version < 4)
			rc = run_all(j, schema_v4_sql, sizeof(schema_v4_sql) / sizeof(schema_v4_sql[0]));
		if (rc == SQLITE_OK && *version < 5)
			rc = run_all(j, schema_v5_sql, sizeof(schema_v5_sql) / sizeof(schema_v5_sql[0]));
		if (rc == SQLITE_OK && *version < 6)
			rc = run_all(j, schema_v6_sql, sizeof(schema_v6_sql) / sizeof(schema_v6_sql[0]));
		if (rc == SQLITE_OK && *version < 6) {
			char	id[33], ins[128];

			if (!random_hex(id)) {
				(void)run_sql(j, "ROLLBACK", NULL, 0, NULL);
				journal_fail_text(j, "schema", "no random bytes for journal_id");
				return SQLITE_ERROR;
			}
			/* a journal_id already there (a file made by hand) stays */
			snprintf(ins, sizeof(ins), "INSERT OR IGNORE INTO journal_meta (key, value)"
				 " VALUES ('journal_id', '%s')", id);
			rc = run_sql(j, ins, NULL, 0, NULL);
		}
		snprintf(set, sizeof(set), "PRAGMA user_version = %d", JOURNAL_VERSION);
		if (rc == SQLITE_OK && (rc = run_sql(j, set, NULL, 0, NULL)) == SQLITE_OK)
			*version = JOURNAL_VERSION;
	}
	if (rc == SQLITE_OK)
		rc = run_sql(j, "COMMIT", NULL, 0, NULL);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(j->db)) {
		char	keep[256];

		/* keep the reason: ROLLBACK overwrites SQLite's message */
		snprintf(keep, sizeof(keep), "%s", sqlite3_errmsg(j->db));
		(void)run_sql(j, "ROLLBACK", NULL, 0, NULL);
		journal_fail_text(j, "schema", keep);
	}
	return rc;
}

/* create_schema - create or check the tables (read-write open) */
static bool
create_schema(struct mx_journal *j, int64_t deadline)
{
	int64_t	version = 0;
	int	rc, tries = 0;

	for (;;) {
		j->err[0] = '\0';
		/* a plain read first: only a fresh or old file needs the write lock */
		rc = run_sql(j, "PRAGMA user_version", NULL, 0, &version);
		if (rc == SQLITE_OK && version < JOURNAL_VERSION)
			rc = create_schema_once(j, &version);
		if (rc == SQLITE_OK)
			break;
		if (!is_busy(rc) || mx_clock_mono_ms() >= deadline) {
			if (j->err[0] == '\0')
				journal_fail(j, "schema");
			return false;
		}
		pause_ms(tries < 5 ? 1 << tries++ : 20);
	}
	if (version > JOURNAL_VERSION) {
		char	why[128];

		snprintf(why, sizeof(why), "schema version %lld is newer than %d",
			 (long long)version, JOURNAL_VERSION);
		journal_fail_text(j, "schema", why);
		return false;
	}
	j->version = version;
	return true;
}

/* check_schema - a read-only open needs an existing journal of a known version */
static bool
check_schema(struct mx_journal *j, int64_t deadline)
{
	int64_t	version = 0;
	int	rc, tries = 0;
	char	why[128];

	while ((rc = run_sql(j, "PRAGMA user_version", NULL, 0, &version)) != SQLITE_OK) {
		if (!is_busy(rc) || mx_clock_mono_ms() >= deadline) {
			journal_fail(j, "schema");
			return false;
		}
		pause_ms(tries < 5 ? 1 << tries++ : 20);
	}
	if (version >= 1 && version <= JOURNAL_VERSION) {
		j->version = version;
		return true;
	}
	if (version == 0)
		snprintf(why, sizeof(why), "not a journal (no schema)");
	else
		snprintf(why, sizeof(why), "schema version %lld is newer than %d",
			 (long long)version, JOURNAL_VERSION);
	journal_fail_text(j, "schema", why);
	return false;
}

/*
 * stmt - the prepared statement, prepared on first use and kept for the life
 * of the handle (a delivery uses a few of them: preparing all at open cost
 * more than the rest of opening); NULL and the error text on failure
 */
static sqlite3_stmt *
stmt(struct mx_journal *j, enum journal_stmt which, const char *what)
{
	const char *sql;
	int64_t	deadline;
	int	rc, tries = 0;

	if (j->st[which] != NULL)
		return j->st[which];
	deadline = mx_clock_mono_ms() + JOURNAL_BUSY_MS;
	sql = which == ST_DOMAINS && j->version < 2 ? domains_v1_sql :
	    which == ST_RECENT && j->version < 3 ? recent_v2_sql :
	    which == ST_RECENT && j->version < 4 ? recent_v3_sql : stmt_sql[which];
	while ((rc = sqlite3_prepare_v3(j->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
					&j->st[which], NULL)) != SQLITE_OK) {
		j->st[which] = NULL;
		if (!is_busy(rc) || mx_clock_mono_ms() >= deadline) {
			journal_fail(j, what);
			return NULL;
		}
		pause_ms(tries < 5 ? 1 << tries++ : 20);
	}
	return j->st[which];
}

/* open_error - copy the reason out and free a half-open handle */
static struct mx_journal *
open_error(struct mx_journal *j, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", j->err);
	mx_journal_close(j);
	return NULL;
}

/* journal_open - open or create the journal at path */
static struct mx_journal *
journal_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct mx_journal *j;
	struct stat sb;
	mode_t	old_mask;
	int64_t	deadline;
	int	flags, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || *path == '\0') {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "journal: no path");
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->path = strdup(path)) == NULL) {
		free(j);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "journal %s: out of memory", path);
		return NULL;
	}
	j->readonly = readonly;

	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			journal_fail_text(j, "open", "is a directory");
			return open_error(j, err, errlen);
		}
	} else if (readonly) {
		if (errno == ENOENT)
			snprintf(j->err, sizeof(j->err), "no journal at %s", path);
		else
			journal_fail_text(j, "open", strerror(errno));
		return open_error(j, err, errlen);
	}

	flags = SQLITE_OPEN_NOMUTEX
	    | SQLITE_OPEN_NOFOLLOW	/* a planted symlink is not followed */
	    | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	old_mask = umask(077);
	rc = sqlite3_open_v2(path, &j->db, flags, NULL);
	umask(old_mask);
	if (rc != SQLITE_OK) {
		int	sys = j->db != NULL ? sqlite3_system_errno(j->db) : 0;

		if (j->db == NULL)
			journal_fail_text(j, "open", sqlite3_errstr(rc));
		else if (sys != 0) {
			char	why[256];

			snprintf(why, sizeof(why), "%s (%s)", sqlite3_errmsg(j->db),
				 strerror(sys));
			journal_fail_text(j, "open", why);
		} else
			journal_fail(j, "open");
		return open_error(j, err, errlen);
	}
	deadline = mx_clock_mono_ms() + JOURNAL_BUSY_MS;
	sqlite3_busy_handler(j->db, busy_wait, j);

	if (!readonly && !set_wal(j, deadline))
		return open_error(j, err, errlen);
	/*
	 * Under steady concurrent writers no checkpoint ever finds the WAL
	 * unused, so it can grow far past its 1000-page checkpoint mark; once a
	 * checkpoint does reset it, cut the file back to 4 MiB. (Keeping the
	 * WAL on close instead of checkpointing was measured: every process
	 * that then opens first must rebuild the WAL index by reading the whole
	 * WAL, which costs more than the checkpoint it saves.)
	 */
	if (!readonly && run_sql(j, "PRAGMA journal_size_limit = 4194304", NULL, 0, NULL) != SQLITE_OK) {
		journal_fail(j, "journal_size_limit");
		return open_error(j, err, errlen);
	}
	/*
	 * The last connection to close still checkpoints, but then cuts the
	 * WAL to 0 bytes (journal_size_limit is set) and leaves it and the
	 * -shm file in place, instead of deleting both for the next process to
	 * create again (a file and directory sync each time): 0.27 ms of CPU
	 * per delivery. The -shm file is rebuilt by the first opener anyway.
	 */
	if (!readonly) {
		int	persist = 1;

		(void)sqlite3_file_control(j->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	}
	if (run_sql(j, "PRAGMA synchronous = NORMAL", NULL, 0, NULL) != SQLITE_OK) {
		journal_fail(j, "synchronous");
		return open_error(j, err, errlen);
	}
	if (readonly ? !check_schema(j, deadline) : !create_schema(j, deadline))
		return open_error(j, err, errlen);
	j->err[0] = '\0';
	return j;
}

/* journal_close - finalize the statements and close */
static void
journal_close(struct mx_journal *j)
{
	int	i;

	if (j == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(j->st[i]);
	sqlite3_close(j->db);
	free(j->path);
	free(j);
}

/* mx_journal_error - the last error's text ("" after a call that worked) */
const char *
mx_journal_error(const struct mx_journal *j)
{
	return j != NULL ? j->err : "journal: no handle";
}

/* bind_text - a string, or NULL for NULL */
static int
bind_text(sqlite3_stmt *st, int col, const char *s)
{
	return s != NULL ? sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT)
	    : sqlite3_bind_null(st, col);
}

/* bind_num - a number, or NULL below min */
static int
bind_num(sqlite3_stmt *st, int col, int64_t v, int64_t min)
{
	return v >= min ? sqlite3_bind_int64(st, col, v) : sqlite3_bind_null(st, col);
}

/* finish - reset a statement for its next use */
static void
finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* step_done - run a statement that returns no rows; the error names what */
static bool
step_done(struct mx_journal *j, enum journal_stmt which, const char *what)
{
	sqlite3_stmt *st = stmt(j, which, what);
	int	rc;

	if (st == NULL)
		return false;
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		journal_fail(j, what);
	finish(st);
	return rc == SQLITE_DONE;
}

/* writable - a write needs a read-write handle */
static bool
writable(struct mx_journal *j, const char *what)
{
	if (j->readonly) {
		journal_fail_text(j, what, "opened read-only");
		return false;
	}
	return true;
}

/* rollback - give up the open transaction, keeping the error text */
static void
rollback(struct mx_journal *j)
{
	sqlite3_stmt *st;
	char	keep[sizeof(j->err)];

	if (!sqlite3_get_autocommit(j->db)) {
		memcpy(keep, j->err, sizeof(keep));
		if ((st = stmt(j, ST_ROLLBACK, "rollback")) != NULL) {
			sqlite3_step(st);
			finish(st);
		}
		memcpy(j->err, keep, sizeof(keep));
	}
}

/* insert_attempt - insert one row unless its import_id is there; *added says which */
static bool
insert_attempt(struct mx_journal *j, const struct mx_attempt *a, bool *added)
{
	sqlite3_stmt *st;
	int	rc = SQLITE_OK;
	bool	ok;

	if (added != NULL)
		*added = false;
	if (j == NULL || a == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "attempts insert"))
		return false;
	if ((st = stmt(j, ST_INSERT, "attempts insert")) == NULL)
		return false;
	rc |= sqlite3_bind_int64(st, 1, a->ts_ms);
	rc |= bind_text(st, 2, a->queue_id);
	rc |= bind_text(st, 3, a->domain);
	rc |= bind_text(st, 4, a->recipient);
	rc |= bind_num(st, 5, a->preference, 0);
	rc |= bind_text(st, 6, a->host);
	rc |= bind_text(st, 7, a->address);
	rc |= bind_num(st, 8, a->port, 0);
	rc |= bind_text(st, 9, a->stage);
	rc |= bind_num(st, 10, a->reply_code, 1);
	rc |= bind_text(st, 11, a->enhanced_status);
	rc |= bind_text(st, 12, a->reply_text);
	rc |= bind_text(st, 13, a->outcome);
	rc |= bind_text(st, 14, a->decision);
	rc |= bind_text(st, 15, a->reason);
	rc |= bind_num(st, 16, a->duration_ms, 0);
	rc |= bind_text(st, 17, a->tls);
	rc |= bind_text(st, 18, a->tls_failure);
	rc |= bind_text(st, 19, a->source != NULL ? a->source : "mxtier-pipe");
	rc |= bind_text(st, 20, a->node);
	rc |= a->import_id != 0 ? sqlite3_bind_int64(st, 21, a->import_id) : sqlite3_bind_null(st, 21);
	if (rc != SQLITE_OK) {
		journal_fail(j, "attempts bind");
		finish(st);
		return false;
	}
	ok = step_done(j, ST_INSERT, "attempts insert");
	if (ok && added != NULL)
		*added = sqlite3_changes(j->db) > 0;
	return ok;
}

/* journal_add_attempt - insert one row */
static bool
journal_add_attempt(struct mx_journal *j, const struct mx_attempt *a)
{
	return insert_attempt(j, a, NULL);
}

/* mx_journal_import_attempt - insert one row unless its import_id is there */
bool
mx_journal_import_attempt(struct mx_journal *j, const struct mx_attempt *a, bool *added)
{
	return insert_attempt(j, a, added);
}

/* mx_journal_begin - open a write transaction around many calls */
bool
mx_journal_begin(struct mx_journal *j)
{
	if (j == NULL)
		return false;
	j->err[0] = '\0';
	return writable(j, "begin") && step_done(j, ST_BEGIN, "begin");
}

/* mx_journal_commit - commit what mx_journal_begin opened */
bool
mx_journal_commit(struct mx_journal *j)
{
	if (j == NULL)
		return false;
	j->err[0] = '\0';
	if (step_done(j, ST_COMMIT, "commit"))
		return true;
	rollback(j);
	return false;
}

/* mx_journal_rollback - give up what mx_journal_begin opened */
void
mx_journal_rollback(struct mx_journal *j)
{
	if (j != NULL)
		rollback(j);
}

/* read_backoff - the row of address:port into *out; *found says whether there was one */
static bool
read_backoff(struct mx_journal *j, const char *address, int port,
	     struct mx_backoff *out, bool *found)
{
	sqlite3_stmt *st;
	int	rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	if ((st = stmt(j, ST_GET_BACKOFF, "backoff read")) == NULL)
		return false;
	if (bind_text(st, 1, address) != SQLITE_OK
	    || sqlite3_bind_int(st, 2, port) != SQLITE_OK) {
		journal_fail(j, "backoff bind");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *e = sqlite3_column_text(st, 2);
		int64_t	f = sqlite3_column_int64(st, 0);

		out->failures = f < 0 ? 0 : f > INT_MAX ? INT_MAX : (int)f;
		out->retry_at_ms = sqlite3_column_int64(st, 1);
		snprintf(out->last_error, sizeof(out->last_error), "%s",
			 e != NULL ? (const char *)e : "");
		*found = true;
	} else if (rc != SQLITE_DONE) {
		journal_fail(j, "backoff read");
		finish(st);
		return false;
	}
	finish(st);
	return true;
}

/* journal_get_backoff - the state of address:port; false with failures 0 when none */
static bool
journal_get_backoff(struct mx_journal *j, const char *address, int port,
		    struct mx_backoff *out)
{
	bool	found;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (j == NULL || out == NULL)
		return false;
	j->err[0] = '\0';
	if (address == NULL) {
		journal_fail_text(j, "backoff read", "no address");
		return false;
	}
	return read_backoff(j, address, port, out, &found) && found;
}

/* backoff_delay_s - initial * 2^(failures - 1) capped at max, without overflow */
static int64_t
backoff_delay_s(int failures, int initial_s, int max_s)
{
	int64_t	delay, max = max_s < 0 ? 0 : max_s;
	int	i;

	if (initial_s <= 0)
		return 0;
	delay = initial_s;
	/* delay < max <= INT_MAX, so doubling stays far inside int64_t */
	for (i = 1; i < failures && delay < max; i++)
		delay *= 2;
	return delay < max ? delay : max;
}

/* journal_note_failure - one more temporary failure of address:port */
static bool
journal_note_failure(struct mx_journal *j, const char *address, int port,
		     int64_t now_ms, int initial_s, int max_s, const char *error,
		     struct mx_backoff *out)
{
	struct mx_backoff cur;
	sqlite3_stmt *st;
	bool	found, own;
	int	rc = SQLITE_OK;

	if (j == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "backoff update"))
		return false;
	if (address == NULL) {
		journal_fail_text(j, "backoff update", "no address");
		return false;
	}
	/* inside a caller's transaction (mxtier-import's batches) it joins that one */
	own = sqlite3_get_autocommit(j->db) != 0;
	if (own && !step_done(j, ST_BEGIN, "backoff begin"))
		return false;
	if (!read_backoff(j, address, port, &cur, &found))
		goto fail;
	if (cur.failures < INT_MAX)
		cur.failures++;
	cur.retry_at_ms = now_ms + backoff_delay_s(cur.failures, initial_s, max_s) * 1000;
	snprintf(cur.last_error, sizeof(cur.last_error), "%s", error != NULL ? error : "");

	if ((st = stmt(j, ST_PUT_BACKOFF, "backoff update")) == NULL)
		goto fail;
	rc |= bind_text(st, 1, address);
	rc |= sqlite3_bind_int(st, 2, port);
	rc |= sqlite3_bind_int(st, 3, cur.failures);
	rc |= sqlite3_bind_int64(st, 4, cur.retry_at_ms);
	rc |= bind_text(st, 5, error);
	rc |= sqlite3_bind_int64(st, 6, now_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "backoff bind");
		finish(st);
		goto fail;
	}
	if (!step_done(j, ST_PUT_BACKOFF, "backoff update")
	    || (own && !step_done(j, ST_COMMIT, "backoff commit")))
		goto fail;
	if (out != NULL)
		*out = cur;
	return true;

fail:
	if (own)
		rollback(j);
	return false;
}

/* journal_note_success - address:port worked: forget its backoff */
static bool
journal_note_success(struct mx_journal *j, const char *address, int port)
{
	sqlite3_stmt *st;

	if (j == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "backoff delete"))
		return false;
	if (address == NULL) {
		journal_fail_text(j, "backoff delete", "no address");
		return false;
	}
	if ((st = stmt(j, ST_DEL_BACKOFF, "backoff delete")) == NULL)
		return false;
	if (bind_text(st, 1, address) != SQLITE_OK
	    || sqlite3_bind_int(st, 2, port) != SQLITE_OK) {
		journal_fail(j, "backoff bind");
		finish(st);
		return false;
	}
	return step_done(j, ST_DEL_BACKOFF, "backoff delete");
}

/* cutoff_ms - now minus age seconds, saturating instead of overflowing */
static int64_t
cutoff_ms(int64_t now_ms, int64_t age_s)
{
	int64_t	age;

	if (age_s < 0)
		age_s = 0;
	age = age_s > INT64_MAX / 1000 ? INT64_MAX : age_s * 1000;
	if (now_ms < 0 && now_ms < INT64_MIN + age)
		return INT64_MIN;
	return now_ms - age;
}

/*
 * prune_needed - whether anything is old enough to prune: three index (or
 * small table) minimums read without the write lock, so that the usual
 * delivery, with nothing to delete, neither waits for the lock nor writes
 */
static bool
prune_needed(struct mx_journal *j, int64_t attempts_cut, int64_t backoff_cut, bool *needed)
{
	sqlite3_stmt *st;
	int	rc;

	*needed = false;
	if ((st = stmt(j, ST_PRUNE_CHECK, "prune check")) == NULL)
		return false;
	if (sqlite3_bind_int64(st, 1, attempts_cut) != SQLITE_OK
	    || sqlite3_bind_int64(st, 2, backoff_cut) != SQLITE_OK) {
		journal_fail(j, "prune bind");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*needed = sqlite3_column_int(st, 0) != 0;
	else
		journal_fail(j, "prune check");
	finish(st);
	return rc == SQLITE_ROW;
}

/* journal_prune - delete old attempts and long-expired backoff rows */
static bool
journal_prune(struct mx_journal *j, int64_t now_ms, int64_t retention_s,
	      int max_backoff_s)
{
	sqlite3_stmt *pa, *pb, *pd;
	int64_t	acut, bcut;
	bool	needed;

	if (j == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "prune"))
		return false;
	acut = cutoff_ms(now_ms, retention_s);
	bcut = cutoff_ms(now_ms, max_backoff_s);
	if (!prune_needed(j, acut, bcut, &needed))
		return false;
	if (!needed)
		return true;
	if ((pa = stmt(j, ST_PRUNE_ATTEMPTS, "attempts prune")) == NULL
	    || (pb = stmt(j, ST_PRUNE_BACKOFF, "backoff prune")) == NULL
	    || (pd = stmt(j, ST_PRUNE_DOMAINS, "domains prune")) == NULL)
		return false;
	if (!step_done(j, ST_BEGIN, "prune begin"))
		return false;
	if (sqlite3_bind_int64(pa, 1, acut) != SQLITE_OK
	    || sqlite3_bind_int64(pb, 1, bcut) != SQLITE_OK
	    || sqlite3_bind_int64(pd, 1, acut) != SQLITE_OK) {
		journal_fail(j, "prune bind");
		finish(pa);
		finish(pb);
		finish(pd);
		rollback(j);
		return false;
	}
	if (!step_done(j, ST_PRUNE_ATTEMPTS, "attempts prune")
	    || !step_done(j, ST_PRUNE_BACKOFF, "backoff prune")
	    || !step_done(j, ST_PRUNE_DOMAINS, "domains prune")
	    || !step_done(j, ST_COMMIT, "prune commit")) {
		rollback(j);
		return false;
	}
	return true;
}

/* mx_journal_count_attempts - rows in attempts, or of one domain; -1 on error */
int64_t
mx_journal_count_attempts(struct mx_journal *j, const char *domain_or_null)
{
	sqlite3_stmt *st;
	int64_t	n = -1;
	int	rc;

	if (j == NULL)
		return -1;
	j->err[0] = '\0';
	st = stmt(j, domain_or_null != NULL ? ST_COUNT_DOMAIN : ST_COUNT_ALL, "attempts count");
	if (st == NULL)
		return -1;
	if (domain_or_null != NULL && bind_text(st, 1, domain_or_null) != SQLITE_OK) {
		journal_fail(j, "attempts count");
		finish(st);
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		journal_fail(j, "attempts count");
	finish(st);
	return n;
}

/* copy_column - a text column into a fixed buffer, "" for NULL */
static void
copy_column(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

/* int_column - an integer column, or dflt for NULL */
static int64_t
int_column(sqlite3_stmt *st, int col, int64_t dflt)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, col);
}

/* mx_journal_recent_attempts - newest attempts of a domain, newest first */
int
mx_journal_recent_attempts(struct mx_journal *j, const char *domain,
			   struct mx_attempt_row *out, int max)
{
	sqlite3_stmt *st;
	int	n = 0, rc;

	if (j == NULL || max <= 0)
		return 0;
	j->err[0] = '\0';
	if ((st = stmt(j, ST_RECENT, "attempts read")) == NULL)
		return -1;
	if (bind_text(st, 1, domain) != SQLITE_OK || sqlite3_bind_int(st, 2, max) != SQLITE_OK) {
		journal_fail(j, "attempts read");
		finish(st);
		return -1;
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mx_attempt_row *r = &out[n++];

		r->id = sqlite3_column_int64(st, 0);
		r->ts_ms = sqlite3_column_int64(st, 1);
		copy_column(st, 2, r->queue_id, sizeof(r->queue_id));
		copy_column(st, 3, r->domain, sizeof(r->domain));
		copy_column(st, 4, r->recipient, sizeof(r->recipient));
		r->preference = (int)int_column(st, 5, -1);
		copy_column(st, 6, r->host, sizeof(r->host));
		copy_column(st, 7, r->address, sizeof(r->address));
		r->port = (int)int_column(st, 8, -1);
		copy_column(st, 9, r->stage, sizeof(r->stage));
		r->reply_code = (int)int_column(st, 10, 0);
		copy_column(st, 11, r->enhanced_status, sizeof(r->enhanced_status));
		copy_column(st, 12, r->reply_text, sizeof(r->reply_text));
		copy_column(st, 13, r->outcome, sizeof(r->outcome));
		copy_column(st, 14, r->decision, sizeof(r->decision));
		copy_column(st, 15, r->reason, sizeof(r->reason));
		r->duration_ms = int_column(st, 16, -1);
		copy_column(st, 17, r->tls, sizeof(r->tls));
		copy_column(st, 18, r->tls_failure, sizeof(r->tls_failure));
		copy_column(st, 19, r->source, sizeof(r->source));
		copy_column(st, 20, r->node, sizeof(r->node));
	}
	if (n < max && rc != SQLITE_DONE) {
		journal_fail(j, "attempts read");
		n = -1;
	}
	finish(st);
	return n;
}

/* mx_journal_recent_domains - domains with attempts since since_ms, newest first */
int
mx_journal_recent_domains(struct mx_journal *j, int64_t since_ms, char (*out)[254], int max)
{
	sqlite3_stmt *st;
	int	n = 0, rc = SQLITE_DONE;

	if (j == NULL || max <= 0)
		return 0;
	j->err[0] = '\0';
	if ((st = stmt(j, ST_DOMAINS, "domains read")) == NULL)
		return -1;
	if (sqlite3_bind_int64(st, 1, since_ms) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, max) != SQLITE_OK) {
		journal_fail(j, "domains read");
		finish(st);
		return -1;
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		copy_column(st, 0, out[n++], sizeof(out[0]));
	if (n < max && rc != SQLITE_DONE) {
		journal_fail(j, "domains read");
		n = -1;
	}
	finish(st);
	return n;
}

/* mx_journal_last_id - the newest attempt's id, 0 when empty */
int64_t
mx_journal_last_id(struct mx_journal *j)
{
	sqlite3_stmt *st;
	int64_t	id = -1;

	if (j == NULL)
		return -1;
	j->err[0] = '\0';
	if ((st = stmt(j, ST_LAST_ID, "last id")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	else
		journal_fail(j, "last id");
	finish(st);
	return id;
}

/* journal_get_sts - the cached MTA-STS policy of domain; false when none or on error */
static bool
journal_get_sts(struct mx_journal *j, const char *domain, struct mx_sts_policy *out)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	const char *mx, *nl;
	char	mode[16];
	bool	found = false;
	int	rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (j == NULL || domain == NULL || out == NULL)
		return false;
	j->err[0] = '\0';
	if (j->version < 3) {
		journal_fail_text(j, "sts read", "journal older than version 3 (no policy cache)");
		return false;
	}
	if ((st = stmt(j, ST_GET_STS, "sts read")) == NULL)
		return false;
	if (bind_text(st, 1, domain) != SQLITE_OK) {
		journal_fail(j, "sts read");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->domain, sizeof(out->domain), "%s", domain);
		copy_column(st, 0, out->id, sizeof(out->id));
		copy_column(st, 1, mode, sizeof(mode));
		out->mode = strcmp(mode, "enforce") == 0 ? MX_STS_MODE_ENFORCE :
		    strcmp(mode, "testing") == 0 ? MX_STS_MODE_TESTING : MX_STS_MODE_NONE;
		out->max_age = sqlite3_column_int64(st, 2);
		t = sqlite3_column_text(st, 3);
		for (mx = t != NULL ? (const char *)t : ""; *mx != '\0' && out->nmx < MX_STS_MAX_MX;
		     mx = *nl != '\0' ? nl + 1 : nl) {
			if ((nl = strchr(mx, '\n')) == NULL)
				nl = mx + strlen(mx);
			if (nl > mx && (size_t)(nl - mx) <= MX_DOMAIN_MAX) {
				memcpy(out->mx[out->nmx], mx, (size_t)(nl - mx));
				out->mx[out->nmx++][nl - mx] = '\0';
			}
		}
		out->fetched_ms = sqlite3_column_int64(st, 4);
		found = true;
	} else if (rc != SQLITE_DONE)
		journal_fail(j, "sts read");
	finish(st);
	return found;
}

/* mx_journal_put_sts - cache (replace) the policy of p->domain */
bool
mx_journal_put_sts(struct mx_journal *j, const struct mx_sts_policy *p)
{
	sqlite3_stmt *st;
	char	mx[MX_STS_MAX_MX * (MX_DOMAIN_MAX + 1) + 1];
	size_t	i, off = 0;
	int	rc = SQLITE_OK;

	if (j == NULL || p == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "sts write"))
		return false;
	mx[0] = '\0';
	for (i = 0; i < p->nmx && i < MX_STS_MAX_MX; i++)
		off += (size_t)snprintf(mx + off, sizeof(mx) - off, "%s%s", i > 0 ? "\n" : "",
					p->mx[i]);
	if ((st = stmt(j, ST_PUT_STS, "sts write")) == NULL)
		return false;
	rc |= bind_text(st, 1, p->domain);
	rc |= bind_text(st, 2, p->id);
	rc |= bind_text(st, 3, mx_sts_mode_name(p->mode));
	rc |= sqlite3_bind_int64(st, 4, p->max_age);
	rc |= bind_text(st, 5, mx);
	rc |= sqlite3_bind_int64(st, 6, p->fetched_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "sts bind");
		finish(st);
		return false;
	}
	return step_done(j, ST_PUT_STS, "sts write");
}

/* mx_journal_add_note - insert a note unless its import_id is there */
bool
mx_journal_add_note(struct mx_journal *j, const struct mx_domain_note *n, bool *added)
{
	sqlite3_stmt *st;
	int	rc = SQLITE_OK;
	bool	ok;

	if (added != NULL)
		*added = false;
	if (j == NULL || n == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "note insert"))
		return false;
	if (j->version < 4) {
		journal_fail_text(j, "note insert", "journal older than version 4");
		return false;
	}
	if ((st = stmt(j, ST_ADD_NOTE, "note insert")) == NULL)
		return false;
	rc |= sqlite3_bind_int64(st, 1, n->ts_ms);
	rc |= bind_text(st, 2, n->domain);
	rc |= bind_text(st, 3, n->queue_id);
	rc |= bind_text(st, 4, n->recipient);
	rc |= bind_text(st, 5, n->source);
	rc |= bind_text(st, 6, n->node);
	rc |= bind_text(st, 7, n->text);
	rc |= n->import_id != 0 ? sqlite3_bind_int64(st, 8, n->import_id) : sqlite3_bind_null(st, 8);
	if (rc != SQLITE_OK) {
		journal_fail(j, "note bind");
		finish(st);
		return false;
	}
	ok = step_done(j, ST_ADD_NOTE, "note insert");
	if (ok && added != NULL)
		*added = sqlite3_changes(j->db) > 0;
	return ok;
}

/* mx_journal_latest_note - the newest note of domain; false when none or on error */
bool
mx_journal_latest_note(struct mx_journal *j, const char *domain, char *text, size_t len,
		       char *source, size_t srclen, int64_t *ts_ms)
{
	sqlite3_stmt *st;
	bool	found = false;
	int	rc;

	if (j == NULL || domain == NULL)
		return false;
	j->err[0] = '\0';
	if (j->version < 4)
		return false;		/* no notes before version 4: none, not an error */
	if ((st = stmt(j, ST_LATEST_NOTE, "note read")) == NULL)
		return false;
	if (bind_text(st, 1, domain) != SQLITE_OK) {
		journal_fail(j, "note read");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (text != NULL && len > 0)
			copy_column(st, 0, text, len);
		if (source != NULL && srclen > 0)
			copy_column(st, 1, source, srclen);
		if (ts_ms != NULL)
			*ts_ms = sqlite3_column_int64(st, 2);
		found = true;
	} else if (rc != SQLITE_DONE)
		journal_fail(j, "note read");
	finish(st);
	return found;
}

/* mx_journal_get_import_pos - the stored position of path; false when none or on error */
bool
mx_journal_get_import_pos(struct mx_journal *j, const char *path, struct mx_import_pos *out)
{
	sqlite3_stmt *st;
	bool	found = false;
	int	rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (j == NULL || path == NULL || out == NULL)
		return false;
	j->err[0] = '\0';
	if (j->version < 4)
		return false;
	if ((st = stmt(j, ST_GET_POS, "import position read")) == NULL)
		return false;
	if (bind_text(st, 1, path) != SQLITE_OK) {
		journal_fail(j, "import position read");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->dev = sqlite3_column_int64(st, 0);
		out->ino = sqlite3_column_int64(st, 1);
		out->offset = sqlite3_column_int64(st, 2);
		out->head_len = sqlite3_column_int64(st, 3);
		out->head_hash = sqlite3_column_int64(st, 4);
		out->updated_ms = sqlite3_column_int64(st, 5);
		found = true;
	} else if (rc != SQLITE_DONE)
		journal_fail(j, "import position read");
	finish(st);
	return found;
}

/* mx_journal_put_import_pos - store (replace) the position of path */
bool
mx_journal_put_import_pos(struct mx_journal *j, const char *path, const struct mx_import_pos *pos)
{
	sqlite3_stmt *st;
	int	rc = SQLITE_OK;

	if (j == NULL || path == NULL || pos == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "import position write"))
		return false;
	if ((st = stmt(j, ST_PUT_POS, "import position write")) == NULL)
		return false;
	rc |= bind_text(st, 1, path);
	rc |= sqlite3_bind_int64(st, 2, pos->dev);
	rc |= sqlite3_bind_int64(st, 3, pos->ino);
	rc |= sqlite3_bind_int64(st, 4, pos->offset);
	rc |= sqlite3_bind_int64(st, 5, pos->head_len);
	rc |= sqlite3_bind_int64(st, 6, pos->head_hash);
	rc |= sqlite3_bind_int64(st, 7, pos->updated_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "import position bind");
		finish(st);
		return false;
	}
	return step_done(j, ST_PUT_POS, "import position write");
}

/* mx_journal_put_route_tls - remember the TLS policy the oracle gave host:port */
bool
mx_journal_put_route_tls(struct mx_journal *j, const char *host, int port, const char *policy,
			 int rank, const char *domain, int64_t now_ms, int64_t expires_ms)
{
	sqlite3_stmt *st;
	int	rc = SQLITE_OK;

	if (j == NULL || host == NULL || policy == NULL || domain == NULL)
		return false;
	j->err[0] = '\0';
	if (!writable(j, "route tls write"))
		return false;
	if (j->version < 5) {
		journal_fail_text(j, "route tls write", "journal older than version 5");
		return false;
	}
	if ((st = stmt(j, ST_PUT_ROUTE_TLS, "route tls write")) == NULL)
		return false;
	rc |= bind_text(st, 1, host);
	rc |= sqlite3_bind_int(st, 2, port);
	rc |= bind_text(st, 3, policy);
	rc |= sqlite3_bind_int(st, 4, rank);
	rc |= bind_text(st, 5, domain);
	rc |= sqlite3_bind_int64(st, 6, expires_ms);
	rc |= sqlite3_bind_int64(st, 7, now_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "route tls bind");
		finish(st);
		return false;
	}
	return step_done(j, ST_PUT_ROUTE_TLS, "route tls write");
}

/* mx_journal_get_route_tls - the policy remembered for host:port; false when none or on error */
bool
mx_journal_get_route_tls(struct mx_journal *j, const char *host, int port, int64_t now_ms,
			 char *policy, size_t len)
{
	sqlite3_stmt *st;
	bool	found = false;
	int	rc = SQLITE_OK;

	if (j == NULL || host == NULL || policy == NULL || len == 0)
		return false;
	j->err[0] = '\0';
	if (j->version < 5)
		return false;		/* nothing remembered before version 5: none, not an error */
	if ((st = stmt(j, ST_GET_ROUTE_TLS, "route tls read")) == NULL)
		return false;
	rc |= bind_text(st, 1, host);
	rc |= sqlite3_bind_int(st, 2, port);
	rc |= sqlite3_bind_int64(st, 3, now_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "route tls read");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_column(st, 0, policy, len);
		found = true;
	} else if (rc != SQLITE_DONE)
		journal_fail(j, "route tls read");
	finish(st);
	return found;
}

/* need_v6 - the fleet calls need a version 6 journal; the error says why not */
static bool
need_v6(struct mx_journal *j, const char *what)
{
	if (j->version >= 6)
		return true;
	journal_fail_text(j, what, "journal older than version 6 (a read-write open migrates it)");
	return false;
}

/* mx_journal_id - the journal's identity into out */
bool
mx_journal_id(struct mx_journal *j, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	bool	found = false;
	int	rc;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (j == NULL || out == NULL || outlen == 0)
		return false;
	j->err[0] = '\0';
	if (!need_v6(j, "journal id") || (st = stmt(j, ST_GET_ID, "journal id")) == NULL)
		return false;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_column(st, 0, out, outlen);
		found = true;
	} else if (rc == SQLITE_DONE)
		journal_fail_text(j, "journal id", "no journal_id in journal_meta");
	else
		journal_fail(j, "journal id");
	finish(st);
	return found;
}

/* text_or_null - a text column, NULL for NULL (valid until the next step) */
static const char *
text_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL
	    : (const char *)sqlite3_column_text(st, col);
}

/* num_or_none - an integer column into *v; false (and 0) for NULL */
static bool
num_or_none(sqlite3_stmt *st, int col, int64_t *v)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*v = 0;
		return false;
	}
	*v = sqlite3_column_int64(st, col);
	return true;
}

/* clamp_int - an int64 into int's range */
static int
clamp_int(int64_t v)
{
	return v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : (int)v;
}

/* mx_journal_ship_batch - attempts after after_id in id order, at most max */
bool
mx_journal_ship_batch(struct mx_journal *j, int64_t after_id, size_t max,
		      int (*row)(void *arg, const struct mx_journal_ship_row *r), void *arg)
{
	struct mx_journal_ship_row r;
	sqlite3_stmt *st;
	int64_t	v;
	int	rc;
	bool	ok = true;

	if (j == NULL || row == NULL)
		return false;
	j->err[0] = '\0';
	if (max == 0)
		return true;
	if (!need_v6(j, "ship read") || (st = stmt(j, ST_SHIP, "ship read")) == NULL)
		return false;
	if (sqlite3_bind_int64(st, 1, after_id) != SQLITE_OK
	    || sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max) != SQLITE_OK) {
		journal_fail(j, "ship bind");
		finish(st);
		return false;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(st, 0);
		r.ts = sqlite3_column_int64(st, 1);
		r.queue_id = text_or_null(st, 2);
		r.domain = text_or_null(st, 3);
		r.recipient = text_or_null(st, 4);
		r.has_preference = num_or_none(st, 5, &v);
		r.preference = clamp_int(v);
		r.host = text_or_null(st, 6);
		r.address = text_or_null(st, 7);
		r.has_port = num_or_none(st, 8, &v);
		r.port = clamp_int(v);
		r.stage = text_or_null(st, 9);
		r.has_reply_code = num_or_none(st, 10, &v);
		r.reply_code = clamp_int(v);
		r.enhanced_status = text_or_null(st, 11);
		r.reply_text = text_or_null(st, 12);
		r.outcome = text_or_null(st, 13);
		r.decision = text_or_null(st, 14);
		r.reason = text_or_null(st, 15);
		r.has_duration_ms = num_or_none(st, 16, &r.duration_ms);
		r.tls = text_or_null(st, 17);
		r.tls_failure = text_or_null(st, 18);
		r.source = text_or_null(st, 19);
		r.node = text_or_null(st, 20);
		if (row(arg, &r) != 0) {
			journal_fail_text(j, "ship read", "stopped by the caller");
			ok = false;
			break;
		}
	}
	if (ok && rc != SQLITE_DONE) {
		journal_fail(j, "ship read");
		ok = false;
	}
	finish(st);
	return ok;
}

/* mx_journal_backoff_all - every row of the local backoff table */
bool
mx_journal_backoff_all(struct mx_journal *j,
		       int (*row)(void *arg, const struct mx_journal_backoff_row *r), void *arg)
{
	struct mx_journal_backoff_row r;
	sqlite3_stmt *st;
	int	rc;
	bool	ok = true;

	if (j == NULL || row == NULL)
		return false;
	j->err[0] = '\0';
	if ((st = stmt(j, ST_BACKOFF_ALL, "backoff list")) == NULL)
		return false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.address = text_or_null(st, 0);
		r.port = clamp_int(sqlite3_column_int64(st, 1));
		r.failures = clamp_int(sqlite3_column_int64(st, 2));
		r.retry_at = sqlite3_column_int64(st, 3);
		r.last_error = text_or_null(st, 4);
		r.updated = sqlite3_column_int64(st, 5);
		if (row(arg, &r) != 0) {
			journal_fail_text(j, "backoff list", "stopped by the caller");
			ok = false;
			break;
		}
	}
	if (ok && rc != SQLITE_DONE) {
		journal_fail(j, "backoff list");
		ok = false;
	}
	finish(st);
	return ok;
}

/* put_fleet_row - insert one fleet_backoff row */
static bool
put_fleet_row(struct mx_journal *j, const struct mx_journal_fleet_backoff *b)
{
	sqlite3_stmt *st;
	int	rc = SQLITE_OK;

	if ((st = stmt(j, ST_PUT_FLEET, "fleet backoff write")) == NULL)
		return false;
	rc |= bind_text(st, 1, b->node);
	rc |= bind_text(st, 2, b->address);
	rc |= sqlite3_bind_int(st, 3, b->port);
	rc |= sqlite3_bind_int(st, 4, b->failures);
	rc |= sqlite3_bind_int64(st, 5, b->retry_at);
	rc |= bind_text(st, 6, b->last_error[0] != '\0' ? b->last_error : NULL);
	rc |= sqlite3_bind_int64(st, 7, b->updated);
	if (rc != SQLITE_OK) {
		journal_fail(j, "fleet backoff bind");
		finish(st);
		return false;
	}
	return step_done(j, ST_PUT_FLEET, "fleet backoff write");
}

/* mx_journal_replace_fleet_backoff - fleet_backoff becomes exactly these rows */
bool
mx_journal_replace_fleet_backoff(struct mx_journal *j,
				 const struct mx_journal_fleet_backoff *rows, size_t n)
{
	size_t	i;
	bool	own;

	if (j == NULL || (rows == NULL && n > 0))
		return false;
	j->err[0] = '\0';
	if (!writable(j, "fleet backoff write") || !need_v6(j, "fleet backoff write"))
		return false;
	own = sqlite3_get_autocommit(j->db) != 0;
	if (own && !step_done(j, ST_BEGIN, "fleet backoff begin"))
		return false;
	if (!step_done(j, ST_DEL_FLEET, "fleet backoff delete"))
		goto fail;
	for (i = 0; i < n; i++)
		if (!put_fleet_row(j, &rows[i]))
			goto fail;
	if (own && !step_done(j, ST_COMMIT, "fleet backoff commit"))
		goto fail;
	return true;

fail:
	if (own)
		rollback(j);
	return false;
}

/* journal_get_fleet_backoff - the longest running fleet entry of address:port */
static bool
journal_get_fleet_backoff(struct mx_journal *j, const char *address, int port, int64_t now_ms,
			  struct mx_journal_fleet_backoff *out)
{
	sqlite3_stmt *st;
	bool	found = false;
	int	rc = SQLITE_OK;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (j == NULL || address == NULL || out == NULL)
		return false;
	j->err[0] = '\0';
	if (j->version < 6)
		return false;		/* no fleet entries before version 6: none, not an error */
	if ((st = stmt(j, ST_GET_FLEET, "fleet backoff read")) == NULL)
		return false;
	rc |= bind_text(st, 1, address);
	rc |= sqlite3_bind_int(st, 2, port);
	rc |= sqlite3_bind_int64(st, 3, now_ms);
	if (rc != SQLITE_OK) {
		journal_fail(j, "fleet backoff bind");
		finish(st);
		return false;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_column(st, 0, out->node, sizeof(out->node));
		snprintf(out->address, sizeof(out->address), "%s", address);
		out->port = port;
		out->failures = clamp_int(sqlite3_column_int64(st, 1));
		out->retry_at = sqlite3_column_int64(st, 2);
		copy_column(st, 3, out->last_error, sizeof(out->last_error));
		out->updated = sqlite3_column_int64(st, 4);
		found = true;
	} else if (rc != SQLITE_DONE)
		journal_fail(j, "fleet backoff read");
	finish(st);
	return found;
}

/*
 * Time accounting (MXTIER_STAGE_TIMES): the public calls a delivery makes
 * are thin wrappers that add the CPU and wall time of the call, not counting
 * nested calls twice. Off, each wrapper costs one test of a flag.
 */
static struct {
	bool	on;
	int	depth;
	int64_t	cpu_ns, wall_ns;	/* added up */
	int64_t	cpu0, wall0;		/* when the outermost call began */
} account;

/* acct_in - a journal call begins */
static void
acct_in(void)
{
	if (!account.on || account.depth++ > 0)
		return;
	account.cpu0 = mx_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	account.wall0 = mx_clock_ns(CLOCK_MONOTONIC);
}

/* acct_out - a journal call ends */
static void
acct_out(void)
{
	if (!account.on || --account.depth > 0)
		return;
	account.cpu_ns += mx_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - account.cpu0;
	account.wall_ns += mx_clock_ns(CLOCK_MONOTONIC) - account.wall0;
}

/* mx_journal_account - switch the accounting on or off */
void
mx_journal_account(bool on)
{
	account.on = on;
	account.depth = 0;
}

/* mx_journal_accounted - the time added up so far */
void
mx_journal_accounted(int64_t *cpu_ns, int64_t *wall_ns)
{
	*cpu_ns = account.cpu_ns;
	*wall_ns = account.wall_ns;
}

/* mx_journal_open - open or create the journal at path */
struct mx_journal *
mx_journal_open(const char *path, bool readonly, char *err, size_t errlen)
{
	struct mx_journal *j;

	acct_in();
	j = journal_open(path, readonly, err, errlen);
	acct_out();
	return j;
}

/* mx_journal_close - finalize the statements and close */
void
mx_journal_close(struct mx_journal *j)
{
	acct_in();
	journal_close(j);
	acct_out();
}

/* mx_journal_add_attempt - insert one row */
bool
mx_journal_add_attempt(struct mx_journal *j, const struct mx_attempt *a)
{
	bool	ok;

	acct_in();
	ok = journal_add_attempt(j, a);
	acct_out();
	return ok;
}

/* mx_journal_get_backoff - the state of address:port; false with failures 0 when none */
bool
mx_journal_get_backoff(struct mx_journal *j, const char *address, int port,
		       struct mx_backoff *out)
{
	bool	ok;

	acct_in();
	ok = journal_get_backoff(j, address, port, out);
	acct_out();
	return ok;
}

/* mx_journal_note_failure - one more temporary failure of address:port */
bool
mx_journal_note_failure(struct mx_journal *j, const char *address, int port,
			int64_t now_ms, int initial_s, int max_s, const char *error,
			struct mx_backoff *out)
{
	bool	ok;

	acct_in();
	ok = journal_note_failure(j, address, port, now_ms, initial_s, max_s, error, out);
	acct_out();
	return ok;
}

/* mx_journal_note_success - address:port worked: forget its backoff */
bool
mx_journal_note_success(struct mx_journal *j, const char *address, int port)
{
	bool	ok;

	acct_in();
	ok = journal_note_success(j, address, port);
	acct_out();
	return ok;
}

/* mx_journal_backoff_at - the state R13 applies to address:port at now_ms */
bool
mx_journal_backoff_at(struct mx_journal *j, const char *address, int port, int64_t now_ms,
		      bool fleet, struct mx_backoff *out)
{
	struct mx_journal_fleet_backoff f;
	struct mx_backoff local, theirs;
	bool	have_theirs = false;

	memset(out, 0, sizeof(*out));
	acct_in();
	/* a missing local row is no error: journal_get_backoff says false, "" */
	(void)journal_get_backoff(j, address, port, &local);
	if (j != NULL && j->err[0] == '\0' && fleet && !mx_backoff_running(&local, now_ms) &&
	    journal_get_fleet_backoff(j, address, port, now_ms, &f)) {
		mx_backoff_from_fleet(&f, &theirs);
		have_theirs = true;
	}
	acct_out();
	if (j == NULL || j->err[0] != '\0')
		return false;
	return mx_backoff_pick(&local, have_theirs ? &theirs : NULL, now_ms, out);
}

/* mx_journal_get_fleet_backoff - the longest running fleet entry of address:port */
bool
mx_journal_get_fleet_backoff(struct mx_journal *j, const char *address, int port,
			     int64_t now_ms, struct mx_journal_fleet_backoff *out)
{
	bool	ok;

	acct_in();
	ok = journal_get_fleet_backoff(j, address, port, now_ms, out);
	acct_out();
	return ok;
}

/* mx_journal_prune - delete old attempts and long-expired backoff rows */
bool
mx_journal_prune(struct mx_journal *j, int64_t now_ms, int64_t retention_s,
		 int max_backoff_s)
{
	bool	ok;

	acct_in();
	ok = journal_prune(j, now_ms, retention_s, max_backoff_s);
	acct_out();
	return ok;
}

/* mx_journal_get_sts - the cached MTA-STS policy of domain; false when none or on error */
bool
mx_journal_get_sts(struct mx_journal *j, const char *domain, struct mx_sts_policy *out)
{
	bool	ok;

	acct_in();
	ok = journal_get_sts(j, domain, out);
	acct_out();
	return ok;
}
