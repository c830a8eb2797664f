/*
 * plan - turn DNS answers into an ordered delivery plan (rules R1-R10)
 *
 * Pure: no I/O, no clock. Randomness comes from the caller's struct mx_rng and
 * the local interface addresses from the caller (see mx_local_addrs()), so
 * every rule can be tested with plain structs.
 *
 * A plan is tiers (ascending preference) of hosts (in try order) of addresses
 * (in try order). Nothing is silently dropped: an item that will not be tried
 * stays with usable = false and notes saying why.
 *
 * Ownership: mx_plan_build() returns a plan the caller frees with
 * mx_plan_free(). It copies what it needs from its inputs.
 */
#ifndef MXTIER_PLAN_H
#define MXTIER_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "addr.h"
#include "dnsdata.h"
#include "notes.h"
#include "rng.h"
#include "sts.h"

enum mx_cname_mode { MX_CNAME_LENIENT, MX_CNAME_STRICT };
enum mx_addr_pref { MX_ADDRPREF_ANY, MX_ADDRPREF_IPV4, MX_ADDRPREF_IPV6 };
enum mx_inet_protocols { MX_INET_ALL, MX_INET_IPV4, MX_INET_IPV6 };
enum mx_loop_action { MX_LOOP_DEFER, MX_LOOP_BOUNCE };

/*
 * smtp.tls_level (R15), Postfix's smtp_tls_security_level; the older
 * smtp.starttls maps none -> none, opportunistic -> may, require -> encrypt.
 */
enum mx_tls_level {
	MX_TLS_NONE,		/* never STARTTLS */
	MX_TLS_MAY,		/* STARTTLS when offered, any certificate, plaintext on failure */
	MX_TLS_ENCRYPT,		/* STARTTLS required, any certificate */
	MX_TLS_VERIFY,		/* chain to a trusted CA, name = the MX host name */
	MX_TLS_SECURE,		/* verify, and the name may also be the domain (nexthop, dot-nexthop) */
	MX_TLS_DANE,		/* DANE where TLSA records are usable, else may */
	MX_TLS_DANE_ONLY	/* DANE required: no usable TLSA records defers */
};

#define MX_MAX_MX_DEFAULT 100	/* cap on MX records taken from one answer (R10) */

/* The planning part of the policy; config fills it, tests set it directly. */
struct mx_policy {
	enum mx_cname_mode cname_targets;
	bool	randomize_addresses;
	enum mx_addr_pref address_preference;
	enum mx_inet_protocols inet_protocols;
	int	max_addresses;		/* R10: addresses tried per delivery */
	int	max_sessions;		/* R10: sessions that reached a greeting */
	int	max_mx_records;		/* R10: cap on one answer */
	struct mx_cidr *ignore_networks;
	size_t	nignore_networks;
	char  **local_names;
	size_t	nlocal_names;
	struct mx_cidr *local_addresses;
	size_t	nlocal_addresses;
	enum mx_loop_action loop_action;
	enum mx_tls_level tls_level;	/* R15-R17: smtp.tls_level */
};

/* mx_policy_defaults - the documented defaults; ignore_networks points at static data */
void	mx_policy_defaults(struct mx_policy *p);

enum mx_plan_result {
	MX_PLAN_OK,
	MX_PLAN_NULL_MX,
	MX_PLAN_NXDOMAIN,
	MX_PLAN_NO_MAIL_HOST,
	MX_PLAN_TEMPFAIL,
	MX_PLAN_LOOP
};

/* mx_plan_result_name - the JSON token: "ok", "null_mx", ... */
const char *mx_plan_result_name(enum mx_plan_result r);

/* Why a host or address will not be tried. */
enum mx_unusable {
	MX_USABLE = 0,
	MX_UNUSABLE_PERM,	/* will not work later either */
	MX_UNUSABLE_TEMP	/* a lookup failed temporarily */
};

struct mx_plan_addr {
	struct mx_ip ip;
	char	text[MX_IP_TEXT_MAX];
	uint32_t ttl;
	bool	usable;
	struct mx_notes notes;
};

