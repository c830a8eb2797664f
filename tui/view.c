/*
 * view - the curses screen of the mxtier inspector (see view.h)
 *
 * Layout (columns W, rows H; usable from 80x24, refused below 40x10):
 *
 *	row 0		title: program, journal, DNS servers, clock
 *	left pane	the domain list (width W/5, 16..30 columns)
 *	right side	the selected domain: header (result), "why:" the
 *			explanation (up to 3 wrapped rows), the plan pane, the
 *			attempts pane (a table; columns that do not fit are
 *			dropped in a fixed order, the rest cut to width)
 *	row H-1		status: prompt or message, key hints at the right
 *
 * Every frame is drawn from scratch on stdscr after erase(); curses sends
 * only the difference. Nothing is written in the bottom-right cell.
 */
#include <arpa/inet.h>
#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>
#include <curses.h>

#include "fleetreport.h"
#include "keys.h"
#include "view.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define MAX_PLAN_LINES	600
#define LINE_BYTES	640
#define CELL_BYTES	1200	/* one attempt field: the reason is up to 1023 bytes */

enum style { S_NORMAL, S_TITLE, S_HEAD, S_OK, S_BAD, S_WARN, S_NOTE, S_CURSOR, S_MARK };
enum { CP_TITLE = 1, CP_HEAD, CP_OK, CP_BAD, CP_WARN, CP_NOTE };

/* One row of the plan pane. */
struct pline {
	char	text[LINE_BYTES];
	enum style style;
	int	indent;			/* columns before the text; wrapped rows keep it */
};

/* Where the right side's parts go this frame. */
struct layout {
	int	w, h;
	int	lw;			/* domain pane width (the separator follows) */
	int	rx, rw;			/* right side */
	int	list_y, list_rows;	/* domain rows */
	int	name_cols;		/* the longest domain name */
};

/* What one frame draws from and where it hands its geometry back. */
struct frame {
	const struct tui_view *v;
	const struct tui_model *m;
	struct tui_geom *g;
};

static struct pline plines[MAX_PLAN_LINES];

/* init_colors - colour pairs on the default background, when the terminal has colour */
static void
init_colors(struct tui_view *v)
{
	short	bg = -1;

	v->colors = has_colors() && getenv("NO_COLOR") == NULL;
	if (!v->colors)
		return;
	if (start_color() != OK) {
		v->colors = false;
		return;
	}
	if (use_default_colors() != OK)
		bg = COLOR_BLACK;
	init_pair(CP_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(CP_HEAD, COLOR_CYAN, bg);
	init_pair(CP_OK, COLOR_GREEN, bg);
	init_pair(CP_BAD, COLOR_RED, bg);
	init_pair(CP_WARN, COLOR_YELLOW, bg);
	init_pair(CP_NOTE, COLOR_BLUE, bg);
}

/* tui_view_open - newterm, not initscr: an unusable terminal is reported, not fatal */
bool
tui_view_open(struct tui_view *v, char *err, size_t errlen)
{
	const char *cs = nl_langinfo(CODESET);
	SCREEN *scr;

	memset(v, 0, sizeof(*v));
	v->utf8 = cs != NULL && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		snprintf(err, errlen, "cannot use the terminal (TERM=%s)",
			 getenv("TERM") != NULL ? getenv("TERM") : "");
		return false;
	}
	v->screen = scr;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	init_colors(v);
	return true;
}

/* tui_view_close - the cursor back, curses modes off, the screen freed */
void
tui_view_close(struct tui_view *v)
{
	if (v->screen == NULL)
		return;
	curs_set(1);
	endwin();
	delscreen(v->screen);
	v->screen = NULL;
}

/* tui_view_repaint - ncurses has the new size already; repaint all of it */
void
tui_view_repaint(struct tui_view *v)
{
	(void)v;
	clearok(curscr, TRUE);
}

/* tui_view_input - one key from curses, as an action or (in a prompt) an edit */
bool
tui_view_input(struct tui_view *v, const struct tui_model *m, struct tui_input *in)
{
	wint_t	wc;
	int	kind;
	bool	is_key;

	(void)v;
	if ((kind = get_wch(&wc)) == ERR)
		return false;
	memset(in, 0, sizeof(*in));
	is_key = kind == KEY_CODE_YES;
	if (is_key && wc == KEY_RESIZE) {
		in->kind = TUI_IN_RESIZE;
		return true;
	}
	if (m->prompt != TUI_PROMPT_NONE) {
		in->kind = TUI_IN_EDIT;
		if (!is_key && wc == 27)
			in->edit = TUI_EDIT_ESCAPE;
		else if ((!is_key && (wc == '\n' || wc == '\r')) || (is_key && wc == KEY_ENTER))
			in->edit = TUI_EDIT_ENTER;
		else if ((is_key && wc == KEY_BACKSPACE) || (!is_key && (wc == 127 || wc == 8)))
			in->edit = TUI_EDIT_BACKSPACE;
		else if (!is_key && wc == 21)		/* Ctrl-U */
			in->edit = TUI_EDIT_KILL;
		else if (!is_key) {
			in->edit = TUI_EDIT_CHAR;
			in->wc = wc;
		} else
			in->edit = TUI_EDIT_NONE;
		return true;
	}
	in->kind = TUI_IN_ACTION;
	/* characters and key codes share numbers above 255: look up each as what it is */
	in->action = (is_key ? wc >= KEY_MIN : wc < 256) ? tui_key_action((int)wc) : TUI_ACT_NONE;
	return true;
}

/* sty - attributes for a style; without colour, attributes carry it */
static attr_t
sty(const struct frame *F, enum style s)
{
	bool	c = F->v->colors;

	switch (s) {
	case S_TITLE:
		return c ? COLOR_PAIR(CP_TITLE) : A_REVERSE;
	case S_HEAD:
		return A_BOLD | (c ? COLOR_PAIR(CP_HEAD) : 0);
	case S_OK:
		return c ? COLOR_PAIR(CP_OK) : A_NORMAL;
	case S_BAD:
		return A_BOLD | (c ? COLOR_PAIR(CP_BAD) : 0);
	case S_WARN:
		return c ? COLOR_PAIR(CP_WARN) | A_BOLD : A_BOLD;
	case S_NOTE:
		return c ? COLOR_PAIR(CP_NOTE) : A_NORMAL;
	case S_CURSOR:
		return A_REVERSE;
	case S_MARK:
		return A_BOLD;
	default:
		return A_NORMAL;
	}
}

/* decode - the next character of s: its wide char, bytes and columns (invalid: '?') */
static size_t
decode(const char *s, wchar_t *wc, int *cols)
{
	mbstate_t st;
	size_t	n;
	int	w;

	memset(&st, 0, sizeof(st));
	n = mbrtowc(wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*wc = L'?';
		*cols = 1;
		return 1;
	}
	w = wcwidth(*wc);
	if (w < 0) {			/* control or unprintable: never sent raw */
		*wc = L'?';
		w = 1;
	}
	*cols = w;
	return n;
}

