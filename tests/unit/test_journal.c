/*
 * test_journal - unit tests for shared/journal.c (SQLite delivery journal)
 *
 * Every test gets a fresh directory under $TMPDIR (or /tmp), removed by the
 * teardown even when the test fails. What the journal wrote is checked
 * through a second, independent sqlite3 connection. The concurrency tests
 * fork real writer processes against one fresh file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "journal.h"
#include "sts.h"

#define NOW		INT64_C(1700000000000)	/* a fixed "now" in ms */
#define WRITERS		16
#define ROWS		200
#define OPENERS		64
#define OPENER_ROWS	5

struct fixture {
	char	dir[PATH_MAX - 64];
	char	path[PATH_MAX];		/* dir/journal.db */
};

/* rm_entry - nftw callback: remove one entry, depth first */
static int
rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* setup - a fresh temp directory per test */
static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	if (fx == NULL)
		return -1;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > sizeof(fx->dir) - 32)
		tmp = "/tmp";
	snprintf(fx->dir, sizeof(fx->dir), "%s/test_journal.XXXXXX", tmp);
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/journal.db", fx->dir);
	*state = fx;
	return 0;
}

/* teardown - remove the directory and everything in it */
static int
teardown(void **state)
{
	struct fixture *fx = *state;
	int	rc;

	rc = nftw(fx->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/* open_ok - open that must work */
static struct mx_journal *
open_ok(const char *path, bool readonly)
{
	char	err[1024] = "";
	struct mx_journal *j = mx_journal_open(path, readonly, err, sizeof(err));

	if (j == NULL)
		fail_msg("open %s failed: %s", path, err);
	assert_string_equal(mx_journal_error(j), "");
	return j;
}

/* raw_open - an independent connection for checking what is on disk */
static sqlite3 *
raw_open(const char *path)
{
	sqlite3	*db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		fail_msg("raw open %s: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* raw_exec - run SQL on the raw connection */
static void
raw_exec(sqlite3 *db, const char *sql)
{
	char   *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

/* raw_int - first column of the first row as a number */
static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t	v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("%s: no row: %s", sql, sqlite3_errmsg(db));
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* raw_text - first column of the first row as text */
static void
raw_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("%s: no row: %s", sql, sqlite3_errmsg(db));
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* read_file - the whole file into a malloc'd buffer */
static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE   *fp = fopen(path, "rb");
	unsigned char *buf;
	long	n;

	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* write_garbage - overwrite len bytes at offset with deterministic noise */
static void
write_garbage(const char *path, off_t offset, size_t len)
{
	unsigned char buf[4096];
	uint32_t x = 2463534242u;
	size_t	i;
	int	fd = open(path, O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_true(len <= sizeof(buf));
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	assert_int_equal(pwrite(fd, buf, len, offset), (ssize_t)len);
	close(fd);
}

/* sample - an attempt with every field set */
static struct mx_attempt
sample(int64_t ts, const char *domain)
{
	struct mx_attempt a = {
		.ts_ms = ts,
		.queue_id = "4ABC123",
		.domain = domain,
		.recipient = "user@example.org",
		.preference = 10,
		.host = "mx1.example.org",
		.address = "192.0.2.25",
		.port = 25,
		.stage = "rcpt",
		.reply_code = 451,
		.enhanced_status = "4.7.1",
		.reply_text = "try again later",
		.outcome = "tempfail",
		.decision = "next_host",
		.reason = "greylisted",
		.duration_ms = 1234,
	};

	return a;
}

/* test_journal_open_creates_file - new file, mode 0600, WAL on */
static void
test_journal_open_creates_file(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	struct stat sb;
	sqlite3	*db;
	char	mode[32];
	mode_t	old = umask(022);

	j = open_ok(fx->path, false);
	umask(old);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	/* the umask of the caller is back */
	assert_int_equal(umask(old), old);

	db = raw_open(fx->path);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
	sqlite3_close(db);
	mx_journal_close(j);

	/* reopening keeps everything and stays at mode 0600 */
	j = open_ok(fx->path, false);
	assert_int_equal(mx_journal_count_attempts(j, NULL), 0);
	mx_journal_close(j);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	mx_journal_close(NULL);
}

/* One expected row of PRAGMA table_info. */
struct column {
	const char *name;
	const char *type;
	int	notnull;
	int	pk;
};

/* check_columns - PRAGMA table_info must list exactly these columns */
static void
check_columns(sqlite3 *db, const char *table, const struct column *cols, int n)
{
	char	sql[128];
	sqlite3_stmt *st;
	int	i = 0;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (i >= n)
			fail_msg("%s: extra column %s", table, sqlite3_column_text(st, 1));
		assert_int_equal(sqlite3_column_int(st, 0), i);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), cols[i].name);
		assert_string_equal((const char *)sqlite3_column_text(st, 2), cols[i].type);
		assert_int_equal(sqlite3_column_int(st, 3), cols[i].notnull);
		assert_int_equal(sqlite3_column_int(st, 5), cols[i].pk);
		i++;
	}
	sqlite3_finalize(st);
	assert_int_equal(i, n);
}

/* test_journal_schema_columns - columns, keys and indexes as designed */
static void
test_journal_schema_columns(void **state)
{
	static const struct column attempts[] = {
		{ "id", "INTEGER", 0, 1 },
		{ "ts", "INTEGER", 1, 0 },
		{ "queue_id", "TEXT", 0, 0 },
		{ "domain", "TEXT", 1, 0 },
		{ "recipient", "TEXT", 0, 0 },
		{ "preference", "INTEGER", 0, 0 },
		{ "host", "TEXT", 0, 0 },
		{ "address", "TEXT", 0, 0 },
		{ "port", "INTEGER", 0, 0 },
		{ "stage", "TEXT", 0, 0 },
		{ "reply_code", "INTEGER", 0, 0 },
		{ "enhanced_status", "TEXT", 0, 0 },
		{ "reply_text", "TEXT", 0, 0 },
		{ "outcome", "TEXT", 1, 0 },
		{ "decision", "TEXT", 0, 0 },
		{ "reason", "TEXT", 0, 0 },
		{ "duration_ms", "INTEGER", 0, 0 },
		{ "tls", "TEXT", 0, 0 },
		{ "tls_failure", "TEXT", 0, 0 },
		{ "source", "TEXT", 1, 0 },
		{ "node", "TEXT", 0, 0 },
		{ "import_id", "INTEGER", 0, 0 },
	};
	static const struct column sts[] = {
		{ "domain", "TEXT", 1, 1 },
		{ "id", "TEXT", 1, 0 },
		{ "mode", "TEXT", 1, 0 },
		{ "max_age", "INTEGER", 1, 0 },
		{ "mx", "TEXT", 1, 0 },
		{ "fetched", "INTEGER", 1, 0 },
	};
	static const struct column domains[] = {
		{ "domain", "TEXT", 1, 1 },
		{ "last_ts", "INTEGER", 1, 0 },
	};
	static const struct column backoff[] = {
		{ "address", "TEXT", 1, 1 },
		{ "port", "INTEGER", 1, 2 },
		{ "failures", "INTEGER", 1, 0 },
		{ "retry_at", "INTEGER", 1, 0 },
		{ "last_error", "TEXT", 0, 0 },
		{ "updated", "INTEGER", 1, 0 },
	};
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	sqlite3	*db = raw_open(fx->path);
	char	idx[128];

	static const struct column import_files[] = {
		{ "path", "TEXT", 1, 1 },
		{ "dev", "INTEGER", 1, 0 },
		{ "ino", "INTEGER", 1, 0 },
		{ "offset", "INTEGER", 1, 0 },
		{ "head_len", "INTEGER", 1, 0 },
		{ "head_hash", "INTEGER", 1, 0 },
		{ "updated", "INTEGER", 1, 0 },
	};
	static const struct column notes[] = {
		{ "id", "INTEGER", 0, 1 },
		{ "ts", "INTEGER", 1, 0 },
		{ "domain", "TEXT", 1, 0 },
		{ "queue_id", "TEXT", 0, 0 },
		{ "recipient", "TEXT", 0, 0 },
		{ "source", "TEXT", 1, 0 },
		{ "node", "TEXT", 0, 0 },
		{ "text", "TEXT", 1, 0 },
		{ "import_id", "INTEGER", 0, 0 },
	};
	static const struct column route_tls[] = {
		{ "host", "TEXT", 1, 1 },
		{ "port", "INTEGER", 1, 2 },
		{ "policy", "TEXT", 1, 0 },
		{ "rank", "INTEGER", 1, 0 },
		{ "domain", "TEXT", 1, 0 },
		{ "expires", "INTEGER", 1, 0 },
	};
	static const struct column meta[] = {
		{ "key", "TEXT", 1, 1 },
		{ "value", "TEXT", 1, 0 },
	};
	static const struct column fleet[] = {
		{ "node", "TEXT", 1, 1 },
		{ "address", "TEXT", 1, 2 },
		{ "port", "INTEGER", 1, 3 },
		{ "failures", "INTEGER", 1, 0 },
		{ "retry_at", "INTEGER", 1, 0 },
		{ "last_error", "TEXT", 0, 0 },
		{ "updated", "INTEGER", 1, 0 },
	};

	check_columns(db, "attempts", attempts, 22);
	check_columns(db, "route_tls", route_tls, 6);
	check_columns(db, "import_files", import_files, 7);
	check_columns(db, "domain_notes", notes, 9);
	check_columns(db, "backoff", backoff, 6);
	check_columns(db, "domains", domains, 2);
	check_columns(db, "sts_policies", sts, 6);
	check_columns(db, "journal_meta", meta, 2);
	check_columns(db, "fleet_backoff", fleet, 7);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 9);
	raw_text(db, "SELECT group_concat(name, ',') FROM (SELECT name FROM"
		 " pragma_index_info('fleet_backoff_address') ORDER BY seqno)", idx, sizeof(idx));
	assert_string_equal(idx, "address,port,retry_at");
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
				 " AND tbl_name = 'attempts'"), 1);
	raw_text(db, "SELECT group_concat(name, ',') FROM pragma_index_info('domains_last_ts')",
		 idx, sizeof(idx));
	assert_string_equal(idx, "last_ts");
	/* exactly the indexes (domain, ts), (ts) and the unique partial import_id */
	raw_text(db, "SELECT group_concat(cols, ' | ') FROM (SELECT (SELECT"
		 " group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name)"
		 " ORDER BY seqno)) AS cols FROM pragma_index_list('attempts') l"
		 " WHERE l.origin = 'c' ORDER BY cols)", idx, sizeof(idx));
	assert_string_equal(idx, "domain,ts | import_id | ts");
	assert_int_equal(raw_int(db, "SELECT \"unique\" + partial FROM pragma_index_list('attempts')"
				 " WHERE name = 'attempts_import_id'"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_index_list('backoff')"
				 " WHERE origin = 'c'"), 0);
	sqlite3_close(db);
	mx_journal_close(j);
}

