/*
 * mxtier-ship - copy the local delivery journal into the fleet's PostgreSQL
 *
 * SYNOPSIS
 *	mxtier-ship [-c FILE] [--follow] [--batch N]
 *
 * DESCRIPTION
 *	Ships every attempt of the local journal (mxtier-pipe's and
 *	mxtier-import's alike) that the fleet database does not have yet, in
 *	batches of N rows (default 5000). A batch, the fleet_domains upserts
 *	it implies and this node's position (fleet_nodes.shipped_id: the
 *	highest local id shipped) are written in one transaction, with the
 *	node's fleet_nodes row locked first: a batch lands whole with its
 *	position or not at all, so shipping is exactly-once whatever stops it
 *	(SIGKILL, the database going away, a second shipper of the same
 *	node). The inserts also say ON CONFLICT DO NOTHING, a second guard.
 *	The position belongs to one local journal (journal_meta.journal_id):
 *	a journal file made anew ships from id 0 under its new identity.
 *
 *	Then this node's rows of fleet_backoff become its local backoff table
 *	(delete and insert in one transaction), and the running entries of
 *	the other nodes are pulled into the local journal's fleet_backoff
 *	table, which R13 reads with policy.fleet_backoff on.
 *
 *	--follow does this over and over: it looks at the journal every
 *	FOLLOW_POLL_MS and ships what is new; when the database is down it
 *	tries again after 1 s, then 2, 4 ... up to 30 s; SIGTERM and SIGINT
 *	end it between two batches. Delivery never waits for it: mxtier-pipe
 *	only writes the local journal.
 *
 * EXIT STATUS
 *	0 done (or --follow stopped by a signal); 64 bad arguments; 74 the
 *	journal could not be opened or read; 75 the fleet database could not
 *	be reached or refused a batch (nothing is lost: the next run goes on
 *	from the position in the database); 78 bad configuration or no
 *	fleet.url.
 *
 * One context (struct ship) holds the run: the configuration, the journal,
 * the connection and the COPY buffer; ship_close() frees them.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fleetdb.h"
#include "journal.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define DEFAULT_BATCH	5000
#define MAX_BATCH	100000
#define CONNECT_TIMEOUT	10		/* seconds for one connection attempt */
#define FOLLOW_POLL_MS	300		/* --follow: look at the journal this often */
#define BACKOFF_EVERY_MS 1000		/* --follow: push and pull backoff this often */
#define BACKOFF_REFRESH_MS 60000	/* push an unchanged backoff set after this long */
#define RETRY_MIN_MS	1000		/* --follow: first wait after a failure */
#define RETRY_MAX_MS	30000
#define PULL_MAX	10000		/* fleet backoff entries pulled at most */
#define COPY_FLUSH	(256 * 1024)	/* bytes of COPY data sent at once */
#define JOURNAL_ID_LEN	64
#define TRIES_ON_CONFLICT 3		/* a batch that met a deadlock is tried again */

#define STR2(x)		#x
#define STR(x)		STR2(x)

/* What one cycle's failure was. */
enum fail { FAIL_NONE, FAIL_DB, FAIL_JOURNAL };

struct ship {
	struct mx_config cfg;
	bool	have_cfg;
	const char *cfg_path;
	bool	follow;
	size_t	batch;
	struct mx_journal *j;
	char	journal_id[JOURNAL_ID_LEN];
	PGconn *db;
	char	url[MX_FLEET_URL_MAX + 64];	/* masked, for messages */
	char   *buf;			/* COPY data being built */
	size_t	len, cap;
	bool	oom;
	int64_t	batch_max_id;		/* highest id put into the current batch */
	size_t	batch_rows;
	int64_t	local_pos;		/* hint: the position this run last committed */
	uint64_t pushed_hash;		/* the backoff set last pushed, and when */
	int64_t	pushed_at;
	bool	pushed_once;
	int64_t	backoff_due;		/* --follow: next push and pull */
	/* counts of this run */
	int64_t	shipped, batches, pushed, pulled;
	char	err[1024];
	char	sqlstate[8];		/* of the last failed statement */
	dev_t	jdev;			/* the journal file we have open */
	ino_t	jino;
};

