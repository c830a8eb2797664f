/*
 * journal - the delivery journal and host backoff state (SQLite, WAL)
 *
 * Every delivery attempt is one row of table attempts (DESIGN.md 4); the
 * backoff state of addresses that failed temporarily (R13) lives in table
 * backoff. Writers and readers run in separate processes at once: WAL mode,
 * a busy timeout, prepared statements only.
 *
 * A journal that cannot be opened or written never changes a delivery:
 * every function returns false and leaves a reason in the journal's error
 * text (mx_journal_error()); the caller reports it and carries on.
 *
 * The journal also holds its own identity (journal_meta: a random
 * journal_id made when the file is created or migrated to version 6) and
 * the backoff other nodes of a fleet saw (table fleet_backoff, filled by
 * mxtier-ship's pull, read by R13 with policy.fleet_backoff on). The prune
 * never deletes the attempt with the largest id: SQLite would give that id
 * again, and mxtier-ship's position (the highest id shipped) needs ids that
 * only grow.
 *
 * Ownership: mx_journal_open() returns a handle closed with
 * mx_journal_close(). Strings passed in are copied by SQLite; the strings a
 * row callback sees live until the callback returns.
 */
#ifndef MXTIER_JOURNAL_H
#define MXTIER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mx_journal;

/* One attempt row; NULL strings and negative numbers are stored as NULL. */
struct mx_attempt {
	int64_t	ts_ms;			/* Unix time in milliseconds */
	const char *queue_id;
	const char *domain;
	const char *recipient;
	int	preference;		/* -1: none (fallback relay) */
	const char *host;
	const char *address;
	int	port;
	const char *stage;		/* connect|greeting|ehlo|starttls|mail|rcpt|data|dot */
	int	reply_code;		/* 0: no reply */
	const char *enhanced_status;
	const char *reply_text;
	const char *outcome;		/* delivered|tempfail|permfail|skipped */
	const char *decision;		/* next_address|next_host|next_tier|fallback_relay|defer|bounce|done */
	const char *reason;
	int64_t	duration_ms;
	const char *tls;		/* none|tls|verified|dane; NULL: no session */
	const char *tls_failure;	/* RFC 8460 result type, or NULL */
	const char *source;		/* mxtier-pipe|postfix|exim; NULL: mxtier-pipe */
	const char *node;		/* the machine that made the attempt, or NULL */
	int64_t	import_id;		/* mxtier-import's identity of the log line; 0: none */
};

/* Backoff of one address:port (R13). */
struct mx_backoff {
	int	failures;		/* consecutive temporary failures */
	int64_t	retry_at_ms;		/* not before this time */
	char	last_error[256];
	char	node[128];		/* "": this node's own; else the fleet node that failed */
};

/*
 * mx_journal_open - open or create the journal at path (its directory must
 * exist), mode 0600 for a new file. readonly opens without creating and
 * never writes. Returns NULL (with a reason in err) when it cannot.
 */
struct mx_journal *mx_journal_open(const char *path, bool readonly, char *err, size_t errlen);

/* mx_journal_close - close; NULL is fine */
void	mx_journal_close(struct mx_journal *j);

/* mx_journal_error - the last error's text */
const char *mx_journal_error(const struct mx_journal *j);

/* mx_journal_add_attempt - insert one row */
bool	mx_journal_add_attempt(struct mx_journal *j, const struct mx_attempt *a);

/*
 * mx_journal_import_attempt - insert one row unless a row with the same
 * import_id is there already; *added says which
 */
bool	mx_journal_import_attempt(struct mx_journal *j, const struct mx_attempt *a, bool *added);

/* mx_journal_begin / mx_journal_commit / mx_journal_rollback - one transaction around many calls */
bool	mx_journal_begin(struct mx_journal *j);
bool	mx_journal_commit(struct mx_journal *j);
void	mx_journal_rollback(struct mx_journal *j);

/* A note on a domain from an imported log that is not an attempt (table domain_notes). */
struct mx_domain_note {
	int64_t	ts_ms;
	const char *domain;
	const char *queue_id;
	const char *recipient;
	const char *source;
	const char *node;
	const char *text;
	int64_t	import_id;		/* 0: none */
};

/* mx_journal_add_note - insert a note unless its import_id is there; *added says which */
bool	mx_journal_add_note(struct mx_journal *j, const struct mx_domain_note *n, bool *added);

/* mx_journal_latest_note - the newest note of domain into text/ts; false when none or error */
bool	mx_journal_latest_note(struct mx_journal *j, const char *domain, char *text, size_t len,
			       char *source, size_t srclen, int64_t *ts_ms);