/* check_text - column i is this text, or NULL when want is NULL */
static void
check_text(sqlite3_stmt *st, int i, const char *want)
{
	if (want == NULL) {
		assert_int_equal(sqlite3_column_type(st, i), SQLITE_NULL);
		return;
	}
	assert_int_equal(sqlite3_column_type(st, i), SQLITE_TEXT);
	assert_string_equal((const char *)sqlite3_column_text(st, i), want);
}

/* check_num - column i is this number, or NULL when null */
static void
check_num(sqlite3_stmt *st, int i, int64_t want, bool null)
{
	if (null) {
		assert_int_equal(sqlite3_column_type(st, i), SQLITE_NULL);
		return;
	}
	assert_int_equal(sqlite3_column_type(st, i), SQLITE_INTEGER);
	assert_int_equal(sqlite3_column_int64(st, i), want);
}

/* test_journal_insert_read_back - every column lands as given, NULLs as NULL */
static void
test_journal_insert_read_back(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt full = sample(NOW, "example.org");
	struct mx_attempt bare = {
		.ts_ms = NOW + 1, .domain = "example.net", .outcome = "skipped",
		.preference = -1, .port = -1, .reply_code = 0, .duration_ms = -1,
	};
	struct mx_attempt zero = sample(NOW + 2, "example.org");
	sqlite3_stmt *st;
	sqlite3	*db;

	zero.preference = 0;
	zero.port = 0;
	zero.duration_ms = 0;
	assert_true(mx_journal_add_attempt(j, &full));
	assert_true(mx_journal_add_attempt(j, &bare));
	assert_true(mx_journal_add_attempt(j, &zero));
	assert_string_equal(mx_journal_error(j), "");
	assert_int_equal(mx_journal_count_attempts(j, NULL), 3);
	assert_int_equal(mx_journal_count_attempts(j, "example.org"), 2);
	assert_int_equal(mx_journal_count_attempts(j, "example.net"), 1);
	assert_int_equal(mx_journal_count_attempts(j, "example.com"), 0);

	db = raw_open(fx->path);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT ts, queue_id, domain, recipient,"
		" preference, host, address, port, stage, reply_code, enhanced_status,"
		" reply_text, outcome, decision, reason, duration_ms FROM attempts"
		" ORDER BY ts", -1, &st, NULL), SQLITE_OK);

	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	check_num(st, 0, NOW, false);
	check_text(st, 1, "4ABC123");
	check_text(st, 2, "example.org");
	check_text(st, 3, "user@example.org");
	check_num(st, 4, 10, false);
	check_text(st, 5, "mx1.example.org");
	check_text(st, 6, "192.0.2.25");
	check_num(st, 7, 25, false);
	check_text(st, 8, "rcpt");
	check_num(st, 9, 451, false);
	check_text(st, 10, "4.7.1");
	check_text(st, 11, "try again later");
	check_text(st, 12, "tempfail");
	check_text(st, 13, "next_host");
	check_text(st, 14, "greylisted");
	check_num(st, 15, 1234, false);

	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	check_num(st, 0, NOW + 1, false);
	check_text(st, 1, NULL);
	check_text(st, 2, "example.net");
	check_text(st, 3, NULL);
	check_num(st, 4, 0, true);
	check_text(st, 5, NULL);
	check_text(st, 6, NULL);
	check_num(st, 7, 0, true);
	check_text(st, 8, NULL);
	check_num(st, 9, 0, true);
	check_text(st, 10, NULL);
	check_text(st, 11, NULL);
	check_text(st, 12, "skipped");
	check_text(st, 13, NULL);
	check_text(st, 14, NULL);
	check_num(st, 15, 0, true);

	/* zero preference, port and duration are values, not "none" */
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	check_num(st, 4, 0, false);
	check_num(st, 7, 0, false);
	check_num(st, 15, 0, false);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	mx_journal_close(j);
}

/* test_journal_insert_constraint - a missing domain/outcome fails, the handle still works */
static void
test_journal_insert_constraint(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a = sample(NOW, NULL);

	assert_false(mx_journal_add_attempt(j, &a));
	assert_non_null(strstr(mx_journal_error(j), "attempts insert"));
	assert_non_null(strstr(mx_journal_error(j), "attempts.domain"));
	assert_non_null(strstr(mx_journal_error(j), fx->path));
	a = sample(NOW, "example.org");
	a.outcome = NULL;
	assert_false(mx_journal_add_attempt(j, &a));
	assert_non_null(strstr(mx_journal_error(j), "attempts.outcome"));
	a.outcome = "delivered";
	assert_true(mx_journal_add_attempt(j, &a));
	assert_string_equal(mx_journal_error(j), "");
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	assert_false(mx_journal_add_attempt(j, NULL));
	mx_journal_close(j);
}

/* test_journal_readonly_missing - read-only never creates a journal */
static void
test_journal_readonly_missing(void **state)
{
	struct fixture *fx = *state;
	char	err[1024] = "";
	char	want[PATH_MAX + 32];

	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	snprintf(want, sizeof(want), "no journal at %s", fx->path);
	assert_string_equal(err, want);
	assert_int_equal(access(fx->path, F_OK), -1);
	assert_int_equal(errno, ENOENT);

	/* an empty file is not a journal either, and stays empty */
	write_garbage(fx->path, 0, 0);
	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "not a journal"));
}

/* test_journal_readonly_never_writes - no byte of the file changes */
static void
test_journal_readonly_never_writes(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a = sample(NOW, "example.org");
	struct mx_backoff b;
	unsigned char *before, *after;
	size_t	nbefore, nafter;
	struct stat s1, s2;

	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 10, 60, "timeout", NULL));
	mx_journal_close(j);
	before = read_file(fx->path, &nbefore);
	assert_int_equal(stat(fx->path, &s1), 0);

	j = open_ok(fx->path, true);
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 1);
	assert_false(mx_journal_add_attempt(j, &a));
	assert_non_null(strstr(mx_journal_error(j), "attempts insert"));
	assert_non_null(strstr(mx_journal_error(j), "read-only"));
	assert_false(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 10, 60, "x", &b));
	assert_non_null(strstr(mx_journal_error(j), "read-only"));
	assert_false(mx_journal_note_success(j, "192.0.2.1", 25));
	assert_non_null(strstr(mx_journal_error(j), "read-only"));
	assert_false(mx_journal_prune(j, NOW * 2, 1, 1));
	assert_non_null(strstr(mx_journal_error(j), "read-only"));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	mx_journal_close(j);

	after = read_file(fx->path, &nafter);
	assert_int_equal(stat(fx->path, &s2), 0);
	assert_int_equal(nbefore, nafter);
	assert_memory_equal(before, after, nbefore);
	assert_int_equal(s1.st_mtim.tv_sec, s2.st_mtim.tv_sec);
	assert_int_equal(s1.st_mtim.tv_nsec, s2.st_mtim.tv_nsec);
	assert_int_equal(s1.st_mode, s2.st_mode);
	free(before);
	free(after);
}

/* test_journal_missing_directory - the directory must exist: clean failure */
static void
test_journal_missing_directory(void **state)
{
	struct fixture *fx = *state;
	char	path[PATH_MAX + 32], err[1024] = "";

	snprintf(path, sizeof(path), "%s/nope/journal.db", fx->dir);
	assert_null(mx_journal_open(path, false, err, sizeof(err)));
	assert_true(strncmp(err, "journal ", 8) == 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "unable to open"));
	assert_int_equal(access(path, F_OK), -1);
	err[0] = '\0';
	assert_null(mx_journal_open(path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "no journal at"));
	/* no buffer for the reason is fine too */
	assert_null(mx_journal_open(path, false, NULL, 0));
	assert_null(mx_journal_open("", false, err, sizeof(err)));
	assert_string_not_equal(err, "");
}

/* test_journal_path_is_directory - a directory is not a journal */
static void
test_journal_path_is_directory(void **state)
{
	struct fixture *fx = *state;
	char	err[1024] = "";

	assert_int_equal(mkdir(fx->path, 0700), 0);
	assert_null(mx_journal_open(fx->path, false, err, sizeof(err)));
	assert_non_null(strstr(err, fx->path));
	assert_non_null(strstr(err, "directory"));
	err[0] = '\0';
	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "directory"));
}

/* test_journal_backoff_sequence - 10, 20, 40, then capped at 60 seconds */
static void
test_journal_backoff_sequence(void **state)
{
	static const int64_t want_s[] = { 10, 20, 40, 60, 60 };
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_backoff b, got;
	char	err[32];
	int	i;

	memset(&b, 0x55, sizeof(b));
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 0);
	assert_int_equal(b.retry_at_ms, 0);
	assert_string_equal(b.last_error, "");
	assert_string_equal(mx_journal_error(j), "");

	for (i = 0; i < 5; i++) {
		int64_t	now = NOW + i * 1000;

		snprintf(err, sizeof(err), "error %d", i + 1);
		assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, now, 10, 60, err, &b));
		assert_int_equal(b.failures, i + 1);
		assert_int_equal(b.retry_at_ms, now + want_s[i] * 1000);
		assert_string_equal(b.last_error, err);
		assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &got));
		assert_int_equal(got.failures, i + 1);
		assert_int_equal(got.retry_at_ms, now + want_s[i] * 1000);
		assert_string_equal(got.last_error, err);
	}
	/* the key is address and port: other ports and addresses are untouched */
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 587, &got));
	assert_false(mx_journal_get_backoff(j, "192.0.2.2", 25, &got));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 587, NOW, 10, 60, NULL, NULL));
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 587, &got));
	assert_int_equal(got.failures, 1);
	assert_string_equal(got.last_error, "");
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &got));
	assert_int_equal(got.failures, 5);
	mx_journal_close(j);
}

