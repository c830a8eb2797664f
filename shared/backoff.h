/*
 * backoff - R13's decision on one address, pure: which backoff state holds
 * it back at a given time, and the words that say so
 *
 * The state comes from two places: this node's own failures (the journal's
 * table backoff) and, with policy.fleet_backoff, the failures other nodes
 * of the fleet saw (table fleet_backoff, which mxtier-ship's pull fills).
 * This node's own state comes first; a state taken from the fleet carries
 * the name of the node whose failure it is, so that every explanation can
 * name it. No I/O and no clock here: the caller reads the journal
 * (mx_journal_backoff_at()) and passes the time.
 *
 * Ownership: everything is caller-owned, fixed-size; nothing is allocated.
 */
#ifndef MXTIER_BACKOFF_H
#define MXTIER_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal.h"

/* mx_backoff_running - whether b holds its address back at now_ms */
bool	mx_backoff_running(const struct mx_backoff *b, int64_t now_ms);

/* mx_backoff_from_fleet - a fleet entry as the state R13 sees, its node named */
void	mx_backoff_from_fleet(const struct mx_journal_fleet_backoff *f, struct mx_backoff *out);

/*
 * mx_backoff_pick - the state that holds an address back at now_ms: this
 * node's own (local) when it runs, else the fleet's (fleet, NULL: none) when
 * it runs; true and *out filled, or false and *out cleared when neither
 */
bool	mx_backoff_pick(const struct mx_backoff *local, const struct mx_backoff *fleet,
			int64_t now_ms, struct mx_backoff *out);

/*
 * mx_backoff_words - "in backoff until WHEN after N failures (last: E)", or
 * for a state learned from another node "in backoff learned from NODE until
 * WHEN after N failures (last: E)"; when is the caller's formatted time
 */
void	mx_backoff_words(const struct mx_backoff *b, const char *when, char *out, size_t len);

#endif