/*
 * Where mxtier-import stopped in one log file (table import_files): the
 * file's device and inode, the offset to read on from, and a hash of its
 * first head_len bytes (head_len <= offset), which tells a file truncated
 * and refilled (copytruncate) from the one that was read.
 */
struct mx_import_pos {
	int64_t	dev;
	int64_t	ino;
	int64_t	offset;
	int64_t	head_len;
	int64_t	head_hash;
	int64_t	updated_ms;
};

/* mx_journal_get_import_pos - the position of path; false when none (or error) */
bool	mx_journal_get_import_pos(struct mx_journal *j, const char *path, struct mx_import_pos *out);

/* mx_journal_put_import_pos - store (replace) the position of path */
bool	mx_journal_put_import_pos(struct mx_journal *j, const char *path,
				  const struct mx_import_pos *pos);

/* mx_journal_get_backoff - the state of address:port; false with failures 0 when none */
bool	mx_journal_get_backoff(struct mx_journal *j, const char *address, int port,
			       struct mx_backoff *out);

/*
 * mx_journal_backoff_at - the state R13 applies to address:port at now_ms
 * (mx_backoff_pick of backoff.h): this node's own when it runs, else, with
 * fleet (policy.fleet_backoff), the longest running entry another node saw,
 * its node named in out->node. The fleet table is read only when fleet is
 * true and this node's own state does not run. True when the address is
 * held back; false (out cleared, error text "") when not, or on error.
 */
bool	mx_journal_backoff_at(struct mx_journal *j, const char *address, int port,
			      int64_t now_ms, bool fleet, struct mx_backoff *out);

/*
 * mx_journal_note_failure - one more temporary failure of address:port at
 * now_ms: failures + 1, retry at now + initial * 2^(failures - 1) capped at
 * max (seconds). The new state is written to *out when out is not NULL.
 */
bool	mx_journal_note_failure(struct mx_journal *j, const char *address, int port,
				int64_t now_ms, int initial_s, int max_s, const char *error,
				struct mx_backoff *out);

/* mx_journal_note_success - address:port worked: forget its backoff */
bool	mx_journal_note_success(struct mx_journal *j, const char *address, int port);

/*
 * mx_journal_prune - delete attempts older than retention_s (but never the
 * one with the largest id, so that ids only grow) and backoff rows whose
 * retry time passed more than max_backoff_s ago; when nothing is that old
 * (the usual case) it only reads, without the write lock
 */
bool	mx_journal_prune(struct mx_journal *j, int64_t now_ms, int64_t retention_s,
			 int max_backoff_s);

/* One attempt as read back (report, TUI); strings are "" where the row has NULL. */
struct mx_attempt_row {
	int64_t	id;
	int64_t	ts_ms;
	char	queue_id[64];
	char	domain[254];
	char	recipient[320];
	int	preference;		/* -1: none */
	char	host[254];
	char	address[46];
	int	port;			/* -1: none */
	char	stage[16];
	int	reply_code;		/* 0: none */
	char	enhanced_status[16];
	char	reply_text[512];
	char	outcome[16];
	char	decision[24];
	char	reason[1024];
	int64_t	duration_ms;		/* -1: none */
	char	tls[16];
	char	tls_failure[40];
	char	source[16];		/* mxtier-pipe|postfix|exim */
	char	node[64];
};

/*
 * mx_journal_recent_attempts - the newest attempts for domain, newest first,
 * at most max rows into out; returns how many, or -1 on error. Bounded and
 * served by the (domain, ts) index whatever the journal's size.
 */
int	mx_journal_recent_attempts(struct mx_journal *j, const char *domain,
				   struct mx_attempt_row *out, int max);

/*
 * mx_journal_recent_domains - domains with attempts since since_ms, the most
 * recently used first, at most max into out; returns how many, or -1
 */
int	mx_journal_recent_domains(struct mx_journal *j, int64_t since_ms,
				  char (*out)[254], int max);

/* mx_journal_last_id - the newest attempt's id (0 when empty), -1 on error: a cheap change check */
int64_t	mx_journal_last_id(struct mx_journal *j);

struct mx_sts_policy;

/* mx_journal_get_sts - the cached MTA-STS policy of domain; false when none (or error) */
bool	mx_journal_get_sts(struct mx_journal *j, const char *domain, struct mx_sts_policy *out);

/* mx_journal_put_sts - cache (replace) the policy of p->domain */
bool	mx_journal_put_sts(struct mx_journal *j, const struct mx_sts_policy *p);

/*
 * mx_journal_put_route_tls - remember the TLS policy (an smtp_tls_policy_maps
 * entry) the route oracle gave host:port for domain, until expires_ms. A
 * stricter policy (higher rank) that has not expired is kept.
 */