/* test_journal_backoff_huge_failures - no overflow, the cap holds */
static void
test_journal_backoff_huge_failures(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_backoff b;
	char	longerr[600];
	sqlite3	*db;
	int	i;

	/* many calls in a row */
	for (i = 0; i < 200; i++)
		assert_true(mx_journal_note_failure(j, "2001:db8::1", 25, NOW, 300, 86400,
						    "451", &b));
	assert_int_equal(b.failures, 200);
	assert_int_equal(b.retry_at_ms, NOW + INT64_C(86400) * 1000);

	/* a count near INT_MAX saturates */
	db = raw_open(fx->path);
	raw_exec(db, "INSERT INTO backoff VALUES ('192.0.2.9', 25, 2147483646, 0, NULL, 0)");
	sqlite3_close(db);
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 10, 60, "e", &b));
	assert_int_equal(b.failures, INT_MAX);
	assert_int_equal(b.retry_at_ms, NOW + 60000);
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 10, 60, "e", &b));
	assert_int_equal(b.failures, INT_MAX);
	assert_int_equal(b.retry_at_ms, NOW + 60000);

	/* the largest configurable times */
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, INT_MAX, INT_MAX, "e", &b));
	assert_int_equal(b.retry_at_ms, NOW + (int64_t)INT_MAX * 1000);
	/* initial 0 means no wait; max below initial caps */
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 0, 60, "e", &b));
	assert_int_equal(b.retry_at_ms, NOW);
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 100, 60, "e", &b));
	assert_int_equal(b.retry_at_ms, NOW + 60000);

	/* a long error text is kept whole in the table, cut in the struct */
	memset(longerr, 'x', sizeof(longerr) - 1);
	longerr[sizeof(longerr) - 1] = '\0';
	assert_true(mx_journal_note_failure(j, "192.0.2.10", 25, NOW, 10, 60, longerr, &b));
	assert_int_equal(strlen(b.last_error), sizeof(b.last_error) - 1);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT length(last_error) FROM backoff"
				 " WHERE address = '192.0.2.10'"), sizeof(longerr) - 1);
	sqlite3_close(db);
	mx_journal_close(j);
}

/* test_journal_backoff_success_clears - success forgets the row */
static void
test_journal_backoff_success_clears(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_backoff b;

	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 10, 60, "e", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 10, 60, "e", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.2", 25, NOW, 10, 60, "e", NULL));
	assert_true(mx_journal_note_success(j, "192.0.2.1", 25));
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 0);
	assert_true(mx_journal_get_backoff(j, "192.0.2.2", 25, &b));
	/* success without a row is fine; the next failure starts over */
	assert_true(mx_journal_note_success(j, "192.0.2.1", 25));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 10, 60, "e", &b));
	assert_int_equal(b.failures, 1);
	assert_int_equal(b.retry_at_ms, NOW + 10000);
	/* no address is an error, not a crash */
	assert_false(mx_journal_note_success(j, NULL, 25));
	assert_string_not_equal(mx_journal_error(j), "");
	assert_false(mx_journal_note_failure(j, NULL, 25, NOW, 10, 60, "e", &b));
	assert_false(mx_journal_get_backoff(j, NULL, 25, &b));
	assert_string_not_equal(mx_journal_error(j), "");
	mx_journal_close(j);
}

/* test_journal_prune - old rows go, recent ones stay */
static void
test_journal_prune(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a;
	struct mx_backoff b;
	int64_t	day = INT64_C(86400) * 1000;

	a = sample(NOW - 40 * day, "old.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 30 * day - 1, "old.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 30 * day, "edge.example");	/* exactly at the limit: kept */
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 1000, "new.example");
	assert_true(mx_journal_add_attempt(j, &a));
	/* retry passed 2 h ago (max 1 h): gone; 30 min ago: kept; future: kept */
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW - 7200000 - 10000,
					    10, 3600, "e", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.2", 25, NOW - 1800000 - 10000,
					    10, 3600, "e", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.3", 25, NOW, 10, 3600, "e", NULL));

	assert_true(mx_journal_prune(j, NOW, 30 * 86400, 3600));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 2);
	assert_int_equal(mx_journal_count_attempts(j, "old.example"), 0);
	assert_int_equal(mx_journal_count_attempts(j, "edge.example"), 1);
	assert_int_equal(mx_journal_count_attempts(j, "new.example"), 1);
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_true(mx_journal_get_backoff(j, "192.0.2.2", 25, &b));
	assert_true(mx_journal_get_backoff(j, "192.0.2.3", 25, &b));

	/* absurd retention neither overflows nor deletes */
	assert_true(mx_journal_prune(j, NOW, INT64_MAX, INT_MAX));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 2);
	/* retention 0 deletes everything before now but the newest id */
	assert_true(mx_journal_prune(j, NOW, 0, 0));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	assert_int_equal(mx_journal_count_attempts(j, "new.example"), 1);
	assert_false(mx_journal_get_backoff(j, "192.0.2.2", 25, &b));
	assert_true(mx_journal_get_backoff(j, "192.0.2.3", 25, &b));
	mx_journal_close(j);
}

/*
 * test_journal_prune_check - with nothing old enough the prune does not need
 * the write lock (another connection holds it: it still returns at once, not
 * after the 5 s busy budget); an expired backoff row alone is enough to prune
 */
static void
test_journal_prune_check(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a;
	struct mx_backoff b;
	sqlite3	*raw;
	time_t	t0;

	a = sample(NOW - 1000, "new.example");
	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW - 60000, 10, 3600, "e", NULL));
	raw = raw_open(fx->path);
	raw_exec(raw, "BEGIN IMMEDIATE");
	t0 = time(NULL);
	assert_true(mx_journal_prune(j, NOW, 30 * 86400, 3600));
	assert_true(time(NULL) - t0 < 3);
	/* the backoff row expires: now the prune needs the lock, and waits for it */
	assert_false(mx_journal_prune(j, NOW + 2 * 3600 * 1000, 30 * 86400, 3600));
	assert_string_not_equal(mx_journal_error(j), "");
	raw_exec(raw, "COMMIT");
	sqlite3_close(raw);
	assert_true(mx_journal_get_backoff(j, "192.0.2.9", 25, &b));
	assert_true(mx_journal_prune(j, NOW + 2 * 3600 * 1000, 30 * 86400, 3600));
	assert_false(mx_journal_get_backoff(j, "192.0.2.9", 25, &b));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	mx_journal_close(j);
}

/*
 * test_journal_keeps_wal - the last close checkpoints and leaves an empty
 * -wal file (not deleted and made again by the next process); every row is
 * in the main file and a read-only open reads it
 */
static void
test_journal_keeps_wal(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a;
	struct stat sb;
	char	wal[PATH_MAX + 8];

	a = sample(NOW, "wal.example");
	assert_true(mx_journal_add_attempt(j, &a));
	mx_journal_close(j);
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	j = open_ok(fx->path, true);
	assert_int_equal(mx_journal_count_attempts(j, "wal.example"), 1);
	mx_journal_close(j);
	j = open_ok(fx->path, false);
	a = sample(NOW + 1, "wal.example");
	assert_true(mx_journal_add_attempt(j, &a));
	assert_int_equal(mx_journal_count_attempts(j, "wal.example"), 2);
	mx_journal_close(j);
}

/* test_journal_accounting - the time of journal calls adds up only while switched on */
static void
test_journal_accounting(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	struct mx_attempt a;
	int64_t	cpu, wall, cpu2, wall2;

	j = open_ok(fx->path, false);
	mx_journal_accounted(&cpu, &wall);
	assert_int_equal(cpu, 0);
	assert_int_equal(wall, 0);
	mx_journal_close(j);
	mx_journal_account(true);
	j = open_ok(fx->path, false);
	a = sample(NOW, "acct.example");
	assert_true(mx_journal_add_attempt(j, &a));
	mx_journal_close(j);
	mx_journal_accounted(&cpu, &wall);
	assert_true(cpu > 0);
	assert_true(wall > 0);
	mx_journal_account(false);
	j = open_ok(fx->path, false);
	mx_journal_close(j);
	mx_journal_accounted(&cpu2, &wall2);
	assert_true(cpu2 == cpu && wall2 == wall);
}

/* test_journal_corrupt_file - garbage fails with a reason, never a crash */
static void
test_journal_corrupt_file(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	struct mx_attempt a = sample(NOW, "example.org");
	char	err[1024] = "";
	int	i;
	bool	failed = false;
	sqlite3	*db;

	/* a file of noise: not a database */
	write_garbage(fx->path, 0, 4096);
	assert_null(mx_journal_open(fx->path, false, err, sizeof(err)));
	assert_non_null(strstr(err, fx->path));
	assert_non_null(strstr(err, "not a database"));
	err[0] = '\0';
	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "not a database"));
	assert_int_equal(unlink(fx->path), 0);

	/* a real journal whose table pages were overwritten */
	j = open_ok(fx->path, false);
	for (i = 0; i < 50; i++)
		assert_true(mx_journal_add_attempt(j, &a));
	mx_journal_close(j);
	/* the rows must be in the file, not only in a WAL, for the garbage to
	 * hit them: checkpoint (closing the last connection does that too) */
	db = raw_open(fx->path);
	raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	sqlite3_close(db);
	write_garbage(fx->path, 4096, 4096);
	write_garbage(fx->path, 8192, 4096);
	err[0] = '\0';
	j = mx_journal_open(fx->path, false, err, sizeof(err));
	if (j == NULL) {
		assert_string_not_equal(err, "");
	} else {
		for (i = 0; i < 50 && !failed; i++)
			failed = !mx_journal_add_attempt(j, &a);
		if (!failed)
			failed = mx_journal_count_attempts(j, NULL) < 0;
		assert_true(failed);
		assert_non_null(strstr(mx_journal_error(j), fx->path));
		assert_non_null(strstr(mx_journal_error(j), "malformed"));
		mx_journal_close(j);
	}
}

