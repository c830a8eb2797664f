/*
 * serve - the request loops of the route oracle on a pair of descriptors:
 * socketmap netstrings (Postfix) and lines (Exim's ${readsocket})
 *
 * Each loop reads requests until end of file and writes one reply per
 * request, in order, flushing after each (the MTA waits for it). Bounded
 * everywhere: a request longer than max_request, broken framing, a client
 * that sends nothing for idle_ms or leaves a request unfinished for
 * request_ms, or one that does not read a reply for write_ms ends the loop
 * with a reason. A half-closed client (its write side shut) still gets the
 * replies to every complete request it sent. Lines: "\n" ends one, a "\r"
 * before it is dropped, the last one may lack it; an over-long line is
 * answered (its first max_request octets) and the rest skipped.
 *
 * No allocation beyond one buffer per loop; the answer callback owns the
 * meaning of a request.
 */
#ifndef MXTIER_SERVE_H
#define MXTIER_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#define MX_SERVE_REPLY_MAX	65536	/* one reply, under Postfix's socketmap limit (100000) */

struct mx_serve_opts {
	int	in_fd;
	int	out_fd;
	int	idle_ms;		/* between requests */
	int	request_ms;		/* from a request's first octet to its end */
	int	write_ms;		/* for a reply to be taken */
	size_t	max_request;		/* octets of one request */
};

/* The answer to one request (req is not NUL-terminated); reply is NUL-terminated. */
typedef void (*mx_serve_answer_fn)(void *arg, const char *req, size_t len, char *reply,
				   size_t replylen);

enum mx_serve_end {
	MX_SERVE_EOF,		/* the client closed after its last request */
	MX_SERVE_IDLE,		/* nothing for idle_ms: closed (the MTA reconnects) */
	MX_SERVE_ERROR		/* broken framing, timeout, I/O error: why says */
};

/* mx_serve_socketmap - netstring requests, netstring replies */
enum mx_serve_end mx_serve_socketmap(const struct mx_serve_opts *o, mx_serve_answer_fn answer,
				     void *arg, char *why, size_t whylen);

/* mx_serve_lines - line requests, line replies (the answer without its newline) */
enum mx_serve_end mx_serve_lines(const struct mx_serve_opts *o, mx_serve_answer_fn answer,
				 void *arg, char *why, size_t whylen);

#endif
