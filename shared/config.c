/*
 * config - the mxtier.conf file (see config.h)
 *
 * libconfuse reads the syntax; this module adds what it leaves out. It reads
 * the file itself, so that a missing file can be told from an unreadable one.
 * It checks every value while libconfuse parses it, so that a message carries
 * the value's line, and it rewrites libconfuse's terse errors into sentences
 * that say what was expected. A small scan of the text, done before the
 * parse, finds what libconfuse silently accepts at the end of a file (a
 * section, list, quoted string or comment that is never closed) and blanks
 * out the comments, which libconfuse 3.3 miscounts lines for. Only then are
 * the values copied into a plain struct mx_config.
 *
 * libconfuse's scanner keeps global state and its callbacks carry no user
 * data, so the load in progress sits in one static pointer: loads must not
 * run in two threads at once.
 */
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "config.h"
#include "domain.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

#define DEFAULT_PATH	SYSCONFDIR "/mxtier/mxtier.conf"
#define DEFAULT_JOURNAL	LOCALSTATEDIR "/lib/mxtier/journal.db"
#define DEFAULT_TIMEOUT	5
#define DEFAULT_TRIES	2
#define DNS_PORT	53
#define SMTP_PORT	25
#define MAX_FILE_BYTES	(1024 * 1024)	/* no real mxtier.conf comes near this */

#define SCAN_DEPTH	8
#define SCAN_WORD	64
#define SCAN_NAME	(2 * SCAN_WORD + 2)
#define SCAN_TOP	16

/* The words of each enumerated key; a word's index is its enum value. */
static const char *const fallback_words[] = { "postfix", "greeting", "qmail", NULL };
static const char *const cname_words[] = { "lenient", "strict", NULL };
static const char *const addrpref_words[] = { "any", "ipv4", "ipv6", NULL };
static const char *const inet_words[] = { "all", "ipv4", "ipv6", NULL };
static const char *const loop_words[] = { "defer", "bounce", NULL };
static const char *const starttls_words[] = { "none", "opportunistic", "require", NULL };
static const char *const tls_level_words[] = { "none", "may", "encrypt", "verify", "secure",
	"dane", "dane-only", NULL };
