/*
 * deliver - walk a plan until every recipient has an outcome (see deliver.h)
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "backoff.h"
#include "deliver.h"
#include "fallback.h"
#include "mailaddr.h"

/* Sessions to one address for the recipients a 452 "too many recipients" left over. */
#define TOO_MANY_ROUNDS	100

/* One address to try, in plan order; relays come last. */
struct candidate {
	const struct mx_plan_host *host;	/* NULL for a relay */
	size_t	tier;
	const struct mx_ip *ip;
	const char *ip_text;
	int	relay;				/* index into fallback_relay, or -1 */
};

/* The walk in progress. */
struct walk {
	const struct mx_deliver_job *job;
	const struct mx_deliver_io *io;
	struct mx_deliver_result *res;
	bool   *pending;
	struct mx_smtp_rcpt *rcpt;
	struct candidate *cand;
	size_t	ncand;
	size_t	nmx;				/* candidates before the relays */
	size_t	relay_left;			/* the current relay's addresses after this one */
	int64_t	earliest_retry;			/* soonest backoff end among skipped */
	int64_t	until;				/* smtp.time_limit: start no attempt after */
	bool	out_of_time;
	char	skipped_error[256];
	char	skipped_node[128];		/* the fleet node of that error, "" this one */
	size_t	nskipped;
	struct mx_smtp_envelope wire;		/* the envelope as it goes on the wire */
	char  **wire_rcpts;			/* wire.rcpts, owned */
	char   *wire_sender;			/* wire.sender, owned */
	char  **shown_rcpts;			/* printable recipients for the journal, owned */
};

/* mx_rcpt_status_name - Postfix's words */
const char *
mx_rcpt_status_name(enum mx_rcpt_status s)
{
	switch (s) {
	case MX_RCPT_SENT: return "sent";
	case MX_RCPT_DEFERRED: return "deferred";
	case MX_RCPT_BOUNCED: return "bounced";
	default: return "pending";
	}
}

/* mx_deliver_log_line - Postfix-shaped log line for one recipient */
void
mx_deliver_log_line(const struct mx_deliver_result *r, size_t i, const char *queue_id,
		    const char *recipient, double delay_s, char *buf, size_t len)
{
	const struct mx_rcpt_outcome *o = &r->rcpt[i];

	snprintf(buf, len, "%s: to=<%s>, relay=%s, delay=%.2f, dsn=%s, tls=%s%s%s, status=%s (%s)",
		 queue_id ? queue_id : "NOQUEUE", recipient, o->relay[0] ? o->relay : "none",
		 delay_s, o->dsn, o->tls[0] ? o->tls : "none", o->tls_failure[0] ? "/" : "",
		 o->tls_failure, mx_rcpt_status_name(o->status), o->text);
}

/* mx_deliver_result_free - free the per-recipient array */
void
mx_deliver_result_free(struct mx_deliver_result *result)
{
	free(result->rcpt);
	result->rcpt = NULL;
	result->nrcpt = 0;
}

/* journal_note - remember the first journal failure */
static void
journal_note(struct walk *w, bool ok)
{
	if (!ok && w->res->journal_error[0] == '\0')
		snprintf(w->res->journal_error, sizeof(w->res->journal_error), "%s",
			 mx_journal_error(w->job->journal));
}

/* in_reply_to - Postfix's "(in reply to X command)" words for a stage */
static const char *
in_reply_to(enum mx_stage s)
{
	switch (s) {
	case MX_STAGE_EHLO: return "EHLO";
	case MX_STAGE_STARTTLS: return "STARTTLS";
	case MX_STAGE_MAIL: return "MAIL FROM";
	case MX_STAGE_RCPT: return "RCPT TO";
	case MX_STAGE_DATA: return "DATA";
	case MX_STAGE_DOT: return "end of DATA";
	default: return NULL;
	}
}

/* while_doing - Postfix's "while ..." words for a lost connection */
static const char *
while_doing(enum mx_stage s)
{
	switch (s) {
	case MX_STAGE_GREETING: return "receiving the initial server greeting";
	case MX_STAGE_EHLO: return "performing the EHLO handshake";
	case MX_STAGE_STARTTLS: return "performing the STARTTLS handshake";
	case MX_STAGE_MAIL: return "sending MAIL FROM";
	case MX_STAGE_RCPT: return "sending RCPT TO";
	case MX_STAGE_DATA: return "sending DATA command";
	case MX_STAGE_DOT: return "sending end of data -- message may be sent more than once";
	default: return "connecting";
	}
}

/* dsn_for - enhanced status with the class of the action (4 defer/move on, 5 bounce) */
static void
dsn_for(char *out, size_t len, const struct mx_smtp_reply *r, enum mx_failure_kind kind,
	enum mx_stage stage, bool permanent)
{
	char	cls = permanent ? '5' : '4';

	if (kind == MX_FAIL_REPLY && r != NULL && r->enhanced[0] != '\0')
		snprintf(out, len, "%c%s", cls, r->enhanced + 1);
	else if (kind == MX_FAIL_REPLY)
		snprintf(out, len, "%c.0.0", cls);
	else if (kind == MX_FAIL_CONNECT)
		snprintf(out, len, "%c.4.1", cls);
	else if (kind == MX_FAIL_LOST)
		snprintf(out, len, "%c.4.2", cls);
	else if (kind == MX_FAIL_PROTOCOL)
		snprintf(out, len, "%c.5.0", cls);
	else if (kind == MX_FAIL_TLS)
		snprintf(out, len, "%c.7.4", cls);
	else
		snprintf(out, len, "%c.3.0", cls);
	(void)stage;
}

