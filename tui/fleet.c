/*
 * fleet - the fleet view's model: bounded reads of the fleet database and
 * the words that summarise a domain across nodes (see fleet.h)
 *
 * Every query names its index in a comment; tests/bench/fleet-view-bench.sh
 * prints their EXPLAIN on a large database. Parameters go separately
 * (PQexecParams), never into the SQL text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fleet.h"
#include "fleetdb.h"
#include "inspect.h"

/* The domain list: served by fleet_domains_last_ts. */
static const char sql_list[] =
    "SELECT domain, last_ts FROM fleet_domains ORDER BY last_ts DESC LIMIT $1";

/* The nodes: the fleet_nodes key (one row per node, a handful). */
static const char sql_nodes[] =
    "SELECT node, shipped_at FROM fleet_nodes ORDER BY node LIMIT $1";

/* The columns of an attempt row, in the order row_from() reads them. */
#define ATTEMPT_COLS "node, ts, queue_id, domain, recipient, preference, host, address, port, " \
	"stage, reply_code, enhanced_status, reply_text, outcome, decision, reason, duration_ms, " \
	"tls, tls_failure, source"

/* A domain's newest attempts: fleet_attempts_domain_ts. */
static const char sql_attempts[] =
    "SELECT " ATTEMPT_COLS " FROM fleet_attempts WHERE domain = $1 ORDER BY ts DESC LIMIT $2";

/*
 * The addresses of a domain, from its newest attempts (fleet_attempts_domain_ts,
 * at most $2 rows): the host and port of the newest attempt to each, the
 * lowest preference, in preference order.
 */
static const char sql_addrs[] =
    "SELECT address, (array_agg(host ORDER BY ts DESC))[1], "
    "(array_agg(port ORDER BY ts DESC))[1], min(preference) "
    "FROM (SELECT address, host, port, preference, ts FROM fleet_attempts "
    "WHERE domain = $1 ORDER BY ts DESC LIMIT $2) w "
    "WHERE address IS NOT NULL AND address <> '' "
    "GROUP BY address ORDER BY min(preference) NULLS LAST, address LIMIT $3";

/*
 * Per address, each node's newest attempt to it that was tried (not
 * skipped), among the address's newest $2 attempts whatever the domain:
 * fleet_attempts_address_ts, one bounded range scan per address.
 */
static const char sql_states[] =
    "SELECT a.address, s.node, s.ts, s.outcome, s.stage, s.reply_code, s.reason "
    "FROM unnest($1::text[]) AS a(address) CROSS JOIN LATERAL ("
    "SELECT DISTINCT ON (w.node) w.node, w.ts, w.outcome, w.stage, w.reply_code, w.reason "
    "FROM (SELECT node, ts, outcome, stage, reply_code, reason FROM fleet_attempts f "
    "WHERE f.address = a.address ORDER BY f.ts DESC LIMIT $2) w "
    "WHERE w.outcome <> 'skipped' ORDER BY w.node, w.ts DESC) s";

/* The backoff entries of those nodes and addresses: the key of fleet_backoff. */
static const char sql_backoff[] =
    "SELECT node, address, failures, retry_at, last_error FROM fleet_backoff "
    "WHERE node = ANY($1::text[]) AND address = ANY($2::text[])";

/* fleet_nstate_name - token of a node state */
const char *
fleet_nstate_name(enum fleet_nstate s)
{
	switch (s) {
	case FLEET_NS_OK: return "ok";
	case FLEET_NS_FAILING: return "failing";
	case FLEET_NS_BACKOFF: return "backoff";
	default: return "unknown";
	}
}

/* fleet_scope_name - token of a scope */
const char *
fleet_scope_name(enum fleet_scope s)
{
	switch (s) {
	case FLEET_SCOPE_LOCAL: return "local";
	case FLEET_SCOPE_TRIED: return "tried";
	case FLEET_SCOPE_ALL: return "all";
	default: return "none";
	}
}

