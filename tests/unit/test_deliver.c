/*
 * test_deliver - the fallback policy (R11) and the delivery walk (R10-R14)
 *
 * The walk runs against a fake SMTP session (each address scripted to end
 * at a stage with a kind and a reply), a fake clock and a real journal in a
 * temporary directory. Test names start with the rule they prove.
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
#include <sysexits.h>
#include <unistd.h>

#include "backoff.h"
#include "deliver.h"
#include "fallback.h"

/* --- R11: the decision table ------------------------------------------ */

static void
test_R11_connection_failure_moves_on_under_every_preset(void **state)
{
	enum mx_fallback_preset p;

	(void)state;
	for (p = MX_FALLBACK_POSTFIX; p <= MX_FALLBACK_QMAIL; p++) {
		assert_int_equal(mx_fallback_decide(p, MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, true),
				 MX_ACTION_MOVE_ON);
		assert_int_equal(mx_fallback_decide(p, MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, false),
				 MX_ACTION_DEFER);
	}
}

static void
test_R11_postfix_preset_moves_on_at_every_stage(void **state)
{
	enum mx_stage s;

	(void)state;
	for (s = MX_STAGE_GREETING; s <= MX_STAGE_DOT; s++) {
		assert_int_equal(mx_fallback_decide(MX_FALLBACK_POSTFIX, s, MX_FAIL_REPLY, 451, true),
				 MX_ACTION_MOVE_ON);
		assert_int_equal(mx_fallback_decide(MX_FALLBACK_POSTFIX, s, MX_FAIL_LOST, 0, true),
				 MX_ACTION_MOVE_ON);
		/* on the last host temporary failures defer */
		assert_int_equal(mx_fallback_decide(MX_FALLBACK_POSTFIX, s, MX_FAIL_REPLY, 451, false),
				 MX_ACTION_DEFER);
	}
}

static void
test_R11_greeting_preset_moves_on_only_before_the_transaction(void **state)
{
	(void)state;
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_GREETING, MX_STAGE_GREETING, MX_FAIL_REPLY,
					    421, true), MX_ACTION_MOVE_ON);
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_GREETING, MX_STAGE_EHLO, MX_FAIL_LOST,
					    0, true), MX_ACTION_MOVE_ON);
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_GREETING, MX_STAGE_MAIL, MX_FAIL_REPLY,
					    451, true), MX_ACTION_DEFER);
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_GREETING, MX_STAGE_RCPT, MX_FAIL_REPLY,
					    450, true), MX_ACTION_DEFER);
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_GREETING, MX_STAGE_DOT, MX_FAIL_LOST,
					    0, true), MX_ACTION_DEFER);
}

static void
test_R11_qmail_preset_defers_after_connecting(void **state)
{
	enum mx_stage s;

	(void)state;
	for (s = MX_STAGE_GREETING; s <= MX_STAGE_DOT; s++)
		assert_int_equal(mx_fallback_decide(MX_FALLBACK_QMAIL, s, MX_FAIL_REPLY, 421, true),
				 MX_ACTION_DEFER);
}

static void
test_R11_5xx_after_mail_bounces_and_5xx_greeting_is_temporary(void **state)
{
	enum mx_fallback_preset p;

	(void)state;
	for (p = MX_FALLBACK_POSTFIX; p <= MX_FALLBACK_QMAIL; p++) {
		assert_int_equal(mx_fallback_decide(p, MX_STAGE_MAIL, MX_FAIL_REPLY, 550, true),
				 MX_ACTION_BOUNCE);
		assert_int_equal(mx_fallback_decide(p, MX_STAGE_RCPT, MX_FAIL_REPLY, 550, true),
				 MX_ACTION_BOUNCE);
		assert_int_equal(mx_fallback_decide(p, MX_STAGE_DOT, MX_FAIL_REPLY, 554, true),
				 MX_ACTION_BOUNCE);
		/* a 5xx greeting or EHLO: the host is broken, not the recipient */
		assert_int_not_equal(mx_fallback_decide(p, MX_STAGE_GREETING, MX_FAIL_REPLY, 554,
							true), MX_ACTION_BOUNCE);
		assert_int_not_equal(mx_fallback_decide(p, MX_STAGE_EHLO, MX_FAIL_REPLY, 550,
							false), MX_ACTION_BOUNCE);
	}
	/* a lost connection counts as 451: never a bounce */
	assert_int_equal(mx_fallback_decide(MX_FALLBACK_POSTFIX, MX_STAGE_DOT, MX_FAIL_LOST, 0,
					    false), MX_ACTION_DEFER);
}

