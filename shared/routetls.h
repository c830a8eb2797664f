/*
 * routetls - the MTA-STS input of a plan, the same for every program
 *
 * mxtier-pipe (route and delivery), the report and the inspector build a
 * plan from a lookup result; with MTA-STS on (tls.mta_sts, any level but
 * none) the policy that applies comes from stsfetch.c's mx_sts_obtain():
 * the journal's cache, fetched when needed and allowed. This module holds
 * that step once: which fetch options the config gives, whether a policy
 * is looked for at all, and how its note reaches the plan.
 *
 * Ownership: all caller-owned.
 */
#ifndef MXTIER_ROUTETLS_H
#define MXTIER_ROUTETLS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "journal.h"
#include "plan.h"
#include "resolve.h"
#include "stsfetch.h"

/* mx_route_sts_wanted - look up and apply MTA-STS with this config */
bool	mx_route_sts_wanted(const struct mx_config *cfg);

/* mx_route_resolver_opts - resolver options from the config and --dns-server overrides */
void	mx_route_resolver_opts(const struct mx_config *cfg, char *const *override,
			       size_t noverride, struct mx_resolver_opts *ro);

/*
 * mx_route_sts - the MTA-STS state for a lookup result (state->applies false
 * when MTA-STS is off or no policy applies). journal may be NULL; may_fetch
 * false uses the cache only.
 */
void	mx_route_sts(const struct mx_config *cfg, struct mx_journal *journal,
		     const struct mx_resolver_opts *ro, const struct mx_dns_result *dns,
		     int64_t now_ms, bool may_fetch, struct mx_sts_state *state);

/* mx_route_sts_env - env->sts from the state (NULL when no policy applies) */
void	mx_route_sts_env(const struct mx_sts_state *state, struct mx_plan_env *env);

/* mx_route_sts_note - the state's note, if any, among the plan's domain notes */
void	mx_route_sts_note(struct mx_plan *plan, const struct mx_sts_state *state);

#endif
