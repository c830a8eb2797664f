/*
 * test_resolve - the resolver against real servers on loopback
 *
 * Needs the test world that tests/run-tests.sh starts:
 *   MXT_DNS       Unbound serving tests/world/zones.conf
 *   MXT_FAULTDNS  tests/dns/faultdns serving tests/world/faults.rules
 *   MXT_SLOWDNS   the same rules, every answer delayed by 200 ms
 *   MXT_DEADDNS   a loopback port where nothing answers
 * Lookups given several servers take them in the order of the variables
 * named (lookup_at).
 * A missing variable fails the test (it is never skipped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolve.h"

/* server - an address from the environment, or fail */
static char *
server(const char *var)
{
	char   *v = getenv(var);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set: run this test through make check", var);
	return v;
}

/* lookup - resolve domain at the server named by var */
static struct mx_dns_result *
lookup(const char *var, const char *domain, int timeout_ms, int tries)
{
	char   *servers[1] = { server(var) };
	struct mx_resolver_opts o = { servers, 1, timeout_ms, tries, 100 };
	char	err[256] = "";
	struct mx_dns_result *r = mx_resolve(&o, domain, err, sizeof(err));

	if (r == NULL)
		fail_msg("mx_resolve(%s): %s", domain, err);
	return r;
}

/* lookup_at - resolve domain (or only its addresses) at the servers named, in order */
static struct mx_dns_result *
lookup_at(const char *var1, const char *var2, const char *domain, bool addresses_only)
{
	char   *servers[2] = { server(var1), server(var2) };
	struct mx_resolver_opts o = { servers, 2, 2000, 1, 100 };
	char	err[256] = "";
	struct mx_dns_result *r = addresses_only ?
	    mx_resolve_addresses(&o, domain, err, sizeof(err)) :
	    mx_resolve(&o, domain, err, sizeof(err));

	if (r == NULL)
		fail_msg("mx_resolve(%s): %s", domain, err);
	return r;
}

/* set - the address set of name, which must exist */
static const struct mx_dns_addrset *
set(const struct mx_dns_result *r, const char *name)
{
	const struct mx_dns_addrset *s = mx_dns_result_find_set(r, name);

	if (s == NULL)
		fail_msg("no address set for %s", name);
	return s;
}

/* addr_text - an address of a set as text */
static const char *
addr_text(const struct mx_dns_addrset *s, size_t i, char *buf)
{
	assert_true(i < s->naddrs);
	return mx_ip_format(&s->addrs[i].ip, buf, MX_IP_TEXT_MAX);
}

static void
test_resolve_healthy_domain(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "healthy.mxt.test", 2000, 2);
	const struct mx_dns_addrset *s;
	char	buf[MX_IP_TEXT_MAX];

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(r->nmx, 3);
	assert_int_equal(r->mx_answered, 3);
	assert_int_equal(r->nsets, 3);		/* every exchange was looked up */
	s = set(r, "mx1.healthy.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_int_equal(s->aaaa_status, MX_DNS_OK);
	assert_int_equal(s->naddrs, 2);
	assert_string_equal(addr_text(s, 0, buf), "192.0.2.11");	/* A first */
	assert_string_equal(addr_text(s, 1, buf), "2001:db8::11");
	assert_int_equal(s->addrs[0].ttl, 300);
	s = set(r, "backup.healthy.mxt.test");
	assert_int_equal(s->aaaa_status, MX_DNS_NODATA);
	assert_int_equal(s->addrs[0].ttl, 600);
	assert_string_equal(r->canonical, "");
	mx_dns_result_free(r);
}

static void
test_resolve_implicit_mx(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "implicit.mxt.test", 2000, 2);
	const struct mx_dns_addrset *s;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_NODATA);
	s = set(r, "implicit.mxt.test");
	assert_int_equal(s->naddrs, 2);
	mx_dns_result_free(r);

	r = lookup("MXT_DNS", "nomail.mxt.test", 2000, 2);
	assert_int_equal(r->mx_status, MX_DNS_NODATA);
	s = set(r, "nomail.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_NODATA);
	assert_int_equal(s->aaaa_status, MX_DNS_NODATA);
	assert_int_equal(s->naddrs, 0);
	mx_dns_result_free(r);
}

