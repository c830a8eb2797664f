/*
 * sts - MTA-STS (RFC 8461) records and policies, pure
 *
 * Parses the _mta-sts TXT record (3.1) and the policy text (3.2), matches
 * MX host names against the policy's mx: patterns (4.1), and decides from
 * the cached policy, the TXT record and the clock whether a policy must be
 * fetched, the cached one used, or none applies (5.1, 10.2). No I/O, no
 * clock: stsfetch.c fetches, journal.c caches.
 *
 * Ownership: everything is plain caller-owned data.
 */
#ifndef MXTIER_STS_H
#define MXTIER_STS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"

#define MX_STS_ID_MAX	32		/* 1*32(ALPHA / DIGIT) */
#define MX_STS_MAX_MX	32		/* mx: lines kept from one policy */
#define MX_STS_MAX_AGE	31557600	/* RFC 8461 3.2: at most one year */

enum mx_sts_mode { MX_STS_MODE_NONE, MX_STS_MODE_TESTING, MX_STS_MODE_ENFORCE };

struct mx_sts_policy {
	char	domain[MX_DOMAIN_MAX + 1];
	char	id[MX_STS_ID_MAX + 1];		/* of the TXT record it was fetched under */
	enum mx_sts_mode mode;
	int64_t	max_age;			/* seconds */
	char	mx[MX_STS_MAX_MX][MX_DOMAIN_MAX + 1];	/* lower case; "*.example.net" allowed */
	size_t	nmx;
	int64_t	fetched_ms;			/* Unix ms of the fetch */
};

/* mx_sts_mode_name - "none", "testing", "enforce" */
const char *mx_sts_mode_name(enum mx_sts_mode m);

/*
 * mx_sts_txt_id - the id of a "v=STSv1; id=...;" record; false (why) when
 * it is not a valid STSv1 record
 */
bool	mx_sts_txt_id(const char *txt, char *id, size_t idlen, char *why, size_t whylen);

/*
 * mx_sts_policy_parse - the policy text (CRLF or LF lines, "key: value");
 * false (why) when it is invalid: no or bad version, mode or max_age, no
 * mx in testing/enforce mode. domain and id are left as they were.
 */
bool	mx_sts_policy_parse(const char *text, size_t len, struct mx_sts_policy *p,
			    char *why, size_t whylen);

/* mx_sts_mx_matches - host (lower case, no trailing dot) matches an mx: pattern */
bool	mx_sts_mx_matches(const struct mx_sts_policy *p, const char *host);

/* mx_sts_expired - the cached policy's max_age has passed at now_ms */
bool	mx_sts_expired(const struct mx_sts_policy *p, int64_t now_ms);

enum mx_sts_step {
	MX_STS_STEP_NONE,	/* no policy applies */
	MX_STS_STEP_CACHED,	/* apply the cached policy as it is */
	MX_STS_STEP_FETCH	/* fetch; if that fails, apply the cached one if unexpired */
};

/*
 * mx_sts_next_step - RFC 8461 5.1: txt_id is the id of a valid TXT record
 * or NULL when there is none (txt_temporary: its lookup failed temporarily).
 * A cached unexpired policy is used when the id is unchanged, and also when
 * the TXT record is missing or failed (the policy outlives it); a new id or
 * an expired policy means fetch; no cache and no record: none.
 */
enum mx_sts_step mx_sts_next_step(const struct mx_sts_policy *cached, const char *txt_id,
				  bool txt_temporary, int64_t now_ms);

#endif
