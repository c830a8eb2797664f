/*
 * test_resolve - the resolver against real servers on loopback
 *
 * Needs the test world that tests/run-tests.sh starts:
 *   MXT_DNS       Unbound serving tests/world/zones.conf
 *   MXT_FAULTDNS  tests/dns/faultdns serving tests/world/faults.rules
 *   MXT_SLOWDNS   the same rules, every answer delayed by 200 ms
 *   MXT_DEADDNS   a loopback port where nothing answers
 *   MXT_DNSSEC    a validating Unbound serving tests/world/dnssec/ (signed
 *                 dnssec.test with a bogus TLSA, insecure insec.test, bogus
 *                 bogus.test; tests/world/dnssec.sh)
 * Lookups given several servers take them in the order of the variables
 * named (lookup_at).
 * A missing variable fails the test (it is never skipped). The parsing of
 * answers on hand-built messages (TXT and TLSA included) is in test_input.c.
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

#include "config.h"
#include "dnsmsg.h"
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
	struct mx_resolver_opts o = { .servers = servers, .nservers = 1,
				      .timeout_ms = timeout_ms, .tries = tries,
				      .max_mx_records = 100 };
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
	struct mx_resolver_opts o = { .servers = servers, .nservers = 2, .timeout_ms = 2000,
				      .tries = 1, .max_mx_records = 100 };
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
	struct mx_resolver_opts o = { .servers = servers, .nservers = 2, .timeout_ms = 2000,
				      .tries = 1, .max_mx_records = 100 };
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
	struct mx_resolver_opts o = { .servers = servers, .nservers = 1, .timeout_ms = 1000,
				      .tries = 1, .max_mx_records = 100 };
	char	err[256] = "";

	(void)state;
	assert_null(mx_resolve(&o, "healthy.mxt.test", err, sizeof(err)));
	assert_non_null(strstr(err, "not an IP address"));
}

/* ------------------------------------------------------------------ */
/* DNSSEC, TLSA and MTA-STS lookups (R16, R17)                         */
/* ------------------------------------------------------------------ */

/*
 * lookup_dane - resolve domain at the servers given (NULL-terminated list of
 * environment variables or literal "ADDR:PORT" when it has a colon), with
 * TLSA at tlsa_port, the _mta-sts TXT when sts, and the trusted list
 */
static struct mx_dns_result *
lookup_dane(const char *const *where, const char *domain, int tlsa_port, bool sts,
	    char *const *trusted, size_t ntrusted)
{
	char   *servers[4];
	size_t	n;
	struct mx_resolver_opts o = { .nservers = 0, .timeout_ms = 2000, .tries = 1,
				      .max_mx_records = 100, .trusted = trusted,
				      .ntrusted = ntrusted, .tlsa_port = tlsa_port,
				      .mta_sts = sts };
	char	err[256] = "";
	struct mx_dns_result *r;

	for (n = 0; where[n] != NULL && n < 4; n++)
		servers[n] = strchr(where[n], ':') ? (char *)where[n] : server(where[n]);
	o.servers = servers;
	o.nservers = n;
	r = mx_resolve(&o, domain, err, sizeof(err));
	if (r == NULL)
		fail_msg("mx_resolve(%s): %s", domain, err);
	return r;
}

static const char *const at_dnssec[] = { "MXT_DNSSEC", NULL };

/* tlsa_find - the TLSA record of a set with this usage, which must exist */
static const struct mx_dns_tlsa *
tlsa_find(const struct mx_dns_addrset *s, uint8_t usage)
{
	size_t	i;

	for (i = 0; i < s->ntlsa; i++)
		if (s->tlsa[i].usage == usage)
			return &s->tlsa[i];
	fail_msg("%s: no TLSA record with usage %u", s->name, usage);
	return NULL;
}

