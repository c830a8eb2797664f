/*
 * smtpreply - parse SMTP replies (see smtpreply.h)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpreply.h"

/* mx_smtp_parser_init - ready for a new reply */
void
mx_smtp_parser_init(struct mx_smtp_parser *p)
{
	memset(&p->reply, 0, sizeof(p->reply));
	p->reply.size = -1;
	p->len = 0;
}

/* enhanced_code - length of a leading "x.y.z " matching class c, or 0 */
static size_t
enhanced_code(const char *s, char c)
{
	size_t	i = 0, n;
	int	part;

	if (s[0] != c || s[1] != '.')
		return 0;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (n = 0; isdigit((unsigned char)s[i]) && n < 3; n++)
			i++;
		if (n == 0)
			return 0;
		if (part == 0) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	if (s[i] != ' ' && s[i] != '\0')
		return 0;
	return i;
}

/* append_text - add one line's text to the reply text, bounded */
static void
append_text(struct mx_smtp_reply *r, const char *text)
{
	size_t	used = strlen(r->text), n;

	n = strlen(text);
	if (n == 0)
		return;			/* an empty line adds nothing */
	if (used > 0 && used + 3 < sizeof(r->text)) {
		memcpy(r->text + used, " / ", 3);
		used += 3;
	}
	if (used + n >= sizeof(r->text))
		n = sizeof(r->text) - used - 1;
	memcpy(r->text + used, text, n);
	r->text[used + n] = '\0';
}

/* finish_line - check one complete line; returns 1 last line, 0 more, -1 error */
static int
finish_line(struct mx_smtp_parser *p, char *why, size_t whylen)
{
	struct mx_smtp_reply *r = &p->reply;
	char   *l = p->line, *text;
	int	code;
	size_t	e, i;

	while (p->len > 0 && (l[p->len - 1] == '\r' || l[p->len - 1] == '\n'))
		p->len--;
	l[p->len] = '\0';
	for (i = 0; i < p->len; i++)
		if (((unsigned char)l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f)
			l[i] = '?';	/* keep logs clean of control octets */
	if (p->len < 3 || !isdigit((unsigned char)l[0]) || !isdigit((unsigned char)l[1]) ||
	    !isdigit((unsigned char)l[2]) || l[0] < '2' || l[0] > '5' ||
	    (p->len > 3 && l[3] != ' ' && l[3] != '-')) {
		snprintf(why, whylen, "not an SMTP reply line: \"%.60s\"", l);
		return -1;
	}
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (r->nlines > 0 && code != r->code) {
		snprintf(why, whylen, "reply lines carry different codes (%d, then %d)", r->code, code);
		return -1;
	}
	if (r->nlines >= MX_SMTP_REPLY_LINES) {
		snprintf(why, whylen, "reply longer than %d lines", MX_SMTP_REPLY_LINES);
		return -1;
	}
	r->code = code;
	text = p->len > 4 ? l + 4 : l + p->len;
	if (r->nlines == 0 && (e = enhanced_code(text, l[0])) > 0) {
		snprintf(r->enhanced, sizeof(r->enhanced), "%.*s", (int)e, text);
		text += e;
		while (*text == ' ')
			text++;
	} else if (r->nlines > 0 && r->enhanced[0] &&
		   strncmp(text, r->enhanced, strlen(r->enhanced)) == 0 &&
		   (text[strlen(r->enhanced)] == ' ' || text[strlen(r->enhanced)] == '\0')) {
		text += strlen(r->enhanced);
		while (*text == ' ')
			text++;
	}
	for (i = 0; i < sizeof(r->lines[0]) - 1 && text[i] && text[i] != ' ' && text[i] != '='; i++)
		r->lines[r->nlines][i] = text[i];
	r->lines[r->nlines][i] = '\0';
	if (r->nlines > 0 && strcasecmp(r->lines[r->nlines], "SIZE") == 0 && text[4] == ' ' &&
	    isdigit((unsigned char)text[5]))
		r->size = strtoll(text + 5, NULL, 10);
	r->nlines++;
	append_text(r, text);
	p->len = 0;
	return (l[3] == '-') ? 0 : 1;
}

/* mx_smtp_parser_feed - take bytes until a reply is complete */
enum mx_smtp_parse
mx_smtp_parser_feed(struct mx_smtp_parser *p, const char *buf, size_t len, size_t *used,
		    char *why, size_t whylen)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p->len >= MX_SMTP_LINE_MAX) {
			*used = i;
			snprintf(why, whylen, "reply line longer than %d octets", MX_SMTP_LINE_MAX);
			return MX_SMTP_PARSE_ERROR;
		}
		p->line[p->len++] = buf[i];
		if (buf[i] == '\n') {
			int	rc = finish_line(p, why, whylen);

			if (rc < 0) {
				*used = i + 1;
				return MX_SMTP_PARSE_ERROR;
			}
			if (rc > 0) {
				*used = i + 1;
				return MX_SMTP_PARSE_DONE;
			}
		}
	}
	*used = len;
	return MX_SMTP_PARSE_MORE;
}

/* mx_smtp_reply_has - did an EHLO reply list keyword */
bool
mx_smtp_reply_has(const struct mx_smtp_reply *r, const char *keyword)
{
	int	i;

	for (i = 1; i < r->nlines; i++)		/* line 1 is the greeting name */
		if (strcasecmp(r->lines[i], keyword) == 0)
			return true;
	return false;
}

/* mx_smtp_reply_param - the number after an EHLO keyword (SIZE), or -1 */
long long
mx_smtp_reply_param(const struct mx_smtp_reply *r, const char *keyword)
{
	if (strcasecmp(keyword, "SIZE") != 0 || !mx_smtp_reply_has(r, keyword))
		return -1;
	return r->size;
}