/* describe - the sentence for an outcome, naming host, address and reply */
static void
describe(char *out, size_t len, const char *host, const char *addr, int port,
	 enum mx_stage stage, enum mx_failure_kind kind, const struct mx_smtp_reply *r,
	 const char *detail)
{
	const char *irt = in_reply_to(stage);

	switch (kind) {
	case MX_FAIL_CONNECT:
		snprintf(out, len, "connect to %s[%s]:%d: %s", host, addr, port, detail);
		break;
	case MX_FAIL_LOST:
		if (strstr(detail, "timed out") != NULL)
			snprintf(out, len, "conversation with %s[%s] timed out while %s", host, addr,
				 while_doing(stage));
		else
			snprintf(out, len, "%s with %s[%s] while %s", detail[0] ? detail :
				 "lost connection", host, addr, while_doing(stage));
		break;
	case MX_FAIL_PROTOCOL:
		snprintf(out, len, "%s from %s[%s] while %s", detail, host, addr, while_doing(stage));
		break;
	case MX_FAIL_TLS:
		snprintf(out, len, "%s[%s]: %s", host, addr, detail);
		break;
	case MX_FAIL_LOCAL:
		snprintf(out, len, "local problem while sending to %s[%s]: %s", host, addr, detail);
		break;
	case MX_FAIL_NONE:
	case MX_FAIL_REPLY:
		if (stage == MX_STAGE_GREETING)
			snprintf(out, len, "host %s[%s] refused to talk to me: %d %s%s%s", host, addr,
				 r->code, r->enhanced, r->enhanced[0] ? " " : "", r->text);
		else if (irt != NULL && kind == MX_FAIL_REPLY)
			snprintf(out, len, "host %s[%s] said: %d %s%s%s (in reply to %s command)", host,
				 addr, r->code, r->enhanced, r->enhanced[0] ? " " : "", r->text, irt);
		else
			snprintf(out, len, "%s[%s]:%d said: %d %s%s%s", host, addr, port, r->code,
				 r->enhanced, r->enhanced[0] ? " " : "", r->text);
		break;
	}
}

/* add_candidates - every usable address of the plan, in order */
static bool
add_candidates(struct walk *w)
{
	const struct mx_plan *plan = w->job->plan;
	size_t	t, h, a, n = 0;

	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			n += plan->tiers[t].hosts[h].naddrs;
	n += w->job->cfg->nfallback_relay;
	w->cand = calloc(n ? n : 1, sizeof(*w->cand));
	if (w->cand == NULL)
		return false;
	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			const struct mx_plan_host *host = &plan->tiers[t].hosts[h];

			if (!host->usable)
				continue;
			for (a = 0; a < host->naddrs; a++)
				if (host->addrs[a].usable) {
					struct candidate *c = &w->cand[w->ncand++];

					c->host = host;
					c->tier = t;
					c->ip = &host->addrs[a].ip;
					c->ip_text = host->addrs[a].text;
					c->relay = -1;
				}
		}
	w->nmx = w->ncand;
	for (a = 0; a < w->job->cfg->nfallback_relay; a++) {
		struct candidate *c = &w->cand[w->ncand++];

		c->relay = (int)a;
	}
	return true;
}

/* Where the walk goes after an attempt that moved on. */
enum next_step { NEXT_NONE, NEXT_ADDRESS, NEXT_HOST, NEXT_TIER, NEXT_RELAY };

/*
 * next_after - what is left to try after candidate k (R10, R12): the next
 * MX address while max_addresses and max_sessions allow, then the fallback
 * relays (not counted against the limits), each relay's every address
 */
static enum next_step
next_after(const struct walk *w, size_t k)
{
	const struct mx_policy *p = &w->job->cfg->policy;
	const struct candidate *c = &w->cand[k], *n;

	if (w->io->now_ms(w->io->arg) >= w->until)
		return NEXT_NONE;	/* smtp.time_limit: no time for another host */
	if (c->relay >= 0) {
		if (w->relay_left > 0)
			return NEXT_ADDRESS;
		return k + 1 < w->ncand ? NEXT_RELAY : NEXT_NONE;
	}
	if (k + 1 < w->nmx && w->res->addresses_tried < p->max_addresses &&
	    w->res->sessions < p->max_sessions) {
		n = &w->cand[k + 1];
		if (n->host == c->host)
			return NEXT_ADDRESS;
		return n->tier == c->tier ? NEXT_HOST : NEXT_TIER;
	}
	return w->nmx < w->ncand ? NEXT_RELAY : NEXT_NONE;
}

