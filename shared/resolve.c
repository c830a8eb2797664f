/*
 * resolve - MX and address lookups with c-ares from a poll() loop (see resolve.h)
 *
 * Two kinds of c-ares channel: over UDP, handing truncated answers back to
 * us (ARES_FLAG_IGNTC), and over TCP for the retry of those, so a truncated
 * answer whose TCP retry fails is told apart from other failures.
 *
 * Server failover. c-ares moves on to the next server after a timeout or a
 * connection error by itself. After a SERVFAIL, REFUSED or NOTIMP answer it
 * would too, but then, when every server failed, c-ares 1.18 reports
 * "connection refused" (or asks a lone server again, tries times), hiding
 * what the servers said; so the channels are made with NOCHECKRESP and the
 * answer comes to us. We follow the next server ourselves, as glibc's stub
 * resolver (Postfix) does: channel k of a kind holds servers k, k+1, ..., so
 * the same query sent on channel k+1 starts at the next server and keeps
 * c-ares' own failover behind it. Channel 0 over UDP is made at the start,
 * every other one when a query first needs it: a healthy first server costs
 * no extra round trip and no extra channel. (Should the answer on channel k
 * come from a later server, after a timeout, channel k+1 asks that server
 * once more: rare, bounded by the number of servers.)
 *
 * Every query carries a struct query naming what it is for; its callback
 * classifies the answer and may start follow-up queries (addresses after
 * the MX answer, the target of an alias, the next server, TCP).
 *
 * DNSSEC (R16). ares_query cannot set the AD bit, so every query is built
 * here (ares_create_query, AD set as RFC 6840 5.7 allows, a random ID of our
 * own, unique within the lookup) and sent with ares_send; got_answer turns
 * the rcode into the status ares_query would have given. The AD bit of an
 * answer counts only when every server in use is trusted (loopback, or
 * listed in opts->trusted), and a name's answer is secure only when every
 * alias step that led to it was too (struct query's ad).
 */
#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "clock.h"
#include "dnsmsg.h"
#include "plan.h"
#include "resolve.h"
#include "rng.h"

enum phase { PHASE_MX, PHASE_ADDR, PHASE_DONE };

struct mx_lookup {
	ares_channel *udp;		/* [k]: servers k..nchan-1 over UDP; NULL until used */
	ares_channel *tcp;		/* [k]: the same over TCP */
	int	nchan;			/* number of servers, at least 1 */
	struct ares_addr_port_node *servers;	/* the servers of udp[0], for the others */
	struct mx_dns_result *result;
	struct mx_resolver_opts opts;
	enum phase phase;
	long long deadline_ms;		/* end of the current phase */
	int	pending;		/* queries without an outcome */
	bool	expired;		/* deadline passed: cancel, start nothing new */
	int	fd_owner[MX_LOOKUP_MAXFDS];	/* 2k udp[k], 2k+1 tcp[k], per pollfd slot */
	int	nfd;
	unsigned char ids_used[65536 / 8];	/* query IDs in flight, one bit each */
	uint16_t idpool[32];		/* random IDs from getrandom(), used from the end */
	int	nidpool;
	struct mx_rng rng;		/* only when getrandom() fails */
};

/* What a query is for. */
struct query {
	struct mx_lookup *l;
	int	qtype;
	char	set[MX_DOMAIN_MAX + 1];		/* address set (A/AAAA) */
	char	asked[MX_DOMAIN_MAX + 1];	/* name in this query */
	int	hops;				/* aliases followed so far */
	bool	over_tcp;
	int	server;				/* sent on channel [server] */
	int	said_status;			/* last SERVFAIL/REFUSED/NOTIMP before, or 0 */
	char	said[64];			/* what the servers before said, in order */
	char	words[200];			/* the words of a failure that names them */
	bool	ad;				/* every alias step before had AD */
	uint16_t id;				/* DNS ID of the message in flight */
	bool	has_id;
};

static void query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen);
static void got_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen);
static bool make_channel(const struct mx_resolver_opts *o, bool tcp,
			 struct ares_addr_port_node *servers, ares_channel *ch,
			 char *err, size_t errlen);
static ares_channel channel(struct mx_lookup *l, bool tcp, int k);

/* mx_resolver_opts_from_config - options from the config and --dns-server */
void
mx_resolver_opts_from_config(const struct mx_config *cfg, char *const *override,
			     size_t noverride, struct mx_resolver_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (noverride > 0) {
		o->servers = override;
		o->nservers = noverride;
	} else {
		o->servers = cfg->resolver.servers;
		o->nservers = cfg->resolver.nservers;
	}
	o->timeout_ms = cfg->resolver.timeout * 1000;
	o->tries = cfg->resolver.tries;
	o->max_mx_records = cfg->policy.max_mx_records;
	o->trusted = cfg->resolver.trusted;
	o->ntrusted = cfg->resolver.ntrusted;
	o->tlsa_port = (cfg->smtp.tls_level == MX_TLS_DANE ||
			cfg->smtp.tls_level == MX_TLS_DANE_ONLY) ? cfg->smtp.port : 0;
	o->mta_sts = cfg->tls.mta_sts;
}

