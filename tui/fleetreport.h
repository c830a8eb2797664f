/*
 * fleetreport - the fleet view's report mode: one domain across nodes as
 * text (like mxtier --report) or JSON (mxtier(1), FLEET REPORT)
 *
 * The printers read a loaded struct fleet_domain (fleet.h) and nothing
 * else; the JSON keys follow the local report's (host_states, attempts,
 * explanation; an attempt is the same object with its node).
 */
#ifndef MXTIER_TUI_FLEETREPORT_H
#define MXTIER_TUI_FLEETREPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet.h"

/* fleet_report_text - the report of one domain as text */
void	fleet_report_text(FILE *fp, const struct fleet_domain *d, int64_t now_ms, bool utc);

/* fleet_report_json - the report of one domain as one JSON object (ends with a newline) */
void	fleet_report_json(FILE *fp, const struct fleet_domain *d);

/* fleet_node_words - "refused, last 10:02:11", "ok, last ...", "backoff until T (N failures)" */
void	fleet_node_words(const struct fleet_nodestate *s, int64_t now_ms, bool utc, char *out,
			 size_t len);

#endif
