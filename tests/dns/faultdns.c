/*
 * faultdns - a small authoritative DNS responder that injects faults, for tests
 *
 * SYNOPSIS
 *	faultdns -p PORT -z RULESFILE [-l ADDR] [-t LIFETIME] [-d DELAY_MS]
 *		 [-P PIDFILE] [-v]
 *
 * DESCRIPTION
 *	faultdns answers DNS queries on UDP and TCP on the same loopback port
 *	from the records in RULESFILE, and answers the (name, type) pairs the
 *	file marks with an @ACTION the way a broken server would. It never
 *	recurses: every answer is authoritative (AA set), RD is copied from the
 *	query, RA is clear. Single-threaded, one poll() loop, libc only.
 *
 *	Once both sockets are bound it prints exactly one line
 *	"faultdns ready PORT" on stdout and flushes it; tests wait for it.
 *	Nothing else is ever written to stdout.
 *
 * OPTIONS
 *	-l ADDR	 listen address, an IPv4 or IPv6 literal (default 127.0.0.1)
 *	-p PORT	 port to listen on (required); 0 picks a free port, which the
 *		 ready line reports
 *	-z FILE	 the rules file (required)
 *	-t SECS	 exit by itself after SECS seconds (default 300; 0 = never)
 *	-d MS	 hold every reply MS milliseconds before sending it (default 0).
 *		 Replies wait in a queue, so many queries are delayed at once.
 *	-P FILE	 write the process id to FILE (removed again on a clean exit)
 *	-v	 log one line per query on stderr
 *
 *	SIGTERM and SIGINT make it exit cleanly (status 0), as does the end of
 *	the lifetime. Status 2: bad usage or bad rules file; 1: system error.
 *
 * RULES FILE
 *	One rule per line. "#" at the start of a field starts a comment; blank
 *	lines are ignored. Names are case-insensitive, with or without the
 *	trailing dot; "." is the root. Types: A, NS, CNAME, PTR, MX, TXT, AAAA,
 *	SRV, or TYPEnnn.
 *
 *	    NAME TYPE DATA	a record:
 *		A	192.0.2.1
 *		AAAA	2001:db8::1
 *		MX	PREF EXCHANGE	(EXCHANGE "." is the null MX)
 *		CNAME	TARGET		(also NS, PTR)
 *		TXT	STRING...	("quoted" with \" \\ \DDD, or bare words;
 *					 one character-string each, <= 255 octets)
 *		SRV	PRIO WEIGHT PORT TARGET
 *		any	\# LEN HEX...	(RFC 3597 generic data)
 *	    NAME TYPE @ACTION	a fault for queries of that name and type
 *	    NAME * @ACTION	a fault for every type of that name
 *	    ttl N		TTL of the records on the following lines
 *				(default 300)
 *
 *	An error prints "FILE:LINE: what was expected" on stderr and exits 2.
 *
 * ACTIONS
 *	When several fault rules match a query, the first in the file wins.
 *	@servfail	 rcode SERVFAIL, no answers
 *	@refused	 rcode REFUSED, no answers
 *	@nxdomain	 rcode NXDOMAIN, even if records exist
 *	@nodata		 NOERROR with no answers
 *	@timeout	 never answer (on TCP the connection stays open)
 *	@truncate	 UDP: TC set, no answers; TCP: the normal answer
 *	@truncate-notcp	 UDP: TC set, no answers; TCP: close the connection
 *			 without answering
 *	@truncate-refused UDP: TC set, no answers; TCP: rcode REFUSED (a server
 *			 that will not serve TCP, so the retry must move on)
 *	@malformed	 QR set, same ID, ANCOUNT 1, but the answer section is
 *			 cut off in the middle of the record (inside the TTL)
 *	@badid		 the normal answer with a different ID (ID + 1)
 *	@formerr	 rcode FORMERR, question echoed
 *
 * ANSWERS
 *	Records of the asked type: all of them, in file order (QTYPE ANY: all
 *	records of the name). Otherwise, if the name has a CNAME and the query
 *	is not for CNAME: the CNAME record(s) only, not chased. Otherwise, if
 *	the name appears in any rule: NOERROR with no answers. Otherwise
 *	NXDOMAIN. The question is echoed; owner names are the pointer 0xC00C;
 *	names inside RDATA are written uncompressed. A UDP answer over 512
 *	octets becomes TC set with no answers (EDNS is ignored); TCP answers
 *	are complete (up to 65535 octets, else cut with TC set).
 *	Queries with QR set or shorter than a header are ignored. QDCOUNT other
 *	than 1, an opcode other than QUERY, or a question that does not parse
 *	get FORMERR; a QCLASS other than IN or ANY gets REFUSED.
 *	TCP: several queries per connection, partial reads, at most 64
 *	connections (more are accepted and closed at once), a connection idle
 *	for 10 s is closed.
 */

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* getline, clock_gettime, MSG_NOSIGNAL */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	64		/* TCP connections at once */
#define IDLE_MS		10000		/* close a TCP connection idle this long */
#define UDP_MAX		512		/* largest UDP answer before TC */
#define MSG_MAX		65535		/* largest DNS message */
#define OUT_MAX		(4u << 20)	/* unsent TCP bytes before giving up */
#define PENDING_MAX	100000		/* delayed replies held at once */
#define MAX_TOKENS	1024		/* fields on one rules line */
#define DEFAULT_TTL	300

#define T_A	1
#define T_NS	2
#define T_CNAME	5
#define T_PTR	12
#define T_MX	15
#define T_TXT	16
#define T_AAAA	28
#define T_SRV	33
#define T_ANY	255

#define C_IN	1
#define C_ANY	255

