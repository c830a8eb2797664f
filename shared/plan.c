/*
 * plan - turn DNS answers into an ordered delivery plan, rules R1-R10
 *
 * The closest relative is Postfix's smtp_addr.c: sort the MX records by
 * preference, shuffle equal ones, truncate at the local host, order each
 * host's addresses. Unlike Postfix nothing is thrown away: hosts and
 * addresses that will not be tried stay in the plan, marked unusable, with
 * notes that say why (R14).
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4
 * address it carries (R8): a connect to it reaches a.b.c.d over IPv4, so
 * ignore_networks, the local-host rule (R9), inet_protocols and
 * address_preference all see a.b.c.d. It keeps its own text and family in
 * the plan, with a note.
 *
 * Pure: the caller supplies the DNS result, the policy, the machine's
 * interface addresses and the random number generator.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan.h"

static struct mx_cidr default_ignore[4];
static bool default_ignore_ready;

/* mx_policy_defaults - the documented defaults */
void
mx_policy_defaults(struct mx_policy *p)
{
	static const char *const nets[] = { "0.0.0.0/8", "127.0.0.0/8", "::1/128", "::/128" };
	size_t	i;

	if (!default_ignore_ready) {
		for (i = 0; i < 4; i++)
			mx_cidr_parse(nets[i], &default_ignore[i]);
		default_ignore_ready = true;
	}
	memset(p, 0, sizeof(*p));
	p->cname_targets = MX_CNAME_LENIENT;
	p->randomize_addresses = false;
	p->address_preference = MX_ADDRPREF_ANY;
	p->inet_protocols = MX_INET_ALL;
	p->max_addresses = 5;
	p->max_sessions = 2;
	p->max_mx_records = MX_MAX_MX_DEFAULT;
	p->ignore_networks = default_ignore;
	p->nignore_networks = 4;
	p->loop_action = MX_LOOP_DEFER;
	p->tls_level = MX_TLS_MAY;
}

/* mx_host_tls_name - the JSON token of a host's TLS policy */
const char *
mx_host_tls_name(enum mx_host_tls t)
{
	switch (t) {
	case MX_HOST_TLS_NONE: return "none";
	case MX_HOST_TLS_MAY: return "may";
	case MX_HOST_TLS_ENCRYPT: return "encrypt";
	case MX_HOST_TLS_VERIFY: return "verify";
	case MX_HOST_TLS_SECURE: return "secure";
	case MX_HOST_TLS_DANE: return "dane";
	case MX_HOST_TLS_MTA_STS: return "mta-sts";
	}
	return "?";
}

/* mx_plan_result_name - JSON token of a result */
const char *
mx_plan_result_name(enum mx_plan_result r)
{
	switch (r) {
	case MX_PLAN_OK: return "ok";
	case MX_PLAN_NULL_MX: return "null_mx";
	case MX_PLAN_NXDOMAIN: return "nxdomain";
	case MX_PLAN_NO_MAIL_HOST: return "no_mail_host";
	case MX_PLAN_TEMPFAIL: return "tempfail";
	case MX_PLAN_LOOP: return "loop";
	}
	return "?";
}

/*
 * cmp_exchange - order MX records by preference, then by name. The name, not
 * the answer order, breaks ties so that a seed gives the same shuffle even
 * when the name server rotates its answers (R2 randomizes after this).
 */
