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
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
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

	check_columns(db, "attempts", attempts, 22);
	check_columns(db, "route_tls", route_tls, 6);
	check_columns(db, "import_files", import_files, 7);
	check_columns(db, "domain_notes", notes, 9);
	check_columns(db, "backoff", backoff, 6);
	check_columns(db, "domains", domains, 2);
	check_columns(db, "sts_policies", sts, 6);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), 7);
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
	/* retention 0 deletes everything before now */
	assert_true(mx_journal_prune(j, NOW, 0, 0));
	assert_int_equal(mx_journal_count_attempts(j, NULL), 0);
	assert_false(mx_journal_get_backoff(j, "192.0.2.2", 25, &b));
	assert_true(mx_journal_get_backoff(j, "192.0.2.3", 25, &b));
	mx_journal_close(j);
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
	raw_exec(db, "PRAGMA user_version = 6");
	sqlite3_close(db);
	assert_null(mx_journal_open(fx->path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 6 is newer than 5"));
	err[0] = '\0';
	assert_null(mx_journal_open(fx->path, true, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 6 is newer than 5"));
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
	assert_int_equal(raw_int(db, "SELECT count(*) FROM attempts"), 2);
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
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
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
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 5);
	/* 7 tables, 6 indexes, backoff's key, the trigger (sts_policies,
	 * import_files and route_tls are WITHOUT ROWID) */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_master"), 15);
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
		cmocka_unit_test_setup_teardown(test_journal_corrupt_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_sts_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_import_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_batch_with_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_import_pos_and_notes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_concurrent_create, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
