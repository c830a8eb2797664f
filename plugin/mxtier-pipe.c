/*
 * mxtier-pipe - pipe-style transport for Postfix pipe(8) and Exim's pipe
 * transport, and a route printer
 *
 * SYNOPSIS
 *	mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] --route DOMAIN [--json]
 *	mxtier-pipe [-c FILE] [--dns-server ...] [--seed N] -f SENDER -d DOMAIN [--] RECIPIENT...
 *
 * DESCRIPTION
 *	Route mode resolves DOMAIN, applies the planning policy (R1-R10) and
 *	prints the plan: a table, or the route JSON of DESIGN.md section 4.
 *	Exit 0 when a plan exists, 75 when the outcome is temporary, 68 when it
 *	is permanent.
 *
 *	Every local problem (bad arguments, bad config) exits 75 (EX_TEMPFAIL)
 *	so that an MTA calling us keeps the message; the first line of output
 *	(on stderr, which both MTAs capture) is then "4.3.5 text" (config,
 *	arguments) or "4.3.0 text".
 *
 * One context struct (struct pipe_ctx) holds everything the run owns.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "domain.h"
#include "plan.h"
#include "planfmt.h"
#include "resolve.h"
#include "rng.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define MAX_DNS_SERVERS 8

struct pipe_ctx {
	const char *config_path;	/* -c, or NULL for the default */
	char   *dns_servers[MAX_DNS_SERVERS];	/* --dns-server, replaces the config */
	size_t	ndns_servers;
	bool	have_seed;
	uint64_t seed;
	const char *route_domain;	/* --route */
	bool	json;
	const char *sender;		/* -f */
	const char *nexthop;		/* -d */
	const char *queue_id;		/* -q */
	bool	exim;			/* --exim */
	char  **recipients;
	int	nrecipients;
	struct mx_config cfg;
	bool	cfg_loaded;
};

static const char usage_text[] =
"usage: mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] --route DOMAIN [--json]\n"
"       mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] [-q QUEUE_ID]\n"
"                   -f SENDER -d DOMAIN [--] RECIPIENT...\n"
"       mxtier-pipe [-c FILE] ... --exim\n"
"\n"
"Route mode prints how mail for DOMAIN would be routed: MX preference tiers,\n"
"hosts in try order, their addresses, and notes on everything unusable.\n"
"\n"
"  -c, --config FILE        configuration file (default " "%s" ")\n"
"      --dns-server ADDR    name server to ask instead of the configured ones;\n"
"                           repeatable; ADDR[:PORT], IPv6 as [ADDR]:PORT\n"
"      --seed N             seed for the equal-preference shuffle (reproducible)\n"
"      --route DOMAIN       print the route and deliver nothing\n"
"      --json               print the route as JSON\n"
"  -f SENDER                envelope sender ('' for the null sender <>)\n"
"  -d DOMAIN                the recipients' domain (Postfix ${nexthop})\n"
"  -q QUEUE_ID              the MTA's queue id, for logs\n"
"      --exim               take sender, recipient, domain and id from Exim's\n"
"                           pipe transport environment\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 route found (or message delivered), 75 temporary problem or\n"
"local error (the MTA keeps the message), 68 no such domain / no mail host /\n"
"null MX, 67 recipient rejected, 69 other permanent rejection.\n";