static int
cmp_exchange(const void *a, const void *b)
{
	const struct mx_exchange *x = a, *y = b;
	int	c;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* mx_plan_exchanges - sorted, de-duplicated, capped exchange list (R1, R3, R4, R10) */
struct mx_exchange *
mx_plan_exchanges(const struct mx_dns_result *dns, int cap, size_t *n,
		  size_t *nnull, size_t *ncapped)
{
	struct mx_exchange *ex;
	size_t	i, j, k = 0;

	*n = *nnull = *ncapped = 0;
	if (dns->nmx == 0)
		return NULL;
	ex = calloc(dns->nmx, sizeof(*ex));
	if (ex == NULL)
		return NULL;
	for (i = 0; i < dns->nmx; i++) {
		if (dns->mx[i].name[0] == '\0' || strcmp(dns->mx[i].name, ".") == 0) {
			(*nnull)++;
			continue;
		}
		ex[k].pref = dns->mx[i].pref;
		ex[k].index = i;
		for (j = 0; dns->mx[i].name[j] != '\0'; j++) {
			char c = dns->mx[i].name[j];

			ex[k].name[j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		if (j > 1 && ex[k].name[j - 1] == '.')
			j--;
		ex[k].name[j] = '\0';
		k++;
	}
	qsort(ex, k, sizeof(*ex), cmp_exchange);
	/* R3: a name listed twice keeps its first (lowest) preference */
	for (i = 0, j = 0; i < k; i++) {
		size_t m;
		bool	dup = false;

		for (m = 0; m < j; m++)
			if (strcmp(ex[m].name, ex[i].name) == 0) {
				dup = true;
				if (ex[m].ndup_prefs < MX_EXCHANGE_DUPS)
					ex[m].dup_prefs[ex[m].ndup_prefs] = ex[i].pref;
				ex[m].ndup_prefs++;
				break;
			}
		if (!dup)
			ex[j++] = ex[i];
	}
	if (cap > 0 && j > (size_t)cap) {
		*ncapped = j - (size_t)cap;
		j = (size_t)cap;
	}
	*n = j;
	return ex;
}

/* shuffle - Fisher-Yates over n elements of size sz, RNG injected (R2) */
static void
shuffle(void *base, size_t n, size_t sz, struct mx_rng *rng)
{
	unsigned char *p = base, tmp[sizeof(struct mx_plan_host) > sizeof(struct mx_plan_addr) ?
				    sizeof(struct mx_plan_host) : sizeof(struct mx_plan_addr)];
	size_t	i, j;

	if (sz > sizeof(tmp))
		return;
	for (i = n; i > 1; i--) {
		j = mx_rng_below(rng, (uint32_t)i);
		if (j != i - 1) {
			memcpy(tmp, p + (i - 1) * sz, sz);
			memcpy(p + (i - 1) * sz, p + j * sz, sz);
			memcpy(p + j * sz, tmp, sz);
		}
	}
}

/* family_name - "ipv4" or "ipv6" */
static const char *
family_name(int family)
{
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* judged - the address policy judges: the IPv4 one inside ::ffff:0:0/96, else ip (R8) */
static struct mx_ip
judged(const struct mx_ip *ip)
{
	struct mx_ip v;

	mx_ip_unmap(ip, &v);
	return v;
}

/* family_enabled - does inet_protocols allow this family */
static bool
family_enabled(const struct mx_policy *p, int family)
{
	if (p->inet_protocols == MX_INET_IPV4)
		return family == AF_INET;
	if (p->inet_protocols == MX_INET_IPV6)
		return family == AF_INET6;
	return true;
}

/* addr_rank - sort key for address_preference (lower first) */
static int
addr_rank(const struct mx_plan_addr *a, const struct mx_policy *p)
{
	int	rank = a->usable ? 0 : 2;
	int	family = judged(&a->ip).family;

	if (p->address_preference == MX_ADDRPREF_IPV4 && family != AF_INET)
		rank++;
	if (p->address_preference == MX_ADDRPREF_IPV6 && family != AF_INET6)
		rank++;
	return rank;
}

/* order_addresses - DNS order, optional shuffle, family preference, usable first (R8) */
static void
order_addresses(struct mx_plan_host *h, const struct mx_policy *p, struct mx_rng *rng)
{
	struct mx_plan_addr *sorted;
	size_t	i, k = 0;
	int	rank;

	if (h->naddrs < 2)
		return;
	if (p->randomize_addresses)
		shuffle(h->addrs, h->naddrs, sizeof(*h->addrs), rng);
	sorted = malloc(h->naddrs * sizeof(*sorted));
	if (sorted == NULL)
		return;
	for (rank = 0; rank < 4; rank++)	/* stable partition by rank */
		for (i = 0; i < h->naddrs; i++)
			if (addr_rank(&h->addrs[i], p) == rank)
				sorted[k++] = h->addrs[i];
	memcpy(h->addrs, sorted, k * sizeof(*sorted));
	free(sorted);
}

/* status_list - "A timeout, AAAA servfail" for a host's failed lookups */
static void
status_list(const struct mx_dns_addrset *s, const struct mx_policy *p, char *buf, size_t len)
{
	buf[0] = '\0';
	if (family_enabled(p, AF_INET) && s->a_status != MX_DNS_OK)
		snprintf(buf, len, "A %s", mx_dns_status_name(s->a_status));
	if (family_enabled(p, AF_INET6) && s->aaaa_status != MX_DNS_OK) {
		size_t	used = strlen(buf);

		snprintf(buf + used, len - used, "%sAAAA %s", used ? ", " : "",
			 mx_dns_status_name(s->aaaa_status));
	}
}

/*
 * same_as_v4 - index of the address of s that a mapped address i repeats:
 * an A record anywhere, or an earlier mapped address; s->naddrs if none
 */
static size_t
same_as_v4(const struct mx_dns_addrset *s, size_t i, const struct mx_ip *v4)
{
	size_t	k;

	for (k = 0; k < s->naddrs; k++)
		if (k != i && (s->addrs[k].ip.family == AF_INET || k < i)) {
			struct mx_ip other = judged(&s->addrs[k].ip);

			if (mx_ip_equal(&other, v4))
				return k;
		}
	return s->naddrs;
}

/* fill_host - addresses and usability of one host from its address set (R7, R8) */
static bool
fill_host(struct mx_plan_host *h, const struct mx_dns_addrset *s,
	  const struct mx_policy *p, bool implicit)
{
	size_t	i, nusable = 0;
	bool	temp_a, temp_aaaa;
	char	why[96];

	h->usable = false;
	if (!implicit && mx_domain_is_ip_literal(h->name)) {
		h->why_unusable = MX_UNUSABLE_PERM;
		mx_notes_add(&h->notes, "exchange is an IP address, not a host name "
			     "(RFC 5321 5.1); not used");
		return true;
	}
	if (!implicit) {
		char	norm[MX_DOMAIN_MAX + 1], why[160];

		if (!mx_domain_normalise(h->name, norm, sizeof(norm), why, sizeof(why))) {
			h->why_unusable = MX_UNUSABLE_PERM;
			mx_notes_add(&h->notes, "exchange is not a valid host name (%s); not used",
				     why);
			return true;
		}
	}
	if (s == NULL) {
		h->why_unusable = MX_UNUSABLE_TEMP;
		mx_notes_add(&h->notes, "exchange was not looked up");
		return true;
	}
	if (s->canonical[0] != '\0') {
		snprintf(h->canonical, sizeof(h->canonical), "%s", s->canonical);
		if (p->cname_targets == MX_CNAME_STRICT) {
			h->why_unusable = MX_UNUSABLE_PERM;
			mx_notes_add(&h->notes, "exchange is an alias (CNAME) for %s, which RFC 2181 "
				     "10.3 forbids; not used (cname_targets = strict)", s->canonical);
			return true;
		}
		mx_notes_add(&h->notes, "exchange is an alias (CNAME) for %s, which RFC 2181 "
			     "10.3 forbids; followed (cname_targets = lenient)", s->canonical);
	}
	if (s->naddrs > 0) {
		h->addrs = calloc(s->naddrs, sizeof(*h->addrs));
		if (h->addrs == NULL)
			return false;
	}
	for (i = 0; i < s->naddrs; i++) {
		struct mx_plan_addr *a = &h->addrs[h->naddrs++];
		struct mx_ip v4;
		bool	mapped;
		size_t	n;

		a->ip = s->addrs[i].ip;
		a->ttl = s->addrs[i].ttl;
		mx_ip_format(&a->ip, a->text, sizeof(a->text));
		a->usable = true;
		mapped = mx_ip_unmap(&a->ip, &v4);
		if (mapped) {
			char	text[MX_IP_TEXT_MAX];

			mx_notes_add(&a->notes, "IPv4-mapped IPv6 address: judged as %s, the IPv4 "
				     "address it reaches", mx_ip_format(&v4, text, sizeof(text)));
		}
		if (!family_enabled(p, v4.family)) {
			a->usable = false;
			mx_notes_add(&a->notes, "%s is disabled (inet_protocols = %s)",
				     family_name(v4.family),
				     p->inet_protocols == MX_INET_IPV4 ? "ipv4" : "ipv6");
			continue;
		}
		for (n = 0; n < p->nignore_networks; n++)
			if (mx_cidr_contains(&p->ignore_networks[n], &a->ip) ||
			    (mapped && mx_cidr_contains(&p->ignore_networks[n], &v4))) {
				char	net[MX_IP_TEXT_MAX];

				a->usable = false;
				mx_notes_add(&a->notes, "in ignored network %s/%d (ignore_networks)",
					     mx_ip_format(&p->ignore_networks[n].net, net, sizeof(net)),
					     p->ignore_networks[n].prefix);
				break;
			}
		if (a->usable && mapped && (n = same_as_v4(s, i, &v4)) < s->naddrs) {
			char	text[MX_IP_TEXT_MAX];

			a->usable = false;
			mx_notes_add(&a->notes, "same IPv4 address as %s, listed before or as an A "
				     "record; not tried twice",
				     mx_ip_format(&s->addrs[n].ip, text, sizeof(text)));
		}
		if (a->usable)
			nusable++;
	}
	temp_a = family_enabled(p, AF_INET) && mx_dns_status_is_temporary(s->a_status);
	temp_aaaa = family_enabled(p, AF_INET6) && mx_dns_status_is_temporary(s->aaaa_status);
	status_list(s, p, why, sizeof(why));
	if (nusable > 0) {
		h->usable = true;
		if (temp_a || temp_aaaa)
			mx_notes_add(&h->notes, "address lookup failed in part (%s)%s%s", why,
				     s->detail[0] ? ": " : "", s->detail);
		return true;
	}
	if (temp_a || temp_aaaa) {
		h->why_unusable = MX_UNUSABLE_TEMP;
		mx_notes_add(&h->notes, "address lookup failed temporarily (%s)%s%s", why,
			     s->detail[0] ? ": " : "", s->detail);
	} else if (s->naddrs > 0) {
		h->why_unusable = MX_UNUSABLE_PERM;
		mx_notes_add(&h->notes, "no usable address");
	} else if (s->a_status == MX_DNS_NXDOMAIN || s->aaaa_status == MX_DNS_NXDOMAIN) {
		h->why_unusable = MX_UNUSABLE_PERM;
		mx_notes_add(&h->notes, "host not found (NXDOMAIN)");
	} else {
		h->why_unusable = MX_UNUSABLE_PERM;
		mx_notes_add(&h->notes, "host has no %s records",
			     p->inet_protocols == MX_INET_IPV4 ? "A" :
			     p->inet_protocols == MX_INET_IPV6 ? "AAAA" : "A or AAAA");
	}
	return true;
}

/* host_is_local - R9: is this exchange this machine; writes the reason */
static bool
host_is_local(const struct mx_plan_host *h, const struct mx_policy *p,
	      const struct mx_plan_env *env, char *why, size_t len)
{
	size_t	i, n;

	for (n = 0; n < p->nlocal_names; n++)
		if (strcasecmp(p->local_names[n], h->name) == 0 ||
		    (h->canonical[0] && strcasecmp(p->local_names[n], h->canonical) == 0)) {
			snprintf(why, len, "%s is in local_names", p->local_names[n]);
			return true;
		}
	for (i = 0; i < h->naddrs; i++) {
		struct mx_ip ip = judged(&h->addrs[i].ip);	/* R8: mapped as IPv4 */

		for (n = 0; n < p->nlocal_addresses; n++)
			if (mx_cidr_contains(&p->local_addresses[n], &h->addrs[i].ip) ||
			    mx_cidr_contains(&p->local_addresses[n], &ip)) {
				snprintf(why, len, "address %s is in local_addresses", h->addrs[i].text);
				return true;
			}
		if (env != NULL)
			for (n = 0; n < env->nlocal_ifaddrs; n++) {
				struct mx_ip ifaddr = judged(&env->local_ifaddrs[n]);

				if (mx_ip_equal(&ifaddr, &ip)) {
					snprintf(why, len, "address %s is on a local interface",
						 h->addrs[i].text);
					return true;
				}
			}
	}
	return false;
}

/* set_result - result, enhanced status and message in one place */
static void
set_result(struct mx_plan *plan, enum mx_plan_result r, const char *status,
	   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
set_result(struct mx_plan *plan, enum mx_plan_result r, const char *status,
	   const char *fmt, ...)
{
	va_list	ap;

	plan->result = r;
	snprintf(plan->status, sizeof(plan->status), "%s", status ? status : "");
	va_start(ap, fmt);
	vsnprintf(plan->message, sizeof(plan->message), fmt, ap);
	va_end(ap);
}

/* add_tier - append an empty tier */
static struct mx_plan_tier *
add_tier(struct mx_plan *plan, uint16_t pref)
{
	struct mx_plan_tier *grown = realloc(plan->tiers, (plan->ntiers + 1) * sizeof(*grown));

	if (grown == NULL)
		return NULL;
	plan->tiers = grown;
	memset(&plan->tiers[plan->ntiers], 0, sizeof(*grown));
	plan->tiers[plan->ntiers].pref = pref;
	return &plan->tiers[plan->ntiers++];
}

/* mx_plan_free - free a plan */
void
mx_plan_free(struct mx_plan *plan)
{
	size_t	t, h, a;

	if (plan == NULL)
		return;
	for (t = 0; t < plan->ntiers; t++) {
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			struct mx_plan_host *host = &plan->tiers[t].hosts[h];

			for (a = 0; a < host->naddrs; a++)
				mx_notes_clear(&host->addrs[a].notes);
			free(host->addrs);
			for (a = 0; a < host->ntlsa; a++)
				free(host->tlsa[a].data);
			free(host->tlsa);
			mx_notes_clear(&host->notes);
		}
		free(plan->tiers[t].hosts);
	}
	free(plan->tiers);
	mx_notes_clear(&plan->notes);
	free(plan);
}

/* mx_plan_usable_addresses - addresses that would be tried */
size_t
mx_plan_usable_addresses(const struct mx_plan *plan)
{
	size_t	t, h, a, n = 0;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			if (plan->tiers[t].hosts[h].usable)
				for (a = 0; a < plan->tiers[t].hosts[h].naddrs; a++)
					n += plan->tiers[t].hosts[h].addrs[a].usable;
	return n;
}

/* build_hosts - one host per exchange (or the implicit one), grouped into tiers */
static bool
build_hosts(struct mx_plan *plan, const struct mx_dns_result *dns,
	    const struct mx_exchange *ex, size_t nex, const struct mx_policy *p)
{
	size_t	i;

	for (i = 0; i < nex; i++) {
		struct mx_plan_tier *tier = plan->ntiers ? &plan->tiers[plan->ntiers - 1] : NULL;
		struct mx_plan_host *grown, *h;
		size_t	d;

		if (tier == NULL || tier->pref != ex[i].pref)
			if ((tier = add_tier(plan, ex[i].pref)) == NULL)
				return false;
		grown = realloc(tier->hosts, (tier->nhosts + 1) * sizeof(*grown));
		if (grown == NULL)
			return false;
		tier->hosts = grown;
		h = &tier->hosts[tier->nhosts++];
		memset(h, 0, sizeof(*h));
		snprintf(h->name, sizeof(h->name), "%s", ex[i].name);
		h->pref = ex[i].pref;
		for (d = 0; d < ex[i].ndup_prefs && d < MX_EXCHANGE_DUPS; d++)
			mx_notes_add(&h->notes, "also listed with preference %u; the lowest "
				     "preference is kept", ex[i].dup_prefs[d]);
		if (!fill_host(h, mx_dns_result_find_set(dns, ex[i].name), p, plan->implicit_mx))
			return false;
	}
	return true;
}

/*
 * tlsa_usable - RFC 7672 3.1: DANE-TA(2) or DANE-EE(3), selector Cert(0) or
 * SPKI(1), matching type Full(0), SHA2-256(1) or SHA2-512(2) of the right size
 */
static bool
tlsa_usable(const struct mx_dns_tlsa *t)
{
	if ((t->usage != 2 && t->usage != 3) || t->selector > 1 || t->len == 0)
		return false;
	switch (t->mtype) {
	case 0: return true;
	case 1: return t->len == 32;
	case 2: return t->len == 64;
	default: return false;
	}
}

/* host_secure - were the host's address answers DNSSEC-validated (every family answered) */
static bool
host_secure(const struct mx_dns_addrset *s, const struct mx_policy *p)
{
	bool	any = false;

	if (family_enabled(p, AF_INET) && (s->a_status == MX_DNS_OK || s->a_status == MX_DNS_NODATA)) {
		if (!s->a_secure)
			return false;
		any = true;
	}
	if (family_enabled(p, AF_INET6) &&
	    (s->aaaa_status == MX_DNS_OK || s->aaaa_status == MX_DNS_NODATA)) {
		if (!s->aaaa_secure)
			return false;
		any = true;
	}
	return any;
}

/* tls_block - the TLS policy makes h unusable for now (4.7.5) */
static void
tls_block(struct mx_plan_host *h, const char *failure)
{
	if (h->usable) {
		h->usable = false;
		h->why_unusable = MX_UNUSABLE_TEMP;
		h->tls_blocked = true;
		snprintf(h->tls_failure, sizeof(h->tls_failure), "%s", failure);
	}
}

/*
 * host_dane - R16 for one host at level dane or dane-only: DANE with usable
 * TLSA records; true when DANE decided the host's TLS (or blocked it), false
 * when the host falls back to may (level dane only)
 */
static bool
host_dane(struct mx_plan_host *h, const struct mx_dns_result *dns,
	  const struct mx_dns_addrset *s, const struct mx_policy *p, bool mx_secure)
{
	bool	only = p->tls_level == MX_TLS_DANE_ONLY;
	size_t	i, usable = 0;

	if (!mx_secure || s == NULL || !host_secure(s, p)) {
		if (only) {
			mx_notes_add(&h->notes, "dane-only: %s not DNSSEC-validated, so no TLSA "
				     "records can be trusted; not used", !mx_secure ?
				     (dns->dnssec_trusted ? "the MX records are" :
				      "no trusted validating resolver: answers are") :
				     "its address records are");
			tls_block(h, "dane-required");
		}
		return only;
	}
	h->dnssec = true;
	switch (s->tlsa_status) {
	case MX_DNS_OK:
		break;
	case MX_DNS_NODATA:
	case MX_DNS_NXDOMAIN:
		if (only) {
			mx_notes_add(&h->notes, "dane-only: no TLSA records for %s; not used",
				     h->name);
			tls_block(h, "dane-required");
		}
		return only;
	case MX_DNS_PENDING:
		mx_notes_add(&h->notes, "TLSA records were not looked up; not used");
		tls_block(h, "tlsa-invalid");
		return true;
	default:
		mx_notes_add(&h->notes, "TLSA lookup failed (%s)%s%s; not used for now (RFC 7672 "
			     "2.2)", mx_dns_status_name(s->tlsa_status),
			     s->tlsa_detail[0] ? ": " : "", s->tlsa_detail);
		tls_block(h, "tlsa-invalid");
		return true;
	}
	if (!s->tlsa_secure) {
		/* a secure zone answered TLSA insecurely: treated as none (RFC 7672 2.2) */
		if (only) {
			mx_notes_add(&h->notes, "dane-only: the TLSA answer was not "
				     "DNSSEC-validated; not used");
			tls_block(h, "dnssec-invalid");
		}
		return only;
	}
	for (i = 0; i < s->ntlsa; i++)
		if (tlsa_usable(&s->tlsa[i]))
			usable++;
	if (usable == 0) {
		/* RFC 7672 2.2: TLS still mandatory, authentication impossible */
		h->tls = MX_HOST_TLS_ENCRYPT;
		mx_notes_add(&h->notes, "%zu TLSA record%s but none usable (RFC 7672 3.1): TLS "
			     "required, not authenticated", s->ntlsa, s->ntlsa == 1 ? "" : "s");
		return true;
	}
	if ((h->tlsa = calloc(usable, sizeof(*h->tlsa))) == NULL) {
		tls_block(h, "tlsa-invalid");	/* out of memory: never skip authentication */
		return true;
	}
	for (i = 0; i < s->ntlsa; i++) {
		struct mx_dns_tlsa *t;

		if (!tlsa_usable(&s->tlsa[i]))
			continue;
		t = &h->tlsa[h->ntlsa];
		*t = s->tlsa[i];
		if ((t->data = malloc(s->tlsa[i].len)) == NULL)
			continue;
		memcpy(t->data, s->tlsa[i].data, s->tlsa[i].len);
		h->ntlsa++;
	}
	h->tls = MX_HOST_TLS_DANE;
	mx_notes_add(&h->notes, "DANE: %zu usable TLSA record%s (DNSSEC-validated); TLS "
		     "required and authenticated by them", h->ntlsa, h->ntlsa == 1 ? "" : "s");
	return true;
}

/*
 * apply_tls - R15-R17: each host's TLS policy from the level, DANE and the
 * MTA-STS policy; hosts the policy rules out become unusable for now
 */
static void
apply_tls(struct mx_plan *plan, const struct mx_dns_result *dns, const struct mx_policy *p,
	  const struct mx_plan_env *env)
{
	const struct mx_sts_policy *sts = env != NULL ? env->sts : NULL;
	bool	mx_secure = dns->dnssec_trusted && dns->mx_secure;
	size_t	t, i;

	plan->dnssec = mx_secure;
	if (sts != NULL && sts->mode != MX_STS_MODE_NONE) {
		plan->has_sts = true;
		plan->sts = *sts;
	} else if (sts != NULL) {
		plan->has_sts = true;	/* mode none: shown, nothing changes */
		plan->sts = *sts;
		sts = NULL;
	}
	for (t = 0; t < plan->ntiers; t++)
		for (i = 0; i < plan->tiers[t].nhosts; i++) {
			struct mx_plan_host *h = &plan->tiers[t].hosts[i];
			const struct mx_dns_addrset *s = mx_dns_result_find_set(dns, h->name);
			bool	dane = false;

			switch (p->tls_level) {
			case MX_TLS_NONE: h->tls = MX_HOST_TLS_NONE; break;
			case MX_TLS_ENCRYPT: h->tls = MX_HOST_TLS_ENCRYPT; break;
			case MX_TLS_VERIFY: h->tls = MX_HOST_TLS_VERIFY; break;
			case MX_TLS_SECURE: h->tls = MX_HOST_TLS_SECURE; break;
			default: h->tls = MX_HOST_TLS_MAY; break;
			}
			if (!h->usable && h->addrs == NULL)
				continue;	/* not a host that can be tried */
			if (p->tls_level == MX_TLS_DANE || p->tls_level == MX_TLS_DANE_ONLY)
				dane = host_dane(h, dns, s, p, mx_secure);
			if (sts == NULL)
				continue;
			h->sts_match = mx_sts_mx_matches(sts, h->name);
			if (dane)
				continue;	/* RFC 8461 2: DANE takes precedence */
			if (!h->sts_match && sts->mode == MX_STS_MODE_ENFORCE) {
				mx_notes_add(&h->notes, "not in the MTA-STS policy of %s; not used",
					     plan->domain);
				tls_block(h, "validation-failure");
				continue;
			}
			if (!h->sts_match) {
				mx_notes_add(&h->notes, "not in the MTA-STS policy of %s (testing "
					     "mode: noted, not enforced)", plan->domain);
				continue;
			}
			if (sts->mode == MX_STS_MODE_TESTING) {
				h->sts_check = true;
				continue;
			}
			if (h->tls != MX_HOST_TLS_VERIFY && h->tls != MX_HOST_TLS_SECURE) {
				h->tls = MX_HOST_TLS_MTA_STS;
				mx_notes_add(&h->notes, "MTA-STS policy of %s (enforce): TLS with a "
					     "certificate verified for %s required", plan->domain,
					     h->name);
			}
		}
}

/* What R9 found: this host among the exchanges, and what is listed before it. */
struct mx_local_hit {
	bool	found;			/* an exchange is this host */
	char	name[MX_DOMAIN_MAX + 1];	/* the first such exchange */
	uint16_t pref;			/* its preference: the cut */
	size_t	nbetter;		/* hosts listed with a better preference */
	size_t	nbetter_temp;		/* of those, unusable for a temporary reason */
};

/*
 * apply_local - R9: drop the local host and every host at its preference or
 * worse; says in *hit what was found
 */
static void
apply_local(struct mx_plan *plan, const struct mx_policy *p, const struct mx_plan_env *env,
	    struct mx_local_hit *hit)
{
	size_t	t, h;
	char	why[160];
	const char *self = NULL;
	uint16_t cut = 0;
	bool	found = false;

	for (t = 0; t < plan->ntiers && !found; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			if (host_is_local(&plan->tiers[t].hosts[h], p, env, why, sizeof(why))) {
				found = true;
				cut = plan->tiers[t].pref;
				self = plan->tiers[t].hosts[h].name;
				mx_notes_add(&plan->tiers[t].hosts[h].notes,
					     "this host is me (%s)", why);
				break;
			}
	memset(hit, 0, sizeof(*hit));
	if (!found)
		return;
	hit->found = true;
	hit->pref = cut;
	snprintf(hit->name, sizeof(hit->name), "%s", self);
	for (t = 0; t < plan->ntiers; t++) {
		if (plan->tiers[t].pref < cut) {
			for (h = 0; h < plan->tiers[t].nhosts; h++) {
				hit->nbetter++;
				if (!plan->tiers[t].hosts[h].usable &&
				    plan->tiers[t].hosts[h].why_unusable == MX_UNUSABLE_TEMP)
					hit->nbetter_temp++;
			}
			continue;
		}
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			struct mx_plan_host *host = &plan->tiers[t].hosts[h];

			size_t	a;

			if (host->name != self)
				mx_notes_add(&host->notes, "preference %u is not better than "
					     "the local host %s (%u); not tried (RFC 5321 5.1)",
					     host->pref, self, cut);
			host->usable = false;
			host->why_unusable = MX_UNUSABLE_PERM;
			for (a = 0; a < host->naddrs; a++)	/* nothing of it is tried */
				host->addrs[a].usable = false;
		}
	}
	mx_notes_add(&plan->notes, "local host %s found at preference %u; hosts at "
		     "that preference or higher are dropped", self, cut);
}

/* apply_address_limit - R10: only the first max_addresses usable addresses are tried */
static void
apply_address_limit(struct mx_plan *plan, int max)
{
	size_t	t, h, a, seen = 0;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			struct mx_plan_host *host = &plan->tiers[t].hosts[h];
			size_t	left = 0;

			if (!host->usable)
				continue;
			for (a = 0; a < host->naddrs; a++) {
				if (!host->addrs[a].usable)
					continue;
				if (seen++ < (size_t)max) {
					left++;
					continue;
				}
				host->addrs[a].usable = false;
				mx_notes_add(&host->addrs[a].notes, "not tried: max_addresses "
					     "(%d) reached", max);
			}
			if (left == 0) {
				host->usable = false;
				host->why_unusable = MX_UNUSABLE_PERM;
				mx_notes_add(&host->notes, "not tried: max_addresses (%d) "
					     "used up by better hosts", max);
			}
		}
}

/* order_tiers - R2 shuffle within each tier, usable hosts first; R8 per host */
static void
order_tiers(struct mx_plan *plan, const struct mx_policy *p, struct mx_rng *rng)
{
	size_t	t, h, k;

	for (t = 0; t < plan->ntiers; t++) {
		struct mx_plan_tier *tier = &plan->tiers[t];

		shuffle(tier->hosts, tier->nhosts, sizeof(*tier->hosts), rng);
		for (h = 0; h < tier->nhosts; h++)
			order_addresses(&tier->hosts[h], p, rng);
		/* stable: usable hosts first, in shuffled order */
		for (h = 1; h < tier->nhosts; h++)
			for (k = h; k > 0 && tier->hosts[k].usable && !tier->hosts[k - 1].usable; k--) {
				struct mx_plan_host tmp = tier->hosts[k];

				tier->hosts[k] = tier->hosts[k - 1];
				tier->hosts[k - 1] = tmp;
			}
	}
}

/* first_tls_failure - the RFC 8460 type of the first host the TLS policy ruled out */
static const char *
first_tls_failure(const struct mx_plan *plan)
{
	size_t	t, h;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			if (plan->tiers[t].hosts[h].tls_blocked)
				return plan->tiers[t].hosts[h].tls_failure;
	return "";
}

/* summarise - decide the result once hosts are known */
static void
summarise(struct mx_plan *plan, const struct mx_policy *p, const struct mx_local_hit *self)
{
	size_t	t, h, hosts = 0, temp = 0, usable = 0, tls = 0;
	size_t	addrs = mx_plan_usable_addresses(plan);
	const struct mx_plan_host *first = NULL;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			const struct mx_plan_host *host = &plan->tiers[t].hosts[h];

			hosts++;
			if (host->usable) {
				usable++;
				if (first == NULL)
					first = host;
			} else if (host->why_unusable == MX_UNUSABLE_TEMP) {
				temp++;
				if (host->tls_blocked)
					tls++;
			}
		}
	if (self->found && self->nbetter == 0) {
		/* R9: nothing is listed before this host */
		if (p->loop_action == MX_LOOP_BOUNCE)
			set_result(plan, MX_PLAN_LOOP, "5.4.6", "mail for %s loops back to myself",
				   plan->domain);
		else
			set_result(plan, MX_PLAN_LOOP, "4.4.6", "mail for %s loops back to myself",
				   plan->domain);
		return;
	}
	if (usable > 0 && addrs > 0) {
		size_t	a;

		for (a = 0; a < first->naddrs && !first->addrs[a].usable; a++)
			;
		set_result(plan, MX_PLAN_OK, NULL, "%zu tier%s, %zu host%s, %zu usable "
			   "address%s; first try %s[%s]", plan->ntiers,
			   plan->ntiers == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s",
			   addrs, addrs == 1 ? "" : "es", first->name, first->addrs[a].text);
		return;
	}
	if (self->found) {
		/*
		 * R9: this host is a backup MX and none of the better hosts is
		 * usable (NXDOMAIN, no or only ignored addresses, a failed
		 * lookup). Wait for the primary rather than bounce: Postfix's
		 * smtp_addr.c says the same with the same status.
		 */
		set_result(plan, MX_PLAN_TEMPFAIL, "4.4.4", "unable to find primary relay for %s: "
			   "this host (%s) is a backup MX at preference %u and none of the %zu "
			   "host%s with a better preference is usable%s", plan->domain,
			   self->name, self->pref, self->nbetter, self->nbetter == 1 ? "" : "s",
			   self->nbetter_temp > 0 ? " (some failed to resolve temporarily)" : "");
		return;
	}
	if (temp > 0 && tls == temp) {
		set_result(plan, MX_PLAN_TEMPFAIL, "4.7.5", "no mail host for %s meets the TLS "
			   "policy: %zu of %zu host%s ruled out (%s)", plan->domain, tls, hosts,
			   hosts == 1 ? "" : "s", first_tls_failure(plan));
		return;
	}
	if (temp > 0) {
		set_result(plan, MX_PLAN_TEMPFAIL, "4.4.3", "no mail host for %s can be "
			   "resolved now: %zu of %zu host%s failed temporarily", plan->domain,
			   temp, hosts, hosts == 1 ? "" : "s");
		return;
	}
	if (plan->implicit_mx)
		set_result(plan, MX_PLAN_NO_MAIL_HOST, "5.1.2", "%s has no MX records and no "
			   "usable address records", plan->domain);
	else
		set_result(plan, MX_PLAN_NO_MAIL_HOST, "5.4.4", "no usable mail host for %s: "
			   "none of its %zu MX host%s has a usable address", plan->domain,
			   hosts, hosts == 1 ? "" : "s");
}

/* mx_plan_build - apply R1-R10 to a lookup result */
struct mx_plan *
mx_plan_build(const struct mx_dns_result *dns, const struct mx_policy *p,
	      const struct mx_plan_env *env, struct mx_rng *rng)
{
	struct mx_plan *plan = calloc(1, sizeof(*plan));
	struct mx_exchange *ex = NULL, implicit;
	size_t	nex = 0, nnull = 0, ncapped = 0;
	struct mx_local_hit self;

	if (plan == NULL)
		return NULL;
	snprintf(plan->domain, sizeof(plan->domain), "%s", dns->domain);
	if (dns->canonical[0] != '\0')
		mx_notes_add(&plan->notes, "%s is an alias (CNAME) for %s", dns->domain,
			     dns->canonical);

	switch (dns->mx_status) {
	case MX_DNS_OK:
		break;
	case MX_DNS_NXDOMAIN:
		set_result(plan, MX_PLAN_NXDOMAIN, "5.1.2", "domain %s does not exist "
			   "(NXDOMAIN)", dns->domain);
		return plan;
	case MX_DNS_NODATA:
		/* R5: implicit MX, the domain's own addresses as preference 0 */
		memset(&implicit, 0, sizeof(implicit));
		snprintf(implicit.name, sizeof(implicit.name), "%s", dns->domain);
		plan->implicit_mx = true;
		mx_notes_add(&plan->notes, "%s has no MX records; its own address records "
			     "act as one mail host of preference 0 (implicit MX, RFC 5321 5.1)",
			     dns->domain);
		if (!build_hosts(plan, dns, &implicit, 1, p))
			goto nomem;
		apply_tls(plan, dns, p, env);
		goto order;
	default:
		/* R6: a temporary MX failure never falls back to A/AAAA */
		set_result(plan, MX_PLAN_TEMPFAIL, "4.4.3", "MX lookup for %s failed "
			   "temporarily (%s)%s%s", dns->domain, mx_dns_status_name(dns->mx_status),
			   dns->mx_detail[0] ? ": " : "", dns->mx_detail);
		return plan;
	}

	ex = mx_plan_exchanges(dns, p->max_mx_records, &nex, &nnull, &ncapped);
	if (nex == 0 && nnull > 0) {
		/* R4: null MX */
		struct mx_plan_tier *tier = add_tier(plan, dns->mx[0].pref);
		struct mx_plan_host *h;

		free(ex);
		if (tier == NULL || (tier->hosts = calloc(1, sizeof(*h))) == NULL)
			goto nomem;
		h = &tier->hosts[tier->nhosts++];
		snprintf(h->name, sizeof(h->name), ".");
		h->pref = dns->mx[0].pref;
		h->why_unusable = MX_UNUSABLE_PERM;
		mx_notes_add(&h->notes, "null MX (RFC 7505): %s accepts no mail", dns->domain);
		set_result(plan, MX_PLAN_NULL_MX, "5.1.10", "domain %s does not accept mail "
			   "(null MX, RFC 7505)", dns->domain);
		return plan;
	}
	if (nex == 0) {
		free(ex);
		set_result(plan, MX_PLAN_NO_MAIL_HOST, "5.1.2", "the MX answer for %s held no "
			   "usable records", dns->domain);
		return plan;
	}
	if (nnull > 0)
		mx_notes_add(&plan->notes, "ignored %zu null MX record%s (\".\") listed beside "
			     "other MX records: a misconfiguration (RFC 7505 3)", nnull,
			     nnull == 1 ? "" : "s");
	if (ncapped > 0 || dns->mx_answered > dns->nmx)
		mx_notes_add(&plan->notes, "the answer held %zu MX records; only the %zu with "
			     "the best preferences are used (max_mx_records = %d)",
			     dns->mx_answered > dns->nmx ? dns->mx_answered : dns->nmx,
			     nex, p->max_mx_records);
	if (!build_hosts(plan, dns, ex, nex, p))
		goto nomem;
	free(ex);
	ex = NULL;
	apply_tls(plan, dns, p, env);
order:
	apply_local(plan, p, env, &self);
	order_tiers(plan, p, rng);
	apply_address_limit(plan, p->max_addresses);
	summarise(plan, p, &self);
	return plan;
nomem:
	free(ex);
	mx_plan_free(plan);
	return NULL;
}
