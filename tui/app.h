/*
 * app - the event loop of the interactive inspector: the model (model.h)
 * and the curses view (view.h) put together
 *
 * SYNOPSIS
 *	rc = tui_app_run(&model);
 *
 * DESCRIPTION
 *	Once per turn: draw when something changed; poll() the terminal and
 *	every descriptor the model hands out (its running lookups) with one
 *	timeout (the earliest of the model's timeouts and the next one-second
 *	tick); give the ready descriptors back to the model; turn every
 *	waiting key into an action or a prompt edit for the model; on the
 *	tick, let the model look at the journal. The loop owns nothing but the
 *	view; the caller owns the model.
 */
#ifndef MXTIER_TUI_APP_H
#define MXTIER_TUI_APP_H

#include "model.h"

/* tui_app_run - the interactive screen until q; returns the exit status */
int	tui_app_run(struct tui_model *m);

#endif