static const char *const tls_version_words[] = { "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL };
static const int tls_versions[] = { 0x0301, 0x0302, 0x0303, 0x0304 };	/* OpenSSL's TLS1_*_VERSION */
/* what the older smtp.starttls words mean as levels */
static const enum mx_tls_level starttls_levels[] = { MX_TLS_NONE, MX_TLS_MAY, MX_TLS_ENCRYPT };

/* How a key's value is checked. */
enum check {
	CHECK_WORD,		/* one of words */
	CHECK_INT,		/* min..max */
	CHECK_BOOL,
	CHECK_SERVER,		/* IP address with optional port */
	CHECK_NETWORK,		/* ADDR/LEN or ADDR */
	CHECK_DOMAIN,		/* a domain name */
	CHECK_RELAY,		/* host name or IP address with optional port */
	CHECK_HELO,		/* empty or a host name */
	CHECK_PATH,		/* an absolute path */
	CHECK_OPTPATH,		/* empty, or an absolute path */
	CHECK_FLEET_URL,	/* a postgresql:// or postgres:// URI */
	CHECK_NODE		/* a fleet node name */
};

struct rule {
	const char *section;
	const char *key;
	enum check check;
	const char *const *words;	/* CHECK_WORD */
	long	min, max;		/* CHECK_INT */
	const char *unit;		/* CHECK_INT: appended to the range */
};

static const struct rule rules[] = {
	{ "resolver", "servers", CHECK_SERVER, NULL, 0, 0, NULL },
	{ "resolver", "timeout", CHECK_INT, NULL, 1, 300, " seconds" },
	{ "resolver", "tries", CHECK_INT, NULL, 1, 10, "" },
	{ "resolver", "trusted", CHECK_SERVER, NULL, 0, 0, NULL },
	{ "policy", "fallback", CHECK_WORD, fallback_words, 0, 0, NULL },
	{ "policy", "cname_targets", CHECK_WORD, cname_words, 0, 0, NULL },
	{ "policy", "randomize_addresses", CHECK_BOOL, NULL, 0, 0, NULL },
	{ "policy", "address_preference", CHECK_WORD, addrpref_words, 0, 0, NULL },
	{ "policy", "inet_protocols", CHECK_WORD, inet_words, 0, 0, NULL },
	{ "policy", "max_addresses", CHECK_INT, NULL, 1, 100, "" },
	{ "policy", "max_sessions", CHECK_INT, NULL, 1, 100, "" },
	{ "policy", "max_mx_records", CHECK_INT, NULL, 1, 1000, "" },
	{ "policy", "ignore_networks", CHECK_NETWORK, NULL, 0, 0, NULL },
	{ "policy", "local_names", CHECK_DOMAIN, NULL, 0, 0, NULL },
	{ "policy", "local_addresses", CHECK_NETWORK, NULL, 0, 0, NULL },
	{ "policy", "fallback_relay", CHECK_RELAY, NULL, 0, 0, NULL },
	{ "policy", "loop_action", CHECK_WORD, loop_words, 0, 0, NULL },
	{ "smtp", "port", CHECK_INT, NULL, 1, 65535, "" },
	{ "smtp", "helo_name", CHECK_HELO, NULL, 0, 0, NULL },
	{ "smtp", "starttls", CHECK_WORD, starttls_words, 0, 0, NULL },
	{ "smtp", "tls_level", CHECK_WORD, tls_level_words, 0, 0, NULL },
	{ "smtp", "connect_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "greeting_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "helo_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "starttls_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "mail_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "rcpt_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "data_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "data_transfer_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "data_done_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "quit_timeout", CHECK_INT, NULL, 1, 3600, " seconds" },
	{ "smtp", "time_limit", CHECK_INT, NULL, 10, 86400, " seconds" },
	{ "policy", "backoff_initial", CHECK_INT, NULL, 1, 86400, " seconds" },
	{ "policy", "backoff_max", CHECK_INT, NULL, 1, 604800, " seconds" },
	{ "policy", "fleet_backoff", CHECK_BOOL, NULL, 0, 0, NULL },
	{ "spool", "memory_limit", CHECK_INT, NULL, 0, 1073741824, " bytes" },
	{ "spool", "directory", CHECK_PATH, NULL, 0, 0, NULL },
	{ "journal", "path", CHECK_PATH, NULL, 0, 0, NULL },
	{ "journal", "retention", CHECK_INT, NULL, 60, 315360000, " seconds" },
	{ "tls", "ca_file", CHECK_OPTPATH, NULL, 0, 0, NULL },
	{ "tls", "ca_path", CHECK_OPTPATH, NULL, 0, 0, NULL },
	{ "tls", "min_version", CHECK_WORD, tls_version_words, 0, 0, NULL },
	{ "tls", "mta_sts", CHECK_BOOL, NULL, 0, 0, NULL },
	{ "tls", "mta_sts_timeout", CHECK_INT, NULL, 1, 300, " seconds" },
	{ "tls", "mta_sts_max_size", CHECK_INT, NULL, 1024, 1048576, " bytes" },
	{ "fleet", "url", CHECK_FLEET_URL, NULL, 0, 0, NULL },
	{ "fleet", "node", CHECK_NODE, NULL, 0, 0, NULL },
};

static int parse_int(cfg_t *, cfg_opt_t *, const char *, void *);
static int parse_bool(cfg_t *, cfg_opt_t *, const char *, void *);

/* The libconfuse tables: the keys and their defaults (see mxtier.conf(5)). */
static cfg_opt_t resolver_opts[] = {
	CFG_STR_LIST("servers", "{}", CFGF_NONE),
	CFG_INT_CB("timeout", DEFAULT_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("tries", DEFAULT_TRIES, CFGF_NONE, parse_int),
	CFG_STR_LIST("trusted", "{}", CFGF_NONE),
	CFG_END()
};

static cfg_opt_t policy_opts[] = {
	CFG_STR("fallback", "postfix", CFGF_NONE),
	CFG_STR("cname_targets", "lenient", CFGF_NONE),
	CFG_BOOL_CB("randomize_addresses", cfg_false, CFGF_NONE, parse_bool),
	CFG_STR("address_preference", "any", CFGF_NONE),
	CFG_STR("inet_protocols", "all", CFGF_NONE),
	CFG_INT_CB("max_addresses", 5, CFGF_NONE, parse_int),
	CFG_INT_CB("max_sessions", 2, CFGF_NONE, parse_int),
	CFG_INT_CB("max_mx_records", MX_MAX_MX_DEFAULT, CFGF_NONE, parse_int),
	CFG_STR_LIST("ignore_networks",
		     "{\"0.0.0.0/8\", \"127.0.0.0/8\", \"::1/128\", \"::/128\"}", CFGF_NONE),
	CFG_STR_LIST("local_names", "{}", CFGF_NONE),
	CFG_STR_LIST("local_addresses", "{}", CFGF_NONE),
	CFG_STR_LIST("fallback_relay", "{}", CFGF_NONE),
	CFG_STR("loop_action", "defer", CFGF_NONE),
	CFG_INT_CB("backoff_initial", MX_DEFAULT_BACKOFF_INITIAL, CFGF_NONE, parse_int),
	CFG_INT_CB("backoff_max", MX_DEFAULT_BACKOFF_MAX, CFGF_NONE, parse_int),
	CFG_BOOL_CB("fleet_backoff", cfg_false, CFGF_NONE, parse_bool),
	CFG_END()
};

static cfg_opt_t smtp_opts[] = {
	CFG_INT_CB("port", SMTP_PORT, CFGF_NONE, parse_int),
	CFG_STR("helo_name", "", CFGF_NONE),
	CFG_STR("starttls", NULL, CFGF_NODEFAULT),
	CFG_STR("tls_level", NULL, CFGF_NODEFAULT),
	CFG_INT_CB("connect_timeout", MX_DEFAULT_CONNECT_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("greeting_timeout", MX_DEFAULT_GREETING_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("helo_timeout", MX_DEFAULT_HELO_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("starttls_timeout", MX_DEFAULT_STARTTLS_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("mail_timeout", MX_DEFAULT_MAIL_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("rcpt_timeout", MX_DEFAULT_RCPT_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("data_timeout", MX_DEFAULT_DATA_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("data_transfer_timeout", MX_DEFAULT_DATA_TRANSFER_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("data_done_timeout", MX_DEFAULT_DATA_DONE_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("quit_timeout", MX_DEFAULT_QUIT_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("time_limit", MX_DEFAULT_TIME_LIMIT, CFGF_NONE, parse_int),
	CFG_END()
};

static cfg_opt_t spool_opts[] = {
	CFG_INT_CB("memory_limit", MX_DEFAULT_SPOOL_MEMORY, CFGF_NONE, parse_int),
	CFG_STR("directory", MX_DEFAULT_SPOOL_DIR, CFGF_NONE),
	CFG_END()
};

static cfg_opt_t journal_opts[] = {
	CFG_STR("path", DEFAULT_JOURNAL, CFGF_NONE),
	CFG_INT_CB("retention", MX_DEFAULT_RETENTION, CFGF_NONE, parse_int),
	CFG_END()
};

static cfg_opt_t tls_opts[] = {
	CFG_STR("ca_file", "", CFGF_NONE),
	CFG_STR("ca_path", "", CFGF_NONE),
	CFG_STR("min_version", "TLSv1.2", CFGF_NONE),
	CFG_BOOL_CB("mta_sts", cfg_true, CFGF_NONE, parse_bool),
	CFG_INT_CB("mta_sts_timeout", MX_DEFAULT_STS_TIMEOUT, CFGF_NONE, parse_int),
	CFG_INT_CB("mta_sts_max_size", MX_DEFAULT_STS_MAX_SIZE, CFGF_NONE, parse_int),
	CFG_END()
};

static cfg_opt_t fleet_opts[] = {
	CFG_STR("url", "", CFGF_NONE),
	CFG_STR("node", "", CFGF_NONE),	/* "" = the short host name */
	CFG_END()
};

static cfg_opt_t root_opts[] = {
	CFG_SEC("resolver", resolver_opts, CFGF_NONE),
	CFG_SEC("policy", policy_opts, CFGF_NONE),
	CFG_SEC("smtp", smtp_opts, CFGF_NONE),
	CFG_SEC("spool", spool_opts, CFGF_NONE),
	CFG_SEC("journal", journal_opts, CFGF_NONE),
	CFG_SEC("tls", tls_opts, CFGF_NONE),
	CFG_SEC("fleet", fleet_opts, CFGF_NONE),
	CFG_END()
};

#define NSECTIONS	(sizeof(root_opts) / sizeof(root_opts[0]) - 1)

/* A "{" the scan has seen open and not yet close. */
struct scan_open {
	int	line;
	bool	list;			/* a list value, not a section */
	char	name[SCAN_NAME];	/* "policy", or "policy.ignore_networks" */
};

/* What the scan of the text found. */
struct scan {
	struct scan_open open[SCAN_DEPTH];
	int	depth;			/* may exceed SCAN_DEPTH; only those are kept */
	int	bad_line;		/* a string or comment opened here never ends */
	const char *bad_what;
	char	prev[SCAN_WORD];	/* the last token, and the one before */
	char	prev2[SCAN_WORD];
	struct {
		char	name[SCAN_WORD];
		int	line;
	}	top[SCAN_TOP];		/* top-level sections, in order */
	size_t	ntop;
};

/* The load in progress. */
struct load {
	const char *name;		/* file name for messages */
	char   *err;
	size_t	errlen;
	bool	failed;			/* a message is in err */
	bool	at_eof;			/* libconfuse's error was about the end of file */
	unsigned seen[NSECTIONS];	/* how often each section was given */
	struct scan scan;
};

static struct load *loading;		/* for libconfuse's callbacks */

/* vsay - record the first error as "NAME:LINE: message" ("NAME: message" without a line) */
static void
vsay(struct load *ld, int line, const char *fmt, va_list ap)
{
	int	n;

	if (ld == NULL || ld->failed)
		return;
	ld->failed = true;
	if (ld->err == NULL || ld->errlen == 0)
		return;
	if (line > 0)
		n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->name, line);
	else
		n = snprintf(ld->err, ld->errlen, "%s: ", ld->name);
	if (n >= 0 && (size_t)n < ld->errlen)
		vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
}

/* say - record the first error */
static void __attribute__((format(printf, 3, 4)))
say(struct load *ld, int line, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsay(ld, line, fmt, ap);
	va_end(ap);
}

/* word_index - position of s in a NULL-terminated word list, or -1 */
static int
word_index(const char *const *words, const char *s)
{
	int	i;

	for (i = 0; s != NULL && words[i] != NULL; i++)
		if (strcmp(words[i], s) == 0)
			return i;
	return -1;
}

/* word_value - the enum value of an already checked word */
static int
word_value(const char *const *words, const char *s)
{
	int	i = word_index(words, s);

	return i < 0 ? 0 : i;
}

/* join_words - "a, b, c" into buf */
static const char *
join_words(const char *const *words, char *buf, size_t len)
{
	size_t	used = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; words[i] != NULL && used < len; i++) {
		int	n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", words[i]);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* join_keys - the option names of a table, "a, b, c", into buf */
static const char *
join_keys(const cfg_opt_t *opts, char *buf, size_t len)
{
	size_t	used = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; opts[i].name != NULL && used < len; i++) {
		int	n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", opts[i].name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* is_root - is this libconfuse section the top level of the file */
static bool
is_root(cfg_t *cfg)
{
	return strcmp(cfg_name(cfg), "root") == 0;
}

/* is_identifier - does s look like a key or section name */
static bool
is_identifier(const char *s)
{
	size_t	i;

	if (s == NULL || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
			   s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* rule_for - the rule of a key; section NULL means any section */
static const struct rule *
rule_for(const char *section, const char *key)
{
	size_t	i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if ((section == NULL || strcmp(rules[i].section, section) == 0) &&
		    strcmp(rules[i].key, key) == 0)
			return &rules[i];
	return NULL;
}

/* section_index - position of a section in root_opts, or -1 */
static int
section_index(const char *name)
{
	size_t	i;

	for (i = 0; i < NSECTIONS; i++)
		if (strcmp(root_opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* misplaced - report a key reached from the top level ("policy|fallback = ...") */
static bool
misplaced(cfg_t *cfg, const char *key)
{
	const struct rule *r;

	if (!is_root(cfg))
		return false;
	r = rule_for(NULL, key);
	say(loading, cfg->line, "%s must be written inside its section, as %s { %s = ... }",
	    key, r ? r->section : "its", key);
	return true;
}

/* check_endpoint - an "ADDR[:PORT]" resolver or "HOST[:PORT]" relay */
static bool
check_endpoint(cfg_t *cfg, const struct rule *r, const char *v)
{
	char	host[MX_DOMAIN_MAX + 1], norm[MX_DOMAIN_MAX + 1], why[160];
	struct mx_ip ip;
	int	port;

	if (r->check == CHECK_SERVER) {
		if (mx_endpoint_parse(v, DNS_PORT, true, host, sizeof(host), &port,
				      why, sizeof(why)))
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not valid: %s; expected an IP "
		    "address with an optional port: ADDRESS, ADDRESS:PORT or [IPV6]:PORT",
		    r->section, r->key, v, why);
		return false;
	}
	if (mx_endpoint_parse(v, SMTP_PORT, false, host, sizeof(host), &port,
			      why, sizeof(why)) &&
	    (mx_ip_parse(host, &ip) ||
	     mx_domain_normalise(host, norm, sizeof(norm), why, sizeof(why))))
		return true;
	say(loading, cfg->line, "%s.%s: \"%s\" is not valid: %s; expected a host name or "
	    "IP address with an optional port: HOST, HOST:PORT or [IPV6]:PORT",
	    r->section, r->key, v, why);
	return false;
}

/* fleet_url_scheme - does url start with a scheme libpq takes as a URI */
static bool
fleet_url_scheme(const char *url)
{
	return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

/* check_fleet_url - a postgresql:// URI of printable characters; messages masked */
static bool
check_fleet_url(cfg_t *cfg, const struct rule *r, const char *v)
{
	char	masked[MX_FLEET_URL_MAX + 64];
	size_t	i;

	mx_fleet_url_mask(v, masked, sizeof(masked));
	if (strlen(v) > MX_FLEET_URL_MAX) {
		say(loading, cfg->line, "%s.%s: the URL is longer than %d bytes",
		    r->section, r->key, MX_FLEET_URL_MAX);
		return false;
	}
	if (!fleet_url_scheme(v)) {
		say(loading, cfg->line, "%s.%s: \"%s\" is not valid; expected a URI that "
		    "starts with postgresql:// or postgres://, such as "
		    "\"postgresql://mxtier@db.example.net/fleet\"", r->section, r->key, masked);
		return false;
	}
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f) {
			say(loading, cfg->line, "%s.%s: \"%s\" is not valid; a URI has no "
			    "spaces or control characters (write them as %%XX)",
			    r->section, r->key, masked);
			return false;
		}
	return true;
}

/* check_text - check one string value against its rule */
static bool
check_text(cfg_t *cfg, const struct rule *r, const char *v)
{
	char	norm[MX_DOMAIN_MAX + 1], why[160], list[128];
	struct mx_cidr net;

	switch (r->check) {
	case CHECK_WORD:
		if (word_index(r->words, v) >= 0)
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not valid; expected one of %s",
		    r->section, r->key, v, join_words(r->words, list, sizeof(list)));
		return false;
	case CHECK_SERVER:
	case CHECK_RELAY:
		return check_endpoint(cfg, r, v);
	case CHECK_NETWORK:
		if (mx_cidr_parse(v, &net))
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not valid; expected an IP address "
		    "or a network ADDRESS/LENGTH, such as 192.0.2.0/24 or 2001:db8::/32",
		    r->section, r->key, v);
		return false;
	case CHECK_DOMAIN:
		if (mx_domain_normalise(v, norm, sizeof(norm), why, sizeof(why)))
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not a valid domain name: %s",
		    r->section, r->key, v, why);
		return false;
	case CHECK_HELO:
		if (*v == '\0' || mx_domain_normalise(v, norm, sizeof(norm), why, sizeof(why)))
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not a valid host name: %s; "
		    "leave it empty (\"\") to use this machine's name",
		    r->section, r->key, v, why);
		return false;
	case CHECK_OPTPATH:
		if (*v == '\0')
			return true;
		/* FALLTHROUGH */
	case CHECK_PATH:
		if (*v == '\0') {
			say(loading, cfg->line, "%s.%s: the path is empty; expected an "
			    "absolute path such as %s", r->section, r->key, r->check == CHECK_OPTPATH ?
			    "/etc/ssl/certs/ca-certificates.crt" : DEFAULT_JOURNAL);
			return false;
		}
		if (*v != '/') {
			say(loading, cfg->line, "%s.%s: \"%s\" is not an absolute path; "
			    "expected a path that starts with \"/\", such as %s",
			    r->section, r->key, v, r->check == CHECK_OPTPATH ?
			    "/etc/ssl/certs/ca-certificates.crt" : DEFAULT_JOURNAL);
			return false;
		}
		if (strlen(v) >= PATH_MAX) {
			say(loading, cfg->line, "%s.%s: the path is longer than %d bytes",
			    r->section, r->key, PATH_MAX - 1);
			return false;
		}
		return true;
	case CHECK_FLEET_URL:
		return check_fleet_url(cfg, r, v);
	case CHECK_NODE:
		if (mx_fleet_node_valid(v))
			return true;
		say(loading, cfg->line, "%s.%s: \"%s\" is not a valid node name; expected 1 to "
		    "%d letters, digits, \".\", \"_\" or \"-\" (leave the key out to use "
		    "this machine's short host name)", r->section, r->key, v, MX_FLEET_NODE_MAX);
		return false;
	case CHECK_INT:
	case CHECK_BOOL:
		break;
	}
	return true;
}

/* check_value - libconfuse validate callback: check the value just parsed */
static int
check_value(cfg_t *cfg, cfg_opt_t *opt)
{
	const struct rule *r;
	unsigned int n;
	const char *v;

	if (loading == NULL)
		return 0;
	if (misplaced(cfg, cfg_opt_name(opt)))
		return -1;
	r = rule_for(cfg_name(cfg), cfg_opt_name(opt));
	n = cfg_opt_size(opt);
	if (r == NULL || n == 0)
		return 0;
	/* Lists are checked as each item arrives: the last one is the new one. */
	v = cfg_opt_getnstr(opt, n - 1);
	return check_text(cfg, r, v ? v : "") ? 0 : -1;
}

/* parse_int - libconfuse parse callback: a whole number within the key's range */
static int
parse_int(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	const struct rule *r;
	const char *p = value;
	char   *end;
	long	v;

	if (loading != NULL && misplaced(cfg, cfg_opt_name(opt)))
		return -1;
	r = rule_for(cfg_name(cfg), cfg_opt_name(opt));
	if (value == NULL || r == NULL)
		return -1;
	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9' || p[strspn(p, "0123456789")] != '\0') {
		say(loading, cfg->line, "%s.%s: \"%s\" is not a number; expected a whole "
		    "number from %ld to %ld%s", r->section, r->key, value, r->min, r->max,
		    r->unit);
		return -1;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (errno == ERANGE || v < r->min || v > r->max) {
		say(loading, cfg->line, "%s.%s: %s is out of range; expected %ld to %ld%s",
		    r->section, r->key, value, r->min, r->max, r->unit);
		return -1;
	}
	*(long *)result = v;
	return 0;
}

/* parse_bool - libconfuse parse callback: true or false */
static int
parse_bool(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	int	b;

	if (loading != NULL && misplaced(cfg, cfg_opt_name(opt)))
		return -1;
	b = cfg_parse_boolean(value);
	if (b < 0) {
		say(loading, cfg->line, "%s.%s: \"%s\" is not valid; expected true or false",
		    cfg_name(cfg), cfg_opt_name(opt), value ? value : "");
		return -1;
	}
	*(int *)result = b;
	return 0;
}

/* scan_nth_section - the line of the nth (1-based) top-level block of a section, or 0 */
static int
scan_nth_section(const struct scan *sc, const char *name, unsigned nth)
{
	size_t	i;

	for (i = 0; i < sc->ntop; i++)
		if (strcmp(sc->top[i].name, name) == 0 && --nth == 0)
			return sc->top[i].line;
	return 0;
}

/* check_section - libconfuse validate callback for a section: at most once */
static int
check_section(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *name = cfg_opt_name(opt);
	int	i = section_index(name), line;

	if (loading == NULL || i < 0 || ++loading->seen[i] < 2)
		return 0;
	line = scan_nth_section(&loading->scan, name, loading->seen[i]);
	say(loading, line > 0 ? line : cfg->line, "section %s is given a second time; "
	    "write all of its keys in one %s { ... } block", name, name);
	return -1;
}

/* unknown_name - explain a word libconfuse found no option for */
static void
unknown_name(struct load *ld, cfg_t *cfg, const char *name)
{
	const struct rule *r = rule_for(NULL, name);
	const char *sec = cfg_name(cfg);
	char	keys[512];

	if (is_root(cfg)) {
		join_keys(root_opts, keys, sizeof(keys));
		if (r != NULL)
			say(ld, cfg->line, "%s is a key of section %s and must be written "
			    "inside it, as %s { %s = ... }", name, r->section, r->section, name);
		else if (is_identifier(name))
			say(ld, cfg->line, "unknown section \"%s\"; expected one of %s",
			    name, keys);
		else
			say(ld, cfg->line, "unexpected \"%s\" at the top level; expected a "
			    "section: one of %s", name, keys);
		return;
	}
	join_keys(cfg->opts, keys, sizeof(keys));
	if (section_index(name) >= 0)
		say(ld, cfg->line, "section %s cannot be inside section %s; is the \"}\" "
		    "that closes %s missing?", name, sec, sec);
	else if (r != NULL)
		say(ld, cfg->line, "unknown key \"%s\" in section %s; %s belongs in section "
		    "%s", name, sec, name, r->section);
	else if (is_identifier(name))
		say(ld, cfg->line, "unknown key \"%s\" in section %s; expected one of %s",
		    name, sec, keys);
	else
		say(ld, cfg->line, "unexpected \"%s\" in section %s where a key was "
		    "expected (a value that contains spaces must be quoted); expected "
		    "one of %s", name, sec, keys);
}

/* unexpected_token - explain a token that does not fit where it stands */
static void
unexpected_token(struct load *ld, cfg_t *cfg, const char *tok)
{
	char	where[SCAN_WORD + 16] = "";

	if (!is_root(cfg))
		snprintf(where, sizeof(where), " in section %s", cfg_name(cfg));
	if (strcmp(tok, "}") == 0)
		say(ld, cfg->line, "unexpected \"}\"%s; a value is missing before it", where);
	else if (strcmp(tok, "{") == 0)
		say(ld, cfg->line, "unexpected \"{\"%s; only a section or the value of a "
		    "list key can start with \"{\"", where);
	else if (strcmp(tok, "=") == 0 || strcmp(tok, "+=") == 0 || strcmp(tok, ",") == 0 ||
		 strcmp(tok, "(") == 0 || strcmp(tok, ")") == 0)
		say(ld, cfg->line, "unexpected \"%s\"%s", tok, where);
	else
		say(ld, cfg->line, "unexpected \"%s\"%s; the items of a list must be "
		    "separated by \",\"", tok, where);
}

/* confuse_error - libconfuse error callback: rephrase its message with file and line */
static void
confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	struct load *ld = loading;
	const char *arg = NULL, *sec;
	char	text[512];
	va_list	aq;

	if (ld == NULL || ld->failed)
		return;
	sec = is_root(cfg) ? "" : cfg_name(cfg);
	if (strstr(fmt, "'%s'") != NULL && strchr(strchr(fmt, '%') + 1, '%') == NULL) {
		va_copy(aq, ap);
		arg = va_arg(aq, const char *);
		va_end(aq);
	}
	if (arg != NULL && strcmp(fmt, "no such option '%s'") == 0)
		unknown_name(ld, cfg, arg);
	else if (arg != NULL && strcmp(fmt, "unexpected token '%s'") == 0)
		unexpected_token(ld, cfg, arg);
	else if (arg != NULL && strcmp(fmt, "missing equal sign after option '%s'") == 0)
		say(ld, cfg->line, "%s%s%s: expected \"=\" after the key", sec,
		    *sec ? "." : "", arg);
	else if (arg != NULL && strcmp(fmt, "missing opening brace for section '%s'") == 0)
		say(ld, cfg->line, "section %s must be followed by \"{\", as %s { key = "
		    "value ... }", arg, arg);
	else if (arg != NULL && strcmp(fmt, "attempt to append to non-list option '%s'") == 0)
		say(ld, cfg->line, "%s%s%s: \"+=\" adds to a list, but this key takes one "
		    "value; use \"=\"", sec, *sec ? "." : "", arg);
	else if (arg != NULL && (strcmp(fmt, "bad escape sequence '%s'") == 0 ||
				 strcmp(fmt, "invalid octal number '%s'") == 0))
		say(ld, cfg->line, "bad escape sequence \"%s\" in a quoted string; "
		    "write \\\\ for a backslash", arg);
	else if (strcmp(fmt, "unexpected closing brace") == 0)
		say(ld, cfg->line, "unexpected \"}\" at the top level; there is no section "
		    "to close");
	else if (strcmp(fmt, "premature end of file") == 0 ||
		 strcmp(fmt, "unterminated string constant") == 0) {
		ld->at_eof = true;
		say(ld, cfg->line, "unexpected end of file after \"%s\"; the file is "
		    "cut short", ld->scan.prev);
	} else {
		vsnprintf(text, sizeof(text), fmt, ap);
		say(ld, cfg->line, "%s", text);
	}
}

/* scan_token - remember the last two tokens, to name what a "{" opens */
static void
scan_token(struct scan *sc, const char *s, size_t len)
{
	memcpy(sc->prev2, sc->prev, sizeof(sc->prev2));
	if (len >= sizeof(sc->prev))
		len = sizeof(sc->prev) - 1;
	memcpy(sc->prev, s, len);
	sc->prev[len] = '\0';
}

/* scan_open - a "{" on line: note what it opens */
static void
scan_open(struct scan *sc, int line)
{
	struct scan_open *o;

	if (sc->depth < SCAN_DEPTH) {
		o = &sc->open[sc->depth];
		o->line = line;
		o->list = strcmp(sc->prev, "=") == 0 || strcmp(sc->prev, "+=") == 0;
		if (o->list && sc->depth > 0) {
			char	outer[SCAN_WORD];

			snprintf(outer, sizeof(outer), "%.*s", SCAN_WORD - 1,
				 sc->open[sc->depth - 1].name);
			snprintf(o->name, sizeof(o->name), "%s.%s", outer, sc->prev2);
		} else
			snprintf(o->name, sizeof(o->name), "%s", o->list ? sc->prev2 : sc->prev);
		if (sc->depth == 0 && !o->list && sc->ntop < SCAN_TOP) {
			snprintf(sc->top[sc->ntop].name, sizeof(sc->top[0].name), "%s", sc->prev);
			sc->top[sc->ntop++].line = line;
		}
	}
	sc->depth++;
	scan_token(sc, "{", 1);
}

/* unquoted - can c be part of an unquoted word (libconfuse's lexer) */
static bool
unquoted(char c)
{
	return c != '\0' && strchr(" #\"'\t\n\r={}()+,*", c) == NULL;
}

/* blank - overwrite t[from..to) with spaces, keeping the newlines */
static void
blank(char *t, size_t from, size_t to)
{
	for (; from < to; from++)
		if (t[from] != '\n')
			t[from] = ' ';
}

/* count_lines - newlines in t[from..to) */
static int
count_lines(const char *t, size_t from, size_t to)
{
	int	n = 0;

	for (; from < to; from++)
		n += t[from] == '\n';
	return n;
}

/* scan_string - skip a quoted string starting at t[i]; returns the index after it */
static size_t
scan_string(struct scan *sc, const char *t, size_t i, int *line)
{
	char	q = t[i];
	int	start = *line;
	size_t	from = ++i;
	const char *end;

	while (t[i] != q) {
		if (t[i] == '\0' || (t[i] == '\\' && t[i + 1] == '\0')) {
			sc->bad_line = start;
			sc->bad_what = q == '"' ? "a quoted string starts here but never ends; "
			    "a closing '\"' is missing" : "a quoted string starts here but never "
			    "ends; a closing \"'\" is missing";
			return strlen(t);
		}
		if (t[i] == '\\') {
			*line += t[i + 1] == '\n';
			i += 2;
		} else if (q == '"' && t[i] == '$' && t[i + 1] == '{' &&
			   (end = strchr(t + i + 2, '}')) != NULL) {
			/* ${NAME} is replaced from the environment, quotes and all */
			*line += count_lines(t, i, (size_t)(end - t));
			i = (size_t)(end - t) + 1;
		} else
			*line += t[i++] == '\n';
	}
	scan_token(sc, t + from, i - from);
	return i + 1;
}

/*
 * scan_text - follow libconfuse's lexer over the text to find what it accepts
 * silently at the end of the file: a "{" never closed, a string or a comment
 * never ended. It notes where each top-level section starts, and it blanks
 * out the comments: libconfuse 3.3 counts two lines too many after each "#"
 * or "//" comment and one after each block comment, and it rejects comments
 * between the items of a list.
 */
static void
scan_text(char *t, struct scan *sc)
{
	size_t	i = 0, j;
	int	line = 1, start;
	const char *end;

	memset(sc, 0, sizeof(*sc));
	while (t[i] != '\0' && sc->bad_line == 0) {
		char	c = t[i];

		if (c == '\n') {
			line++;
			i++;
		} else if (c == '#') {
			j = i + strcspn(t + i, "\n");
			blank(t, i, j);
			i = j;
		} else if (c == '/' && t[i + 1] == '/') {
			/* where a token starts, "//" starts a comment (inside a word it does not) */
			j = i + strcspn(t + i, "\n");
			blank(t, i, j);
			i = j;
		} else if (c == '/' && t[i + 1] == '*') {
			start = line;
			end = strstr(t + i + 2, "*/");
			if (end == NULL) {
				sc->bad_line = start;
				sc->bad_what = "a comment starts here but never ends; "
				    "a closing \"*/\" is missing";
				blank(t, i, strlen(t));
				break;
			}
			j = (size_t)(end - t) + 2;
			line += count_lines(t, i, j);
			blank(t, i, j);
			i = j;
		} else if (c == '"' || c == '\'') {
			i = scan_string(sc, t, i, &line);
		} else if (c == '$' && t[i + 1] == '{' && (end = strchr(t + i + 2, '}')) != NULL) {
			scan_token(sc, t + i, (size_t)(end - t) + 1 - i);
			line += count_lines(t, i, (size_t)(end - t));
			i = (size_t)(end - t) + 1;
		} else if (c == '{') {
			scan_open(sc, line);
			i++;
		} else if (c == '}') {
			if (sc->depth > 0)
				sc->depth--;
			scan_token(sc, "}", 1);
			i++;
		} else if (c == '+' && t[i + 1] == '=') {
			scan_token(sc, "+=", 2);
			i += 2;
		} else if (strchr("=,()", c) != NULL) {
			scan_token(sc, t + i, 1);
			i++;
		} else if (unquoted(c)) {
			for (j = i; unquoted(t[j]); j++)
				;
			scan_token(sc, t + i, j - i);
			i = j;
		} else
			i++;		/* libconfuse skips anything else */
	}
}

/* scan_report - report what the scan found unclosed; false if nothing */
static bool
scan_report(struct load *ld)
{
	const struct scan *sc = &ld->scan;
	const struct scan_open *o;

	if (sc->bad_line > 0) {
		say(ld, sc->bad_line, "%s", sc->bad_what);
		return true;
	}
	if (sc->depth == 0)
		return false;
	if (sc->depth > SCAN_DEPTH) {
		say(ld, 0, "braces are nested too deeply and some are never closed");
		return true;
	}
	o = &sc->open[sc->depth - 1];
	if (o->list)
		say(ld, o->line, "the list of %s opens here but is never closed; a \"}\" "
		    "is missing", o->name);
	else
		say(ld, o->line, "section %s opens here but is never closed; a \"}\" is "
		    "missing", o->name);
	return true;
}

/* free_strings - free an array of strings and empty it */
static void
free_strings(char ***v, size_t *n)
{
	size_t	i;

	for (i = 0; *v != NULL && i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* copy_strings - copy a string list option; normalise domain names when asked */
static bool
copy_strings(cfg_t *sec, const char *key, bool domains, char ***out, size_t *nout)
{
	unsigned int i, n = cfg_size(sec, key);
	char	norm[MX_DOMAIN_MAX + 1], why[160];
	const char *v;

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return true;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return false;
	for (i = 0; i < n; i++) {
		v = cfg_getnstr(sec, key, i);
		if (domains && mx_domain_normalise(v, norm, sizeof(norm), why, sizeof(why)))
			v = norm;
		if (((*out)[i] = strdup(v ? v : "")) == NULL) {
			*nout = i;
			free_strings(out, nout);
			return false;
		}
	}
	*nout = n;
	return true;
}

/* copy_networks - parse a list option of networks */
static bool
copy_networks(cfg_t *sec, const char *key, struct mx_cidr **out, size_t *nout)
{
	unsigned int i, n = cfg_size(sec, key);

	*out = NULL;
	*nout = 0;
	if (n == 0)
		return true;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return false;
	for (i = 0; i < n; i++)
		mx_cidr_parse(cfg_getnstr(sec, key, i), &(*out)[i]);
	*nout = n;
	return true;
}

/* node_char - may c appear in a fleet node name */
static bool
node_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-';
}

/* host_node - this machine's short host name as a node name (invalid bytes become "-") */
static void
host_node(char *out, size_t outlen)
{
	char	host[256];
	size_t	i;

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	if (strlen(host) > MX_FLEET_NODE_MAX)
		host[MX_FLEET_NODE_MAX] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!node_char(host[i]))
			host[i] = '-';
	snprintf(out, outlen, "%s", host);
}

/* fill - copy the checked values from libconfuse into cfg */
static bool
fill(struct mx_config *cfg, cfg_t *root)
{
	struct mx_policy *p = &cfg->policy;
	char	norm[MX_DOMAIN_MAX + 1], why[160];
	const char *helo;
	cfg_t  *s;

	s = cfg_getsec(root, "resolver");
	if (!copy_strings(s, "servers", false, &cfg->resolver.servers, &cfg->resolver.nservers))
		return false;
	cfg->resolver.timeout = (int)cfg_getint(s, "timeout");
	cfg->resolver.tries = (int)cfg_getint(s, "tries");
	if (!copy_strings(s, "trusted", false, &cfg->resolver.trusted, &cfg->resolver.ntrusted))
		return false;

	s = cfg_getsec(root, "policy");
	cfg->fallback = word_value(fallback_words, cfg_getstr(s, "fallback"));
	p->cname_targets = word_value(cname_words, cfg_getstr(s, "cname_targets"));
	p->randomize_addresses = cfg_getbool(s, "randomize_addresses") == cfg_true;
	p->address_preference = word_value(addrpref_words, cfg_getstr(s, "address_preference"));
	p->inet_protocols = word_value(inet_words, cfg_getstr(s, "inet_protocols"));
	p->max_addresses = (int)cfg_getint(s, "max_addresses");
	p->max_sessions = (int)cfg_getint(s, "max_sessions");
	p->max_mx_records = (int)cfg_getint(s, "max_mx_records");
	p->loop_action = word_value(loop_words, cfg_getstr(s, "loop_action"));
	if (!copy_networks(s, "ignore_networks", &p->ignore_networks, &p->nignore_networks) ||
	    !copy_strings(s, "local_names", true, &p->local_names, &p->nlocal_names) ||
	    !copy_networks(s, "local_addresses", &p->local_addresses, &p->nlocal_addresses) ||
	    !copy_strings(s, "fallback_relay", false, &cfg->fallback_relay,
			  &cfg->nfallback_relay))
		return false;

	s = cfg_getsec(root, "smtp");
	cfg->smtp.port = (int)cfg_getint(s, "port");
	helo = cfg_getstr(s, "helo_name");
	if (helo != NULL && *helo != '\0' &&
	    mx_domain_normalise(helo, norm, sizeof(norm), why, sizeof(why)))
		helo = norm;
	snprintf(cfg->smtp.helo_name, sizeof(cfg->smtp.helo_name), "%s", helo ? helo : "");
	cfg->smtp.tls_level = MX_TLS_MAY;
	if (cfg_getstr(s, "starttls") != NULL)
		cfg->smtp.tls_level = starttls_levels[word_value(starttls_words,
								 cfg_getstr(s, "starttls"))];
	if (cfg_getstr(s, "tls_level") != NULL)
		cfg->smtp.tls_level = word_value(tls_level_words, cfg_getstr(s, "tls_level"));
	p->tls_level = cfg->smtp.tls_level;
	cfg->smtp.connect_timeout = (int)cfg_getint(s, "connect_timeout");
	cfg->smtp.greeting_timeout = (int)cfg_getint(s, "greeting_timeout");
	cfg->smtp.helo_timeout = (int)cfg_getint(s, "helo_timeout");
	cfg->smtp.starttls_timeout = (int)cfg_getint(s, "starttls_timeout");
	cfg->smtp.mail_timeout = (int)cfg_getint(s, "mail_timeout");
	cfg->smtp.rcpt_timeout = (int)cfg_getint(s, "rcpt_timeout");
	cfg->smtp.data_timeout = (int)cfg_getint(s, "data_timeout");
	cfg->smtp.data_transfer_timeout = (int)cfg_getint(s, "data_transfer_timeout");
	cfg->smtp.data_done_timeout = (int)cfg_getint(s, "data_done_timeout");
	cfg->smtp.quit_timeout = (int)cfg_getint(s, "quit_timeout");
	cfg->smtp.time_limit = (int)cfg_getint(s, "time_limit");

	s = cfg_getsec(root, "policy");
	cfg->backoff_initial = (int)cfg_getint(s, "backoff_initial");
	cfg->backoff_max = (int)cfg_getint(s, "backoff_max");
	cfg->fleet_backoff = cfg_getbool(s, "fleet_backoff") == cfg_true;

	s = cfg_getsec(root, "spool");
	cfg->spool.memory_limit = (size_t)cfg_getint(s, "memory_limit");
	snprintf(cfg->spool.directory, sizeof(cfg->spool.directory), "%s",
		 cfg_getstr(s, "directory"));

	s = cfg_getsec(root, "journal");
	snprintf(cfg->journal.path, sizeof(cfg->journal.path), "%s", cfg_getstr(s, "path"));
	cfg->journal.retention = cfg_getint(s, "retention");

	s = cfg_getsec(root, "tls");
	snprintf(cfg->tls.ca_file, sizeof(cfg->tls.ca_file), "%s", cfg_getstr(s, "ca_file"));
	snprintf(cfg->tls.ca_path, sizeof(cfg->tls.ca_path), "%s", cfg_getstr(s, "ca_path"));
	cfg->tls.min_version = tls_versions[word_value(tls_version_words,
						       cfg_getstr(s, "min_version"))];
	cfg->tls.mta_sts = cfg_getbool(s, "mta_sts") == cfg_true;
	cfg->tls.mta_sts_timeout = (int)cfg_getint(s, "mta_sts_timeout");
	cfg->tls.mta_sts_max_size = (size_t)cfg_getint(s, "mta_sts_max_size");

	s = cfg_getsec(root, "fleet");
	snprintf(cfg->fleet.url, sizeof(cfg->fleet.url), "%s", cfg_getstr(s, "url"));
	if (*cfg_getstr(s, "node") != '\0')
		snprintf(cfg->fleet.node, sizeof(cfg->fleet.node), "%s", cfg_getstr(s, "node"));
	else
		host_node(cfg->fleet.node, sizeof(cfg->fleet.node));
	return true;
}

/* set_checks - hang the value checks on the options of a fresh libconfuse tree */
static void
set_checks(cfg_t *root)
{
	char	path[SCAN_NAME];
	size_t	i;

	for (i = 0; i < NSECTIONS; i++)
		cfg_set_validate_func(root, root_opts[i].name, check_section);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].check == CHECK_INT || rules[i].check == CHECK_BOOL)
			continue;	/* checked by their parse callbacks */
		snprintf(path, sizeof(path), "%s|%s", rules[i].section, rules[i].key);
		cfg_set_validate_func(root, path, check_value);
	}
}

/* load_text - parse text (named name in messages) into cfg */
static bool
load_text(const char *text, const char *name, struct mx_config *cfg, char *err,
	  size_t errlen)
{
	struct load ld;
	cfg_t  *root;
	char   *clean;
	int	rc;
	bool	ok = false;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.err = err;
	ld.errlen = errlen;
	if (strlen(name) >= sizeof(cfg->source)) {
		say(&ld, 0, "the file name is longer than %zu bytes", sizeof(cfg->source) - 1);
		return false;
	}
	if ((clean = strdup(text)) == NULL) {
		say(&ld, 0, "out of memory");
		return false;
	}
	scan_text(clean, &ld.scan);
	if ((root = cfg_init(root_opts, CFGF_NONE)) == NULL) {
		say(&ld, 0, "out of memory");
		free(clean);
		return false;
	}
	cfg_set_error_function(root, confuse_error);
	set_checks(root);
	loading = &ld;
	rc = cfg_parse_buf(root, clean);
	loading = NULL;
	free(clean);
	if (rc != CFG_SUCCESS && !ld.failed)
		say(&ld, 0, "cannot parse the file (out of memory?)");
	/* libconfuse's complaints about the end of the file are better said by the scan */
	if (!ld.failed || ld.at_eof) {
		bool	was = ld.failed;

		ld.failed = false;
		if (!scan_report(&ld))
			ld.failed = was;
	}
	if (!ld.failed) {
		snprintf(cfg->source, sizeof(cfg->source), "%s", name);
		ok = fill(cfg, root);
		if (!ok)
			say(&ld, 0, "out of memory");
	}
	cfg_free(root);
	if (!ok)
		mx_config_free(cfg);
	return ok;
}

/*
 * read_file - read a whole (small) file from fd (st: its fstat) into a
 * string; NULL after saying why. The buffer starts at the file's size
 * (mxtier-pipe reads the config once per message: no megabyte to map and
 * unmap each time) and grows only if the file grows while it is read,
 * never past MAX_FILE_BYTES.
 */
static char *
read_file(int fd, const struct stat *st, struct load *ld)
{
	char   *buf, *nul, *bigger;
	size_t	len = 0, cap;
	ssize_t	n;

	/* room for the size fstat says, one byte to see EOF, and the NUL */
	cap = S_ISREG(st->st_mode) && st->st_size >= 0 && st->st_size <= MAX_FILE_BYTES ?
	    (size_t)st->st_size + 2 : 4096;
	if ((buf = malloc(cap)) == NULL) {
		say(ld, 0, "out of memory");
		return NULL;
	}
	while (len <= MAX_FILE_BYTES) {
		if (len + 1 >= cap) {
			cap = cap * 2 > (size_t)MAX_FILE_BYTES + 2 ? (size_t)MAX_FILE_BYTES + 2 : cap * 2;
			if ((bigger = realloc(buf, cap)) == NULL) {
				say(ld, 0, "out of memory");
				free(buf);
				return NULL;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say(ld, 0, "cannot read: %s", strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MAX_FILE_BYTES) {
		say(ld, 0, "the file is larger than %d bytes; a configuration file is "
		    "expected to be a few kilobytes", MAX_FILE_BYTES);
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		say(ld, 1 + count_lines(buf, 0, (size_t)(nul - buf)), "the file contains a "
		    "NUL byte; expected a text file");
		free(buf);
		return NULL;
	}
	return buf;
}

/* mx_config_default_path - SYSCONFDIR/mxtier/mxtier.conf */
const char *
mx_config_default_path(void)
{
	return DEFAULT_PATH;
}

/* mx_config_defaults - the built-in defaults, owned by cfg */
bool
mx_config_defaults(struct mx_config *cfg)
{
	struct mx_policy p;
	size_t	i;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->source, sizeof(cfg->source), "(defaults)");
	cfg->resolver.timeout = DEFAULT_TIMEOUT;
	cfg->resolver.tries = DEFAULT_TRIES;
	cfg->fallback = MX_FALLBACK_POSTFIX;
	cfg->smtp.port = SMTP_PORT;
	cfg->smtp.tls_level = MX_TLS_MAY;
	cfg->tls.min_version = 0x0303;	/* TLS1_2_VERSION */
	cfg->tls.mta_sts = true;
	cfg->tls.mta_sts_timeout = MX_DEFAULT_STS_TIMEOUT;
	cfg->tls.mta_sts_max_size = MX_DEFAULT_STS_MAX_SIZE;
	cfg->smtp.connect_timeout = MX_DEFAULT_CONNECT_TIMEOUT;
	cfg->smtp.greeting_timeout = MX_DEFAULT_GREETING_TIMEOUT;
	cfg->smtp.helo_timeout = MX_DEFAULT_HELO_TIMEOUT;
	cfg->smtp.starttls_timeout = MX_DEFAULT_STARTTLS_TIMEOUT;
	cfg->smtp.mail_timeout = MX_DEFAULT_MAIL_TIMEOUT;
	cfg->smtp.rcpt_timeout = MX_DEFAULT_RCPT_TIMEOUT;
	cfg->smtp.data_timeout = MX_DEFAULT_DATA_TIMEOUT;
	cfg->smtp.data_transfer_timeout = MX_DEFAULT_DATA_TRANSFER_TIMEOUT;
	cfg->smtp.data_done_timeout = MX_DEFAULT_DATA_DONE_TIMEOUT;
	cfg->smtp.quit_timeout = MX_DEFAULT_QUIT_TIMEOUT;
	cfg->smtp.time_limit = MX_DEFAULT_TIME_LIMIT;
	cfg->backoff_initial = MX_DEFAULT_BACKOFF_INITIAL;
	cfg->backoff_max = MX_DEFAULT_BACKOFF_MAX;
	cfg->fleet_backoff = false;
	cfg->spool.memory_limit = MX_DEFAULT_SPOOL_MEMORY;
	snprintf(cfg->spool.directory, sizeof(cfg->spool.directory), "%s", MX_DEFAULT_SPOOL_DIR);
	snprintf(cfg->journal.path, sizeof(cfg->journal.path), "%s", DEFAULT_JOURNAL);
	cfg->journal.retention = MX_DEFAULT_RETENTION;
	host_node(cfg->fleet.node, sizeof(cfg->fleet.node));

	/* The policy's defaults may point at static data; the config owns copies. */
	mx_policy_defaults(&p);
	cfg->policy = p;
	cfg->policy.ignore_networks = NULL;
	cfg->policy.nignore_networks = 0;
	cfg->policy.local_names = NULL;
	cfg->policy.nlocal_names = 0;
	cfg->policy.local_addresses = NULL;
	cfg->policy.nlocal_addresses = 0;
	if (p.nignore_networks > 0) {
		cfg->policy.ignore_networks = calloc(p.nignore_networks, sizeof(struct mx_cidr));
		if (cfg->policy.ignore_networks == NULL)
			goto nomem;
		memcpy(cfg->policy.ignore_networks, p.ignore_networks,
		       p.nignore_networks * sizeof(struct mx_cidr));
		cfg->policy.nignore_networks = p.nignore_networks;
	}
	if (p.nlocal_addresses > 0) {
		cfg->policy.local_addresses = calloc(p.nlocal_addresses, sizeof(struct mx_cidr));
		if (cfg->policy.local_addresses == NULL)
			goto nomem;
		memcpy(cfg->policy.local_addresses, p.local_addresses,
		       p.nlocal_addresses * sizeof(struct mx_cidr));
		cfg->policy.nlocal_addresses = p.nlocal_addresses;
	}
	if (p.nlocal_names > 0) {
		cfg->policy.local_names = calloc(p.nlocal_names, sizeof(char *));
		if (cfg->policy.local_names == NULL)
			goto nomem;
		for (i = 0; i < p.nlocal_names; i++) {
			if ((cfg->policy.local_names[i] = strdup(p.local_names[i])) == NULL)
				goto nomem;
			cfg->policy.nlocal_names = i + 1;
		}
	}
	return true;
nomem:
	mx_config_free(cfg);
	return false;
}

/*
 * trusted_file - refuse a file that someone other than root and the user
 * running us could have written: writable by group or others, or owned by
 * a third user. A configuration decides where mail goes (fallback_relay,
 * smtp.port), which file the journal writes and where messages are spooled,
 * so whoever can edit it can redirect or read mail. Checked with fstat() on
 * the descriptor that is then read, so the file cannot be swapped between
 * the check and the read. A character device (-c /dev/null for the
 * defaults) has no content anyone could edit, so it is not checked.
 * The same rule holds for every program that loads a configuration
 * (mxtier-pipe in both modes and mxtier), so that --route and the inspector
 * show an operator the refusal an MTA delivery would meet.
 * A directory is refused too. *st is left with the fstat() of fd, which
 * read_file() sizes its buffer from: one fstat() per load.
 */
static bool
trusted_file(int fd, struct stat *st, struct load *ld, const char *path)
{
	uid_t	me = geteuid();

	if (fstat(fd, st) != 0) {
		say(ld, 0, "cannot read: %s", strerror(errno));
		return false;
	}
	if (S_ISDIR(st->st_mode)) {
		say(ld, 0, "cannot read: %s", strerror(EISDIR));
		return false;
	}
	if (S_ISCHR(st->st_mode))
		return true;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say(ld, 0, "writable by other users (mode %04o); fix with chmod go-w %s",
		    (unsigned)(st->st_mode & 07777), path);
		return false;
	}
	if (st->st_uid != 0 && st->st_uid != me) {
		say(ld, 0, "owned by uid %lu, neither root nor the user running this "
		    "(uid %lu); fix with chown root %s", (unsigned long)st->st_uid,
		    (unsigned long)me, path);
		return false;
	}
	return true;
}

/* mx_config_load - read and check a configuration file */
bool
mx_config_load(const char *path, bool must_exist, struct mx_config *cfg,
	       char *err, size_t errlen)
{
	struct load ld;
	struct stat st;
	char   *text;
	bool	ok;
	int	fd;

	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	ld.name = path != NULL ? path : "(null)";
	ld.err = err;
	ld.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || *path == '\0') {
		say(&ld, 0, "cannot read: no file name given");
		return false;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		if (errno == ENOENT && !must_exist) {
			if (mx_config_defaults(cfg))
				return true;
			say(&ld, 0, "out of memory");
			return false;
		}
		say(&ld, 0, "cannot read: %s", strerror(errno));
		return false;
	}
	if (!trusted_file(fd, &st, &ld, path)) {
		close(fd);
		return false;
	}
	text = read_file(fd, &st, &ld);
	close(fd);
	if (text == NULL)
		return false;
	ok = load_text(text, path, cfg, err, errlen);
	free(text);
	return ok;
}

/* mx_config_load_buf - parse text in memory, named name in messages */
bool
mx_config_load_buf(const char *text, const char *name, struct mx_config *cfg,
		   char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return load_text(text != NULL ? text : "", name != NULL ? name : "(buffer)",
			 cfg, err, errlen);
}

/* mx_config_free - free what a load or mx_config_defaults() allocated */
void
mx_config_free(struct mx_config *cfg)
{
	if (cfg == NULL)
		return;
	free_strings(&cfg->resolver.servers, &cfg->resolver.nservers);
	free_strings(&cfg->resolver.trusted, &cfg->resolver.ntrusted);
	free_strings(&cfg->policy.local_names, &cfg->policy.nlocal_names);
	free_strings(&cfg->fallback_relay, &cfg->nfallback_relay);
	free(cfg->policy.ignore_networks);
	cfg->policy.ignore_networks = NULL;
	cfg->policy.nignore_networks = 0;
	free(cfg->policy.local_addresses);
	cfg->policy.local_addresses = NULL;
	cfg->policy.nlocal_addresses = 0;
}

/* mask_append - append n bytes of s to out[*used], truncating; keeps out terminated */
static void
mask_append(char *out, size_t outlen, size_t *used, const char *s, size_t n)
{
	if (*used + 1 >= outlen)
		return;
	if (n > outlen - 1 - *used)
		n = outlen - 1 - *used;
	memcpy(out + *used, s, n);
	*used += n;
	out[*used] = '\0';
}

/* mx_fleet_url_mask - the URL with every password replaced by "****" */
char *
mx_fleet_url_mask(const char *url, char *out, size_t outlen)
{
	const char *p, *auth, *end, *at, *colon;
	size_t	used = 0;

	if (out == NULL || outlen == 0)
		return out;
	out[0] = '\0';
	if (url == NULL)
		return out;
	p = url;
	/* scheme://user:PASSWORD@host...: the user info ends at the last "@" of the authority */
	if ((auth = strstr(url, "://")) != NULL) {
		auth += 3;
		end = auth + strcspn(auth, "/?#");
		at = NULL;
		for (colon = auth; colon < end; colon++)
			if (*colon == '@')
				at = colon;
		if (at != NULL && (colon = memchr(auth, ':', (size_t)(at - auth))) != NULL) {
			mask_append(out, outlen, &used, url, (size_t)(colon + 1 - url));
			mask_append(out, outlen, &used, "****", 4);
			p = at;
		}
	}
	/* password=VALUE, as a query parameter or a conninfo key */
	while (*p != '\0') {
		if (strncasecmp(p, "password=", 9) == 0 &&
		    (p == url || strchr("?&; \t", p[-1]) != NULL)) {
			mask_append(out, outlen, &used, p, 9);
			mask_append(out, outlen, &used, "****", 4);
			p += 9;
			p += strcspn(p, "& \t");
			continue;
		}
		mask_append(out, outlen, &used, p, 1);
		p++;
	}
	return out;
}

/* mx_fleet_node_valid - 1 to 63 letters, digits, ".", "_" or "-" */
bool
mx_fleet_node_valid(const char *node)
{
	size_t	i;

	if (node == NULL || node[0] == '\0')
		return false;
	for (i = 0; node[i] != '\0'; i++) {
		if (i >= MX_FLEET_NODE_MAX || !node_char(node[i]))
			return false;
	}
	return true;
}

/* mx_fallback_preset_name - "postfix", "greeting" or "qmail" */
const char *
mx_fallback_preset_name(enum mx_fallback_preset p)
{
	if ((size_t)p >= sizeof(fallback_words) / sizeof(fallback_words[0]) - 1)
		return "unknown";
	return fallback_words[p];
}

/* mx_tls_level_name - "none", "may", ..., "dane-only" */
const char *
mx_tls_level_name(enum mx_tls_level l)
{
	if ((size_t)l >= sizeof(tls_level_words) / sizeof(tls_level_words[0]) - 1)
		return "unknown";
	return tls_level_words[l];
}