/* fail_local - report a local problem, first line "X.Y.Z text", and give the exit code */
static int
fail_local(const char *dsn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail_local(const char *dsn, const char *fmt, ...)
{
	va_list	ap;

	fflush(stdout);
	fprintf(stderr, "%s ", dsn);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EX_TEMPFAIL;
}

/* parse_seed - decimal 64-bit seed */
static bool
parse_seed(const char *s, uint64_t *out)
{
	char   *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

enum { OPT_DNS = 256, OPT_SEED, OPT_ROUTE, OPT_JSON, OPT_EXIM };

/* parse_args - fill ctx from argv; returns 0 to go on, or an exit code */
static int
parse_args(struct pipe_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "route", required_argument, NULL, OPT_ROUTE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "exim", no_argument, NULL, OPT_EXIM },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:f:d:q:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx->config_path = optarg;
			break;
		case OPT_DNS: {
			char	host[MX_IP_TEXT_MAX], why[80];
			int	port;

			if (!mx_endpoint_parse(optarg, 53, true, host, sizeof(host), &port,
					       why, sizeof(why)))
				return fail_local("4.3.5", "mxtier-pipe: --dns-server %s: %s",
						  optarg, why);
			if (ctx->ndns_servers == MAX_DNS_SERVERS)
				return fail_local("4.3.5", "mxtier-pipe: at most %d --dns-server "
						  "options", MAX_DNS_SERVERS);
			ctx->dns_servers[ctx->ndns_servers++] = optarg;
			break;
		}
		case OPT_SEED:
			if (!parse_seed(optarg, &ctx->seed))
				return fail_local("4.3.5", "mxtier-pipe: --seed %s: expected a "
						  "non-negative integer", optarg);
			ctx->have_seed = true;
			break;
		case OPT_ROUTE:
			ctx->route_domain = optarg;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case OPT_EXIM:
			ctx->exim = true;
			break;
		case 'f':
			ctx->sender = optarg;
			break;
		case 'd':
			ctx->nexthop = optarg;
			break;
		case 'q':
			ctx->queue_id = optarg;
			break;
		case 'h':
			printf(usage_text, mx_config_default_path());
			exit(EX_OK);
		case 'V':
			printf("mxtier-pipe %s\n", PACKAGE_VERSION);
			exit(EX_OK);
		case ':':
			return fail_local("4.3.5", "mxtier-pipe: option %s needs a value "
					  "(see mxtier-pipe --help)", argv[optind - 1]);
		default:
			return fail_local("4.3.5", "mxtier-pipe: unknown option %s "
					  "(see mxtier-pipe --help)", argv[optind - 1]);
		}
	}
	ctx->recipients = argv + optind;
	ctx->nrecipients = argc - optind;
	if (ctx->route_domain != NULL && ctx->nrecipients > 0)
		return fail_local("4.3.5", "mxtier-pipe: --route takes no recipients "
				  "(unexpected \"%s\")", ctx->recipients[0]);
	if (ctx->json && ctx->route_domain == NULL)
		return fail_local("4.3.5", "mxtier-pipe: --json goes with --route DOMAIN");
	return 0;
}

/* load_config - the config file and the command line overrides */
static int
load_config(struct pipe_ctx *ctx)
{
	char	err[512];
	const char *path = ctx->config_path ? ctx->config_path : mx_config_default_path();

	if (!mx_config_load(path, ctx->config_path != NULL, &ctx->cfg, err, sizeof(err)))
		return fail_local("4.3.5", "mxtier-pipe: bad configuration: %s", err);
	ctx->cfg_loaded = true;
	return 0;
}

/* seed_rng - --seed, or fresh randomness for every run (R2) */
static void
seed_rng(const struct pipe_ctx *ctx, struct mx_rng *rng)
{
	uint64_t seed;

	if (ctx->have_seed)
		seed = ctx->seed;
	else if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	mx_rng_seed(rng, seed);
}

/* resolver_opts - resolver options from config and --dns-server */
static void
resolver_opts(const struct pipe_ctx *ctx, struct mx_resolver_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (ctx->ndns_servers > 0) {
		o->servers = (char *const *)ctx->dns_servers;
		o->nservers = ctx->ndns_servers;
	} else {
		o->servers = ctx->cfg.resolver.servers;
		o->nservers = ctx->cfg.resolver.nservers;
	}
	o->timeout_ms = ctx->cfg.resolver.timeout * 1000;
	o->tries = ctx->cfg.resolver.tries;
	o->max_mx_records = ctx->cfg.policy.max_mx_records;
}

