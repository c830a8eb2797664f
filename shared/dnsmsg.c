/*
 * dnsmsg - parse a DNS answer message for one question (see dnsmsg.h)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"

#define MAX_CNAMES 64	/* aliases remembered from one answer */

/* get16 - network order 16 bits */
static uint16_t
get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/*
 * read_name - decompress the name at *off into out (presentation form, no
 * final dot, "" for root); advances *off past the name in place. Bounded:
 * at most 255 octets and a limited number of pointers.
 */
static bool
read_name(const unsigned char *buf, size_t len, size_t *off, char *out, size_t outlen)
{
	size_t	pos = *off, used = 0, wire = 0;
	int	jumps = 0;
	bool	jumped = false;

	for (;;) {
		unsigned c;

		if (pos >= len)
			return false;
		c = buf[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++jumps > 32)
				return false;
			if (!jumped)
				*off = pos + 2;
			jumped = true;
			pos = ((c & 0x3f) << 8) | buf[pos + 1];
			continue;
		}
		if ((c & 0xc0) != 0)
			return false;		/* extended label types: not for us */
		pos++;
		if (c == 0)
			break;
		wire += c + 1;
		if (wire > 255 || pos + c > len)
			return false;
		if (used + c + 2 > outlen)
			return false;
		if (used > 0)
			out[used++] = '.';
		for (unsigned i = 0; i < c; i++) {
			unsigned char ch = buf[pos + i];

			/* keep the name printable; odd octets cannot match a host name */
			if (ch == '.' || ch < 0x21 || ch > 0x7e)
				ch = '?';
			out[used++] = (char)((ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch);
		}
		pos += c;
	}
	out[used] = '\0';
	if (!jumped)
		*off = pos;
	return true;
}

