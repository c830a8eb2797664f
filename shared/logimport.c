/*
 * logimport - what mxtier-import makes of a parsed log attempt (see logimport.h)
 */
#include <string.h>

#include "fallback.h"
#include "json.h"
#include "logimport.h"

/* or_null - NULL for "" */
static const char *
or_null(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * reply_only - the reply's text without its code and enhanced status, as
 * mxtier-pipe journals it ("250 2.0.0 Ok" -> "Ok"); any other text whole
 */
static const char *
reply_only(const struct mx_log_attempt *la)
{
	const char *t = la->reply_text;
	char	code[8];
	size_t	n, el = strlen(la->enhanced_status);

	if (la->reply_code <= 0)
		return t;
	n = (size_t)snprintf(code, sizeof(code), "%d", la->reply_code);
	if (strncmp(t, code, n) != 0 || (t[n] != ' ' && t[n] != '-'))
		return t;
	t += n + 1;
	if (el > 0 && strncmp(t, la->enhanced_status, el) == 0 && t[el] == ' ')
		t += el + 1;
	return *t != '\0' ? t : la->reply_text;
}

/* same_delivery - the same recipient of the same message */
static bool
same_delivery(const struct mx_log_attempt *a, const struct mx_log_attempt *b)
{
	return strcmp(a->recipient, b->recipient) == 0 && strcmp(a->queue_id, b->queue_id) == 0;
}

/* final_decision - what the last attempt of a delivery meant */
static const char *
final_decision(const struct mx_log_attempt *a)
{
	if (strcmp(a->outcome, "delivered") == 0)
		return "done";
	if (strcmp(a->outcome, "permfail") == 0)
		return "bounce";
	return "defer";
}

/* mx_import_decisions - the decision after each attempt of one line */
void
mx_import_decisions(const struct mx_log_attempt *const *a, size_t n, const char **decisions)
{
	size_t	i, k;

	for (i = 0; i < n; i++) {
		decisions[i] = final_decision(a[i]);
		for (k = i + 1; k < n; k++)
			if (same_delivery(a[i], a[k])) {
				decisions[i] = a[i]->host[0] != '\0' &&
				    strcmp(a[i]->host, a[k]->host) == 0 ? "next_address" : "next_host";
				break;
			}
	}
}

/* mx_import_row - the journal row of a parsed attempt */
void
mx_import_row(const struct mx_log_attempt *la, const char *node, const char *decision,
	      struct mx_attempt *out)
{
	memset(out, 0, sizeof(*out));
	out->ts_ms = la->ts_ms;
	out->queue_id = or_null(la->queue_id);
	out->domain = la->domain;
	out->recipient = or_null(la->recipient);
	out->preference = -1;		/* logs do not say */
	out->host = or_null(la->host);
	out->address = or_null(la->address);
	out->port = la->port;
	out->stage = or_null(la->stage);
	out->reply_code = la->reply_code;
	out->enhanced_status = or_null(la->enhanced_status);
	out->reply_text = or_null(reply_only(la));
	out->outcome = la->outcome;
	out->decision = decision;
	out->reason = or_null(la->reply_text);
	out->duration_ms = -1;
	out->tls = or_null(la->tls);
	out->source = la->source;
	out->node = or_null(node);
	/* 0 means "no identity" in the journal: the one hash that is 0 moves by one */
	out->import_id = la->identity != 0 ? (int64_t)la->identity : 1;
}

/* stage_of - the stage enum of a journal stage name; false when unknown */
static bool
stage_of(const char *name, enum mx_stage *out)
{
	int	s;

	for (s = MX_STAGE_CONNECT; s <= MX_STAGE_DOT; s++)
		if (strcmp(name, mx_stage_name((enum mx_stage)s)) == 0) {
			*out = (enum mx_stage)s;
			return true;
		}
	return false;
}

/* mx_import_backoff_effect - R13 for an imported attempt */
enum mx_import_backoff
mx_import_backoff_effect(const struct mx_log_attempt *la)
{
	enum mx_failure_kind kind;
	enum mx_stage stage;

	if (la->address[0] == '\0')
		return MX_IMPORT_BACKOFF_NONE;
	if (strcmp(la->outcome, "delivered") == 0)
		return MX_IMPORT_BACKOFF_SUCCESS;
	if (!stage_of(la->stage, &stage))
		return MX_IMPORT_BACKOFF_NONE;
	if (la->reply_code > 0)
		kind = MX_FAIL_REPLY;
	else if (stage == MX_STAGE_CONNECT)
		kind = MX_FAIL_CONNECT;
	else
		kind = MX_FAIL_LOST;
	if (mx_failure_is_host_problem(stage, kind, la->reply_code))
		return MX_IMPORT_BACKOFF_FAILURE;
	/* a transaction's failure at RCPT or later: the host itself works */
	return stage >= MX_STAGE_RCPT ? MX_IMPORT_BACKOFF_SUCCESS : MX_IMPORT_BACKOFF_NONE;
}

/* key - ", \"name\": " */
static void
key(FILE *fp, const char *name, bool first)
{
	fprintf(fp, "%s\"%s\": ", first ? "{" : ", ", name);
}

/* mx_import_print_json - the --dry-run line of one attempt */
void
mx_import_print_json(FILE *fp, const struct mx_log_attempt *la)
{
	key(fp, "ts", true);
	fprintf(fp, "%lld", (long long)la->ts_ms);
	key(fp, "queue_id", false);
	mx_json_string(fp, or_null(la->queue_id));
	key(fp, "recipient", false);
	mx_json_string(fp, or_null(la->recipient));
	key(fp, "domain", false);
	mx_json_string(fp, or_null(la->domain));
	key(fp, "host", false);
	mx_json_string(fp, or_null(la->host));
	key(fp, "address", false);
	mx_json_string(fp, or_null(la->address));
	key(fp, "port", false);
	if (la->port > 0)
		fprintf(fp, "%d", la->port);
	else
		fputs("null", fp);
	key(fp, "stage", false);
	mx_json_string(fp, or_null(la->stage));
	key(fp, "reply_code", false);
	if (la->reply_code > 0)
		fprintf(fp, "%d", la->reply_code);
	else
		fputs("null", fp);
	key(fp, "enhanced_status", false);
	mx_json_string(fp, or_null(la->enhanced_status));
	key(fp, "outcome", false);
	mx_json_string(fp, or_null(la->outcome));
	key(fp, "reply_text", false);
	mx_json_string(fp, or_null(reply_only(la)));
	key(fp, "source", false);
	mx_json_string(fp, la->source);
	fputs("}\n", fp);
}

/* mx_import_hash - FNV-1a 64 */
uint64_t
mx_import_hash(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t	i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}
