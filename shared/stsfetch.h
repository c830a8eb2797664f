/*
 * stsfetch - fetch an MTA-STS policy over HTTPS, and the policy cache step
 *
 * mx_sts_fetch() gets https://mta-sts.DOMAIN/.well-known/mta-sts.txt with
 * libcurl (RFC 8461 3.3): the certificate verified against the Web PKI (or
 * tls.ca_file / ca_path), no redirects, at most max_size octets, within
 * timeout_ms, Content-Type text/plain. The host name is resolved by the
 * caller with mxtier's own resolver and handed to libcurl (CURLOPT_RESOLVE),
 * so the configured name servers are used. libcurl is loaded with dlopen()
 * on first use (it pulls in libssl; delivery without MTA-STS never pays).
 *
 * mx_sts_obtain() is the step of a delivery or a report: given the TXT
 * answer in a lookup result, it applies sts.h's mx_sts_next_step() to the
 * policy cached in the journal, fetches when needed (may_fetch), stores what
 * it fetched, and says which policy applies and any failure (RFC 8460 type).
 *
 * Ownership: all caller-owned; nothing kept between calls but the library.
 */
#ifndef MXTIER_STSFETCH_H
#define MXTIER_STSFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "dnsdata.h"
#include "journal.h"
#include "resolve.h"
#include "sts.h"

struct mx_sts_fetch_opts {
	const char *ca_file;		/* NULL or "": system default */
	const char *ca_path;
	int	timeout_ms;
	size_t	max_size;
	int	port;			/* 443; tests may differ */
};

enum mx_sts_fetch_result {
	MX_STS_FETCHED,
	MX_STS_FETCH_ERROR,		/* sts-policy-fetch-error: connect, timeout, HTTP status, size */
	MX_STS_FETCH_INVALID,		/* sts-policy-invalid: the text does not parse */
	MX_STS_FETCH_WEBPKI		/* sts-webpki-invalid: the certificate did not verify */
};

/* mx_sts_fetch_failure_name - the RFC 8460 result type of a failure, "" for MX_STS_FETCHED */
const char *mx_sts_fetch_failure_name(enum mx_sts_fetch_result r);

/*
 * mx_sts_fetch - fetch and parse the policy of domain from one of ips
 * (port o->port); out->domain is set, out->id and out->fetched_ms are left
 * to the caller. why says what went wrong.
 */
enum mx_sts_fetch_result mx_sts_fetch(const struct mx_sts_fetch_opts *o, const char *domain,
				      const struct mx_ip *ips, size_t nips,
				      struct mx_sts_policy *out, char *why, size_t whylen);

/* What mx_sts_obtain() found. */
struct mx_sts_state {
	bool	applies;		/* policy holds the policy to apply */
	struct mx_sts_policy policy;
	bool	fetched;		/* fetched now (not from the cache) */
	char	failure[32];		/* RFC 8460 type of a failed fetch, or "" */
	char	note[300];		/* one sentence for the plan's domain notes, or "" */
};

/*
 * mx_sts_obtain - the MTA-STS policy for dns->domain (dns->sts_* filled by
 * the resolver). journal may be NULL (no cache: every valid record fetches);
 * may_fetch false uses the cache only (the TUI). A fetched policy is stored
 * when journal is writable. Never fails a delivery: any trouble ends in
 * state->note and state->failure.
 */
void	mx_sts_obtain(struct mx_journal *journal, const struct mx_resolver_opts *ro,
		      const struct mx_sts_fetch_opts *fo, const struct mx_dns_result *dns,
		      int64_t now_ms, bool may_fetch, struct mx_sts_state *state);

#endif
