/*
 * fuzz_config - libFuzzer target for mx_config_load_buf() (libconfuse)
 *
 * The input, cut at its first NUL, is the text of an mxtier.conf. It is
 * loaded twice: libconfuse keeps lexer state in globals, and the second
 * load must give the same outcome as the first. Every load is freed with
 * mx_config_free() (a failed load has freed itself; freeing it again must
 * be harmless). Rules checked (abort() on any broken one):
 *   - a failure leaves a message "fuzz.conf:LINE: ..." or "fuzz.conf: ..."
 *     and nothing allocated in the struct
 *   - a success holds only what mxtier.conf(5) allows: every number in its
 *     range, every word a known one, every server an IP endpoint, every
 *     network a parsed network, every local name a normal domain name,
 *     every relay a host or IP endpoint, helo_name empty or a normal name,
 *     absolute paths
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "domain.h"

#define NAME "fuzz.conf"

/* check - abort with a message when a rule is broken */
#define check(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_config: broken rule: %s\n", #cond); \
		abort(); \
	} \
} while (0)

#define in_range(v, lo, hi) ((v) >= (lo) && (v) <= (hi))

/* check_networks - every network parsed: a family and a prefix that fits it */
static void
check_networks(const struct mx_cidr *v, size_t n)
{
	size_t	i;

	check(n == 0 || v != NULL);
	for (i = 0; i < n; i++) {
		check(v[i].net.family == AF_INET || v[i].net.family == AF_INET6);
		check(in_range(v[i].prefix, 0, v[i].net.family == AF_INET ? 32 : 128));
	}
}

/* check_normal - name is a domain name in its normal form */
static void
check_normal(const char *name)
{
	char	norm[MX_DOMAIN_MAX + 1], why[160];

	check(mx_domain_normalise(name, norm, sizeof(norm), why, sizeof(why)));
	check(strcmp(norm, name) == 0);
}

