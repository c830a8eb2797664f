/*
 * test_smtpreply - unit tests for the incremental SMTP reply parser
 *
 * Pure: every test feeds bytes to mx_smtp_parser_feed() and checks the
 * reply, how many bytes were taken, and that every bound (line length,
 * line count, text size) holds. Run under ASan/UBSan and valgrind, an
 * overflow in the parser shows as a failure even where the result is right.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpreply.h"

/* --- helpers ---------------------------------------------------------- */

/* parser - a fresh heap parser (it is large; cmocka stacks are not) */
static struct mx_smtp_parser *
parser(void)
{
	struct mx_smtp_parser *p = malloc(sizeof(*p));

	assert_non_null(p);
	memset(p, 0xA5, sizeof(*p));	/* init must not rely on zeroed memory */
	mx_smtp_parser_init(p);
	return p;
}

/* feed - one call; *used and why are checked for sanity */
static enum mx_smtp_parse
feed(struct mx_smtp_parser *p, const char *buf, size_t len, size_t *used, char *why,
     size_t whylen)
{
	enum mx_smtp_parse st;

	*used = (size_t)-1;
	why[0] = '\0';
	st = mx_smtp_parser_feed(p, buf, len, used, why, whylen);
	assert_true(*used <= len);
	assert_true(strlen(why) < whylen);
	if (st == MX_SMTP_PARSE_ERROR)
		assert_true(why[0] != '\0');
	return st;
}

/* parse_all - feed s in one call; expect DONE and that every byte was used */
static struct mx_smtp_parser *
parse_all(const char *s)
{
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	used;

	if (feed(p, s, strlen(s), &used, why, sizeof(why)) != MX_SMTP_PARSE_DONE)
		fail_msg("\"%s\" did not parse: %s", s, why);
	assert_int_equal(used, strlen(s));
	return p;
}

/* parse_error - feed s byte by byte or at once; expect ERROR; return why */
static void
parse_error(const char *s, size_t len, bool bytewise, char *why, size_t whylen)
{
	struct mx_smtp_parser *p = parser();
	enum mx_smtp_parse st = MX_SMTP_PARSE_MORE;
	size_t	i, used;

	if (bytewise) {
		for (i = 0; i < len && st == MX_SMTP_PARSE_MORE; i++) {
			st = feed(p, s + i, 1, &used, why, whylen);
			if (st == MX_SMTP_PARSE_MORE)
				assert_int_equal(used, 1);
		}
	} else
		st = feed(p, s, len, &used, why, whylen);
	if (st != MX_SMTP_PARSE_ERROR)
		fail_msg("\"%.60s\" was not refused (state %d)", s, (int)st);
	free(p);
}

/* text_is_clean - no control octet other than TAB */
static void
assert_text_clean(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t < 0x20 && *t != '\t')
			fail_msg("control octet 0x%02x in reply text", (unsigned char)*t);
}

/* --- complete replies ---------------------------------------------------- */

static void
test_smtpreply_single_line(void **state)
{
	struct mx_smtp_parser *p = parse_all("220 mx.example.com ESMTP ready\r\n");

	(void)state;
	assert_int_equal(p->reply.code, 220);
	assert_string_equal(p->reply.enhanced, "");
	assert_string_equal(p->reply.text, "mx.example.com ESMTP ready");
	assert_int_equal(p->reply.nlines, 1);
	assert_string_equal(p->reply.lines[0], "mx.example.com");
	free(p);
}

static void
test_smtpreply_multi_line(void **state)
{
	struct mx_smtp_parser *p = parse_all("250-mx.example.com Hello client.test\r\n"
					     "250-PIPELINING\r\n"
					     "250-SIZE 10240000\r\n"
					     "250-AUTH=LOGIN PLAIN\r\n"
					     "250 8BITMIME\r\n");

	(void)state;
	assert_int_equal(p->reply.code, 250);
	assert_int_equal(p->reply.nlines, 5);
	assert_string_equal(p->reply.lines[0], "mx.example.com");
	assert_string_equal(p->reply.lines[1], "PIPELINING");
	assert_string_equal(p->reply.lines[2], "SIZE");
	assert_string_equal(p->reply.lines[3], "AUTH");	/* the word stops at '=' */
	assert_string_equal(p->reply.lines[4], "8BITMIME");
	assert_string_equal(p->reply.text, "mx.example.com Hello client.test / PIPELINING / "
			    "SIZE 10240000 / AUTH=LOGIN PLAIN / 8BITMIME");
	free(p);
}

