/*
 * test_inspect - the inspector's model: the explanation sentence (pure), the
 * journal read queries it stands on (a real journal in a temp dir), and the
 * JSON string writer (shared/json.c) its --json output and the route JSON
 * stand on
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inspect.h"
#include "json.h"

/* T0 is 2027-01-15 10:02:40 UTC */
#define T0 1800007360000LL

/* row - one attempt row */
static struct mx_attempt_row
row(int64_t ts, const char *qid, int pref, const char *host, const char *addr,
    const char *stage, int code, const char *outcome, const char *decision, const char *reason)
{
	struct mx_attempt_row r;

	memset(&r, 0, sizeof(r));
	r.ts_ms = ts;
	snprintf(r.queue_id, sizeof(r.queue_id), "%s", qid);
	snprintf(r.domain, sizeof(r.domain), "example.net");
	snprintf(r.recipient, sizeof(r.recipient), "user@example.net");
	r.preference = pref;
	snprintf(r.host, sizeof(r.host), "%s", host);
	snprintf(r.address, sizeof(r.address), "%s", addr);
	r.port = 25;
	snprintf(r.stage, sizeof(r.stage), "%s", stage);
	r.reply_code = code;
	snprintf(r.outcome, sizeof(r.outcome), "%s", outcome);
	snprintf(r.decision, sizeof(r.decision), "%s", decision);
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	return r;
}

/* imported - a row of a Postfix or Exim log (no preference: logs do not say) */
static struct mx_attempt_row
imported(const char *source, int64_t ts, const char *host, const char *addr, const char *stage,
	 int code, const char *outcome, const char *decision, const char *reason)
{
	struct mx_attempt_row r = row(ts, "BA7C8510684", -1, host, addr, stage, code, outcome,
				      decision, reason);

	snprintf(r.source, sizeof(r.source), "%s", source);
	snprintf(r.node, sizeof(r.node), "relay3");
	return r;
}

/* the sentence: the source, the host it went to, what the primary did */
static void
test_explain_imported_postfix_delivered_after_refusal(void **state)
{
	struct mx_attempt_row r[2];
	char	out[1024];

	(void)state;
	r[1] = imported("postfix", T0, "mx1.example.net", "192.0.2.1", "connect", 0, "tempfail",
			"next_host", "connect to mx1.example.net[192.0.2.1]:25: Connection refused");
	r[0] = imported("postfix", T0, "backup.example.net", "192.0.2.3", "dot", 250, "delivered",
			"done", "250 2.0.0 Ok");
	mx_explain(r, 2, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "Postfix delivered to backup.example.net at 10:02:40 after "
			    "mx1.example.net[192.0.2.1] refused the connection (user@example.net)");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "Postfix delivered to backup.example.net at 10:02:40, the first "
			    "host it tried (user@example.net)");
}

/* Exim bounced at RCPT; Postfix bounced a null MX domain without a host */
static void
test_explain_imported_bounces(void **state)
{
	struct mx_attempt_row r[1];
	char	out[1024];

	(void)state;
	r[0] = imported("exim", T0, "mx.example.net", "192.0.2.5", "rcpt", 550, "permfail",
			"bounce", "550 5.1.1 no such user");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "Exim bounced mail for user@example.net at 10:02:40: "
			    "mx.example.net[192.0.2.5] answered 550 at RCPT");
	r[0] = imported("postfix", T0, "", "", "", 0, "permfail", "bounce",
			"Domain example.net does not accept mail (nullMX)");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "Postfix bounced mail for user@example.net at 10:02:40: "
			    "Domain example.net does not accept mail (nullMX)");
	r[0] = imported("postfix", T0, "mx1.example.net", "192.0.2.1", "rcpt", 451, "tempfail",
			"defer", "451 4.7.1 greylisted");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "Postfix deferred mail for user@example.net at 10:02:40: "
			    "mx1.example.net[192.0.2.1] answered 451 at RCPT");
}

static void
test_explain_no_attempts(void **state)
{
	char	out[1024];

	(void)state;
	mx_explain(NULL, 0, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "no delivery attempts for example.net in the journal");
}

