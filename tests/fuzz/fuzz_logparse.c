/*
 * fuzz_logparse - libFuzzer target for the Postfix and Exim log parser
 *
 * Input: octet 0 chooses the format (its value mod 3: auto, postfix, exim)
 * and, in bit 2, a reset_file() half way; bits 3..7 choose now_ms among
 * a few instants (a new year's day included). The rest is a log: lines
 * split at '\n', each fed with its offset, NULs and all.
 *
 * Rules checked (abort() on any broken one):
 *   - every string of an attempt or note is NUL-terminated inside its
 *     array and holds no control octet; outcome is delivered, tempfail or
 *     permfail; stage is one of the known words or ""; source is the one
 *     the format says; port is -1..65535; reply_code 0 or 200..599
 *   - an attempt's line_offset is that of a line already fed
 *   - the resume offset is never past the next offset, nor negative
 *   - a line is one of the four kinds; after a line decided the format,
 *     mx_logparse_format() never says AUTO again
 *   - the same input gives the same attempts (identities included) twice
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "logparse.h"

/* check - abort with a message when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_logparse: broken rule: %s\n", #cond); \
		abort(); \
	} \
} while (0)

struct run {
	uint64_t hash;			/* of every attempt and note */
	int64_t	max_offset;		/* the largest line offset fed so far */
	const char *source;
	int	n;
};