/* val - a text column ("" for NULL) */
static const char *
val(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

/* num - an integer column (dflt for NULL) */
static int64_t
num(const PGresult *r, int row, int col, int64_t dflt)
{
	return PQgetisnull(r, row, col) ? dflt : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* explain - MXTIER_EXPLAIN: the plan of sql as run (EXPLAIN ANALYZE) on stderr */
static void
explain(PGconn *c, const char *sql, int n, const char *const *params, const char *what)
{
	char	buf[4096];
	PGresult *r;
	int	i;

	snprintf(buf, sizeof(buf), "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) %s", sql);
	r = PQexecParams(c, buf, n, NULL, params, NULL, NULL, 0);
	fprintf(stderr, "mxtier: explain %s:\n", what);
	for (i = 0; r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r); i++)
		fprintf(stderr, "  %s\n", PQgetvalue(r, i, 0));
	PQclear(r);
}

/* query - one statement with text parameters; the rows, or NULL + err */
static PGresult *
query(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
      char *err, size_t errlen)
{
	PGresult *r;

	if (getenv("MXTIER_EXPLAIN") != NULL)
		explain(c, sql, n, params, what);
	r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);

	if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
		mx_fleetdb_error(c, r, what, err, errlen);
		PQclear(r);
		return NULL;
	}
	return r;
}

/*
 * text_array - a PostgreSQL array literal {"a","b"} of the n strings at
 * base, base + stride, ...; malloc'd, NULL when out of memory
 */
