/*
 * view - the curses screen of the mxtier inspector
 *
 * SYNOPSIS
 *	tui_view_init(app);	after initscr(): colours, if wanted
 *	tui_view_draw(app);	erase and paint everything from the state
 *	tui_view_resize(app);	KEY_RESIZE: re-measure, the next draw repaints
 *
 * DESCRIPTION
 *	Title row; left the domain list; right the selected domain's header
 *	(result, the explanation sentence, wrapped), its plan (tiers, hosts in
 *	try order, addresses with family, TTL, usable or not, notes and the
 *	journal's host state) and its recent attempts, newest first; the last
 *	row is the status line with the prompt or a message and key hints; "?"
 *	lays the key table over it all.
 *
 *	The view reads the state and the models; the only things it writes
 *	back are the geometry it used (rows per pane, rows listed) and the
 *	scroll positions, clamped to what is there, so the actions can move by
 *	a page. Every string is cut to the columns it has, by display width
 *	and never inside a UTF-8 sequence. Colour is used only when the app
 *	allows it (has_colors(), no NO_COLOR) and never carries meaning alone.
 */
#ifndef MXTIER_TUI_VIEW_H
#define MXTIER_TUI_VIEW_H

#include "app.h"

#define TUI_MIN_COLS 40
#define TUI_MIN_ROWS 10

/* tui_view_init - colour pairs (when app->colors) on the terminal's own background */
void	tui_view_init(struct tui_app *app);

/* tui_view_draw - paint the whole screen from the state */
void	tui_view_draw(struct tui_app *app);

/* tui_view_resize - the terminal changed size: forget the old geometry */
void	tui_view_resize(struct tui_app *app);

#endif
