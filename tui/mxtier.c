/*
 * mxtier - see why mail went where it went: the interactive inspector and
 * its report mode
 *
 * SYNOPSIS
 *	mxtier [-c FILE] [--dns-server ADDR[:PORT]]... [--journal PATH] [--utc] [DOMAIN...]
 *	mxtier [-c FILE] [--dns-server ...] [--journal PATH] [--utc] --report [--json] DOMAIN...
 *	mxtier [-c FILE] [--utc] --fleet [DOMAIN...]
 *	mxtier [-c FILE] [--utc] --fleet --report [--json] DOMAIN...
 *	mxtier --keys | -h | -V
 *
 * DESCRIPTION
 *	Interactive mode (ncurses) lists the domains given and every domain
 *	with journal attempts in the last 7 days; for the selected one it
 *	shows the plan (looked up live, never blocking the screen), the state
 *	of its hosts, its recent attempts and one sentence saying where the
 *	last delivery went and why (inspect.h). Report mode prints the same
 *	model for each domain as text or JSON and exits.
 *
 *	--fleet reads the fleet's PostgreSQL database (fleet.url) instead of
 *	this machine's journal: the domains tried anywhere in the fleet, per
 *	address its state on each node, the attempts with their node, and
 *	whether a failure is local to some nodes or seen by all (fleet.h).
 *	The screen reads through a worker thread (fleetwork.h) and never
 *	waits on the database; the report reads directly.
 *
 *	The journal is opened read-only; mxtier never writes anything.
 *
 * DIAGNOSTICS
 *	Exit status 0 after q, or when every report was printed; 1 on a usage
 *	error, a bad configuration, a bad domain, a lookup that could not
 *	start, or when the terminal cannot be used; 1 too when --fleet
 *	--report cannot read the fleet database; 128+N after signal N.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "model.h"
#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "fleetdb.h"
#include "fleetreport.h"
#include "idn.h"
#include "inspect.h"
#include "keys.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

#define EXIT_USAGE 1

static const char usage_text[] =
"usage: mxtier [-c FILE] [--dns-server ADDR[:PORT]]... [--journal PATH] [--utc] [DOMAIN...]\n"
"       mxtier [-c FILE] [--dns-server ...] [--journal PATH] [--utc] --report [--json] DOMAIN...\n"
"       mxtier [-c FILE] [--utc] --fleet [DOMAIN...]\n"
"       mxtier [-c FILE] [--utc] --fleet --report [--json] DOMAIN...\n"
"\n"
"Shows, for each domain, how mail is routed (MX preference tiers, hosts in try\n"
"order, their addresses and notes), the state of its hosts and the recent\n"
"delivery attempts from the mxtier-pipe journal, with one sentence saying where\n"
"the last delivery went and why. Without --report it is an interactive screen\n"
"(? lists the keys); the journal is only read.\n"
"\n"
"  -c, --config FILE        configuration file (default %s)\n"
"      --dns-server ADDR    name server to ask instead of the configured ones;\n"
"                           repeatable; ADDR[:PORT], IPv6 as [ADDR]:PORT\n"
"      --journal PATH       journal to read (default: journal.path of the config)\n"
"      --utc                show times in UTC instead of local time\n"
"      --report             print the report of each DOMAIN and exit\n"
"      --json               with --report: JSON, one object per domain (an array\n"
"                           when there are several)\n"
"      --fleet              read the fleet database (fleet.url) instead of the\n"
"                           journal: every node's view of each domain, and\n"
"                           whether a failure is local to some nodes or seen\n"
"                           by all (mxtier(1), FLEET)\n"
"      --keys               print the key table of the interactive screen\n"
"  -h, --help               this text\n"
"  -V, --version            version\n"
"\n"
"Exit status: 0 after q or when every report was printed; 1 on a usage or\n"
"configuration error, a bad domain, a lookup that could not start, or a\n"
"fleet database that cannot be read (--fleet --report).\n";

enum { OPT_DNS = 256, OPT_JOURNAL, OPT_UTC, OPT_REPORT, OPT_JSON, OPT_KEYS, OPT_FLEET };

/* usage_error - "mxtier: WHAT[ ARG] (see mxtier --help)" and the usage exit status */
static int
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "mxtier: %s%s%s (see mxtier --help)\n", what, arg ? " " : "",
		arg ? arg : "");
	return EXIT_USAGE;
}

