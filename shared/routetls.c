/*
 * routetls - the MTA-STS input of a plan (see routetls.h)
 */
#include <string.h>

#include "routetls.h"

/* mx_route_sts_wanted - MTA-STS is on and TLS is not switched off */
bool
mx_route_sts_wanted(const struct mx_config *cfg)
{
	return cfg->tls.mta_sts && cfg->smtp.tls_level != MX_TLS_NONE;
}

/* mx_route_resolver_opts - the resolver's options, with the TXT query only when wanted */
void
mx_route_resolver_opts(const struct mx_config *cfg, char *const *override, size_t noverride,
		       struct mx_resolver_opts *ro)
{
	mx_resolver_opts_from_config(cfg, override, noverride, ro);
	ro->mta_sts = mx_route_sts_wanted(cfg);
}

/* mx_route_sts - obtain the policy with the config's fetch options */
void
mx_route_sts(const struct mx_config *cfg, struct mx_journal *journal,
	     const struct mx_resolver_opts *ro, const struct mx_dns_result *dns,
	     int64_t now_ms, bool may_fetch, struct mx_sts_state *state)
{
	struct mx_sts_fetch_opts fo;

	memset(state, 0, sizeof(*state));
	if (!mx_route_sts_wanted(cfg) || dns->sts_status == MX_DNS_PENDING)
		return;
	memset(&fo, 0, sizeof(fo));
	fo.ca_file = cfg->tls.ca_file;
	fo.ca_path = cfg->tls.ca_path;
	fo.timeout_ms = cfg->tls.mta_sts_timeout * 1000;
	fo.max_size = cfg->tls.mta_sts_max_size;
	fo.port = 443;
	mx_sts_obtain(journal, ro, &fo, dns, now_ms, may_fetch, state);
}

/* mx_route_sts_env - the policy for the planner */
void
mx_route_sts_env(const struct mx_sts_state *state, struct mx_plan_env *env)
{
	env->sts = state->applies ? &state->policy : NULL;
}

/* mx_route_sts_note - say what became of the policy */
void
mx_route_sts_note(struct mx_plan *plan, const struct mx_sts_state *state)
{
	if (plan != NULL && state->note[0] != '\0')
		mx_notes_add(&plan->notes, "%s", state->note);
}