static void
test_smtpreply_byte_by_byte(void **state)
{
	const char *s = "250-mx.test\r\n250-PIPELINING\r\n250 2.0.0 STARTTLS\r\n";
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	i, used, n = strlen(s);

	(void)state;
	for (i = 0; i + 1 < n; i++) {
		assert_int_equal(feed(p, s + i, 1, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
		assert_int_equal(used, 1);
	}
	assert_int_equal(feed(p, s + n - 1, 1, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_int_equal(used, 1);
	assert_int_equal(p->reply.code, 250);
	assert_int_equal(p->reply.nlines, 3);
	assert_string_equal(p->reply.lines[1], "PIPELINING");
	assert_string_equal(p->reply.text, "mx.test / PIPELINING / 2.0.0 STARTTLS");
	free(p);
}

static void
test_smtpreply_every_split_point(void **state)
{
	const char *s = "550-5.7.1 first line\r\n550 5.7.1 second line\r\n";
	struct mx_smtp_parser *p;
	char	why[160];
	size_t	cut, used, n = strlen(s);

	(void)state;
	for (cut = 0; cut < n; cut++) {
		p = parser();
		assert_int_equal(feed(p, s, cut, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
		assert_int_equal(used, cut);
		assert_int_equal(feed(p, s + cut, n - cut, &used, why, sizeof(why)),
				 MX_SMTP_PARSE_DONE);
		assert_int_equal(used, n - cut);
		assert_int_equal(p->reply.code, 550);
		assert_string_equal(p->reply.enhanced, "5.7.1");
		assert_string_equal(p->reply.text, "first line / second line");
		free(p);
	}
}

static void
test_smtpreply_pipelined_replies(void **state)
{
	const char *s = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data\r\n";
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	used, off = 0, n = strlen(s);

	(void)state;
	assert_int_equal(feed(p, s, n, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_int_equal(used, strlen("250 2.1.0 Ok\r\n"));
	assert_int_equal(p->reply.code, 250);
	assert_string_equal(p->reply.enhanced, "2.1.0");
	assert_string_equal(p->reply.text, "Ok");
	off += used;

	mx_smtp_parser_init(p);
	assert_int_equal(feed(p, s + off, n - off, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_int_equal(used, strlen("250-2.1.5 Ok\r\n250 2.1.5 Ok\r\n"));
	assert_int_equal(p->reply.nlines, 2);
	assert_string_equal(p->reply.enhanced, "2.1.5");
	assert_string_equal(p->reply.text, "Ok / Ok");
	off += used;

	mx_smtp_parser_init(p);
	assert_int_equal(feed(p, s + off, n - off, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_int_equal(used, n - off);
	assert_int_equal(p->reply.code, 354);
	assert_int_equal(p->reply.nlines, 1);
	assert_string_equal(p->reply.text, "End data");
	free(p);
}

static void
test_smtpreply_needs_more_after_continuation(void **state)
{
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	used;

	(void)state;
	/* a continuation line alone, and a last line without its LF, are not a reply */
	assert_int_equal(feed(p, "250-a\r\n", 7, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
	assert_int_equal(feed(p, "250 b\r", 6, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
	assert_int_equal(feed(p, "", 0, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(feed(p, "\n", 1, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_string_equal(p->reply.text, "a / b");
	free(p);
}

/* --- enhanced status codes ----------------------------------------------- */

static void
test_smtpreply_enhanced_extracted(void **state)
{
	struct mx_smtp_parser *p = parse_all("550 5.1.1 <nobody@example.com>: Recipient "
					     "address rejected\r\n");

	(void)state;
	assert_int_equal(p->reply.code, 550);
	assert_string_equal(p->reply.enhanced, "5.1.1");
	assert_string_equal(p->reply.text, "<nobody@example.com>: Recipient address rejected");
	free(p);

	p = parse_all("451 4.7.1 Greylisted, try again later\r\n");
	assert_string_equal(p->reply.enhanced, "4.7.1");
	assert_string_equal(p->reply.text, "Greylisted, try again later");
	free(p);

	p = parse_all("250 2.0.0\r\n");			/* code and nothing else */
	assert_string_equal(p->reply.enhanced, "2.0.0");
	assert_string_equal(p->reply.text, "");
	free(p);

	p = parse_all("552 5.3.4 \r\n");
	assert_string_equal(p->reply.enhanced, "5.3.4");
	assert_string_equal(p->reply.text, "");
	free(p);

	p = parse_all("554 5.123.456 three digits each\r\n");
	assert_string_equal(p->reply.enhanced, "5.123.456");
	assert_string_equal(p->reply.text, "three digits each");
	free(p);
}

static void
test_smtpreply_enhanced_class_must_match(void **state)
{
	struct mx_smtp_parser *p = parse_all("550 4.1.1 x\r\n");

	(void)state;
	assert_int_equal(p->reply.code, 550);
	assert_string_equal(p->reply.enhanced, "");
	assert_string_equal(p->reply.text, "4.1.1 x");
	free(p);

	p = parse_all("250 5.0.0 odd but harmless\r\n");
	assert_string_equal(p->reply.enhanced, "");
	assert_string_equal(p->reply.text, "5.0.0 odd but harmless");
	free(p);
}

static void
test_smtpreply_enhanced_malformed_kept_as_text(void **state)
{
	static const char *const cases[][2] = {
		{ "550 5.1 two parts\r\n", "5.1 two parts" },
		{ "550 5.1.1.1 four parts\r\n", "5.1.1.1 four parts" },
		{ "550 5.1234.1 long subject\r\n", "5.1234.1 long subject" },
		{ "550 5.1.1234 long detail\r\n", "5.1.1234 long detail" },
		{ "550 5.1.1x glued\r\n", "5.1.1x glued" },
		{ "550 5..1 empty\r\n", "5..1 empty" },
		{ "550  5.1.1 two spaces\r\n", " 5.1.1 two spaces" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_smtp_parser *p = parse_all(cases[i][0]);

		if (p->reply.enhanced[0] != '\0')
			fail_msg("\"%s\" gave enhanced code \"%s\"", cases[i][0], p->reply.enhanced);
		assert_string_equal(p->reply.text, cases[i][1]);
		free(p);
	}
}

static void
test_smtpreply_enhanced_repeated_removed(void **state)
{
	struct mx_smtp_parser *p = parse_all("550-5.7.1 Service unavailable; client host\r\n"
					     "550-5.7.1 blocked using zen.example;\r\n"
					     "550 5.7.1 see https://example.org/\r\n");

	(void)state;
	assert_string_equal(p->reply.enhanced, "5.7.1");
	assert_string_equal(p->reply.text, "Service unavailable; client host / blocked using "
			    "zen.example; / see https://example.org/");
	free(p);

	/* only the same code is removed: a different one is part of the text */
	p = parse_all("550-5.7.1 first\r\n550 5.7.2 second\r\n");
	assert_string_equal(p->reply.enhanced, "5.7.1");
	assert_string_equal(p->reply.text, "first / 5.7.2 second");
	free(p);

	/* no code on the first line: nothing is taken from the later ones */
	p = parse_all("550-first\r\n550 5.7.1 second\r\n");
	assert_string_equal(p->reply.enhanced, "");
	assert_string_equal(p->reply.text, "first / 5.7.1 second");
	free(p);
}

/* --- odd but valid forms ------------------------------------------------- */

static void
test_smtpreply_bare_code(void **state)
{
	struct mx_smtp_parser *p = parse_all("250\r\n");

	(void)state;
	assert_int_equal(p->reply.code, 250);
	assert_int_equal(p->reply.nlines, 1);
	assert_string_equal(p->reply.text, "");
	assert_string_equal(p->reply.enhanced, "");
	free(p);

	p = parse_all("250 \r\n");			/* smtp-sink ends its EHLO reply so */
	assert_int_equal(p->reply.code, 250);
	assert_string_equal(p->reply.text, "");
	free(p);

	p = parse_all("250-\r\n250-x\r\n250\r\n");
	assert_int_equal(p->reply.nlines, 3);
	assert_string_equal(p->reply.lines[1], "x");
	assert_string_equal(p->reply.lines[2], "");
	assert_memory_equal(p->reply.text, "x", 1);	/* (a trailing " / " is tolerated) */
	free(p);
}

static void
test_smtpreply_lf_without_cr(void **state)
{
	struct mx_smtp_parser *p = parse_all("250-mx.test\n250-PIPELINING\n250 SIZE 1000\n");

	(void)state;
	assert_int_equal(p->reply.code, 250);
	assert_int_equal(p->reply.nlines, 3);
	assert_string_equal(p->reply.text, "mx.test / PIPELINING / SIZE 1000");
	assert_true(mx_smtp_reply_has(&p->reply, "PIPELINING"));
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), 1000);
	free(p);

	p = parse_all("220 x\r\r\n");			/* stray CRs before LF are dropped too */
	assert_string_equal(p->reply.text, "x");
	free(p);
}

static void
test_smtpreply_every_class(void **state)
{
	static const int codes[] = { 200, 220, 250, 299, 334, 354, 421, 450, 499, 500, 554, 599 };
	char	line[32];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct mx_smtp_parser *p;

		snprintf(line, sizeof(line), "%d text\r\n", codes[i]);
		p = parse_all(line);
		assert_int_equal(p->reply.code, codes[i]);
		free(p);
	}
}

/* --- EHLO keywords ------------------------------------------------------- */

static void
test_smtpreply_ehlo_keywords(void **state)
{
	struct mx_smtp_parser *p = parse_all("250-mx.example.com says hi\r\n"
					     "250-pipelining\r\n"
					     "250-StartTLS\r\n"
					     "250-8BITMIME\r\n"
					     "250-SMTPUTF8\r\n"
					     "250-AUTH=LOGIN\r\n"
					     "250-ENHANCEDSTATUSCODES\r\n"
					     "250 SIZE 10240000\r\n");
	const struct mx_smtp_reply *r = &p->reply;

	(void)state;
	assert_true(mx_smtp_reply_has(r, "PIPELINING"));
	assert_true(mx_smtp_reply_has(r, "STARTTLS"));
	assert_true(mx_smtp_reply_has(r, "starttls"));
	assert_true(mx_smtp_reply_has(r, "8BITMIME"));
	assert_true(mx_smtp_reply_has(r, "SMTPUTF8"));
	assert_true(mx_smtp_reply_has(r, "smtputf8"));
	assert_true(mx_smtp_reply_has(r, "AUTH"));
	assert_true(mx_smtp_reply_has(r, "SIZE"));
	assert_false(mx_smtp_reply_has(r, "CHUNKING"));
	assert_false(mx_smtp_reply_has(r, "PIPE"));		/* whole words only */
	assert_false(mx_smtp_reply_has(r, "PIPELININGX"));
	/* the first line is the server's name, not a keyword */
	assert_false(mx_smtp_reply_has(r, "mx.example.com"));
	assert_int_equal(mx_smtp_reply_param(r, "SIZE"), 10240000);
	assert_int_equal(mx_smtp_reply_param(r, "size"), 10240000);
	assert_int_equal(mx_smtp_reply_param(r, "PIPELINING"), -1);
	assert_int_equal(mx_smtp_reply_param(r, "CHUNKING"), -1);
	free(p);

	/* a one-line EHLO reply offers nothing, even if its name looks like a keyword */
	p = parse_all("250 PIPELINING\r\n");
	assert_false(mx_smtp_reply_has(&p->reply, "PIPELINING"));
	free(p);
}

static void
test_smtpreply_size_without_number(void **state)
{
	struct mx_smtp_parser *p = parse_all("250-mx.test\r\n250-SIZE\r\n250 PIPELINING\r\n");

	(void)state;
	assert_true(mx_smtp_reply_has(&p->reply, "SIZE"));
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), -1);
	free(p);

	p = parse_all("250-mx.test\r\n250 SIZE\r\n");	/* at the very end of the text */
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), -1);
	free(p);

	p = parse_all("250-mx.test\r\n250 SIZE junk\r\n");
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), -1);
	free(p);

	p = parse_all("250-mx.test\r\n250 SIZE 0\r\n");	/* 0: no limit (RFC 1870) */
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), 0);
	free(p);

	/* only the keyword itself counts, not a word that ends in it */
	p = parse_all("250-mx.test\r\n250-XSIZE 5\r\n250 SIZE 77\r\n");
	assert_int_equal(mx_smtp_reply_param(&p->reply, "SIZE"), 77);
	free(p);

	p = parse_all("250-mx.test\r\n250 SIZE 99999999999999999999999\r\n");	/* no crash */
	assert_true(mx_smtp_reply_param(&p->reply, "SIZE") > 0);
	free(p);
}

static void
test_smtpreply_long_keyword_bounded(void **state)
{
	struct mx_smtp_parser *p = parse_all("250-mx.test\r\n"
					     "250-XVERYLONGKEYWORDTHATGOESONANDON\r\n"
					     "250 PIPELINING\r\n");

	(void)state;
	assert_int_equal(strlen(p->reply.lines[1]), sizeof(p->reply.lines[1]) - 1);
	assert_true(mx_smtp_reply_has(&p->reply, "PIPELINING"));
	free(p);
}

/* --- errors -------------------------------------------------------------- */

static void
test_smtpreply_line_too_long(void **state)
{
	size_t	n = MX_SMTP_LINE_MAX * 3;
	char   *s = malloc(n + 3), why[160];
	struct mx_smtp_parser *p;
	size_t	used;

	(void)state;
	assert_non_null(s);
	memcpy(s, "250 ", 4);
	memset(s + 4, 'x', n - 4);
	memcpy(s + n, "\r\n", 3);

	/* at once: refused, and no more than a line was taken */
	p = parser();
	assert_int_equal(feed(p, s, n + 2, &used, why, sizeof(why)), MX_SMTP_PARSE_ERROR);
	assert_true(used <= MX_SMTP_LINE_MAX);
	assert_non_null(strstr(why, "longer than"));
	free(p);

	/* byte by byte: the same */
	parse_error(s, n + 2, true, why, sizeof(why));
	assert_non_null(strstr(why, "longer than"));

	/* the limit itself: MX_SMTP_LINE_MAX octets with CRLF fit, one more does not */
	memcpy(s + MX_SMTP_LINE_MAX - 2, "\r\n", 2);
	p = parser();
	assert_int_equal(feed(p, s, MX_SMTP_LINE_MAX, &used, why, sizeof(why)),
			 MX_SMTP_PARSE_DONE);
	assert_int_equal(used, MX_SMTP_LINE_MAX);
	assert_int_equal(strlen(p->reply.text), MX_SMTP_TEXT_MAX - 1);	/* text is bounded */
	free(p);

	s[MX_SMTP_LINE_MAX - 2] = 'x';
	memcpy(s + MX_SMTP_LINE_MAX - 1, "\r\n", 2);
	parse_error(s, MX_SMTP_LINE_MAX + 1, false, why, sizeof(why));
	assert_non_null(strstr(why, "longer than"));
	free(s);
}

static void
test_smtpreply_too_many_lines(void **state)
{
	size_t	cap = (MX_SMTP_REPLY_LINES + 2) * 16, len = 0;
	char   *s = malloc(cap), why[160];
	struct mx_smtp_parser *p;
	int	i;

	(void)state;
	assert_non_null(s);
	/* MX_SMTP_REPLY_LINES lines in all: fine */
	for (i = 0; i < MX_SMTP_REPLY_LINES - 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "250-line%d\r\n", i);
	len += (size_t)snprintf(s + len, cap - len, "250 last\r\n");
	p = parse_all(s);
	assert_int_equal(p->reply.nlines, MX_SMTP_REPLY_LINES);
	assert_string_equal(p->reply.lines[MX_SMTP_REPLY_LINES - 1], "last");
	free(p);

	/* one more: refused */
	len = 0;
	for (i = 0; i < MX_SMTP_REPLY_LINES; i++)
		len += (size_t)snprintf(s + len, cap - len, "250-line%d\r\n", i);
	len += (size_t)snprintf(s + len, cap - len, "250 last\r\n");
	parse_error(s, len, false, why, sizeof(why));
	assert_non_null(strstr(why, "lines"));
	parse_error(s, len, true, why, sizeof(why));

	/* and an endless stream of continuation lines stops too */
	len = 0;
	for (i = 0; i < MX_SMTP_REPLY_LINES + 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "250-line%d\r\n", i);
	parse_error(s, len, false, why, sizeof(why));
	free(s);
}

static void
test_smtpreply_garbage(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 400 Bad Request\r\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
		"\r\n",
		"\n",
		"25\r\n",
		"2\r\n",
		"ok 250\r\n",
		" 250 leading space\r\n",
		"25x ok\r\n",
		"-250 dash\r\n",
	};
	char	why[160];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_error(bad[i], strlen(bad[i]), false, why, sizeof(why));
		parse_error(bad[i], strlen(bad[i]), true, why, sizeof(why));
	}
	parse_error("HTTP/1.1 400 Bad Request\r\n", 26, false, why, sizeof(why));
	assert_non_null(strstr(why, "not an SMTP reply"));
	/* binary octets, a NUL among them */
	parse_error("\x16\x03\x01\x00\xff\xfe\n", 7, false, why, sizeof(why));
	assert_text_clean(why);
}

static void
test_smtpreply_code_out_of_range(void **state)
{
	static const char *const bad[] = {
		"199 x\r\n", "100 x\r\n", "099 x\r\n", "000\r\n", "600 x\r\n", "999 x\r\n",
		"700-x\r\n",
	};
	char	why[160];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		parse_error(bad[i], strlen(bad[i]), false, why, sizeof(why));
}

static void
test_smtpreply_mixed_codes(void **state)
{
	char	why[160];
	struct mx_smtp_parser *p = parser();
	size_t	used;

	(void)state;
	assert_int_equal(feed(p, "250-a\r\n", 7, &used, why, sizeof(why)), MX_SMTP_PARSE_MORE);
	assert_int_equal(feed(p, "550 b\r\n", 7, &used, why, sizeof(why)), MX_SMTP_PARSE_ERROR);
	assert_non_null(strstr(why, "different codes"));
	free(p);

	parse_error("250-a\r\n251 b\r\n", 14, false, why, sizeof(why));
	parse_error("421-a\r\n450-b\r\n450 c\r\n", 21, true, why, sizeof(why));
}

static void
test_smtpreply_invalid_separator(void **state)
{
	static const char *const bad[] = {
		"250x\r\n", "250xok\r\n", "250_ok\r\n", "250\tok\r\n", "2500 ok\r\n", "250.ok\r\n",
		"250-a\r\n250x\r\n",
	};
	char	why[160];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_error(bad[i], strlen(bad[i]), false, why, sizeof(why));
		parse_error(bad[i], strlen(bad[i]), true, why, sizeof(why));
	}
}

static void
test_smtpreply_control_octets_replaced(void **state)
{
	static const char s[] = "550 5.7.1 bad\x01\x1b[31mred\x00nul\rcr\tkept\r\n";
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	used;

	(void)state;
	assert_int_equal(feed(p, s, sizeof(s) - 1, &used, why, sizeof(why)), MX_SMTP_PARSE_DONE);
	assert_int_equal(used, sizeof(s) - 1);
	assert_string_equal(p->reply.enhanced, "5.7.1");
	assert_string_equal(p->reply.text, "bad??[31mred?nul?cr\tkept");	/* NUL did not cut it */
	assert_text_clean(p->reply.text);
	free(p);

	/* in a rejected line the reason quotes it cleanly too */
	parse_error("HTTP\x1b[2J\x07\r\n", 11, false, why, sizeof(why));
	assert_text_clean(why);
}

static void
test_smtpreply_text_bounded(void **state)
{
	size_t	cap = MX_SMTP_REPLY_LINES * 1100, len = 0;
	char   *s = malloc(cap), *word = malloc(1001);
	struct mx_smtp_parser *p;
	int	i;

	(void)state;
	assert_non_null(s);
	assert_non_null(word);
	memset(word, 'y', 1000);
	word[1000] = '\0';
	for (i = 0; i < MX_SMTP_REPLY_LINES - 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "250-%03d%s\r\n", i, word);
	len += (size_t)snprintf(s + len, cap - len, "250 end\r\n");
	p = parse_all(s);
	assert_int_equal(p->reply.nlines, MX_SMTP_REPLY_LINES);
	assert_true(strlen(p->reply.text) < MX_SMTP_TEXT_MAX);
	assert_memory_equal(p->reply.text, "000yyy", 6);	/* the first line comes first */
	free(p);

	/* many short lines: bounded as well */
	len = 0;
	for (i = 0; i < MX_SMTP_REPLY_LINES - 1; i++)
		len += (size_t)snprintf(s + len, cap - len, "250-K%d\r\n", i);
	len += (size_t)snprintf(s + len, cap - len, "250 end\r\n");
	p = parse_all(s);
	assert_true(strlen(p->reply.text) < MX_SMTP_TEXT_MAX);
	assert_true(mx_smtp_reply_has(&p->reply, "end"));	/* keywords survive the cut */
	free(p);
	free(word);
	free(s);
}

static void
test_smtpreply_reusable_after_error(void **state)
{
	struct mx_smtp_parser *p = parser();
	char	why[160];
	size_t	used;

	(void)state;
	assert_int_equal(feed(p, "250-a\r\n550 b\r\n", 14, &used, why, sizeof(why)),
			 MX_SMTP_PARSE_ERROR);
	mx_smtp_parser_init(p);
	assert_int_equal(feed(p, "221 2.0.0 Bye\r\n", 15, &used, why, sizeof(why)),
			 MX_SMTP_PARSE_DONE);
	assert_int_equal(p->reply.code, 221);
	assert_int_equal(p->reply.nlines, 1);
	assert_string_equal(p->reply.text, "Bye");
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smtpreply_single_line),
		cmocka_unit_test(test_smtpreply_multi_line),
		cmocka_unit_test(test_smtpreply_byte_by_byte),
		cmocka_unit_test(test_smtpreply_every_split_point),
		cmocka_unit_test(test_smtpreply_pipelined_replies),
		cmocka_unit_test(test_smtpreply_needs_more_after_continuation),
		cmocka_unit_test(test_smtpreply_enhanced_extracted),
		cmocka_unit_test(test_smtpreply_enhanced_class_must_match),
		cmocka_unit_test(test_smtpreply_enhanced_malformed_kept_as_text),
		cmocka_unit_test(test_smtpreply_enhanced_repeated_removed),
		cmocka_unit_test(test_smtpreply_bare_code),
		cmocka_unit_test(test_smtpreply_lf_without_cr),
		cmocka_unit_test(test_smtpreply_every_class),
		cmocka_unit_test(test_smtpreply_ehlo_keywords),
		cmocka_unit_test(test_smtpreply_size_without_number),
		cmocka_unit_test(test_smtpreply_long_keyword_bounded),
		cmocka_unit_test(test_smtpreply_line_too_long),
		cmocka_unit_test(test_smtpreply_too_many_lines),
		cmocka_unit_test(test_smtpreply_garbage),
		cmocka_unit_test(test_smtpreply_code_out_of_range),
		cmocka_unit_test(test_smtpreply_mixed_codes),
		cmocka_unit_test(test_smtpreply_invalid_separator),
		cmocka_unit_test(test_smtpreply_control_octets_replaced),
		cmocka_unit_test(test_smtpreply_text_bounded),
		cmocka_unit_test(test_smtpreply_reusable_after_error),
	};

	return cmocka_run_group_tests_name("smtpreply (reply parser)", tests, NULL, NULL);
}
