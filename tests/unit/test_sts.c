/*
 * test_sts - unit tests for shared/sts: the MTA-STS TXT record (RFC 8461
 * 3.1), the policy text (3.2), mx pattern matching (4.1), expiry and the
 * cache decision (5.1). Pure: no network, no clock.
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

#include "sts.h"

/* id_ok - txt must be valid with id want */
static void
id_ok(const char *txt, const char *want)
{
	char	id[MX_STS_ID_MAX + 1] = "x", why[160] = "";

	if (!mx_sts_txt_id(txt, id, sizeof(id), why, sizeof(why)))
		fail_msg("\"%s\" refused (%s), want id %s", txt, why, want);
	if (strcmp(id, want) != 0)
		fail_msg("\"%s\" gave id \"%s\", want \"%s\"", txt, id, want);
}

/* id_bad - txt must be refused, why containing want_why */
static void
id_bad(const char *txt, const char *want_why)
{
	char	id[MX_STS_ID_MAX + 1], why[160] = "";

	if (mx_sts_txt_id(txt, id, sizeof(id), why, sizeof(why)))
		fail_msg("\"%s\" accepted (id %s)", txt, id);
	if (strstr(why, want_why) == NULL)
		fail_msg("\"%s\": why \"%s\" lacks \"%s\"", txt, why, want_why);
	assert_string_equal(id, "");
}

static void
test_sts_txt_valid(void **state)
{
	(void)state;
	/* RFC 8461 3.1 */
	id_ok("v=STSv1; id=20160831085700Z;", "20160831085700Z");
	id_ok("v=STSv1; id=20160831085700Z", "20160831085700Z");
	id_ok("v=STSv1;id=abc", "abc");
	id_ok("v=STSv1 ;\tid=abc ; ", "abc");
	/* unknown fields are ignored, before or after the id */
	id_ok("v=STSv1; ext=foo; id=A1; other-field=x.y", "A1");
	/* exactly 32 characters */
	id_ok("v=STSv1; id=0123456789abcdefABCDEF0123456789", "0123456789abcdefABCDEF0123456789");
}

static void
test_sts_txt_invalid(void **state)
{
	(void)state;
	id_bad("v=STSv2; id=abc;", "does not start with v=STSv1");
	id_bad("v=STSv10; id=abc;", "v=STSv1 is not followed");
	id_bad("v=spf1 -all", "does not start with v=STSv1");
	id_bad(" v=STSv1; id=abc", "does not start with v=STSv1");
	id_bad("id=abc; v=STSv1", "does not start with v=STSv1");
	id_bad("v=STSv1;", "no id");
	id_bad("v=STSv1", "no id");
	id_bad("v=STSv1; foo=bar;", "no id");
	id_bad("v=STSv1; id=;", "not key=value");
	id_bad("v=STSv1; id=0123456789abcdefABCDEF0123456789X", "33 characters");
	id_bad("v=STSv1; id=2016-08-31", "letters and digits");
	id_bad("v=STSv1; id=a b", "bad character");
	id_bad("v=STSv1; id=a; id=b", "more than one id");
	id_bad("v=STSv1;; id=abc", "empty field");
	id_bad("v=STSv1; junk; id=abc", "not key=value");
	id_bad("v=STSv1 id=abc", "not followed by ';'");
	id_bad(NULL, "does not start");
}

/* policy_ok - text must parse */
static void
policy_ok(const char *text, struct mx_sts_policy *p)
{
	char	why[200] = "";

	memset(p, 0, sizeof(*p));
	if (!mx_sts_policy_parse(text, strlen(text), p, why, sizeof(why)))
		fail_msg("policy refused: %s\n%s", why, text);
}

/* policy_bad - text must be refused, why containing want_why */
static void
policy_bad(const char *text, const char *want_why)
{
	struct mx_sts_policy p;
	char	why[200] = "";

	memset(&p, 0, sizeof(p));
	if (mx_sts_policy_parse(text, strlen(text), &p, why, sizeof(why)))
		fail_msg("policy accepted, want \"%s\":\n%s", want_why, text);
	if (strstr(why, want_why) == NULL)
		fail_msg("why \"%s\" lacks \"%s\" for:\n%s", why, want_why, text);
}

