/*
 * mxtier-import - read Postfix and Exim logs into the delivery journal
 *
 * SYNOPSIS
 *	mxtier-import [-c FILE] [--from postfix|exim|auto] [--node NAME] [--follow]
 *		      [--dry-run] LOG...
 *
 * DESCRIPTION
 *	Each LOG (plain or gzip-compressed; "-" is standard input) is read
 *	line by line; the lines that record a delivery attempt by the MTA's
 *	own client (shared/logparse.c) become journal rows with their source
 *	(postfix, exim) and node, temporary failures update host backoff
 *	(R13) as mxtier-pipe's own do, and the lines that are notes on a
 *	domain ("delivery temporarily suspended", "retry time not reached")
 *	go to the domain's notes. Every row carries the identity of its log
 *	line, so importing a log again adds nothing.
 *
 *	The position in each plain file is kept in the journal, in the same
 *	transaction as the rows read up to it: an import started again goes
 *	on where the last one stopped. A file replaced by rotation (renamed
 *	away, or copied and truncated) while nothing was reading it is found
 *	again among its siblings (same inode, or the same first bytes) and
 *	read to its end first. --follow keeps reading every LOG as it grows,
 *	across rotation of both kinds, until SIGTERM or SIGINT.
 *
 *	--dry-run writes nothing and prints one JSON object per attempt
 *	(DESIGN.md 4). Lines that are not log lines of the MTA are skipped
 *	and counted on standard error, as are lines over 1 MiB.
 *
 * EXIT STATUS
 *	0 every LOG read; 64 bad arguments; 66 a LOG could not be opened (the
 *	others were read); 74 the journal could not be opened or written; 78
 *	bad configuration.
 *
 * One context (struct import_ctx) holds the run; one struct logfile each
 * LOG, with its reader, its buffer and its parser, all freed by
 * logfile_close().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
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

#include <zlib.h>

#include "clock.h"
#include "config.h"
#include "journal.h"
#include "logimport.h"
#include "logparse.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define READ_CHUNK	(256 * 1024)	/* one read() */
#define LINE_MAX_LEN	(1024 * 1024)	/* longer lines are skipped, counted */
#define HEAD_LEN	4096		/* bytes hashed to recognise a file */
#define BATCH_ROWS	20000		/* rows per journal transaction */
#define LINE_ATTEMPTS	256		/* attempts one line may give */
#define FOLLOW_POLL_MS	200		/* --follow: look for growth this often */
#define ROTATE_GRACE_MS	1000		/* the old file is read this long after a rename */

struct counts {
	int64_t	lines;
	int64_t	attempts;		/* attempts the lines gave */
	int64_t	added;			/* new journal rows */
	int64_t	notes;
	int64_t	skipped;		/* not a log line of the MTA */
	int64_t	overlong;		/* over LINE_MAX_LEN */
	int64_t	dropped;		/* held lines no message claimed */
};

struct logfile {
	const char *name;		/* as given */
	char	key[PATH_MAX];		/* the absolute path: the journal's key */
	bool	is_stdin;
	bool	positioned;		/* a regular file whose position is kept */
	int	fd;
	gzFile	gz;			/* compressed input, else NULL */
	dev_t	dev;
	ino_t	ino;
	char   *buf;			/* LINE_MAX_LEN + READ_CHUNK */
	size_t	len;			/* bytes in buf */
	int64_t	buf_off;		/* file offset of buf[0] */
	int64_t	next_off;		/* offset after the last complete line */
	bool	skipping;		/* inside an overlong line */
	int64_t	renamed_at_ms;		/* --follow: when the name went to a new file, 0 */
	int64_t	saved_off;		/* the position last committed, and of which file */
	ino_t	saved_ino;
	uint64_t head_hash;
	int64_t	head_len;
	struct mx_logparse *parser;
	struct counts n;
};

struct import_ctx {
	const char *config_path;
	enum mx_log_format format;
	const char *node_opt;
	bool	follow;
	bool	dry_run;
	char	node[256];
	struct mx_config cfg;
	struct mx_journal *journal;
	bool	in_tx;
	int	tx_rows;
	bool	journal_failed;
	struct mx_log_attempt *line_attempts;	/* what the current line gave */
	size_t	nline;
	struct logfile *cur;			/* the file being read */
};

