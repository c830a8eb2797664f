/*
 * fallback - what a failed delivery attempt leads to (R11)
 *
 * Pure: given the preset, where an attempt ended and how, say whether the
 * recipients still waiting move on to the next address, are deferred, or
 * bounce. The walker (deliver.c) turns "move on" into next_address,
 * next_host, next_tier or fallback_relay depending on what comes next.
 */
#ifndef MXTIER_FALLBACK_H
#define MXTIER_FALLBACK_H

#include <stdbool.h>

#include "config.h"

/* Where in the SMTP dialogue an attempt ended. */
enum mx_stage {
	MX_STAGE_CONNECT,
	MX_STAGE_GREETING,
	MX_STAGE_EHLO,
	MX_STAGE_STARTTLS,
	MX_STAGE_MAIL,
	MX_STAGE_RCPT,
	MX_STAGE_DATA,
	MX_STAGE_DOT
};

/* How it ended. */
enum mx_failure_kind {
	MX_FAIL_NONE,		/* accepted */
	MX_FAIL_CONNECT,	/* refused, unreachable, or connect timed out */
	MX_FAIL_LOST,		/* connection lost, or a timeout after connecting */
	MX_FAIL_REPLY,		/* the server answered with a 4xx or 5xx code */
	MX_FAIL_PROTOCOL,	/* garbage or an over-long reply: treated like a lost connection */
	MX_FAIL_TLS,		/* STARTTLS required but not offered, or the handshake failed */
	MX_FAIL_LOCAL		/* our side: spool read, out of memory */
};

enum mx_action {
	MX_ACTION_DONE,		/* accepted */
	MX_ACTION_MOVE_ON,	/* try the next address / host / tier / relay */
	MX_ACTION_DEFER,	/* keep the recipients for a later delivery */
	MX_ACTION_BOUNCE	/* permanent: do not try another host for them */
};

/* mx_stage_name - "connect", "greeting", ... as stored in the journal */
const char *mx_stage_name(enum mx_stage s);

/* mx_action_name - "done", "move_on", "defer", "bounce" */
const char *mx_action_name(enum mx_action a);

/*
 * mx_fallback_decide - R11. code is the reply code for MX_FAIL_REPLY (else
 * ignored); more_hosts tells whether another address is left to try.
 * A lost connection or a timeout after connecting counts as a 451 at that
 * stage; a 5xx greeting, EHLO or STARTTLS reply as temporary (the host is
 * broken, not the recipient); a 5xx to MAIL, RCPT, DATA or the final dot
 * bounces.
 */
enum mx_action mx_fallback_decide(enum mx_fallback_preset preset, enum mx_stage stage,
				  enum mx_failure_kind kind, int code, bool more_hosts);

/*
 * mx_failure_is_host_problem - should this failure put the address in
 * backoff (R13): a failure to connect, a lost connection or timeout, an
 * unparsable reply, a TLS failure, a 4xx/5xx reply to the greeting, EHLO
 * or STARTTLS, and a 421 at any stage (the server is closing the session).
 * A 4xx to MAIL, RCPT, DATA or the final dot is the transaction's, not the
 * host's.
 */
bool	mx_failure_is_host_problem(enum mx_stage stage, enum mx_failure_kind kind, int code);

#endif
