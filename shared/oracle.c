/*
 * oracle - the route oracle (see oracle.h)
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "clock.h"
#include "domain.h"
#include "idn.h"
#include "journal.h"
#include "oracle.h"
#include "rng.h"
#include "routetls.h"

/* One domain's answers, kept while their TTLs last. */
struct cache_entry {
	char	domain[MX_DOMAIN_MAX + 1];
	struct mx_dns_result *dns;
	struct mx_sts_state sts;
	int64_t	expires_ms;
	uint64_t used;			/* the lookup that last used it (LRU) */
};

#define MAX_RELAYS 16
#define ORACLE_MAX_HOPS 256	/* hosts named in one answer */

struct mx_oracle {
	const struct mx_config *cfg;
	struct mx_policy policy;	/* cfg's, with no R10 address limit (the MTA has its own) */
	struct mx_resolver_opts ro;
	char	transport[64];
	int64_t	(*now_ms)(void);
	struct mx_journal *journal;	/* NULL: no backoff, no TLS memory */
	struct mx_rng rng;
	struct mx_ip *ifaddrs;
	size_t	nifaddrs;
	struct mx_oracle_relay relays[MAX_RELAYS];
	size_t	nrelays;
	struct cache_entry *cache[MX_ORACLE_CACHE_SIZE];
	size_t	ncache;
	uint64_t tick;
	unsigned long lookups, hits;
	int64_t	now;			/* the current lookup's time */
};

/* wall_now - the default clock */
static int64_t
wall_now(void)
{
	return mx_clock_wall_ms();
}

/* mx_oracle_new - an oracle for one connection */
struct mx_oracle *
mx_oracle_new(const struct mx_oracle_opts *opts, char *warning, size_t wlen)
{
	struct mx_oracle *o;
	char	err[512];
	size_t	i;

	if (warning != NULL && wlen > 0)
		warning[0] = '\0';
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->cfg = opts->cfg;
	o->policy = opts->cfg->policy;
	o->policy.max_addresses = INT_MAX;
	mx_route_resolver_opts(opts->cfg, opts->dns_servers, opts->ndns_servers, &o->ro);
	snprintf(o->transport, sizeof(o->transport), "%s", opts->transport ? opts->transport : "smtp");
	o->now_ms = opts->now_ms ? opts->now_ms : wall_now;
	if (opts->have_seed)
		mx_rng_seed(&o->rng, opts->seed);
	else
		mx_rng_seed_fresh(&o->rng);
	o->ifaddrs = mx_local_addrs(&o->nifaddrs);
	for (i = 0; i < opts->cfg->nfallback_relay && o->nrelays < MAX_RELAYS; i++) {
		struct mx_oracle_relay *r = &o->relays[o->nrelays];
		char	why[160];

		if (mx_endpoint_parse(opts->cfg->fallback_relay[i], 25, false, r->host,
				      sizeof(r->host), &r->port, why, sizeof(why)))
			o->nrelays++;
	}
	o->journal = mx_journal_open(opts->cfg->journal.path, false, err, sizeof(err));
	if (o->journal == NULL && warning != NULL)
		snprintf(warning, wlen, "%s; answering without backoff (R13) and without "
			 "remembering TLS policies", err);
	return o;
}

/* entry_free - one cache entry */
static void
entry_free(struct cache_entry *e)
{
	if (e == NULL)
		return;
	mx_dns_result_free(e->dns);
	free(e);
}

/* mx_oracle_free - free an oracle */
void
mx_oracle_free(struct mx_oracle *o)
{
	size_t	i;

	if (o == NULL)
		return;
	for (i = 0; i < o->ncache; i++)
		entry_free(o->cache[i]);
	mx_journal_close(o->journal);
	free(o->ifaddrs);
	free(o);
}

/* mx_oracle_counts - lookups answered and cache hits */
void
mx_oracle_counts(const struct mx_oracle *o, unsigned long *lookups, unsigned long *hits)
{
	*lookups = o->lookups;
	*hits = o->hits;
}

/* --- pure parts ------------------------------------------------------------ */