static volatile sig_atomic_t stop_requested;

static const char usage_text[] =
"usage: mxtier-import [-c FILE] [--from postfix|exim|auto] [--node NAME] [--follow]\n"
"                     [--dry-run] LOG...\n"
"\n"
"Reads Postfix or Exim logs (plain or gzip; - is standard input) and records\n"
"each delivery attempt of the MTA's own SMTP client in the mxtier journal.\n"
"\n"
"  -c, --config FILE   configuration file (default %s)\n"
"      --from MTA      postfix, exim or auto (default: auto, from the first line)\n"
"      --node NAME     the machine the log comes from (default: this host's name)\n"
"      --follow        keep reading as the logs grow, across rotation\n"
"      --dry-run       write nothing; print each attempt as one JSON object a line\n"
"  -h, --help          this text\n"
"  -V, --version       version\n"
"\n"
"Exit status: 0 done, 64 bad arguments, 66 a LOG could not be opened,\n"
"74 journal error, 78 bad configuration.\n";

/* warn - "mxtier-import: ..." on stderr */
static void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warn(const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fputs("mxtier-import: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* on_signal - --follow ends at the next poll */
static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

enum { OPT_FROM = 256, OPT_NODE, OPT_FOLLOW, OPT_DRY_RUN };

/* parse_args - fill ctx; returns the index of the first LOG, or -1 with an exit code in *rc */
static int
parse_args(struct import_ctx *ctx, int argc, char **argv, int *rc)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "node", required_argument, NULL, OPT_NODE },
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	c, i, nstdin = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx->config_path = optarg;
			break;
		case OPT_FROM:
			if (strcmp(optarg, "postfix") == 0)
				ctx->format = MX_LOG_POSTFIX;
			else if (strcmp(optarg, "exim") == 0)
				ctx->format = MX_LOG_EXIM;
			else if (strcmp(optarg, "auto") == 0)
				ctx->format = MX_LOG_AUTO;
			else {
				warn("--from %s: expected postfix, exim or auto", optarg);
				*rc = EX_USAGE;
				return -1;
			}
			break;
		case OPT_NODE:
			if (*optarg == '\0' || strlen(optarg) >= sizeof(ctx->node)) {
				warn("--node: expected a name of 1 to %zu characters",
				     sizeof(ctx->node) - 1);
				*rc = EX_USAGE;
				return -1;
			}
			ctx->node_opt = optarg;
			break;
		case OPT_FOLLOW:
			ctx->follow = true;
			break;
		case OPT_DRY_RUN:
			ctx->dry_run = true;
			break;
		case 'h':
			printf(usage_text, mx_config_default_path());
			*rc = 0;
			return -1;
		case 'V':
			printf("mxtier-import %s\n", PACKAGE_VERSION);
			*rc = 0;
			return -1;
		case ':':
			warn("%s needs an argument (see mxtier-import --help)", argv[optind - 1]);
			*rc = EX_USAGE;
			return -1;
		default:
			warn("unknown option %s (see mxtier-import --help)", argv[optind - 1]);
			*rc = EX_USAGE;
			return -1;
		}
	}
	if (optind >= argc) {
		warn("no LOG given (see mxtier-import --help)");
		*rc = EX_USAGE;
		return -1;
	}
	for (i = optind; i < argc; i++)
		nstdin += strcmp(argv[i], "-") == 0;
	if (nstdin > 1 || (ctx->follow && nstdin == 1 && argc - optind > 1)) {
		warn("standard input (-) can be read once, and --follow reads it alone");
		*rc = EX_USAGE;
		return -1;
	}
	return optind;
}

/* ------------------------------------------------------------------ */
/* the journal side */

/* tx_begin - open the batch transaction when none is open */
static bool
tx_begin(struct import_ctx *ctx)
{
	if (ctx->journal == NULL || ctx->in_tx)
		return ctx->journal != NULL;
	if (!mx_journal_begin(ctx->journal)) {
		warn("%s", mx_journal_error(ctx->journal));
		ctx->journal_failed = true;
		return false;
	}
	ctx->in_tx = true;
	ctx->tx_rows = 0;
	return true;
}

