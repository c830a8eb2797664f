/*
 * test_input - unit tests for the pure input-handling modules
 *
 * shared/domain (mail domain checking and normalising, IP-literal test),
 * shared/addr (IP, CIDR and endpoint parsing and printing), shared/rng
 * (splitmix64 determinism, range and uniformity of mx_rng_below) and
 * shared/dnsmsg (DNS answer parsing on hand-built wire messages, including
 * malformed, truncated and hostile ones, and the TXT and TLSA records of
 * MTA-STS and DANE) and the TLSA records of shared/dnsdata.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "dnsdata.h"
#include "dnsmsg.h"
#include "domain.h"
#include "rng.h"

/* ------------------------------------------------------------------ */
/* domain                                                              */
/* ------------------------------------------------------------------ */

/* domain_ok - name is accepted and normalises to want */
static void
domain_ok(const char *name, const char *want)
{
	char	out[MX_DOMAIN_MAX + 1];
	char	why[256] = "";

	if (!mx_domain_normalise(name, out, sizeof(out), why, sizeof(why)))
		fail_msg("'%s' rejected: %s", name, why);
	assert_string_equal(out, want);
}

/* domain_bad - name is rejected with a non-empty why containing needle */
static void
domain_bad(const char *name, const char *needle)
{
	char	out[MX_DOMAIN_MAX + 1];
	char	why[256] = "";

	if (mx_domain_normalise(name, out, sizeof(out), why, sizeof(why)))
		fail_msg("'%s' accepted as '%s'", name, out);
	assert_true(strlen(why) > 0);
	if (needle != NULL && strstr(why, needle) == NULL)
		fail_msg("why for '%s' is \"%s\", expected it to mention \"%s\"",
			 name, why, needle);
}

/* make_name - labels of the given lengths ('a'..), joined by dots, into buf */
static char *
make_name(char *buf, size_t buflen, const int *labels, size_t nlabels)
{
	size_t	pos = 0, i;
	int	j;

	for (i = 0; i < nlabels; i++) {
		if (i > 0)
			buf[pos++] = '.';
		for (j = 0; j < labels[i]; j++)
			buf[pos++] = (char)('a' + (int)(i % 26));
		assert_true(pos < buflen);
	}
	buf[pos] = '\0';
	return buf;
}

static void
test_domain_empty(void **state)
{
	(void)state;
	domain_bad("", "empty");
	domain_bad(NULL, "empty");
}

static void
test_domain_root(void **state)
{
	(void)state;
	domain_bad(".", "root");
	domain_bad("..", NULL);
}

static void
test_domain_simple(void **state)
{
	(void)state;
	domain_ok("example.com", "example.com");
	domain_ok("a", "a");
	domain_ok("a-b.c0", "a-b.c0");
	domain_ok("1.2.3.4.in-addr.arpa", "1.2.3.4.in-addr.arpa");
	domain_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	domain_ok("a--b.example", "a--b.example");
}

static void
test_domain_case_folded(void **state)
{
	(void)state;
	domain_ok("Mail.EXAMPLE.Com", "mail.example.com");
	domain_ok("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz");
}

static void
test_domain_trailing_dot(void **state)
{
	(void)state;
	domain_ok("example.com.", "example.com");
	domain_ok("a.", "a");
	domain_ok("EXAMPLE.COM.", "example.com");
}

static void
test_domain_empty_label(void **state)
{
	(void)state;
	domain_bad("a..b", "empty label");
	domain_bad(".a", "empty label");
	domain_bad(".a.", "empty label");
	domain_bad("a...", NULL);
	/* only one trailing dot may be removed; "a.." has an empty last label */
	domain_bad("a..", "empty label");
}

static void
test_domain_total_length(void **state)
{
	char	name[300], out[MX_DOMAIN_MAX + 1], why[256];
	/* 63+1+63+1+63+1+61 = 253 */
	int	l253[] = { 63, 63, 63, 61 };
	int	l254[] = { 63, 63, 63, 62 };
	size_t	n;

	(void)state;
	make_name(name, sizeof(name), l253, 4);
	assert_int_equal(strlen(name), 253);
	domain_ok(name, name);

	/* 253 octets plus the final dot is still 253 octets */
	n = strlen(name);
	strcpy(out, name);
	name[n] = '.';
	name[n + 1] = '\0';
	domain_ok(name, out);

	make_name(name, sizeof(name), l254, 4);
	assert_int_equal(strlen(name), 254);
	domain_bad(name, "253");
	n = strlen(name);
	name[n] = '.';
	name[n + 1] = '\0';
	domain_bad(name, "253");

	/* far too long must not be a problem either */
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(mx_domain_normalise(name, out, sizeof(out), why, sizeof(why)));
}

static void
test_domain_label_length(void **state)
{
	char	name[200];
	int	l63[] = { 63, 3 }, l64[] = { 64, 3 }, t63[] = { 3, 63 }, t64[] = { 3, 64 };
	int	only63[] = { 63 }, only64[] = { 64 };

	(void)state;
	make_name(name, sizeof(name), l63, 2);
	domain_ok(name, name);
	make_name(name, sizeof(name), t63, 2);
	domain_ok(name, name);
	make_name(name, sizeof(name), only63, 1);
	domain_ok(name, name);
	make_name(name, sizeof(name), l64, 2);
	domain_bad(name, "63");
	make_name(name, sizeof(name), t64, 2);
	domain_bad(name, "63");
	make_name(name, sizeof(name), only64, 1);
	domain_bad(name, "63");
}

static void
test_domain_bad_characters(void **state)
{
	(void)state;
	domain_bad("_dmarc.example.com", "'_'");
	domain_bad("ex_ample.com", "'_'");
	domain_bad("ex ample.com", "' '");
	domain_bad("user@example.com", "'@'");
	domain_bad("exa\x01mple.com", "0x01");
	domain_bad("exa\x7fmple.com", "0x7f");
	domain_bad("tab\t.example", "0x09");
	domain_bad("b\xc3\xbc" "cher.example", "non-ASCII");
	domain_bad("\xff", "non-ASCII");
	domain_bad("a\x80", "non-ASCII");
	domain_bad("example.com/", "'/'");
	domain_bad("example.com:25", "':'");
	domain_bad("*.example.com", "'*'");
}

static void
test_domain_hyphens(void **state)
{
	(void)state;
	domain_bad("-example.com", "starts with '-'");
	domain_bad("example.-com", "starts with '-'");
	domain_bad("example-.com", "ends with '-'");
	domain_bad("example.com-", "ends with '-'");
	domain_bad("example.com-.", "ends with '-'");
	domain_bad("-", NULL);
	domain_ok("ex-ample.c-om", "ex-ample.c-om");
}

static void
test_domain_address_literal(void **state)
{
	(void)state;
	domain_bad("[192.0.2.1]", "literal");
	domain_bad("[IPv6:2001:db8::1]", NULL);
}

static void
test_domain_output_too_small(void **state)
{
	char   *out;
	char	why[256] = "";

	(void)state;
	/* exact-size heap buffers so the sanitizer sees any overflow */
	out = malloc(11);
	assert_non_null(out);
	assert_false(mx_domain_normalise("example.com", out, 11, why, sizeof(why)));
	assert_true(strlen(why) > 0);
	free(out);

	out = malloc(12);
	assert_non_null(out);
	assert_true(mx_domain_normalise("example.com", out, 12, why, sizeof(why)));
	assert_string_equal(out, "example.com");
	free(out);

	/* trailing dot is not stored, so 12 bytes is enough for "example.com." */
	out = malloc(12);
	assert_non_null(out);
	assert_true(mx_domain_normalise("Example.com.", out, 12, why, sizeof(why)));
	assert_string_equal(out, "example.com");
	free(out);

	out = malloc(1);
	assert_non_null(out);
	why[0] = '\0';
	assert_false(mx_domain_normalise("a", out, 1, why, sizeof(why)));
	assert_true(strlen(why) > 0);
	free(out);
}

static void
test_domain_why_small(void **state)
{
	char	out[MX_DOMAIN_MAX + 1];
	char	why[8];

	(void)state;
	/* a short why buffer is filled but never overrun */
	memset(why, 'x', sizeof(why));
	assert_false(mx_domain_normalise("a_b", out, sizeof(out), why, sizeof(why)));
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

static void
test_domain_ip_literal(void **state)
{
	(void)state;
	assert_true(mx_domain_is_ip_literal("192.0.2.1"));
	assert_true(mx_domain_is_ip_literal("2001:db8::1"));
	assert_true(mx_domain_is_ip_literal("::1"));
	assert_true(mx_domain_is_ip_literal("[192.0.2.1]"));
	assert_true(mx_domain_is_ip_literal("[2001:db8::1]"));
	assert_true(mx_domain_is_ip_literal("192.0.2.1."));
	assert_false(mx_domain_is_ip_literal("mx.example.com"));
	assert_false(mx_domain_is_ip_literal("1.2.3"));
	assert_false(mx_domain_is_ip_literal("1.2.3.4.5"));
	assert_false(mx_domain_is_ip_literal("256.1.1.1"));
	assert_false(mx_domain_is_ip_literal(""));
	assert_false(mx_domain_is_ip_literal("[]"));
	assert_false(mx_domain_is_ip_literal("["));
	assert_false(mx_domain_is_ip_literal("."));
	assert_false(mx_domain_is_ip_literal(NULL));
	assert_false(mx_domain_is_ip_literal(
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc"));
}

/* ------------------------------------------------------------------ */
/* addr                                                                */
/* ------------------------------------------------------------------ */

/* ip - parse text that must be a valid address */
static struct mx_ip
ip(const char *text)
{
	struct mx_ip r;

	if (!mx_ip_parse(text, &r))
		fail_msg("'%s' did not parse", text);
	return r;
}

static void
test_addr_ip_parse_v4(void **state)
{
	struct mx_ip a;
	const uint8_t want[4] = { 192, 0, 2, 1 };

	(void)state;
	assert_true(mx_ip_parse("192.0.2.1", &a));
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, want, 4);
}

static void
test_addr_ip_parse_v6(void **state)
{
	struct mx_ip a;
	uint8_t	want[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	(void)state;
	want[15] = 1;
	assert_true(mx_ip_parse("2001:db8::1", &a));
	assert_int_equal(a.family, AF_INET6);
	assert_memory_equal(a.bytes, want, 16);
	assert_true(mx_ip_parse("2001:DB8:0:0:0:0:0:1", &a));
	assert_memory_equal(a.bytes, want, 16);
}

static void
test_addr_ip_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "256.0.0.0", "1.2.3.-1",
		" 1.2.3.4", "1.2.3.4 ", "1.2.3.4/32", "[::1]", "::1::2", "1:2:3:4:5:6:7:8:9",
		"12345::1", "gggg::1", "example.com", "::1%lo", "1.2.3.4:25", ":", "x",
	};
	struct mx_ip a;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mx_ip_parse(bad[i], &a))
			fail_msg("'%s' parsed as an address", bad[i]);
	assert_false(mx_ip_parse(NULL, &a));
}