/* mx_oracle_order - usable hosts, those wholly in backoff last */
size_t
mx_oracle_order(const struct mx_plan *plan,
		bool (*in_backoff)(void *arg, const struct mx_plan_addr *a), void *arg,
		struct mx_oracle_hop *out, size_t max)
{
	size_t	n = 0, t, h, a, pass;

	for (pass = 0; pass < 2; pass++)
		for (t = 0; t < plan->ntiers; t++)
			for (h = 0; h < plan->tiers[t].nhosts; h++) {
				const struct mx_plan_host *host = &plan->tiers[t].hosts[h];
				size_t	usable = 0, backed = 0;

				if (!host->usable)
					continue;
				for (a = 0; a < host->naddrs; a++) {
					if (!host->addrs[a].usable)
						continue;
					usable++;
					if (in_backoff != NULL && in_backoff(arg, &host->addrs[a]))
						backed++;
				}
				if (usable == 0 || (backed == usable) != (pass == 1))
					continue;
				if (n < max) {
					out[n].host = host;
					out[n].backed_off = pass == 1;
					n++;
				}
			}
	return n;
}

/* clean_text - text for one line of a reply: control octets become spaces */
static void
clean_text(const char *in, char *out, size_t len)
{
	size_t	i;

	for (i = 0; in[i] != '\0' && i + 1 < len; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? ' ' : in[i];
	out[i] = '\0';
}

/* appendf - append to out[0..len) at *off; false when it did not fit (nothing added) */
static bool
appendf(char *out, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool
appendf(char *out, size_t len, size_t *off, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*off >= len)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(out + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off) {
		out[*off] = '\0';
		return false;
	}
	*off += (size_t)n;
	return true;
}

/* no_host_reply - an ok plan with nothing to try: temporary, say why */
static void
no_host_reply(const struct mx_plan *plan, char *out, size_t len)
{
	size_t	t, h;
	bool	tls = false;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			tls |= plan->tiers[t].hosts[h].tls_blocked;
	if (tls)
		snprintf(out, len, "TEMP 4.7.5 no mail host of %s passes the TLS policy "
			 "(mxtier-pipe --route %s says why)", plan->domain, plan->domain);
	else
		snprintf(out, len, "TEMP 4.4.4 no usable mail host for %s (mxtier-pipe --route "
			 "%s says why)", plan->domain, plan->domain);
}

/* mx_oracle_format_transport - the reply to a transport lookup */
void
mx_oracle_format_transport(const struct mx_plan *plan, const struct mx_oracle_hop *hops,
			   size_t nhops, const struct mx_oracle_relay *relays, size_t nrelays,
			   int port, const char *transport, char *out, size_t len)
{
	char	msg[600];
	const char *status = plan->status[0] != '\0' ? plan->status : "5.1.2";
	size_t	off = 0, i, n = 0;

	clean_text(plan->message, msg, sizeof(msg));
	switch (plan->result) {
	case MX_PLAN_OK:
		if (nhops + nrelays == 0) {
			no_host_reply(plan, out, len);
			return;
		}
		/* hosts in order until one does not fit: never a later one in its place */
		if (!appendf(out, len, &off, "OK %s:", transport))
			return;
		for (i = 0; i < nhops; i++, n++)
			if (!appendf(out, len, &off, "%s[%s]:%d", n > 0 ? ", " : "",
				     hops[i].host->name, port))
				return;
		for (i = 0; i < nrelays; i++, n++)
			if (!appendf(out, len, &off, "%s[%s]:%d", n > 0 ? ", " : "",
				     relays[i].host, relays[i].port))
				return;
		return;
	case MX_PLAN_LOOP:
		snprintf(out, len, "NOTFOUND ");
		return;
	case MX_PLAN_TEMPFAIL:
		snprintf(out, len, "TEMP %s %s", plan->status[0] ? plan->status : "4.4.3", msg);
		return;
	default:
		if (status[0] == '4')
			snprintf(out, len, "TEMP %s %s", status, msg);
		else
			snprintf(out, len, "OK error:%s %s", status, msg);
		return;
	}
}

/* exim_item - one host list item for Exim: colons doubled, ::port when not 25 */
static bool
exim_item(char *out, size_t len, size_t *off, bool first, const char *host, int port)
{
	char	item[MX_DOMAIN_MAX + 16], doubled[2 * (MX_DOMAIN_MAX + 16)];
	size_t	i, k = 0;

	if (strchr(host, ':') != NULL && port != 25)
		snprintf(item, sizeof(item), "[%s]:%d", host, port);
	else if (port != 25)
		snprintf(item, sizeof(item), "%s:%d", host, port);
	else
		snprintf(item, sizeof(item), "%s", host);
	for (i = 0; item[i] != '\0' && k + 2 < sizeof(doubled); i++) {
		doubled[k++] = item[i];
		if (item[i] == ':')
			doubled[k++] = ':';
	}
	doubled[k] = '\0';
	return appendf(out, len, off, "%s%s", first ? "" : ":", doubled);
}

/* mx_oracle_format_route_line - the Exim line, "" to decline */
void
mx_oracle_format_route_line(const struct mx_plan *plan, const struct mx_oracle_hop *hops,
			    size_t nhops, const struct mx_oracle_relay *relays, size_t nrelays,
			    int port, char *out, size_t len)
{
	size_t	off = 0, i, n = 0;

	if (len > 0)
		out[0] = '\0';
	if (plan->result != MX_PLAN_OK || nhops + nrelays == 0 || len < 8)
		return;
	/* hosts in order until one does not fit (room kept for " byname") */
	for (i = 0; i < nhops + nrelays; i++, n++)
		if (off + 7 >= len || !(i < nhops ?
		    exim_item(out, len - 7, &off, n == 0, hops[i].host->name, port) :
		    exim_item(out, len - 7, &off, n == 0, relays[i - nhops].host,
			      relays[i - nhops].port)))
			break;
	if (n == 0)
		out[0] = '\0';
	else
		appendf(out, len, &off, " byname");
}

/* mx_oracle_level_tls - the level's own policy entry */
void
mx_oracle_level_tls(enum mx_tls_level level, char *out, size_t len)
{
	const char *p;

	switch (level) {
	case MX_TLS_NONE: p = "none"; break;
	case MX_TLS_ENCRYPT: p = "encrypt"; break;
	case MX_TLS_VERIFY: p = "verify match=hostname"; break;
	case MX_TLS_SECURE: p = "secure match=hostname"; break;
	case MX_TLS_DANE: p = "dane"; break;
	case MX_TLS_DANE_ONLY: p = "dane-only"; break;
	default: p = "may"; break;
	}
	snprintf(out, len, "%s", p);
}

/* mx_oracle_host_tls - the policy entry of one host, and its rank */
int
mx_oracle_host_tls(const struct mx_plan *plan, const struct mx_plan_host *host,
		   enum mx_tls_level level, char *out, size_t len)
{
	if (host->sts_check) {
		snprintf(out, len, "may");	/* MTA-STS testing: reported, never enforced */
		return 1;
	}
	switch (host->tls) {
	case MX_HOST_TLS_NONE:
		snprintf(out, len, "none");
		return 0;
	case MX_HOST_TLS_ENCRYPT:
		snprintf(out, len, "encrypt");
		return 2;
	case MX_HOST_TLS_DANE:
		snprintf(out, len, "%s", level == MX_TLS_DANE_ONLY ? "dane-only" : "dane");
		return level == MX_TLS_DANE_ONLY ? 6 : 3;
	case MX_HOST_TLS_VERIFY:
		snprintf(out, len, "verify match=%s", host->name);
		return 4;
	case MX_HOST_TLS_SECURE:
		snprintf(out, len, "secure match=%s:%s:.%s", host->name, plan->domain, plan->domain);
		return 5;
	case MX_HOST_TLS_MTA_STS:
		snprintf(out, len, "secure match=%s", host->name);
		return 5;
	default:
		snprintf(out, len, "may");
		return 1;
	}
}

/* --- lookups ------------------------------------------------------------------- */

/*
 * backoff_cb - R13 for mx_oracle_order: the address waits for its retry
 * time, this node's own or (policy.fleet_backoff) one another node saw
 */
static bool
backoff_cb(void *arg, const struct mx_plan_addr *a)
{
	struct mx_oracle *o = arg;
	struct mx_backoff b;

	return o->journal != NULL && mx_journal_backoff_at(o->journal, a->text, o->cfg->smtp.port,
							   o->now, o->cfg->fleet_backoff, &b);
}

/* lowest_ttl - the lifetime of a lookup: its lowest record TTL, in ms, at most the cap */
static int64_t
lowest_ttl(const struct mx_dns_result *dns)
{
	int64_t	ttl = MX_ORACLE_CACHE_MAX_S;
	size_t	s, a;

	if (dns->nmx > 0 && dns->mx_ttl < ttl)
		ttl = dns->mx_ttl;
	for (s = 0; s < dns->nsets; s++)
		for (a = 0; a < dns->sets[s].naddrs; a++)
			if (dns->sets[s].addrs[a].ttl < ttl)
				ttl = dns->sets[s].addrs[a].ttl;
	return ttl * 1000;
}

/* cache_find - the live entry for domain, or NULL (an expired one is dropped) */
static struct cache_entry *
cache_find(struct mx_oracle *o, const char *domain)
{
	size_t	i;

	for (i = 0; i < o->ncache; i++) {
		struct cache_entry *e = o->cache[i];

		if (strcmp(e->domain, domain) != 0)
			continue;
		if (e->expires_ms > o->now)
			return e;
		entry_free(e);
		o->cache[i] = o->cache[--o->ncache];
		return NULL;
	}
	return NULL;
}

/* cache_put - keep e (evicting the least recently used when full); false: caller frees */
static bool
cache_put(struct mx_oracle *o, struct cache_entry *e)
{
	size_t	i, lru = 0;

	if (o->ncache < MX_ORACLE_CACHE_SIZE) {
		o->cache[o->ncache++] = e;
		return true;
	}
	for (i = 1; i < o->ncache; i++)
		if (o->cache[i]->used < o->cache[lru]->used)
			lru = i;
	entry_free(o->cache[lru]);
	o->cache[lru] = e;
	return true;
}

/* build_plan - the plan of an entry's answers, with a fresh shuffle */
static struct mx_plan *
build_plan(struct mx_oracle *o, const struct cache_entry *e)
{
	struct mx_plan_env env;
	struct mx_plan *plan;

	memset(&env, 0, sizeof(env));
	env.local_ifaddrs = o->ifaddrs;
	env.nlocal_ifaddrs = o->nifaddrs;
	mx_route_sts_env(&e->sts, &env);
	plan = mx_plan_build(e->dns, &o->policy, &env, &o->rng);
	if (plan != NULL)
		mx_route_sts_note(plan, &e->sts);
	return plan;
}

/* remember_tls - the TLS policy of each host an answer names, for the tls lookups */
static void
remember_tls(struct mx_oracle *o, const struct mx_plan *plan, const struct mx_oracle_hop *hops,
	     size_t n)
{
	char	policy[600];
	size_t	i;
	int	rank;

	if (o->journal == NULL)
		return;
	if (!mx_journal_begin(o->journal))
		return;
	for (i = 0; i < n; i++) {
		rank = mx_oracle_host_tls(plan, hops[i].host, o->policy.tls_level, policy,
					  sizeof(policy));
		(void)mx_journal_put_route_tls(o->journal, hops[i].host->name, o->cfg->smtp.port,
					       policy, rank, plan->domain, o->now,
					       o->now + (int64_t)MX_ORACLE_TLS_KEEP_S * 1000);
	}
	if (!mx_journal_commit(o->journal))
		mx_journal_rollback(o->journal);
}

/*
 * plan_for - the plan of domain from the cache or a fresh lookup; NULL with
 * err on a local failure. *fresh says the answers were looked up now.
 */
static struct mx_plan *
plan_for(struct mx_oracle *o, const char *domain, bool *fresh, char *err, size_t errlen)
{
	struct cache_entry *e;
	struct mx_plan *plan;
	int64_t	ttl;

	o->lookups++;
	*fresh = false;
	if ((e = cache_find(o, domain)) != NULL) {
		o->hits++;
		e->used = ++o->tick;
		return build_plan(o, e);
	}
	if (!mx_resolver_library_init(err, errlen))
		return NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	if ((e->dns = mx_resolve(&o->ro, domain, err, errlen)) == NULL) {
		free(e);
		return NULL;
	}
	mx_route_sts(o->cfg, o->journal, &o->ro, e->dns, o->now, true, &e->sts);
	*fresh = true;
	plan = build_plan(o, e);
	if (plan == NULL)
		snprintf(err, errlen, "out of memory");
	ttl = lowest_ttl(e->dns);
	e->expires_ms = o->now + ttl;
	e->used = ++o->tick;
	/* only answers that will not change until their TTL: never failures or NXDOMAIN */
	if (plan != NULL && ttl > 0 && (plan->result == MX_PLAN_OK || plan->result == MX_PLAN_NULL_MX)
	    && cache_put(o, e))
		return plan;
	entry_free(e);
	return plan;
}

/* key_domain - the domain of a transport key (address or domain), or false for NOTFOUND */
static bool
key_domain(const char *key, char *domain, size_t len)
{
	const char *at = strrchr(key, '@');
	const char *d = at != NULL ? at + 1 : key;
	char	why[200];

	if (*d == '\0' || *d == '[' || strcmp(key, "*") == 0)
		return false;
	if (at == NULL && strchr(d, '.') == NULL)
		return false;		/* a bare local part ("root") or a pattern */
	return mx_idn_domain(d, domain, len, why, sizeof(why)) == MX_IDN_OK;
}

/* is_local_name - policy.local_names: this host's names, routed by the MTA itself */
static bool
is_local_name(const struct mx_oracle *o, const char *domain)
{
	size_t	i;

	for (i = 0; i < o->policy.nlocal_names; i++)
		if (strcasecmp(o->policy.local_names[i], domain) == 0)
			return true;
	return false;
}

/* lookup - plan and order for a key; false with reply filled when there is nothing to order */
static struct mx_plan *
lookup(struct mx_oracle *o, const char *key, struct mx_oracle_hop *hops, size_t *nhops,
       char *reply, size_t replylen)
{
	char	domain[MX_DOMAIN_MAX + 1], err[512];
	struct mx_plan *plan;
	bool	fresh;

	*nhops = 0;
	o->now = o->now_ms();
	if (!key_domain(key, domain, sizeof(domain)) || is_local_name(o, domain)) {
		snprintf(reply, replylen, "NOTFOUND ");
		return NULL;
	}
	if ((plan = plan_for(o, domain, &fresh, err, sizeof(err))) == NULL) {
		char	clean[512];

		clean_text(err, clean, sizeof(clean));
		snprintf(reply, replylen, "TEMP 4.3.0 cannot look up %s: %s", domain, clean);
		return NULL;
	}
	if (plan->result == MX_PLAN_OK) {
		*nhops = mx_oracle_order(plan, backoff_cb, o, hops, ORACLE_MAX_HOPS);
		if (fresh)
			remember_tls(o, plan, hops, *nhops);
	}
	return plan;
}

/* transport_reply - a transport lookup */
static void
transport_reply(struct mx_oracle *o, const char *key, char *reply, size_t replylen)
{
	struct mx_oracle_hop hops[ORACLE_MAX_HOPS];
	struct mx_plan *plan;
	size_t	n;

	if ((plan = lookup(o, key, hops, &n, reply, replylen)) == NULL)
		return;
	mx_oracle_format_transport(plan, hops, n, o->relays, o->nrelays, o->cfg->smtp.port,
				   o->transport, reply, replylen);
	mx_plan_free(plan);
}

/* tls_key - host and port of "[HOST]:PORT", "[HOST]", "HOST:PORT" or "HOST" */
static bool
tls_key(const char *key, int default_port, char *host, size_t len, int *port)
{
	const char *end, *colon;
	char   *stop;
	long	p;

	if (key[0] == '[') {
		if ((end = strchr(key, ']')) == NULL)
			return false;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return false;
		key++;
	} else {
		colon = strchr(key, ':');
		end = colon != NULL ? colon : key + strlen(key);
	}
	if (end == key || (size_t)(end - key) >= len)
		return false;
	memcpy(host, key, (size_t)(end - key));
	host[end - key] = '\0';
	*port = default_port;
	if (colon != NULL) {
		p = strtol(colon + 1, &stop, 10);
		if (colon[1] < '0' || colon[1] > '9' || *stop != '\0' || p < 1 || p > 65535)
			return false;
		*port = (int)p;
	}
	return true;
}

/* tls_reply - a tls lookup of "[HOST]:PORT", "[HOST]", "HOST:PORT" or "HOST" */
static void
tls_reply(struct mx_oracle *o, const char *key, char *reply, size_t replylen)
{
	char	host[MX_DOMAIN_MAX + 1], norm[MX_DOMAIN_MAX + 1], why[160], policy[600];
	struct mx_ip ip;
	int	port;

	o->now = o->now_ms();
	if (!tls_key(key, o->cfg->smtp.port, host, sizeof(host), &port)) {
		snprintf(reply, replylen, "NOTFOUND ");
		return;
	}
	if (mx_ip_parse(host, &ip)) {
		/* an address relay: no answer names it by address; the level's entry */
		mx_oracle_level_tls(o->policy.tls_level, policy, sizeof(policy));
	} else if (!mx_domain_normalise(host, norm, sizeof(norm), why, sizeof(why))) {
		snprintf(reply, replylen, "NOTFOUND ");
		return;
	} else if (!mx_journal_get_route_tls(o->journal, norm, port, o->now, policy,
					     sizeof(policy)))
		mx_oracle_level_tls(o->policy.tls_level, policy, sizeof(policy));
	snprintf(reply, replylen, "OK %s", policy);
}

/* mx_oracle_socketmap - one socketmap request */
void
mx_oracle_socketmap(struct mx_oracle *o, const char *req, size_t len, char *reply,
		    size_t replylen)
{
	char	name[32], key[1024];
	const char *sp = memchr(req, ' ', len);
	size_t	nlen, klen;

	if (sp == NULL || sp == req) {
		snprintf(reply, replylen, "PERM expected \"NAME KEY\" (socketmap_table(5))");
		return;
	}
	nlen = (size_t)(sp - req);
	klen = len - nlen - 1;
	if (nlen >= sizeof(name) || klen >= sizeof(key) || klen == 0 ||
	    memchr(req, '\0', len) != NULL) {
		snprintf(reply, replylen, "PERM bad request: %s", klen == 0 ? "empty key" :
			 memchr(req, '\0', len) != NULL ? "NUL octet" : "name or key too long");
		return;
	}
	memcpy(name, req, nlen);
	name[nlen] = '\0';
	memcpy(key, sp + 1, klen);
	key[klen] = '\0';
	if (strcmp(name, "transport") == 0)
		transport_reply(o, key, reply, replylen);
	else if (strcmp(name, "tls") == 0)
		tls_reply(o, key, reply, replylen);
	else
		snprintf(reply, replylen, "PERM unknown map \"%.31s\": mxtier answers transport "
			 "and tls", name);
}

/* mx_oracle_route_line - one Exim lookup */
void
mx_oracle_route_line(struct mx_oracle *o, const char *domain, size_t len, char *line,
		     size_t linelen)
{
	struct mx_oracle_hop hops[ORACLE_MAX_HOPS];
	char	key[1024], reply[512];
	struct mx_plan *plan;
	size_t	n;

	line[0] = '\0';
	if (len == 0 || len >= sizeof(key) || memchr(domain, '\0', len) != NULL)
		return;
	memcpy(key, domain, len);
	key[len] = '\0';
	if ((plan = lookup(o, key, hops, &n, reply, sizeof(reply))) == NULL)
		return;
	mx_oracle_format_route_line(plan, hops, n, o->relays, o->nrelays, o->cfg->smtp.port,
				    line, linelen);
	mx_plan_free(plan);
}