/* parse_args - options into opts; *first is the first DOMAIN; 0 to go on, or -1 done */
static int
parse_args(int argc, char **argv, struct tui_opts *opts, int *first, bool *keys)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dns-server", required_argument, NULL, OPT_DNS },
		{ "journal", required_argument, NULL, OPT_JOURNAL },
		{ "utc", no_argument, NULL, OPT_UTC },
		{ "report", no_argument, NULL, OPT_REPORT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "keys", no_argument, NULL, OPT_KEYS },
		{ "fleet", no_argument, NULL, OPT_FLEET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opts->config_path = optarg;
			break;
		case OPT_DNS: {
			char	host[MX_IP_TEXT_MAX], why[80];
			int	port;

			if (!mx_endpoint_parse(optarg, 53, true, host, sizeof(host), &port,
					       why, sizeof(why))) {
				fprintf(stderr, "mxtier: --dns-server %s: %s\n", optarg, why);
				return EXIT_USAGE;
			}
			if (opts->ndns_servers == TUI_MAX_DNS_SERVERS) {
				fprintf(stderr, "mxtier: at most %d --dns-server options\n",
					TUI_MAX_DNS_SERVERS);
				return EXIT_USAGE;
			}
			opts->dns_servers[opts->ndns_servers++] = optarg;
			break;
		}
		case OPT_JOURNAL:
			if (optarg[0] == '\0')
				return usage_error("--journal needs a path", NULL);
			opts->journal_path = optarg;
			break;
		case OPT_UTC:
			opts->utc = true;
			break;
		case OPT_REPORT:
			opts->report = true;
			break;
		case OPT_JSON:
			opts->json = true;
			break;
		case OPT_KEYS:
			*keys = true;
			break;
		case OPT_FLEET:
			opts->fleet = true;
			break;
		case 'h':
			printf(usage_text, mx_config_default_path());
			return -1;
		case 'V':
			printf("mxtier %s\n", PACKAGE_VERSION);
			return -1;
		case ':':
			return usage_error("a value is missing after", argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	*first = optind;
	if (opts->json && !opts->report)
		return usage_error("--json goes with --report", NULL);
	if (opts->report && optind >= argc)
		return usage_error("--report needs at least one DOMAIN", NULL);
	if (opts->fleet && (opts->journal_path != NULL || opts->ndns_servers > 0))
		return usage_error("--fleet reads neither a journal nor DNS: drop --journal and "
				   "--dns-server", NULL);
	return 0;
}

/* print_json_object - one report object without its final newline (for arrays) */
static bool
print_json_object(FILE *out, const struct mx_domain_model *m)
{
	char   *buf = NULL;
	size_t	len = 0;
	FILE   *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		return false;
	mx_report_print_json(mem, m);
	if (fclose(mem) != 0) {
		free(buf);
		return false;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	fwrite(buf, 1, len, out);
	free(buf);
	return true;
}

/* run_report - --report: every domain's model, text or JSON */
static int
run_report(struct tui_model *m, char **domains, int n)
{
	int	i, status = 0, printed = 0;
	char	err[512];

	tui_model_open_journal(m);
	if (m->journal == NULL)
		fprintf(stderr, "mxtier: note: %s (no attempts shown)\n", m->journal_note);
	if (m->opts.json && n > 1)
		printf("[\n");
	for (i = 0; i < n; i++) {
		struct mx_domain_model dm;

		memset(&dm, 0, sizeof(dm));
		if (!tui_load_sync(m, domains[i], &dm, err, sizeof(err))) {
			fprintf(stderr, "mxtier: cannot look up %s: %s\n", domains[i], err);
			status = EXIT_USAGE;
			continue;
		}
		if (m->opts.json) {
			if (printed > 0)
				printf(",\n");
			if (!print_json_object(stdout, &dm))
				status = EXIT_USAGE;
			if (n == 1)
				printf("\n");
		} else {
			if (printed > 0)
				printf("\n");
			mx_report_print_text(stdout, &dm, m->opts.utc);
		}
		printed++;
		mx_domain_model_clear(&dm);
	}
	if (m->opts.json && n > 1)
		printf("\n]\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mxtier: cannot write the report\n");
		status = EXIT_USAGE;
	}
	return status;
}

/* run_fleet_report - --fleet --report: every domain across the fleet, text or JSON */
static int
run_fleet_report(struct tui_model *m, char **domains, int n)
{
	struct fleet_domain *d;
	PGconn *c;
	char	err[1024];
	int	i, v, status = 0;
	bool	timing = getenv("MXTIER_TIMING") != NULL;
	int64_t	t0 = mx_clock_mono_ms();

	/* the report may wait, but only so long: a database that is down is an error */
	if ((c = mx_fleetdb_connect(m->cfg->fleet.url, "mxtier", 5, err, sizeof(err))) == NULL ||
	    !mx_fleetdb_set_timeout(c, FLEET_TIMEOUT_MS, err, sizeof(err)) ||
	    !fleet_session(c, err, sizeof(err))) {
		fprintf(stderr, "mxtier: cannot read the fleet: %s\n", err);
		mx_fleetdb_close(c);
		return EXIT_USAGE;
	}
	if ((v = mx_fleetdb_version(c, err, sizeof(err))) <= 0) {
		if (v == 0)
			fprintf(stderr, "mxtier: cannot read the fleet: the fleet database has no "
				"fleet schema yet (mxtier-ship creates it)\n");
		else
			fprintf(stderr, "mxtier: cannot read the fleet: %s\n", err);
		mx_fleetdb_close(c);
		return EXIT_USAGE;
	}
	if ((d = fleet_domain_new()) == NULL) {
		fprintf(stderr, "mxtier: out of memory\n");
		mx_fleetdb_close(c);
		return EXIT_USAGE;
	}
	if (timing)
		fprintf(stderr, "mxtier: timing: connect %lld ms\n",
			(long long)(mx_clock_mono_ms() - t0));
	if (m->opts.json && n > 1)
		printf("[\n");
	for (i = 0; i < n; i++) {
		if (!fleet_load_domain(c, domains[i], mx_clock_wall_ms(), m->opts.utc, d, err,
				       sizeof(err))) {
			fprintf(stderr, "mxtier: cannot read the fleet for %s: %s\n", domains[i], err);
			status = EXIT_USAGE;
			break;
		}
		if (timing)
			fprintf(stderr, "mxtier: timing: %s %lld ms\n", domains[i],
				(long long)d->query_ms);
		if (m->opts.json) {
			if (i > 0)
				printf(",\n");
			fleet_report_json(stdout, d);
		} else {
			if (i > 0)
				printf("\n");
			fleet_report_text(stdout, d, mx_clock_wall_ms(), m->opts.utc);
		}
	}
	if (m->opts.json && n > 1 && status == 0)
		printf("]\n");
	fleet_domain_free(d);
	mx_fleetdb_close(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mxtier: cannot write the report\n");
		status = EXIT_USAGE;
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct tui_opts opts;
	struct mx_config cfg;
	struct tui_model model;
	char	err[512], (*names)[MX_DOMAIN_MAX + 1] = NULL;
	char  **list = NULL;
	const char *path;
	bool	keys = false;
	int	first = 0, rc, i, n;

	setlocale(LC_ALL, "");
	memset(&opts, 0, sizeof(opts));
	rc = parse_args(argc, argv, &opts, &first, &keys);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (keys) {
		tui_keys_print(stdout);
		return 0;
	}

	/* every DOMAIN is checked before anything starts */
	n = argc - first;
	if (n > TUI_MAX_DOMAINS) {
		fprintf(stderr, "mxtier: at most %d domains\n", TUI_MAX_DOMAINS);
		return EXIT_USAGE;
	}
	if (n > 0 && ((names = calloc((size_t)n, sizeof(*names))) == NULL ||
		      (list = calloc((size_t)n, sizeof(*list))) == NULL)) {
		fprintf(stderr, "mxtier: out of memory\n");
		free(names);
		return EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		char	why[256];

		if (mx_idn_domain(argv[first + i], names[i], sizeof(names[i]), why,
				  sizeof(why)) != MX_IDN_OK) {
			fprintf(stderr, "mxtier: bad domain \"%.300s\": %s\n", argv[first + i], why);
			free(names);
			free(list);
			return EXIT_USAGE;
		}
		list[i] = names[i];
	}

	path = opts.config_path != NULL ? opts.config_path : mx_config_default_path();
	if (!mx_config_load(path, opts.config_path != NULL, &cfg, err, sizeof(err))) {
		fprintf(stderr, "mxtier: bad configuration: %s\n", err);
		free(names);
		free(list);
		return EXIT_USAGE;
	}
	if (!tui_model_init(&model, &opts, &cfg, err, sizeof(err))) {
		fprintf(stderr, "mxtier: %s\n", err);
		tui_model_free(&model);
		mx_config_free(&cfg);
		free(names);
		free(list);
		return EXIT_USAGE;
	}

	if (opts.fleet && cfg.fleet.url[0] == '\0') {
		fprintf(stderr, "mxtier: --fleet needs fleet { url = \"postgresql://...\" } in %s\n",
			path);
		rc = EXIT_USAGE;
	} else if (opts.fleet && opts.report) {
		rc = run_fleet_report(&model, list, n);
	} else if (opts.report) {
		rc = run_report(&model, list, n);
	} else if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "mxtier: the interactive screen needs a terminal "
			"(--report prints without one)\n");
		rc = EXIT_USAGE;
	} else {
		for (i = 0; i < n; i++)
			tui_model_add_domain(&model, list[i], TUI_FROM_ARGS);
		if (!opts.fleet) {
			tui_model_open_journal(&model);
			rc = tui_app_run(&model);
		} else if (!tui_model_fleet(&model, cfg.fleet.url, err, sizeof(err))) {
			fprintf(stderr, "mxtier: %s\n", err);
			rc = EXIT_USAGE;
		} else {
			rc = tui_app_run(&model);
		}
	}
	tui_model_free(&model);
	mx_config_free(&cfg);
	free(names);
	free(list);
	return rc;
}
