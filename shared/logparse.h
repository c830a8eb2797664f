/*
 * logparse - Postfix and Exim log lines into delivery attempts (pure)
 *
 * Reads one log line at a time (syslog "Mmm dd hh:mm:ss host prog[pid]: ",
 * RFC 3339 "2026-11-30T10:02:03.123456+00:00 host prog[pid]: " and Exim's
 * own "2026-11-30 10:02:03 " mainlog prefix) and turns the lines that record
 * a delivery attempt by the MTA's own SMTP/LMTP client into struct
 * mx_log_attempt, one per recipient, through a callback. What counts:
 *
 *   Postfix smtp(8)/lmtp(8) (any syslog_name, "postfix-out/smtp" too):
 *     "QID: to=<r>, [orig_to=<o>,] relay=H[A]:P, [conn_use=N,] delay=..,
 *      delays=.., dsn=X.Y.Z, status=sent|deferred|bounced (TEXT)"
 *     "QID: host H[A] said: TEXT (in reply to X command)"
 *     "QID: lost connection with H[A] while WHAT"
 *     "connect to H[A]:P: Connection refused" (no queue id: it belongs to
 *     the message the same process, by PID, logs next)
 *   Exim: "=>", "->" (delivered), "==" (deferred), "**" (bounced) and the
 *     per-host failure lines of a message ("H=h [a] Connection refused").
 *
 * Never attempts (reported as notes instead): Postfix's "delivery
 * temporarily suspended", Exim's "retry time not reached"; deliveries by
 * other Postfix transports (pipe, local, virtual) and Exim deliveries
 * without a remote host (H=).
 *
 * Lines that belong to a message but arrive before it is known (Postfix's
 * connect failures, per PID) are held in the parser and come out with the
 * message's status line; mx_logparse_resume_offset() says from where a
 * restarted import must read again so that nothing held is lost (the
 * identities make the re-read lines add nothing twice).
 * Held lines are bounded: at most 64 per PID or message id, 4096 PIDs or
 * message ids, 8192 in all (the oldest goes first), and an hour of log time.
 * A held line that a message claimed stays (and keeps the resume offset
 * back) until that PID or message starts its next delivery, so that every
 * status line of the message gets its copy.
 *
 * Pure: no I/O, no clock. The year of syslog timestamps (which have none)
 * comes from now_ms given to mx_logparse_new(): the latest year that does
 * not put the line more than a day after now.
 *
 * Time: stamps without a zone (syslog "Nov 30 17:31:18", Exim's default
 * "2026-11-30 17:31:18[.123]") are taken as UTC; RFC 3339 stamps and Exim's
 * log_timezone form "2026-11-30 17:31:18 +0100" are converted with their
 * offset. A site logging local time sees its times shifted by its offset.
 * No time function that reads TZ is used.
 *
 * Identity: FNV-1a over the source, the raw line, the line's offset, the
 * recipient and the queue id (a held line: its own line and offset, the
 * recipient and queue id of the status line that claimed it). The same file
 * read again, from the start or a resume offset, gives the same identities;
 * two byte-identical lines (Exim logs whole seconds: a retry in the same
 * second) do not share one, nor does one failure copied to two recipients.
 * Input split differently (a file fed at other offsets, e.g. two logs
 * concatenated on stdin) gives other identities.
 *
 * Ownership: mx_logparse_new() returns a parser freed with
 * mx_logparse_free(). Attempts passed to the callback live only during the
 * call; the caller copies what it keeps.
 */
#ifndef MXTIER_LOGPARSE_H
#define MXTIER_LOGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mx_log_format {
	MX_LOG_AUTO,			/* decided by the first line that is either MTA's */
	MX_LOG_POSTFIX,
	MX_LOG_EXIM
};

/* One delivery attempt for one recipient; "" / -1 / 0 where the log does not say. */
struct mx_log_attempt {
	int64_t	ts_ms;			/* Unix ms of the line */
	char	queue_id[64];
	char	recipient[320];		/* as logged, without <> */
	char	domain[254];		/* the recipient's domain, lower case */
	char	host[254];		/* the server's name, "" when none (null MX, DNS) */
	char	address[46];		/* its address as logged */
	int	port;			/* -1: not logged */
	char	stage[16];		/* connect|greeting|ehlo|starttls|mail|rcpt|data|dot or "" */
	int	reply_code;		/* 0: no SMTP reply */
	char	enhanced_status[16];	/* X.Y.Z (Postfix dsn=, or from the reply) */
	char	outcome[16];		/* delivered|tempfail|permfail */
	char	reply_text[512];	/* the server's reply, or the MTA's reason */
	char	tls[16];		/* "tls" when the log says TLS was used, else "" */
	const char *source;		/* "postfix" | "exim" (static) */
	uint64_t identity;		/* stable: the same line imported again gives the same */
	int64_t	line_offset;		/* offset the caller gave for the line it came from */
};

/* A line worth keeping on the domain that is not an attempt. */
struct mx_log_note {
	int64_t	ts_ms;
	char	queue_id[64];
	char	recipient[320];
	char	domain[254];
	char	text[512];		/* "delivery temporarily suspended: ...", "retry time not reached" */
	const char *source;
	uint64_t identity;
};

/* What one line was. */
enum mx_log_line {
	MX_LINE_ATTEMPT,		/* it gave (or will give, when held) attempts */
	MX_LINE_NOTE,			/* it gave a note */
	MX_LINE_OTHER,			/* a line of the MTA that records no attempt */
	MX_LINE_BAD			/* not a log line of the MTA: counted as skipped */
};

struct mx_log_sink {
	void	(*attempt)(void *ctx, const struct mx_log_attempt *a);
	void	(*note)(void *ctx, const struct mx_log_note *n);	/* may be NULL */
	void	*ctx;
};

struct mx_logparse;

/* mx_logparse_new - a parser for fmt; now_ms settles the year of syslog stamps. NULL: no memory */
struct mx_logparse *mx_logparse_new(enum mx_log_format fmt, int64_t now_ms);

/* mx_logparse_free - free; NULL is fine */
void	mx_logparse_free(struct mx_logparse *p);

/* mx_logparse_set_now - a later now_ms (long --follow runs across a new year) */
void	mx_logparse_set_now(struct mx_logparse *p, int64_t now_ms);

/*
 * mx_logparse_line - one line (without its newline; any bytes, any length),
 * which starts at offset in its file. Attempts and notes go to sink.
 */
enum mx_log_line mx_logparse_line(struct mx_logparse *p, const char *line, size_t len,
				  int64_t offset, const struct mx_log_sink *sink);

/* mx_logparse_format - the format in use (MX_LOG_AUTO until a line decided it) */
enum mx_log_format mx_logparse_format(const struct mx_logparse *p);

/*
 * mx_logparse_resume_offset - where a new import of this file must start so
 * that no held line is lost: the offset of the oldest held line, else
 * next_offset (the end of the last line fed)
 */
int64_t	mx_logparse_resume_offset(const struct mx_logparse *p, int64_t next_offset);

/*
 * mx_logparse_finish - end of input (not used by --follow): held lines that
 * no message claimed are dropped; returns how many
 */
int	mx_logparse_finish(struct mx_logparse *p);

/*
 * mx_logparse_reset_file - the input moved to another file (rotation) or
 * started again (truncation): lines still held count as offset 0 of it
 */
void	mx_logparse_reset_file(struct mx_logparse *p);

#endif
