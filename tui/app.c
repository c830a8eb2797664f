/*
 * app - the inspector's state, its actions and the event loop (see app.h)
 *
 * The loop, once per turn: draw when something changed; poll() the
 * terminal and the sockets of every running lookup with one timeout (the
 * earliest of the resolvers' timeouts and the next one-second tick);
 * process the lookups; read every pending key and execute its action; on
 * the tick, look at the journal's newest row id and refill the models when
 * it moved. DNS never blocks the screen: a lookup only ever runs from here.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>
#include <curses.h>
#include <langinfo.h>

#include "app.h"
#include "clock.h"
#include "idn.h"
#include "keys.h"
#include "plan.h"
#include "rng.h"
#include "routetls.h"
#include "view.h"

#define TUI_REFILL_MS	10000	/* refill models at least this often (backoff times pass) */
#define TUI_REOPEN_MS	3000	/* try a missing journal again */

static volatile sig_atomic_t got_signal;

/* on_signal - remember SIGINT/SIGTERM/SIGHUP; the loop ends and restores the terminal */
static void
on_signal(int sig)
{
	got_signal = sig;
}

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
set_status(struct tui_app *app, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_status(struct tui_app *app, bool error, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(app->status, sizeof(app->status), fmt, ap);
	va_end(ap);
	app->status_error = error;
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
tui_attempt_matches(const struct tui_app *app, const struct mx_attempt_row *r)
{
	const char *f = app->filter;
	char	num[16];

	if (f[0] == '\0')
		return true;
	snprintf(num, sizeof(num), "%d", r->reply_code);
	return tui_filter_match(f, r->recipient) || tui_filter_match(f, r->host) ||
	    tui_filter_match(f, r->address) || tui_filter_match(f, r->stage) ||
	    (r->reply_code > 0 && tui_filter_match(f, num)) ||
	    tui_filter_match(f, r->enhanced_status) || tui_filter_match(f, r->reply_text) ||
	    tui_filter_match(f, r->outcome) || tui_filter_match(f, r->decision) ||
	    tui_filter_match(f, r->reason) || tui_filter_match(f, r->queue_id);
}

/* tui_domain_visible - does domains[i] pass the filter */
bool
tui_domain_visible(const struct tui_app *app, int i)
{
	return i >= 0 && i < app->ndomains && tui_filter_match(app->filter, app->domains[i].name);
}

/* tui_app_init - options, config and resolver options; no terminal yet */
bool
tui_app_init(struct tui_app *app, const struct tui_opts *opts, struct mx_config *cfg,
	     char *err, size_t errlen)
{
	memset(app, 0, sizeof(*app));
	app->opts = *opts;
	app->cfg = cfg;
	mx_route_resolver_opts(cfg, (char *const *)app->opts.dns_servers,
				     opts->ndns_servers, &app->ropts);
	snprintf(app->journal_path, sizeof(app->journal_path), "%s",
		 opts->journal_path != NULL ? opts->journal_path : cfg->journal.path);
	app->domains = calloc(TUI_MAX_DOMAINS, sizeof(*app->domains));
	if (app->domains == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	app->selected = -1;
	app->journal_last_id = -1;
	app->focus = TUI_PANE_DOMAINS;
	app->now_ms = mx_clock_wall_ms();
	if (!mx_resolver_library_init(err, errlen))
		return false;
	app->ifaddrs = mx_local_addrs(&app->nifaddrs);
	return true;
}

/* tui_app_free - every lookup, answer, model and the journal */
void
tui_app_free(struct tui_app *app)
{
	int	i;

	for (i = 0; app->domains != NULL && i < app->ndomains; i++) {
		mx_lookup_free(app->domains[i].lookup);
		mx_dns_result_free(app->domains[i].dns);
		mx_domain_model_clear(&app->domains[i].model);
	}
	free(app->domains);
	free(app->ifaddrs);
	mx_journal_close(app->journal);
	memset(app, 0, sizeof(*app));
}

/* tui_app_add_domain - append (normalised) domain unless it is listed; its index */
int
tui_app_add_domain(struct tui_app *app, const char *domain, enum tui_origin origin)
{
	struct tui_domain *d;
	int	i;

	for (i = 0; i < app->ndomains; i++)
		if (strcmp(app->domains[i].name, domain) == 0)
			return i;
	if (app->ndomains >= TUI_MAX_DOMAINS)
		return -1;
	d = &app->domains[app->ndomains];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", domain);
	d->origin = origin;
	d->state = TUI_D_IDLE;
	d->seed = fresh_seed();
	return app->ndomains++;
}

/* rebuild - plan from the last answer (same seed: same order) + the journal's rows */
static void
rebuild(struct tui_app *app, struct tui_domain *d)
{
	struct mx_plan *plan = NULL;

	if (d->dns != NULL) {
		struct mx_plan_env env = { app->ifaddrs, app->nifaddrs, NULL };
		struct mx_sts_state *sts = malloc(sizeof(*sts));
		struct mx_rng rng;

		/* the screen never waits on a fetch: the journal's cached policy only */
		if (sts != NULL) {
			mx_route_sts(app->cfg, app->journal, &app->ropts, d->dns, app->now_ms, false,
				     sts);
			mx_route_sts_env(sts, &env);
		}
		mx_rng_seed(&rng, d->seed);
		plan = mx_plan_build(d->dns, &app->cfg->policy, &env, &rng);
		if (plan == NULL)
			snprintf(d->error, sizeof(d->error), "out of memory building the plan");
		else if (sts != NULL)
			mx_route_sts_note(plan, sts);
		free(sts);
	}
	/* fill frees the old plan, attempts and states first */
	mx_domain_model_fill(&d->model, d->name, plan, app->journal, app->now_ms, app->opts.utc,
			     app->cfg->smtp.port, app->cfg->fleet_backoff);
	d->have_model = true;
	d->have_plan = plan != NULL;
}

/* add_journal_domains - domains with attempts in the last days, newest first */
static void
add_journal_domains(struct tui_app *app)
{
	char	(*names)[254];
	int	n, i;
	int64_t	since = app->now_ms - (int64_t)TUI_RECENT_DAYS * 86400 * 1000;

	if (app->journal == NULL)
		return;
	names = calloc(TUI_JOURNAL_DOMAINS, sizeof(*names));
	if (names == NULL)
		return;
	n = mx_journal_recent_domains(app->journal, since, names, TUI_JOURNAL_DOMAINS);
	if (n < 0)
		set_status(app, true, "journal: %s", mx_journal_error(app->journal));
	for (i = 0; i < n; i++) {
		char	norm[MX_DOMAIN_MAX + 1], why[160];

		/* the journal holds what the MTA gave; list only real domain names */
		if (mx_idn_domain(names[i], norm, sizeof(norm), why, sizeof(why)) == MX_IDN_OK)
			tui_app_add_domain(app, norm, TUI_FROM_JOURNAL);
	}
	free(names);
}

/* tui_app_open_journal - read-only; a missing journal is no error, only a note */
void
tui_app_open_journal(struct tui_app *app)
{
	char	err[512];

	if (app->journal != NULL)
		return;
	app->journal = mx_journal_open(app->journal_path, true, err, sizeof(err));
	if (app->journal == NULL) {
		snprintf(app->journal_note, sizeof(app->journal_note), "%.250s", err);
		app->journal_retry_ms = mx_clock_mono_ms() + TUI_REOPEN_MS;
		return;
	}
	app->journal_note[0] = '\0';
	app->journal_last_id = mx_journal_last_id(app->journal);
	add_journal_domains(app);
}

/* refill_all - new journal rows (or time passed): refill every model shown so far */
static void
refill_all(struct tui_app *app)
{
	int	i;

	for (i = 0; i < app->ndomains; i++)
		if (app->domains[i].have_model)
			rebuild(app, &app->domains[i]);
}

/* start_lookup - begin resolving d (a running lookup is replaced) */
static void
start_lookup(struct tui_app *app, struct tui_domain *d)
{
	char	err[256];

	if (d->lookup != NULL) {
		mx_lookup_free(d->lookup);
		d->lookup = NULL;
		app->nrunning--;
	}
	d->error[0] = '\0';
	d->lookup = mx_lookup_start(&app->ropts, d->name, err, sizeof(err));
	if (d->lookup == NULL) {
		d->state = TUI_D_FAILED;
		snprintf(d->error, sizeof(d->error), "cannot look up: %.230s", err);
		set_status(app, true, "%s: %s", d->name, d->error);
		return;
	}
	d->state = TUI_D_RESOLVING;
	app->nrunning++;
}

/* pump_lookups - start waiting lookups while slots are free, the selected one first */
static void
pump_lookups(struct tui_app *app)
{
	int	i;

	if (app->selected >= 0 && app->domains[app->selected].state == TUI_D_QUEUED &&
	    app->nrunning < TUI_MAX_LOOKUPS)
		start_lookup(app, &app->domains[app->selected]);
	for (i = 0; i < app->ndomains && app->nrunning < TUI_MAX_LOOKUPS; i++)
		if (app->domains[i].state == TUI_D_QUEUED)
			start_lookup(app, &app->domains[i]);
}

/* request_lookup - resolve d now if a slot is free, else queue it; force restarts */
static void
request_lookup(struct tui_app *app, struct tui_domain *d, bool force)
{
	if (d->state == TUI_D_RESOLVING && !force)
		return;
	if (d->state == TUI_D_RESOLVING || app->nrunning < TUI_MAX_LOOKUPS)
		start_lookup(app, d);
	else
		d->state = TUI_D_QUEUED;
}

/* finish_lookup - a lookup is done: keep its answer, plan, fill */
static void
finish_lookup(struct tui_app *app, struct tui_domain *d)
{
	struct mx_dns_result *dns = mx_lookup_take_result(d->lookup);

	mx_lookup_free(d->lookup);
	d->lookup = NULL;
	app->nrunning--;
	if (dns == NULL) {
		d->state = TUI_D_FAILED;
		snprintf(d->error, sizeof(d->error), "the lookup gave no result");
		return;
	}
	mx_dns_result_free(d->dns);
	d->dns = dns;
	d->seed = fresh_seed();		/* a new lookup may shuffle equal preferences anew */
	d->resolved_ms = app->now_ms;
	d->state = TUI_D_READY;
	rebuild(app, d);
}

/* select_domain - make domains[i] the selected one and load what it needs */
static void
select_domain(struct tui_app *app, int i)
{
	struct tui_domain *d;

	if (i == app->selected)
		return;
	app->selected = i;
	app->plan_scroll.cursor = app->plan_scroll.top = 0;
	app->attempts_scroll.cursor = app->attempts_scroll.top = 0;
	if (i < 0)
		return;
	d = &app->domains[i];
	if (!d->have_model)
		rebuild(app, d);	/* the attempts show while the lookup runs */
	if (d->state == TUI_D_IDLE)
		request_lookup(app, d, false);
}

/* visible_index - position of domains[i] among the visible ones, -1 if hidden */
static int
visible_index(const struct tui_app *app, int i)
{
	int	k, n = 0;

	for (k = 0; k < app->ndomains; k++)
		if (tui_domain_visible(app, k)) {
			if (k == i)
				return n;
			n++;
		}
	return -1;
}

/* nth_visible - the domain index of the n-th visible domain (clamped), -1 if none */
static int
nth_visible(const struct tui_app *app, int n)
{
	int	k, seen = 0, last = -1;

	for (k = 0; k < app->ndomains; k++)
		if (tui_domain_visible(app, k)) {
			if (seen == n)
				return k;
			last = k;
			seen++;
		}
	return last;
}

/* filter_changed - keep the selection on a visible domain */
static void
filter_changed(struct tui_app *app)
{
	app->attempts_scroll.cursor = app->attempts_scroll.top = 0;
	app->domains_top = 0;
	if (!tui_domain_visible(app, app->selected))
		select_domain(app, nth_visible(app, 0));
}

/* move_in_pane - cursor movement by delta rows (INT_MIN/INT_MAX: to the ends) */
static void
move_in_pane(struct tui_app *app, int delta)
{
	struct tui_scroll *s;
	int	rows;

	if (app->focus == TUI_PANE_DOMAINS) {
		int	cur = visible_index(app, app->selected), target;

		if (cur < 0)
			cur = 0;
		target = delta == INT_MIN ? 0 : delta == INT_MAX ? INT_MAX / 2 : cur + delta;
		if (target < 0)
			target = 0;
		select_domain(app, nth_visible(app, target));
		return;
	}
	if (app->focus == TUI_PANE_PLAN) {
		s = &app->plan_scroll;
		rows = app->plan_rows;
	} else {
		s = &app->attempts_scroll;
		rows = app->attempt_rows;
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
add_from_prompt(struct tui_app *app, const char *text)
{
	char	norm[MX_DOMAIN_MAX + 1], why[200];
	int	i;

	if (text[0] == '\0')
		return;
	if (mx_idn_domain(text, norm, sizeof(norm), why, sizeof(why)) != MX_IDN_OK) {
		set_status(app, true, "cannot add \"%.80s\": %s", text, why);
		return;
	}
	i = tui_app_add_domain(app, norm, TUI_FROM_USER);
	if (i < 0) {
		set_status(app, true, "cannot add %s: the list is full (%d domains)", norm,
			   TUI_MAX_DOMAINS);
		return;
	}
	if (!tui_domain_visible(app, i)) {
		app->filter[0] = '\0';
		filter_changed(app);
	}
	select_domain(app, i);
	set_status(app, false, "added %s", norm);
}

/* do_action - execute one action of the key table */
static void
do_action(struct tui_app *app, enum tui_action act)
{
	int	page;

	if (app->help && act != TUI_ACT_QUIT && act != TUI_ACT_REDRAW) {
		app->help = false;	/* any key closes the key table */
		return;
	}
	page = app->page_rows[app->focus] > 1 ? app->page_rows[app->focus] - 1 : 1;
	switch (act) {
	case TUI_ACT_NONE:
		break;
	case TUI_ACT_UP:
		move_in_pane(app, -1);
		break;
	case TUI_ACT_DOWN:
		move_in_pane(app, 1);
		break;
	case TUI_ACT_PAGE_UP:
		move_in_pane(app, -page);
		break;
	case TUI_ACT_PAGE_DOWN:
		move_in_pane(app, page);
		break;
	case TUI_ACT_HOME:
		move_in_pane(app, INT_MIN);
		break;
	case TUI_ACT_END:
		move_in_pane(app, INT_MAX);
		break;
	case TUI_ACT_FOCUS_NEXT:
		app->focus = (enum tui_pane)((app->focus + 1) % TUI_NPANES);
		break;
	case TUI_ACT_FOCUS_PREV:
		app->focus = (enum tui_pane)((app->focus + TUI_NPANES - 1) % TUI_NPANES);
		break;
	case TUI_ACT_OPEN:
		if (app->selected >= 0) {
			struct tui_domain *d = &app->domains[app->selected];

			if (d->state == TUI_D_IDLE || d->state == TUI_D_FAILED)
				request_lookup(app, d, false);
			app->focus = TUI_PANE_PLAN;
		}
		break;
	case TUI_ACT_FILTER:
		app->prompt = TUI_PROMPT_FILTER;
		snprintf(app->input, sizeof(app->input), "%s", app->filter);
		break;
	case TUI_ACT_ESCAPE:
		if (app->filter[0] != '\0') {
			app->filter[0] = '\0';
			filter_changed(app);
			set_status(app, false, "filter cleared");
		}
		break;
	case TUI_ACT_ADD:
		app->prompt = TUI_PROMPT_ADD;
		app->input[0] = '\0';
		break;
	case TUI_ACT_RESOLVE:
		if (app->selected >= 0) {
			request_lookup(app, &app->domains[app->selected], true);
			set_status(app, false, "resolving %s again", app->domains[app->selected].name);
		}
		break;
	case TUI_ACT_HELP:
		app->help = true;
		break;
	case TUI_ACT_REDRAW:
		clearok(curscr, TRUE);
		break;
	case TUI_ACT_QUIT:
		app->quit = true;
		app->exit_status = 0;
		break;
	}
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

/* prompt_key - a key typed into the prompt line */
static void
prompt_key(struct tui_app *app, int kind, wint_t wc)
{
	bool	is_key = kind == KEY_CODE_YES;
	enum tui_prompt p = app->prompt;

	if ((!is_key && wc == 27)) {			/* Esc: leave the prompt */
		app->prompt = TUI_PROMPT_NONE;
		if (p == TUI_PROMPT_FILTER && app->filter[0] != '\0') {
			app->filter[0] = '\0';	/* Esc clears the filter */
			filter_changed(app);
			set_status(app, false, "filter cleared");
		}
		return;
	}
	if ((!is_key && (wc == '\n' || wc == '\r')) || (is_key && wc == KEY_ENTER)) {
		app->prompt = TUI_PROMPT_NONE;
		if (p == TUI_PROMPT_ADD)
			add_from_prompt(app, app->input);
		else if (app->filter[0] != '\0')
			set_status(app, false, "filter \"%s\" (Esc clears)", app->filter);
		return;
	}
	if ((is_key && wc == KEY_BACKSPACE) || (!is_key && (wc == 127 || wc == 8)))
		input_backspace(app->input);
	else if (!is_key && wc == 21)			/* Ctrl-U */
		app->input[0] = '\0';
	else if (is_key && wc == KEY_RESIZE)
		return;
	else if (!is_key)
		input_append(app->input, sizeof(app->input), wc);
	else
		return;
	if (p == TUI_PROMPT_FILTER &&
	    strcmp(app->filter, app->input) != 0) {
		snprintf(app->filter, sizeof(app->filter), "%s", app->input);
		filter_changed(app);
	}
}

/* read_keys - every key waiting on the terminal; true when something changed */
static bool
read_keys(struct tui_app *app)
{
	bool	changed = false;
	wint_t	wc;
	int	kind;

	while ((kind = get_wch(&wc)) != ERR) {
		changed = true;
		if (kind == KEY_CODE_YES && wc == KEY_RESIZE) {
			tui_view_resize(app);
			continue;
		}
		if (app->prompt != TUI_PROMPT_NONE) {
			prompt_key(app, kind, wc);
			continue;
		}
		app->status[0] = '\0';
		/* characters and key codes share numbers above 255: look up each as what it is */
		if (kind == KEY_CODE_YES ? wc >= KEY_MIN : wc < 256)
			do_action(app, tui_key_action((int)wc));
		if (app->quit)
			break;
	}
	return changed;
}

/* journal_tick - once a second: did the journal get rows? refill then */
static bool
journal_tick(struct tui_app *app, int64_t *last_refill)
{
	int64_t	id, now = mx_clock_mono_ms();
	bool	changed = false;

	if (app->journal == NULL) {
		if (now < app->journal_retry_ms)
			return false;
		tui_app_open_journal(app);
		if (app->journal == NULL)
			return false;
		app->journal_last_id = -2;	/* it appeared: load what it has */
	}
	id = mx_journal_last_id(app->journal);
	if (id < 0) {
		snprintf(app->journal_note, sizeof(app->journal_note), "journal: %.240s",
			 mx_journal_error(app->journal));
		return true;
	}
	if (app->journal_note[0] != '\0') {
		app->journal_note[0] = '\0';
		changed = true;
	}
	if (id != app->journal_last_id || now - *last_refill >= TUI_REFILL_MS) {
		if (id != app->journal_last_id)
			add_journal_domains(app);
		app->journal_last_id = id;
		refill_all(app);
		*last_refill = now;
		changed = true;
	}
	return changed;
}

/* run_loop - the event loop: one poll for the keyboard and every lookup */
static void
run_loop(struct tui_app *app)
{
	struct pollfd fds[1 + TUI_MAX_LOOKUPS * MX_LOOKUP_MAXFDS];
	struct { int domain, first, n; } slots[TUI_MAX_LOOKUPS];
	int64_t	next_tick = mx_clock_mono_ms() + TUI_TICK_MS, last_refill = mx_clock_mono_ms();
	bool	dirty = true;

	while (!app->quit && got_signal == 0) {
		int	nfds = 1, nslots = 0, timeout, i, rc;
		int64_t	now;

		app->now_ms = mx_clock_wall_ms();
		pump_lookups(app);
		if (dirty) {
			tui_view_draw(app);
			dirty = false;
		}
		now = mx_clock_mono_ms();
		timeout = next_tick > now ? (int)(next_tick - now) : 0;
		fds[0].fd = STDIN_FILENO;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		for (i = 0; i < app->ndomains && nslots < TUI_MAX_LOOKUPS; i++) {
			struct tui_domain *d = &app->domains[i];
			int	t = -1, n;

			if (d->lookup == NULL)
				continue;
			n = mx_lookup_pollfds(d->lookup, fds + nfds, MX_LOOKUP_MAXFDS, &t);
			if (n < 0)
				n = 0;
			slots[nslots].domain = i;
			slots[nslots].first = nfds;
			slots[nslots].n = n;
			nslots++;
			nfds += n;
			if (t >= 0 && t < timeout)
				timeout = t;
		}
		rc = poll(fds, (nfds_t)nfds, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		app->now_ms = mx_clock_wall_ms();
		for (i = 0; i < nslots; i++) {
			struct tui_domain *d = &app->domains[slots[i].domain];

			if (d->lookup == NULL)
				continue;
			mx_lookup_process(d->lookup, fds + slots[i].first, slots[i].n);
			if (mx_lookup_done(d->lookup)) {
				finish_lookup(app, d);
				dirty = true;
			}
		}
		if (rc > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(fds[0].revents & POLLIN)) {
			app->exit_status = 1;	/* the terminal went away */
			break;
		}
		/* always: SIGWINCH interrupts poll and leaves KEY_RESIZE to read */
		if (read_keys(app))
			dirty = true;
		now = mx_clock_mono_ms();
		if (now >= next_tick) {
			if (journal_tick(app, &last_refill))
				dirty = true;
			next_tick = now + TUI_TICK_MS;
			dirty = true;	/* the clock in the title */
		}
	}
}

/* tui_app_run - set up the terminal, run the loop, restore the terminal */
int
tui_app_run(struct tui_app *app)
{
	struct sigaction sa;
	const char *cs;
	SCREEN *scr;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	cs = nl_langinfo(CODESET);
	app->utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	/* newterm, not initscr: an unusable terminal is reported, not fatal inside curses */
	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		fprintf(stderr, "mxtier: cannot use the terminal (TERM=%s)\n",
			getenv("TERM") != NULL ? getenv("TERM") : "");
		return 1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	app->colors = has_colors() && getenv("NO_COLOR") == NULL;
	tui_view_init(app);

	if (app->selected < 0 && app->ndomains > 0)
		select_domain(app, 0);
	if (app->ndomains == 0)
		set_status(app, false, "no domains yet: press a to add one");
	run_loop(app);

	curs_set(1);
	endwin();
	delscreen(scr);
	if (got_signal != 0)
		return 128 + got_signal;
	return app->exit_status;
}

/* tui_load_sync - report mode: blocking lookup, plan and journal rows */
bool
tui_load_sync(struct tui_app *app, const char *domain, struct mx_domain_model *m,
	      char *err, size_t errlen)
{
	struct mx_dns_result *dns;
	struct mx_plan_env env = { app->ifaddrs, app->nifaddrs, NULL };
	struct mx_sts_state *sts;
	struct mx_plan *plan;
	struct mx_rng rng;

	dns = mx_resolve(&app->ropts, domain, err, errlen);
	if (dns == NULL)
		return false;
	if ((sts = malloc(sizeof(*sts))) == NULL) {
		mx_dns_result_free(dns);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	/* a report may wait for a fetch; the journal is read-only here, nothing is stored */
	mx_route_sts(app->cfg, app->journal, &app->ropts, dns, mx_clock_wall_ms(), true, sts);
	mx_route_sts_env(sts, &env);
	mx_rng_seed(&rng, fresh_seed());
	plan = mx_plan_build(dns, &app->cfg->policy, &env, &rng);
	mx_route_sts_note(plan, sts);
	free(sts);
	mx_dns_result_free(dns);
	if (plan == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	mx_domain_model_fill(m, domain, plan, app->journal, mx_clock_wall_ms(), app->opts.utc,
			     app->cfg->smtp.port, app->cfg->fleet_backoff);
	return true;
}