/* the support question of the issue, word for word */
static void
test_explain_went_to_backup_because(void **state)
{
	struct mx_attempt_row r[3];	/* newest first */
	char	out[1024];

	(void)state;
	r[2] = row(T0, "Q1", 10, "mx1.example.net", "192.0.2.1", "connect", 0, "tempfail",
		   "next_host", "connect to mx1.example.net[192.0.2.1]:25: Connection refused");
	r[1] = row(T0 + 1000, "Q1", 10, "mx2.example.net", "192.0.2.2", "greeting", 421,
		   "tempfail", "next_tier", "host mx2.example.net[192.0.2.2] refused to talk to me: 421");
	r[0] = row(T0 + 2000, "Q1", 20, "backup.example.net", "192.0.2.3", "dot", 250,
		   "delivered", "done", "backup.example.net[192.0.2.3]:25 said: 250 ok");
	mx_explain(r, 3, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery 10:02:42 to user@example.net went to "
			    "backup.example.net (pref 20) because mx1.example.net (pref 10) refused "
			    "the connection and mx2.example.net (pref 10) answered 421 at greeting");
}

static void
test_explain_first_host_and_only_the_newest_delivery(void **state)
{
	struct mx_attempt_row r[3];
	char	out[1024];

	(void)state;
	r[0] = row(T0 + 5000, "Q2", 10, "mx1.example.net", "192.0.2.1", "dot", 250, "delivered",
		   "done", "ok");
	r[1] = row(T0 + 1000, "Q1", 20, "backup.example.net", "192.0.2.3", "dot", 250,
		   "delivered", "done", "ok");
	r[2] = row(T0, "Q1", 10, "mx1.example.net", "192.0.2.1", "connect", 0, "tempfail",
		   "next_tier", "Connection refused");
	mx_explain(r, 3, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery 10:02:45 to user@example.net went to "
			    "mx1.example.net (pref 10), the first host tried");
}

static void
test_explain_deferred_and_bounced(void **state)
{
	struct mx_attempt_row r[3];
	char	out[1024];

	(void)state;
	/* two addresses of one host refused: said once */
	r[2] = row(T0, "Q1", 10, "mx1.example.net", "192.0.2.1", "connect", 0, "tempfail",
		   "next_address", "connect to ...: Connection refused");
	r[1] = row(T0, "Q1", 10, "mx1.example.net", "2001:db8::1", "connect", 0, "tempfail",
		   "next_tier", "connect to ...: Connection refused");
	r[0] = row(T0 + 1000, "Q1", 20, "backup.example.net", "192.0.2.3", "rcpt", 451,
		   "tempfail", "defer", "said 451 greylisted");
	mx_explain(r, 3, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery attempt 10:02:41 to user@example.net was "
			    "deferred: mx1.example.net (pref 10) refused the connection and "
			    "backup.example.net (pref 20) answered 451 at RCPT");

	r[0] = row(T0, "Q9", 10, "mx1.example.net", "192.0.2.1", "rcpt", 550, "permfail",
		   "bounce", "said 550 no such user");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery attempt 10:02:40 to user@example.net bounced: "
			    "mx1.example.net (pref 10) answered 550 at RCPT");
}

static void
test_explain_plan_failure_backoff_and_relay(void **state)
{
	struct mx_attempt_row r[2];
	char	out[1024];

	(void)state;
	r[0] = row(T0, "Q1", -1, "", "", "", 0, "permfail", "bounce",
		   "domain example.net does not accept mail (null MX, RFC 7505)");
	mx_explain(r, 1, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery attempt 10:02:40 to user@example.net bounced: "
			    "domain example.net does not accept mail (null MX, RFC 7505)");

	r[1] = row(T0, "Q2", 10, "mx1.example.net", "192.0.2.1", "", 0, "skipped", "next_tier",
		   "in backoff until ...");
	r[0] = row(T0 + 500, "Q2", -1, "relay.example.org", "198.51.100.1", "dot", 250,
		   "delivered", "done", "ok");
	mx_explain(r, 2, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery 10:02:40 to user@example.net went to the fallback "
			    "relay relay.example.org because mx1.example.net (pref 10) was in backoff "
			    "after an earlier failure");

	/* a skip for another node's failure names that node */
	r[1] = row(T0, "Q2", 10, "mx1.example.net", "192.0.2.1", "", 0, "skipped", "next_tier",
		   "mx1.example.net[192.0.2.1]:25 is in backoff learned from relay3 until "
		   "2027-01-15 10:12:40 UTC after 3 failures (last: 421 busy)");
	mx_explain(r, 2, "example.net", true, out, sizeof(out));
	assert_string_equal(out, "last delivery 10:02:40 to user@example.net went to the fallback "
			    "relay relay.example.org because mx1.example.net (pref 10) was in backoff "
			    "after a failure seen by relay3");
}