/* STARTTLS is a session stage: never a bounce, moves on as the preset says */
static void
test_R11_starttls_stage_under_every_preset(void **state)
{
	enum mx_fallback_preset p;
	static const enum mx_failure_kind kinds[] = { MX_FAIL_REPLY, MX_FAIL_LOST, MX_FAIL_PROTOCOL,
						      MX_FAIL_TLS };
	static const int codes[] = { 421, 454, 554, 502 };
	size_t	k, c;

	(void)state;
	for (p = MX_FALLBACK_POSTFIX; p <= MX_FALLBACK_QMAIL; p++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			for (c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
				enum mx_action more = mx_fallback_decide(p, MX_STAGE_STARTTLS, kinds[k],
									 codes[c], true);
				enum mx_action last = mx_fallback_decide(p, MX_STAGE_STARTTLS, kinds[k],
									 codes[c], false);

				/* postfix and greeting: before the transaction, so move on */
				assert_int_equal(more, p == MX_FALLBACK_QMAIL ? MX_ACTION_DEFER :
						 MX_ACTION_MOVE_ON);
				/* the last host: keep the mail, even after a 5xx */
				assert_int_equal(last, MX_ACTION_DEFER);
			}
	/* and the backoff: every STARTTLS failure is the host's (R13) */
	for (c = 0; c < sizeof(codes) / sizeof(codes[0]); c++)
		assert_true(mx_failure_is_host_problem(MX_STAGE_STARTTLS, MX_FAIL_REPLY, codes[c]));
	assert_true(mx_failure_is_host_problem(MX_STAGE_STARTTLS, MX_FAIL_TLS, 0));
}

/* --- the fake world ----------------------------------------------------- */

/* How a scripted address behaves. */
struct script {
	const char *addr;
	enum mx_stage stage;
	enum mx_failure_kind kind;
	int	code;			/* reply at that stage */
	int	rcpt_code[4];		/* per recipient RCPT reply, 0 = 250 */
	int	calls;
};

struct world {
	struct script *scripts;
	size_t	nscripts;
	int64_t	now;
	char	order[512];		/* addresses attempted, space separated */
	struct mx_config cfg;
	char	dir[64];
	char	relay_addr[32];
	const char *relay_map[4][3];	/* spec, first address, second address (or NULL) */
	int64_t	attempt_ms;		/* how long each fake session takes */
	int	max_rcpts;		/* > 0: every server 452s the recipients after this many */
	bool	eight_bit_unannounced;	/* every session sent 8-bit without BODY=8BITMIME */
	char	needs[256];		/* per session "NEED:NAMES:NTLSA", space separated */
	const char *tls_fail_addr;	/* this address fails TLS with tls_fail_type */
	const char *tls_fail_type;
};

static int64_t
fake_now(void *arg)
{
	struct world *w = arg;

	return w->now += 10;
}

static void
fake_attempt(void *arg, const struct mx_smtp_opts *o, const struct mx_ip *ip, int port,
	     const char *host, const struct mx_smtp_envelope *env, const bool *pending,
	     struct mx_spool *sp, struct mx_smtp_rcpt *rcpt, struct mx_smtp_result *res)
{
	struct world *w = arg;
	char	text[MX_IP_TEXT_MAX];
	size_t	i, n;
	int	accepted;

	(void)port;
	(void)host;
	(void)sp;
	mx_ip_format(ip, text, sizeof(text));
	snprintf(w->needs + strlen(w->needs), sizeof(w->needs) - strlen(w->needs), "%s%d:%zu:%zu",
		 w->needs[0] ? " " : "", (int)o->tls.need, o->tls.nnames, o->tls.ntlsa);
	w->now += w->attempt_ms;
	snprintf(w->order + strlen(w->order), sizeof(w->order) - strlen(w->order), "%s%s",
		 w->order[0] ? " " : "", text);
	memset(res, 0, sizeof(*res));
	memset(rcpt, 0, env->nrcpts * sizeof(*rcpt));
	for (n = 0; n < w->nscripts; n++)
		if (strcmp(w->scripts[n].addr, text) == 0)
			break;
	if (n == w->nscripts)
		fail_msg("address %s attempted but not scripted", text);
	w->scripts[n].calls++;
	res->stage = w->scripts[n].stage;
	res->kind = w->scripts[n].kind;
	res->reached_greeting = res->stage >= MX_STAGE_GREETING &&
	    res->kind != MX_FAIL_CONNECT;
	res->reply.code = w->scripts[n].code;
	snprintf(res->reply.text, sizeof(res->reply.text), "scripted %d", w->scripts[n].code);
	if (res->kind == MX_FAIL_CONNECT)
		snprintf(res->detail, sizeof(res->detail), "Connection refused");
	if (res->kind == MX_FAIL_LOST)
		snprintf(res->detail, sizeof(res->detail), "lost connection");
	res->eight_bit_unannounced = w->eight_bit_unannounced;
	if (res->kind != MX_FAIL_CONNECT && o->tls.need != MX_TLSNEED_NONE)
		res->tls_result = o->tls.need == MX_TLSNEED_DANE ? MX_TLSRES_DANE :
		    o->tls.need == MX_TLSNEED_VERIFY ? MX_TLSRES_VERIFIED : MX_TLSRES_TLS;
	if (w->tls_fail_addr != NULL && strcmp(w->tls_fail_addr, text) == 0) {
		res->stage = MX_STAGE_STARTTLS;
		res->kind = MX_FAIL_TLS;
		res->tls_result = MX_TLSRES_TLS;
		snprintf(res->tls_failure, sizeof(res->tls_failure), "%s", w->tls_fail_type);
		snprintf(res->detail, sizeof(res->detail), "Server certificate not verified");
		return;
	}
	if (res->stage < MX_STAGE_RCPT)
		return;
	for (i = 0, accepted = 0; i < env->nrcpts; i++) {
		int	c;

		if (!pending[i])
			continue;
		c = w->scripts[n].rcpt_code[i] ? w->scripts[n].rcpt_code[i] : 250;
		if (w->max_rcpts > 0 && accepted >= w->max_rcpts)
			c = 452;
		if (c / 100 == 2)
			accepted++;
		rcpt[i].too_many = c == 452 && accepted > 0;
		rcpt[i].tried = true;
		rcpt[i].reply.code = c;
		snprintf(rcpt[i].reply.text, sizeof(rcpt[i].reply.text), "rcpt %d", c);
		if (c / 100 == 2) {
			rcpt[i].accepted = true;
			if (res->kind == MX_FAIL_NONE) {
				rcpt[i].delivered = true;
				rcpt[i].reply.code = 250;
			}
		}
	}
}

static bool
fake_relay(void *arg, const char *spec, struct mx_relay_target *t)
{
	struct world *w = arg;
	size_t	m, a;

	snprintf(t->name, sizeof(t->name), "%s", spec);
	t->port = 25;
	for (m = 0; m < 4 && w->relay_map[m][0] != NULL; m++)
		if (strcmp(w->relay_map[m][0], spec) == 0) {
			for (a = 1; a < 3 && w->relay_map[m][a] != NULL; a++)
				assert_true(mx_ip_parse(w->relay_map[m][a], &t->ips[t->nips++]));
			return true;
		}
	assert_true(mx_ip_parse(w->relay_addr, &t->ips[0]));
	t->nips = 1;
	return true;
}

/* host - plan host with addresses */
static void
add_host(struct mx_plan *pl, uint16_t pref, const char *name, const char *a1, const char *a2)
{
	struct mx_plan_tier *t = NULL;
	struct mx_plan_host *h;
	size_t	i;

	for (i = 0; i < pl->ntiers; i++)
		if (pl->tiers[i].pref == pref)
			t = &pl->tiers[i];
	if (t == NULL) {
		pl->tiers = realloc(pl->tiers, (pl->ntiers + 1) * sizeof(*pl->tiers));
		t = &pl->tiers[pl->ntiers++];
		memset(t, 0, sizeof(*t));
		t->pref = pref;
	}
	t->hosts = realloc(t->hosts, (t->nhosts + 1) * sizeof(*t->hosts));
	h = &t->hosts[t->nhosts++];
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->pref = pref;
	h->usable = true;
	h->addrs = calloc(2, sizeof(*h->addrs));
	for (i = 0; i < 2; i++) {
		const char *a = i == 0 ? a1 : a2;

		if (a == NULL)
			break;
		assert_true(mx_ip_parse(a, &h->addrs[i].ip));
		snprintf(h->addrs[i].text, sizeof(h->addrs[i].text), "%s", a);
		h->addrs[i].usable = true;
		h->naddrs++;
	}
}

static struct mx_plan *
new_plan(const char *domain)
{
	struct mx_plan *pl = calloc(1, sizeof(*pl));

	snprintf(pl->domain, sizeof(pl->domain), "%s", domain);
	pl->result = MX_PLAN_OK;
	return pl;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	snprintf(w->dir, sizeof(w->dir), "/tmp/mxt-deliver-XXXXXX");
	if (mkdtemp(w->dir) == NULL || !mx_config_defaults(&w->cfg))
		return -1;
	w->cfg.smtp.port = 25;
	w->now = 1800000000000LL;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;
	char	cmd[128];

	/* a failed test leaves its own (stack) relay list in the config */
	w->cfg.fallback_relay = NULL;
	w->cfg.nfallback_relay = 0;
	mx_config_free(&w->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	if (system(cmd) != 0)
		return -1;
	free(w);
	return 0;
}

/* run - deliver to rcpts over plan with the world's scripts */
static void
run(struct world *w, struct mx_plan *pl, const char *const *rcpts, size_t nrcpts,
    struct mx_journal *j, struct mx_deliver_result *res)
{
	struct mx_smtp_opts o = { .helo_name = "client.test" };
	struct mx_deliver_io io = { w, fake_now, fake_attempt, fake_relay };
	struct mx_deliver_job job = {
		.cfg = &w->cfg, .smtp = &o, .plan = pl, .queue_id = "Q1",
		.env = { "sender@client.test", rcpts, nrcpts }, .journal = j
	};

	w->order[0] = '\0';
	mx_deliver(&job, &io, res);
}

static struct mx_journal *
journal(struct world *w)
{
	char	path[128], err[256];
	struct mx_journal *j;

	snprintf(path, sizeof(path), "%s/journal.db", w->dir);
	j = mx_journal_open(path, false, err, sizeof(err));
	if (j == NULL)
		fail_msg("journal: %s", err);
	return j;
}

/* journal_column - EXPR of a domain's rows, in order, joined with SEP (sqlite3) */
static void
journal_column(struct world *w, const char *domain, const char *expr, const char *sep,
	       char *out, size_t len)
{
	char	cmd[512];
	FILE   *fp;

	snprintf(cmd, sizeof(cmd), "sqlite3 %s/journal.db \"select group_concat(%s, '%s') "
		 "from (select * from attempts where domain = '%s' order by id)\"", w->dir, expr,
		 sep, domain);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	out[0] = '\0';
	if (fgets(out, (int)len, fp) == NULL)
		out[0] = '\0';
	pclose(fp);
	out[strcspn(out, "\n")] = '\0';
}

/* journal_rows - "stage:outcome:decision ..." of a domain's rows, in order, as matrix.sh reads them */
static void
journal_rows(struct world *w, const char *domain, char *out, size_t len)
{
	journal_column(w, domain, "ifnull(stage, '-') || ':' || outcome || ':' || decision", " ",
		       out, len);
}

/* journal_reasons - the reason column of a domain's rows, joined with " | " */
static void
journal_reasons(struct world *w, const char *domain, char *out, size_t len)
{
	journal_column(w, domain, "reason", " | ", out, len);
}

/* --- R11 in the walk ----------------------------------------------------- */

static const char *const one_rcpt[] = { "user@example.test" };

static void
test_R11_primary_refused_goes_to_backup(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_int_equal(r.exit_status, EX_OK);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_SENT);
	assert_non_null(strstr(r.first_line, "backup.example.test[192.0.2.2]"));
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

/* greylisting primary: 450 at RCPT, under each preset */
static void
test_R11_greylisting_primary_per_preset(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_RCPT, MX_FAIL_REPLY, 450, {450}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);

	w->cfg.fallback = MX_FALLBACK_POSTFIX;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);

	w->cfg.fallback = MX_FALLBACK_GREETING;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_non_null(strstr(r.first_line, "450"));
	assert_int_equal(r.first_line[0], '4');
	mx_deliver_result_free(&r);

	w->cfg.fallback = MX_FALLBACK_QMAIL;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

/* 421 greeting: postfix and greeting move on, qmail defers */
static void
test_R11_421_greeting_per_preset(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;
	enum mx_fallback_preset p;

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);
	for (p = MX_FALLBACK_POSTFIX; p <= MX_FALLBACK_QMAIL; p++) {
		w->cfg.fallback = p;
		run(w, pl, one_rcpt, 1, NULL, &r);
		if (p == MX_FALLBACK_QMAIL) {
			assert_string_equal(w->order, "192.0.2.1");
			assert_int_equal(r.exit_status, EX_TEMPFAIL);
			assert_non_null(strstr(r.first_line, "refused to talk to me: 421"));
		} else {
			assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
			assert_int_equal(r.exit_status, EX_OK);
		}
		mx_deliver_result_free(&r);
	}
	w->cfg.fallback = MX_FALLBACK_POSTFIX;
	mx_plan_free(pl);
}

