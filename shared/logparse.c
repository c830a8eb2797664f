/*
 * logparse - Postfix and Exim log lines into delivery attempts (see logparse.h)
 *
 * One pass over each line's bytes, no regex, no allocation per line: a
 * line is first cut into its timestamp, (for syslog) host and program, and
 * only the few shapes that matter are looked at further. Everything copied
 * out is bounded and cleaned of control octets; a line longer than
 * LP_LINE_MAX is not a log line of either MTA and is BAD at once.
 *
 * Held lines (Postfix: per syslog host and PID; Exim: per message id) live
 * in one pool of at most LP_HELD_MAX entries, grown on demand, kept in
 * arrival order (a list, oldest first: the oldest is dropped when the pool
 * is full, and its offset is the resume offset) and chained per group (a
 * hash table of at most LP_GROUP_MAX groups of at most LP_GROUP_HELD
 * entries). A group's entries are "claimed" by the first status line of the
 * message that owns them, copied to every status line of that message, and
 * forgotten when the group's next delivery starts (a new held line, a
 * status line of another queue id, Exim's "Completed"), or an hour of log
 * time later.
 *
 * What the sources say about double logging (so that nothing counts twice):
 * Postfix logs every failed connect as "connect to H[A]:P: ERR" without a
 * queue id, the last one included, and then, if no server is left, the
 * status line repeats that very text (relay=none): the status line absorbs
 * the held line with the same text. Its "host H[A] said" and "lost
 * connection" info lines are logged only for a server that is not the last
 * (smtp_trouble.c: soft error and not FINAL_SERVER), so those never repeat.
 * Exim writes a "H=h [a] ERR" line for every host that deferred, the last
 * one included (transports/smtp.c write_logs()), and its "==" line repeats
 * the last one's error: the "==" or "**" line absorbs the last held line
 * whose text contains its error.
 *
 * Ownership: the parser owns its pool; mx_logparse_free() frees all.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "logparse.h"

#define LP_LINE_MAX	65536		/* longer: not a log line (BAD), nothing scanned */
#define LP_HELD_MAX	8192		/* held lines in all */
#define LP_GROUP_MAX	4096		/* PIDs / message ids with held lines */
#define LP_GROUP_HELD	64		/* held lines per PID / message id */
#define LP_BUCKETS	8192		/* hash buckets of the groups (power of 2) */
#define LP_HOLD_MS	(3600LL * 1000)	/* a held line older than this (log time) is dropped */
#define LP_TLS_SLOTS	1024		/* per-PID "TLS connection established" memory */
#define DAY_MS		(86400LL * 1000)

/* What a line or a held line says about one host, recipient aside. */
struct lp_fields {
	char	host[254];
	char	address[46];
	int	port;
	char	stage[16];
	int	reply_code;
	char	enhanced[16];
	char	text[512];
	char	rcpt[320];		/* Exim "after RCPT TO:<r>": only r's lines claim it */
};

struct lp_held {
	struct lp_fields f;
	uint64_t key;			/* the group's key */
	uint64_t hash;			/* FNV-1a over source and the raw line */
	int64_t	offset;
	int64_t	ts_ms;
	char	qid[64];		/* the queue id it names (Postfix connect: set on claim) */
	int32_t	older, newer;		/* arrival list */
	int32_t	gnext;			/* next of the same group */
	int32_t	group;
	bool	claimed;
};

struct lp_group {
	uint64_t key;
	int32_t	bnext;			/* next in the bucket, or free list */
	int32_t	first, last;
	int	n;
	bool	used;
	char	claim_qid[64];		/* "" until a status line claimed the group */
};

struct lp_tls {
	uint64_t key;
	char	address[46];
};

struct mx_logparse {
	enum mx_log_format fmt;
	int64_t	now_ms;
	struct lp_held *held;
	int32_t	held_alloc;		/* entries allocated */
	int32_t	held_free;		/* free list through gnext */
	int32_t	nheld;
	int32_t	oldest, newest;		/* arrival list */
	struct lp_group groups[LP_GROUP_MAX];
	int32_t	group_free;
	int32_t	ngroups;
	int32_t	buckets[LP_BUCKETS];
	struct lp_tls tls[LP_TLS_SLOTS];
};

/* One line cut into its parts. */
struct lp_line {
	const char *s, *e;		/* the whole line */
	int64_t	ts_ms;
	int64_t	offset;
	const char *body, *be;		/* after the prefix */
	uint64_t key;			/* Postfix: syslog host and PID */
	uint64_t hash;			/* source and line, once computed */
	bool	hashed;
	const char *source;
};

#define FNV_START	0xcbf29ce484222325ULL

/* fnv - FNV-1a over n octets, continuing from h */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

/* fnv_str - FNV-1a over a string and its terminating NUL */
static uint64_t
fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

/* line_hash - the line's hash over its source, raw bytes and offset (computed once) */
static uint64_t
line_hash(struct lp_line *l)
{
	if (!l->hashed) {
		l->hash = fnv(fnv_str(FNV_START, l->source), l->s, (size_t)(l->e - l->s));
		l->hash = fnv(l->hash, "", 1);
		for (int i = 0; i < 8; i++) {
			unsigned char b = (unsigned char)((uint64_t)l->offset >> (8 * i));

			l->hash = fnv(l->hash, &b, 1);
		}
		l->hashed = true;
	}
	return l->hash;
}

/* identity - an attempt's identity from its line's hash, recipient and queue id */
static uint64_t
identity(uint64_t h, const char *rcpt, const char *qid)
{
	return fnv_str(fnv_str(h, rcpt), qid);
}

/* --- bytes ------------------------------------------------------------ */

/* has - s..e starts with the n octets of lit */
static bool
has(const char *s, const char *e, const char *lit, size_t n)
{
	return (size_t)(e - s) >= n && memcmp(s, lit, n) == 0;
}
#define HAS(s, e, lit) has((s), (e), (lit), sizeof(lit) - 1)

/* find - first lit (n octets) in s..e, or NULL; linear for the short literals used */
static const char *
find(const char *s, const char *e, const char *lit, size_t n)
{
	const char *p;

	if (n == 0)
		return s;
	while ((size_t)(e - s) >= n && (p = memchr(s, lit[0], (size_t)(e - s) - n + 1)) != NULL) {
		if (memcmp(p, lit, n) == 0)
			return p;
		s = p + 1;
	}
	return NULL;
}
#define FIND(s, e, lit) find((s), (e), (lit), sizeof(lit) - 1)

/* findz - like find, for a NUL-terminated needle */
static const char *
findz(const char *s, const char *e, const char *z)
{
	return find(s, e, z, strlen(z));
}

