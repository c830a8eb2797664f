/*
 * mailaddr - an envelope address as it is written between < and > in MAIL
 * FROM and RCPT TO (RFC 5321 4.1.2, RFC 6531 3.3)
 *
 * The MTAs hand over addresses in their unquoted internal form: Postfix
 * pipe(8) ${recipient} and Exim's $RECIPIENT give "john doe@example.com",
 * not "\"john doe\"@example.com". mx_mailaddr_wire() turns that into what
 * may go on the wire, as Postfix's smtp(8) does with quote_821_local():
 *  - an address holding a control character (an octet below 0x20, or 0x7f)
 *    is refused: no quoting makes CR or LF safe, and writing it would let
 *    the address inject SMTP commands;
 *  - the local part (everything before the last "@") is sent as it is when
 *    it is a dot-atom (RFC 5321 atext, UTF-8 allowed as RFC 6531 does), and
 *    otherwise as a quoted string with "\" and "\"" escaped;
 *  - a non-ASCII domain is converted to A-labels (idn.h); one that cannot
 *    be converted is kept as UTF-8 (it then needs SMTPUTF8).
 * The result needs SMTPUTF8 exactly when it still holds a non-ASCII octet.
 *
 * mx_mailaddr_printable() makes any address safe for logs, the journal and
 * the screen ('?' for control octets, as Postfix's printable() does).
 *
 * Pure; the wire form is allocated and freed by the caller with free().
 */
#ifndef MXTIER_MAILADDR_H
#define MXTIER_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

enum mx_mailaddr_status {
	MX_MAILADDR_OK,
	MX_MAILADDR_CONTROL,		/* a control character: never sent */
	MX_MAILADDR_NOMEM
};

/*
 * mx_mailaddr_wire - the wire form of addr ("" stays "": the null sender)
 * in *out (free() it); on MX_MAILADDR_CONTROL why says which octet where
 */
enum mx_mailaddr_status mx_mailaddr_wire(const char *addr, char **out, char *why,
					 size_t whylen);

/* mx_mailaddr_printable - addr with control octets as '?', truncated to outlen */
void	mx_mailaddr_printable(const char *addr, char *out, size_t outlen);

#endif
