/*
 * sts - MTA-STS (RFC 8461) records and policies, pure (see sts.h)
 *
 * Readings of the RFC chosen here:
 *   - TXT (3.1): "v=STSv1" must open the record, with no white space
 *     before it; fields are separated by ";" with optional white space
 *     around it, an empty field (";;") is invalid, a final ";" is optional;
 *     unknown fields are ignored; "id" must appear exactly once.
 *   - Policy (3.2): lines end in CRLF or LF; "version: STSv1" must be the
 *     first line; empty lines are skipped; a line without ":" is invalid;
 *     version, mode and max_age may each appear only once; unknown keys
 *     are ignored. max_age is 1*10 DIGIT (the ABNF); a value above
 *     31557600 (the "maximum value" of 3.2) is capped at it rather than
 *     refused: the sender meant "as long as allowed", and refusing would
 *     turn an over-long policy into no policy at all. More than
 *     MX_STS_MAX_MX mx lines: the first ones are kept.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sts.h"

/* mx_sts_mode_name - "none", "testing", "enforce" */
const char *
mx_sts_mode_name(enum mx_sts_mode m)
{
	switch (m) {
	case MX_STS_MODE_ENFORCE:
		return "enforce";
	case MX_STS_MODE_TESTING:
		return "testing";
	case MX_STS_MODE_NONE:
	default:
		return "none";
	}
}

/* is_wsp - RFC 5234 WSP */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* txt_field - check one "key=value" field of the TXT record (s, len, trimmed) */
static bool
txt_field(const char *s, size_t len, char *why, size_t whylen)
{
	size_t	i, eq;

	for (eq = 0; eq < len && s[eq] != '='; eq++)
		;
	if (eq == 0 || eq == len || eq + 1 == len) {
		snprintf(why, whylen, "field '%.*s' is not key=value", (int)(len > 40 ? 40 : len), s);
		return false;
	}
	if (!isalpha((unsigned char)s[0])) {
		snprintf(why, whylen, "field name '%.*s' does not start with a letter",
			 (int)(eq > 40 ? 40 : eq), s);
		return false;
	}
	for (i = 1; i < eq; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.') {
			snprintf(why, whylen, "bad character in field name '%.*s'",
				 (int)(eq > 40 ? 40 : eq), s);
			return false;
		}
	for (i = eq + 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* sts-field-value = 1*(%x21-3A / %x3C / %x3E-7E) */
		if (c < 0x21 || c > 0x7e || c == ';' || c == '=') {
			snprintf(why, whylen, "bad character in the value of field '%.*s'",
				 (int)(eq > 40 ? 40 : eq), s);
			return false;
		}
	}
	return true;
}

/* mx_sts_txt_id - the id of a "v=STSv1; id=...;" record */
bool
mx_sts_txt_id(const char *txt, char *id, size_t idlen, char *why, size_t whylen)
{
	const char *p, *end, *f, *fe, *idp = NULL;
	bool	have_id = false;
	size_t	i, n, idn = 0;

	if (id != NULL && idlen > 0)
		id[0] = '\0';
	if (txt == NULL || strncmp(txt, "v=STSv1", 7) != 0) {
		snprintf(why, whylen, "the record does not start with v=STSv1");
		return false;
	}
	p = txt + 7;
	end = txt + strlen(txt);
	for (fe = p; fe < end && is_wsp(*fe); fe++)
		;
	if (fe == end) {
		snprintf(why, whylen, "the record has no id field");
		return false;
	}
	if (*fe != ';') {
		snprintf(why, whylen, "v=STSv1 is not followed by ';'");
		return false;
	}
	p = fe + 1;
	for (;;) {
		/* p is just after a ';' */
		while (p < end && is_wsp(*p))
			p++;
		if (p == end)
			break;		/* optional final separator */
		for (f = p; p < end && *p != ';'; p++)
			;
		for (fe = p; fe > f && is_wsp(fe[-1]); fe--)
			;
		if (fe == f) {
			snprintf(why, whylen, "empty field (';;')");
			return false;
		}
		if (!txt_field(f, (size_t)(fe - f), why, whylen))
			return false;
		if (fe - f > 3 && strncmp(f, "id=", 3) == 0) {
			if (have_id) {
				snprintf(why, whylen, "more than one id field");
				return false;
			}
			n = (size_t)(fe - f) - 3;
			if (n > MX_STS_ID_MAX) {
				snprintf(why, whylen, "id is %zu characters long; at most %d are "
					 "allowed", n, MX_STS_ID_MAX);
				return false;
			}
			for (i = 0; i < n; i++)
				if (!isalnum((unsigned char)f[3 + i])) {
					snprintf(why, whylen, "id '%.*s' holds other characters "
						 "than letters and digits", (int)n, f + 3);
					return false;
				}
			idp = f + 3;
			idn = n;
			have_id = true;
		}
		if (p == end)
			break;
		p++;		/* the ';' */
	}
	if (!have_id) {
		snprintf(why, whylen, "the record has no id field");
		return false;
	}
	if (id != NULL && idlen > idn) {
		memcpy(id, idp, idn);
		id[idn] = '\0';
	}
	return true;
}

