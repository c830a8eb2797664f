/*
 * mxtier-pipe - pipe-style transport for Postfix pipe(8) and Exim's pipe
 * transport, and a route printer
 *
 * SYNOPSIS
 *	mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] --route DOMAIN [--json]
 *	mxtier-pipe [-c FILE] [--dns-server ...] [--seed N] -f SENDER -d DOMAIN [--] RECIPIENT...
 *	mxtier-pipe [-c FILE] [--dns-server ...] --socketmap [--transport NAME]
 *	mxtier-pipe [-c FILE] [--dns-server ...] --route-lines
 *
 * DESCRIPTION
 *	Route mode resolves DOMAIN, applies the planning policy (R1-R10) and
 *	prints the plan: a table, or the route JSON of DESIGN.md section 4.
 *	Exit 0 when a plan exists, 75 when the outcome is temporary, 68 when it
 *	is permanent.
 *
 *	The oracle modes (--socketmap, --route-lines; oracle.h) answer route
 *	lookups of the MTA's own client until end of input, writing nothing
 *	to stderr (spawn(8) connects it to the client).
 *
 *	Every local problem (bad arguments, bad config) exits 75 (EX_TEMPFAIL)
 *	so that an MTA calling us keeps the message; the first line of output
 *	(on stderr, which both MTAs capture) is then "4.3.5 text" (config,
 *	arguments) or "4.3.0 text".
 *
 *	Delivery mode refuses to run as root (effective uid 0): it needs no
 *	privilege, and the MTAs run it as an unprivileged user (Postfix
 *	pipe(8) user=, Exim's transport user =). It says so and exits 75 before
 *	reading the configuration, the message or anything from the network.
 *	Route mode, a read-only diagnostic, runs as root too.
 *
 *	Before reading the message, delivery mode checks that the spool
 *	directory exists and is writable (a message over spool.memory_limit
 *	goes there), so that a wrong spool.directory defers every message at
 *	once rather than only the large ones.
 *
 * One context struct (struct pipe_ctx) holds everything the run owns.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <netdb.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "domain.h"
#include "idn.h"
#include "journal.h"
#include "mailaddr.h"
#include "oracle.h"
#include "plan.h"
#include "planfmt.h"
#include "resolve.h"
#include "rng.h"
#include "routetls.h"
#include "serve.h"

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
	bool	socketmap;		/* --socketmap */
	bool	route_lines;		/* --route-lines */
	const char *transport;		/* --transport, for --socketmap answers */
	char  **recipients;
	int	nrecipients;
	struct mx_config cfg;
	bool	cfg_loaded;
	int	max_addresses;		/* the configured R10 limit, kept while planning */
};

static const char usage_text[] =
"usage: mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] --route DOMAIN [--json]\n"
"       mxtier-pipe [-c FILE] [--dns-server ADDR[:PORT]]... [--seed N] [-q QUEUE_ID]\n"
"                   -f SENDER -d DOMAIN [--] RECIPIENT...\n"
"       mxtier-pipe [-c FILE] ... --exim\n"
"       mxtier-pipe [-c FILE] [--dns-server ...] --socketmap [--transport NAME]\n"
"       mxtier-pipe [-c FILE] [--dns-server ...] --route-lines\n"
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
"      --socketmap          answer Postfix socketmap lookups on stdin/stdout\n"
"                           (transport: next hops in mxtier's order; tls: the\n"
"                           host's TLS policy), e.g. from a spawn(8) service\n"
"      --transport NAME     the transport in --socketmap answers (default smtp)\n"
"      --route-lines        read one domain a line, write Exim's manualroute\n"
"                           host list for it (empty: decline) for ${readsocket}\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 route found (or message delivered), 75 temporary problem or\n"
"local error (the MTA keeps the message), 68 no such domain / no mail host /\n"
"null MX, 67 recipient rejected, 69 other permanent rejection.\n";

