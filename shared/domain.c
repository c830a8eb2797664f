/*
 * domain - checking and normalising mail domain names (see domain.h)
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "domain.h"

/* mx_domain_normalise - check a domain and fold it to its normal form */
bool
mx_domain_normalise(const char *name, char *out, size_t outlen,
		    char *why, size_t whylen)
{
	size_t	len, i, label = 0;
	char	prev = '.';

	if (name == NULL || *name == '\0') {
		snprintf(why, whylen, "empty domain name");
		return false;
	}
	len = strlen(name);
	if (len > 1 && name[len - 1] == '.' && name[len - 2] != '.')
		len--;			/* one trailing dot: fully qualified, same name */
	if (len == 1 && name[0] == '.') {
		snprintf(why, whylen, "'.' is the root, not a mail domain");
		return false;
	}
	if (len > MX_DOMAIN_MAX) {
		snprintf(why, whylen, "domain name is %zu octets long; at most %d are allowed",
			 len, MX_DOMAIN_MAX);
		return false;
	}
	if (outlen < len + 1) {
		snprintf(why, whylen, "domain name does not fit");
		return false;
	}
	if (name[0] == '[') {
		snprintf(why, whylen, "address literals such as '%.60s' are not domains", name);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (prev == '.') {
				snprintf(why, whylen, "empty label at octet %zu", i + 1);
				return false;
			}
			if (prev == '-') {
				snprintf(why, whylen, "label ends with '-' at octet %zu", i);
				return false;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if (c == '-' && prev == '.') {
				snprintf(why, whylen, "label starts with '-' at octet %zu", i + 1);
				return false;
			}
			if (++label > 63) {
				snprintf(why, whylen, "label longer than 63 octets at octet %zu", i + 1);
				return false;
			}
		} else if (c >= 0x80) {
			snprintf(why, whylen, "non-ASCII octet at position %zu; "
				 "write internationalised names as A-labels (xn--...)", i + 1);
			return false;
		} else {
			snprintf(why, whylen, "character %s%c%s (0x%02x) at octet %zu is not "
				 "allowed; use letters, digits, '-' and '.'",
				 c >= 0x20 && c < 0x7f ? "'" : "", c >= 0x20 && c < 0x7f ? c : '?',
				 c >= 0x20 && c < 0x7f ? "'" : "", c, i + 1);
			return false;
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
		prev = (char)c;
	}
	if (prev == '-') {
		snprintf(why, whylen, "label ends with '-'");
		return false;
	}
	out[len] = '\0';
	return true;
}

/* mx_domain_is_ip_literal - is this exchange name an IP address */
bool
mx_domain_is_ip_literal(const char *name)
{
	char	buf[MX_IP_TEXT_MAX + 2];
	struct mx_ip ip;
	size_t	len;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
		name++;
		len -= 2;
	}
	if (len > 1 && name[len - 1] == '.' && name[len - 2] != '.')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return mx_ip_parse(buf, &ip);
}
