/*
 * planfmt - print a plan as a table or as route JSON (see planfmt.h)
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "planfmt.h"

/* notes_json - ["a", "b"] */
static void
notes_json(FILE *fp, const struct mx_notes *notes)
{
	size_t	i;

	fputc('[', fp);
	for (i = 0; i < notes->n; i++) {
		if (i)
			fputs(", ", fp);
		mx_json_string(fp, notes->v[i]);
	}
	fputc(']', fp);
}

/* iso_time - Unix ms as "2026-11-30T17:02:03Z" */
static const char *
iso_time(int64_t ms, char *buf, size_t len)
{
	time_t	t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

/* sts_json - "mta_sts": null or the policy that applies */
static void
sts_json(FILE *fp, const struct mx_plan *plan)
{
	char	when[32];
	size_t	i;

	fputs(", \"mta_sts\": ", fp);
	if (!plan->has_sts) {
		fputs("null", fp);
		return;
	}
	fputs("{\"mode\": ", fp);
	mx_json_string(fp, mx_sts_mode_name(plan->sts.mode));
	fputs(", \"id\": ", fp);
	mx_json_string(fp, plan->sts.id);
	fprintf(fp, ", \"max_age\": %lld, \"mx\": [", (long long)plan->sts.max_age);
	for (i = 0; i < plan->sts.nmx; i++) {
		if (i)
			fputs(", ", fp);
		mx_json_string(fp, plan->sts.mx[i]);
	}
	fputs("], \"fetched\": ", fp);
	mx_json_string(fp, iso_time(plan->sts.fetched_ms, when, sizeof(when)));
	fputc('}', fp);
}

/* mx_plan_print_json - the route JSON object */
void
mx_plan_print_json(FILE *fp, const struct mx_plan *plan,
		   void (*extra)(FILE *fp, void *arg), void *arg)
{
	size_t	t, h, a;

	fputs("{\"domain\": ", fp);
	mx_json_string(fp, plan->domain);
	fputs(", \"result\": ", fp);
	mx_json_string(fp, mx_plan_result_name(plan->result));
	fputs(", \"status\": ", fp);
	mx_json_string(fp, plan->status[0] ? plan->status : NULL);
	fputs(", \"message\": ", fp);
	mx_json_string(fp, plan->message);
	fprintf(fp, ", \"implicit_mx\": %s", plan->implicit_mx ? "true" : "false");
	fprintf(fp, ", \"dnssec\": %s", plan->dnssec ? "true" : "false");
	sts_json(fp, plan);
	fputs(", \"notes\": ", fp);
	notes_json(fp, &plan->notes);
	fputs(",\n \"tiers\": [", fp);
	for (t = 0; t < plan->ntiers; t++) {
		const struct mx_plan_tier *tier = &plan->tiers[t];

		fprintf(fp, "%s\n  {\"preference\": %u, \"hosts\": [", t ? "," : "", tier->pref);
		for (h = 0; h < tier->nhosts; h++) {
			const struct mx_plan_host *host = &tier->hosts[h];

			fprintf(fp, "%s\n    {\"name\": ", h ? "," : "");
			mx_json_string(fp, host->name);
			fprintf(fp, ", \"usable\": %s, \"notes\": ", host->usable ? "true" : "false");
			notes_json(fp, &host->notes);
			if (host->canonical[0]) {
				fputs(", \"cname\": ", fp);
				mx_json_string(fp, host->canonical);
			}
			fprintf(fp, ", \"tls\": {\"policy\": \"%s\", \"tlsa\": %zu, "
				"\"sts_match\": %s}", mx_host_tls_name(host->tls), host->ntlsa,
				host->sts_match ? "true" : "false");
			fputs(", \"addresses\": [", fp);
			for (a = 0; a < host->naddrs; a++) {
				const struct mx_plan_addr *ad = &host->addrs[a];

				fprintf(fp, "%s\n      {\"address\": ", a ? "," : "");
				mx_json_string(fp, ad->text);
				fprintf(fp, ", \"family\": \"%s\", \"ttl\": %u, \"usable\": %s, "
					"\"notes\": ", ad->ip.family == AF_INET ? "ipv4" : "ipv6",
					ad->ttl, ad->usable ? "true" : "false");
				notes_json(fp, &ad->notes);
				fputc('}', fp);
			}
			fputs("]}", fp);
		}
		fputs("]}", fp);
	}
	fputs("]", fp);
	if (extra != NULL)
		extra(fp, arg);
	fputs("}\n", fp);
}

/* print_notes - indented "note:" lines */
static void
print_notes(FILE *fp, const struct mx_notes *notes, const char *indent)
{
	size_t	i;

	for (i = 0; i < notes->n; i++)
		fprintf(fp, "%s- %s\n", indent, notes->v[i]);
}

/* mx_plan_print_text - the route table */
void
mx_plan_print_text(FILE *fp, const struct mx_plan *plan)
{
	size_t	t, h, a, try = 0;

	fprintf(fp, "route for %s: %s%s%s\n", plan->domain, mx_plan_result_name(plan->result),
		plan->status[0] ? " " : "", plan->status);
	fprintf(fp, "  %s\n", plan->message);
	if (plan->dnssec)
		fprintf(fp, "  MX records DNSSEC-validated\n");
	if (plan->has_sts)
		fprintf(fp, "  MTA-STS policy: mode %s, id %s, max_age %lld, %zu mx pattern%s\n",
			mx_sts_mode_name(plan->sts.mode), plan->sts.id,
			(long long)plan->sts.max_age, plan->sts.nmx, plan->sts.nmx == 1 ? "" : "s");
	print_notes(fp, &plan->notes, "  ");
	for (t = 0; t < plan->ntiers; t++) {
		const struct mx_plan_tier *tier = &plan->tiers[t];

		fprintf(fp, "\ntier %zu  preference %u  (%zu host%s)\n", t + 1, tier->pref,
			tier->nhosts, tier->nhosts == 1 ? "" : "s");
		for (h = 0; h < tier->nhosts; h++) {
			const struct mx_plan_host *host = &tier->hosts[h];

			fprintf(fp, "  %-40s %s  tls %s\n", host->name, host->usable ? "usable" :
				host->why_unusable == MX_UNUSABLE_TEMP ? "UNUSABLE (temporary)" :
				"UNUSABLE", mx_host_tls_name(host->tls));
			print_notes(fp, &host->notes, "      ");
			for (a = 0; a < host->naddrs; a++) {
				const struct mx_plan_addr *ad = &host->addrs[a];
				char	order[16] = "-";

				if (host->usable && ad->usable)
					snprintf(order, sizeof(order), "%zu.", ++try);
				fprintf(fp, "    %-4s %-39s %-4s ttl %-7u %s\n", order, ad->text,
					ad->ip.family == AF_INET ? "ipv4" : "ipv6", ad->ttl,
					ad->usable ? "usable" : "unusable");
				print_notes(fp, &ad->notes, "           ");
			}
		}
	}
}
