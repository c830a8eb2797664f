/*
 * keys - the key table of the mxtier TUI: every key, the action it stands
 * for, and the help text the "?" overlay and mxtier(1) show
 *
 * One table (tui_keys[]) maps keys to an abstract action (model.h); the
 * model executes actions and never looks at key codes. The help overlay,
 * the hint line and "mxtier --keys" are generated from the same table, and
 * the KEYS section of mxtier(1) lists it row for row (a test compares them).
 *
 * Keys typed into a prompt line ("/" filter, "a" add) go to the line
 * editor instead (view.c turns them into enum tui_edit); the table
 * applies outside prompts.
 */
#ifndef MXTIER_TUI_KEYS_H
#define MXTIER_TUI_KEYS_H

#include <stdio.h>

#include "model.h"	/* enum tui_action */

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