/* mx_resolver_server_trusted - may the AD bit of server (as in opts->servers) count */
bool
mx_resolver_server_trusted(const char *server, char *const *trusted, size_t ntrusted)
{
	char	host[MX_IP_TEXT_MAX], why[80];
	struct mx_ip ip, v4, t, t4;
	int	port, tport;
	size_t	i;

	if (!mx_endpoint_parse(server, 53, true, host, sizeof(host), &port, why, sizeof(why)) ||
	    !mx_ip_parse(host, &ip))
		return false;
	mx_ip_unmap(&ip, &v4);
	if ((v4.family == AF_INET && v4.bytes[0] == 127) ||
	    (ip.family == AF_INET6 && memcmp(ip.bytes, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1",
					     16) == 0))
		return true;
	for (i = 0; i < ntrusted; i++) {
		if (trusted[i] == NULL ||
		    !mx_endpoint_parse(trusted[i], 0, true, host, sizeof(host), &tport, why,
				       sizeof(why)) || !mx_ip_parse(host, &t))
			continue;
		mx_ip_unmap(&t, &t4);
		if (mx_ip_equal(&t4, &v4) && (tport == 0 || tport == port))
			return true;
	}
	return false;
}

/* servers_trusted - is every server of the lookup trusted (none known: no) */
static bool
servers_trusted(const struct mx_lookup *l)
{
	const struct ares_addr_port_node *n;

	if (l->servers == NULL)
		return false;
	for (n = l->servers; n != NULL; n = n->next) {
		char	addr[MX_IP_TEXT_MAX], text[MX_IP_TEXT_MAX + 10];

		if (inet_ntop(n->family, &n->addr, addr, sizeof(addr)) == NULL)
			return false;
		/* port 0: c-ares' default, 53 */
		snprintf(text, sizeof(text), n->family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr,
			 n->udp_port > 0 ? n->udp_port : 53);
		if (!mx_resolver_server_trusted(text, l->opts.trusted, l->opts.ntrusted))
			return false;
	}
	return true;
}

/* mx_resolver_library_init - once per process */
bool
mx_resolver_library_init(char *err, size_t errlen)
{
	int	rc = ares_library_init(ARES_LIB_INIT_ALL);

	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return false;
	}
	return true;
}

/* phase_budget_ms - how long one phase may take */
static long long
phase_budget_ms(const struct mx_lookup *l)
{
	return (long long)l->opts.timeout_ms * l->opts.tries;
}

/* random_id - a fresh random DNS ID */
static uint16_t
random_id(struct mx_lookup *l)
{
	if (l->nidpool == 0) {
		if (getrandom(l->idpool, sizeof(l->idpool), GRND_NONBLOCK) ==
		    (ssize_t)sizeof(l->idpool))
			l->nidpool = (int)(sizeof(l->idpool) / sizeof(l->idpool[0]));
		else
			return (uint16_t)mx_rng_next(&l->rng);
	}
	return l->idpool[--l->nidpool];
}

/* take_id - an ID no other query of this lookup has in flight; marks it used */
static uint16_t
take_id(struct mx_lookup *l)
{
	uint16_t id;

	do
		id = random_id(l);
	while (l->ids_used[id >> 3] & (1u << (id & 7)));
	l->ids_used[id >> 3] |= (unsigned char)(1u << (id & 7));
	return id;
}

/* release_id - the query's ID is free again */
static void
release_id(struct mx_lookup *l, struct query *q)
{
	if (q->has_id)
		l->ids_used[q->id >> 3] &= (unsigned char)~(1u << (q->id & 7));
	q->has_id = false;
}

/*
 * resend - send q (again) on channel [server] of its kind, with the AD bit
 * set; it ends in got_answer, then query_done
 */
static void
resend(struct mx_lookup *l, struct query *q)
{
	ares_channel ch = channel(l, q->over_tcp, q->server);
	unsigned char *msg = NULL;
	int	len = 0, rc;

	if (ch == NULL) {
		query_done(q, ARES_ENOMEM, 0, NULL, 0);
		return;
	}
	q->id = take_id(l);
	q->has_id = true;
	/* as ares_query does: recursion desired, no EDNS (the channels set none) */
	rc = ares_create_query(q->asked, C_IN, q->qtype, q->id, 1, &msg, &len, 0);
	if (rc != ARES_SUCCESS || msg == NULL || len < 12) {
		if (msg != NULL)
			ares_free_string(msg);
		release_id(l, q);
		query_done(q, rc != ARES_SUCCESS ? rc : ARES_EBADQUERY, 0, NULL, 0);
		return;
	}
	msg[3] |= 0x20;		/* AD: tell us whether the answer was validated */
	ares_send(ch, msg, len, got_answer, q);
	ares_free_string(msg);
}

/*
 * got_answer - ares_send's callback: the rcode as ares_query's callback
 * turns it into a status (c-ares 1.18 qcallback), then query_done
 */
static void
got_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;

	if (q != NULL)
		release_id(q->l, q);
	if (status == ARES_SUCCESS && abuf != NULL && alen >= 12) {
		switch (abuf[3] & 0x0f) {
		case 0:	/* NOERROR */
			status = (abuf[6] << 8 | abuf[7]) > 0 ? ARES_SUCCESS : ARES_ENODATA;
			break;
		case 1: status = ARES_EFORMERR; break;
		case 2: status = ARES_ESERVFAIL; break;
		case 3: status = ARES_ENOTFOUND; break;
		case 4: status = ARES_ENOTIMP; break;
		case 5: status = ARES_EREFUSED; break;
		default: break;	/* as c-ares: other rcodes stay ARES_SUCCESS */
		}
	} else if (status == ARES_SUCCESS) {
		status = ARES_EBADRESP;
	}
	query_done(q, status, timeouts, abuf, alen);
}