/* text_cols - display width of UTF-8 text */
static int
text_cols(const char *s)
{
	int	total = 0, c;
	wchar_t	wc;

	while (*s != '\0') {
		s += decode(s, &wc, &c);
		total += c;
	}
	return total;
}

/* put - draw s at y,x in at most w columns, cut with an ellipsis; columns used */
static int
put(const struct frame *F, int y, int x, int w, const char *s, attr_t attr)
{
	wchar_t	buf[LINE_BYTES], wc;
	int	colw[LINE_BYTES];
	int	n = 0, cols = 0, c;
	bool	cut = false;

	if (w <= 0)
		return 0;
	while (*s != '\0' && n < LINE_BYTES - 2) {	/* room for the ellipsis and the end */
		size_t	len = decode(s, &wc, &c);

		if (cols + c > w) {
			cut = true;
			break;
		}
		buf[n] = wc;
		colw[n++] = c;
		cols += c;
		s += len;
	}
	if (*s != '\0')
		cut = true;
	if (cut) {
		while (n > 0 && cols + 1 > w) {	/* room for the ellipsis */
			cols -= colw[--n];
		}
		if (cols + 1 <= w) {
			buf[n++] = F->v->utf8 ? L'\u2026' : L'~';
			cols++;
		}
	}
	buf[n] = L'\0';
	attron(attr);
	mvaddnwstr(y, x, buf, n);
	attroff(attr);
	return cols;
}

/* fill_row - a bar of spaces (for reverse-video rows) */
static void
fill_row(int y, int x, int w, attr_t attr)
{
	attron(attr);
	if (w > 0)
		mvhline(y, x, ' ', w);
	attroff(attr);
}

/* wrap_next - bytes of s that fit in w columns, broken at a space if possible */
static size_t
wrap_next(const char *s, int w, size_t *skip)
{
	size_t	pos = 0, last_space = 0;
	int	cols = 0, c;
	wchar_t	wc;

	*skip = 0;
	while (s[pos] != '\0') {
		size_t	len = decode(s + pos, &wc, &c);

		if (cols + c > w)
			break;
		if (s[pos] == ' ')
			last_space = pos;
		cols += c;
		pos += len;
	}
	if (s[pos] == '\0')
		return pos;
	if (last_space > 0) {
		pos = last_space;
	} else if (pos == 0) {
		pos = decode(s, &wc, &c);	/* one character wider than w */
	}
	while (s[pos + *skip] == ' ')
		(*skip)++;
	return pos;
}

/* put_wrapped - s in up to maxrows rows of w columns from y; rows used */
static int
put_wrapped(const struct frame *F, int y, int x, int w, int maxrows, const char *s,
	    attr_t attr)
{
	int	rows = 0;

	while (*s != '\0' && rows < maxrows) {
		char	line[LINE_BYTES];
		size_t	skip, n = wrap_next(s, w, &skip);

		if (rows == maxrows - 1) {
			put(F, y + rows, x, w, s, attr);	/* the rest, cut */
			return rows + 1;
		}
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		put(F, y + rows, x, w, line, attr);
		s += n + skip;
		rows++;
	}
	return rows;
}

/* measure - the frame's geometry */
static void
measure(const struct frame *F, struct layout *L)
{
	int	i;

	getmaxyx(stdscr, L->h, L->w);
	L->name_cols = 14;		/* room for "Domains 12/345" */
	for (i = 0; i < F->m->ndomains; i++)
		if ((int)strlen(F->m->domains[i].name) > L->name_cols)
			L->name_cols = (int)strlen(F->m->domains[i].name);
	/* as wide as the longest name, 16 columns at least, a quarter of the screen at most */
	L->lw = L->name_cols + 3;
	if (L->lw > L->w / 4)
		L->lw = L->w / 4;
	if (L->lw > 32)
		L->lw = 32;
	if (L->lw < 16)
		L->lw = 16;
	L->rx = L->lw + 1;
	L->rw = L->w - L->rx;
	L->list_y = 2;
	L->list_rows = L->h - 3;
}

/* clamp_scroll - keep cursor within count rows and visible in a window of n rows */
static void
clamp_scroll(struct tui_scroll *s, int count, int n)
{
	if (s->cursor > count - 1)
		s->cursor = count - 1;
	if (s->cursor < 0)
		s->cursor = 0;
	if (n < 1)
		n = 1;
	if (s->cursor < s->top)
		s->top = s->cursor;
	if (s->cursor >= s->top + n)
		s->top = s->cursor - n + 1;
	if (s->top > count - n)
		s->top = count - n;
	if (s->top < 0)
		s->top = 0;
}

/* pane_title - "[ Plan ]" when focused (reverse), "  Plan  " otherwise; extra after it */
static void
pane_title(const struct frame *F, int y, int x, int w, const char *name, bool focused,
	   const char *extra)
{
	char	t[128];
	int	used;

	snprintf(t, sizeof(t), focused ? "[ %s ]" : "  %s  ", name);
	used = put(F, y, x, w, t, focused ? sty(F, S_CURSOR) | A_BOLD : sty(F, S_HEAD));
	if (extra != NULL && extra[0] != '\0' && used + 1 < w)
		put(F, y, x + used + 1, w - used - 1, extra, sty(F, S_NORMAL));
}

/* draw_title - row 0 */
static void
draw_title(const struct frame *F, const struct layout *L)
{
	char	t[LINE_BYTES], clock[40], dns[160] = "";
	size_t	i;
	int	used;

	fill_row(0, 0, L->w, sty(F, S_TITLE));
	for (i = 0; i < F->m->ropts.nservers && strlen(dns) < 120; i++)
		snprintf(dns + strlen(dns), sizeof(dns) - strlen(dns), "%s%s", i ? "," : "",
			 F->m->ropts.servers[i]);
	mx_format_time(F->m->now_ms, F->m->now_ms, F->m->opts.utc, clock, sizeof(clock));
	if (F->m->opts.fleet)
		snprintf(t, sizeof(t), " mxtier %s  fleet %.400s  %d node%s", PACKAGE_VERSION,
			 F->m->fleet_url, F->m->fleet_nnodes, F->m->fleet_nnodes == 1 ? "" : "s");
	else
		snprintf(t, sizeof(t), " mxtier %s  journal %.300s%s  dns %s", PACKAGE_VERSION,
			 F->m->journal_path, F->m->journal == NULL ? " (none)" : "",
			 dns[0] ? dns : "(resolv.conf)");
	used = text_cols(clock) + (F->m->opts.utc ? 5 : 1);
	put(F, 0, 0, L->w - used - 1, t, sty(F, S_TITLE) | A_BOLD);
	snprintf(t, sizeof(t), "%s%s ", clock, F->m->opts.utc ? " UTC" : "");
	if (L->w > used + 20)
		put(F, 0, L->w - used, used, t, sty(F, S_TITLE));
}