/* file_head - hash of the first HEAD_LEN bytes of lf (once it has them) */
static void
file_head(struct logfile *lf)
{
	char	head[HEAD_LEN];
	ssize_t	r;

	if (!lf->positioned || lf->head_len >= HEAD_LEN)
		return;
	r = pread(lf->fd, head, sizeof(head), 0);
	if (r <= 0)
		return;
	lf->head_len = r;
	lf->head_hash = mx_import_hash(MX_IMPORT_HASH_INIT, head, (size_t)r);
}

/* save_position - the file's resume point, in the open transaction */
static bool
save_position(struct import_ctx *ctx, struct logfile *lf)
{
	struct mx_import_pos pos;

	if (!lf->positioned || ctx->journal == NULL || lf->parser == NULL)
		return true;
	file_head(lf);
	pos.dev = (int64_t)lf->dev;
	pos.ino = (int64_t)lf->ino;
	pos.offset = mx_logparse_resume_offset(lf->parser, lf->next_off);
	pos.head_len = lf->head_len < pos.offset ? lf->head_len : pos.offset;
	pos.head_hash = (int64_t)lf->head_hash;
	if (pos.head_len < lf->head_len) {
		char	head[HEAD_LEN];

		/* the resume point is inside the head: hash only what is before it */
		if (pread(lf->fd, head, (size_t)pos.head_len, 0) == pos.head_len)
			pos.head_hash = (int64_t)mx_import_hash(MX_IMPORT_HASH_INIT, head,
							      (size_t)pos.head_len);
	}
	pos.updated_ms = mx_clock_wall_ms();
	if (!mx_journal_put_import_pos(ctx->journal, lf->key, &pos)) {
		warn("%s", mx_journal_error(ctx->journal));
		return false;
	}
	lf->saved_off = pos.offset;
	lf->saved_ino = lf->ino;
	return true;
}

/* tx_commit - store the position of the file being read and commit */
static bool
tx_commit(struct import_ctx *ctx)
{
	if (ctx->journal == NULL || ctx->journal_failed)
		return !ctx->journal_failed;
	/* nothing read and nothing moved: no write (--follow polls often) */
	if (!ctx->in_tx && (ctx->cur == NULL || !ctx->cur->positioned ||
			    (ctx->cur->saved_ino == ctx->cur->ino && ctx->cur->saved_off ==
			     mx_logparse_resume_offset(ctx->cur->parser, ctx->cur->next_off))))
		return true;
	if (!tx_begin(ctx))
		return false;
	if (ctx->cur != NULL && !save_position(ctx, ctx->cur)) {
		mx_journal_rollback(ctx->journal);
		ctx->in_tx = false;
		ctx->journal_failed = true;
		return false;
	}
	ctx->in_tx = false;
	if (!mx_journal_commit(ctx->journal)) {
		warn("%s", mx_journal_error(ctx->journal));
		ctx->journal_failed = true;
		return false;
	}
	return true;
}

/* record - one attempt into the journal, and its effect on backoff when it is new */
static void
record(struct import_ctx *ctx, const struct mx_log_attempt *la, const char *decision)
{
	struct mx_attempt row;
	bool	added = false;
	int	port;

	if (ctx->journal_failed || !tx_begin(ctx))
		return;
	mx_import_row(la, ctx->node, decision, &row);
	if (!mx_journal_import_attempt(ctx->journal, &row, &added)) {
		warn("%s", mx_journal_error(ctx->journal));
		ctx->journal_failed = true;
		return;
	}
	ctx->tx_rows++;
	if (!added)
		return;
	ctx->cur->n.added++;
	port = la->port > 0 ? la->port : ctx->cfg.smtp.port;
	switch (mx_import_backoff_effect(la)) {
	case MX_IMPORT_BACKOFF_FAILURE: {
		char	why[600];

		/* Postfix's own texts name the server already ("connect to H[A]:P: ...") */
		if (strstr(la->reply_text, la->address) != NULL)
			snprintf(why, sizeof(why), "%.500s (%s log)", la->reply_text, la->source);
		else
			snprintf(why, sizeof(why), "%.253s[%.45s]:%d said: %.240s (%s log)", la->host,
				 la->address, port, la->reply_text, la->source);
		if (!mx_journal_note_failure(ctx->journal, la->address, port, la->ts_ms,
					     ctx->cfg.backoff_initial, ctx->cfg.backoff_max,
					     why, NULL)) {
			warn("%s", mx_journal_error(ctx->journal));
			ctx->journal_failed = true;
		}
		break;
	}
	case MX_IMPORT_BACKOFF_SUCCESS: {
		struct mx_backoff b;

		if (mx_journal_get_backoff(ctx->journal, la->address, port, &b) && b.failures > 0
		    && !mx_journal_note_success(ctx->journal, la->address, port)) {
			warn("%s", mx_journal_error(ctx->journal));
			ctx->journal_failed = true;
		}
		break;
	}
	case MX_IMPORT_BACKOFF_NONE:
		break;
	}
}

