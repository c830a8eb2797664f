/*
 * journal-writers - insert rate of the journal under concurrent writers
 *
 * usage: journal-writers [-o] [-p] JOURNAL_PATH WRITERS ROWS_PER_WRITER
 *
 * What it measures: how fast WRITERS processes, each with its own SQLite
 * connection as every mxtier-pipe process has, can insert attempt rows into
 * one journal through mx_journal_add_attempt(), and how long one insert takes
 * while they contend for the WAL write lock.
 *
 * How: the parent opens the journal once (creating the schema if the file is
 * new, so that is never timed) and counts its rows, then forks WRITERS
 * children. Each child opens the journal read-write with mx_journal_open(),
 * reports ready on a pipe and blocks reading a second "go" pipe; when all are
 * ready the parent notes the time and closes the go pipe, releasing everyone
 * at once. Each child then inserts ROWS_PER_WRITER realistic rows (domain
 * wN.bench.test, one recipient per row, mx1.wN.bench.test at 192.0.2.x:25,
 * stage dot, delivered, done, ts = now in ms) timing every insert with
 * CLOCK_MONOTONIC, closes the journal and only then writes its counts, first
 * error and latencies to its own temporary file (so reporting never disturbs
 * the timing). Wall time runs from the release to the last child's exit.
 * Finally the parent re-counts the rows and checks that every reported insert
 * is there.
 *
 * -o  open per row: no open before the barrier; every row is a fresh
 *     mx_journal_open() + mx_journal_add_attempt() + mx_journal_close(), the
 *     way one mxtier-pipe process writes its row or two per delivery. The
 *     per-row latency (open+insert+close) is printed besides the insert's own.
 * -p  with every open also run mx_journal_prune() (default retention 30 days,
 *     backoff_max 3600 s), as mxtier-pipe does right after its open: one more
 *     write transaction per open.
 *
 * Prints writers, rows, wall seconds, rows/s, failed inserts (with the first
 * error text and how many of them were SQLITE_BUSY/LOCKED), and p50/p99/max
 * latency in microseconds over all writers. Exit status 0 only when every
 * open and insert worked and every row is in the journal; 1 otherwise, 2 on
 * a usage or setup error. Speed is measured here, never asserted.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"

#define RETENTION_S	(30 * 86400)	/* MX_DEFAULT_RETENTION */
#define BACKOFF_MAX_S	3600		/* MX_DEFAULT_BACKOFF_MAX */
#define MAX_WRITERS	1024

/* What one child reports, followed by rows latency pairs. */
struct child_report {
	int64_t	ok;			/* inserts that returned true */
	int64_t	failed;			/* rows not written: failed inserts or opens */
	int64_t	busy;			/* failures whose text says busy/locked */
	int64_t	open_failed;		/* opens that failed (counted in failed too) */
	int64_t	prune_failed;		/* -p: prunes that failed */
	int64_t	nlat;			/* latency records that follow */
	char	first_error[512];
};

/* One timed row: the insert alone, and the whole row (with -o: open..close). */
struct lat {
	uint32_t insert_us;
	uint32_t row_us;
};

static bool open_per_row;
static bool prune_on_open;