#define RC_NOERROR	0
#define RC_FORMERR	1
#define RC_SERVFAIL	2
#define RC_NXDOMAIN	3
#define RC_REFUSED	5

enum action {
	ACT_NONE = 0,		/* a record, not a fault */
	ACT_SERVFAIL,
	ACT_REFUSED,
	ACT_NXDOMAIN,
	ACT_NODATA,
	ACT_TIMEOUT,
	ACT_TRUNCATE,
	ACT_TRUNCATE_NOTCP,
	ACT_TRUNCATE_REFUSED,
	ACT_MALFORMED,
	ACT_BADID,
	ACT_FORMERR
};

static const struct {
	const char *name;
	enum action act;
} action_names[] = {
	{ "servfail", ACT_SERVFAIL },
	{ "refused", ACT_REFUSED },
	{ "nxdomain", ACT_NXDOMAIN },
	{ "nodata", ACT_NODATA },
	{ "timeout", ACT_TIMEOUT },
	{ "truncate", ACT_TRUNCATE },
	{ "truncate-notcp", ACT_TRUNCATE_NOTCP },
	{ "truncate-refused", ACT_TRUNCATE_REFUSED },
	{ "malformed", ACT_MALFORMED },
	{ "badid", ACT_BADID },
	{ "formerr", ACT_FORMERR },
};

static const struct {
	const char *name;
	uint16_t type;
} type_names[] = {
	{ "A", T_A }, { "NS", T_NS }, { "CNAME", T_CNAME }, { "PTR", T_PTR },
	{ "MX", T_MX }, { "TXT", T_TXT }, { "AAAA", T_AAAA }, { "SRV", T_SRV },
	{ "ANY", T_ANY },
};

/* One line of the rules file: a record or a fault. */
struct rule {
	uint8_t	name[256];	/* lower-case wire form */
	size_t	namelen;
	uint16_t type;
	bool	anytype;	/* "*": a fault for every type */
	enum action act;	/* ACT_NONE for a record */
	uint32_t ttl;
	uint8_t	*rdata;
	size_t	rdlen;
};

/* A parsed query. */
struct query {
	uint16_t id;
	uint8_t	flags1;		/* second header octet: opcode, RD... */
	uint16_t qtype, qclass;
	const uint8_t *qsec;	/* the question section as received */
	size_t	qseclen;
	uint8_t	lname[256];	/* QNAME, lower-case wire form */
	size_t	lnamelen;
};

/* What to do with a query after looking at it. */
enum verdict {
	V_DROP,			/* send nothing */
	V_REPLY,		/* send out */
	V_CLOSE			/* TCP: close the connection, send nothing */
};

/* A reply waiting for its due time. */
enum pkind { P_UDP, P_TCP, P_CLOSE };
struct pending {
	struct pending *next;
	long long due;
	enum pkind kind;
	int	slot;		/* TCP: connection slot and its generation */
	unsigned gen;
	struct sockaddr_storage peer;	/* UDP */
	socklen_t peerlen;
	size_t	len;
	uint8_t	data[];
};

/* One TCP connection. */
struct conn {
	int	fd;		/* -1: slot free */
	unsigned gen;		/* bumped on close, so stale replies are dropped */
	long long last;		/* last I/O, for the idle timeout */
	bool	eof;		/* peer closed its side: close once all is sent */
	bool	noinput;	/* a close is scheduled: read no more queries */
	bool	shut;		/* close as soon as out is sent */
	int	pending;	/* replies for it still in the delay queue */
	size_t	inlen;
	uint8_t	in[2 + MSG_MAX];
	uint8_t	*out;
	size_t	outlen, outcap;
	char	peer[INET6_ADDRSTRLEN + 8];
};

static struct rule *rules;
static size_t nrules, caprules;

static struct conn conns[MAX_CONNS];
static struct pending *qhead, *qtail;
static size_t npending;

static int udpfd = -1, tcpfd = -1;
static int sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t got_signal;
static int delay_ms;
static bool verbose;
static const char *pidfile;

/* now_ms - monotonic clock in milliseconds */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* die - print a system error and exit 1 */
static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fputs("faultdns: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (pidfile)
		unlink(pidfile);
	exit(1);
}

/* logq - one verbose log line on stderr */
static void logq(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("faultdns: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* xmalloc - malloc that exits on failure */
static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory");
	return p;
}

/* lower - ASCII lower case, independent of the locale */
static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* streq_ci - ASCII case-insensitive string equality */
static bool streq_ci(const char *a, const char *b)
{
	while (*a && lower((uint8_t)*a) == lower((uint8_t)*b))
		a++, b++;
	return lower((uint8_t)*a) == lower((uint8_t)*b);
}

/* put16 - store a 16-bit value in network order */
static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* get16 - load a 16-bit value in network order */
static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* type_text - a type's mnemonic, or TYPEnnn in a static buffer */
static const char *type_text(uint16_t t)
{
	static char buf[16];

	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == t)
			return type_names[i].name;
	snprintf(buf, sizeof buf, "TYPE%u", (unsigned)t);
	return buf;
}

/* rcode_text - an rcode's mnemonic */
static const char *rcode_text(int rc)
{
	switch (rc) {
	case RC_NOERROR: return "NOERROR";
	case RC_FORMERR: return "FORMERR";
	case RC_SERVFAIL: return "SERVFAIL";
	case RC_NXDOMAIN: return "NXDOMAIN";
	case RC_REFUSED: return "REFUSED";
	default: return "RCODE?";
	}
}

/* action_text - an action's name as written in the rules file */
static const char *action_text(enum action a)
{
	for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
		if (action_names[i].act == a)
			return action_names[i].name;
	return "none";
}

