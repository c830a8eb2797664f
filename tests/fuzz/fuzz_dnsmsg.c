/*
 * fuzz_dnsmsg - libFuzzer target for mx_dnsmsg_parse()
 *
 * The input is one DNS message, parsed as the answer to each of A, AAAA,
 * MX, TXT and TLSA for the fixed name QNAME (the seed corpus asks for it
 * too). The message is a heap copy of exactly the input so a read past its
 * end is caught. Rules checked (abort() on any broken one):
 *   - a failure says why and leaves no arrays (counts 0, pointers NULL)
 *   - a success has an rcode 0..15 and the header's AD bit; records only
 *     of the asked type (A: IPv4 addresses and no MX, AAAA: IPv6, MX: no
 *     addresses, TXT: texts only, each NUL-terminated at its length; TLSA:
 *     records only, data present exactly when its length is not 0, every
 *     octet readable); a non-zero count comes with an array; TTLs at most
 *     2^31 - 1; at most MX_DNS_MAX_CNAME_HOPS aliases followed; alias_only
 *     only after an alias and with no records; owner and exchange names
 *     NUL-terminated within MX_DOMAIN_MAX octets of printable ASCII
 *   - parsing is deterministic: a second parse gives the same answer
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

#define QNAME "example.org"

/* check - abort with a message when a rule is broken */
#define check(cond, qtype) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_dnsmsg: broken rule (qtype %d): %s\n", qtype, #cond); \
		abort(); \
	} \
} while (0)

/* check_name - NUL-terminated in its array, printable, at most MX_DOMAIN_MAX */
static void
check_name(const char *name, size_t size, int qtype)
{
	const char *nul = memchr(name, '\0', size);
	size_t	i;

	check(nul != NULL, qtype);
	check((size_t)(nul - name) <= MX_DOMAIN_MAX, qtype);
	for (i = 0; name[i] != '\0'; i++)
		check(name[i] >= 0x21 && name[i] <= 0x7e, qtype);
}

/* same_answer - two parses of one message agree */
static bool
same_answer(const struct mx_dnsmsg_answer *a, const struct mx_dnsmsg_answer *b)
{
	size_t	i;

	if (a->rcode != b->rcode || a->truncated != b->truncated || a->ad != b->ad ||
	    strcmp(a->owner, b->owner) != 0 || a->hops != b->hops ||
	    a->alias_only != b->alias_only || a->nmx != b->nmx || a->naddrs != b->naddrs ||
	    a->ntxt != b->ntxt || a->ntlsa != b->ntlsa)
		return false;
	for (i = 0; i < a->ntxt; i++)
		if (a->txt[i].len != b->txt[i].len ||
		    memcmp(a->txt[i].text, b->txt[i].text, a->txt[i].len + 1) != 0)
			return false;
	for (i = 0; i < a->ntlsa; i++)
		if (a->tlsa[i].usage != b->tlsa[i].usage ||
		    a->tlsa[i].selector != b->tlsa[i].selector ||
		    a->tlsa[i].mtype != b->tlsa[i].mtype || a->tlsa[i].len != b->tlsa[i].len ||
		    (a->tlsa[i].len > 0 &&
		     memcmp(a->tlsa[i].data, b->tlsa[i].data, a->tlsa[i].len) != 0))
			return false;
	for (i = 0; i < a->nmx; i++)
		if (a->mx[i].pref != b->mx[i].pref || strcmp(a->mx[i].name, b->mx[i].name) != 0)
			return false;
	for (i = 0; i < a->naddrs; i++)
		if (a->addrs[i].ip.family != b->addrs[i].ip.family || a->addrs[i].ttl !=
		    b->addrs[i].ttl || memcmp(a->addrs[i].ip.bytes, b->addrs[i].ip.bytes, 16) != 0)
			return false;
	return true;
}