/* on_attempt - the parser's callback: keep a copy until the line is done */
static void
on_attempt(void *arg, const struct mx_log_attempt *a)
{
	struct import_ctx *ctx = arg;

	ctx->cur->n.attempts++;
	if (ctx->nline < LINE_ATTEMPTS)
		ctx->line_attempts[ctx->nline++] = *a;
}

/* on_note - the parser's callback for a note on a domain */
static void
on_note(void *arg, const struct mx_log_note *n)
{
	struct import_ctx *ctx = arg;
	struct mx_domain_note note;
	bool	added;

	ctx->cur->n.notes++;
	if (ctx->dry_run || ctx->journal_failed || n->domain[0] == '\0' || !tx_begin(ctx))
		return;
	note.ts_ms = n->ts_ms;
	note.domain = n->domain;
	note.queue_id = n->queue_id[0] != '\0' ? n->queue_id : NULL;
	note.recipient = n->recipient[0] != '\0' ? n->recipient : NULL;
	note.source = n->source;
	note.node = ctx->node;
	note.text = n->text;
	note.import_id = n->identity != 0 ? (int64_t)n->identity : 1;
	if (!mx_journal_add_note(ctx->journal, &note, &added)) {
		warn("%s", mx_journal_error(ctx->journal));
		ctx->journal_failed = true;
	}
}

/* line_done - what the line gave: printed (--dry-run) or recorded */
static void
line_done(struct import_ctx *ctx)
{
	const struct mx_log_attempt *list[LINE_ATTEMPTS];
	const char *decisions[LINE_ATTEMPTS];
	size_t	i;

	if (ctx->nline == 0)
		return;
	for (i = 0; i < ctx->nline; i++)
		list[i] = &ctx->line_attempts[i];
	if (ctx->dry_run) {
		for (i = 0; i < ctx->nline; i++)
			mx_import_print_json(stdout, list[i]);
	} else {
		mx_import_decisions(list, ctx->nline, decisions);
		for (i = 0; i < ctx->nline; i++)
			record(ctx, list[i], decisions[i]);
	}
	ctx->nline = 0;
}

/* ------------------------------------------------------------------ */
/* reading */

/* feed_line - one complete line at offset off */
static void
feed_line(struct import_ctx *ctx, struct logfile *lf, const char *line, size_t len, int64_t off)
{
	static const struct mx_log_sink sink_template = { on_attempt, on_note, NULL };
	struct mx_log_sink sink = sink_template;
	enum mx_log_line what;

	sink.ctx = ctx;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	lf->n.lines++;
	what = mx_logparse_line(lf->parser, line, len, off, &sink);
	if (what == MX_LINE_BAD)
		lf->n.skipped++;
	line_done(ctx);
	if (ctx->tx_rows >= BATCH_ROWS) {
		lf->next_off = off + (int64_t)len + 1;
		tx_commit(ctx);
	}
}

/* read_some - up to n bytes into p; 0 at end (for now), -1 on error */
static ssize_t
read_some(struct logfile *lf, char *p, size_t n)
{
	ssize_t	r;

	if (lf->gz != NULL) {
		int	g = gzread(lf->gz, p, (unsigned)n);

		if (g < 0) {
			int	zerr;

			warn("%s: %s", lf->name, gzerror(lf->gz, &zerr));
			return -1;
		}
		return g;
	}
	do
		r = read(lf->fd, p, n);
	while (r < 0 && errno == EINTR && !stop_requested);
	if (r < 0 && errno != EINTR)
		warn("%s: %s", lf->name, strerror(errno));
	return r < 0 ? (errno == EINTR ? 0 : -1) : r;
}