static volatile sig_atomic_t stop_requested;

/* on_signal - stop after the batch in progress */
static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* now_ms - the wall clock in Unix milliseconds, like the journal's ts */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* mono_ms - a clock for waits, milliseconds */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nap - sleep ms unless a signal asks to stop */
static void
nap(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0 || stop_requested)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	nanosleep(&ts, NULL);	/* EINTR: the signal handler set stop_requested */
}

/* say - one line on standard error (the systemd journal under --follow) */
static void __attribute__((format(printf, 1, 2)))
say(const char *fmt, ...)
{
	va_list	ap;

	fputs("mxtier-ship: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* set_err - the reason of the current failure, truncated to fit */
static void __attribute__((format(printf, 2, 3)))
set_err(struct ship *s, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* usage - the synopsis, on fp */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: mxtier-ship [-c FILE] [--follow] [--batch N]\n"
	    "       mxtier-ship --help | --version\n"
	    "\n"
	    "Copy the local delivery journal (attempts of mxtier-pipe and mxtier-import)\n"
	    "into the fleet's PostgreSQL database (fleet.url of mxtier.conf) as node\n"
	    "fleet.node, exactly once; push this node's backoff table and pull the\n"
	    "other nodes' into the journal.\n"
	    "\n"
	    "  -c FILE       configuration file (default %s)\n"
	    "  --follow      keep shipping what is new (every %d ms) until SIGTERM or\n"
	    "                SIGINT; reconnect after 1 s .. 30 s while the database is down\n"
	    "  --batch N     attempts per transaction, 1 to %d (default %d)\n"
	    "  --help        this text\n"
	    "  --version     the version\n"
	    "\n"
	    "Exit status: 0 done, 64 bad arguments, 74 journal error, 75 fleet database\n"
	    "unreachable or failed (run again: nothing is lost), 78 bad configuration.\n",
	    mx_config_default_path(), FOLLOW_POLL_MS, MAX_BATCH, DEFAULT_BATCH);
}

/* parse_args - options into s; false with *rc set when the run ends here */
static bool
parse_args(struct ship *s, int argc, char **argv, int *rc)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	char   *end;
	long	n;
	int	ch;

	s->batch = DEFAULT_BATCH;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			s->cfg_path = optarg;
			break;
		case 'f':
			s->follow = true;
			break;
		case 'b':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || n < 1 || n > MAX_BATCH) {
				say("--batch: \"%s\" is not a number from 1 to %d", optarg, MAX_BATCH);
				*rc = EX_USAGE;
				return false;
			}
			s->batch = (size_t)n;
			break;
		case 'h':
			usage(stdout);
			*rc = 0;
			return false;
		case 'V':
			printf("mxtier-ship %s\n", PACKAGE_VERSION);
			*rc = 0;
			return false;
		default:
			usage(stderr);
			*rc = EX_USAGE;
			return false;
		}
	}
	if (optind < argc) {
		say("unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		*rc = EX_USAGE;
		return false;
	}
	return true;
}

/* buf_grow - room for n more bytes in the COPY buffer */
static bool
buf_grow(struct ship *s, size_t n)
{
	size_t	cap;
	char   *p;

	if (s->len + n <= s->cap)
		return true;
	cap = s->cap ? s->cap : 64 * 1024;
	while (cap < s->len + n)
		cap *= 2;
	if ((p = realloc(s->buf, cap)) == NULL) {
		s->oom = true;
		return false;
	}
	s->buf = p;
	s->cap = cap;
	return true;
}

/* utf8_len - length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t	len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/*
 * put_text - a COPY text-format field: NULL as \N, backslash, tab,
 * newline and carriage return escaped; bytes that are not UTF-8 (a reply
 * text is whatever the peer sent) become "?", since the database refuses them
 */