/* wire_to_text - a wire-form name as printable text, for the log */
static void wire_to_text(const uint8_t *w, size_t wlen, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	if (wlen == 0 || w[0] == 0) {
		snprintf(out, outlen, ".");
		return;
	}
	while (i < wlen && w[i] != 0 && o + 6 < outlen) {
		size_t ll = w[i++];

		for (size_t k = 0; k < ll && i < wlen && o + 6 < outlen; k++, i++) {
			uint8_t c = w[i];

			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\')
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, outlen - o, "\\%03u", c);
		}
		out[o++] = '.';
	}
	out[o] = '\0';
}

/* ---- rules file ---- */

/* rules_error - report a rules file error as FILE:LINE: message and exit 2 */
static _Noreturn void rules_error(const char *file, unsigned long line,
				  const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%lu: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* One field of a rules line. */
struct token {
	char	*s;		/* NUL-terminated (a quoted one may hold NULs) */
	size_t	len;
	bool	quoted;
};

/* is_space - field separator in the rules file */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* tokenize - split a line into fields in place, up to a comment; -1 and *why on error */
static int tokenize(char *line, struct token *tok, int maxtok, const char **why)
{
	char *r = line;
	int n = 0;

	for (;;) {
		while (is_space(*r))
			r++;
		if (*r == '\0' || *r == '#')
			return n;
		if (n == maxtok) {
			*why = "at most 1024 fields on a line";
			return -1;
		}
		if (*r == '"') {
			char *w = r;

			tok[n].s = w;
			tok[n].quoted = true;
			r++;
			for (;;) {
				if (*r == '\0') {
					*why = "a closing quote";
					return -1;
				}
				if (*r == '"') {
					r++;
					break;
				}
				if (*r != '\\') {
					*w++ = *r++;
					continue;
				}
				r++;
				if (r[0] >= '0' && r[0] <= '9' && r[1] >= '0' &&
				    r[1] <= '9' && r[2] >= '0' && r[2] <= '9') {
					int v = (r[0] - '0') * 100 + (r[1] - '0') * 10 +
						(r[2] - '0');

					if (v > 255) {
						*why = "a \\DDD escape of at most 255";
						return -1;
					}
					*w++ = (char)v;
					r += 3;
				} else if (*r == '\0') {
					*why = "a character after the backslash";
					return -1;
				} else {
					*w++ = *r++;
				}
			}
			if (*r != '\0' && !is_space(*r)) {
				*why = "a space after the closing quote";
				return -1;
			}
			tok[n].len = (size_t)(w - tok[n].s);
			*w = '\0';	/* w < r: the closing quote is behind us */
			n++;
		} else {
			tok[n].s = r;
			tok[n].quoted = false;
			while (*r && !is_space(*r))
				r++;
			tok[n].len = (size_t)(r - tok[n].s);
			if (*r)
				*r++ = '\0';
			n++;
		}
	}
}

/* name_to_wire - presentation name to lower-case wire form; NULL or what was expected */
static const char *name_to_wire(const struct token *t, uint8_t *out, size_t *outlen)
{
	const char *s = t->s;
	size_t len = t->len, i = 0, o = 0;

	if (t->quoted || len == 0)
		return "a domain name";
	if (len == 1 && s[0] == '.') {
		out[0] = 0;
		*outlen = 1;
		return NULL;
	}
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != '.')
			j++;
		if (j == i)
			return "a domain name without empty labels";
		if (j - i > 63)
			return "a domain name with labels of at most 63 octets";
		if (o + 1 + (j - i) + 1 > 255)
			return "a domain name of at most 255 octets in wire form";
		out[o++] = (uint8_t)(j - i);
		for (; i < j; i++) {
			uint8_t c = (uint8_t)s[i];

			if (c <= 0x20 || c == 0x7f)
				return "a domain name of printable characters";
			out[o++] = lower(c);
		}
		i = j + 1;
	}
	out[o++] = 0;
	*outlen = o;
	return NULL;
}

/* parse_uint - a decimal number in [0, max]; false if it is not one */
static bool parse_uint(const struct token *t, unsigned long max, unsigned long *v)
{
	unsigned long n = 0;

	if (t->quoted || t->len == 0 || t->len > 10)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
		n = n * 10 + (unsigned long)(t->s[i] - '0');
	}
	if (n > max)
		return false;
	*v = n;
	return true;
}

/* parse_type - a type mnemonic or TYPEnnn; false if unknown */
static bool parse_type(const struct token *t, uint16_t *type)
{
	unsigned long v;

	if (t->quoted)
		return false;
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (streq_ci(t->s, type_names[i].name)) {
			*type = type_names[i].type;
			return true;
		}
	if (t->len > 4 && lower((uint8_t)t->s[0]) == 't' &&
	    lower((uint8_t)t->s[1]) == 'y' && lower((uint8_t)t->s[2]) == 'p' &&
	    lower((uint8_t)t->s[3]) == 'e') {
		struct token num = { t->s + 4, t->len - 4, false };

		if (parse_uint(&num, 65535, &v)) {
			*type = (uint16_t)v;
			return true;
		}
	}
	return false;
}

/* hexval - value of a hex digit, or -1 */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* parse_generic - RFC 3597 "\# LEN HEX..." data; NULL or what was expected */
static const char *parse_generic(const struct token *tok, int n, uint8_t *rd, size_t *rdlen)
{
	unsigned long want;
	size_t o = 0;
	int half = -1;

	if (n < 2 || !parse_uint(&tok[1], MSG_MAX, &want))
		return "a data length after \\#";
	for (int i = 2; i < n; i++) {
		if (tok[i].quoted)
			return "hex digits after the \\# length";
		for (size_t k = 0; k < tok[i].len; k++) {
			int v = hexval(tok[i].s[k]);

			if (v < 0)
				return "hex digits after the \\# length";
			if (half < 0) {
				half = v;
				continue;
			}
			if (o >= want)
				return "no more hex data than the \\# length says";
			rd[o++] = (uint8_t)(half << 4 | v);
			half = -1;
		}
	}
	if (half >= 0 || o != want)
		return "exactly as many hex octets as the \\# length says";
	*rdlen = o;
	return NULL;
}

