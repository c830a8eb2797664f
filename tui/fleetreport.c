/*
 * fleetreport - the fleet report, text and JSON (see fleetreport.h)
 */
#include <stdio.h>
#include <string.h>

#include "fleetreport.h"
#include "inspect.h"
#include "json.h"

/* fleet_node_words - one node's state of an address, as the screen and the report say it */
void
fleet_node_words(const struct fleet_nodestate *s, int64_t now_ms, bool utc, char *out,
		 size_t len)
{
	char	last[48] = "", when[40];

	if (s->last_ts_ms > 0) {
		mx_format_time(s->last_ts_ms, now_ms, utc, when, sizeof(when));
		snprintf(last, sizeof(last), ", last %s", when);
	}
	switch (s->state) {
	case FLEET_NS_OK:
		snprintf(out, len, "ok%s", last);
		break;
	case FLEET_NS_FAILING:
		snprintf(out, len, "%s%s", s->failure, last);
		break;
	case FLEET_NS_BACKOFF:
		mx_format_time(s->retry_at_ms, now_ms, utc, when, sizeof(when));
		snprintf(out, len, "%s%s, backoff until %s (%d failure%s)", s->failure, last, when,
			 s->failures, s->failures == 1 ? "" : "s");
		break;
	default:
		snprintf(out, len, "no recent attempt");
	}
}

/* fleet_report_text - header, explanation, every address on every node, attempts */
void
fleet_report_text(FILE *fp, const struct fleet_domain *d, int64_t now_ms, bool utc)
{
	int	i, n;

	fprintf(fp, "domain %s (fleet of %d node%s)\n", d->name, d->nnodes,
		d->nnodes == 1 ? "" : "s");
	fprintf(fp, "  why: %s\n", d->explanation);
	fprintf(fp, "\nhost states across the fleet\n");
	if (d->naddrs == 0)
		fprintf(fp, "  none: no address tried\n");
	for (i = 0; i < d->naddrs; i++) {
		const struct fleet_addr *a = &d->addrs[i];

		fprintf(fp, "  %-32s %-39s %s\n", a->host[0] ? a->host : "-", a->address, a->summary);
		for (n = 0; n < d->nnodes; n++) {
			const struct fleet_nodestate *s = &a->nodes[n];
			char	words[200];

			fleet_node_words(s, now_ms, utc, words, sizeof(words));
			fprintf(fp, "      %-16s %-8s %s\n", s->node, fleet_nstate_name(s->state), words);
			if (s->state != FLEET_NS_OK && s->last_error[0])
				fprintf(fp, "          last error: %s\n", s->last_error);
		}
	}
	fprintf(fp, "\nrecent attempts across the fleet, newest first\n");
	if (d->nattempts == 0)
		fprintf(fp, "  none\n");
	for (i = 0; i < d->nattempts; i++) {
		const struct mx_attempt_row *r = &d->attempts[i];
		char	when[40], pref[12] = "-";

		mx_format_time(r->ts_ms, now_ms, utc, when, sizeof(when));
		if (r->preference >= 0)
			snprintf(pref, sizeof(pref), "%d", r->preference);
		if (r->host[0] == '\0' && r->address[0] == '\0')
			fprintf(fp, "  %s  %s  %s  no host tried  %s  %s\n", when, r->node,
				r->recipient[0] ? r->recipient : "-", r->outcome, r->decision);
		else
			fprintf(fp, "  %s  %s  %s  pref %s  %s[%s]  %s  %s  %s\n", when, r->node,
				r->recipient[0] ? r->recipient : "-", pref, r->host[0] ? r->host : "-",
				r->address[0] ? r->address : "-", r->stage[0] ? r->stage : "-",
				r->outcome, r->decision);
		fprintf(fp, "      %s\n", r->reason);
	}
}

/* fleet_report_json - one object: domain, nodes, scope, explanation, host_states, attempts */
void
fleet_report_json(FILE *fp, const struct fleet_domain *d)
{
	int	i, n;

	fputs("{\"domain\": ", fp);
	mx_json_string(fp, d->name);
	fputs(",\n \"nodes\": [", fp);
	for (n = 0; n < d->nnodes; n++) {
		fputs(n ? ", " : "", fp);
		mx_json_string(fp, d->node_names[n]);
	}
	fprintf(fp, "],\n \"scope\": \"%s\",\n \"explanation\": ", fleet_scope_name(d->scope));
	mx_json_string(fp, d->explanation);
	fputs(",\n \"host_states\": [", fp);
	for (i = 0; i < d->naddrs; i++) {
		const struct fleet_addr *a = &d->addrs[i];

		fprintf(fp, "%s\n  {\"host\": ", i ? "," : "");
		mx_json_string_or_null(fp, a->host);
		fputs(", \"address\": ", fp);
		mx_json_string(fp, a->address);
		fputs(", \"port\": ", fp);
		mx_json_number_or_null(fp, a->port, 0);
		fputs(", \"preference\": ", fp);
		mx_json_number_or_null(fp, a->preference, 0);
		fprintf(fp, ", \"scope\": \"%s\", \"failing_nodes\": %d, \"ok_nodes\": %d, "
			"\"unknown_nodes\": %d, \"summary\": ", fleet_scope_name(a->scope), a->failing,
			a->ok, a->unknown);
		mx_json_string(fp, a->summary);
		fputs(",\n   \"nodes\": [", fp);
		for (n = 0; n < d->nnodes; n++) {
			const struct fleet_nodestate *s = &a->nodes[n];

			fprintf(fp, "%s\n    {\"node\": ", n ? "," : "");
			mx_json_string(fp, s->node);
			fprintf(fp, ", \"state\": \"%s\", \"failure\": ", fleet_nstate_name(s->state));
			mx_json_string_or_null(fp, s->failure);
			fprintf(fp, ", \"failures\": %d, \"retry_at\": ", s->failures);
			mx_json_number_or_null(fp, s->retry_at_ms, 1);
			fputs(", \"last_attempt\": ", fp);
			mx_json_number_or_null(fp, s->last_ts_ms, 1);
			fputs(", \"last_error\": ", fp);
			mx_json_string_or_null(fp, s->last_error);
			fputc('}', fp);
		}
		fputs("]}", fp);
	}
	fputs("],\n \"attempts\": [", fp);
	for (i = 0; i < d->nattempts; i++) {
		fputs(i ? ",\n  " : "\n  ", fp);
		mx_attempt_print_json(fp, &d->attempts[i]);
	}
	fputs("]}\n", fp);
}