/* times: clock time on the same day, the date too once the day differs */
static void
test_format_time_today_and_other_days(void **state)
{
	char	out[40];
	int64_t	midnight = T0 - (10 * 3600 + 2 * 60 + 40) * 1000LL;	/* 2027-01-15 00:00:00 */

	(void)state;
	mx_format_time(T0, T0, true, out, sizeof(out));
	assert_string_equal(out, "10:02:40");
	mx_format_time(midnight, T0, true, out, sizeof(out));
	assert_string_equal(out, "00:00:00");
	/* a backoff set at 23:55 for ten minutes ends tomorrow: the date says so */
	mx_format_time(midnight + 86400000LL + 300000, midnight + 86400000LL - 300000, true,
		       out, sizeof(out));
	assert_string_equal(out, "2027-01-16 00:05:00");
	mx_format_time(midnight - 1000, T0, true, out, sizeof(out));
	assert_string_equal(out, "2027-01-14 23:59:59");
	mx_format_time(T0 + 365LL * 86400000LL, T0, true, out, sizeof(out));
	assert_string_equal(out, "2028-01-15 10:02:40");	/* same yday, other year */
}

/* a host state in words: the report's and the screen's */
static void
test_addr_state_words(void **state)
{
	struct mx_addr_state s;
	char	out[80];

	(void)state;
	memset(&s, 0, sizeof(s));
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "no attempts");
	s.state = MX_STATE_OK;
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "ok");
	s.state = MX_STATE_FAILING;
	s.failures = 3;
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "failing");
	s.state = MX_STATE_BACKOFF;
	s.failures = 1;
	s.retry_at_ms = T0 + 600000;
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "backoff until 10:12:40 (1 failure)");
	s.failures = 2;
	s.retry_at_ms = T0 + 14 * 3600000LL;		/* tomorrow: with the date */
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "backoff until 2027-01-16 00:02:40 (2 failures)");
	/* learned from another node of the fleet (policy.fleet_backoff) */
	s.failures = 3;
	s.retry_at_ms = T0 + 600000;
	snprintf(s.node, sizeof(s.node), "relay3");
	mx_addr_state_words(&s, T0, true, out, sizeof(out));
	assert_string_equal(out, "backoff (from relay3) until 10:12:40 (3 failures)");
}

