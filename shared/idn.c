/*
 * idn - internationalised domain names (see idn.h)
 */
#include <idn2.h>
#include <stdio.h>
#include <string.h>

#include "idn.h"

/* mx_idn_has_non_ascii - any octet >= 0x80 */
bool
mx_idn_has_non_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* mx_idn_domain - A-labels for a UTF-8 name, then the usual checks */
bool
mx_idn_domain(const char *name, char *out, size_t outlen, char *why, size_t whylen)
{
	char   *ascii = NULL;
	bool	ok;
	int	rc;

	if (name == NULL || !mx_idn_has_non_ascii(name))
		return mx_domain_normalise(name, out, outlen, why, whylen);
	rc = idn2_to_ascii_8z(name, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		snprintf(why, whylen, "not a valid internationalised domain name (IDNA2008): %s",
			 idn2_strerror(rc));
		return false;
	}
	ok = mx_domain_normalise(ascii, out, outlen, why, whylen);
	idn2_free(ascii);
	return ok;
}
