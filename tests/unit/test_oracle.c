/*
 * test_oracle - unit tests for the route oracle's pure parts: netstring
 * framing (shared/netstring.c) and the ordering and formatting of answers
 * (mx_oracle_order, mx_oracle_format_*, mx_oracle_host_tls, _level_tls)
 *
 * Plans are either filled by hand (struct mx_plan on the stack, for the
 * ordering and formatting rules) or built from a hand-made lookup result
 * with mx_plan_build (for the results and statuses a real plan carries).
 * Every reply buffer has guard octets after it that must stay untouched.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "oracle.h"
#include "plan.h"

#define GUARD	0x5a
#define NGUARD	32

/* --- netstrings --------------------------------------------------------- */

/* take - mx_netstring_take with max, the status; data copied into got */
static enum mx_netstring_status
take(const char *buf, size_t len, size_t max, char *got, size_t gotlen, size_t *used)
{
	const char *data = NULL;
	size_t	dlen = 99;
	char	why[200] = "";
	enum mx_netstring_status st;

	*used = 0;
	st = mx_netstring_take(buf, len, max, &data, &dlen, used, why, sizeof(why));
	if (st == MX_NETSTRING_OK) {
		assert_non_null(data);
		assert_true(data >= buf && data + dlen <= buf + len);
		assert_true(dlen < gotlen);
		memcpy(got, data, dlen);
		got[dlen] = '\0';
	} else if (st == MX_NETSTRING_BAD) {
		assert_true(why[0] != '\0');	/* a reason, always */
	}
	return st;
}