static void
put_text(struct ship *s, const char *v, bool last)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t	n, k;

	if (v == NULL) {
		if (buf_grow(s, 3)) {
			memcpy(s->buf + s->len, "\\N", 2);
			s->len += 2;
			s->buf[s->len++] = last ? '\n' : '\t';
		}
		return;
	}
	n = strlen(v);
	if (!buf_grow(s, 2 * n + 1))
		return;
	while (*p != '\0') {
		if (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') {
			s->buf[s->len++] = '\\';
			s->buf[s->len++] = *p == '\\' ? '\\' : *p == '\t' ? 't' : *p == '\n' ? 'n' : 'r';
			p++, n--;
			continue;
		}
		if ((k = utf8_len(p, n)) == 0 || (*p < 0x20 && *p != '\t') || *p == 0x7f) {
			s->buf[s->len++] = '?';	/* other control bytes too: a row stays one line */
			p++, n--;
			continue;
		}
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k, n -= k;
	}
	s->buf[s->len++] = last ? '\n' : '\t';
}

/* put_num - a COPY number field, or \N when has is false */
static void
put_num(struct ship *s, bool has, int64_t v, bool last)
{
	char	num[32];

	if (!has) {
		put_text(s, NULL, last);
		return;
	}
	snprintf(num, sizeof(num), "%" PRId64, v);
	put_text(s, num, last);
}

/* flush_copy - send the buffered COPY data; false on a connection error */
static bool
flush_copy(struct ship *s)
{
	if (s->len == 0)
		return true;
	if (PQputCopyData(s->db, s->buf, (int)s->len) != 1)
		return false;
	s->len = 0;
	return true;
}

/* ship_row - journal row callback: one attempt into the COPY stream */
static int
ship_row(void *arg, const struct mx_journal_ship_row *r)
{
	struct ship *s = arg;
	int64_t	dur = r->duration_ms;

	if (dur > INT_MAX)
		dur = INT_MAX;
	else if (dur < INT_MIN)
		dur = INT_MIN;
	put_num(s, true, r->id, false);
	put_num(s, true, r->ts, false);
	put_text(s, r->queue_id, false);
	put_text(s, r->domain != NULL ? r->domain : "", false);
	put_text(s, r->recipient, false);
	put_num(s, r->has_preference, r->preference, false);
	put_text(s, r->host, false);
	put_text(s, r->address, false);
	put_num(s, r->has_port, r->port, false);
	put_text(s, r->stage, false);
	put_num(s, r->has_reply_code, r->reply_code, false);
	put_text(s, r->enhanced_status, false);
	put_text(s, r->reply_text, false);
	put_text(s, r->outcome != NULL ? r->outcome : "", false);
	put_text(s, r->decision, false);
	put_text(s, r->reason, false);
	put_num(s, r->has_duration_ms, dur, false);
	put_text(s, r->tls, false);
	put_text(s, r->tls_failure, false);
	put_text(s, r->source != NULL ? r->source : "mxtier-pipe", true);
	if (s->oom)
		return 1;
	s->batch_max_id = r->id;
	s->batch_rows++;
	if (s->len >= COPY_FLUSH && !flush_copy(s))
		return 1;
	return 0;
}

/* db_fail - keep the database's reason in s->err; FAIL_DB */
static enum fail
db_fail(struct ship *s, PGresult *res, const char *what)
{
	char	why[900];

	mx_fleetdb_error(s->db, res, what, why, sizeof(why));
	set_err(s, "%s: %s", s->url, why);
	snprintf(s->sqlstate, sizeof(s->sqlstate), "%s", mx_fleetdb_sqlstate(res));
	PQclear(res);
	return FAIL_DB;
}

/* end_copy - send the rest of a COPY and end it; FAIL_NONE once the server took it all */
static enum fail
end_copy(struct ship *s, const char *what)
{
	PGresult *res;
	enum fail f = FAIL_NONE;

	if (!flush_copy(s) || PQputCopyEnd(s->db, NULL) != 1)
		return db_fail(s, NULL, what);
	res = PQgetResult(s->db);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		f = db_fail(s, res, what);
	else
		PQclear(res);
	while ((res = PQgetResult(s->db)) != NULL)
		PQclear(res);
	return f;
}