/* the queries the model reads with, against a real journal */
static void
test_journal_read_queries(void **state)
{
	char	dir[] = "/tmp/mxt-inspect-XXXXXX", path[128], err[256], cmd[160];
	char	domains[4][254];
	struct mx_attempt_row rows[10];
	struct mx_journal *j, *ro;
	int	i, n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal.db", dir);
	j = mx_journal_open(path, false, err, sizeof(err));
	assert_non_null(j);
	for (i = 0; i < 6; i++) {
		struct mx_attempt a = {
			.ts_ms = T0 + i * 1000, .queue_id = "Q", .domain = i % 2 ? "a.test" : "b.test",
			.recipient = "u@x", .preference = 10, .host = "mx", .address = "192.0.2.1",
			.port = 25, .stage = "dot", .reply_code = 250, .outcome = "delivered",
			.decision = "done", .reason = "ok", .duration_ms = i
		};

		assert_true(mx_journal_add_attempt(j, &a));
	}
	ro = mx_journal_open(path, true, err, sizeof(err));
	assert_non_null(ro);
	assert_int_equal(mx_journal_last_id(ro), 6);
	n = mx_journal_recent_attempts(ro, "a.test", rows, 10);
	assert_int_equal(n, 3);
	assert_true(rows[0].ts_ms > rows[1].ts_ms);		/* newest first */
	assert_int_equal(rows[0].duration_ms, 5);
	assert_string_equal(rows[0].stage, "dot");
	n = mx_journal_recent_attempts(ro, "a.test", rows, 2);	/* bounded */
	assert_int_equal(n, 2);
	n = mx_journal_recent_domains(ro, T0, domains, 4);
	assert_int_equal(n, 2);
	assert_string_equal(domains[0], "a.test");		/* most recent first (T0+5s) */
	assert_string_equal(domains[1], "b.test");
	assert_int_equal(mx_journal_recent_domains(ro, T0 + 100000, domains, 4), 0);
	mx_journal_close(ro);
	mx_journal_close(j);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* one_host_plan - a plan of one host with two addresses (freed by the model) */
static struct mx_plan *
one_host_plan(void)
{
	struct mx_plan *pl = calloc(1, sizeof(*pl));
	struct mx_plan_host *h;
	static const char *const addrs[] = { "192.0.2.1", "192.0.2.2" };
	size_t	i;

	assert_non_null(pl);
	snprintf(pl->domain, sizeof(pl->domain), "example.net");
	pl->result = MX_PLAN_OK;
	pl->tiers = calloc(1, sizeof(*pl->tiers));
	pl->ntiers = 1;
	pl->tiers[0].pref = 10;
	pl->tiers[0].hosts = calloc(1, sizeof(*pl->tiers[0].hosts));
	pl->tiers[0].nhosts = 1;
	h = &pl->tiers[0].hosts[0];
	snprintf(h->name, sizeof(h->name), "mx1.example.net");
	h->pref = 10;
	h->usable = true;
	h->addrs = calloc(2, sizeof(*h->addrs));
	for (i = 0; i < 2; i++) {
		assert_true(mx_ip_parse(addrs[i], &h->addrs[i].ip));
		snprintf(h->addrs[i].text, sizeof(h->addrs[i].text), "%s", addrs[i]);
		h->addrs[i].usable = true;
		h->naddrs++;
	}
	return pl;
}

/*
 * the model with policy.fleet_backoff: an address another node saw failing
 * is in backoff "from" that node (text and JSON); off, or once the entry
 * expired, it is not; this node's own state comes first
 */
static void
test_model_fleet_backoff(void **state)
{
	char	dir[] = "/tmp/mxt-inspect-XXXXXX", path[128], err[256], cmd[160], words[160];
	struct mx_journal_fleet_backoff f;
	struct mx_domain_model m;
	struct mx_journal *j;
	char   *json = NULL;
	size_t	len = 0;
	FILE   *fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/journal.db", dir);
	j = mx_journal_open(path, false, err, sizeof(err));
	assert_non_null(j);
	memset(&f, 0, sizeof(f));
	snprintf(f.node, sizeof(f.node), "relay3");
	snprintf(f.address, sizeof(f.address), "192.0.2.1");
	f.port = 25;
	f.failures = 3;
	f.retry_at = T0 + 600000;
	snprintf(f.last_error, sizeof(f.last_error), "421 busy");
	f.updated = T0;
	assert_true(mx_journal_replace_fleet_backoff(j, &f, 1));

	memset(&m, 0, sizeof(m));
	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0, true, 25, false);
	assert_int_equal(m.nstates, 2);
	assert_int_equal(m.states[0].state, MX_STATE_UNKNOWN);
	assert_string_equal(m.states[0].node, "");

	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0, true, 25, true);
	assert_int_equal(m.states[0].state, MX_STATE_BACKOFF);
	assert_string_equal(m.states[0].node, "relay3");
	assert_string_equal(m.states[0].last_error, "421 busy");
	mx_addr_state_words(&m.states[0], T0, true, words, sizeof(words));
	assert_string_equal(words, "backoff (from relay3) until 10:12:40 (3 failures)");
	assert_int_equal(m.states[1].state, MX_STATE_UNKNOWN);
	fp = open_memstream(&json, &len);
	assert_non_null(fp);
	mx_report_print_json(fp, &m);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(strstr(json, "\"address\": \"192.0.2.1\", \"state\": \"backoff\""));
	assert_non_null(strstr(json, "\"backoff_from\": \"relay3\""));
	assert_non_null(strstr(json, "\"address\": \"192.0.2.2\", \"state\": \"unknown\", "
			       "\"failures\": 0, \"retry_at\": null, \"backoff_from\": null"));
	free(json);

	/* expired: no backoff */
	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0 + 600000, true, 25, true);
	assert_int_equal(m.states[0].state, MX_STATE_UNKNOWN);

	/* this node's own failure comes first */
	assert_true(mx_journal_note_failure(j, "192.0.2.1", 25, T0, 60, 3600, "refused", NULL));
	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0, true, 25, true);
	assert_int_equal(m.states[0].state, MX_STATE_BACKOFF);
	assert_string_equal(m.states[0].node, "");
	assert_string_equal(m.states[0].last_error, "refused");
	/* its own ran out: the fleet's, until that runs out too (then failing) */
	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0 + 60000, true, 25, true);
	assert_int_equal(m.states[0].state, MX_STATE_BACKOFF);
	assert_string_equal(m.states[0].node, "relay3");
	mx_domain_model_fill(&m, "example.net", one_host_plan(), j, T0 + 60000, true, 25, false);
	assert_int_equal(m.states[0].state, MX_STATE_FAILING);
	assert_string_equal(m.states[0].node, "");
	mx_domain_model_clear(&m);
	mx_journal_close(j);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* json_of - mx_json_string(s) as a string; the caller frees it */
static char *
json_of(const char *s)
{
	char   *buf = NULL;
	size_t	len = 0;
	FILE   *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	mx_json_string(fp, s);
	assert_int_equal(fclose(fp), 0);
	return buf;
}