/*
 * send_query - start one query at the first server; it always ends in
 * query_done. ad: every alias step that led to name had AD.
 */
static void
send_query(struct mx_lookup *l, int qtype, const char *name, const char *set,
	   int hops, bool ad)
{
	struct query *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		/* record the failure where the answer would have gone */
		query_done(NULL, ARES_ENOMEM, 0, NULL, 0);
		return;
	}
	q->l = l;
	q->qtype = qtype;
	q->hops = hops;
	q->ad = ad;
	snprintf(q->asked, sizeof(q->asked), "%s", name);
	snprintf(q->set, sizeof(q->set), "%s", set ? set : "");
	l->pending++;
	resend(l, q);
}

/* classify - c-ares status to our status, with words for the detail */
static enum mx_dns_status
classify(int status, const char **words)
{
	switch (status) {
	case ARES_SUCCESS: *words = ""; return MX_DNS_OK;
	case ARES_ENODATA: *words = ""; return MX_DNS_NODATA;
	case ARES_ENOTFOUND: *words = ""; return MX_DNS_NXDOMAIN;
	case ARES_ESERVFAIL: *words = "the name server answered SERVFAIL"; return MX_DNS_SERVFAIL;
	case ARES_EREFUSED: *words = "the name server answered REFUSED"; return MX_DNS_REFUSED;
	case ARES_ETIMEOUT:
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: *words = "no answer from the name server"; return MX_DNS_TIMEOUT;
	case ARES_EBADRESP: *words = "malformed answer"; return MX_DNS_MALFORMED;
	case ARES_EFORMERR: *words = "the name server answered FORMERR"; return MX_DNS_FAIL;
	case ARES_ENOTIMP: *words = "the name server answered NOTIMP"; return MX_DNS_FAIL;
	case ARES_ECONNREFUSED: *words = "connection to the name server refused"; return MX_DNS_FAIL;
	case ARES_ENOMEM: *words = "out of memory"; return MX_DNS_FAIL;
	default: *words = ares_strerror(status); return MX_DNS_FAIL;
	}
}

/* rcode_said - the name of a failure rcode worth asking the next server about, or NULL */
static const char *
rcode_said(int status)
{
	switch (status) {
	case ARES_ESERVFAIL: return "SERVFAIL";
	case ARES_EREFUSED: return "REFUSED";
	case ARES_ENOTIMP: return "NOTIMP";
	default: return NULL;
	}
}

/* is_answer - did a server answer (rather than time out, refuse a connection, ...) */
static bool
is_answer(int status)
{
	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	case ARES_EFORMERR:
	case ARES_EBADRESP:
		return true;
	default:
		return false;
	}
}

/*
 * next_server - after a SERVFAIL, REFUSED or NOTIMP answer, ask the next
 * server; true when q went there (and is no longer the caller's)
 */
static bool
next_server(struct mx_lookup *l, struct query *q, int status)
{
	const char *rc = rcode_said(status);
	size_t	used = strlen(q->said);

	if (rc == NULL || q->server + 1 >= l->nchan || l->expired)
		return false;
	if (used + strlen(rc) + 3 < sizeof(q->said))
		snprintf(q->said + used, sizeof(q->said) - used, "%s%s", used ? ", " : "", rc);
	q->said_status = status;
	q->server++;
	resend(l, q);
	return true;
}

/*
 * said_first - when servers before the last one failed: the status and words
 * that say so. An answer of the last server stands, with the earlier rcodes
 * named if it is a failure too; a non-answer (timeout, connection refused)
 * gives way to what an earlier server said. True when q->words (and maybe
 * *status) now say so.
 */
static bool
said_first(struct query *q, int *status, const char *words)
{
	const char *rc = rcode_said(*status);

	if (q->said[0] == '\0' || (is_answer(*status) && rc == NULL))
		return false;
	if (rc != NULL) {
		snprintf(q->words, sizeof(q->words), "the name servers answered %s, %s",
			 q->said, rc);
	} else {
		snprintf(q->words, sizeof(q->words), "the name servers answered %s, then: %s",
			 q->said, words);
		*status = q->said_status;
	}
	return true;
}

/* set_detail - keep the first words about a failure */
static void
set_detail(char *detail, size_t len, const char *what, const char *words)
{
	if (detail[0] == '\0' && words != NULL && words[0] != '\0' &&
	    snprintf(detail, len, "%s%s%s", what, what[0] ? ": " : "", words) >= (int)len)
		detail[len - 2] = '.';	/* cut: mark it */
}

/* sort_families - A records first, then AAAA, each keeping DNS order */
static void
sort_families(struct mx_dns_addrset *s)
{
	size_t	i, k;

	for (i = 1; i < s->naddrs; i++)
		for (k = i; k > 0 && s->addrs[k].ip.family == AF_INET &&
		     s->addrs[k - 1].ip.family != AF_INET; k--) {
			struct mx_dns_addr tmp = s->addrs[k];

			s->addrs[k] = s->addrs[k - 1];
			s->addrs[k - 1] = tmp;
		}
}

