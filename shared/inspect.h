/*
 * inspect - the model the inspector shows: a domain's plan, the state of
 * its hosts, its recent delivery attempts, and one sentence explaining
 * where the last delivery went and why
 *
 * The same model feeds the TUI (tui/) and the report mode (mxtier
 * --report), so both always say the same. mx_explain() is pure (rows and
 * the time zone in, a sentence out) so every explanation has a unit test.
 *
 * Ownership: mx_domain_model_load() fills a caller-owned struct whose plan,
 * attempts and host states are freed with mx_domain_model_clear(); the
 * plan passed in is taken over by the model.
 */
#ifndef MXTIER_INSPECT_H
#define MXTIER_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "journal.h"
#include "plan.h"

#define MX_MODEL_ATTEMPTS 50	/* recent attempts kept per domain */

/* The journal's view of one address of the plan. */
struct mx_addr_state {
	const struct mx_plan_host *host;	/* points into the model's plan */
	const struct mx_plan_addr *addr;
	enum { MX_STATE_UNKNOWN, MX_STATE_OK, MX_STATE_FAILING, MX_STATE_BACKOFF } state;
	int	failures;
	int64_t	retry_at_ms;			/* MX_STATE_BACKOFF: until when */
	int64_t	last_ts_ms;			/* newest attempt to it, 0 none */
	char	last_error[256];
	char	node[128];			/* MX_STATE_BACKOFF learned from this fleet node, or "" */
};

struct mx_domain_model {
	char	domain[254];
	struct mx_plan *plan;			/* NULL while the lookup runs */
	struct mx_attempt_row *attempts;	/* newest first */
	int	nattempts;
	struct mx_addr_state *states;		/* one per address of the plan, plan order */
	size_t	nstates;
	char	explanation[1024];
	char	journal_error[256];		/* why attempts could not be read, or "" */
	char	note[600];			/* the newest note of an imported log, or "" */
	int64_t	note_ts_ms;
};

/*
 * mx_explain - one sentence for the support question "why did this mail go
 * there?" from attempts (newest first) of one domain, e.g. "last delivery
 * 10:02:42 went to backup.example.net (pref 20) because mx1.example.net
 * (pref 10) refused the connection and mx2.example.net (pref 10) answered
 * 421 at greeting". utc chooses UTC times instead of local ones.
 */
void	mx_explain(const struct mx_attempt_row *rows, int n, const char *domain, bool utc,
		   char *out, size_t len);

/*
 * mx_domain_model_fill - attach a plan (taken over) and read the journal
 * (may be NULL: no attempts, states unknown) for it; now_ms decides
 * whether a backoff is still running. port (smtp.port) is the port of an
 * address whose newest attempt names none (an Exim log does not say), the
 * one mxtier-import keeps its backoff under. With fleet (policy.fleet_backoff)
 * an address that R13 skips for another node's failure is in state backoff
 * with that node in its state's node, as mxtier-pipe would see it.
 */
void	mx_domain_model_fill(struct mx_domain_model *m, const char *domain, struct mx_plan *plan,
			     struct mx_journal *j, int64_t now_ms, bool utc, int port, bool fleet);

/* mx_domain_model_clear - free what the model holds */
void	mx_domain_model_clear(struct mx_domain_model *m);

/* mx_addr_state_name - "ok", "failing", "backoff", "unknown" */
const char *mx_addr_state_name(const struct mx_addr_state *s);

/*
 * mx_addr_state_words - the state as the report and the screen say it: "ok",
 * "failing", "backoff until T (N failures)" (T by mx_format_time), "backoff
 * (from relay3) until T (N failures)" for one learned from the fleet, or
 * "no attempts"
 */
void	mx_addr_state_words(const struct mx_addr_state *s, int64_t now_ms, bool utc, char *out,
			    size_t len);

/* mx_report_print_text - the report for one domain, as text */
void	mx_report_print_text(FILE *fp, const struct mx_domain_model *m, bool utc);

/* mx_report_print_json - route JSON + "host_states", "attempts", "explanation" */
void	mx_report_print_json(FILE *fp, const struct mx_domain_model *m);

/*
 * mx_attempt_print_json - one attempt row as the JSON object of the
 * report's "attempts" array (ts, queue_id, ..., source, node), no newline
 */
void	mx_attempt_print_json(FILE *fp, const struct mx_attempt_row *r);

/* mx_format_time - "HH:MM:SS" today, else "YYYY-MM-DD HH:MM:SS", local or UTC */
void	mx_format_time(int64_t ms, int64_t now_ms, bool utc, char *out, size_t len);

#endif
