/*
 * oracle - the route oracle: mxtier's plan as the answer to an MTA's route
 * lookups, so that the MTA's own SMTP client delivers in mxtier's order
 *
 * Postfix asks through socketmap (mxtier-pipe --socketmap): a "transport"
 * lookup of a recipient address (or a domain) is answered with the plan's
 * usable hosts as a list of bracketed next hops in try order ("OK
 * smtp:[mx1.example.com]:25, [mx2.example.com]:25"), hosts whose every
 * usable address is in backoff (R13) moved last, the fallback relays (R12)
 * after them; a null MX, NXDOMAIN or a domain without mail host with the
 * error transport and the plan's enhanced status ("OK error:5.1.10 ..."); a
 * temporary DNS failure with "TEMP"; "*", local parts without a domain,
 * address literals, names that are no domain, this host's names and mail
 * that would loop back here with NOTFOUND, so that Postfix routes them as
 * it would without the map. A "tls" lookup of "[HOST]:PORT" is answered
 * with the smtp_tls_policy_maps entry of that host: the one the last
 * transport answer naming it gave (kept in the journal, table route_tls,
 * because Postfix asks from another process), else the configured level's.
 *
 * Exim asks through ${readsocket} (mxtier-pipe --route-lines): one domain
 * gives one manualroute host list, "mx1.example.com:mx2.example.com byname"
 * (":port" doubled as Exim's lists want when smtp.port is not 25), or an
 * empty line for everything that is not a plan with usable hosts, so that
 * the router declines and dnslookup decides (fail-open).
 *
 * Within one oracle (one connection) lookups are cached for no longer than
 * the lowest TTL of the MX and address records (and oracle_cache_max_s);
 * failures and NXDOMAIN are never cached. The plan is rebuilt from the
 * cached answers for every lookup (a fresh shuffle of equal preferences, the
 * backoff as the journal has it now).
 *
 * The mx_oracle_order()/_format_*() functions are pure and unit-tested; the
 * oracle itself does DNS (resolve.c), reads the journal and writes its
 * route_tls table. Ownership: mx_oracle_new() copies what it needs but keeps
 * a pointer to cfg, which must outlive the oracle; mx_oracle_free() frees.
 */
#ifndef MXTIER_ORACLE_H
#define MXTIER_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "plan.h"
#include "resolve.h"

#define MX_ORACLE_CACHE_MAX_S	3600	/* no cached lookup lives longer, whatever its TTL */
#define MX_ORACLE_CACHE_SIZE	512	/* domains cached per connection (least recently used go) */
#define MX_ORACLE_TLS_KEEP_S	86400	/* how long a host's TLS policy is remembered */

struct mx_oracle;

struct mx_oracle_opts {
	const struct mx_config *cfg;
	char   *const *dns_servers;	/* --dns-server overrides, or NULL */
	size_t	ndns_servers;
	const char *transport;		/* the Postfix transport in answers ("smtp") */
	bool	have_seed;		/* --seed: reproducible shuffles */
	uint64_t seed;
	int64_t	(*now_ms)(void);	/* the clock (tests), or NULL for the wall clock */
};

/*
 * mx_oracle_new - an oracle for one connection; NULL only when memory runs
 * out. A journal that cannot be opened is no error (no backoff, no TLS
 * memory): its reason goes into warning when warning is not NULL.
 */
struct mx_oracle *mx_oracle_new(const struct mx_oracle_opts *o, char *warning, size_t wlen);

/* mx_oracle_free - free an oracle; NULL is fine */
void	mx_oracle_free(struct mx_oracle *o);

/*
 * mx_oracle_socketmap - the reply to one socketmap request "NAME KEY"
 * (without its netstring framing): "OK ...", "NOTFOUND ", "TEMP ...",
 * "PERM ..."
 */
void	mx_oracle_socketmap(struct mx_oracle *o, const char *req, size_t len, char *reply,
			    size_t replylen);

/* mx_oracle_route_line - the Exim manualroute line for domain, "" to decline */
void	mx_oracle_route_line(struct mx_oracle *o, const char *domain, size_t len, char *line,
			     size_t linelen);

/* mx_oracle_counts - lookups answered and how many came from the cache */
void	mx_oracle_counts(const struct mx_oracle *o, unsigned long *lookups, unsigned long *hits);

/* One host of an answer. */
struct mx_oracle_hop {
	const struct mx_plan_host *host;
	bool	backed_off;		/* every usable address is in backoff */
};

/*
 * mx_oracle_order - the plan's usable hosts (a usable address at least) in
 * try order, those whose every usable address in_backoff() moved last
 * (each group keeping plan order); at most max; returns how many
 */
size_t	mx_oracle_order(const struct mx_plan *plan,
			bool (*in_backoff)(void *arg, const struct mx_plan_addr *a), void *arg,
			struct mx_oracle_hop *out, size_t max);

/* A fallback relay for the answers: host (name or address) and port. */
struct mx_oracle_relay {
	char	host[MX_DOMAIN_MAX + 1];
	int	port;
};

/*
 * mx_oracle_format_transport - the socketmap reply to a transport lookup
 * for plan with hops and relays (see the header comment)
 */
void	mx_oracle_format_transport(const struct mx_plan *plan, const struct mx_oracle_hop *hops,
				   size_t nhops, const struct mx_oracle_relay *relays,
				   size_t nrelays, int port, const char *transport, char *out,
				   size_t len);

/* mx_oracle_format_route_line - the Exim line for the same, "" to decline */
void	mx_oracle_format_route_line(const struct mx_plan *plan, const struct mx_oracle_hop *hops,
				    size_t nhops, const struct mx_oracle_relay *relays,
				    size_t nrelays, int port, char *out, size_t len);

/*
 * mx_oracle_host_tls - the smtp_tls_policy_maps entry for host of plan under
 * level ("may", "dane", "secure match=HOST:DOMAIN:.DOMAIN", ...); returns its
 * rank (higher is stricter: the entry kept when domains disagree)
 */
int	mx_oracle_host_tls(const struct mx_plan *plan, const struct mx_plan_host *host,
			   enum mx_tls_level level, char *out, size_t len);

/* mx_oracle_level_tls - the entry for a host no answer named: the level's own */
void	mx_oracle_level_tls(enum mx_tls_level level, char *out, size_t len);

#endif
