/*
 * netstring - the framing of Postfix's socketmap protocol (netstrings,
 * D. J. Bernstein: "LEN:DATA," with LEN in decimal)
 *
 * mx_netstring_take() finds one complete netstring at the start of a buffer
 * without copying: it says whether more input is needed, where the data is,
 * or why the framing is broken (then the stream cannot be resynchronised).
 * mx_netstring_put() frames a reply. Pure; no allocation.
 */
#ifndef MXTIER_NETSTRING_H
#define MXTIER_NETSTRING_H

#include <stddef.h>

enum mx_netstring_status {
	MX_NETSTRING_OK,	/* one netstring: *data, *datalen, *used */
	MX_NETSTRING_MORE,	/* incomplete: read more and try again */
	MX_NETSTRING_BAD	/* broken framing or longer than max: why says what */
};

/*
 * mx_netstring_take - parse the netstring at buf[0..len); max bounds its
 * data length (a longer one is BAD as soon as its length is read). On OK,
 * *data points into buf, *used is the octets the netstring took.
 */
enum mx_netstring_status mx_netstring_take(const char *buf, size_t len, size_t max,
					   const char **data, size_t *datalen, size_t *used,
					   char *why, size_t whylen);

/* mx_netstring_put - frame data into out; the framed length, or 0 when out is too small */
size_t	mx_netstring_put(const char *data, size_t datalen, char *out, size_t outlen);

#endif
