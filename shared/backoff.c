/*
 * backoff - R13's decision on one address (see backoff.h)
 */
#include <stdio.h>
#include <string.h>

#include "backoff.h"

/* mx_backoff_running - a failure on record and a retry time still to come */
bool
mx_backoff_running(const struct mx_backoff *b, int64_t now_ms)
{
	return b != NULL && b->failures > 0 && b->retry_at_ms > now_ms;
}

/* mx_backoff_from_fleet - a fleet entry as the state R13 sees */
void
mx_backoff_from_fleet(const struct mx_journal_fleet_backoff *f, struct mx_backoff *out)
{
	memset(out, 0, sizeof(*out));
	/* an entry is a failure even if its count says 0: the other node backed off */
	out->failures = f->failures > 0 ? f->failures : 1;
	out->retry_at_ms = f->retry_at;
	snprintf(out->last_error, sizeof(out->last_error), "%s", f->last_error);
	snprintf(out->node, sizeof(out->node), "%s", f->node[0] != '\0' ? f->node : "?");
}

/* mx_backoff_pick - this node's own running state first, then the fleet's */
bool
mx_backoff_pick(const struct mx_backoff *local, const struct mx_backoff *fleet, int64_t now_ms,
		struct mx_backoff *out)
{
	if (mx_backoff_running(local, now_ms)) {
		*out = *local;
		out->node[0] = '\0';
		return true;
	}
	if (mx_backoff_running(fleet, now_ms)) {
		*out = *fleet;
		return true;
	}
	memset(out, 0, sizeof(*out));
	return false;
}

/* mx_backoff_words - the words for a running state */
void
mx_backoff_words(const struct mx_backoff *b, const char *when, char *out, size_t len)
{
	char	from[sizeof(b->node) + 16] = "";

	if (b->node[0] != '\0')
		snprintf(from, sizeof(from), " learned from %s", b->node);
	snprintf(out, len, "in backoff%s until %s after %d failure%s (last: %s)", from, when,
		 b->failures, b->failures == 1 ? "" : "s", b->last_error);
}