static void
test_R11_rcpt_5xx_bounces_and_backup_untouched(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_RCPT, MX_FAIL_REPLY, 550, {550}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1");
	assert_int_equal(s[1].calls, 0);
	assert_int_equal(r.exit_status, EX_NOUSER);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_BOUNCED);
	assert_int_equal(r.first_line[0], '5');
	assert_non_null(strstr(r.first_line, "(in reply to RCPT TO command)"));
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

static void
test_R11_mail_5xx_bounces_with_69(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_MAIL, MX_FAIL_REPLY, 553, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(r.exit_status, EX_UNAVAILABLE);
	assert_non_null(strstr(r.first_line, "MAIL FROM"));
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

static void
test_R11_lost_after_dot_never_exits_0(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_LOST, 0, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_DEFERRED);
	assert_non_null(strstr(r.first_line, "4.4.2 lost connection"));
	assert_non_null(strstr(r.first_line, "end of data"));
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

static void
test_R11_all_hosts_failing_defers_naming_the_last(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "mx2.example.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_non_null(strstr(r.first_line, "mx2.example.test[192.0.2.2] refused to talk"));
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

/* two recipients: one accepted, one rejected: all-or-nothing exit, never 0 */
static void
test_R11_mixed_recipients_never_exit_0(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0, 550}, 0 },
	};
	static const char *const two[] = { "a@example.test", "b@example.test" };
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, two, 2, NULL, &r);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_SENT);
	assert_int_equal(r.rcpt[1].status, MX_RCPT_BOUNCED);
	assert_int_not_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);

	/* and a 4xx for one recipient defers the call */
	s[0].rcpt_code[1] = 451;
	run(w, pl, two, 2, NULL, &r);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