/* fail_local - report a local problem, first line "X.Y.Z text", and give the exit code */
static int
fail_local(const char *dsn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * In the oracle modes stderr may be the client's connection (spawn(8)):
 * a failure is kept here for the answers and syslog instead of printed.
 */
static bool oracle_mode;
static char startup_error[512];

static int
fail_local(const char *dsn, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(startup_error, sizeof(startup_error), fmt, ap);
	va_end(ap);
	if (oracle_mode)
		return EX_TEMPFAIL;
	fflush(stdout);
	fprintf(stderr, "%s %s\n", dsn, startup_error);
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

static bool transport_name_ok(const char *s);

enum { OPT_DNS = 256, OPT_SEED, OPT_ROUTE, OPT_JSON, OPT_EXIM, OPT_SOCKETMAP, OPT_ROUTE_LINES,
       OPT_TRANSPORT };

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
		{ "socketmap", no_argument, NULL, OPT_SOCKETMAP },
		{ "route-lines", no_argument, NULL, OPT_ROUTE_LINES },
		{ "transport", required_argument, NULL, OPT_TRANSPORT },
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
		case OPT_SOCKETMAP:
			ctx->socketmap = true;
			break;
		case OPT_ROUTE_LINES:
			ctx->route_lines = true;
			break;
		case OPT_TRANSPORT:
			if (!transport_name_ok(optarg))
				return fail_local("4.3.5", "mxtier-pipe: --transport %s: expected a "
						  "master.cf service name (letters, digits, "
						  "-_.)", optarg);
			ctx->transport = optarg;
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
	if ((ctx->socketmap || ctx->route_lines) &&
	    (ctx->socketmap + ctx->route_lines + (ctx->route_domain != NULL) > 1 ||
	     ctx->nrecipients > 0 || ctx->sender || ctx->nexthop || ctx->exim))
		return fail_local("4.3.5", "mxtier-pipe: --socketmap and --route-lines take no "
				  "other mode, sender or recipients (see mxtier-pipe --help)");
	if (ctx->transport != NULL && !ctx->socketmap)
		return fail_local("4.3.5", "mxtier-pipe: --transport goes with --socketmap");
	return 0;
}

/* transport_name_ok - a master.cf service name: letters, digits, "-_." */
static bool
transport_name_ok(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr("-_.", s[i]) != NULL))
			return false;
	return i > 0 && i < 64;
}

/* Oracle modes (--socketmap, --route-lines): how long a client may take. */
#define ORACLE_IDLE_MS		600000	/* Postfix closes idle map connections after 10 s */
#define ORACLE_REQUEST_MS	10000
#define ORACLE_WRITE_MS		10000
#define ORACLE_MAX_REQUEST	10000

/* The answer when the oracle cannot start: every request gets it. */
struct oracle_failure {
	bool	lines;
	char	reply[600];
};

/* answer_failure - the start-up failure as each request's answer */
static void
answer_failure(void *arg, const char *req, size_t len, char *reply, size_t replylen)
{
	const struct oracle_failure *f = arg;

	(void)req;
	(void)len;
	snprintf(reply, replylen, "%s", f->lines ? "" : f->reply);
}

/* answer_socketmap - one socketmap request */
static void
answer_socketmap(void *arg, const char *req, size_t len, char *reply, size_t replylen)
{
	mx_oracle_socketmap(arg, req, len, reply, replylen);
}

/* answer_line - one Exim route line */
static void
answer_line(void *arg, const char *req, size_t len, char *reply, size_t replylen)
{
	mx_oracle_route_line(arg, req, len, reply, replylen);
}

/*
 * run_oracle - --socketmap or --route-lines: answer until end of input.
 * Nothing is written to stderr: spawn(8) connects it to the client, where
 * any text would break the protocol. Problems go to syslog; a problem at
 * start (bad configuration, root) answers every socketmap request with
 * TEMP and every line with an empty one (Exim's router declines).
 */