/* plan_domain - resolve and plan; NULL plus a message on a local failure */
static struct mx_plan *
plan_domain(struct pipe_ctx *ctx, const char *domain, char *err, size_t errlen)
{
	struct mx_resolver_opts ro;
	struct mx_dns_result *dns;
	struct mx_plan_env env;
	struct mx_ip *ifaddrs;
	struct mx_plan *plan;
	struct mx_rng rng;
	size_t	nif;

	if (!mx_resolver_library_init(err, errlen))
		return NULL;
	resolver_opts(ctx, &ro);
	dns = mx_resolve(&ro, domain, err, errlen);
	if (dns == NULL)
		return NULL;
	ifaddrs = mx_local_addrs(&nif);
	env.local_ifaddrs = ifaddrs;
	env.nlocal_ifaddrs = nif;
	seed_rng(ctx, &rng);
	plan = mx_plan_build(dns, &ctx->cfg.policy, &env, &rng);
	if (plan == NULL)
		snprintf(err, errlen, "out of memory");
	free(ifaddrs);
	mx_dns_result_free(dns);
	return plan;
}

/* plan_exit_status - route mode: 0 plan, 75 temporary, 68 permanent */
static int
plan_exit_status(const struct mx_plan *plan)
{
	switch (plan->result) {
	case MX_PLAN_OK:
		return EX_OK;
	case MX_PLAN_TEMPFAIL:
		return EX_TEMPFAIL;
	case MX_PLAN_LOOP:
		return plan->status[0] == '5' ? EX_NOHOST : EX_TEMPFAIL;
	default:
		return EX_NOHOST;
	}
}

/* run_route - --route DOMAIN */
static int
run_route(struct pipe_ctx *ctx)
{
	char	domain[MX_DOMAIN_MAX + 1], why[256], err[512];
	struct mx_plan *plan;
	int	status;

	if (!mx_domain_normalise(ctx->route_domain, domain, sizeof(domain), why, sizeof(why))) {
		fprintf(stderr, "5.1.2 mxtier-pipe: bad domain \"%.300s\": %s\n",
			ctx->route_domain, why);
		return EX_NOHOST;
	}
	plan = plan_domain(ctx, domain, err, sizeof(err));
	if (plan == NULL)
		return fail_local("4.3.0", "mxtier-pipe: cannot look up %s: %s", domain, err);
	if (ctx->json)
		mx_plan_print_json(stdout, plan, NULL, NULL);
	else
		mx_plan_print_text(stdout, plan);
	status = plan_exit_status(plan);
	mx_plan_free(plan);
	if (fflush(stdout) != 0 || ferror(stdout))
		return EX_TEMPFAIL;
	return status;
}

/* run_deliver - delivery mode */
static int
run_deliver(struct pipe_ctx *ctx)
{
	if (!ctx->exim && (ctx->nexthop == NULL || ctx->sender == NULL || ctx->nrecipients == 0))
		return fail_local("4.3.5", "mxtier-pipe: delivery needs -f SENDER -d DOMAIN "
				  "and at least one RECIPIENT, or --route DOMAIN "
				  "(see mxtier-pipe --help)");
	/* Delivery (issue 3) walks the plan here; until then keep the message queued. */
	return fail_local("4.3.3", "mxtier-pipe: this build plans routes only; "
			  "delivery arrives with the delivery module");
}

int
main(int argc, char **argv)
{
	struct pipe_ctx ctx;
	int	status;

	memset(&ctx, 0, sizeof(ctx));
	status = parse_args(&ctx, argc, argv);
	if (status == 0)
		status = load_config(&ctx);
	if (status == 0)
		status = ctx.route_domain ? run_route(&ctx) : run_deliver(&ctx);
	if (ctx.cfg_loaded)
		mx_config_free(&ctx.cfg);
	return status;
}