static void
test_resolve_nxdomain(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "nosuch.mxt.test", 2000, 2);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_NXDOMAIN);
	assert_int_equal(r->nsets, 0);			/* no fallback to A */
	mx_dns_result_free(r);
}

static void
test_resolve_null_mx(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "nullmx.mxt.test", 2000, 2);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(r->nmx, 1);
	assert_string_equal(r->mx[0].name, "");
	assert_int_equal(r->nsets, 0);			/* nothing to look up */
	mx_dns_result_free(r);
}

static void
test_resolve_cname_exchange_followed(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "alias.mxt.test", 2000, 2);
	const struct mx_dns_addrset *s;
	char	buf[MX_IP_TEXT_MAX];

	(void)state;
	s = set(r, "mail.alias.mxt.test");	/* Unbound answers with the alias only */
	assert_string_equal(s->canonical, "real.alias.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_string_equal(addr_text(s, 0, buf), "192.0.2.60");
	s = set(r, "gone.alias.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_NXDOMAIN);
	mx_dns_result_free(r);

	r = lookup("MXT_FAULTDNS", "cnamemx.flt.test", 2000, 1);
	s = set(r, "alias.cnamemx.flt.test");
	assert_string_equal(s->canonical, "target.cnamemx.flt.test");
	assert_int_equal(s->naddrs, 2);
	mx_dns_result_free(r);
}

static void
test_resolve_domain_alias(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "cnamedomain.mxt.test", 2000, 2);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_string_equal(r->canonical, "healthy.mxt.test");
	assert_int_equal(r->nmx, 3);
	mx_dns_result_free(r);
}

static void
test_resolve_hundreds_of_mx_over_tcp(void **state)
{
	struct mx_dns_result *r = lookup("MXT_DNS", "big.mxt.test", 2000, 2);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);	/* truncated over UDP, whole over TCP */
	assert_int_equal(r->mx_answered, 300);
	assert_int_equal(r->nsets, 100);		/* only the capped exchanges */
	assert_non_null(mx_dns_result_find_set(r, "mx1.big.mxt.test"));
	assert_non_null(mx_dns_result_find_set(r, "mx100.big.mxt.test"));
	assert_null(mx_dns_result_find_set(r, "mx101.big.mxt.test"));
	assert_int_equal(set(r, "mx100.big.mxt.test")->a_status, MX_DNS_OK);
	mx_dns_result_free(r);
}

static void
test_resolve_rcode_classes(void **state)
{
	static const struct { const char *domain; enum mx_dns_status want; } cases[] = {
		{ "servfail.flt.test", MX_DNS_SERVFAIL },
		{ "refused.flt.test", MX_DNS_REFUSED },
		{ "malformed.flt.test", MX_DNS_MALFORMED },
		{ "nxdomain-here.flt.test", MX_DNS_NXDOMAIN },
		{ "dloop.flt.test", MX_DNS_CNAME_LOOP },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_dns_result *r = lookup("MXT_FAULTDNS", cases[i].domain, 2000, 1);

		if (r->mx_status != cases[i].want)
			fail_msg("%s: got %s, want %s (%s)", cases[i].domain,
				 mx_dns_status_name(r->mx_status),
				 mx_dns_status_name(cases[i].want), r->mx_detail);
		assert_int_equal(r->nsets, 0);		/* never falls back to A */
		mx_dns_result_free(r);
	}
}

static void
test_resolve_timeout_is_bounded(void **state)
{
	struct mx_dns_result *r;

	(void)state;
	r = lookup("MXT_FAULTDNS", "timeout.flt.test", 300, 2);
	assert_int_equal(r->mx_status, MX_DNS_TIMEOUT);
	mx_dns_result_free(r);
	/* an answer with the wrong ID is not an answer */
	r = lookup("MXT_FAULTDNS", "badid.flt.test", 300, 1);
	assert_int_equal(r->mx_status, MX_DNS_TIMEOUT);
	mx_dns_result_free(r);
	/* a server that is not there at all */
	r = lookup("MXT_DEADDNS", "healthy.mxt.test", 300, 1);
	assert_true(mx_dns_status_is_temporary(r->mx_status));
	mx_dns_result_free(r);
}