/* hex_is - data of len octets is the hex text */
static void
hex_is(const unsigned char *data, size_t len, const char *hex)
{
	char	buf[2 * 64 + 1];
	size_t	i;

	assert_int_equal(len * 2, strlen(hex));
	assert_true(len <= 64);
	for (i = 0; i < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", data[i]);
	assert_string_equal(buf, hex);
}

/* The secure domain: AD on every answer from a loopback (trusted) server. */
static void
test_resolve_dnssec_secure_domain(void **state)
{
	struct mx_dns_result *r = lookup_dane(at_dnssec, "dnssec.test", 25, true, NULL, 0);
	const struct mx_dns_addrset *s;
	const struct mx_dns_tlsa *t;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_true(r->dnssec_trusted);
	assert_true(r->mx_secure);
	assert_int_equal(r->nmx, 2);
	s = set(r, "mx1.dnssec.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_true(s->a_secure);
	assert_true(s->aaaa_secure);
	if (s->tlsa_status != MX_DNS_OK)
		fail_msg("TLSA of mx1: %s (%s)", mx_dns_status_name(s->tlsa_status),
			 s->tlsa_detail);
	assert_true(s->tlsa_secure);
	assert_int_equal(s->ntlsa, 2);
	t = tlsa_find(s, 3);
	assert_int_equal(t->selector, 1);
	assert_int_equal(t->mtype, 1);
	hex_is(t->data, t->len, "0123456789abcdef0123456789abcdef"
	       "0123456789abcdef0123456789abcdef");
	t = tlsa_find(s, 2);
	assert_int_equal(t->selector, 0);
	assert_int_equal(t->mtype, 2);
	assert_int_equal(t->len, 64);			/* SHA2-512 */
	assert_int_equal(t->data[0], 0xfe);
	assert_int_equal(t->data[63], 0x10);
	/* mx2 has no TLSA records: a secure denial (NSEC3) */
	s = set(r, "mx2.dnssec.test");
	assert_true(s->a_secure);
	assert_true(s->aaaa_secure);			/* secure NODATA */
	assert_int_equal(s->aaaa_status, MX_DNS_NODATA);
	assert_int_equal(s->tlsa_status, MX_DNS_NXDOMAIN);
	assert_true(s->tlsa_secure);
	assert_int_equal(s->ntlsa, 0);
	/* the _mta-sts TXT, asked beside the MX query */
	assert_int_equal(r->sts_status, MX_DNS_OK);
	assert_int_equal(r->sts_records, 1);		/* "not an STS record" is not one */
	assert_string_equal(r->sts_txt, "v=STSv1; id=20240101T000000;");
	assert_string_equal(r->sts_detail, "");
	mx_dns_result_free(r);
}

/* Alias steps: secure when every step is; TLSA and A follow the CNAME chain. */
static void
test_resolve_dnssec_aliases(void **state)
{
	struct mx_dns_result *r = lookup_dane(at_dnssec, "cnamedom.dnssec.test", 25, true,
					      NULL, 0);
	const struct mx_dns_addrset *s;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_string_equal(r->canonical, "dnssec.test");
	assert_true(r->mx_secure);
	assert_int_equal(set(r, "mx1.dnssec.test")->ntlsa, 2);
	/* the policy domain is the one asked, not the alias target (RFC 8461 3.1) */
	assert_int_equal(r->sts_status, MX_DNS_NXDOMAIN);
	assert_int_equal(r->sts_records, 0);
	assert_string_equal(r->sts_txt, "");
	mx_dns_result_free(r);

	r = lookup_dane(at_dnssec, "viaalias.dnssec.test", 25, false, NULL, 0);
	assert_true(r->mx_secure);
	s = set(r, "alias.dnssec.test");
	assert_string_equal(s->canonical, "mx1.dnssec.test");
	assert_true(s->a_secure);
	if (s->tlsa_status != MX_DNS_OK)
		fail_msg("TLSA via an alias: %s (%s)", mx_dns_status_name(s->tlsa_status),
			 s->tlsa_detail);
	assert_true(s->tlsa_secure);
	assert_int_equal(s->ntlsa, 2);
	assert_int_equal(tlsa_find(s, 3)->selector, 1);
	assert_int_equal(r->sts_status, MX_DNS_PENDING);	/* not asked */
	mx_dns_result_free(r);
}

/* Implicit MX: a secure NODATA MX answer leads to TLSA of the domain itself. */
static void
test_resolve_dnssec_implicit_mx(void **state)
{
	struct mx_dns_result *r = lookup_dane(at_dnssec, "implicit.dnssec.test", 25, false,
					      NULL, 0);
	const struct mx_dns_addrset *s;
	const struct mx_dns_tlsa *t;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_NODATA);
	assert_true(r->mx_secure);
	s = set(r, "implicit.dnssec.test");
	assert_true(s->a_secure);
	assert_int_equal(s->tlsa_status, MX_DNS_OK);
	assert_true(s->tlsa_secure);
	assert_int_equal(s->ntlsa, 1);
	t = tlsa_find(s, 3);
	assert_int_equal(t->selector, 0);
	assert_int_equal(t->mtype, 1);
	hex_is(t->data, t->len, "aabbccddeeff00112233445566778899"
	       "aabbccddeeff00112233445566778899");
	mx_dns_result_free(r);
}

/* TLSA is asked only for DANE (tlsa_port > 0) and a secure MX answer. */
static void
test_resolve_dnssec_tlsa_only_when_wanted(void **state)
{
	static const char *const untrusted[] = { "MXT_DNSSEC", "192.0.2.53:53", NULL };
	char   *trusted[] = { "192.0.2.53" };
	struct mx_dns_result *r;
	const struct mx_dns_addrset *s;
	size_t	i;

	(void)state;
	/* no DANE: no TLSA query, no TXT query */
	r = lookup_dane(at_dnssec, "dnssec.test", 0, false, NULL, 0);
	assert_true(r->mx_secure);
	for (i = 0; i < r->nsets; i++) {
		assert_int_equal(r->sets[i].tlsa_status, MX_DNS_PENDING);
		assert_int_equal(r->sets[i].ntlsa, 0);
	}
	assert_int_equal(r->sts_status, MX_DNS_PENDING);
	mx_dns_result_free(r);

	/* insecure zone: AD never set, so no TLSA; MTA-STS does not need DNSSEC */
	r = lookup_dane(at_dnssec, "insec.test", 25, true, NULL, 0);
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_true(r->dnssec_trusted);
	assert_false(r->mx_secure);
	s = set(r, "mx.insec.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_false(s->a_secure);
	assert_false(s->aaaa_secure);
	assert_int_equal(s->tlsa_status, MX_DNS_PENDING);
	assert_int_equal(r->sts_status, MX_DNS_OK);
	assert_string_equal(r->sts_txt, "v=STSv1; id=insecure;");
	mx_dns_result_free(r);

	/* the plain Unbound (local-data, no validator) never says AD */
	r = lookup_dane((const char *const[]){ "MXT_DNS", NULL }, "healthy.mxt.test", 25,
			false, NULL, 0);
	assert_true(r->dnssec_trusted);
	assert_false(r->mx_secure);
	assert_false(set(r, "mx1.healthy.mxt.test")->a_secure);
	assert_int_equal(set(r, "mx1.healthy.mxt.test")->tlsa_status, MX_DNS_PENDING);
	mx_dns_result_free(r);

	/*
	 * a server in use that is not trusted (never asked here: the first one
	 * answers) makes every AD bit worthless, and TLSA is not asked
	 */
	r = lookup_dane(untrusted, "dnssec.test", 25, false, NULL, 0);
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_false(r->dnssec_trusted);
	assert_false(r->mx_secure);
	s = set(r, "mx1.dnssec.test");
	assert_false(s->a_secure);
	assert_int_equal(s->tlsa_status, MX_DNS_PENDING);
	mx_dns_result_free(r);
	/* ... unless it is listed in resolver.trusted */
	r = lookup_dane(untrusted, "dnssec.test", 25, false, trusted, 1);
	assert_true(r->dnssec_trusted);
	assert_true(r->mx_secure);
	assert_int_equal(set(r, "mx1.dnssec.test")->ntlsa, 2);
	mx_dns_result_free(r);
}

/* Bogus answers are SERVFAIL: temporary, for the MX and for one TLSA. */
static void
test_resolve_dnssec_bogus(void **state)
{
	struct mx_dns_result *r = lookup_dane(at_dnssec, "bogus.test", 25, true, NULL, 0);
	const struct mx_dns_addrset *s;

	(void)state;
	assert_int_equal(r->mx_status, MX_DNS_SERVFAIL);
	assert_true(mx_dns_status_is_temporary(r->mx_status));
	assert_false(r->mx_secure);
	assert_int_equal(r->nsets, 0);
	assert_int_equal(r->sts_status, MX_DNS_SERVFAIL);	/* the zone is bogus */
	assert_non_null(strstr(r->sts_detail, "SERVFAIL"));
	mx_dns_result_free(r);

	r = lookup_dane(at_dnssec, "badtlsa.dnssec.test", 25, false, NULL, 0);
	assert_true(r->mx_secure);
	s = set(r, "mx.badtlsa.dnssec.test");
	assert_int_equal(s->a_status, MX_DNS_OK);
	assert_true(s->a_secure);
	assert_int_equal(s->tlsa_status, MX_DNS_SERVFAIL);
	assert_true(mx_dns_status_is_temporary(s->tlsa_status));
	assert_false(s->tlsa_secure);
	assert_int_equal(s->ntlsa, 0);
	assert_non_null(strstr(s->tlsa_detail, "SERVFAIL"));
	mx_dns_result_free(r);
}

/* _mta-sts TXT: none, and two v=STSv1 records (no policy, RFC 8461 3.1). */
static void
test_resolve_mta_sts_txt(void **state)
{
	struct mx_dns_result *r = lookup_dane(at_dnssec, "two.dnssec.test", 0, true, NULL, 0);

	(void)state;
	assert_int_equal(r->sts_status, MX_DNS_OK);
	assert_int_equal(r->sts_records, 2);
	assert_string_equal(r->sts_txt, "");
	mx_dns_result_free(r);

	r = lookup_dane(at_dnssec, "nosts.dnssec.test", 0, true, NULL, 0);
	assert_int_equal(r->mx_status, MX_DNS_OK);
	assert_int_equal(r->sts_status, MX_DNS_NXDOMAIN);
	assert_int_equal(r->sts_records, 0);
	assert_string_equal(r->sts_txt, "");
	mx_dns_result_free(r);

	/* the plain Unbound: a TXT that is not an STS record */
	r = lookup_dane((const char *const[]){ "MXT_DNS", NULL }, "implicit.mxt.test", 0, true,
			NULL, 0);
	assert_int_equal(r->sts_status, MX_DNS_NXDOMAIN);	/* static zone: no such name */
	assert_int_equal(r->sts_records, 0);
	mx_dns_result_free(r);
}

/*
 * The queries on the wire: the AD bit set, distinct IDs, and the TXT query
 * sent with the MX query, before any answer (no extra round trip). The
 * server is a socket of this test that never answers.
 */
static void
test_resolve_queries_ask_for_ad(void **state)
{
	char	where[32], *servers[1] = { where };
	struct mx_resolver_opts o = { .servers = servers, .nservers = 1, .timeout_ms = 2000,
				      .tries = 1, .max_mx_records = 100, .mta_sts = true };
	struct timeval tv = { 2, 0 };
	unsigned char q[2][512];
	ssize_t	n[2];
	char	err[256] = "", name[2][64];
	bool	saw_mx = false, saw_txt = false;
	struct mx_lookup *l;
	int	udp, tcp, i;

	(void)state;
	snprintf(where, sizeof(where), "127.0.0.1:%d", sink_open(&udp, &tcp));
	assert_int_equal(setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	l = mx_lookup_start(&o, "example.test", err, sizeof(err));
	if (l == NULL)
		fail_msg("mx_lookup_start: %s", err);
	for (i = 0; i < 2; i++) {
		size_t	off = 12, k = 0;

		n[i] = recv(udp, q[i], sizeof(q[i]), 0);	/* bounded by SO_RCVTIMEO */
		if (n[i] < 12)
			fail_msg("query %d did not arrive before any answer", i + 1);
		assert_true((q[i][2] & 0x80) == 0);	/* a query */
		assert_true((q[i][2] & 0x01) != 0);	/* RD, as ares_query */
		assert_true((q[i][3] & 0x20) != 0);	/* AD: RFC 6840 5.7 */
		assert_int_equal(q[i][4] << 8 | q[i][5], 1);
		/* the question name in text */
		while (off < (size_t)n[i] && q[i][off] != 0 && k + q[i][off] + 1 < sizeof(name[i])) {
			if (k > 0)
				name[i][k++] = '.';
			memcpy(name[i] + k, q[i] + off + 1, q[i][off]);
			k += q[i][off];
			off += q[i][off] + 1u;
		}
		name[i][k] = '\0';
		assert_true(off + 5 <= (size_t)n[i]);
		if (strcmp(name[i], "example.test") == 0 && q[i][off + 2] == MX_DNS_T_MX)
			saw_mx = true;
		if (strcmp(name[i], "_mta-sts.example.test") == 0 && q[i][off + 2] == MX_DNS_T_TXT)
			saw_txt = true;
	}
	assert_true(saw_mx);
	assert_true(saw_txt);
	assert_true(q[0][0] != q[1][0] || q[0][1] != q[1][1]);	/* IDs differ */
	assert_false(mx_lookup_done(l));
	mx_lookup_free(l);
	close(udp);
	close(tcp);
}

/* Which servers' AD bit counts. */
static void
test_resolve_server_trusted(void **state)
{
	char   *trusted[] = { "192.0.2.53", "198.51.100.7:5353", "[2001:db8::53]:53",
			      "not an address", "2001:db8::99" };
	size_t	nt = sizeof(trusted) / sizeof(trusted[0]);

	(void)state;
	/* loopback always */
	assert_true(mx_resolver_server_trusted("127.0.0.1", NULL, 0));
	assert_true(mx_resolver_server_trusted("127.0.0.53:53", NULL, 0));
	assert_true(mx_resolver_server_trusted("127.9.9.9:20053", NULL, 0));
	assert_true(mx_resolver_server_trusted("::1", NULL, 0));
	assert_true(mx_resolver_server_trusted("[::1]:5353", NULL, 0));
	assert_true(mx_resolver_server_trusted("[::ffff:127.0.0.1]:53", NULL, 0));
	/* others only when listed */
	assert_false(mx_resolver_server_trusted("192.0.2.53", NULL, 0));
	assert_false(mx_resolver_server_trusted("128.0.0.1", trusted, nt));
	assert_false(mx_resolver_server_trusted("[::2]:53", trusted, nt));
	assert_true(mx_resolver_server_trusted("192.0.2.53", trusted, nt));
	assert_true(mx_resolver_server_trusted("192.0.2.53:5300", trusted, nt));	/* any port */
	assert_true(mx_resolver_server_trusted("[::ffff:192.0.2.53]:53", trusted, nt));
	assert_true(mx_resolver_server_trusted("198.51.100.7:5353", trusted, nt));
	assert_false(mx_resolver_server_trusted("198.51.100.7", trusted, nt));	/* port 53 */
	assert_true(mx_resolver_server_trusted("2001:db8::53", trusted, nt));
	assert_true(mx_resolver_server_trusted("[2001:db8::53]:53", trusted, nt));
	assert_false(mx_resolver_server_trusted("[2001:db8::53]:54", trusted, nt));
	assert_true(mx_resolver_server_trusted("[2001:db8::99]:8053", trusted, nt));
	assert_false(mx_resolver_server_trusted("2001:db8::98", trusted, nt));
	/* not an address: never */
	assert_false(mx_resolver_server_trusted("localhost", trusted, nt));
	assert_false(mx_resolver_server_trusted("", trusted, nt));
}

/* The options from the config: trusted, TLSA port for DANE levels, MTA-STS. */
static void
test_resolve_opts_from_config(void **state)
{
	static const struct { const char *text; int tlsa_port; bool sts; } cases[] = {
		{ "smtp { tls_level = \"dane\"  port = 2525 }", 2525, true },
		{ "smtp { tls_level = \"dane-only\" }  tls { mta_sts = false }", 25, false },
		{ "smtp { tls_level = \"verify\"  port = 2525 }", 0, true },
		{ "smtp { tls_level = \"may\" }", 0, true },
	};
	char   *override[] = { "127.0.0.1:5353" };
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_config cfg;
		struct mx_resolver_opts o;
		char	text[512], err[256] = "";

		snprintf(text, sizeof(text), "resolver { servers = { \"192.0.2.1\" }  trusted = "
			 "{ \"192.0.2.1\", \"[2001:db8::1]:53\" } }\n%s\n", cases[i].text);
		if (!mx_config_load_buf(text, "test.conf", &cfg, err, sizeof(err)))
			fail_msg("%s: %s", text, err);
		mx_resolver_opts_from_config(&cfg, override, 1, &o);
		assert_int_equal(o.nservers, 1);
		assert_string_equal(o.servers[0], "127.0.0.1:5353");
		assert_int_equal(o.ntrusted, 2);
		assert_string_equal(o.trusted[0], "192.0.2.1");
		assert_string_equal(o.trusted[1], "[2001:db8::1]:53");
		if (o.tlsa_port != cases[i].tlsa_port || o.mta_sts != cases[i].sts)
			fail_msg("%s: tlsa_port %d mta_sts %d", cases[i].text, o.tlsa_port,
				 o.mta_sts);
		mx_config_free(&cfg);
	}
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
		cmocka_unit_test(test_resolve_dnssec_secure_domain),
		cmocka_unit_test(test_resolve_dnssec_aliases),
		cmocka_unit_test(test_resolve_dnssec_implicit_mx),
		cmocka_unit_test(test_resolve_dnssec_tlsa_only_when_wanted),
		cmocka_unit_test(test_resolve_dnssec_bogus),
		cmocka_unit_test(test_resolve_mta_sts_txt),
		cmocka_unit_test(test_resolve_queries_ask_for_ad),
		cmocka_unit_test(test_resolve_server_trusted),
		cmocka_unit_test(test_resolve_opts_from_config),
	};

	return cmocka_run_group_tests_name("resolve (real DNS on loopback)", tests, setup, NULL);
}
