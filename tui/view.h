/*
 * view - the curses screen of the mxtier inspector
 *
 * SYNOPSIS
 *	struct tui_view v;
 *	tui_view_open(&v, err, len);	the terminal: curses modes, colours
 *	tui_view_draw(&v, &model, &geom);	erase and paint everything from the model
 *	tui_view_input(&v, &model, &in);	the next key, as an action or an edit
 *	tui_view_repaint(&v);		KEY_RESIZE, Ctrl-L: the next draw repaints all
 *	tui_view_close(&v);		the terminal as it was
 *
 * DESCRIPTION
 *	Title row; left the domain list; right the selected domain's header
 *	(result, the explanation sentence, wrapped), its plan (tiers, hosts in
 *	try order, addresses with family, TTL, usable or not, notes and the
 *	journal's host state) and its recent attempts, newest first; the last
 *	row is the status line with the prompt or a message and key hints; "?"
 *	lays the key table over it all.
 *
 *	The view reads the model (model.h) and never changes it: the only
 *	thing it hands back is the geometry it used (struct tui_geom: rows per
 *	pane, rows listed, the scroll positions clamped to what is there), so
 *	the model's actions can move by a page. Keys are read here and turned
 *	into the model's words through the key table (keys.h): an action, or
 *	an edit while a prompt is open. Every string is cut to the columns it
 *	has, by display width and never inside a UTF-8 sequence. Colour is used
 *	only when the terminal has it and NO_COLOR is unset, and never carries
 *	meaning alone.
 */
#ifndef MXTIER_TUI_VIEW_H
#define MXTIER_TUI_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <wchar.h>

#include "model.h"

#define TUI_MIN_COLS 40
#define TUI_MIN_ROWS 10

/* The terminal the view draws on. */
struct tui_view {
	void   *screen;		/* the curses SCREEN while open */
	bool	colors;		/* colour pairs in use */
	bool	utf8;		/* the locale's charset is UTF-8 */
};

/* One input from the terminal, in the model's words. */
struct tui_input {
	enum { TUI_IN_ACTION, TUI_IN_EDIT, TUI_IN_RESIZE } kind;
	enum tui_action action;	/* TUI_IN_ACTION (TUI_ACT_NONE: an unbound key) */
	enum tui_edit edit;	/* TUI_IN_EDIT */
	wint_t	wc;		/* TUI_EDIT_CHAR: the character */
};

/* tui_view_open - take the terminal (curses modes, colours); false + err when unusable */
bool	tui_view_open(struct tui_view *v, char *err, size_t errlen);

/* tui_view_close - give the terminal back as it was */
void	tui_view_close(struct tui_view *v);

/* tui_view_draw - paint the whole screen from the model; g gets the geometry used */
void	tui_view_draw(struct tui_view *v, const struct tui_model *m, struct tui_geom *g);

/* tui_view_input - the next key waiting, in the model's words; false when none */
bool	tui_view_input(struct tui_view *v, const struct tui_model *m, struct tui_input *in);

/* tui_view_repaint - the next draw repaints every cell (resize, Ctrl-L) */
void	tui_view_repaint(struct tui_view *v);

#endif