static void
test_resolve_truncated_then_tcp(void **state)
{
	struct mx_dns_result *r = lookup("MXT_FAULTDNS", "trunc.flt.test", 2000, 1);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(r->nmx, 1);
	assert_string_equal(r->mx[0].name, "mx.trunc.flt.test");
	mx_dns_result_free(r);

	r = lookup("MXT_FAULTDNS", "truncfail.flt.test", 2000, 1);
	assert_int_equal(r->mx_status, MX_DNS_TRUNCATED);
	assert_non_null(strstr(r->mx_detail, "TCP"));
	mx_dns_result_free(r);
}

static void
test_resolve_one_exchange_times_out(void **state)
{
	struct mx_dns_result *r = lookup("MXT_FAULTDNS", "slowmx.flt.test", 400, 1);

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(set(r, "fast.slowmx.flt.test")->a_status, MX_DNS_OK);
	assert_int_equal(set(r, "slow.slowmx.flt.test")->a_status, MX_DNS_TIMEOUT);
	assert_int_equal(set(r, "slow.slowmx.flt.test")->aaaa_status, MX_DNS_TIMEOUT);
	mx_dns_result_free(r);
}

static void
test_resolve_exchange_failures(void **state)
{
	struct mx_dns_result *r;

	(void)state;
	r = lookup("MXT_FAULTDNS", "loop.flt.test", 2000, 1);
	assert_int_equal(set(r, "a.loop.flt.test")->a_status, MX_DNS_CNAME_LOOP);
	assert_int_equal(set(r, "ok.loop.flt.test")->a_status, MX_DNS_OK);
	mx_dns_result_free(r);

	r = lookup("MXT_FAULTDNS", "allsfx.flt.test", 2000, 1);
	assert_int_equal(set(r, "mx1.allsfx.flt.test")->a_status, MX_DNS_SERVFAIL);
	assert_int_equal(set(r, "mx2.allsfx.flt.test")->aaaa_status, MX_DNS_REFUSED);
	mx_dns_result_free(r);

	r = lookup("MXT_FAULTDNS", "badaddr.flt.test", 2000, 1);
	assert_int_equal(set(r, "mx.badaddr.flt.test")->a_status, MX_DNS_MALFORMED);
	assert_int_equal(set(r, "mx.badaddr.flt.test")->aaaa_status, MX_DNS_OK);
	mx_dns_result_free(r);
}

/*
 * Address lookups run at once, not one after another. Every answer of the
 * slow server takes 200 ms and each phase may take 700 ms (timeout 700 ms,
 * one try): ten A/AAAA queries asked one by one would need 2 s and time
 * out; asked together they all arrive.
 */
static void
test_resolve_addresses_asked_concurrently(void **state)
{
	struct mx_dns_result *r = lookup("MXT_SLOWDNS", "five.flt.test", 700, 1);
	size_t	i;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(r->nsets, 5);
	for (i = 0; i < r->nsets; i++) {
		if (r->sets[i].a_status != MX_DNS_OK)
			fail_msg("%s: A %s", r->sets[i].name, mx_dns_status_name(r->sets[i].a_status));
		assert_int_equal(r->sets[i].aaaa_status, MX_DNS_NODATA);
	}
	mx_dns_result_free(r);
}

/*
 * R6: a server that answers SERVFAIL or REFUSED is followed by the next
 * server, for the MX query and for every address query, as glibc's stub
 * resolver (Postfix) and c-ares without NOCHECKRESP do. The fault DNS
 * refuses or fails every name of failover.mxt.test; Unbound, second,
 * answers them.
 */