/* parse_rdata - record data for type from the fields; NULL or what was expected */
static const char *parse_rdata(uint16_t type, const struct token *tok, int n,
			       uint8_t *rd, size_t *rdlen)
{
	unsigned long v;
	size_t nl;
	const char *why;

	if (n >= 1 && !tok[0].quoted && strcmp(tok[0].s, "\\#") == 0)
		return parse_generic(tok, n, rd, rdlen);
	switch (type) {
	case T_A:
		if (n != 1 || tok[0].quoted || inet_pton(AF_INET, tok[0].s, rd) != 1)
			return "one IPv4 address after A";
		*rdlen = 4;
		return NULL;
	case T_AAAA:
		if (n != 1 || tok[0].quoted || inet_pton(AF_INET6, tok[0].s, rd) != 1)
			return "one IPv6 address after AAAA";
		*rdlen = 16;
		return NULL;
	case T_MX:
		if (n != 2 || !parse_uint(&tok[0], 65535, &v))
			return "a preference (0-65535) and an exchange name after MX";
		put16(rd, (unsigned)v);
		if ((why = name_to_wire(&tok[1], rd + 2, &nl)) != NULL)
			return why;
		*rdlen = 2 + nl;
		return NULL;
	case T_CNAME:
	case T_NS:
	case T_PTR:
		if (n != 1)
			return "one target name";
		if ((why = name_to_wire(&tok[0], rd, &nl)) != NULL)
			return why;
		*rdlen = nl;
		return NULL;
	case T_SRV:
		if (n != 4)
			return "priority, weight, port and target after SRV";
		for (int i = 0; i < 3; i++) {
			if (!parse_uint(&tok[i], 65535, &v))
				return "priority, weight and port of 0-65535 after SRV";
			put16(rd + 2 * i, (unsigned)v);
		}
		if ((why = name_to_wire(&tok[3], rd + 6, &nl)) != NULL)
			return why;
		*rdlen = 6 + nl;
		return NULL;
	case T_TXT: {
		size_t o = 0;

		if (n < 1)
			return "at least one string after TXT";
		for (int i = 0; i < n; i++) {
			if (tok[i].len > 255)
				return "TXT strings of at most 255 octets";
			if (o + 1 + tok[i].len > MSG_MAX - 512)
				return "less TXT data";
			rd[o++] = (uint8_t)tok[i].len;
			memcpy(rd + o, tok[i].s, tok[i].len);
			o += tok[i].len;
		}
		*rdlen = o;
		return NULL;
	}
	default:
		return "record data as \\# LEN HEX for this type";
	}
}

/* add_rule - append a rule to the table */
static void add_rule(const struct rule *r)
{
	if (nrules == caprules) {
		size_t nc = caprules ? caprules * 2 : 64;
		struct rule *nr = realloc(rules, nc * sizeof *nr);

		if (!nr)
			die("out of memory");
		rules = nr;
		caprules = nc;
	}
	rules[nrules++] = *r;
}

