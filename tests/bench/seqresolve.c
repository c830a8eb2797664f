/*
 * seqresolve - resolve a mail domain one query at a time, as a naive resolver does
 *
 *	seqresolve SERVER_IP PORT DOMAIN
 *
 * The baseline of tests/bench/route-bench.sh: the MX query, wait for its
 * answer, then for each exchange in turn an A query, wait, an AAAA query,
 * wait. Exactly one query is in flight at any time, so a domain with N
 * exchanges costs 1 + 2N round trips, against the 2 that are the limit for
 * a resolver asking all the address queries at once. c-ares (1.18) from a
 * select() loop, one try per query, 2 s timeout, no search domains.
 *
 * Prints "DOMAIN: N exchanges, M addresses" and exits 0. On any failure it
 * prints an error on stderr and exits 1; an exchange without A or AAAA
 * records (NODATA) only counts as having no address of that family.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/select.h>		/* before ares.h, which uses fd_set */

#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_ADDRS 64		/* addresses taken from one answer */

/* The one query in flight and what came of it. */
struct step {
	int	qtype;
	int	done;
	int	status;
	struct ares_mx_reply *mx;	/* MX: the exchanges */
	int	naddrs;			/* A, AAAA: the addresses */
};

/* on_answer - c-ares callback: parse the answer into the step */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct step *s = arg;
	struct ares_addrttl a4[MAX_ADDRS];
	struct ares_addr6ttl a6[MAX_ADDRS];

	(void)timeouts;
	s->done = 1;
	s->naddrs = MAX_ADDRS;
	if (status == ARES_SUCCESS && s->qtype == ns_t_mx)
		status = ares_parse_mx_reply(abuf, alen, &s->mx);
	else if (status == ARES_SUCCESS && s->qtype == ns_t_a)
		status = ares_parse_a_reply(abuf, alen, NULL, a4, &s->naddrs);
	else if (status == ARES_SUCCESS)
		status = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &s->naddrs);
	if (status != ARES_SUCCESS)
		s->naddrs = 0;
	if (status == ARES_ENODATA && s->qtype != ns_t_mx)
		status = ARES_SUCCESS;	/* no address of this family */
	s->status = status;
}

/* ask - send one query and wait for its outcome; 0 on success */
static int
ask(ares_channel ch, const char *name, int qtype, struct step *s)
{
	memset(s, 0, sizeof(*s));
	s->qtype = qtype;
	ares_query(ch, name, ns_c_in, qtype, on_answer, s);
	while (!s->done) {
		fd_set	r, w;
		struct timeval tv, *tvp;
		int	nfds;

		FD_ZERO(&r);
		FD_ZERO(&w);
		nfds = ares_fds(ch, &r, &w);
		if (nfds == 0)
			break;		/* nothing to wait for: cannot happen */
		tvp = ares_timeout(ch, NULL, &tv);
		if (select(nfds, &r, &w, NULL, tvp) < 0 && errno != EINTR) {
			perror("seqresolve: select");
			return -1;
		}
		ares_process(ch, &r, &w);
	}
	if (!s->done || s->status != ARES_SUCCESS) {
		fprintf(stderr, "seqresolve: %s %s: %s\n", name,
			qtype == ns_t_mx ? "MX" : qtype == ns_t_a ? "A" : "AAAA",
			s->done ? ares_strerror(s->status) : "query never finished");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ares_options opts;
	struct ares_mx_reply *mx, *ex;
	struct step s;
	ares_channel ch;
	char	csv[128];
	int	rc, nex = 0, naddrs = 0, status = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: seqresolve SERVER_IP PORT DOMAIN\n");
		return 1;
	}
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		fprintf(stderr, "seqresolve: c-ares: %s\n", ares_strerror(rc));
		return 1;
	}
	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	opts.timeout = 2000;
	opts.tries = 1;
	rc = ares_init_options(&ch, &opts, ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		fprintf(stderr, "seqresolve: c-ares: %s\n", ares_strerror(rc));
		ares_library_cleanup();
		return 1;
	}
	snprintf(csv, sizeof(csv), strchr(argv[1], ':') ? "[%s]:%s" : "%s:%s", argv[1], argv[2]);
	if ((rc = ares_set_servers_ports_csv(ch, csv)) != ARES_SUCCESS) {
		fprintf(stderr, "seqresolve: bad server \"%s\": %s\n", csv, ares_strerror(rc));
		goto out;
	}
	if (ask(ch, argv[3], ns_t_mx, &s) != 0)
		goto out;
	mx = s.mx;
	for (ex = mx; ex != NULL; ex = ex->next) {
		if (ask(ch, ex->host, ns_t_a, &s) != 0)
			break;
		naddrs += s.naddrs;
		if (ask(ch, ex->host, ns_t_aaaa, &s) != 0)
			break;
		naddrs += s.naddrs;
		nex++;
	}
	if (ex == NULL) {
		printf("%s: %d exchanges, %d addresses\n", argv[3], nex, naddrs);
		status = fflush(stdout) == 0 ? 0 : 1;
	}
	ares_free_data(mx);
out:
	ares_destroy(ch);
	ares_library_cleanup();
	return status;
}