/*
 * start_host - A and AAAA of one name and, when the MX answer was secure
 * and DANE asked for, its TLSA records (R16), all at once
 */
static void
start_host(struct mx_lookup *l, const char *name)
{
	struct mx_dns_result *r = l->result;
	struct mx_dns_addrset *s = mx_dns_result_set(r, name);
	char	tlsa[MX_DOMAIN_MAX + 2];

	if (s == NULL)
		return;
	send_query(l, MX_DNS_T_A, name, name, 0, true);
	send_query(l, MX_DNS_T_AAAA, name, name, 0, true);
	if (l->opts.tlsa_port <= 0 || l->opts.tlsa_port > 65535 || !r->mx_secure)
		return;
	if (snprintf(tlsa, sizeof(tlsa), "_%d._tcp.%s", l->opts.tlsa_port, name) >
	    MX_DOMAIN_MAX) {
		s->tlsa_status = MX_DNS_FAIL;
		set_detail(s->tlsa_detail, sizeof(s->tlsa_detail), "TLSA",
			   "the TLSA name would be longer than 253 octets");
		return;
	}
	send_query(l, MX_DNS_T_TLSA, tlsa, name, 0, true);
}

/* start_addresses - phase 2: A and AAAA for every exchange (or the domain), all at once */
static void
start_addresses(struct mx_lookup *l, bool implicit)
{
	struct mx_dns_result *r = l->result;
	struct mx_exchange *ex = NULL;
	size_t	n = 0, nnull, ncapped, i;

	l->phase = PHASE_ADDR;
	l->deadline_ms = mx_clock_mono_ms() + phase_budget_ms(l);
	if (implicit) {
		start_host(l, r->domain);
		return;
	}
	ex = mx_plan_exchanges(r, l->opts.max_mx_records, &n, &nnull, &ncapped);
	for (i = 0; i < n; i++) {
		char	norm[MX_DOMAIN_MAX + 1], why[160];

		if (mx_domain_is_ip_literal(ex[i].name) ||
		    !mx_domain_normalise(ex[i].name, norm, sizeof(norm), why, sizeof(why)))
			continue;	/* not a host name; the plan says so */
		if (mx_dns_result_find_set(r, ex[i].name) == NULL)
			start_host(l, ex[i].name);
	}
	free(ex);
}

/*
 * answer_secure - does this answer count as secure: a trusted server set AD
 * on it and on every alias step before it, and it is an answer (records,
 * NODATA or NXDOMAIN), not a failure
 */
static bool
answer_secure(const struct query *q, enum mx_dns_status st, bool ad)
{
	return q->l->result->dnssec_trusted && q->ad && ad &&
	    (st == MX_DNS_OK || st == MX_DNS_NODATA || st == MX_DNS_NXDOMAIN);
}

/* handle_mx - the MX answer (or an alias of the domain) arrived */
static void
handle_mx(struct query *q, enum mx_dns_status st, const char *words,
	  const struct mx_dnsmsg_answer *a, bool ad)
{
	struct mx_lookup *l = q->l;
	struct mx_dns_result *r = l->result;
	size_t	i;

	if (st == MX_DNS_OK && a->alias_only) {
		if (a->hops + q->hops > MX_DNS_MAX_CNAME_HOPS || l->expired) {
			r->mx_status = l->expired ? MX_DNS_TIMEOUT : MX_DNS_CNAME_LOOP;
			r->canonical[0] = '\0';
			snprintf(r->mx_detail, sizeof(r->mx_detail), "alias chain too long or "
				 "looping");
			return;
		}
		snprintf(r->canonical, sizeof(r->canonical), "%s", a->owner);
		send_query(l, MX_DNS_T_MX, a->owner, NULL, q->hops + a->hops, q->ad && ad);
		return;
	}
	if (st == MX_DNS_OK && a->hops + q->hops > 0)
		snprintf(r->canonical, sizeof(r->canonical), "%s", a->owner);
	if (st == MX_DNS_OK) {
		for (i = 0; i < a->nmx; i++)
			if (!mx_dns_result_add_mx(r, a->mx[i].pref, a->mx[i].name)) {
				st = MX_DNS_FAIL;
				words = "out of memory";
				break;
			}
		r->mx_answered = a->nmx;
		for (i = 0; i < a->nmx; i++)
			if (i == 0 || a->mx[i].ttl < r->mx_ttl)
				r->mx_ttl = a->mx[i].ttl;
		if (a->nmx == 0 && st == MX_DNS_OK) {
			st = MX_DNS_MALFORMED;
			words = "the answer held no MX record for the name asked";
		}
	}
	r->mx_status = st;
	r->mx_secure = answer_secure(q, st, ad);
	set_detail(r->mx_detail, sizeof(r->mx_detail), "", words);
	if (st == MX_DNS_OK)
		start_addresses(l, false);
	else if (st == MX_DNS_NODATA)
		start_addresses(l, true);	/* R5 implicit MX */
}