/* load_rules - read the rules file into the table, exiting 2 on any error */
static void load_rules(const char *file)
{
	static uint8_t rd[MSG_MAX];
	static struct token tok[MAX_TOKENS];
	FILE *fp = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	uint32_t ttl = DEFAULT_TTL;

	if (!fp) {
		fprintf(stderr, "faultdns: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	while (getline(&line, &cap, fp) != -1) {
		struct rule r;
		const char *why = NULL;
		unsigned long v;
		int n;

		lineno++;
		n = tokenize(line, tok, MAX_TOKENS, &why);
		if (n < 0)
			rules_error(file, lineno, "expected %s", why);
		if (n == 0)
			continue;
		if (n == 2 && !tok[0].quoted && streq_ci(tok[0].s, "ttl")) {
			if (!parse_uint(&tok[1], 2147483647UL, &v))
				rules_error(file, lineno,
					    "expected a TTL of 0-2147483647 seconds after ttl");
			ttl = (uint32_t)v;
			continue;
		}
		if (n < 3)
			rules_error(file, lineno,
				    "expected NAME TYPE DATA, NAME TYPE @ACTION, NAME * @ACTION or ttl N");
		memset(&r, 0, sizeof r);
		r.ttl = ttl;
		if ((why = name_to_wire(&tok[0], r.name, &r.namelen)) != NULL)
			rules_error(file, lineno, "expected %s as the owner", why);
		if (!tok[1].quoted && strcmp(tok[1].s, "*") == 0)
			r.anytype = true;
		else if (!parse_type(&tok[1], &r.type))
			rules_error(file, lineno,
				    "expected a type (A, AAAA, MX, CNAME, TXT, NS, PTR, SRV, TYPEnnn) or *, not \"%s\"",
				    tok[1].s);
		if (!tok[2].quoted && tok[2].s[0] == '@') {
			for (size_t i = 0; i < sizeof action_names / sizeof action_names[0]; i++)
				if (streq_ci(tok[2].s + 1, action_names[i].name))
					r.act = action_names[i].act;
			if (r.act == ACT_NONE)
				rules_error(file, lineno,
					    "expected an action (@servfail @refused @nxdomain @nodata @timeout @truncate @truncate-notcp @truncate-refused @malformed @badid @formerr), not \"%s\"",
					    tok[2].s);
			if (n != 3)
				rules_error(file, lineno, "expected the end of the line after %s",
					    tok[2].s);
		} else {
			if (r.anytype)
				rules_error(file, lineno, "expected an @ACTION after *");
			if (r.type == T_ANY)
				rules_error(file, lineno, "expected an @ACTION after ANY");
			if ((why = parse_rdata(r.type, tok + 2, n - 2, rd, &r.rdlen)) != NULL)
				rules_error(file, lineno, "expected %s", why);
			r.rdata = xmalloc(r.rdlen);
			memcpy(r.rdata, rd, r.rdlen);
		}
		add_rule(&r);
	}
	if (ferror(fp)) {
		fprintf(stderr, "faultdns: %s: %s\n", file, strerror(errno));
		exit(2);
	}
	free(line);
	fclose(fp);
}

/* ---- answering ---- */

/* parse_question - read the one question of a query; false if it does not parse */
static bool parse_question(const uint8_t *m, size_t len, struct query *q)
{
	size_t i = 12, o = 0;

	for (;;) {
		size_t ll;

		if (i >= len)
			return false;
		ll = m[i];
		if (ll & 0xc0)		/* no pointers or extended labels in a question */
			return false;
		if (o + 1 + ll > 255 || i + 1 + ll > len)
			return false;
		q->lname[o++] = (uint8_t)ll;
		i++;
		if (ll == 0)
			break;
		for (size_t k = 0; k < ll; k++)
			q->lname[o++] = lower(m[i++]);
	}
	if (i + 4 > len)
		return false;
	q->lnamelen = o;
	q->qtype = (uint16_t)get16(m + i);
	q->qclass = (uint16_t)get16(m + i + 2);
	q->qsec = m + 12;
	q->qseclen = i + 4 - 12;
	return true;
}

/* name_is - does rule r belong to the query name */
static bool name_is(const struct rule *r, const struct query *q)
{
	return r->namelen == q->lnamelen && memcmp(r->name, q->lname, r->namelen) == 0;
}

/* put_header - header (QR, AA, RD copied) and, if withq, the echoed question */
static size_t put_header(uint8_t *out, const struct query *q, uint16_t id,
			 int rcode, bool tc, bool withq, unsigned ancount)
{
	put16(out, id);
	out[2] = (uint8_t)(0x80 | (q->flags1 & 0x79) | 0x04 | (tc ? 0x02 : 0));
	out[3] = (uint8_t)rcode;
	put16(out + 4, withq ? 1 : 0);
	put16(out + 6, ancount);
	put16(out + 8, 0);
	put16(out + 10, 0);
	if (!withq)
		return 12;
	memcpy(out + 12, q->qsec, q->qseclen);
	return 12 + q->qseclen;
}

/* add_rr - append rule r as an answer record owned by 0xC00C; false if it won't fit */
static bool add_rr(uint8_t *out, size_t *len, size_t cap, const struct rule *r)
{
	size_t need = 2 + 10 + r->rdlen;
	uint8_t *p = out + *len;

	if (r->rdlen > MSG_MAX || *len + need > cap)
		return false;
	put16(p, 0xc00c);
	put16(p + 2, r->type);
	put16(p + 4, C_IN);
	put16(p + 6, (unsigned)(r->ttl >> 16));
	put16(p + 8, (unsigned)(r->ttl & 0xffff));
	put16(p + 10, (unsigned)r->rdlen);
	memcpy(p + 12, r->rdata, r->rdlen);
	*len += need;
	return true;
}

/* build_answer - the normal authoritative answer to q; returns its length */
static size_t build_answer(const struct query *q, uint16_t id, bool tcp,
			   uint8_t *out, int *rcode, unsigned *ancount)
{
	bool typed = false, alias = false, exists = false, tc = false;
	size_t len, hlen;
	unsigned an = 0;

	for (size_t i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];

		if (!name_is(r, q))
			continue;
		exists = true;
		if (r->act != ACT_NONE)
			continue;
		if (r->type == q->qtype || q->qtype == T_ANY)
			typed = true;
		else if (r->type == T_CNAME)
			alias = true;
	}
	*rcode = exists ? RC_NOERROR : RC_NXDOMAIN;
	hlen = len = put_header(out, q, id, *rcode, false, true, 0);
	if (typed || alias) {
		for (size_t i = 0; i < nrules; i++) {
			const struct rule *r = &rules[i];

			if (r->act != ACT_NONE || !name_is(r, q))
				continue;
			if (typed ? (r->type == q->qtype || q->qtype == T_ANY)
				  : r->type == T_CNAME) {
				if (!add_rr(out, &len, MSG_MAX, r)) {
					tc = true;
					break;
				}
				an++;
			}
		}
	}
	if (!tcp && len > UDP_MAX) {
		len = hlen;
		an = 0;
		tc = true;
	}
	put16(out + 6, an);
	if (tc)
		out[2] |= 0x02;
	*ancount = an;
	return len;
}

/* find_fault - the first fault rule matching the query, or NULL */
static const struct rule *find_fault(const struct query *q)
{
	for (size_t i = 0; i < nrules; i++) {
		const struct rule *r = &rules[i];

		if (r->act != ACT_NONE && name_is(r, q) &&
		    (r->anytype || r->type == q->qtype))
			return r;
	}
	return NULL;
}

