/*
 * idn - internationalised domain names to the form DNS and SMTP use
 *
 * mx_idn_domain() takes a mail domain as a user, an MTA or an address gives
 * it (UTF-8 or ASCII, any case, one trailing dot allowed) and writes the
 * form every lookup uses: A-labels (xn--...) for non-ASCII labels,
 * converted with libidn2 as IDNA2008 with the UTS#46 mapping,
 * non-transitional (what Postfix does with ICU: "Bücher.example" and
 * "bücher.example" are both xn--bcher-kva.example, "faß.de" is
 * xn--fa-hia.de), then checked and folded by mx_domain_normalise(). An
 * all-ASCII name goes straight to mx_domain_normalise(), so route mode,
 * delivery mode and the inspector accept and refuse the same names.
 *
 * libidn2 (with libunistring) is loaded with dlopen() on the first
 * non-ASCII name, never for an ASCII one: linking it would cost every
 * mxtier-pipe process its start-up, and almost every domain is ASCII. A
 * package must therefore depend on libidn2-0 explicitly.
 *
 * Caller-owned buffers; the library handle lives until the process ends.
 */
#ifndef MXTIER_IDN_H
#define MXTIER_IDN_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"

enum mx_idn_status {
	MX_IDN_OK,
	MX_IDN_INVALID,		/* not a valid (internationalised) domain name */
	MX_IDN_UNAVAILABLE	/* libidn2 could not be loaded: a local problem */
};

/*
 * mx_idn_domain - name in its lookup form into out (at least
 * MX_DOMAIN_MAX + 1 bytes); otherwise a sentence in why
 */
enum mx_idn_status mx_idn_domain(const char *name, char *out, size_t outlen, char *why,
				 size_t whylen);

/* mx_idn_has_non_ascii - does s hold an octet >= 0x80 */
bool	mx_idn_has_non_ascii(const char *s);

#endif