static void
test_sts_policy_rfc_example(void **state)
{
	struct mx_sts_policy p;

	(void)state;
	/* RFC 8461 3.2, CRLF lines */
	policy_ok("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
		  "mx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n", &p);
	assert_int_equal(p.mode, MX_STS_MODE_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.nmx, 3);
	assert_string_equal(p.mx[0], "mail.example.com");
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.mx[2], "backupmx.example.com");

	/* LF lines, no final newline, upper-case patterns folded, unknown keys */
	policy_ok("version: STSv1\nmode:testing\nmx:   MX1.Example.COM  \nfoo: bar\n"
		  "max_age:86400", &p);
	assert_int_equal(p.mode, MX_STS_MODE_TESTING);
	assert_int_equal(p.max_age, 86400);
	assert_int_equal(p.nmx, 1);
	assert_string_equal(p.mx[0], "mx1.example.com");
	assert_string_equal(mx_sts_mode_name(p.mode), "testing");

	/* mode none needs no mx; domain and id are left alone */
	memset(&p, 0, sizeof(p));
	strcpy(p.domain, "example.com");
	strcpy(p.id, "abc");
	assert_true(mx_sts_policy_parse("version: STSv1\nmode: none\nmax_age: 0\n", 37, &p,
					NULL, 0));
	assert_int_equal(p.mode, MX_STS_MODE_NONE);
	assert_int_equal(p.nmx, 0);
	assert_int_equal(p.max_age, 0);
	assert_string_equal(p.domain, "example.com");
	assert_string_equal(p.id, "abc");
	assert_string_equal(mx_sts_mode_name(MX_STS_MODE_NONE), "none");
	assert_string_equal(mx_sts_mode_name(MX_STS_MODE_ENFORCE), "enforce");
}

static void
test_sts_policy_max_age(void **state)
{
	struct mx_sts_policy p;

	(void)state;
	policy_ok("version: STSv1\nmode: none\nmax_age: 31557600\n", &p);
	assert_int_equal(p.max_age, 31557600);
	/* above a year: capped (see sts.c) */
	policy_ok("version: STSv1\nmode: none\nmax_age: 9999999999\n", &p);
	assert_int_equal(p.max_age, MX_STS_MAX_AGE);
	policy_bad("version: STSv1\nmode: none\nmax_age: 12345678901\n", "max_age");
	policy_bad("version: STSv1\nmode: none\nmax_age: -1\n", "max_age");
	policy_bad("version: STSv1\nmode: none\nmax_age: 1d\n", "max_age");
	policy_bad("version: STSv1\nmode: none\nmax_age:\n", "max_age");
}

static void
test_sts_policy_invalid(void **state)
{
	(void)state;
	policy_bad("mode: enforce\nmx: a.example\nmax_age: 1\n", "first line");
	policy_bad("mode: enforce\nversion: STSv1\nmx: a.example\nmax_age: 1\n", "first line");
	policy_bad("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", "not STSv1");
	policy_bad("version: STSv1\nmx: a.example\nmax_age: 1\n", "no mode");
	policy_bad("version: STSv1\nmode: enforce\nmx: a.example\n", "no max_age");
	policy_bad("version: STSv1\nmode: enforcing\nmx: a.example\nmax_age: 1\n", "mode");
	policy_bad("version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n", "mode");
	policy_bad("version: STSv1\nmode: enforce\nmax_age: 1\n", "no mx line in mode enforce");
	policy_bad("version: STSv1\nmode: testing\nmax_age: 1\n", "no mx line in mode testing");
	policy_bad("version: STSv1\nmode: enforce\nmode: none\nmx: a.example\nmax_age: 1\n",
		   "twice");
	policy_bad("version: STSv1\nmode: enforce\nthis is not a field\nmx: a\nmax_age: 1\n",
		   "line 3");
	policy_bad("version: STSv1\nmode: enforce\nmx: mx.*.example.com\nmax_age: 1\n",
		   "leftmost");
	policy_bad("version: STSv1\nmode: enforce\nmx: *mx.example.com\nmax_age: 1\n",
		   "whole label");
	policy_bad("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 1\n",
		   "leftmost");
	policy_bad("version: STSv1\nmode: enforce\nmx: bad_name.example\nmax_age: 1\n",
		   "mx pattern");
	policy_bad("version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", "mx pattern");
	policy_bad("version: STSv1\nmode: enforce\nmx:\nmax_age: 1\n", "mx pattern");
	policy_bad("", "no 'version");
	policy_bad("<html>404</html>", "not 'key: value'");
	{
		/* a NUL octet inside the length */
		struct mx_sts_policy p;
		char	why[100] = "";

		assert_false(mx_sts_policy_parse("version: STSv1\n\0mode: none\nmax_age: 1\n",
						 38, &p, why, sizeof(why)));
		assert_non_null(strstr(why, "NUL"));
	}
}

static void
test_sts_policy_too_many_mx(void **state)
{
	struct mx_sts_policy p;
	char	text[4096];
	size_t	off;
	int	i;

	(void)state;
	off = (size_t)snprintf(text, sizeof(text), "version: STSv1\nmode: enforce\n");
	for (i = 0; i < MX_STS_MAX_MX + 5; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "mx: mx%d.example.com\n", i);
	snprintf(text + off, sizeof(text) - off, "max_age: 3600\n");
	policy_ok(text, &p);
	assert_int_equal(p.nmx, MX_STS_MAX_MX);
	assert_string_equal(p.mx[0], "mx0.example.com");
	assert_string_equal(p.mx[MX_STS_MAX_MX - 1], "mx31.example.com");
}