/* handle_query - decide what to do with one query message; a reply goes to out */
static enum verdict handle_query(const uint8_t *m, size_t len, bool tcp,
				 const char *peer, uint8_t *out, size_t *outlen)
{
	const char *proto = tcp ? "tcp" : "udp";
	struct query q;
	const struct rule *fault;
	char qn[1100];
	int rc = RC_NOERROR;
	unsigned an = 0;

	if (len < 12) {
		logq("%s %s: %zu octets, shorter than a header: ignored", proto, peer, len);
		return V_DROP;
	}
	if (m[2] & 0x80) {
		logq("%s %s: QR set, not a query: ignored", proto, peer);
		return V_DROP;
	}
	memset(&q, 0, sizeof q);
	q.id = (uint16_t)get16(m);
	q.flags1 = m[2];
	if (((m[2] >> 3) & 0xf) != 0 || get16(m + 4) != 1 ||
	    !parse_question(m, len, &q)) {
		*outlen = put_header(out, &q, q.id, RC_FORMERR, false, false, 0);
		out[2] &= (uint8_t)~0x04;	/* not authoritative for garbage */
		logq("%s %s id=%u: bad query (opcode %u, qdcount %u): FORMERR",
		     proto, peer, q.id, (m[2] >> 3) & 0xf, get16(m + 4));
		return V_REPLY;
	}
	wire_to_text(q.lname, q.lnamelen, qn, sizeof qn);
	if (q.qclass != C_IN && q.qclass != C_ANY) {
		*outlen = put_header(out, &q, q.id, RC_REFUSED, false, true, 0);
		logq("%s %s id=%u %s %s class %u -> REFUSED", proto, peer, q.id, qn,
		     type_text(q.qtype), q.qclass);
		return V_REPLY;
	}
	fault = find_fault(&q);
	switch (fault ? fault->act : ACT_NONE) {
	case ACT_SERVFAIL:
		rc = RC_SERVFAIL;
		*outlen = put_header(out, &q, q.id, rc, false, true, 0);
		break;
	case ACT_REFUSED:
		rc = RC_REFUSED;
		*outlen = put_header(out, &q, q.id, rc, false, true, 0);
		break;
	case ACT_NXDOMAIN:
		rc = RC_NXDOMAIN;
		*outlen = put_header(out, &q, q.id, rc, false, true, 0);
		break;
	case ACT_FORMERR:
		rc = RC_FORMERR;
		*outlen = put_header(out, &q, q.id, rc, false, true, 0);
		break;
	case ACT_NODATA:
		*outlen = put_header(out, &q, q.id, rc, false, true, 0);
		break;
	case ACT_TIMEOUT:
		logq("%s %s id=%u %s %s -> no answer [timeout]", proto, peer, q.id, qn,
		     type_text(q.qtype));
		return V_DROP;
	case ACT_TRUNCATE_NOTCP:
		if (tcp) {
			logq("%s %s id=%u %s %s -> close [truncate-notcp]", proto, peer,
			     q.id, qn, type_text(q.qtype));
			return V_CLOSE;
		}
		*outlen = put_header(out, &q, q.id, rc, true, true, 0);
		break;
	case ACT_TRUNCATE_REFUSED:
		if (tcp) {
			rc = RC_REFUSED;
			*outlen = put_header(out, &q, q.id, rc, false, true, 0);
			break;
		}
		*outlen = put_header(out, &q, q.id, rc, true, true, 0);
		break;
	case ACT_TRUNCATE:
		if (!tcp) {
			*outlen = put_header(out, &q, q.id, rc, true, true, 0);
			break;
		}
		*outlen = build_answer(&q, q.id, tcp, out, &rc, &an);
		break;
	case ACT_MALFORMED: {
		size_t n = put_header(out, &q, q.id, rc, false, true, 1);

		put16(out + n, 0xc00c);		/* owner */
		put16(out + n + 2, q.qtype);	/* type */
		put16(out + n + 4, C_IN);	/* class */
		put16(out + n + 6, 0);		/* half a TTL, then nothing */
		*outlen = n + 8;
		an = 1;
		break;
	}
	case ACT_BADID:
		*outlen = build_answer(&q, (uint16_t)(q.id + 1), tcp, out, &rc, &an);
		break;
	case ACT_NONE:
		*outlen = build_answer(&q, q.id, tcp, out, &rc, &an);
		break;
	}
	logq("%s %s id=%u %s %s -> %s an=%u%s%s%s%s", proto, peer, q.id, qn,
	     type_text(q.qtype), rcode_text(rc), an, (out[2] & 0x02) ? " TC" : "",
	     fault ? " [" : "", fault ? action_text(fault->act) : "", fault ? "]" : "");
	return V_REPLY;
}

/* ---- delay queue and TCP connections ---- */

/* enqueue - hold a reply (or a TCP close) until delay_ms from now */
static void enqueue(enum pkind kind, int slot, const struct sockaddr_storage *peer,
		    socklen_t peerlen, const uint8_t *data, size_t len)
{
	struct pending *p;

	if (npending >= PENDING_MAX) {
		logq("delay queue full: reply dropped");
		return;
	}
	p = xmalloc(sizeof *p + len);
	p->next = NULL;
	p->due = now_ms() + delay_ms;
	p->kind = kind;
	p->slot = slot;
	p->gen = slot >= 0 ? conns[slot].gen : 0;
	if (peer)
		memcpy(&p->peer, peer, sizeof p->peer);
	p->peerlen = peerlen;
	p->len = len;
	if (len)
		memcpy(p->data, data, len);
	if (qtail)
		qtail->next = p;
	else
		qhead = p;
	qtail = p;
	npending++;
	if (slot >= 0)
		conns[slot].pending++;
}

/* conn_close - close a TCP connection and free its slot */
static void conn_close(struct conn *c)
{
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outcap = 0;
	c->inlen = 0;
	c->pending = 0;
	c->eof = c->noinput = c->shut = false;
}

