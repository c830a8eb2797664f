/*
 * app - the state of the mxtier inspector and its event loop
 *
 * SYNOPSIS
 *	struct tui_app app;
 *	tui_app_init(&app, &opts, &cfg);	then tui_app_add_domain() ...
 *	tui_app_run(&app);			the interactive screen
 *	tui_app_free(&app);
 *
 *	tui_load_sync(&app, domain, &model, err, len)   report mode
 *
 * DESCRIPTION
 *	One context struct holds everything the program owns: options, the
 *	configuration, the read-only journal, the list of domains with their
 *	lookups and models (inspect.h), the focus, selections, filter and
 *	prompt. The loop (tui_app_run) polls the terminal and every running
 *	lookup in one poll() whose timeout (at most one second) also drives
 *	the journal check: new rows refill the models without a key press.
 *	Keys become actions through the key table (keys.h); actions change
 *	the state here; view.c draws the state and never changes it.
 *
 *	Nothing here writes: the journal is opened read-only.
 *
 * Ownership: tui_app_free() frees every lookup, result and model.
 */
#ifndef MXTIER_TUI_APP_H
#define MXTIER_TUI_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "domain.h"
#include "inspect.h"
#include "journal.h"
#include "resolve.h"

#define TUI_MAX_DOMAINS		256	/* the domain list is capped */
#define TUI_JOURNAL_DOMAINS	200	/* taken from the journal at most */
#define TUI_RECENT_DAYS		7	/* journal domains: attempts in the last 7 days */
#define TUI_MAX_LOOKUPS		8	/* lookups running at once; more wait */
#define TUI_TICK_MS		1000	/* journal check and clock */
#define TUI_FILTER_MAX		64	/* bytes of a filter or prompt text */
#define TUI_MAX_DNS_SERVERS	8

/* Options from the command line. */
struct tui_opts {
	const char *config_path;	/* -c, NULL = default */
	char   *dns_servers[TUI_MAX_DNS_SERVERS];	/* --dns-server */
	size_t	ndns_servers;
	const char *journal_path;	/* --journal, NULL = journal.path */
	bool	utc;
	bool	report;
	bool	json;
};

enum tui_origin { TUI_FROM_ARGS, TUI_FROM_JOURNAL, TUI_FROM_USER };

enum tui_dstate {
	TUI_D_IDLE,		/* not looked up yet */
	TUI_D_QUEUED,		/* waiting for a lookup slot */
	TUI_D_RESOLVING,
	TUI_D_READY,		/* a plan exists (maybe an older one while re-resolving) */
	TUI_D_FAILED		/* the lookup could not even start */
};

/* One domain of the list with its lookup and model. */
struct tui_domain {
	char	name[MX_DOMAIN_MAX + 1];
	enum tui_origin origin;
	enum tui_dstate state;
	bool	have_plan;		/* model.plan comes from a finished lookup */
	struct mx_lookup *lookup;	/* while resolving */
	struct mx_dns_result *dns;	/* the last answer: the plan is rebuilt from it */
	uint64_t seed;			/* same seed on every rebuild: a stable order */
	struct mx_domain_model model;	/* attempts even before the plan exists */
	bool	have_model;
	int64_t	resolved_ms;		/* when the last lookup finished */
	char	error[256];		/* why the lookup could not start, or "" */
};

enum tui_pane { TUI_PANE_DOMAINS, TUI_PANE_PLAN, TUI_PANE_ATTEMPTS, TUI_NPANES };

enum tui_prompt { TUI_PROMPT_NONE, TUI_PROMPT_FILTER, TUI_PROMPT_ADD };

/* Cursor and scroll position of one pane (rows of what the pane lists). */
struct tui_scroll {
	int	cursor;
	int	top;
};

struct tui_app {
	struct tui_opts opts;
	struct mx_config *cfg;		/* loaded by the caller, not owned */
	struct mx_resolver_opts ropts;
	struct mx_ip *ifaddrs;		/* local interface addresses (R9) */
	size_t	nifaddrs;

	char	journal_path[PATH_MAX];
	struct mx_journal *journal;	/* read-only; NULL when there is none (yet) */
	char	journal_note[256];	/* why not, for the status line */
	int64_t	journal_last_id;
	int64_t	journal_retry_ms;	/* when to try opening a missing journal again */

	struct tui_domain *domains;	/* TUI_MAX_DOMAINS entries */
	int	ndomains;
	int	selected;		/* index into domains, -1 none */
	int	domains_top;		/* scroll of the domain list (visible rows) */
	int	nrunning;		/* lookups in flight */

	enum tui_pane focus;
	struct tui_scroll plan_scroll;
	struct tui_scroll attempts_scroll;
	int	page_rows[TUI_NPANES];	/* rows each pane showed last time (view sets) */
	int	plan_rows;		/* rows the plan pane lists (view sets) */
	int	attempt_rows;		/* attempts passing the filter (view sets) */

	char	filter[TUI_FILTER_MAX + 1];	/* "" = none; UTF-8 */
	enum tui_prompt prompt;
	char	input[TUI_FILTER_MAX + 1];	/* the prompt line being typed */

	char	status[512];		/* the last message for the status line */
	bool	status_error;
	bool	help;			/* the key table overlay is shown */
	bool	colors;
	bool	utf8;			/* the locale's charset is UTF-8 */
	bool	quit;
	int	exit_status;
	int64_t	now_ms;			/* wall clock of this turn of the loop */
};

/* tui_app_init - set up from options and a loaded config; false + err on failure */
bool	tui_app_init(struct tui_app *app, const struct tui_opts *opts, struct mx_config *cfg,
		     char *err, size_t errlen);

/* tui_app_free - free everything the app owns */
void	tui_app_free(struct tui_app *app);

/* tui_app_add_domain - append a normalised domain (no duplicates); its index, or -1 if full */
int	tui_app_add_domain(struct tui_app *app, const char *domain, enum tui_origin origin);

/* tui_app_open_journal - (re)open the journal read-only; a missing one only leaves a note */
void	tui_app_open_journal(struct tui_app *app);

/* tui_app_run - the interactive screen until q; returns the exit status */
int	tui_app_run(struct tui_app *app);

/*
 * tui_load_sync - report mode: resolve domain (blocking), plan, and fill m
 * with the journal's rows; false + err when the lookup could not start
 */
bool	tui_load_sync(struct tui_app *app, const char *domain, struct mx_domain_model *m,
		      char *err, size_t errlen);

/* tui_filter_match - case-insensitive substring test ("" matches everything) */
bool	tui_filter_match(const char *filter, const char *text);

/* tui_attempt_matches - does an attempt row pass the filter (any shown field) */
bool	tui_attempt_matches(const struct tui_app *app, const struct mx_attempt_row *r);

/* tui_domain_visible - does domains[i] pass the filter */
bool	tui_domain_visible(const struct tui_app *app, int i);

#endif
