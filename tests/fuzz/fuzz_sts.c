/*
 * fuzz_sts - libFuzzer target for the MTA-STS TXT record and policy parsers
 *
 * Input: octet 0 picks what the rest is: even, a policy text (its exact
 * length, on the heap, so a read past it is caught); odd, a TXT record
 * (NUL-terminated copy). Then a host name taken from the tail is matched
 * against a parsed policy.
 *
 * Rules checked (abort() on any broken one):
 *   - a failure says why; a success leaves why alone
 *   - a valid TXT id is 1..32 letters and digits
 *   - a valid policy: mode is one of the three, 0 <= max_age <= one year,
 *     nmx <= MX_STS_MAX_MX and >= 1 unless mode none, every pattern is
 *     NUL-terminated, lower case, and has '*' only as a leading "*." label
 *   - every exact pattern matches itself; a wildcard "*.rest" matches
 *     "x.rest" and never "rest"
 *   - parsing is deterministic: the same text twice gives the same policy
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sts.h"

/* check - abort with a message when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_sts: broken rule: %s\n", #cond); \
		abort(); \
	} \
} while (0)

/* check_policy - the rules of a parsed policy */
static void
check_policy(const struct mx_sts_policy *p)
{
	char	host[MX_DOMAIN_MAX + 3];
	size_t	i, k, len;

	check(p->mode == MX_STS_MODE_NONE || p->mode == MX_STS_MODE_TESTING ||
	      p->mode == MX_STS_MODE_ENFORCE);
	check(p->max_age >= 0 && p->max_age <= MX_STS_MAX_AGE);
	check(p->nmx <= MX_STS_MAX_MX);
	check(p->nmx >= 1 || p->mode == MX_STS_MODE_NONE);
	for (i = 0; i < p->nmx; i++) {
		const char *m = p->mx[i];

		check(memchr(m, '\0', sizeof(p->mx[i])) != NULL);
		len = strlen(m);
		check(len >= 1);
		for (k = 0; k < len; k++) {
			check(!isupper((unsigned char)m[k]));
			if (m[k] == '*')
				check(k == 0 && m[1] == '.');
		}
		if (m[0] == '*') {
			snprintf(host, sizeof(host), "x%s", m + 1);
			check(mx_sts_mx_matches(p, host));
		} else
			check(mx_sts_mx_matches(p, m));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mx_sts_policy p1, p2;
	char	why[256], id[MX_STS_ID_MAX + 1], host[64];
	char   *buf;
	size_t	len, i;
	bool	ok;

	if (size < 1 || size > 65536)
		return 0;
	len = size - 1;
	if ((buf = malloc(len + 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, len);
	if (data[0] & 1) {
		buf[len] = '\0';
		why[0] = '\0';
		ok = mx_sts_txt_id(buf, id, sizeof(id), why, sizeof(why));
		if (ok) {
			check(why[0] == '\0');
			check(strlen(id) >= 1 && strlen(id) <= MX_STS_ID_MAX);
			for (i = 0; id[i] != '\0'; i++)
				check(isalnum((unsigned char)id[i]));
		} else {
			check(why[0] != '\0');
			check(id[0] == '\0');
		}
		free(buf);
		return 0;
	}
	why[0] = '\0';
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0xff, sizeof(p2));
	ok = mx_sts_policy_parse(buf, len, &p1, why, sizeof(why));
	check(memchr(why, '\0', sizeof(why)) != NULL);
	if (ok) {
		check(why[0] == '\0');
		check_policy(&p1);
		check(mx_sts_policy_parse(buf, len, &p2, NULL, 0));
		check(p1.mode == p2.mode && p1.max_age == p2.max_age && p1.nmx == p2.nmx);
		for (i = 0; i < p1.nmx; i++)
			check(strcmp(p1.mx[i], p2.mx[i]) == 0);
		/* a host from the tail of the input must not upset the matcher */
		len = len < sizeof(host) - 1 ? len : sizeof(host) - 1;
		memcpy(host, data + size - len, len);
		host[len] = '\0';
		(void)mx_sts_mx_matches(&p1, host);
	} else {
		check(why[0] != '\0');
		check(!mx_sts_policy_parse(buf, size - 1, &p2, NULL, 0));
	}
	free(buf);
	return 0;
}