/* test_journal_newer_schema - a journal from a later version is refused */
static void
test_journal_newer_schema(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	char	err[1024] = "";
	sqlite3	*db;

	mx_journal_close(j);
	db = raw_open(fx->path);
	raw_exec(db, "PRAGMA user_version = 7");
	sqlite3_close(db);
	assert_null(mx_journal_open(fx->path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 7 is newer than 6"));
	err[0] = '\0';
	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 7 is newer than 6"));
}

/* domains_of - mx_journal_recent_domains as one string "a b c" */
static void
domains_of(struct mx_journal *j, int64_t since, int max, char *out, size_t len)
{
	char	names[16][254];
	int	i, n = mx_journal_recent_domains(j, since, names, max);

	assert_true(n >= 0);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", names[i]);
}

/*
 * test_journal_recent_domains - newest first, each once, since and max
 * honoured, pruned with the attempts; an attempt inserted with an older time
 * never moves a domain back
 */
static void
test_journal_recent_domains(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a;
	char	got[256];
	sqlite3	*db;

	a = sample(NOW - 5000, "a.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 4000, "b.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 3000, "c.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 1000, "a.example");
	assert_true(mx_journal_add_attempt(j, &a));
	a = sample(NOW - 9000, "c.example");	/* late, older: c stays at -3000 */
	assert_true(mx_journal_add_attempt(j, &a));
	domains_of(j, 0, 16, got, sizeof(got));
	assert_string_equal(got, "a.example c.example b.example");
	domains_of(j, 0, 2, got, sizeof(got));
	assert_string_equal(got, "a.example c.example");
	domains_of(j, NOW - 3500, 16, got, sizeof(got));
	assert_string_equal(got, "a.example c.example");

	/* retention 3 s: attempts before NOW - 3000 go, and b with them; c keeps
	 * its attempt at exactly the limit */
	assert_true(mx_journal_prune(j, NOW, 3, 0));
	domains_of(j, 0, 16, got, sizeof(got));
	assert_string_equal(got, "a.example c.example");
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM domains"), 2);
	/* a, c at -3000, and c's late row at -9000: old, but the newest id stays */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM attempts"), 3);
	sqlite3_close(db);
	mx_journal_close(j);
}

/* v1_schema - the schema of version 1, as the first release created it */
static const char v1_schema[] =
	"CREATE TABLE attempts (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, queue_id TEXT,"
	" domain TEXT NOT NULL, recipient TEXT, preference INTEGER, host TEXT, address TEXT,"
	" port INTEGER, stage TEXT, reply_code INTEGER, enhanced_status TEXT, reply_text TEXT,"
	" outcome TEXT NOT NULL, decision TEXT, reason TEXT, duration_ms INTEGER);"
	"CREATE INDEX attempts_domain_ts ON attempts (domain, ts);"
	"CREATE INDEX attempts_ts ON attempts (ts);"
	"CREATE TABLE backoff (address TEXT NOT NULL, port INTEGER NOT NULL,"
	" failures INTEGER NOT NULL, retry_at INTEGER NOT NULL, last_error TEXT,"
	" updated INTEGER NOT NULL, PRIMARY KEY (address, port));"
	"INSERT INTO attempts (ts, domain, outcome) VALUES (1000, 'old.example', 'delivered'),"
	" (3000, 'new.example', 'delivered'), (2000, 'old.example', 'tempfail');"
	"PRAGMA journal_mode = WAL;"
	"PRAGMA user_version = 1;";

/*
 * test_journal_migrates_v1 - a read-only open reads a version 1 journal as
 * it is; the first read-write open migrates it to version 2 with every
 * domain's newest attempt, and the list is the same before and after
 */
static void
test_journal_migrates_v1(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	struct mx_attempt a;
	char	got[256];
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 NULL), SQLITE_OK);
	raw_exec(db, v1_schema);
	sqlite3_close(db);

	j = open_ok(fx->path, true);
	domains_of(j, 0, 16, got, sizeof(got));
	assert_string_equal(got, "new.example old.example");
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
	sqlite3_close(db);

	j = open_ok(fx->path, false);
	domains_of(j, 0, 16, got, sizeof(got));
	assert_string_equal(got, "new.example old.example");
	a = sample(4000, "old.example");
	assert_true(mx_journal_add_attempt(j, &a));
	domains_of(j, 0, 16, got, sizeof(got));
	assert_string_equal(got, "old.example new.example");
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
	/* rows written before version 4 read as mxtier-pipe's */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM attempts WHERE source = 'mxtier-pipe'"), 4);
	assert_int_equal(raw_int(db, "SELECT last_ts FROM domains WHERE domain = 'old.example'"), 4000);
	assert_int_equal(raw_int(db, "SELECT last_ts FROM domains WHERE domain = 'new.example'"), 3000);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM attempts"), 4);
	sqlite3_close(db);
}

/*
 * test_journal_import_identity - a row with an import_id is added once: the
 * same identity again adds nothing and says so; rows without one (mxtier-pipe)
 * are never merged; source and node are read back
 */
static void
test_journal_import_identity(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a = sample(1000, "imp.example");
	struct mx_attempt_row rows[4];
	bool	added = false;

	a.source = "postfix";
	a.node = "relay3";
	a.import_id = 0x7fffffff12345678LL;
	assert_true(mx_journal_import_attempt(j, &a, &added));
	assert_true(added);
	assert_true(mx_journal_import_attempt(j, &a, &added));
	assert_false(added);
	a.import_id = -5;		/* the upper half of 64-bit hashes */
	assert_true(mx_journal_import_attempt(j, &a, &added));
	assert_true(added);
	a = sample(2000, "imp.example");
	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_add_attempt(j, &a));
	assert_int_equal(mx_journal_count_attempts(j, "imp.example"), 4);
	assert_int_equal(mx_journal_recent_attempts(j, "imp.example", rows, 4), 4);
	assert_string_equal(rows[0].source, "mxtier-pipe");
	assert_string_equal(rows[0].node, "");
	assert_string_equal(rows[3].source, "postfix");
	assert_string_equal(rows[3].node, "relay3");
	mx_journal_close(j);
}

/* test_journal_batch_with_backoff - backoff updates join a caller's transaction; rollback drops all */
static void
test_journal_batch_with_backoff(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a = sample(1000, "batch.example");
	struct mx_backoff b;

	assert_true(mx_journal_begin(j));
	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, 1000, 60, 3600, "refused", &b));
	assert_int_equal(b.failures, 1);
	mx_journal_rollback(j);
	assert_int_equal(mx_journal_count_attempts(j, "batch.example"), 0);
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));

	assert_true(mx_journal_begin(j));
	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, 1000, 60, 3600, "refused", &b));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, 2000, 60, 3600, "refused", &b));
	assert_true(mx_journal_commit(j));
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 2);
	assert_int_equal(b.retry_at_ms, 2000 + 120000);
	assert_int_equal(mx_journal_count_attempts(j, "batch.example"), 1);
	mx_journal_close(j);
}

/* test_journal_import_pos_and_notes - file positions replace; notes dedupe and read back newest */
static void
test_journal_import_pos_and_notes(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false), *ro;
	struct mx_import_pos p = { 8, 1234, 4096, 512, -77, 1000 }, got;
	struct mx_domain_note n = { 5000, "n.example", "QID1", "r@n.example", "postfix", "relay3",
				    "delivery temporarily suspended: connect to mx[192.0.2.1]:25: "
				    "Connection refused", 99 };
	char	text[512], src[16];
	int64_t	ts = 0;
	bool	added;

	assert_false(mx_journal_get_import_pos(j, "/var/log/mail.log", &got));
	assert_true(mx_journal_put_import_pos(j, "/var/log/mail.log", &p));
	p.offset = 8192;
	assert_true(mx_journal_put_import_pos(j, "/var/log/mail.log", &p));
	assert_true(mx_journal_get_import_pos(j, "/var/log/mail.log", &got));
	assert_int_equal(got.dev, 8);
	assert_int_equal(got.ino, 1234);
	assert_int_equal(got.offset, 8192);
	assert_int_equal(got.head_len, 512);
	assert_int_equal(got.head_hash, -77);

	assert_false(mx_journal_latest_note(j, "n.example", text, sizeof(text), src, sizeof(src), &ts));
	assert_true(mx_journal_add_note(j, &n, &added));
	assert_true(added);
	assert_true(mx_journal_add_note(j, &n, &added));
	assert_false(added);
	n.ts_ms = 6000;
	n.text = "retry time not reached";
	n.import_id = 100;
	assert_true(mx_journal_add_note(j, &n, &added));
	mx_journal_close(j);

	ro = open_ok(fx->path, true);
	assert_true(mx_journal_latest_note(ro, "n.example", text, sizeof(text), src, sizeof(src), &ts));
	assert_string_equal(text, "retry time not reached");
	assert_string_equal(src, "postfix");
	assert_int_equal(ts, 6000);
	assert_false(mx_journal_put_import_pos(ro, "/x", &p));
	mx_journal_close(ro);
}

/* sts_sample - a policy for the cache tests */
static struct mx_sts_policy
sts_sample(const char *domain, const char *id, enum mx_sts_mode mode, size_t nmx)
{
	struct mx_sts_policy p;
	size_t	i;

	memset(&p, 0, sizeof(p));
	snprintf(p.domain, sizeof(p.domain), "%s", domain);
	snprintf(p.id, sizeof(p.id), "%s", id);
	p.mode = mode;
	p.max_age = 604800;
	for (i = 0; i < nmx; i++)
		snprintf(p.mx[i], sizeof(p.mx[i]), i == 1 ? "*.mx%zu.%s" : "mx%zu.%s", i, domain);
	p.nmx = nmx;
	p.fetched_ms = NOW;
	return p;
}