bool	mx_journal_put_route_tls(struct mx_journal *j, const char *host, int port,
				 const char *policy, int rank, const char *domain, int64_t now_ms,
				 int64_t expires_ms);

/* mx_journal_get_route_tls - the unexpired policy of host:port; false when none or on error */
bool	mx_journal_get_route_tls(struct mx_journal *j, const char *host, int port, int64_t now_ms,
				 char *policy, size_t len);

/*
 * Fleet (mxtier-ship and R13 use these; the fleet schema is in mxtier-ship(8)). Times are
 * Unix milliseconds. They need a version 6 journal (any read-write open
 * migrates): on an older one opened read-only they fail with a reason,
 * except mx_journal_get_fleet_backoff, which finds nothing.
 */

/* mx_journal_id - the journal's identity (32 hex digits) into out; false on error */
bool	mx_journal_id(struct mx_journal *j, char *out, size_t outlen);

/*
 * One attempt as mxtier-ship reads it: every column of attempts but
 * import_id. A NULL text column is a NULL pointer, a NULL number has its
 * has_ flag false. The strings live until the row callback returns.
 */
struct mx_journal_ship_row {
	int64_t	id;
	int64_t	ts;			/* ms */
	const char *queue_id;
	const char *domain;
	const char *recipient;
	bool	has_preference;
	int	preference;
	const char *host;
	const char *address;
	bool	has_port;
	int	port;
	const char *stage;
	bool	has_reply_code;
	int	reply_code;
	const char *enhanced_status;
	const char *reply_text;
	const char *outcome;
	const char *decision;
	const char *reason;
	bool	has_duration_ms;
	int64_t	duration_ms;
	const char *tls;
	const char *tls_failure;
	const char *source;
	const char *node;
};

/*
 * mx_journal_ship_batch - the attempts with id > after_id in id order, at
 * most max of them, each handed to row(arg, r) (one read snapshot). row
 * returns 0 to go on; anything else stops the walk, and the call then
 * returns false with "stopped by the caller" in the error text.
 */
bool	mx_journal_ship_batch(struct mx_journal *j, int64_t after_id, size_t max,
			      int (*row)(void *arg, const struct mx_journal_ship_row *r),
			      void *arg);

/* One row of the local backoff table; last_error NULL when none. */
struct mx_journal_backoff_row {
	const char *address;
	int	port;
	int	failures;
	int64_t	retry_at;		/* ms */
	const char *last_error;
	int64_t	updated;		/* ms */
};

/*
 * mx_journal_backoff_all - every row of the local backoff table (expired
 * ones too), to row(arg, r) in (address, port) order; a non-zero return
 * stops the walk and the call returns false, as in mx_journal_ship_batch
 */
bool	mx_journal_backoff_all(struct mx_journal *j,
			       int (*row)(void *arg, const struct mx_journal_backoff_row *r),
			       void *arg);

/* One backoff entry another node of the fleet holds (table fleet_backoff). */
struct mx_journal_fleet_backoff {
	char	node[128];
	char	address[64];
	int	port;
	int	failures;
	int64_t	retry_at;		/* ms */
	char	last_error[256];	/* "" when none */
	int64_t	updated;		/* ms */
};

/*
 * mx_journal_replace_fleet_backoff - the table fleet_backoff becomes exactly
 * these n rows, in one transaction (or inside the caller's, when one is
 * open): a reader sees the old set or the new one, never a mix. An empty
 * last_error is stored as NULL. The rows are not pruned: each pull replaces
 * them, and expired ones are never read.
 */
bool	mx_journal_replace_fleet_backoff(struct mx_journal *j,
					 const struct mx_journal_fleet_backoff *rows, size_t n);

/*
 * mx_journal_get_fleet_backoff - of the fleet entries of address:port still
 * running at now_ms (retry_at > now_ms), the one that runs longest, with its
 * node, into *out; false when there is none (error text "") or on error
 */
bool	mx_journal_get_fleet_backoff(struct mx_journal *j, const char *address, int port,
				     int64_t now_ms, struct mx_journal_fleet_backoff *out);

/* mx_journal_count_attempts - rows in attempts (tests, reports); -1 on error */
int64_t	mx_journal_count_attempts(struct mx_journal *j, const char *domain_or_null);

/*
 * mx_journal_account - from now on, add up the CPU and wall time spent in
 * the journal calls a delivery makes (open, close, reads, writes, prune);
 * for mxtier-pipe's MXTIER_STAGE_TIMES. Off by default: costs nothing then.
 */
void	mx_journal_account(bool on);

/* mx_journal_accounted - the time added up so far, in nanoseconds */
void	mx_journal_accounted(int64_t *cpu_ns, int64_t *wall_ns);

#endif