/* domain_mark - the text marker of a domain's state (colour never alone) */
static const char *
domain_mark(const struct frame *F, const struct tui_domain *d, enum style *s)
{
	*s = S_NORMAL;
	if (F->m->opts.fleet && d->state == TUI_D_READY) {
		const struct fleet_domain *fd = tui_model_fleet_shown(F->m);

		if (fd != NULL && strcmp(fd->name, d->name) == 0 && fd->scope != FLEET_SCOPE_NONE) {
			*s = S_BAD;
			return "!";
		}
		return "";
	}
	switch (d->state) {
	case TUI_D_QUEUED:
	case TUI_D_RESOLVING:
		*s = S_WARN;
		return F->v->utf8 ? "\u2026" : "~";
	case TUI_D_FAILED:
		*s = S_BAD;
		return "!";
	case TUI_D_READY:
		if (d->have_plan && d->model.plan->result != MX_PLAN_OK) {
			*s = S_BAD;
			return "!";
		}
		return "";
	default:
		return "";
	}
}

/* draw_domains - the left pane */
static void
draw_domains(const struct frame *F, const struct layout *L)
{
	bool	focused = F->m->focus == TUI_PANE_DOMAINS;
	struct tui_scroll sc;
	char	extra[96];
	int	i, nvis = 0, row = 0, vi = 0, sel_vis = -1;

	for (i = 0; i < F->m->ndomains; i++)
		if (tui_domain_visible(F->m, i)) {
			if (i == F->m->selected)
				sel_vis = nvis;
			nvis++;
		}
	if (F->m->filter[0])
		snprintf(extra, sizeof(extra), "%d/%d", nvis, F->m->ndomains);
	else
		snprintf(extra, sizeof(extra), "%d", F->m->ndomains);
	pane_title(F, 1, 0, L->lw, "Domains", focused, extra);
	sc.cursor = sel_vis < 0 ? 0 : sel_vis;
	sc.top = F->g->domains_top;
	clamp_scroll(&sc, nvis, L->list_rows);
	F->g->domains_top = sc.top;
	F->g->page_rows[TUI_PANE_DOMAINS] = L->list_rows;
	if (nvis == 0) {
		put(F, L->list_y, 1, L->lw - 1,
		    F->m->ndomains == 0 ? "(none: a adds)" : "(no match)", sty(F, S_NOTE));
		return;
	}
	for (i = 0; i < F->m->ndomains && row < L->list_rows; i++) {
		const struct tui_domain *d = &F->m->domains[i];
		enum style ms;
		const char *mark;
		bool	sel = i == F->m->selected;
		attr_t	a;
		int	y = L->list_y + row, mw;

		if (!tui_domain_visible(F->m, i))
			continue;
		if (vi++ < sc.top)
			continue;
		row++;
		a = sel ? (focused ? sty(F, S_CURSOR) : sty(F, S_MARK)) : sty(F, S_NORMAL);
		if (sel && focused)
			fill_row(y, 0, L->lw, a);
		put(F, y, 0, 1, sel ? ">" : " ", a);
		mark = domain_mark(F, d, &ms);
		mw = mark[0] ? 2 : 0;
		put(F, y, 1, L->lw - 1 - mw, d->name, a);
		if (mw)
			put(F, y, L->lw - 2, 2, mark, sel && focused ? a : sty(F, ms));
	}
}