/* test_netstring_complete - one netstring, and one followed by the next */
static void
test_netstring_complete(void **state)
{
	char	got[64];
	size_t	used;

	(void)state;
	assert_int_equal(take("5:hello,", 8, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
	assert_string_equal(got, "hello");
	assert_int_equal(used, 8);
	/* pipelined: only the first is taken */
	assert_int_equal(take("3:abc,4:defg,", 13, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
	assert_string_equal(got, "abc");
	assert_int_equal(used, 6);
	/* data may hold anything, ':' and ',' included */
	assert_int_equal(take("4::,,:,", 7, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
	assert_string_equal(got, ":,,:");
	/* exactly max octets is fine */
	assert_int_equal(take("10:0123456789,", 14, 10, got, sizeof(got), &used), MX_NETSTRING_OK);
	assert_string_equal(got, "0123456789");
}

/* test_netstring_empty - "0:," is the empty string, not a leading zero */
static void
test_netstring_empty(void **state)
{
	char	got[8];
	size_t	used;

	(void)state;
	assert_int_equal(take("0:,", 3, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
	assert_string_equal(got, "");
	assert_int_equal(used, 3);
	assert_int_equal(take("0:x", 3, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	assert_int_equal(take("", 0, 100, got, sizeof(got), &used), MX_NETSTRING_MORE);
}

/* test_netstring_split_everywhere - every proper prefix needs more; none is BAD */
static void
test_netstring_split_everywhere(void **state)
{
	static const char *const cases[] = { "5:hello,", "0:,", "11:transport a,", "1:x," };
	char	got[64];
	size_t	c, cut, used;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t	len = strlen(cases[c]);

		for (cut = 0; cut < len; cut++) {
			/* a copy of exactly cut octets: reading past it is caught by ASan/valgrind */
			char   *part = malloc(cut > 0 ? cut : 1);

			assert_non_null(part);
			memcpy(part, cases[c], cut);
			if (take(part, cut, 100, got, sizeof(got), &used) != MX_NETSTRING_MORE)
				fail_msg("\"%s\" cut at %zu: not MORE", cases[c], cut);
			free(part);
		}
		assert_int_equal(take(cases[c], len, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
		assert_int_equal(used, len);
	}
}

/* test_netstring_leading_zero - "05:hello," and "00:," are broken framing */
static void
test_netstring_leading_zero(void **state)
{
	char	got[8];
	size_t	used;

	(void)state;
	assert_int_equal(take("05:hello,", 9, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	assert_int_equal(take("00:,", 4, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	/* seen as soon as the second digit is there */
	assert_int_equal(take("01", 2, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	assert_int_equal(take("0", 1, 100, got, sizeof(got), &used), MX_NETSTRING_MORE);
}

/* test_netstring_missing_comma - the octet after the data must be ',' */
static void
test_netstring_missing_comma(void **state)
{
	char	got[8];
	size_t	used;

	(void)state;
	assert_int_equal(take("5:hello;", 8, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	assert_int_equal(take("5:hello\n", 8, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
	/* a too-short length leaves data where the comma should be */
	assert_int_equal(take("3:hello,", 8, 100, got, sizeof(got), &used), MX_NETSTRING_BAD);
}

/* test_netstring_over_max - refused as soon as the length exceeds max, data unread */
static void
test_netstring_over_max(void **state)
{
	char	got[8];
	size_t	used;

	(void)state;
	assert_int_equal(take("11:", 3, 10, got, sizeof(got), &used), MX_NETSTRING_BAD);
	/* before the ':' even: the digits alone are enough */
	assert_int_equal(take("11", 2, 10, got, sizeof(got), &used), MX_NETSTRING_BAD);
	assert_int_equal(take("99999999999999999999999999", 26, 10000, got, sizeof(got), &used),
			 MX_NETSTRING_BAD);
	/* "10" is not over 10 yet, "100" is */
	assert_int_equal(take("10", 2, 10, got, sizeof(got), &used), MX_NETSTRING_MORE);
	assert_int_equal(take("100", 3, 10, got, sizeof(got), &used), MX_NETSTRING_BAD);
}

/* test_netstring_not_digits - no length, or a length ended by something but ':' */
static void
test_netstring_not_digits(void **state)
{
	static const char *const bad[] = { "x", ":", ":abc,", "-1:a,", " 1:a,", "1x", "1 :a,",
					   "+1:a,", "GET / HTTP/1.0\r\n" };
	char	got[8];
	size_t	i, used;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (take(bad[i], strlen(bad[i]), 100, got, sizeof(got), &used) != MX_NETSTRING_BAD)
			fail_msg("\"%s\" is not BAD", bad[i]);
}

/* test_netstring_put - framing, and a buffer too small gives 0 without overflow */
static void
test_netstring_put(void **state)
{
	char	out[16 + NGUARD];
	size_t	i;

	(void)state;
	assert_int_equal(mx_netstring_put("hello", 5, out, sizeof(out)), 8);
	assert_string_equal(out, "5:hello,");
	assert_int_equal(mx_netstring_put("", 0, out, sizeof(out)), 3);
	assert_string_equal(out, "0:,");
	/* "5:hello," plus its NUL needs 9 octets */
	memset(out, GUARD, sizeof(out));
	assert_int_equal(mx_netstring_put("hello", 5, out, 9), 8);
	assert_string_equal(out, "5:hello,");
	for (i = 9; i < sizeof(out); i++)
		assert_int_equal((unsigned char)out[i], GUARD);
	memset(out, GUARD, sizeof(out));
	assert_int_equal(mx_netstring_put("hello", 5, out, 8), 0);
	for (i = 8; i < sizeof(out); i++)
		assert_int_equal((unsigned char)out[i], GUARD);
	assert_int_equal(mx_netstring_put("hello", 5, out, 1), 0);
	/* round trip */
	{
		char	got[16];
		size_t	used;

		assert_int_equal(mx_netstring_put("a b", 3, out, sizeof(out)), 6);
		assert_int_equal(take(out, 6, 100, got, sizeof(got), &used), MX_NETSTRING_OK);
		assert_string_equal(got, "a b");
	}
}

/* --- hand-made plans ---------------------------------------------------- */

#define MAXH	8
#define MAXA	4

/* A plan held on the stack: tiers, hosts and addresses in fixed arrays. */
struct fake_plan {
	struct mx_plan plan;
	struct mx_plan_tier tiers[4];
	struct mx_plan_host hosts[4][MAXH];
	struct mx_plan_addr addrs[4][MAXH][MAXA];
};

/* fp_init - an ok plan for domain with no tiers */
static void
fp_init(struct fake_plan *fp, const char *domain)
{
	memset(fp, 0, sizeof(*fp));
	snprintf(fp->plan.domain, sizeof(fp->plan.domain), "%s", domain);
	fp->plan.result = MX_PLAN_OK;
	fp->plan.tiers = fp->tiers;
}

/*
 * fp_host - add a host to tier t (tiers are added in order) with the
 * addresses given as "192.0.2.1" (usable) or "!192.0.2.1" (unusable),
 * NULL-terminated; usable says whether the host itself is
 */
static struct mx_plan_host *
fp_host(struct fake_plan *fp, size_t t, uint16_t pref, const char *name, bool usable, ...)
{
	struct mx_plan_tier *tier;
	struct mx_plan_host *h;
	const char *a;
	va_list	ap;

	assert_true(t < 4);
	if (t >= fp->plan.ntiers) {
		assert_int_equal(t, fp->plan.ntiers);
		fp->plan.ntiers = t + 1;
		fp->tiers[t].pref = pref;
		fp->tiers[t].hosts = fp->hosts[t];
	}
	tier = &fp->tiers[t];
	assert_true(tier->nhosts < MAXH);
	h = &fp->hosts[t][tier->nhosts];
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->pref = pref;
	h->usable = usable;
	h->tls = MX_HOST_TLS_MAY;
	h->addrs = fp->addrs[t][tier->nhosts];
	va_start(ap, usable);
	while ((a = va_arg(ap, const char *)) != NULL) {
		struct mx_plan_addr *pa = &h->addrs[h->naddrs++];

		assert_true(h->naddrs <= MAXA);
		pa->usable = a[0] != '!';
		if (a[0] == '!')
			a++;
		assert_true(mx_ip_parse(a, &pa->ip));
		snprintf(pa->text, sizeof(pa->text), "%s", a);
	}
	va_end(ap);
	tier->nhosts++;
	return h;
}

/* A set of addresses in backoff, for mx_oracle_order's callback. */
struct backoff_set {
	const char *addr[8];
	size_t	n;
	size_t	calls;
};

/* in_backoff - the callback: is a's text in the set */
static bool
in_backoff(void *arg, const struct mx_plan_addr *a)
{
	struct backoff_set *b = arg;
	size_t	i;

	b->calls++;
	assert_true(a->usable);		/* unusable addresses are never asked about */
	for (i = 0; i < b->n; i++)
		if (strcmp(b->addr[i], a->text) == 0)
			return true;
	return false;
}

/* order_names - the ordered hops as "name name* ..." (* marks backed_off) */
static void
order_names(const struct mx_plan *plan, struct backoff_set *b, char *out, size_t len)
{
	struct mx_oracle_hop hops[32];
	size_t	n, i, off = 0;

	n = mx_oracle_order(plan, b != NULL ? in_backoff : NULL, b, hops, 32);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s%s", i ? " " : "",
					hops[i].host->name, hops[i].backed_off ? "*" : "");
}

/* two_tier - mx1 (two addresses) and mx2 at 10, mx3 at 20 */
static void
two_tier(struct fake_plan *fp)
{
	fp_init(fp, "example.test");
	fp_host(fp, 0, 10, "mx1.example.test", true, "192.0.2.1", "2001:db8::1", NULL);
	fp_host(fp, 0, 10, "mx2.example.test", true, "192.0.2.2", NULL);
	fp_host(fp, 1, 20, "mx3.example.test", true, "192.0.2.3", NULL);
}

/* test_order_no_backoff - plan order, tiers kept; no callback is fine */
static void
test_order_no_backoff(void **state)
{
	struct fake_plan fp;
	struct backoff_set b = { { NULL }, 0, 0 };
	char	got[256];

	(void)state;
	two_tier(&fp);
	order_names(&fp.plan, NULL, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test mx2.example.test mx3.example.test");
	order_names(&fp.plan, &b, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test mx2.example.test mx3.example.test");
	assert_true(b.calls > 0);
}

/* test_order_all_addresses_backed_off - a host goes last only when every usable address waits */
static void
test_order_all_addresses_backed_off(void **state)
{
	struct fake_plan fp;
	struct backoff_set one = { { "192.0.2.1" }, 1, 0 };
	struct backoff_set both = { { "192.0.2.1", "2001:db8::1" }, 2, 0 };
	char	got[256];

	(void)state;
	two_tier(&fp);
	/* one of mx1's two addresses: mx1 stays first */
	order_names(&fp.plan, &one, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test mx2.example.test mx3.example.test");
	/* both: mx1 after everything, even the backup tier */
	order_names(&fp.plan, &both, got, sizeof(got));
	assert_string_equal(got, "mx2.example.test mx3.example.test mx1.example.test*");
}

/* test_order_every_host_backed_off - all in backoff: the original order, all marked */
static void
test_order_every_host_backed_off(void **state)
{
	struct fake_plan fp;
	struct backoff_set all = { { "192.0.2.1", "2001:db8::1", "192.0.2.2", "192.0.2.3" }, 4, 0 };
	struct backoff_set two = { { "192.0.2.2", "192.0.2.3" }, 2, 0 };
	char	got[256];

	(void)state;
	two_tier(&fp);
	order_names(&fp.plan, &all, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test* mx2.example.test* mx3.example.test*");
	/* the backed-off group keeps plan order too */
	order_names(&fp.plan, &two, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test mx2.example.test* mx3.example.test*");
}

/* test_order_unusable_skipped - unusable hosts, hosts without a usable address are left out */
static void
test_order_unusable_skipped(void **state)
{
	struct fake_plan fp;
	struct backoff_set b = { { "192.0.2.5" }, 1, 0 };
	char	got[256];

	(void)state;
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "dead.example.test", false, "192.0.2.9", NULL);
	fp_host(&fp, 0, 10, "noaddr.example.test", true, "!10.0.0.1", "!127.0.0.1", NULL);
	fp_host(&fp, 0, 10, "empty.example.test", true, NULL);
	/* the unusable address is in backoff's way: it must not count */
	fp_host(&fp, 1, 20, "mixed.example.test", true, "!192.0.2.4", "192.0.2.5", NULL);
	fp_host(&fp, 2, 30, "last.example.test", true, "192.0.2.6", NULL);
	order_names(&fp.plan, NULL, got, sizeof(got));
	assert_string_equal(got, "mixed.example.test last.example.test");
	/* mixed's only usable address waits: it goes last although its other one does not */
	order_names(&fp.plan, &b, got, sizeof(got));
	assert_string_equal(got, "last.example.test mixed.example.test*");
}

/* test_order_max - at most max hops, the first ones */
static void
test_order_max(void **state)
{
	struct fake_plan fp;
	struct mx_oracle_hop hops[2];

	(void)state;
	two_tier(&fp);
	assert_int_equal(mx_oracle_order(&fp.plan, NULL, NULL, hops, 2), 2);
	assert_string_equal(hops[0].host->name, "mx1.example.test");
	assert_string_equal(hops[1].host->name, "mx2.example.test");
	assert_int_equal(mx_oracle_order(&fp.plan, NULL, NULL, hops, 0), 0);
}

/* --- transport answers ---------------------------------------------------- */

/* transport - format plan (ordered without backoff) into a guarded buffer of len */
static void
transport(const struct mx_plan *plan, const struct mx_oracle_relay *relays, size_t nrelays,
	  int port, size_t len, char *got, size_t gotlen)
{
	struct mx_oracle_hop hops[32];
	char   *buf = malloc(len + NGUARD);
	size_t	n, i;

	assert_non_null(buf);
	memset(buf, GUARD, len + NGUARD);
	n = mx_oracle_order(plan, NULL, NULL, hops, 32);
	mx_oracle_format_transport(plan, hops, n, relays, nrelays, port, "smtp", buf, len);
	for (i = len; i < len + NGUARD; i++)
		if ((unsigned char)buf[i] != GUARD)
			fail_msg("octet %zu past a reply buffer of %zu written", i, len);
	assert_non_null(memchr(buf, '\0', len));
	snprintf(got, gotlen, "%s", buf);
	free(buf);
}

/* test_transport_hosts_and_relays - bracketed next hops in order, relays after */
static void
test_transport_hosts_and_relays(void **state)
{
	struct fake_plan fp;
	struct mx_oracle_relay relays[2] = { { "relay.example.net", 2525 }, { "2001:db8::25", 25 } };
	struct mx_oracle_hop hops[4];
	struct backoff_set b = { { "192.0.2.2" }, 1, 0 };
	char	got[512];
	size_t	n;

	(void)state;
	two_tier(&fp);
	transport(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
	assert_string_equal(got, "OK smtp:[mx1.example.test]:25, [mx2.example.test]:25, "
			    "[mx3.example.test]:25");
	transport(&fp.plan, relays, 2, 2525, 512, got, sizeof(got));
	assert_string_equal(got, "OK smtp:[mx1.example.test]:2525, [mx2.example.test]:2525, "
			    "[mx3.example.test]:2525, [relay.example.net]:2525, [2001:db8::25]:25");
	/* the order given is the order answered, and the transport name is used */
	n = mx_oracle_order(&fp.plan, in_backoff, &b, hops, 4);
	assert_int_equal(n, 3);
	mx_oracle_format_transport(&fp.plan, hops, n, NULL, 0, 25, "mxrelay", got, sizeof(got));
	assert_string_equal(got, "OK mxrelay:[mx1.example.test]:25, [mx3.example.test]:25, "
			    "[mx2.example.test]:25");
	/* relays alone (no usable host) still route */
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "dead.example.test", false, "192.0.2.9", NULL);
	transport(&fp.plan, relays, 1, 25, 512, got, sizeof(got));
	assert_string_equal(got, "OK smtp:[relay.example.net]:2525");
}

/* test_transport_nothing_usable - an ok plan with no host: TEMP, TLS named when it is why */
static void
test_transport_nothing_usable(void **state)
{
	struct fake_plan fp;
	struct mx_plan_host *h;
	char	got[512];

	(void)state;
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "mx1.example.test", false, "192.0.2.1", NULL);
	transport(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
	assert_string_equal(got, "TEMP 4.4.4 no usable mail host for example.test (mxtier-pipe "
			    "--route example.test says why)");
	h = fp_host(&fp, 1, 20, "mx2.example.test", false, "192.0.2.2", NULL);
	h->tls_blocked = true;
	transport(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
	assert_string_equal(got, "TEMP 4.7.5 no mail host of example.test passes the TLS policy "
			    "(mxtier-pipe --route example.test says why)");
}

/* result_plan - a plan of a hand-made lookup result of domain with mx_status st */
static struct mx_plan *
built_plan(struct mx_dns_result *r)
{
	struct mx_policy p;
	struct mx_rng rng;
	struct mx_plan *pl;

	mx_policy_defaults(&p);
	mx_rng_seed(&rng, 1);
	pl = mx_plan_build(r, &p, NULL, &rng);
	assert_non_null(pl);
	mx_dns_result_free(r);
	return pl;
}

/* dns_result - an empty result for domain with MX status st */
static struct mx_dns_result *
dns_result(const char *domain, enum mx_dns_status st)
{
	struct mx_dns_result *r = mx_dns_result_new(domain);

	assert_non_null(r);
	r->mx_status = st;
	return r;
}

/* dns_host - name's address answers (one IPv4 address, or none) */
static void
dns_host(struct mx_dns_result *r, const char *name, const char *addr)
{
	struct mx_dns_addrset *s = mx_dns_result_set(r, name);
	struct mx_ip ip;

	assert_non_null(s);
	s->a_status = MX_DNS_NODATA;
	s->aaaa_status = MX_DNS_NODATA;
	if (addr != NULL) {
		assert_true(mx_ip_parse(addr, &ip));
		assert_true(mx_dns_addrset_add(s, &ip, 300));
		s->a_status = MX_DNS_OK;
	}
}

/* transport_of - the transport answer (port 25, no relays) of a built plan; frees it */
static void
transport_of(struct mx_plan *pl, enum mx_plan_result want, char *got, size_t len)
{
	assert_int_equal(pl->result, want);
	transport(pl, NULL, 0, 25, 1024, got, len);
	mx_plan_free(pl);
}

/* test_transport_plan_results - each non-ok result of a real plan */
static void
test_transport_plan_results(void **state)
{
	struct mx_dns_result *r;
	char	got[1024];

	(void)state;
	/* null MX: the error transport, 5.1.10 */
	r = dns_result("nullmx.test", MX_DNS_OK);
	assert_true(mx_dns_result_add_mx(r, 0, ""));
	transport_of(built_plan(r), MX_PLAN_NULL_MX, got, sizeof(got));
	assert_true(strncmp(got, "OK error:5.1.10 ", 16) == 0);
	assert_non_null(strstr(got, "nullmx.test"));

	/* NXDOMAIN: 5.1.2 */
	r = dns_result("nx.test", MX_DNS_NXDOMAIN);
	transport_of(built_plan(r), MX_PLAN_NXDOMAIN, got, sizeof(got));
	assert_true(strncmp(got, "OK error:5.1.2 ", 15) == 0);
	assert_non_null(strstr(got, "nx.test"));

	/* no MX and no address: no mail host, 5.1.2 */
	r = dns_result("nohost.test", MX_DNS_NODATA);
	dns_host(r, "nohost.test", NULL);
	transport_of(built_plan(r), MX_PLAN_NO_MAIL_HOST, got, sizeof(got));
	assert_true(strncmp(got, "OK error:5.", 11) == 0);
	assert_non_null(strstr(got, "nohost.test"));

	/* the MX lookup failed: TEMP with the plan's 4.x.x */
	r = dns_result("sf.test", MX_DNS_SERVFAIL);
	transport_of(built_plan(r), MX_PLAN_TEMPFAIL, got, sizeof(got));
	assert_true(strncmp(got, "TEMP 4.4.3 ", 11) == 0);
	assert_non_null(strstr(got, "sf.test"));

	/* every exchange's lookup failed: TEMP as well */
	r = dns_result("allfail.test", MX_DNS_OK);
	assert_true(mx_dns_result_add_mx(r, 10, "mx1.allfail.test"));
	{
		struct mx_dns_addrset *s = mx_dns_result_set(r, "mx1.allfail.test");

		assert_non_null(s);
		s->a_status = MX_DNS_SERVFAIL;
		s->aaaa_status = MX_DNS_SERVFAIL;
	}
	transport_of(built_plan(r), MX_PLAN_TEMPFAIL, got, sizeof(got));
	assert_true(strncmp(got, "TEMP 4.", 7) == 0);

	/* an ok plan from the same path: hosts */
	r = dns_result("ok.test", MX_DNS_OK);
	assert_true(mx_dns_result_add_mx(r, 20, "b.ok.test"));
	assert_true(mx_dns_result_add_mx(r, 10, "a.ok.test"));
	dns_host(r, "a.ok.test", "192.0.2.1");
	dns_host(r, "b.ok.test", "192.0.2.2");
	transport_of(built_plan(r), MX_PLAN_OK, got, sizeof(got));
	assert_string_equal(got, "OK smtp:[a.ok.test]:25, [b.ok.test]:25");
}

/* test_transport_filled_results - results set by hand: statuses and the loop */
static void
test_transport_filled_results(void **state)
{
	struct fake_plan fp;
	char	got[1024];

	(void)state;
	fp_init(&fp, "example.test");
	fp.plan.result = MX_PLAN_LOOP;
	snprintf(fp.plan.status, sizeof(fp.plan.status), "5.4.6");
	snprintf(fp.plan.message, sizeof(fp.plan.message), "mail loops back to myself");
	transport(&fp.plan, NULL, 0, 25, 64, got, sizeof(got));
	assert_string_equal(got, "NOTFOUND ");
	fp.plan.result = MX_PLAN_TEMPFAIL;
	fp.plan.status[0] = '\0';
	transport(&fp.plan, NULL, 0, 25, 128, got, sizeof(got));
	assert_string_equal(got, "TEMP 4.4.3 mail loops back to myself");
	fp.plan.result = MX_PLAN_NULL_MX;
	snprintf(fp.plan.status, sizeof(fp.plan.status), "5.1.10");
	transport(&fp.plan, NULL, 0, 25, 128, got, sizeof(got));
	assert_string_equal(got, "OK error:5.1.10 mail loops back to myself");
	/* a 4.x.x status on a failed plan is temporary whatever the result */
	fp.plan.result = MX_PLAN_NO_MAIL_HOST;
	snprintf(fp.plan.status, sizeof(fp.plan.status), "4.4.4");
	transport(&fp.plan, NULL, 0, 25, 128, got, sizeof(got));
	assert_string_equal(got, "TEMP 4.4.4 mail loops back to myself");
	/* none at all: 5.1.2 */
	fp.plan.result = MX_PLAN_NXDOMAIN;
	fp.plan.status[0] = '\0';
	transport(&fp.plan, NULL, 0, 25, 128, got, sizeof(got));
	assert_string_equal(got, "OK error:5.1.2 mail loops back to myself");
}

/* test_transport_control_characters - a message never breaks the reply's line */
static void
test_transport_control_characters(void **state)
{
	struct fake_plan fp;
	char	got[1024];
	size_t	i;

	(void)state;
	fp_init(&fp, "example.test");
	fp.plan.result = MX_PLAN_NXDOMAIN;
	snprintf(fp.plan.status, sizeof(fp.plan.status), "5.1.2");
	snprintf(fp.plan.message, sizeof(fp.plan.message), "bad\r\nline\ttab\x01\x7f" "end");
	transport(&fp.plan, NULL, 0, 25, 1024, got, sizeof(got));
	assert_string_equal(got, "OK error:5.1.2 bad  line tab  end");
	fp.plan.result = MX_PLAN_TEMPFAIL;
	snprintf(fp.plan.status, sizeof(fp.plan.status), "4.4.3");
	transport(&fp.plan, NULL, 0, 25, 1024, got, sizeof(got));
	for (i = 0; got[i] != '\0'; i++)
		assert_true((unsigned char)got[i] >= 0x20 && got[i] != 0x7f);
	assert_string_equal(got, "TEMP 4.4.3 bad  line tab  end");
}

/*
 * test_transport_small_buffer - every buffer size: nothing written past it,
 * and what fits is the full answer cut after a whole host (never half of
 * one, never a later host in place of a dropped earlier one)
 */
static void
test_transport_small_buffer(void **state)
{
	struct fake_plan fp;
	struct mx_oracle_relay relays[1] = { { "r.test", 25 } };
	char	full[512], got[512];
	size_t	len;

	(void)state;
	two_tier(&fp);
	transport(&fp.plan, relays, 1, 25, sizeof(full), full, sizeof(full));
	assert_string_equal(full, "OK smtp:[mx1.example.test]:25, [mx2.example.test]:25, "
			    "[mx3.example.test]:25, [r.test]:25");
	for (len = 1; len <= strlen(full) + 1; len++) {
		size_t	glen;

		transport(&fp.plan, relays, 1, 25, len, got, sizeof(got));
		glen = strlen(got);
		assert_true(glen < len);
		if (strncmp(full, got, glen) != 0)
			fail_msg("buffer %zu: \"%s\" is not a prefix of the full answer", len, got);
		/* cut at a host boundary: the end of the full answer or before ", " */
		if (glen > 0 && full[glen] != '\0' && strncmp(full + glen, ", ", 2) != 0 &&
		    strcmp(got, "OK smtp:") != 0)
			fail_msg("buffer %zu: half a host: \"%s\"", len, got);
	}
	/* a long first host that cannot fit but a short later one that can */
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "a-rather-long-name-for-a-mail-host.example.test", true,
		"192.0.2.1", NULL);
	fp_host(&fp, 0, 10, "b.test", true, "192.0.2.2", NULL);
	transport(&fp.plan, NULL, 0, 25, 40, got, sizeof(got));
	assert_null(strstr(got, "b.test"));
	/* no room for "OK smtp:": no host either (found by fuzz_socketmap) */
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "a", true, "192.0.2.1", NULL);
	transport(&fp.plan, NULL, 0, 25, 7, got, sizeof(got));
	assert_string_equal(got, "");
}

/* --- Exim route lines ----------------------------------------------------- */

/* route_line - format plan as an Exim line into a guarded buffer of len */
static void
route_line(const struct mx_plan *plan, const struct mx_oracle_relay *relays, size_t nrelays,
	   int port, size_t len, char *got, size_t gotlen)
{
	struct mx_oracle_hop hops[32];
	char   *buf = malloc(len + NGUARD);
	size_t	n, i;

	assert_non_null(buf);
	memset(buf, GUARD, len + NGUARD);
	n = mx_oracle_order(plan, NULL, NULL, hops, 32);
	mx_oracle_format_route_line(plan, hops, n, relays, nrelays, port, buf, len);
	for (i = len; i < len + NGUARD; i++)
		if ((unsigned char)buf[i] != GUARD)
			fail_msg("octet %zu past a line buffer of %zu written", i, len);
	if (len > 0) {
		assert_non_null(memchr(buf, '\0', len));
		snprintf(got, gotlen, "%s", buf);
	} else {
		got[0] = '\0';
	}
	free(buf);
}

/* test_route_line_ports - host:host byname; "::port" when not 25 */
static void
test_route_line_ports(void **state)
{
	struct fake_plan fp;
	char	got[512];

	(void)state;
	two_tier(&fp);
	route_line(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test:mx2.example.test:mx3.example.test byname");
	route_line(&fp.plan, NULL, 0, 2525, 512, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test::2525:mx2.example.test::2525:"
			    "mx3.example.test::2525 byname");
}

/* test_route_line_relays - relays after the hosts; IPv6 colons doubled, bracketed with a port */
static void
test_route_line_relays(void **state)
{
	struct fake_plan fp;
	struct mx_oracle_relay relays[3] = { { "relay.test", 25 }, { "2001:db8::25", 25 },
					     { "2001:db8::26", 2526 } };
	char	got[512];

	(void)state;
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "mx1.example.test", true, "192.0.2.1", NULL);
	route_line(&fp.plan, relays, 3, 25, 512, got, sizeof(got));
	assert_string_equal(got, "mx1.example.test:relay.test:2001::db8::::25:"
			    "[2001::db8::::26]::2526 byname");
}

/* test_route_line_declines - anything but an ok plan with something to try: "" */
static void
test_route_line_declines(void **state)
{
	static const enum mx_plan_result results[] = { MX_PLAN_NULL_MX, MX_PLAN_NXDOMAIN,
		MX_PLAN_NO_MAIL_HOST, MX_PLAN_TEMPFAIL, MX_PLAN_LOOP };
	struct fake_plan fp;
	char	got[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		two_tier(&fp);
		fp.plan.result = results[i];
		snprintf(fp.plan.status, sizeof(fp.plan.status), "5.1.2");
		route_line(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
		assert_string_equal(got, "");
	}
	/* ok but nothing usable */
	fp_init(&fp, "example.test");
	fp_host(&fp, 0, 10, "mx1.example.test", false, "192.0.2.1", NULL);
	route_line(&fp.plan, NULL, 0, 25, 512, got, sizeof(got));
	assert_string_equal(got, "");
	/* too small for one host and " byname": decline, not half a line */
	two_tier(&fp);
	route_line(&fp.plan, NULL, 0, 25, 20, got, sizeof(got));
	assert_string_equal(got, "");
	route_line(&fp.plan, NULL, 0, 25, 0, got, sizeof(got));
	route_line(&fp.plan, NULL, 0, 25, 5, got, sizeof(got));
	assert_string_equal(got, "");
}

/* test_route_line_small_buffer - whole hosts only, always ending in " byname" */
static void
test_route_line_small_buffer(void **state)
{
	struct fake_plan fp;
	char	full[512], got[512];
	size_t	len;

	(void)state;
	two_tier(&fp);
	route_line(&fp.plan, NULL, 0, 2525, sizeof(full), full, sizeof(full));
	for (len = 1; len <= strlen(full) + 1; len++) {
		size_t	glen;

		route_line(&fp.plan, NULL, 0, 2525, len, got, sizeof(got));
		glen = strlen(got);
		assert_true(glen < len);
		if (glen == 0)
			continue;
		assert_true(glen >= 7 && strcmp(got + glen - 7, " byname") == 0);
		/* the hosts part is a prefix of the full one, cut before a ':' between hosts */
		if (strncmp(full, got, glen - 7) != 0)
			fail_msg("buffer %zu: \"%s\" is not a prefix", len, got);
		if (full[glen - 7] != ' ' && strncmp(full + glen - 7, ":mx", 3) != 0)
			fail_msg("buffer %zu: half a host: \"%s\"", len, got);
	}
	/* a short relay never takes the place of a host that did not fit */
	{
		struct mx_oracle_relay relays[1] = { { "r.test", 25 } };

		for (len = 24; len < 70; len++) {
			route_line(&fp.plan, relays, 1, 25, len, got, sizeof(got));
			if (strstr(got, "r.test") != NULL && strstr(got, "mx3") == NULL)
				fail_msg("buffer %zu: \"%s\" skips a host", len, got);
		}
	}
}

/* --- TLS policy entries ----------------------------------------------------- */

/* host_tls - the entry and rank of a host with t under level */
static int
host_tls(enum mx_host_tls t, bool sts_check, enum mx_tls_level level, char *got, size_t len)
{
	struct fake_plan fp;
	struct mx_plan_host *h;

	fp_init(&fp, "example.test");
	h = fp_host(&fp, 0, 10, "mx1.example.test", true, "192.0.2.1", NULL);
	h->tls = t;
	h->sts_check = sts_check;
	return mx_oracle_host_tls(&fp.plan, h, level, got, len);
}

/* test_host_tls_each - every enum mx_host_tls, sts_check, dane-only; ranks ordered */
static void
test_host_tls_each(void **state)
{
	char	got[600];
	int	none, may, enc, dane, verify, secure, sts, daneonly;

	(void)state;
	none = host_tls(MX_HOST_TLS_NONE, false, MX_TLS_MAY, got, sizeof(got));
	assert_string_equal(got, "none");
	may = host_tls(MX_HOST_TLS_MAY, false, MX_TLS_MAY, got, sizeof(got));
	assert_string_equal(got, "may");
	enc = host_tls(MX_HOST_TLS_ENCRYPT, false, MX_TLS_ENCRYPT, got, sizeof(got));
	assert_string_equal(got, "encrypt");
	verify = host_tls(MX_HOST_TLS_VERIFY, false, MX_TLS_VERIFY, got, sizeof(got));
	assert_string_equal(got, "verify match=mx1.example.test");
	secure = host_tls(MX_HOST_TLS_SECURE, false, MX_TLS_SECURE, got, sizeof(got));
	assert_string_equal(got, "secure match=mx1.example.test:example.test:.example.test");
	dane = host_tls(MX_HOST_TLS_DANE, false, MX_TLS_DANE, got, sizeof(got));
	assert_string_equal(got, "dane");
	daneonly = host_tls(MX_HOST_TLS_DANE, false, MX_TLS_DANE_ONLY, got, sizeof(got));
	assert_string_equal(got, "dane-only");
	sts = host_tls(MX_HOST_TLS_MTA_STS, false, MX_TLS_MAY, got, sizeof(got));
	assert_string_equal(got, "secure match=mx1.example.test");
	/* MTA-STS testing: reported, never enforced, whatever the host's TLS */
	assert_int_equal(host_tls(MX_HOST_TLS_MTA_STS, true, MX_TLS_MAY, got, sizeof(got)), may);
	assert_string_equal(got, "may");
	assert_int_equal(host_tls(MX_HOST_TLS_DANE, true, MX_TLS_DANE, got, sizeof(got)), may);
	assert_string_equal(got, "may");
	/* stricter is higher */
	assert_true(none < may && may < enc && enc < dane && dane < verify && verify < secure);
	assert_int_equal(sts, secure);
	assert_true(daneonly > secure);
	/* a small buffer is cut, not overrun */
	{
		char	small[8 + NGUARD];
		size_t	i;

		memset(small, GUARD, sizeof(small));
		host_tls(MX_HOST_TLS_SECURE, false, MX_TLS_SECURE, small, 8);
		assert_string_equal(small, "secure ");
		for (i = 8; i < sizeof(small); i++)
			assert_int_equal((unsigned char)small[i], GUARD);
	}
}

/* test_level_tls_each - the entry of each configured level */
static void
test_level_tls_each(void **state)
{
	static const struct {
		enum mx_tls_level level;
		const char *want;
	} cases[] = {
		{ MX_TLS_NONE, "none" },
		{ MX_TLS_MAY, "may" },
		{ MX_TLS_ENCRYPT, "encrypt" },
		{ MX_TLS_VERIFY, "verify match=hostname" },
		{ MX_TLS_SECURE, "secure match=hostname" },
		{ MX_TLS_DANE, "dane" },
		{ MX_TLS_DANE_ONLY, "dane-only" },
	};
	char	got[64];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(got, 'x', sizeof(got));
		mx_oracle_level_tls(cases[i].level, got, sizeof(got));
		assert_string_equal(got, cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netstring_complete),
		cmocka_unit_test(test_netstring_empty),
		cmocka_unit_test(test_netstring_split_everywhere),
		cmocka_unit_test(test_netstring_leading_zero),
		cmocka_unit_test(test_netstring_missing_comma),
		cmocka_unit_test(test_netstring_over_max),
		cmocka_unit_test(test_netstring_not_digits),
		cmocka_unit_test(test_netstring_put),
		cmocka_unit_test(test_order_no_backoff),
		cmocka_unit_test(test_order_all_addresses_backed_off),
		cmocka_unit_test(test_order_every_host_backed_off),
		cmocka_unit_test(test_order_unusable_skipped),
		cmocka_unit_test(test_order_max),
		cmocka_unit_test(test_transport_hosts_and_relays),
		cmocka_unit_test(test_transport_nothing_usable),
		cmocka_unit_test(test_transport_plan_results),
		cmocka_unit_test(test_transport_filled_results),
		cmocka_unit_test(test_transport_control_characters),
		cmocka_unit_test(test_transport_small_buffer),
		cmocka_unit_test(test_route_line_ports),
		cmocka_unit_test(test_route_line_relays),
		cmocka_unit_test(test_route_line_declines),
		cmocka_unit_test(test_route_line_small_buffer),
		cmocka_unit_test(test_host_tls_each),
		cmocka_unit_test(test_level_tls_each),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