static void
test_addr_ip_format_round_trip(void **state)
{
	static const char *const cases[][2] = {
		{ "192.0.2.1", "192.0.2.1" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "2001:DB8::1", "2001:db8::1" },
		{ "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
		{ "fe80::1:2:3:4", "fe80::1:2:3:4" },
		{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	char	buf[MX_IP_TEXT_MAX];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mx_ip a = ip(cases[i][0]), b;
		const char *s = mx_ip_format(&a, buf, sizeof(buf));

		assert_ptr_equal(s, buf);
		assert_string_equal(s, cases[i][1]);
		assert_true(mx_ip_parse(s, &b));
		assert_true(mx_ip_equal(&a, &b));
	}
}

static void
test_addr_ip_format_bad(void **state)
{
	struct mx_ip a;
	char	buf[MX_IP_TEXT_MAX];
	char	small[4];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.family = 12345;
	assert_string_equal(mx_ip_format(&a, buf, sizeof(buf)), "?");
	a = ip("192.0.2.1");
	assert_string_equal(mx_ip_format(&a, small, sizeof(small)), "?");
}

static void
test_addr_ip_equal(void **state)
{
	struct mx_ip a = ip("192.0.2.1"), b = ip("192.0.2.1"), c = ip("192.0.2.2");
	struct mx_ip z4 = ip("0.0.0.0"), z6 = ip("::");
	struct mx_ip v6a = ip("2001:db8::1"), v6b = ip("2001:db8::1"), v6c = ip("2001:db8::2");

	(void)state;
	assert_true(mx_ip_equal(&a, &b));
	assert_false(mx_ip_equal(&a, &c));
	assert_true(mx_ip_equal(&v6a, &v6b));
	assert_false(mx_ip_equal(&v6a, &v6c));
	assert_false(mx_ip_equal(&z4, &z6));
	assert_false(mx_ip_equal(&z6, &z4));
	/* only the four address bytes of an IPv4 address count */
	b.bytes[7] = 0x55;
	assert_true(mx_ip_equal(&a, &b));
}

/* cidr - parse text that must be a valid network */
static struct mx_cidr
cidr(const char *text)
{
	struct mx_cidr r;

	if (!mx_cidr_parse(text, &r))
		fail_msg("network '%s' did not parse", text);
	return r;
}

static void
test_addr_cidr_parse(void **state)
{
	struct mx_cidr n;
	struct mx_ip want;

	(void)state;
	n = cidr("10.0.0.0/8");
	want = ip("10.0.0.0");
	assert_true(mx_ip_equal(&n.net, &want));
	assert_int_equal(n.prefix, 8);

	n = cidr("::1/128");
	want = ip("::1");
	assert_true(mx_ip_equal(&n.net, &want));
	assert_int_equal(n.prefix, 128);

	n = cidr("192.0.2.1");
	assert_int_equal(n.net.family, AF_INET);
	assert_int_equal(n.prefix, 32);
	n = cidr("2001:db8::1");
	assert_int_equal(n.net.family, AF_INET6);
	assert_int_equal(n.prefix, 128);

	assert_int_equal(cidr("0.0.0.0/0").prefix, 0);
	assert_int_equal(cidr("::/0").prefix, 0);
	assert_int_equal(cidr("1.2.3.4/32").prefix, 32);
	assert_int_equal(cidr("2001:db8::/33").prefix, 33);
}

static void
test_addr_cidr_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "/8", "1.2.3.4/33", "::1/129", "1.2.3.4/", "1.2.3.4/x", "1.2.3.4/8x",
		"1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8", "1.2.3.4//8", "1.2.3.4/8/8",
		"1.2.3/8", "example.com/8", "::1/", "::1/1000", "1.2.3.4/99999999999999999999",
		"[::1]/128",
		"0000:0000:0000:0000:0000:0000:0000:0001/128xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct mx_cidr n;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mx_cidr_parse(bad[i], &n))
			fail_msg("'%s' parsed as a network", bad[i]);
	assert_false(mx_cidr_parse(NULL, &n));
}

/* in - does network text contain address text */
static bool
in(const char *net, const char *addr)
{
	struct mx_cidr n = cidr(net);
	struct mx_ip a = ip(addr);

	return mx_cidr_contains(&n, &a);
}

static void
test_addr_cidr_contains_byte_boundary(void **state)
{
	(void)state;
	assert_true(in("10.0.0.0/8", "10.0.0.0"));
	assert_true(in("10.0.0.0/8", "10.255.255.255"));
	assert_false(in("10.0.0.0/8", "11.0.0.0"));
	assert_false(in("10.0.0.0/8", "9.255.255.255"));
	assert_true(in("192.0.2.0/24", "192.0.2.200"));
	assert_false(in("192.0.2.0/24", "192.0.3.0"));
	assert_true(in("192.0.2.1/32", "192.0.2.1"));
	assert_false(in("192.0.2.1/32", "192.0.2.0"));
	assert_true(in("192.0.2.1", "192.0.2.1"));
	assert_false(in("192.0.2.1", "192.0.2.2"));
	assert_true(in("::1/128", "::1"));
	assert_false(in("::1/128", "::2"));
	assert_true(in("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(in("2001:db8::/32", "2001:db9::"));
	assert_true(in("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff"));
	assert_false(in("2001:db8::/64", "2001:db8:0:1::"));
}

static void
test_addr_cidr_contains_bit_boundary(void **state)
{
	(void)state;
	assert_true(in("192.0.2.0/25", "192.0.2.0"));
	assert_true(in("192.0.2.0/25", "192.0.2.127"));
	assert_false(in("192.0.2.0/25", "192.0.2.128"));
	assert_false(in("192.0.2.0/25", "192.0.2.255"));
	/* host bits in the network address do not matter */
	assert_true(in("192.0.2.130/25", "192.0.2.128"));
	assert_true(in("192.0.2.130/25", "192.0.2.255"));
	assert_false(in("192.0.2.130/25", "192.0.2.127"));
	assert_true(in("192.0.2.4/31", "192.0.2.5"));
	assert_false(in("192.0.2.4/31", "192.0.2.6"));
	assert_true(in("172.16.0.0/12", "172.31.255.255"));
	assert_false(in("172.16.0.0/12", "172.32.0.0"));
	assert_false(in("172.16.0.0/12", "172.15.255.255"));
	assert_true(in("128.0.0.0/1", "255.0.0.0"));
	assert_false(in("128.0.0.0/1", "127.255.255.255"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::"));
	assert_true(in("fe80::/10", "febf::1"));
	assert_false(in("fe80::/10", "fec0::1"));
	assert_true(in("::/127", "::1"));
	assert_false(in("::/127", "::2"));
}

static void
test_addr_cidr_contains_zero_prefix(void **state)
{
	(void)state;
	assert_true(in("0.0.0.0/0", "0.0.0.0"));
	assert_true(in("0.0.0.0/0", "255.255.255.255"));
	assert_true(in("10.1.2.3/0", "192.0.2.1"));
	assert_true(in("::/0", "::"));
	assert_true(in("::/0", "ffff::1"));
	assert_true(in("2001:db8::/0", "::1"));
}

static void
test_addr_cidr_contains_never_across_families(void **state)
{
	(void)state;
	assert_false(in("0.0.0.0/0", "::"));
	assert_false(in("0.0.0.0/0", "2001:db8::1"));
	assert_false(in("::/0", "0.0.0.0"));
	assert_false(in("::/0", "192.0.2.1"));
	assert_false(in("192.0.2.0/24", "::ffff:192.0.2.1"));
	assert_false(in("::ffff:192.0.2.0/120", "192.0.2.1"));
	assert_false(in("0.0.0.0/32", "::"));
}

/* unmapped - mx_ip_unmap of text, printed; "" when it is not IPv4-mapped */
static const char *
unmapped(const char *text, char *buf, size_t len)
{
	struct mx_ip a = ip(text), v4;

	buf[0] = '\0';
	if (mx_ip_unmap(&a, &v4)) {
		assert_int_equal(v4.family, AF_INET);
		mx_ip_format(&v4, buf, len);
	} else
		assert_true(mx_ip_equal(&a, &v4));	/* anything else comes back as is */
	return buf;
}

static void
test_addr_ip_unmap(void **state)
{
	char	buf[MX_IP_TEXT_MAX];

	(void)state;
	assert_string_equal(unmapped("::ffff:127.0.0.1", buf, sizeof(buf)), "127.0.0.1");
	assert_string_equal(unmapped("::ffff:192.0.2.1", buf, sizeof(buf)), "192.0.2.1");
	assert_string_equal(unmapped("::FFFF:c000:0201", buf, sizeof(buf)), "192.0.2.1");
	assert_string_equal(unmapped("::ffff:0.0.0.0", buf, sizeof(buf)), "0.0.0.0");
	assert_string_equal(unmapped("::ffff:255.255.255.255", buf, sizeof(buf)),
			    "255.255.255.255");
	/* not ::ffff:0:0/96 */
	assert_string_equal(unmapped("192.0.2.1", buf, sizeof(buf)), "");
	assert_string_equal(unmapped("::127.0.0.1", buf, sizeof(buf)), "");	/* compatible */
	assert_string_equal(unmapped("::fffe:127.0.0.1", buf, sizeof(buf)), "");
	assert_string_equal(unmapped("1::ffff:127.0.0.1", buf, sizeof(buf)), "");
	assert_string_equal(unmapped("64:ff9b::127.0.0.1", buf, sizeof(buf)), "");
	assert_string_equal(unmapped("::ffff", buf, sizeof(buf)), "");
	assert_string_equal(unmapped("::1", buf, sizeof(buf)), "");
}

/* ep - run mx_endpoint_parse with default port 25 and a roomy host buffer */
static bool
ep(const char *text, bool require_ip, char *host, int *port, char *why)
{
	memset(host, 0, 64);
	why[0] = '\0';
	return mx_endpoint_parse(text, 25, require_ip, host, 64, port, why, 128);
}

/* ep_ok - text parses to want_host and want_port */
static void
ep_ok(const char *text, bool require_ip, const char *want_host, int want_port)
{
	char	host[64], why[128];
	int	port = -1;

	if (!ep(text, require_ip, host, &port, why))
		fail_msg("endpoint '%s' rejected: %s", text, why);
	assert_string_equal(host, want_host);
	assert_int_equal(port, want_port);
}

/* ep_bad - text is rejected with a reason */
static void
ep_bad(const char *text, bool require_ip)
{
	char	host[64], why[128];
	int	port = -1;

	if (ep(text, require_ip, host, &port, why))
		fail_msg("endpoint '%s' accepted as host '%s' port %d", text ? text : "(null)",
			 host, port);
	if (strlen(why) == 0)
		fail_msg("endpoint '%s' rejected without a reason", text ? text : "(null)");
}

static void
test_addr_endpoint_ok(void **state)
{
	(void)state;
	ep_ok("127.0.0.1", true, "127.0.0.1", 25);
	ep_ok("127.0.0.1:5353", true, "127.0.0.1", 5353);
	ep_ok("[::1]:5353", true, "::1", 5353);
	ep_ok("::1", true, "::1", 25);
	ep_ok("2001:db8::53", true, "2001:db8::53", 25);
	ep_ok("[::1]", true, "::1", 25);
	ep_ok("[2001:db8::1]:1", true, "2001:db8::1", 1);
	ep_ok("192.0.2.1:65535", true, "192.0.2.1", 65535);
	ep_ok("host.example:25", false, "host.example", 25);
	ep_ok("host.example:587", false, "host.example", 587);
	ep_ok("host.example", false, "host.example", 25);
}

static void
test_addr_endpoint_require_ip(void **state)
{
	(void)state;
	ep_bad("host.example:25", true);
	ep_bad("host.example", true);
	ep_bad("localhost", true);
	ep_bad("1.2.3:53", true);
}

static void
test_addr_endpoint_bad_port(void **state)
{
	(void)state;
	ep_bad("127.0.0.1:0", true);
	ep_bad("127.0.0.1:65536", true);
	ep_bad("127.0.0.1:abc", true);
	ep_bad("127.0.0.1:", true);
	ep_bad("127.0.0.1:-1", true);
	ep_bad("127.0.0.1:+53", true);
	ep_bad("127.0.0.1: 53", true);
	ep_bad("127.0.0.1:53 ", true);
	ep_bad("127.0.0.1:53x", true);
	ep_bad("127.0.0.1:99999999999999999999", true);
	ep_bad("[::1]:0", true);
	ep_bad("[::1]:65536", true);
	ep_bad("[::1]:abc", true);
	ep_bad("[::1]:", true);
	ep_bad("host.example:0", false);
	ep_bad("host.example:abc", false);
}

static void
test_addr_endpoint_brackets(void **state)
{
	(void)state;
	ep_bad("[::1", true);
	ep_bad("[::1", false);
	ep_bad("[", true);
	ep_bad("[]", true);
	ep_bad("[]:53", true);
	ep_bad("[127.0.0.1]:53", true);
	ep_bad("[127.0.0.1]:53", false);
	ep_bad("[127.0.0.1]", true);
	ep_bad("[host.example]:53", false);
	ep_bad("[::1]x", true);
	ep_bad("[::1]53", true);
	ep_bad("[::1]]:53", true);
}

static void
test_addr_endpoint_empty(void **state)
{
	(void)state;
	ep_bad("", true);
	ep_bad("", false);
	ep_bad(NULL, true);
	ep_bad(":53", false);
	ep_bad(":53", true);
}

static void
test_addr_endpoint_host_too_long(void **state)
{
	char	host[8], why[128];
	int	port;

	(void)state;
	assert_false(mx_endpoint_parse("host.example:25", 25, false, host, sizeof(host),
				       &port, why, sizeof(why)));
	assert_true(strlen(why) > 0);
	assert_false(mx_endpoint_parse("[2001:db8::1]:25", 25, true, host, sizeof(host),
				       &port, why, sizeof(why)));
	assert_true(strlen(why) > 0);
	assert_true(mx_endpoint_parse("1.2.3.4:25", 25, true, host, sizeof(host),
				      &port, why, sizeof(why)));
	assert_string_equal(host, "1.2.3.4");
}

static void
test_addr_local_addrs(void **state)
{
	struct mx_ip *v;
	size_t	n = 12345, i;

	(void)state;
	v = mx_local_addrs(&n);
	if (v == NULL) {
		assert_int_equal(n, 0);
		return;
	}
	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_true(v[i].family == AF_INET || v[i].family == AF_INET6);
	free(v);
}

/* ------------------------------------------------------------------ */
/* rng                                                                 */
/* ------------------------------------------------------------------ */

static void
test_rng_known_values(void **state)
{
	struct mx_rng r;

	(void)state;
	/* splitmix64 reference outputs */
	mx_rng_seed(&r, 0);
	assert_true(mx_rng_next(&r) == 0xe220a8397b1dcdafULL);
	assert_true(mx_rng_next(&r) == 0x6e789e6aa1b965f4ULL);
	assert_true(mx_rng_next(&r) == 0x06c45d188009454fULL);
	mx_rng_seed(&r, 1234567);
	assert_true(mx_rng_next(&r) == 6457827717110365317ULL);
	assert_true(mx_rng_next(&r) == 3203168211198807973ULL);
	assert_true(mx_rng_next(&r) == 9817491932198370423ULL);
}

static void
test_rng_below_known_values(void **state)
{
	static const uint32_t want1000[] = { 436, 257, 70, 304, 360, 463, 916, 431 };
	static const uint32_t want7[] = { 3, 0, 6, 1, 2, 1, 2, 3 };
	struct mx_rng r;
	size_t	i;

	(void)state;
	/* pins the seeded sequence, so "--seed N" output cannot change silently */
	mx_rng_seed(&r, 1);
	for (i = 0; i < 8; i++)
		assert_int_equal(mx_rng_below(&r, 1000), want1000[i]);
	for (i = 0; i < 8; i++)
		assert_int_equal(mx_rng_below(&r, 7), want7[i]);
}

static void
test_rng_deterministic_per_seed(void **state)
{
	struct mx_rng a, b, c;
	uint64_t first[64];
	size_t	i, same = 0;

	(void)state;
	mx_rng_seed(&a, 42);
	mx_rng_seed(&b, 42);
	mx_rng_seed(&c, 43);
	for (i = 0; i < 64; i++) {
		first[i] = mx_rng_next(&a);
		assert_true(first[i] == mx_rng_next(&b));
		if (first[i] == mx_rng_next(&c))
			same++;
	}
	assert_int_equal(same, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(mx_rng_below(&a, 1000), mx_rng_below(&b, 1000));

	/* reseeding restarts the sequence */
	mx_rng_seed(&a, 42);
	for (i = 0; i < 64; i++)
		assert_true(mx_rng_next(&a) == first[i]);
}

static void
test_rng_below_range(void **state)
{
	static const uint32_t ns[] = {
		1, 2, 3, 7, 8, 10, 1000, 65536, 0x7fffffffU, 0x80000000U, 0x80000001U,
		0xc0000000U, 0xfffffffeU, 0xffffffffU,
	};
	struct mx_rng r;
	size_t	i, k;

	(void)state;
	mx_rng_seed(&r, 7);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		for (k = 0; k < 2000; k++) {
			uint32_t v = mx_rng_below(&r, ns[i]);

			if (v >= ns[i])
				fail_msg("mx_rng_below(%u) returned %u", ns[i], v);
		}
	for (k = 0; k < 100; k++)
		assert_int_equal(mx_rng_below(&r, 1), 0);
}

/* chi_square - draw n_draws values below buckets and return the statistic */
static double
chi_square(uint64_t seed, uint32_t buckets, unsigned n_draws)
{
	struct mx_rng r;
	unsigned count[16] = { 0 };
	double	expect = (double)n_draws / buckets, chi = 0;
	unsigned i;

	assert_true(buckets <= 16);
	mx_rng_seed(&r, seed);
	for (i = 0; i < n_draws; i++)
		count[mx_rng_below(&r, buckets)]++;
	for (i = 0; i < buckets; i++) {
		double d = count[i] - expect;

		assert_true(count[i] > 0);
		chi += d * d / expect;
	}
	return chi;
}

static void
test_rng_below_uniform(void **state)
{
	static const uint64_t seeds[] = { 1, 2, 42, 0xdeadbeefULL, 0xffffffffffffffffULL };
	size_t	i;

	(void)state;
	/*
	 * P(chi2 > 40) is below 5e-7 for 6 degrees of freedom and below 2e-6
	 * for 7, so a correct generator passes; the seeds are fixed anyway.
	 */
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		double	c7 = chi_square(seeds[i], 7, 70000);
		double	c8 = chi_square(seeds[i], 8, 80000);

		if (c7 > 40.0)
			fail_msg("seed %zu: chi-square over 7 buckets is %.2f", i, c7);
		if (c8 > 40.0)
			fail_msg("seed %zu: chi-square over 8 buckets is %.2f", i, c8);
	}
}

static void
test_rng_below_no_modulo_bias(void **state)
{
	struct mx_rng r;
	unsigned low = 0, i, n = 30000;

	(void)state;
	/*
	 * For n = 3 * 2^30 a plain "x % n" puts half of all draws below 2^30
	 * instead of a third. 30000 draws: sd of the count is about 82.
	 */
	mx_rng_seed(&r, 99);
	for (i = 0; i < n; i++)
		if (mx_rng_below(&r, 0xc0000000U) < 0x40000000U)
			low++;
	assert_in_range(low, n / 3 - 600, n / 3 + 600);
}

/* ------------------------------------------------------------------ */
/* dnsmsg                                                              */
/* ------------------------------------------------------------------ */

#define QNAME_OFF 12	/* the question name follows the header */
#define CLASS_IN 1
#define CLASS_CH 3

/* A DNS message under construction. */
struct msg {
	unsigned char b[2048];
	size_t	len;
};

static void
msg_u8(struct msg *m, unsigned v)
{
	assert_true(m->len + 1 <= sizeof(m->b));
	m->b[m->len++] = (unsigned char)v;
}

static void
msg_u16(struct msg *m, unsigned v)
{
	msg_u8(m, (v >> 8) & 0xff);
	msg_u8(m, v & 0xff);
}

static void
msg_u32(struct msg *m, uint32_t v)
{
	msg_u16(m, (v >> 16) & 0xffff);
	msg_u16(m, v & 0xffff);
}

static void
msg_bytes(struct msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

/* msg_labels - dotted text as labels, no terminating root label */
static size_t
msg_labels(struct msg *m, const char *name)
{
	size_t	start = m->len;

	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t	n = dot ? (size_t)(dot - name) : strlen(name);

		assert_true(n > 0 && n < 64);
		msg_u8(m, (unsigned)n);
		msg_bytes(m, name, n);
		name += n;
		if (*name == '.')
			name++;
	}
	return start;
}

/* msg_ptr - a compression pointer to off */
static void
msg_ptr(struct msg *m, size_t off)
{
	assert_true(off < 0x4000);
	msg_u16(m, 0xc000 | (unsigned)off);
}

/* msg_name - a full uncompressed name; "" is the root */
static size_t
msg_name(struct msg *m, const char *name)
{
	size_t	start = msg_labels(m, name);

	msg_u8(m, 0);
	return start;
}

/* msg_owner - owner name: NULL means a pointer to the question name */
static void
msg_owner(struct msg *m, const char *owner)
{
	if (owner == NULL)
		msg_ptr(m, QNAME_OFF);
	else
		msg_name(m, owner);
}

/* msg_header - id, flags and counts; QR and RD/RA set in flags by callers */
static void
msg_header(struct msg *m, unsigned flags, unsigned qd, unsigned an)
{
	m->len = 0;
	msg_u16(m, 0x1234);
	msg_u16(m, flags);
	msg_u16(m, qd);
	msg_u16(m, an);
	msg_u16(m, 0);
	msg_u16(m, 0);
}

#define FLAGS_OK	0x8180	/* QR RD RA, NOERROR */
#define FLAGS_TC	0x8380	/* QR TC RD RA */

/* msg_start - header plus one question (qname, qtype, IN) */
static void
msg_start(struct msg *m, unsigned flags, unsigned an, const char *qname, unsigned qtype)
{
	msg_header(m, flags, 1, an);
	msg_name(m, qname);
	msg_u16(m, qtype);
	msg_u16(m, CLASS_IN);
}

/* msg_rr_fixed - type, class, ttl and a placeholder rdlen; returns its offset */
static size_t
msg_rr_fixed(struct msg *m, unsigned type, unsigned class, uint32_t ttl)
{
	size_t	at;

	msg_u16(m, type);
	msg_u16(m, class);
	msg_u32(m, ttl);
	at = m->len;
	msg_u16(m, 0);
	return at;
}

/* msg_rr_begin - owner, then msg_rr_fixed */
static size_t
msg_rr_begin(struct msg *m, const char *owner, unsigned type, unsigned class, uint32_t ttl)
{
	msg_owner(m, owner);
	return msg_rr_fixed(m, type, class, ttl);
}

/* msg_rr_end - patch rdlen to what was written since msg_rr_begin */
static void
msg_rr_end(struct msg *m, size_t at)
{
	size_t	n = m->len - at - 2;

	m->b[at] = (unsigned char)(n >> 8);
	m->b[at + 1] = (unsigned char)(n & 0xff);
}

/* rr_addr - an A or AAAA record holding text */
static void
rr_addr(struct msg *m, const char *owner, uint32_t ttl, const char *text)
{
	struct mx_ip a = ip(text);
	size_t	at = msg_rr_begin(m, owner, a.family == AF_INET ? MX_DNS_T_A : MX_DNS_T_AAAA,
				  CLASS_IN, ttl);

	msg_bytes(m, a.bytes, a.family == AF_INET ? 4 : 16);
	msg_rr_end(m, at);
}

/* rr_cname - a CNAME record owner -> target (uncompressed target) */
static void
rr_cname(struct msg *m, const char *owner, const char *target)
{
	size_t	at = msg_rr_begin(m, owner, MX_DNS_T_CNAME, CLASS_IN, 300);

	msg_name(m, target);
	msg_rr_end(m, at);
}

/* rr_mx - an MX record with an uncompressed exchange */
static void
rr_mx(struct msg *m, const char *owner, unsigned pref, const char *exchange)
{
	size_t	at = msg_rr_begin(m, owner, MX_DNS_T_MX, CLASS_IN, 300);

	msg_u16(m, pref);
	msg_name(m, exchange);
	msg_rr_end(m, at);
}

/*
 * parse - run mx_dnsmsg_parse on an exact-size heap copy (so the sanitizer
 * and valgrind see any read past the end); on false the why must be set and
 * the arrays must already be released.
 */
static bool
parse_len(const struct msg *m, size_t len, const char *qname, int qtype,
	  struct mx_dnsmsg_answer *a)
{
	unsigned char *copy = malloc(len ? len : 1);
	char	why[256] = "";
	bool	ok;

	assert_non_null(copy);
	memcpy(copy, m->b, len);
	memset(a, 0x5a, sizeof(*a));
	ok = mx_dnsmsg_parse(copy, len, qname, qtype, a, why, sizeof(why));
	free(copy);
	if (!ok) {
		assert_true(strlen(why) > 0);
		assert_null(a->mx);
		assert_null(a->addrs);
		assert_int_equal(a->nmx, 0);
		assert_int_equal(a->naddrs, 0);
	}
	return ok;
}

static bool
parse(const struct msg *m, const char *qname, int qtype, struct mx_dnsmsg_answer *a)
{
	return parse_len(m, m->len, qname, qtype, a);
}

/* addr_is - the i-th address of an answer is text */
static void
addr_is(const struct mx_dnsmsg_answer *a, size_t i, const char *text)
{
	struct mx_ip want = ip(text);
	char	buf[MX_IP_TEXT_MAX];

	assert_true(i < a->naddrs);
	if (!mx_ip_equal(&a->addrs[i].ip, &want))
		fail_msg("address %zu is %s, expected %s", i,
			 mx_ip_format(&a->addrs[i].ip, buf, sizeof(buf)), text);
}

static void
test_dnsmsg_mx_two_records(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;

	(void)state;
	msg_start(&m, FLAGS_OK, 2, "example.com", MX_DNS_T_MX);
	/* uncompressed, mixed case */
	rr_mx(&m, NULL, 10, "MX1.Example.COM");
	/* compressed: "mx2" + pointer to the question's "example.com" */
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 20);
	msg_labels(&m, "Mx2");
	msg_ptr(&m, QNAME_OFF);
	msg_rr_end(&m, at);

	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_int_equal(a.rcode, 0);
	assert_false(a.truncated);
	assert_int_equal(a.hops, 0);
	assert_false(a.alias_only);
	assert_string_equal(a.owner, "example.com");
	assert_int_equal(a.nmx, 2);
	assert_int_equal(a.naddrs, 0);
	assert_int_equal(a.mx[0].pref, 10);
	assert_string_equal(a.mx[0].name, "mx1.example.com");
	assert_int_equal(a.mx[1].pref, 20);
	assert_string_equal(a.mx[1].name, "mx2.example.com");
	mx_dnsmsg_answer_free(&a);
	assert_null(a.mx);
	assert_int_equal(a.nmx, 0);
}

static void
test_dnsmsg_mx_pref_extremes(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 2, "example.com", MX_DNS_T_MX);
	rr_mx(&m, NULL, 0, "a.example.com");
	rr_mx(&m, NULL, 65535, "b.example.com");
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_int_equal(a.nmx, 2);
	assert_int_equal(a.mx[0].pref, 0);
	assert_int_equal(a.mx[1].pref, 65535);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_null_mx(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	rr_mx(&m, NULL, 0, "");
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_int_equal(a.nmx, 1);
	assert_int_equal(a.mx[0].pref, 0);
	assert_string_equal(a.mx[0].name, "");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_a_ttls(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 4, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, NULL, 60, "192.0.2.1");
	rr_addr(&m, NULL, 0x7fffffffU, "192.0.2.2");
	rr_addr(&m, NULL, 0x80000000U, "192.0.2.3");
	rr_addr(&m, NULL, 0xffffffffU, "192.0.2.4");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 4);
	assert_int_equal(a.nmx, 0);
	addr_is(&a, 0, "192.0.2.1");
	addr_is(&a, 1, "192.0.2.2");
	addr_is(&a, 2, "192.0.2.3");
	addr_is(&a, 3, "192.0.2.4");
	assert_int_equal(a.addrs[0].ttl, 60);
	assert_int_equal(a.addrs[1].ttl, 0x7fffffffU);
	assert_int_equal(a.addrs[2].ttl, 0);
	assert_int_equal(a.addrs[3].ttl, 0);
	assert_string_equal(a.owner, "mx.example.com");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_aaaa(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 3, "mx.example.com", MX_DNS_T_AAAA);
	rr_addr(&m, NULL, 3600, "2001:db8::25");
	rr_addr(&m, NULL, 3600, "192.0.2.9");	/* an A record: other type, ignored */
	rr_addr(&m, NULL, 0x90000000U, "2001:db8::26");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_AAAA, &a));
	assert_int_equal(a.naddrs, 2);
	addr_is(&a, 0, "2001:db8::25");
	addr_is(&a, 1, "2001:db8::26");
	assert_int_equal(a.addrs[0].ip.family, AF_INET6);
	assert_int_equal(a.addrs[0].ttl, 3600);
	assert_int_equal(a.addrs[1].ttl, 0);
	mx_dnsmsg_answer_free(&a);

	/* and asking for A in the same message finds only the A record */
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.9");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_cname_then_a(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 2, "www.example.com", MX_DNS_T_A);
	rr_cname(&m, NULL, "Web.Example.COM");
	rr_addr(&m, "web.example.com", 120, "192.0.2.80");
	assert_true(parse(&m, "www.example.com", MX_DNS_T_A, &a));
	assert_string_equal(a.owner, "web.example.com");
	assert_int_equal(a.hops, 1);
	assert_false(a.alias_only);
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.80");
	assert_int_equal(a.addrs[0].ttl, 120);
	mx_dnsmsg_answer_free(&a);

	/* same records, address first */
	msg_start(&m, FLAGS_OK, 2, "www.example.com", MX_DNS_T_A);
	rr_addr(&m, "web.example.com", 120, "192.0.2.80");
	rr_cname(&m, NULL, "web.example.com");
	assert_true(parse(&m, "www.example.com", MX_DNS_T_A, &a));
	assert_string_equal(a.owner, "web.example.com");
	assert_int_equal(a.hops, 1);
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_cname_compressed_target(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at, target;

	(void)state;
	msg_start(&m, FLAGS_OK, 2, "example.com", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_CNAME, CLASS_IN, 300);
	target = msg_labels(&m, "mail");
	msg_ptr(&m, QNAME_OFF);
	msg_rr_end(&m, at);
	/* owner is a pointer into the CNAME's rdata */
	msg_ptr(&m, target);
	at = msg_rr_fixed(&m, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 5);
	msg_labels(&m, "mx");
	msg_ptr(&m, target);
	msg_rr_end(&m, at);

	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_string_equal(a.owner, "mail.example.com");
	assert_int_equal(a.hops, 1);
	assert_int_equal(a.nmx, 1);
	assert_int_equal(a.mx[0].pref, 5);
	assert_string_equal(a.mx[0].name, "mx.mail.example.com");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_cname_only(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 1, "www.example.com", MX_DNS_T_AAAA);
	rr_cname(&m, NULL, "web.example.net");
	assert_true(parse(&m, "www.example.com", MX_DNS_T_AAAA, &a));
	assert_true(a.alias_only);
	assert_string_equal(a.owner, "web.example.net");
	assert_int_equal(a.hops, 1);
	assert_int_equal(a.naddrs, 0);
	assert_int_equal(a.nmx, 0);
	mx_dnsmsg_answer_free(&a);
}

/* chain - qname c0.example -> c1.example -> ... -> c<n>.example, then an A */
static void
build_chain(struct msg *m, int n)
{
	char	from[32], to[32];
	int	i;

	msg_start(m, FLAGS_OK, (unsigned)n + 1, "c0.example", MX_DNS_T_A);
	for (i = 0; i < n; i++) {
		snprintf(from, sizeof(from), "c%d.example", i);
		snprintf(to, sizeof(to), "c%d.example", i + 1);
		rr_cname(m, from, to);
	}
	snprintf(to, sizeof(to), "c%d.example", n);
	rr_addr(m, to, 300, "192.0.2.53");
}

static void
test_dnsmsg_cname_chain_max_ok(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	build_chain(&m, MX_DNS_MAX_CNAME_HOPS);
	assert_true(parse(&m, "c0.example", MX_DNS_T_A, &a));
	assert_int_equal(a.hops, MX_DNS_MAX_CNAME_HOPS);
	assert_string_equal(a.owner, "c8.example");
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.53");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_cname_chain_too_long(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	build_chain(&m, MX_DNS_MAX_CNAME_HOPS + 1);
	assert_false(parse(&m, "c0.example", MX_DNS_T_A, &a));
	assert_true(a.hops > MX_DNS_MAX_CNAME_HOPS);
}

static void
test_dnsmsg_cname_loop(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 2, "a.example", MX_DNS_T_A);
	rr_cname(&m, "a.example", "b.example");
	rr_cname(&m, "b.example", "a.example");
	assert_false(parse(&m, "a.example", MX_DNS_T_A, &a));

	/* a name that is its own alias */
	msg_start(&m, FLAGS_OK, 1, "a.example", MX_DNS_T_A);
	rr_cname(&m, NULL, "A.EXAMPLE");
	assert_false(parse(&m, "a.example", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_other_owner_ignored(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 3, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, "evil.example.net", 300, "203.0.113.66");
	rr_addr(&m, NULL, 300, "192.0.2.1");
	rr_cname(&m, "other.example.com", "evil.example.net");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.1");
	assert_int_equal(a.hops, 0);
	mx_dnsmsg_answer_free(&a);

	/* nothing at all for the asked name */
	msg_start(&m, FLAGS_OK, 1, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, "mx.example.com.evil", 300, "203.0.113.66");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 0);
	assert_int_equal(a.hops, 0);
	assert_false(a.alias_only);
	assert_string_equal(a.owner, "mx.example.com");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_owner_case_and_dot(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 1, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, "MX.Example.Com", 300, "192.0.2.1");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);
	assert_true(parse(&m, "mx.example.com.", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_empty_answer(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 0, "example.com", MX_DNS_T_MX);
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_int_equal(a.nmx, 0);
	assert_null(a.mx);
	assert_false(a.alias_only);
	mx_dnsmsg_answer_free(&a);

	/* no question section at all */
	msg_header(&m, FLAGS_OK, 0, 1);
	rr_addr(&m, "mx.example.com", 300, "192.0.2.1");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_a_bad_rdlen(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;
	static const unsigned char five[5] = { 192, 0, 2, 1, 0 };

	(void)state;
	msg_start(&m, FLAGS_OK, 1, "mx.example.com", MX_DNS_T_A);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_A, CLASS_IN, 300);
	msg_bytes(&m, five, 5);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "mx.example.com", MX_DNS_T_A, &a));

	/* a 4-octet AAAA is malformed too */
	msg_start(&m, FLAGS_OK, 1, "mx.example.com", MX_DNS_T_AAAA);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_AAAA, CLASS_IN, 300);
	msg_bytes(&m, five, 4);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "mx.example.com", MX_DNS_T_AAAA, &a));
}