/* handle_addr - an A or AAAA answer for an address set arrived */
static void
handle_addr(struct query *q, enum mx_dns_status st, const char *words,
	    const struct mx_dnsmsg_answer *a, bool ad)
{
	struct mx_lookup *l = q->l;
	struct mx_dns_addrset *s = mx_dns_result_find_set(l->result, q->set);
	enum mx_dns_status *slot;
	size_t	i;

	if (s == NULL)
		return;
	slot = q->qtype == MX_DNS_T_A ? &s->a_status : &s->aaaa_status;
	if (st == MX_DNS_OK && a->alias_only) {
		snprintf(s->canonical, sizeof(s->canonical), "%s", a->owner);
		if (a->hops + q->hops > MX_DNS_MAX_CNAME_HOPS) {
			s->canonical[0] = '\0';
			*slot = MX_DNS_CNAME_LOOP;
			set_detail(s->detail, sizeof(s->detail), q->qtype == MX_DNS_T_A ? "A" :
				   "AAAA", "alias chain too long or looping");
			return;
		}
		if (l->expired) {
			*slot = MX_DNS_TIMEOUT;
			return;
		}
		send_query(l, q->qtype, a->owner, q->set, q->hops + a->hops, q->ad && ad);
		return;
	}
	if (st == MX_DNS_OK && a->hops + q->hops > 0)
		snprintf(s->canonical, sizeof(s->canonical), "%s", a->owner);
	if (st == MX_DNS_OK) {
		for (i = 0; i < a->naddrs; i++)
			if (!mx_dns_addrset_add(s, &a->addrs[i].ip, a->addrs[i].ttl)) {
				st = MX_DNS_FAIL;
				words = "out of memory";
				break;
			}
		if (a->naddrs == 0 && st == MX_DNS_OK)
			st = MX_DNS_NODATA;	/* e.g. only other types in the answer */
	}
	*slot = st;
	*(q->qtype == MX_DNS_T_A ? &s->a_secure : &s->aaaa_secure) = answer_secure(q, st, ad);
	set_detail(s->detail, sizeof(s->detail), q->qtype == MX_DNS_T_A ? "A" : "AAAA", words);
	sort_families(s);
}

/* handle_tlsa - the TLSA answer for an address set's name arrived (R16) */
static void
handle_tlsa(struct query *q, enum mx_dns_status st, const char *words,
	    const struct mx_dnsmsg_answer *a, bool ad)
{
	struct mx_lookup *l = q->l;
	struct mx_dns_addrset *s = mx_dns_result_find_set(l->result, q->set);
	size_t	i;

	if (s == NULL)
		return;
	if (st == MX_DNS_OK && a->alias_only) {
		if (a->hops + q->hops > MX_DNS_MAX_CNAME_HOPS) {
			s->tlsa_status = MX_DNS_CNAME_LOOP;
			set_detail(s->tlsa_detail, sizeof(s->tlsa_detail), "TLSA",
				   "alias chain too long or looping");
			return;
		}
		if (l->expired) {
			s->tlsa_status = MX_DNS_TIMEOUT;
			return;
		}
		send_query(l, MX_DNS_T_TLSA, a->owner, q->set, q->hops + a->hops, q->ad && ad);
		return;
	}
	if (st == MX_DNS_OK) {
		for (i = 0; i < a->ntlsa; i++)
			if (!mx_dns_addrset_add_tlsa(s, a->tlsa[i].usage, a->tlsa[i].selector,
						     a->tlsa[i].mtype, a->tlsa[i].data,
						     a->tlsa[i].len)) {
				st = MX_DNS_FAIL;
				words = "out of memory";
				break;
			}
		if (a->ntlsa == 0 && st == MX_DNS_OK)
			st = MX_DNS_NODATA;
	}
	s->tlsa_status = st;
	s->tlsa_secure = answer_secure(q, st, ad);
	set_detail(s->tlsa_detail, sizeof(s->tlsa_detail), "TLSA", words);
}

/*
 * handle_txt - the TXT answer at _mta-sts.DOMAIN arrived (R17): count the
 * records that start "v=STSv1" (RFC 8461 3.1) and keep the one if alone
 */
static void
handle_txt(struct query *q, enum mx_dns_status st, const char *words,
	   const struct mx_dnsmsg_answer *a, bool ad)
{
	struct mx_lookup *l = q->l;
	struct mx_dns_result *r = l->result;
	const struct mx_dnsmsg_txt *one = NULL;
	size_t	i;

	if (st == MX_DNS_OK && a->alias_only) {
		if (a->hops + q->hops > MX_DNS_MAX_CNAME_HOPS) {
			r->sts_status = MX_DNS_CNAME_LOOP;
			set_detail(r->sts_detail, sizeof(r->sts_detail), "",
				   "alias chain too long or looping");
			return;
		}
		if (l->expired) {
			r->sts_status = MX_DNS_TIMEOUT;
			return;
		}
		send_query(l, MX_DNS_T_TXT, a->owner, NULL, q->hops + a->hops, q->ad && ad);
		return;
	}
	if (st == MX_DNS_OK) {
		for (i = 0; i < a->ntxt; i++)
			if (a->txt[i].len >= 7 && memcmp(a->txt[i].text, "v=STSv1", 7) == 0) {
				r->sts_records++;
				one = &a->txt[i];
			}
		if (a->ntxt == 0)
			st = MX_DNS_NODATA;
	}
	if (r->sts_records == 1) {
		if (one->len >= sizeof(r->sts_txt))
			set_detail(r->sts_detail, sizeof(r->sts_detail), "",
				   "the v=STSv1 record is too long to be used");
		else if (memchr(one->text, '\0', one->len) != NULL)
			set_detail(r->sts_detail, sizeof(r->sts_detail), "",
				   "the v=STSv1 record holds a NUL octet");
		else
			memcpy(r->sts_txt, one->text, one->len + 1);
	}
	r->sts_status = st;
	set_detail(r->sts_detail, sizeof(r->sts_detail), "", words);
}