/* conn_flush - send what the connection has queued; close it when it is done */
static void conn_flush(struct conn *c, long long now)
{
	while (c->outlen > 0) {
		ssize_t n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			conn_close(c);
			return;
		}
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
		c->last = now;
	}
	if (c->outlen == 0 && (c->shut || (c->eof && c->pending == 0)))
		conn_close(c);
}

/* conn_append - add bytes to a connection's output */
static void conn_append(struct conn *c, const uint8_t *data, size_t len)
{
	if (c->outlen + len > OUT_MAX) {
		logq("tcp %s: peer does not read, closing", c->peer);
		conn_close(c);
		return;
	}
	if (c->outlen + len > c->outcap) {
		size_t nc = c->outcap ? c->outcap : 4096;
		uint8_t *no;

		while (nc < c->outlen + len)
			nc *= 2;
		no = realloc(c->out, nc);
		if (!no)
			die("out of memory");
		c->out = no;
		c->outcap = nc;
	}
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
}

/* deliver_due - send every held reply whose time has come */
static void deliver_due(long long now)
{
	while (qhead && qhead->due <= now) {
		struct pending *p = qhead;
		struct conn *c = p->slot >= 0 ? &conns[p->slot] : NULL;

		qhead = p->next;
		if (!qhead)
			qtail = NULL;
		npending--;
		if (p->kind == P_UDP) {
			sendto(udpfd, p->data, p->len, 0, (struct sockaddr *)&p->peer,
			       p->peerlen);
		} else if (c && c->fd >= 0 && c->gen == p->gen) {
			c->pending--;
			if (p->kind == P_CLOSE)
				c->shut = true;
			else
				conn_append(c, p->data, p->len);
			if (c->fd >= 0)
				conn_flush(c, now);
		}
		free(p);
	}
}

/* peer_text - "address#port" of a socket address */
static void peer_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		port = ntohs(s6->sin6_port);
	}
	snprintf(out, outlen, "%s#%u", a, port);
}

/* set_nonblock - put a descriptor in non-blocking, close-on-exec mode */
static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl: %s", strerror(errno));
	fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* read_udp - answer the datagrams waiting on the UDP socket */
static void read_udp(void)
{
	static uint8_t buf[MSG_MAX + 1], out[MSG_MAX];

	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		char ptext[INET6_ADDRSTRLEN + 8];
		size_t outlen = 0;
		ssize_t n = recvfrom(udpfd, buf, sizeof buf, 0,
				     (struct sockaddr *)&peer, &plen);

		if (n < 0)
			return;		/* EAGAIN, or an ICMP error: nothing to do */
		peer_text(&peer, ptext, sizeof ptext);
		if (handle_query(buf, (size_t)n, false, ptext, out, &outlen) == V_REPLY)
			enqueue(P_UDP, -1, &peer, plen, out, outlen);
	}
}

/* accept_tcp - take the new TCP connections, refusing those over the limit */
static void accept_tcp(long long now)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		int fd = accept(tcpfd, (struct sockaddr *)&peer, &plen);
		int slot = -1;

		if (fd < 0)
			return;
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd < 0) {
				slot = i;
				break;
			}
		if (slot < 0) {
			logq("tcp: %d connections already, refusing one", MAX_CONNS);
			close(fd);
			continue;
		}
		set_nonblock(fd);
		conns[slot].fd = fd;
		conns[slot].last = now;
		peer_text(&peer, conns[slot].peer, sizeof conns[slot].peer);
	}
}

/* read_tcp - read from a connection and answer every complete query in it */
static void read_tcp(struct conn *c, long long now)
{
	static uint8_t out[2 + MSG_MAX];
	int slot = (int)(c - conns);
	ssize_t n;

	if (c->noinput || c->eof)
		return;
	n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_close(c);
		return;
	}
	c->last = now;
	if (n == 0) {
		c->eof = true;
		conn_flush(c, now);
		return;
	}
	c->inlen += (size_t)n;
	while (!c->noinput && c->inlen >= 2) {
		size_t mlen = get16(c->in), outlen = 0;

		if (c->inlen < 2 + mlen)
			break;
		switch (handle_query(c->in + 2, mlen, true, c->peer, out + 2, &outlen)) {
		case V_REPLY:
			put16(out, (unsigned)outlen);
			enqueue(P_TCP, slot, NULL, 0, out, outlen + 2);
			break;
		case V_CLOSE:
			c->noinput = true;
			enqueue(P_CLOSE, slot, NULL, 0, NULL, 0);
			break;
		case V_DROP:
			break;
		}
		memmove(c->in, c->in + 2 + mlen, c->inlen - 2 - mlen);
		c->inlen -= 2 + mlen;
	}
}

/* ---- setup and main loop ---- */

/* on_signal - note SIGTERM/SIGINT and wake the poll loop */
static void on_signal(int sig)
{
	int e = errno;
	ssize_t r;

	(void)sig;
	got_signal = 1;
	r = write(sigpipe_fds[1], "x", 1);
	(void)r;
	errno = e;
}

/* open_socket - a bound socket of the given kind on addr/port, or -1 with errno */
static int open_socket(int family, int kind, const void *addr, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, 4);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, addr, 16);
		len = sizeof *s6;
	}
	fd = socket(family, kind, 0);
	if (fd < 0)
		return -1;
	if (kind == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (kind == SOCK_STREAM && listen(fd, 128) < 0)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	set_nonblock(fd);
	return fd;
}

