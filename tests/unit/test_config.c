/*
 * test_config - unit tests for shared/config.c (mxtier.conf)
 *
 * Most cases parse text with mx_config_load_buf() under the name "test.conf"
 * and check the exact "test.conf:LINE: " prefix of the message; the file
 * cases use real files under $TMPDIR (or /tmp) and remove them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

#define NAME	"test.conf"

/* load_ok - parse text that must be valid */
static void
load_ok(const char *text, struct mx_config *cfg)
{
	char	err[1024] = "";

	if (!mx_config_load_buf(text, NAME, cfg, err, sizeof(err)))
		fail_msg("valid text rejected: %s\n--- text ---\n%s", err, text);
}

/* assert_freed - a failed load leaves nothing allocated */
static void
assert_freed(const struct mx_config *cfg)
{
	assert_null(cfg->resolver.servers);
	assert_int_equal(cfg->resolver.nservers, 0);
	assert_null(cfg->policy.ignore_networks);
	assert_null(cfg->policy.local_names);
	assert_null(cfg->policy.local_addresses);
	assert_null(cfg->fallback_relay);
	assert_int_equal(cfg->nfallback_relay, 0);
}

/* expect_error - text must fail with a message starting with prefix and containing needle */
static void
expect_error(const char *text, const char *prefix, const char *needle)
{
	struct mx_config cfg;
	char	err[1024] = "";

	if (mx_config_load_buf(text, NAME, &cfg, err, sizeof(err))) {
		mx_config_free(&cfg);
		fail_msg("invalid text accepted:\n%s", text);
	}
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("message does not start with \"%s\": \"%s\"", prefix, err);
	if (needle != NULL && strstr(err, needle) == NULL)
		fail_msg("message does not contain \"%s\": \"%s\"", needle, err);
	assert_freed(&cfg);
	mx_config_free(&cfg);
}

/* expect_message - text must fail with exactly this message */
static void
expect_message(const char *text, const char *message)
{
	struct mx_config cfg;
	char	err[1024] = "";

	if (mx_config_load_buf(text, NAME, &cfg, err, sizeof(err))) {
		mx_config_free(&cfg);
		fail_msg("invalid text accepted:\n%s", text);
	}
	if (strcmp(err, message) != 0)
		fail_msg("expected \"%s\"\n     got \"%s\"", message, err);
	mx_config_free(&cfg);
}

/* one_key - "# ...\nSECTION {\n\tKEY = VALUE\n}\n": the key is on line 3 */
static const char *
one_key(char *buf, size_t len, const char *section, const char *key, const char *value)
{
	snprintf(buf, len, "# mxtier test\n%s {\n\t%s = %s\n}\n", section, key, value);
	return buf;
}

/* cidr_is - does a parsed network equal text */
static void
assert_cidr(const struct mx_cidr *c, int family, const char *addr, int prefix)
{
	uint8_t	bytes[16];

	memset(bytes, 0, sizeof(bytes));
	assert_int_equal(inet_pton(family, addr, bytes), 1);
	assert_int_equal(c->net.family, family);
	assert_memory_equal(c->net.bytes, bytes, family == AF_INET ? 4 : 16);
	assert_int_equal(c->prefix, prefix);
}

/* assert_default_values - cfg holds the documented defaults */
static void
assert_default_values(const struct mx_config *cfg)
{
	assert_int_equal(cfg->resolver.nservers, 0);
	assert_null(cfg->resolver.servers);
	assert_int_equal(cfg->resolver.timeout, 5);
	assert_int_equal(cfg->resolver.tries, 2);
	assert_int_equal(cfg->fallback, MX_FALLBACK_POSTFIX);
	assert_int_equal(cfg->policy.cname_targets, MX_CNAME_LENIENT);
	assert_false(cfg->policy.randomize_addresses);
	assert_int_equal(cfg->policy.address_preference, MX_ADDRPREF_ANY);
	assert_int_equal(cfg->policy.inet_protocols, MX_INET_ALL);
	assert_int_equal(cfg->policy.max_addresses, 5);
	assert_int_equal(cfg->policy.max_sessions, 2);
	assert_int_equal(cfg->policy.max_mx_records, MX_MAX_MX_DEFAULT);
	assert_int_equal(cfg->policy.nignore_networks, 4);
	assert_cidr(&cfg->policy.ignore_networks[0], AF_INET, "0.0.0.0", 8);
	assert_cidr(&cfg->policy.ignore_networks[1], AF_INET, "127.0.0.0", 8);
	assert_cidr(&cfg->policy.ignore_networks[2], AF_INET6, "::1", 128);
	assert_cidr(&cfg->policy.ignore_networks[3], AF_INET6, "::", 128);
	assert_int_equal(cfg->policy.nlocal_names, 0);
	assert_int_equal(cfg->policy.nlocal_addresses, 0);
	assert_int_equal(cfg->policy.loop_action, MX_LOOP_DEFER);
	assert_int_equal(cfg->nfallback_relay, 0);
	assert_int_equal(cfg->smtp.port, 25);
	assert_string_equal(cfg->smtp.helo_name, "");
	assert_int_equal(cfg->smtp.tls_level, MX_TLS_MAY);
	assert_string_equal(cfg->journal.path, LOCALSTATEDIR "/lib/mxtier/journal.db");
}

/* tmp_dir - $TMPDIR or /tmp */
static const char *
tmp_dir(void)
{
	const char *d = getenv("TMPDIR");

	return d != NULL && *d != '\0' ? d : "/tmp";
}