/* mx_pattern - check and fold one mx: value into out; false (why) when invalid */
static bool
mx_pattern(const char *v, size_t len, char *out, size_t outlen, char *why, size_t whylen)
{
	char	name[MX_DOMAIN_MAX + 3], norm[MX_DOMAIN_MAX + 1], inner[200];
	size_t	off = 0;

	if (len == 0 || len > MX_DOMAIN_MAX) {
		snprintf(why, whylen, "mx pattern of %zu octets", len);
		return false;
	}
	memcpy(name, v, len);
	name[len] = '\0';
	if (name[0] == '*') {
		if (name[1] != '.') {
			snprintf(why, whylen, "mx pattern '%s': '*' must be a whole label", name);
			return false;
		}
		off = 2;
	}
	if (strchr(name + off, '*') != NULL) {
		snprintf(why, whylen, "mx pattern '%s': '*' is allowed only as the leftmost label",
			 name);
		return false;
	}
	if (name[len - 1] == '.') {
		snprintf(why, whylen, "mx pattern '%s' ends in a dot", name);
		return false;
	}
	if (!mx_domain_normalise(name + off, norm, sizeof(norm), inner, sizeof(inner))) {
		snprintf(why, whylen, "mx pattern '%s': %s", name, inner);
		return false;
	}
	if (off + strlen(norm) + 1 > outlen || off + strlen(norm) > MX_DOMAIN_MAX) {
		snprintf(why, whylen, "mx pattern '%s' is too long", name);
		return false;
	}
	memcpy(out, "*.", off);
	memcpy(out + off, norm, strlen(norm) + 1);
	return true;
}

/* parse_max_age - 1*10 DIGIT, capped at MX_STS_MAX_AGE */
static bool
parse_max_age(const char *v, size_t len, int64_t *out)
{
	int64_t	n = 0;
	size_t	i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (v[i] - '0');
	}
	*out = n > MX_STS_MAX_AGE ? MX_STS_MAX_AGE : n;
	return true;
}

