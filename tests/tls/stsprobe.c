/*
 * stsprobe - drive shared/stsfetch against real servers (tests/tls/stsfetch.sh)
 *
 * SYNOPSIS
 *	stsprobe [-c CAFILE] [-p PORT] [-t TIMEOUT_MS] [-m MAX_SIZE]
 *		 fetch DOMAIN ADDR[,ADDR...]
 *	stsprobe [-c CAFILE] [-p PORT] [-t TIMEOUT_MS] [-m MAX_SIZE]
 *		 [-j JOURNAL] [-d DNS_SERVER] [-n NOW_MS] [-F] [-s STATUS] [-r RECORDS]
 *		 obtain DOMAIN TXT
 *
 * DESCRIPTION
 *	fetch calls mx_sts_fetch() for https://mta-sts.DOMAIN:PORT/ at the
 *	given addresses and prints one line:
 *	    fetched mode=M max_age=N mx=P1,P2
 *	    failure=TYPE why=WORDS
 *	obtain fills a struct mx_dns_result by hand (sts_status STATUS,
 *	default ok; sts_txt TXT; sts_records RECORDS, default 1, or 0 when TXT
 *	is empty), resolves mta-sts.DOMAIN through DNS_SERVER with mxtier's
 *	resolver, and calls mx_sts_obtain() with the journal at JOURNAL (none
 *	without -j) at NOW_MS (default: the clock); -F is cache only
 *	(may_fetch false). It prints one line:
 *	    applies=yes|no fetched=yes|no failure=TYPE|- mode=M id=I max_age=N mx=P1,P2 note=WORDS
 *	Exit status 0 when the call ran (whatever it found), 2 on bad usage,
 *	1 when the journal cannot be opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "dnsdata.h"
#include "journal.h"
#include "resolve.h"
#include "sts.h"
#include "stsfetch.h"

/* usage - say how to call it and exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: stsprobe [-c CAFILE] [-p PORT] [-t MS] [-m SIZE] fetch DOMAIN ADDR[,ADDR]\n"
		"       stsprobe [...] [-j JOURNAL] [-d DNS] [-n NOW_MS] [-F] [-s STATUS] [-r N] "
		"obtain DOMAIN TXT\n");
	exit(2);
}

/* print_mx - the patterns joined with "," */
static void
print_mx(const struct mx_sts_policy *p)
{
	size_t	i;

	printf(" mx=");
	for (i = 0; i < p->nmx; i++)
		printf("%s%s", i > 0 ? "," : "", p->mx[i]);
}

/* status_of - a dns status from its name */
static enum mx_dns_status
status_of(const char *name)
{
	enum mx_dns_status s;

	for (s = MX_DNS_PENDING; s <= MX_DNS_FAIL; s++)
		if (strcmp(mx_dns_status_name(s), name) == 0)
			return s;
	fprintf(stderr, "stsprobe: unknown DNS status %s\n", name);
	exit(2);
}

/* do_fetch - the fetch command */
static int
do_fetch(const struct mx_sts_fetch_opts *fo, const char *domain, char *addrs)
{
	struct mx_ip ips[8];
	struct mx_sts_policy p;
	enum mx_sts_fetch_result r;
	char	why[400], *a, *save = NULL;
	size_t	n = 0;

	for (a = strtok_r(addrs, ",", &save); a != NULL && n < 8; a = strtok_r(NULL, ",", &save))
		if (!mx_ip_parse(a, &ips[n++])) {
			fprintf(stderr, "stsprobe: not an address: %s\n", a);
			return 2;
		}
	memset(&p, 0, sizeof(p));
	r = mx_sts_fetch(fo, domain, ips, n, &p, why, sizeof(why));
	if (r == MX_STS_FETCHED) {
		printf("fetched mode=%s max_age=%lld", mx_sts_mode_name(p.mode),
		       (long long)p.max_age);
		print_mx(&p);
		printf("\n");
	} else
		printf("failure=%s why=%s\n", mx_sts_fetch_failure_name(r), why);
	return 0;
}

int
main(int argc, char **argv)
{
	struct mx_sts_fetch_opts fo = { .timeout_ms = 10000, .max_size = 65536, .port = 443 };
	struct mx_resolver_opts ro = { .timeout_ms = 1000, .tries = 2, .max_mx_records = 10 };
	struct mx_journal *j = NULL;
	struct mx_dns_result *dns;
	struct mx_sts_state st;
	const char *jpath = NULL, *status = "ok";
	char   *servers[1], err[300];
	int64_t	now = mx_clock_wall_ms();
	int	c, records = -1;
	bool	may_fetch = true;

	while ((c = getopt(argc, argv, "c:p:t:m:j:d:n:Fs:r:")) != -1) {
		switch (c) {
		case 'c': fo.ca_file = optarg; break;
		case 'p': fo.port = atoi(optarg); break;
		case 't': fo.timeout_ms = atoi(optarg); break;
		case 'm': fo.max_size = (size_t)strtoul(optarg, NULL, 10); break;
		case 'j': jpath = optarg; break;
		case 'd': servers[0] = optarg; ro.servers = servers; ro.nservers = 1; break;
		case 'n': now = strtoll(optarg, NULL, 10); break;
		case 'F': may_fetch = false; break;
		case 's': status = optarg; break;
		case 'r': records = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 3 && strcmp(argv[0], "fetch") == 0)
		return do_fetch(&fo, argv[1], argv[2]);
	if (argc != 3 || strcmp(argv[0], "obtain") != 0)
		usage();

	if (!mx_resolver_library_init(err, sizeof(err))) {
		fprintf(stderr, "stsprobe: %s\n", err);
		return 1;
	}
	if (jpath != NULL && (j = mx_journal_open(jpath, false, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stsprobe: %s\n", err);
		return 1;
	}
	if ((dns = mx_dns_result_new(argv[1])) == NULL)
		return 1;
	dns->sts_status = status_of(status);
	snprintf(dns->sts_txt, sizeof(dns->sts_txt), "%s", argv[2]);
	dns->sts_records = records >= 0 ? records : argv[2][0] != '\0';
	mx_sts_obtain(j, &ro, &fo, dns, now, may_fetch, &st);
	printf("applies=%s fetched=%s failure=%s mode=%s id=%s max_age=%lld",
	       st.applies ? "yes" : "no", st.fetched ? "yes" : "no",
	       st.failure[0] != '\0' ? st.failure : "-",
	       st.applies ? mx_sts_mode_name(st.policy.mode) : "-",
	       st.applies ? st.policy.id : "-", (long long)st.policy.max_age);
	print_mx(&st.policy);
	printf(" note=%s\n", st.note);
	mx_dns_result_free(dns);
	mx_journal_close(j);
	return 0;
}
