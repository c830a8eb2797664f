/*
 * deliver - walk a plan until every recipient is delivered, deferred or
 * bounced (R10-R14)
 *
 * For each address in plan order: skip it while it is in backoff (R13),
 * run one SMTP session (smtp.c, or the caller's stand-in), ask fallback.c
 * what the outcome means for each recipient still pending (R11), journal
 * the attempt with its decision and reason (R14), and move on. At most
 * max_addresses MX addresses are tried and at most max_sessions MX sessions
 * that reached a greeting (R10). Recipients still pending when the MX hosts
 * are used up, or the limits reached, go to the fallback relays (R12): each
 * relay's every address, in order, not counted against the limits (Postfix
 * counts them per next hop too); then they are deferred. Recipients a
 * server refused with 452 "too many recipients" in a session that
 * delivered to others go to the same address in a new session (as
 * Postfix's smtp(8) does), which counts as neither a new address nor a new
 * session.
 *
 * Before any session the envelope is put in its wire form (mailaddr.h):
 * the job's addresses are the MTA's unquoted internal form; a recipient
 * holding a control character bounces at once with 5.1.3, a sender holding
 * one bounces every recipient with 5.1.7, journalled, and nothing is sent
 * for them. Journal rows show addresses with control octets as '?'.
 *
 * The result is the exit status and the first line of output of DESIGN.md
 * section 3 plus one line per recipient for the logs.
 *
 * No clock or network of its own: time, the SMTP session and relay lookups
 * come through struct mx_deliver_io, so the walk is unit-tested with fakes.
 * Ownership: everything passed in stays the caller's; the result is filled
 * in caller memory and its arrays freed with mx_deliver_result_free().
 */
#ifndef MXTIER_DELIVER_H
#define MXTIER_DELIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "journal.h"
#include "plan.h"
#include "smtp.h"
#include "spool.h"

/* A fallback relay, resolved: "HOST[:PORT]" or "[ADDR]:PORT" of the config. */
struct mx_relay_target {
	char	name[MX_DOMAIN_MAX + 1];
	int	port;
	struct mx_ip ips[16];
	size_t	nips;
	char	error[200];		/* why there are no addresses */
	bool	temporary;		/* the lookup failed temporarily */
};

struct mx_deliver_io {
	void   *arg;
	int64_t	(*now_ms)(void *arg);	/* Unix time in milliseconds */
	void	(*attempt)(void *arg, const struct mx_smtp_opts *o, const struct mx_ip *ip,
			   int port, const char *host, const struct mx_smtp_envelope *env,
			   const bool *pending, struct mx_spool *sp, struct mx_smtp_rcpt *rcpt,
			   struct mx_smtp_result *res);
	bool	(*resolve_relay)(void *arg, const char *spec, struct mx_relay_target *out);
};

enum mx_rcpt_status { MX_RCPT_PENDING, MX_RCPT_SENT, MX_RCPT_DEFERRED, MX_RCPT_BOUNCED };

/* What became of one recipient, for the log line and the exit status. */
struct mx_rcpt_outcome {
	enum mx_rcpt_status status;
	char	dsn[16];		/* "2.0.0", "4.4.1", "5.1.1" */
	char	relay[MX_DOMAIN_MAX + MX_IP_TEXT_MAX + 16];	/* "host[addr]:port" or "none" */
	char	text[1200];		/* "host ... said: 550 ... (in reply to RCPT TO)" */
	bool	rcpt_rejected;		/* 5xx to RCPT TO: exit 67 */
	char	tls[16];		/* the last session's TLS: none, tls, verified, dane */
	char	tls_failure[32];	/* its RFC 8460 failure type, or "" */
};

struct mx_deliver_result {
	int	exit_status;		/* sysexits: 0, 75, 67, 68, 69 */
	char	first_line[1300];	/* "X.Y.Z text" */
	struct mx_rcpt_outcome *rcpt;	/* one per recipient */
	size_t	nrcpt;
	int	addresses_tried;
	int	sessions;
	char	journal_error[300];	/* first journal failure, for the caller to report */
};

struct mx_deliver_job {
	const struct mx_config *cfg;
	const struct mx_smtp_opts *smtp;
	const struct mx_plan *plan;	/* built with max_addresses ignored: the walk counts */
	const char *queue_id;		/* may be NULL */
	struct mx_smtp_envelope env;	/* as the MTA gave it: mx_deliver() makes the wire form */
	struct mx_spool *spool;
	struct mx_journal *journal;	/* NULL: no journal (never fails a delivery) */
};

/* mx_deliver - walk the plan; fills result (free with mx_deliver_result_free) */
void	mx_deliver(const struct mx_deliver_job *job, const struct mx_deliver_io *io,
		   struct mx_deliver_result *result);

/*
 * mx_deliver_plan_failure - the result for a plan that has nothing to try
 * (null MX, NXDOMAIN, no mail host, DNS failure, loop), journalled too
 */
void	mx_deliver_plan_failure(const struct mx_deliver_job *job, const struct mx_deliver_io *io,
				struct mx_deliver_result *result);

/* mx_deliver_result_free - free the per-recipient array */
void	mx_deliver_result_free(struct mx_deliver_result *result);

/*
 * mx_deliver_log_line - the syslog line for recipient i, in the shape of
 * Postfix's: "QUEUEID: to=<r>, relay=host[addr]:port, delay=1.2, dsn=X.Y.Z,
 * tls=verified, status=sent (reply)"; tls= is none, tls, verified or dane,
 * followed by "/TYPE" when TLS failed (RFC 8460 type)
 */
void	mx_deliver_log_line(const struct mx_deliver_result *r, size_t i, const char *queue_id,
			    const char *recipient, double delay_s, char *buf, size_t len);

/* mx_rcpt_status_name - "sent", "deferred", "bounced" as in Postfix logs */
const char *mx_rcpt_status_name(enum mx_rcpt_status s);

#endif
