/*
 * spool - keep the message from stdin so it can be sent to several hosts
 *
 * mx_spool_read() takes the whole message from a file descriptor once: in
 * memory up to a limit, beyond it in a private temporary file (mode 0600,
 * unlinked at once, in a directory the caller names). The bytes are kept
 * exactly as read. mx_spool_send() writes them in SMTP DATA form through a
 * caller-supplied writer: CRLF, a bare CR and a bare LF each end a line and
 * each goes out as CRLF, so no lone CR or LF reaches a server (SMTP
 * smuggling); a line longer than MX_SPOOL_LINE_LIMIT octets is broken with
 * CRLF SPACE, as Postfix smtp(8) does; a line that starts with "." gets
 * another "." (RFC 5321 4.5.2); NUL and 8-bit octets pass unchanged; the
 * message ends with CRLF "." CRLF (spool.c has the details).
 *
 * Ownership: mx_spool_read() returns a spool freed with mx_spool_free(),
 * which closes the temporary file.
 */
#ifndef MXTIER_SPOOL_H
#define MXTIER_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct mx_spool;

/*
 * The longest line sent, in octets without its CRLF and without the "."
 * that dot-stuffing may add: Postfix's default smtp_line_length_limit, and
 * RFC 5321's 1000 octets with the CRLF.
 */
#define MX_SPOOL_LINE_LIMIT	998

/* What the message looks like, for SIZE= and BODY=8BITMIME. */
struct mx_spool_info {
	off_t	bytes;		/* as read */
	off_t	wire_bytes;	/* as sent in DATA, without the final "." line */
	bool	eight_bit;	/* any octet >= 0x80 */
};

/*
 * mx_spool_read - read fd to its end. memory_limit is how many bytes stay in
 * memory; tmpdir where a larger message goes. NULL and a reason in err on a
 * read or write error (disk full, tmpdir not writable).
 */
struct mx_spool *mx_spool_read(int fd, size_t memory_limit, const char *tmpdir,
			       char *err, size_t errlen);

/*
 * mx_spool_check_dir - can mx_spool_read() spill into tmpdir ("" or NULL:
 * its default, /tmp)? Checked before a message is read, so that a wrong
 * directory defers every message, not only the large ones. false and
 * "spool directory DIR: WHY" in err when it is missing, not a directory or
 * not writable.
 */
bool	mx_spool_check_dir(const char *tmpdir, char *err, size_t errlen);

/* mx_spool_info - size and content facts */
const struct mx_spool_info *mx_spool_get_info(const struct mx_spool *sp);

/*
 * mx_spool_send - produce the DATA form, chunk by chunk, through write_fn
 * (which returns false to stop: the peer went away or a timeout). Returns
 * false when write_fn failed or the spool could not be read back (err says).
 */
bool	mx_spool_send(struct mx_spool *sp,
		      bool (*write_fn)(void *arg, const char *buf, size_t len), void *arg,
		      char *err, size_t errlen);

/* mx_spool_free - free the spool and close its file; NULL is fine */
void	mx_spool_free(struct mx_spool *sp);

#endif