static char *
text_array(const char *base, size_t stride, int n)
{
	size_t	len = 3, k;
	char   *out, *p;
	int	i;

	for (i = 0; i < n; i++)
		len += 2 * strlen(base + (size_t)i * stride) + 3;
	if ((p = out = malloc(len)) == NULL)
		return NULL;
	*p++ = '{';
	for (i = 0; i < n; i++) {
		const char *s = base + (size_t)i * stride;

		if (i > 0)
			*p++ = ',';
		*p++ = '"';
		for (k = 0; s[k] != '\0'; k++) {
			if (s[k] == '"' || s[k] == '\\')
				*p++ = '\\';
			*p++ = s[k];
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

/* fleet_session - the planner settings the loaders' bounds rely on */
bool
fleet_session(PGconn *c, char *err, size_t errlen)
{
	return mx_fleetdb_exec(c, "SET enable_bitmapscan = off; SET jit = off", err, errlen);
}

/* fleet_load_list - the nodes and the newest domains */
bool
fleet_load_list(PGconn *c, struct fleet_list *l, char *err, size_t errlen)
{
	char	lim[16];
	const char *p[1] = { lim };
	PGresult *r;
	int	i;

	memset(l, 0, sizeof(*l));
	snprintf(lim, sizeof(lim), "%d", FLEET_MAX_NODES);
	if ((r = query(c, sql_nodes, 1, p, "fleet nodes", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(r) && i < FLEET_MAX_NODES; i++) {
		snprintf(l->nodes[i].name, sizeof(l->nodes[i].name), "%s", val(r, i, 0));
		l->nodes[i].shipped_at_ms = num(r, i, 1, 0);
	}
	l->nnodes = i;
	PQclear(r);
	snprintf(lim, sizeof(lim), "%d", FLEET_LIST_MAX);
	if ((r = query(c, sql_list, 1, p, "fleet domains", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(r) && i < FLEET_LIST_MAX; i++) {
		snprintf(l->domains[i].name, sizeof(l->domains[i].name), "%s", val(r, i, 0));
		l->domains[i].last_ts_ms = num(r, i, 1, 0);
	}
	l->ndomains = i;
	PQclear(r);
	return true;
}

/* fleet_domain_new - an empty domain */
struct fleet_domain *
fleet_domain_new(void)
{
	return calloc(1, sizeof(struct fleet_domain));
}

/* fleet_domain_free - the domain and its states */
void
fleet_domain_free(struct fleet_domain *d)
{
	if (d == NULL)
		return;
	free(d->states);
	free(d);
}

/* row_from - one attempt row (ATTEMPT_COLS) into an mx_attempt_row */
static void
row_from(const PGresult *r, int i, struct mx_attempt_row *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->node, sizeof(a->node), "%s", val(r, i, 0));
	a->ts_ms = num(r, i, 1, 0);
	snprintf(a->queue_id, sizeof(a->queue_id), "%s", val(r, i, 2));
	snprintf(a->domain, sizeof(a->domain), "%s", val(r, i, 3));
	snprintf(a->recipient, sizeof(a->recipient), "%s", val(r, i, 4));
	a->preference = (int)num(r, i, 5, -1);
	snprintf(a->host, sizeof(a->host), "%s", val(r, i, 6));
	snprintf(a->address, sizeof(a->address), "%s", val(r, i, 7));
	a->port = (int)num(r, i, 8, -1);
	snprintf(a->stage, sizeof(a->stage), "%s", val(r, i, 9));
	a->reply_code = (int)num(r, i, 10, 0);
	snprintf(a->enhanced_status, sizeof(a->enhanced_status), "%s", val(r, i, 11));
	snprintf(a->reply_text, sizeof(a->reply_text), "%s", val(r, i, 12));
	snprintf(a->outcome, sizeof(a->outcome), "%s", val(r, i, 13));
	snprintf(a->decision, sizeof(a->decision), "%s", val(r, i, 14));
	snprintf(a->reason, sizeof(a->reason), "%s", val(r, i, 15));
	a->duration_ms = num(r, i, 16, -1);
	snprintf(a->tls, sizeof(a->tls), "%s", val(r, i, 17));
	snprintf(a->tls_failure, sizeof(a->tls_failure), "%s", val(r, i, 18));
	snprintf(a->source, sizeof(a->source), "%s", val(r, i, 19));
}

/* failure_words - "refused", "timed out", "answered 421 at greeting", ... of a failed attempt */
static void
failure_words(const char *stage, const char *reason, int reply_code, char *out, size_t len)
{
	if (strcmp(stage, "connect") == 0 && strstr(reason, "refused") != NULL)
		snprintf(out, len, "refused");
	else if (strcmp(stage, "connect") == 0 && strstr(reason, "timed out") != NULL)
		snprintf(out, len, "timed out");
	else if (strcmp(stage, "connect") == 0)
		snprintf(out, len, "unreachable");
	else if (reply_code > 0)
		snprintf(out, len, "answered %d at %s", reply_code, stage[0] ? stage : "?");
	else if (strstr(reason, "timed out") != NULL)
		snprintf(out, len, "timed out at %s", stage[0] ? stage : "?");
	else if (stage[0] != '\0')
		snprintf(out, len, "dropped at %s", stage);
	else
		snprintf(out, len, "failing");
}

/* addr_index - the address's index in d, or -1 */
static int
addr_index(const struct fleet_domain *d, const char *address)
{
	int	i;

	for (i = 0; i < d->naddrs; i++)
		if (strcmp(d->addrs[i].address, address) == 0)
			return i;
	return -1;
}

/* node_index - the node's index in d, or -1 */
static int
node_index(const struct fleet_domain *d, const char *node)
{
	int	i;

	for (i = 0; i < d->nnodes; i++)
		if (strcmp(d->node_names[i], node) == 0)
			return i;
	return -1;
}

/* load_states - each node's newest attempt to each address, then the backoff entries */
static bool
load_states(PGconn *c, struct fleet_domain *d, int64_t now_ms, char *err, size_t errlen)
{
	char	window[16], *addrs, *nodes;
	const char *p[2];
	PGresult *r;
	int	i, a, n;

	d->states = calloc((size_t)d->naddrs * (size_t)(d->nnodes > 0 ? d->nnodes : 1),
			   sizeof(*d->states));
	if (d->states == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	for (a = 0; a < d->naddrs; a++) {
		d->addrs[a].nodes = d->states + (size_t)a * (size_t)d->nnodes;
		for (n = 0; n < d->nnodes; n++)
			snprintf(d->addrs[a].nodes[n].node, sizeof(d->addrs[a].nodes[n].node), "%s",
				 d->node_names[n]);
	}
	if (d->nnodes == 0)
		return true;
	addrs = text_array(d->addrs[0].address, sizeof(d->addrs[0]), d->naddrs);
	nodes = text_array(d->node_names[0], sizeof(d->node_names[0]), d->nnodes);
	if (addrs == NULL || nodes == NULL) {
		free(addrs);
		free(nodes);
		snprintf(err, errlen, "out of memory");
		return false;
	}
	snprintf(window, sizeof(window), "%d", FLEET_ADDR_WINDOW);
	p[0] = addrs;
	p[1] = window;
	r = query(c, sql_states, 2, p, "fleet address states", err, errlen);
	for (i = 0; r != NULL && i < PQntuples(r); i++) {
		struct fleet_nodestate *s;

		if ((a = addr_index(d, val(r, i, 0))) < 0 || (n = node_index(d, val(r, i, 1))) < 0)
			continue;
		s = &d->addrs[a].nodes[n];
		s->last_ts_ms = num(r, i, 2, 0);
		snprintf(s->outcome, sizeof(s->outcome), "%s", val(r, i, 3));
		snprintf(s->stage, sizeof(s->stage), "%s", val(r, i, 4));
		s->reply_code = (int)num(r, i, 5, 0);
		if (strcmp(s->outcome, "tempfail") == 0) {
			s->state = FLEET_NS_FAILING;
			failure_words(s->stage, val(r, i, 6), s->reply_code, s->failure,
				      sizeof(s->failure));
			snprintf(s->last_error, sizeof(s->last_error), "%s", val(r, i, 6));
		} else {
			s->state = FLEET_NS_OK;	/* it answered: delivered, or refused the recipient */
		}
	}
	if (r == NULL) {
		free(addrs);
		free(nodes);
		return false;
	}
	PQclear(r);
	p[0] = nodes;
	p[1] = addrs;
	r = query(c, sql_backoff, 2, p, "fleet backoff", err, errlen);
	free(addrs);
	free(nodes);
	if (r == NULL)
		return false;
	for (i = 0; i < PQntuples(r); i++) {
		struct fleet_nodestate *s;
		int64_t	retry = num(r, i, 3, 0);

		if ((n = node_index(d, val(r, i, 0))) < 0 || (a = addr_index(d, val(r, i, 1))) < 0)
			continue;
		s = &d->addrs[a].nodes[n];
		if (retry <= now_ms || retry < s->retry_at_ms)
			continue;	/* over, or another port's later entry is kept */
		s->state = FLEET_NS_BACKOFF;
		s->failures = (int)num(r, i, 2, 0);
		s->retry_at_ms = retry;
		snprintf(s->last_error, sizeof(s->last_error), "%s", val(r, i, 4));
		if (s->failure[0] == '\0')
			snprintf(s->failure, sizeof(s->failure), "in backoff");
	}
	PQclear(r);
	return true;
}

/* fleet_load_domain - every part of one domain, then its words */
bool
fleet_load_domain(PGconn *c, const char *domain, int64_t now_ms, bool utc,
		  struct fleet_domain *d, char *err, size_t errlen)
{
	char	lim[16], window[16], maxa[16];
	const char *p[3];
	int64_t	t0 = mx_clock_mono_ms();
	PGresult *r;
	int	i;

	free(d->states);
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", domain);
	snprintf(lim, sizeof(lim), "%d", FLEET_MAX_NODES);
	p[0] = lim;
	if ((r = query(c, sql_nodes, 1, p, "fleet nodes", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(r) && i < FLEET_MAX_NODES; i++)
		snprintf(d->node_names[i], sizeof(d->node_names[i]), "%s", val(r, i, 0));
	d->nnodes = i;
	PQclear(r);

	snprintf(lim, sizeof(lim), "%d", FLEET_ATTEMPTS);
	p[0] = domain;
	p[1] = lim;
	if ((r = query(c, sql_attempts, 2, p, "fleet attempts", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(r) && i < FLEET_ATTEMPTS; i++)
		row_from(r, i, &d->attempts[i]);
	d->nattempts = i;
	PQclear(r);

	snprintf(window, sizeof(window), "%d", FLEET_DOMAIN_WINDOW);
	snprintf(maxa, sizeof(maxa), "%d", FLEET_MAX_ADDRS);
	p[1] = window;
	p[2] = maxa;
	if ((r = query(c, sql_addrs, 3, p, "fleet addresses", err, errlen)) == NULL)
		return false;
	for (i = 0; i < PQntuples(r) && i < FLEET_MAX_ADDRS; i++) {
		struct fleet_addr *a = &d->addrs[i];

		snprintf(a->address, sizeof(a->address), "%s", val(r, i, 0));
		snprintf(a->host, sizeof(a->host), "%s", val(r, i, 1));
		a->port = (int)num(r, i, 2, -1);
		a->preference = (int)num(r, i, 3, -1);
	}
	d->naddrs = i;
	PQclear(r);
	if (d->naddrs > 0 && !load_states(c, d, now_ms, err, errlen))
		return false;
	d->loaded_ms = now_ms;
	fleet_summarise(d, now_ms, utc);
	d->query_ms = mx_clock_mono_ms() - t0;
	return true;
}

/* Failing nodes of one address that share their failure's words. */
struct group {
	const char *words;
	int	count;
	int64_t	last_ts;
	const char *last_node;
};

/* groups_of - the failing nodes of a, grouped by words, the largest group first */
static int
groups_of(const struct fleet_addr *a, int nnodes, struct group *g, int max)
{
	int	n, k, ng = 0;

	for (n = 0; n < nnodes; n++) {
		const struct fleet_nodestate *s = &a->nodes[n];

		if (s->state != FLEET_NS_FAILING && s->state != FLEET_NS_BACKOFF)
			continue;
		for (k = 0; k < ng && strcmp(g[k].words, s->failure) != 0; k++)
			;
		if (k == ng) {
			if (ng == max)
				k = max - 1;	/* more kinds than room: the last one takes them */
			else
				g[ng++] = (struct group){ s->failure, 0, 0, NULL };
		}
		g[k].count++;
		if (s->last_ts_ms > g[k].last_ts || g[k].last_node == NULL) {
			if (s->last_ts_ms >= g[k].last_ts)
				g[k].last_ts = s->last_ts_ms;
			g[k].last_node = s->node;
		}
	}
	for (n = 1; n < ng; n++)		/* a handful: insertion sort, largest first */
		for (k = n; k > 0 && g[k].count > g[k - 1].count; k--) {
			struct group t = g[k];

			g[k] = g[k - 1];
			g[k - 1] = t;
		}
	return ng;
}

/* summarise_addr - counts, scope and "refused from 3 of 8 nodes, last ... on relay3; ..." */
static void
summarise_addr(struct fleet_addr *a, int nnodes, int64_t now_ms, bool utc)
{
	struct group g[8];
	size_t	used = 0;
	int	n, ng, k;

	a->failing = a->ok = a->unknown = 0;
	for (n = 0; n < nnodes; n++)
		switch (a->nodes[n].state) {
		case FLEET_NS_OK:
			a->ok++;
			break;
		case FLEET_NS_FAILING:
		case FLEET_NS_BACKOFF:
			a->failing++;
			break;
		default:
			a->unknown++;
		}
	if (a->failing == 0)
		a->scope = FLEET_SCOPE_NONE;
	else if (a->ok > 0)
		a->scope = FLEET_SCOPE_LOCAL;
	else if (a->failing == nnodes)
		a->scope = FLEET_SCOPE_ALL;
	else
		a->scope = FLEET_SCOPE_TRIED;
	a->summary[0] = '\0';
	ng = groups_of(a, nnodes, g, 8);
	for (k = 0; k < ng && used < sizeof(a->summary); k++) {
		char	when[40];

		used += (size_t)snprintf(a->summary + used, sizeof(a->summary) - used,
					 "%s%s from %d of %d node%s", used ? "; " : "", g[k].words,
					 g[k].count, nnodes, nnodes == 1 ? "" : "s");
		if (g[k].last_ts > 0 && used < sizeof(a->summary)) {
			mx_format_time(g[k].last_ts, now_ms, utc, when, sizeof(when));
			used += (size_t)snprintf(a->summary + used, sizeof(a->summary) - used,
						 ", last %s on %s", when, g[k].last_node);
		}
	}
	if (a->ok > 0 && used < sizeof(a->summary))
		used += (size_t)snprintf(a->summary + used, sizeof(a->summary) - used,
					 "%sok from %d of %d node%s", used ? "; " : "", a->ok, nnodes,
					 nnodes == 1 ? "" : "s");
	if (a->unknown > 0 && used < sizeof(a->summary))
		snprintf(a->summary + used, sizeof(a->summary) - used,
			 "%sno recent attempt from %d of %d node%s", used ? "; " : "", a->unknown,
			 nnodes, nnodes == 1 ? "" : "s");
}

/* worse - does a fail more widely than b (more nodes; then all > tried > local; then preference) */
static bool
worse(const struct fleet_addr *a, const struct fleet_addr *b)
{
	if (a->failing != b->failing)
		return a->failing > b->failing;
	if (a->scope != b->scope)
		return a->scope > b->scope;
	return a->preference >= 0 && (b->preference < 0 || a->preference < b->preference);
}

/* failing_nodes - "relay1, relay3 and relay5" (the first few) */
static void
failing_nodes(const struct fleet_addr *a, int nnodes, char *out, size_t len)
{
	size_t	used = 0;
	int	n, shown = 0;

	out[0] = '\0';
	for (n = 0; n < nnodes && used < len; n++) {
		if (a->nodes[n].state != FLEET_NS_FAILING && a->nodes[n].state != FLEET_NS_BACKOFF)
			continue;
		if (shown == 6) {
			snprintf(out + used, len - used, " and %d more", a->failing - shown);
			return;
		}
		used += (size_t)snprintf(out + used, len - used, "%s%s", shown ? ", " : "",
					 a->nodes[n].node);
		shown++;
	}
}

/* fleet_summarise - every address's words, then the domain's explanation */
void
fleet_summarise(struct fleet_domain *d, int64_t now_ms, bool utc)
{
	const struct fleet_addr *w = NULL;
	struct group g[8];
	char	nodes[400], words[100];
	int	i, nfailing = 0;

	for (i = 0; i < d->naddrs; i++) {
		summarise_addr(&d->addrs[i], d->nnodes, now_ms, utc);
		if (d->addrs[i].failing > 0) {
			nfailing++;
			if (w == NULL || worse(&d->addrs[i], w))
				w = &d->addrs[i];
		}
	}
	d->scope = w != NULL ? w->scope : FLEET_SCOPE_NONE;
	if (d->nattempts == 0 && d->naddrs == 0) {
		snprintf(d->explanation, sizeof(d->explanation),
			 "no attempts for %s in the fleet database", d->name);
		return;
	}
	if (w == NULL) {
		int	ok = 0, n;

		for (n = 0; n < d->nnodes; n++)
			for (i = 0; i < d->naddrs; i++)
				if (d->addrs[i].nodes[n].state == FLEET_NS_OK) {
					ok++;
					break;
				}
		snprintf(d->explanation, sizeof(d->explanation),
			 "no node sees a failure: the newest attempts of %d of %d node%s reached "
			 "its hosts", ok, d->nnodes, d->nnodes == 1 ? "" : "s");
		return;
	}
	/* one kind of failure says its words; mixed kinds say "failing" */
	if (groups_of(w, d->nnodes, g, 8) == 1)
		snprintf(words, sizeof(words), "%s", g[0].words);
	else
		snprintf(words, sizeof(words), "failing");
	failing_nodes(w, d->nnodes, nodes, sizeof(nodes));
	switch (w->scope) {
	case FLEET_SCOPE_LOCAL:
		snprintf(d->explanation, sizeof(d->explanation),
			 "%.253s [%s] %s from %d of %d nodes: likely their egress (%s fail; "
			 "%d other node%s reach%s it)", w->host[0] ? w->host : "-", w->address, words,
			 w->failing, d->nnodes, nodes, w->ok, w->ok == 1 ? "" : "s",
			 w->ok == 1 ? "es" : "");
		break;
	case FLEET_SCOPE_ALL:
		snprintf(d->explanation, sizeof(d->explanation),
			 "%.253s [%s] %s from %d of %d nodes: the remote site (every node sees it "
			 "fail)", w->host[0] ? w->host : "-", w->address, words, w->failing, d->nnodes);
		break;
	default:
		snprintf(d->explanation, sizeof(d->explanation),
			 "%.253s [%s] %s from %d of %d nodes, every node that tried it: likely the "
			 "remote site (%d node%s not tried it lately)", w->host[0] ? w->host : "-",
			 w->address, words, w->failing, d->nnodes, w->unknown,
			 w->unknown == 1 ? " has" : "s have");
	}
	if (nfailing > 1) {
		size_t	used = strlen(d->explanation);

		snprintf(d->explanation + used, sizeof(d->explanation) - used,
			 "; %d more address%s failing", nfailing - 1, nfailing == 2 ? "" : "es");
	}
}