static void
test_dnsmsg_mx_bad_rdata(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;

	(void)state;
	/* two octets: a preference and no exchange */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 10);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "example.com", MX_DNS_T_MX, &a));

	/* rdlen ends inside the exchange name; the rest trails the record */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 10);
	msg_name(&m, "mx.example.com");
	msg_rr_end(&m, at);
	m.b[at + 1] = 5;
	assert_false(parse(&m, "example.com", MX_DNS_T_MX, &a));
}

static void
test_dnsmsg_pointer_self_loop(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;

	(void)state;
	/* question name is a pointer to itself */
	msg_header(&m, FLAGS_OK, 1, 0);
	msg_ptr(&m, QNAME_OFF);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* answer owner is a pointer to itself */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_A);
	msg_ptr(&m, m.len);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	msg_u32(&m, 300);
	msg_u16(&m, 4);
	msg_u32(&m, 0xc0000201U);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* CNAME target: a label, then a pointer back to that label */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_A);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_CNAME, CLASS_IN, 300);
	msg_labels(&m, "loop");
	msg_ptr(&m, at + 2);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* MX exchange pointing to itself */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 10);
	msg_ptr(&m, m.len);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "example.com", MX_DNS_T_MX, &a));
}

static void
test_dnsmsg_pointer_two_loop(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	first;

	(void)state;
	/* two pointers that point at each other */
	msg_header(&m, FLAGS_OK, 1, 0);
	first = m.len;
	msg_ptr(&m, first + 2);
	msg_ptr(&m, first);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_pointer_forward_chain(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	i;

	(void)state;
	/* 40 pointers each to the next, ending in a real name: bounded */
	msg_header(&m, FLAGS_OK, 1, 0);
	for (i = 0; i < 40; i++)
		msg_ptr(&m, m.len + 2);
	msg_name(&m, "example.com");
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	/* either outcome is fine; it must terminate and be clean */
	if (parse(&m, "example.com", MX_DNS_T_A, &a))
		mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_pointer_past_end(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;

	(void)state;
	msg_header(&m, FLAGS_OK, 1, 0);
	msg_ptr(&m, 0x3fff);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* a pointer to exactly the end of the message */
	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 10);
	msg_ptr(&m, m.len + 2);
	msg_rr_end(&m, at);
	assert_false(parse(&m, "example.com", MX_DNS_T_MX, &a));

	/* a pointer whose second octet is missing */
	msg_header(&m, FLAGS_OK, 1, 0);
	msg_u8(&m, 0xc0);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_short_header(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	n;

	(void)state;
	msg_header(&m, FLAGS_OK, 0, 0);
	for (n = 0; n < 12; n++)
		assert_false(parse_len(&m, n, "example.com", MX_DNS_T_A, &a));
	assert_true(parse_len(&m, 12, "example.com", MX_DNS_T_A, &a));
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_ancount_too_large(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_OK, 3, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, NULL, 300, "192.0.2.1");
	rr_addr(&m, NULL, 300, "192.0.2.2");
	assert_false(parse(&m, "mx.example.com", MX_DNS_T_A, &a));

	/* the same with TC: what was there is kept */
	msg_start(&m, FLAGS_TC, 3, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, NULL, 300, "192.0.2.1");
	rr_addr(&m, NULL, 300, "192.0.2.2");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_true(a.truncated);
	assert_int_equal(a.naddrs, 2);
	addr_is(&a, 0, "192.0.2.1");
	addr_is(&a, 1, "192.0.2.2");
	mx_dnsmsg_answer_free(&a);

	/* huge ancount, nothing present */
	msg_start(&m, FLAGS_OK, 0xffff, "mx.example.com", MX_DNS_T_A);
	assert_false(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_tc_cut_record(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	full;

	(void)state;
	msg_start(&m, FLAGS_TC, 2, "mx.example.com", MX_DNS_T_AAAA);
	rr_addr(&m, NULL, 300, "2001:db8::1");
	full = m.len;
	rr_addr(&m, NULL, 300, "2001:db8::2");
	/* cut inside the second record's rdata, and inside its fixed part */
	assert_true(parse_len(&m, m.len - 3, "mx.example.com", MX_DNS_T_AAAA, &a));
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "2001:db8::1");
	mx_dnsmsg_answer_free(&a);
	assert_true(parse_len(&m, full + 5, "mx.example.com", MX_DNS_T_AAAA, &a));
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);

	/* without TC both are malformed */
	m.b[2] &= (unsigned char)~0x02;
	assert_false(parse_len(&m, m.len - 3, "mx.example.com", MX_DNS_T_AAAA, &a));
	assert_false(parse_len(&m, full + 5, "mx.example.com", MX_DNS_T_AAAA, &a));
}

static void
test_dnsmsg_every_prefix(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	n, at;

	(void)state;
	msg_start(&m, FLAGS_OK, 3, "example.com", MX_DNS_T_MX);
	rr_mx(&m, NULL, 10, "mx1.example.com");
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 20);
	msg_labels(&m, "mx2");
	msg_ptr(&m, QNAME_OFF);
	msg_rr_end(&m, at);
	rr_mx(&m, NULL, 30, "");
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_int_equal(a.nmx, 3);
	mx_dnsmsg_answer_free(&a);
	/* every proper prefix is missing part of a record */
	for (n = 0; n < m.len; n++)
		if (parse_len(&m, n, "example.com", MX_DNS_T_MX, &a))
			fail_msg("prefix of %zu of %zu octets accepted", n, m.len);
}

static void
test_dnsmsg_rcode(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, 0x8183, 0, "nope.example", MX_DNS_T_MX);
	assert_true(parse(&m, "nope.example", MX_DNS_T_MX, &a));
	assert_int_equal(a.rcode, 3);
	assert_int_equal(a.nmx, 0);
	mx_dnsmsg_answer_free(&a);

	msg_start(&m, 0x8182, 0, "broken.example", MX_DNS_T_MX);
	assert_true(parse(&m, "broken.example", MX_DNS_T_MX, &a));
	assert_int_equal(a.rcode, 2);
	mx_dnsmsg_answer_free(&a);

	msg_start(&m, 0x8185, 0, "refused.example", MX_DNS_T_A);
	assert_true(parse(&m, "refused.example", MX_DNS_T_A, &a));
	assert_int_equal(a.rcode, 5);
	assert_false(a.truncated);
	mx_dnsmsg_answer_free(&a);

	/* all four rcode bits count; AA, RD, RA, Z, AD, CD do not leak in */
	msg_start(&m, 0x85f9, 0, "example", MX_DNS_T_A);
	assert_true(parse(&m, "example", MX_DNS_T_A, &a));
	assert_int_equal(a.rcode, 9);
	assert_false(a.truncated);
	mx_dnsmsg_answer_free(&a);
	msg_start(&m, 0x85f0, 0, "example", MX_DNS_T_A);
	assert_true(parse(&m, "example", MX_DNS_T_A, &a));
	assert_int_equal(a.rcode, 0);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_tc_bit(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_TC, 1, "example.com", MX_DNS_T_MX);
	rr_mx(&m, NULL, 10, "mx.example.com");
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_true(a.truncated);
	assert_int_equal(a.rcode, 0);
	assert_int_equal(a.nmx, 1);
	mx_dnsmsg_answer_free(&a);

	msg_start(&m, FLAGS_OK, 1, "example.com", MX_DNS_T_MX);
	rr_mx(&m, NULL, 10, "mx.example.com");
	assert_true(parse(&m, "example.com", MX_DNS_T_MX, &a));
	assert_false(a.truncated);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_odd_label_bytes(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at, i;
	static const unsigned char dotted[] = { 3, 'a', '.', 'b', 7, 'e', 'x', 'a', 'm', 'p',
						'l', 'e', 0 };
	static const unsigned char ctrl[] = { 4, 'a', 0x00, 0x0a, 0xff, 7, 'e', 'x', 'a',
					      'm', 'p', 'l', 'e', 0 };

	(void)state;
	/* an owner whose first label holds a '.': not the name a.b.example */
	msg_start(&m, FLAGS_OK, 2, "a.b.example", MX_DNS_T_A);
	msg_bytes(&m, dotted, sizeof(dotted));
	at = msg_rr_fixed(&m, MX_DNS_T_A, CLASS_IN, 300);
	msg_u32(&m, 0xcb007142U);
	msg_rr_end(&m, at);
	rr_addr(&m, "a.b.example", 300, "192.0.2.1");
	assert_true(parse(&m, "a.b.example", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.1");
	mx_dnsmsg_answer_free(&a);

	/* an MX exchange with NUL, newline and 0xff octets */
	msg_start(&m, FLAGS_OK, 1, "example", MX_DNS_T_MX);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&m, 10);
	msg_bytes(&m, ctrl, sizeof(ctrl));
	msg_rr_end(&m, at);
	assert_true(parse(&m, "example", MX_DNS_T_MX, &a));
	assert_int_equal(a.nmx, 1);
	assert_int_equal(strlen(a.mx[0].name), 12);	/* no NUL cut it short */
	for (i = 0; a.mx[0].name[i] != '\0'; i++)
		assert_true(a.mx[0].name[i] > 0x20 && a.mx[0].name[i] < 0x7f);
	assert_null(strchr(a.mx[0].name, '\n'));
	mx_dnsmsg_answer_free(&a);

	/* a CNAME target with a '.' inside a label: followed as the odd name */
	msg_start(&m, FLAGS_OK, 1, "example", MX_DNS_T_A);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_CNAME, CLASS_IN, 300);
	msg_bytes(&m, dotted, sizeof(dotted));
	msg_rr_end(&m, at);
	assert_true(parse(&m, "example", MX_DNS_T_A, &a));
	assert_true(a.alias_only);
	assert_string_not_equal(a.owner, "a.b.example");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_class_ch_skipped(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;

	(void)state;
	msg_start(&m, FLAGS_OK, 3, "mx.example.com", MX_DNS_T_A);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_A, CLASS_CH, 300);
	msg_u32(&m, 0xcb007101U);
	msg_rr_end(&m, at);
	/* a CH record with a length no IN A record may have: still just skipped */
	at = msg_rr_begin(&m, NULL, MX_DNS_T_A, CLASS_CH, 300);
	msg_bytes(&m, "chaos", 5);
	msg_rr_end(&m, at);
	rr_addr(&m, NULL, 300, "192.0.2.1");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	addr_is(&a, 0, "192.0.2.1");
	mx_dnsmsg_answer_free(&a);

	/* a CH CNAME is not followed */
	msg_start(&m, FLAGS_OK, 2, "mx.example.com", MX_DNS_T_A);
	at = msg_rr_begin(&m, NULL, MX_DNS_T_CNAME, CLASS_CH, 300);
	msg_name(&m, "elsewhere.example");
	msg_rr_end(&m, at);
	rr_addr(&m, "elsewhere.example", 300, "203.0.113.1");
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 0);
	assert_int_equal(a.hops, 0);
	assert_false(a.alias_only);
	assert_string_equal(a.owner, "mx.example.com");
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_class_ch_past_end(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	at;
	bool	ok;

	(void)state;
	/*
	 * An IN record, then a CH record whose rdlen runs past the end, TC
	 * clear: malformed, like the same thing in class IN.
	 */
	msg_start(&m, FLAGS_OK, 2, "mx.example.com", MX_DNS_T_A);
	rr_addr(&m, NULL, 300, "192.0.2.1");
	at = msg_rr_begin(&m, NULL, MX_DNS_T_A, CLASS_CH, 300);
	msg_u32(&m, 0xcb007101U);
	msg_rr_end(&m, at);
	m.b[at + 1] = 100;
	ok = parse(&m, "mx.example.com", MX_DNS_T_A, &a);
	if (ok)
		mx_dnsmsg_answer_free(&a);
	assert_false(ok);

	/* with TC it is a cut answer and the IN record is kept */
	m.b[2] |= 0x02;
	assert_true(parse(&m, "mx.example.com", MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_name_too_long(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	int	i;

	(void)state;
	/* five 63-octet labels: 320 octets on the wire, more than 255 */
	msg_header(&m, FLAGS_OK, 1, 0);
	for (i = 0; i < 5; i++) {
		unsigned char label[63];

		memset(label, 'a' + i, sizeof(label));
		msg_u8(&m, 63);
		msg_bytes(&m, label, sizeof(label));
	}
	msg_u8(&m, 0);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* the same length built from a pointer loop through a long label */
	msg_header(&m, FLAGS_OK, 1, 0);
	{
		unsigned char label[63];

		memset(label, 'z', sizeof(label));
		msg_u8(&m, 63);
		msg_bytes(&m, label, sizeof(label));
		msg_ptr(&m, QNAME_OFF);
	}
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_name_max_length(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;
	char	name[300];
	/* 253 octets of text: 255 on the wire, the most allowed */
	int	labels[] = { 63, 63, 63, 61 };

	(void)state;
	make_name(name, sizeof(name), labels, 4);
	msg_start(&m, FLAGS_OK, 1, name, MX_DNS_T_A);
	rr_addr(&m, NULL, 300, "192.0.2.1");
	assert_true(parse(&m, name, MX_DNS_T_A, &a));
	assert_int_equal(a.naddrs, 1);
	assert_string_equal(a.owner, name);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_extended_label_type(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_header(&m, FLAGS_OK, 1, 0);
	msg_u8(&m, 0x41);	/* 01xxxxxx: EDNS0 extended label */
	msg_u8(&m, 0);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	msg_header(&m, FLAGS_OK, 1, 0);
	msg_u8(&m, 0x80);	/* 10xxxxxx: reserved */
	msg_u8(&m, 0);
	msg_u16(&m, MX_DNS_T_A);
	msg_u16(&m, CLASS_IN);
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_question_cut(void **state)
{
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_header(&m, FLAGS_OK, 1, 0);
	msg_name(&m, "example.com");
	msg_u16(&m, MX_DNS_T_A);	/* class missing */
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));

	/* qdcount says 2, one present */
	msg_start(&m, FLAGS_OK, 0, "example.com", MX_DNS_T_A);
	m.b[5] = 2;
	assert_false(parse(&m, "example.com", MX_DNS_T_A, &a));
}

static void
test_dnsmsg_mutations_do_not_crash(void **state)
{
	struct msg base, m;
	struct mx_dnsmsg_answer a;
	struct mx_rng r;
	size_t	at;
	int	i, k;
	static const int types[] = { MX_DNS_T_MX, MX_DNS_T_A, MX_DNS_T_AAAA };

	(void)state;
	msg_start(&base, FLAGS_OK, 5, "example.com", MX_DNS_T_MX);
	rr_cname(&base, NULL, "alias.example.com");
	rr_mx(&base, "alias.example.com", 10, "mx1.example.com");
	at = msg_rr_begin(&base, "alias.example.com", MX_DNS_T_MX, CLASS_IN, 300);
	msg_u16(&base, 20);
	msg_labels(&base, "mx2");
	msg_ptr(&base, QNAME_OFF);
	msg_rr_end(&base, at);
	rr_addr(&base, "mx1.example.com", 300, "192.0.2.1");
	rr_addr(&base, "mx1.example.com", 300, "2001:db8::1");

	mx_rng_seed(&r, 20240601);
	for (i = 0; i < 3000; i++) {
		size_t	len = base.len;

		m = base;
		for (k = 0; k < 1 + (int)mx_rng_below(&r, 4); k++) {
			size_t	pos = mx_rng_below(&r, (uint32_t)base.len);

			switch (mx_rng_below(&r, 4)) {
			case 0:
				m.b[pos] = (unsigned char)mx_rng_below(&r, 256);
				break;
			case 1:
				m.b[pos] ^= (unsigned char)(1u << mx_rng_below(&r, 8));
				break;
			case 2:
				m.b[pos] = 0xc0;
				break;
			default:
				len = 12 + mx_rng_below(&r, (uint32_t)(base.len - 12));
				break;
			}
		}
		if (parse_len(&m, len, "example.com", types[i % 3], &a)) {
			assert_true(a.hops >= 0 && a.hops <= MX_DNS_MAX_CNAME_HOPS);
			assert_true(a.nmx == 0 || a.mx != NULL);
			assert_true(a.naddrs == 0 || a.addrs != NULL);
			assert_true(strlen(a.owner) <= MX_DOMAIN_MAX);
			mx_dnsmsg_answer_free(&a);
		}
	}
}

/* ------------------------------------------------------------------ */
/* dnsmsg: TXT and TLSA                                                */
/* ------------------------------------------------------------------ */

#define FLAGS_AD	0x81a0	/* QR RD RA AD */

/* msg_rr - owner (NULL: the question name), type, IN, TTL 300, rdata as given */
static void
msg_rr(struct msg *m, const char *owner, unsigned type, const void *rdata, size_t rdlen)
{
	size_t	at = msg_rr_begin(m, owner, type, CLASS_IN, 300);

	msg_bytes(m, rdata, rdlen);
	msg_rr_end(m, at);
}

/* parse_msg - parse an exact-size heap copy; on failure nothing is left allocated */
static bool
parse_msg(const struct msg *m, size_t len, const char *qname, int qtype,
	  struct mx_dnsmsg_answer *a)
{
	unsigned char *copy = malloc(len ? len : 1);
	char	why[256] = "";
	bool	ok;

	assert_non_null(copy);
	memcpy(copy, m->b, len);
	ok = mx_dnsmsg_parse(copy, len, qname, qtype, a, why, sizeof(why));
	free(copy);
	if (!ok) {
		assert_true(why[0] != '\0');
		assert_null(a->txt);
		assert_null(a->tlsa);
		assert_int_equal(a->ntxt + a->ntlsa, 0);
	}
	return ok;
}

static void
test_dnsmsg_txt(void **state)
{
	static const unsigned char sts[] = "\x09v=STSv1; \x13id=20240101T000000;";
	static const unsigned char other[] = "\x05hello\x00\x05world";
	static const unsigned char empty[] = "\x00";
	struct msg m;
	struct mx_dnsmsg_answer a;

	(void)state;
	msg_start(&m, FLAGS_AD, 4, "_mta-sts.example.org", MX_DNS_T_TXT);
	msg_rr(&m, NULL, MX_DNS_T_TXT, sts, sizeof(sts) - 1);
	msg_rr(&m, NULL, MX_DNS_T_TXT, other, sizeof(other) - 1);
	msg_rr(&m, NULL, MX_DNS_T_TXT, empty, 1);
	msg_rr(&m, "other.example.org", MX_DNS_T_TXT, sts, sizeof(sts) - 1);	/* not ours */
	assert_true(parse_msg(&m, m.len, "_mta-sts.example.org", MX_DNS_T_TXT, &a));
	assert_true(a.ad);
	assert_int_equal(a.ntxt, 3);
	assert_int_equal(a.txt[0].len, 28);
	assert_string_equal(a.txt[0].text, "v=STSv1; id=20240101T000000;");	/* joined */
	assert_int_equal(a.txt[1].len, 10);
	assert_memory_equal(a.txt[1].text, "helloworld", 10);	/* an empty string between */
	assert_int_equal(a.txt[2].len, 0);
	assert_string_equal(a.txt[2].text, "");
	assert_int_equal(a.nmx + a.naddrs + a.ntlsa, 0);
	mx_dnsmsg_answer_free(&a);
	assert_null(a.txt);
	assert_int_equal(a.ntxt, 0);

	/* no AD bit; a TXT record behind an alias */
	msg_start(&m, FLAGS_OK, 2, "_mta-sts.example.org", MX_DNS_T_TXT);
	msg_rr(&m, NULL, MX_DNS_T_CNAME, "\x03sts\x07" "example\x03net\x00", 17);
	msg_rr(&m, "sts.example.net", MX_DNS_T_TXT, sts, sizeof(sts) - 1);
	assert_true(parse_msg(&m, m.len, "_mta-sts.example.org", MX_DNS_T_TXT, &a));
	assert_false(a.ad);
	assert_int_equal(a.hops, 1);
	assert_string_equal(a.owner, "sts.example.net");
	assert_int_equal(a.ntxt, 1);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_txt_malformed(void **state)
{
	static const struct { const char *what; const char *rdata; size_t len; } bad[] = {
		{ "no string at all", "", 0 },
		{ "a string longer than the record", "\x05hell", 5 },
		{ "the second string cut", "\x02hi\x03yo", 6 },
		{ "a lone length octet past the first string", "\x01" "a\x01", 3 },
	};
	static const unsigned char good[] = "\x02hi\x02yo";
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	i, cut;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_start(&m, FLAGS_OK, 2, "t.example.org", MX_DNS_T_TXT);
		msg_rr(&m, NULL, MX_DNS_T_TXT, good, sizeof(good) - 1);	/* one good first */
		msg_rr(&m, NULL, MX_DNS_T_TXT, bad[i].rdata, bad[i].len);
		if (parse_msg(&m, m.len, "t.example.org", MX_DNS_T_TXT, &a)) {
			mx_dnsmsg_answer_free(&a);
			fail_msg("TXT with %s parsed", bad[i].what);
		}
	}
	/* the message cut anywhere inside the record: never read past the end */
	msg_start(&m, FLAGS_OK, 1, "t.example.org", MX_DNS_T_TXT);
	msg_rr(&m, NULL, MX_DNS_T_TXT, good, sizeof(good) - 1);
	for (cut = 12; cut < m.len; cut++) {
		if (parse_msg(&m, cut, "t.example.org", MX_DNS_T_TXT, &a)) {
			assert_int_equal(a.ntxt, 0);
			mx_dnsmsg_answer_free(&a);
		}
	}
}

static void
test_dnsmsg_tlsa(void **state)
{
	unsigned char rd[3 + 32], big[3 + 64];
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	i;

	(void)state;
	rd[0] = 3;
	rd[1] = 1;
	rd[2] = 1;
	for (i = 0; i < 32; i++)
		rd[3 + i] = (unsigned char)(0xa0 + i);
	big[0] = 2;
	big[1] = 0;
	big[2] = 2;
	memset(big + 3, 0xee, 64);
	msg_start(&m, FLAGS_AD, 4, "_25._tcp.mx.example.org", MX_DNS_T_TLSA);
	msg_rr(&m, NULL, MX_DNS_T_CNAME, "\x04_25x\x04_tcp\x07" "example\x03net\x00", 23);
	msg_rr(&m, "_25x._tcp.example.net", MX_DNS_T_TLSA, rd, sizeof(rd));
	msg_rr(&m, "_25x._tcp.example.net", MX_DNS_T_TLSA, big, sizeof(big));
	msg_rr(&m, "_25x._tcp.example.net", MX_DNS_T_TLSA, "\xff\xfe\xfd", 3);	/* no data */
	assert_true(parse_msg(&m, m.len, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a));
	assert_true(a.ad);
	assert_int_equal(a.hops, 1);
	assert_int_equal(a.ntlsa, 3);
	assert_int_equal(a.tlsa[0].usage, 3);
	assert_int_equal(a.tlsa[0].selector, 1);
	assert_int_equal(a.tlsa[0].mtype, 1);
	assert_int_equal(a.tlsa[0].len, 32);
	assert_memory_equal(a.tlsa[0].data, rd + 3, 32);
	assert_int_equal(a.tlsa[1].usage, 2);
	assert_int_equal(a.tlsa[1].mtype, 2);
	assert_int_equal(a.tlsa[1].len, 64);
	assert_memory_equal(a.tlsa[1].data, big + 3, 64);
	assert_int_equal(a.tlsa[2].usage, 255);
	assert_int_equal(a.tlsa[2].selector, 254);
	assert_int_equal(a.tlsa[2].mtype, 253);
	assert_int_equal(a.tlsa[2].len, 0);
	assert_null(a.tlsa[2].data);
	assert_int_equal(a.ntxt + a.nmx + a.naddrs, 0);
	mx_dnsmsg_answer_free(&a);
	assert_null(a.tlsa);
	assert_int_equal(a.ntlsa, 0);

	/* only an alias: the caller asks again */
	msg_start(&m, FLAGS_OK, 1, "_25._tcp.mx.example.org", MX_DNS_T_TLSA);
	msg_rr(&m, NULL, MX_DNS_T_CNAME, "\x04_25x\x04_tcp\x07" "example\x03net\x00", 23);
	assert_true(parse_msg(&m, m.len, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a));
	assert_true(a.alias_only);
	assert_int_equal(a.ntlsa, 0);
	mx_dnsmsg_answer_free(&a);
}

static void
test_dnsmsg_tlsa_malformed(void **state)
{
	static const unsigned char rd[] = { 3, 1, 1, 0xaa, 0xbb };
	struct msg m;
	struct mx_dnsmsg_answer a;
	size_t	len, cut;

	(void)state;
	for (len = 0; len < 3; len++) {
		msg_start(&m, FLAGS_OK, 2, "_25._tcp.mx.example.org", MX_DNS_T_TLSA);
		msg_rr(&m, NULL, MX_DNS_T_TLSA, rd, sizeof(rd));
		msg_rr(&m, NULL, MX_DNS_T_TLSA, rd, len);
		if (parse_msg(&m, m.len, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a)) {
			mx_dnsmsg_answer_free(&a);
			fail_msg("TLSA record of %zu octets parsed", len);
		}
	}
	/* an RDATA length past the end of the message */
	msg_start(&m, FLAGS_OK, 1, "_25._tcp.mx.example.org", MX_DNS_T_TLSA);
	msg_rr(&m, NULL, MX_DNS_T_TLSA, rd, sizeof(rd));
	m.b[m.len - sizeof(rd) - 1] += 1;
	assert_false(parse_msg(&m, m.len, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a));
	m.b[m.len - sizeof(rd) - 1] -= 1;
	/* cut anywhere: never read past the end */
	for (cut = 12; cut < m.len; cut++) {
		if (parse_msg(&m, cut, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a)) {
			assert_int_equal(a.ntlsa, 0);
			mx_dnsmsg_answer_free(&a);
		}
	}
	/* with TC set, a cut record is expected and left out */
	m.b[2] |= 0x02;
	assert_true(parse_msg(&m, m.len - 1, "_25._tcp.mx.example.org", MX_DNS_T_TLSA, &a));
	assert_true(a.truncated);
	assert_int_equal(a.ntlsa, 0);
	mx_dnsmsg_answer_free(&a);
}

/* The addrset keeps its own copy of TLSA data; the result frees it. */
static void
test_dnsdata_add_tlsa(void **state)
{
	struct mx_dns_result *r = mx_dns_result_new("example.org");
	struct mx_dns_addrset *s;
	unsigned char data[3] = { 1, 2, 3 };

	(void)state;
	assert_non_null(r);
	s = mx_dns_result_set(r, "mx.example.org");
	assert_non_null(s);
	assert_true(mx_dns_addrset_add_tlsa(s, 3, 1, 1, data, sizeof(data)));
	assert_true(mx_dns_addrset_add_tlsa(s, 2, 0, 0, NULL, 0));
	data[0] = 9;
	assert_int_equal(s->ntlsa, 2);
	assert_int_equal(s->tlsa[0].len, 3);
	assert_int_equal(s->tlsa[0].data[0], 1);
	assert_int_equal(s->tlsa[1].usage, 2);
	assert_null(s->tlsa[1].data);
	mx_dns_result_free(r);		/* valgrind (make check-valgrind) checks the rest */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domain_empty),
		cmocka_unit_test(test_domain_root),
		cmocka_unit_test(test_domain_simple),
		cmocka_unit_test(test_domain_case_folded),
		cmocka_unit_test(test_domain_trailing_dot),
		cmocka_unit_test(test_domain_empty_label),
		cmocka_unit_test(test_domain_total_length),
		cmocka_unit_test(test_domain_label_length),
		cmocka_unit_test(test_domain_bad_characters),
		cmocka_unit_test(test_domain_hyphens),
		cmocka_unit_test(test_domain_address_literal),
		cmocka_unit_test(test_domain_output_too_small),
		cmocka_unit_test(test_domain_why_small),
		cmocka_unit_test(test_domain_ip_literal),

		cmocka_unit_test(test_addr_ip_parse_v4),
		cmocka_unit_test(test_addr_ip_parse_v6),
		cmocka_unit_test(test_addr_ip_parse_bad),
		cmocka_unit_test(test_addr_ip_format_round_trip),
		cmocka_unit_test(test_addr_ip_format_bad),
		cmocka_unit_test(test_addr_ip_equal),
		cmocka_unit_test(test_addr_cidr_parse),
		cmocka_unit_test(test_addr_cidr_parse_bad),
		cmocka_unit_test(test_addr_cidr_contains_byte_boundary),
		cmocka_unit_test(test_addr_cidr_contains_bit_boundary),
		cmocka_unit_test(test_addr_cidr_contains_zero_prefix),
		cmocka_unit_test(test_addr_cidr_contains_never_across_families),
		cmocka_unit_test(test_addr_ip_unmap),
		cmocka_unit_test(test_addr_endpoint_ok),
		cmocka_unit_test(test_addr_endpoint_require_ip),
		cmocka_unit_test(test_addr_endpoint_bad_port),
		cmocka_unit_test(test_addr_endpoint_brackets),
		cmocka_unit_test(test_addr_endpoint_empty),
		cmocka_unit_test(test_addr_endpoint_host_too_long),
		cmocka_unit_test(test_addr_local_addrs),

		cmocka_unit_test(test_rng_known_values),
		cmocka_unit_test(test_rng_below_known_values),
		cmocka_unit_test(test_rng_deterministic_per_seed),
		cmocka_unit_test(test_rng_below_range),
		cmocka_unit_test(test_rng_below_uniform),
		cmocka_unit_test(test_rng_below_no_modulo_bias),

		cmocka_unit_test(test_dnsmsg_mx_two_records),
		cmocka_unit_test(test_dnsmsg_mx_pref_extremes),
		cmocka_unit_test(test_dnsmsg_null_mx),
		cmocka_unit_test(test_dnsmsg_a_ttls),
		cmocka_unit_test(test_dnsmsg_aaaa),
		cmocka_unit_test(test_dnsmsg_cname_then_a),
		cmocka_unit_test(test_dnsmsg_cname_compressed_target),
		cmocka_unit_test(test_dnsmsg_cname_only),
		cmocka_unit_test(test_dnsmsg_cname_chain_max_ok),
		cmocka_unit_test(test_dnsmsg_cname_chain_too_long),
		cmocka_unit_test(test_dnsmsg_cname_loop),
		cmocka_unit_test(test_dnsmsg_other_owner_ignored),
		cmocka_unit_test(test_dnsmsg_owner_case_and_dot),
		cmocka_unit_test(test_dnsmsg_empty_answer),
		cmocka_unit_test(test_dnsmsg_a_bad_rdlen),
		cmocka_unit_test(test_dnsmsg_mx_bad_rdata),
		cmocka_unit_test(test_dnsmsg_pointer_self_loop),
		cmocka_unit_test(test_dnsmsg_pointer_two_loop),
		cmocka_unit_test(test_dnsmsg_pointer_forward_chain),
		cmocka_unit_test(test_dnsmsg_pointer_past_end),
		cmocka_unit_test(test_dnsmsg_short_header),
		cmocka_unit_test(test_dnsmsg_ancount_too_large),
		cmocka_unit_test(test_dnsmsg_tc_cut_record),
		cmocka_unit_test(test_dnsmsg_every_prefix),
		cmocka_unit_test(test_dnsmsg_rcode),
		cmocka_unit_test(test_dnsmsg_tc_bit),
		cmocka_unit_test(test_dnsmsg_odd_label_bytes),
		cmocka_unit_test(test_dnsmsg_class_ch_skipped),
		cmocka_unit_test(test_dnsmsg_class_ch_past_end),
		cmocka_unit_test(test_dnsmsg_name_too_long),
		cmocka_unit_test(test_dnsmsg_name_max_length),
		cmocka_unit_test(test_dnsmsg_extended_label_type),
		cmocka_unit_test(test_dnsmsg_question_cut),
		cmocka_unit_test(test_dnsmsg_mutations_do_not_crash),
		cmocka_unit_test(test_dnsmsg_txt),
		cmocka_unit_test(test_dnsmsg_txt_malformed),
		cmocka_unit_test(test_dnsmsg_tlsa),
		cmocka_unit_test(test_dnsmsg_tlsa_malformed),
		cmocka_unit_test(test_dnsdata_add_tlsa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
