/*
 * fuzz_domain - libFuzzer target for mx_domain_normalise() and
 *	mx_domain_is_ip_literal()
 *
 * The input, cut at its first NUL, is the name. A name that normalises
 * must give a normal form that is lower case, at most MX_DOMAIN_MAX octets
 * of letters, digits, '-' and '.', with labels of 1..63 octets, equal to the
 * input without one trailing dot up to case, and that normalises again to
 * itself. The output buffer is exactly as large as the caller says (ASan
 * sees a write past it), once at the documented size and once one octet
 * shorter than the name. abort() on any broken rule.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"

/* check - abort with a message when a rule is broken */
#define check(cond, name) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_domain: broken rule: %s (\"%.80s\")\n", #cond, name); \
		abort(); \
	} \
} while (0)

/* check_normal - the rules a normal form obeys */
static void
check_normal(const char *in, const char *out)
{
	size_t	len = strlen(out), inlen = strlen(in), i, label = 0;

	check(len >= 1 && len <= MX_DOMAIN_MAX, in);
	for (i = 0; i < len; i++) {
		char	c = out[i];

		check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.', in);
		if (c == '.') {
			check(label >= 1 && out[i - 1] != '-', in);
			label = 0;
		} else {
			check(label > 0 || c != '-', in);
			label++;
			check(label <= 63, in);
		}
	}
	check(label >= 1 && out[len - 1] != '-', in);
	/* the same name: only case and one trailing dot may differ */
	check(inlen == len || (inlen == len + 1 && in[len] == '.'), in);
	check(strncasecmp(in, out, len) == 0, in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *name, *out, *small, again[MX_DOMAIN_MAX + 1], why[160], why2[160];
	size_t	len, smalllen;
	bool	ok;

	if (size > 4096)
		return 0;
	if ((name = malloc(size + 1)) == NULL)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	len = strlen(name);

	(void)mx_domain_is_ip_literal(name);

	/* exactly the documented size, on the heap so ASan sees the end */
	out = malloc(MX_DOMAIN_MAX + 1);
	why[0] = '\0';
	ok = mx_domain_normalise(name, out, MX_DOMAIN_MAX + 1, why, sizeof(why));
	check(memchr(why, '\0', sizeof(why)) != NULL, name);
	if (!ok)
		check(why[0] != '\0', name);
	if (ok) {
		check(memchr(out, '\0', MX_DOMAIN_MAX + 1) != NULL, name);
		check_normal(name, out);
		/* idempotent: the normal form is its own normal form */
		check(mx_domain_normalise(out, again, sizeof(again), why2, sizeof(why2)), name);
		check(strcmp(again, out) == 0, name);
		(void)mx_domain_is_ip_literal(out);
	}

	/* a buffer one octet too short for the name: fails or fits, never overflows */
	smalllen = len > 0 ? len : 1;
	if ((small = malloc(smalllen)) != NULL) {
		bool	ok2 = mx_domain_normalise(name, small, smalllen, why2, 8);

		if (ok2) {
			check(ok, name);
			check(strcmp(small, out) == 0, name);
		}
		free(small);
	}
	free(out);
	free(name);
	return 0;
}
