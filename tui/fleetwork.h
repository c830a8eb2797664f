/*
 * fleetwork - the fleet view's database worker: one thread that owns the
 * PostgreSQL connection and runs the blocking loaders of fleet.h, so that
 * the screen never waits on the database
 *
 * SYNOPSIS
 *	w = fleet_worker_start(url, utc, err, len);
 *	fleet_worker_request(w, FLEET_JOB_LIST, NULL);
 *	fleet_worker_request(w, FLEET_JOB_DOMAIN, "example.net");
 *	poll fleet_worker_fd(w) for POLLIN, then
 *	while (fleet_worker_take(w, &res)) ... fleet_result_clear(&res);
 *	fleet_worker_stop(w);
 *
 * DESCRIPTION
 *	The event loop hands jobs over and goes on; the thread connects when it
 *	has no connection (mx_fleetdb_connect: bounded connect wait, a
 *	statement_timeout of FLEET_TIMEOUT_MS), runs the job and posts the
 *	result, then writes one byte to a pipe whose read end is in the
 *	loop's poll set. One job of each kind waits at most: a newer request
 *	replaces the waiting one (the user moved on). A failed job leaves the
 *	connection closed when it broke; the next job connects again.
 *
 *	fleet_worker_stop() never waits on the database: when a job is
 *	running it leaves the thread to finish it and free everything itself.
 *
 * Ownership: a result's list and domain belong to the caller once taken
 * (fleet_result_clear frees them).
 */
#ifndef MXTIER_TUI_FLEETWORK_H
#define MXTIER_TUI_FLEETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fleet.h"

enum fleet_job { FLEET_JOB_LIST, FLEET_JOB_DOMAIN, FLEET_NJOBS };

struct fleet_result {
	enum fleet_job kind;
	bool	ok;
	char	err[512];		/* why not, one line, no password */
	char	domain[254];		/* FLEET_JOB_DOMAIN: which */
	struct fleet_list *list;	/* FLEET_JOB_LIST when ok */
	struct fleet_domain *dom;	/* FLEET_JOB_DOMAIN when ok */
	bool	down;		/* failed without a connection: the database is unreachable */
	int64_t	ms;			/* how long the job took, connecting included */
};

struct fleet_worker;

/* fleet_worker_start - the thread and its pipe (no connection yet); NULL + err */
struct fleet_worker *fleet_worker_start(const char *url, bool utc, char *err, size_t errlen);

/* fleet_worker_fd - the descriptor to poll for POLLIN: results are waiting */
int	fleet_worker_fd(const struct fleet_worker *w);

/* fleet_worker_request - queue a job (a waiting one of its kind is replaced); false when out of memory */
bool	fleet_worker_request(struct fleet_worker *w, enum fleet_job kind, const char *domain);

/* fleet_worker_busy - is a job waiting or running */
bool	fleet_worker_busy(struct fleet_worker *w);

/* fleet_worker_take - one finished result into res; false when none */
bool	fleet_worker_take(struct fleet_worker *w, struct fleet_result *res);

/* fleet_result_clear - free what a taken result holds */
void	fleet_result_clear(struct fleet_result *res);

/* fleet_worker_stop - end the thread without waiting on the database; w is gone */
void	fleet_worker_stop(struct fleet_worker *w);

#endif
