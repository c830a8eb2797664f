/*
 * model - the inspector's state and what changes it (see model.h)
 *
 * Actions come in from the loop (app.c) as enum tui_action or prompt edits;
 * lookups run from tui_model_pollfds() / tui_model_process(), so DNS never
 * blocks the screen; once a second tui_model_tick() looks at the journal's
 * newest row id and refills the models when it moved. No curses here: the
 * view (view.c) reads this state and hands back only the geometry it used.
 */
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "model.h"
#include "clock.h"
#include "config.h"
#include "fleetwork.h"
#include "idn.h"
#include "plan.h"
#include "rng.h"
#include "routetls.h"

#define TUI_REFILL_MS	10000	/* refill models at least this often (backoff times pass) */
#define TUI_REOPEN_MS	3000	/* try a missing journal again */

/* fresh_seed - a random 64-bit seed for the equal-preference shuffle (R2) */
static uint64_t
fresh_seed(void)
{
	struct mx_rng rng;

	mx_rng_seed_fresh(&rng);
	return mx_rng_next(&rng);
}

/* set_status - a message for the status line (error: shown as such) */
static void
set_status(struct tui_model *m, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_status(struct tui_model *m, bool error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(m->status, sizeof(m->status), fmt, ap);
	va_end(ap);
	m->status_error = error;
}

/* tui_filter_match - case-insensitive substring test ("" matches everything) */
bool
tui_filter_match(const char *filter, const char *text)
{
	size_t	fl = strlen(filter), i;

	if (fl == 0)
		return true;
	for (i = 0; text[i] != '\0'; i++)
		if (strncasecmp(text + i, filter, fl) == 0)
			return true;
	return false;
}

/* tui_attempt_matches - does an attempt pass the filter: any field the table shows */
bool
tui_attempt_matches(const struct tui_model *m, const struct mx_attempt_row *r)
{
	const char *f = m->filter;
	char	num[16];

	if (f[0] == '\0')
		return true;
	snprintf(num, sizeof(num), "%d", r->reply_code);
	return tui_filter_match(f, r->recipient) || tui_filter_match(f, r->host) ||
	    tui_filter_match(f, r->address) || tui_filter_match(f, r->stage) ||
	    (r->reply_code > 0 && tui_filter_match(f, num)) ||
	    tui_filter_match(f, r->enhanced_status) || tui_filter_match(f, r->reply_text) ||
	    tui_filter_match(f, r->outcome) || tui_filter_match(f, r->decision) ||
	    tui_filter_match(f, r->reason) || tui_filter_match(f, r->queue_id) ||
	    (m->opts.fleet && tui_filter_match(f, r->node));
}

/* tui_domain_visible - does domains[i] pass the filter */
bool
tui_domain_visible(const struct tui_model *m, int i)
{
	return i >= 0 && i < m->ndomains && tui_filter_match(m->filter, m->domains[i].name);
}

/* tui_model_init - options, config and resolver options; no terminal yet */
bool
tui_model_init(struct tui_model *m, const struct tui_opts *opts, struct mx_config *cfg,
	     char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->opts = *opts;
	m->cfg = cfg;
	mx_route_resolver_opts(cfg, (char *const *)m->opts.dns_servers,
				     opts->ndns_servers, &m->ropts);
	snprintf(m->journal_path, sizeof(m->journal_path), "%s",
		 opts->journal_path != NULL ? opts->journal_path : cfg->journal.path);
	m->domains = calloc(TUI_MAX_DOMAINS, sizeof(*m->domains));
	if (m->domains == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	m->selected = -1;
	m->fleet_pollfd = -1;
	m->journal_last_id = -1;
	m->focus = TUI_PANE_DOMAINS;
	m->now_ms = mx_clock_wall_ms();
	m->started_ms = mx_clock_mono_ms();
	if (!mx_resolver_library_init(err, errlen))
		return false;
	m->ifaddrs = mx_local_addrs(&m->nifaddrs);
	return true;
}

/* tui_model_free - every lookup, answer, model and the journal */
void
tui_model_free(struct tui_model *m)
{
	int	i;

	for (i = 0; m->domains != NULL && i < m->ndomains; i++) {
		mx_lookup_free(m->domains[i].lookup);
		mx_dns_result_free(m->domains[i].dns);
		mx_domain_model_clear(&m->domains[i].model);
	}
	free(m->domains);
	free(m->ifaddrs);
	fleet_worker_stop(m->worker);
	fleet_domain_free(m->fdom);
	mx_journal_close(m->journal);
	memset(m, 0, sizeof(*m));
}

/* tui_model_add_domain - append (normalised) domain unless it is listed; its index */
int
tui_model_add_domain(struct tui_model *m, const char *domain, enum tui_origin origin)
{
	struct tui_domain *d;
	int	i;

	for (i = 0; i < m->ndomains; i++)
		if (strcmp(m->domains[i].name, domain) == 0)
			return i;
	if (m->ndomains >= TUI_MAX_DOMAINS)
		return -1;
	d = &m->domains[m->ndomains];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", domain);
	d->origin = origin;
	d->state = TUI_D_IDLE;
	d->seed = fresh_seed();
	return m->ndomains++;
}

/* rebuild - plan from the last answer (same seed: same order) + the journal's rows */
static void
rebuild(struct tui_model *m, struct tui_domain *d)
{
	struct mx_plan *plan = NULL;

	if (d->dns != NULL) {
		struct mx_plan_env env = { m->ifaddrs, m->nifaddrs, NULL };
		struct mx_sts_state *sts = malloc(sizeof(*sts));
		struct mx_rng rng;

		/* the screen never waits on a fetch: the journal's cached policy only */
		if (sts != NULL) {
			mx_route_sts(m->cfg, m->journal, &m->ropts, d->dns, m->now_ms, false,
				     sts);
			mx_route_sts_env(sts, &env);
		}
		mx_rng_seed(&rng, d->seed);
		plan = mx_plan_build(d->dns, &m->cfg->policy, &env, &rng);
		if (plan == NULL)
			snprintf(d->error, sizeof(d->error), "out of memory building the plan");
		else if (sts != NULL)
			mx_route_sts_note(plan, sts);
		free(sts);
	}
	/* fill frees the old plan, attempts and states first */
	mx_domain_model_fill(&d->model, d->name, plan, m->journal, m->now_ms, m->opts.utc,
			     m->cfg->smtp.port, m->cfg->fleet_backoff);
	d->have_model = true;
	d->have_plan = plan != NULL;
}

/* add_journal_domains - domains with attempts in the last days, newest first */
static void
add_journal_domains(struct tui_model *m)
{
	char	(*names)[254];
	int	n, i;
	int64_t	since = m->now_ms - (int64_t)TUI_RECENT_DAYS * 86400 * 1000;

	if (m->journal == NULL)
		return;
	names = calloc(TUI_JOURNAL_DOMAINS, sizeof(*names));
	if (names == NULL)
		return;
	n = mx_journal_recent_domains(m->journal, since, names, TUI_JOURNAL_DOMAINS);
	if (n < 0)
		set_status(m, true, "journal: %s", mx_journal_error(m->journal));
	for (i = 0; i < n; i++) {
		char	norm[MX_DOMAIN_MAX + 1], why[160];

		/* the journal holds what the MTA gave; list only real domain names */
		if (mx_idn_domain(names[i], norm, sizeof(norm), why, sizeof(why)) == MX_IDN_OK)
			tui_model_add_domain(m, norm, TUI_FROM_JOURNAL);
	}
	free(names);
}

/* tui_model_open_journal - read-only; a missing journal is no error, only a note */
void
tui_model_open_journal(struct tui_model *m)
{
	char	err[512];

	if (m->journal != NULL)
		return;
	m->journal = mx_journal_open(m->journal_path, true, err, sizeof(err));
	if (m->journal == NULL) {
		snprintf(m->journal_note, sizeof(m->journal_note), "%.250s", err);
		m->journal_retry_ms = mx_clock_mono_ms() + TUI_REOPEN_MS;
		return;
	}
	m->journal_note[0] = '\0';
	m->journal_last_id = mx_journal_last_id(m->journal);
	add_journal_domains(m);
}

/* refill_all - new journal rows (or time passed): refill every model shown so far */
static void
refill_all(struct tui_model *m)
{
	int	i;

	for (i = 0; i < m->ndomains; i++)
		if (m->domains[i].have_model)
			rebuild(m, &m->domains[i]);
}

/* start_lookup - begin resolving d (a running lookup is replaced) */
static void
start_lookup(struct tui_model *m, struct tui_domain *d)
{
	char	err[256];

	if (d->lookup != NULL) {
		mx_lookup_free(d->lookup);
		d->lookup = NULL;
		m->nrunning--;
	}
	d->error[0] = '\0';
	d->lookup = mx_lookup_start(&m->ropts, d->name, err, sizeof(err));
	if (d->lookup == NULL) {
		d->state = TUI_D_FAILED;
		snprintf(d->error, sizeof(d->error), "cannot look up: %.230s", err);
		set_status(m, true, "%s: %s", d->name, d->error);
		return;
	}
	d->state = TUI_D_RESOLVING;
	m->nrunning++;
}

/* pump_lookups - start waiting lookups while slots are free, the selected one first */
static void
pump_lookups(struct tui_model *m)
{
	int	i;

	if (m->selected >= 0 && m->domains[m->selected].state == TUI_D_QUEUED &&
	    m->nrunning < TUI_MAX_LOOKUPS)
		start_lookup(m, &m->domains[m->selected]);
	for (i = 0; i < m->ndomains && m->nrunning < TUI_MAX_LOOKUPS; i++)
		if (m->domains[i].state == TUI_D_QUEUED)
			start_lookup(m, &m->domains[i]);
}

/* fleet_request - fleet mode: read d's rows from the fleet database (the worker) */
static void
fleet_request(struct tui_model *m, struct tui_domain *d)
{
	if (m->worker == NULL)
		return;
	fleet_worker_request(m->worker, FLEET_JOB_DOMAIN, d->name);
	d->state = TUI_D_RESOLVING;
	d->error[0] = '\0';
}

/* request_lookup - resolve d now if a slot is free, else queue it; force restarts */
static void
request_lookup(struct tui_model *m, struct tui_domain *d, bool force)
{
	if (m->opts.fleet) {
		fleet_request(m, d);
		return;
	}
	if (d->state == TUI_D_RESOLVING && !force)
		return;
	if (d->state == TUI_D_RESOLVING || m->nrunning < TUI_MAX_LOOKUPS)
		start_lookup(m, d);
	else
		d->state = TUI_D_QUEUED;
}

/* finish_lookup - a lookup is done: keep its answer, plan, fill */
static void
finish_lookup(struct tui_model *m, struct tui_domain *d)
{
	struct mx_dns_result *dns = mx_lookup_take_result(d->lookup);

	mx_lookup_free(d->lookup);
	d->lookup = NULL;
	m->nrunning--;
	if (dns == NULL) {
		d->state = TUI_D_FAILED;
		snprintf(d->error, sizeof(d->error), "the lookup gave no result");
		return;
	}
	mx_dns_result_free(d->dns);
	d->dns = dns;
	d->seed = fresh_seed();		/* a new lookup may shuffle equal preferences anew */
	d->resolved_ms = m->now_ms;
	d->state = TUI_D_READY;
	rebuild(m, d);
}

/* select_domain - make domains[i] the selected one and load what it needs */
static void
select_domain(struct tui_model *m, int i)
{
	struct tui_domain *d;

	if (i == m->selected)
		return;
	m->selected = i;
	m->plan_scroll.cursor = m->plan_scroll.top = 0;
	m->attempts_scroll.cursor = m->attempts_scroll.top = 0;
	if (i < 0)
		return;
	d = &m->domains[i];
	if (m->opts.fleet) {
		/* only the selected domain's rows are kept: memory stays flat */
		if (m->fdom != NULL && strcmp(m->fdom->name, d->name) != 0) {
			fleet_domain_free(m->fdom);
			m->fdom = NULL;
		}
		if (m->fdom == NULL || d->state == TUI_D_IDLE)
			fleet_request(m, d);
		return;
	}
	if (!d->have_model)
		rebuild(m, d);	/* the attempts show while the lookup runs */
	if (d->state == TUI_D_IDLE)
		request_lookup(m, d, false);
}

/* visible_index - position of domains[i] among the visible ones, -1 if hidden */
static int
visible_index(const struct tui_model *m, int i)
{
	int	k, n = 0;

	for (k = 0; k < m->ndomains; k++)
		if (tui_domain_visible(m, k)) {
			if (k == i)
				return n;
			n++;
		}
	return -1;
}

/* nth_visible - the domain index of the n-th visible domain (clamped), -1 if none */
static int
nth_visible(const struct tui_model *m, int n)
{
	int	k, seen = 0, last = -1;

	for (k = 0; k < m->ndomains; k++)
		if (tui_domain_visible(m, k)) {
			if (seen == n)
				return k;
			last = k;
			seen++;
		}
	return last;
}

/* filter_changed - keep the selection on a visible domain */
static void
filter_changed(struct tui_model *m)
{
	m->attempts_scroll.cursor = m->attempts_scroll.top = 0;
	m->domains_top = 0;
	if (!tui_domain_visible(m, m->selected))
		select_domain(m, nth_visible(m, 0));
}

/* move_in_pane - cursor movement by delta rows (INT_MIN/INT_MAX: to the ends) */
static void
move_in_pane(struct tui_model *m, int delta)
{
	struct tui_scroll *s;
	int	rows;

	if (m->focus == TUI_PANE_DOMAINS) {
		int	cur = visible_index(m, m->selected), target;

		if (cur < 0)
			cur = 0;
		target = delta == INT_MIN ? 0 : delta == INT_MAX ? INT_MAX / 2 : cur + delta;
		if (target < 0)
			target = 0;
		select_domain(m, nth_visible(m, target));
		return;
	}
	if (m->focus == TUI_PANE_PLAN) {
		s = &m->plan_scroll;
		rows = m->geom.plan_rows;
	} else {
		s = &m->attempts_scroll;
		rows = m->geom.attempt_rows;
	}
	if (delta == INT_MIN)
		s->cursor = 0;
	else if (delta == INT_MAX)
		s->cursor = rows - 1;
	else
		s->cursor += delta;
	if (s->cursor > rows - 1)
		s->cursor = rows - 1;
	if (s->cursor < 0)
		s->cursor = 0;
}

/* add_from_prompt - "a": validate, add, select, look up */
static void
add_from_prompt(struct tui_model *m, const char *text)
{
	char	norm[MX_DOMAIN_MAX + 1], why[200];
	int	i;

	if (text[0] == '\0')
		return;
	if (mx_idn_domain(text, norm, sizeof(norm), why, sizeof(why)) != MX_IDN_OK) {
		set_status(m, true, "cannot add \"%.80s\": %s", text, why);
		return;
	}
	i = tui_model_add_domain(m, norm, TUI_FROM_USER);
	if (i < 0) {
		set_status(m, true, "cannot add %s: the list is full (%d domains)", norm,
			   TUI_MAX_DOMAINS);
		return;
	}
	if (!tui_domain_visible(m, i)) {
		m->filter[0] = '\0';
		filter_changed(m);
	}
	select_domain(m, i);
	set_status(m, false, "added %s", norm);
}

/* do_action - execute one action of the key table; TUI_FX_* for the view */
static unsigned
do_action(struct tui_model *m, enum tui_action act)
{
	int	page;

	if (m->help && act != TUI_ACT_QUIT && act != TUI_ACT_REDRAW) {
		m->help = false;	/* any key closes the key table */
		return 0;
	}
	page = m->geom.page_rows[m->focus] > 1 ? m->geom.page_rows[m->focus] - 1 : 1;
	switch (act) {
	case TUI_ACT_NONE:
		break;
	case TUI_ACT_UP:
		move_in_pane(m, -1);
		break;
	case TUI_ACT_DOWN:
		move_in_pane(m, 1);
		break;
	case TUI_ACT_PAGE_UP:
		move_in_pane(m, -page);
		break;
	case TUI_ACT_PAGE_DOWN:
		move_in_pane(m, page);
		break;
	case TUI_ACT_HOME:
		move_in_pane(m, INT_MIN);
		break;
	case TUI_ACT_END:
		move_in_pane(m, INT_MAX);
		break;
	case TUI_ACT_FOCUS_NEXT:
		m->focus = (enum tui_pane)((m->focus + 1) % TUI_NPANES);
		break;
	case TUI_ACT_FOCUS_PREV:
		m->focus = (enum tui_pane)((m->focus + TUI_NPANES - 1) % TUI_NPANES);
		break;
	case TUI_ACT_OPEN:
		if (m->selected >= 0) {
			struct tui_domain *d = &m->domains[m->selected];

			if (d->state == TUI_D_IDLE || d->state == TUI_D_FAILED)
				request_lookup(m, d, false);
			m->focus = TUI_PANE_PLAN;
		}
		break;
	case TUI_ACT_FILTER:
		m->prompt = TUI_PROMPT_FILTER;
		snprintf(m->input, sizeof(m->input), "%s", m->filter);
		break;
	case TUI_ACT_ESCAPE:
		if (m->filter[0] != '\0') {
			m->filter[0] = '\0';
			filter_changed(m);
			set_status(m, false, "filter cleared");
		}
		break;
	case TUI_ACT_ADD:
		m->prompt = TUI_PROMPT_ADD;
		m->input[0] = '\0';
		break;
	case TUI_ACT_RESOLVE:
		if (m->selected >= 0) {
			request_lookup(m, &m->domains[m->selected], true);
			if (m->opts.fleet && m->worker != NULL)
				fleet_worker_request(m->worker, FLEET_JOB_LIST, NULL);
			set_status(m, false, "%s %s again", m->opts.fleet ? "reading" : "resolving",
				   m->domains[m->selected].name);
		}
		break;
	case TUI_ACT_HELP:
		m->help = true;
		break;
	case TUI_ACT_REDRAW:
		return TUI_FX_REPAINT;
	case TUI_ACT_QUIT:
		m->quit = true;
		m->exit_status = 0;
		break;
	}
	return 0;
}

/* tui_model_key - a key outside a prompt: the last message goes, the action runs */
unsigned
tui_model_key(struct tui_model *m, enum tui_action act)
{
	m->status[0] = '\0';
	return do_action(m, act);
}

/* input_backspace - drop the last UTF-8 character of the prompt line */
static void
input_backspace(char *s)
{
	size_t	n = strlen(s);

	while (n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0x80)
		n--;
	if (n > 0)
		n--;
	s[n] = '\0';
}

/* input_append - add one typed character (as UTF-8) if it fits */
static void
input_append(char *s, size_t size, wint_t wc)
{
	char	mb[MB_LEN_MAX];
	mbstate_t st;
	size_t	n, len = strlen(s);

	if (!iswprint(wc))
		return;
	memset(&st, 0, sizeof(st));
	n = wcrtomb(mb, (wchar_t)wc, &st);
	if (n == (size_t)-1 || len + n >= size)
		return;
	memcpy(s + len, mb, n);
	s[len + n] = '\0';
}

/* tui_model_edit - a key typed into the prompt line */
void
tui_model_edit(struct tui_model *m, enum tui_edit edit, wint_t wc)
{
	enum tui_prompt p = m->prompt;

	if (p == TUI_PROMPT_NONE)
		return;
	switch (edit) {
	case TUI_EDIT_ESCAPE:			/* leave the prompt */
		m->prompt = TUI_PROMPT_NONE;
		if (p == TUI_PROMPT_FILTER && m->filter[0] != '\0') {
			m->filter[0] = '\0';	/* Esc clears the filter */
			filter_changed(m);
			set_status(m, false, "filter cleared");
		}
		return;
	case TUI_EDIT_ENTER:
		m->prompt = TUI_PROMPT_NONE;
		if (p == TUI_PROMPT_ADD)
			add_from_prompt(m, m->input);
		else if (m->filter[0] != '\0')
			set_status(m, false, "filter \"%s\" (Esc clears)", m->filter);
		return;
	case TUI_EDIT_BACKSPACE:
		input_backspace(m->input);
		break;
	case TUI_EDIT_KILL:
		m->input[0] = '\0';
		break;
	case TUI_EDIT_CHAR:
		input_append(m->input, sizeof(m->input), wc);
		break;
	default:
		return;
	}
	if (p == TUI_PROMPT_FILTER &&
	    strcmp(m->filter, m->input) != 0) {
		snprintf(m->filter, sizeof(m->filter), "%s", m->input);
		filter_changed(m);
	}
}

/* tui_model_set_geom - keep what the view showed; cursors stay within it */
void
tui_model_set_geom(struct tui_model *m, const struct tui_geom *g)
{
	m->geom = *g;
	m->domains_top = g->domains_top;
	m->plan_scroll = g->plan_scroll;
	m->attempts_scroll = g->attempts_scroll;
}

/* tui_model_start - the interactive session begins */
void
tui_model_start(struct tui_model *m)
{
	m->last_refill_ms = mx_clock_mono_ms();
	m->fleet_next_ms = m->last_refill_ms + TUI_FLEET_REFRESH_MS;
	if (m->selected < 0 && m->ndomains > 0)
		select_domain(m, 0);
	if (m->ndomains == 0 && !m->opts.fleet)
		set_status(m, false, "no domains yet: press a to add one");
}

/* fleet_list_arrived - the fleet's newest domains: the list in their order, the selection kept */
static void
fleet_list_arrived(struct tui_model *m, const struct fleet_list *l)
{
	struct tui_domain *old = m->domains, *nd;
	char	sel[MX_DOMAIN_MAX + 1] = "";
	int	i, k, n = 0;

	if ((nd = calloc(TUI_MAX_DOMAINS, sizeof(*nd))) == NULL) {
		set_status(m, true, "out of memory");
		return;
	}
	if (m->selected >= 0)
		snprintf(sel, sizeof(sel), "%s", old[m->selected].name);
	/* the domains named on the command line or added by hand first, as they were */
	for (i = 0; i < m->ndomains; i++)
		if (old[i].origin != TUI_FROM_FLEET)
			nd[n++] = old[i];
	for (i = 0; i < l->ndomains && n < TUI_MAX_DOMAINS; i++) {
		char	norm[MX_DOMAIN_MAX + 1], why[160];

		/* the fleet holds what the MTAs gave; list only real domain names */
		if (mx_idn_domain(l->domains[i].name, norm, sizeof(norm), why, sizeof(why)) !=
		    MX_IDN_OK)
			continue;
		for (k = 0; k < n && strcmp(nd[k].name, norm) != 0; k++)
			;
		if (k < n) {
			nd[k].fleet_last_ms = l->domains[i].last_ts_ms;
			continue;
		}
		for (k = 0; k < m->ndomains && strcmp(old[k].name, norm) != 0; k++)
			;
		if (k < m->ndomains) {
			nd[n] = old[k];
		} else {
			memset(&nd[n], 0, sizeof(nd[n]));
			snprintf(nd[n].name, sizeof(nd[n].name), "%s", norm);
			nd[n].origin = TUI_FROM_FLEET;
		}
		nd[n++].fleet_last_ms = l->domains[i].last_ts_ms;
	}
	/* the selected domain stays listed even when it fell off the fleet's newest */
	m->selected = -1;
	for (k = 0; k < n && strcmp(nd[k].name, sel) != 0; k++)
		;
	if (sel[0] != '\0' && k == n && n < TUI_MAX_DOMAINS)
		for (i = 0; i < m->ndomains; i++)
			if (strcmp(old[i].name, sel) == 0)
				nd[n++] = old[i];
	if (sel[0] != '\0')
		for (k = 0; k < n; k++)
			if (strcmp(nd[k].name, sel) == 0)
				m->selected = k;
	free(old);
	m->domains = nd;
	m->ndomains = n;
	m->fleet_nnodes = l->nnodes;
	m->fleet_listed = true;
	if (m->selected < 0 && n > 0 && tui_domain_visible(m, 0))
		select_domain(m, 0);
}

/* without_url - libpq's words of "fleet database URL: words" (mx_fleetdb_connect) */
static const char *
without_url(const char *err)
{
	const char *p;

	if (strncmp(err, "fleet database ", 15) == 0 && (p = strstr(err + 15, ": ")) != NULL)
		return p + 2;
	return err;
}

/* fleet_results - what the worker finished: the list, or the selected domain's rows */
static bool
fleet_results(struct tui_model *m)
{
	struct fleet_result res;
	bool	changed = false;
	int	i;

	while (fleet_worker_take(m->worker, &res)) {
		changed = true;
		if (!res.ok) {
			if (res.down)	/* the title shows the URL: the reason first */
				snprintf(m->fleet_note, sizeof(m->fleet_note),
					 "fleet unreachable, retrying: %.470s", without_url(res.err));
			else
				snprintf(m->fleet_note, sizeof(m->fleet_note), "%.500s", res.err);
			for (i = 0; i < m->ndomains; i++)
				if (res.kind == FLEET_JOB_DOMAIN &&
				    strcmp(m->domains[i].name, res.domain) == 0) {
					m->domains[i].state = TUI_D_FAILED;
					snprintf(m->domains[i].error, sizeof(m->domains[i].error),
						 "%.250s", res.err);
				}
			fleet_result_clear(&res);
			continue;
		}
		m->fleet_note[0] = '\0';
		if (res.kind == FLEET_JOB_LIST) {
			fleet_list_arrived(m, res.list);
		} else {
			for (i = 0; i < m->ndomains; i++)
				if (strcmp(m->domains[i].name, res.domain) == 0) {
					m->domains[i].state = TUI_D_READY;
					m->domains[i].resolved_ms = m->now_ms;
				}
			if (m->selected >= 0 && strcmp(m->domains[m->selected].name, res.domain) == 0) {
				fleet_domain_free(m->fdom);
				m->fdom = res.dom;	/* taken over */
				res.dom = NULL;
				if (res.list == NULL && m->fdom->nnodes > 0)
					m->fleet_nnodes = m->fdom->nnodes;
			}
		}
		fleet_result_clear(&res);
	}
	return changed;
}

/* fleet_tick - every TUI_FLEET_REFRESH_MS: the list and the selected domain again */
static bool
fleet_tick(struct tui_model *m, int64_t now)
{
	if (m->worker == NULL || now < m->fleet_next_ms || fleet_worker_busy(m->worker))
		return false;
	fleet_worker_request(m->worker, FLEET_JOB_LIST, NULL);
	if (m->selected >= 0)
		fleet_worker_request(m->worker, FLEET_JOB_DOMAIN, m->domains[m->selected].name);
	m->fleet_next_ms = now + TUI_FLEET_REFRESH_MS;
	return true;
}

/* tui_model_fleet - fleet mode: the worker, the first list */
bool
tui_model_fleet(struct tui_model *m, const char *url, char *err, size_t errlen)
{
	mx_fleet_url_mask(url, m->fleet_url, sizeof(m->fleet_url));
	if ((m->worker = fleet_worker_start(url, m->opts.utc, err, errlen)) == NULL)
		return false;
	fleet_worker_request(m->worker, FLEET_JOB_LIST, NULL);
	return true;
}

/* tui_model_fleet_loading - a read waits or runs */
bool
tui_model_fleet_loading(const struct tui_model *m)
{
	return m->worker != NULL && fleet_worker_busy(m->worker);
}

/* tui_model_fleet_shown - fdom when it belongs to the selected domain */
const struct fleet_domain *
tui_model_fleet_shown(const struct tui_model *m)
{
	if (m->fdom == NULL || m->selected < 0 ||
	    strcmp(m->fdom->name, m->domains[m->selected].name) != 0)
		return NULL;
	return m->fdom;
}

/* tui_model_pollfds - pump the lookup queue, then every running lookup's descriptors */
int
tui_model_pollfds(struct tui_model *m, struct pollfd *fds, int max, int *timeout_ms)
{
	int	i, nfds = 0;

	m->now_ms = mx_clock_wall_ms();
	m->fleet_pollfd = -1;
	if (m->worker != NULL && nfds < max) {
		fds[nfds].fd = fleet_worker_fd(m->worker);
		fds[nfds].events = POLLIN;
		fds[nfds].revents = 0;
		m->fleet_pollfd = nfds++;
	}
	pump_lookups(m);
	m->nslots = 0;
	for (i = 0; i < m->ndomains && m->nslots < TUI_MAX_LOOKUPS; i++) {
		struct tui_domain *d = &m->domains[i];
		int	t = -1, n;

		if (d->lookup == NULL || max - nfds < MX_LOOKUP_MAXFDS)
			continue;
		n = mx_lookup_pollfds(d->lookup, fds + nfds, MX_LOOKUP_MAXFDS, &t);
		if (n < 0)
			n = 0;
		m->slots[m->nslots].domain = i;
		m->slots[m->nslots].first = nfds;
		m->slots[m->nslots].n = n;
		m->nslots++;
		nfds += n;
		if (t >= 0 && t < *timeout_ms)
			*timeout_ms = t;
	}
	return nfds;
}

/* tui_model_process - after poll(): every lookup of the last poll set goes on */
bool
tui_model_process(struct tui_model *m, const struct pollfd *fds)
{
	bool	changed = false;
	int	i;

	m->now_ms = mx_clock_wall_ms();
	if (m->fleet_pollfd >= 0 && (fds[m->fleet_pollfd].revents & POLLIN) && fleet_results(m))
		changed = true;
	m->fleet_pollfd = -1;
	for (i = 0; i < m->nslots; i++) {
		struct tui_domain *d = &m->domains[m->slots[i].domain];

		if (d->lookup == NULL)
			continue;
		mx_lookup_process(d->lookup, fds + m->slots[i].first,
				  m->slots[i].n);
		if (mx_lookup_done(d->lookup)) {
			finish_lookup(m, d);
			changed = true;
		}
	}
	m->nslots = 0;
	return changed;
}

/* tui_model_tick - once a second: did the journal get rows? refill then */
bool
tui_model_tick(struct tui_model *m)
{
	int64_t	id, now = mx_clock_mono_ms();
	bool	changed = false;

	m->now_ms = mx_clock_wall_ms();
	if (m->opts.fleet)
		return fleet_tick(m, now);
	if (m->journal == NULL) {
		if (now < m->journal_retry_ms)
			return false;
		tui_model_open_journal(m);
		if (m->journal == NULL)
			return false;
		m->journal_last_id = -2;	/* it appeared: load what it has */
	}
	id = mx_journal_last_id(m->journal);
	if (id < 0) {
		snprintf(m->journal_note, sizeof(m->journal_note), "journal: %.240s",
			 mx_journal_error(m->journal));
		return true;
	}
	if (m->journal_note[0] != '\0') {
		m->journal_note[0] = '\0';
		changed = true;
	}
	if (id != m->journal_last_id || now - m->last_refill_ms >= TUI_REFILL_MS) {
		if (id != m->journal_last_id)
			add_journal_domains(m);
		m->journal_last_id = id;
		refill_all(m);
		m->last_refill_ms = now;
		changed = true;
	}
	return changed;
}

/* tui_load_sync - report mode: blocking lookup, plan and journal rows */
bool
tui_load_sync(struct tui_model *m, const char *domain, struct mx_domain_model *dm,
	      char *err, size_t errlen)
{
	struct mx_dns_result *dns;
	struct mx_plan_env env = { m->ifaddrs, m->nifaddrs, NULL };
	struct mx_sts_state *sts;
	struct mx_plan *plan;
	struct mx_rng rng;

	dns = mx_resolve(&m->ropts, domain, err, errlen);
	if (dns == NULL)
		return false;
	if ((sts = malloc(sizeof(*sts))) == NULL) {
		mx_dns_result_free(dns);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	/* a report may wait for a fetch; the journal is read-only here, nothing is stored */
	mx_route_sts(m->cfg, m->journal, &m->ropts, dns, mx_clock_wall_ms(), true, sts);
	mx_route_sts_env(sts, &env);
	mx_rng_seed(&rng, fresh_seed());
	plan = mx_plan_build(dns, &m->cfg->policy, &env, &rng);
	mx_route_sts_note(plan, sts);
	free(sts);
	mx_dns_result_free(dns);
	if (plan == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	mx_domain_model_fill(dm, domain, plan, m->journal, mx_clock_wall_ms(), m->opts.utc,
			     m->cfg->smtp.port, m->cfg->fleet_backoff);
	return true;
}
