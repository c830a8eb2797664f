/*
 * logimport - what mxtier-import makes of a parsed log attempt (pure)
 *
 * The parser (logparse) says what a log line recorded; this module decides
 * what that means for the journal: the row (with the MTA's decision after
 * each attempt), whether the attempt changes the address's backoff (R13,
 * the same rule mxtier-pipe follows for its own sessions), and the
 * --dry-run JSON line of the contract (DESIGN.md 4). No I/O but the stream
 * the JSON goes to; no clock.
 *
 * Ownership: rows point into the attempts they were made from and live as
 * long as those.
 */
#ifndef MXTIER_LOGIMPORT_H
#define MXTIER_LOGIMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "journal.h"
#include "logparse.h"

/* What an imported attempt does to its address's backoff. */
enum mx_import_backoff {
	MX_IMPORT_BACKOFF_NONE,		/* nothing (no address, or a transaction's failure on a known host) */
	MX_IMPORT_BACKOFF_FAILURE,	/* one more failure: the host is the problem */
	MX_IMPORT_BACKOFF_SUCCESS	/* the host worked (delivered, or reached RCPT): forget it */
};

/*
 * mx_import_decisions - the MTA's decision after each of n attempts that
 * one log line gave, in order: an attempt followed by another for the same
 * recipient and queue id moved on (next_address to the same host,
 * next_host to another), the last one ended the delivery (done, defer,
 * bounce). decisions[i] are static strings.
 */
void	mx_import_decisions(const struct mx_log_attempt *const *a, size_t n,
			    const char **decisions);

/*
 * mx_import_row - the journal row of a parsed attempt: "" fields become NULL,
 * the reply text without code and enhanced status (as mxtier-pipe's rows),
 * the reason the whole text the log gave, node and decision as given
 */
void	mx_import_row(const struct mx_log_attempt *la, const char *node, const char *decision,
		      struct mx_attempt *out);

/* mx_import_backoff_effect - R13 for an imported attempt (mx_failure_is_host_problem) */
enum mx_import_backoff mx_import_backoff_effect(const struct mx_log_attempt *la);

/*
 * mx_import_print_json - the --dry-run line: one JSON object with the keys
 * ts (Unix ms), queue_id, recipient, domain, host, address, port, stage,
 * reply_code, enhanced_status, outcome, reply_text, source (null where the
 * log does not say), and a newline. reply_text is the server's text
 * after its code and enhanced status, as in the journal, or the MTA's
 * reason when no reply was had
 */
void	mx_import_print_json(FILE *fp, const struct mx_log_attempt *la);

/* mx_import_hash - FNV-1a 64 of len bytes, continuing from h (start with MX_IMPORT_HASH_INIT) */
#define MX_IMPORT_HASH_INIT	UINT64_C(0xcbf29ce484222325)
uint64_t mx_import_hash(uint64_t h, const void *p, size_t len);

#endif
