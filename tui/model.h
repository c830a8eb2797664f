/*
 * model - the state of the mxtier inspector: its domains, their lookups,
 * journal rows and plans, the focus, selections, filter and prompt
 *
 * SYNOPSIS
 *	struct tui_model m;
 *	tui_model_init(&m, &opts, &cfg, err, len);	then tui_model_add_domain() ...
 *	tui_model_open_journal(&m);
 *	tui_model_start(&m);			select the first domain
 *	loop: tui_model_pollfds(), poll(), tui_model_process(),
 *	      tui_model_key() / tui_model_edit() per input, tui_model_tick()
 *	tui_model_free(&m);
 *
 *	tui_load_sync(&m, domain, &dm, err, len)   report mode
 *
 * DESCRIPTION
 *	One context struct holds everything the inspector knows: options,
 *	the configuration, the read-only journal, the list of domains with
 *	their lookups and models (inspect.h), the focus, selections, filter
 *	and prompt. The model knows nothing of the terminal: keys arrive as
 *	abstract actions (enum tui_action; keys.c maps key codes to them) or
 *	prompt edits (enum tui_edit), and the geometry a view last used comes
 *	back as plain numbers (struct tui_geom: rows per page, rows listed,
 *	scroll positions) so that actions can move by a page. The views (the
 *	curses screen in view.c, the report in mxtier.c) only read it.
 *
 *	Lookups never block: the event loop (app.c) polls the descriptors
 *	tui_model_pollfds() hands out and gives the results back to
 *	tui_model_process(). Nothing here writes: the journal is opened
 *	read-only.
 *
 * Ownership: tui_model_free() frees every lookup, result and model.
 */
#ifndef MXTIER_TUI_MODEL_H
#define MXTIER_TUI_MODEL_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <wchar.h>

#include "addr.h"
#include "config.h"
#include "fleet.h"
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
#define TUI_MAX_POLLFDS		(1 + TUI_MAX_LOOKUPS * MX_LOOKUP_MAXFDS)
#define TUI_FLEET_REFRESH_MS	5000	/* fleet mode: the list and the open domain again */

/* Options from the command line. */
struct tui_opts {
	const char *config_path;	/* -c, NULL = default */
	char   *dns_servers[TUI_MAX_DNS_SERVERS];	/* --dns-server */
	size_t	ndns_servers;
	const char *journal_path;	/* --journal, NULL = journal.path */
	bool	utc;
	bool	report;
	bool	json;
	bool	fleet;			/* --fleet: the fleet database, not the journal */
};

/* What a key stands for (keys.c binds keys to these; the model executes them). */
enum tui_action {
	TUI_ACT_NONE = 0,
	TUI_ACT_UP,		/* selection up in the focused pane */
	TUI_ACT_DOWN,
	TUI_ACT_PAGE_UP,	/* scroll a page */
	TUI_ACT_PAGE_DOWN,
	TUI_ACT_HOME,		/* first row of the focused pane */
	TUI_ACT_END,
	TUI_ACT_FOCUS_NEXT,	/* domains -> plan -> attempts -> domains */
	TUI_ACT_FOCUS_PREV,
	TUI_ACT_OPEN,		/* load the selected domain, show its plan */
	TUI_ACT_FILTER,		/* prompt for a filter substring */
	TUI_ACT_ESCAPE,		/* close the help, else clear the filter */
	TUI_ACT_ADD,		/* prompt for a domain to add */
	TUI_ACT_RESOLVE,	/* look the selected domain up again */
	TUI_ACT_HELP,		/* show / hide the key table */
	TUI_ACT_REDRAW,		/* repaint the whole screen */
	TUI_ACT_QUIT
};

/* An edit of the prompt line (what a key typed into a prompt means). */
enum tui_edit {
	TUI_EDIT_NONE,		/* a key that does nothing in a prompt */
	TUI_EDIT_CHAR,		/* append a character */
	TUI_EDIT_BACKSPACE,	/* drop the last character */
	TUI_EDIT_KILL,		/* empty the line (Ctrl-U) */
	TUI_EDIT_ENTER,		/* accept */
	TUI_EDIT_ESCAPE		/* leave (a filter is cleared) */
};

/* What the view must do after an action besides drawing the new state. */
#define TUI_FX_REPAINT	0x1	/* repaint every cell (Ctrl-L) */

enum tui_origin { TUI_FROM_ARGS, TUI_FROM_JOURNAL, TUI_FROM_USER, TUI_FROM_FLEET };

enum tui_dstate {
	TUI_D_IDLE,		/* not looked up yet */
	TUI_D_QUEUED,		/* waiting for a lookup slot */
	TUI_D_RESOLVING,	/* (fleet mode: its rows are being read) */
	TUI_D_READY,		/* a plan exists (maybe an older one while re-resolving) */
	TUI_D_FAILED		/* the lookup could not even start (fleet: the read failed) */
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
	int64_t	fleet_last_ms;		/* fleet mode: its newest attempt (fleet_domains) */
	char	error[256];		/* why the lookup could not start, or "" */
};

enum tui_pane { TUI_PANE_DOMAINS, TUI_PANE_PLAN, TUI_PANE_ATTEMPTS, TUI_NPANES };

enum tui_prompt { TUI_PROMPT_NONE, TUI_PROMPT_FILTER, TUI_PROMPT_ADD };

/* Cursor and scroll position of one pane (rows of what the pane lists). */
struct tui_scroll {
	int	cursor;
	int	top;
};

/*
 * The geometry a view used for its last frame: the model's page moves and
 * cursor limits follow it. The view fills it from a copy of the model's
 * scroll positions, clamped to what it could show.
 */
