/*
 * test_plan - unit tests for the planning policy, one or more per rule R1-R10
 *
 * Each test builds a struct mx_dns_result by hand (what the resolver would
 * have produced), plans it with a fixed seed, and checks tiers, order,
 * usability, notes, result and enhanced status. Test names start with the
 * rule they prove so a failure names the rule that broke.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

/* --- helpers ---------------------------------------------------------- */

/* mx - add an MX record */
static void
mx(struct mx_dns_result *r, uint16_t pref, const char *name)
{
	assert_true(mx_dns_result_add_mx(r, pref, name));
}

/* host - give name its A/AAAA answers: addresses as text, NULL-terminated */
static struct mx_dns_addrset *
host(struct mx_dns_result *r, const char *name, ...)
{
	struct mx_dns_addrset *s = mx_dns_result_set(r, name);
	va_list	ap;
	const char *a;

	assert_non_null(s);
	s->a_status = MX_DNS_NODATA;
	s->aaaa_status = MX_DNS_NODATA;
	va_start(ap, name);
	while ((a = va_arg(ap, const char *)) != NULL) {
		struct mx_ip ip;

		assert_true(mx_ip_parse(a, &ip));
		assert_true(mx_dns_addrset_add(s, &ip, 300));
		if (ip.family == AF_INET)
			s->a_status = MX_DNS_OK;
		else
			s->aaaa_status = MX_DNS_OK;
	}
	va_end(ap);
	return s;
}

/* result - a fresh result with MX status OK */
static struct mx_dns_result *
result(const char *domain, enum mx_dns_status st)
{
	struct mx_dns_result *r = mx_dns_result_new(domain);

	assert_non_null(r);
	r->mx_status = st;
	return r;
}

/* plan - plan with default policy (or p) and seed */
static struct mx_plan *
plan_with(const struct mx_dns_result *r, const struct mx_policy *p,
	  const struct mx_plan_env *env, uint64_t seed)
{
	struct mx_policy def;
	struct mx_rng rng;
	struct mx_plan *pl;

	if (p == NULL) {
		mx_policy_defaults(&def);
		p = &def;
	}
	mx_rng_seed(&rng, seed);
	pl = mx_plan_build(r, p, env, &rng);
	assert_non_null(pl);
	return pl;
}

/* find_host - host by name anywhere in the plan */
static const struct mx_plan_host *
find_host(const struct mx_plan *pl, const char *name)
{
	size_t	t, h;

	for (t = 0; t < pl->ntiers; t++)
		for (h = 0; h < pl->tiers[t].nhosts; h++)
			if (strcmp(pl->tiers[t].hosts[h].name, name) == 0)
				return &pl->tiers[t].hosts[h];
	return NULL;
}

/* has_note - does any note contain text */
static bool
has_note(const struct mx_notes *n, const char *text)
{
	size_t	i;

	for (i = 0; i < n->n; i++)
		if (strstr(n->v[i], text) != NULL)
			return true;
	return false;
}

/* --- R1 preference -------------------------------------------------- */

static void
test_R1_tiers_in_ascending_preference(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 20, "b.example.test");
	mx(r, 10, "a.example.test");
	mx(r, 30, "c.example.test");
	mx(r, 10, "d.example.test");
	host(r, "a.example.test", "192.0.2.1", NULL);
	host(r, "b.example.test", "192.0.2.2", NULL);
	host(r, "c.example.test", "192.0.2.3", NULL);
	host(r, "d.example.test", "192.0.2.4", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_string_equal(pl->status, "");
	assert_int_equal(pl->ntiers, 3);
	assert_int_equal(pl->tiers[0].pref, 10);
	assert_int_equal(pl->tiers[1].pref, 20);
	assert_int_equal(pl->tiers[2].pref, 30);
	assert_int_equal(pl->tiers[0].nhosts, 2);
	assert_string_equal(pl->tiers[1].hosts[0].name, "b.example.test");
	assert_string_equal(pl->tiers[2].hosts[0].name, "c.example.test");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R1_preference_is_unsigned_16_bit(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 65535, "last.example.test");
	mx(r, 0, "first.example.test");
	mx(r, 32768, "middle.example.test");
	host(r, "last.example.test", "192.0.2.1", NULL);
	host(r, "first.example.test", "192.0.2.2", NULL);
	host(r, "middle.example.test", "192.0.2.3", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->ntiers, 3);
	assert_int_equal(pl->tiers[0].pref, 0);
	assert_int_equal(pl->tiers[1].pref, 32768);	/* not negative as a signed 16-bit */
	assert_int_equal(pl->tiers[2].pref, 65535);
	assert_string_equal(pl->tiers[0].hosts[0].name, "first.example.test");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R1_every_host_of_a_tier_before_the_next(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	uint64_t seed;

	(void)state;
	mx(r, 10, "a1.example.test");
	mx(r, 20, "b1.example.test");
	mx(r, 10, "a2.example.test");
	mx(r, 20, "b2.example.test");
	mx(r, 10, "a3.example.test");
	host(r, "a1.example.test", "192.0.2.1", NULL);
	host(r, "a2.example.test", "192.0.2.2", NULL);
	host(r, "a3.example.test", "192.0.2.3", NULL);
	host(r, "b1.example.test", "192.0.2.4", NULL);
	host(r, "b2.example.test", "192.0.2.5", NULL);
	for (seed = 0; seed < 200; seed++) {
		struct mx_plan *pl = plan_with(r, NULL, NULL, seed);
		size_t	h;

		assert_int_equal(pl->ntiers, 2);
		assert_int_equal(pl->tiers[0].nhosts, 3);
		for (h = 0; h < 3; h++)
			assert_int_equal(pl->tiers[0].hosts[h].name[0], 'a');
		for (h = 0; h < 2; h++)
			assert_int_equal(pl->tiers[1].hosts[h].name[0], 'b');
		mx_plan_free(pl);
	}
	mx_dns_result_free(r);
}

/* --- R2 equal preference randomized -------------------------------------- */

/* order_key - the tier-0 host order as a string of first letters after the dash */
static void
order_key(const struct mx_plan *pl, char *key)
{
	size_t	h;

	for (h = 0; h < pl->tiers[0].nhosts; h++)
		key[h] = pl->tiers[0].hosts[h].name[0];
	key[h] = '\0';
}

static struct mx_dns_result *
four_equal(void)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);

	mx(r, 10, "a.example.test");
	mx(r, 10, "b.example.test");
	mx(r, 10, "c.example.test");
	mx(r, 10, "d.example.test");
	host(r, "a.example.test", "192.0.2.1", NULL);
	host(r, "b.example.test", "192.0.2.2", NULL);
	host(r, "c.example.test", "192.0.2.3", NULL);
	host(r, "d.example.test", "192.0.2.4", NULL);
	return r;
}

static void
test_R2_same_seed_same_order(void **state)
{
	struct mx_dns_result *r = four_equal();
	char	k1[8], k2[8];
	struct mx_plan *p1, *p2;

	(void)state;
	p1 = plan_with(r, NULL, NULL, 42);
	p2 = plan_with(r, NULL, NULL, 42);
	order_key(p1, k1);
	order_key(p2, k2);
	assert_string_equal(k1, k2);
	mx_plan_free(p1);
	mx_plan_free(p2);
	mx_dns_result_free(r);
}

static void
test_R2_order_varies_with_seed(void **state)
{
	struct mx_dns_result *r = four_equal();
	char	first[8], k[8];
	uint64_t seed;
	int	differ = 0;

	(void)state;
	for (seed = 0; seed < 50; seed++) {
		struct mx_plan *pl = plan_with(r, NULL, NULL, seed);

		order_key(pl, seed == 0 ? first : k);
		if (seed > 0 && strcmp(first, k) != 0)
			differ++;
		mx_plan_free(pl);
	}
	assert_true(differ > 25);	/* answer order "abcd" is not simply kept */
	mx_dns_result_free(r);
}

static void
test_R2_seed_order_independent_of_answer_order(void **state)
{
	struct mx_dns_result *r1 = four_equal();
	struct mx_dns_result *r2 = result("example.test", MX_DNS_OK);
	char	k1[8], k2[8];
	uint64_t seed;

	(void)state;
	/* the same records, as a rotating name server might send them */
	mx(r2, 10, "c.example.test");
	mx(r2, 10, "d.example.test");
	mx(r2, 10, "a.example.test");
	mx(r2, 10, "b.example.test");
	host(r2, "a.example.test", "192.0.2.1", NULL);
	host(r2, "b.example.test", "192.0.2.2", NULL);
	host(r2, "c.example.test", "192.0.2.3", NULL);
	host(r2, "d.example.test", "192.0.2.4", NULL);
	for (seed = 0; seed < 20; seed++) {
		struct mx_plan *p1 = plan_with(r1, NULL, NULL, seed);
		struct mx_plan *p2 = plan_with(r2, NULL, NULL, seed);

		order_key(p1, k1);
		order_key(p2, k2);
		assert_string_equal(k1, k2);
		mx_plan_free(p1);
		mx_plan_free(p2);
	}
	mx_dns_result_free(r1);
	mx_dns_result_free(r2);
}