/* a recipient refused at RCPT TO in a session that delivered another: its row says rcpt */
static void
test_R14_refused_recipient_journalled_at_rcpt(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0, 550}, 0 },
	};
	static const char *const two[] = { "a@mixed.test", "b@mixed.test" };
	struct mx_plan *pl = new_plan("mixed.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	rows[256];

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.mixed.test", "192.0.2.1", NULL);
	run(w, pl, two, 2, j, &r);
	assert_int_equal(r.rcpt[1].status, MX_RCPT_BOUNCED);
	mx_deliver_result_free(&r);
	journal_rows(w, "mixed.test", rows, sizeof(rows));
	assert_string_equal(rows, "dot:delivered:done rcpt:permfail:bounce");
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* --- R10 limits ------------------------------------------------------------ */

static void
test_R10_max_sessions_and_addresses(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "192.0.2.3", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "192.0.2.4", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 4;
	add_host(pl, 10, "a.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "b.example.test", "192.0.2.2", NULL);
	add_host(pl, 30, "c.example.test", "192.0.2.3", NULL);
	w->cfg.policy.max_sessions = 2;		/* two greetings used up */
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_int_equal(r.sessions, 2);
	mx_deliver_result_free(&r);
	w->cfg.policy.max_sessions = 3;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	mx_plan_free(pl);

	/* connection failures do not use sessions, but do use addresses */
	pl = new_plan("example.test");
	add_host(pl, 10, "a.example.test", "192.0.2.4", "192.0.2.4");
	add_host(pl, 20, "c.example.test", "192.0.2.3", NULL);
	w->cfg.policy.max_addresses = 2;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.4 192.0.2.4");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	mx_deliver_result_free(&r);
	w->cfg.policy.max_addresses = 3;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	w->cfg.policy.max_addresses = 5;
	w->cfg.policy.max_sessions = 2;
	mx_plan_free(pl);
}

/* smtp.time_limit: no new host once the delivery has run out of time */
static void
test_R10_time_limit_stops_before_the_mta_kills_us(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_GREETING, MX_FAIL_LOST, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_GREETING, MX_FAIL_LOST, 0, {0}, 0 },
		{ "192.0.2.3", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 3;
	w->cfg.policy.max_sessions = 5;
	w->cfg.smtp.time_limit = 10;
	w->attempt_ms = 6000;		/* a silent server eats each session's greeting timeout */
	add_host(pl, 10, "a.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "b.example.test", "192.0.2.2", NULL);
	add_host(pl, 30, "c.example.test", "192.0.2.3", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	mx_deliver_result_free(&r);
	w->attempt_ms = 0;
	w->cfg.smtp.time_limit = 900;
	w->cfg.policy.max_sessions = 2;
	mx_plan_free(pl);
}

/* --- R12 fallback relay ---------------------------------------------------- */

static void
test_R12_relay_after_every_host_failed_temporarily(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_RCPT, MX_FAIL_REPLY, 451, {451}, 0 },
		{ "198.51.100.9", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	char   *relays[] = { "relay.example.test" };
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 3;
	snprintf(w->relay_addr, sizeof(w->relay_addr), "198.51.100.9");
	w->cfg.fallback_relay = relays;
	w->cfg.nfallback_relay = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "mx2.example.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2 198.51.100.9");
	assert_int_equal(r.exit_status, EX_OK);
	assert_non_null(strstr(r.first_line, "relay.example.test[198.51.100.9]"));
	mx_deliver_result_free(&r);

	/* never after a permanent answer */
	s[1].code = 550;
	s[1].rcpt_code[0] = 550;
	s[2].calls = 0;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_int_equal(s[2].calls, 0);
	assert_int_equal(r.exit_status, EX_NOUSER);
	mx_deliver_result_free(&r);
	w->cfg.fallback_relay = NULL;
	w->cfg.nfallback_relay = 0;
	mx_plan_free(pl);
}

/* one recipient deferred, one bounced: the call exits 75 (the MTA keeps both) */
static void
test_R11_one_deferred_one_bounced_exits_75(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_RCPT, MX_FAIL_REPLY, 550, {450, 550}, 0 },
	};
	static const char *const two[] = { "a@example.test", "b@example.test" };
	struct mx_plan *pl = new_plan("example.test");
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, two, 2, NULL, &r);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_DEFERRED);
	assert_int_equal(r.rcpt[1].status, MX_RCPT_BOUNCED);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_int_equal(r.first_line[0], '4');
	mx_deliver_result_free(&r);

	/* the other way round too: the bounced one first */
	s[0].rcpt_code[0] = 550;
	s[0].rcpt_code[1] = 450;
	run(w, pl, two, 2, NULL, &r);
	assert_int_equal(r.rcpt[0].status, MX_RCPT_BOUNCED);
	assert_int_equal(r.rcpt[1].status, MX_RCPT_DEFERRED);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_int_equal(r.first_line[0], '4');
	mx_deliver_result_free(&r);
	mx_plan_free(pl);
}

/* --- R12 and the limits ------------------------------------------------------ */