static void
test_sts_mx_matches(void **state)
{
	struct mx_sts_policy p;

	(void)state;
	policy_ok("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
		  "max_age: 1\n", &p);
	assert_true(mx_sts_mx_matches(&p, "mail.example.com"));
	assert_true(mx_sts_mx_matches(&p, "MAIL.Example.Com"));
	assert_true(mx_sts_mx_matches(&p, "mail.example.com."));
	assert_false(mx_sts_mx_matches(&p, "mail.example.com.evil"));
	assert_false(mx_sts_mx_matches(&p, "xmail.example.com"));
	assert_false(mx_sts_mx_matches(&p, "example.com"));
	assert_false(mx_sts_mx_matches(&p, "a.mail.example.com"));
	/* the wildcard covers exactly one leftmost label */
	assert_true(mx_sts_mx_matches(&p, "mx1.example.net"));
	assert_true(mx_sts_mx_matches(&p, "MX1.EXAMPLE.NET"));
	assert_false(mx_sts_mx_matches(&p, "example.net"));
	assert_false(mx_sts_mx_matches(&p, "a.b.example.net"));
	assert_false(mx_sts_mx_matches(&p, ".example.net"));
	assert_false(mx_sts_mx_matches(&p, "mx1.xexample.net"));
	assert_false(mx_sts_mx_matches(&p, ""));
	assert_false(mx_sts_mx_matches(&p, NULL));
	p.nmx = 0;
	assert_false(mx_sts_mx_matches(&p, "mail.example.com"));
}

static void
test_sts_expired(void **state)
{
	struct mx_sts_policy p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.fetched_ms = 1000000;
	p.max_age = 60;
	assert_false(mx_sts_expired(&p, 1000000));
	assert_false(mx_sts_expired(&p, 1000000 + 59999));
	assert_true(mx_sts_expired(&p, 1000000 + 60000));
	assert_true(mx_sts_expired(&p, 1000000 + 60001));
	p.max_age = 0;
	assert_true(mx_sts_expired(&p, 1000000));
	p.max_age = MX_STS_MAX_AGE;
	assert_false(mx_sts_expired(&p, 1000000 + (int64_t)MX_STS_MAX_AGE * 1000 - 1));
}

static void
test_sts_next_step(void **state)
{
	struct mx_sts_policy c;
	const int64_t now = 5000000;

	(void)state;
	memset(&c, 0, sizeof(c));
	strcpy(c.id, "old");
	c.fetched_ms = now - 1000;
	c.max_age = 3600;
	/* nothing cached */
	assert_int_equal(mx_sts_next_step(NULL, NULL, false, now), MX_STS_STEP_NONE);
	assert_int_equal(mx_sts_next_step(NULL, NULL, true, now), MX_STS_STEP_NONE);
	assert_int_equal(mx_sts_next_step(NULL, "new", false, now), MX_STS_STEP_FETCH);
	/* cached and fresh */
	assert_int_equal(mx_sts_next_step(&c, "old", false, now), MX_STS_STEP_CACHED);
	assert_int_equal(mx_sts_next_step(&c, "new", false, now), MX_STS_STEP_FETCH);
	assert_int_equal(mx_sts_next_step(&c, NULL, false, now), MX_STS_STEP_CACHED);
	assert_int_equal(mx_sts_next_step(&c, NULL, true, now), MX_STS_STEP_CACHED);
	/* ids compare exactly */
	assert_int_equal(mx_sts_next_step(&c, "OLD", false, now), MX_STS_STEP_FETCH);
	/* cached and expired */
	c.fetched_ms = now - 3600 * 1000;
	assert_int_equal(mx_sts_next_step(&c, "old", false, now), MX_STS_STEP_FETCH);
	assert_int_equal(mx_sts_next_step(&c, "new", false, now), MX_STS_STEP_FETCH);
	assert_int_equal(mx_sts_next_step(&c, NULL, false, now), MX_STS_STEP_NONE);
	assert_int_equal(mx_sts_next_step(&c, NULL, true, now), MX_STS_STEP_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sts_txt_valid),
		cmocka_unit_test(test_sts_txt_invalid),
		cmocka_unit_test(test_sts_policy_rfc_example),
		cmocka_unit_test(test_sts_policy_max_age),
		cmocka_unit_test(test_sts_policy_invalid),
		cmocka_unit_test(test_sts_policy_too_many_mx),
		cmocka_unit_test(test_sts_mx_matches),
		cmocka_unit_test(test_sts_expired),
		cmocka_unit_test(test_sts_next_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