/* decision_word - what moving on from candidate k means */
static const char *
decision_word(const struct walk *w, size_t k, enum mx_action act)
{
	switch (act) {
	case MX_ACTION_DONE: return "done";
	case MX_ACTION_BOUNCE: return "bounce";
	case MX_ACTION_DEFER: return "defer";
	case MX_ACTION_MOVE_ON: break;
	}
	switch (next_after(w, k)) {
	case NEXT_ADDRESS: return "next_address";
	case NEXT_HOST: return "next_host";
	case NEXT_TIER: return "next_tier";
	case NEXT_RELAY: return "fallback_relay";
	case NEXT_NONE: break;
	}
	return "defer";
}

/* journal_row - one attempt row for one recipient */
static void
journal_row(struct walk *w, size_t i, const struct candidate *c, const char *host,
	    const char *addr, int port, const struct mx_smtp_result *res,
	    const struct mx_smtp_reply *reply, const char *outcome, const char *decision,
	    const char *reason, int64_t now)
{
	struct mx_attempt a;

	if (w->job->journal == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.ts_ms = now;
	a.queue_id = w->job->queue_id;
	a.domain = w->job->plan->domain;
	a.recipient = w->shown_rcpts[i];
	a.preference = c != NULL && c->host != NULL ? c->host->pref : -1;
	a.host = host;
	a.address = addr;
	a.port = port;
	a.stage = res != NULL ? mx_stage_name(res->stage) : NULL;
	a.reply_code = reply != NULL ? reply->code : 0;
	a.enhanced_status = reply != NULL && reply->enhanced[0] ? reply->enhanced : NULL;
	a.reply_text = reply != NULL && reply->code ? reply->text : NULL;
	a.outcome = outcome;
	a.decision = decision;
	a.reason = reason;
	a.duration_ms = res != NULL ? res->duration_ms : -1;
	if (res != NULL && (res->stage > MX_STAGE_CONNECT || res->kind != MX_FAIL_CONNECT))
		a.tls = mx_tls_result_name(res->tls_result);	/* a session happened */
	a.tls_failure = res != NULL && res->tls_failure[0] ? res->tls_failure : NULL;
	journal_note(w, mx_journal_add_attempt(w->job->journal, &a));
}

/* EIGHT_BIT_NOTE - the journal's words for an 8-bit body sent without BODY=8BITMIME */
#define EIGHT_BIT_NOTE	"8-bit body sent without BODY=8BITMIME: " \
			"the server does not offer 8BITMIME"

/* reason_of - the journal reason: the outcome's sentence and what else the session did */
static const char *
reason_of(char *out, size_t len, const char *text, const struct mx_smtp_result *res)
{
	if (res->eight_bit_unannounced)
		snprintf(out, len, "%s; %s", text, EIGHT_BIT_NOTE);
	else
		snprintf(out, len, "%s", text);
	return out;
}

/* settle - record what one attempt means for recipient i */
static void
settle(struct walk *w, size_t i, size_t k, const char *host, const char *addr, int port,
       const struct mx_smtp_result *res, bool more, int64_t now)
{
	const struct mx_smtp_rcpt *r = &w->rcpt[i];
	struct mx_rcpt_outcome *o = &w->res->rcpt[i];
	const struct mx_smtp_reply *reply;
	enum mx_stage stage;
	enum mx_failure_kind kind;
	enum mx_action act;
	char	text[sizeof(o->text)], reason[sizeof(o->text) + 100];
	const char *outcome;
	struct mx_smtp_result at = *res;

	if (r->delivered) {
		stage = MX_STAGE_DOT;
		kind = MX_FAIL_NONE;
		reply = &r->reply;
	} else if (r->tried && r->reply.code != 0 && !r->accepted) {
		stage = MX_STAGE_RCPT;		/* this recipient's own answer */
		kind = MX_FAIL_REPLY;
		reply = &r->reply;
	} else {
		stage = res->stage;
		kind = res->kind == MX_FAIL_NONE ? MX_FAIL_LOST : res->kind;
		reply = &res->reply;
	}
	act = mx_fallback_decide(w->job->cfg->fallback, stage, kind, reply->code, more);
	describe(text, sizeof(text), host, addr, port, stage, kind, reply, res->detail);
	snprintf(o->relay, sizeof(o->relay), "%s[%s]:%d", host, addr, port);
	switch (act) {
	case MX_ACTION_DONE:
		o->status = MX_RCPT_SENT;
		snprintf(o->dsn, sizeof(o->dsn), "2%s", reply->enhanced[0] ? reply->enhanced + 1 : ".0.0");
		w->pending[i] = false;
		outcome = "delivered";
		break;
	case MX_ACTION_BOUNCE:
		o->status = MX_RCPT_BOUNCED;
		o->rcpt_rejected = stage == MX_STAGE_RCPT;
		dsn_for(o->dsn, sizeof(o->dsn), reply, kind, stage, true);
		w->pending[i] = false;
		outcome = "permfail";
		break;
	case MX_ACTION_DEFER:
		o->status = MX_RCPT_DEFERRED;
		dsn_for(o->dsn, sizeof(o->dsn), reply, kind, stage, false);
		w->pending[i] = false;
		outcome = "tempfail";
		break;
	default:
		o->status = MX_RCPT_PENDING;	/* moves on; remembered if nothing follows */
		dsn_for(o->dsn, sizeof(o->dsn), reply, kind, stage, false);
		outcome = "tempfail";
		break;
	}
	if (kind == MX_FAIL_TLS && res->tls_failure[0] != '\0' &&
	    strcmp(res->tls_failure, "starttls-not-supported") != 0)
		snprintf(o->dsn, sizeof(o->dsn), "%c.7.5", o->dsn[0]);	/* the check failed */
	snprintf(o->tls, sizeof(o->tls), "%s", mx_tls_result_name(res->tls_result));
	snprintf(o->tls_failure, sizeof(o->tls_failure), "%s", res->tls_failure);
	snprintf(o->text, sizeof(o->text), "%s", text);
	at.stage = stage;	/* a recipient refused at RCPT TO ended there, whatever the session did */
	journal_row(w, i, &w->cand[k], host, addr, port, &at, reply->code ? reply : NULL,
		    outcome, decision_word(w, k, act), reason_of(reason, sizeof(reason), text, res),
		    now);
}

/* format_time - local clock time of a Unix millisecond time */
static void
format_time(char *out, size_t len, int64_t ms)
{
	time_t	t = (time_t)(ms / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, len, "@%lld", (long long)t);
}

/*
 * in_backoff - R13: skip an address whose retry time has not come, this
 * node's own or, with policy.fleet_backoff, one another node saw (named in
 * the reason); no network either way, only the journal
 */
static bool
in_backoff(struct walk *w, size_t k, const char *host, const char *addr, int port, int64_t now)
{
	struct mx_backoff b;
	char	when[64], words[600], reason[900];
	size_t	i;

	if (w->job->journal == NULL)
		return false;
	if (!mx_journal_backoff_at(w->job->journal, addr, port, now, w->job->cfg->fleet_backoff,
				   &b)) {
		if (mx_journal_error(w->job->journal)[0] != '\0')
			journal_note(w, false);		/* unreadable: try the address */
		return false;
	}
	format_time(when, sizeof(when), b.retry_at_ms);
	mx_backoff_words(&b, when, words, sizeof(words));
	snprintf(reason, sizeof(reason), "%s[%s]:%d is %s", host, addr, port, words);
	if (w->nskipped++ == 0 || b.retry_at_ms < w->earliest_retry) {
		w->earliest_retry = b.retry_at_ms;
		snprintf(w->skipped_error, sizeof(w->skipped_error), "%s", b.last_error);
		snprintf(w->skipped_node, sizeof(w->skipped_node), "%s", b.node);
	}
	for (i = 0; i < w->job->env.nrcpts; i++)
		if (w->pending[i])
			journal_row(w, i, &w->cand[k], host, addr, port, NULL, NULL, "skipped",
				    decision_word(w, k, MX_ACTION_MOVE_ON), reason, now);
	return true;
}

/* note_host - R13: a host failure means backoff; a session that reached RCPT TO clears it */
static void
note_host(struct walk *w, const char *host, const char *addr, int port,
	  const struct mx_smtp_result *res, int64_t now)
{
	const struct mx_deliver_job *job = w->job;
	struct mx_backoff b;
	char	why[300];

	if (job->journal == NULL)
		return;
	if (mx_failure_is_host_problem(res->stage, res->kind, res->reply.code)) {
		describe(why, sizeof(why), host, addr, port, res->stage, res->kind, &res->reply,
			 res->detail);
		journal_note(w, mx_journal_note_failure(job->journal, addr, port, now,
							job->cfg->backoff_initial,
							job->cfg->backoff_max, why, NULL));
	} else if (res->kind == MX_FAIL_NONE || res->stage >= MX_STAGE_RCPT) {
		if (mx_journal_get_backoff(job->journal, addr, port, &b) && b.failures > 0)
			journal_note(w, mx_journal_note_success(job->journal, addr, port));
	}
}

/*
 * hold - recipient i got 452 "too many recipients" in a session that
 * delivered to others (RFC 5321 4.5.3.1.10): it goes to the same address in
 * a new session, as Postfix's smtp(8) does; journalled as next_address
 */
static void
hold(struct walk *w, size_t i, size_t k, const char *host, const char *addr, int port,
     const struct mx_smtp_result *res, int64_t now)
{
	const struct mx_smtp_rcpt *r = &w->rcpt[i];
	struct mx_rcpt_outcome *o = &w->res->rcpt[i];
	struct mx_smtp_result at_rcpt = *res;
	char	text[sizeof(o->text)], reason[sizeof(o->text) + 200];

	at_rcpt.stage = MX_STAGE_RCPT;		/* this recipient's part ended there */
	describe(text, sizeof(text), host, addr, port, MX_STAGE_RCPT, MX_FAIL_REPLY, &r->reply, "");
	snprintf(o->relay, sizeof(o->relay), "%s[%s]:%d", host, addr, port);
	dsn_for(o->dsn, sizeof(o->dsn), &r->reply, MX_FAIL_REPLY, MX_STAGE_RCPT, false);
	snprintf(o->text, sizeof(o->text), "%s", text);
	o->status = MX_RCPT_PENDING;
	reason_of(reason, sizeof(reason), text, res);
	snprintf(reason + strlen(reason), sizeof(reason) - strlen(reason), "; too many recipients "
		 "for one session: sent again in a new session to the same address");
	journal_row(w, i, &w->cand[k], host, addr, port, &at_rcpt, &r->reply, "tempfail",
		    "next_address", reason, now);
}

/*
 * host_tls - R15-R17: the session options for candidate c, its TLS from the
 * plan's policy for the host (a fallback relay gets the level's base: its
 * name verified at verify and above). names has room for 3; names[2] holds
 * ".DOMAIN" on entry.
 */
static void
host_tls(const struct walk *w, const struct candidate *c, const char *host,
	 struct mx_smtp_opts *o, const char **names)
{
	const struct mx_plan_host *h = c->host;
	enum mx_host_tls policy;
	struct mx_smtp_tls *t = &o->tls;

	*o = *w->job->smtp;
	memset(t, 0, sizeof(*t));
	names[0] = host;
	names[1] = w->job->plan->domain;
	t->names = names;
	if (h != NULL)
		policy = h->tls;
	else {
		switch (w->job->cfg->smtp.tls_level) {
		case MX_TLS_NONE: policy = MX_HOST_TLS_NONE; break;
		case MX_TLS_ENCRYPT: case MX_TLS_DANE_ONLY: policy = MX_HOST_TLS_ENCRYPT; break;
		case MX_TLS_VERIFY: case MX_TLS_SECURE: policy = MX_HOST_TLS_VERIFY; break;
		default: policy = MX_HOST_TLS_MAY; break;
		}
	}
	switch (policy) {
	case MX_HOST_TLS_NONE:
		t->need = MX_TLSNEED_NONE;
		break;
	case MX_HOST_TLS_MAY:
		t->need = MX_TLSNEED_MAY;
		if (h != NULL && h->sts_check) {
			t->check_names = true;	/* MTA-STS testing: verify and report */
			t->nnames = 1;
		}
		break;
	case MX_HOST_TLS_ENCRYPT:
		t->need = MX_TLSNEED_ENCRYPT;
		break;
	case MX_HOST_TLS_VERIFY:
	case MX_HOST_TLS_MTA_STS:
		t->need = MX_TLSNEED_VERIFY;
		t->nnames = 1;
		break;
	case MX_HOST_TLS_SECURE:
		/* Postfix's smtp_tls_secure_cert_match = nexthop, dot-nexthop, plus the MX name */
		t->need = MX_TLSNEED_VERIFY;
		t->nnames = 3;
		break;
	case MX_HOST_TLS_DANE:
		t->need = MX_TLSNEED_DANE;
		t->tlsa = h->tlsa;
		t->ntlsa = h->ntlsa;
		t->nnames = 1;
		break;
	}
}

/*
 * try_address - sessions to one candidate address: one, and one more for
 * the recipients each 452 "too many recipients" left over (bounded: every
 * such session delivered to at least one recipient, and TOO_MANY_ROUNDS)
 */
static void
try_address(struct walk *w, size_t k, const char *host, const struct mx_ip *ip,
	    const char *addr, int port)
{
	const struct mx_deliver_job *job = w->job;
	struct mx_smtp_result res;
	struct mx_smtp_opts opts;
	const char *names[3];
	char	dot_domain[MX_DOMAIN_MAX + 2];
	int64_t	now = w->io->now_ms(w->io->arg);
	size_t	i, nheld;
	bool	more, *send;
	int	round;

	if (in_backoff(w, k, host, addr, port, now))
		return;
	send = calloc(job->env.nrcpts ? job->env.nrcpts : 1, sizeof(*send));
	if (send == NULL) {
		for (i = 0; i < job->env.nrcpts; i++)
			if (w->pending[i] && w->res->rcpt[i].text[0] == '\0') {
				snprintf(w->res->rcpt[i].dsn, sizeof(w->res->rcpt[i].dsn), "4.3.0");
				snprintf(w->res->rcpt[i].text, sizeof(w->res->rcpt[i].text),
					 "out of memory");
			}
		return;
	}
	memcpy(send, w->pending, job->env.nrcpts * sizeof(*send));
	snprintf(dot_domain, sizeof(dot_domain), ".%s", job->plan->domain);
	names[2] = dot_domain;
	host_tls(w, &w->cand[k], host, &opts, names);
	for (round = 0;; round++) {
		w->io->attempt(w->io->arg, &opts, ip, port, host, &w->wire, send, job->spool,
			       w->rcpt, &res);
		now = w->io->now_ms(w->io->arg);
		if (round == 0 && w->cand[k].relay < 0) {
			w->res->addresses_tried++;	/* not again for the same address */
			if (res.reached_greeting)
				w->res->sessions++;
		}
		note_host(w, host, addr, port, &res, now);
		more = next_after(w, k) != NEXT_NONE;
		nheld = 0;
		for (i = 0; i < job->env.nrcpts; i++) {
			if (!send[i])
				continue;
			send[i] = res.kind == MX_FAIL_NONE && w->rcpt[i].too_many &&
			    !w->rcpt[i].accepted && round + 1 < TOO_MANY_ROUNDS && now < w->until;
			if (send[i]) {
				hold(w, i, k, host, addr, port, &res, now);
				nheld++;
			} else
				settle(w, i, k, host, addr, port, &res, more, now);
		}
		if (nheld == 0)
			break;
	}
	free(send);
}

/* try_relay - R12: resolve a fallback relay and try its addresses */
static void
try_relay(struct walk *w, size_t k)
{
	struct mx_relay_target t;
	const char *spec = w->job->cfg->fallback_relay[w->cand[k].relay];
	size_t	a, i;

	memset(&t, 0, sizeof(t));
	if (w->io->resolve_relay == NULL || !w->io->resolve_relay(w->io->arg, spec, &t) ||
	    t.nips == 0) {
		int64_t	now = w->io->now_ms(w->io->arg);
		char	why[300];

		snprintf(why, sizeof(why), "fallback relay %s: %s", spec,
			 t.error[0] ? t.error : "no address");
		for (i = 0; i < w->job->env.nrcpts; i++)
			if (w->pending[i]) {
				snprintf(w->res->rcpt[i].text, sizeof(w->res->rcpt[i].text), "%s", why);
				snprintf(w->res->rcpt[i].dsn, sizeof(w->res->rcpt[i].dsn), "4.4.4");
				journal_row(w, i, &w->cand[k], t.name[0] ? t.name : spec, NULL, -1, NULL,
					    NULL, "tempfail", decision_word(w, k, MX_ACTION_MOVE_ON),
					    why, now);
			}
		return;
	}
	for (a = 0; a < t.nips; a++) {
		char	text[MX_IP_TEXT_MAX];
		bool	any = false;

		for (i = 0; i < w->job->env.nrcpts; i++)
			any = any || w->pending[i];
		if (!any)
			break;
		if (a > 0 && w->io->now_ms(w->io->arg) >= w->until) {
			w->out_of_time = true;
			break;
		}
		mx_ip_format(&t.ips[a], text, sizeof(text));
		w->relay_left = t.nips - a - 1;	/* R12: all its addresses before the next relay */
		try_address(w, k, t.name, &t.ips[a], text, t.port);
	}
	w->relay_left = 0;
}

/* finish - exit status and first line from the recipients' outcomes */
static void
finish(struct walk *w)
{
	struct mx_deliver_result *res = w->res;
	const struct mx_rcpt_outcome *first_deferred = NULL, *first_bounced = NULL,
	    *first_sent = NULL;
	bool	all_rcpt_rejected = true;
	size_t	i;

	for (i = 0; i < res->nrcpt; i++) {
		struct mx_rcpt_outcome *o = &res->rcpt[i];

		if (o->status == MX_RCPT_PENDING) {
			/* moved on from the last address: nothing left, so deferred */
			o->status = MX_RCPT_DEFERRED;
			if (w->out_of_time && o->text[0] == '\0') {
				snprintf(o->dsn, sizeof(o->dsn), "4.4.7");
				snprintf(o->relay, sizeof(o->relay), "none");
				snprintf(o->text, sizeof(o->text), "delivery time limit of %d s "
					 "(smtp.time_limit) reached", w->job->cfg->smtp.time_limit);
			} else if (o->text[0] == '\0' && w->nskipped > 0) {
				char	when[64];

				format_time(when, sizeof(when), w->earliest_retry);
				snprintf(o->dsn, sizeof(o->dsn), "4.4.1");
				snprintf(o->relay, sizeof(o->relay), "none");
				snprintf(o->text, sizeof(o->text), "all mail hosts of %s are in backoff "
					 "until %s (last error%s%s: %s)", w->job->plan->domain, when,
					 w->skipped_node[0] ? " on " : "", w->skipped_node,
					 w->skipped_error);
			} else if (o->text[0] == '\0') {
				snprintf(o->dsn, sizeof(o->dsn), "4.4.1");
				snprintf(o->relay, sizeof(o->relay), "none");
				snprintf(o->text, sizeof(o->text), "no mail host of %s could be tried "
					 "(max_addresses %d, max_sessions %d)", w->job->plan->domain,
					 w->job->cfg->policy.max_addresses,
					 w->job->cfg->policy.max_sessions);
			}
		}
		if (o->status == MX_RCPT_DEFERRED && first_deferred == NULL)
			first_deferred = o;
		if (o->status == MX_RCPT_BOUNCED) {
			if (first_bounced == NULL)
				first_bounced = o;
			all_rcpt_rejected = all_rcpt_rejected && o->rcpt_rejected;
		}
		if (o->status == MX_RCPT_SENT && first_sent == NULL)
			first_sent = o;
	}
	if (first_deferred != NULL) {
		res->exit_status = EX_TEMPFAIL;
		snprintf(res->first_line, sizeof(res->first_line), "%s %s", first_deferred->dsn,
			 first_deferred->text);
	} else if (first_bounced != NULL) {
		res->exit_status = all_rcpt_rejected ? EX_NOUSER : EX_UNAVAILABLE;
		snprintf(res->first_line, sizeof(res->first_line), "%s %s", first_bounced->dsn,
			 first_bounced->text);
	} else if (first_sent != NULL) {
		res->exit_status = EX_OK;
		snprintf(res->first_line, sizeof(res->first_line), "%s delivered via %s",
			 first_sent->dsn, first_sent->text);
	} else {
		res->exit_status = EX_TEMPFAIL;
		snprintf(res->first_line, sizeof(res->first_line), "4.3.0 no recipients");
	}
}

/* refuse_address - an address that cannot be sent safely: bounce it, say why */
static void
refuse_address(struct walk *w, size_t i, bool sender, const char *why)
{
	struct mx_rcpt_outcome *o = &w->res->rcpt[i];

	o->status = MX_RCPT_BOUNCED;
	o->rcpt_rejected = !sender;	/* the recipient's own fault: exit 67 */
	snprintf(o->dsn, sizeof(o->dsn), "%s", sender ? "5.1.7" : "5.1.3");
	snprintf(o->relay, sizeof(o->relay), "none");
	snprintf(o->text, sizeof(o->text), "bad %s address syntax: %s; not sent to any server",
		 sender ? "sender" : "recipient", why);
	w->pending[i] = false;
	journal_row(w, i, NULL, NULL, NULL, -1, NULL, NULL, "permfail", "bounce", o->text,
		    w->io->now_ms(w->io->arg));
}

/*
 * prepare_envelope - the wire form of every address (mailaddr.h); a
 * recipient with a control character bounces with 5.1.3, a sender with one
 * bounces every recipient with 5.1.7. false: out of memory.
 */
static bool
prepare_envelope(struct walk *w)
{
	const struct mx_smtp_envelope *env = &w->job->env;
	size_t	n = env->nrcpts ? env->nrcpts : 1, i;
	char	why[120];
	enum mx_mailaddr_status st;

	w->wire_rcpts = calloc(n, sizeof(*w->wire_rcpts));
	w->shown_rcpts = calloc(n, sizeof(*w->shown_rcpts));
	if (w->wire_rcpts == NULL || w->shown_rcpts == NULL)
		return false;
	for (i = 0; i < env->nrcpts; i++) {
		size_t	len = strlen(env->rcpts[i]) + 1;

		if ((w->shown_rcpts[i] = malloc(len)) == NULL)
			return false;
		mx_mailaddr_printable(env->rcpts[i], w->shown_rcpts[i], len);
	}
	w->wire.rcpts = (const char *const *)w->wire_rcpts;
	w->wire.nrcpts = env->nrcpts;
	st = mx_mailaddr_wire(env->sender, &w->wire_sender, why, sizeof(why));
	if (st == MX_MAILADDR_NOMEM)
		return false;
	if (st == MX_MAILADDR_CONTROL) {
		for (i = 0; i < env->nrcpts; i++) {
			if ((w->wire_rcpts[i] = strdup("")) == NULL)
				return false;
			refuse_address(w, i, true, why);
		}
		w->wire.sender = "";
		return true;
	}
	w->wire.sender = w->wire_sender;
	for (i = 0; i < env->nrcpts; i++) {
		st = mx_mailaddr_wire(env->rcpts[i], &w->wire_rcpts[i], why, sizeof(why));
		if (st == MX_MAILADDR_NOMEM)
			return false;
		if (st == MX_MAILADDR_CONTROL) {
			/* never pending, so never sent; "" keeps every entry a string */
			if ((w->wire_rcpts[i] = strdup("")) == NULL)
				return false;
			refuse_address(w, i, false, why);
		}
	}
	return true;
}

/* free_envelope - what prepare_envelope() allocated */
static void
free_envelope(struct walk *w)
{
	size_t	i;

	for (i = 0; i < w->job->env.nrcpts; i++) {
		if (w->wire_rcpts != NULL)
			free(w->wire_rcpts[i]);
		if (w->shown_rcpts != NULL)
			free(w->shown_rcpts[i]);
	}
	free(w->wire_rcpts);
	free(w->shown_rcpts);
	free(w->wire_sender);
}

/* last_note - a host's last note (why it is unusable), or "" */
static const char *
last_note(const struct mx_plan_host *h)
{
	return h->notes.n > 0 ? h->notes.v[h->notes.n - 1] : "";
}

/*
 * journal_tls_blocked - R14: a host the TLS policy ruled out (DANE, MTA-STS)
 * is journalled as skipped for each recipient, with its RFC 8460 type, so
 * the explanation can say why the mail went elsewhere
 */
static void
journal_tls_blocked(struct walk *w)
{
	const struct mx_plan *plan = w->job->plan;
	struct mx_attempt a;
	char	reason[600];
	size_t	t, h, i;

	if (w->job->journal == NULL)
		return;
	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++) {
			const struct mx_plan_host *host = &plan->tiers[t].hosts[h];

			if (!host->tls_blocked)
				continue;
			snprintf(reason, sizeof(reason), "%s: %s", host->name, last_note(host));
			for (i = 0; i < w->job->env.nrcpts; i++) {
				if (!w->pending[i])
					continue;
				memset(&a, 0, sizeof(a));
				a.ts_ms = w->io->now_ms(w->io->arg);
				a.queue_id = w->job->queue_id;
				a.domain = plan->domain;
				a.recipient = w->shown_rcpts[i];
				a.preference = host->pref;
				a.host = host->name;
				a.port = w->job->cfg->smtp.port;
				a.outcome = "skipped";
				a.decision = w->nmx > 0 ? "next_host" : "defer";
				a.reason = reason;
				a.duration_ms = -1;
				a.tls_failure = host->tls_failure;
				journal_note(w, mx_journal_add_attempt(w->job->journal, &a));
			}
		}
}

