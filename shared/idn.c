/*
 * idn - internationalised domain names (see idn.h)
 */
#include <dlfcn.h>
#include <idn2.h>
#include <stdio.h>
#include <string.h>

#include "idn.h"

#define LIBIDN2_SONAME "libidn2.so.0"

/* The three functions used, resolved on first use. */
static struct {
	int	(*to_ascii_8z)(const char *input, char **output, int flags);
	const char *(*strerror)(int rc);
	void	(*free)(void *ptr);
} idn2;
static bool tried;
static char load_error[200];

/* load - dlopen libidn2 once; false and load_error when it cannot */
static bool
load(void)
{
	void   *h;
	const char *why;

	if (tried)
		return idn2.to_ascii_8z != NULL;
	tried = true;
	if ((h = dlopen(LIBIDN2_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		why = dlerror();
		snprintf(load_error, sizeof(load_error), "cannot load libidn2 for "
			 "internationalised domain names: %s", why != NULL ? why : LIBIDN2_SONAME);
		return false;
	}
	/* dlsym returns void *; POSIX guarantees it converts to a function pointer */
	*(void **)&idn2.strerror = dlsym(h, "idn2_strerror");
	*(void **)&idn2.free = dlsym(h, "idn2_free");
	*(void **)&idn2.to_ascii_8z = dlsym(h, "idn2_to_ascii_8z");
	if (idn2.strerror == NULL || idn2.free == NULL || idn2.to_ascii_8z == NULL) {
		snprintf(load_error, sizeof(load_error), "cannot load libidn2: %s lacks "
			 "idn2_to_ascii_8z, idn2_strerror or idn2_free", LIBIDN2_SONAME);
		idn2.to_ascii_8z = NULL;
		return false;
	}
	return true;
}

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
enum mx_idn_status
mx_idn_domain(const char *name, char *out, size_t outlen, char *why, size_t whylen)
{
	char   *ascii = NULL;
	bool	ok;
	int	rc;

	if (name == NULL || !mx_idn_has_non_ascii(name))
		return mx_domain_normalise(name, out, outlen, why, whylen) ? MX_IDN_OK :
		    MX_IDN_INVALID;
	if (!load()) {
		snprintf(why, whylen, "%s", load_error);
		return MX_IDN_UNAVAILABLE;
	}
	rc = idn2.to_ascii_8z(name, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
		snprintf(why, whylen, "not a valid internationalised domain name (IDNA2008): %s",
			 idn2.strerror(rc));
		return MX_IDN_INVALID;
	}
	ok = mx_domain_normalise(ascii, out, outlen, why, whylen);
	idn2.free(ascii);
	return ok ? MX_IDN_OK : MX_IDN_INVALID;
}