/* test_journal_sts_round_trip - a policy comes back as stored; mx newline-joined on disk */
static void
test_journal_sts_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_sts_policy p = sts_sample("example.com", "20160831085700Z",
					    MX_STS_MODE_ENFORCE, 3), got;
	char	text[512];
	sqlite3	*db;

	assert_true(mx_journal_put_sts(j, &p));
	assert_string_equal(mx_journal_error(j), "");
	memset(&got, 0x55, sizeof(got));
	assert_true(mx_journal_get_sts(j, "example.com", &got));
	assert_string_equal(got.domain, "example.com");
	assert_string_equal(got.id, "20160831085700Z");
	assert_int_equal(got.mode, MX_STS_MODE_ENFORCE);
	assert_int_equal(got.max_age, 604800);
	assert_int_equal(got.nmx, 3);
	assert_string_equal(got.mx[0], "mx0.example.com");
	assert_string_equal(got.mx[1], "*.mx1.example.com");
	assert_string_equal(got.mx[2], "mx2.example.com");
	assert_int_equal(got.fetched_ms, NOW);
	mx_journal_close(j);

	db = raw_open(fx->path);
	raw_text(db, "SELECT mx FROM sts_policies WHERE domain = 'example.com'", text, sizeof(text));
	assert_string_equal(text, "mx0.example.com\n*.mx1.example.com\nmx2.example.com");
	raw_text(db, "SELECT mode FROM sts_policies", text, sizeof(text));
	assert_string_equal(text, "enforce");
	sqlite3_close(db);

	/* a read-only handle reads it and may not write */
	j = open_ok(fx->path, true);
	assert_true(mx_journal_get_sts(j, "example.com", &got));
	assert_int_equal(got.nmx, 3);
	assert_false(mx_journal_put_sts(j, &p));
	assert_non_null(strstr(mx_journal_error(j), "read-only"));
	mx_journal_close(j);
}

/* test_journal_sts_replace - a second put replaces the row; other domains stay */
static void
test_journal_sts_replace(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_sts_policy a = sts_sample("example.com", "one", MX_STS_MODE_ENFORCE, 2);
	struct mx_sts_policy b = sts_sample("example.com", "two", MX_STS_MODE_NONE, 0);
	struct mx_sts_policy other = sts_sample("example.net", "x1", MX_STS_MODE_TESTING, 1), got;
	sqlite3	*db;

	assert_true(mx_journal_put_sts(j, &a));
	assert_true(mx_journal_put_sts(j, &other));
	b.fetched_ms = NOW + 5000;
	b.max_age = 60;
	assert_true(mx_journal_put_sts(j, &b));
	assert_true(mx_journal_get_sts(j, "example.com", &got));
	assert_string_equal(got.id, "two");
	assert_int_equal(got.mode, MX_STS_MODE_NONE);
	assert_int_equal(got.nmx, 0);
	assert_int_equal(got.max_age, 60);
	assert_int_equal(got.fetched_ms, NOW + 5000);
	assert_true(mx_journal_get_sts(j, "example.net", &got));
	assert_string_equal(got.id, "x1");
	assert_int_equal(got.mode, MX_STS_MODE_TESTING);
	assert_int_equal(got.nmx, 1);
	assert_string_equal(got.mx[0], "mx0.example.net");
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sts_policies"), 2);
	sqlite3_close(db);
}

/* test_journal_sts_missing - no row: false, a cleared policy and no error */
static void
test_journal_sts_missing(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_sts_policy p = sts_sample("example.com", "one", MX_STS_MODE_ENFORCE, 1), got;

	memset(&got, 0x55, sizeof(got));
	assert_false(mx_journal_get_sts(j, "example.com", &got));
	assert_string_equal(mx_journal_error(j), "");
	assert_int_equal(got.nmx, 0);
	assert_string_equal(got.id, "");
	assert_true(mx_journal_put_sts(j, &p));
	assert_false(mx_journal_get_sts(j, "example.org", &got));
	assert_false(mx_journal_get_sts(j, "EXAMPLE.COM", &got));	/* callers normalise */
	assert_string_equal(mx_journal_error(j), "");
	assert_false(mx_journal_get_sts(NULL, "example.com", &got));
	assert_false(mx_journal_put_sts(NULL, &p));
	mx_journal_close(j);
}

/* route_tls_of - the policy remembered for host:25 at now, or "-" */
static const char *
route_tls_of(struct mx_journal *j, const char *host, int64_t now, char *buf, size_t len)
{
	if (!mx_journal_get_route_tls(j, host, 25, now, buf, len))
		snprintf(buf, len, "-");
	return buf;
}

/* test_journal_route_tls_round_trip - put and get; port and host are the key */
static void
test_journal_route_tls_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	char	got[128];
	sqlite3	*db;

	assert_string_equal(route_tls_of(j, "mx1.example.com", NOW, got, sizeof(got)), "-");
	assert_string_equal(mx_journal_error(j), "");
	assert_true(mx_journal_put_route_tls(j, "mx1.example.com", 25, "dane", 3, "example.com",
					     NOW, NOW + 60000));
	assert_string_equal(mx_journal_error(j), "");
	assert_string_equal(route_tls_of(j, "mx1.example.com", NOW, got, sizeof(got)), "dane");
	/* another port, another host: nothing */
	assert_false(mx_journal_get_route_tls(j, "mx1.example.com", 2525, NOW, got, sizeof(got)));
	assert_string_equal(route_tls_of(j, "mx2.example.com", NOW, got, sizeof(got)), "-");
	/* a small buffer is cut, not overrun */
	memset(got, 'x', sizeof(got));
	assert_true(mx_journal_get_route_tls(j, "mx1.example.com", 25, NOW, got, 3));
	assert_string_equal(got, "da");
	assert_int_equal(got[3], 'x');
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT rank FROM route_tls WHERE host = 'mx1.example.com'"), 3);
	raw_text(db, "SELECT domain FROM route_tls", got, sizeof(got));
	assert_string_equal(got, "example.com");
	assert_int_equal(raw_int(db, "SELECT expires FROM route_tls"), NOW + 60000);
	sqlite3_close(db);
	/* a read-only handle reads it and may not write */
	j = open_ok(fx->path, true);
	assert_string_equal(route_tls_of(j, "mx1.example.com", NOW, got, sizeof(got)), "dane");
	assert_false(mx_journal_put_route_tls(j, "mx1.example.com", 25, "may", 9, "example.com",
					      NOW, NOW + 60000));
	assert_true(mx_journal_error(j)[0] != '\0');
	mx_journal_close(j);
	assert_false(mx_journal_get_route_tls(NULL, "mx1.example.com", 25, NOW, got, sizeof(got)));
	assert_false(mx_journal_put_route_tls(NULL, "mx1.example.com", 25, "may", 1, "x", NOW, NOW));
}

/*
 * test_journal_route_tls_stricter_kept - two domains share a host: the
 * stricter (higher rank) unexpired entry stays, an equal or higher rank
 * replaces, an expired one is replaced by anything, get ignores expired
 */
static void
test_journal_route_tls_stricter_kept(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	char	got[128];
	sqlite3	*db;

	assert_true(mx_journal_put_route_tls(j, "mx.shared.net", 25, "secure match=mx.shared.net:a.com:.a.com",
					     5, "a.com", NOW, NOW + 10000));
	/* weaker, not expired: the put succeeds, the row stays */
	assert_true(mx_journal_put_route_tls(j, "mx.shared.net", 25, "may", 1, "b.com", NOW + 1000,
					     NOW + 20000));
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 1000, got, sizeof(got)),
			    "secure match=mx.shared.net:a.com:.a.com");
	db = raw_open(fx->path);
	raw_text(db, "SELECT domain FROM route_tls", got, sizeof(got));
	assert_string_equal(got, "a.com");
	assert_int_equal(raw_int(db, "SELECT expires FROM route_tls"), NOW + 10000);
	sqlite3_close(db);
	/* the same rank again replaces (the newer domain, the later expiry) */
	assert_true(mx_journal_put_route_tls(j, "mx.shared.net", 25, "secure match=mx.shared.net:c.com:.c.com",
					     5, "c.com", NOW + 2000, NOW + 30000));
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 2000, got, sizeof(got)),
			    "secure match=mx.shared.net:c.com:.c.com");
	/* stricter replaces */
	assert_true(mx_journal_put_route_tls(j, "mx.shared.net", 25, "dane-only", 6, "d.com",
					     NOW + 3000, NOW + 40000));
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 3000, got, sizeof(got)),
			    "dane-only");
	/* get ignores it once expired (expires is exclusive) */
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 39999, got, sizeof(got)),
			    "dane-only");
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 40000, got, sizeof(got)), "-");
	assert_string_equal(mx_journal_error(j), "");
	/* expired: a weaker entry replaces it */
	assert_true(mx_journal_put_route_tls(j, "mx.shared.net", 25, "may", 1, "b.com", NOW + 40000,
					     NOW + 50000));
	assert_string_equal(route_tls_of(j, "mx.shared.net", NOW + 40000, got, sizeof(got)), "may");
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM route_tls"), 1);
	raw_text(db, "SELECT domain FROM route_tls", got, sizeof(got));
	assert_string_equal(got, "b.com");
	sqlite3_close(db);
}

/*
 * test_journal_route_tls_old_schema - a version 1 journal opened read-only
 * (not migrated): get says none without an error; put fails and says why
 */
static void
test_journal_route_tls_old_schema(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	char	got[64];
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 NULL), SQLITE_OK);
	raw_exec(db, v1_schema);
	sqlite3_close(db);
	j = open_ok(fx->path, true);
	assert_false(mx_journal_get_route_tls(j, "mx1.example.com", 25, NOW, got, sizeof(got)));
	assert_string_equal(mx_journal_error(j), "");
	assert_false(mx_journal_put_route_tls(j, "mx1.example.com", 25, "may", 1, "example.com",
					      NOW, NOW + 1000));
	assert_true(mx_journal_error(j)[0] != '\0');
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'route_tls'"), 0);
	sqlite3_close(db);
}

/*
 * v5_schema - a version 5 journal as the code before version 6 made it
 * (sqlite3 .schema of a journal written by that code), with rows in
 * attempts, backoff and route_tls
 */
