/*
 * test_logimport - what mxtier-import makes of parsed attempts (pure):
 * the MTA's decisions, the journal row, the backoff rule (R13 as
 * mxtier-pipe applies it) and the --dry-run JSON line of the contract
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "logimport.h"

/* attempt - a parsed attempt with the fields the tests vary */
static struct mx_log_attempt
attempt(const char *rcpt, const char *host, const char *addr, const char *stage, int code,
	const char *outcome, const char *text)
{
	struct mx_log_attempt a;

	memset(&a, 0, sizeof(a));
	a.ts_ms = 1796060167000LL;
	snprintf(a.queue_id, sizeof(a.queue_id), "BA7C8510684");
	snprintf(a.recipient, sizeof(a.recipient), "%s", rcpt);
	snprintf(a.domain, sizeof(a.domain), "refuse.imp.test");
	snprintf(a.host, sizeof(a.host), "%s", host);
	snprintf(a.address, sizeof(a.address), "%s", addr);
	a.port = 2525;
	snprintf(a.stage, sizeof(a.stage), "%s", stage);
	a.reply_code = code;
	snprintf(a.outcome, sizeof(a.outcome), "%s", outcome);
	snprintf(a.reply_text, sizeof(a.reply_text), "%s", text);
	a.source = "postfix";
	a.identity = 42;
	return a;
}

/* one line, two recipients, each: refused primary, then the backup */
static void
test_decisions_per_recipient(void **state)
{
	struct mx_log_attempt a[5];
	const struct mx_log_attempt *list[5];
	const char *d[5];
	int	i;

	(void)state;
	a[0] = attempt("a@x", "mx1", "192.0.2.1", "connect", 0, "tempfail", "connect to ...");
	a[1] = attempt("a@x", "mx2", "192.0.2.2", "dot", 250, "delivered", "250 2.0.0 Ok");
	a[2] = attempt("b@x", "mx1", "192.0.2.1", "connect", 0, "tempfail", "connect to ...");
	a[3] = attempt("b@x", "mx1", "192.0.2.9", "connect", 0, "tempfail", "connect to ...");
	a[4] = attempt("b@x", "mx1", "192.0.2.9", "rcpt", 550, "permfail", "550 5.1.1 no");
	for (i = 0; i < 5; i++)
		list[i] = &a[i];
	mx_import_decisions(list, 5, d);
	assert_string_equal(d[0], "next_host");
	assert_string_equal(d[1], "done");
	assert_string_equal(d[2], "next_address");	/* the same host, its next address */
	assert_string_equal(d[3], "next_address");
	assert_string_equal(d[4], "bounce");
	a[0] = attempt("a@x", "mx1", "192.0.2.1", "rcpt", 451, "tempfail", "451 4.7.1 later");
	mx_import_decisions(list, 1, d);
	assert_string_equal(d[0], "defer");
}

/* the row: no preference, "" as NULL, the reply without its code, identity kept */
static void
test_row(void **state)
{
	struct mx_log_attempt a = attempt("u@x", "mx2", "192.0.2.2", "dot", 250, "delivered",
					  "250 2.0.0 Ok: queued as 77");
	struct mx_attempt r;

	(void)state;
	snprintf(a.enhanced_status, sizeof(a.enhanced_status), "2.0.0");
	mx_import_row(&a, "relay3", "done", &r);
	assert_int_equal(r.preference, -1);
	assert_string_equal(r.reply_text, "Ok: queued as 77");
	assert_string_equal(r.reason, "250 2.0.0 Ok: queued as 77");
	assert_string_equal(r.source, "postfix");
	assert_string_equal(r.node, "relay3");
	assert_int_equal(r.import_id, 42);
	assert_null(r.tls);
	a = attempt("u@x", "", "", "", 0, "permfail", "Domain x does not accept mail (nullMX)");
	a.identity = 0;
	mx_import_row(&a, "relay3", "bounce", &r);
	assert_null(r.host);
	assert_null(r.address);
	assert_null(r.stage);
	assert_int_equal(r.import_id, 1);	/* 0 means none in the journal */
	assert_string_equal(r.reply_text, "Domain x does not accept mail (nullMX)");
}

/* R13 for imported attempts: the same rule as mxtier-pipe's sessions */
static void
test_backoff_effect(void **state)
{
	struct mx_log_attempt a;

	(void)state;
	a = attempt("u@x", "mx1", "192.0.2.1", "connect", 0, "tempfail", "Connection refused");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_FAILURE);
	a = attempt("u@x", "mx1", "192.0.2.1", "greeting", 421, "tempfail", "421 busy");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_FAILURE);
	a = attempt("u@x", "mx1", "192.0.2.1", "data", 0, "tempfail", "lost connection");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_FAILURE);
	/* greylisting at RCPT: the host answered, it works */
	a = attempt("u@x", "mx1", "192.0.2.1", "rcpt", 451, "tempfail", "451 4.7.1 greylisted");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_SUCCESS);
	a = attempt("u@x", "mx1", "192.0.2.1", "rcpt", 421, "tempfail", "421 closing");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_FAILURE);
	a = attempt("u@x", "mx1", "192.0.2.1", "mail", 451, "tempfail", "451 later");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_NONE);
	a = attempt("u@x", "mx2", "192.0.2.2", "dot", 250, "delivered", "250 ok");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_SUCCESS);
	a = attempt("u@x", "", "", "", 0, "tempfail", "Host or domain name not found");
	assert_int_equal(mx_import_backoff_effect(&a), MX_IMPORT_BACKOFF_NONE);
}

/* the contract's keys in order, null where the log does not say, valid JSON escapes */
static void
test_json_line(void **state)
{
	struct mx_log_attempt a = attempt("u@x", "", "", "", 0, "permfail", "bad \"quote\"\n");
	char	*buf = NULL;
	size_t	len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	(void)state;
	a.port = -1;
	mx_import_print_json(fp, &a);
	fclose(fp);
	assert_string_equal(buf, "{\"ts\": 1796060167000, \"queue_id\": \"BA7C8510684\", "
			    "\"recipient\": \"u@x\", \"domain\": \"refuse.imp.test\", \"host\": null, "
			    "\"address\": null, \"port\": null, \"stage\": null, \"reply_code\": null, "
			    "\"enhanced_status\": null, \"outcome\": \"permfail\", "
			    "\"reply_text\": \"bad \\\"quote\\\"\\n\", \"source\": \"postfix\"}\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions_per_recipient),
		cmocka_unit_test(test_row),
		cmocka_unit_test(test_backoff_effect),
		cmocka_unit_test(test_json_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