struct tui_geom {
	int	page_rows[TUI_NPANES];	/* rows each pane showed */
	int	plan_rows;		/* rows the plan pane lists */
	int	attempt_rows;		/* attempts passing the filter */
	int	domains_top;		/* first domain row shown (of the visible ones) */
	struct tui_scroll plan_scroll;
	struct tui_scroll attempts_scroll;
};

/* Which domain's lookup owns which slice of the poll set (tui_model_pollfds). */
struct tui_pollslot {
	int	domain, first, n;
};

struct tui_model {
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
	int64_t	last_refill_ms;		/* monotonic: when the models were last refilled */

	struct tui_domain *domains;	/* TUI_MAX_DOMAINS entries */
	int	ndomains;
	int	selected;		/* index into domains, -1 none */
	int	domains_top;		/* scroll of the domain list (visible rows) */
	int	nrunning;		/* lookups in flight */
	struct tui_pollslot slots[TUI_MAX_LOOKUPS];	/* of the last tui_model_pollfds */
	int	nslots;

	enum tui_pane focus;
	struct tui_scroll plan_scroll;
	struct tui_scroll attempts_scroll;
	struct tui_geom geom;		/* what the view showed last */

	char	filter[TUI_FILTER_MAX + 1];	/* "" = none; UTF-8 */
	enum tui_prompt prompt;
	char	input[TUI_FILTER_MAX + 1];	/* the prompt line being typed */

	char	status[512];		/* the last message for the status line */
	bool	status_error;
	bool	help;			/* the key table overlay is shown */
	bool	quit;
	int	exit_status;
	int64_t	now_ms;			/* wall clock of this turn of the loop */
	int64_t	started_ms;		/* monotonic: when the model was made */

	/*
	 * Fleet mode (opts.fleet): the domain list and the selected domain come
	 * from the fleet database through the worker thread (fleetwork.h);
	 * there is no journal and no DNS. Only the selected domain's rows are
	 * kept (fdom), so memory stays flat however many domains are opened.
	 */
	struct fleet_worker *worker;
	char	fleet_url[1100];	/* the URL with its password masked, for the title */
	char	fleet_note[512];	/* why the database cannot be read, or "" */
	int	fleet_nnodes;		/* nodes of the fleet, from the last list */
	bool	fleet_listed;		/* a list has arrived */
	struct fleet_domain *fdom;	/* the selected domain's rows, or NULL */
	int64_t	fleet_next_ms;		/* monotonic: when to read again */
	int	fleet_pollfd;		/* index of the worker's fd in the last poll set, -1 */
};

/* tui_model_init - set up from options and a loaded config; false + err on failure */
bool	tui_model_init(struct tui_model *m, const struct tui_opts *opts, struct mx_config *cfg,
		       char *err, size_t errlen);

/* tui_model_free - free everything the model owns */
void	tui_model_free(struct tui_model *m);

/* tui_model_add_domain - append a normalised domain (no duplicates); its index, or -1 if full */
int	tui_model_add_domain(struct tui_model *m, const char *domain, enum tui_origin origin);

/* tui_model_open_journal - (re)open the journal read-only; a missing one only leaves a note */
void	tui_model_open_journal(struct tui_model *m);

/*
 * tui_model_fleet - fleet mode: the worker thread for url (fleet.url) and the
 * first read of the domain list; false + err when the thread cannot start
 */
bool	tui_model_fleet(struct tui_model *m, const char *url, char *err, size_t errlen);

/* tui_model_fleet_loading - is a read of the fleet database waiting or running */
bool	tui_model_fleet_loading(const struct tui_model *m);

/* tui_model_fleet_shown - the selected domain's fleet rows, when they are the selected one's */
const struct fleet_domain *tui_model_fleet_shown(const struct tui_model *m);

/* tui_model_start - the interactive session begins: select the first domain */
void	tui_model_start(struct tui_model *m);

/* tui_model_key - a key outside a prompt, as its action; TUI_FX_* flags for the view */
unsigned tui_model_key(struct tui_model *m, enum tui_action act);

/* tui_model_edit - a key typed into the prompt line (wc for TUI_EDIT_CHAR) */
void	tui_model_edit(struct tui_model *m, enum tui_edit edit, wint_t wc);

/* tui_model_set_geom - what the view showed: keeps the cursors within it */
void	tui_model_set_geom(struct tui_model *m, const struct tui_geom *g);

/*
 * tui_model_pollfds - start waiting lookups, then the descriptors of every
 * running lookup into fds (at most max); lowers *timeout_ms to the earliest
 * resolver timeout. Returns how many fds it wrote.
 */
int	tui_model_pollfds(struct tui_model *m, struct pollfd *fds, int max, int *timeout_ms);

/* tui_model_process - after poll(): feed the lookups; true when the state changed */
bool	tui_model_process(struct tui_model *m, const struct pollfd *fds);

/* tui_model_tick - once a second: reopen or re-read the journal; true when it changed */
bool	tui_model_tick(struct tui_model *m);

/*
 * tui_load_sync - report mode: resolve domain (blocking), plan, and fill dm
 * with the journal's rows; false + err when the lookup could not start
 */
bool	tui_load_sync(struct tui_model *m, const char *domain, struct mx_domain_model *dm,
		      char *err, size_t errlen);

/* tui_filter_match - case-insensitive substring test ("" matches everything) */
bool	tui_filter_match(const char *filter, const char *text);

/* tui_attempt_matches - does an attempt row pass the filter (any shown field) */
bool	tui_attempt_matches(const struct tui_model *m, const struct mx_attempt_row *r);

/* tui_domain_visible - does domains[i] pass the filter */
bool	tui_domain_visible(const struct tui_model *m, int i);

#endif