/* check_loaded - what a successful load may hold */
static void
check_loaded(const struct mx_config *c)
{
	char	host[MX_DOMAIN_MAX + 1], norm[MX_DOMAIN_MAX + 1], why[160];
	struct mx_ip ip;
	size_t	i;
	int	port;

	check(strcmp(c->source, NAME) == 0);
	check(c->resolver.nservers == 0 || c->resolver.servers != NULL);
	for (i = 0; i < c->resolver.nservers; i++)
		check(mx_endpoint_parse(c->resolver.servers[i], 53, true, host, sizeof(host),
					&port, why, sizeof(why)));
	check(in_range(c->resolver.timeout, 1, 300));
	check(in_range(c->resolver.tries, 1, 10));

	check(in_range((int)c->policy.cname_targets, 0, 1));
	check(in_range((int)c->policy.address_preference, 0, 2));
	check(in_range((int)c->policy.inet_protocols, 0, 2));
	check(in_range((int)c->policy.loop_action, 0, 1));
	check(in_range(c->policy.max_addresses, 1, 100));
	check(in_range(c->policy.max_sessions, 1, 100));
	check(in_range(c->policy.max_mx_records, 1, 1000));
	check_networks(c->policy.ignore_networks, c->policy.nignore_networks);
	check_networks(c->policy.local_addresses, c->policy.nlocal_addresses);
	check(c->policy.nlocal_names == 0 || c->policy.local_names != NULL);
	for (i = 0; i < c->policy.nlocal_names; i++)
		check_normal(c->policy.local_names[i]);

	check(in_range((int)c->fallback, 0, 2));
	check(c->nfallback_relay == 0 || c->fallback_relay != NULL);
	for (i = 0; i < c->nfallback_relay; i++) {
		check(mx_endpoint_parse(c->fallback_relay[i], 25, false, host, sizeof(host),
					&port, why, sizeof(why)));
		check(mx_ip_parse(host, &ip) ||
		      mx_domain_normalise(host, norm, sizeof(norm), why, sizeof(why)));
	}

	check(in_range(c->smtp.port, 1, 65535));
	check(memchr(c->smtp.helo_name, '\0', sizeof(c->smtp.helo_name)) != NULL);
	if (c->smtp.helo_name[0] != '\0')
		check_normal(c->smtp.helo_name);
	check(in_range((int)c->smtp.tls_level, MX_TLS_NONE, MX_TLS_DANE_ONLY));
	check(c->policy.tls_level == c->smtp.tls_level);
	check(memchr(c->tls.ca_file, '\0', sizeof(c->tls.ca_file)) != NULL);
	check(c->tls.ca_file[0] == '\0' || c->tls.ca_file[0] == '/');
	check(c->tls.min_version >= 0x0301 && c->tls.min_version <= 0x0304);
	check(in_range(c->tls.mta_sts_timeout, 1, 300));
	check(in_range(c->smtp.connect_timeout, 1, 3600));
	check(in_range(c->smtp.greeting_timeout, 1, 3600));
	check(in_range(c->smtp.helo_timeout, 1, 3600));
	check(in_range(c->smtp.starttls_timeout, 1, 3600));
	check(in_range(c->smtp.mail_timeout, 1, 3600));
	check(in_range(c->smtp.rcpt_timeout, 1, 3600));
	check(in_range(c->smtp.data_timeout, 1, 3600));
	check(in_range(c->smtp.data_transfer_timeout, 1, 3600));
	check(in_range(c->smtp.data_done_timeout, 1, 3600));
	check(in_range(c->smtp.quit_timeout, 1, 3600));
	check(in_range(c->smtp.time_limit, 10, 86400));
	check(in_range(c->backoff_initial, 1, 86400));
	check(in_range(c->backoff_max, 1, 604800));
	check(c->spool.memory_limit <= 1073741824);
	check(c->spool.directory[0] == '/');
	check(memchr(c->spool.directory, '\0', sizeof(c->spool.directory)) != NULL);
	check(c->journal.path[0] == '/');
	check(memchr(c->journal.path, '\0', sizeof(c->journal.path)) != NULL);
	check(in_range(c->journal.retention, 60, 315360000));
}

/* check_freed - nothing left allocated in a failed load */
static void
check_freed(const struct mx_config *c)
{
	check(c->resolver.servers == NULL && c->resolver.nservers == 0);
	check(c->fallback_relay == NULL && c->nfallback_relay == 0);
	check(c->policy.ignore_networks == NULL && c->policy.nignore_networks == 0);
	check(c->policy.local_names == NULL && c->policy.nlocal_names == 0);
	check(c->policy.local_addresses == NULL && c->policy.nlocal_addresses == 0);
}

/* load - one load and its checks; returns the outcome, the message in err */
static bool
load(const char *text, char *err, size_t errlen)
{
	struct mx_config cfg;
	bool	ok;

	memset(&cfg, 0xa5, sizeof(cfg));	/* the load must not rely on a clean struct */
	ok = mx_config_load_buf(text, NAME, &cfg, err, errlen);
	check(memchr(err, '\0', errlen) != NULL);
	if (ok) {
		check_loaded(&cfg);
	} else {
		check(strncmp(err, NAME ":", strlen(NAME ":")) == 0);
		check(strlen(err) > strlen(NAME ":"));
		check_freed(&cfg);
	}
	mx_config_free(&cfg);
	mx_config_free(&cfg);		/* freeing twice is harmless */
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char   *text, err1[512], err2[512];
	bool	ok1, ok2;

	if (size > 16384)		/* real files are a few kilobytes */
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ok1 = load(text, err1, sizeof(err1));
	ok2 = load(text, err2, sizeof(err2));
	check(ok1 == ok2);
	if (!ok1 && strcmp(err1, err2) != 0) {
		fprintf(stderr, "fuzz_config: first load: %s\nsecond load: %s\n", err1, err2);
		check(!"the same text loads differently the second time");
	}
	free(text);
	return 0;
}