/*
 * All 24 orders of 4 equal hosts must come out about equally often. With
 * 24000 seeds each order is expected 1000 times; the chi-square statistic
 * with 23 degrees of freedom exceeds 60 with probability below 1e-4 for a
 * fair shuffle, while "keep DNS order", a rotation, or the classic biased
 * swap-with-any-position shuffle all land far above it.
 */
static void
test_R2_equal_preference_spread_fairly(void **state)
{
	static const char *perms[24];
	static char storage[24][5];
	struct mx_dns_result *r = four_equal();
	int	count[24] = { 0 }, first[4] = { 0 }, nperm = 0, i;
	const int runs = 24000;
	double	chi = 0, chi_first = 0;
	uint64_t seed;

	(void)state;
	for (seed = 1000; seed < 1000 + (uint64_t)runs; seed++) {
		struct mx_plan *pl = plan_with(r, NULL, NULL, seed);
		char	k[8];

		order_key(pl, k);
		for (i = 0; i < nperm; i++)
			if (strcmp(perms[i], k) == 0)
				break;
		if (i == nperm) {
			assert_true(nperm < 24);
			memcpy(storage[nperm], k, 5);
			perms[nperm++] = storage[i];
		}
		count[i]++;
		first[k[0] - 'a']++;
		mx_plan_free(pl);
	}
	assert_int_equal(nperm, 24);
	for (i = 0; i < 24; i++)
		chi += (count[i] - 1000.0) * (count[i] - 1000.0) / 1000.0;
	for (i = 0; i < 4; i++)
		chi_first += (first[i] - 6000.0) * (first[i] - 6000.0) / 6000.0;
	print_message("R2 spread: chi2(23) = %.1f over 24 orders, chi2(3) = %.1f over first "
		      "host\n", chi, chi_first);
	assert_true(chi < 60.0);
	assert_true(chi_first < 25.0);
	mx_dns_result_free(r);
}

/* tier_key - the host order of tier t as a string of first letters */
static void
tier_key(const struct mx_plan *pl, size_t t, char *key)
{
	size_t	h;

	for (h = 0; h < pl->tiers[t].nhosts; h++)
		key[h] = pl->tiers[t].hosts[h].name[0];
	key[h] = '\0';
}

/*
 * Every tier is shuffled, not only the first: with tiers of 2, 4 and 3 equal
 * hosts, each tier must show all of its orders and a fair first host, and
 * the 24 orders of the 4-host second tier must come out about equally often
 * (chi-square with 23 degrees of freedom below 60: p < 1e-4 for a fair
 * shuffle). Shuffling only tier 0 leaves the other tiers in name order.
 */
static void
test_R2_every_tier_shuffled(void **state)
{
	static const size_t size[3] = { 2, 4, 3 }, nperms[3] = { 2, 24, 6 };
	static char perms[3][24][5];
	struct mx_dns_result *r = result("tiers.test", MX_DNS_OK);
	size_t	nseen[3] = { 0 }, t, i;
	int	count[3][24] = { { 0 } }, first[3][4] = { { 0 } };
	const int runs = 12000;
	uint64_t seed;

	(void)state;
	mx(r, 30, "g.tiers.test");	/* answer order is not the tier order */
	mx(r, 20, "c.tiers.test");
	mx(r, 10, "a.tiers.test");
	mx(r, 20, "d.tiers.test");
	mx(r, 30, "h.tiers.test");
	mx(r, 20, "e.tiers.test");
	mx(r, 10, "b.tiers.test");
	mx(r, 20, "f.tiers.test");
	mx(r, 30, "i.tiers.test");
	host(r, "a.tiers.test", "192.0.2.1", NULL);
	host(r, "b.tiers.test", "192.0.2.2", NULL);
	host(r, "c.tiers.test", "192.0.2.3", NULL);
	host(r, "d.tiers.test", "192.0.2.4", NULL);
	host(r, "e.tiers.test", "192.0.2.5", NULL);
	host(r, "f.tiers.test", "192.0.2.6", NULL);
	host(r, "g.tiers.test", "192.0.2.7", NULL);
	host(r, "h.tiers.test", "192.0.2.8", NULL);
	host(r, "i.tiers.test", "192.0.2.9", NULL);
	for (seed = 5000; seed < 5000 + (uint64_t)runs; seed++) {
		struct mx_plan *pl = plan_with(r, NULL, NULL, seed);

		assert_int_equal(pl->ntiers, 3);
		for (t = 0; t < 3; t++) {
			char	k[8];

			assert_int_equal(pl->tiers[t].nhosts, size[t]);
			tier_key(pl, t, k);
			for (i = 0; i < nseen[t]; i++)
				if (strcmp(perms[t][i], k) == 0)
					break;
			if (i == nseen[t]) {
				assert_true(nseen[t] < nperms[t]);
				memcpy(perms[t][nseen[t]++], k, 5);
			}
			count[t][i]++;
			first[t][k[0] - "acg"[t]]++;
		}
		mx_plan_free(pl);
	}
	for (t = 0; t < 3; t++) {
		double	chi_first = 0, want = (double)runs / (double)size[t];

		if (nseen[t] != nperms[t])
			fail_msg("tier %zu: %zu of %zu host orders seen (first: %s)", t,
				 nseen[t], nperms[t], perms[t][0]);
		for (i = 0; i < size[t]; i++)
			chi_first += (first[t][i] - want) * (first[t][i] - want) / want;
		print_message("R2 tier %zu: chi2(%zu) = %.1f over first host\n", t,
			      size[t] - 1, chi_first);
		assert_true(chi_first < 25.0);
	}
	{
		double	chi = 0, want = runs / 24.0;

		for (i = 0; i < 24; i++)
			chi += (count[1][i] - want) * (count[1][i] - want) / want;
		print_message("R2 tier 1: chi2(23) = %.1f over 24 orders\n", chi);
		assert_true(chi < 60.0);
	}
	mx_dns_result_free(r);
}

/* --- R3 duplicates ------------------------------------------------------ */