/* mx_sts_policy_parse - the policy text (RFC 8461 3.2) */
bool
mx_sts_policy_parse(const char *text, size_t len, struct mx_sts_policy *p,
		    char *why, size_t whylen)
{
	const char *s = text, *end = text + len, *line, *eol, *k, *ke, *v, *ve;
	bool	have_version = false, have_mode = false, have_age = false;
	size_t	lineno = 0, i;

	p->mode = MX_STS_MODE_NONE;
	p->max_age = 0;
	p->nmx = 0;
	if (text == NULL || memchr(text, '\0', len) != NULL) {
		snprintf(why, whylen, "the policy holds a NUL octet");
		return false;
	}
	while (s < end) {
		line = s;
		for (eol = s; eol < end && *eol != '\n'; eol++)
			;
		s = eol < end ? eol + 1 : end;
		if (eol > line && eol[-1] == '\r')
			eol--;
		lineno++;
		if (eol == line)
			continue;	/* empty line */
		for (i = 0; line + i < eol; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
				snprintf(why, whylen, "line %zu holds a control character", lineno);
				return false;
			}
		for (ke = line; ke < eol && *ke != ':'; ke++)
			;
		if (ke == eol) {
			snprintf(why, whylen, "line %zu is not 'key: value'", lineno);
			return false;
		}
		k = line;
		for (v = ke + 1; v < eol && is_wsp(*v); v++)
			;
		for (ve = eol; ve > v && is_wsp(ve[-1]); ve--)
			;
#define KEY(name) ((size_t)(ke - k) == sizeof(name) - 1 && memcmp(k, name, ke - k) == 0)
		if (!have_version && !KEY("version")) {
			snprintf(why, whylen, "the first line is not 'version: STSv1'");
			return false;
		}
		if (KEY("version")) {
			if (have_version) {
				snprintf(why, whylen, "version given twice");
				return false;
			}
			if (ve - v != 5 || memcmp(v, "STSv1", 5) != 0) {
				snprintf(why, whylen, "version '%.*s' is not STSv1",
					 (int)(ve - v > 40 ? 40 : ve - v), v);
				return false;
			}
			have_version = true;
		} else if (KEY("mode")) {
			if (have_mode) {
				snprintf(why, whylen, "mode given twice");
				return false;
			}
			if (ve - v == 7 && memcmp(v, "enforce", 7) == 0)
				p->mode = MX_STS_MODE_ENFORCE;
			else if (ve - v == 7 && memcmp(v, "testing", 7) == 0)
				p->mode = MX_STS_MODE_TESTING;
			else if (ve - v == 4 && memcmp(v, "none", 4) == 0)
				p->mode = MX_STS_MODE_NONE;
			else {
				snprintf(why, whylen, "mode '%.*s' is none of enforce, testing, "
					 "none", (int)(ve - v > 40 ? 40 : ve - v), v);
				return false;
			}
			have_mode = true;
		} else if (KEY("max_age")) {
			if (have_age) {
				snprintf(why, whylen, "max_age given twice");
				return false;
			}
			if (!parse_max_age(v, (size_t)(ve - v), &p->max_age)) {
				snprintf(why, whylen, "max_age '%.*s' is not 1 to 10 digits",
					 (int)(ve - v > 40 ? 40 : ve - v), v);
				return false;
			}
			have_age = true;
		} else if (KEY("mx")) {
			char	pat[MX_DOMAIN_MAX + 1];

			if (!mx_pattern(v, (size_t)(ve - v), pat, sizeof(pat), why, whylen))
				return false;
			if (p->nmx < MX_STS_MAX_MX)
				memcpy(p->mx[p->nmx++], pat, sizeof(pat));
		}
		/* any other key is ignored (3.2) */
#undef KEY
	}
	if (!have_version) {
		snprintf(why, whylen, "no 'version: STSv1' line");
		return false;
	}
	if (!have_mode) {
		snprintf(why, whylen, "no mode line");
		return false;
	}
	if (!have_age) {
		snprintf(why, whylen, "no max_age line");
		return false;
	}
	if (p->nmx == 0 && p->mode != MX_STS_MODE_NONE) {
		snprintf(why, whylen, "no mx line in mode %s", mx_sts_mode_name(p->mode));
		return false;
	}
	return true;
}

/* mx_sts_mx_matches - host matches an mx: pattern (4.1) */
bool
mx_sts_mx_matches(const struct mx_sts_policy *p, const char *host)
{
	size_t	hlen, i;
	const char *dot;

	if (p == NULL || host == NULL)
		return false;
	hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;		/* tolerate a fully qualified name */
	for (i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];

		if (pat[0] == '*' && pat[1] == '.') {
			/* exactly one label, not empty, before the rest of the pattern */
			dot = memchr(host, '.', hlen);
			if (dot == NULL || dot == host)
				continue;
			if ((size_t)(host + hlen - (dot + 1)) == strlen(pat + 2) &&
			    strncasecmp(dot + 1, pat + 2, strlen(pat + 2)) == 0)
				return true;
		} else if (strlen(pat) == hlen && strncasecmp(host, pat, hlen) == 0)
			return true;
	}
	return false;
}

/* mx_sts_expired - fetched_ms + max_age s is at or before now_ms */
bool
mx_sts_expired(const struct mx_sts_policy *p, int64_t now_ms)
{
	return p->fetched_ms + p->max_age * 1000 <= now_ms;
}

/* mx_sts_next_step - fetch, use the cache, or no policy (5.1) */
enum mx_sts_step
mx_sts_next_step(const struct mx_sts_policy *cached, const char *txt_id,
		 bool txt_temporary, int64_t now_ms)
{
	bool	usable = cached != NULL && !mx_sts_expired(cached, now_ms);

	/* a failed TXT lookup is treated as a missing one: the cache outlives both */
	(void)txt_temporary;
	if (txt_id == NULL)
		return usable ? MX_STS_STEP_CACHED : MX_STS_STEP_NONE;
	if (usable && strcmp(cached->id, txt_id) == 0)
		return MX_STS_STEP_CACHED;
	return MX_STS_STEP_FETCH;
}
