/*
 * resolve - MX and address lookups with c-ares, driven from a poll() loop
 *
 * A lookup asks for the domain's MX records, then for A and AAAA of every
 * exchange the plan will use, all at once (never one after another). Every
 * answer is classified (R6/R7): NOERROR, NODATA, NXDOMAIN, SERVFAIL, REFUSED,
 * timeout, truncated (retried over TCP), malformed. Alias (CNAME) chains are
 * followed inside an answer, and by a new query when an answer holds only
 * the alias. The result is plain data (dnsdata.h); no policy here.
 *
 * The servers are asked in order. A query goes on to the next server when
 * one times out, cannot be reached, or answers SERVFAIL, REFUSED or NOTIMP
 * (as glibc's stub resolver does); only when every server failed does the
 * query fail, and its detail then names what each server said.
 *
 * With the MX query go, at once, the TXT query for _mta-sts.DOMAIN (R17)
 * when asked for; with the address queries, a TLSA query per exchange
 * (R16) when asked for and the MX answer was secure. Every query sets the
 * AD bit; the result says which answers carried it from a trusted server.
 *
 * Each phase (MX, then addresses) gives up after timeout_ms * tries, so a
 * lookup never hangs past its timeout.
 *
 * Ownership: mx_lookup_start() returns a lookup freed with mx_lookup_free();
 * mx_lookup_take_result() hands its result to the caller, who frees it with
 * mx_dns_result_free().
 */
#ifndef MXTIER_RESOLVE_H
#define MXTIER_RESOLVE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "dnsdata.h"

struct mx_resolver_opts {
	char  *const *servers;	/* "ADDR", "ADDR:PORT", "[V6]:PORT"; none = resolv.conf */
	size_t	nservers;
	int	timeout_ms;	/* per try */
	int	tries;
	int	max_mx_records;	/* exchanges looked up, as the plan caps them */
	/*
	 * DNSSEC (R16): every query sets the AD bit (RFC 6840 5.7); the answer's
	 * AD bit counts only when every server in use is on loopback or listed
	 * here ("ADDR" or "ADDR:PORT", as servers).
	 */
	char  *const *trusted;
	size_t	ntrusted;
	int	tlsa_port;	/* > 0: TLSA at _PORT._tcp.EXCHANGE beside the addresses of
				 * an exchange, when the MX answer was secure */
	bool	mta_sts;	/* TXT at _mta-sts.DOMAIN beside the MX query */
};

#define MX_LOOKUP_MAXFDS 32

/*
 * mx_resolver_opts_from_config - servers, timeout, tries and the MX cap from
 * the config; servers given on the command line (--dns-server) replace the
 * configured ones. The strings stay the caller's.
 */
void	mx_resolver_opts_from_config(const struct mx_config *cfg, char *const *override,
				     size_t noverride, struct mx_resolver_opts *o);

/*
 * mx_resolver_server_trusted - may the AD bit of server ("ADDR", "ADDR:PORT",
 * "[V6]:PORT"; port 53 when absent) count: it is on loopback (127.0.0.0/8,
 * ::1, or IPv4-mapped loopback) or listed in trusted ("ADDR" for any port,
 * "ADDR:PORT" for that port only). False for a server that does not parse.
 */
bool	mx_resolver_server_trusted(const char *server, char *const *trusted, size_t ntrusted);

struct mx_lookup;

/* mx_resolver_library_init - once per process, before any lookup; false on failure */
bool	mx_resolver_library_init(char *err, size_t errlen);

/*
 * mx_lookup_start - begin looking up domain (normalised). Returns NULL and a
 * reason in err when the resolver cannot be set up (bad server, no memory).
 */
struct mx_lookup *mx_lookup_start(const struct mx_resolver_opts *opts, const char *domain,
				  char *err, size_t errlen);

/* mx_lookup_done - true when every query has an outcome */
bool	mx_lookup_done(const struct mx_lookup *l);

/*
 * mx_lookup_pollfds - the sockets to poll (at most max) and, in *timeout_ms,
 * how long poll() may wait before mx_lookup_process() must run anyway.
 */
int	mx_lookup_pollfds(struct mx_lookup *l, struct pollfd *fds, int max, int *timeout_ms);

/* mx_lookup_process - handle ready sockets (fds as filled and polled) and timeouts */
void	mx_lookup_process(struct mx_lookup *l, const struct pollfd *fds, int nfds);

/* mx_lookup_take_result - the result once done; the caller owns it. NULL if not done. */
struct mx_dns_result *mx_lookup_take_result(struct mx_lookup *l);

/* mx_lookup_free - cancel what is pending and free; NULL is fine */
void	mx_lookup_free(struct mx_lookup *l);

/* mx_resolve - start, poll until done, return the result (NULL + err on setup failure) */
struct mx_dns_result *mx_resolve(const struct mx_resolver_opts *opts, const char *domain,
				 char *err, size_t errlen);

/*
 * mx_resolve_addresses - A and AAAA of one host name only (a fallback relay):
 * the result's address set for name; mx_status is MX_DNS_NODATA
 */
struct mx_dns_result *mx_resolve_addresses(const struct mx_resolver_opts *opts, const char *name,
					   char *err, size_t errlen);

#endif