/* max_sessions ran out: the relay still comes, and the journal says so */
static void
test_R12_relay_after_max_sessions_ran_out(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "198.51.100.9", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	char   *relays[] = { "relay.example.test" };
	struct mx_plan *pl = new_plan("limits.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	rows[512];

	w->scripts = s;
	w->nscripts = 3;
	snprintf(w->relay_addr, sizeof(w->relay_addr), "198.51.100.9");
	w->cfg.fallback_relay = relays;
	w->cfg.nfallback_relay = 1;
	w->cfg.policy.max_sessions = 1;
	add_host(pl, 10, "mx1.limits.test", "192.0.2.1", NULL);
	add_host(pl, 20, "mx2.limits.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1 198.51.100.9");
	assert_int_equal(r.exit_status, EX_OK);
	assert_non_null(strstr(r.first_line, "relay.example.test[198.51.100.9]"));
	mx_deliver_result_free(&r);
	journal_rows(w, "limits.test", rows, sizeof(rows));
	assert_string_equal(rows, "greeting:tempfail:fallback_relay dot:delivered:done");
	mx_journal_close(j);
	w->cfg.policy.max_sessions = 2;
	w->cfg.fallback_relay = NULL;
	w->cfg.nfallback_relay = 0;
	mx_plan_free(pl);
}

/* max_addresses ran out: the same */
static void
test_R12_relay_after_max_addresses_ran_out(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.5", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "198.51.100.9", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	char   *relays[] = { "relay.example.test" };
	struct mx_plan *pl = new_plan("limits.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	rows[512];

	w->scripts = s;
	w->nscripts = 4;
	snprintf(w->relay_addr, sizeof(w->relay_addr), "198.51.100.9");
	w->cfg.fallback_relay = relays;
	w->cfg.nfallback_relay = 1;
	w->cfg.policy.max_addresses = 2;
	add_host(pl, 10, "mx1.limits.test", "192.0.2.1", "192.0.2.5");
	add_host(pl, 20, "mx2.limits.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.5 198.51.100.9");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	journal_rows(w, "limits.test", rows, sizeof(rows));
	assert_string_equal(rows, "connect:tempfail:next_address connect:tempfail:fallback_relay "
			    "dot:delivered:done");
	mx_journal_close(j);
	w->cfg.policy.max_addresses = 5;
	w->cfg.fallback_relay = NULL;
	w->cfg.nfallback_relay = 0;
	mx_plan_free(pl);
}

/* every address of a relay before the next relay, the last relay's too */
static void
test_R12_every_address_of_every_relay(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_RCPT, MX_FAIL_REPLY, 451, {451}, 0 },
		{ "198.51.100.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "198.51.100.2", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "203.0.113.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "203.0.113.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	char   *relays[] = { "relay1.example.test", "relay2.example.test" };
	struct mx_plan *pl = new_plan("relays.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	rows[512];

	w->scripts = s;
	w->nscripts = 5;
	w->relay_map[0][0] = "relay1.example.test";
	w->relay_map[0][1] = "198.51.100.1";
	w->relay_map[0][2] = "198.51.100.2";
	w->relay_map[1][0] = "relay2.example.test";
	w->relay_map[1][1] = "203.0.113.1";
	w->relay_map[1][2] = "203.0.113.2";
	w->cfg.fallback_relay = relays;
	w->cfg.nfallback_relay = 2;
	add_host(pl, 10, "mx1.relays.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1 198.51.100.1 198.51.100.2 203.0.113.1 203.0.113.2");
	assert_int_equal(r.exit_status, EX_OK);
	assert_non_null(strstr(r.first_line, "relay2.example.test[203.0.113.2]"));
	mx_deliver_result_free(&r);
	journal_rows(w, "relays.test", rows, sizeof(rows));
	assert_string_equal(rows, "rcpt:tempfail:fallback_relay connect:tempfail:next_address "
			    "greeting:tempfail:fallback_relay connect:tempfail:next_address "
			    "dot:delivered:done");

	/* when the last relay's last address fails too, that one defers */
	s[4].stage = MX_STAGE_GREETING;
	s[4].kind = MX_FAIL_LOST;
	s[4].code = 0;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 198.51.100.1 198.51.100.2 203.0.113.1 203.0.113.2");
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_non_null(strstr(r.first_line, "relay2.example.test[203.0.113.2]"));
	mx_deliver_result_free(&r);
	mx_journal_close(j);
	memset(w->relay_map, 0, sizeof(w->relay_map));
	w->cfg.fallback_relay = NULL;
	w->cfg.nfallback_relay = 0;
	mx_plan_free(pl);
}

/* --- R13 backoff ------------------------------------------------------------ */

static void
test_R13_failed_address_skipped_until_retry_time(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	struct mx_backoff b;

	w->scripts = s;
	w->nscripts = 2;
	w->cfg.backoff_initial = 60;
	w->cfg.backoff_max = 600;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	mx_deliver_result_free(&r);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 1);

	/* the next delivery skips the failed primary */
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.2");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);

	/* after the retry time it is tried again */
	w->now += 61 * 1000;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	mx_deliver_result_free(&r);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 2);
	mx_journal_close(j);
	mx_plan_free(pl);
}

static void
test_R13_all_in_backoff_defers_without_connecting(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 1);
	mx_deliver_result_free(&r);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 1);		/* no connection */
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_non_null(strstr(r.first_line, "in backoff until"));
	assert_non_null(strstr(r.first_line, "421"));	/* and says why */
	mx_deliver_result_free(&r);
	/* a success clears the state */
	w->now += 3600 * 1000;
	s[0].stage = MX_STAGE_DOT;
	s[0].kind = MX_FAIL_NONE;
	s[0].code = 250;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	{
		struct mx_backoff b;

		assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
		assert_int_equal(b.failures, 0);
	}
	mx_journal_close(j);
	mx_plan_free(pl);
}