/* rollback - end a failed transaction (the connection may be gone) */
static void
rollback(struct ship *s)
{
	if (s->db != NULL && PQstatus(s->db) == CONNECTION_OK &&
	    PQtransactionStatus(s->db) != PQTRANS_IDLE)
		PQclear(PQexec(s->db, "ROLLBACK"));
}

/* exec_params - a statement with text parameters; NULL result on failure (error kept) */
static bool
exec_params(struct ship *s, const char *sql, int n, const char *const *values,
	    ExecStatusType want, PGresult **out, const char *what, enum fail *f)
{
	PGresult *res = PQexecParams(s->db, sql, n, NULL, values, NULL, NULL, 0);

	if (PQresultStatus(res) != want) {
		*f = db_fail(s, res, what);
		return false;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return true;
}

/* db_connect - connect, migrate the schema and make the session's batch table */
static bool
db_connect(struct ship *s)
{
	char	why[900];

	if ((s->db = mx_fleetdb_connect(s->cfg.fleet.url, "mxtier-ship", CONNECT_TIMEOUT,
					why, sizeof(why))) == NULL) {
		set_err(s, "%s", why);
		return false;
	}
	if (!mx_fleetdb_migrate(s->db, why, sizeof(why)) ||
	    !mx_fleetdb_exec(s->db,
		"CREATE TEMP TABLE IF NOT EXISTS mxtier_ship_batch ("
		" local_id bigint, ts bigint, queue_id text, domain text, recipient text,"
		" preference integer, host text, address text, port integer, stage text,"
		" reply_code integer, enhanced_status text, reply_text text, outcome text,"
		" decision text, reason text, duration_ms integer, tls text, tls_failure text,"
		" source text) ON COMMIT DELETE ROWS", why, sizeof(why))) {
		set_err(s, "%s: %s", s->url, why);
		mx_fleetdb_close(s->db);
		s->db = NULL;
		return false;
	}
	return true;
}

/* db_drop - forget a connection after an error */
static void
db_drop(struct ship *s)
{
	rollback(s);
	mx_fleetdb_close(s->db);
	s->db = NULL;
}

/* lock_node - make and lock this node's fleet_nodes row; its position for our journal */
static enum fail
lock_node(struct ship *s, int64_t *pos)
{
	const char *v[2] = { s->cfg.fleet.node, s->journal_id };
	enum fail f = FAIL_NONE;
	PGresult *res;

	if (!exec_params(s, "INSERT INTO fleet_nodes (node, journal, shipped_id, shipped_at) "
			 "VALUES ($1, $2, 0, 0) ON CONFLICT (node) DO NOTHING", 2, v,
			 PGRES_COMMAND_OK, NULL, "registering the node", &f) ||
	    !exec_params(s, "SELECT journal, shipped_id FROM fleet_nodes WHERE node = $1 "
			 "FOR UPDATE", 1, v, PGRES_TUPLES_OK, &res, "locking the node", &f))
		return f;
	*pos = 0;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), s->journal_id) == 0)
		*pos = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return FAIL_NONE;
}

/*
 * ship_batch - one transaction: lock the node, read up to s->batch rows
 * after its position, insert them, upsert their domains, move the
 * position. *done is set when the journal had fewer rows than a batch.
 */
