/*
 * keys - the key table of the mxtier TUI (see keys.h)
 */
#include <curses.h>

#include "keys.h"

#define CTRL(c) ((c) & 0x1f)

/* The table; mxtier(1) KEYS lists the same rows in the same order. */
const struct tui_key tui_keys[] = {
	{ { KEY_UP, 'k' }, "Up, k", TUI_ACT_UP,
	  "move the selection up in the focused pane", NULL },
	{ { KEY_DOWN, 'j' }, "Down, j", TUI_ACT_DOWN,
	  "move the selection down in the focused pane", NULL },
	{ { KEY_PPAGE }, "PgUp", TUI_ACT_PAGE_UP,
	  "scroll the focused pane up one page", NULL },
	{ { KEY_NPAGE, ' ' }, "PgDn, Space", TUI_ACT_PAGE_DOWN,
	  "scroll the focused pane down one page", NULL },
	{ { KEY_HOME, 'g' }, "Home, g", TUI_ACT_HOME,
	  "go to the first row of the focused pane", NULL },
	{ { KEY_END, 'G' }, "End, G", TUI_ACT_END,
	  "go to the last row of the focused pane", NULL },
	{ { '\t' }, "Tab", TUI_ACT_FOCUS_NEXT,
	  "focus the next pane: domains, plan, attempts", "pane" },
	{ { KEY_BTAB }, "Shift-Tab", TUI_ACT_FOCUS_PREV,
	  "focus the previous pane", NULL },
	{ { '\n', '\r', KEY_ENTER }, "Enter", TUI_ACT_OPEN,
	  "open the selected domain: look it up, focus its plan", "open" },
	{ { '/' }, "/", TUI_ACT_FILTER,
	  "filter domains and attempts by a substring", "filter" },
	{ { 27 }, "Esc", TUI_ACT_ESCAPE,
	  "clear the filter; close this help", NULL },
	{ { 'a' }, "a", TUI_ACT_ADD,
	  "add a domain to the list and look it up", "add" },
	{ { 'r' }, "r", TUI_ACT_RESOLVE,
	  "resolve the selected domain again", "resolve" },
	{ { '?', KEY_F(1) }, "?, F1", TUI_ACT_HELP,
	  "show or hide this key table", "help" },
	{ { CTRL('L') }, "Ctrl-L", TUI_ACT_REDRAW,
	  "repaint the screen", NULL },
	{ { 'q', 'Q' }, "q, Q", TUI_ACT_QUIT,
	  "quit", "quit" },
};

const int tui_nkeys = (int)(sizeof(tui_keys) / sizeof(tui_keys[0]));

/* tui_key_action - look a key up in the table */
enum tui_action
tui_key_action(int key)
{
	int	i, k;

	if (key == 0)
		return TUI_ACT_NONE;
	for (i = 0; i < tui_nkeys; i++)
		for (k = 0; k < TUI_KEYS_PER_ACTION && tui_keys[i].keys[k] != 0; k++)
			if (tui_keys[i].keys[k] == key)
				return tui_keys[i].action;
	return TUI_ACT_NONE;
}

/* tui_keys_print - the table for --keys and the man page check */
void
tui_keys_print(FILE *fp)
{
	int	i;

	for (i = 0; i < tui_nkeys; i++)
		fprintf(fp, "%s\t%s\n", tui_keys[i].names, tui_keys[i].help);
}