/* now_ns - CLOCK_MONOTONIC in nanoseconds */
static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* us_since - microseconds since t0 (ns), clamped into uint32_t */
static uint32_t
us_since(int64_t t0)
{
	int64_t	us = (now_ns() - t0) / 1000;

	return us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* is_busy_text - an error text that comes from SQLITE_BUSY or SQLITE_LOCKED */
static bool
is_busy_text(const char *e)
{
	return strstr(e, "locked") != NULL || strstr(e, "busy") != NULL;
}

/* note_failure - count one failure and keep the first text */
static void
note_failure(struct child_report *r, const char *text)
{
	r->failed++;
	if (is_busy_text(text))
		r->busy++;
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s", text);
}

/* write_all - write n bytes or fail */
static bool
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t	w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* read_all - read n bytes or fail */
static bool
read_all(int fd, void *buf, size_t n)
{
	char	*p = buf;

	while (n > 0) {
		ssize_t	r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/*
 * open_journal - open read-write (and prune with -p); NULL with the reason
 * noted: the failed open also counts as a failed row (it was not written)
 */
static struct mx_journal *
open_journal(const char *path, struct child_report *r)
{
	struct mx_journal *j;
	char	err[512], text[540];

	if ((j = mx_journal_open(path, false, err, sizeof(err))) == NULL) {
		r->open_failed++;
		snprintf(text, sizeof(text), "open: %s", err);
		note_failure(r, text);
		return NULL;
	}
	if (prune_on_open
	    && !mx_journal_prune(j, mx_clock_wall_ms(), RETENTION_S, BACKOFF_MAX_S)) {
		r->prune_failed++;
		if (r->first_error[0] == '\0')
			snprintf(r->first_error, sizeof(r->first_error), "prune: %s",
				 mx_journal_error(j));
	}
	return j;
}

/* child - one writer; never returns */
static void
child(int id, const char *path, long rows, int ready_fd, int go_fd, int out_fd)
{
	struct child_report r;
	struct mx_journal *j = NULL;
	struct mx_attempt a;
	struct lat *lat;
	char	domain[64], host[80], address[32], qid[32], rcpt[96], reason[160];
	char	c = 'r';
	long	i;

	memset(&r, 0, sizeof(r));
	lat = calloc((size_t)rows, sizeof(*lat));
	if (lat == NULL) {
		snprintf(r.first_error, sizeof(r.first_error), "out of memory");
		r.failed = rows;
	}
	if (!open_per_row && lat != NULL)
		j = open_journal(path, &r);
	/* ready, then wait until the parent closes the go pipe */
	(void)write_all(ready_fd, &c, 1);
	close(ready_fd);
	while (read(go_fd, &c, 1) < 0 && errno == EINTR)
		;
	close(go_fd);

	snprintf(domain, sizeof(domain), "w%d.bench.test", id);
	snprintf(host, sizeof(host), "mx1.w%d.bench.test", id);
	snprintf(address, sizeof(address), "192.0.2.%d", id % 254 + 1);
	snprintf(reason, sizeof(reason), "delivered to %s[%s]:25", host, address);
	memset(&a, 0, sizeof(a));
	a.queue_id = qid;
	a.domain = domain;
	a.recipient = rcpt;
	a.preference = 10;
	a.host = host;
	a.address = address;
	a.port = 25;
	a.stage = "dot";
	a.reply_code = 250;
	a.enhanced_status = "2.0.0";
	a.reply_text = "2.0.0 Ok: queued as 4XbEnCh0000";
	a.outcome = "delivered";
	a.decision = "done";
	a.reason = reason;
	a.duration_ms = 42;

	for (i = 0; lat != NULL && i < rows; i++) {
		int64_t	t_row = now_ns(), t_ins;

		snprintf(qid, sizeof(qid), "4B%04X%06lX", (unsigned)id & 0xffff, (unsigned long)i);
		snprintf(rcpt, sizeof(rcpt), "user%ld@%s", i, domain);
		if (open_per_row && (j = open_journal(path, &r)) == NULL) {
			lat[r.nlat].insert_us = 0;
			lat[r.nlat].row_us = us_since(t_row);
			r.nlat++;
			continue;
		}
		if (j == NULL) {	/* the one open failed: every row fails */
			if (i > 0)
				r.failed++;	/* open_journal() counted the first */
			continue;
		}
		a.ts_ms = mx_clock_wall_ms();
		t_ins = now_ns();
		if (mx_journal_add_attempt(j, &a))
			r.ok++;
		else
			note_failure(&r, mx_journal_error(j));
		lat[r.nlat].insert_us = us_since(t_ins);
		if (open_per_row) {
			mx_journal_close(j);
			j = NULL;
		}
		lat[r.nlat].row_us = us_since(t_row);
		r.nlat++;
	}
	mx_journal_close(j);

	if (!write_all(out_fd, &r, sizeof(r))
	    || (r.nlat > 0 && !write_all(out_fd, lat, (size_t)r.nlat * sizeof(*lat))))
		_exit(3);
	free(lat);
	_exit(r.failed > 0 || r.open_failed > 0 || r.prune_failed > 0 ? 1 : 0);
}

/* cmp_u32 - qsort order of uint32_t */
static int
cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

/* pct - nearest-rank percentile of a sorted array */
static uint32_t
pct(const uint32_t *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[k == 0 ? 0 : k > n ? n - 1 : k - 1];
}

/* print_lat - "name p50 p99 max" of n values (sorted in place) */
static void
print_lat(const char *name, uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
	printf("%-28s p50 %" PRIu32 "  p99 %" PRIu32 "  max %" PRIu32 "  (n=%zu)\n",
	       name, pct(v, n, 50), pct(v, n, 99), n ? v[n - 1] : 0, n);
}

/* count_rows - rows in the journal, -1 with the reason printed */
static int64_t
count_rows(const char *path)
{
	char	err[512];
	struct mx_journal *j = mx_journal_open(path, true, err, sizeof(err));
	int64_t	n;

	if (j == NULL) {
		fprintf(stderr, "journal-writers: %s\n", err);
		return -1;
	}
	if ((n = mx_journal_count_attempts(j, NULL)) < 0)
		fprintf(stderr, "journal-writers: %s\n", mx_journal_error(j));
	mx_journal_close(j);
	return n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: journal-writers [-o] [-p] JOURNAL_PATH WRITERS ROWS_PER_WRITER\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int	ready[2], go[2], opt, nwriters, i, status, child_bad = 0;
	int	out_fd[MAX_WRITERS];
	pid_t	pid[MAX_WRITERS];
	long	rows;
	char	*end, err[512], c;
	const char *path;
	struct mx_journal *j;
	int64_t	before, after, t0, t1, ok = 0, failed = 0, busy = 0, open_failed = 0;
	int64_t	prune_failed = 0, nlat = 0;
	char	first_error[512] = "";
	uint32_t *ins, *row;
	double	wall;

	while ((opt = getopt(argc, argv, "op")) != -1) {
		if (opt == 'o')
			open_per_row = true;
		else if (opt == 'p')
			prune_on_open = true;
		else
			usage();
	}
	if (argc - optind != 3)
		usage();
	path = argv[optind];
	errno = 0;
	nwriters = (int)strtol(argv[optind + 1], &end, 10);
	if (errno || *end || nwriters < 1 || nwriters > MAX_WRITERS)
		usage();
	rows = strtol(argv[optind + 2], &end, 10);
	if (errno || *end || rows < 1 || rows > 10000000)
		usage();

	/* the schema exists before anyone is timed */
	if ((j = mx_journal_open(path, false, err, sizeof(err))) == NULL) {
		fprintf(stderr, "journal-writers: %s\n", err);
		return 2;
	}
	mx_journal_close(j);
	if ((before = count_rows(path)) < 0)
		return 2;

	if (pipe(ready) != 0 || pipe(go) != 0) {
		perror("journal-writers: pipe");
		return 2;
	}
	fflush(NULL);
	for (i = 0; i < nwriters; i++) {
		FILE	*tmp = tmpfile();

		if (tmp == NULL || (out_fd[i] = dup(fileno(tmp))) < 0) {
			perror("journal-writers: tmpfile");
			return 2;
		}
		fclose(tmp);
		if ((pid[i] = fork()) < 0) {
			perror("journal-writers: fork");
			return 2;
		}
		if (pid[i] == 0) {
			int	k;

			for (k = 0; k < i; k++)
				close(out_fd[k]);
			close(ready[0]);
			close(go[1]);
			child(i + 1, path, rows, ready[1], go[0], out_fd[i]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < nwriters; i++) {
		if (!read_all(ready[0], &c, 1)) {
			fprintf(stderr, "journal-writers: a writer died before the start\n");
			break;
		}
	}
	close(ready[0]);
	t0 = now_ns();
	close(go[1]);			/* go */
	for (i = 0; i < nwriters; i++) {
		if (waitpid(-1, &status, 0) < 0) {
			perror("journal-writers: waitpid");
			return 2;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
			child_bad++;
	}
	t1 = now_ns();
	wall = (double)(t1 - t0) / 1e9;

	ins = calloc((size_t)nwriters * (size_t)rows, sizeof(*ins));
	row = calloc((size_t)nwriters * (size_t)rows, sizeof(*row));
	if (ins == NULL || row == NULL) {
		fprintf(stderr, "journal-writers: out of memory\n");
		return 2;
	}
	for (i = 0; i < nwriters; i++) {
		struct child_report r;
		struct lat l;
		int64_t	k;

		if (lseek(out_fd[i], 0, SEEK_SET) != 0 || !read_all(out_fd[i], &r, sizeof(r))) {
			fprintf(stderr, "journal-writers: writer %d left no report\n", i + 1);
			child_bad++;
			close(out_fd[i]);
			continue;
		}
		ok += r.ok;
		failed += r.failed;
		busy += r.busy;
		open_failed += r.open_failed;
		prune_failed += r.prune_failed;
		if (first_error[0] == '\0' && r.first_error[0] != '\0')
			snprintf(first_error, sizeof(first_error), "%s", r.first_error);
		for (k = 0; k < r.nlat && k < rows && read_all(out_fd[i], &l, sizeof(l)); k++) {
			ins[nlat] = l.insert_us;
			row[nlat] = l.row_us;
			nlat++;
		}
		close(out_fd[i]);
	}
	after = count_rows(path);

	printf("mode                         %s%s\n",
	       open_per_row ? "open per row (open+insert+close)" : "one open per writer",
	       prune_on_open ? ", prune on every open" : "");
	printf("writers                      %d\n", nwriters);
	printf("rows                         %" PRId64 " inserted of %ld\n",
	       ok, (long)nwriters * rows);
	printf("wall                         %.3f s\n", wall);
	printf("rate                         %.0f rows/s\n", wall > 0 ? (double)ok / wall : 0.0);
	printf("failed inserts               %" PRId64 "  failed opens %" PRId64
	       "  (busy/locked among them %" PRId64 ")\n", failed - open_failed, open_failed, busy);
	if (prune_on_open)
		printf("failed prunes                %" PRId64 "\n", prune_failed);
	if (first_error[0] != '\0')
		printf("first error                  %s\n", first_error);
	print_lat("insert latency (us)", ins, (size_t)nlat);
	if (open_per_row)
		print_lat("row latency (us, open..close)", row, (size_t)nlat);
	if (after >= 0)
		printf("journal rows                 %" PRId64 " before, %" PRId64 " after%s\n",
		       before, after, after - before == ok ? "" : "  MISMATCH");
	if (child_bad > 0)
		printf("writers that crashed or failed to report: %d\n", child_bad);
	free(ins);
	free(row);
	return failed == 0 && open_failed == 0 && prune_failed == 0 && child_bad == 0
	    && after - before == ok && ok == (int64_t)nwriters * rows ? 0 : 1;
}
