/*
 * dnsdata - the plain data a domain lookup produces (see dnsdata.h)
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsdata.h"

static const char *const status_names[] = {
	[MX_DNS_PENDING] = "pending",
	[MX_DNS_OK] = "ok",
	[MX_DNS_NODATA] = "nodata",
	[MX_DNS_NXDOMAIN] = "nxdomain",
	[MX_DNS_SERVFAIL] = "servfail",
	[MX_DNS_REFUSED] = "refused",
	[MX_DNS_TIMEOUT] = "timeout",
	[MX_DNS_TRUNCATED] = "truncated",
	[MX_DNS_MALFORMED] = "malformed",
	[MX_DNS_CNAME_LOOP] = "cname_loop",
	[MX_DNS_FAIL] = "fail",
};

/* mx_dns_status_name - short token for a status */
const char *
mx_dns_status_name(enum mx_dns_status s)
{
	if ((size_t)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "?";
}

/* mx_dns_status_is_temporary - would asking again later help */
bool
mx_dns_status_is_temporary(enum mx_dns_status s)
{
	switch (s) {
	case MX_DNS_OK:
	case MX_DNS_NODATA:
	case MX_DNS_NXDOMAIN:
		return false;
	default:
		return true;
	}
}

/* copy_name - bounded copy of a DNS name */
static void
copy_name(char *dst, const char *src)
{
	size_t	n = strlen(src);

	if (n > MX_DOMAIN_MAX)
		n = MX_DOMAIN_MAX;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* mx_dns_result_new - empty result for a domain */
struct mx_dns_result *
mx_dns_result_new(const char *domain)
{
	struct mx_dns_result *r = calloc(1, sizeof(*r));

	if (r != NULL)
		copy_name(r->domain, domain);
	return r;
}

/* mx_dns_result_free - free a result */
void
mx_dns_result_free(struct mx_dns_result *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsets; i++) {
		size_t	k;

		for (k = 0; k < r->sets[i].ntlsa; k++)
			free(r->sets[i].tlsa[k].data);
		free(r->sets[i].tlsa);
		free(r->sets[i].addrs);
	}
	free(r->sets);
	free(r->mx);
	free(r);
}

/* mx_dns_result_add_mx - append an MX record */
bool
mx_dns_result_add_mx(struct mx_dns_result *r, uint16_t pref, const char *name)
{
	struct mx_dns_mx *grown = realloc(r->mx, (r->nmx + 1) * sizeof(*r->mx));

	if (grown == NULL)
		return false;
	r->mx = grown;
	r->mx[r->nmx].pref = pref;
	copy_name(r->mx[r->nmx].name, name);
	r->nmx++;
	return true;
}

/* mx_dns_result_find_set - the address set for name, or NULL */
struct mx_dns_addrset *
mx_dns_result_find_set(const struct mx_dns_result *r, const char *name)
{
	size_t	i;

	for (i = 0; i < r->nsets; i++)
		if (strcasecmp(r->sets[i].name, name) == 0)
			return &r->sets[i];
	return NULL;
}

/* mx_dns_result_set - find or add the address set for name */
struct mx_dns_addrset *
mx_dns_result_set(struct mx_dns_result *r, const char *name)
{
	struct mx_dns_addrset *s = mx_dns_result_find_set(r, name), *grown;

	if (s != NULL)
		return s;
	grown = realloc(r->sets, (r->nsets + 1) * sizeof(*r->sets));
	if (grown == NULL)
		return NULL;
	r->sets = grown;
	s = &r->sets[r->nsets++];
	memset(s, 0, sizeof(*s));
	copy_name(s->name, name);
	return s;
}

/* mx_dns_addrset_add_tlsa - append a TLSA record, copying its data */
bool
mx_dns_addrset_add_tlsa(struct mx_dns_addrset *s, uint8_t usage, uint8_t selector,
			uint8_t mtype, const unsigned char *data, size_t len)
{
	struct mx_dns_tlsa *grown;
	unsigned char *copy = NULL;

	if (len > 0) {
		if ((copy = malloc(len)) == NULL)
			return false;
		memcpy(copy, data, len);
	}
	grown = realloc(s->tlsa, (s->ntlsa + 1) * sizeof(*s->tlsa));
	if (grown == NULL) {
		free(copy);
		return false;
	}
	s->tlsa = grown;
	s->tlsa[s->ntlsa].usage = usage;
	s->tlsa[s->ntlsa].selector = selector;
	s->tlsa[s->ntlsa].mtype = mtype;
	s->tlsa[s->ntlsa].data = copy;
	s->tlsa[s->ntlsa].len = len;
	s->ntlsa++;
	return true;
}

/* mx_dns_addrset_add - append an address */
bool
mx_dns_addrset_add(struct mx_dns_addrset *s, const struct mx_ip *ip, uint32_t ttl)
{
	struct mx_dns_addr *grown = realloc(s->addrs, (s->naddrs + 1) * sizeof(*s->addrs));

	if (grown == NULL)
		return false;
	s->addrs = grown;
	s->addrs[s->naddrs].ip = *ip;
	s->addrs[s->naddrs].ttl = ttl;
	s->naddrs++;
	return true;
}
