/*
 * app - the event loop of the interactive inspector (see app.h)
 *
 * DNS never blocks the screen: a lookup only ever runs from the model's
 * descriptors in this one poll(). SIGINT, SIGTERM and SIGHUP end the loop
 * and the terminal is restored before the exit status 128+N.
 *
 * For the bench: with MXTIER_FIRST_FRAME=FILE the fleet screen writes to
 * FILE, once, "first_frame_ms N": the milliseconds from the model's start to
 * the first frame drawn with the selected domain's fleet rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "view.h"

static volatile sig_atomic_t got_signal;

/* on_signal - remember SIGINT/SIGTERM/SIGHUP; the loop ends and restores the terminal */
static void
on_signal(int sig)
{
	got_signal = sig;
}

/* read_input - every key waiting on the terminal into the model; true when any came */
static bool
read_input(struct tui_view *v, struct tui_model *m)
{
	struct tui_input in;
	bool	changed = false;

	while (tui_view_input(v, m, &in)) {
		changed = true;
		switch (in.kind) {
		case TUI_IN_RESIZE:
			tui_view_repaint(v);
			break;
		case TUI_IN_EDIT:
			tui_model_edit(m, in.edit, in.wc);
			break;
		case TUI_IN_ACTION:
			if (tui_model_key(m, in.action) & TUI_FX_REPAINT)
				tui_view_repaint(v);
			break;
		}
		if (m->quit)
			break;
	}
	return changed;
}

/* first_frame - MXTIER_FIRST_FRAME: the time to the first frame with fleet rows, once */
static void
first_frame(const struct tui_model *m, const char **path)
{
	FILE   *fp;

	if (*path == NULL || tui_model_fleet_shown(m) == NULL)
		return;
	if ((fp = fopen(*path, "w")) != NULL) {
		fprintf(fp, "first_frame_ms %" PRId64 "\n", mx_clock_mono_ms() - m->started_ms);
		fclose(fp);
	}
	*path = NULL;
}

/* run_loop - one poll for the keyboard and every descriptor of the model */
static void
run_loop(struct tui_view *v, struct tui_model *m)
{
	struct pollfd fds[1 + TUI_MAX_POLLFDS];
	struct tui_geom geom;
	int64_t	next_tick = mx_clock_mono_ms() + TUI_TICK_MS;
	bool	dirty = true;
	const char *timing = m->opts.fleet ? getenv("MXTIER_FIRST_FRAME") : NULL;

	while (!m->quit && got_signal == 0) {
		int	nfds, timeout, rc;
		int64_t	now = mx_clock_mono_ms();

		timeout = next_tick > now ? (int)(next_tick - now) : 0;
		nfds = 1 + tui_model_pollfds(m, fds + 1, TUI_MAX_POLLFDS, &timeout);
		if (dirty) {
			tui_view_draw(v, m, &geom);
			tui_model_set_geom(m, &geom);
			first_frame(m, &timing);
			dirty = false;
		}
		fds[0].fd = STDIN_FILENO;
		fds[0].events = POLLIN;
		fds[0].revents = 0;
		rc = poll(fds, (nfds_t)nfds, timeout);
		if (rc < 0 && errno != EINTR)
			break;
		if (tui_model_process(m, fds + 1))
			dirty = true;
		if (rc > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(fds[0].revents & POLLIN)) {
			m->exit_status = 1;	/* the terminal went away */
			break;
		}
		/* always: SIGWINCH interrupts poll and leaves KEY_RESIZE to read */
		if (read_input(v, m))
			dirty = true;
		now = mx_clock_mono_ms();
		if (now >= next_tick) {
			if (tui_model_tick(m))
				dirty = true;
			next_tick = now + TUI_TICK_MS;
			dirty = true;	/* the clock in the title */
		}
	}
}

/* tui_app_run - take the terminal, run the loop, give the terminal back */
int
tui_app_run(struct tui_model *m)
{
	struct sigaction sa;
	struct tui_view v;
	char	err[256];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (!tui_view_open(&v, err, sizeof(err))) {
		fprintf(stderr, "mxtier: %s\n", err);
		return 1;
	}
	tui_model_start(m);
	run_loop(&v, m);
	tui_view_close(&v);
	if (got_signal != 0)
		return 128 + got_signal;
	return m->exit_status;
}
