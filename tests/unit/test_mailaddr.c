/*
 * test_mailaddr - unit tests for envelope addresses on the wire and for
 * internationalised domain names
 *
 * shared/mailaddr (control characters refused, RFC 5321 quoting of local
 * parts that are not dot-atoms, A-label domains, printable copies) and
 * shared/idn (IDNA2008 with the UTS#46 mapping, non-transitional).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idn.h"
#include "mailaddr.h"

/* wire_ok - addr must convert to want */
static void
wire_ok(const char *addr, const char *want)
{
	char	why[120] = "", *out = NULL;

	assert_int_equal(mx_mailaddr_wire(addr, &out, why, sizeof(why)), MX_MAILADDR_OK);
	assert_non_null(out);
	if (strcmp(out, want) != 0)
		fail_msg("\"%s\" became \"%s\", want \"%s\"", addr, out, want);
	free(out);
}

/* wire_refused - addr must be refused, why matching the octet */
static void
wire_refused(const char *addr, const char *want_why)
{
	char	why[120] = "", *out = (char *)"untouched";

	assert_int_equal(mx_mailaddr_wire(addr, &out, why, sizeof(why)), MX_MAILADDR_CONTROL);
	assert_null(out);
	if (strstr(why, want_why) == NULL)
		fail_msg("refusal of \"%s\" says \"%s\", want \"%s\" in it", addr, why, want_why);
}

static void
test_mailaddr_dot_atoms_unchanged(void **state)
{
	(void)state;
	wire_ok("user@example.com", "user@example.com");
	wire_ok("first.last+tag@Example.COM", "first.last+tag@Example.COM");
	wire_ok("a!#$%&'*+-/=?^_`{|}~z@example.com", "a!#$%&'*+-/=?^_`{|}~z@example.com");
	wire_ok("postmaster", "postmaster");
	wire_ok("", "");		/* the null sender */
	wire_ok("u@[192.0.2.1]", "u@[192.0.2.1]");
}

static void
test_mailaddr_quotes_what_is_not_a_dot_atom(void **state)
{
	(void)state;
	wire_ok("john doe@example.com", "\"john doe\"@example.com");
	wire_ok("a\"b@example.com", "\"a\\\"b\"@example.com");
	wire_ok("a\\b@example.com", "\"a\\\\b\"@example.com");
	wire_ok("a..b@example.com", "\"a..b\"@example.com");
	wire_ok(".a@example.com", "\".a\"@example.com");
	wire_ok("a.@example.com", "\"a.\"@example.com");
	wire_ok("a@b@example.com", "\"a@b\"@example.com");	/* the last "@" splits */
	wire_ok("a(b)<c>[d],e;f:g@example.com", "\"a(b)<c>[d],e;f:g\"@example.com");
	wire_ok("@example.com", "\"\"@example.com");
}

static void
test_mailaddr_refuses_control_characters(void **state)
{
	(void)state;
	wire_refused("u@example.com>\r\nRCPT TO:<x@y", "0x0d at octet 15");
	wire_refused("a\nb@example.com", "0x0a at octet 2");
	wire_refused("a\tb@example.com", "0x09");
	wire_refused("a\x7f" "b@example.com", "0x7f");
	wire_refused("a@exam\x01ple.com", "0x01");
	wire_refused("\x1f", "0x1f at octet 1");
}

static void
test_mailaddr_idn_domains_become_a_labels(void **state)
{
	(void)state;
	wire_ok("u@b\xc3\xbc" "cher.example", "u@xn--bcher-kva.example");
	wire_ok("u@B\xc3\x9c" "CHER.Example", "u@xn--bcher-kva.example");
	wire_ok("u@fa\xc3\x9f.de", "u@xn--fa-hia.de");	/* non-transitional: not fass.de */
	/* a UTF-8 local part stays (it needs SMTPUTF8); only the domain converts */
	wire_ok("j\xc3\xb8rn@b\xc3\xbc" "cher.example", "j\xc3\xb8rn@xn--bcher-kva.example");
	/* and is quoted when it is no dot-atom */
	wire_ok("j\xc3\xb8rn x@example.com", "\"j\xc3\xb8rn x\"@example.com");
	/* a domain IDNA refuses is kept as it is: the server judges it */
	wire_ok("u@\xe2\x98\x83.example", "u@\xe2\x98\x83.example");
}

static void
test_mailaddr_printable(void **state)
{
	char	out[32];

	(void)state;
	mx_mailaddr_printable("a\r\nb\x7f" "c", out, sizeof(out));
	assert_string_equal(out, "a??b?c");
	mx_mailaddr_printable("j\xc3\xb8rn", out, sizeof(out));
	assert_string_equal(out, "j\xc3\xb8rn");
	mx_mailaddr_printable("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

/* idn_ok - name must become want */
static void
idn_ok(const char *name, const char *want)
{
	char	out[256], why[160] = "";

	if (mx_idn_domain(name, out, sizeof(out), why, sizeof(why)) != MX_IDN_OK)
		fail_msg("\"%s\" refused: %s", name, why);
	assert_string_equal(out, want);
}

/* idn_refused - name must be refused, why containing want_why */
static void
idn_refused(const char *name, const char *want_why)
{
	char	out[256], why[160] = "";

	if (mx_idn_domain(name, out, sizeof(out), why, sizeof(why)) != MX_IDN_INVALID)
		fail_msg("\"%s\" accepted as \"%s\"", name, out);
	if (strstr(why, want_why) == NULL)
		fail_msg("refusal of \"%s\" says \"%s\", want \"%s\" in it", name, why, want_why);
}

static void
test_idn_domain(void **state)
{
	(void)state;
	idn_ok("Example.COM.", "example.com");
	idn_ok("b\xc3\xbc" "cher.example", "xn--bcher-kva.example");
	idn_ok("B\xc3\x9c" "CHER.EXAMPLE.", "xn--bcher-kva.example");
	idn_ok("fa\xc3\x9f.de", "xn--fa-hia.de");
	idn_ok("xn--bcher-kva.example", "xn--bcher-kva.example");
	/* U+2603 SNOWMAN is disallowed in IDNA2008 */
	idn_refused("\xe2\x98\x83.example", "IDNA2008");
	idn_refused("caf\xe9.example", "IDNA2008");	/* Latin-1, not UTF-8 */
	idn_refused("b\xc3\xbc" "cher_x.example", "'_'");	/* converted, then checked */
	idn_refused("bad..example", "empty label");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailaddr_dot_atoms_unchanged),
		cmocka_unit_test(test_mailaddr_quotes_what_is_not_a_dot_atom),
		cmocka_unit_test(test_mailaddr_refuses_control_characters),
		cmocka_unit_test(test_mailaddr_idn_domains_become_a_labels),
		cmocka_unit_test(test_mailaddr_printable),
		cmocka_unit_test(test_idn_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