/* add_pline - one row for the plan pane */
static void
add_pline(int *n, enum style s, int indent, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
add_pline(int *n, enum style s, int indent, const char *fmt, ...)
{
	va_list	ap;

	if (*n >= MAX_PLAN_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(plines[*n].text, sizeof(plines[*n].text), fmt, ap);
	va_end(ap);
	plines[*n].style = s;
	plines[*n].indent = indent;
	(*n)++;
}

/* add_wrapped - text over as many rows as it takes at w columns (w counts the indent) */
static void
add_wrapped(int *n, enum style s, int indent, int w, const char *text)
{
	int	cols = w - indent, first = 1;

	if (cols < 10)
		cols = 10;
	while (*text != '\0' && *n < MAX_PLAN_LINES) {
		size_t	skip, len = wrap_next(text, cols - (first ? 0 : 2), &skip);

		if (len >= LINE_BYTES)
			len = LINE_BYTES - 1;
		add_pline(n, s, indent + (first ? 0 : 2), "%.*s", (int)len, text);
		text += len + skip;
		first = 0;
	}
}

/* state_of - the journal's state of one plan address, or NULL */
static const struct mx_addr_state *
state_of(const struct mx_domain_model *m, const struct mx_plan_addr *a)
{
	size_t	i;

	for (i = 0; i < m->nstates; i++)
		if (m->states[i].addr == a)
			return &m->states[i];
	return NULL;
}

/* state_text - the report's words for the state (mx_addr_state_words), and
 * for a failing address how often it failed; "no attempts" without a state */
static void
state_text(const struct frame *F, const struct mx_addr_state *s, char *out, size_t len,
	   enum style *st)
{
	size_t	n;

	*st = S_NORMAL;
	if (s == NULL) {
		snprintf(out, len, "no attempts");
		return;
	}
	mx_addr_state_words(s, F->m->now_ms, F->m->opts.utc, out, len);
	if (s->state == MX_STATE_OK)
		*st = S_OK;
	else if (s->state == MX_STATE_BACKOFF || s->state == MX_STATE_FAILING)
		*st = S_WARN;
	if (s->state == MX_STATE_FAILING && (n = strlen(out)) < len) {
		if (s->failures > 0)
			snprintf(out + n, len - n, " (%d failure%s)", s->failures,
				 s->failures == 1 ? "" : "s");
		else
			snprintf(out + n, len - n, " (last attempt)");
	}
}

/* build_plan_lines - the plan pane's rows for one domain, w columns wide */
static int
build_plan_lines(const struct frame *F, const struct tui_domain *d, int w)
{
	const struct mx_domain_model *m = &d->model;
	const struct mx_plan *p = m->plan;
	size_t	t, h, a, k;
	int	n = 0, addrw = 7, hostno = 0;

	if (!d->have_plan || p == NULL) {
		if (d->state == TUI_D_FAILED)
			add_pline(&n, S_BAD, 0, "no plan: %s", d->error);
		else if (d->state == TUI_D_IDLE)
			add_pline(&n, S_NOTE, 0, "not looked up yet (Enter looks it up)");
		else
			add_pline(&n, S_WARN, 0, "resolving%s", F->v->utf8 ? "\u2026" : "...");
		return n;
	}
	if (p->result != MX_PLAN_OK)
	{
		char	t[LINE_BYTES];

		snprintf(t, sizeof(t), "%s%s%s: %s", mx_plan_result_name(p->result),
			 p->status[0] ? " " : "", p->status, p->message);
		add_wrapped(&n, S_BAD, 0, w, t);
	}
	if (p->implicit_mx)
		add_pline(&n, S_NOTE, 0, "implicit MX: no MX records, the domain's own "
			  "addresses act as one host of preference 0");
	for (k = 0; k < p->notes.n; k++) {
		char	t[LINE_BYTES];

		snprintf(t, sizeof(t), "note: %s", p->notes.v[k]);
		add_wrapped(&n, S_NOTE, 0, w, t);
	}
	for (t = 0; t < p->ntiers; t++)
		for (h = 0; h < p->tiers[t].nhosts; h++)
			for (a = 0; a < p->tiers[t].hosts[h].naddrs; a++) {
				int	l = (int)strlen(p->tiers[t].hosts[h].addrs[a].text);

				if (l > addrw)
					addrw = l;
			}
	for (t = 0; t < p->ntiers; t++) {
		const struct mx_plan_tier *tier = &p->tiers[t];

		add_pline(&n, S_HEAD, 0, "pref %u  (tier %zu of %zu, %zu host%s)", tier->pref,
			  t + 1, p->ntiers, tier->nhosts, tier->nhosts == 1 ? "" : "s");
		for (h = 0; h < tier->nhosts; h++) {
			const struct mx_plan_host *ho = &tier->hosts[h];
			char	cname[300] = "";

			hostno++;
			if (ho->canonical[0])
				snprintf(cname, sizeof(cname), "  (alias of %.250s)", ho->canonical);
			if (ho->usable)
				add_pline(&n, S_NORMAL, 2, "%d. %s%s", hostno, ho->name, cname);
			else
				add_pline(&n, S_BAD, 2, "%d. %s%s  UNUSABLE%s", hostno, ho->name, cname,
					  ho->why_unusable == MX_UNUSABLE_TEMP ? " (for now)" : "");
			for (k = 0; k < ho->notes.n; k++) {
				char	t[LINE_BYTES];

				snprintf(t, sizeof(t), "- %s", ho->notes.v[k]);
				add_wrapped(&n, S_NOTE, 7, w, t);
			}
			if (ho->naddrs == 0)
				add_pline(&n, S_NOTE, 7, "(no addresses)");
			for (a = 0; a < ho->naddrs; a++) {
				const struct mx_plan_addr *ad = &ho->addrs[a];
				const struct mx_addr_state *s = state_of(m, ad);
				char	st[160], t[LINE_BYTES];
				enum style ss, as;

				state_text(F, s, st, sizeof(st), &ss);
				snprintf(t, sizeof(t), "%-*s  %s  ttl %-5u %-8s", addrw, ad->text,
					 ad->ip.family == AF_INET ? "ipv4" : "ipv6", ad->ttl,
					 ad->usable ? "usable" : "unusable");
				as = ad->usable ? ss : S_BAD;
				if (7 + text_cols(t) + 2 + text_cols(st) <= w) {
					add_pline(&n, as, 7, "%s  %s", t, st);
				} else {	/* narrow: the state on a row of its own */
					add_pline(&n, as, 7, "%s", t);
					add_pline(&n, as, 9, "state: %s", st);
				}
				if (s != NULL && s->last_error[0] &&
				    (s->state == MX_STATE_FAILING || s->state == MX_STATE_BACKOFF)) {
					snprintf(t, sizeof(t), "last error: %s", s->last_error);
					add_wrapped(&n, S_NOTE, 9, w, t);
				}
				for (k = 0; k < ad->notes.n; k++) {
					snprintf(t, sizeof(t), "- %s", ad->notes.v[k]);
					add_wrapped(&n, S_NOTE, 9, w, t);
				}
			}
		}
	}
	if (p->ntiers == 0 && p->result == MX_PLAN_OK)
		add_pline(&n, S_NOTE, 0, "(no hosts)");
	return n;
}

/* fleet_header - the selected domain's first row in fleet mode */
static void
fleet_header(const struct frame *F, const struct tui_domain *d, const struct fleet_domain *fd,
	     char *out, size_t len, enum style *s)
{
	const char *dots = F->v->utf8 ? "\u2026" : "...";
	char	when[40] = "";

	*s = S_NORMAL;
	if (fd != NULL)
		mx_format_time(fd->loaded_ms, F->m->now_ms, F->m->opts.utc, when, sizeof(when));
	if (d->state == TUI_D_FAILED) {
		*s = S_BAD;
		snprintf(out, len, "%s  cannot read: %s", d->name, d->error);
	} else if (fd == NULL) {
		*s = S_WARN;
		snprintf(out, len, "%s  loading%s", d->name, dots);
	} else {
		*s = fd->scope == FLEET_SCOPE_NONE ? S_OK : S_BAD;
		snprintf(out, len, "%s  %d node%s, %d address%s, %d attempt%s%s  read %s in %lld ms%s",
			 d->name, fd->nnodes, fd->nnodes == 1 ? "" : "s", fd->naddrs,
			 fd->naddrs == 1 ? "" : "es", fd->nattempts, fd->nattempts == 1 ? "" : "s",
			 fd->scope == FLEET_SCOPE_NONE ? "" : fd->scope == FLEET_SCOPE_LOCAL ?
			 ", failing locally" : ", failing everywhere it was tried", when,
			 (long long)fd->query_ms, d->state == TUI_D_RESOLVING ? dots : "");
	}
}

/* node_style - the colour of a node's state (the words carry it too) */
static enum style
node_style(enum fleet_nstate st)
{
	return st == FLEET_NS_OK ? S_OK : st == FLEET_NS_UNKNOWN ? S_NOTE : S_WARN;
}

/* build_fleet_lines - the hosts pane in fleet mode: per address its summary and every node */
static int
build_fleet_lines(const struct frame *F, const struct tui_domain *d,
		  const struct fleet_domain *fd, int w)
{
	int	n = 0, a, k, nodew = 4;

	if (fd == NULL) {
		if (d->state == TUI_D_FAILED)
			add_pline(&n, S_BAD, 0, "cannot read: %s", d->error);
		else
			add_pline(&n, S_WARN, 0, "loading%s", F->v->utf8 ? "\u2026" : "...");
		return n;
	}
	if (fd->naddrs == 0)
		add_pline(&n, S_NOTE, 0, "(no address tried by any node)");
	for (k = 0; k < fd->nnodes; k++)
		if ((int)strlen(fd->node_names[k]) > nodew)
			nodew = (int)strlen(fd->node_names[k]);
	for (a = 0; a < fd->naddrs; a++) {
		const struct fleet_addr *ad = &fd->addrs[a];
		char	t[LINE_BYTES], pref[24] = "";

		if (ad->preference >= 0)
			snprintf(pref, sizeof(pref), "  pref %d", ad->preference);
		add_pline(&n, ad->failing > 0 ? S_BAD : S_HEAD, 0, "%s [%s]%s", ad->host[0] ?
			  ad->host : "-", ad->address, pref);
		add_wrapped(&n, ad->failing > 0 ? S_WARN : S_OK, 2, w, ad->summary);
		for (k = 0; k < fd->nnodes; k++) {
			const struct fleet_nodestate *ns = &ad->nodes[k];
			char	words[200];

			fleet_node_words(ns, F->m->now_ms, F->m->opts.utc, words, sizeof(words));
			snprintf(t, sizeof(t), "%-*s  %s", nodew, ns->node, words);
			add_pline(&n, node_style(ns->state), 4, "%s", t);
			if (ns->state != FLEET_NS_OK && ns->state != FLEET_NS_UNKNOWN &&
			    ns->last_error[0]) {
				snprintf(t, sizeof(t), "%s", ns->last_error);
				add_wrapped(&n, S_NOTE, 6 + nodew, w, t);
			}
		}
	}
	return n;
}

/* header_text - the domain's first row: result or lookup state */
static void
header_text(const struct frame *F, const struct tui_domain *d, int width, char *out,
	    size_t len, enum style *s)
{
	const struct mx_plan *p = d->have_plan ? d->model.plan : NULL;
	char	when[40] = "", res[600] = "";
	const char *dots = F->v->utf8 ? "\u2026" : "...";

	*s = S_NORMAL;
	if (p != NULL) {
		size_t	t, h, hosts = 0;

		for (t = 0; t < p->ntiers; t++)
			for (h = 0; h < p->tiers[t].nhosts; h++)
				hosts++;
		if (p->result == MX_PLAN_OK) {
			*s = S_OK;
			snprintf(res, sizeof(res), "ok: %zu tier%s, %zu host%s, %zu usable address%s",
				 p->ntiers, p->ntiers == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s",
				 mx_plan_usable_addresses(p),
				 mx_plan_usable_addresses(p) == 1 ? "" : "es");
		} else {
			*s = S_BAD;
			snprintf(res, sizeof(res), "%s%s%s: %.500s", mx_plan_result_name(p->result),
				 p->status[0] ? " " : "", p->status, p->message);
		}
		mx_format_time(d->resolved_ms, F->m->now_ms, F->m->opts.utc, when, sizeof(when));
	}
	switch (d->state) {
	case TUI_D_IDLE:
		snprintf(out, len, "%s  not looked up yet", d->name);
		break;
	case TUI_D_QUEUED:
		*s = S_WARN;
		snprintf(out, len, "%s  waiting to resolve%s", d->name, dots);
		break;
	case TUI_D_RESOLVING:
		*s = S_WARN;
		if (p != NULL)
			snprintf(out, len, "%s  resolving%s (shown: %s from %s)", d->name, dots, res,
				 when);
		else
			snprintf(out, len, "%s  resolving%s", d->name, dots);
		break;
	case TUI_D_FAILED:
		*s = S_BAD;
		snprintf(out, len, "%s  lookup failed: %s", d->name, d->error);
		break;
	case TUI_D_READY:
		snprintf(out, len, "%s  %s  resolved %s", d->name, res, when);
		if (text_cols(out) > width)	/* the time is the first to go */
			snprintf(out, len, "%s  %s", d->name, res);
		break;
	}
}

/* Columns of the attempts table, in screen order. */
enum { C_TIME, C_NODE, C_RCPT, C_PREF, C_HOST, C_ADDR, C_STAGE, C_REPLY, C_DECISION, C_REASON,
	NCOLS };

static const struct {
	const char *head;
	int	cap;			/* widest it gets (0: the reason, takes the rest) */
} colspec[NCOLS] = {
	[C_TIME] = { "time", 19 },
	[C_NODE] = { "node", 16 },	/* fleet mode only */
	[C_RCPT] = { "recipient", 28 },
	[C_PREF] = { "pref", 7 },	/* a row from the MTA's log: its source */
	[C_HOST] = { "host", 30 },
	[C_ADDR] = { "address", 39 },
	[C_STAGE] = { "stage", 8 },
	[C_REPLY] = { "reply", 30 },
	[C_DECISION] = { "decision", 14 },
	[C_REASON] = { "reason", 40 },
};

/*
 * When the table is too wide, these steps run in order until it fits:
 * shrink a column to a width, or drop it (width 0). The host name and the
 * reply stay whole longest; the plan above shows addresses and preferences.
 */
static const struct { int col, to; } fit_steps[] = {
	{ C_REASON, 16 }, { C_RCPT, 12 }, { C_REPLY, 14 }, { C_RCPT, 0 },
	{ C_REASON, 12 }, { C_ADDR, 0 }, { C_REPLY, 10 }, { C_HOST, 14 },
	{ C_PREF, 0 }, { C_REASON, 8 }, { C_HOST, 10 }, { C_DECISION, 0 },
};

/* short_reason - the reason without the "host[address]:port" it starts with */
static const char *
short_reason(const struct mx_attempt_row *r)
{
	char	needle[64];
	const char *p, *s = r->reason;

	if (r->address[0] == '\0')
		return s;
	snprintf(needle, sizeof(needle), "[%s]", r->address);
	if ((p = strstr(s, needle)) == NULL)
		return s;
	p += strlen(needle);
	if (*p == ':')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	while (*p == ':' || *p == ' ')
		p++;
	return *p != '\0' ? p : s;
}

/* cell - the text of one column of an attempt row */
static void
cell(const struct frame *F, const struct mx_attempt_row *r, int c, char *out, size_t len)
{
	switch (c) {
	case C_TIME:
		mx_format_time(r->ts_ms, F->m->now_ms, F->m->opts.utc, out, len);
		break;
	case C_NODE:
		snprintf(out, len, "%s", r->node[0] ? r->node : "-");
		break;
	case C_RCPT:
		snprintf(out, len, "%s", r->recipient[0] ? r->recipient : "-");
		break;
	case C_PREF:
		if (r->preference >= 0)
			snprintf(out, len, "%d", r->preference);
		else if (strcmp(r->source, "postfix") == 0 || strcmp(r->source, "exim") == 0)
			snprintf(out, len, "%s", r->source);	/* logs have no preference */
		else
			snprintf(out, len, "-");
		break;
	case C_HOST:
		snprintf(out, len, "%s", r->host[0] ? r->host : "-");
		break;
	case C_ADDR:
		snprintf(out, len, "%s", r->address[0] ? r->address : "-");
		break;
	case C_STAGE:
		snprintf(out, len, "%s", r->stage[0] ? r->stage : "-");
		break;
	case C_REPLY:
		if (r->reply_code > 0)
			snprintf(out, len, "%d%s%s %s", r->reply_code, r->enhanced_status[0] ? " " : "",
				 r->enhanced_status, r->reply_text);
		else
			snprintf(out, len, "-");
		break;
	case C_DECISION:
		snprintf(out, len, "%s", r->decision[0] ? r->decision : r->outcome);
		break;
	default:
		snprintf(out, len, "%s", short_reason(r));
	}
}

/* table_width - columns the shown columns take with their separators */
static int
table_width(const int width[NCOLS])
{
	int	c, used = 0, shown = 0;

	for (c = 0; c < NCOLS; c++)
		if (width[c] > 0) {
			used += width[c];
			shown++;
		}
	return used + (shown > 0 ? shown - 1 : 0);
}

/*
 * column_widths - fit the table into w columns: every column as wide as
 * its content (capped); when that is too wide, fit_steps[] shrink and drop
 * columns until it fits. The reason (when with_reason) takes whatever is
 * left. True when every column is shown whole.
 */
static bool
column_widths(const struct frame *F, const struct mx_attempt_row *const *rows, int n,
	      int w, bool with_reason, int width[NCOLS])
{
	bool	whole;

	char	buf[CELL_BYTES];
	int	c, i, k, excess;

	for (c = 0; c < NCOLS; c++) {
		width[c] = text_cols(colspec[c].head);
		for (i = 0; i < n; i++) {
			int	cw;

			cell(F, rows[i], c, buf, sizeof(buf));
			cw = text_cols(buf);
			if (cw > width[c])
				width[c] = cw;
		}
		if (width[c] > colspec[c].cap)
			width[c] = colspec[c].cap;
	}
	if (!with_reason)
		width[C_REASON] = 0;
	if (!F->m->opts.fleet)
		width[C_NODE] = 0;	/* a local journal's rows are this node's */
	whole = table_width(width) <= w;
	for (k = 0; k < (int)(sizeof(fit_steps) / sizeof(fit_steps[0])); k++) {
		excess = table_width(width) - w;
		if (excess <= 0)
			break;
		c = fit_steps[k].col;
		if (width[c] == 0)
			continue;
		if (fit_steps[k].to == 0)
			width[c] = 0;
		else if (width[c] > fit_steps[k].to)
			width[c] = width[c] - excess > fit_steps[k].to ? width[c] - excess :
			    fit_steps[k].to;
	}
	excess = table_width(width) - w;
	if (!with_reason)
		return whole;
	if (excess > 0)			/* narrower than every step: the reason gives way */
		width[C_REASON] = width[C_REASON] > excess ? width[C_REASON] - excess : 0;
	else
		width[C_REASON] -= excess;	/* the reason takes the rest */
	return whole;
}

/* draw_table_row - one row of the attempts table (or its header when r is NULL), cut at xend */
static void
draw_table_row(const struct frame *F, const struct mx_attempt_row *r, int y, int x,
	       int xend, const int width[NCOLS], attr_t base)
{
	char	buf[CELL_BYTES];
	int	c;

	for (c = 0; c < NCOLS && x < xend; c++) {
		attr_t	a = base;
		int	cw = width[c] < xend - x ? width[c] : xend - x;

		if (cw <= 0)
			continue;
		if (r == NULL) {
			snprintf(buf, sizeof(buf), "%s", colspec[c].head);
		} else {
			cell(F, r, c, buf, sizeof(buf));
			if (c == C_DECISION && base == A_NORMAL)
				a = strcmp(r->outcome, "delivered") == 0 ? sty(F, S_OK) :
				    strcmp(r->outcome, "permfail") == 0 ? sty(F, S_BAD) :
				    strcmp(r->outcome, "tempfail") == 0 ? sty(F, S_WARN) : base;
		}
		put(F, y, x, cw, buf, a);
		x += width[c] + 1;
	}
}

/* detail_text - everything about one attempt, for the row under the table */
static void
detail_text(const struct frame *F, const struct mx_attempt_row *r, char *out, size_t len)
{
	char	when[40], reply[700] = "";

	mx_format_time(r->ts_ms, F->m->now_ms, F->m->opts.utc, when, sizeof(when));
	if (r->reply_code > 0)
		snprintf(reply, sizeof(reply), " reply \"%d%s%s %.600s\";", r->reply_code,
			 r->enhanced_status[0] ? " " : "", r->enhanced_status, r->reply_text);
	snprintf(out, len, "selected: %s%s%s%s%s %s %s[%s]:%d at %s:%s %s, %s; %.700s (%lld ms)%s%s%s%s",
		 when, F->m->opts.fleet ? " on " : "", F->m->opts.fleet ? r->node : "",
		 r->queue_id[0] ? " queue " : "", r->queue_id, r->recipient,
		 r->host[0] ? r->host : "-", r->address[0] ? r->address : "-", r->port,
		 r->stage[0] ? r->stage : "-", reply, r->outcome, r->decision, r->reason,
		 (long long)r->duration_ms, strcmp(r->source, "mxtier-pipe") != 0 ? " from the " : "",
		 strcmp(r->source, "mxtier-pipe") != 0 ? r->source : "",
		 strcmp(r->source, "mxtier-pipe") != 0 ? " log of " : "",
		 strcmp(r->source, "mxtier-pipe") != 0 ? (r->node[0] ? r->node : "this host") : "");
}

/* draw_right - header, explanation, plan and attempts of the selected domain */
static void
draw_right(const struct frame *F, const struct layout *L)
{
	const struct tui_domain *d = F->m->selected >= 0 ? &F->m->domains[F->m->selected] : NULL;
	const struct mx_attempt_row *rows[MX_MODEL_ATTEMPTS];
	char	buf[3072], extra[200];
	enum style hs;
	int	y = 1, bottom = L->h - 2, nrows = 0, nplan, expl_rows, avail, prows, arows;
	int	detail_rows = 0, i, want_a, width[NCOLS], per, shown;
	bool	two;
	bool	pfocus = F->m->focus == TUI_PANE_PLAN, afocus = F->m->focus == TUI_PANE_ATTEMPTS;
	const char *why;
	const struct fleet_domain *fd = F->m->opts.fleet ? tui_model_fleet_shown(F->m) : NULL;
	const struct mx_attempt_row *all = d != NULL ? d->model.attempts : NULL;
	int	nall = d != NULL ? d->model.nattempts : 0;

	if (d == NULL) {
		put(F, y, L->rx + 1, L->rw - 1, F->m->ndomains == 0 ?
		    "No domain yet: press a to add one, or give domains on the command line." :
		    "No domain matches the filter (Esc clears it).", sty(F, S_NOTE));
		F->g->plan_rows = F->g->attempt_rows = 0;
		return;
	}
	if (F->m->opts.fleet)
		fleet_header(F, d, fd, buf, sizeof(buf), &hs);
	else
		header_text(F, d, L->rw - 1, buf, sizeof(buf), &hs);
	put(F, y, L->rx + 1, L->rw - 1, d->name, sty(F, S_HEAD));
	if ((int)strlen(d->name) + 3 < L->rw)
		put(F, y, L->rx + 1 + text_cols(d->name), L->rw - 1 - text_cols(d->name),
		    buf + strlen(d->name), sty(F, hs));
	y++;

	/* the explanation: "why: ...", wrapped, at most 3 rows (2 on short screens) */
	why = d->have_model ? d->model.explanation : "";
	if (F->m->opts.fleet)
		snprintf(buf, sizeof(buf), "why: %s", fd != NULL ? fd->explanation :
			 d->state == TUI_D_FAILED ? "the fleet database cannot be read" :
			 F->v->utf8 ? "loading\u2026" : "loading...");
	else if (d->have_model && d->model.journal_error[0])
		snprintf(buf, sizeof(buf), "why: %s (journal: %s)", why, d->model.journal_error);
	else if (F->m->journal == NULL)
		snprintf(buf, sizeof(buf), "why: no journal to read attempts from (%s)",
			 F->m->journal_note);
	else
		snprintf(buf, sizeof(buf), "why: %s", why);
	expl_rows = put_wrapped(F, y, L->rx + 1, L->rw - 1, L->h >= 20 ? 3 : 2, buf,
				sty(F, S_NORMAL));
	y += expl_rows > 0 ? expl_rows : 1;

	/* the rows each pane has */
	if (F->m->opts.fleet) {
		nplan = build_fleet_lines(F, d, fd, L->rw - 1);
		all = fd != NULL ? fd->attempts : NULL;
		nall = fd != NULL ? fd->nattempts : 0;
	} else
		nplan = build_plan_lines(F, d, L->rw - 1);
	F->g->plan_rows = nplan;
	for (i = 0; i < nall && nrows < MX_MODEL_ATTEMPTS; i++)
		if (tui_attempt_matches(F->m, &all[i]))
			rows[nrows++] = &all[i];
	F->g->attempt_rows = nrows;
	if (afocus && nrows > 0)
		detail_rows = 2;

	/* split: plan title + rows, attempts title + header + rows (+ detail) */
	avail = bottom - y + 1 - 3 - detail_rows;
	if (avail < 2)
		avail = 2;
	want_a = nrows > 0 ? 2 * nrows : 1;	/* room for two rows per attempt if it can */
	if (want_a > avail / 2)
		want_a = avail / 2 > 0 ? avail / 2 : 1;
	prows = nplan < avail - want_a ? nplan : avail - want_a;
	if (prows < 1)
		prows = 1;
	arows = avail - prows;
	if (arows < 1)
		arows = 1;

	/* plan pane */
	clamp_scroll(&F->g->plan_scroll, nplan, prows);
	F->g->page_rows[TUI_PANE_PLAN] = prows;
	extra[0] = '\0';
	if (nplan > prows)
		snprintf(extra, sizeof(extra), "rows %d-%d of %d", F->g->plan_scroll.top + 1,
			 F->g->plan_scroll.top + prows, nplan);
	pane_title(F, y, L->rx, L->rw, F->m->opts.fleet ? "Hosts across the fleet" : "Plan", pfocus,
		   extra);
	y++;
	for (i = 0; i < prows && F->g->plan_scroll.top + i < nplan; i++) {
		const struct pline *pl = &plines[F->g->plan_scroll.top + i];
		bool	cur = pfocus && F->g->plan_scroll.top + i == F->g->plan_scroll.cursor;
		attr_t	a = cur ? sty(F, S_CURSOR) : sty(F, pl->style);

		if (cur)
			fill_row(y + i, L->rx, L->rw, a);
		put(F, y + i, L->rx + 1 + pl->indent, L->rw - 1 - pl->indent, pl->text, a);
	}
	y += prows;

	/*
	 * attempts pane: one row per attempt when the table fits the width;
	 * when it does not and there is room, two: the columns without the
	 * reason, and the reason under them, as wide as the pane
	 */
	two = !column_widths(F, rows, nrows, L->rw - 1, true, width) &&
	    nrows > 0 && (2 * nrows <= arows || arows >= 12);
	if (two)
		column_widths(F, rows, nrows, L->rw - 1, false, width);
	per = two ? 2 : 1;
	clamp_scroll(&F->g->attempts_scroll, nrows, arows / per);
	F->g->page_rows[TUI_PANE_ATTEMPTS] = arows / per;
	if (nrows > arows / per)
		snprintf(extra, sizeof(extra), "newest first, %d-%d of %d%s%s",
			 F->g->attempts_scroll.top + 1, F->g->attempts_scroll.top + arows / per, nrows,
			 F->m->filter[0] ? " matching " : "", F->m->filter[0] ? F->m->filter : "");
	else
		snprintf(extra, sizeof(extra), "newest first, %d%s%s", nrows,
			 F->m->filter[0] ? " matching " : "", F->m->filter[0] ? F->m->filter : "");
	pane_title(F, y, L->rx, L->rw, "Attempts", afocus, extra);
	y++;
	draw_table_row(F, NULL, y, L->rx + 1, L->w, width, sty(F, S_HEAD));
	y++;
	if (nrows == 0)
		put(F, y, L->rx + 1, L->rw - 1, nall > 0 ?
		    "(no attempt matches the filter)" : F->m->opts.fleet ?
		    (fd != NULL ? "(no attempts in the fleet database)" : "") :
		    F->m->journal == NULL ?
		    "(no journal)" : "(no attempts in the journal)", sty(F, S_NOTE));
	for (i = 0; i < arows / per && F->g->attempts_scroll.top + i < nrows; i++) {
		int	k = F->g->attempts_scroll.top + i, ry = y + i * per;
		bool	cur = afocus && k == F->g->attempts_scroll.cursor;
		attr_t	a = cur ? sty(F, S_CURSOR) : A_NORMAL;

		if (cur) {
			fill_row(ry, L->rx, L->rw, a);
			if (two)
				fill_row(ry + 1, L->rx, L->rw, a);
		}
		draw_table_row(F, rows[k], ry, L->rx + 1, L->w, width, a);
		if (two) {		/* under the row: the recipient if its column is gone, the reason */
			snprintf(buf, sizeof(buf), "%s%s%s", width[C_RCPT] > 0 ? "" : rows[k]->recipient,
				 width[C_RCPT] > 0 || rows[k]->recipient[0] == '\0' ? "" : "  ",
				 short_reason(rows[k]));
			put(F, ry + 1, L->rx + 1 + width[C_TIME] + 1, L->rw - 2 - width[C_TIME],
			    buf, cur ? a : sty(F, S_NOTE));
		}
	}
	/* the cursor row in full, under the rows shown */
	shown = nrows - F->g->attempts_scroll.top < arows / per ?
	    nrows - F->g->attempts_scroll.top : arows / per;
	y += shown * per;
	if (detail_rows > 0 && y + detail_rows - 1 <= bottom) {
		detail_text(F, rows[F->g->attempts_scroll.cursor], buf, sizeof(buf));
		put_wrapped(F, y, L->rx + 1, L->rw - 1, detail_rows, buf, sty(F, S_NOTE));
	}
}

/* hints - "Tab pane  Enter open  / filter ..." from the key table */
static void
hints(char *out, size_t len)
{
	size_t	used = 0;
	int	i;

	out[0] = '\0';
	for (i = 0; i < tui_nkeys && used < len; i++) {
		char	first[24];
		size_t	k;

		if (tui_keys[i].hint == NULL)
			continue;
		for (k = 0; tui_keys[i].names[k] && tui_keys[i].names[k] != ',' &&
		     k < sizeof(first) - 1; k++)
			first[k] = tui_keys[i].names[k];
		first[k] = '\0';
		used += (size_t)snprintf(out + used, len - used, "%s%s %s", used ? "  " : "",
					 first, tui_keys[i].hint);
	}
}

/* draw_status - the last row: prompt, message or note, and the key hints */
static void
draw_status(const struct frame *F, const struct layout *L)
{
	char	left[600], right[300];
	int	y = L->h - 1, w = L->w - 1, rw, lw;	/* never the bottom-right cell */
	attr_t	a = sty(F, S_NORMAL);

	hints(right, sizeof(right));
	if (F->m->prompt != TUI_PROMPT_NONE) {
		snprintf(left, sizeof(left), "%s%s_", F->m->prompt == TUI_PROMPT_FILTER ?
			 "filter: " : "add domain: ", F->m->input);
		snprintf(right, sizeof(right), "Enter %s  Esc %s",
			 F->m->prompt == TUI_PROMPT_FILTER ? "keep" : "add",
			 F->m->prompt == TUI_PROMPT_FILTER ? "clear" : "cancel");
		a = A_BOLD;
	} else if (F->m->status[0]) {
		snprintf(left, sizeof(left), "%s%s", F->m->status_error ? "error: " : "",
			 F->m->status);
		a = F->m->status_error ? sty(F, S_BAD) : sty(F, S_NORMAL);
	} else if (F->m->fleet_note[0]) {
		snprintf(left, sizeof(left), "error: %s", F->m->fleet_note);
		a = sty(F, S_BAD);
	} else if (F->m->journal_note[0]) {
		snprintf(left, sizeof(left), "note: %s", F->m->journal_note);
		a = sty(F, S_WARN);
	} else if (F->m->opts.fleet && tui_model_fleet_loading(F->m)) {
		snprintf(left, sizeof(left), "loading%s%s%s%s", F->v->utf8 ? "\u2026" : "...",
			 F->m->filter[0] ? "  filter \"" : "", F->m->filter,
			 F->m->filter[0] ? "\"" : "");
		a = sty(F, S_WARN);
	} else if (F->m->filter[0]) {
		snprintf(left, sizeof(left), "filter \"%s\"", F->m->filter);
	} else {
		left[0] = '\0';
	}
	rw = text_cols(right);
	lw = text_cols(left);
	if (lw + 2 + rw > w) {		/* the message first; hints give way */
		rw = w - lw - 2;
		if (rw < 10)
			rw = 0;
	}
	put(F, y, 0, rw > 0 ? w - rw - 2 : w, left, a);
	if (rw > 0)
		put(F, y, w - rw, rw, right, sty(F, S_HEAD));
}

/* draw_help - the key table over everything */
static void
draw_help(const struct frame *F, const struct layout *L)
{
	int	bw = L->w - 4 < 78 ? L->w - 4 : 78, bh = tui_nkeys + 4, x0, y0, i, namew = 0;
	attr_t	a = sty(F, S_NORMAL);

	if (bh > L->h - 2)
		bh = L->h - 2;
	x0 = (L->w - bw) / 2;
	y0 = (L->h - bh) / 2;
	for (i = 0; i < tui_nkeys; i++)
		if (text_cols(tui_keys[i].names) > namew)
			namew = text_cols(tui_keys[i].names);
	for (i = 0; i < bh; i++)
		fill_row(y0 + i, x0, bw, a);
	attron(sty(F, S_HEAD));
	mvaddch(y0, x0, ACS_ULCORNER);
	mvhline(y0, x0 + 1, ACS_HLINE, bw - 2);
	mvaddch(y0, x0 + bw - 1, ACS_URCORNER);
	mvvline(y0 + 1, x0, ACS_VLINE, bh - 2);
	mvvline(y0 + 1, x0 + bw - 1, ACS_VLINE, bh - 2);
	mvaddch(y0 + bh - 1, x0, ACS_LLCORNER);
	mvhline(y0 + bh - 1, x0 + 1, ACS_HLINE, bw - 2);
	mvaddch(y0 + bh - 1, x0 + bw - 1, ACS_LRCORNER);
	attroff(sty(F, S_HEAD));
	put(F, y0, x0 + 2, bw - 4, " Keys ", sty(F, S_HEAD));
	for (i = 0; i < tui_nkeys && 1 + i < bh - 2; i++) {
		put(F, y0 + 1 + i, x0 + 2, namew, tui_keys[i].names, A_BOLD);
		put(F, y0 + 1 + i, x0 + 4 + namew, bw - namew - 6, tui_keys[i].help, a);
	}
	put(F, y0 + bh - 2, x0 + 2, bw - 4, "any key closes this table; q quits",
	    sty(F, S_NOTE));
}

/* tui_view_draw - the whole screen; the geometry used goes to g */
void
tui_view_draw(struct tui_view *v, const struct tui_model *m, struct tui_geom *g)
{
	struct frame frame = { v, m, g }, *F = &frame;
	struct layout L;
	char	msg[128];

	/* what the model last got back, with its scroll positions: the draw clamps them */
	*g = m->geom;
	g->domains_top = m->domains_top;
	g->plan_scroll = m->plan_scroll;
	g->attempts_scroll = m->attempts_scroll;
	measure(F, &L);
	erase();
	if (L.w < TUI_MIN_COLS || L.h < TUI_MIN_ROWS) {
		snprintf(msg, sizeof(msg), "terminal too small (%dx%d), mxtier needs %dx%d; q quits",
			 L.w, L.h, TUI_MIN_COLS, TUI_MIN_ROWS);
		put(F, 0, 0, L.w - 1, msg, A_BOLD);
		refresh();
		return;
	}
	draw_title(F, &L);
	mvvline(1, L.lw, ACS_VLINE, L.h - 2);
	draw_domains(F, &L);
	draw_right(F, &L);
	draw_status(F, &L);
	if (F->m->help)
		draw_help(F, &L);
	refresh();
}
