/*
 * keys - the key table of the mxtier TUI: every key, the action it stands
 * for, and the help text the "?" overlay and mxtier(1) show
 *
 * One table (tui_keys[]) maps keys to an abstract action; the event loop
 * (app.c) executes actions and never looks at key codes. The help overlay,
 * the hint line and "mxtier --keys" are generated from the same table, and
 * the KEYS section of mxtier(1) lists it row for row (a test compares them).
 *
 * Keys typed into a prompt line ("/" filter, "a" add) go to the line
 * editor instead (see app.c); the table applies outside prompts.
 */
#ifndef MXTIER_TUI_KEYS_H
#define MXTIER_TUI_KEYS_H

#include <stdio.h>

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

#define TUI_KEYS_PER_ACTION 3

/* One row of the key table: up to three keys for one action. */
struct tui_key {
	int	keys[TUI_KEYS_PER_ACTION];	/* curses key codes or characters; 0 ends */
	const char *names;			/* how the keys are written: "Down, j" */
	enum tui_action action;
	const char *help;			/* what the action does, one line */
	const char *hint;			/* short word for the hint line, or NULL */
};

extern const struct tui_key tui_keys[];
extern const int tui_nkeys;

/* tui_key_action - the action bound to key (a curses code or a character), or TUI_ACT_NONE */
enum tui_action tui_key_action(int key);

/* tui_keys_print - the table as text, one "NAMES<TAB>HELP" line per row */
void	tui_keys_print(FILE *fp);

#endif