/* The TLS a host gets (R15-R17); JSON "tls": {"policy": ...}. */
enum mx_host_tls {
	MX_HOST_TLS_NONE,
	MX_HOST_TLS_MAY,
	MX_HOST_TLS_ENCRYPT,
	MX_HOST_TLS_VERIFY,	/* name = the host */
	MX_HOST_TLS_SECURE,	/* name = the host, the domain or below it */
	MX_HOST_TLS_DANE,	/* usable TLSA records */
	MX_HOST_TLS_MTA_STS	/* MTA-STS enforce: verified, name = the host */
};

/* mx_host_tls_name - "none", "may", "encrypt", "verify", "secure", "dane", "mta-sts" */
const char *mx_host_tls_name(enum mx_host_tls t);

struct mx_plan_host {
	char	name[MX_DOMAIN_MAX + 1];
	char	canonical[MX_DOMAIN_MAX + 1];	/* followed CNAME target, or "" */
	uint16_t pref;
	bool	usable;
	enum mx_unusable why_unusable;
	struct mx_notes notes;
	struct mx_plan_addr *addrs;
	size_t	naddrs;
	/* TLS (R15-R17) */
	enum mx_host_tls tls;
	bool	dnssec;			/* its address records were DNSSEC-validated */
	struct mx_dns_tlsa *tlsa;	/* the usable TLSA records (copies) */
	size_t	ntlsa;
	bool	sts_match;		/* matches an mx: pattern of the MTA-STS policy (false
					 * when no policy applies) */
	bool	sts_check;		/* MTA-STS testing: verify the name, report, never fail */
	bool	tls_blocked;		/* unusable because of the TLS policy (a temporary
					 * reason: 4.7.5) */
	char	tls_failure[32];	/* then: its RFC 8460 result type */
};

struct mx_plan_tier {
	uint16_t pref;
	struct mx_plan_host *hosts;
	size_t	nhosts;
};

struct mx_plan {
	char	domain[MX_DOMAIN_MAX + 1];
	enum mx_plan_result result;
	char	status[8];		/* enhanced status when not ok, else "" */
	char	message[512];		/* one human sentence */
	bool	implicit_mx;
	struct mx_notes notes;		/* domain-level notes */
	bool	dnssec;			/* the MX answer was DNSSEC-validated (R16) */
	bool	has_sts;		/* an MTA-STS policy applies (R17) */
	struct mx_sts_policy sts;	/* then: the policy */
	struct mx_plan_tier *tiers;
	size_t	ntiers;
};

/* Inputs that are not policy: the machine's interface addresses. */
struct mx_plan_env {
	const struct mx_ip *local_ifaddrs;
	size_t	nlocal_ifaddrs;
	const struct mx_sts_policy *sts;	/* the MTA-STS policy that applies, or NULL */
};

/*
 * mx_plan_build - apply R1-R10 to a lookup result. Returns NULL only when
 * memory runs out.
 */
struct mx_plan *mx_plan_build(const struct mx_dns_result *dns,
			      const struct mx_policy *policy,
			      const struct mx_plan_env *env,
			      struct mx_rng *rng);

/* One exchange after sorting and de-duplication (R1, R3). */
#define MX_EXCHANGE_DUPS 4
struct mx_exchange {
	char	name[MX_DOMAIN_MAX + 1];	/* lower case, no trailing dot */
	uint16_t pref;
	size_t	index;				/* position in the answer */
	uint16_t dup_prefs[MX_EXCHANGE_DUPS];	/* worse preferences it was also listed with */
	size_t	ndup_prefs;
};

/*
 * mx_plan_exchanges - the exchanges a plan will use: null MX records left
 * out (counted in *nnull), sorted by preference (stable), duplicates folded
 * into their lowest preference, at most cap kept (the rest counted in
 * *ncapped). The resolver uses it to know which names to look up. Returns a
 * malloc'd array of *n entries (caller frees), NULL when *n is 0.
 */
struct mx_exchange *mx_plan_exchanges(const struct mx_dns_result *dns, int cap, size_t *n,
				      size_t *nnull, size_t *ncapped);

/* mx_plan_free - free a plan; NULL is fine */
void	mx_plan_free(struct mx_plan *plan);

/* mx_plan_usable_addresses - how many addresses would be tried */
size_t	mx_plan_usable_addresses(const struct mx_plan *plan);

#endif