static const char v5_schema[] =
	"CREATE TABLE attempts (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, queue_id TEXT,"
	" domain TEXT NOT NULL, recipient TEXT, preference INTEGER, host TEXT, address TEXT,"
	" port INTEGER, stage TEXT, reply_code INTEGER, enhanced_status TEXT, reply_text TEXT,"
	" outcome TEXT NOT NULL, decision TEXT, reason TEXT, duration_ms INTEGER, tls TEXT,"
	" tls_failure TEXT, source TEXT NOT NULL DEFAULT 'mxtier-pipe', node TEXT,"
	" import_id INTEGER);"
	"CREATE INDEX attempts_domain_ts ON attempts (domain, ts);"
	"CREATE INDEX attempts_ts ON attempts (ts);"
	"CREATE TABLE backoff (address TEXT NOT NULL, port INTEGER NOT NULL,"
	" failures INTEGER NOT NULL, retry_at INTEGER NOT NULL, last_error TEXT,"
	" updated INTEGER NOT NULL, PRIMARY KEY (address, port));"
	"CREATE TABLE domains (domain TEXT NOT NULL PRIMARY KEY, last_ts INTEGER NOT NULL)"
	" WITHOUT ROWID;"
	"CREATE INDEX domains_last_ts ON domains (last_ts);"
	"CREATE TRIGGER attempts_domains AFTER INSERT ON attempts BEGIN INSERT INTO domains"
	" (domain, last_ts) VALUES (new.domain, new.ts) ON CONFLICT (domain) DO UPDATE SET"
	" last_ts = max(last_ts, excluded.last_ts); END;"
	"CREATE TABLE sts_policies (domain TEXT NOT NULL PRIMARY KEY, id TEXT NOT NULL,"
	" mode TEXT NOT NULL, max_age INTEGER NOT NULL, mx TEXT NOT NULL,"
	" fetched INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX attempts_import_id ON attempts (import_id)"
	" WHERE import_id IS NOT NULL;"
	"CREATE TABLE import_files (path TEXT NOT NULL PRIMARY KEY, dev INTEGER NOT NULL,"
	" ino INTEGER NOT NULL, offset INTEGER NOT NULL, head_len INTEGER NOT NULL,"
	" head_hash INTEGER NOT NULL, updated INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE domain_notes (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
	" domain TEXT NOT NULL, queue_id TEXT, recipient TEXT, source TEXT NOT NULL, node TEXT,"
	" text TEXT NOT NULL, import_id INTEGER);"
	"CREATE UNIQUE INDEX domain_notes_import_id ON domain_notes (import_id)"
	" WHERE import_id IS NOT NULL;"
	"CREATE INDEX domain_notes_domain_ts ON domain_notes (domain, ts);"
	"CREATE TABLE route_tls (host TEXT NOT NULL, port INTEGER NOT NULL,"
	" policy TEXT NOT NULL, rank INTEGER NOT NULL, domain TEXT NOT NULL,"
	" expires INTEGER NOT NULL, PRIMARY KEY (host, port)) WITHOUT ROWID;"
	"INSERT INTO attempts (ts, domain, address, port, outcome, node) VALUES"
	" (1000, 'v5.example', '192.0.2.5', 25, 'tempfail', NULL),"
	" (2000, 'v5.example', '192.0.2.5', 25, 'tempfail', 'old');"
	"INSERT INTO backoff VALUES ('192.0.2.5', 25, 2, 1700000060000, '451 later', 1700000000000);"
	"INSERT INTO route_tls VALUES ('mx.v5.example', 25, 'may', 1, 'v5.example', 1800000000000);"
	"PRAGMA journal_mode = WAL;"
	"PRAGMA user_version = 5;";

/* is_hex32 - 32 lower-case hex digits */
static bool
is_hex32(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/*
 * test_journal_id - a new journal gets a random identity once: the same on
 * every open, read-only too, and another from a second journal; one too
 * small a buffer fails
 */
static void
test_journal_id(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	char	id[64], again[64], other[64], path2[PATH_MAX + 8];
	sqlite3	*db;

	assert_true(mx_journal_id(j, id, sizeof(id)));
	assert_true(is_hex32(id));
	mx_journal_close(j);
	j = open_ok(fx->path, false);
	assert_true(mx_journal_id(j, again, sizeof(again)));
	assert_string_equal(again, id);
	mx_journal_close(j);
	j = open_ok(fx->path, true);
	assert_true(mx_journal_id(j, again, sizeof(again)));
	assert_string_equal(again, id);
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM journal_meta"), 1);
	sqlite3_close(db);

	snprintf(path2, sizeof(path2), "%s/two.db", fx->dir);
	j = open_ok(path2, false);
	assert_true(mx_journal_id(j, other, sizeof(other)));
	assert_true(is_hex32(other));
	assert_string_not_equal(other, id);
	mx_journal_close(j);
	assert_false(mx_journal_id(NULL, other, sizeof(other)));
}

/*
 * test_journal_migrates_v5 - a version 5 journal: read-only it stays as it
 * is (no identity, no fleet entries, without an error for the latter); the
 * first read-write open makes it version 6 with an identity, keeps every
 * row, and a second open keeps the same identity
 */
static void
test_journal_migrates_v5(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j;
	struct mx_journal_fleet_backoff fb;
	struct mx_backoff b;
	char	id[64], again[64], got[64];
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 NULL), SQLITE_OK);
	raw_exec(db, v5_schema);
	sqlite3_close(db);

	j = open_ok(fx->path, true);
	assert_false(mx_journal_id(j, id, sizeof(id)));
	assert_non_null(strstr(mx_journal_error(j), "older than version 6"));
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.5", 25, NOW, &fb));
	assert_string_equal(mx_journal_error(j), "");
	assert_int_equal(mx_journal_count_attempts(j, "v5.example"), 2);
	mx_journal_close(j);
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
	sqlite3_close(db);

	j = open_ok(fx->path, false);
	assert_true(mx_journal_id(j, id, sizeof(id)));
	assert_true(is_hex32(id));
	assert_int_equal(mx_journal_count_attempts(j, "v5.example"), 2);
	assert_int_equal(mx_journal_last_id(j), 2);
	assert_true(mx_journal_get_backoff(j, "192.0.2.5", 25, &b));
	assert_int_equal(b.failures, 2);
	assert_string_equal(b.last_error, "451 later");
	assert_true(mx_journal_get_route_tls(j, "mx.v5.example", 25, NOW, got, sizeof(got)));
	assert_string_equal(got, "may");
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.5", 25, NOW, &fb));
	assert_string_equal(mx_journal_error(j), "");
	mx_journal_close(j);

	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff"), 0);
	raw_text(db, "SELECT node FROM attempts WHERE id = 2", got, sizeof(got));
	assert_string_equal(got, "old");
	sqlite3_close(db);
	j = open_ok(fx->path, false);
	assert_true(mx_journal_id(j, again, sizeof(again)));
	assert_string_equal(again, id);
	mx_journal_close(j);
}

/*
 * test_journal_prune_keeps_max_id - a prune of everything keeps the row
 * with the largest id (however old: an imported one), so the next insert
 * gets a larger id than any before; with only that row old, the prune does
 * not ask for the write lock again and again
 */
static void
test_journal_prune_keeps_max_id(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a;
	int64_t	day = INT64_C(86400) * 1000, last;
	sqlite3	*raw;
	time_t	t0;
	int	i;

	for (i = 0; i < 5; i++) {
		a = sample(NOW - 40 * day + i, "old.example");
		assert_true(mx_journal_add_attempt(j, &a));
	}
	/* an imported row: old time, newest id */
	a = sample(NOW - 50 * day, "imported.example");
	assert_true(mx_journal_add_attempt(j, &a));
	last = mx_journal_last_id(j);
	assert_int_equal(last, 6);
	assert_true(mx_journal_prune(j, NOW, 30 * 86400, 3600));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	assert_int_equal(mx_journal_count_attempts(j, "imported.example"), 1);
	assert_int_equal(mx_journal_last_id(j), last);

	/* nothing else is old: the prune is a read, even with the lock held elsewhere */
	raw = raw_open(fx->path);
	raw_exec(raw, "BEGIN IMMEDIATE");
	t0 = time(NULL);
	assert_true(mx_journal_prune(j, NOW, 30 * 86400, 3600));
	assert_true(mx_journal_prune(j, NOW, 0, 0));
	assert_true(time(NULL) - t0 < 3);
	raw_exec(raw, "COMMIT");
	sqlite3_close(raw);

	a = sample(NOW, "new.example");
	assert_true(mx_journal_add_attempt(j, &a));
	assert_int_equal(mx_journal_last_id(j), last + 1);
	/* now the imported row is not the newest any more: it goes */
	assert_true(mx_journal_prune(j, NOW, 30 * 86400, 3600));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	assert_int_equal(mx_journal_count_attempts(j, "new.example"), 1);
	assert_true(mx_journal_prune(j, NOW + 1, 0, 0));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 1);
	a = sample(NOW + 2, "newer.example");
	assert_true(mx_journal_add_attempt(j, &a));
	assert_int_equal(mx_journal_last_id(j), last + 2);
	mx_journal_close(j);
}

/* One row of a ship batch as the test keeps it. */
struct ship_seen {
	int	n, stop_at;
	int64_t	ids[16];
	char	domain[16][32];
	struct mx_journal_ship_row first;	/* pointers not kept: checked in the callback */
	bool	first_ok, null_ok;
};