/*
 * drain - read lf to its current end, feeding every complete line; at_end
 * (not following, or the file is gone) also feeds a last line without a
 * newline. false on a read error.
 */
static bool
drain(struct import_ctx *ctx, struct logfile *lf, bool at_end)
{
	ssize_t	r;

	ctx->cur = lf;
	for (;;) {
		size_t	scan = 0, start = 0;
		char   *nl;

		r = read_some(lf, lf->buf + lf->len, READ_CHUNK);
		if (r < 0)
			return false;
		if (r == 0)
			break;
		scan = lf->len;
		lf->len += (size_t)r;
		while ((nl = memchr(lf->buf + scan, '\n', lf->len - scan)) != NULL) {
			size_t	end = (size_t)(nl - lf->buf);

			if (lf->skipping)
				lf->skipping = false;	/* the end of an overlong line */
			else
				feed_line(ctx, lf, lf->buf + start, end - start,
					  lf->buf_off + (int64_t)start);
			start = scan = end + 1;
			lf->next_off = lf->buf_off + (int64_t)start;
		}
		/* keep the unfinished line; one that outgrew the limit is skipped */
		if (lf->len - start >= LINE_MAX_LEN) {
			if (!lf->skipping)
				lf->n.overlong++;
			lf->skipping = true;
			start = lf->len;
		}
		memmove(lf->buf, lf->buf + start, lf->len - start);
		lf->len -= start;
		lf->buf_off += (int64_t)start;
		/* --follow: what was read shows in the inspector now, not at the batch's end */
		if (ctx->follow && ctx->in_tx && !tx_commit(ctx))
			return false;
		if (stop_requested)
			break;
	}
	if (at_end && lf->len > 0) {
		if (!lf->skipping)
			feed_line(ctx, lf, lf->buf, lf->len, lf->buf_off);
		lf->buf_off += (int64_t)lf->len;
		lf->next_off = lf->buf_off;
		lf->len = 0;
		lf->skipping = false;
	}
	return true;
}

/* logfile_close - the reader and its buffer (the parser stays: it may go on in a new file) */
static void
logfile_close_reader(struct logfile *lf)
{
	if (lf->gz != NULL)
		gzclose(lf->gz);		/* closes fd too */
	else if (lf->fd >= 0 && !lf->is_stdin)
		close(lf->fd);
	lf->gz = NULL;
	lf->fd = -1;
}

/* logfile_close - everything lf owns */
static void
logfile_close(struct logfile *lf)
{
	logfile_close_reader(lf);
	free(lf->buf);
	mx_logparse_free(lf->parser);
	lf->buf = NULL;
	lf->parser = NULL;
}

/* start_at - read fd from offset on (a fresh buffer) */
static bool
start_at(struct logfile *lf, int64_t offset)
{
	/* also to 0: after a truncation the descriptor is still where it was */
	if (lf->gz == NULL && !lf->is_stdin && lseek(lf->fd, (off_t)offset, SEEK_SET) < 0) {
		warn("%s: %s", lf->name, strerror(errno));
		return false;
	}
	lf->len = 0;
	lf->buf_off = lf->next_off = offset;
	lf->skipping = false;
	lf->head_len = 0;
	return true;
}

/* attach - use fd as lf's input: gzip when it starts with the gzip magic */
static bool
attach(struct logfile *lf, int fd)
{
	unsigned char magic[2];
	struct stat sb;

	lf->fd = fd;
	lf->gz = NULL;
	if (fstat(fd, &sb) != 0) {
		warn("%s: %s", lf->name, strerror(errno));
		return false;
	}
	lf->dev = sb.st_dev;
	lf->ino = sb.st_ino;
	lf->positioned = S_ISREG(sb.st_mode) && !lf->is_stdin;
	if (S_ISREG(sb.st_mode) && pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f &&
	    magic[1] == 0x8b) {
		lf->positioned = false;		/* compressed logs are read whole: rotated, done */
		if ((lf->gz = gzdopen(fd, "rb")) == NULL) {
			warn("%s: cannot read as gzip", lf->name);
			return false;
		}
		gzbuffer(lf->gz, READ_CHUNK);
	}
	return true;
}

