/*
 * json - the small JSON writer (see json.h)
 */
#include "json.h"

/*
 * utf8_len - octets of the well-formed UTF-8 sequence at p, or 0 when it is
 * ill-formed; then *bad is how many octets one U+FFFD replaces (the maximal
 * part that could have begun a sequence, at least 1)
 */
static int
utf8_len(const unsigned char *p, int *bad)
{
	unsigned char lo = 0x80, hi = 0xbf;	/* range of the second octet */
	int	need, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 1;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		if (p[0] == 0xe0)
			lo = 0xa0;		/* no overlong forms */
		else if (p[0] == 0xed)
			hi = 0x9f;		/* no surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		if (p[0] == 0xf0)
			lo = 0x90;		/* no overlong forms */
		else if (p[0] == 0xf4)
			hi = 0x8f;		/* nothing above U+10FFFF */
	} else {
		*bad = 1;			/* 80-BF alone, C0, C1, F5-FF */
		return 0;
	}
	for (i = 1; i <= need; i++) {
		/* a NUL ends the string: it is never a continuation octet */
		if (p[i] < (i == 1 ? lo : 0x80) || p[i] > (i == 1 ? hi : 0xbf)) {
			*bad = i;
			return 0;
		}
	}
	return need + 1;
}

/* mx_json_string - write s as a quoted, escaped JSON string in valid UTF-8 */
void
mx_json_string(FILE *fp, const char *s)
{
	const unsigned char *p;
	int	n, bad;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	putc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = utf8_len(p, &bad);
		if (n == 0) {
			fputs("\\ufffd", fp);
			n = bad;
			continue;
		}
		if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			fprintf(fp, "\\u%04x", p[1]);	/* C1 control, U+0080..U+009F */
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, (size_t)n, fp);
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", fp); break;
		case '\\': fputs("\\\\", fp); break;
		case '\n': fputs("\\n", fp); break;
		case '\r': fputs("\\r", fp); break;
		case '\t': fputs("\\t", fp); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(fp, "\\u%04x", *p);
			else
				putc(*p, fp);
		}
	}
	putc('"', fp);
}

/* mx_json_string_or_null - s as a JSON string, or null when it is empty */
void
mx_json_string_or_null(FILE *fp, const char *s)
{
	mx_json_string(fp, s[0] != '\0' ? s : NULL);
}

/* mx_json_number_or_null - v as a JSON number, or null when it is below min */
void
mx_json_number_or_null(FILE *fp, int64_t v, int64_t min)
{
	if (v >= min)
		fprintf(fp, "%lld", (long long)v);
	else
		fputs("null", fp);
}
