/*
 * fleetwork - the fleet view's database worker thread (see fleetwork.h)
 *
 * Shared between the loop and the thread, under the mutex: the waiting
 * jobs, the finished results, and the flags running / stop / detached.
 * The connection and the loaders' buffers belong to the thread alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fleetdb.h"
#include "fleetwork.h"

#define CONNECT_TIMEOUT_S 5	/* a database that does not answer costs this, on the thread */

struct fleet_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int	pipe[2];		/* [0] the loop polls, [1] the thread writes */
	char	url[1100];
	bool	utc;

	bool	want[FLEET_NJOBS];	/* a job of that kind waits */
	char	want_domain[254];
	struct fleet_result done[FLEET_NJOBS];	/* the newest result of each kind */
	bool	have[FLEET_NJOBS];
	bool	running, stop, detached;

	PGconn *conn;			/* the thread's */
};

/* fleet_result_clear - the list and domain of a result */
void
fleet_result_clear(struct fleet_result *res)
{
	free(res->list);
	fleet_domain_free(res->dom);
	res->list = NULL;
	res->dom = NULL;
}

/* destroy - everything the worker holds (the thread is gone or is the caller) */
static void
destroy(struct fleet_worker *w)
{
	int	k;

	for (k = 0; k < FLEET_NJOBS; k++)
		if (w->have[k])
			fleet_result_clear(&w->done[k]);
	mx_fleetdb_close(w->conn);
	close(w->pipe[0]);
	close(w->pipe[1]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->wake);
	free(w);
}

/* run_job - connect if need be, then one loader; the result in res */
static void
run_job(struct fleet_worker *w, enum fleet_job kind, const char *domain, struct fleet_result *res)
{
	int64_t	t0 = mx_clock_mono_ms();

	memset(res, 0, sizeof(*res));
	res->kind = kind;
	snprintf(res->domain, sizeof(res->domain), "%s", domain);
	if (w->conn == NULL) {
		w->conn = mx_fleetdb_connect(w->url, "mxtier", CONNECT_TIMEOUT_S, res->err,
					     sizeof(res->err));
		if (w->conn != NULL &&
		    (!mx_fleetdb_set_timeout(w->conn, FLEET_TIMEOUT_MS, res->err, sizeof(res->err)) ||
		     !fleet_session(w->conn, res->err, sizeof(res->err)))) {
			mx_fleetdb_close(w->conn);
			w->conn = NULL;
		}
	}
	if (w->conn != NULL) {
		if (kind == FLEET_JOB_LIST) {
			if ((res->list = malloc(sizeof(*res->list))) == NULL)
				snprintf(res->err, sizeof(res->err), "out of memory");
			else
				res->ok = fleet_load_list(w->conn, res->list, res->err,
							  sizeof(res->err));
		} else {
			if ((res->dom = fleet_domain_new()) == NULL)
				snprintf(res->err, sizeof(res->err), "out of memory");
			else
				res->ok = fleet_load_domain(w->conn, domain, mx_clock_wall_ms(),
							    w->utc, res->dom, res->err,
							    sizeof(res->err));
		}
		if (!res->ok && PQstatus(w->conn) != CONNECTION_OK) {
			mx_fleetdb_close(w->conn);	/* it broke: the next job connects */
			w->conn = NULL;
		}
	}
	if (!res->ok)
		fleet_result_clear(res);
	res->down = !res->ok && w->conn == NULL;
	res->ms = mx_clock_mono_ms() - t0;
}

/* worker_main - wait for a job, run it, post it, say so through the pipe */
static void *
worker_main(void *arg)
{
	struct fleet_worker *w = arg;
	struct fleet_result res;
	char	domain[254];
	enum fleet_job kind;
	bool	mine;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !w->want[FLEET_JOB_DOMAIN] && !w->want[FLEET_JOB_LIST])
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->stop)
			break;
		/* the selected domain first: that is what the user waits for */
		kind = w->want[FLEET_JOB_DOMAIN] ? FLEET_JOB_DOMAIN : FLEET_JOB_LIST;
		w->want[kind] = false;
		snprintf(domain, sizeof(domain), "%s", kind == FLEET_JOB_DOMAIN ? w->want_domain : "");
		w->running = true;
		pthread_mutex_unlock(&w->lock);

		run_job(w, kind, domain, &res);

		pthread_mutex_lock(&w->lock);
		w->running = false;
		if (w->detached)
			break;
		if (w->have[kind])
			fleet_result_clear(&w->done[kind]);
		w->done[kind] = res;
		w->have[kind] = true;
		memset(&res, 0, sizeof(res));
		/* a full pipe already says there is something: EAGAIN is fine */
		while (write(w->pipe[1], "r", 1) < 0 && errno == EINTR)
			;
	}
	mine = w->detached;
	pthread_mutex_unlock(&w->lock);
	if (mine) {			/* the loop is gone: the last one out cleans up */
		fleet_result_clear(&res);
		destroy(w);
	}
	return NULL;
}

/* fleet_worker_start - pipe, lock, thread */
struct fleet_worker *
fleet_worker_start(const char *url, bool utc, char *err, size_t errlen)
{
	struct fleet_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int	rc;

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(w->url, sizeof(w->url), "%s", url);
	w->utc = utc;
	if (pipe2(w->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	/* signals (SIGWINCH, SIGINT, ...) go to the loop's thread: its poll() wakes */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the database thread: %s", strerror(rc));
		destroy(w);
		return NULL;
	}
	return w;
}

/* fleet_worker_fd - the pipe's read end */
int
fleet_worker_fd(const struct fleet_worker *w)
{
	return w->pipe[0];
}

/* fleet_worker_request - a job for the thread; the waiting one of its kind goes */
bool
fleet_worker_request(struct fleet_worker *w, enum fleet_job kind, const char *domain)
{
	pthread_mutex_lock(&w->lock);
	w->want[kind] = true;
	if (kind == FLEET_JOB_DOMAIN)
		snprintf(w->want_domain, sizeof(w->want_domain), "%s", domain);
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}

/* fleet_worker_busy - a job waits or runs */
bool
fleet_worker_busy(struct fleet_worker *w)
{
	bool	busy;

	pthread_mutex_lock(&w->lock);
	busy = w->running || w->want[FLEET_JOB_LIST] || w->want[FLEET_JOB_DOMAIN];
	pthread_mutex_unlock(&w->lock);
	return busy;
}

/* fleet_worker_take - drain the pipe, hand one result over */
bool
fleet_worker_take(struct fleet_worker *w, struct fleet_result *res)
{
	char	buf[64];
	bool	got = false;
	int	k;

	while (read(w->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&w->lock);
	for (k = 0; k < FLEET_NJOBS && !got; k++)
		if (w->have[k]) {
			*res = w->done[k];
			w->have[k] = false;
			got = true;
		}
	pthread_mutex_unlock(&w->lock);
	return got;
}

/* fleet_worker_stop - join an idle thread; leave a busy one to clean up after itself */
void
fleet_worker_stop(struct fleet_worker *w)
{
	bool	busy;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	busy = w->running;
	if (busy)
		w->detached = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	if (busy) {
		pthread_detach(w->thread);
		return;
	}
	pthread_join(w->thread, NULL);
	destroy(w);
}
