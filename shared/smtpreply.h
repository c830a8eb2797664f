/*
 * smtpreply - parse SMTP replies (RFC 5321 4.2, RFC 3463 enhanced codes)
 *
 * An incremental parser: feed it bytes as they arrive; it says when a whole
 * reply (one or more lines, "250-" continuation, "250 " last) is complete.
 * Everything is bounded: a line longer than MX_SMTP_LINE_MAX, more than
 * MX_SMTP_REPLY_LINES lines, a line without a three-digit code, or lines
 * whose codes differ are protocol errors, never a crash or an endless read.
 * Pure; no I/O. The parser lives in caller memory.
 */
#ifndef MXTIER_SMTPREPLY_H
#define MXTIER_SMTPREPLY_H

#include <stdbool.h>
#include <stddef.h>

#define MX_SMTP_LINE_MAX	2048	/* octets of one reply line, CRLF included */
#define MX_SMTP_REPLY_LINES	128
#define MX_SMTP_TEXT_MAX	1024	/* reply text kept for logs and the journal */

struct mx_smtp_reply {
	int	code;			/* 200..599 */
	char	enhanced[16];		/* "4.7.1" when the server gave one, else "" */
	char	text[MX_SMTP_TEXT_MAX];	/* the lines' text, joined by " / ", enhanced code removed */
	int	nlines;
	char	lines[MX_SMTP_REPLY_LINES][24];	/* first word after the code of each line (EHLO keywords) */
	long long size;			/* the number of an EHLO "SIZE n" line, or -1 */
};

struct mx_smtp_parser {
	struct mx_smtp_reply reply;
	char	line[MX_SMTP_LINE_MAX + 1];
	size_t	len;
};

enum mx_smtp_parse {
	MX_SMTP_PARSE_MORE,	/* need more bytes */
	MX_SMTP_PARSE_DONE,	/* reply complete */
	MX_SMTP_PARSE_ERROR	/* protocol error; why says what */
};

/* mx_smtp_parser_init - ready for a new reply */
void	mx_smtp_parser_init(struct mx_smtp_parser *p);

/*
 * mx_smtp_parser_feed - take bytes from buf; *used says how many were taken
 * (a reply ends mid-buffer when the server pipelines). DONE leaves the
 * reply in p->reply.
 */
enum mx_smtp_parse mx_smtp_parser_feed(struct mx_smtp_parser *p, const char *buf, size_t len,
				       size_t *used, char *why, size_t whylen);

/* mx_smtp_reply_has - did an EHLO reply list keyword (case-insensitive) */
bool	mx_smtp_reply_has(const struct mx_smtp_reply *r, const char *keyword);

/* mx_smtp_reply_param - the number of "SIZE 10240000" in an EHLO reply (only SIZE), or -1 */
long long mx_smtp_reply_param(const struct mx_smtp_reply *r, const char *keyword);

#endif