/* mx_deliver - walk the plan */
void
mx_deliver(const struct mx_deliver_job *job, const struct mx_deliver_io *io,
	   struct mx_deliver_result *result)
{
	struct walk w;
	size_t	k, i;

	memset(result, 0, sizeof(*result));
	memset(&w, 0, sizeof(w));
	w.job = job;
	w.io = io;
	w.res = result;
	result->nrcpt = job->env.nrcpts;
	result->rcpt = calloc(job->env.nrcpts ? job->env.nrcpts : 1, sizeof(*result->rcpt));
	w.pending = calloc(job->env.nrcpts ? job->env.nrcpts : 1, sizeof(*w.pending));
	w.rcpt = calloc(job->env.nrcpts ? job->env.nrcpts : 1, sizeof(*w.rcpt));
	if (w.pending != NULL)
		for (i = 0; i < job->env.nrcpts; i++)
			w.pending[i] = true;
	if (result->rcpt == NULL || w.pending == NULL || w.rcpt == NULL || !add_candidates(&w) ||
	    !prepare_envelope(&w)) {
		free_envelope(&w);
		free(w.pending);
		free(w.rcpt);
		free(w.cand);
		mx_deliver_result_free(result);
		result->exit_status = EX_TEMPFAIL;
		snprintf(result->first_line, sizeof(result->first_line), "4.3.0 out of memory");
		return;
	}
	w.until = io->now_ms(io->arg) + (int64_t)job->cfg->smtp.time_limit * 1000;
	journal_tls_blocked(&w);
	for (k = 0; k < w.ncand; k++) {
		bool	any = false;

		for (i = 0; i < job->env.nrcpts; i++)
			any = any || w.pending[i];
		if (!any)
			break;
		if (io->now_ms(io->arg) >= w.until) {
			w.out_of_time = true;	/* the MTA would kill us: defer now */
			break;
		}
		if (w.cand[k].relay >= 0) {
			try_relay(&w, k);
			continue;
		}
		if (result->addresses_tried >= job->cfg->policy.max_addresses ||
		    result->sessions >= job->cfg->policy.max_sessions) {
			/* R10: limits reached; only the relays may still be tried */
			while (k + 1 < w.ncand && w.cand[k + 1].relay < 0)
				k++;
			continue;
		}
		try_address(&w, k, w.cand[k].host->name, w.cand[k].ip, w.cand[k].ip_text,
			    job->cfg->smtp.port);
	}
	finish(&w);
	free_envelope(&w);
	free(w.pending);
	free(w.rcpt);
	free(w.cand);
}

