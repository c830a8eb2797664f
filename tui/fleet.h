/*
 * fleet - the fleet view's model: what the fleet's PostgreSQL database
 * (fleetdb.h, schema in mxtier-ship(8)) says about a domain across nodes
 *
 * SYNOPSIS
 *	struct fleet_list l;	fleet_load_list(conn, now_ms, &l, err, len)
 *	struct fleet_domain *d = fleet_domain_new();
 *	fleet_load_domain(conn, "example.net", now_ms, utc, d, err, len);
 *	fleet_domain_free(d);
 *
 * DESCRIPTION
 *	fleet_load_list() reads the nodes (fleet_nodes) and the domains most
 *	recently tried anywhere (fleet_domains, newest first, at most
 *	FLEET_LIST_MAX). fleet_load_domain() reads one domain: its newest
 *	attempts with their node (at most FLEET_ATTEMPTS), the addresses its
 *	recent attempts went to, and per address the state on each node:
 *	from that node's newest attempt to the address (among the address's
 *	FLEET_ADDR_WINDOW newest, whatever the domain) and from the node's
 *	entry in fleet_backoff. Every read is one bounded query served by an
 *	index (fleet_domains_last_ts, fleet_attempts_domain_ts,
 *	fleet_attempts_address_ts, the key of fleet_backoff).
 *
 *	fleet_summarise() is pure (rows in, words out) so the words have one
 *	source: per address a summary like "refused from 3 of 8 nodes, last
 *	10:02:11 on relay3; ok from 5 of 8 nodes", and per domain an
 *	explanation that says whether a failure is local to some nodes ("3 of
 *	8 nodes: likely their egress") or seen by all ("8 of 8 nodes: the
 *	remote site").
 *
 *	The loaders block (the report calls them directly; the interactive
 *	screen calls them from its worker thread, fleetwork.h) and know
 *	nothing of either.
 *
 * Ownership: fleet_domain_new() allocates a domain the caller frees with
 * fleet_domain_free(); a fleet_list is a plain struct (no pointers).
 */
#ifndef MXTIER_TUI_FLEET_H
#define MXTIER_TUI_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "journal.h"

#define FLEET_MAX_NODES		64	/* nodes read from fleet_nodes */
#define FLEET_LIST_MAX		200	/* domains on the list, newest first */
#define FLEET_ATTEMPTS		50	/* newest attempts of a domain shown */
#define FLEET_DOMAIN_WINDOW	500	/* the domain's newest attempts its addresses come from */
#define FLEET_MAX_ADDRS		32	/* addresses of a domain */
#define FLEET_ADDR_WINDOW	1000	/* an address's newest attempts searched per node */
#define FLEET_TIMEOUT_MS	10000	/* statement_timeout of a fleet view session */

struct fleet_node {
	char	name[64];
	int64_t	shipped_at_ms;		/* when its last batch landed */
};

struct fleet_list {
	struct fleet_node nodes[FLEET_MAX_NODES];
	int	nnodes;
	struct {
		char	name[254];
		int64_t	last_ts_ms;
	} domains[FLEET_LIST_MAX];
	int	ndomains;
};

/* The state of one address on one node. */
enum fleet_nstate {
	FLEET_NS_UNKNOWN,		/* no recent attempt from that node */
	FLEET_NS_OK,			/* its newest attempt reached the host */
	FLEET_NS_FAILING,		/* its newest attempt failed temporarily */
	FLEET_NS_BACKOFF		/* the node holds it in backoff now */
};

struct fleet_nodestate {
	char	node[64];
	enum fleet_nstate state;
	char	failure[80];		/* "refused", "timed out", "answered 421 at greeting" */
	int64_t	last_ts_ms;		/* its newest attempt to the address, 0 none */
	char	outcome[16];
	char	stage[16];
	int	reply_code;
	int	failures;		/* from fleet_backoff, 0 none */
	int64_t	retry_at_ms;
	char	last_error[256];
};

/* How far a failure reaches. */
enum fleet_scope {
	FLEET_SCOPE_NONE,		/* no node fails */
	FLEET_SCOPE_LOCAL,		/* some fail, others reach it: their egress */
	FLEET_SCOPE_TRIED,		/* every node that tried fails, not all tried */
	FLEET_SCOPE_ALL			/* every node fails: the remote site */
};

struct fleet_addr {
	char	address[46];
	char	host[254];
	int	port;
	int	preference;		/* -1 none */
	struct fleet_nodestate *nodes;	/* one per node of the domain, node order */
	int	failing, ok, unknown;	/* nodes in each state (backoff counts as failing) */
	enum fleet_scope scope;
	char	summary[512];
};

struct fleet_domain {
	char	name[254];
	int	nnodes;				/* nodes of the fleet (the "of N") */
	char	node_names[FLEET_MAX_NODES][64];
	struct fleet_addr addrs[FLEET_MAX_ADDRS];
	int	naddrs;
	struct fleet_nodestate *states;		/* naddrs x nnodes, the addrs' nodes point here */
	struct mx_attempt_row attempts[FLEET_ATTEMPTS];	/* newest first, node filled */
	int	nattempts;
	enum fleet_scope scope;			/* of the address that fails most widely */
	char	explanation[1024];
	int64_t	loaded_ms;			/* wall clock of the load */
	int64_t	query_ms;			/* how long the load took */
};

/*
 * fleet_session - settings for a session that reads with these loaders:
 * no bitmap scans (every read is an ordered, LIMITed range of an index; a
 * bitmap scan would fetch every row of a busy address to sort them) and no
 * JIT (it costs more than these short reads); false + err on failure
 */
bool	fleet_session(PGconn *c, char *err, size_t errlen);

/* fleet_load_list - nodes and the newest domains; false + err on a database error */
bool	fleet_load_list(PGconn *c, struct fleet_list *l, char *err, size_t errlen);

/* fleet_domain_new - an empty domain (NULL when out of memory) */
struct fleet_domain *fleet_domain_new(void);

/* fleet_domain_free - free a domain (NULL is fine) */
void	fleet_domain_free(struct fleet_domain *d);

/*
 * fleet_load_domain - nodes, addresses with their per-node states, newest
 * attempts, summaries and the explanation of one domain into d; now_ms
 * decides which backoffs still run; utc picks the clock of the words
 */
bool	fleet_load_domain(PGconn *c, const char *domain, int64_t now_ms, bool utc,
			  struct fleet_domain *d, char *err, size_t errlen);

/* fleet_summarise - counts, scopes, summaries and the explanation from the states */
void	fleet_summarise(struct fleet_domain *d, int64_t now_ms, bool utc);

/* fleet_nstate_name - "ok", "failing", "backoff", "unknown" */
const char *fleet_nstate_name(enum fleet_nstate s);

/* fleet_scope_name - "none", "local", "tried", "all" */
const char *fleet_scope_name(enum fleet_scope s);

#endif