static void
test_resolve_failing_server_followed_by_next(void **state)
{
	struct mx_dns_result *r = lookup_at("MXT_FAULTDNS", "MXT_DNS", "failover.mxt.test", false);
	const struct mx_dns_addrset *s;
	char	buf[MX_IP_TEXT_MAX];

	(void)state;
	if (r->mx_status != MX_DNS_OK)
		fail_msg("MX: got %s (%s), want the second server's answer",
			 mx_dns_status_name(r->mx_status), r->mx_detail);
	assert_int_equal(r->nmx, 2);
	s = set(r, "mx1.failover.mxt.test");		/* first server: SERVFAIL */
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_int_equal(s->aaaa_status, MX_DNS_OK);
	assert_int_equal(s->naddrs, 2);
	assert_string_equal(addr_text(s, 0, buf), "192.0.2.110");
	assert_string_equal(addr_text(s, 1, buf), "2001:db8::110");
	s = set(r, "mx2.failover.mxt.test");		/* REFUSED for A, SERVFAIL for AAAA */
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_int_equal(s->aaaa_status, MX_DNS_NODATA);
	assert_string_equal(addr_text(s, 0, buf), "192.0.2.111");
	assert_string_equal(r->mx_detail, "");
	mx_dns_result_free(r);

	/* implicit MX: the domain's own A and AAAA, refused by the first server */
	r = lookup_at("MXT_FAULTDNS", "MXT_DNS", "implicitfo.mxt.test", false);
	assert_int_equal(r->mx_status, MX_DNS_NODATA);
	s = set(r, "implicitfo.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_int_equal(s->aaaa_status, MX_DNS_OK);
	assert_int_equal(s->naddrs, 2);
	mx_dns_result_free(r);

	/* the address lookup of a fallback relay */
	r = lookup_at("MXT_FAULTDNS", "MXT_DNS", "mx1.failover.mxt.test", true);
	s = set(r, "mx1.failover.mxt.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_int_equal(s->naddrs, 2);
	mx_dns_result_free(r);
}

/*
 * The TCP retry of a truncated answer follows the next server too: the
 * fault DNS truncates big.mxt.test over UDP and refuses it over TCP.
 */
static void
test_resolve_failing_server_followed_over_tcp(void **state)
{
	struct mx_dns_result *r = lookup_at("MXT_FAULTDNS", "MXT_DNS", "big.mxt.test", false);

	(void)state;
	if (r->mx_status != MX_DNS_OK)
		fail_msg("MX: got %s (%s), want the second server's answer over TCP",
			 mx_dns_status_name(r->mx_status), r->mx_detail);
	assert_int_equal(r->mx_answered, 300);
	mx_dns_result_free(r);
}

/*
 * R6: when every server answers SERVFAIL or REFUSED, that is the result
 * (temporary, 4.4.3), not "connection refused" or a timeout, also when the
 * last server does not answer at all.
 */
static void
test_resolve_every_server_failing(void **state)
{
	static const struct {
		const char *s1, *s2, *domain;
		enum mx_dns_status want;
		const char *words;
	} cases[] = {
		{ "MXT_FAULTDNS", "MXT_FAULTDNS6", "servfail.flt.test", MX_DNS_SERVFAIL, "SERVFAIL" },
		{ "MXT_FAULTDNS", "MXT_FAULTDNS6", "refused.flt.test", MX_DNS_REFUSED, "REFUSED" },
		{ "MXT_FAULTDNS", "MXT_DEADDNS", "refused.flt.test", MX_DNS_REFUSED, "REFUSED" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_dns_result *r = lookup_at(cases[i].s1, cases[i].s2, cases[i].domain,
						    false);

		if (r->mx_status != cases[i].want || strstr(r->mx_detail, cases[i].words) == NULL)
			fail_msg("%s at %s, %s: got %s (%s), want %s", cases[i].domain, cases[i].s1,
				 cases[i].s2, mx_dns_status_name(r->mx_status), r->mx_detail,
				 mx_dns_status_name(cases[i].want));
		assert_true(mx_dns_status_is_temporary(r->mx_status));
		assert_int_equal(r->nsets, 0);		/* never falls back to A */
		mx_dns_result_free(r);
	}
}

/* sink_open - a UDP socket and a TCP listener on one loopback port; the port */
static int
sink_open(int *udp, int *tcp)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*udp = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(*udp >= 0);
	assert_int_equal(bind(*udp, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(*udp, (struct sockaddr *)&sa, &len), 0);
	*tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);	/* accept never waits */
	assert_true(*tcp >= 0);
	assert_int_equal(bind(*tcp, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(*tcp, 8), 0);
	return ntohs(sa.sin_port);
}

/* sink_untouched - nothing arrived: no datagram, no connection */
static void
sink_untouched(int udp, int tcp, const char *what)
{
	char	buf[512];
	int	c;

	if (recv(udp, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		fail_msg("%s: the second server got a UDP query", what);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	c = accept(tcp, NULL, NULL);
	if (c >= 0) {
		close(c);
		fail_msg("%s: the second server got a TCP connection", what);
	}
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/*
 * A healthy first server costs no more round trips than before: the second
 * server (a socket of this test) hears nothing, over UDP or TCP.
 */
static void
test_resolve_healthy_first_server_only(void **state)
{
	static const char *domains[] = { "failover.mxt.test", "big.mxt.test",
					 "nosuch.mxt.test" };
	char	second[32], *servers[2] = { server("MXT_DNS"), second };
	struct mx_resolver_opts o = { servers, 2, 2000, 1, 100 };
	int	udp, tcp;
	size_t	i;

	(void)state;
	snprintf(second, sizeof(second), "127.0.0.1:%d", sink_open(&udp, &tcp));
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		char	err[256] = "";
		struct mx_dns_result *r = mx_resolve(&o, domains[i], err, sizeof(err));

		if (r == NULL)
			fail_msg("mx_resolve(%s): %s", domains[i], err);
		assert_true(r->mx_status == MX_DNS_OK || r->mx_status == MX_DNS_NXDOMAIN);
		mx_dns_result_free(r);
		sink_untouched(udp, tcp, domains[i]);
	}
	close(udp);
	close(tcp);
}

static void
test_resolve_bad_server_rejected(void **state)
{
	char   *servers[1] = { "dns.example.test:53" };
	struct mx_resolver_opts o = { servers, 1, 1000, 1, 100 };
	char	err[256] = "";

	(void)state;
	assert_null(mx_resolve(&o, "healthy.mxt.test", err, sizeof(err)));
	assert_non_null(strstr(err, "not an IP address"));
}

static int
setup(void **state)
{
	char	err[128];

	(void)state;
	return mx_resolver_library_init(err, sizeof(err)) ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_healthy_domain),
		cmocka_unit_test(test_resolve_implicit_mx),
		cmocka_unit_test(test_resolve_nxdomain),
		cmocka_unit_test(test_resolve_null_mx),
		cmocka_unit_test(test_resolve_cname_exchange_followed),
		cmocka_unit_test(test_resolve_domain_alias),
		cmocka_unit_test(test_resolve_hundreds_of_mx_over_tcp),
		cmocka_unit_test(test_resolve_rcode_classes),
		cmocka_unit_test(test_resolve_timeout_is_bounded),
		cmocka_unit_test(test_resolve_truncated_then_tcp),
		cmocka_unit_test(test_resolve_one_exchange_times_out),
		cmocka_unit_test(test_resolve_exchange_failures),
		cmocka_unit_test(test_resolve_addresses_asked_concurrently),
		cmocka_unit_test(test_resolve_failing_server_followed_by_next),
		cmocka_unit_test(test_resolve_failing_server_followed_over_tcp),
		cmocka_unit_test(test_resolve_every_server_failing),
		cmocka_unit_test(test_resolve_healthy_first_server_only),
		cmocka_unit_test(test_resolve_bad_server_rejected),
	};

	return cmocka_run_group_tests_name("resolve (real DNS on loopback)", tests, setup, NULL);
}
