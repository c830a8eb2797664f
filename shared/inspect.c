/*
 * inspect - the inspector's model: plan, host states, attempts, explanation
 * (see inspect.h)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspect.h"
#include "json.h"
#include "planfmt.h"

/* mx_format_time - clock time today, date and time otherwise */
void
mx_format_time(int64_t ms, int64_t now_ms, bool utc, char *out, size_t len)
{
	time_t	t = (time_t)(ms / 1000), now = (time_t)(now_ms / 1000);
	struct tm tm, tn;
	bool	ok = utc ? gmtime_r(&t, &tm) != NULL && gmtime_r(&now, &tn) != NULL :
	    localtime_r(&t, &tm) != NULL && localtime_r(&now, &tn) != NULL;

	if (!ok) {
		snprintf(out, len, "@%lld", (long long)t);
		return;
	}
	if (tm.tm_year == tn.tm_year && tm.tm_yday == tn.tm_yday)
		strftime(out, len, "%H:%M:%S", &tm);
	else
		strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* same_delivery - do two rows belong to the same delivery of one recipient */
static bool
same_delivery(const struct mx_attempt_row *a, const struct mx_attempt_row *b)
{
	if (strcmp(a->recipient, b->recipient) != 0)
		return false;
	if (a->queue_id[0] != '\0' || b->queue_id[0] != '\0')
		return strcmp(a->queue_id, b->queue_id) == 0;
	/* no queue id: rows of one run are written within its time limit */
	return llabs(a->ts_ms - b->ts_ms) < 15 * 60 * 1000;
}

/* mta_name - "Postfix" or "Exim" for a row imported from that MTA's log, else NULL */
static const char *
mta_name(const struct mx_attempt_row *r)
{
	if (strcmp(r->source, "postfix") == 0)
		return "Postfix";
	if (strcmp(r->source, "exim") == 0)
		return "Exim";
	return NULL;
}

/* host_label - "mx1.example.net (pref 10)"; "mx1.example.net[192.0.2.1]" from a log */
static void
host_label(const struct mx_attempt_row *r, char *out, size_t len)
{
	if (mta_name(r) != NULL && r->preference < 0) {
		if (r->host[0] && r->address[0])
			snprintf(out, len, "%.253s[%.45s]", r->host, r->address);
		else
			snprintf(out, len, "%s", r->host[0] ? r->host : r->address[0] ? r->address :
				 "no host");
	} else if (r->preference >= 0)
		snprintf(out, len, "%s (pref %d)", r->host[0] ? r->host : r->address, r->preference);
	else if (r->host[0])
		snprintf(out, len, "the fallback relay %s", r->host);
	else
		snprintf(out, len, "no host");
}

/*
 * backoff_node - the fleet node a skip's reason names ("... in backoff
 * learned from NODE until ..."), into out; false when it names none
 */
static bool
backoff_node(const char *reason, char *out, size_t len)
{
	static const char mark[] = " in backoff learned from ";
	const char *p = strstr(reason, mark), *end;

	if (p == NULL)
		return false;
	p += sizeof(mark) - 1;
	if ((end = strstr(p, " until ")) == NULL || end == p)
		return false;
	snprintf(out, len, "%.*s", (int)(end - p), p);
	return true;
}

/* what_happened - "refused the connection", "answered 421 at greeting", ... */
static void
what_happened(const struct mx_attempt_row *r, char *out, size_t len)
{
	char	node[128];

	if (strcmp(r->outcome, "skipped") == 0 && strstr(r->reason, "not in the MTA-STS policy")
	    != NULL)
		snprintf(out, len, "is not in the MTA-STS policy of %s", r->domain);
	else if (strcmp(r->outcome, "skipped") == 0 && r->tls_failure[0] != '\0')
		snprintf(out, len, "was ruled out by the TLS policy (%s)", r->tls_failure);
	else if (strcmp(r->outcome, "skipped") == 0 && backoff_node(r->reason, node, sizeof(node)))
		snprintf(out, len, "was in backoff after a failure seen by %s", node);
	else if (strcmp(r->outcome, "skipped") == 0)
		snprintf(out, len, "was in backoff after an earlier failure");
	else if (strcmp(r->tls_failure, "tlsa-invalid") == 0 && strcmp(r->outcome, "delivered"))
		snprintf(out, len, "failed DANE authentication (tlsa-invalid)");
	else if (strcmp(r->tls_failure, "starttls-not-supported") == 0)
		snprintf(out, len, "offered no STARTTLS, which the TLS policy requires "
			 "(starttls-not-supported)");
	else if (r->tls_failure[0] != '\0' && strcmp(r->outcome, "delivered") != 0)
		snprintf(out, len, "failed TLS certificate verification (%s)", r->tls_failure);
	else if (strcmp(r->stage, "connect") == 0 && strstr(r->reason, "refused") != NULL)
		snprintf(out, len, "refused the connection");
	else if (strcmp(r->stage, "connect") == 0 && strstr(r->reason, "timed out") != NULL)
		snprintf(out, len, "did not answer (connection timed out)");
	else if (strcmp(r->stage, "connect") == 0)
		snprintf(out, len, "could not be reached");
	else if (r->reply_code > 0)
		snprintf(out, len, "answered %d at %s", r->reply_code,
			 strcmp(r->stage, "rcpt") == 0 ? "RCPT" : strcmp(r->stage, "mail") == 0 ?
			 "MAIL" : strcmp(r->stage, "data") == 0 ? "DATA" : strcmp(r->stage, "dot") == 0 ?
			 "the end of data" : r->stage);
	else if (strstr(r->reason, "timed out") != NULL)
		snprintf(out, len, "timed out at %s", r->stage);
	else if (r->stage[0] != '\0')
		snprintf(out, len, "dropped the connection at %s", strcmp(r->stage, "dot") == 0 ?
			 "the end of data" : r->stage);
	else
		snprintf(out, len, "%.500s", r->reason);
}

/* clause - "HOST (pref P) WHAT" */
static void
clause(const struct mx_attempt_row *r, char *out, size_t len)
{
	char	label[320], what[600];

	host_label(r, label, sizeof(label));
	what_happened(r, what, sizeof(what));
	snprintf(out, len, "%.300s %.580s", label, what);
}

/* join_clauses - "a", "a and b", "a, b and c"; identical clauses once */
static void
join_clauses(const struct mx_attempt_row *const *rows, int n, char *out, size_t len)
{
	char	c[8][900];
	int	nc = 0, i, k;
	size_t	used = 0;

	out[0] = '\0';
	for (i = 0; i < n && nc < 8; i++) {
		bool	dup = false;

		clause(rows[i], c[nc], sizeof(c[nc]));
		for (k = 0; k < nc; k++)
			dup = dup || strcmp(c[k], c[nc]) == 0;
		if (!dup)
			nc++;
	}
	for (i = 0; i < nc && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i == 0 ? "" : i == nc - 1 ? " and " : ", ", c[i]);
}

/*
 * explain_imported - the sentence for a delivery the MTA made itself, from
 * its log: "Postfix delivered to backup.example.com at 10:02 after
 * mx1.example.com[192.0.2.1] refused the connection"
 */
static void
explain_imported(const struct mx_attempt_row *const *chain, int nchain, const char *when,
		 char *out, size_t len)
{
	const struct mx_attempt_row *last = chain[nchain - 1];
	const char *mta = mta_name(last);
	char	because[900];

	if (strcmp(last->outcome, "delivered") == 0) {
		if (nchain == 1) {
			snprintf(out, len, "%s delivered to %s at %s, the first host it tried (%s)",
				 mta, last->host[0] ? last->host : last->address, when,
				 last->recipient);
			return;
		}
		join_clauses(chain, nchain - 1, because, sizeof(because));
		snprintf(out, len, "%s delivered to %s at %s after %s (%s)", mta,
			 last->host[0] ? last->host : last->address, when, because, last->recipient);
		return;
	}
	if (last->host[0] == '\0' && last->address[0] == '\0')
		snprintf(because, sizeof(because), "%.890s", last->reason);
	else
		join_clauses(chain, nchain, because, sizeof(because));
	snprintf(out, len, "%s %s mail for %s at %s: %s", mta,
		 strcmp(last->outcome, "permfail") == 0 ? "bounced" : "deferred",
		 last->recipient[0] ? last->recipient : "?", when, because);
}

/* mx_explain - where the last delivery went and why, in one sentence */
void
mx_explain(const struct mx_attempt_row *rows, int n, const char *domain, bool utc,
	   char *out, size_t len)
{
	const struct mx_attempt_row *chain[64], *last;
	char	when[40], because[900], label[320];
	int	nchain = 0, i;

	if (n <= 0) {
		snprintf(out, len, "no delivery attempts for %s in the journal", domain);
		return;
	}
	/* the newest delivery: rows[0] and the rows before it of the same delivery */
	for (i = 0; i < n && nchain < 64 && same_delivery(&rows[0], &rows[i]); i++)
		chain[nchain++] = &rows[i];
	for (i = 0; i < nchain / 2; i++) {	/* oldest first */
		const struct mx_attempt_row *t = chain[i];

		chain[i] = chain[nchain - 1 - i];
		chain[nchain - 1 - i] = t;
	}
	last = chain[nchain - 1];
	mx_format_time(last->ts_ms, last->ts_ms, utc, when, sizeof(when));
	if (mta_name(last) != NULL) {
		explain_imported(chain, nchain, when, out, len);
		return;
	}
	host_label(last, label, sizeof(label));
	if (strcmp(last->outcome, "delivered") == 0) {
		if (nchain == 1) {
			snprintf(out, len, "last delivery %s to %s went to %s, the first host tried",
				 when, last->recipient, label);
			return;
		}
		join_clauses(chain, nchain - 1, because, sizeof(because));
		snprintf(out, len, "last delivery %s to %s went to %s because %s", when,
			 last->recipient, label, because);
		return;
	}
	if (last->host[0] == '\0' && last->address[0] == '\0') {
		/* nothing was tried: the plan itself failed (null MX, NXDOMAIN, DNS) */
		snprintf(out, len, "last delivery attempt %s to %s %s: %s", when, last->recipient,
			 strcmp(last->outcome, "permfail") == 0 ? "bounced" : "was deferred",
			 last->reason);
		return;
	}
	join_clauses(chain, nchain, because, sizeof(because));
	snprintf(out, len, "last delivery attempt %s to %s %s: %s", when, last->recipient,
		 strcmp(last->outcome, "permfail") == 0 ? "bounced" : "was deferred", because);
}

/* mx_addr_state_name - token of a state */
const char *
mx_addr_state_name(const struct mx_addr_state *s)
{
	switch (s->state) {
	case MX_STATE_OK: return "ok";
	case MX_STATE_FAILING: return "failing";
	case MX_STATE_BACKOFF: return "backoff";
	default: return "unknown";
	}
}

/* fill_states - the journal's view of each plan address; fleet: R13 with the fleet's backoff */
static void
fill_states(struct mx_domain_model *m, struct mx_journal *j, int64_t now_ms, int default_port,
	    bool fleet)
{
	const struct mx_plan *p = m->plan;
	size_t	t, h, a, n = 0;

	for (t = 0; t < p->ntiers; t++)
		for (h = 0; h < p->tiers[t].nhosts; h++)
			n += p->tiers[t].hosts[h].naddrs;
	if (n == 0 || (m->states = calloc(n, sizeof(*m->states))) == NULL)
		return;
	for (t = 0; t < p->ntiers; t++)
		for (h = 0; h < p->tiers[t].nhosts; h++)
			for (a = 0; a < p->tiers[t].hosts[h].naddrs; a++) {
				struct mx_addr_state *s = &m->states[m->nstates++];
				const struct mx_plan_addr *ad = &p->tiers[t].hosts[h].addrs[a];
				int	i, port = -1;
				struct mx_backoff b;

				s->host = &p->tiers[t].hosts[h];
				s->addr = ad;
				for (i = 0; i < m->nattempts; i++)	/* newest first */
					if (strcmp(m->attempts[i].address, ad->text) == 0) {
						if (s->last_ts_ms == 0) {
							s->last_ts_ms = m->attempts[i].ts_ms;
							port = m->attempts[i].port;
							s->state = strcmp(m->attempts[i].outcome,
									  "tempfail") == 0 ?
							    MX_STATE_FAILING : MX_STATE_OK;
							snprintf(s->last_error, sizeof(s->last_error),
								 "%.255s", s->state == MX_STATE_FAILING ?
								 m->attempts[i].reason : "");
						}
						break;
					}
				if (port <= 0)
					port = default_port;
				if (j != NULL && port > 0 &&
				    mx_journal_backoff_at(j, ad->text, port, now_ms, fleet, &b)) {
					/* held back now: this node's own, or a fleet node's */
					s->failures = b.failures;
					s->retry_at_ms = b.retry_at_ms;
					snprintf(s->last_error, sizeof(s->last_error), "%s", b.last_error);
					snprintf(s->node, sizeof(s->node), "%s", b.node);
					s->state = MX_STATE_BACKOFF;
				} else if (j != NULL && port > 0 &&
					   mx_journal_get_backoff(j, ad->text, port, &b) && b.failures > 0) {
					/* its own backoff ran out: failing until it works again */
					s->failures = b.failures;
					s->retry_at_ms = b.retry_at_ms;
					snprintf(s->last_error, sizeof(s->last_error), "%s", b.last_error);
					s->state = MX_STATE_FAILING;
				}
			}
}

/* mx_domain_model_fill - plan + journal into the model */
void
mx_domain_model_fill(struct mx_domain_model *m, const char *domain, struct mx_plan *plan,
		     struct mx_journal *j, int64_t now_ms, bool utc, int port, bool fleet)
{
	int	n;

	mx_domain_model_clear(m);
	snprintf(m->domain, sizeof(m->domain), "%s", domain);
	m->plan = plan;
	if (j != NULL && (m->attempts = calloc(MX_MODEL_ATTEMPTS, sizeof(*m->attempts))) != NULL) {
		n = mx_journal_recent_attempts(j, domain, m->attempts, MX_MODEL_ATTEMPTS);
		if (n < 0)
			snprintf(m->journal_error, sizeof(m->journal_error), "%s", mx_journal_error(j));
		m->nattempts = n > 0 ? n : 0;
	}
	if (plan != NULL)
		fill_states(m, j, now_ms, port, fleet);
	if (j != NULL)
		(void)mx_journal_latest_note(j, domain, m->note, sizeof(m->note), NULL, 0,
					     &m->note_ts_ms);
	mx_explain(m->attempts, m->nattempts, domain, utc, m->explanation, sizeof(m->explanation));
}

/* mx_domain_model_clear - free the model's parts */
void
mx_domain_model_clear(struct mx_domain_model *m)
{
	mx_plan_free(m->plan);
	free(m->attempts);
	free(m->states);
	memset(m, 0, sizeof(*m));
}

/* mx_addr_state_words - "ok", "failing", "backoff until 10:07:00 (2 failures)" */
void
mx_addr_state_words(const struct mx_addr_state *s, int64_t now_ms, bool utc, char *out,
		    size_t len)
{
	char	when[40];

	switch (s->state) {
	case MX_STATE_BACKOFF:
		mx_format_time(s->retry_at_ms, now_ms, utc, when, sizeof(when));
		if (s->node[0] != '\0')
			snprintf(out, len, "backoff (from %s) until %s (%d failure%s)", s->node, when,
				 s->failures, s->failures == 1 ? "" : "s");
		else
			snprintf(out, len, "backoff until %s (%d failure%s)", when, s->failures,
				 s->failures == 1 ? "" : "s");
		break;
	case MX_STATE_FAILING:
		snprintf(out, len, "failing");
		break;
	case MX_STATE_OK:
		snprintf(out, len, "ok");
		break;
	default:
		snprintf(out, len, "no attempts");
	}
}

/* mx_report_print_text - the report as text */
void
mx_report_print_text(FILE *fp, const struct mx_domain_model *m, bool utc)
{
	int64_t	now = (int64_t)time(NULL) * 1000;
	size_t	i;
	int	k;

	fprintf(fp, "domain %s\n", m->domain);
	fprintf(fp, "  why: %s\n", m->explanation);
	if (m->journal_error[0])
		fprintf(fp, "  journal: %s\n", m->journal_error);
	if (m->note[0]) {
		char	when[40];

		mx_format_time(m->note_ts_ms, now, utc, when, sizeof(when));
		fprintf(fp, "  note %s: %s\n", when, m->note);
	}
	fprintf(fp, "\n");
	if (m->plan != NULL)
		mx_plan_print_text(fp, m->plan);
	fprintf(fp, "\nhost states\n");
	if (m->nstates == 0)
		fprintf(fp, "  none: no address to try\n");
	for (i = 0; i < m->nstates; i++) {
		char	words[200];

		mx_addr_state_words(&m->states[i], now, utc, words, sizeof(words));
		fprintf(fp, "  %-32s %-39s %s\n", m->states[i].host->name, m->states[i].addr->text,
			words);
		if (m->states[i].last_error[0])
			fprintf(fp, "      last error: %s\n", m->states[i].last_error);
	}
	fprintf(fp, "\nrecent attempts, newest first\n");
	if (m->nattempts == 0)
		fprintf(fp, "  none\n");
	for (k = 0; k < m->nattempts; k++) {
		const struct mx_attempt_row *r = &m->attempts[k];
		char	when[40], pref[12] = "-";

		mx_format_time(r->ts_ms, now, utc, when, sizeof(when));
		if (r->preference >= 0)
			snprintf(pref, sizeof(pref), "%d", r->preference);
		if (r->host[0] == '\0' && r->address[0] == '\0')
			fprintf(fp, "  %s  %s  no host tried  %s  %s\n", when,
				r->recipient[0] ? r->recipient : "-", r->outcome, r->decision);
		else
			fprintf(fp, "  %s  %s  pref %s  %s[%s]  %s  %s  %s\n", when,
				r->recipient[0] ? r->recipient : "-", pref,
				r->host[0] ? r->host : "-", r->address[0] ? r->address : "-",
				r->stage[0] ? r->stage : "-", r->outcome, r->decision);
		if (mta_name(r) != NULL)
			fprintf(fp, "      from the %s log of %s, queue id %s\n", mta_name(r),
				r->node[0] ? r->node : "this host", r->queue_id[0] ? r->queue_id : "-");
		fprintf(fp, "      %s\n", r->reason);
		if (r->tls[0] != '\0' || r->tls_failure[0] != '\0')
			fprintf(fp, "      tls %s%s%s\n", r->tls[0] ? r->tls : "-",
				r->tls_failure[0] ? ", failure " : "", r->tls_failure);
	}
}

/* mx_attempt_print_json - one attempt as a JSON object (the report's "attempts" members) */
void
mx_attempt_print_json(FILE *fp, const struct mx_attempt_row *r)
{
	fprintf(fp, "{\"ts\": %lld, \"queue_id\": ", (long long)r->ts_ms);
	mx_json_string_or_null(fp, r->queue_id);
	fputs(", \"recipient\": ", fp);
	mx_json_string_or_null(fp, r->recipient);
	fputs(", \"preference\": ", fp);
	mx_json_number_or_null(fp, r->preference, 0);
	fputs(", \"host\": ", fp);
	mx_json_string_or_null(fp, r->host);
	fputs(", \"address\": ", fp);
	mx_json_string_or_null(fp, r->address);
	fputs(", \"port\": ", fp);
	mx_json_number_or_null(fp, r->port, 0);
	fputs(", \"stage\": ", fp);
	mx_json_string_or_null(fp, r->stage);
	fputs(", \"reply_code\": ", fp);
	mx_json_number_or_null(fp, r->reply_code, 1);
	fputs(", \"enhanced_status\": ", fp);
	mx_json_string_or_null(fp, r->enhanced_status);
	fputs(", \"reply_text\": ", fp);
	mx_json_string_or_null(fp, r->reply_text);
	fputs(", \"outcome\": ", fp);
	mx_json_string(fp, r->outcome);
	fputs(", \"decision\": ", fp);
	mx_json_string_or_null(fp, r->decision);
	fputs(", \"reason\": ", fp);
	mx_json_string_or_null(fp, r->reason);
	fputs(", \"duration_ms\": ", fp);
	mx_json_number_or_null(fp, r->duration_ms, 0);
	fputs(", \"tls\": ", fp);
	mx_json_string_or_null(fp, r->tls);
	fputs(", \"tls_failure\": ", fp);
	mx_json_string_or_null(fp, r->tls_failure);
	fputs(", \"source\": ", fp);
	mx_json_string_or_null(fp, r->source);
	fputs(", \"node\": ", fp);
	mx_json_string_or_null(fp, r->node);
	fputc('}', fp);
}

/* report_extra - the report's members after the route JSON */
static void
report_extra(FILE *fp, void *arg)
{
	const struct mx_domain_model *m = arg;
	size_t	i;
	int	k;

	fputs(",\n \"host_states\": [", fp);
	for (i = 0; i < m->nstates; i++) {
		const struct mx_addr_state *s = &m->states[i];

		fprintf(fp, "%s\n  {\"host\": ", i ? "," : "");
		mx_json_string(fp, s->host->name);
		fputs(", \"address\": ", fp);
		mx_json_string(fp, s->addr->text);
		fprintf(fp, ", \"state\": \"%s\", \"failures\": %d, \"retry_at\": ",
			mx_addr_state_name(s), s->failures);
		mx_json_number_or_null(fp, s->retry_at_ms, 1);
		fputs(", \"backoff_from\": ", fp);
		mx_json_string_or_null(fp, s->state == MX_STATE_BACKOFF ? s->node : "");
		fputs(", \"last_attempt\": ", fp);
		mx_json_number_or_null(fp, s->last_ts_ms, 1);
		fputs(", \"last_error\": ", fp);
		mx_json_string_or_null(fp, s->last_error);
		fputc('}', fp);
	}
	fputs("],\n \"attempts\": [", fp);
	for (k = 0; k < m->nattempts; k++) {
		const struct mx_attempt_row *r = &m->attempts[k];

		fputs(k ? ",\n  " : "\n  ", fp);
		mx_attempt_print_json(fp, r);
	}
	fputs("],\n \"explanation\": ", fp);
	mx_json_string(fp, m->explanation);
	/* the newest note an imported log left (nothing was tried), or null */
	fputs(",\n \"note\": ", fp);
	mx_json_string_or_null(fp, m->note);
}

/* mx_report_print_json - route JSON extended with states, attempts, explanation */
void
mx_report_print_json(FILE *fp, const struct mx_domain_model *m)
{
	if (m->plan != NULL) {
		mx_plan_print_json(fp, m->plan, report_extra, (void *)m);
		return;
	}
	fputs("{\"domain\": ", fp);
	mx_json_string(fp, m->domain);
	fputs(", \"result\": null", fp);
	report_extra(fp, (void *)m);
	fputs("}\n", fp);
}