static enum fail
ship_batch(struct ship *s, bool *done)
{
	char	id[32], at[32];
	const char *v[4];
	enum fail f = FAIL_NONE;
	PGresult *res;
	int64_t	pos = 0;

	*done = false;
	s->len = 0;
	s->batch_rows = 0;
	s->oom = false;
	res = PQexec(s->db, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return db_fail(s, res, "BEGIN");
	PQclear(res);
	if ((f = lock_node(s, &pos)) != FAIL_NONE)
		goto fail;
	s->batch_max_id = pos;
	res = PQexec(s->db, "COPY mxtier_ship_batch FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		f = db_fail(s, res, "COPY");
		goto fail;
	}
	PQclear(res);
	if (!mx_journal_ship_batch(s->j, pos, s->batch, ship_row, s) || s->oom) {
		PQputCopyEnd(s->db, "the journal read failed");
		while ((res = PQgetResult(s->db)) != NULL)
			PQclear(res);
		if (s->oom)
			set_err(s, "out of memory");
		else if (PQstatus(s->db) != CONNECTION_OK) {
			f = db_fail(s, NULL, "COPY");
			goto fail;
		} else
			set_err(s, "%s: reading the journal: %s",
				 s->cfg.journal.path, mx_journal_error(s->j));
		f = FAIL_JOURNAL;
		goto fail;
	}
	if ((f = end_copy(s, "COPY")) != FAIL_NONE)
		goto fail;
	*done = s->batch_rows < s->batch;
	if (s->batch_rows == 0) {
		res = PQexec(s->db, "ROLLBACK");
		PQclear(res);
		s->local_pos = pos;
		return FAIL_NONE;
	}
	v[0] = s->cfg.fleet.node;
	v[1] = s->journal_id;
	snprintf(id, sizeof(id), "%" PRId64, s->batch_max_id);
	snprintf(at, sizeof(at), "%" PRId64, now_ms());
	v[2] = id;
	v[3] = at;
	/* domains in one order, so that shippers of several nodes do not deadlock */
	if (!exec_params(s, "INSERT INTO fleet_attempts (node, journal, local_id, ts, queue_id,"
			 " domain, recipient, preference, host, address, port, stage, reply_code,"
			 " enhanced_status, reply_text, outcome, decision, reason, duration_ms, tls,"
			 " tls_failure, source) SELECT $1, $2, local_id, ts, queue_id, domain,"
			 " recipient, preference, host, address, port, stage, reply_code,"
			 " enhanced_status, reply_text, outcome, decision, reason, duration_ms, tls,"
			 " tls_failure, source FROM mxtier_ship_batch"
			 " ON CONFLICT (node, journal, local_id) DO NOTHING", 2, v,
			 PGRES_COMMAND_OK, &res, "inserting attempts", &f))
		goto fail;
	/* the position makes this never happen; say so if the second guard had to act */
	if ((size_t)strtoull(PQcmdTuples(res), NULL, 10) != s->batch_rows)
		say("node %s: %zu of the %zu attempts after local id %" PRId64 " were in the "
		    "fleet database already; not inserted again", s->cfg.fleet.node,
		    s->batch_rows - (size_t)strtoull(PQcmdTuples(res), NULL, 10), s->batch_rows, pos);
	PQclear(res);
	if (!exec_params(s, "INSERT INTO fleet_domains (domain, last_ts)"
			 " SELECT domain, max(ts) FROM mxtier_ship_batch GROUP BY domain"
			 " ORDER BY domain ON CONFLICT (domain) DO UPDATE SET last_ts = excluded.last_ts"
			 " WHERE fleet_domains.last_ts < excluded.last_ts", 0, NULL,
			 PGRES_COMMAND_OK, NULL, "updating domains", &f) ||
	    !exec_params(s, "UPDATE fleet_nodes SET journal = $2, shipped_id = $3,"
			 " shipped_at = $4 WHERE node = $1", 4, v, PGRES_COMMAND_OK, NULL,
			 "moving the position", &f) ||
	    !exec_params(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, "COMMIT", &f))
		goto fail;
	s->local_pos = s->batch_max_id;
	s->shipped += (int64_t)s->batch_rows;
	s->batches++;
	return FAIL_NONE;
fail:
	rollback(s);
	return f;
}

/* ship_all - batches until the journal has nothing more (or a signal) */
static enum fail
ship_all(struct ship *s)
{
	enum fail f;
	bool	done = false;
	int	tries = 0;

	while (!done && !stop_requested) {
		if ((f = ship_batch(s, &done)) == FAIL_NONE) {
			tries = 0;
			continue;
		}
		/* another node's shipper holds a domain row we need: try that batch again */
		if (f == FAIL_DB && PQstatus(s->db) == CONNECTION_OK &&
		    (strcmp(s->sqlstate, "40P01") == 0 || strcmp(s->sqlstate, "40001") == 0) &&
		    ++tries < TRIES_ON_CONFLICT)
			continue;
		return f;
	}
	return FAIL_NONE;
}

/* backoff row collection for the push: the COPY data and a hash of the set */
struct push {
	struct ship *s;
	uint64_t hash;
	size_t	rows;
};

/* hash_bytes - FNV-1a over n bytes */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* push_row - journal backoff callback: one row into the COPY data */
static int
push_row(void *arg, const struct mx_journal_backoff_row *r)
{
	struct push *p = arg;
	struct ship *s = p->s;
	size_t	start = s->len;

	put_text(s, s->cfg.fleet.node, false);
	put_text(s, r->address, false);
	put_num(s, true, r->port, false);
	put_num(s, true, r->failures, false);
	put_num(s, true, r->retry_at, false);
	put_text(s, r->last_error, false);
	put_num(s, true, r->updated, true);
	if (s->oom)
		return 1;
	p->hash = hash_bytes(p->hash, s->buf + start, s->len - start);
	p->rows++;
	return 0;
}

/* push_backoff - this node's fleet_backoff rows become the local backoff table */
static enum fail
push_backoff(struct ship *s)
{
	struct push p = { s, 0xcbf29ce484222325ULL, 0 };
	const char *v[3];
	char	at[32];
	enum fail f = FAIL_NONE;
	PGresult *res;

	s->len = 0;
	s->oom = false;
	if (!mx_journal_backoff_all(s->j, push_row, &p) || s->oom) {
		set_err(s, "%s: reading the backoff table: %s",
			 s->cfg.journal.path, s->oom ? "out of memory" : mx_journal_error(s->j));
		return FAIL_JOURNAL;
	}
	/* an unchanged set is pushed again only now and then, to show the node is alive */
	if (s->pushed_once && p.hash == s->pushed_hash &&
	    mono_ms() - s->pushed_at < BACKOFF_REFRESH_MS)
		return FAIL_NONE;
	v[0] = s->cfg.fleet.node;
	v[1] = s->journal_id;
	snprintf(at, sizeof(at), "%" PRId64, now_ms());
	v[2] = at;
	res = PQexec(s->db, "BEGIN");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return db_fail(s, res, "BEGIN");
	PQclear(res);
	if (!exec_params(s, "INSERT INTO fleet_nodes (node, journal, shipped_id, shipped_at) "
			 "VALUES ($1, $2, 0, 0) ON CONFLICT (node) DO NOTHING", 2, v,
			 PGRES_COMMAND_OK, NULL, "registering the node", &f) ||
	    !exec_params(s, "SELECT 1 FROM fleet_nodes WHERE node = $1 FOR UPDATE", 1, v,
			 PGRES_TUPLES_OK, NULL, "locking the node", &f) ||
	    !exec_params(s, "DELETE FROM fleet_backoff WHERE node = $1", 1, v,
			 PGRES_COMMAND_OK, NULL, "replacing the backoff", &f))
		goto fail;
	res = PQexec(s->db, "COPY fleet_backoff (node, address, port, failures, retry_at,"
		     " last_error, updated) FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		f = db_fail(s, res, "COPY backoff");
		goto fail;
	}
	PQclear(res);
	if ((f = end_copy(s, "COPY backoff")) != FAIL_NONE)
		goto fail;
	v[1] = at;
	if (!exec_params(s, "UPDATE fleet_nodes SET backoff_at = $2 WHERE node = $1", 2, v,
			 PGRES_COMMAND_OK, NULL, "replacing the backoff", &f) ||
	    !exec_params(s, "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, "COMMIT", &f))
		goto fail;
	s->pushed_hash = p.hash;
	s->pushed_at = mono_ms();
	s->pushed_once = true;
	s->pushed = (int64_t)p.rows;
	return FAIL_NONE;
fail:
	rollback(s);
	return f;
}

/* copy_field - a text column into a fixed buffer (truncated), "" for NULL */
static void
copy_field(char *out, size_t len, PGresult *res, int row, int col)
{
	snprintf(out, len, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

/* pull_backoff - the other nodes' running entries into the local fleet_backoff table */
static enum fail
pull_backoff(struct ship *s)
{
	struct mx_journal_fleet_backoff *rows = NULL;
	const char *v[2];
	char	now[32];
	enum fail f = FAIL_NONE;
	PGresult *res;
	int	i, n;

	v[0] = s->cfg.fleet.node;
	snprintf(now, sizeof(now), "%" PRId64, now_ms());
	v[1] = now;
	if (!exec_params(s, "SELECT node, address, port, failures, retry_at, last_error, updated"
			 " FROM fleet_backoff WHERE node <> $1 AND retry_at > $2"
			 " ORDER BY retry_at DESC LIMIT " STR(PULL_MAX), 2, v,
			 PGRES_TUPLES_OK, &res, "reading the fleet's backoff", &f))
		return f;
	n = PQntuples(res);
	if (n > 0 && (rows = calloc((size_t)n, sizeof(*rows))) == NULL) {
		PQclear(res);
		set_err(s, "out of memory");
		return FAIL_JOURNAL;
	}
	for (i = 0; i < n; i++) {
		copy_field(rows[i].node, sizeof(rows[i].node), res, i, 0);
		copy_field(rows[i].address, sizeof(rows[i].address), res, i, 1);
		rows[i].port = atoi(PQgetvalue(res, i, 2));
		rows[i].failures = atoi(PQgetvalue(res, i, 3));
		rows[i].retry_at = strtoll(PQgetvalue(res, i, 4), NULL, 10);
		copy_field(rows[i].last_error, sizeof(rows[i].last_error), res, i, 5);
		rows[i].updated = strtoll(PQgetvalue(res, i, 6), NULL, 10);
	}
	PQclear(res);
	if (!mx_journal_replace_fleet_backoff(s->j, rows, (size_t)n)) {
		set_err(s, "%s: writing the fleet backoff: %s",
			 s->cfg.journal.path, mx_journal_error(s->j));
		free(rows);
		return FAIL_JOURNAL;
	}
	free(rows);
	s->pulled = n;
	return FAIL_NONE;
}

/* open_journal - open the local journal read-write (the pull writes) and read its identity */
static bool
open_journal(struct ship *s)
{
	char	why[512];
	struct stat st;

	/* a journal file made anew under the same name is a new journal: reopen */
	if (s->j != NULL && stat(s->cfg.journal.path, &st) == 0 &&
	    (st.st_dev != s->jdev || st.st_ino != s->jino)) {
		mx_journal_close(s->j);
		s->j = NULL;
	}
	if (s->j != NULL)
		return true;
	if (stat(s->cfg.journal.path, &st) == 0) {
		s->jdev = st.st_dev;
		s->jino = st.st_ino;
	}
	if ((s->j = mx_journal_open(s->cfg.journal.path, false, why, sizeof(why))) == NULL) {
		set_err(s, "%s", why);
		return false;
	}
	if (!mx_journal_id(s->j, s->journal_id, sizeof(s->journal_id))) {
		set_err(s, "%s: reading the journal id: %s",
			 s->cfg.journal.path, mx_journal_error(s->j));
		mx_journal_close(s->j);
		s->j = NULL;
		return false;
	}
	s->local_pos = -1;
	return true;
}

/* journal_changed - has the journal rows after our position (or cannot we tell) */
static bool
journal_changed(struct ship *s)
{
	int64_t	last = mx_journal_last_id(s->j);

	return last < 0 || s->local_pos < 0 || last != s->local_pos;
}

/* cycle - ship what is new, then push and pull backoff when due */
static enum fail
cycle(struct ship *s, bool backoff)
{
	enum fail f;

	if (!open_journal(s))
		return FAIL_JOURNAL;
	if (s->db == NULL && !db_connect(s))
		return FAIL_DB;
	if (journal_changed(s) && (f = ship_all(s)) != FAIL_NONE)
		return f;
	if (backoff && !stop_requested) {
		if ((f = push_backoff(s)) != FAIL_NONE || (f = pull_backoff(s)) != FAIL_NONE)
			return f;
	}
	return FAIL_NONE;
}

/* after_failure - report, drop what failed; the journal is reopened (it may be new) */
static void
after_failure(struct ship *s, enum fail f)
{
	if (f == FAIL_JOURNAL) {
		mx_journal_close(s->j);
		s->j = NULL;
	}
	if (s->db != NULL && (f == FAIL_DB || PQstatus(s->db) != CONNECTION_OK))
		db_drop(s);
}

/* follow - cycle until a signal; growing waits while something fails */
static int
follow(struct ship *s)
{
	int64_t	delay = RETRY_MIN_MS, now;
	bool	failing = false;
	enum fail f;

	say("node %s: shipping %s to %s (every %d ms)", s->cfg.fleet.node,
	    s->cfg.journal.path, s->url, FOLLOW_POLL_MS);
	while (!stop_requested) {
		now = mono_ms();
		f = cycle(s, now >= s->backoff_due);
		if (f == FAIL_NONE && now >= s->backoff_due)
			s->backoff_due = now + BACKOFF_EVERY_MS;
		if (f != FAIL_NONE && !stop_requested) {
			say("%s; trying again in %" PRId64 " s", s->err, delay / 1000);
			after_failure(s, f);
			failing = true;
			nap(delay);
			delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
			continue;
		}
		if (failing && f == FAIL_NONE) {
			say("node %s: shipping again; %" PRId64 " attempts shipped so far",
			    s->cfg.fleet.node, s->shipped);
			failing = false;
		}
		delay = RETRY_MIN_MS;
		nap(FOLLOW_POLL_MS);
	}
	say("node %s: stopped; %" PRId64 " attempts shipped in %" PRId64 " batches",
	    s->cfg.fleet.node, s->shipped, s->batches);
	return 0;
}

/* ship_close - free what the run holds */
static void
ship_close(struct ship *s)
{
	if (s->db != NULL)
		db_drop(s);
	mx_journal_close(s->j);
	s->j = NULL;
	free(s->buf);
	s->buf = NULL;
	if (s->have_cfg)
		mx_config_free(&s->cfg);
	s->have_cfg = false;
}

int
main(int argc, char **argv)
{
	struct ship s;
	struct sigaction sa;
	char	err[1024];
	enum fail f;
	int	rc = 0;

	memset(&s, 0, sizeof(s));
	if (!parse_args(&s, argc, argv, &rc))
		return rc;
	if (!mx_config_load(s.cfg_path ? s.cfg_path : mx_config_default_path(),
			    s.cfg_path != NULL, &s.cfg, err, sizeof(err))) {
		say("%s", err);
		return EX_CONFIG;
	}
	s.have_cfg = true;
	if (s.cfg.fleet.url[0] == '\0') {
		say("%s: no fleet { url = \"postgresql://...\" }: nowhere to ship to",
		    s.cfg.source);
		ship_close(&s);
		return EX_CONFIG;
	}
	mx_fleet_url_mask(s.cfg.fleet.url, s.url, sizeof(s.url));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: a wait ends at once */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (s.follow) {
		rc = follow(&s);
		ship_close(&s);
		return rc;
	}
	f = cycle(&s, true);
	if (f != FAIL_NONE) {
		say("%s", s.err);
		rc = f == FAIL_JOURNAL ? EX_IOERR : EX_TEMPFAIL;
	} else {
		printf("node %s: %" PRId64 " attempts shipped in %" PRId64 " batches; "
		       "backoff: %" PRId64 " pushed, %" PRId64 " pulled\n", s.cfg.fleet.node,
		       s.shipped, s.batches, s.pushed, s.pulled);
	}
	ship_close(&s);
	return rc;
}