static int
run_oracle(struct pipe_ctx *ctx, int status)
{
	struct mx_serve_opts so = { STDIN_FILENO, STDOUT_FILENO, ORACLE_IDLE_MS, ORACLE_REQUEST_MS,
				    ORACLE_WRITE_MS, ORACLE_MAX_REQUEST };
	struct oracle_failure failure;
	struct mx_oracle_opts oo;
	struct mx_oracle *oracle = NULL;
	enum mx_serve_end end;
	char	why[512], warning[700];

	openlog(ctx->socketmap ? "mxtier-pipe/socketmap" : "mxtier-pipe/route-lines", LOG_PID,
		LOG_MAIL);
	signal(SIGPIPE, SIG_IGN);
	memset(&failure, 0, sizeof(failure));
	failure.lines = ctx->route_lines;
	if (status == 0 && geteuid() == 0) {
		snprintf(failure.reply, sizeof(failure.reply), "TEMP 4.3.0 mxtier-pipe refuses to run "
			 "as root: give the spawn(8) service user=nobody (or another user)");
		status = EX_TEMPFAIL;
	} else if (status != 0) {
		snprintf(failure.reply, sizeof(failure.reply), "TEMP 4.3.5 %s", startup_error);
	}
	if (status == 0) {
		memset(&oo, 0, sizeof(oo));
		oo.cfg = &ctx->cfg;
		oo.dns_servers = ctx->dns_servers;
		oo.ndns_servers = ctx->ndns_servers;
		oo.transport = ctx->transport ? ctx->transport : "smtp";
		oo.have_seed = ctx->have_seed;
		oo.seed = ctx->seed;
		if ((oracle = mx_oracle_new(&oo, warning, sizeof(warning))) == NULL) {
			snprintf(failure.reply, sizeof(failure.reply), "TEMP 4.3.0 mxtier-pipe: out "
				 "of memory");
			status = EX_TEMPFAIL;
		} else if (warning[0] != '\0')
			syslog(LOG_WARNING, "warning: %s", warning);
	}
	if (status != 0)
		syslog(LOG_ERR, "%s", failure.reply[0] ? failure.reply + 5 : "cannot start");
	if (oracle == NULL)
		end = ctx->socketmap ? mx_serve_socketmap(&so, answer_failure, &failure, why, sizeof(why)) :
		    mx_serve_lines(&so, answer_failure, &failure, why, sizeof(why));
	else
		end = ctx->socketmap ? mx_serve_socketmap(&so, answer_socketmap, oracle, why, sizeof(why)) :
		    mx_serve_lines(&so, answer_line, oracle, why, sizeof(why));
	if (end == MX_SERVE_ERROR)
		syslog(LOG_WARNING, "closing the connection: %s", why);
	mx_oracle_free(oracle);
	closelog();
	return end == MX_SERVE_ERROR ? EX_PROTOCOL : EX_OK;
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
	ctx->max_addresses = ctx->cfg.policy.max_addresses;
	return 0;
}

/* seed_rng - --seed, or fresh randomness for every run (R2) */
static void
seed_rng(const struct pipe_ctx *ctx, struct mx_rng *rng)
{
	if (ctx->have_seed)
		mx_rng_seed(rng, ctx->seed);
	else
		mx_rng_seed_fresh(rng);
}

/* resolver_opts - resolver options from config and --dns-server */
static void
resolver_opts(const struct pipe_ctx *ctx, struct mx_resolver_opts *o)
{
	mx_route_resolver_opts(&ctx->cfg, (char *const *)ctx->dns_servers, ctx->ndns_servers, o);
}

/*
 * plan_domain - resolve and plan; NULL plus a message on a local failure.
 * The MTA-STS policy comes from the journal's cache or a fetch (stored when
 * the journal is writable); journal may be NULL.
 */
