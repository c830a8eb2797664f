/*
 * domain - checking and normalising mail domain names
 *
 * A mail domain handed to mxtier must be a host name in the DNS sense
 * (RFC 1035 2.3.4, RFC 5321 4.1.2): at most 253 octets without the final dot,
 * labels of 1..63 letters, digits and hyphens, no hyphen at either end of a
 * label. Upper case is folded to lower case and one trailing dot is removed.
 * Pure functions; caller-owned buffers.
 */
#ifndef MXTIER_DOMAIN_H
#define MXTIER_DOMAIN_H

#include <stddef.h>
#include <stdbool.h>

#define MX_DOMAIN_MAX 253	/* octets in presentation form, no final dot */

/*
 * mx_domain_normalise - check name and write its normal form (lower case, no
 * trailing dot) into out (at least MX_DOMAIN_MAX + 1 bytes). On error returns
 * false and writes a sentence saying what is wrong into why.
 */
bool	mx_domain_normalise(const char *name, char *out, size_t outlen,
			    char *why, size_t whylen);

/* mx_domain_is_ip_literal - is this exchange name really an IP address */
bool	mx_domain_is_ip_literal(const char *name);

#endif