/* escapes, and valid UTF-8 (one to four octets, at the edges of each range) as is */
static void
test_json_string_escapes_and_valid_utf8(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "", "\"\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "\n\r\t\x01\x1f\x7f", "\"\\n\\r\\t\\u0001\\u001f\\u007f\"" },
		/* C1 controls U+0080..U+009F escaped; U+00A0 and up as they are */
		{ "\xc2\x80\xc2\x9f\xc2\xa0", "\"\\u0080\\u009f\xc2\xa0\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa7\"" },
		{ "\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
		  "\"\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"" },
		{ "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"" },
	};
	size_t	i;
	char   *out;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = json_of(cases[i].in);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
		free(out);
	}
	out = json_of(NULL);
	assert_string_equal(out, "null");
	free(out);
}

/* every ill-formed sequence becomes U+FFFD, one per maximal ill-formed part */
static void
test_json_string_invalid_utf8_replaced(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		/* Latin-1 reply texts */
		{ "caf\xe9", "\"caf\\ufffd\"" },
		{ "\xe9t\xe9 d\xe9j\xe0 vu", "\"\\ufffdt\\ufffd d\\ufffdj\\ufffd vu\"" },
		{ "550 Benutzer unbekannt: M\xfcller", "\"550 Benutzer unbekannt: M\\ufffdller\"" },
		/* stray continuation octets, and octets that never occur */
		{ "\x80\xbf", "\"\\ufffd\\ufffd\"" },
		{ "\xfe\xff\xf5\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* overlong forms: C0/C1 leads, E0 80-9F, F0 80-8F */
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xc1\xbf", "\"\\ufffd\\ufffd\"" },
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* UTF-16 surrogates (ED A0-BF) and code points above U+10FFFF */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
		/* a sequence cut short: one U+FFFD for its start, the rest kept */
		{ "a\xe2\x82", "\"a\\ufffd\"" },
		{ "\xe2\x82x\xf0\x9f\x93\"", "\"\\ufffdx\\ufffd\\\"\"" },
		{ "\xc3\n", "\"\\ufffd\\n\"" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char   *out = json_of(cases[i].in);

		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got %s, want %s", i, out, cases[i].want);
		free(out);
	}
}

/*
 * Whatever the bytes, the output is one JSON string in UTF-8 that glibc's
 * iconv accepts, with no raw control octet: random strings over octets
 * chosen to hit every UTF-8 boundary.
 */
static void
test_json_string_any_bytes_give_utf8(void **state)
{
	static const unsigned char pick[] = {
		0x01, 0x0a, 0x1f, '"', '\\', 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
		0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
	};
	uint64_t x = 88172645463325252ULL;
	iconv_t	cd = iconv_open("UTF-8", "UTF-8");
	int	round, i, len;

	(void)state;
	assert_true(cd != (iconv_t)-1);
	for (round = 0; round < 20000; round++) {
		char	in[17], *out, *ip, conv[256], *op;
		size_t	il, ol = sizeof(conv);

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift64 */
		len = (int)(x % 17);
		for (i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			in[i] = (char)pick[x % sizeof(pick)];
		}
		in[len] = '\0';
		out = json_of(in);
		ip = out;
		il = strlen(out);
		op = conv;
		iconv(cd, NULL, NULL, NULL, NULL);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1)
			fail_msg("round %d: output is not UTF-8 at offset %td", round, ip - out);
		for (ip = out; *ip != '\0'; ip++)
			if ((unsigned char)*ip < 0x20 || *ip == 0x7f)
				fail_msg("round %d: raw control octet in the output", round);
		assert_true(out[0] == '"' && out[strlen(out) - 1] == '"');
		free(out);
	}
	iconv_close(cd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explain_no_attempts),
		cmocka_unit_test(test_explain_imported_postfix_delivered_after_refusal),
		cmocka_unit_test(test_explain_imported_bounces),
		cmocka_unit_test(test_explain_went_to_backup_because),
		cmocka_unit_test(test_explain_first_host_and_only_the_newest_delivery),
		cmocka_unit_test(test_explain_deferred_and_bounced),
		cmocka_unit_test(test_explain_plan_failure_backoff_and_relay),
		cmocka_unit_test(test_format_time_today_and_other_days),
		cmocka_unit_test(test_addr_state_words),
		cmocka_unit_test(test_journal_read_queries),
		cmocka_unit_test(test_model_fleet_backoff),
		cmocka_unit_test(test_json_string_escapes_and_valid_utf8),
		cmocka_unit_test(test_json_string_invalid_utf8_replaced),
		cmocka_unit_test(test_json_string_any_bytes_give_utf8),
	};

	return cmocka_run_group_tests_name("inspect", tests, NULL, NULL);
}