/* same_name - case-insensitive, ignoring one trailing dot on either */
static bool
same_name(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

struct rr {
	char	owner[MX_DOMAIN_MAX + 1];
	uint16_t type;
	uint32_t ttl;
	size_t	rdoff;
	uint16_t rdlen;
};

/* mx_dnsmsg_answer_free - free the arrays of an answer */
void
mx_dnsmsg_answer_free(struct mx_dnsmsg_answer *a)
{
	size_t	i;

	for (i = 0; i < a->ntxt; i++)
		free(a->txt[i].text);
	for (i = 0; i < a->ntlsa; i++)
		free(a->tlsa[i].data);
	free(a->mx);
	free(a->addrs);
	free(a->txt);
	free(a->tlsa);
	a->mx = NULL;
	a->addrs = NULL;
	a->txt = NULL;
	a->tlsa = NULL;
	a->nmx = a->naddrs = a->ntxt = a->ntlsa = 0;
}

/*
 * take_txt - one TXT record: character-strings (a length octet, then that
 * many octets) filling the RDATA exactly, joined without a separator
 */
static bool
take_txt(const unsigned char *buf, const struct rr *rr, struct mx_dnsmsg_answer *out,
	 char *why, size_t whylen)
{
	const unsigned char *p = buf + rr->rdoff, *end = p + rr->rdlen;
	struct mx_dnsmsg_txt *grown;
	char   *text;
	size_t	used = 0;

	if (rr->rdlen == 0) {
		snprintf(why, whylen, "TXT record without a string");
		return false;
	}
	/* the joined text is shorter than the RDATA: one length octet per string */
	if ((text = malloc(rr->rdlen)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	while (p < end) {
		size_t	n = *p++;

		if (n > (size_t)(end - p)) {
			free(text);
			snprintf(why, whylen, "TXT string runs past the end of its record");
			return false;
		}
		memcpy(text + used, p, n);
		used += n;
		p += n;
	}
	text[used] = '\0';	/* used < rdlen: at least one length octet was read */
	grown = realloc(out->txt, (out->ntxt + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(text);
		snprintf(why, whylen, "out of memory");
		return false;
	}
	out->txt = grown;
	grown[out->ntxt].text = text;
	grown[out->ntxt].len = used;
	out->ntxt++;
	return true;
}

/* take_tlsa - one TLSA record: usage, selector, matching type, association data */
static bool
take_tlsa(const unsigned char *buf, const struct rr *rr, struct mx_dnsmsg_answer *out,
	  char *why, size_t whylen)
{
	const unsigned char *p = buf + rr->rdoff;
	struct mx_dnsmsg_tlsa *grown, *t;
	unsigned char *data = NULL;
	size_t	n;

	if (rr->rdlen < 3) {
		snprintf(why, whylen, "TLSA record of %u octets", rr->rdlen);
		return false;
	}
	n = (size_t)rr->rdlen - 3;
	if (n > 0 && (data = malloc(n)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	grown = realloc(out->tlsa, (out->ntlsa + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(data);
		snprintf(why, whylen, "out of memory");
		return false;
	}
	out->tlsa = grown;
	t = &grown[out->ntlsa++];
	t->usage = p[0];
	t->selector = p[1];
	t->mtype = p[2];
	if (n > 0)
		memcpy(data, p + 3, n);
	t->data = data;
	t->len = n;
	return true;
}

/* take_record - add one record of the asked type to the answer */
static bool
take_record(const unsigned char *buf, size_t len, const struct rr *rr, int qtype,
	    struct mx_dnsmsg_answer *out, char *why, size_t whylen)
{
	if (qtype == MX_DNS_T_TXT)
		return take_txt(buf, rr, out, why, whylen);
	if (qtype == MX_DNS_T_TLSA)
		return take_tlsa(buf, rr, out, why, whylen);
	if (qtype == MX_DNS_T_MX) {
		struct mx_dnsmsg_mx *grown;
		size_t	off = rr->rdoff + 2;

		if (rr->rdlen < 3) {
			snprintf(why, whylen, "MX record too short");
			return false;
		}
		grown = realloc(out->mx, (out->nmx + 1) * sizeof(*grown));
		if (grown == NULL) {
			snprintf(why, whylen, "out of memory");
			return false;
		}
		out->mx = grown;
		grown[out->nmx].pref = get16(buf + rr->rdoff);
		grown[out->nmx].ttl = rr->ttl;
		if (!read_name(buf, len, &off, grown[out->nmx].name, sizeof(grown->name)) ||
		    off > rr->rdoff + rr->rdlen) {
			snprintf(why, whylen, "bad exchange name in MX record");
			return false;
		}
		out->nmx++;
	} else {
		struct mx_dnsmsg_addr *grown;
		size_t	want = qtype == MX_DNS_T_A ? 4 : 16;

		if (rr->rdlen != want) {
			snprintf(why, whylen, "%s record of %u octets", qtype == MX_DNS_T_A ?
				 "A" : "AAAA", rr->rdlen);
			return false;
		}
		grown = realloc(out->addrs, (out->naddrs + 1) * sizeof(*grown));
		if (grown == NULL) {
			snprintf(why, whylen, "out of memory");
			return false;
		}
		out->addrs = grown;
		memset(&grown[out->naddrs], 0, sizeof(*grown));
		grown[out->naddrs].ip.family = qtype == MX_DNS_T_A ? AF_INET : AF_INET6;
		memcpy(grown[out->naddrs].ip.bytes, buf + rr->rdoff, want);
		grown[out->naddrs].ttl = rr->ttl;
		out->naddrs++;
	}
	return true;
}

/* mx_dnsmsg_parse - parse an answer for (qname, qtype) */
bool
mx_dnsmsg_parse(const unsigned char *buf, size_t len, const char *qname, int qtype,
		struct mx_dnsmsg_answer *out, char *why, size_t whylen)
{
	struct rr *rrs = NULL;
	size_t	off = 12, i, nrr = 0;
	unsigned qd, an;
	char	name[MX_DOMAIN_MAX + 1];
	char	cur[MX_DOMAIN_MAX + 1];
	bool	ok = false;

	memset(out, 0, sizeof(*out));
	if (len < 12) {
		snprintf(why, whylen, "message shorter than a DNS header");
		return false;
	}
	out->rcode = buf[3] & 0x0f;
	out->truncated = (buf[2] & 0x02) != 0;
	out->ad = (buf[3] & 0x20) != 0;
	qd = get16(buf + 4);
	an = get16(buf + 6);
	if (an > (len - 12) / 11)
		an = (unsigned)((len - 12) / 11);	/* a record takes 11 octets at least */
	for (i = 0; i < qd; i++) {
		if (!read_name(buf, len, &off, name, sizeof(name)) || off + 4 > len) {
			snprintf(why, whylen, "bad question section");
			return false;
		}
		off += 4;
	}
	if (an > 0 && (rrs = calloc(an, sizeof(*rrs))) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (i = 0; i < an; i++) {
		struct rr *rr = &rrs[nrr];

		if (!read_name(buf, len, &off, rr->owner, sizeof(rr->owner)) || off + 10 > len) {
			if (out->truncated)
				break;		/* TC: a cut answer is expected */
			snprintf(why, whylen, "answer record %zu is cut short or has a bad name", i + 1);
			goto done;
		}
		rr->type = get16(buf + off);
		rr->ttl = ((uint32_t)get16(buf + off + 4) << 16) | get16(buf + off + 6);
		if (rr->ttl > 0x7fffffffU)
			rr->ttl = 0;		/* RFC 2181 8 */
		rr->rdlen = get16(buf + off + 8);
		rr->rdoff = off + 10;
		off = rr->rdoff + rr->rdlen;
		if (off > len) {
			if (out->truncated)
				break;
			snprintf(why, whylen, "answer record %zu runs past the end of the message", i + 1);
			goto done;
		}
		if (get16(buf + rr->rdoff - 8) != 1)	/* class IN only */
			continue;
		nrr++;
	}
	/* follow the alias chain from qname inside this answer */
	snprintf(cur, sizeof(cur), "%s", qname);
	for (;;) {
		bool	have = false, moved = false;

		for (i = 0; i < nrr; i++)
			if (rrs[i].type == qtype && same_name(rrs[i].owner, cur)) {
				have = true;
				if (!take_record(buf, len, &rrs[i], qtype, out, why, whylen))
					goto done;
			}
		if (have)
			break;
		for (i = 0; i < nrr && !moved; i++)
			if (rrs[i].type == MX_DNS_T_CNAME && same_name(rrs[i].owner, cur)) {
				size_t	roff = rrs[i].rdoff;

				if (!read_name(buf, len, &roff, name, sizeof(name)) ||
				    roff > rrs[i].rdoff + rrs[i].rdlen) {
					snprintf(why, whylen, "bad CNAME target");
					goto done;
				}
				if (++out->hops > MX_DNS_MAX_CNAME_HOPS) {
					snprintf(why, whylen, "alias chain longer than %d",
						 MX_DNS_MAX_CNAME_HOPS);
					goto done;
				}
				snprintf(cur, sizeof(cur), "%s", name);
				moved = true;
			}
		if (!moved) {
			out->alias_only = out->hops > 0;
			break;
		}
	}
	snprintf(out->owner, sizeof(out->owner), "%s", cur);
	ok = true;
done:
	free(rrs);
	if (!ok)
		mx_dnsmsg_answer_free(out);
	return ok;
}