/* parse_as - parse msg as the answer for (QNAME, qtype) and check it */
static void
parse_as(const unsigned char *msg, size_t len, int qtype)
{
	struct mx_dnsmsg_answer ans, again;
	char	why[160], why2[160];
	volatile unsigned touched = 0;
	size_t	k;
	bool	ok, ok2;
	size_t	i;

	why[0] = '\0';
	ok = mx_dnsmsg_parse(msg, len, QNAME, qtype, &ans, why, sizeof(why));
	check(memchr(why, '\0', sizeof(why)) != NULL, qtype);
	if (!ok) {
		check(why[0] != '\0', qtype);
		check(ans.nmx == 0 && ans.mx == NULL, qtype);
		check(ans.naddrs == 0 && ans.addrs == NULL, qtype);
		check(ans.ntxt == 0 && ans.txt == NULL, qtype);
		check(ans.ntlsa == 0 && ans.tlsa == NULL, qtype);
	} else {
		check(ans.rcode >= 0 && ans.rcode <= 15, qtype);
		check(ans.hops >= 0 && ans.hops <= MX_DNS_MAX_CNAME_HOPS, qtype);
		check_name(ans.owner, sizeof(ans.owner), qtype);
		check(!ans.alias_only || (ans.hops > 0 && ans.nmx == 0 && ans.naddrs == 0 &&
					  ans.ntxt == 0 && ans.ntlsa == 0), qtype);
		check(ans.nmx == 0 || ans.mx != NULL, qtype);
		check(ans.naddrs == 0 || ans.addrs != NULL, qtype);
		check(ans.ntxt == 0 || ans.txt != NULL, qtype);
		check(ans.ntlsa == 0 || ans.tlsa != NULL, qtype);
		check(ans.ad == ((msg[3] & 0x20) != 0), qtype);
		if (qtype != MX_DNS_T_TXT)
			check(ans.ntxt == 0, qtype);
		if (qtype != MX_DNS_T_TLSA)
			check(ans.ntlsa == 0, qtype);
		if (qtype == MX_DNS_T_TXT || qtype == MX_DNS_T_TLSA)
			check(ans.nmx == 0 && ans.naddrs == 0, qtype);
		if (qtype == MX_DNS_T_TXT) {
			for (i = 0; i < ans.ntxt; i++) {
				check(ans.txt[i].text != NULL, qtype);
				check(ans.txt[i].len < 65535, qtype);
				check(ans.txt[i].text[ans.txt[i].len] == '\0', qtype);
			}
		} else if (qtype == MX_DNS_T_TLSA) {
			for (i = 0; i < ans.ntlsa; i++) {
				check(ans.tlsa[i].len <= 65535 - 3, qtype);
				check((ans.tlsa[i].len == 0) == (ans.tlsa[i].data == NULL), qtype);
				/* touch every octet: ASan sees a short allocation */
				for (k = 0; k < ans.tlsa[i].len; k++)
					touched += ans.tlsa[i].data[k];
			}
		} else if (qtype == MX_DNS_T_MX) {
			check(ans.naddrs == 0, qtype);
			for (i = 0; i < ans.nmx; i++)
				check_name(ans.mx[i].name, sizeof(ans.mx[i].name), qtype);
		} else {
			check(ans.nmx == 0, qtype);
			for (i = 0; i < ans.naddrs; i++) {
				check(ans.addrs[i].ip.family == (qtype == MX_DNS_T_A ? AF_INET :
								 AF_INET6), qtype);
				check(ans.addrs[i].ttl <= 0x7fffffffU, qtype);
			}
		}
	}
	/* deterministic: the same message gives the same answer */
	ok2 = mx_dnsmsg_parse(msg, len, QNAME, qtype, &again, why2, sizeof(why2));
	check(ok == ok2, qtype);
	if (ok)
		check(same_answer(&ans, &again), qtype);
	else
		check(strcmp(why, why2) == 0, qtype);
	(void)touched;
	mx_dnsmsg_answer_free(&again);
	mx_dnsmsg_answer_free(&ans);
	check(ans.mx == NULL && ans.addrs == NULL && ans.nmx == 0 && ans.naddrs == 0, qtype);
	check(ans.txt == NULL && ans.tlsa == NULL && ans.ntxt == 0 && ans.ntlsa == 0, qtype);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *msg;

	if (size > 65535)		/* a DNS message over TCP is at most this */
		return 0;
	if ((msg = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(msg, data, size);
	parse_as(msg, size, MX_DNS_T_A);
	parse_as(msg, size, MX_DNS_T_AAAA);
	parse_as(msg, size, MX_DNS_T_MX);
	parse_as(msg, size, MX_DNS_T_TXT);
	parse_as(msg, size, MX_DNS_T_TLSA);
	free(msg);
	return 0;
}