/* query_done - c-ares callback: classify, parse, follow up */
static void
query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	struct mx_lookup *l;
	struct mx_dnsmsg_answer a;
	enum mx_dns_status st;
	const char *words;
	char	why[120];
	bool	ad = abuf != NULL && alen >= 12 && (abuf[3] & 0x20) != 0;

	(void)timeouts;
	if (q == NULL)
		return;
	l = q->l;
	memset(&a, 0, sizeof(a));
	if (next_server(l, q, status))
		return;
	st = classify(status, &words);
	if (said_first(q, &status, words)) {
		st = classify(status, &words);
		words = q->words;
	}
	if (abuf != NULL && alen >= 12 && (abuf[2] & 0x02) != 0 && !q->over_tcp &&
	    (status == ARES_SUCCESS || status == ARES_ENODATA)) {
		/* truncated over UDP: ask the same server again over TCP */
		if (!l->expired) {
			q->over_tcp = true;
			q->said[0] = '\0';	/* this server answered; TCP starts afresh */
			q->said_status = 0;
			resend(l, q);
			return;
		}
		st = MX_DNS_TRUNCATED;
		words = "answer truncated and no time left for TCP";
	} else if (q->over_tcp && st != MX_DNS_OK && st != MX_DNS_NODATA &&
		   st != MX_DNS_NXDOMAIN) {
		char	tcpwords[sizeof(q->words)];

		snprintf(tcpwords, sizeof(tcpwords), "answer truncated over UDP and the TCP "
			 "retry failed (%.140s)", words == q->words ? q->words : ares_strerror(status));
		snprintf(q->words, sizeof(q->words), "%s", tcpwords);
		st = MX_DNS_TRUNCATED;
		words = q->words;
	}
	if (st == MX_DNS_OK) {
		if (!mx_dnsmsg_parse(abuf, (size_t)alen, q->asked, q->qtype, &a, why, sizeof(why))) {
			st = a.hops > MX_DNS_MAX_CNAME_HOPS ? MX_DNS_CNAME_LOOP : MX_DNS_MALFORMED;
			words = why;
		}
	}
	switch (q->qtype) {
	case MX_DNS_T_MX: handle_mx(q, st, words, &a, ad); break;
	case MX_DNS_T_TLSA: handle_tlsa(q, st, words, &a, ad); break;
	case MX_DNS_T_TXT: handle_txt(q, st, words, &a, ad); break;
	default: handle_addr(q, st, words, &a, ad); break;
	}
	mx_dnsmsg_answer_free(&a);
	l->pending--;
	if (l->pending == 0)
		l->phase = PHASE_DONE;
	free(q);
}

/*
 * make_channel - one c-ares channel with our timeouts and the servers given
 * (a list from ares_get_servers_ports), else the configured ones
 */
static bool
make_channel(const struct mx_resolver_opts *o, bool tcp, struct ares_addr_port_node *servers,
	     ares_channel *ch, char *err, size_t errlen)
{
	struct ares_options ao;
	int	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NOROTATE, rc;

	memset(&ao, 0, sizeof(ao));
	/*
	 * NOCHECKRESP: hand SERVFAIL, REFUSED and NOTIMP answers to us as such
	 * (next_server follows the next server). Without it c-ares 1.18 moves
	 * on by itself but, when none is left, reports "connection refused",
	 * which hides what the servers said. NOROTATE: every query starts at
	 * the channel's first server, even if resolv.conf says "rotate".
	 */
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP |
	    (tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC);
	ao.timeout = o->timeout_ms;
	ao.tries = o->tries;
	rc = ares_init_options(ch, &ao, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot set up the resolver: %s", ares_strerror(rc));
		return false;
	}
	if (servers != NULL) {
		rc = ares_set_servers_ports(*ch, servers);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "cannot set the DNS servers: %s", ares_strerror(rc));
			ares_destroy(*ch);
			return false;
		}
	} else if (o->nservers > 0) {
		char	csv[1024] = "";
		size_t	i, used = 0;

		for (i = 0; i < o->nservers; i++) {
			char	host[MX_IP_TEXT_MAX], why[80];
			int	port;
			struct mx_ip ip;

			if (!mx_endpoint_parse(o->servers[i], 53, true, host, sizeof(host), &port,
					       why, sizeof(why))) {
				snprintf(err, errlen, "bad DNS server \"%s\": %s", o->servers[i], why);
				ares_destroy(*ch);
				return false;
			}
			mx_ip_parse(host, &ip);
			used += (size_t)snprintf(csv + used, used < sizeof(csv) ? sizeof(csv) - used : 0,
					 ip.family == AF_INET6 ? "%s[%s]:%d" : "%s%s:%d",
					 i ? "," : "", host, port);
			if (used >= sizeof(csv)) {
				snprintf(err, errlen, "too many DNS servers");
				ares_destroy(*ch);
				return false;
			}
		}
		rc = ares_set_servers_ports_csv(*ch, csv);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "bad DNS servers \"%s\": %s", csv, ares_strerror(rc));
			ares_destroy(*ch);
			return false;
		}
	}
	return true;
}