static void
test_R3_duplicate_keeps_lowest_preference(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 30, "mx.example.test");
	mx(r, 20, "backup.example.test");
	mx(r, 10, "MX.example.test.");	/* same host, other spelling */
	host(r, "mx.example.test", "192.0.2.1", NULL);
	host(r, "backup.example.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->ntiers, 2);
	assert_int_equal(pl->tiers[0].pref, 10);
	assert_int_equal(pl->tiers[0].nhosts, 1);
	assert_string_equal(pl->tiers[0].hosts[0].name, "mx.example.test");
	assert_int_equal(pl->tiers[1].pref, 20);
	assert_int_equal(pl->tiers[1].nhosts, 1);	/* no tier 30 left */
	h = find_host(pl, "mx.example.test");
	assert_true(has_note(&h->notes, "also listed with preference 30"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R4 null MX --------------------------------------------------------- */

static void
test_R4_null_mx_is_permanent_5_1_10(void **state)
{
	struct mx_dns_result *r = result("nomail.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 0, "");
	host(r, "nomail.test", "192.0.2.9", NULL);	/* must never be used */
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_NULL_MX);
	assert_string_equal(pl->status, "5.1.10");
	assert_string_equal(mx_plan_result_name(pl->result), "null_mx");
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	assert_false(pl->implicit_mx);
	assert_int_equal(pl->ntiers, 1);
	assert_string_equal(pl->tiers[0].hosts[0].name, ".");
	assert_false(pl->tiers[0].hosts[0].usable);
	assert_int_equal(pl->tiers[0].hosts[0].naddrs, 0);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R4_null_mx_among_others_is_ignored(void **state)
{
	struct mx_dns_result *r = result("mixed.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 0, "");
	mx(r, 10, "mx.mixed.test");
	host(r, "mx.mixed.test", "192.0.2.1", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(pl->ntiers, 1);
	assert_string_equal(pl->tiers[0].hosts[0].name, "mx.mixed.test");
	assert_true(has_note(&pl->notes, "null MX"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R4_null_mx_written_as_dot(void **state)
{
	struct mx_dns_result *r = result("nomail.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 0, ".");				/* the root, as text */
	host(r, "nomail.test", "192.0.2.9", NULL);	/* must never be used */
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_NULL_MX);
	assert_string_equal(pl->status, "5.1.10");
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	mx_plan_free(pl);
	mx_dns_result_free(r);

	r = result("mixed.test", MX_DNS_OK);
	mx(r, 0, ".");
	mx(r, 10, "mx.mixed.test");
	host(r, "mx.mixed.test", "192.0.2.1", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(pl->ntiers, 1);
	assert_int_equal(pl->tiers[0].nhosts, 1);
	assert_string_equal(pl->tiers[0].hosts[0].name, "mx.mixed.test");
	assert_true(has_note(&pl->notes, "null MX"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R5 implicit MX ----------------------------------------------------- */

static void
test_R5_implicit_mx_uses_own_addresses(void **state)
{
	struct mx_dns_result *r = result("implicit.test", MX_DNS_NODATA);
	struct mx_plan *pl;

	(void)state;
	host(r, "implicit.test", "192.0.2.7", "2001:db8::7", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_true(pl->implicit_mx);
	assert_int_equal(pl->ntiers, 1);
	assert_int_equal(pl->tiers[0].pref, 0);
	assert_int_equal(pl->tiers[0].nhosts, 1);
	assert_string_equal(pl->tiers[0].hosts[0].name, "implicit.test");
	assert_int_equal(pl->tiers[0].hosts[0].naddrs, 2);
	assert_true(has_note(&pl->notes, "implicit MX"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R5_no_mx_no_address_is_permanent(void **state)
{
	struct mx_dns_result *r = result("empty.test", MX_DNS_NODATA);
	struct mx_plan *pl;

	(void)state;
	host(r, "empty.test", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_NO_MAIL_HOST);
	assert_string_equal(pl->status, "5.1.2");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R5_implicit_address_lookup_tempfail_defers(void **state)
{
	struct mx_dns_result *r = result("flaky.test", MX_DNS_NODATA);
	struct mx_dns_addrset *s;
	struct mx_plan *pl;

	(void)state;
	s = host(r, "flaky.test", NULL);
	s->a_status = MX_DNS_TIMEOUT;
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.4.3");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R5_domain_addresses_unused_when_mx_exists(void **state)
{
	struct mx_dns_result *r = result("both.test", MX_DNS_OK);
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx.both.test");
	host(r, "mx.both.test", "192.0.2.1", NULL);
	host(r, "both.test", "192.0.2.99", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_false(pl->implicit_mx);
	assert_null(find_host(pl, "both.test"));
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R6 lookup failures ------------------------------------------------- */

static void
test_R6_nxdomain_is_permanent_5_1_2(void **state)
{
	struct mx_dns_result *r = result("nowhere.test", MX_DNS_NXDOMAIN);
	struct mx_plan *pl;

	(void)state;
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_NXDOMAIN);
	assert_string_equal(pl->status, "5.1.2");
	assert_int_equal(pl->ntiers, 0);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R6_temporary_mx_failure_defers_without_a_fallback(void **state)
{
	static const enum mx_dns_status temp[] = {
		MX_DNS_SERVFAIL, MX_DNS_REFUSED, MX_DNS_TIMEOUT, MX_DNS_TRUNCATED,
		MX_DNS_MALFORMED, MX_DNS_CNAME_LOOP, MX_DNS_FAIL
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(temp) / sizeof(temp[0]); i++) {
		struct mx_dns_result *r = result("broken.test", temp[i]);
		struct mx_plan *pl;

		/* the domain has addresses, but a failed MX lookup must not use them */
		host(r, "broken.test", "192.0.2.5", NULL);
		pl = plan_with(r, NULL, NULL, 1);
		assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
		assert_string_equal(pl->status, "4.4.3");
		assert_false(pl->implicit_mx);
		assert_int_equal(mx_plan_usable_addresses(pl), 0);
		assert_non_null(strstr(pl->message, mx_dns_status_name(temp[i])));
		mx_plan_free(pl);
		mx_dns_result_free(r);
	}
}

static void
test_R6_all_exchanges_missing_is_permanent(void **state)
{
	struct mx_dns_result *r = result("dangling.test", MX_DNS_OK);
	struct mx_dns_addrset *s;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "gone.dangling.test");
	s = host(r, "gone.dangling.test", NULL);
	s->a_status = s->aaaa_status = MX_DNS_NXDOMAIN;
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_NO_MAIL_HOST);
	assert_int_equal(pl->status[0], '5');
	assert_true(has_note(&pl->tiers[0].hosts[0].notes, "NXDOMAIN"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R7 exchange names -------------------------------------------------- */

static struct mx_dns_result *
cname_world(void)
{
	struct mx_dns_result *r = result("alias.test", MX_DNS_OK);
	struct mx_dns_addrset *s;

	mx(r, 10, "mail.alias.test");
	mx(r, 20, "backup.alias.test");
	s = host(r, "mail.alias.test", "192.0.2.10", NULL);
	snprintf(s->canonical, sizeof(s->canonical), "real.alias.test");
	host(r, "backup.alias.test", "192.0.2.20", NULL);
	return r;
}

static void
test_R7_cname_exchange_followed_when_lenient(void **state)
{
	struct mx_dns_result *r = cname_world();
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "mail.alias.test");
	assert_true(h->usable);
	assert_string_equal(h->canonical, "real.alias.test");
	assert_true(has_note(&h->notes, "CNAME"));
	assert_true(has_note(&h->notes, "lenient"));
	assert_string_equal(pl->tiers[0].hosts[0].name, "mail.alias.test");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_cname_exchange_unusable_when_strict(void **state)
{
	struct mx_dns_result *r = cname_world();
	const struct mx_plan_host *h;
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx_policy_defaults(&p);
	p.cname_targets = MX_CNAME_STRICT;
	pl = plan_with(r, &p, NULL, 1);
	h = find_host(pl, "mail.alias.test");
	assert_false(h->usable);
	assert_true(has_note(&h->notes, "strict"));
	assert_int_equal(pl->result, MX_PLAN_OK);		/* backup still there */
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_ip_literal_exchange_unusable(void **state)
{
	struct mx_dns_result *r = result("literal.test", MX_DNS_OK);
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "192.0.2.1");
	mx(r, 20, "mx.literal.test");
	host(r, "mx.literal.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "192.0.2.1");
	assert_non_null(h);
	assert_false(h->usable);
	assert_true(has_note(&h->notes, "IP address"));
	assert_int_equal(pl->result, MX_PLAN_OK);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_invalid_exchange_name_unusable(void **state)
{
	struct mx_dns_result *r = result("badname.test", MX_DNS_OK);
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx_1.badname.test");		/* underscore: not a host name */
	mx(r, 20, "mx2.badname.test");
	host(r, "mx_1.badname.test", "192.0.2.1", NULL);
	host(r, "mx2.badname.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "mx_1.badname.test");
	assert_non_null(h);
	assert_false(h->usable);
	assert_true(has_note(&h->notes, "not a valid host name"));
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_unresolvable_exchange_noted(void **state)
{
	struct mx_dns_result *r = result("partial.test", MX_DNS_OK);
	struct mx_dns_addrset *s;
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "gone.partial.test");
	mx(r, 10, "slow.partial.test");
	mx(r, 20, "ok.partial.test");
	s = host(r, "gone.partial.test", NULL);
	s->a_status = s->aaaa_status = MX_DNS_NXDOMAIN;
	s = host(r, "slow.partial.test", NULL);
	s->a_status = MX_DNS_TIMEOUT;
	host(r, "ok.partial.test", "192.0.2.3", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	h = find_host(pl, "gone.partial.test");
	assert_false(h->usable);
	assert_int_equal(h->why_unusable, MX_UNUSABLE_PERM);
	h = find_host(pl, "slow.partial.test");
	assert_false(h->usable);
	assert_int_equal(h->why_unusable, MX_UNUSABLE_TEMP);
	assert_true(has_note(&h->notes, "timeout"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_all_hosts_temporarily_unresolved_defers(void **state)
{
	struct mx_dns_result *r = result("dnsdown.test", MX_DNS_OK);
	struct mx_dns_addrset *s;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "a.dnsdown.test");
	mx(r, 20, "b.dnsdown.test");
	s = host(r, "a.dnsdown.test", NULL);
	s->a_status = s->aaaa_status = MX_DNS_SERVFAIL;
	s = host(r, "b.dnsdown.test", NULL);
	s->a_status = MX_DNS_TIMEOUT;
	s->aaaa_status = MX_DNS_NODATA;
	pl = plan_with(r, NULL, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.4.3");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_partial_address_failure_still_usable_with_note(void **state)
{
	struct mx_dns_result *r = result("half.test", MX_DNS_OK);
	struct mx_dns_addrset *s;
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx.half.test");
	s = host(r, "mx.half.test", "192.0.2.1", NULL);
	s->aaaa_status = MX_DNS_SERVFAIL;
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "mx.half.test");
	assert_true(h->usable);
	assert_true(has_note(&h->notes, "AAAA servfail"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_ip_literal_exchange_unusable_even_if_resolved(void **state)
{
	struct mx_dns_result *r = result("literal.test", MX_DNS_OK);
	const struct mx_plan_host *h;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "192.0.2.1");
	mx(r, 20, "mx.literal.test");
	host(r, "192.0.2.1", "192.0.2.1", NULL);	/* a resolver that "resolves" literals */
	host(r, "mx.literal.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "192.0.2.1");
	assert_non_null(h);
	assert_false(h->usable);
	assert_int_equal(h->why_unusable, MX_UNUSABLE_PERM);
	assert_true(has_note(&h->notes, "IP address"));
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R7_mixed_temporary_and_permanent_failures_defer(void **state)
{
	struct mx_dns_result *r = result("mixed.test", MX_DNS_OK);
	struct mx_dns_addrset *s;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "gone.mixed.test");
	mx(r, 20, "slow.mixed.test");
	s = host(r, "gone.mixed.test", NULL);
	s->a_status = s->aaaa_status = MX_DNS_NXDOMAIN;
	s = host(r, "slow.mixed.test", NULL);
	s->a_status = s->aaaa_status = MX_DNS_SERVFAIL;
	pl = plan_with(r, NULL, NULL, 1);
	/* the host that failed temporarily may resolve later: do not bounce */
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.4.3");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R8 addresses ------------------------------------------------------- */

static struct mx_dns_result *
multi_addr(void)
{
	struct mx_dns_result *r = result("addr.test", MX_DNS_OK);

	mx(r, 10, "mx.addr.test");
	host(r, "mx.addr.test", "192.0.2.3", "192.0.2.1", "192.0.2.2",
	     "2001:db8::2", "2001:db8::1", NULL);
	return r;
}

static void
test_R8_dns_order_kept(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_plan *pl;
	uint64_t seed;

	(void)state;
	for (seed = 0; seed < 20; seed++) {
		const struct mx_plan_host *h;

		pl = plan_with(r, NULL, NULL, seed);
		h = &pl->tiers[0].hosts[0];
		assert_int_equal(h->naddrs, 5);
		assert_string_equal(h->addrs[0].text, "192.0.2.3");
		assert_string_equal(h->addrs[1].text, "192.0.2.1");
		assert_string_equal(h->addrs[2].text, "192.0.2.2");
		assert_string_equal(h->addrs[3].text, "2001:db8::2");
		assert_string_equal(h->addrs[4].text, "2001:db8::1");
		mx_plan_free(pl);
	}
	mx_dns_result_free(r);
}

static void
test_R8_randomize_addresses_shuffles(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_policy p;
	uint64_t seed;
	int	moved = 0;

	(void)state;
	mx_policy_defaults(&p);
	p.randomize_addresses = true;
	for (seed = 0; seed < 40; seed++) {
		struct mx_plan *pl = plan_with(r, &p, NULL, seed);

		assert_int_equal(pl->tiers[0].hosts[0].naddrs, 5);
		if (strcmp(pl->tiers[0].hosts[0].addrs[0].text, "192.0.2.3") != 0)
			moved++;
		mx_plan_free(pl);
	}
	assert_true(moved > 15);
	mx_dns_result_free(r);
}

static void
test_R8_address_preference_orders_families(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx_policy_defaults(&p);
	p.address_preference = MX_ADDRPREF_IPV6;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_string_equal(h->addrs[0].text, "2001:db8::2");
	assert_string_equal(h->addrs[1].text, "2001:db8::1");
	assert_string_equal(h->addrs[2].text, "192.0.2.3");
	mx_plan_free(pl);

	p.address_preference = MX_ADDRPREF_IPV4;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_string_equal(h->addrs[0].text, "192.0.2.3");
	assert_string_equal(h->addrs[3].text, "2001:db8::2");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R8_disabled_family_dropped(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;
	size_t	i;

	(void)state;
	mx_policy_defaults(&p);
	p.inet_protocols = MX_INET_IPV4;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_int_equal(mx_plan_usable_addresses(pl), 3);
	for (i = 0; i < h->naddrs; i++)
		if (h->addrs[i].ip.family == AF_INET6) {
			assert_false(h->addrs[i].usable);
			assert_true(has_note(&h->addrs[i].notes, "inet_protocols"));
		} else
			assert_true(h->addrs[i].usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R8_ignore_networks_default(void **state)
{
	struct mx_dns_result *r = result("lo.test", MX_DNS_OK);
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx(r, 10, "mx.lo.test");
	mx(r, 20, "zero.lo.test");
	host(r, "mx.lo.test", "127.0.0.1", "::1", "192.0.2.1", NULL);
	host(r, "zero.lo.test", "0.0.0.0", "::", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "mx.lo.test");
	assert_true(h->usable);
	assert_string_equal(h->addrs[0].text, "192.0.2.1");	/* usable first */
	assert_true(h->addrs[0].usable);
	assert_false(h->addrs[1].usable);
	assert_true(has_note(&h->addrs[1].notes, "127.0.0.0/8"));
	assert_false(h->addrs[2].usable);
	assert_true(has_note(&h->addrs[2].notes, "::1/128"));
	h = find_host(pl, "zero.lo.test");
	assert_false(h->usable);
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R8_ignore_networks_custom(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_cidr nets[1];
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx_policy_defaults(&p);
	assert_true(mx_cidr_parse("192.0.2.0/30", &nets[0]));	/* .0-.3 */
	p.ignore_networks = nets;
	p.nignore_networks = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(mx_plan_usable_addresses(pl), 2);
	assert_string_equal(pl->tiers[0].hosts[0].addrs[0].text, "2001:db8::2");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R8_inet_protocols_ipv6_only(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;
	size_t	i;

	(void)state;
	mx_policy_defaults(&p);
	p.inet_protocols = MX_INET_IPV6;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_int_equal(mx_plan_usable_addresses(pl), 2);
	assert_string_equal(h->addrs[0].text, "2001:db8::2");
	for (i = 0; i < h->naddrs; i++)
		if (h->addrs[i].ip.family == AF_INET) {
			assert_false(h->addrs[i].usable);
			assert_true(has_note(&h->addrs[i].notes, "inet_protocols"));
		} else
			assert_true(h->addrs[i].usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R8_address_preference_keeps_other_family(void **state)
{
	struct mx_dns_result *r = multi_addr();
	struct mx_policy p;
	struct mx_plan *pl;
	size_t	i;

	(void)state;
	mx_policy_defaults(&p);
	p.address_preference = MX_ADDRPREF_IPV6;	/* orders, does not disable */
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(mx_plan_usable_addresses(pl), 5);
	for (i = 0; i < pl->tiers[0].hosts[0].naddrs; i++)
		assert_true(pl->tiers[0].hosts[0].addrs[i].usable);
	mx_plan_free(pl);

	p.address_preference = MX_ADDRPREF_IPV4;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(mx_plan_usable_addresses(pl), 5);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/*
 * R8: an IPv4-mapped IPv6 address (::ffff:0:0/96) is judged as the IPv4
 * address it carries: a connect to ::ffff:127.0.0.1 reaches the IPv4
 * loopback, so ignore_networks must see 127.0.0.1.
 */
static void
test_R8_v4mapped_judged_as_ipv4_by_ignore_networks(void **state)
{
	struct mx_dns_result *r = result("map.test", MX_DNS_OK);
	struct mx_cidr nets[2];
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx(r, 10, "lo.map.test");
	mx(r, 20, "zero.map.test");
	mx(r, 30, "ok.map.test");
	host(r, "lo.map.test", "::ffff:127.0.0.1", NULL);
	host(r, "zero.map.test", "::ffff:0.0.0.1", NULL);
	host(r, "ok.map.test", "::ffff:192.0.2.1", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = find_host(pl, "lo.map.test");
	assert_false(h->usable);
	assert_false(h->addrs[0].usable);
	assert_true(has_note(&h->addrs[0].notes, "127.0.0.0/8"));
	assert_true(has_note(&h->addrs[0].notes, "IPv4-mapped"));
	h = find_host(pl, "zero.map.test");
	assert_false(h->usable);
	assert_true(has_note(&h->addrs[0].notes, "0.0.0.0/8"));
	h = find_host(pl, "ok.map.test");
	assert_true(h->usable);
	assert_true(h->addrs[0].usable);
	assert_true(has_note(&h->addrs[0].notes, "IPv4-mapped IPv6 address: judged as 192.0.2.1"));
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_non_null(strstr(pl->message, "first try ok.map.test[::ffff:192.0.2.1]"));
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);

	/* an IPv4 network catches the mapped form; a network written mapped still matches */
	mx_policy_defaults(&p);
	assert_true(mx_cidr_parse("192.0.2.0/24", &nets[0]));
	p.ignore_networks = nets;
	p.nignore_networks = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_false(find_host(pl, "ok.map.test")->usable);
	assert_true(has_note(&find_host(pl, "ok.map.test")->addrs[0].notes, "192.0.2.0/24"));
	assert_true(find_host(pl, "lo.map.test")->usable);	/* 127/8 not ignored here */
	mx_plan_free(pl);
	assert_true(mx_cidr_parse("::ffff:192.0.2.0/120", &nets[1]));
	p.ignore_networks = &nets[1];
	pl = plan_with(r, &p, NULL, 1);
	assert_false(find_host(pl, "ok.map.test")->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* R8: the family rules see the IPv4 address a mapped one carries */
static void
test_R8_v4mapped_family_is_ipv4(void **state)
{
	struct mx_dns_result *r = result("map.test", MX_DNS_OK);
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx(r, 10, "mx.map.test");
	host(r, "mx.map.test", "2001:db8::1", "::ffff:192.0.2.1", NULL);
	mx_policy_defaults(&p);
	p.address_preference = MX_ADDRPREF_IPV4;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_string_equal(h->addrs[0].text, "::ffff:192.0.2.1");
	assert_string_equal(h->addrs[1].text, "2001:db8::1");
	mx_plan_free(pl);

	p.address_preference = MX_ADDRPREF_IPV6;
	pl = plan_with(r, &p, NULL, 1);
	assert_string_equal(pl->tiers[0].hosts[0].addrs[0].text, "2001:db8::1");
	mx_plan_free(pl);

	/* IPv4 disabled: a mapped address would still travel as IPv4 */
	mx_policy_defaults(&p);
	p.inet_protocols = MX_INET_IPV6;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_string_equal(h->addrs[0].text, "2001:db8::1");
	assert_true(h->addrs[0].usable);
	assert_false(h->addrs[1].usable);
	assert_true(has_note(&h->addrs[1].notes, "IPv4 is disabled (inet_protocols = ipv6)"));
	mx_plan_free(pl);

	p.inet_protocols = MX_INET_IPV4;
	pl = plan_with(r, &p, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_string_equal(h->addrs[0].text, "::ffff:192.0.2.1");
	assert_true(h->addrs[0].usable);
	assert_false(h->addrs[1].usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* R8: a mapped AAAA that repeats one of the host's A records is not tried twice */
static void
test_R8_v4mapped_duplicate_of_a_record(void **state)
{
	struct mx_dns_result *r = result("map.test", MX_DNS_OK);
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx(r, 10, "mx.map.test");
	host(r, "mx.map.test", "::ffff:192.0.2.1", "192.0.2.1", "::ffff:192.0.2.2", NULL);
	pl = plan_with(r, NULL, NULL, 1);
	h = &pl->tiers[0].hosts[0];
	assert_int_equal(mx_plan_usable_addresses(pl), 2);
	assert_string_equal(h->addrs[0].text, "192.0.2.1");
	assert_string_equal(h->addrs[1].text, "::ffff:192.0.2.2");
	assert_string_equal(h->addrs[2].text, "::ffff:192.0.2.1");
	assert_false(h->addrs[2].usable);
	assert_true(has_note(&h->addrs[2].notes, "same IPv4 address as 192.0.2.1"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R9 local host ------------------------------------------------------ */

static struct mx_dns_result *
three_tiers(void)
{
	struct mx_dns_result *r = result("self.test", MX_DNS_OK);

	mx(r, 10, "primary.self.test");
	mx(r, 20, "me.self.test");
	mx(r, 20, "peer.self.test");
	mx(r, 30, "last.self.test");
	host(r, "primary.self.test", "192.0.2.1", NULL);
	host(r, "me.self.test", "198.51.100.7", NULL);
	host(r, "peer.self.test", "192.0.2.2", NULL);
	host(r, "last.self.test", "192.0.2.3", NULL);
	return r;
}

static void
test_R9_local_name_drops_self_and_worse(void **state)
{
	struct mx_dns_result *r = three_tiers();
	char   *names[] = { "me.self.test" };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx_policy_defaults(&p);
	p.local_names = names;
	p.nlocal_names = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_true(find_host(pl, "primary.self.test")->usable);
	assert_false(find_host(pl, "me.self.test")->usable);
	assert_false(find_host(pl, "me.self.test")->addrs[0].usable);	/* nor its address */
	assert_false(find_host(pl, "last.self.test")->addrs[0].usable);
	assert_true(has_note(&find_host(pl, "me.self.test")->notes, "this host is me"));
	assert_false(find_host(pl, "peer.self.test")->usable);	/* same preference */
	assert_false(find_host(pl, "last.self.test")->usable);	/* worse preference */
	assert_true(has_note(&find_host(pl, "last.self.test")->notes, "RFC 5321 5.1"));
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R9_local_address_and_interface(void **state)
{
	struct mx_dns_result *r = three_tiers();
	struct mx_cidr local[1];
	struct mx_ip ifaddr;
	struct mx_plan_env env = { &ifaddr, 1, NULL };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx_policy_defaults(&p);
	assert_true(mx_cidr_parse("198.51.100.0/24", &local[0]));
	p.local_addresses = local;
	p.nlocal_addresses = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_false(find_host(pl, "me.self.test")->usable);
	assert_true(has_note(&find_host(pl, "me.self.test")->notes, "local_addresses"));
	mx_plan_free(pl);

	/* an interface address matches exactly */
	mx_policy_defaults(&p);
	assert_true(mx_ip_parse("198.51.100.7", &ifaddr));
	pl = plan_with(r, &p, &env, 1);
	assert_false(find_host(pl, "me.self.test")->usable);
	assert_true(has_note(&find_host(pl, "me.self.test")->notes, "local interface"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R9_interface_network_is_not_local(void **state)
{
	struct mx_dns_result *r = result("lo2.test", MX_DNS_OK);
	struct mx_ip ifaddr;
	struct mx_plan_env env = { &ifaddr, 1, NULL };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx.lo2.test");
	host(r, "mx.lo2.test", "127.0.0.2", NULL);
	assert_true(mx_ip_parse("127.0.0.1", &ifaddr));	/* lo has 127.0.0.1/8 */
	mx_policy_defaults(&p);
	p.nignore_networks = 0;				/* allow loopback test peers */
	pl = plan_with(r, &p, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_true(find_host(pl, "mx.lo2.test")->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R9_best_mx_is_me_loops(void **state)
{
	struct mx_dns_result *r = three_tiers();
	char   *names[] = { "PRIMARY.self.test" };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx_policy_defaults(&p);
	p.local_names = names;
	p.nlocal_names = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_LOOP);
	assert_string_equal(pl->status, "4.4.6");
	assert_non_null(strstr(pl->message, "mail for self.test loops back to myself"));
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	mx_plan_free(pl);

	p.loop_action = MX_LOOP_BOUNCE;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_LOOP);
	assert_string_equal(pl->status, "5.4.6");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R9_local_address_not_listed_first(void **state)
{
	struct mx_dns_result *r = result("multi.test", MX_DNS_OK);
	struct mx_cidr local[1];
	struct mx_ip ifaddr;
	struct mx_plan_env env = { &ifaddr, 1, NULL };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "primary.multi.test");
	mx(r, 20, "me.multi.test");
	mx(r, 30, "last.multi.test");
	host(r, "primary.multi.test", "192.0.2.1", NULL);
	host(r, "me.multi.test", "192.0.2.50", "198.51.100.7", NULL);	/* local one second */
	host(r, "last.multi.test", "192.0.2.3", NULL);

	mx_policy_defaults(&p);
	assert_true(mx_cidr_parse("198.51.100.7/32", &local[0]));
	p.local_addresses = local;
	p.nlocal_addresses = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_false(find_host(pl, "me.multi.test")->usable);
	assert_true(has_note(&find_host(pl, "me.multi.test")->notes, "local_addresses"));
	assert_false(find_host(pl, "last.multi.test")->usable);
	mx_plan_free(pl);

	mx_policy_defaults(&p);
	assert_true(mx_ip_parse("198.51.100.7", &ifaddr));
	pl = plan_with(r, &p, &env, 1);
	assert_false(find_host(pl, "me.multi.test")->usable);
	assert_true(has_note(&find_host(pl, "me.multi.test")->notes, "local interface"));
	assert_false(find_host(pl, "last.multi.test")->usable);
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R9_ignored_interface_address_is_still_local(void **state)
{
	struct mx_dns_result *r = result("lo3.test", MX_DNS_OK);
	struct mx_ip ifaddr;
	struct mx_plan_env env = { &ifaddr, 1, NULL };
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx.lo3.test");
	mx(r, 20, "backup.lo3.test");
	host(r, "mx.lo3.test", "127.0.0.1", NULL);	/* in ignore_networks, but on lo */
	host(r, "backup.lo3.test", "192.0.2.1", NULL);
	assert_true(mx_ip_parse("127.0.0.1", &ifaddr));
	pl = plan_with(r, NULL, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_LOOP);
	assert_string_equal(pl->status, "4.4.6");
	assert_false(find_host(pl, "backup.lo3.test")->usable);
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* R9: a mapped address is matched as IPv4 against interfaces and local_addresses */
static void
test_R9_v4mapped_local_host(void **state)
{
	struct mx_dns_result *r = result("map.test", MX_DNS_OK);
	struct mx_cidr local[1];
	struct mx_ip ifaddr;
	struct mx_plan_env env = { &ifaddr, 1, NULL };
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "primary.map.test");
	mx(r, 20, "me.map.test");
	mx(r, 30, "last.map.test");
	host(r, "primary.map.test", "192.0.2.1", NULL);
	host(r, "me.map.test", "::ffff:127.0.0.1", "::ffff:198.51.100.7", NULL);
	host(r, "last.map.test", "192.0.2.3", NULL);

	assert_true(mx_ip_parse("127.0.0.1", &ifaddr));		/* lo */
	pl = plan_with(r, NULL, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_true(has_note(&find_host(pl, "me.map.test")->notes, "this host is me"));
	assert_true(has_note(&find_host(pl, "me.map.test")->notes, "local interface"));
	assert_false(find_host(pl, "last.map.test")->usable);
	assert_int_equal(mx_plan_usable_addresses(pl), 1);
	mx_plan_free(pl);

	mx_policy_defaults(&p);
	assert_true(mx_cidr_parse("198.51.100.0/24", &local[0]));
	p.local_addresses = local;
	p.nlocal_addresses = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_true(has_note(&find_host(pl, "me.map.test")->notes, "local_addresses"));
	assert_false(find_host(pl, "last.map.test")->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);

	/* the best MX at ::ffff:127.0.0.1 on a machine with 127.0.0.1 is a loop */
	r = result("maploop.test", MX_DNS_OK);
	mx(r, 10, "mx.maploop.test");
	mx(r, 20, "backup.maploop.test");
	host(r, "mx.maploop.test", "::ffff:127.0.0.1", NULL);
	host(r, "backup.maploop.test", "192.0.2.1", NULL);
	pl = plan_with(r, NULL, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_LOOP);
	assert_string_equal(pl->status, "4.4.6");
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* backup_world - primary (set up by the caller), this host at 20, a worse host at 30 */
static struct mx_dns_result *
backup_world(void)
{
	struct mx_dns_result *r = result("self.test", MX_DNS_OK);

	mx(r, 10, "primary.self.test");
	mx(r, 20, "me.self.test");
	mx(r, 30, "last.self.test");
	host(r, "me.self.test", "198.51.100.7", NULL);
	host(r, "last.self.test", "192.0.2.3", NULL);
	return r;
}

/* check_no_primary - this backup found no usable better host: defer 4.4.4, as Postfix */
static void
check_no_primary(const struct mx_dns_result *r)
{
	char   *names[] = { "me.self.test" };
	struct mx_policy p;
	struct mx_plan *pl;

	mx_policy_defaults(&p);
	p.local_names = names;
	p.nlocal_names = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.4.4");
	assert_non_null(strstr(pl->message, "unable to find primary relay for self.test"));
	assert_non_null(strstr(pl->message, "me.self.test"));	/* names the local host */
	assert_int_equal(mx_plan_usable_addresses(pl), 0);
	assert_false(find_host(pl, "last.self.test")->usable);
	mx_plan_free(pl);

	p.loop_action = MX_LOOP_BOUNCE;		/* not a loop: never bounces */
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.4.4");
	mx_plan_free(pl);
}

/*
 * R9: when this host is a backup MX and no better host is usable, the mail
 * waits for the primary (4.4.4 "unable to find primary relay", Postfix's
 * smtp_addr.c) instead of bouncing; only usable hosts count as better.
 */
static void
test_R9_backup_without_usable_primary_defers_4_4_4(void **state)
{
	struct mx_dns_result *r;
	struct mx_dns_addrset *s;

	(void)state;
	/* the primary's name does not exist */
	r = backup_world();
	s = host(r, "primary.self.test", NULL);
	s->a_status = MX_DNS_NXDOMAIN;
	s->aaaa_status = MX_DNS_NXDOMAIN;
	check_no_primary(r);
	mx_dns_result_free(r);

	/* the primary has only ignored addresses, one of them IPv4-mapped */
	r = backup_world();
	host(r, "primary.self.test", "127.0.0.5", "::ffff:127.0.0.6", NULL);
	check_no_primary(r);
	mx_dns_result_free(r);

	/* the primary has no address records at all */
	r = backup_world();
	host(r, "primary.self.test", NULL);
	check_no_primary(r);
	mx_dns_result_free(r);

	/* the primary's lookup failed temporarily */
	r = backup_world();
	s = host(r, "primary.self.test", NULL);
	s->a_status = MX_DNS_SERVFAIL;
	s->aaaa_status = MX_DNS_TIMEOUT;
	check_no_primary(r);
	mx_dns_result_free(r);
}

/* R9: with no better host listed at all it stays a loop, whatever else is at its level */
static void
test_R9_nothing_better_listed_is_still_a_loop(void **state)
{
	struct mx_dns_result *r = result("self.test", MX_DNS_OK);
	char   *names[] = { "me.self.test" };
	struct mx_dns_addrset *s;
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "me.self.test");
	mx(r, 10, "peer.self.test");
	mx(r, 20, "backup.self.test");
	host(r, "me.self.test", "198.51.100.7", NULL);
	s = host(r, "peer.self.test", NULL);
	s->a_status = MX_DNS_NXDOMAIN;
	s->aaaa_status = MX_DNS_NXDOMAIN;
	host(r, "backup.self.test", "192.0.2.3", NULL);
	mx_policy_defaults(&p);
	p.local_names = names;
	p.nlocal_names = 1;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_LOOP);
	assert_string_equal(pl->status, "4.4.6");
	assert_non_null(strstr(pl->message, "mail for self.test loops back to myself"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- R10 limits --------------------------------------------------------- */

static void
test_R10_max_addresses(void **state)
{
	struct mx_dns_result *r = result("many.test", MX_DNS_OK);
	struct mx_policy p;
	struct mx_plan *pl;
	const struct mx_plan_host *h;

	(void)state;
	mx(r, 10, "a.many.test");
	mx(r, 20, "b.many.test");
	mx(r, 30, "c.many.test");
	host(r, "a.many.test", "192.0.2.1", "192.0.2.2", "192.0.2.3", NULL);
	host(r, "b.many.test", "192.0.2.4", "192.0.2.5", "192.0.2.6", NULL);
	host(r, "c.many.test", "192.0.2.7", NULL);
	pl = plan_with(r, NULL, NULL, 1);		/* default 5 */
	assert_int_equal(mx_plan_usable_addresses(pl), 5);
	h = find_host(pl, "b.many.test");
	assert_true(h->usable);
	assert_false(h->addrs[2].usable);
	assert_true(has_note(&h->addrs[2].notes, "max_addresses"));
	assert_false(find_host(pl, "c.many.test")->usable);
	mx_plan_free(pl);

	mx_policy_defaults(&p);
	p.max_addresses = 2;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(mx_plan_usable_addresses(pl), 2);
	assert_false(find_host(pl, "b.many.test")->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R10_mx_records_capped_keeping_best(void **state)
{
	struct mx_dns_result *r = result("huge.test", MX_DNS_OK);
	struct mx_policy p;
	struct mx_plan *pl;
	char	name[64];
	int	i;

	(void)state;
	for (i = 300; i > 0; i--) {	/* worst preference first in the answer */
		snprintf(name, sizeof(name), "mx%d.huge.test", i);
		mx(r, (uint16_t)i, name);
		host(r, name, "192.0.2.1", NULL);
	}
	r->mx_answered = 300;
	mx_policy_defaults(&p);
	p.max_mx_records = 100;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(pl->ntiers, 100);
	assert_int_equal(pl->tiers[0].pref, 1);
	assert_int_equal(pl->tiers[99].pref, 100);
	assert_true(has_note(&pl->notes, "max_mx_records"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R10_max_mx_records_custom_cap(void **state)
{
	struct mx_dns_result *r = result("five.test", MX_DNS_OK);
	struct mx_policy p;
	struct mx_plan *pl;
	char	name[64];
	int	i;

	(void)state;
	for (i = 5; i > 0; i--) {	/* worst preference first in the answer */
		snprintf(name, sizeof(name), "mx%d.five.test", i);
		mx(r, (uint16_t)i, name);
		host(r, name, "192.0.2.1", NULL);
	}
	mx_policy_defaults(&p);
	p.max_mx_records = 3;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_int_equal(pl->ntiers, 3);
	assert_int_equal(pl->tiers[0].pref, 1);
	assert_int_equal(pl->tiers[2].pref, 3);
	assert_true(has_note(&pl->notes, "max_mx_records"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R10_mx_records_capped_by_default(void **state)
{
	struct mx_dns_result *r = result("huge.test", MX_DNS_OK);
	struct mx_plan *pl;
	char	name[64];
	int	i;

	(void)state;
	for (i = MX_MAX_MX_DEFAULT + 5; i > 0; i--) {
		snprintf(name, sizeof(name), "mx%d.huge.test", i);
		mx(r, (uint16_t)i, name);
		host(r, name, "192.0.2.1", NULL);
	}
	pl = plan_with(r, NULL, NULL, 1);		/* default policy */
	assert_int_equal(pl->ntiers, MX_MAX_MX_DEFAULT);
	assert_int_equal(pl->tiers[0].pref, 1);
	assert_true(has_note(&pl->notes, "max_mx_records"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R10_unusable_addresses_do_not_count(void **state)
{
	struct mx_dns_result *r = result("few.test", MX_DNS_OK);
	struct mx_policy p;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "a.few.test");
	mx(r, 20, "b.few.test");
	host(r, "a.few.test", "127.0.0.1", "192.0.2.1", "192.0.2.2", NULL);	/* 127/8 ignored */
	host(r, "b.few.test", "192.0.2.3", NULL);
	mx_policy_defaults(&p);
	p.max_addresses = 3;
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(mx_plan_usable_addresses(pl), 3);	/* three are tried */
	assert_true(find_host(pl, "b.few.test")->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* --- plan output helpers ------------------------------------------------- */

static void
test_plan_result_names(void **state)
{
	(void)state;
	assert_string_equal(mx_plan_result_name(MX_PLAN_OK), "ok");
	assert_string_equal(mx_plan_result_name(MX_PLAN_NULL_MX), "null_mx");
	assert_string_equal(mx_plan_result_name(MX_PLAN_NXDOMAIN), "nxdomain");
	assert_string_equal(mx_plan_result_name(MX_PLAN_NO_MAIL_HOST), "no_mail_host");
	assert_string_equal(mx_plan_result_name(MX_PLAN_TEMPFAIL), "tempfail");
	assert_string_equal(mx_plan_result_name(MX_PLAN_LOOP), "loop");
}

/* --- R15-R17 TLS ------------------------------------------------------ */

/* secure_host - a host whose address answers were DNSSEC-validated, TLSA as given */
static struct mx_dns_addrset *
secure_host(struct mx_dns_result *r, const char *name, const char *ip,
	    enum mx_dns_status tlsa_status, int usage)
{
	struct mx_dns_addrset *s = host(r, name, ip, NULL);
	unsigned char digest[32];

	s->a_secure = true;
	s->aaaa_secure = true;
	s->tlsa_status = tlsa_status;
	s->tlsa_secure = true;
	memset(digest, 0xab, sizeof(digest));
	if (tlsa_status == MX_DNS_OK)
		assert_true(mx_dns_addrset_add_tlsa(s, (uint8_t)usage, 1, 1, digest,
						    sizeof(digest)));
	return s;
}

/* secure_result - MX answer validated by a trusted resolver */
static struct mx_dns_result *
secure_result(void)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);

	r->dnssec_trusted = true;
	r->mx_secure = true;
	mx(r, 10, "mx1.example.test");
	mx(r, 20, "mx2.example.test");
	return r;
}

/* policy_at - the default policy at a TLS level */
static struct mx_policy
policy_at(enum mx_tls_level level)
{
	struct mx_policy p;

	mx_policy_defaults(&p);
	p.tls_level = level;
	return p;
}

static void
test_R15_level_gives_every_host_its_policy(void **state)
{
	static const struct { enum mx_tls_level level; const char *name; } cases[] = {
		{ MX_TLS_NONE, "none" }, { MX_TLS_MAY, "may" }, { MX_TLS_ENCRYPT, "encrypt" },
		{ MX_TLS_VERIFY, "verify" }, { MX_TLS_SECURE, "secure" },
		{ MX_TLS_DANE, "may" },	/* no DNSSEC: dane falls back to may */
	};
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	size_t	i;

	(void)state;
	mx(r, 10, "mx1.example.test");
	host(r, "mx1.example.test", "192.0.2.1", NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_policy p = policy_at(cases[i].level);
		struct mx_plan *pl = plan_with(r, &p, NULL, 1);

		assert_int_equal(pl->result, MX_PLAN_OK);
		assert_string_equal(mx_host_tls_name(pl->tiers[0].hosts[0].tls), cases[i].name);
		assert_false(pl->dnssec);
		mx_plan_free(pl);
	}
	mx_dns_result_free(r);
}

static void
test_R16_dane_with_usable_tlsa_authenticates(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy p = policy_at(MX_TLS_DANE);
	const struct mx_plan_host *h1, *h2;
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_OK, 3);
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_NODATA, 0);
	pl = plan_with(r, &p, NULL, 1);
	assert_true(pl->dnssec);
	h1 = find_host(pl, "mx1.example.test");
	h2 = find_host(pl, "mx2.example.test");
	assert_int_equal(h1->tls, MX_HOST_TLS_DANE);
	assert_int_equal(h1->ntlsa, 1);
	assert_int_equal(h1->tlsa[0].usage, 3);
	assert_int_equal(h1->tlsa[0].data[0], 0xab);
	assert_true(h1->usable);
	/* no TLSA records: dane falls back to may */
	assert_int_equal(h2->tls, MX_HOST_TLS_MAY);
	assert_true(h2->usable);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R16_unusable_tlsa_records_still_require_tls(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy p = policy_at(MX_TLS_DANE);
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_OK, 1);	/* PKIX-EE: not for SMTP */
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_NODATA, 0);
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(find_host(pl, "mx1.example.test")->tls, MX_HOST_TLS_ENCRYPT);
	assert_int_equal(find_host(pl, "mx1.example.test")->ntlsa, 0);
	assert_true(has_note(&find_host(pl, "mx1.example.test")->notes, "none usable"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R16_tlsa_lookup_failure_rules_the_host_out(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy p = policy_at(MX_TLS_DANE);
	const struct mx_plan_host *h1;
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_SERVFAIL, 0);
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_OK, 2);
	pl = plan_with(r, &p, NULL, 1);
	h1 = find_host(pl, "mx1.example.test");
	assert_false(h1->usable);
	assert_int_equal(h1->why_unusable, MX_UNUSABLE_TEMP);
	assert_true(h1->tls_blocked);
	assert_string_equal(h1->tls_failure, "tlsa-invalid");
	assert_true(has_note(&h1->notes, "TLSA lookup failed"));
	assert_int_equal(pl->result, MX_PLAN_OK);	/* mx2 is still there */
	assert_int_equal(find_host(pl, "mx2.example.test")->tls, MX_HOST_TLS_DANE);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R16_dane_only_without_tlsa_defers_4_7_5(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy p = policy_at(MX_TLS_DANE_ONLY);
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_NODATA, 0);
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_NXDOMAIN, 0);
	pl = plan_with(r, &p, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.7.5");
	assert_non_null(strstr(pl->message, "dane-required"));
	assert_string_equal(find_host(pl, "mx1.example.test")->tls_failure, "dane-required");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R16_insecure_or_untrusted_answers_never_use_tlsa(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy dane = policy_at(MX_TLS_DANE), only = policy_at(MX_TLS_DANE_ONLY);
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_OK, 3);
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_OK, 3);
	mx_dns_result_find_set(r, "mx2.example.test")->a_secure = false;
	/* the address answer of mx2 was not validated: its TLSA records do not count */
	pl = plan_with(r, &dane, NULL, 1);
	assert_int_equal(find_host(pl, "mx1.example.test")->tls, MX_HOST_TLS_DANE);
	assert_int_equal(find_host(pl, "mx2.example.test")->tls, MX_HOST_TLS_MAY);
	mx_plan_free(pl);
	/* the resolver is not trusted: the AD bit means nothing */
	r->dnssec_trusted = false;
	pl = plan_with(r, &dane, NULL, 1);
	assert_false(pl->dnssec);
	assert_int_equal(find_host(pl, "mx1.example.test")->tls, MX_HOST_TLS_MAY);
	mx_plan_free(pl);
	pl = plan_with(r, &only, NULL, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.7.5");
	assert_true(has_note(&find_host(pl, "mx1.example.test")->notes, "DNSSEC-validated"));
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

/* sts_policy - an MTA-STS policy naming one mx pattern */
static struct mx_sts_policy
sts_policy(enum mx_sts_mode mode, const char *pattern)
{
	struct mx_sts_policy sp;

	memset(&sp, 0, sizeof(sp));
	snprintf(sp.domain, sizeof(sp.domain), "example.test");
	snprintf(sp.id, sizeof(sp.id), "20261130");
	sp.mode = mode;
	sp.max_age = 86400;
	snprintf(sp.mx[0], sizeof(sp.mx[0]), "%s", pattern);
	sp.nmx = 1;
	return sp;
}

static void
test_R17_enforce_rules_out_hosts_not_in_the_policy(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	struct mx_sts_policy sp = sts_policy(MX_STS_MODE_ENFORCE, "mx2.example.test");
	struct mx_plan_env env = { NULL, 0, &sp };
	const struct mx_plan_host *h1, *h2;
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx1.example.test");
	mx(r, 20, "mx2.example.test");
	host(r, "mx1.example.test", "192.0.2.1", NULL);
	host(r, "mx2.example.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_OK);
	assert_true(pl->has_sts);
	h1 = find_host(pl, "mx1.example.test");
	h2 = find_host(pl, "mx2.example.test");
	assert_false(h1->usable);
	assert_true(h1->tls_blocked);
	assert_false(h1->sts_match);
	assert_true(has_note(&h1->notes, "not in the MTA-STS policy of example.test"));
	assert_true(h2->usable);
	assert_true(h2->sts_match);
	assert_int_equal(h2->tls, MX_HOST_TLS_MTA_STS);
	mx_plan_free(pl);
	/* nothing matches: the delivery waits (4.7.5), it never goes elsewhere */
	snprintf(sp.mx[0], sizeof(sp.mx[0]), "*.other.test");
	pl = plan_with(r, NULL, &env, 1);
	assert_int_equal(pl->result, MX_PLAN_TEMPFAIL);
	assert_string_equal(pl->status, "4.7.5");
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R17_testing_mode_only_notes(void **state)
{
	struct mx_dns_result *r = result("example.test", MX_DNS_OK);
	struct mx_sts_policy sp = sts_policy(MX_STS_MODE_TESTING, "*.example.test");
	struct mx_plan_env env = { NULL, 0, &sp };
	struct mx_plan *pl;

	(void)state;
	mx(r, 10, "mx1.example.test");
	mx(r, 20, "backup.elsewhere.test");
	host(r, "mx1.example.test", "192.0.2.1", NULL);
	host(r, "backup.elsewhere.test", "192.0.2.2", NULL);
	pl = plan_with(r, NULL, &env, 1);
	assert_true(find_host(pl, "backup.elsewhere.test")->usable);
	assert_true(has_note(&find_host(pl, "backup.elsewhere.test")->notes, "testing mode"));
	assert_true(find_host(pl, "mx1.example.test")->sts_check);
	assert_int_equal(find_host(pl, "mx1.example.test")->tls, MX_HOST_TLS_MAY);
	mx_plan_free(pl);
	/* mode none: shown, changes nothing */
	sp.mode = MX_STS_MODE_NONE;
	pl = plan_with(r, NULL, &env, 1);
	assert_true(pl->has_sts);
	assert_false(find_host(pl, "mx1.example.test")->sts_check);
	assert_false(find_host(pl, "mx1.example.test")->sts_match);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

static void
test_R17_dane_takes_precedence_over_mta_sts(void **state)
{
	struct mx_dns_result *r = secure_result();
	struct mx_policy p = policy_at(MX_TLS_DANE);
	struct mx_sts_policy sp = sts_policy(MX_STS_MODE_ENFORCE, "mx2.example.test");
	struct mx_plan_env env = { NULL, 0, &sp };
	struct mx_plan *pl;

	(void)state;
	secure_host(r, "mx1.example.test", "192.0.2.1", MX_DNS_OK, 3);
	secure_host(r, "mx2.example.test", "192.0.2.2", MX_DNS_NODATA, 0);
	pl = plan_with(r, &p, &env, 1);
	/* mx1 is not in the policy but has usable TLSA records (RFC 8461 2) */
	assert_true(find_host(pl, "mx1.example.test")->usable);
	assert_int_equal(find_host(pl, "mx1.example.test")->tls, MX_HOST_TLS_DANE);
	assert_int_equal(find_host(pl, "mx2.example.test")->tls, MX_HOST_TLS_MTA_STS);
	mx_plan_free(pl);
	mx_dns_result_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R1_tiers_in_ascending_preference),
		cmocka_unit_test(test_R15_level_gives_every_host_its_policy),
		cmocka_unit_test(test_R16_dane_with_usable_tlsa_authenticates),
		cmocka_unit_test(test_R16_unusable_tlsa_records_still_require_tls),
		cmocka_unit_test(test_R16_tlsa_lookup_failure_rules_the_host_out),
		cmocka_unit_test(test_R16_dane_only_without_tlsa_defers_4_7_5),
		cmocka_unit_test(test_R16_insecure_or_untrusted_answers_never_use_tlsa),
		cmocka_unit_test(test_R17_enforce_rules_out_hosts_not_in_the_policy),
		cmocka_unit_test(test_R17_testing_mode_only_notes),
		cmocka_unit_test(test_R17_dane_takes_precedence_over_mta_sts),
		cmocka_unit_test(test_R1_preference_is_unsigned_16_bit),
		cmocka_unit_test(test_R1_every_host_of_a_tier_before_the_next),
		cmocka_unit_test(test_R2_same_seed_same_order),
		cmocka_unit_test(test_R2_order_varies_with_seed),
		cmocka_unit_test(test_R2_seed_order_independent_of_answer_order),
		cmocka_unit_test(test_R2_equal_preference_spread_fairly),
		cmocka_unit_test(test_R2_every_tier_shuffled),
		cmocka_unit_test(test_R3_duplicate_keeps_lowest_preference),
		cmocka_unit_test(test_R4_null_mx_is_permanent_5_1_10),
		cmocka_unit_test(test_R4_null_mx_among_others_is_ignored),
		cmocka_unit_test(test_R4_null_mx_written_as_dot),
		cmocka_unit_test(test_R5_implicit_mx_uses_own_addresses),
		cmocka_unit_test(test_R5_no_mx_no_address_is_permanent),
		cmocka_unit_test(test_R5_implicit_address_lookup_tempfail_defers),
		cmocka_unit_test(test_R5_domain_addresses_unused_when_mx_exists),
		cmocka_unit_test(test_R6_nxdomain_is_permanent_5_1_2),
		cmocka_unit_test(test_R6_temporary_mx_failure_defers_without_a_fallback),
		cmocka_unit_test(test_R6_all_exchanges_missing_is_permanent),
		cmocka_unit_test(test_R7_cname_exchange_followed_when_lenient),
		cmocka_unit_test(test_R7_cname_exchange_unusable_when_strict),
		cmocka_unit_test(test_R7_ip_literal_exchange_unusable),
		cmocka_unit_test(test_R7_invalid_exchange_name_unusable),
		cmocka_unit_test(test_R7_unresolvable_exchange_noted),
		cmocka_unit_test(test_R7_all_hosts_temporarily_unresolved_defers),
		cmocka_unit_test(test_R7_partial_address_failure_still_usable_with_note),
		cmocka_unit_test(test_R7_ip_literal_exchange_unusable_even_if_resolved),
		cmocka_unit_test(test_R7_mixed_temporary_and_permanent_failures_defer),
		cmocka_unit_test(test_R8_dns_order_kept),
		cmocka_unit_test(test_R8_randomize_addresses_shuffles),
		cmocka_unit_test(test_R8_address_preference_orders_families),
		cmocka_unit_test(test_R8_disabled_family_dropped),
		cmocka_unit_test(test_R8_ignore_networks_default),
		cmocka_unit_test(test_R8_ignore_networks_custom),
		cmocka_unit_test(test_R8_inet_protocols_ipv6_only),
		cmocka_unit_test(test_R8_address_preference_keeps_other_family),
		cmocka_unit_test(test_R8_v4mapped_judged_as_ipv4_by_ignore_networks),
		cmocka_unit_test(test_R8_v4mapped_family_is_ipv4),
		cmocka_unit_test(test_R8_v4mapped_duplicate_of_a_record),
		cmocka_unit_test(test_R9_local_name_drops_self_and_worse),
		cmocka_unit_test(test_R9_local_address_and_interface),
		cmocka_unit_test(test_R9_interface_network_is_not_local),
		cmocka_unit_test(test_R9_best_mx_is_me_loops),
		cmocka_unit_test(test_R9_local_address_not_listed_first),
		cmocka_unit_test(test_R9_ignored_interface_address_is_still_local),
		cmocka_unit_test(test_R9_v4mapped_local_host),
		cmocka_unit_test(test_R9_backup_without_usable_primary_defers_4_4_4),
		cmocka_unit_test(test_R9_nothing_better_listed_is_still_a_loop),
		cmocka_unit_test(test_R10_max_addresses),
		cmocka_unit_test(test_R10_mx_records_capped_keeping_best),
		cmocka_unit_test(test_R10_max_mx_records_custom_cap),
		cmocka_unit_test(test_R10_mx_records_capped_by_default),
		cmocka_unit_test(test_R10_unusable_addresses_do_not_count),
		cmocka_unit_test(test_plan_result_names),
	};

	return cmocka_run_group_tests_name("plan (R1-R10)", tests, NULL, NULL);
}