static struct mx_plan *
plan_domain(struct pipe_ctx *ctx, const char *domain, struct mx_journal *journal,
	    char *err, size_t errlen)
{
	struct mx_resolver_opts ro;
	struct mx_sts_state *sts;
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
	if ((sts = malloc(sizeof(*sts))) == NULL) {
		mx_dns_result_free(dns);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	mx_route_sts(&ctx->cfg, journal, &ro, dns, mx_clock_wall_ms(), true, sts);
	ifaddrs = mx_local_addrs(&nif);
	env.local_ifaddrs = ifaddrs;
	env.nlocal_ifaddrs = nif;
	mx_route_sts_env(sts, &env);
	seed_rng(ctx, &rng);
	plan = mx_plan_build(dns, &ctx->cfg.policy, &env, &rng);
	if (plan == NULL)
		snprintf(err, errlen, "out of memory");
	mx_route_sts_note(plan, sts);
	free(sts);
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

/*
 * bad_domain - a domain that is no mail domain: 5.1.2 and exit 68 in route
 * and delivery mode alike (the name itself is wrong, as for NXDOMAIN)
 */
static int
bad_domain(const char *name, const char *why)
{
	char	shown[301];

	mx_mailaddr_printable(name, shown, sizeof(shown));
	fflush(stdout);
	fprintf(stderr, "5.1.2 mxtier-pipe: bad domain \"%s\": %s\n", shown, why);
	return EX_NOHOST;
}

/*
 * lookup_form - the domain as DNS and SMTP take it (idn.h) into out; 0, or
 * the exit status: 68 for a name that is no domain, 75 when libidn2 is
 * missing (a local problem: the MTA keeps the message)
 */
static int
lookup_form(const char *name, char *out, size_t outlen)
{
	char	why[256];

	switch (mx_idn_domain(name, out, outlen, why, sizeof(why))) {
	case MX_IDN_OK:
		return 0;
	case MX_IDN_INVALID:
		return bad_domain(name, why);
	default:
		return fail_local("4.3.0", "mxtier-pipe: %s", why);
	}
}

/* run_route - --route DOMAIN */
static int
run_route(struct pipe_ctx *ctx)
{
	char	domain[MX_DOMAIN_MAX + 1], err[512];
	struct mx_journal *journal;
	struct mx_plan *plan;
	int	status;

	if ((status = lookup_form(ctx->route_domain, domain, sizeof(domain))) != 0)
		return status;
	/* read-only: --route may run as root and must not create the journal as root */
	journal = mx_route_sts_wanted(&ctx->cfg) ?
	    mx_journal_open(ctx->cfg.journal.path, true, err, sizeof(err)) : NULL;
	plan = plan_domain(ctx, domain, journal, err, sizeof(err));
	mx_journal_close(journal);
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

/* wall_ms - the journal's clock, for struct mx_deliver_io */
static int64_t
wall_ms(void *arg)
{
	(void)arg;
	return mx_clock_wall_ms();
}

/* smtp_attempt - the real SMTP session, for struct mx_deliver_io */
static void
smtp_attempt(void *arg, const struct mx_smtp_opts *o, const struct mx_ip *ip, int port,
	     const char *host, const struct mx_smtp_envelope *env, const bool *pending,
	     struct mx_spool *sp, struct mx_smtp_rcpt *rcpt, struct mx_smtp_result *res)
{
	(void)arg;
	mx_smtp_attempt(o, ip, port, host, env, pending, sp, rcpt, res);
}

/* resolve_relay - R12: "HOST[:PORT]" or "[ADDR]:PORT" to addresses */
static bool
resolve_relay(void *arg, const char *spec, struct mx_relay_target *t)
{
	struct pipe_ctx *ctx = arg;
	struct mx_resolver_opts ro;
	struct mx_dns_result *dns;
	struct mx_dns_addrset *set;
	char	host[MX_DOMAIN_MAX + 1], why[160], err[256];
	struct mx_ip ip;
	size_t	i;

	if (!mx_endpoint_parse(spec, 25, false, host, sizeof(host), &t->port, why, sizeof(why))) {
		snprintf(t->error, sizeof(t->error), "%s", why);
		return false;
	}
	snprintf(t->name, sizeof(t->name), "%s", host);
	if (mx_ip_parse(host, &ip)) {
		t->ips[0] = ip;
		t->nips = 1;
		return true;
	}
	resolver_opts(ctx, &ro);
	dns = mx_resolve_addresses(&ro, host, err, sizeof(err));
	if (dns == NULL) {
		snprintf(t->error, sizeof(t->error), "%.190s", err);
		return false;
	}
	set = mx_dns_result_find_set(dns, host);
	for (i = 0; set != NULL && i < set->naddrs && t->nips < sizeof(t->ips) / sizeof(t->ips[0]);
	     i++)
		t->ips[t->nips++] = set->addrs[i].ip;
	if (t->nips == 0)
		snprintf(t->error, sizeof(t->error), "no address (A %s, AAAA %s)",
			 set ? mx_dns_status_name(set->a_status) : "?",
			 set ? mx_dns_status_name(set->aaaa_status) : "?");
	mx_dns_result_free(dns);
	return t->nips > 0;
}

/* exim_environment - --exim: the envelope from Exim's pipe transport environment */
static int
exim_environment(struct pipe_ctx *ctx)
{
	static char *rcpt[1];
	const char *sender = getenv("SENDER"), *recipient = getenv("RECIPIENT");
	const char *domain = getenv("DOMAIN"), *id = getenv("MESSAGE_ID");

	if (sender == NULL || recipient == NULL || recipient[0] == '\0')
		return fail_local("4.3.5", "mxtier-pipe: --exim needs SENDER and RECIPIENT in the "
				  "environment (Exim's pipe transport sets them)");
	ctx->sender = sender;
	rcpt[0] = (char *)recipient;
	ctx->recipients = rcpt;
	ctx->nrecipients = 1;
	if (ctx->nexthop == NULL)
		ctx->nexthop = domain;
	if (ctx->nexthop == NULL) {
		const char *at = strrchr(recipient, '@');

		ctx->nexthop = at ? at + 1 : NULL;
	}
	if (ctx->queue_id == NULL && id != NULL && id[0] != '\0')
		ctx->queue_id = id;
	return 0;
}

/* log_outcomes - one syslog line per recipient, in the shape Postfix uses */
static void
log_outcomes(const struct pipe_ctx *ctx, const struct mx_deliver_result *r, int64_t start)
{
	double	delay = (double)(wall_ms(NULL) - start) / 1000.0;
	int	i;

	for (i = 0; i < (int)r->nrcpt && i < ctx->nrecipients; i++) {
		char	line[2048], rcpt[1024];

		mx_mailaddr_printable(ctx->recipients[i], rcpt, sizeof(rcpt));
		mx_deliver_log_line(r, (size_t)i, ctx->queue_id, rcpt, delay, line, sizeof(line));
		syslog(r->rcpt[i].status == MX_RCPT_SENT ? LOG_INFO : LOG_NOTICE, "%s", line);
	}
}

/*
 * helo_name - smtp.helo_name, or this machine's fully qualified name
 * (gethostname(), and its canonical name from the system resolver when
 * that has no dot, as hostname -f does). A name without a dot is refused
 * (exit 75): receivers answer such a HELO with 504 (Postfix's
 * reject_non_fqdn_helo_hostname), and every message would bounce.
 */
static int
helo_name(const struct pipe_ctx *ctx, char *buf, size_t len)
{
	char	name[256], norm[MX_DOMAIN_MAX + 1], why[160];
	const char *what = "smtp.helo_name";

	snprintf(name, sizeof(name), "%s", ctx->cfg.smtp.helo_name);
	if (name[0] == '\0') {
		struct addrinfo hints, *ai = NULL;

		what = "this host's name";
		if (gethostname(name, sizeof(name)) != 0)
			name[0] = '\0';
		name[sizeof(name) - 1] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_CANONNAME;
		if (name[0] != '\0' && strchr(name, '.') == NULL &&
		    getaddrinfo(name, NULL, &hints, &ai) == 0) {
			if (ai != NULL && ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.'))
				snprintf(name, sizeof(name), "%s", ai->ai_canonname);
			freeaddrinfo(ai);
		}
	}
	if (!mx_domain_normalise(name, norm, sizeof(norm), why, sizeof(why)))
		return fail_local("4.3.5", "mxtier-pipe: %s \"%s\" cannot be sent in EHLO: %s; "
				  "set smtp.helo_name in %s", what, name, why, ctx->cfg.source);
	if (strchr(norm, '.') == NULL)
		return fail_local("4.3.5", "mxtier-pipe: %s \"%s\" is not a fully qualified "
				  "domain name, and servers refuse it in EHLO; set smtp.helo_name "
				  "in %s", what, norm, ctx->cfg.source);
	snprintf(buf, len, "%s", norm);
	return 0;
}

/* check_spool_dir - spool.directory must be a directory we can create files in */
static int
check_spool_dir(const struct pipe_ctx *ctx)
{
	char	why[512];

	if (!mx_spool_check_dir(ctx->cfg.spool.directory, why, sizeof(why)))
		return fail_local("4.3.0", "mxtier-pipe: %s (spool.directory in %s)", why,
				  ctx->cfg.source);
	return 0;
}

/* run_deliver - delivery mode: plan, walk, report */
static int
run_deliver(struct pipe_ctx *ctx)
{
	char	domain[MX_DOMAIN_MAX + 1], err[512], host[256], warning[700] = "";
	struct mx_deliver_io io = { ctx, wall_ms, smtp_attempt, resolve_relay };
	struct mx_deliver_result result;
	struct mx_deliver_job job;
	struct mx_smtp_opts smtp;
	struct mx_plan *plan;
	struct mx_spool *spool;
	struct mx_journal *journal;
	int64_t	start = wall_ms(NULL);
	int	status;

	if (ctx->exim && (status = exim_environment(ctx)) != 0)
		return status;
	if (ctx->nexthop == NULL || ctx->sender == NULL || ctx->nrecipients == 0)
		return fail_local("4.3.5", "mxtier-pipe: delivery needs -f SENDER -d DOMAIN "
				  "and at least one RECIPIENT, or --route DOMAIN "
				  "(see mxtier-pipe --help)");
	if ((status = lookup_form(ctx->nexthop, domain, sizeof(domain))) != 0)
		return status;
	if ((status = check_spool_dir(ctx)) != 0)
		return status;
	if ((status = helo_name(ctx, host, sizeof(host))) != 0)
		return status;
	openlog("mxtier-pipe", LOG_PID, LOG_MAIL);
	spool = mx_spool_read(STDIN_FILENO, ctx->cfg.spool.memory_limit, ctx->cfg.spool.directory,
			      err, sizeof(err));
	if (spool == NULL)
		return fail_local("4.3.0", "mxtier-pipe: %s", err);

	/* warnings wait until the status line is out: it must be the first line */
	journal = mx_journal_open(ctx->cfg.journal.path, false, warning, sizeof(warning));
	/* the walk counts addresses itself (R10), so the plan marks none over the limit */
	ctx->cfg.policy.max_addresses = INT_MAX;
	plan = plan_domain(ctx, domain, journal, err, sizeof(err));
	ctx->cfg.policy.max_addresses = ctx->max_addresses;
	if (plan == NULL) {
		mx_journal_close(journal);
		mx_spool_free(spool);
		return fail_local("4.3.0", "mxtier-pipe: cannot look up %s: %s", domain, err);
	}
	if (journal == NULL) {
		snprintf(warning + strlen(warning), sizeof(warning) - strlen(warning),
			 "; delivering without a journal: no attempt is recorded and host "
			 "backoff (R13) is off until it can be opened");
	} else if (!mx_journal_prune(journal, start, ctx->cfg.journal.retention,
				     ctx->cfg.backoff_max)) {
		snprintf(warning, sizeof(warning), "%s", mx_journal_error(journal));
	}
	/* TLS is set up on the first STARTTLS; when it is required, a broken
	 * TLS library defers here, before any connection */
	if (ctx->cfg.smtp.tls_level >= MX_TLS_ENCRYPT && !mx_smtp_tls_init(err, sizeof(err))) {
		mx_journal_close(journal);
		mx_plan_free(plan);
		mx_spool_free(spool);
		return fail_local("4.7.0", "mxtier-pipe: %s", err);
	}
	mx_smtp_opts_from_config(&ctx->cfg, host, &smtp);

	memset(&job, 0, sizeof(job));
	job.cfg = &ctx->cfg;
	job.smtp = &smtp;
	job.plan = plan;
	job.queue_id = ctx->queue_id;
	job.env.sender = ctx->sender;
	job.env.rcpts = (const char *const *)ctx->recipients;
	job.env.nrcpts = (size_t)ctx->nrecipients;
	job.spool = spool;
	job.journal = journal;
	if (plan->result == MX_PLAN_OK)
		mx_deliver(&job, &io, &result);
	else
		mx_deliver_plan_failure(&job, &io, &result);
	log_outcomes(ctx, &result, start);
	printf("%s\n", result.first_line);
	fflush(stdout);		/* delivered is delivered, even if nobody reads the report */
	if (warning[0] == '\0' && result.journal_error[0] != '\0')
		snprintf(warning, sizeof(warning), "%s", result.journal_error);
	if (warning[0] != '\0') {
		fprintf(stderr, "mxtier-pipe: warning: %s\n", warning);
		syslog(LOG_WARNING, "warning: %s", warning);
	}
	status = result.exit_status;
	mx_deliver_result_free(&result);
	mx_journal_close(journal);
	mx_smtp_tls_free();
	mx_plan_free(plan);
	mx_spool_free(spool);
	closelog();
	return status;
}

int
main(int argc, char **argv)
{
	struct pipe_ctx ctx;
	int	status;

	memset(&ctx, 0, sizeof(ctx));
	for (status = 1; status < argc && strcmp(argv[status], "--") != 0; status++)
		if (strcmp(argv[status], "--socketmap") == 0 ||
		    strcmp(argv[status], "--route-lines") == 0)
			oracle_mode = true;
	status = parse_args(&ctx, argc, argv);
	if (oracle_mode) {
		if (status == 0)
			status = load_config(&ctx);
		status = run_oracle(&ctx, status);
		if (ctx.cfg_loaded)
			mx_config_free(&ctx.cfg);
		return status;
	}
	/* before the config, the message or the network: delivery never runs as root */
	if (status == 0 && ctx.route_domain == NULL && geteuid() == 0)
		status = fail_local("4.3.0", "mxtier-pipe: refusing to run as root; run it as an "
				    "unprivileged user (Postfix pipe(8) user=, Exim transport "
				    "user =)");
	if (status == 0)
		status = load_config(&ctx);
	if (status == 0)
		status = ctx.route_domain ? run_route(&ctx) : run_deliver(&ctx);
	if (ctx.cfg_loaded)
		mx_config_free(&ctx.cfg);
	return status;
}