/* head_matches - do the first len bytes of fd hash to hash */
static bool
head_matches(int fd, int64_t len, int64_t hash)
{
	char	head[HEAD_LEN];

	if (len <= 0 || len > HEAD_LEN)
		return len == 0;
	return pread(fd, head, (size_t)len, 0) == len &&
	    (int64_t)mx_import_hash(MX_IMPORT_HASH_INIT, head, (size_t)len) == hash;
}

/*
 * read_rotated - the file lf->key was while pos was taken, now under
 * another name beside it (mail.log.1 after a rename, or the copy
 * copytruncate made): read it from pos->offset to its end with lf's parser
 */
static void
read_rotated(struct import_ctx *ctx, struct logfile *lf, const struct mx_import_pos *pos)
{
	char	dirbuf[PATH_MAX], basebuf[PATH_MAX], path[PATH_MAX * 2];
	const char *dir, *base;
	struct dirent *de;
	struct logfile old;
	DIR    *d;
	size_t	blen;

	snprintf(dirbuf, sizeof(dirbuf), "%s", lf->key);
	snprintf(basebuf, sizeof(basebuf), "%s", lf->key);
	dir = dirname(dirbuf);
	base = basename(basebuf);
	blen = strlen(base);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		int	fd;

		if (strncmp(de->d_name, base, blen) != 0 || de->d_name[blen] == '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < pos->offset)
			continue;
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		if (!((int64_t)sb.st_dev == pos->dev && (int64_t)sb.st_ino == pos->ino) &&
		    !head_matches(fd, pos->head_len, pos->head_hash)) {
			close(fd);
			continue;
		}
		/* the same parser: lines it holds from before go on in this file */
		old = *lf;
		old.name = path;
		old.positioned = false;
		old.fd = fd;
		old.gz = NULL;
		if (start_at(&old, pos->offset)) {
			old.parser = lf->parser;
			drain(ctx, &old, true);
			lf->n = old.n;
		}
		close(fd);
		ctx->cur = lf;
		break;
	}
	closedir(d);
}

/*
 * logfile_open - open LOG and find where to start: the stored position when
 * it is still this file, else 0 after reading the rotated rest of the old one
 */
static bool
logfile_open(struct import_ctx *ctx, struct logfile *lf, const char *name)
{
	struct mx_import_pos pos;
	int	fd;

	memset(lf, 0, sizeof(*lf));
	lf->name = name;
	lf->fd = -1;
	lf->is_stdin = strcmp(name, "-") == 0;
	if ((lf->buf = malloc(LINE_MAX_LEN + READ_CHUNK)) == NULL ||
	    (lf->parser = mx_logparse_new(ctx->format, mx_clock_wall_ms())) == NULL) {
		warn("out of memory");
		return false;
	}
	if (lf->is_stdin) {
		snprintf(lf->key, sizeof(lf->key), "-");
		fd = STDIN_FILENO;
	} else {
		if (realpath(name, lf->key) == NULL)
			snprintf(lf->key, sizeof(lf->key), "%s", name);
		if ((fd = open(name, O_RDONLY | O_CLOEXEC)) < 0) {
			warn("%s: %s", name, strerror(errno));
			return false;
		}
	}
	if (!attach(lf, fd))
		return false;
	if (!lf->positioned || ctx->journal == NULL ||
	    !mx_journal_get_import_pos(ctx->journal, lf->key, &pos))
		return true;
	{
		struct stat sb;

		if (fstat(fd, &sb) == 0 && (int64_t)sb.st_dev == pos.dev &&
		    (int64_t)sb.st_ino == pos.ino && sb.st_size >= pos.offset &&
		    head_matches(fd, pos.head_len, pos.head_hash))
			return start_at(lf, pos.offset);
	}
	/* rotated or truncated since: the old file's rest first, then this one whole */
	read_rotated(ctx, lf, &pos);
	mx_logparse_reset_file(lf->parser);
	return start_at(lf, 0);
}