static void
test_R13_recipient_4xx_does_not_back_off_the_host(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_RCPT, MX_FAIL_REPLY, 450, {450}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	struct mx_backoff b;

	w->scripts = s;
	w->nscripts = 1;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	mx_deliver_result_free(&r);
	mx_journal_get_backoff(j, "192.0.2.1", 25, &b);
	assert_int_equal(b.failures, 0);
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* a 421 at any stage is the host closing the session: backoff (R13) */
static void
test_R13_421_at_every_stage_backs_off(void **state)
{
	struct world *w = *state;
	static const enum mx_stage stages[] = { MX_STAGE_GREETING, MX_STAGE_EHLO, MX_STAGE_STARTTLS,
						MX_STAGE_MAIL, MX_STAGE_RCPT, MX_STAGE_DATA,
						MX_STAGE_DOT };
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	size_t	i;

	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	for (i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct script s[] = {
			{ "192.0.2.1", stages[i], MX_FAIL_REPLY, 421, {0}, 0 },
		};
		struct mx_backoff b;

		w->scripts = s;
		w->nscripts = 1;
		w->now += 24 * 3600 * 1000LL;	/* past any earlier retry time */
		run(w, pl, one_rcpt, 1, j, &r);
		assert_int_equal(s[0].calls, 1);
		assert_int_equal(r.exit_status, EX_TEMPFAIL);
		mx_deliver_result_free(&r);
		if (!mx_journal_get_backoff(j, "192.0.2.1", 25, &b) || b.failures != (int)i + 1)
			fail_msg("421 at %s: backoff failures %d, want %d", mx_stage_name(stages[i]),
				 b.failures, (int)i + 1);
		assert_true(b.retry_at_ms > w->now);
		assert_non_null(strstr(b.last_error, "421"));
	}
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* --- R13 with the fleet's backoff (policy.fleet_backoff) -------------------- */

/* bo - a backoff state */
static struct mx_backoff
bo(int failures, int64_t retry_at, const char *err, const char *node)
{
	struct mx_backoff b;

	memset(&b, 0, sizeof(b));
	b.failures = failures;
	b.retry_at_ms = retry_at;
	snprintf(b.last_error, sizeof(b.last_error), "%s", err);
	snprintf(b.node, sizeof(b.node), "%s", node);
	return b;
}

/*
 * the pure rule: this node's own running state first, then the fleet's
 * running one (its node kept); expired or absent states hold nothing back
 */
static void
test_R13_fleet_pick_rules(void **state)
{
	const int64_t now = 1800000000000LL;
	struct mx_backoff local, fleet, out;
	struct mx_journal_fleet_backoff f;
	char	words[600];

	(void)state;
	/* nothing at all */
	memset(&local, 0, sizeof(local));
	assert_false(mx_backoff_pick(&local, NULL, now, &out));
	assert_int_equal(out.failures, 0);
	/* local running: local, even when the fleet's runs longer */
	local = bo(2, now + 60000, "421 local", "");
	fleet = bo(5, now + 600000, "421 far", "relay3");
	assert_true(mx_backoff_pick(&local, &fleet, now, &out));
	assert_string_equal(out.node, "");
	assert_string_equal(out.last_error, "421 local");
	assert_int_equal(out.retry_at_ms, now + 60000);
	/* local expired (still failing): the fleet's */
	local.retry_at_ms = now;
	assert_true(mx_backoff_pick(&local, &fleet, now, &out));
	assert_string_equal(out.node, "relay3");
	assert_int_equal(out.failures, 5);
	assert_string_equal(out.last_error, "421 far");
	/* no fleet state (option off): nothing */
	assert_false(mx_backoff_pick(&local, NULL, now, &out));
	/* the fleet's expired too: nothing */
	fleet.retry_at_ms = now;
	assert_false(mx_backoff_pick(&local, &fleet, now, &out));
	assert_string_equal(out.node, "");
	assert_false(mx_backoff_running(NULL, now));

	/* a fleet entry as R13 sees it: its node named, at least one failure */
	memset(&f, 0, sizeof(f));
	snprintf(f.node, sizeof(f.node), "relayA");
	snprintf(f.last_error, sizeof(f.last_error), "421 try later");
	f.failures = 0;
	f.retry_at = now + 1000;
	mx_backoff_from_fleet(&f, &fleet);
	assert_string_equal(fleet.node, "relayA");
	assert_int_equal(fleet.failures, 1);
	assert_int_equal(fleet.retry_at_ms, now + 1000);
	assert_true(mx_backoff_running(&fleet, now));

	/* the words, this node's and a learned one */
	local = bo(1, now + 1, "421 busy", "");
	mx_backoff_words(&local, "10:02 UTC", words, sizeof(words));
	assert_string_equal(words, "in backoff until 10:02 UTC after 1 failure (last: 421 busy)");
	local = bo(3, now + 1, "421 busy", "relay3");
	mx_backoff_words(&local, "10:02 UTC", words, sizeof(words));
	assert_string_equal(words, "in backoff learned from relay3 until 10:02 UTC after 3 failures "
			    "(last: 421 busy)");
}

/* fleet_put - the local fleet_backoff table holds one entry (as mxtier-ship's pull leaves it) */
static void
fleet_put(struct mx_journal *j, const char *node, const char *addr, int64_t retry_at,
	  const char *err)
{
	struct mx_journal_fleet_backoff f;

	memset(&f, 0, sizeof(f));
	snprintf(f.node, sizeof(f.node), "%s", node);
	snprintf(f.address, sizeof(f.address), "%s", addr);
	f.port = 25;
	f.failures = 3;
	f.retry_at = retry_at;
	snprintf(f.last_error, sizeof(f.last_error), "%s", err);
	f.updated = retry_at - 60000;
	assert_true(mx_journal_replace_fleet_backoff(j, &f, 1));
}

/*
 * with policy.fleet_backoff an address another node saw failing is skipped
 * like one in this node's backoff, without a connection, and the skipped
 * row's reason names the node; off, it is tried; expired, it is tried
 */
static void
test_R13_fleet_entry_skipped_only_when_on(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	struct mx_backoff b;
	char	rows[256], reasons[2048];

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "backup.example.test", "192.0.2.2", NULL);
	fleet_put(j, "relay3", "192.0.2.1", w->now + 600000, "421 4.7.0 too busy");

	/* off (the default): the fleet's entry changes nothing */
	assert_false(w->cfg.fleet_backoff);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);

	/* on: skipped without a connection, delivered to the backup */
	w->cfg.fleet_backoff = true;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.2");
	assert_int_equal(s[0].calls, 1);
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	journal_rows(w, "example.test", rows, sizeof(rows));
	assert_string_equal(rows, "dot:delivered:done -:skipped:next_tier dot:delivered:done");
	journal_reasons(w, "example.test", reasons, sizeof(reasons));
	assert_non_null(strstr(reasons, "mx1.example.test[192.0.2.1]:25 is in backoff learned from "
			       "relay3 until "));
	assert_non_null(strstr(reasons, " after 3 failures (last: 421 4.7.0 too busy)"));
	/* the skip is not this node's failure: no local backoff row */
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));

	/* expired: tried again */
	w->now += 600001;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_string_equal(w->order, "192.0.2.1");
	mx_deliver_result_free(&r);
	w->cfg.fleet_backoff = false;
	mx_journal_close(j);
	mx_plan_free(pl);
}

/*
 * this node's own backoff comes first: its reason, not the fleet's; when
 * every host is held back by the fleet the deferral names the node
 */
static void
test_R13_fleet_local_first_and_all_held(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	reasons[2048];

	w->scripts = s;
	w->nscripts = 1;
	w->cfg.backoff_initial = 60;
	w->cfg.backoff_max = 600;
	w->cfg.fleet_backoff = true;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	/* this node fails once: its own backoff of 60 s */
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 1);
	mx_deliver_result_free(&r);
	fleet_put(j, "relay3", "192.0.2.1", w->now + 3600000, "421 from afar");

	/* both run: this node's own is the reason */
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 1);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_null(strstr(r.first_line, "relay3"));
	assert_non_null(strstr(r.first_line, "Connection refused"));
	mx_deliver_result_free(&r);
	journal_reasons(w, "example.test", reasons, sizeof(reasons));
	assert_null(strstr(reasons, "learned from"));

	/* its own ran out, the fleet's runs: held back by relay3, and said so */
	w->now += 61 * 1000;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 1);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_non_null(strstr(r.first_line, "4.4.1 all mail hosts of example.test are in backoff "
			       "until "));
	assert_non_null(strstr(r.first_line, "(last error on relay3: 421 from afar)"));
	mx_deliver_result_free(&r);
	journal_reasons(w, "example.test", reasons, sizeof(reasons));
	assert_non_null(strstr(reasons, "is in backoff learned from relay3 until "));
	w->cfg.fleet_backoff = false;
	mx_journal_close(j);
	mx_plan_free(pl);
}

/*
 * R13 from a failing host: a session that got as far as RCPT TO proves the
 * host works, so a 4xx to RCPT (a recipient's answer) clears its backoff; a
 * 4xx before RCPT (MAIL FROM) neither clears nor adds; a 421 at RCPT adds
 */