/* ship_cb - keep ids and domains; check the full row and the NULL row while they live */
static int
ship_cb(void *arg, const struct mx_journal_ship_row *r)
{
	struct ship_seen *s = arg;

	if (s->n >= 16)
		return -1;
	s->ids[s->n] = r->id;
	snprintf(s->domain[s->n], sizeof(s->domain[0]), "%s", r->domain);
	if (strcmp(r->domain, "full.example") == 0)
		s->first_ok = r->ts == NOW && strcmp(r->queue_id, "4ABC123") == 0
		    && strcmp(r->recipient, "user@example.org") == 0
		    && r->has_preference && r->preference == 10
		    && strcmp(r->host, "mx1.example.org") == 0
		    && strcmp(r->address, "192.0.2.25") == 0 && r->has_port && r->port == 25
		    && strcmp(r->stage, "rcpt") == 0 && r->has_reply_code && r->reply_code == 451
		    && strcmp(r->enhanced_status, "4.7.1") == 0
		    && strcmp(r->reply_text, "try again later") == 0
		    && strcmp(r->outcome, "tempfail") == 0 && strcmp(r->decision, "next_host") == 0
		    && strcmp(r->reason, "greylisted") == 0
		    && r->has_duration_ms && r->duration_ms == 1234
		    && strcmp(r->tls, "verified") == 0 && strcmp(r->tls_failure, "sts-webpki-invalid") == 0
		    && strcmp(r->source, "postfix") == 0 && strcmp(r->node, "relay3") == 0;
	if (strcmp(r->domain, "null.example") == 0)
		s->null_ok = r->queue_id == NULL && r->recipient == NULL && !r->has_preference
		    && r->host == NULL && r->address == NULL && !r->has_port && r->stage == NULL
		    && !r->has_reply_code && r->enhanced_status == NULL && r->reply_text == NULL
		    && r->decision == NULL && r->reason == NULL && !r->has_duration_ms
		    && r->tls == NULL && r->tls_failure == NULL
		    && strcmp(r->source, "mxtier-pipe") == 0 && r->node == NULL
		    && strcmp(r->outcome, "skipped") == 0;
	s->n++;
	return s->n == s->stop_at ? 1 : 0;
}

/*
 * test_journal_ship_batch - pages of attempts after an id, in id order,
 * every column, NULL as NULL; the caller can stop a walk
 */
static void
test_journal_ship_batch(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct mx_attempt a, n = { .ts_ms = NOW + 1, .domain = "null.example",
				   .preference = -1, .port = -1, .duration_ms = -1,
				   .outcome = "skipped" };
	struct ship_seen s;
	char	dom[8][32];
	int	i;

	a = sample(NOW, "full.example");
	a.tls = "verified";
	a.tls_failure = "sts-webpki-invalid";
	a.source = "postfix";
	a.node = "relay3";
	assert_true(mx_journal_add_attempt(j, &a));
	assert_true(mx_journal_add_attempt(j, &n));
	for (i = 0; i < 5; i++) {
		snprintf(dom[i], sizeof(dom[i]), "d%d.example", i);
		a = sample(NOW - i * 1000, dom[i]);	/* older times, newer ids */
		assert_true(mx_journal_add_attempt(j, &a));
	}

	memset(&s, 0, sizeof(s));
	assert_true(mx_journal_ship_batch(j, 0, 3, ship_cb, &s));
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], 1);
	assert_int_equal(s.ids[1], 2);
	assert_int_equal(s.ids[2], 3);
	assert_true(s.first_ok);
	assert_true(s.null_ok);
	/* the next page starts after the last id seen */
	assert_true(mx_journal_ship_batch(j, s.ids[2], 3, ship_cb, &s));
	assert_int_equal(s.n, 6);
	assert_int_equal(s.ids[3], 4);
	assert_int_equal(s.ids[5], 6);
	assert_string_equal(s.domain[5], "d3.example");
	assert_true(mx_journal_ship_batch(j, s.ids[5], 3, ship_cb, &s));
	assert_int_equal(s.n, 7);
	assert_int_equal(s.ids[6], 7);
	/* past the end: nothing, and true */
	assert_true(mx_journal_ship_batch(j, 7, 3, ship_cb, &s));
	assert_int_equal(s.n, 7);
	assert_true(mx_journal_ship_batch(j, 0, 0, ship_cb, &s));
	assert_int_equal(s.n, 7);

	/* a callback that says stop: false, the reason, no more rows */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_false(mx_journal_ship_batch(j, 0, 100, ship_cb, &s));
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(mx_journal_error(j), "stopped by the caller"));
	/* and the statement is reset: the next walk works */
	memset(&s, 0, sizeof(s));
	assert_true(mx_journal_ship_batch(j, 5, 100, ship_cb, &s));
	assert_int_equal(s.n, 2);
	assert_string_equal(mx_journal_error(j), "");
	mx_journal_close(j);
}

/* A walk of the local backoff table as one string. */
struct backoff_seen {
	char	text[512];
};

/* backoff_cb - "address:port failures retry_at last_error;" per row */
static int
backoff_cb(void *arg, const struct mx_journal_backoff_row *r)
{
	struct backoff_seen *s = arg;
	size_t	len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s:%d %d %lld %s %lld;", r->address,
		 r->port, r->failures, (long long)(r->retry_at - NOW),
		 r->last_error != NULL ? r->last_error : "(null)", (long long)(r->updated - NOW));
	return 0;
}

/* test_journal_backoff_all - every local backoff row, expired ones too, NULL error as NULL */
static void
test_journal_backoff_all(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false);
	struct backoff_seen s;

	memset(&s, 0, sizeof(s));
	assert_true(mx_journal_backoff_all(j, backoff_cb, &s));
	assert_string_equal(s.text, "");
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 60, 3600, "421 busy", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.9", 25, NOW, 60, 3600, "421 busy", NULL));
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 587, NOW - 7200000, 60, 3600, NULL,
					    NULL));
	assert_true(mx_journal_backoff_all(j, backoff_cb, &s));
	assert_string_equal(s.text, "192.0.2.1:587 1 -7140000 (null) -7200000;"
			    "192.0.2.9:25 2 120000 421 busy 0;");
	mx_journal_close(j);
}

/* fleet_entry - one fleet backoff row */
static struct mx_journal_fleet_backoff
fleet_entry(const char *node, const char *address, int port, int64_t retry_at, const char *err)
{
	struct mx_journal_fleet_backoff b;

	memset(&b, 0, sizeof(b));
	snprintf(b.node, sizeof(b.node), "%s", node);
	snprintf(b.address, sizeof(b.address), "%s", address);
	b.port = port;
	b.failures = 3;
	b.retry_at = retry_at;
	snprintf(b.last_error, sizeof(b.last_error), "%s", err);
	b.updated = NOW - 5000;
	return b;
}

/*
 * test_journal_replace_fleet_backoff - the table becomes exactly the new
 * set; a replace that fails half way leaves the old set whole; an empty set
 * empties it; a read-only handle cannot write
 */
static void
test_journal_replace_fleet_backoff(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false), *ro;
	struct mx_journal_fleet_backoff set1[3], set2[3], got;
	sqlite3	*db;
	char	text[256];

	set1[0] = fleet_entry("relay1", "192.0.2.1", 25, NOW + 60000, "421 busy");
	set1[1] = fleet_entry("relay2", "192.0.2.1", 25, NOW + 90000, "");
	set1[2] = fleet_entry("relay2", "192.0.2.2", 25, NOW + 30000, "451 later");
	assert_true(mx_journal_replace_fleet_backoff(j, set1, 3));
	db = raw_open(fx->path);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff"), 3);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff WHERE last_error IS NULL"), 1);
	raw_text(db, "SELECT group_concat(node || ' ' || address || ' ' || failures || ' '"
		 " || (updated - 1700000000000), ',') FROM (SELECT * FROM fleet_backoff"
		 " ORDER BY node, address)", text, sizeof(text));
	assert_string_equal(text, "relay1 192.0.2.1 3 -5000,relay2 192.0.2.1 3 -5000,"
			    "relay2 192.0.2.2 3 -5000");

	/* the third row of the new set fails: nothing of the new set lands */
	raw_exec(db, "CREATE TRIGGER fb_boom BEFORE INSERT ON fleet_backoff"
		 " WHEN new.address = '198.51.100.99' BEGIN SELECT RAISE(ABORT, 'boom'); END");
	set2[0] = fleet_entry("relay4", "198.51.100.1", 25, NOW + 60000, "x");
	set2[1] = fleet_entry("relay4", "198.51.100.2", 25, NOW + 60000, "x");
	set2[2] = fleet_entry("relay4", "198.51.100.99", 25, NOW + 60000, "x");
	assert_false(mx_journal_replace_fleet_backoff(j, set2, 3));
	assert_non_null(strstr(mx_journal_error(j), "boom"));
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff"), 3);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff WHERE node = 'relay4'"), 0);
	assert_true(mx_journal_get_fleet_backoff(j, "192.0.2.1", 25, NOW, &got));
	assert_string_equal(got.node, "relay2");

	/* the first two of the new set: the old set is gone */
	assert_true(mx_journal_replace_fleet_backoff(j, set2, 2));
	raw_text(db, "SELECT group_concat(address, ',') FROM (SELECT address FROM fleet_backoff"
		 " ORDER BY address)", text, sizeof(text));
	assert_string_equal(text, "198.51.100.1,198.51.100.2");
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.1", 25, NOW, &got));

	/* inside the caller's transaction it joins it: a rollback undoes it */
	assert_true(mx_journal_begin(j));
	assert_true(mx_journal_replace_fleet_backoff(j, set1, 3));
	mx_journal_rollback(j);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff"), 2);

	assert_true(mx_journal_replace_fleet_backoff(j, NULL, 0));
	assert_int_equal(raw_int(db, "SELECT count(*) FROM fleet_backoff"), 0);
	sqlite3_close(db);

	ro = open_ok(fx->path, true);
	assert_false(mx_journal_replace_fleet_backoff(ro, set1, 3));
	assert_non_null(strstr(mx_journal_error(ro), "read-only"));
	mx_journal_close(ro);
	mx_journal_close(j);
}

/*
 * test_journal_get_fleet_backoff - of the running entries of an address the
 * one that runs longest, with its node; an expired entry (retry_at at or
 * before now) is never returned; port and address are the key
 */
