/*
 * mailaddr - envelope addresses in their wire form (see mailaddr.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"
#include "mailaddr.h"

/* is_control - an octet that must never reach the wire in an address */
static bool
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* is_atext - RFC 5321 atext, plus UTF-8 octets (RFC 6531 3.3) */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

/* is_dot_atom - local part [start, end) is Atom *("." Atom) */
static bool
is_dot_atom(const char *start, const char *end)
{
	const char *p;
	bool	after_dot = true;

	if (start == end)
		return false;
	for (p = start; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (after_dot)
				return false;
			after_dot = true;
		} else if (c != '\0' && is_atext(c)) {
			after_dot = false;
		} else
			return false;
	}
	return !after_dot;
}

/* mx_mailaddr_wire - quoted local part, A-label domain */
enum mx_mailaddr_status
mx_mailaddr_wire(const char *addr, char **out, char *why, size_t whylen)
{
	const char *at, *p, *lend;
	char	domain[MX_DOMAIN_MAX + 1], dwhy[160], *w;
	const char *dom = NULL;
	size_t	n;

	*out = NULL;
	for (p = addr; *p != '\0'; p++)
		if (is_control((unsigned char)*p)) {
			snprintf(why, whylen, "control character 0x%02x at octet %zu",
				 (unsigned char)*p, (size_t)(p - addr) + 1);
			return MX_MAILADDR_CONTROL;
		}
	at = strrchr(addr, '@');
	lend = at != NULL ? at : addr + strlen(addr);
	if (at != NULL) {
		dom = at + 1;
		if (mx_idn_has_non_ascii(dom) &&
		    mx_idn_domain(dom, domain, sizeof(domain), dwhy, sizeof(dwhy)) == MX_IDN_OK)
			dom = domain;
	}
	/* worst case: every octet of the local part escaped, quotes, "@", domain */
	n = 2 * (size_t)(lend - addr) + 3 + (dom != NULL ? strlen(dom) + 1 : 0);
	if ((w = malloc(n)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return MX_MAILADDR_NOMEM;
	}
	*out = w;
	if (addr[0] == '\0' || is_dot_atom(addr, lend)) {
		memcpy(w, addr, (size_t)(lend - addr));
		w += lend - addr;
	} else if (lend > addr || at != NULL) {
		*w++ = '"';
		for (p = addr; p < lend; p++) {
			if (*p == '"' || *p == '\\')
				*w++ = '\\';
			*w++ = *p;
		}
		*w++ = '"';
	}
	if (dom != NULL) {
		*w++ = '@';
		memcpy(w, dom, strlen(dom));
		w += strlen(dom);
	}
	*w = '\0';
	return MX_MAILADDR_OK;
}

/* mx_mailaddr_printable - control octets as '?' */
void
mx_mailaddr_printable(const char *addr, char *out, size_t outlen)
{
	size_t	i;

	if (outlen == 0)
		return;
	for (i = 0; addr[i] != '\0' && i + 1 < outlen; i++)
		out[i] = is_control((unsigned char)addr[i]) ? '?' : addr[i];
	out[i] = '\0';
}