static void
test_R13_failing_host_then_4xx_at_rcpt(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	struct mx_backoff b, before;

	w->scripts = s;
	w->nscripts = 1;
	w->cfg.backoff_initial = 60;
	w->cfg.backoff_max = 600;
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	/* two failures: the host is failing */
	run(w, pl, one_rcpt, 1, j, &r);
	mx_deliver_result_free(&r);
	w->now += 601 * 1000;
	run(w, pl, one_rcpt, 1, j, &r);
	mx_deliver_result_free(&r);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &before));
	assert_int_equal(before.failures, 2);

	/* 451 to MAIL FROM: the state stays as it was */
	w->now += 601 * 1000;
	s[0].stage = MX_STAGE_MAIL;
	s[0].kind = MX_FAIL_REPLY;
	s[0].code = 451;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 3);
	mx_deliver_result_free(&r);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 2);
	assert_true(b.retry_at_ms == before.retry_at_ms);

	/* 421 at RCPT: one more failure */
	s[0].stage = MX_STAGE_RCPT;
	s[0].code = 421;
	s[0].rcpt_code[0] = 421;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 4);
	mx_deliver_result_free(&r);
	assert_true(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 3);

	/* 450 to RCPT TO (greylisting): the host works, its backoff is cleared */
	w->now += 601 * 1000;
	s[0].code = 450;
	s[0].rcpt_code[0] = 450;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 5);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	mx_deliver_result_free(&r);
	assert_false(mx_journal_get_backoff(j, "192.0.2.1", 25, &b));
	assert_int_equal(b.failures, 0);
	/* so the next delivery tries it at once */
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(s[0].calls, 6);
	mx_deliver_result_free(&r);
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* --- R14 journal rows ------------------------------------------------------- */