/* check_str - NUL inside the array, no control octet before it; hashes it */
static uint64_t
check_str(uint64_t h, const char *s, size_t sz)
{
	const char *end = memchr(s, '\0', sz);
	const char *p;

	check(end != NULL);
	for (p = s; p < end; p++)
		check((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
	return fuzz_fnv(h, s, (size_t)(end - s) + 1);
}

/* on_attempt - the rules of one attempt */
static void
on_attempt(void *ctx, const struct mx_log_attempt *a)
{
	static const char *const stages[] = {
		"", "connect", "greeting", "ehlo", "starttls", "mail", "rcpt", "data", "dot", NULL
	};
	struct run *r = ctx;
	uint64_t h = r->hash;
	int	i;
	bool	known = false;

	h = check_str(h, a->queue_id, sizeof(a->queue_id));
	h = check_str(h, a->recipient, sizeof(a->recipient));
	h = check_str(h, a->domain, sizeof(a->domain));
	h = check_str(h, a->host, sizeof(a->host));
	h = check_str(h, a->address, sizeof(a->address));
	h = check_str(h, a->stage, sizeof(a->stage));
	h = check_str(h, a->enhanced_status, sizeof(a->enhanced_status));
	h = check_str(h, a->outcome, sizeof(a->outcome));
	h = check_str(h, a->reply_text, sizeof(a->reply_text));
	h = check_str(h, a->tls, sizeof(a->tls));
	for (i = 0; stages[i] != NULL; i++)
		known |= strcmp(a->stage, stages[i]) == 0;
	check(known);
	check(strcmp(a->outcome, "delivered") == 0 || strcmp(a->outcome, "tempfail") == 0 ||
	      strcmp(a->outcome, "permfail") == 0);
	check(strcmp(a->tls, "") == 0 || strcmp(a->tls, "tls") == 0);
	check(strcmp(a->source, "postfix") == 0 || strcmp(a->source, "exim") == 0);
	check(r->source == NULL || strcmp(a->source, r->source) == 0);
	check(a->port >= -1 && a->port <= 65535);
	check(a->reply_code == 0 || (a->reply_code >= 200 && a->reply_code <= 599));
	check(a->line_offset >= 0 && a->line_offset <= r->max_offset);
	h = fuzz_fnv(h, &a->ts_ms, sizeof(a->ts_ms));
	h = fuzz_fnv(h, &a->identity, sizeof(a->identity));
	h = fuzz_fnv(h, &a->port, sizeof(a->port));
	h = fuzz_fnv(h, &a->reply_code, sizeof(a->reply_code));
	h = fuzz_fnv(h, &a->line_offset, sizeof(a->line_offset));
	r->hash = h;
	r->n++;
}

/* on_note - the rules of one note */
static void
on_note(void *ctx, const struct mx_log_note *n)
{
	struct run *r = ctx;
	uint64_t h = r->hash;

	h = check_str(h, n->queue_id, sizeof(n->queue_id));
	h = check_str(h, n->recipient, sizeof(n->recipient));
	h = check_str(h, n->domain, sizeof(n->domain));
	h = check_str(h, n->text, sizeof(n->text));
	check(strcmp(n->source, "postfix") == 0 || strcmp(n->source, "exim") == 0);
	check(r->source == NULL || strcmp(n->source, r->source) == 0);
	h = fuzz_fnv(h, &n->identity, sizeof(n->identity));
	r->hash = h ^ 0x5bd1e995;
	r->n++;
}

/* run - feed the log once; returns the hash of what came out */
static uint64_t
run(enum mx_log_format fmt, int64_t now, bool reset, const char *log, size_t len)
{
	struct run r = { FUZZ_FNV_START, 0, NULL, 0 };
	struct mx_log_sink sink = { on_attempt, on_note, &r };
	struct mx_logparse *p = mx_logparse_new(fmt, now);
	size_t	off = 0;
	bool	decided = false;

	if (p == NULL)
		return 0;
	while (off < len) {
		const char *nl = memchr(log + off, '\n', len - off);
		size_t	n = nl != NULL ? (size_t)(nl - (log + off)) : len - off;
		enum mx_log_line k;
		enum mx_log_format f;
		int64_t	next;

		/* each line on the heap, exactly its size: reading past it is caught */
		char   *line = malloc(n ? n : 1);

		if (line == NULL)
			break;
		memcpy(line, log + off, n);
		r.max_offset = (int64_t)off;
		/* NULL: the line may decide the format, either source will do */
		f = mx_logparse_format(p);
		r.source = f == MX_LOG_EXIM ? "exim" : f == MX_LOG_POSTFIX ? "postfix" : NULL;
		k = mx_logparse_line(p, line, n, (int64_t)off, &sink);
		free(line);
		check(k == MX_LINE_ATTEMPT || k == MX_LINE_NOTE || k == MX_LINE_OTHER || k == MX_LINE_BAD);
		f = mx_logparse_format(p);
		if (decided)
			check(f != MX_LOG_AUTO);
		decided = f != MX_LOG_AUTO;
		if (fmt != MX_LOG_AUTO)
			check(f == fmt);
		off += n + (nl != NULL);
		next = (int64_t)off;
		check(mx_logparse_resume_offset(p, next) <= next);
		check(mx_logparse_resume_offset(p, next) >= 0);
		if (reset && off >= len / 2 && off - n - (nl != NULL) < len / 2)
			mx_logparse_reset_file(p);
	}
	check(mx_logparse_finish(p) >= 0);
	check(mx_logparse_resume_offset(p, (int64_t)len) == (int64_t)len);
	mx_logparse_free(p);
	return fuzz_fnv(r.hash, &r.n, sizeof(r.n));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t nows[4] = {
		1796061600000LL,	/* 2026-11-30T18:00:00Z */
		1767225600000LL,	/* 2026-01-01T00:00:00Z */
		951782400000LL,		/* 2000-02-29T00:00:00Z */
		0
	};
	enum mx_log_format fmt;
	int64_t	now;
	bool	reset;
	uint64_t a, b;

	if (size < 1 || size > 1 << 20)
		return 0;
	fmt = (enum mx_log_format)(data[0] % 3);
	reset = (data[0] & 4) != 0;
	now = nows[(data[0] >> 3) & 3];
	a = run(fmt, now, reset, (const char *)data + 1, size - 1);
	b = run(fmt, now, reset, (const char *)data + 1, size - 1);
	check(a == b);
	return 0;
}