/* channel - channel k (servers k, k+1, ...) of a kind, made on first use; NULL if it cannot be */
static ares_channel
channel(struct mx_lookup *l, bool tcp, int k)
{
	ares_channel *slot = tcp ? &l->tcp[k] : &l->udp[k];
	struct ares_addr_port_node *from = l->servers;
	char	err[160];
	int	i;

	if (*slot != NULL)
		return *slot;
	for (i = 0; i < k && from != NULL; i++)
		from = from->next;
	if (!make_channel(&l->opts, tcp, from, slot, err, sizeof(err)))
		*slot = NULL;
	return *slot;
}

/* lookup_destroy - destroy every channel made and free the lookup */
static void
lookup_destroy(struct mx_lookup *l)
{
	int	k;

	l->expired = true;	/* pending callbacks run with ARES_EDESTRUCTION: start nothing */
	for (k = 0; k < l->nchan; k++) {
		if (l->udp[k] != NULL)
			ares_destroy(l->udp[k]);
		if (l->tcp[k] != NULL)
			ares_destroy(l->tcp[k]);
	}
	if (l->servers != NULL)
		ares_free_data(l->servers);
	free(l->udp);
	free(l->tcp);
	mx_dns_result_free(l->result);
	free(l);
}

/* lookup_channels - channel 0 over UDP, and room for one channel per server */
static bool
lookup_channels(struct mx_lookup *l, char *err, size_t errlen)
{
	ares_channel first;
	struct ares_addr_port_node *n;

	if (!make_channel(&l->opts, false, NULL, &first, err, errlen))
		return false;
	if (ares_get_servers_ports(first, &l->servers) != ARES_SUCCESS)
		l->servers = NULL;	/* no failover, the first channel still works */
	l->nchan = 0;
	for (n = l->servers; n != NULL; n = n->next)
		l->nchan++;
	if (l->nchan == 0)
		l->nchan = 1;
	l->udp = calloc((size_t)l->nchan, sizeof(*l->udp));
	l->tcp = calloc((size_t)l->nchan, sizeof(*l->tcp));
	if (l->udp == NULL || l->tcp == NULL) {
		snprintf(err, errlen, "out of memory");
		ares_destroy(first);
		l->nchan = 0;	/* nothing for lookup_destroy to walk */
		return false;
	}
	l->udp[0] = first;
	return true;
}