static void
test_R14_every_attempt_journalled_with_decision(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_CONNECT, MX_FAIL_CONNECT, 0, {0}, 0 },
		{ "192.0.2.5", MX_STAGE_GREETING, MX_FAIL_REPLY, 421, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_RCPT, MX_FAIL_REPLY, 451, {451}, 0 },
		{ "192.0.2.3", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("journal.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;

	w->scripts = s;
	w->nscripts = 4;
	w->cfg.policy.max_sessions = 5;
	add_host(pl, 10, "mx1.journal.test", "192.0.2.1", "192.0.2.5");
	add_host(pl, 10, "mx2.journal.test", "192.0.2.2", NULL);
	add_host(pl, 20, "backup.journal.test", "192.0.2.3", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(r.exit_status, EX_OK);
	assert_int_equal(mx_journal_count_attempts(j, "journal.test"), 4);
	mx_journal_close(j);
	{
		/* read the decisions back with the sqlite3 shell's view of the file */
		char	cmd[256], line[256] = "";
		FILE   *fp;

		snprintf(cmd, sizeof(cmd), "sqlite3 %s/journal.db \"select group_concat(decision, ' ') "
			 "from (select decision from attempts where domain = 'journal.test' "
			 "order by id)\"", w->dir);
		fp = popen(cmd, "r");
		assert_non_null(fp);
		assert_non_null(fgets(line, sizeof(line), fp));
		pclose(fp);
		assert_string_equal(line, "next_address next_host next_tier done\n");
	}
	{
		/* the log line operators grep for, in Postfix's shape */
		char	log[2048];

		mx_deliver_log_line(&r, 0, "Q1", one_rcpt[0], 1.5, log, sizeof(log));
		assert_string_equal(log, "Q1: to=<user@example.test>, relay=backup.journal.test"
				    "[192.0.2.3]:25, delay=1.50, dsn=2.0.0, tls=none, status=sent "
				    "(backup.journal.test[192.0.2.3]:25 said: 250 rcpt 250)");
	}
	mx_deliver_result_free(&r);
	w->cfg.policy.max_sessions = 2;
	mx_plan_free(pl);
}

/* 452 too many recipients: the rest go to the same address in a new session */
static void
test_R14_452_too_many_recipients_new_session(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	static const char *const four[] = { "a@many.test", "b@many.test", "c@many.test",
					    "d@many.test" };
	struct mx_plan *pl = new_plan("many.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	rows[1024], reasons[4096];
	size_t	i;

	w->scripts = s;
	w->nscripts = 2;
	w->max_rcpts = 2;
	add_host(pl, 10, "mx1.many.test", "192.0.2.1", NULL);
	add_host(pl, 20, "mx2.many.test", "192.0.2.2", NULL);
	run(w, pl, four, 4, j, &r);
	/* two per session, all on the primary; the backup is never needed */
	assert_string_equal(w->order, "192.0.2.1 192.0.2.1");
	assert_int_equal(r.exit_status, EX_OK);
	for (i = 0; i < 4; i++) {
		assert_int_equal(r.rcpt[i].status, MX_RCPT_SENT);
		assert_non_null(strstr(r.rcpt[i].relay, "192.0.2.1"));
	}
	assert_int_equal(r.sessions, 1);	/* the second session is not a new host */
	mx_deliver_result_free(&r);
	journal_rows(w, "many.test", rows, sizeof(rows));
	assert_string_equal(rows, "dot:delivered:done dot:delivered:done rcpt:tempfail:next_address "
			    "rcpt:tempfail:next_address dot:delivered:done dot:delivered:done");
	journal_reasons(w, "many.test", reasons, sizeof(reasons));
	assert_non_null(strstr(reasons, "452"));
	assert_non_null(strstr(reasons, "new session to the same address"));

	/* one per session: four sessions, bounded by the recipients */
	w->max_rcpts = 1;
	run(w, pl, four, 4, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.1 192.0.2.1 192.0.2.1");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);

	/* a 452 to the first recipient is no "too many": the usual 4xx, next host */
	w->max_rcpts = 0;
	s[0].stage = MX_STAGE_RCPT;
	s[0].kind = MX_FAIL_REPLY;
	s[0].code = 452;
	s[0].rcpt_code[0] = 452;
	run(w, pl, one_rcpt, 1, NULL, &r);
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* an 8-bit body sent without BODY=8BITMIME is said in the attempt's row */
static void
test_R14_8bit_without_8bitmime_noted(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("eight.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	char	reasons[2048];

	w->scripts = s;
	w->nscripts = 1;
	w->eight_bit_unannounced = true;
	add_host(pl, 10, "mx1.eight.test", "192.0.2.1", NULL);
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(r.exit_status, EX_OK);
	mx_deliver_result_free(&r);
	journal_reasons(w, "eight.test", reasons, sizeof(reasons));
	assert_non_null(strstr(reasons, "8-bit body sent without BODY=8BITMIME: the server does "
			       "not offer 8BITMIME"));
	/* and not when it did not happen */
	w->eight_bit_unannounced = false;
	run(w, pl, one_rcpt, 1, j, &r);
	mx_deliver_result_free(&r);
	journal_reasons(w, "eight.test", reasons, sizeof(reasons));
	{
		const char *p = strstr(reasons, "BODY=8BITMIME");

		assert_non_null(p);			/* the first delivery's row */
		assert_null(strstr(p + 1, "BODY=8BITMIME"));	/* not the second's */
	}
	mx_journal_close(j);
	mx_plan_free(pl);
}

/* --- R15-R17: TLS in the walk --------------------------------------------- */

/* journal_tls - "tls/tls_failure ..." of a domain's rows, in order */
static void
journal_tls(struct world *w, const char *domain, char *out, size_t len)
{
	journal_column(w, domain, "ifnull(tls, '-') || '/' || ifnull(tls_failure, '-')", " ",
		       out, len);
}

static void
test_R15_each_host_gets_its_tls_and_a_failed_check_moves_on(void **state)
{
	struct world *w = *state;
	struct script s[] = {
		{ "192.0.2.1", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
		{ "192.0.2.2", MX_STAGE_DOT, MX_FAIL_NONE, 250, {0}, 0 },
	};
	struct mx_plan *pl = new_plan("example.test");
	struct mx_journal *j = journal(w);
	struct mx_deliver_result r;
	struct mx_plan_host *blocked, *verify, *dane;
	char	rows[512], tls[512], line[1600];

	w->scripts = s;
	w->nscripts = 2;
	add_host(pl, 5, "old.example.test", "192.0.2.9", NULL);
	add_host(pl, 10, "mx1.example.test", "192.0.2.1", NULL);
	add_host(pl, 20, "mx2.example.test", "192.0.2.2", NULL);
	blocked = &pl->tiers[0].hosts[0];
	verify = &pl->tiers[1].hosts[0];
	dane = &pl->tiers[2].hosts[0];
	/* the plan ruled old.example.test out (MTA-STS enforce), as plan.c does */
	blocked->usable = false;
	blocked->why_unusable = MX_UNUSABLE_TEMP;
	blocked->tls_blocked = true;
	snprintf(blocked->tls_failure, sizeof(blocked->tls_failure), "validation-failure");
	mx_notes_add(&blocked->notes, "not in the MTA-STS policy of example.test; not used");
	verify->tls = MX_HOST_TLS_SECURE;
	dane->tls = MX_HOST_TLS_DANE;
	dane->tlsa = calloc(1, sizeof(*dane->tlsa));
	dane->tlsa[0].usage = 3;
	dane->tlsa[0].data = calloc(1, 32);
	dane->tlsa[0].len = 32;
	dane->ntlsa = 1;
	w->tls_fail_addr = "192.0.2.1";
	w->tls_fail_type = "certificate-expired";
	w->needs[0] = '\0';
	run(w, pl, one_rcpt, 1, j, &r);
	/* never the ruled-out host; secure = VERIFY with 3 names; DANE with its record */
	assert_string_equal(w->order, "192.0.2.1 192.0.2.2");
	assert_string_equal(w->needs, "3:3:0 4:1:1");
	assert_int_equal(r.exit_status, EX_OK);
	assert_string_equal(r.rcpt[0].tls, "dane");
	journal_rows(w, "example.test", rows, sizeof(rows));
	assert_string_equal(rows, "-:skipped:next_host starttls:tempfail:next_tier dot:delivered:done");
	journal_tls(w, "example.test", tls, sizeof(tls));
	assert_string_equal(tls, "-/validation-failure tls/certificate-expired dane/-");
	mx_deliver_log_line(&r, 0, "Q1", "user@example.test", 1.0, line, sizeof(line));
	assert_non_null(strstr(line, ", tls=dane, status=sent"));
	mx_deliver_result_free(&r);
	/* the last host fails its check too: 4.7.5, kept by the MTA */
	w->tls_fail_addr = "192.0.2.2";
	w->tls_fail_type = "tlsa-invalid";
	verify->tls = MX_HOST_TLS_MAY;
	s[0].stage = MX_STAGE_CONNECT;
	s[0].kind = MX_FAIL_CONNECT;
	run(w, pl, one_rcpt, 1, j, &r);
	assert_int_equal(r.exit_status, EX_TEMPFAIL);
	assert_string_equal(r.rcpt[0].dsn, "4.7.5");
	assert_string_equal(r.rcpt[0].tls_failure, "tlsa-invalid");
	mx_deliver_log_line(&r, 0, "Q1", "user@example.test", 1.0, line, sizeof(line));
	assert_non_null(strstr(line, ", tls=tls/tlsa-invalid, status=deferred"));
	mx_deliver_result_free(&r);
	mx_journal_close(j);
	mx_plan_free(pl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_R11_connection_failure_moves_on_under_every_preset),
		cmocka_unit_test(test_R11_postfix_preset_moves_on_at_every_stage),
		cmocka_unit_test(test_R11_greeting_preset_moves_on_only_before_the_transaction),
		cmocka_unit_test(test_R11_qmail_preset_defers_after_connecting),
		cmocka_unit_test(test_R11_5xx_after_mail_bounces_and_5xx_greeting_is_temporary),
		cmocka_unit_test(test_R11_starttls_stage_under_every_preset),
		cmocka_unit_test_setup_teardown(test_R15_each_host_gets_its_tls_and_a_failed_check_moves_on,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_primary_refused_goes_to_backup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_greylisting_primary_per_preset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_421_greeting_per_preset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_rcpt_5xx_bounces_and_backup_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R11_mail_5xx_bounces_with_69, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_lost_after_dot_never_exits_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R11_all_hosts_failing_defers_naming_the_last, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R11_mixed_recipients_never_exit_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R14_refused_recipient_journalled_at_rcpt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R11_one_deferred_one_bounced_exits_75, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R10_max_sessions_and_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R10_time_limit_stops_before_the_mta_kills_us, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R12_relay_after_every_host_failed_temporarily, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R12_relay_after_max_sessions_ran_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R12_relay_after_max_addresses_ran_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R12_every_address_of_every_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R13_failed_address_skipped_until_retry_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R13_all_in_backoff_defers_without_connecting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R13_recipient_4xx_does_not_back_off_the_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R13_421_at_every_stage_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_R13_failing_host_then_4xx_at_rcpt, setup, teardown),
		cmocka_unit_test(test_R13_fleet_pick_rules),
		cmocka_unit_test_setup_teardown(test_R13_fleet_entry_skipped_only_when_on, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R13_fleet_local_first_and_all_held, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R14_every_attempt_journalled_with_decision, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R14_452_too_many_recipients_new_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_R14_8bit_without_8bitmime_noted, setup, teardown),
	};

	return cmocka_run_group_tests_name("deliver (R10-R14)", tests, NULL, NULL);
}
