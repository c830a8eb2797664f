/*
 * netstring - netstring framing for the socketmap protocol (see netstring.h)
 */
#include <stdio.h>
#include <string.h>

#include "netstring.h"

/* mx_netstring_take - one netstring at the start of buf */
enum mx_netstring_status
mx_netstring_take(const char *buf, size_t len, size_t max, const char **data, size_t *datalen,
		  size_t *used, char *why, size_t whylen)
{
	size_t	i, n = 0;

	for (i = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (i == 1 && buf[0] == '0') {
			snprintf(why, whylen, "netstring length with a leading zero");
			return MX_NETSTRING_BAD;
		}
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > max) {
			snprintf(why, whylen, "netstring longer than %zu octets", max);
			return MX_NETSTRING_BAD;
		}
	}
	if (i == len)
		return MX_NETSTRING_MORE;
	if (i == 0 || buf[i] != ':') {
		snprintf(why, whylen, "not a netstring (expected a decimal length and ':', "
			 "found octet 0x%02x)", (unsigned char)buf[i]);
		return MX_NETSTRING_BAD;
	}
	if (len - i - 1 < n + 1)
		return MX_NETSTRING_MORE;
	if (buf[i + 1 + n] != ',') {
		snprintf(why, whylen, "netstring of %zu octets not followed by ','", n);
		return MX_NETSTRING_BAD;
	}
	*data = buf + i + 1;
	*datalen = n;
	*used = i + 1 + n + 1;
	return MX_NETSTRING_OK;
}

/* mx_netstring_put - "LEN:DATA," into out */
size_t
mx_netstring_put(const char *data, size_t datalen, char *out, size_t outlen)
{
	int	head = snprintf(out, outlen, "%zu:", datalen);

	if (head < 0 || (size_t)head + datalen + 1 >= outlen)
		return 0;
	memcpy(out + head, data, datalen);
	out[head + datalen] = ',';
	out[head + datalen + 1] = '\0';
	return (size_t)head + datalen + 1;
}
