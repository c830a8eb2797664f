/*
 * dnsdata - the plain data a domain lookup produces
 *
 * The resolver fills a struct mx_dns_result; the planner reads it. Tests build
 * one by hand with the same functions. No c-ares types appear here.
 *
 * Ownership: mx_dns_result_new() returns a result the caller frees with
 * mx_dns_result_free(); every array and string inside belongs to it.
 */
#ifndef MXTIER_DNSDATA_H
#define MXTIER_DNSDATA_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "addr.h"
#include "domain.h"

/* What one query came back with (R6, R7). */
enum mx_dns_status {
	MX_DNS_PENDING = 0,	/* not asked (yet) */
	MX_DNS_OK,		/* NOERROR with records of the type */
	MX_DNS_NODATA,		/* NOERROR, name exists, no records of the type */
	MX_DNS_NXDOMAIN,	/* name does not exist */
	MX_DNS_SERVFAIL,
	MX_DNS_REFUSED,
	MX_DNS_TIMEOUT,
	MX_DNS_TRUNCATED,	/* truncated and the TCP retry failed */
	MX_DNS_MALFORMED,	/* answer could not be parsed or made no sense */
	MX_DNS_CNAME_LOOP,	/* alias chain too long or circular */
	MX_DNS_FAIL		/* any other resolver error */
};

/* mx_dns_status_name - short token: "ok", "nodata", "nxdomain", "servfail", ... */
const char *mx_dns_status_name(enum mx_dns_status s);

/* mx_dns_status_is_temporary - would asking again later help */
bool	mx_dns_status_is_temporary(enum mx_dns_status s);

/* One MX record as answered, in answer order. name "" is the root (null MX). */
struct mx_dns_mx {
	uint16_t pref;
	char	name[MX_DOMAIN_MAX + 1];
};

/* One address record. */
struct mx_dns_addr {
	struct mx_ip ip;
	uint32_t ttl;
};

/*
 * One TLSA record (RFC 6698): certificate usage, selector, matching type
 * and the association data (owned by its address set).
 */
struct mx_dns_tlsa {
	uint8_t	usage;
	uint8_t	selector;
	uint8_t	mtype;
	unsigned char *data;
	size_t	len;
};

/* The A and AAAA answers for one name (an exchange, or the domain for implicit MX). */
struct mx_dns_addrset {
	char	name[MX_DOMAIN_MAX + 1];	/* as asked */
	char	canonical[MX_DOMAIN_MAX + 1];	/* CNAME target if name is an alias, else "" */
	enum mx_dns_status a_status;
	enum mx_dns_status aaaa_status;
	char	detail[160];			/* resolver's words on a failure, or "" */
	struct mx_dns_addr *addrs;		/* A records first, then AAAA, each in DNS order */
	size_t	naddrs;
	/* DNSSEC (R16): the AD bit of a trusted resolver on each answer */
	bool	a_secure;
	bool	aaaa_secure;
	/* TLSA at _PORT._tcp.NAME (R16); MX_DNS_PENDING when not asked */
	enum mx_dns_status tlsa_status;
	bool	tlsa_secure;
	char	tlsa_detail[160];		/* resolver's words on a failure, or "" */
	struct mx_dns_tlsa *tlsa;		/* answer order */
	size_t	ntlsa;
};

struct mx_dns_result {
	char	domain[MX_DOMAIN_MAX + 1];
	char	canonical[MX_DOMAIN_MAX + 1];	/* CNAME target of the domain, else "" */
	enum mx_dns_status mx_status;
	char	mx_detail[160];
	struct mx_dns_mx *mx;			/* MX records, answer order, after the cap */
	size_t	nmx;
	size_t	mx_answered;			/* MX records in the answer before the cap */
	uint32_t mx_ttl;			/* the lowest TTL of the MX records (0 when none) */
	struct mx_dns_addrset *sets;		/* one per distinct exchange name or the domain */
	size_t	nsets;
	/* DNSSEC (R16) */
	bool	dnssec_trusted;			/* every server asked is trusted: AD counts */
	bool	mx_secure;			/* the MX answer (and any alias) had AD */
	/* MTA-STS (R17): TXT at _mta-sts.DOMAIN; MX_DNS_PENDING when not asked */
	enum mx_dns_status sts_status;
	char	sts_txt[512];			/* the one record starting "v=STSv1", its
						 * strings joined; "" when none (or several:
						 * RFC 8461 3.1 counts that as no policy) */
	int	sts_records;			/* records starting "v=STSv1" in the answer */
	char	sts_detail[160];		/* resolver's words on a failure, or why the
						 * one record is not in sts_txt (longer than
						 * sts_txt holds, or holding a NUL), or "" */
};

/* mx_dns_result_new - empty result for domain (already normalised); NULL on ENOMEM */
struct mx_dns_result *mx_dns_result_new(const char *domain);

/* mx_dns_result_free - free a result and everything in it; NULL is fine */
void	mx_dns_result_free(struct mx_dns_result *r);

/* mx_dns_result_add_mx - append an MX record; false on ENOMEM */
bool	mx_dns_result_add_mx(struct mx_dns_result *r, uint16_t pref, const char *name);

/* mx_dns_result_set - find the address set for name, or add it; NULL on ENOMEM */
struct mx_dns_addrset *mx_dns_result_set(struct mx_dns_result *r, const char *name);

/* mx_dns_result_find_set - the address set for name, or NULL */
struct mx_dns_addrset *mx_dns_result_find_set(const struct mx_dns_result *r, const char *name);

/* mx_dns_addrset_add_tlsa - append a TLSA record (data copied); false on ENOMEM */
bool	mx_dns_addrset_add_tlsa(struct mx_dns_addrset *s, uint8_t usage, uint8_t selector,
				uint8_t mtype, const unsigned char *data, size_t len);

/* mx_dns_addrset_add - append an address; false on ENOMEM */
bool	mx_dns_addrset_add(struct mx_dns_addrset *s, const struct mx_ip *ip, uint32_t ttl);

#endif