/* report_counts - one line of figures per LOG on stderr */
static void
report_counts(const struct import_ctx *ctx, const struct logfile *lf)
{
	const struct counts *n = &lf->n;

	fprintf(stderr, "mxtier-import: %s: %lld lines, %lld attempts", lf->name,
		(long long)n->lines, (long long)n->attempts);
	if (!ctx->dry_run)
		fprintf(stderr, " (%lld new)", (long long)n->added);
	fprintf(stderr, ", %lld notes", (long long)n->notes);
	if (n->skipped > 0)
		fprintf(stderr, ", %lld lines skipped (not %s log lines)", (long long)n->skipped,
			mx_logparse_format(lf->parser) == MX_LOG_EXIM ? "Exim" :
			mx_logparse_format(lf->parser) == MX_LOG_POSTFIX ? "Postfix" :
			"Postfix or Exim");
	if (n->overlong > 0)
		fprintf(stderr, ", %lld lines over %d bytes skipped", (long long)n->overlong,
			LINE_MAX_LEN);
	if (n->dropped > 0)
		fprintf(stderr, ", %lld connection failures without a following delivery dropped",
			(long long)n->dropped);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* --follow */

/*
 * check_rotation - after reading to the end: the name now names another
 * file (rotated by rename: the old one is read to its end first) or the
 * file shrank (copytruncate: what was copied away unread is read from the
 * copy); either way reading starts again at 0
 */
static bool
check_rotation(struct import_ctx *ctx, struct logfile *lf)
{
	struct stat byname, byfd;
	int	fd;

	if (lf->is_stdin || stat(lf->name, &byname) != 0 || fstat(lf->fd, &byfd) != 0)
		return true;		/* gone for now: the new one comes later */
	if (byname.st_dev == byfd.st_dev && byname.st_ino == byfd.st_ino) {
		/* the same file, as long or longer, starting as it did: it only grew
		 * (a file truncated and written again past our offset starts otherwise) */
		if (byfd.st_size >= lf->buf_off + (int64_t)lf->len &&
		    (lf->head_len == 0 || head_matches(lf->fd, lf->head_len, (int64_t)lf->head_hash)))
			return true;
		/* truncated in place: the copy holds what came after our last read */
		{
			struct mx_import_pos pos = { (int64_t)lf->dev, (int64_t)lf->ino,
						     lf->buf_off, 0, 0, 0 };

			/* the head hashed before the truncation (save_position) */
			pos.head_len = lf->head_len < lf->buf_off ? lf->head_len : lf->buf_off;
			pos.head_hash = (int64_t)lf->head_hash;
			pos.ino = -1;		/* the copy is another inode: match by head */
			if (pos.head_len == lf->head_len && pos.head_len > 0)
				read_rotated(ctx, lf, &pos);
		}
		mx_logparse_reset_file(lf->parser);
		if (!start_at(lf, 0))
			return false;
		return tx_commit(ctx);
	}
	/*
	 * renamed away: the MTA (or syslog) writes to the old file until it
	 * reopens its log, a moment after the rename; read the old file for
	 * ROTATE_GRACE_MS more, to its end, then go to the new one
	 */
	if (lf->renamed_at_ms == 0) {
		lf->renamed_at_ms = mx_clock_mono_ms();
		return true;
	}
	if (mx_clock_mono_ms() - lf->renamed_at_ms < ROTATE_GRACE_MS)
		return true;
	lf->renamed_at_ms = 0;
	if (!drain(ctx, lf, true))
		return false;
	tx_commit(ctx);
	if ((fd = open(lf->name, O_RDONLY | O_CLOEXEC)) < 0)
		return true;
	logfile_close_reader(lf);
	if (!attach(lf, fd))
		return false;
	mx_logparse_reset_file(lf->parser);
	return start_at(lf, 0) && tx_commit(ctx);
}

/* follow_all - read every regular file as it grows until a signal */
static int
follow_all(struct import_ctx *ctx, struct logfile *files, int nfiles)
{
	struct timespec nap = { 0, FOLLOW_POLL_MS * 1000000L };
	int	i;

	while (!stop_requested && !ctx->journal_failed) {
		for (i = 0; i < nfiles && !stop_requested; i++) {
			struct logfile *lf = &files[i];

			if (lf->fd < 0)
				continue;
			/* rotation first: reading on at the old offset of a file
			 * truncated and refilled would read from the middle of a line */
			if (!check_rotation(ctx, lf) || !drain(ctx, lf, false) || !tx_commit(ctx))
				return EX_IOERR;
		}
		fflush(stdout);
		nanosleep(&nap, NULL);
	}
	for (i = 0; i < nfiles; i++)
		if (files[i].fd >= 0) {
			ctx->cur = &files[i];
			tx_commit(ctx);
		}
	return ctx->journal_failed ? EX_IOERR : 0;
}

/* ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	struct import_ctx ctx;
	struct logfile *files;
	char	err[1024];
	int	first, rc = 0, i, nfiles;
	struct sigaction sa;
	bool	keep;

	memset(&ctx, 0, sizeof(ctx));
	ctx.format = MX_LOG_AUTO;
	if ((first = parse_args(&ctx, argc, argv, &rc)) < 0)
		return rc;
	if (!mx_config_load(ctx.config_path != NULL ? ctx.config_path : mx_config_default_path(),
			    ctx.config_path != NULL, &ctx.cfg, err, sizeof(err))) {
		warn("%s", err);
		return EX_CONFIG;
	}
	if (ctx.node_opt != NULL)
		snprintf(ctx.node, sizeof(ctx.node), "%s", ctx.node_opt);
	else if (gethostname(ctx.node, sizeof(ctx.node) - 1) != 0 || ctx.node[0] == '\0')
		snprintf(ctx.node, sizeof(ctx.node), "localhost");
	if ((ctx.line_attempts = calloc(LINE_ATTEMPTS, sizeof(*ctx.line_attempts))) == NULL) {
		warn("out of memory");
		mx_config_free(&ctx.cfg);
		return EX_OSERR;
	}
	if (!ctx.dry_run &&
	    (ctx.journal = mx_journal_open(ctx.cfg.journal.path, false, err, sizeof(err))) == NULL) {
		warn("%s", err);
		free(ctx.line_attempts);
		mx_config_free(&ctx.cfg);
		return EX_IOERR;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	nfiles = argc - first;
	if ((files = calloc((size_t)nfiles, sizeof(*files))) == NULL) {
		warn("out of memory");
		mx_journal_close(ctx.journal);
		free(ctx.line_attempts);
		mx_config_free(&ctx.cfg);
		return EX_OSERR;
	}
	for (i = 0; i < nfiles && !ctx.journal_failed; i++) {
		struct logfile *lf = &files[i];

		if (!logfile_open(&ctx, lf, argv[first + i])) {
			logfile_close(lf);
			lf->fd = -1;
			rc = EX_NOINPUT;
			continue;
		}
		/* what cannot grow or be rotated is read once, to its end: compressed
		 * logs, and standard input (a pipe's end is its writer closing) */
		keep = ctx.follow && lf->positioned;
		if (!drain(&ctx, lf, !keep))
			rc = EX_IOERR;
		if (!keep) {
			lf->n.dropped += mx_logparse_finish(lf->parser);
			ctx.cur = lf;
			tx_commit(&ctx);
			report_counts(&ctx, lf);
			logfile_close_reader(lf);
		} else {
			ctx.cur = lf;
			tx_commit(&ctx);
		}
	}
	if (ctx.follow && !ctx.journal_failed) {
		int	frc = follow_all(&ctx, files, nfiles);

		if (frc != 0)
			rc = frc;
		for (i = 0; i < nfiles; i++)
			if (files[i].fd >= 0)
				report_counts(&ctx, &files[i]);
	}
	fflush(stdout);
	if (ferror(stdout)) {
		warn("standard output: write error");
		rc = EX_IOERR;
	}
	for (i = 0; i < nfiles; i++)
		logfile_close(&files[i]);
	free(files);
	if (ctx.journal_failed)
		rc = EX_IOERR;
	mx_journal_close(ctx.journal);
	free(ctx.line_attempts);
	mx_config_free(&ctx.cfg);
	return rc;
}
