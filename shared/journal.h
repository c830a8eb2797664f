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
 * Ownership: mx_journal_open() returns a handle closed with
 * mx_journal_close(). Strings passed in are copied by SQLite.
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
 * mx_journal_prune - delete attempts older than retention_s and backoff rows
 * whose retry time passed more than max_backoff_s ago
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

/* mx_journal_count_attempts - rows in attempts (tests, reports); -1 on error */
int64_t	mx_journal_count_attempts(struct mx_journal *j, const char *domain_or_null);

#endif