/* isdig - an ASCII digit */
static bool
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* isalnum_ - an ASCII letter or digit */
static bool
isalnum_(char c)
{
	return isdig(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * copy - s..e into dst (size sz) NUL-terminated: control octets and NUL
 * become '?', and a cut never splits a UTF-8 sequence
 */
static void
copy(char *dst, size_t sz, const char *s, const char *e)
{
	size_t	n = 0, i;

	if (s != NULL && e > s)
		n = (size_t)(e - s);
	if (n >= sz) {
		n = sz - 1;
		/* back off continuation octets and the lead octet they belong to */
		if (((unsigned char)s[n] & 0xc0) == 0x80) {
			size_t	k = n;

			while (k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0x80 && n - k < 3)
				k--;
			if (k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0xc0)
				n = k - 1;
		}
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[n] = '\0';
}

/* copyz - a string into dst, bounded */
static void
copyz(char *dst, size_t sz, const char *z)
{
	copy(dst, sz, z, z + strlen(z));
}

/* num - a decimal of at most maxd digits at s; -1 when none; *endp after it */
static long
num(const char *s, const char *e, int maxd, const char **endp)
{
	long	v = 0;
	int	d = 0;

	while (s < e && isdig(*s) && d < maxd) {
		v = v * 10 + (*s++ - '0');
		d++;
	}
	if (endp != NULL)
		*endp = s;
	return d == 0 ? -1 : v;
}

/* domain_of - the lower-case domain of a recipient (after its last '@') */
static void
domain_of(char *dst, size_t sz, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	size_t	i;

	copyz(dst, sz, at != NULL ? at + 1 : "");
	for (i = 0; dst[i] != '\0'; i++)
		if (dst[i] >= 'A' && dst[i] <= 'Z')
			dst[i] = (char)(dst[i] - 'A' + 'a');
}

/* reply_of - code and enhanced status from a reply "550 5.1.1 text" at s */
static void
reply_of(struct lp_fields *f, const char *s, const char *e)
{
	const char *p = s, *q;
	long	c;

	if ((size_t)(e - s) < 3 || !isdig(s[0]) || !isdig(s[1]) || !isdig(s[2]) ||
	    s[0] < '2' || s[0] > '5' || (e - s > 3 && isdig(s[3])))
		return;
	c = num(s, e, 3, &p);
	f->reply_code = (int)c;
	if (p < e && (*p == ' ' || *p == '-'))
		p++;
	/* an enhanced status X.Y.Z with X the reply's class */
	q = p;
	if (q + 4 < e && *q == s[0] && q[1] == '.') {
		const char *r;

		if (num(q + 2, e, 3, &r) >= 0 && r < e && *r == '.' &&
		    num(r + 1, e, 3, &r) >= 0 && (r == e || *r == ' ' || *r == ';' || *r == ','))
			copy(f->enhanced, sizeof(f->enhanced), q, r);
	}
}

/* --- time ------------------------------------------------------------- */

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* year_of - the civil year of a day count since 1970-01-01 */
static int64_t
year_of(int64_t z)
{
	int64_t	era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return y + (mp >= 10);
}

/* civil_ms - Unix ms of a date and time (UTC) */
static int64_t
civil_ms(int64_t y, int mo, int d, int h, int mi, int s, int ms)
{
	return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + s * 1000LL + ms;
}

/* hms - "HH:MM:SS" at s; false when not */
static bool
hms(const char *s, const char *e, int *h, int *mi, int *sec)
{
	if (e - s < 8 || !isdig(s[0]) || !isdig(s[1]) || s[2] != ':' || !isdig(s[3]) ||
	    !isdig(s[4]) || s[5] != ':' || !isdig(s[6]) || !isdig(s[7]))
		return false;
	*h = (s[0] - '0') * 10 + s[1] - '0';
	*mi = (s[3] - '0') * 10 + s[4] - '0';
	*sec = (s[6] - '0') * 10 + s[7] - '0';
	return *h < 24 && *mi < 60 && *sec <= 60;
}

/* ymd - "YYYY-MM-DD" at s; false when not */
static bool
ymd(const char *s, const char *e, int *y, int *mo, int *d)
{
	if (e - s < 10 || s[4] != '-' || s[7] != '-' || num(s, s + 4, 4, NULL) < 0 ||
	    !isdig(s[1]) || !isdig(s[2]) || !isdig(s[3]) || !isdig(s[5]) || !isdig(s[6]) ||
	    !isdig(s[8]) || !isdig(s[9]))
		return false;
	*y = (int)num(s, s + 4, 4, NULL);
	*mo = (s[5] - '0') * 10 + s[6] - '0';
	*d = (s[8] - '0') * 10 + s[9] - '0';
	return *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= 31;
}

/* frac_ms - ".ddd..." at *pp: milliseconds, *pp moved past all digits */
static int
frac_ms(const char **pp, const char *e)
{
	const char *p = *pp;
	int	ms = 0, n = 0;

	if (p >= e || *p != '.' || p + 1 >= e || !isdig(p[1]))
		return 0;
	for (p++; p < e && isdig(*p); p++, n++)
		if (n < 3)
			ms = ms * 10 + (*p - '0');
	for (; n < 3; n++)
		ms *= 10;
	*pp = p;
	return ms;
}

/* syslog_stamp - "Mmm dd hh:mm:ss " at s: ms (year from now_ms), *endp after the space */
static bool
syslog_stamp(const char *s, const char *e, int64_t now_ms, int64_t *ts, const char **endp)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int	mo, d, h, mi, sec;
	int64_t	y, t;

	if (e - s < 16 || s[3] != ' ')
		return false;
	for (mo = 0; mo < 12; mo++)
		if (memcmp(s, months + 3 * mo, 3) == 0)
			break;
	if (mo == 12)
		return false;
	if (!(s[4] == ' ' || isdig(s[4])) || !isdig(s[5]) || s[6] != ' ')
		return false;
	d = (s[4] == ' ' ? 0 : (s[4] - '0') * 10) + s[5] - '0';
	if (d < 1 || d > 31 || !hms(s + 7, e, &h, &mi, &sec) || s[15] != ' ')
		return false;
	y = year_of(now_ms >= 0 ? now_ms / DAY_MS : (now_ms - DAY_MS + 1) / DAY_MS);
	t = civil_ms(y, mo + 1, d, h, mi, sec, 0);
	if (t > now_ms + DAY_MS)
		t = civil_ms(y - 1, mo + 1, d, h, mi, sec, 0);
	*ts = t;
	*endp = s + 16;
	return true;
}

/* rfc3339_stamp - "YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm) " at s */
static bool
rfc3339_stamp(const char *s, const char *e, int64_t *ts, const char **endp)
{
	int	y, mo, d, h, mi, sec, ms, off = 0;
	const char *p;

	if (e - s < 20 || !ymd(s, e, &y, &mo, &d) || s[10] != 'T' || !hms(s + 11, e, &h, &mi, &sec))
		return false;
	p = s + 19;
	ms = frac_ms(&p, e);
	if (p < e && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (e - p >= 6 && (*p == '+' || *p == '-') && isdig(p[1]) && isdig(p[2]) &&
		   p[3] == ':' && isdig(p[4]) && isdig(p[5])) {
		off = ((p[1] - '0') * 10 + p[2] - '0') * 60 + (p[4] - '0') * 10 + p[5] - '0';
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return false;
	}
	if (p >= e || *p != ' ')
		return false;
	*ts = civil_ms(y, mo, d, h, mi, sec, ms) - off * 60000LL;
	*endp = p + 1;
	return true;
}

/* exim_stamp - "YYYY-MM-DD hh:mm:ss[.mmm][ +hhmm] [[pid] ]" at s */
static bool
exim_stamp(const char *s, const char *e, int64_t *ts, const char **endp)
{
	int	y, mo, d, h, mi, sec, ms, off = 0;
	const char *p;

	if (e - s < 20 || !ymd(s, e, &y, &mo, &d) || s[10] != ' ' || !hms(s + 11, e, &h, &mi, &sec))
		return false;
	p = s + 19;
	ms = frac_ms(&p, e);
	if (p >= e || *p != ' ')
		return false;
	p++;
	if (e - p >= 6 && (*p == '+' || *p == '-') && isdig(p[1]) && isdig(p[2]) && isdig(p[3]) &&
	    isdig(p[4]) && p[5] == ' ') {
		off = ((p[1] - '0') * 10 + p[2] - '0') * 60 + (p[3] - '0') * 10 + p[4] - '0';
		if (*p == '-')
			off = -off;
		p += 6;
	}
	if (p < e && *p == '[') {	/* log_selector +pid */
		const char *q;

		if (num(p + 1, e, 10, &q) >= 0 && q + 1 < e && *q == ']' && q[1] == ' ')
			p = q + 2;
	}
	*ts = civil_ms(y, mo, d, h, mi, sec, ms) - off * 60000LL;
	*endp = p;
	return true;
}

/*
 * syslog_prog - after a syslog stamp: "host prog[pid]: " at s; sets prog
 * (prog..proge), body and key (host and pid); false when the shape is not there
 */
static bool
syslog_prog(struct lp_line *l, const char *s, const char **prog, const char **proge)
{
	const char *e = l->e, *host = s, *p, *q;
	long	pid;

	if ((p = memchr(s, ' ', (size_t)(e - s))) == NULL || p == s)
		return false;
	l->key = fnv(FNV_START, host, (size_t)(p - host));
	*prog = ++p;
	while (p < e && *p != '[' && *p != ' ' && *p != ':')
		p++;
	if (p >= e || *p != '[' || p == *prog)
		return false;
	*proge = p;
	if ((pid = num(p + 1, e, 10, &q)) < 0 || e - q < 3 || q[0] != ']' || q[1] != ':' || q[2] != ' ')
		return false;
	l->key = fnv(l->key, &pid, sizeof(pid));
	l->body = q + 3;
	l->be = e;
	return true;
}

/* exim_msgid - a message id (old 6-6-2 or new 6-11-4) and a space at s: its end, or NULL */
static const char *
exim_msgid(const char *s, const char *e)
{
	const char *p = s;
	int	n, part;
	static const int lens[3][2] = { { 6, 6 }, { 6, 11 }, { 2, 4 } };

	for (part = 0; part < 3; part++) {
		for (n = 0; p < e && isalnum_(*p); p++)
			n++;
		if (n != lens[part][0] && n != lens[part][1])
			return NULL;
		if (p >= e || *p != (part < 2 ? '-' : ' '))
			return NULL;
		if (part < 2)
			p++;
	}
	return p + 1;
}

/* --- held lines ------------------------------------------------------- */

/* group_find - the group of key, or -1 */
static int32_t
group_find(const struct mx_logparse *lp, uint64_t key)
{
	int32_t	g = lp->buckets[key & (LP_BUCKETS - 1)];

	while (g >= 0 && lp->groups[g].key != key)
		g = lp->groups[g].bnext;
	return g;
}

/* group_free - unlink an empty group */
static void
group_free(struct mx_logparse *lp, int32_t g)
{
	int32_t *pp = &lp->buckets[lp->groups[g].key & (LP_BUCKETS - 1)];

	while (*pp != g)
		pp = &lp->groups[*pp].bnext;
	*pp = lp->groups[g].bnext;
	lp->groups[g].used = false;
	lp->groups[g].bnext = lp->group_free;
	lp->group_free = g;
	lp->ngroups--;
}

/* held_remove - forget one held line (and its group when it was the last) */
static void
held_remove(struct mx_logparse *lp, int32_t i)
{
	struct lp_held *h = &lp->held[i];
	struct lp_group *g = &lp->groups[h->group];
	int32_t *pp = &g->first, prev = -1;

	while (*pp != i) {
		prev = *pp;
		pp = &lp->held[*pp].gnext;
	}
	*pp = h->gnext;
	if (g->last == i)
		g->last = prev;
	if (--g->n == 0)
		group_free(lp, h->group);
	if (h->older >= 0)
		lp->held[h->older].newer = h->newer;
	else
		lp->oldest = h->newer;
	if (h->newer >= 0)
		lp->held[h->newer].older = h->older;
	else
		lp->newest = h->older;
	h->gnext = lp->held_free;
	lp->held_free = i;
	lp->nheld--;
}

/* group_clear - forget every held line of a group; returns how many were unclaimed */
static int
group_clear(struct mx_logparse *lp, int32_t g)
{
	int	dropped = 0;

	while (g >= 0 && lp->groups[g].used && lp->groups[g].first >= 0) {
		int32_t	i = lp->groups[g].first;
		bool	last = lp->groups[g].n == 1;

		dropped += !lp->held[i].claimed;
		held_remove(lp, i);
		if (last)
			break;
	}
	return dropped;
}

/* expire - drop held lines more than LP_HOLD_MS older than now (log time) */
static void
expire(struct mx_logparse *lp, int64_t now)
{
	while (lp->oldest >= 0 && lp->held[lp->oldest].ts_ms < now - LP_HOLD_MS)
		held_remove(lp, lp->oldest);
}

/* held_new - a free entry, growing the pool or dropping the oldest; -1: no memory */
static int32_t
held_new(struct mx_logparse *lp)
{
	int32_t	i;

	if (lp->held_free < 0 && lp->held_alloc < LP_HELD_MAX) {
		int32_t	n = lp->held_alloc == 0 ? 64 : lp->held_alloc * 2, k;
		struct lp_held *nh;

		if (n > LP_HELD_MAX)
			n = LP_HELD_MAX;
		if ((nh = realloc(lp->held, (size_t)n * sizeof(*nh))) != NULL) {
			lp->held = nh;
			for (k = n - 1; k >= lp->held_alloc; k--) {
				nh[k].gnext = lp->held_free;
				lp->held_free = k;
			}
			lp->held_alloc = n;
		}
	}
	if (lp->held_free < 0) {
		if (lp->oldest < 0)
			return -1;
		held_remove(lp, lp->oldest);
	}
	i = lp->held_free;
	lp->held_free = lp->held[i].gnext;
	return i;
}

/*
 * hold - keep f (from line l, naming queue id qid or "") in key's group;
 * a group whose lines a message claimed starts afresh
 */
static void
hold(struct mx_logparse *lp, struct lp_line *l, uint64_t key, const char *qid,
     const struct lp_fields *f)
{
	int32_t	g = group_find(lp, key), i;
	struct lp_held *h;

	if (g >= 0 && lp->groups[g].claim_qid[0] != '\0') {
		group_clear(lp, g);
		g = -1;
	}
	if (g >= 0 && lp->groups[g].n >= LP_GROUP_HELD) {
		held_remove(lp, lp->groups[g].first);
		g = group_find(lp, key);
	}
	if (g < 0) {
		while (lp->ngroups >= LP_GROUP_MAX && lp->oldest >= 0)
			held_remove(lp, lp->oldest);
		if (lp->group_free < 0)
			return;
		g = lp->group_free;
		lp->group_free = lp->groups[g].bnext;
		memset(&lp->groups[g], 0, sizeof(lp->groups[g]));
		lp->groups[g].used = true;
		lp->groups[g].key = key;
		lp->groups[g].first = lp->groups[g].last = -1;
		lp->groups[g].bnext = lp->buckets[key & (LP_BUCKETS - 1)];
		lp->buckets[key & (LP_BUCKETS - 1)] = g;
		lp->ngroups++;
	}
	/* count the line to come, so that dropping the oldest line cannot free this group */
	lp->groups[g].n++;
	i = held_new(lp);
	lp->groups[g].n--;
	if (i < 0) {
		if (lp->groups[g].n == 0)
			group_free(lp, g);
		return;
	}
	h = &lp->held[i];
	h->f = *f;
	h->key = key;
	h->hash = line_hash(l);
	h->offset = l->offset;
	h->ts_ms = l->ts_ms;
	copyz(h->qid, sizeof(h->qid), qid);
	h->claimed = false;
	h->group = g;
	h->gnext = -1;
	if (lp->groups[g].last >= 0)
		lp->held[lp->groups[g].last].gnext = i;
	else
		lp->groups[g].first = i;
	lp->groups[g].last = i;
	lp->groups[g].n++;
	h->newer = -1;
	h->older = lp->newest;
	if (lp->newest >= 0)
		lp->held[lp->newest].newer = i;
	else
		lp->oldest = i;
	lp->newest = i;
	lp->nheld++;
}

/* --- output ----------------------------------------------------------- */

/* emit - one attempt to the sink */
static void
emit(const struct mx_log_sink *sink, const struct lp_fields *f, const char *source, int64_t ts,
     int64_t offset, const char *qid, const char *rcpt, const char *outcome, const char *tls,
     uint64_t id)
{
	struct mx_log_attempt a;

	if (sink == NULL || sink->attempt == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.ts_ms = ts;
	copyz(a.queue_id, sizeof(a.queue_id), qid);
	copyz(a.recipient, sizeof(a.recipient), rcpt);
	domain_of(a.domain, sizeof(a.domain), a.recipient);
	copyz(a.host, sizeof(a.host), f->host);
	copyz(a.address, sizeof(a.address), f->address);
	a.port = f->port;
	copyz(a.stage, sizeof(a.stage), f->stage);
	a.reply_code = f->reply_code;
	copyz(a.enhanced_status, sizeof(a.enhanced_status), f->enhanced);
	copyz(a.outcome, sizeof(a.outcome), outcome);
	copyz(a.reply_text, sizeof(a.reply_text), f->text);
	copyz(a.tls, sizeof(a.tls), tls);
	a.source = source;
	a.identity = id;
	a.line_offset = offset;
	sink->attempt(sink->ctx, &a);
}

/* note - one note to the sink */
static void
note(const struct mx_log_sink *sink, struct lp_line *l, const char *qid, const char *rcpt,
     const char *text, const char *te)
{
	struct mx_log_note n;

	if (sink == NULL || sink->note == NULL)
		return;
	memset(&n, 0, sizeof(n));
	n.ts_ms = l->ts_ms;
	copyz(n.queue_id, sizeof(n.queue_id), qid);
	copyz(n.recipient, sizeof(n.recipient), rcpt);
	domain_of(n.domain, sizeof(n.domain), n.recipient);
	copy(n.text, sizeof(n.text), text, te);
	n.source = l->source;
	n.identity = identity(line_hash(l), n.recipient, n.queue_id);
	sink->note(sink->ctx, &n);
}

/* absorbs - whether a status line's fields f repeat the held line h (see the top) */
static bool
absorbs(const struct lp_fields *f, const char *errtext, const struct lp_held *h)
{
	size_t	n;

	if (f->address[0] != '\0' && h->f.address[0] != '\0' && strcmp(f->address, h->f.address) != 0)
		return false;
	if (f->text[0] != '\0' && strcmp(f->text, h->f.text) == 0)
		return true;
	n = strlen(h->f.text);
	if (f->text[0] != '\0' && findz(h->f.text, h->f.text + n, f->text) != NULL)
		return true;
	return errtext != NULL && errtext[0] != '\0' && findz(h->f.text, h->f.text + n, errtext) != NULL;
}

/*
 * claim - the status line l of message qid for rcpt: the held lines of
 * key's group come out first (those of other queue ids are dropped), then
 * the line's own attempt f (absorbing the last held line it repeats)
 */
static void
claim(struct mx_logparse *lp, struct lp_line *l, uint64_t key, const char *qid, const char *rcpt,
      struct lp_fields *f, const char *errtext, const char *outcome, const char *tls,
      const struct mx_log_sink *sink)
{
	int32_t	g = group_find(lp, key), i, next, last = -1;
	struct lp_group *gr;

	if (g >= 0 && lp->groups[g].claim_qid[0] != '\0' && strcmp(lp->groups[g].claim_qid, qid) != 0) {
		group_clear(lp, g);
		g = -1;
	}
	if (g >= 0) {
		/* lines naming another message are stale */
		for (i = lp->groups[g].first; i >= 0; i = next) {
			bool	only = lp->groups[g].n == 1;

			next = lp->held[i].gnext;
			if (lp->held[i].qid[0] != '\0' && strcmp(lp->held[i].qid, qid) != 0) {
				held_remove(lp, i);
				if (only) {
					g = -1;
					break;
				}
			}
		}
	}
	if (g >= 0) {
		gr = &lp->groups[g];
		copyz(gr->claim_qid, sizeof(gr->claim_qid), qid);
		for (i = gr->first; i >= 0; i = lp->held[i].gnext) {
			lp->held[i].claimed = true;
			copyz(lp->held[i].qid, sizeof(lp->held[i].qid), qid);
			if (lp->held[i].f.rcpt[0] == '\0' || strcasecmp(lp->held[i].f.rcpt, rcpt) == 0)
				last = i;
		}
		if (last >= 0 && !absorbs(f, errtext, &lp->held[last]))
			last = -1;
		for (i = gr->first; i >= 0; i = lp->held[i].gnext) {
			const struct lp_held *h = &lp->held[i];

			if (h->f.rcpt[0] != '\0' && strcasecmp(h->f.rcpt, rcpt) != 0)
				continue;
			if (i == last) {
				/* the line repeats it: what the line lacks comes from the held one */
				if (f->host[0] == '\0' && f->address[0] == '\0') {
					copyz(f->host, sizeof(f->host), h->f.host);
					copyz(f->address, sizeof(f->address), h->f.address);
					f->port = h->f.port;
				}
				if (f->stage[0] == '\0')
					copyz(f->stage, sizeof(f->stage), h->f.stage);
				if (f->reply_code == 0) {
					f->reply_code = h->f.reply_code;
					if (f->enhanced[0] == '\0')
						copyz(f->enhanced, sizeof(f->enhanced), h->f.enhanced);
				}
				if (strlen(h->f.text) > strlen(f->text))
					copyz(f->text, sizeof(f->text), h->f.text);
				continue;
			}
			emit(sink, &h->f, l->source, h->ts_ms, h->offset, qid, rcpt, "tempfail", "",
			     identity(h->hash, rcpt, qid));
		}
	}
	emit(sink, f, l->source, l->ts_ms, l->offset, qid, rcpt, outcome, tls,
	     identity(line_hash(l), rcpt, qid));
}

/* --- Postfix ---------------------------------------------------------- */

/* host_addr - "H[A]" (and ":P" when port) at s: fills f; the end, or NULL */
static const char *
host_addr(struct lp_fields *f, const char *s, const char *e, bool port)
{
	const char *lb, *rb, *p;

	if ((lb = memchr(s, '[', (size_t)(e - s))) == NULL || (rb = memchr(lb, ']', (size_t)(e - lb))) == NULL)
		return NULL;
	if (memchr(s, ' ', (size_t)(lb - s)) != NULL)
		return NULL;
	copy(f->host, sizeof(f->host), s, lb);
	p = lb + 1;
	if (rb - p > 5 && (p[0] | 0x20) == 'i' && (p[1] | 0x20) == 'p' && (p[2] | 0x20) == 'v' &&
	    p[3] == '6' && p[4] == ':')
		p += 5;
	copy(f->address, sizeof(f->address), p, rb);
	p = rb + 1;
	if (port && p + 1 < e && *p == ':' && isdig(p[1])) {
		long	v = num(p + 1, e, 5, &p);

		f->port = v <= 65535 ? (int)v : -1;
	}
	return p;
}

/* pf_stage - a stage from Postfix's "in reply to X" / "while X" words */
static const char *
pf_stage(const char *s, const char *e)
{
	if (FIND(s, e, "greeting") != NULL)
		return "greeting";
	if (FIND(s, e, "STARTTLS") != NULL || FIND(s, e, "TLS") != NULL)
		return "starttls";
	if (FIND(s, e, "HLO") != NULL || FIND(s, e, "EHLO") != NULL)
		return "ehlo";
	if (FIND(s, e, "XFORWARD") != NULL || FIND(s, e, "MAIL FROM") != NULL)
		return "mail";
	if (FIND(s, e, "RCPT TO") != NULL)
		return "rcpt";
	if (FIND(s, e, "end of DATA") != NULL || FIND(s, e, "end of data") != NULL ||
	    FIND(s, e, "message body") != NULL)
		return "dot";
	if (FIND(s, e, "DATA") != NULL)
		return "data";
	return "";
}

/*
 * pf_reason - what Postfix's reason text says: the server, stage, reply;
 * reply_text becomes the server's reply, or the whole reason
 */
static void
pf_reason(struct lp_fields *f, const char *s, const char *e)
{
	const char *p, *q;

	copy(f->text, sizeof(f->text), s, e);
	if (HAS(s, e, "host ") && (p = host_addr(f, s + 5, e, false)) != NULL) {
		if (HAS(p, e, " said: ")) {
			p += 7;
			q = NULL;
			/* the last "(in reply to ...)": the reply itself may hold parentheses */
			for (const char *r = p; (r = FIND(r, e, " (in reply to ")) != NULL; r++)
				q = r;
			copy(f->text, sizeof(f->text), p, q != NULL ? q : e);
			reply_of(f, p, q != NULL ? q : e);
			if (q != NULL)
				copyz(f->stage, sizeof(f->stage), pf_stage(q + 14, e));
		} else if (HAS(p, e, " refused to talk to me: ")) {
			p += 24;
			copy(f->text, sizeof(f->text), p, e);
			reply_of(f, p, e);
			copyz(f->stage, sizeof(f->stage), "greeting");
		} else if ((q = FIND(p, e, " while ")) != NULL) {
			copyz(f->stage, sizeof(f->stage), pf_stage(q, e));
		} else {
			copyz(f->stage, sizeof(f->stage), pf_stage(p, e));
		}
	} else if (HAS(s, e, "connect to ")) {
		if (host_addr(f, s + 11, e, true) == NULL)
			f->host[0] = f->address[0] = '\0';
		copyz(f->stage, sizeof(f->stage), "connect");
	} else if ((HAS(s, e, "lost connection with ") &&
		    (p = host_addr(f, s + 21, e, false)) != NULL) ||
		   (HAS(s, e, "conversation with ") &&
		    (p = host_addr(f, s + 18, e, false)) != NULL)) {
		copyz(f->stage, sizeof(f->stage), pf_stage(p, e));
	} else if ((p = FIND(s, e, "by host ")) != NULL && host_addr(f, p + 8, e, false) != NULL) {
		/* "TLS is required, but was not offered by host H[A]" */
		copyz(f->stage, sizeof(f->stage), "starttls");
	} else {
		/* "250 2.0.0 Ok: queued as X" (sent) or a reason without a server */
		reply_of(f, s, e);
	}
}

/* fields_init - empty fields */
static void
fields_init(struct lp_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->port = -1;
}

/* pf_qid - a queue id and ": " at body: its end (after ": "), or NULL */
static const char *
pf_qid(const char *s, const char *e, char *qid, size_t sz)
{
	const char *p = s;

	while (p < e && isalnum_(*p) && p - s < 32)
		p++;
	if (p - s < 5 || e - p < 2 || p[0] != ':' || p[1] != ' ')
		return NULL;
	copy(qid, sz, s, p);
	return p + 2;
}

/* field - the value of ", NAME=" between s and e (first after s); NULL when absent */
static const char *
field(const char *s, const char *e, const char *name, const char **ve)
{
	const char *p = findz(s, e, name), *q;

	if (p == NULL)
		return NULL;
	p += strlen(name);
	q = FIND(p, e, ", ");
	*ve = q != NULL ? q : e;
	return p;
}

/*
 * pf_status - "to=<r>, ..., status=X (TEXT)" at s; smtp says whether the
 * program is smtp(8)/lmtp(8)
 */
static enum mx_log_line
pf_status(struct mx_logparse *lp, struct lp_line *l, const char *qid, const char *s, bool smtp,
	  const struct mx_log_sink *sink)
{
	const char *e = l->be, *relay, *re, *rend, *st, *ste, *tx, *txe, *dsn, *dsne, *p;
	char	rcpt[320];
	struct lp_fields f;
	const char *outcome, *tls = "";

	/* the recipient: up to ">, orig_to=<" or ">, relay=" */
	if ((relay = FIND(s, e, ", relay=")) == NULL)
		return MX_LINE_OTHER;
	rend = relay;
	if ((p = FIND(s + 4, relay, ">, orig_to=<")) != NULL)
		rend = p + 1;
	if (rend <= s + 4 || rend[-1] != '>')
		return MX_LINE_OTHER;
	copy(rcpt, sizeof(rcpt), s + 4, rend - 1);
	relay += 8;
	if ((st = field(relay, e, ", status=", &ste)) == NULL)
		return MX_LINE_OTHER;
	if ((p = memchr(st, ' ', (size_t)(e - st))) != NULL && p < ste)
		ste = p;
	tx = ste;
	txe = e;
	if (e - tx >= 2 && tx[0] == ' ' && tx[1] == '(') {
		tx += 2;
		if (txe > tx && txe[-1] == ')')
			txe--;
	} else {
		tx = txe = ste;
	}
	if (st + 8 == ste && memcmp(st, "deferred", 8) == 0 &&
	    HAS(tx, txe, "delivery temporarily suspended")) {
		note(sink, l, qid, rcpt, tx, txe);
		return MX_LINE_NOTE;
	}
	if (!smtp)
		return MX_LINE_OTHER;
	if (st + 4 == ste && memcmp(st, "sent", 4) == 0)
		outcome = "delivered";
	else if (st + 8 == ste && memcmp(st, "deferred", 8) == 0)
		outcome = "tempfail";
	else if (st + 7 == ste && memcmp(st, "bounced", 7) == 0)
		outcome = "permfail";
	else
		return MX_LINE_OTHER;
	fields_init(&f);
	pf_reason(&f, tx, txe);
	/* relay=H[A]:P names the server the status is about; relay=none keeps the text's */
	re = memchr(relay, ',', (size_t)(e - relay));
	if (re == NULL)
		re = e;
	if (!HAS(relay, re, "none")) {
		struct lp_fields r;

		fields_init(&r);
		if (host_addr(&r, relay, re, true) != NULL) {
			copyz(f.host, sizeof(f.host), r.host);
			copyz(f.address, sizeof(f.address), r.address);
			f.port = r.port;
		}
	}
	if ((dsn = field(relay, st, ", dsn=", &dsne)) != NULL && dsne - dsn < 16 && dsne > dsn)
		copy(f.enhanced, sizeof(f.enhanced), dsn, dsne);
	if (strcmp(outcome, "delivered") == 0 && f.stage[0] == '\0')
		copyz(f.stage, sizeof(f.stage), "dot");
	if (f.address[0] != '\0') {
		const struct lp_tls *t = &lp->tls[l->key & (LP_TLS_SLOTS - 1)];

		if (t->key == l->key && strcmp(t->address, f.address) == 0)
			tls = "tls";
	}
	claim(lp, l, l->key, qid, rcpt, &f, NULL, outcome, tls, sink);
	return MX_LINE_ATTEMPT;
}

/* postfix_line - a syslog line of any program in a Postfix log */
static enum mx_log_line
postfix_line(struct mx_logparse *lp, struct lp_line *l, const char *prog, const char *proge,
	     const struct mx_log_sink *sink)
{
	const char *s = l->body, *e = l->be, *slash, *last, *p;
	char	qid[64];
	bool	smtp;
	struct lp_fields f;

	if ((slash = memchr(prog, '/', (size_t)(proge - prog))) == NULL)
		return MX_LINE_OTHER;		/* not Postfix: sshd, kernel, ... */
	for (last = proge; last > prog && last[-1] != '/'; last--)
		;
	smtp = proge - last == 4 && (memcmp(last, "smtp", 4) == 0 || memcmp(last, "lmtp", 4) == 0);
	if (s >= e)
		return MX_LINE_OTHER;
	if ((p = pf_qid(s, e, qid, sizeof(qid))) == NULL) {
		if (!smtp)
			return MX_LINE_OTHER;
		if (HAS(s, e, "connect to ")) {
			fields_init(&f);
			pf_reason(&f, s, e);
			/* a line cut before its server ("connect to mx1.ex") tells nothing */
			if (f.address[0] == '\0')
				return MX_LINE_BAD;
			hold(lp, l, l->key, "", &f);
			return MX_LINE_ATTEMPT;
		}
		if ((p = FIND(s, e, "TLS connection established to ")) != NULL && p - s < 16) {
			struct lp_tls *t = &lp->tls[l->key & (LP_TLS_SLOTS - 1)];

			fields_init(&f);
			if (host_addr(&f, p + 30, e, false) != NULL) {
				t->key = l->key;
				copyz(t->address, sizeof(t->address), f.address);
			}
		}
		return MX_LINE_OTHER;
	}
	if (HAS(p, e, "to=<"))
		return pf_status(lp, l, qid, p, smtp, sink);
	if (!smtp)
		return MX_LINE_OTHER;
	if (HAS(p, e, "host ") || HAS(p, e, "lost connection with ") ||
	    HAS(p, e, "conversation with ")) {
		fields_init(&f);
		pf_reason(&f, p, e);
		if (f.address[0] == '\0')
			return MX_LINE_OTHER;
		hold(lp, l, l->key, qid, &f);
		return MX_LINE_ATTEMPT;
	}
	return MX_LINE_OTHER;
}

/* --- Exim ------------------------------------------------------------- */

/* ex_stage - a stage from Exim's "after X" / "in response to X" words */
static const char *
ex_stage(const char *s, const char *e)
{
	if (HAS(s, e, "initial connection"))
		return "greeting";
	if (HAS(s, e, "EHLO") || HAS(s, e, "HELO") || HAS(s, e, "LHLO"))
		return "ehlo";
	if (HAS(s, e, "STARTTLS"))
		return "starttls";
	if (HAS(s, e, "MAIL FROM"))
		return "mail";
	if (HAS(s, e, "RCPT TO"))
		return "rcpt";
	if (HAS(s, e, "end of data") || HAS(s, e, "pipelined end of data") ||
	    HAS(s, e, "sending data block") || HAS(s, e, "BDAT"))
		return "dot";
	if (HAS(s, e, "DATA") || HAS(s, e, "pipelined DATA"))
		return "data";
	return "";
}

/* ex_reason - what Exim's error text says: stage, reply, the recipient of a RCPT TO */
static void
ex_reason(struct lp_fields *f, const char *s, const char *e)
{
	const char *p, *q;

	copy(f->text, sizeof(f->text), s, e);
	if ((p = FIND(s, e, " after ")) != NULL)
		p += 7;
	else if ((p = FIND(s, e, " in response to ")) != NULL)
		p += 16;
	if (p != NULL) {
		copyz(f->stage, sizeof(f->stage), ex_stage(p, e));
		if (HAS(p, e, "RCPT TO:<") && (q = memchr(p + 9, '>', (size_t)(e - p - 9))) != NULL)
			copy(f->rcpt, sizeof(f->rcpt), p + 9, q);
		/* the reply: after the command's ": " */
		if ((q = FIND(p, e, ": ")) != NULL) {
			reply_of(f, q + 2, e);
			if (f->reply_code != 0)
				copy(f->text, sizeof(f->text), q + 2, e);
		}
	} else if (HAS(s, e, "Connection refused") || HAS(s, e, "Connection timed out") ||
		   HAS(s, e, "No route to host") || HAS(s, e, "Network is unreachable") ||
		   HAS(s, e, "Netwk addr not available")) {
		copyz(f->stage, sizeof(f->stage), "connect");
	} else if (FIND(s, e, "TLS") != NULL) {
		copyz(f->stage, sizeof(f->stage), "starttls");
	}
}

/* ex_host - "H=name [addr][:port][*]" at s (after "H="): fills f; the end, or NULL */
static const char *
ex_host(struct lp_fields *f, const char *s, const char *e)
{
	const char *sp, *p, *rb;

	if (s >= e || *s == '(' || (sp = memchr(s, ' ', (size_t)(e - s))) == NULL)
		return NULL;
	p = sp + 1;
	if (HAS(p, e, "DS ["))			/* log_selector +dnssec */
		p += 3;
	if (p >= e || *p != '[' || (rb = memchr(p, ']', (size_t)(e - p))) == NULL)
		return NULL;
	if (memchr(s, ']', (size_t)(sp - s)) != NULL && *s != '[')
		return NULL;
	copy(f->host, sizeof(f->host), s, sp);
	copy(f->address, sizeof(f->address), p + 1, rb);
	p = rb + 1;
	if (p + 1 < e && *p == ':' && isdig(p[1])) {
		long	v = num(p + 1, e, 5, &p);

		f->port = v <= 65535 ? (int)v : -1;
	}
	if (p < e && *p == '*')
		p++;
	return p;
}

/* is_dns_failure - Exim's reasons for a recipient without any host to try */
static bool
is_dns_failure(const char *s, const char *e)
{
	return FIND(s, e, "no SMTP service") != NULL || FIND(s, e, "Unrouteable address") != NULL ||
	       FIND(s, e, "host lookup did not complete") != NULL ||
	       FIND(s, e, "all relevant MX records point to non-existent hosts") != NULL;
}

/* is_net_failure - an errno text of a failed connection */
static bool
is_net_failure(const char *s, const char *e)
{
	return FIND(s, e, "Connection refused") != NULL || FIND(s, e, "Connection timed out") != NULL ||
	       FIND(s, e, "No route to host") != NULL || FIND(s, e, "Network is unreachable") != NULL ||
	       FIND(s, e, "Network Error") != NULL || FIND(s, e, "SMTP error") != NULL;
}

/* ex_recipient - "=>", "->", "==", "**" at s (after the marker and space) */
static enum mx_log_line
ex_recipient(struct mx_logparse *lp, struct lp_line *l, uint64_t key, const char *qid, char kind,
	     const char *s, const struct mx_log_sink *sink)
{
	const char *e = l->be, *p, *h, *he = NULL, *msg = NULL, *err = NULL, *erre = NULL;
	char	rcpt[320], errtext[128];
	struct lp_fields f;
	const char *outcome, *tls = "";
	bool	host = false;

	if ((p = memchr(s, ' ', (size_t)(e - s))) == NULL)
		p = e;
	if (p > s && p[-1] == ':')		/* "** x@y: retry timeout exceeded" */
		p--;
	copy(rcpt, sizeof(rcpt), s, p);
	if (rcpt[0] == '\0' || rcpt[0] == '|' || rcpt[0] == '/' || rcpt[0] == '>')
		return MX_LINE_OTHER;
	fields_init(&f);
	errtext[0] = '\0';
	if ((h = FIND(p, e, " H=")) != NULL && (he = ex_host(&f, h + 3, e)) != NULL)
		host = true;
	if (kind == '=' || kind == '-') {
		const char *c;

		if (!host)
			return MX_LINE_OTHER;
		if (FIND(he, e, " X=") != NULL)
			tls = "tls";
		if ((c = FIND(he, e, " C=\"")) != NULL) {
			char	buf[512];
			size_t	n = 0;

			for (c += 4; c < e && *c != '"' && n < sizeof(buf) - 1; c++) {
				if (*c == '\\' && c + 1 < e)
					c++;
				buf[n++] = *c;
			}
			copy(f.text, sizeof(f.text), buf, buf + n);
			reply_of(&f, buf, buf + n);
		}
		copyz(f.stage, sizeof(f.stage), "dot");
		claim(lp, l, key, qid, rcpt, &f, NULL, "delivered", tls, sink);
		return MX_LINE_ATTEMPT;
	}
	if (kind == 'd') {
		const char *d = FIND(p, e, " defer (");

		if (d == NULL)
			return MX_LINE_OTHER;
		d = memchr(d, ')', (size_t)(e - d));
		if (d == NULL)
			return MX_LINE_OTHER;
		d++;
		if (HAS(d, e, ": ")) {
			err = d + 2;
			erre = host && h > err ? h : e;
		}
		if (host) {
			if ((msg = FIND(he, e, ": ")) != NULL)
				msg += 2;
		} else {
			msg = err;
		}
		outcome = "tempfail";
	} else {
		/* "**": fields, then " : strerror" and " : message", or "R=x: message" */
		const char *from = host ? he : p, *c;

		if ((c = FIND(from, e, " : ")) != NULL) {
			msg = c + 3;
			if ((c = FIND(msg, e, " : ")) != NULL) {
				err = msg;
				erre = c;
				msg = c + 3;
			}
		} else if ((c = FIND(from, e, ": ")) != NULL) {
			msg = c + 2;
		}
		outcome = "permfail";
	}
	if (msg == NULL)
		msg = e;
	if (err != NULL)
		copy(errtext, sizeof(errtext), err, erre);
	if (FIND(p, e, "etry time not") != NULL) {
		note(sink, l, qid, rcpt, msg < e ? msg : p + 1, e);
		return MX_LINE_NOTE;
	}
	if (msg < e)
		ex_reason(&f, msg, e);
	if (!host) {
		int32_t	g = group_find(lp, key);

		if (is_dns_failure(p, e)) {
			f.stage[0] = '\0';
		} else if (!is_net_failure(p, e) && !(g >= 0 && lp->groups[g].first >= 0 &&
						       lp->groups[g].claim_qid[0] == '\0')) {
			return MX_LINE_OTHER;	/* a local transport, a router, a timeout */
		}
	}
	claim(lp, l, key, qid, rcpt, &f, errtext, outcome, "", sink);
	return MX_LINE_ATTEMPT;
}

/* exim_body - what follows an Exim stamp (or "exim[pid]: " in syslog) */
static enum mx_log_line
exim_body(struct mx_logparse *lp, struct lp_line *l, const struct mx_log_sink *sink)
{
	const char *s = l->body, *e = l->be, *p, *q;
	char	qid[64];
	uint64_t key;
	struct lp_fields f;

	if ((p = exim_msgid(s, e)) == NULL)
		return MX_LINE_OTHER;
	copy(qid, sizeof(qid), s, p - 1);
	key = fnv(FNV_START, s, (size_t)(p - 1 - s));
	if (e - p >= 3 && p[2] == ' ') {
		if ((p[0] == '=' && p[1] == '>') || (p[0] == '-' && p[1] == '>'))
			return ex_recipient(lp, l, key, qid, p[0], p + 3, sink);
		if (p[0] == '=' && p[1] == '=')
			return ex_recipient(lp, l, key, qid, 'd', p + 3, sink);
		if (p[0] == '*' && p[1] == '*')
			return ex_recipient(lp, l, key, qid, '*', p + 3, sink);
		return MX_LINE_OTHER;		/* "<=", "*>", ... */
	}
	if (HAS(p, e, "Completed")) {
		int32_t	g = group_find(lp, key);

		if (g >= 0)
			group_clear(lp, g);
		return MX_LINE_OTHER;
	}
	if (!HAS(p, e, "H="))
		return MX_LINE_OTHER;
	fields_init(&f);
	if ((q = ex_host(&f, p + 2, e)) == NULL)
		return MX_LINE_OTHER;		/* "H=(helo) [ip] ..." : a client of ours */
	if (HAS(q, e, ": "))
		q += 2;
	else if (q < e && *q == ' ')
		q++;
	else
		return MX_LINE_OTHER;
	/* "H=h [a] F=<..> rejected ...", "H=h [a] X=... rejected DKIM": a client of ours */
	for (p = q; p < e && *p >= 'A' && *p <= 'Z'; p++)
		;
	if ((p < e && *p == '=' && p > q) || HAS(q, e, "rejected") || q >= e)
		return MX_LINE_OTHER;
	ex_reason(&f, q, e);
	hold(lp, l, key, qid, &f);
	return MX_LINE_ATTEMPT;
}

/* --- the interface ---------------------------------------------------- */

struct mx_logparse *
mx_logparse_new(enum mx_log_format fmt, int64_t now_ms)
{
	struct mx_logparse *lp;
	int	i;

	if ((lp = calloc(1, sizeof(*lp))) == NULL)
		return NULL;
	lp->fmt = fmt;
	lp->now_ms = now_ms;
	lp->held_free = -1;
	lp->oldest = lp->newest = -1;
	for (i = 0; i < LP_BUCKETS; i++)
		lp->buckets[i] = -1;
	lp->group_free = -1;
	for (i = LP_GROUP_MAX - 1; i >= 0; i--) {
		lp->groups[i].bnext = lp->group_free;
		lp->group_free = i;
	}
	return lp;
}

void
mx_logparse_free(struct mx_logparse *lp)
{
	if (lp == NULL)
		return;
	free(lp->held);
	free(lp);
}

void
mx_logparse_set_now(struct mx_logparse *lp, int64_t now_ms)
{
	lp->now_ms = now_ms;
}

enum mx_log_format
mx_logparse_format(const struct mx_logparse *lp)
{
	return lp->fmt;
}

/* is_exim_prog - "exim" or "exim4" (Exim writing to syslog) */
static bool
is_exim_prog(const char *p, const char *e)
{
	return (e - p == 4 && memcmp(p, "exim", 4) == 0) || (e - p == 5 && memcmp(p, "exim4", 5) == 0);
}

enum mx_log_line
mx_logparse_line(struct mx_logparse *lp, const char *line, size_t len, int64_t offset,
		 const struct mx_log_sink *sink)
{
	struct lp_line l;
	const char *e, *p, *prog = NULL, *proge = NULL;
	bool	syslog = false, exim = false;

	if (line == NULL || len == 0 || len > LP_LINE_MAX)
		return MX_LINE_BAD;
	memset(&l, 0, sizeof(l));
	l.s = line;
	l.e = e = line + len;
	l.offset = offset;
	if (exim_stamp(line, e, &l.ts_ms, &p)) {
		exim = true;
		l.body = p;
		l.be = e;
	} else if (syslog_stamp(line, e, lp->now_ms, &l.ts_ms, &p) ||
		   rfc3339_stamp(line, e, &l.ts_ms, &p)) {
		syslog = true;
		if (!syslog_prog(&l, p, &prog, &proge))
			return MX_LINE_OTHER;	/* "kernel: ...", "-- MARK --" */
	} else {
		return MX_LINE_BAD;
	}
	if (lp->fmt == MX_LOG_AUTO) {
		if (exim)		/* the mainlog's own stamp: no syslog writes it */
			lp->fmt = MX_LOG_EXIM;
		else if (syslog && is_exim_prog(prog, proge))
			lp->fmt = MX_LOG_EXIM;
		else if (syslog && proge - prog > 8 && memcmp(prog, "postfix", 7) == 0 &&
			 memchr(prog, '/', (size_t)(proge - prog)) != NULL)
			lp->fmt = MX_LOG_POSTFIX;
		else
			return MX_LINE_OTHER;
	}
	expire(lp, l.ts_ms);
	if (lp->fmt == MX_LOG_POSTFIX) {
		if (!syslog)
			return MX_LINE_BAD;
		l.source = "postfix";
		return postfix_line(lp, &l, prog, proge, sink);
	}
	l.source = "exim";
	if (syslog && !is_exim_prog(prog, proge))
		return MX_LINE_OTHER;
	return exim_body(lp, &l, sink);
}

int64_t
mx_logparse_resume_offset(const struct mx_logparse *lp, int64_t next_offset)
{
	int32_t	i;

	/*
	 * arrival order is file order (after reset_file the older ones are all
	 * 0). Only unclaimed lines hold the position back: a claimed group has
	 * given its attempts to the status lines of its message, which Postfix
	 * and Exim write one after another; holding it until the process's
	 * next delivery (up to LP_HOLD_MS) would make every restart read an
	 * hour of log again.
	 */
	for (i = lp->oldest; i >= 0; i = lp->held[i].newer)
		if (!lp->held[i].claimed)
			return lp->held[i].offset < next_offset ? lp->held[i].offset : next_offset;
	return next_offset;
}

int
mx_logparse_finish(struct mx_logparse *lp)
{
	int	dropped = 0;

	while (lp->oldest >= 0) {
		dropped += !lp->held[lp->oldest].claimed;
		held_remove(lp, lp->oldest);
	}
	return dropped;
}

void
mx_logparse_reset_file(struct mx_logparse *lp)
{
	int32_t	i;

	for (i = lp->oldest; i >= 0; i = lp->held[i].newer)
		lp->held[i].offset = 0;
}
