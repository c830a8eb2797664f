/*
 * dnsmsg - parse a DNS answer message for one question (RFC 1035 4.1)
 *
 * Reads the header, skips the question, and walks the answer section with
 * bounds checks on every octet and loop-safe name decompression. Records of
 * the asked type are collected for the asked name or, when the answer holds
 * an alias chain (CNAME), for the end of that chain. An answer that holds
 * only the alias is reported as such so the caller can ask again. Types:
 * MX, A, AAAA, TXT (RFC 1035 3.3.14: the character-strings of a record
 * joined without a separator, as RFC 8461 3.1 reads them) and TLSA (RFC
 * 6698 2.1). The AD bit of the header is reported as is: whether it counts
 * (a trusted, validating resolver) is for the caller to say.
 *
 * Pure; no c-ares. Ownership: mx_dnsmsg_parse() fills a caller-owned
 * struct whose arrays (and the TXT text and TLSA data in them) are freed
 * with mx_dnsmsg_answer_free().
 */
#ifndef MXTIER_DNSMSG_H
#define MXTIER_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "domain.h"

#define MX_DNS_T_A	1
#define MX_DNS_T_CNAME	5
#define MX_DNS_T_MX	15
#define MX_DNS_T_TXT	16
#define MX_DNS_T_AAAA	28
#define MX_DNS_T_TLSA	52

#define MX_DNS_MAX_CNAME_HOPS 8

struct mx_dnsmsg_mx {
	uint16_t pref;
	char	name[MX_DOMAIN_MAX + 1];	/* "" for the root */
	uint32_t ttl;
};

struct mx_dnsmsg_addr {
	struct mx_ip ip;
	uint32_t ttl;
};

/* One TXT record: its character-strings joined without a separator. */
struct mx_dnsmsg_txt {
	char   *text;			/* len octets, then a NUL (text may hold NULs) */
	size_t	len;
};

/* One TLSA record (RFC 6698 2.1). */
struct mx_dnsmsg_tlsa {
	uint8_t	usage;
	uint8_t	selector;
	uint8_t	mtype;
	unsigned char *data;		/* len octets; NULL when len is 0 */
	size_t	len;
};

struct mx_dnsmsg_answer {
	int	rcode;
	bool	truncated;			/* TC bit */
	bool	ad;				/* AD bit: the server validated it */
	char	owner[MX_DOMAIN_MAX + 1];	/* name the records belong to (end of chain) */
	int	hops;				/* CNAMEs followed inside the answer */
	bool	alias_only;			/* chain ends in a CNAME with no records of the type */
	struct mx_dnsmsg_mx *mx;
	size_t	nmx;
	struct mx_dnsmsg_addr *addrs;
	size_t	naddrs;
	struct mx_dnsmsg_txt *txt;
	size_t	ntxt;
	struct mx_dnsmsg_tlsa *tlsa;
	size_t	ntlsa;
};

/*
 * mx_dnsmsg_parse - parse buf for (qname, qtype). Returns false when the
 * message is malformed (a reason in why); true otherwise, even for error
 * rcodes (look at rcode).
 */
bool	mx_dnsmsg_parse(const unsigned char *buf, size_t len, const char *qname, int qtype,
			struct mx_dnsmsg_answer *out, char *why, size_t whylen);

/* mx_dnsmsg_answer_free - free the arrays of an answer */
void	mx_dnsmsg_answer_free(struct mx_dnsmsg_answer *a);

#endif