/* plan_tls_failure - the RFC 8460 type when the TLS policy ruled out every host, else NULL */
static const char *
plan_tls_failure(const struct mx_plan *plan)
{
	size_t	t, h;

	if (strcmp(plan->status, "4.7.5") != 0)
		return NULL;
	for (t = 0; t < plan->ntiers; t++)
		for (h = 0; h < plan->tiers[t].nhosts; h++)
			if (plan->tiers[t].hosts[h].tls_blocked)
				return plan->tiers[t].hosts[h].tls_failure;
	return NULL;
}

/* mx_deliver_plan_failure - nothing to try: the plan's own result */
void
mx_deliver_plan_failure(const struct mx_deliver_job *job, const struct mx_deliver_io *io,
			struct mx_deliver_result *result)
{
	const struct mx_plan *plan = job->plan;
	bool	permanent = plan->status[0] == '5';
	int64_t	now = io->now_ms(io->arg);
	size_t	i;

	memset(result, 0, sizeof(*result));
	result->exit_status = permanent ? EX_NOHOST : EX_TEMPFAIL;
	snprintf(result->first_line, sizeof(result->first_line), "%s %s",
		 plan->status[0] ? plan->status : "4.4.3", plan->message);
	result->rcpt = calloc(job->env.nrcpts ? job->env.nrcpts : 1, sizeof(*result->rcpt));
	if (result->rcpt == NULL)
		return;
	result->nrcpt = job->env.nrcpts;
	for (i = 0; i < job->env.nrcpts; i++) {
		struct mx_rcpt_outcome *o = &result->rcpt[i];
		struct mx_attempt a;
		char	shown[1024];

		o->status = permanent ? MX_RCPT_BOUNCED : MX_RCPT_DEFERRED;
		snprintf(o->dsn, sizeof(o->dsn), "%s", plan->status[0] ? plan->status : "4.4.3");
		snprintf(o->relay, sizeof(o->relay), "none");
		snprintf(o->text, sizeof(o->text), "%s", plan->message);
		if (job->journal == NULL)
			continue;
		memset(&a, 0, sizeof(a));
		a.ts_ms = now;
		a.queue_id = job->queue_id;
		a.domain = plan->domain;
		mx_mailaddr_printable(job->env.rcpts[i], shown, sizeof(shown));
		a.recipient = shown;
		a.preference = -1;
		a.port = -1;
		a.enhanced_status = o->dsn;
		a.outcome = permanent ? "permfail" : "tempfail";
		a.decision = permanent ? "bounce" : "defer";
		a.reason = plan->message;
		a.duration_ms = -1;
		a.tls_failure = plan_tls_failure(plan);
		if (!mx_journal_add_attempt(job->journal, &a) && result->journal_error[0] == '\0')
			snprintf(result->journal_error, sizeof(result->journal_error), "%s",
				 mx_journal_error(job->journal));
	}
}