/* lookup_begin - a lookup of MX records, or of the name's addresses only */
static struct mx_lookup *
lookup_begin(const struct mx_resolver_opts *opts, const char *domain, bool addresses_only,
	     char *err, size_t errlen)
{
	struct mx_lookup *l = calloc(1, sizeof(*l));

	if (l == NULL || (l->result = mx_dns_result_new(domain)) == NULL) {
		free(l);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->opts = *opts;
	if (l->opts.timeout_ms <= 0)
		l->opts.timeout_ms = 5000;
	if (l->opts.tries <= 0)
		l->opts.tries = 2;
	if (l->opts.max_mx_records <= 0)
		l->opts.max_mx_records = MX_MAX_MX_DEFAULT;
	mx_rng_seed_fresh(&l->rng);
	if (!lookup_channels(l, err, errlen)) {
		lookup_destroy(l);
		return NULL;
	}
	l->result->dnssec_trusted = servers_trusted(l);
	if (addresses_only) {
		l->result->mx_status = MX_DNS_NODATA;	/* as for an implicit MX */
		l->pending++;				/* hold the phase open while starting */
		start_addresses(l, true);
		if (--l->pending == 0)
			l->phase = PHASE_DONE;
		return l;
	}
	l->phase = PHASE_MX;
	l->deadline_ms = mx_clock_mono_ms() + phase_budget_ms(l);
	l->pending++;		/* hold the phase open while starting */
	send_query(l, MX_DNS_T_MX, domain, NULL, 0, true);
	if (l->opts.mta_sts) {
		char	sts[MX_DOMAIN_MAX + 2];

		/* beside the MX query: no extra round trip (R17) */
		if (snprintf(sts, sizeof(sts), "_mta-sts.%s", domain) > MX_DOMAIN_MAX) {
			l->result->sts_status = MX_DNS_FAIL;
			snprintf(l->result->sts_detail, sizeof(l->result->sts_detail),
				 "the _mta-sts name would be longer than 253 octets");
		} else {
			send_query(l, MX_DNS_T_TXT, sts, NULL, 0, true);
		}
	}
	if (--l->pending == 0)
		l->phase = PHASE_DONE;
	return l;
}

/* mx_lookup_start - begin a lookup */
struct mx_lookup *
mx_lookup_start(const struct mx_resolver_opts *opts, const char *domain,
		char *err, size_t errlen)
{
	return lookup_begin(opts, domain, false, err, errlen);
}

/* mx_lookup_done - every query has an outcome */
bool
mx_lookup_done(const struct mx_lookup *l)
{
	return l->phase == PHASE_DONE;
}

/* add_channel_fds - sockets of one channel */
static int
add_channel_fds(struct mx_lookup *l, ares_channel ch, int owner, struct pollfd *fds,
		int n, int max)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	unsigned bits = (unsigned)ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
	int	i;

	/* c-ares' own ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31 */
	for (i = 0; i < ARES_GETSOCK_MAXNUM && n < max && n < MX_LOOKUP_MAXFDS; i++) {
		short	ev = 0;

		if ((bits >> i) & 1u)
			ev |= POLLIN;
		if ((bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		fds[n].fd = socks[i];
		fds[n].events = ev;
		fds[n].revents = 0;
		l->fd_owner[n] = owner;
		n++;
	}
	return n;
}

/* mx_lookup_pollfds - sockets to poll and the longest wait */
int
mx_lookup_pollfds(struct mx_lookup *l, struct pollfd *fds, int max, int *timeout_ms)
{
	struct timeval tv, *tvp;
	long long left;
	int	n, k;

	if (l->phase == PHASE_DONE) {
		*timeout_ms = 0;
		return 0;
	}
	left = l->deadline_ms - mx_clock_mono_ms();
	if (left < 0)
		left = 0;
	*timeout_ms = (int)left;
	for (n = 0, k = 0; k < 2 * l->nchan; k++) {
		ares_channel ch = (k & 1 ? l->tcp : l->udp)[k >> 1];

		if (ch == NULL)
			continue;
		n = add_channel_fds(l, ch, k, fds, n, max);
		tvp = ares_timeout(ch, NULL, &tv);
		if (tvp != NULL && tvp->tv_sec * 1000 + tvp->tv_usec / 1000 < *timeout_ms)
			*timeout_ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
	}
	l->nfd = n;
	return n;
}

/* owned - the channel of pollfd slot owner (2k udp[k], 2k+1 tcp[k]) */
static ares_channel
owned(const struct mx_lookup *l, int owner)
{
	return (owner & 1 ? l->tcp : l->udp)[owner >> 1];
}

/* mx_lookup_process - ready sockets, c-ares timeouts, our phase deadline */
void
mx_lookup_process(struct mx_lookup *l, const struct pollfd *fds, int nfds)
{
	int	i, k;

	for (i = 0; i < nfds && i < l->nfd && l->phase != PHASE_DONE; i++) {
		ares_socket_t r = ARES_SOCKET_BAD, w = ARES_SOCKET_BAD;

		if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
			r = fds[i].fd;
		if (fds[i].revents & (POLLOUT | POLLERR | POLLHUP))
			w = fds[i].fd;
		if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD)
			ares_process_fd(owned(l, l->fd_owner[i]), r, w);
	}
	l->nfd = 0;
	if (l->phase == PHASE_DONE)
		return;
	/* timeouts: without this call c-ares never gives up on a silent server */
	for (k = 0; k < 2 * l->nchan; k++)
		if (owned(l, k) != NULL)
			ares_process_fd(owned(l, k), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	if (l->phase != PHASE_DONE && mx_clock_mono_ms() >= l->deadline_ms) {
		l->expired = true;
		for (k = 0; k < 2 * l->nchan; k++)
			if (owned(l, k) != NULL)
				ares_cancel(owned(l, k));
	}
}

/* mx_lookup_take_result - hand the result to the caller */
struct mx_dns_result *
mx_lookup_take_result(struct mx_lookup *l)
{
	struct mx_dns_result *r;

	if (l->phase != PHASE_DONE)
		return NULL;
	r = l->result;
	l->result = NULL;
	return r;
}

/* mx_lookup_free - cancel and free */
void
mx_lookup_free(struct mx_lookup *l)
{
	if (l == NULL)
		return;
	lookup_destroy(l);
}

/* resolve_sync - start, poll until done */
static struct mx_dns_result *
resolve_sync(const struct mx_resolver_opts *opts, const char *domain, bool addresses_only,
	     char *err, size_t errlen)
{
	struct mx_lookup *l = lookup_begin(opts, domain, addresses_only, err, errlen);
	struct mx_dns_result *r;

	if (l == NULL)
		return NULL;
	while (!mx_lookup_done(l)) {
		struct pollfd fds[MX_LOOKUP_MAXFDS];
		int	timeout, n = mx_lookup_pollfds(l, fds, MX_LOOKUP_MAXFDS, &timeout);

		if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		mx_lookup_process(l, fds, n);
	}
	r = mx_lookup_take_result(l);
	mx_lookup_free(l);
	if (r == NULL)
		snprintf(err, errlen, "lookup of %s did not finish", domain);
	return r;
}

/* mx_resolve - synchronous MX lookup */
struct mx_dns_result *
mx_resolve(const struct mx_resolver_opts *opts, const char *domain, char *err, size_t errlen)
{
	return resolve_sync(opts, domain, false, err, errlen);
}

/* mx_resolve_addresses - synchronous A+AAAA lookup of one host name */
struct mx_dns_result *
mx_resolve_addresses(const struct mx_resolver_opts *opts, const char *name, char *err,
		     size_t errlen)
{
	return resolve_sync(opts, name, true, err, errlen);
}