/* bound_port - the local port a socket is bound to */
static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		die("getsockname: %s", strerror(errno));
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* open_sockets - bind UDP and TCP on the same port, picking one if port is 0 */
static unsigned open_sockets(const char *addrtext, unsigned port)
{
	uint8_t addr[16];
	int family;

	if (inet_pton(AF_INET, addrtext, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, addrtext, addr) == 1)
		family = AF_INET6;
	else {
		fprintf(stderr, "faultdns: -l %s: not an IPv4 or IPv6 address\n", addrtext);
		exit(2);
	}
	for (int tries = 0; tries < 100; tries++) {
		unsigned p;

		udpfd = open_socket(family, SOCK_DGRAM, addr, port);
		if (udpfd < 0)
			die("udp %s port %u: %s", addrtext, port, strerror(errno));
		p = bound_port(udpfd);
		tcpfd = open_socket(family, SOCK_STREAM, addr, p);
		if (tcpfd >= 0)
			return p;
		if (port != 0 || errno != EADDRINUSE)
			die("tcp %s port %u: %s", addrtext, p, strerror(errno));
		close(udpfd);
	}
	die("no port free on %s for both UDP and TCP", addrtext);
}

/* usage - print the synopsis and exit 2 */
static _Noreturn void usage(void)
{
	fputs("usage: faultdns -p PORT -z RULESFILE [-l ADDR] [-t LIFETIME_SECONDS]"
	      " [-d DELAY_MS] [-P PIDFILE] [-v]\n", stderr);
	exit(2);
}

/* opt_number - a numeric option argument in [0, max], or usage */
static unsigned long opt_number(const char *s, unsigned long max)
{
	struct token t = { (char *)s, strlen(s), false };
	unsigned long v;

	if (!parse_uint(&t, max, &v))
		usage();
	return v;
}

/* main - parse options, load rules, bind, announce, then serve until told to stop */
int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *zfile = NULL;
	long port = -1;
	unsigned long lifetime = 300;
	long long deadline = 0;
	struct sigaction sa;
	int opt;

	while ((opt = getopt(argc, argv, "l:p:z:t:d:P:vh")) != -1) {
		switch (opt) {
		case 'l': addr = optarg; break;
		case 'p': port = (long)opt_number(optarg, 65535); break;
		case 'z': zfile = optarg; break;
		case 't': lifetime = opt_number(optarg, 100000000UL); break;
		case 'd': delay_ms = (int)opt_number(optarg, 3600000UL); break;
		case 'P': pidfile = optarg; break;
		case 'v': verbose = true; break;
		default: usage();
		}
	}
	if (optind != argc || port < 0 || !zfile)
		usage();
	load_rules(zfile);
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;

	if (pipe(sigpipe_fds) < 0)
		die("pipe: %s", strerror(errno));
	set_nonblock(sigpipe_fds[0]);
	set_nonblock(sigpipe_fds[1]);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	port = (long)open_sockets(addr, (unsigned)port);
	if (pidfile) {
		FILE *fp = fopen(pidfile, "w");

		if (!fp || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0)
			die("%s: %s", pidfile, strerror(errno));
	}
	if (lifetime > 0)
		deadline = now_ms() + (long long)lifetime * 1000;
	logq("%zu rules from %s, listening on %s port %ld", nrules, zfile, addr, port);
	printf("faultdns ready %ld\n", port);
	fflush(stdout);

	while (!got_signal) {
		struct pollfd pfd[3 + MAX_CONNS];
		int slot_of[3 + MAX_CONNS];
		nfds_t nfd = 0;
		long long now = now_ms(), wait = 60000;

		if (deadline && now >= deadline) {
			logq("lifetime of %lu s over, exiting", lifetime);
			break;
		}
		deliver_due(now);
		if (deadline && deadline - now < wait)
			wait = deadline - now;
		if (qhead && qhead->due - now < wait)
			wait = qhead->due - now;
		pfd[nfd].fd = sigpipe_fds[0];
		pfd[nfd].events = POLLIN;
		slot_of[nfd++] = -1;
		pfd[nfd].fd = udpfd;
		pfd[nfd].events = POLLIN;
		slot_of[nfd++] = -1;
		pfd[nfd].fd = tcpfd;
		pfd[nfd].events = POLLIN;
		slot_of[nfd++] = -1;
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			if (c->fd < 0)
				continue;
			if (c->pending == 0 && now - c->last >= IDLE_MS) {
				logq("tcp %s: idle for %d s, closing", c->peer, IDLE_MS / 1000);
				conn_close(c);
				continue;
			}
			if (c->pending == 0 && c->last + IDLE_MS - now < wait)
				wait = c->last + IDLE_MS - now;
			pfd[nfd].fd = c->fd;
			pfd[nfd].events = (short)((c->eof || c->noinput ? 0 : POLLIN) |
						  (c->outlen ? POLLOUT : 0));
			slot_of[nfd++] = i;
		}
		if (wait < 0)
			wait = 0;
		if (poll(pfd, nfd, (int)wait) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		now = now_ms();
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			read_udp();
		if (pfd[2].revents)
			accept_tcp(now);
		for (nfds_t k = 3; k < nfd; k++) {
			struct conn *c = &conns[slot_of[k]];
			short ev = pfd[k].revents;

			if (c->fd != pfd[k].fd || ev == 0)
				continue;
			if (ev & POLLIN)
				read_tcp(c, now);
			if (c->fd >= 0 && (ev & POLLOUT))
				conn_flush(c, now);
			if (c->fd >= 0 && ((ev & (POLLERR | POLLNVAL)) ||
					   ((ev & POLLHUP) && !(ev & POLLIN))))
				conn_close(c);
		}
	}
	if (got_signal)
		logq("signal received, exiting");
	for (int i = 0; i < MAX_CONNS; i++)
		conn_close(&conns[i]);
	close(udpfd);
	close(tcpfd);
	if (pidfile)
		unlink(pidfile);
	return 0;
}