static void
test_journal_get_fleet_backoff(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false), *ro;
	struct mx_journal_fleet_backoff set[5], got;

	set[0] = fleet_entry("relay1", "192.0.2.1", 25, NOW + 60000, "421 one");
	set[1] = fleet_entry("relay2", "192.0.2.1", 25, NOW + 120000, "421 two");
	set[2] = fleet_entry("relay3", "192.0.2.1", 25, NOW - 1, "421 expired");
	set[3] = fleet_entry("relay4", "192.0.2.1", 2525, NOW + 999000, "other port");
	set[4] = fleet_entry("relay5", "192.0.2.7", 25, NOW, "ends now");
	set[1].failures = 7;
	assert_true(mx_journal_replace_fleet_backoff(j, set, 5));

	assert_true(mx_journal_get_fleet_backoff(j, "192.0.2.1", 25, NOW, &got));
	assert_string_equal(got.node, "relay2");
	assert_string_equal(got.address, "192.0.2.1");
	assert_int_equal(got.port, 25);
	assert_int_equal(got.failures, 7);
	assert_int_equal(got.retry_at, NOW + 120000);
	assert_string_equal(got.last_error, "421 two");
	assert_int_equal(got.updated, NOW - 5000);
	/* later: relay2's entry still runs */
	assert_true(mx_journal_get_fleet_backoff(j, "192.0.2.1", 25, NOW + 119999, &got));
	assert_string_equal(got.node, "relay2");
	/* all expired */
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.1", 25, NOW + 120000, &got));
	assert_string_equal(mx_journal_error(j), "");
	assert_string_equal(got.node, "");
	/* an expired entry alone is not returned; retry_at == now has ended */
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.7", 25, NOW, &got));
	assert_true(mx_journal_get_fleet_backoff(j, "192.0.2.7", 25, NOW - 1, &got));
	assert_string_equal(got.node, "relay5");
	/* the port is part of the key */
	assert_true(mx_journal_get_fleet_backoff(j, "192.0.2.1", 2525, NOW, &got));
	assert_string_equal(got.node, "relay4");
	assert_false(mx_journal_get_fleet_backoff(j, "192.0.2.9", 25, NOW, &got));
	assert_false(mx_journal_get_fleet_backoff(j, NULL, 25, NOW, &got));
	/* a read-only handle reads it */
	ro = open_ok(fx->path, true);
	assert_true(mx_journal_get_fleet_backoff(ro, "192.0.2.1", 25, NOW + 61000, &got));
	assert_string_equal(got.node, "relay2");
	mx_journal_close(ro);
	mx_journal_close(j);
}

/*
 * test_journal_backoff_at - R13's state read from the journal: this node's
 * own first; the fleet's only when asked for and while it runs, its node
 * named; nothing when neither runs
 */
static void
test_journal_backoff_at(void **state)
{
	struct fixture *fx = *state;
	struct mx_journal *j = open_ok(fx->path, false), *ro;
	struct mx_journal_fleet_backoff set[2];
	struct mx_backoff b;
	sqlite3	*db;

	set[0] = fleet_entry("relay3", "192.0.2.1", 25, NOW + 600000, "421 far");
	set[1] = fleet_entry("relay4", "192.0.2.2", 25, NOW - 1, "421 old");
	assert_true(mx_journal_replace_fleet_backoff(j, set, 2));

	/* off: the fleet's entry is not read */
	assert_false(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW, false, &b));
	assert_string_equal(mx_journal_error(j), "");
	assert_int_equal(b.failures, 0);
	/* on: held back, by relay3 */
	assert_true(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW, true, &b));
	assert_string_equal(b.node, "relay3");
	assert_int_equal(b.failures, 3);
	assert_int_equal(b.retry_at_ms, NOW + 600000);
	assert_string_equal(b.last_error, "421 far");
	/* the fleet's entry expired: nothing */
	assert_false(mx_journal_backoff_at(j, "192.0.2.2", 25, NOW, true, &b));
	assert_string_equal(mx_journal_error(j), "");
	assert_false(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW + 600000, true, &b));

	/* this node fails too: its own state comes first */
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, NOW, 60, 3600, "refused", NULL));
	assert_true(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW, true, &b));
	assert_string_equal(b.node, "");
	assert_string_equal(b.last_error, "refused");
	assert_int_equal(b.retry_at_ms, NOW + 60000);
	assert_true(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW, false, &b));
	assert_string_equal(b.node, "");
	/* its own ran out: the fleet's again */
	assert_true(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW + 60000, true, &b));
	assert_string_equal(b.node, "relay3");
	assert_false(mx_journal_backoff_at(j, "192.0.2.1", 25, NOW + 60000, false, &b));
	assert_false(mx_journal_backoff_at(NULL, "192.0.2.1", 25, NOW, true, &b));
	/* a read-only handle reads both */
	ro = open_ok(fx->path, true);
	assert_true(mx_journal_backoff_at(ro, "192.0.2.1", 25, NOW + 60000, true, &b));
	assert_string_equal(b.node, "relay3");
	mx_journal_close(ro);
	mx_journal_close(j);

	/* off, the fleet table is never read: without it nothing fails; on, it does */
	db = raw_open(fx->path);
	raw_exec(db, "DROP TABLE fleet_backoff");
	sqlite3_close(db);
	j = open_ok(fx->path, false);
	assert_false(mx_journal_backoff_at(j, "192.0.2.9", 25, NOW, false, &b));
	assert_string_equal(mx_journal_error(j), "");
	assert_false(mx_journal_backoff_at(j, "192.0.2.9", 25, NOW, true, &b));
	assert_non_null(strstr(mx_journal_error(j), "fleet_backoff"));
	mx_journal_close(j);
}

/* writer_child - open the shared journal, insert rows rows; the exit status says how it went */
static void
writer_child(const char *path, int n, int rows, int gate)
{
	struct mx_journal *j;
	struct mx_attempt a;
	char	err[1024], domain[64], qid[32];
	int	i, status = 0;

	if (gate >= 0) {
		char	c;

		while (read(gate, &c, 1) < 0 && errno == EINTR)
			;
		close(gate);
	}
	if ((j = mx_journal_open(path, false, err, sizeof(err))) == NULL) {
		fprintf(stderr, "child %d: %s\n", n, err);
		_exit(2);
	}
	snprintf(domain, sizeof(domain), "c%d.example", n);
	for (i = 0; i < rows; i++) {
		a = sample(NOW + i, domain);
		snprintf(qid, sizeof(qid), "Q%d.%d", n, i);
		a.queue_id = qid;
		if (!mx_journal_add_attempt(j, &a)) {
			fprintf(stderr, "child %d row %d: %s\n", n, i, mx_journal_error(j));
			status = 3;
			break;
		}
	}
	mx_journal_close(j);
	_exit(status);
}

/* reap - wait for one child; true when it exited 0 */
static bool
reap(pid_t pid, int options, bool *done)
{
	int	st;
	pid_t	r;

	while ((r = waitpid(pid, &st, options)) < 0 && errno == EINTR)
		;
	*done = r == pid;
	if (!*done)
		return true;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return true;
	fprintf(stderr, "child %ld: %s %d\n", (long)pid,
		WIFEXITED(st) ? "exit" : "signal",
		WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return false;
}

/* test_journal_concurrent_writers - 16 processes, 200 rows each, a reader meanwhile */
static void
test_journal_concurrent_writers(void **state)
{
	struct fixture *fx = *state;
	pid_t	pids[WRITERS];
	bool	done[WRITERS] = { false }, ok = true;
	struct mx_journal *r = NULL;
	int64_t	n, last = 0;
	int	i, left = WRITERS, reads = 0;
	char	err[1024], domain[64];

	fflush(NULL);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			writer_child(fx->path, i, ROWS, -1);
	}
	while (left > 0) {
		if (r == NULL)
			r = mx_journal_open(fx->path, true, err, sizeof(err));
		if (r != NULL) {
			n = mx_journal_count_attempts(r, NULL);
			if (n < 0)
				fail_msg("reader: %s", mx_journal_error(r));
			/* a reader sees whole rows appear, never fewer */
			if (n < last || n > WRITERS * ROWS)
				fail_msg("reader saw %lld after %lld", (long long)n,
					 (long long)last);
			last = n;
			reads++;
		}
		for (i = 0; i < WRITERS; i++) {
			bool	now_done;

			if (done[i])
				continue;
			if (!reap(pids[i], WNOHANG, &now_done))
				ok = false;
			if (now_done) {
				done[i] = true;
				left--;
			}
		}
	}
	mx_journal_close(r);
	assert_true(ok);

	r = open_ok(fx->path, true);
	assert_int_equal(mx_journal_count_attempts(r, NULL), WRITERS * ROWS);
	for (i = 0; i < WRITERS; i++) {
		snprintf(domain, sizeof(domain), "c%d.example", i);
		assert_int_equal(mx_journal_count_attempts(r, domain), ROWS);
	}
	mx_journal_close(r);
	assert_true(reads > 0);
}

/* test_journal_concurrent_create - 64 processes open one fresh file at once and write */
static void
test_journal_concurrent_create(void **state)
{
	struct fixture *fx = *state;
	pid_t	pids[OPENERS];
	int	gate[2], i;
	bool	ok = true, done;
	struct mx_journal *j;
	sqlite3	*db;
	char	mode[32];

	assert_int_equal(pipe(gate), 0);
	fflush(NULL);
	for (i = 0; i < OPENERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(gate[1]);
			writer_child(fx->path, i, OPENER_ROWS, gate[0]);
		}
	}
	close(gate[0]);
	/* closing the write end wakes every child at the same moment */
	close(gate[1]);
	for (i = 0; i < OPENERS; i++)
		if (!reap(pids[i], 0, &done))
			ok = false;
	assert_true(ok);

	j = open_ok(fx->path, false);
	assert_int_equal(mx_journal_count_attempts(j, NULL), OPENERS * OPENER_ROWS);
	mx_journal_close(j);
	db = raw_open(fx->path);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 6);
	/* 9 tables, 7 indexes, backoff's key, the trigger (sts_policies,
	 * import_files, route_tls, journal_meta and fleet_backoff are WITHOUT
	 * ROWID) */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master"), 18);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_open_creates_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_schema_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_insert_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_insert_constraint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_readonly_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_readonly_never_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_path_is_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_backoff_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_backoff_huge_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_backoff_success_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_recent_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_migrates_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prune_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_keeps_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_route_tls_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_route_tls_stricter_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_route_tls_old_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_import_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_batch_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_import_pos_and_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_migrates_v5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prune_keeps_max_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_ship_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_backoff_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_replace_fleet_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_get_fleet_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_backoff_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_concurrent_create, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