/* write_temp - a new temporary file holding len bytes of text; path into buf */
static void
write_temp(char *path, size_t pathlen, const char *text, size_t len)
{
	int	fd;

	snprintf(path, pathlen, "%s/mxtier-test-XXXXXX", tmp_dir());
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void
test_config_defaults(void **state)
{
	struct mx_config cfg;

	(void)state;
	assert_true(mx_config_defaults(&cfg));
	assert_string_equal(cfg.source, "(defaults)");
	assert_default_values(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_default_path(void **state)
{
	(void)state;
	assert_string_equal(mx_config_default_path(), SYSCONFDIR "/mxtier/mxtier.conf");
}

static void
test_config_empty_file_is_defaults(void **state)
{
	struct mx_config cfg;

	(void)state;
	load_ok("", &cfg);
	assert_string_equal(cfg.source, NAME);
	assert_default_values(&cfg);
	mx_config_free(&cfg);

	/* empty sections and comments only change nothing either */
	load_ok("# nothing\nresolver { }\npolicy {\n}\nsmtp {}\njournal { }\n", &cfg);
	assert_default_values(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_full_file(void **state)
{
	static const char text[] =
	    "# every key set\n"
	    "resolver {\n"
	    "\tservers = {\"127.0.0.1:5353\", \"[::1]:53\", \"192.0.2.53\", \"2001:db8::53\"}\n"
	    "\ttimeout = 7\n"
	    "\ttries = 3\n"
	    "}\n"
	    "policy {\n"
	    "\tfallback = \"greeting\"\n"
	    "\tcname_targets = \"strict\"\n"
	    "\trandomize_addresses = true\n"
	    "\taddress_preference = \"ipv6\"\n"
	    "\tinet_protocols = \"ipv4\"\n"
	    "\tmax_addresses = 9\n"
	    "\tmax_sessions = 4\n"
	    "\tmax_mx_records = 50\n"
	    "\tignore_networks = {\n"
	    "\t\t\"10.0.0.0/8\",\t# private\n"
	    "\t\t\"2001:db8::/32\",\n"
	    "\t\t\"192.0.2.1\"\n"
	    "\t}\n"
	    "\tlocal_names = {\"Mail.Example.ORG.\", \"mx.example.org\"}\n"
	    "\tlocal_addresses = {\"192.0.2.25\", \"2001:db8::25/128\"}\n"
	    "\tfallback_relay = {\"relay.example.net\", \"relay2.example.net:2525\", "
	    "\"[2001:db8::7]:587\", \"192.0.2.7\"}\n"
	    "\tloop_action = \"bounce\"\n"
	    "}\n"
	    "smtp {\n"
	    "\tport = 2525\n"
	    "\thelo_name = \"Out.Example.ORG\"\n"
	    "\tstarttls = \"require\"\n"
	    "}\n"
	    "journal {\n"
	    "\tpath = \"/srv/mxtier/journal.db\"\n"
	    "}\n";
	struct mx_config cfg;

	(void)state;
	load_ok(text, &cfg);
	assert_string_equal(cfg.source, NAME);
	assert_int_equal(cfg.resolver.nservers, 4);
	assert_string_equal(cfg.resolver.servers[0], "127.0.0.1:5353");
	assert_string_equal(cfg.resolver.servers[1], "[::1]:53");
	assert_string_equal(cfg.resolver.servers[2], "192.0.2.53");
	assert_string_equal(cfg.resolver.servers[3], "2001:db8::53");
	assert_int_equal(cfg.resolver.timeout, 7);
	assert_int_equal(cfg.resolver.tries, 3);
	assert_int_equal(cfg.fallback, MX_FALLBACK_GREETING);
	assert_int_equal(cfg.policy.cname_targets, MX_CNAME_STRICT);
	assert_true(cfg.policy.randomize_addresses);
	assert_int_equal(cfg.policy.address_preference, MX_ADDRPREF_IPV6);
	assert_int_equal(cfg.policy.inet_protocols, MX_INET_IPV4);
	assert_int_equal(cfg.policy.max_addresses, 9);
	assert_int_equal(cfg.policy.max_sessions, 4);
	assert_int_equal(cfg.policy.max_mx_records, 50);
	assert_int_equal(cfg.policy.nignore_networks, 3);
	assert_cidr(&cfg.policy.ignore_networks[0], AF_INET, "10.0.0.0", 8);
	assert_cidr(&cfg.policy.ignore_networks[1], AF_INET6, "2001:db8::", 32);
	assert_cidr(&cfg.policy.ignore_networks[2], AF_INET, "192.0.2.1", 32);
	assert_int_equal(cfg.policy.nlocal_names, 2);
	assert_string_equal(cfg.policy.local_names[0], "mail.example.org");
	assert_string_equal(cfg.policy.local_names[1], "mx.example.org");
	assert_int_equal(cfg.policy.nlocal_addresses, 2);
	assert_cidr(&cfg.policy.local_addresses[0], AF_INET, "192.0.2.25", 32);
	assert_cidr(&cfg.policy.local_addresses[1], AF_INET6, "2001:db8::25", 128);
	assert_int_equal(cfg.nfallback_relay, 4);
	assert_string_equal(cfg.fallback_relay[0], "relay.example.net");
	assert_string_equal(cfg.fallback_relay[1], "relay2.example.net:2525");
	assert_string_equal(cfg.fallback_relay[2], "[2001:db8::7]:587");
	assert_string_equal(cfg.fallback_relay[3], "192.0.2.7");
	assert_int_equal(cfg.policy.loop_action, MX_LOOP_BOUNCE);
	assert_int_equal(cfg.smtp.port, 2525);
	assert_string_equal(cfg.smtp.helo_name, "out.example.org");
	assert_int_equal(cfg.smtp.tls_level, MX_TLS_ENCRYPT);
	assert_string_equal(cfg.journal.path, "/srv/mxtier/journal.db");
	mx_config_free(&cfg);
}

static void
test_config_syntax_forms(void **state)
{
	/* unquoted words, single quotes, other comment styles, CRLF, += and bare list values */
	static const char text[] =
	    "// a C++ style comment\r\n"
	    "/* a C style\r\n   comment */\r\n"
	    "policy {\r\n"
	    "\tfallback = qmail\r\n"
	    "\tloop_action = 'bounce'\r\n"
	    "\trandomize_addresses = yes\r\n"
	    "\tignore_networks += {\"10.0.0.0/8\"}\r\n"
	    "\tlocal_names = mx.example.com\r\n"
	    "\tmax_addresses = +7\r\n"
	    "}\r\n"
	    "journal { path = /var/tmp/j.db }\r\n";
	struct mx_config cfg;

	(void)state;
	load_ok(text, &cfg);
	assert_int_equal(cfg.fallback, MX_FALLBACK_QMAIL);
	assert_int_equal(cfg.policy.loop_action, MX_LOOP_BOUNCE);
	assert_true(cfg.policy.randomize_addresses);
	assert_int_equal(cfg.policy.nignore_networks, 5);
	assert_cidr(&cfg.policy.ignore_networks[4], AF_INET, "10.0.0.0", 8);
	assert_int_equal(cfg.policy.nlocal_names, 1);
	assert_string_equal(cfg.policy.local_names[0], "mx.example.com");
	assert_int_equal(cfg.policy.max_addresses, 7);
	assert_string_equal(cfg.journal.path, "/var/tmp/j.db");
	mx_config_free(&cfg);

	/* an empty list clears a default */
	load_ok("policy { ignore_networks = {} }", &cfg);
	assert_int_equal(cfg.policy.nignore_networks, 0);
	assert_null(cfg.policy.ignore_networks);
	mx_config_free(&cfg);
}

static void
test_config_comments_keep_lines(void **state)
{
	struct mx_config cfg;

	(void)state;
	/* libconfuse 3.3 miscounts lines after comments; the module must not */
	expect_message("# one\n// two\n/* three\n   four */\npolicy { # five\n"
		       "\tignore_networks = { # six\n\t\t\"10.0.0.0/8\", /* seven */\n"
		       "\t\t\"10.0.0.0/88\" // eight\n\t}\n}\n",
		       NAME ":8: policy.ignore_networks: \"10.0.0.0/88\" is not valid; expected "
		       "an IP address or a network ADDRESS/LENGTH, such as 192.0.2.0/24 or "
		       "2001:db8::/32");
	/* comment characters inside quotes and words are not comments */
	load_ok("journal { path = \"/var/lib/#mxtier/j.db\" }\n"
		"smtp { helo_name = 'mx.example.com' # the name\n}\n", &cfg);
	assert_string_equal(cfg.journal.path, "/var/lib/#mxtier/j.db");
	assert_string_equal(cfg.smtp.helo_name, "mx.example.com");
	mx_config_free(&cfg);
	load_ok("journal { path = /var/lib/mxtier//j.db }\n", &cfg);
	assert_string_equal(cfg.journal.path, "/var/lib/mxtier//j.db");
	mx_config_free(&cfg);
	/* but a "//" where a token starts is a comment, as it is to libconfuse */
	load_ok("smtp { port = 2525 //3535\n}\n", &cfg);
	assert_int_equal(cfg.smtp.port, 2525);
	mx_config_free(&cfg);
}

static void
test_config_missing_file_defaults(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], err[512] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/mxtier-test-no-such-dir-%ld/mxtier.conf",
		 tmp_dir(), (long)getpid());
	assert_true(mx_config_load(path, false, &cfg, err, sizeof(err)));
	assert_string_equal(cfg.source, "(defaults)");
	assert_default_values(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_missing_file_required(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], want[PATH_MAX + 64], err[PATH_MAX + 64] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/mxtier-test-no-such-dir-%ld/mxtier.conf",
		 tmp_dir(), (long)getpid());
	assert_false(mx_config_load(path, true, &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_string_equal(err, want);
	assert_freed(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_unreadable_directory(void **state)
{
	struct mx_config cfg;
	char	dir[PATH_MAX], want[PATH_MAX + 64], err[PATH_MAX + 64] = "";

	(void)state;
	snprintf(dir, sizeof(dir), "%s/mxtier-test-XXXXXX", tmp_dir());
	assert_non_null(mkdtemp(dir));
	/* a directory is unreadable whether or not the file must exist */
	assert_false(mx_config_load(dir, false, &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", dir);
	assert_string_equal(err, want);
	assert_non_null(strstr(err, "cannot read"));
	assert_freed(&cfg);
	mx_config_free(&cfg);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_config_unreadable_permissions(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], want[PATH_MAX + 64], err[PATH_MAX + 64] = "";
	const char text[] = "policy { }\n";

	pid_t	pid;
	int	status;

	(void)state;
	write_temp(path, sizeof(path), text, strlen(text));
	assert_int_equal(chmod(path, 0), 0);
	snprintf(want, sizeof(want), "%s: cannot read: %s", path, strerror(EACCES));
	if (geteuid() != 0) {
		assert_false(mx_config_load(path, true, &cfg, err, sizeof(err)));
		assert_string_equal(err, want);
		unlink(path);
		return;
	}
	/* root reads everything: try it as nobody in a child process */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		if (mx_config_load(path, true, &cfg, err, sizeof(err))) {
			mx_config_free(&cfg);
			_exit(3);
		}
		_exit(strcmp(err, want) == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_config_real_file(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], want[PATH_MAX + 128], err[PATH_MAX + 256] = "";
	const char good[] = "smtp {\n\tport = 587\n}\n";
	const char bad[] = "smtp {\n\tport = 587\n\tstarttls = \"always\"\n}\n";

	(void)state;
	write_temp(path, sizeof(path), good, strlen(good));
	assert_true(mx_config_load(path, true, &cfg, err, sizeof(err)));
	assert_string_equal(cfg.source, path);
	assert_int_equal(cfg.smtp.port, 587);
	mx_config_free(&cfg);
	assert_int_equal(unlink(path), 0);

	write_temp(path, sizeof(path), bad, strlen(bad));
	assert_false(mx_config_load(path, false, &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: smtp.starttls: \"always\" is not valid; "
		 "expected one of none, opportunistic, require", path);
	assert_string_equal(err, want);
	assert_freed(&cfg);
	assert_int_equal(unlink(path), 0);
}

static void
test_config_nul_byte(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], want[PATH_MAX + 128], err[PATH_MAX + 256] = "";
	const char text[] = "policy {\n\tfallback = \"qmail\0\"\n}\n";

	(void)state;
	write_temp(path, sizeof(path), text, sizeof(text) - 1);
	assert_false(mx_config_load(path, true, &cfg, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:2: the file contains a NUL byte; expected a text file",
		 path);
	assert_string_equal(err, want);
	assert_int_equal(unlink(path), 0);
}

static void
test_config_huge_file(void **state)
{
	struct mx_config cfg;
	char	path[PATH_MAX], err[PATH_MAX + 256] = "";
	size_t	len = 1024 * 1024 + 1;
	char   *text = malloc(len);

	(void)state;
	assert_non_null(text);
	memset(text, '\n', len);
	write_temp(path, sizeof(path), text, len);
	free(text);
	assert_false(mx_config_load(path, true, &cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	assert_int_equal(unlink(path), 0);
}

static void
test_config_unknown_key(void **state)
{
	(void)state;
	expect_message("# comment\npolicy {\n\tfallback = \"qmail\"\n\tretries = 3\n}\n",
		       NAME ":4: unknown key \"retries\" in section policy; expected one of "
		       "fallback, cname_targets, randomize_addresses, address_preference, "
		       "inet_protocols, max_addresses, max_sessions, max_mx_records, "
		       "ignore_networks, local_names, local_addresses, fallback_relay, "
		       "loop_action, backoff_initial, backoff_max, fleet_backoff");
	/* a key of another section says where it belongs */
	expect_message("policy {\n\ttimeout = 3\n}\n", NAME ":2: unknown key \"timeout\" in "
		       "section policy; timeout belongs in section resolver");
	/* keys are case-sensitive */
	expect_error("smtp {\n\n\tPort = 25\n}\n", NAME ":3: unknown key \"Port\" in section "
		     "smtp; expected one of port, helo_name, starttls, tls_level, connect_timeout, "
		     "greeting_timeout, helo_timeout, starttls_timeout, mail_timeout, rcpt_timeout, "
		     "data_timeout, data_transfer_timeout, data_done_timeout, quit_timeout, time_limit", NULL);
}

static void
test_config_delivery_keys(void **state)
{
	struct mx_config cfg;

	(void)state;
	/* defaults: Postfix's smtp_*_timeout values */
	load_ok("", &cfg);
	assert_int_equal(cfg.smtp.connect_timeout, 30);
	assert_int_equal(cfg.smtp.greeting_timeout, 300);
	assert_int_equal(cfg.smtp.rcpt_timeout, 300);
	assert_int_equal(cfg.smtp.data_timeout, 120);
	assert_int_equal(cfg.smtp.data_transfer_timeout, 180);
	assert_int_equal(cfg.smtp.data_done_timeout, 600);
	assert_int_equal(cfg.smtp.time_limit, 900);
	assert_int_equal(cfg.backoff_initial, 300);
	assert_int_equal(cfg.backoff_max, 3600);
	assert_false(cfg.fleet_backoff);
	assert_int_equal(cfg.spool.memory_limit, 1024 * 1024);
	assert_string_equal(cfg.spool.directory, "/tmp");
	assert_int_equal(cfg.journal.retention, 30 * 86400);
	mx_config_free(&cfg);

	load_ok("smtp {\n connect_timeout = 5\n data_done_timeout = 60\n quit_timeout = 2\n}\n"
		"policy { backoff_initial = 10  backoff_max = 60 }\n"
		"spool { memory_limit = 0  directory = \"/var/tmp\" }\n"
		"journal { retention = 86400 }\n", &cfg);
	assert_int_equal(cfg.smtp.connect_timeout, 5);
	assert_int_equal(cfg.smtp.data_done_timeout, 60);
	assert_int_equal(cfg.smtp.quit_timeout, 2);
	assert_int_equal(cfg.backoff_initial, 10);
	assert_int_equal(cfg.backoff_max, 60);
	assert_false(cfg.fleet_backoff);
	assert_int_equal(cfg.spool.memory_limit, 0);
	assert_string_equal(cfg.spool.directory, "/var/tmp");
	assert_int_equal(cfg.journal.retention, 86400);
	mx_config_free(&cfg);

	/* policy.fleet_backoff: off unless asked for, a boolean like the others */
	load_ok("policy { fleet_backoff = true }\n", &cfg);
	assert_true(cfg.fleet_backoff);
	mx_config_free(&cfg);
	load_ok("policy { fleet_backoff = false }\n", &cfg);
	assert_false(cfg.fleet_backoff);
	mx_config_free(&cfg);
	assert_true(mx_config_defaults(&cfg));
	assert_false(cfg.fleet_backoff);
	mx_config_free(&cfg);
	expect_message("policy {\n\tfleet_backoff = sometimes\n}\n", NAME ":2: "
		       "policy.fleet_backoff: \"sometimes\" is not valid; expected true or false");
	expect_message("fleet_backoff = true\n", NAME ":1: fleet_backoff is a key of section policy "
		       "and must be written inside it, as policy { fleet_backoff = ... }");

	expect_message("smtp {\n\trcpt_timeout = 0\n}\n", NAME ":2: smtp.rcpt_timeout: 0 is out "
		       "of range; expected 1 to 3600 seconds");
	expect_error("spool {\n\tdirectory = \"tmp\"\n}\n", NAME ":2:", "absolute");
}

static void
test_config_unknown_section(void **state)
{
	(void)state;
	expect_message("resolver { }\n\ndelivery {\n\tport = 25\n}\n",
		       NAME ":3: unknown section \"delivery\"; expected one of resolver, "
		       "policy, smtp, spool, journal, tls, fleet");
}

static void
test_config_top_level_key(void **state)
{
	(void)state;
	expect_message("\ntimeout = 5\n", NAME ":2: timeout is a key of section resolver "
		       "and must be written inside it, as resolver { timeout = ... }");
	/* libconfuse's "section|key" paths are not a way around sections */
	expect_message("policy|fallback = \"qmail\"\n", NAME ":1: fallback must be written "
		       "inside its section, as policy { fallback = ... }");
	expect_error("smtp|port = 25\n", NAME ":1: port must be written inside its section",
		     NULL);
}

static void
test_config_duplicate_section(void **state)
{
	(void)state;
	expect_message("policy {\n\tmax_sessions = 3\n}\nsmtp { }\npolicy {\n\tmax_addresses = 4\n}\n",
		       NAME ":5: section policy is given a second time; write all of its keys "
		       "in one policy { ... } block");
}

static void
test_config_bad_enum(void **state)
{
	static const struct {
		const char *section, *key, *expected;
	} keys[] = {
		{ "policy", "fallback", "postfix, greeting, qmail" },
		{ "policy", "cname_targets", "lenient, strict" },
		{ "policy", "address_preference", "any, ipv4, ipv6" },
		{ "policy", "inet_protocols", "all, ipv4, ipv6" },
		{ "policy", "loop_action", "defer, bounce" },
		{ "smtp", "starttls", "none, opportunistic, require" },
	};
	char	text[256], want[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(want, sizeof(want), NAME ":3: %s.%s: \"sendmail\" is not valid; "
			 "expected one of %s", keys[i].section, keys[i].key, keys[i].expected);
		expect_message(one_key(text, sizeof(text), keys[i].section, keys[i].key,
				       "\"sendmail\""), want);
		/* words are lower case */
		snprintf(want, sizeof(want), NAME ":3: %s.%s: \"", keys[i].section, keys[i].key);
		expect_error(one_key(text, sizeof(text), keys[i].section, keys[i].key,
				     "\"POSTFIX\""), want, "is not valid; expected one of");
	}
}

/* int_value - the struct member a ranged key fills */
static int
int_value(const struct mx_config *cfg, const char *key)
{
	if (strcmp(key, "timeout") == 0)
		return cfg->resolver.timeout;
	if (strcmp(key, "tries") == 0)
		return cfg->resolver.tries;
	if (strcmp(key, "max_addresses") == 0)
		return cfg->policy.max_addresses;
	if (strcmp(key, "max_sessions") == 0)
		return cfg->policy.max_sessions;
	if (strcmp(key, "max_mx_records") == 0)
		return cfg->policy.max_mx_records;
	if (strcmp(key, "port") == 0)
		return cfg->smtp.port;
	fail_msg("no such key %s", key);
	return -1;
}

static void
test_config_out_of_range(void **state)
{
	static const struct {
		const char *section, *key;
		long	min, max;
		const char *unit;
	} keys[] = {
		{ "resolver", "timeout", 1, 300, " seconds" },
		{ "resolver", "tries", 1, 10, "" },
		{ "policy", "max_addresses", 1, 100, "" },
		{ "policy", "max_sessions", 1, 100, "" },
		{ "policy", "max_mx_records", 1, 1000, "" },
		{ "smtp", "port", 1, 65535, "" },
	};
	struct mx_config cfg;
	char	text[256], value[32], want[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		/* one below the least, one above the most */
		snprintf(value, sizeof(value), "%ld", keys[i].min - 1);
		snprintf(want, sizeof(want), NAME ":3: %s.%s: %s is out of range; expected "
			 "%ld to %ld%s", keys[i].section, keys[i].key, value, keys[i].min,
			 keys[i].max, keys[i].unit);
		expect_message(one_key(text, sizeof(text), keys[i].section, keys[i].key, value),
			       want);
		snprintf(value, sizeof(value), "%ld", keys[i].max + 1);
		snprintf(want, sizeof(want), NAME ":3: %s.%s: %s is out of range; expected "
			 "%ld to %ld%s", keys[i].section, keys[i].key, value, keys[i].min,
			 keys[i].max, keys[i].unit);
		expect_message(one_key(text, sizeof(text), keys[i].section, keys[i].key, value),
			       want);
		/* both ends themselves are fine */
		snprintf(value, sizeof(value), "%ld", keys[i].min);
		load_ok(one_key(text, sizeof(text), keys[i].section, keys[i].key, value), &cfg);
		assert_int_equal(int_value(&cfg, keys[i].key), keys[i].min);
		mx_config_free(&cfg);
		snprintf(value, sizeof(value), "%ld", keys[i].max);
		load_ok(one_key(text, sizeof(text), keys[i].section, keys[i].key, value), &cfg);
		assert_int_equal(int_value(&cfg, keys[i].key), keys[i].max);
		mx_config_free(&cfg);
	}
	/* far beyond a long */
	expect_message("policy {\n\tmax_sessions = 99999999999999999999999\n}\n",
		       NAME ":2: policy.max_sessions: 99999999999999999999999 is out of range; "
		       "expected 1 to 100");
	expect_message("resolver {\n\ttimeout = -5\n}\n", NAME ":2: resolver.timeout: -5 is "
		       "out of range; expected 1 to 300 seconds");
}

static void
test_config_string_for_number(void **state)
{
	(void)state;
	expect_message("resolver {\n\ttimeout = \"five\"\n}\n", NAME ":2: resolver.timeout: "
		       "\"five\" is not a number; expected a whole number from 1 to 300 seconds");
	expect_message("smtp {\n\tport = 25x\n}\n", NAME ":2: smtp.port: \"25x\" is not a "
		       "number; expected a whole number from 1 to 65535");
	expect_error("policy {\n\tmax_addresses = 5.5\n}\n", NAME ":2: policy.max_addresses: "
		     "\"5.5\" is not a number", NULL);
	/* hexadecimal and octal are not taken: 010 is ten */
	expect_error("smtp {\n\tport = 0x19\n}\n", NAME ":2: smtp.port: \"0x19\" is not a number",
		     NULL);
	expect_error("resolver {\n\ttries = \"\"\n}\n", NAME ":2: resolver.tries: \"\" is not a "
		     "number", NULL);
}

static void
test_config_bad_bool(void **state)
{
	(void)state;
	expect_message("policy {\n\trandomize_addresses = maybe\n}\n", NAME ":2: "
		       "policy.randomize_addresses: \"maybe\" is not valid; expected true or false");
	expect_error("policy {\n\trandomize_addresses = 1\n}\n", NAME ":2: "
		     "policy.randomize_addresses: \"1\" is not valid", NULL);
}

static void
test_config_bad_cidr(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "300.1.1.1", "10.0.0.0/", "10.0.0.0/8x", "fe80::/129",
		"example.com", "",
	};
	char	text[256], value[64], want[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(value, sizeof(value), "{\"192.0.2.0/24\", \"%s\"}", bad[i]);
		snprintf(want, sizeof(want), NAME ":3: policy.ignore_networks: \"%s\" is not "
			 "valid; expected an IP address or a network ADDRESS/LENGTH", bad[i]);
		expect_error(one_key(text, sizeof(text), "policy", "ignore_networks", value),
			     want, NULL);
		snprintf(want, sizeof(want), NAME ":3: policy.local_addresses: \"%s\" is not "
			 "valid; expected", bad[i]);
		expect_error(one_key(text, sizeof(text), "policy", "local_addresses", value),
			     want, NULL);
	}
	/* the line is that of the bad item in a list over several lines */
	expect_error("policy {\n\tignore_networks = {\n\t\t\"10.0.0.0/8\",\n\t\t\"10.0.0.0/99\"\n"
		     "\t}\n}\n", NAME ":4: policy.ignore_networks: \"10.0.0.0/99\"", NULL);
}

static void
test_config_bad_server(void **state)
{
	(void)state;
	/* a host name instead of an address */
	expect_error("resolver {\n\tservers = {\"127.0.0.1\", \"ns1.example.com\"}\n}\n",
		     NAME ":2: resolver.servers: \"ns1.example.com\" is not valid: ",
		     "expected an IP address with an optional port: ADDRESS, ADDRESS:PORT or "
		     "[IPV6]:PORT");
	/* bad ports */
	expect_error("resolver {\n\tservers = \"127.0.0.1:0\"\n}\n",
		     NAME ":2: resolver.servers: \"127.0.0.1:0\" is not valid: ", "port");
	expect_error("resolver {\n\tservers = \"127.0.0.1:65536\"\n}\n",
		     NAME ":2: resolver.servers: \"127.0.0.1:65536\" is not valid: ", "port");
	expect_error("resolver {\n\tservers = \"127.0.0.1:dns\"\n}\n",
		     NAME ":2: resolver.servers: \"127.0.0.1:dns\" is not valid: ", "port");
	/* brackets are for IPv6 only, and must close */
	expect_error("resolver {\n\tservers = \"[::1\"\n}\n",
		     NAME ":2: resolver.servers: \"[::1\" is not valid: ", NULL);
	expect_error("resolver {\n\tservers = \"[192.0.2.1]:53\"\n}\n",
		     NAME ":2: resolver.servers: \"[192.0.2.1]:53\" is not valid: ", NULL);
	expect_error("resolver {\n\tservers = \"\"\n}\n",
		     NAME ":2: resolver.servers: \"\" is not valid: ", NULL);
}

static void
test_config_bad_fallback_relay(void **state)
{
	static const char *const bad[] = {
		"relay..example.net", "relay.example.net:0", "relay.example.net:smtp",
		"[relay.example.net]:25", "relay_1.example.net", "",
	};
	char	text[256], value[64], want[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(value, sizeof(value), "{\"relay.example.net\", \"%s\"}", bad[i]);
		snprintf(want, sizeof(want), NAME ":3: policy.fallback_relay: \"%s\" is not "
			 "valid: ", bad[i]);
		expect_error(one_key(text, sizeof(text), "policy", "fallback_relay", value),
			     want, "expected a host name or IP address with an optional port: "
			     "HOST, HOST:PORT or [IPV6]:PORT");
	}
}

static void
test_config_bad_local_name(void **state)
{
	(void)state;
	expect_error("policy {\n\tlocal_names = {\"mx.example.com\", \"mx..example.com\"}\n}\n",
		     NAME ":2: policy.local_names: \"mx..example.com\" is not a valid domain name: ",
		     NULL);
	expect_error("policy {\n\tlocal_names = \"192.0.2.1]\"\n}\n",
		     NAME ":2: policy.local_names: \"192.0.2.1]\" is not a valid domain name: ",
		     NULL);
}

static void
test_config_helo_name(void **state)
{
	struct mx_config cfg;

	(void)state;
	expect_error("smtp {\n\thelo_name = \"mail_out.example.com\"\n}\n",
		     NAME ":2: smtp.helo_name: \"mail_out.example.com\" is not a valid host "
		     "name: ", "leave it empty (\"\") to use this machine's name");
	expect_error("smtp {\n\thelo_name = \"-mx.example.com\"\n}\n",
		     NAME ":2: smtp.helo_name: \"-mx.example.com\" is not a valid host name", NULL);
	load_ok("smtp {\n\thelo_name = \"\"\n}\n", &cfg);
	assert_string_equal(cfg.smtp.helo_name, "");
	mx_config_free(&cfg);
}

static void
test_config_journal_path(void **state)
{
	(void)state;
	expect_message("journal {\n\tpath = \"journal.db\"\n}\n", NAME ":2: journal.path: "
		       "\"journal.db\" is not an absolute path; expected a path that starts with "
		       "\"/\", such as " LOCALSTATEDIR "/lib/mxtier/journal.db");
	expect_error("journal {\n\tpath = \"./journal.db\"\n}\n", NAME ":2: journal.path: "
		     "\"./journal.db\" is not an absolute path", NULL);
	expect_message("journal {\n\tpath = \"\"\n}\n", NAME ":2: journal.path: the path is "
		       "empty; expected an absolute path such as " LOCALSTATEDIR
		       "/lib/mxtier/journal.db");
}

static void
test_config_missing_brace(void **state)
{
	(void)state;
	/* at the end of the file: the line is where the section opens */
	expect_message("resolver { }\n\nsmtp {\n\tport = 25\n\n", NAME ":3: section smtp opens "
		       "here but is never closed; a \"}\" is missing");
	/* before the next section: that section is found inside the open one */
	expect_message("resolver {\n\ttimeout = 5\n\npolicy {\n}\n", NAME ":4: section policy "
		       "cannot be inside section resolver; is the \"}\" that closes resolver "
		       "missing?");
	/* a list */
	expect_message("policy {\n\tignore_networks = {\"10.0.0.0/8\",\n", NAME ":2: the list "
		       "of policy.ignore_networks opens here but is never closed; a \"}\" is "
		       "missing");
	/* a closing brace too many */
	expect_message("smtp {\n\tport = 25\n}\n}\n", NAME ":4: unexpected \"}\" at the top "
		       "level; there is no section to close");
	/* no opening brace */
	expect_message("policy = 5\n", NAME ":1: section policy must be followed by \"{\", as "
		       "policy { key = value ... }");
}

static void
test_config_garbage_token(void **state)
{
	(void)state;
	expect_error("policy {\n\tmax_sessions = 2 3\n}\n", NAME ":2: unexpected \"3\" in "
		     "section policy where a key was expected", NULL);
	expect_message("resolver {\n\ttries = 2\n\t= 5\n}\n", NAME ":3: unexpected \"=\" in "
		       "section resolver");
	expect_message("policy {\n\tmax_sessions =\n}\n", NAME ":3: unexpected \"}\" in section "
		       "policy; a value is missing before it");
	expect_message("smtp {\n\tstarttls \"none\"\n}\n", NAME ":2: smtp.starttls: expected "
		       "\"=\" after the key");
	expect_error("@@@ {\n}\n", NAME ":1: unexpected \"@@@\" at the top level", NULL);
	expect_error("smtp\n", NAME ":2: unexpected end of file after \"smtp\"", NULL);
}

static void
test_config_list_syntax(void **state)
{
	(void)state;
	expect_message("resolver {\n\tservers = {\"127.0.0.1\" \"::1\"}\n}\n", NAME ":2: "
		       "unexpected \"::1\" in section resolver; the items of a list must be "
		       "separated by \",\"");
	expect_message("resolver {\n\ttimeout = {5}\n}\n", NAME ":2: unexpected \"{\" in "
		       "section resolver; only a section or the value of a list key can start "
		       "with \"{\"");
	expect_message("smtp {\n\tport += 25\n}\n", NAME ":2: smtp.port: \"+=\" adds to a "
		       "list, but this key takes one value; use \"=\"");
}

static void
test_config_unterminated(void **state)
{
	(void)state;
	expect_message("policy {\n\tfallback = \"qmail\n}\n", NAME ":2: a quoted string starts "
		       "here but never ends; a closing '\"' is missing");
	expect_message("policy {\n\tfallback = 'qmail\n}\n", NAME ":2: a quoted string starts "
		       "here but never ends; a closing \"'\" is missing");
	expect_message("policy {\n}\n/* the rest\nis commented out\n", NAME ":3: a comment "
		       "starts here but never ends; a closing \"*/\" is missing");
	expect_error("smtp {\n\thelo_name = \"a\\9\"\n}\n", NAME ":2: bad escape sequence",
		     NULL);
}

static void
test_config_failure_frees(void **state)
{
	struct mx_config cfg;
	char	err[256];

	(void)state;
	/* an error after lists were read leaves nothing behind */
	assert_false(mx_config_load_buf("resolver { servers = {\"127.0.0.1\"} }\n"
					"policy { local_names = {\"mx.example.com\"}\n"
					"\tmax_sessions = 0 }\n", NAME, &cfg, err, sizeof(err)));
	assert_freed(&cfg);
	mx_config_free(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_free_twice(void **state)
{
	struct mx_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	mx_config_free(&cfg);
	mx_config_free(NULL);
	load_ok("resolver { servers = {\"127.0.0.1\"} }\n"
		"policy { local_names = {\"mx.example.com\"}\n"
		"\tlocal_addresses = {\"192.0.2.1\"}\n"
		"\tfallback_relay = {\"relay.example.com\"} }\n", &cfg);
	mx_config_free(&cfg);
	assert_freed(&cfg);
	mx_config_free(&cfg);
	assert_true(mx_config_defaults(&cfg));
	mx_config_free(&cfg);
	mx_config_free(&cfg);
}

static void
test_config_small_error_buffer(void **state)
{
	struct mx_config cfg;
	char	err[12];

	(void)state;
	memset(err, 'x', sizeof(err));
	assert_false(mx_config_load_buf("policy { fallback = nope }", NAME, &cfg, err, 8));
	assert_string_equal(err, "test.co");
	assert_int_equal(err[8], 'x');
	assert_false(mx_config_load_buf("policy { fallback = nope }", NAME, &cfg, NULL, 0));
}

static void
test_config_token_names(void **state)
{
	(void)state;
	assert_string_equal(mx_fallback_preset_name(MX_FALLBACK_POSTFIX), "postfix");
	assert_string_equal(mx_fallback_preset_name(MX_FALLBACK_GREETING), "greeting");
	assert_string_equal(mx_fallback_preset_name(MX_FALLBACK_QMAIL), "qmail");
	assert_string_equal(mx_tls_level_name(MX_TLS_NONE), "none");
	assert_string_equal(mx_tls_level_name(MX_TLS_MAY), "may");
	assert_string_equal(mx_tls_level_name(MX_TLS_DANE_ONLY), "dane-only");
}

static void
test_config_tls_level_and_its_older_name(void **state)
{
	static const struct { const char *text; enum mx_tls_level level; } cases[] = {
		{ "", MX_TLS_MAY },
		{ "smtp {\n\ttls_level = \"dane\"\n}\n", MX_TLS_DANE },
		{ "smtp {\n\ttls_level = \"dane-only\"\n}\n", MX_TLS_DANE_ONLY },
		{ "smtp {\n\ttls_level = \"secure\"\n}\n", MX_TLS_SECURE },
		{ "smtp {\n\tstarttls = \"none\"\n}\n", MX_TLS_NONE },
		{ "smtp {\n\tstarttls = \"opportunistic\"\n}\n", MX_TLS_MAY },
		{ "smtp {\n\tstarttls = \"require\"\n}\n", MX_TLS_ENCRYPT },
		/* both: tls_level wins */
		{ "smtp {\n\tstarttls = \"none\"\n\ttls_level = \"verify\"\n}\n", MX_TLS_VERIFY },
	};
	struct mx_config cfg;
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		load_ok(cases[i].text, &cfg);
		assert_int_equal(cfg.smtp.tls_level, cases[i].level);
		assert_int_equal(cfg.policy.tls_level, cases[i].level);	/* the planner's copy */
		mx_config_free(&cfg);
	}
}

static void
test_config_tls_section(void **state)
{
	struct mx_config cfg;

	(void)state;
	mx_config_defaults(&cfg);
	assert_string_equal(cfg.tls.ca_file, "");
	assert_int_equal(cfg.tls.min_version, 0x0303);
	assert_true(cfg.tls.mta_sts);
	assert_int_equal(cfg.tls.mta_sts_timeout, 10);
	assert_int_equal(cfg.tls.mta_sts_max_size, 65536);
	mx_config_free(&cfg);
	load_ok("tls {\n\tca_file = \"/etc/ssl/certs/ca-certificates.crt\"\n\tca_path = "
		"\"/etc/ssl/certs\"\n\tmin_version = \"TLSv1.3\"\n\tmta_sts = false\n"
		"\tmta_sts_timeout = 3\n}\nresolver {\n\ttrusted = {\"192.0.2.53\", "
		"\"[2001:db8::53]:5353\"}\n}\n", &cfg);
	assert_string_equal(cfg.tls.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	assert_string_equal(cfg.tls.ca_path, "/etc/ssl/certs");
	assert_int_equal(cfg.tls.min_version, 0x0304);
	assert_false(cfg.tls.mta_sts);
	assert_int_equal(cfg.tls.mta_sts_timeout, 3);
	assert_int_equal(cfg.resolver.ntrusted, 2);
	assert_string_equal(cfg.resolver.trusted[1], "[2001:db8::53]:5353");
	mx_config_free(&cfg);
}

static void
test_config_tls_errors(void **state)
{
	char	buf[256];

	(void)state;
	expect_message(one_key(buf, sizeof(buf), "smtp", "tls_level", "\"dane-or-not\""),
		       NAME ":3: smtp.tls_level: \"dane-or-not\" is not valid; expected one of "
		       "none, may, encrypt, verify, secure, dane, dane-only");
	expect_message(one_key(buf, sizeof(buf), "tls", "min_version", "\"SSLv3\""),
		       NAME ":3: tls.min_version: \"SSLv3\" is not valid; expected one of "
		       "TLSv1, TLSv1.1, TLSv1.2, TLSv1.3");
	expect_message(one_key(buf, sizeof(buf), "tls", "ca_file", "\"certs.pem\""),
		       NAME ":3: tls.ca_file: \"certs.pem\" is not an absolute path; expected a "
		       "path that starts with \"/\", such as /etc/ssl/certs/ca-certificates.crt");
	expect_message(one_key(buf, sizeof(buf), "resolver", "trusted", "{\"ns.example\"}"),
		       NAME ":3: resolver.trusted: \"ns.example\" is not valid: 'ns.example' is not "
		       "an IP address; expected an IP address with an optional port: ADDRESS, "
		       "ADDRESS:PORT or [IPV6]:PORT");
}

/* assert_no_secret - a message must not show the password */
static void
assert_no_secret(const char *text, const char *secret)
{
	struct mx_config cfg;
	char	err[1024] = "";

	if (mx_config_load_buf(text, NAME, &cfg, err, sizeof(err))) {
		mx_config_free(&cfg);
		fail_msg("invalid text accepted:\n%s", text);
	}
	if (strstr(err, secret) != NULL)
		fail_msg("the message shows the password \"%s\": \"%s\"", secret, err);
	mx_config_free(&cfg);
}

static void
test_config_fleet(void **state)
{
	struct mx_config cfg;
	char	host[256], want[MX_FLEET_NODE_MAX + 1], text[512];

	(void)state;
	/* defaults: no fleet URL, the node is the short host name */
	assert_true(mx_config_defaults(&cfg));
	assert_string_equal(cfg.fleet.url, "");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	host[MX_FLEET_NODE_MAX] = '\0';
	memcpy(want, host, strlen(host) + 1);
	assert_string_equal(cfg.fleet.node, want);
	assert_true(mx_fleet_node_valid(cfg.fleet.node));
	mx_config_free(&cfg);
	load_ok("fleet {\n\turl = \"postgres://db.example.net/fleet\"\n}\n", &cfg);
	assert_string_equal(cfg.fleet.url, "postgres://db.example.net/fleet");
	assert_string_equal(cfg.fleet.node, want);
	mx_config_free(&cfg);

	load_ok("fleet {\n\turl = \"postgresql://mxtier:s3cret@db.example.net:5433/fleet"
		"?sslmode=require\"\n\tnode = \"relay-3.a_b\"\n}\n", &cfg);
	assert_string_equal(cfg.fleet.url,
			    "postgresql://mxtier:s3cret@db.example.net:5433/fleet?sslmode=require");
	assert_string_equal(cfg.fleet.node, "relay-3.a_b");
	mx_config_free(&cfg);

	/* the scheme: anything else is refused with file:line, password masked */
	expect_message("fleet {\n\turl = \"mysql://u@db/fleet\"\n}\n", NAME ":2: fleet.url: "
		       "\"mysql://u@db/fleet\" is not valid; expected a URI that starts with "
		       "postgresql:// or postgres://, such as "
		       "\"postgresql://mxtier@db.example.net/fleet\"");
	expect_error("fleet {\n\turl = \"host=db dbname=fleet\"\n}\n", NAME ":2: fleet.url: ",
		     "expected a URI that starts with postgresql://");
	expect_error("fleet {\n\turl = \"POSTGRESQL://db/fleet\"\n}\n", NAME ":2: fleet.url: ",
		     "postgresql://");
	expect_error("fleet {\n\turl = \"\"\n}\n", NAME ":2: fleet.url: \"\" is not valid", NULL);
	expect_error("fleet {\n\turl = \"postgresql://db/fleet x\"\n}\n", NAME ":2: fleet.url: ",
		     "no spaces or control characters");
	expect_error("fleet {\n\turl = \"mysql://u:hunter2@db/fleet\"\n}\n", NAME ":2: fleet.url: "
		     "\"mysql://u:****@db/fleet\" is not valid", NULL);
	assert_no_secret("fleet {\n\turl = \"mysql://u:hunter2@db/fleet\"\n}\n", "hunter2");
	assert_no_secret("fleet {\n\turl = \"postgresql://u:hunter2@db/fleet?a=b c\"\n}\n",
			 "hunter2");
	assert_no_secret("fleet {\n\turl = \"postgresql://db/fleet?password=hunter2 \"\n}\n",
			 "hunter2");
	assert_no_secret("fleet {\n\turl = \"host=db password=hunter2\"\n}\n", "hunter2");

	/* node names */
	expect_message("fleet {\n\tnode = \"relay 3\"\n}\n", NAME ":2: fleet.node: \"relay 3\" is "
		       "not a valid node name; expected 1 to 63 letters, digits, \".\", \"_\" or "
		       "\"-\" (leave the key out to use this machine's short host name)");
	expect_error("fleet {\n\tnode = \"\"\n}\n", NAME ":2: fleet.node: \"\" is not a valid", NULL);
	expect_error("fleet {\n\tnode = \"r\xc3\xa9lai\"\n}\n", NAME ":2: fleet.node: ", NULL);
	expect_error("fleet {\n\tnode = \"a/b\"\n}\n", NAME ":2: fleet.node: ", NULL);
	memset(text, 0, sizeof(text));
	snprintf(text, sizeof(text), "fleet {\n\tnode = \"%0*d\"\n}\n", MX_FLEET_NODE_MAX + 1, 0);
	expect_error(text, NAME ":2: fleet.node: ", "not a valid node name");
	snprintf(text, sizeof(text), "fleet {\n\tnode = \"%0*d\"\n}\n", MX_FLEET_NODE_MAX, 0);
	load_ok(text, &cfg);
	assert_int_equal(strlen(cfg.fleet.node), MX_FLEET_NODE_MAX);
	mx_config_free(&cfg);
	/* the keys belong in their section */
	expect_error("url = \"postgresql://db/fleet\"\n", NAME ":1: url is a key of section fleet "
		     "and must be written inside it, as fleet { url = ... }", NULL);
}

static void
test_config_fleet_url_mask(void **state)
{
	static const struct {
		const char *url, *masked;
	} cases[] = {
		{ "postgresql://mxtier:s3cret@db.example.net:5432/fleet",
		  "postgresql://mxtier:****@db.example.net:5432/fleet" },
		{ "postgresql://mxtier@db/fleet", "postgresql://mxtier@db/fleet" },
		{ "postgresql://db/fleet", "postgresql://db/fleet" },
		{ "postgres://u:p%40ss@w@db/x", "postgres://u:****@db/x" },
		{ "postgresql://u:pw@db/fleet?sslmode=require&password=two&x=1",
		  "postgresql://u:****@db/fleet?sslmode=require&password=****&x=1" },
		{ "postgresql:///fleet?host=/run/pg&PASSWORD=x", "postgresql:///fleet?host=/run/pg&PASSWORD=****" },
		{ "postgresql://db/fleet?mypassword=keep", "postgresql://db/fleet?mypassword=keep" },
		{ "host=db password=two user=u", "host=db password=**** user=u" },
		{ "postgresql://:pw@db", "postgresql://:****@db" },
		{ "", "" },
	};
	char	out[256], small[12];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(mx_fleet_url_mask(cases[i].url, out, sizeof(out)),
				    cases[i].masked);
	/* truncated, still terminated, still without the password */
	mx_fleet_url_mask("postgresql://u:secretpw@db", small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_null(strstr(small, "secret"));
	assert_string_equal(mx_fleet_url_mask(NULL, out, sizeof(out)), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_tls_level_and_its_older_name),
		cmocka_unit_test(test_config_tls_section),
		cmocka_unit_test(test_config_tls_errors),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_default_path),
		cmocka_unit_test(test_config_empty_file_is_defaults),
		cmocka_unit_test(test_config_full_file),
		cmocka_unit_test(test_config_syntax_forms),
		cmocka_unit_test(test_config_comments_keep_lines),
		cmocka_unit_test(test_config_missing_file_defaults),
		cmocka_unit_test(test_config_missing_file_required),
		cmocka_unit_test(test_config_unreadable_directory),
		cmocka_unit_test(test_config_unreadable_permissions),
		cmocka_unit_test(test_config_real_file),
		cmocka_unit_test(test_config_nul_byte),
		cmocka_unit_test(test_config_huge_file),
		cmocka_unit_test(test_config_unknown_key),
		cmocka_unit_test(test_config_unknown_section),
		cmocka_unit_test(test_config_top_level_key),
		cmocka_unit_test(test_config_duplicate_section),
		cmocka_unit_test(test_config_bad_enum),
		cmocka_unit_test(test_config_out_of_range),
		cmocka_unit_test(test_config_string_for_number),
		cmocka_unit_test(test_config_bad_bool),
		cmocka_unit_test(test_config_bad_cidr),
		cmocka_unit_test(test_config_bad_server),
		cmocka_unit_test(test_config_bad_fallback_relay),
		cmocka_unit_test(test_config_bad_local_name),
		cmocka_unit_test(test_config_helo_name),
		cmocka_unit_test(test_config_journal_path),
		cmocka_unit_test(test_config_delivery_keys),
		cmocka_unit_test(test_config_missing_brace),
		cmocka_unit_test(test_config_garbage_token),
		cmocka_unit_test(test_config_list_syntax),
		cmocka_unit_test(test_config_unterminated),
		cmocka_unit_test(test_config_failure_frees),
		cmocka_unit_test(test_config_free_twice),
		cmocka_unit_test(test_config_small_error_buffer),
		cmocka_unit_test(test_config_token_names),
		cmocka_unit_test(test_config_fleet),
		cmocka_unit_test(test_config_fleet_url_mask),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
