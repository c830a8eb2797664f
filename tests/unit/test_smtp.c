/*
 * test_smtp - mx_smtp_attempt() against real SMTP peers on loopback
 *
 * Every test starts the peers it needs and stops them in its teardown,
 * also when it fails (the peers also get SIGTERM if this process dies:
 * PR_SET_PDEATHSIG). Two kinds of peer:
 *   smtp-sink   Postfix's test server ($MXT_SMTP_SINK, default
 *		 /usr/sbin/smtp-sink) with its failure options; ready when a
 *		 connect() succeeds (bounded retry, 10 ms apart)
 *   smtppeer	 tests/smtp/smtppeer ($MXT_SMTPPEER, relative to the current
 *		 directory) for what smtp-sink cannot do; ready when it prints
 *		 "smtppeer ready PORT". Its transcript (-L) shows what the
 *		 client sent; its dump (-d) holds each message exactly.
 * Each peer listens on its own 127.0.0.1xx address. The TLS certificates
 * (a test CA, good ones for mx.test and mx.sub.example.test, a wrong-name,
 * an expired and a self-signed one, and their TLSA data) are made by
 * tests/tls/certs.sh ($MXT_CERTS_SH) with the openssl command when the group
 * starts and removed with the temporary folder at the end ($MXT_KEEP=1
 * keeps it). Messages reach mx_smtp_attempt() through a memory spool read
 * from a pipe.
 *
 * Timing is never asserted: the timeout tests check where and how the
 * session ended; a client that ignored its deadline would hang until the
 * peer's lifetime ended and then fail on the stage or kind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smtp.h"
#include "tlslib.h"

#define MAX_PEERS	3
#define MAX_CHILDREN	64
#define WAIT_READY_MS	10000	/* a peer that is not ready by then is broken */
#define TOP_MAX		256	/* path of the temporary folder ($TMPDIR is cut at 200) */
#define DIR_MAX		(TOP_MAX + 16)
#define FILE_MAX	(DIR_MAX + 32)

struct peer {
	pid_t	pid;
	bool	sink;			/* smtp-sink, else smtppeer */
	char	addr[INET_ADDRSTRLEN];
	int	port;
	char	log[FILE_MAX];		/* smtppeer: transcript */
	char	dump[FILE_MAX];		/* smtppeer: dump file; smtp-sink: dump folder */
};

struct fixture {
	char	dir[DIR_MAX];		/* this test's folder */
	const char *host;		/* the MX host name the attempts give: "mx.test" */
	struct peer peers[MAX_PEERS];
	int	npeers;
	int	nfiles;
};

/* The outcome of one attempt. */
struct run {
	struct mx_smtp_result res;
	struct mx_smtp_rcpt rcpt[4];
};

static char topdir[TOP_MAX];
static char certdir[DIR_MAX], certfile[FILE_MAX], cafile[FILE_MAX];
static const char *peer_bin, *sink_bin, *certs_sh;
static pid_t children[MAX_CHILDREN];
static int ntests, next_addr;

static const char *const one_rcpt[] = { "c@d.test" };

/* --- processes -------------------------------------------------------- */

/* now_ms - monotonic milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* child_note - remember a child so that nothing outlives the test */
static void
child_note(pid_t pid, bool add)
{
	int	i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (add ? children[i] == 0 : children[i] == pid) {
			children[i] = add ? pid : 0;
			return;
		}
}

/* kill_children - at exit: stop whatever is still running */
static void
kill_children(void)
{
	int	i;

	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
}

/*
 * spawn - start argv with stdout to a pipe (*out) or /dev/null; a tool
 * (found in PATH) gets its stderr silenced too
 */
static pid_t
spawn(char *const argv[], int *out, bool tool)
{
	pid_t	parent = getpid(), pid;
	int	p[2] = { -1, -1 };

	if (out != NULL && pipe2(p, O_CLOEXEC) != 0)
		fail_msg("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int	null = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		dup2(null, 0);
		dup2(out != NULL ? p[1] : null, 1);
		if (tool)
			dup2(null, 2);
		if (tool)
			execvp(argv[0], argv);
		else
			execv(argv[0], argv);
		fprintf(stderr, "test_smtp: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	child_note(pid, true);
	if (out != NULL) {
		close(p[1]);
		*out = p[0];
	}
	return pid;
}

/* reap - wait at most ms for pid; true when it ended (status in *st) */
static bool
reap(pid_t pid, int ms, int *st)
{
	long long until = now_ms() + ms;

	for (;;) {
		pid_t	r = waitpid(pid, st, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD)) {
			child_note(pid, false);
			return true;
		}
		if (now_ms() >= until)
			return false;
		poll(NULL, 0, 10);
	}
}

/* stop - SIGTERM, a bounded wait, then SIGKILL */
static void
stop(pid_t pid)
{
	int	st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	if (!reap(pid, 5000, &st)) {
		kill(pid, SIGKILL);
		reap(pid, 5000, &st);
	}
}

/* run_quiet - run a command to its end; true on exit status 0 */
static bool
run_quiet(char *const argv[])
{
	pid_t	pid = spawn(argv, NULL, true);
	int	st = 0;

	if (!reap(pid, 60000, &st)) {
		stop(pid);
		return false;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* --- files -------------------------------------------------------------- */

/* slurp - a whole file, NUL-terminated (*len without it); NULL if missing */
static char *
slurp(const char *path, size_t *len)
{
	FILE   *fp = fopen(path, "rb");
	char   *buf = NULL;
	size_t	cap = 0, n = 0, got;

	if (fp == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
	} while (got > 0);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* put_file - write text into a new file of the test; returns its path */
static const char *
put_file(struct fixture *fx, const char *what, const char *text)
{
	static char path[FILE_MAX];
	FILE   *fp;

	snprintf(path, sizeof(path), "%s/%.8s.%d", fx->dir, what, ++fx->nfiles % 100);
	fp = fopen(path, "w");
	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	return path;
}

/* rm_entry - nftw callback: remove one entry */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

/* --- peers ---------------------------------------------------------------- */

/* new_peer - a slot with a fresh loopback address 127.0.0.101..199 */
static struct peer *
new_peer(struct fixture *fx)
{
	struct peer *pr;

	assert_true(fx->npeers < MAX_PEERS);
	pr = &fx->peers[fx->npeers++];
	memset(pr, 0, sizeof(*pr));
	snprintf(pr->addr, sizeof(pr->addr), "127.0.0.%d", 101 + next_addr++ % 99);
	return pr;
}

/* free_port - a port nobody listens on at addr; *keep holds it bound if not NULL */
static int
free_port(const char *addr, int *keep)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		fail_msg("bind %s: %s", addr, strerror(errno));
	if (keep != NULL)
		*keep = fd;
	else
		close(fd);
	return ntohs(sin.sin_port);
}

/* can_connect - is something listening on addr:port */
static bool
can_connect(const char *addr, int port)
{
	struct sockaddr_in sin;
	int	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool	ok;

	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &sin.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/*
 * sink_start - smtp-sink with options (a NULL-terminated list), dumping
 * each message into its own folder
 */
static struct peer *
sink_start(struct fixture *fx, ...)
{
	struct peer *pr = new_peer(fx);
	char   *argv[32], listen_on[64], tmpl[FILE_MAX + 8];
	const char *opt;
	va_list	ap;
	int	n = 0, st;
	long long until;

	pr->sink = true;
	snprintf(pr->dump, sizeof(pr->dump), "%s/sink%d", fx->dir, fx->npeers % 10);
	if (mkdir(pr->dump, 0700) != 0)
		fail_msg("mkdir %s: %s", pr->dump, strerror(errno));
	snprintf(tmpl, sizeof(tmpl), "%s/%%M.", pr->dump);
	pr->port = free_port(pr->addr, NULL);
	snprintf(listen_on, sizeof(listen_on), "%s:%d", pr->addr, pr->port);

	argv[n++] = (char *)sink_bin;
	if (geteuid() == 0) {		/* smtp-sink insists on -u when run as root */
		argv[n++] = "-u";
		argv[n++] = "root";
	}
	argv[n++] = "-d";
	argv[n++] = tmpl;
	argv[n++] = "-t";
	argv[n++] = "30";
	va_start(ap, fx);
	while ((opt = va_arg(ap, const char *)) != NULL && n < 26)
		argv[n++] = (char *)opt;
	va_end(ap);
	argv[n++] = listen_on;
	argv[n++] = "16";
	argv[n] = NULL;
	pr->pid = spawn(argv, NULL, false);

	until = now_ms() + WAIT_READY_MS;
	while (!can_connect(pr->addr, pr->port)) {
		if (reap(pr->pid, 0, &st)) {
			pr->pid = 0;
			fail_msg("smtp-sink on %s exited before it was ready", listen_on);
		}
		if (now_ms() > until)
			fail_msg("smtp-sink on %s not ready after %d ms", listen_on, WAIT_READY_MS);
		poll(NULL, 0, 10);
	}
	return pr;
}

/*
 * peer_start_cert - smtppeer running script (and later for the connections
 * after the first, if not NULL), with TLS when cert is not NULL: the
 * certificate cert.pem and key cert.key of certs.sh ("mx.test", "expired"),
 * speaking TLS versions up to maxver ("1.2") when not NULL
 */
static struct peer *
peer_start_cert(struct fixture *fx, const char *script, const char *later, const char *cert,
		const char *maxver)
{
	struct peer *pr = new_peer(fx);
	char   *argv[32], spath[FILE_MAX], lpath[FILE_MAX], line[128];
	char	cpath[FILE_MAX], kpath[FILE_MAX];
	size_t	len = 0;
	int	n = 0, fd;
	long long until;

	snprintf(spath, sizeof(spath), "%s", put_file(fx, "script", script));
	if (later != NULL)
		snprintf(lpath, sizeof(lpath), "%s", put_file(fx, "later", later));
	snprintf(pr->log, sizeof(pr->log), "%s/peer%d.log", fx->dir, fx->npeers % 10);
	snprintf(pr->dump, sizeof(pr->dump), "%s/peer%d.dump", fx->dir, fx->npeers % 10);
	argv[n++] = (char *)peer_bin;
	argv[n++] = "-l";
	argv[n++] = pr->addr;
	argv[n++] = "-p";
	argv[n++] = "0";
	argv[n++] = "-s";
	argv[n++] = spath;
	if (later != NULL) {
		argv[n++] = "-S";
		argv[n++] = lpath;
	}
	argv[n++] = "-t";
	argv[n++] = "30";
	argv[n++] = "-d";
	argv[n++] = pr->dump;
	argv[n++] = "-L";
	argv[n++] = pr->log;
	if (cert != NULL) {
		snprintf(cpath, sizeof(cpath), "%s/%s.pem", certdir, cert);
		snprintf(kpath, sizeof(kpath), "%s/%s.key", certdir, cert);
		argv[n++] = "-c";
		argv[n++] = cpath;
		argv[n++] = "-k";
		argv[n++] = kpath;
	}
	if (maxver != NULL) {
		argv[n++] = "-V";
		argv[n++] = (char *)maxver;
	}
	argv[n] = NULL;
	pr->pid = spawn(argv, &fd, false);

	until = now_ms() + WAIT_READY_MS;
	while (memchr(line, '\n', len) == NULL) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = until - now_ms();
		ssize_t	got;

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			fail_msg("smtppeer not ready after %d ms", WAIT_READY_MS);
		got = read(fd, line + len, sizeof(line) - 1 - len);
		if (got <= 0 || len + (size_t)got >= sizeof(line) - 1)
			fail_msg("smtppeer did not start (see its message above)");
		len += (size_t)got;
	}
	close(fd);
	line[len] = '\0';
	if (sscanf(line, "smtppeer ready %d", &pr->port) != 1 || pr->port <= 0)
		fail_msg("smtppeer said \"%s\"", line);
	return pr;
}

/* peer_start - peer_start_cert with the good mx.test certificate when tls */
static struct peer *
peer_start(struct fixture *fx, const char *script, const char *later, bool tls)
{
	return peer_start_cert(fx, script, later, tls ? "mx.test" : NULL, NULL);
}

/* peers_stop - stop every peer of the test (their files stay) */
static void
peers_stop(struct fixture *fx)
{
	int	i;

	for (i = 0; i < fx->npeers; i++) {
		stop(fx->peers[i].pid);
		fx->peers[i].pid = 0;
	}
}

/* --- what the peers saw --------------------------------------------------- */

/* peer_log - the smtppeer transcript after stopping the peers; caller frees */
static char *
peer_log(struct fixture *fx, const struct peer *pr)
{
	char   *t;

	peers_stop(fx);
	t = slurp(pr->log, NULL);
	if (t == NULL)
		t = strdup("");
	assert_non_null(t);
	return t;
}

/* has_line - does text hold line as a whole line */
static bool
has_line(const char *text, const char *line)
{
	size_t	n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

/* count_prefix - how many lines start with prefix */
static int
count_prefix(const char *text, const char *prefix)
{
	size_t	n = strlen(prefix);
	const char *p = text;
	int	count = 0;

	while (*p) {
		if (strncmp(p, prefix, n) == 0)
			count++;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return count;
}

/* expect_log - the transcript has this whole line, or show it and fail */
#define expect_log(log, line) check_log(log, line, __LINE__)
static void
check_log(const char *log, const char *line, int where)
{
	if (!has_line(log, line))
		fail_msg("line %d: the peer's transcript lacks \"%s\":\n%s", where, line, log);
}

/* expect_script_done - no "!" line in the transcript; each session ran to the end */
static void
expect_script_done(const char *log, int connections)
{
	if (count_prefix(log, "!") != 0)
		fail_msg("the peer saw something unexpected:\n%s", log);
	if (count_prefix(log, "# end of script") != connections ||
	    count_prefix(log, "# connection") != connections)
		fail_msg("wanted %d whole session(s):\n%s", connections, log);
}

/* sink_dump - the one message smtp-sink dumped (NULL if none); caller frees */
static char *
sink_dump(struct fixture *fx, const struct peer *pr)
{
	char	path[FILE_MAX + 256], *text = NULL;
	DIR    *d;
	struct dirent *e;
	int	files = 0;

	peers_stop(fx);
	d = opendir(pr->dump);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		snprintf(path, sizeof(path), "%s/%s", pr->dump, e->d_name);
		free(text);
		text = slurp(path, NULL);
	}
	closedir(d);
	if (files > 1)
		fail_msg("smtp-sink dumped %d messages, wanted at most one", files);
	return text;
}

/*
 * expect_no_message - smtp-sink got no message text. (It may leave the
 * envelope of an unfinished transaction in a dump file until the session
 * ends, so the file alone proves nothing.)
 */
static void
expect_no_message(struct fixture *fx, const struct peer *pr, const char *text)
{
	char   *dump = sink_dump(fx, pr);

	if (dump != NULL && strstr(dump, text) != NULL)
		fail_msg("smtp-sink received the message:\n%s", dump);
	free(dump);
}

/* sink_body - the message in a smtp-sink dump: after its Received: header */
static const char *
sink_body(const char *dump)
{
	const char *p = strstr(dump, "\nReceived: ");

	if (p == NULL)
		fail_msg("no Received: header in the dump:\n%s", dump);
	for (p++;;) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
		if (*p != '\t' && *p != ' ')
			return p;
	}
}

/* --- the client side ------------------------------------------------------ */

/* opts - short deadlines everywhere */
static void
opts(struct mx_smtp_opts *o, enum mx_tls_need tls)
{
	int	i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < MX_SMTP_STAGES; i++)
		o->timeout_ms[i] = 2000;
	o->data_transfer_ms = 2000;
	o->helo_name = "client.test";
	o->tls.need = tls;
}

/* spool_of - a memory spool holding msg, read from a pipe */
static struct mx_spool *
spool_of(struct fixture *fx, const char *msg, size_t len)
{
	struct mx_spool *sp;
	char	err[256] = "";
	int	p[2];
	pid_t	writer = 0;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	if (len <= 4096) {		/* fits in the pipe */
		assert_int_equal(write(p[1], msg, len), (ssize_t)len);
	} else if ((writer = fork()) == 0) {
		size_t	done = 0;

		close(p[0]);
		while (done < len) {
			ssize_t	n = write(p[1], msg + done, len - done);

			if (n <= 0)
				_exit(1);
			done += (size_t)n;
		}
		_exit(0);
	}
	assert_true(writer >= 0);
	close(p[1]);
	sp = mx_spool_read(p[0], 64 * 1024 * 1024, fx->dir, err, sizeof(err));
	close(p[0]);
	if (writer > 0)
		waitpid(writer, NULL, 0);
	if (sp == NULL)
		fail_msg("mx_spool_read: %s", err);
	return sp;
}

/* attempt - one mx_smtp_attempt to the peer; pending NULL means all */
static void
attempt(struct fixture *fx, const struct peer *pr, const struct mx_smtp_opts *o,
	const char *sender, const char *const *rcpts, size_t n, const bool *pending,
	const char *msg, size_t msglen, struct run *r)
{
	static const bool all[4] = { true, true, true, true };
	struct mx_smtp_envelope env = { sender, rcpts, n };
	struct mx_spool *sp = spool_of(fx, msg, msglen);
	struct mx_ip ip;

	assert_true(n <= 4);
	assert_true(mx_ip_parse(pr->addr, &ip));
	memset(r, 0x5A, sizeof(*r));	/* the attempt must set everything it reports */
	mx_smtp_attempt(o, &ip, pr->port, fx->host, &env, pending ? pending : all, sp, r->rcpt,
			&r->res);
	mx_spool_free(sp);
}

/* attempt_simple - sender a@b, one recipient, a small message */
static void
attempt_simple(struct fixture *fx, const struct peer *pr, const struct mx_smtp_opts *o,
	       struct run *r)
{
	static const char msg[] = "Subject: test\n\nhello\n";

	attempt(fx, pr, o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, r);
}

/* expect_outcome - where and how the session ended, or say all about it */
#define expect_outcome(fx, r, stage, kind) check_outcome(fx, r, stage, kind, __LINE__)
static void
check_outcome(struct fixture *fx, const struct run *r, enum mx_stage stage,
	      enum mx_failure_kind kind, int where)
{
	int	i;

	if (r->res.stage == stage && r->res.kind == kind)
		return;
	for (i = 0; i < fx->npeers; i++) {
		char   *t;

		if (fx->peers[i].sink || (t = peer_log(fx, &fx->peers[i])) == NULL)
			continue;
		fprintf(stderr, "--- transcript of peer %d\n%s", i, t);
		free(t);
	}
	fail_msg("line %d: the session ended at %s with kind %d (reply %d %s \"%s\", "
		 "detail \"%s\"); wanted %s, kind %d", where, mx_stage_name(r->res.stage),
		 (int)r->res.kind, r->res.reply.code, r->res.reply.enhanced, r->res.reply.text,
		 r->res.detail, mx_stage_name(stage), (int)kind);
}

/* expect_delivered - accepted, and the per-recipient facts that go with it */
static void
expect_delivered(struct fixture *fx, const struct run *r, size_t n)
{
	size_t	i;

	expect_outcome(fx, r, MX_STAGE_DOT, MX_FAIL_NONE);
	assert_int_equal(r->res.reply.code / 100, 2);
	assert_true(r->res.reached_greeting);
	for (i = 0; i < n; i++) {
		assert_true(r->rcpt[i].tried);
		assert_true(r->rcpt[i].accepted);
		assert_true(r->rcpt[i].delivered);
		assert_int_equal(r->rcpt[i].reply.code / 100, 2);
	}
}

/* expect_nothing_delivered - no recipient delivered */
static void
expect_nothing_delivered(const struct run *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		assert_false(r->rcpt[i].delivered);
}

/* dump_of - the smtppeer dump (exactly what arrived); "" when none */
static char *
dump_of(struct fixture *fx, const struct peer *pr, size_t *len)
{
	char   *t;

	peers_stop(fx);
	t = slurp(pr->dump, len);
	if (t == NULL) {
		t = strdup("");
		*len = 0;
	}
	assert_non_null(t);
	return t;
}

/* The usual start and end of an smtppeer session. */
#define GREET		"send 220 mx.test ESMTP smtppeer\\r\\n\n"
#define EHLO_PLAIN	"expect EHLO client.test\nsend 250-mx.test\\r\\n250 ENHANCEDSTATUSCODES\\r\\n\n"
#define BYE		"expect QUIT\nsend 221 2.0.0 bye\\r\\n\n"
#define ACCEPT_ONE	"expect MAIL FROM:<a@b>\nsend 250 2.1.0 ok\\r\\n\n" \
			"expect RCPT TO:<c@d.test>\nsend 250 2.1.5 ok\\r\\n\n" \
			"expect DATA\nsend 354 go ahead\\r\\n\n" \
			"data\nsend 250 2.0.0 queued as X\\r\\n\n"

/* --- fixtures ------------------------------------------------------------- */

/* group_setup - temporary folder, certificate, peer programs (TLS loads itself) */
static int
group_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char   *certs[] = { "bash", NULL, certdir, "mx.test", "mx.sub.example.test", NULL };

	(void)state;
	atexit(kill_children);
	signal(SIGPIPE, SIG_IGN);
	peer_bin = getenv("MXT_SMTPPEER");
	if (peer_bin == NULL || *peer_bin == '\0')
		peer_bin = "tests/smtp/smtppeer";
	certs_sh = getenv("MXT_CERTS_SH");
	if (certs_sh == NULL || *certs_sh == '\0')
		certs_sh = "tests/tls/certs.sh";
	certs[1] = (char *)certs_sh;
	sink_bin = getenv("MXT_SMTP_SINK");
	if (sink_bin == NULL || *sink_bin == '\0')
		sink_bin = "/usr/sbin/smtp-sink";
	if (access(peer_bin, X_OK) != 0) {
		fprintf(stderr, "test_smtp: %s: %s (build it, or set MXT_SMTPPEER)\n", peer_bin,
			strerror(errno));
		return -1;
	}
	if (access(sink_bin, X_OK) != 0) {
		fprintf(stderr, "test_smtp: %s: %s (install postfix, or set MXT_SMTP_SINK)\n",
			sink_bin, strerror(errno));
		return -1;
	}
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 200)
		tmp = "/tmp";
	snprintf(topdir, sizeof(topdir), "%s/mxt-smtp.XXXXXX", tmp);
	if (mkdtemp(topdir) == NULL) {
		fprintf(stderr, "test_smtp: mkdtemp %s: %s\n", topdir, strerror(errno));
		return -1;
	}
	snprintf(certdir, sizeof(certdir), "%s/certs", topdir);
	snprintf(certfile, sizeof(certfile), "%s/mx.test.pem", certdir);
	snprintf(cafile, sizeof(cafile), "%s/ca.pem", certdir);
	if (!run_quiet(certs) || access(certfile, R_OK) != 0 || access(cafile, R_OK) != 0) {
		fprintf(stderr, "test_smtp: %s could not make the test certificates\n", certs_sh);
		return -1;
	}
	/* no mx_smtp_tls_init() here: the first STARTTLS must load OpenSSL */
	return 0;
}

/* group_teardown - free TLS, remove the folder */
static int
group_teardown(void **state)
{
	const char *keep = getenv("MXT_KEEP");

	(void)state;
	kill_children();
	mx_smtp_tls_free();
	if (topdir[0] != '\0' && (keep == NULL || strcmp(keep, "1") != 0))
		nftw(topdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else if (topdir[0] != '\0')
		fprintf(stderr, "test_smtp: files kept in %s\n", topdir);
	return 0;
}

/* setup - a folder for the test */
static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "%s/t%03d", topdir, ++ntests % 1000);
	fx->host = "mx.test";
	if (mkdir(fx->dir, 0700) != 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

/* teardown - stop the peers, pass or fail */
static int
teardown(void **state)
{
	struct fixture *fx = *state;

	peers_stop(fx);
	free(fx);
	return 0;
}

/* --- delivery to smtp-sink ---------------------------------------------- */

static void
test_smtp_delivered_to_sink(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "From: a@b\nSubject: dots\n\n.leading dot\n..two dots\n.\n"
				  "middle . line\n.\n..\nno final newline";
	static const char *const rcpts[] = { "c@d.test", "e@f.test" };
	struct peer *pr = sink_start(fx, NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 2, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 2);
	assert_false(r.res.tls);		/* smtp-sink offers no STARTTLS */
	assert_string_equal(r.res.detail, "");
	assert_true(r.res.duration_ms >= 0);

	dump = sink_dump(fx, pr);
	assert_non_null(dump);
	if (!has_line(dump, "X-Client-Proto: ESMTP") || !has_line(dump, "X-Helo-Args: client.test") ||
	    !has_line(dump, "X-Mail-Args: <a@b>") || !has_line(dump, "X-Rcpt-Args: <c@d.test>") ||
	    !has_line(dump, "X-Rcpt-Args: <e@f.test>"))
		fail_msg("unexpected envelope in the dump:\n%s", dump);
	/* smtp-sink un-stuffs the dots, writes LF line ends, and adds an empty line */
	assert_string_equal(sink_body(dump), "From: a@b\nSubject: dots\n\n.leading dot\n"
			    "..two dots\n.\nmiddle . line\n.\n..\nno final newline\n\n");
	free(dump);
}

static void
test_smtp_null_sender(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: bounce\n\nyour mail\n";
	struct peer *pr = sink_start(fx, NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	dump = sink_dump(fx, pr);
	assert_non_null(dump);
	if (!has_line(dump, "X-Mail-Args: <>"))
		fail_msg("not MAIL FROM:<>:\n%s", dump);
	free(dump);
}

static void
test_smtp_only_pending_recipients(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: x\n\ny\n";
	static const char *const rcpts[] = { "r0@d.test", "r1@d.test", "r2@d.test" };
	static const bool pending[] = { true, false, true };
	struct peer *pr = sink_start(fx, NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *dump;

	opts(&o, MX_TLSNEED_NONE);
	attempt(fx, pr, &o, "a@b", rcpts, 3, pending, msg, sizeof(msg) - 1, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_NONE);
	assert_true(r.rcpt[0].delivered);
	assert_true(r.rcpt[2].delivered);
	assert_false(r.rcpt[1].tried);
	assert_false(r.rcpt[1].accepted);
	assert_false(r.rcpt[1].delivered);
	dump = sink_dump(fx, pr);
	assert_non_null(dump);
	assert_true(has_line(dump, "X-Rcpt-Args: <r0@d.test>"));
	assert_false(has_line(dump, "X-Rcpt-Args: <r1@d.test>"));
	assert_true(has_line(dump, "X-Rcpt-Args: <r2@d.test>"));
	free(dump);
}

static void
test_smtp_ehlo_refused_helo_used(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-f", "EHLO", NULL);	/* 500 to EHLO */
	struct mx_smtp_opts o;
	struct run r;
	char   *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	dump = sink_dump(fx, pr);
	assert_non_null(dump);
	if (!has_line(dump, "X-Client-Proto: SMTP") || !has_line(dump, "X-Helo-Args: client.test") ||
	    !has_line(dump, "X-Mail-Args: <a@b>"))
		fail_msg("not a HELO session:\n%s", dump);
	free(dump);
}

/* --- failures from smtp-sink -------------------------------------------- */

static void
test_smtp_421_greeting(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-Q", "CONNECT", NULL);	/* 421 and close */
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 421);
	assert_string_equal(r.res.reply.enhanced, "4.0.0");
	assert_true(r.res.reached_greeting);
	assert_false(r.rcpt[0].tried);
	expect_nothing_delivered(&r, 1);
}

static void
test_smtp_5xx_greeting(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-f", "CONNECT", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code / 100, 5);
	assert_true(r.res.reached_greeting);
	assert_false(r.rcpt[0].tried);
	expect_no_message(fx, pr, "hello");	/* smtp-sink would take it: we must not send */
}

static void
test_smtp_connection_refused(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = new_peer(fx);
	struct mx_smtp_opts o;
	struct run r;
	int	keep;

	/* a bound socket that does not listen: connect() is refused */
	pr->port = free_port(pr->addr, &keep);
	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	close(keep);
	expect_outcome(fx, &r, MX_STAGE_CONNECT, MX_FAIL_CONNECT);
	assert_false(r.res.reached_greeting);
	assert_false(r.res.tls);
	assert_int_equal(r.res.reply.code, 0);
	assert_false(r.rcpt[0].tried);
	assert_non_null(strstr(r.res.detail, "refused"));
}

static void
test_smtp_4xx_at_rcpt(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-r", "RCPT", NULL);	/* 450 4.3.0 */
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_RCPT, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 450);
	assert_true(r.rcpt[0].tried);
	assert_false(r.rcpt[0].accepted);
	assert_false(r.rcpt[0].delivered);
	assert_int_equal(r.rcpt[0].reply.code, 450);
	assert_string_equal(r.rcpt[0].reply.enhanced, "4.3.0");
	expect_no_message(fx, pr, "hello");
}

static void
test_smtp_5xx_at_rcpt_all(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "hello\n";
	static const char *const rcpts[] = { "c@d.test", "e@f.test" };
	struct peer *pr = sink_start(fx, "-f", "RCPT", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 2, NULL, msg, sizeof(msg) - 1, &r);
	expect_outcome(fx, &r, MX_STAGE_RCPT, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code / 100, 5);
	assert_true(r.rcpt[0].tried && r.rcpt[1].tried);
	assert_int_equal(r.rcpt[0].reply.code / 100, 5);
	assert_int_equal(r.rcpt[1].reply.code / 100, 5);
	expect_nothing_delivered(&r, 2);
	expect_no_message(fx, pr, "hello");
}

static void
test_smtp_5xx_at_mail(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-f", "MAIL", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_MAIL, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 500);
	assert_string_equal(r.res.reply.enhanced, "5.3.0");
	assert_false(r.rcpt[0].tried);
	expect_nothing_delivered(&r, 1);
	expect_no_message(fx, pr, "hello");
}

static void
test_smtp_5xx_at_data(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-f", "DATA", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_DATA, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code / 100, 5);
	assert_true(r.rcpt[0].accepted);
	expect_nothing_delivered(&r, 1);
	expect_no_message(fx, pr, "hello");
}

static void
test_smtp_5xx_after_dot(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-f", ".", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code / 100, 5);
	assert_true(r.rcpt[0].accepted);
	expect_nothing_delivered(&r, 1);
}

static void
test_smtp_lost_after_dot(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, "-q", ".", NULL);	/* hang up, no reply */
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_LOST);
	assert_true(r.res.reached_greeting);
	assert_true(r.rcpt[0].accepted);
	expect_nothing_delivered(&r, 1);
	assert_non_null(strstr(r.res.detail, "lost connection"));
}

static void
test_smtp_starttls_required_not_offered(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = sink_start(fx, NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_ENCRYPT);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_true(r.res.reached_greeting);
	assert_false(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_NONE);
	assert_string_equal(r.res.tls_failure, "starttls-not-supported");
	assert_false(r.rcpt[0].tried);
	assert_non_null(strstr(r.res.detail, "not offered"));
	expect_no_message(fx, pr, "hello");
}

/* --- scripted peers: recipients and pipelining ----------------------------- */

static void
test_smtp_two_rcpts_one_rejected(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: two\n\nbody\n";
	static const char *const rcpts[] = { "c@d.test", "nobody@d.test" };
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250 ENHANCEDSTATUSCODES\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect RCPT TO:<nobody@d.test>\n"
		"expect DATA\n"
		"send 250 2.1.0 ok\\r\\n250 2.1.5 ok\\r\\n"
		"550 5.1.1 <nobody@d.test>: Recipient address rejected\\r\\n354 go\\r\\n\n"
		"data\n"
		"send 250 2.0.0 queued\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 2, NULL, msg, sizeof(msg) - 1, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_NONE);
	assert_true(r.rcpt[0].delivered);
	assert_int_equal(r.rcpt[0].reply.code, 250);
	assert_true(r.rcpt[1].tried);
	assert_false(r.rcpt[1].accepted);
	assert_false(r.rcpt[1].delivered);
	assert_int_equal(r.rcpt[1].reply.code, 550);
	assert_string_equal(r.rcpt[1].reply.enhanced, "5.1.1");
	assert_string_equal(r.rcpt[1].reply.text, "<nobody@d.test>: Recipient address rejected");
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_pipelining_back_to_back(void **state)
{
	struct fixture *fx = *state;
	/* no reply before DATA: a client that waits for one never gets there */
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250 8BITMIME\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect DATA\n"
		"send 250 ok\\r\\n250 ok\\r\\n354 go\\r\\n\n"
		"data\nsend 250 ok\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_no_pipelining_waits(void **state)
{
	struct fixture *fx = *state;
	/* without PIPELINING every command waits for its reply: the peer checks it */
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN
		"expect MAIL FROM:<a@b>\nsleep 300\nquiet\nsend 250 ok\\r\\n\n"
		"expect RCPT TO:<c@d.test>\nsleep 300\nquiet\nsend 250 ok\\r\\n\n"
		"expect DATA\nsend 354 go\\r\\n\n"
		"data\nsend 250 ok\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);		/* "quiet" found nothing sent ahead */
	free(log);
}

static void
test_smtp_pipelined_mail_rejected(void **state)
{
	struct fixture *fx = *state;
	/* the client must read the replies to RCPT and DATA too, then say QUIT */
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 PIPELINING\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect DATA\n"
		"send 553 5.7.1 <a@b>: Sender address rejected\\r\\n"
		"503 5.5.1 need MAIL\\r\\n554 5.5.1 no valid recipients\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_MAIL, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 553);
	assert_string_equal(r.res.reply.enhanced, "5.7.1");
	assert_false(r.rcpt[0].delivered);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_pipelined_all_rcpts_rejected_354(void **state)
{
	struct fixture *fx = *state;
	static const char *const rcpts[] = { "c@d.test", "e@d.test" };
	/* RFC 2920 3.1: DATA got 354 though nobody was accepted: send "." at once */
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 PIPELINING\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect RCPT TO:<e@d.test>\n"
		"expect DATA\n"
		"send 250 ok\\r\\n450 4.2.0 c: try later\\r\\n550 5.1.1 e: no such user\\r\\n"
		"354 go\\r\\n\n"
		"data\n"
		"send 554 5.5.1 no valid recipients\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *log, *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 2, NULL, "x\n", 2, &r);
	expect_outcome(fx, &r, MX_STAGE_RCPT, MX_FAIL_REPLY);
	assert_int_equal(r.rcpt[0].reply.code, 450);
	assert_int_equal(r.rcpt[1].reply.code, 550);
	assert_int_equal(r.res.reply.code, 550);	/* the last refusal */
	expect_nothing_delivered(&r, 2);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, 0);			/* an empty message, not ours */
	free(dump);
}

/* 452 "too many recipients" after an accepted one: flagged for a new session */
static void
test_smtp_452_too_many_recipients(void **state)
{
	struct fixture *fx = *state;
	static const char *const rcpts[] = { "r0@d.test", "r1@d.test", "r2@d.test" };
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 PIPELINING\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<r0@d.test>\n"
		"expect RCPT TO:<r1@d.test>\n"
		"expect RCPT TO:<r2@d.test>\n"
		"expect DATA\n"
		"send 250 ok\\r\\n250 ok\\r\\n450 4.2.0 r1 later\\r\\n452 4.5.3 Too many recipients"
		"\\r\\n354 go\\r\\n\n"
		"data\nsend 250 2.0.0 queued\\r\\n\n" BYE, NULL, false);
	struct peer *first = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 PIPELINING\\r\\n\n"
		"expect MAIL FROM:<a@b>\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect DATA\n"
		"send 250 ok\\r\\n452 4.3.1 Insufficient system storage\\r\\n554 no valid recipients\\r\\n\n"
		BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 3, NULL, "x\n", 2, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_NONE);
	assert_true(r.rcpt[0].delivered);
	assert_false(r.rcpt[0].too_many);
	assert_false(r.rcpt[1].delivered);
	assert_false(r.rcpt[1].too_many);		/* a 450 is that recipient's own */
	assert_int_equal(r.rcpt[2].reply.code, 452);
	assert_false(r.rcpt[2].delivered);
	assert_true(r.rcpt[2].too_many);

	/* a 452 with nobody accepted is the server's trouble, not "too many" */
	attempt_simple(fx, first, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_RCPT, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 452);
	assert_false(r.rcpt[0].too_many);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

/*
 * RFC 2920 3.1: pipelined commands go in bounded groups; the client reads a
 * group's replies before it writes the next ("quiet" after "sleep" proves
 * it waited), so a long recipient list cannot fill the server's buffers
 */
static void
test_smtp_pipelining_bounded_groups(void **state)
{
	struct fixture *fx = *state;
	enum { N = 40, FIRST = 31 };	/* MAIL and 31 RCPTs make the first group of 32 */
	char   *rcpts[N], script[16384];
	size_t	used = 0, i;
	bool	pending[N];
	struct mx_smtp_rcpt rc[N];
	struct mx_smtp_result res;
	struct mx_smtp_envelope env = { "a@b", (const char *const *)rcpts, N };
	struct mx_smtp_opts o;
	struct mx_spool *sp;
	struct mx_ip ip;
	struct peer *pr;
	char   *log;

	used += (size_t)snprintf(script + used, sizeof(script) - used, GREET
				 "expect EHLO client.test\n"
				 "send 250-mx.test\\r\\n250 PIPELINING\\r\\n\n"
				 "expect MAIL FROM:<a@b>\n");
	for (i = 0; i < N; i++) {
		rcpts[i] = malloc(32);
		assert_non_null(rcpts[i]);
		snprintf(rcpts[i], 32, "r%02zu@d.test", i);
		pending[i] = true;
		used += (size_t)snprintf(script + used, sizeof(script) - used, "expect RCPT TO:<%s>\n",
					 rcpts[i]);
		if (i == FIRST - 1) {
			size_t	j;

			used += (size_t)snprintf(script + used, sizeof(script) - used,
						 "sleep 300\nquiet\nsend ");
			for (j = 0; j <= FIRST; j++)
				used += (size_t)snprintf(script + used, sizeof(script) - used,
							 "250 ok\\r\\n");
			used += (size_t)snprintf(script + used, sizeof(script) - used, "\n");
		}
	}
	used += (size_t)snprintf(script + used, sizeof(script) - used, "expect DATA\n"
				 "sleep 300\nquiet\nsend ");
	for (i = FIRST; i < N; i++)
		used += (size_t)snprintf(script + used, sizeof(script) - used, "250 ok\\r\\n");
	snprintf(script + used, sizeof(script) - used, "354 go\\r\\n\ndata\nsend 250 ok\\r\\n\n" BYE);
	pr = peer_start(fx, script, NULL, false);

	opts(&o, MX_TLSNEED_MAY);
	sp = spool_of(fx, "x\n", 2);
	assert_true(mx_ip_parse(pr->addr, &ip));
	mx_smtp_attempt(&o, &ip, pr->port, "mx.test", &env, pending, sp, rc, &res);
	mx_spool_free(sp);
	log = peer_log(fx, pr);
	if (res.kind != MX_FAIL_NONE)
		fail_msg("ended at %s kind %d (%s); transcript:\n%s", mx_stage_name(res.stage),
			 (int)res.kind, res.detail, log);
	for (i = 0; i < N; i++) {
		assert_true(rc[i].delivered);
		free(rcpts[i]);
	}
	expect_script_done(log, 1);
	assert_int_equal(count_prefix(log, "C: RCPT TO:"), N);
	free(log);
}

/*
 * thousands of recipients to smtp-sink through PIPELINING: every group's
 * replies come back, DATA goes alone after a full last group, and each
 * recipient arrives exactly once
 */
static void
test_smtp_pipelining_thousands_of_recipients(void **state)
{
	struct fixture *fx = *state;
	enum { N = 31 + 32 * 93 };	/* the last group is full: DATA goes alone */
	static const char msg[] = "Subject: many\n\nhello\n";
	char  **rcpts = calloc(N, sizeof(*rcpts)), want[64], *dump;
	bool   *pending = calloc(N, sizeof(*pending));
	struct mx_smtp_rcpt *rc = calloc(N, sizeof(*rc));
	struct mx_smtp_envelope env = { "a@b", NULL, N };
	struct mx_smtp_result res;
	struct mx_smtp_opts o;
	struct mx_spool *sp;
	struct mx_ip ip;
	struct peer *pr = sink_start(fx, NULL);
	size_t	i;

	assert_non_null(rcpts);
	assert_non_null(pending);
	assert_non_null(rc);
	for (i = 0; i < N; i++) {
		rcpts[i] = malloc(32);
		assert_non_null(rcpts[i]);
		snprintf(rcpts[i], 32, "r%04zu@d.test", i);
		pending[i] = true;
	}
	env.rcpts = (const char *const *)rcpts;
	opts(&o, MX_TLSNEED_NONE);
	sp = spool_of(fx, msg, sizeof(msg) - 1);
	assert_true(mx_ip_parse(pr->addr, &ip));
	mx_smtp_attempt(&o, &ip, pr->port, "mx.test", &env, pending, sp, rc, &res);
	mx_spool_free(sp);
	if (res.stage != MX_STAGE_DOT || res.kind != MX_FAIL_NONE)
		fail_msg("ended at %s kind %d (reply %d %s, %s)", mx_stage_name(res.stage),
			 (int)res.kind, res.reply.code, res.reply.text, res.detail);
	for (i = 0; i < N; i++)
		if (!rc[i].delivered)
			fail_msg("recipient %zu not delivered (reply %d)", i, rc[i].reply.code);
	dump = sink_dump(fx, pr);
	assert_non_null(dump);
	assert_int_equal(count_prefix(dump, "X-Rcpt-Args: "), N);
	for (i = 0; i < N; i += 97) {
		snprintf(want, sizeof(want), "X-Rcpt-Args: <%s>", rcpts[i]);
		assert_true(has_line(dump, want));
	}
	free(dump);
	for (i = 0; i < N; i++)
		free(rcpts[i]);
	free(rcpts);
	free(pending);
	free(rc);
}

/* --- scripted peers: ESMTP parameters -------------------------------------- */

static void
test_smtp_size_too_small(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250 SIZE 100\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char	msg[1000], *log;

	memset(msg, 'a', sizeof(msg));
	msg[sizeof(msg) - 1] = '\n';
	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg), &r);
	expect_outcome(fx, &r, MX_STAGE_MAIL, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 552);
	assert_string_equal(r.res.reply.enhanced, "5.3.4");
	assert_false(r.rcpt[0].tried);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);			/* QUIT came right after EHLO */
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	free(log);
}

static void
test_smtp_8bitmime_and_size(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: caf\xc3\xa9\n\n\xe9t\xe9\n";
	/* wire form: CRLF line ends; SIZE counts it without the final "." */
	static const char wire[] = "Subject: caf\xc3\xa9\r\n\r\n\xe9t\xe9\r\n";
	char	script[2048], mail[128];
	struct peer *pr;
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *log, *dump;

	snprintf(mail, sizeof(mail), "MAIL FROM:<a@b> SIZE=%zu BODY=8BITMIME", sizeof(wire) - 1);
	snprintf(script, sizeof(script), GREET
		 "expect EHLO client.test\n"
		 "send 250-mx.test\\r\\n250-SIZE 1000000\\r\\n250 8BITMIME\\r\\n\n"
		 "expect %s\nsend 250 ok\\r\\n\n"
		 "expect RCPT TO:<c@d.test>\nsend 250 ok\\r\\n\n"
		 "expect DATA\nsend 354 go\\r\\n\n"
		 "data\nsend 250 ok\\r\\n\n" BYE, mail);
	pr = peer_start(fx, script, NULL, false);
	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.eight_bit_unannounced);	/* announced */
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	snprintf(script, sizeof(script), "C: %s", mail);	/* exactly that, nothing after */
	expect_log(log, script);
	free(log);
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, sizeof(wire) - 1);
	assert_memory_equal(dump, wire, len);
	free(dump);
}

/*
 * 8-bit body, no 8BITMIME offered: sent as it is (what Exim does), without
 * BODY=8BITMIME, and the result says so; a 7-bit body says nothing
 */
static void
test_smtp_8bit_without_8bitmime(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: x\n\ncaf\xc3\xa9\n";
	static const char wire[] = "Subject: x\r\n\r\ncaf\xc3\xa9\r\n";
	static const char ascii[] = "Subject: x\n\nplain\n";
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN ACCEPT_ONE BYE, NULL, false);
	struct peer *pr7 = peer_start(fx, GREET EHLO_PLAIN ACCEPT_ONE BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *log, *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_true(r.res.eight_bit_unannounced);
	attempt(fx, pr7, &o, "a@b", one_rcpt, 1, NULL, ascii, sizeof(ascii) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.eight_bit_unannounced);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	expect_log(log, "C: MAIL FROM:<a@b>");	/* the whole line: no BODY= */
	free(log);
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, sizeof(wire) - 1);
	assert_memory_equal(dump, wire, len);		/* as it is, not re-encoded */
	free(dump);
}

static void
test_smtp_utf8_rcpt_without_smtputf8(void **state)
{
	struct fixture *fx = *state;
	static const char *const rcpts[] = { "jos\xc3\xa9@d.test" };
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250 8BITMIME\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 1, NULL, "x\n", 2, &r);
	expect_outcome(fx, &r, MX_STAGE_MAIL, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code / 100, 5);
	assert_string_equal(r.res.reply.enhanced, "5.6.7");
	assert_non_null(strstr(r.res.reply.text, "SMTPUTF8"));
	assert_false(r.rcpt[0].tried);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);			/* no MAIL: QUIT after EHLO */
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	free(log);
}

static void
test_smtp_utf8_with_smtputf8(void **state)
{
	struct fixture *fx = *state;
	static const char *const rcpts[] = { "jos\xc3\xa9@d.test" };
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 SMTPUTF8\\r\\n\n"
		"expect MAIL FROM:<a@b> SMTPUTF8\nsend 250 ok\\r\\n\n"
		"expect RCPT TO:<jos\\xc3\\xa9@d.test>\nsend 250 ok\\r\\n\n"
		"expect DATA\nsend 354 go\\r\\n\n"
		"data\nsend 250 ok\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", rcpts, 1, NULL, "x\n", 2, &r);
	expect_delivered(fx, &r, 1);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	expect_log(log, "C: MAIL FROM:<a@b> SMTPUTF8");
	free(log);
}

/* --- scripted peers: the message on the wire -------------------------------- */

static void
test_smtp_data_exact_on_the_wire(void **state)
{
	struct fixture *fx = *state;
	/* bare LF, CRLF, a bare CR, leading dots, a lone dot, no final newline */
	static const char msg[] = "A: 1\r\nB: 2\n\n.one\n..two\r\n.\nmid\rdle\n.\r\nlast";
	static const char want[] = "A: 1\r\nB: 2\r\n\r\n.one\r\n..two\r\n.\r\nmid\r\ndle\r\n"
				   ".\r\nlast\r\n";
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN ACCEPT_ONE BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_string_equal(r.rcpt[0].reply.text, "queued as X");
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(dump, want, len);
	free(dump);
}

static void
test_smtp_empty_message(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN ACCEPT_ONE BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *log, *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, "", 0, &r);
	expect_delivered(fx, &r, 1);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	expect_log(log, "# data 0 octets");
	free(log);
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, 0);
	free(dump);
}

static void
test_smtp_large_message(void **state)
{
	struct fixture *fx = *state;
	size_t	n = 3000000, i, len;
	char   *msg = malloc(n), *dump;
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN ACCEPT_ONE BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	assert_non_null(msg);
	for (i = 0; i < n; i++)		/* 99-octet lines, every 7th starting with "." */
		msg[i] = i % 100 == 99 ? '\n' : (i % 700 == 0 ? '.' : (char)('a' + i % 26));
	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, n, &r);
	expect_delivered(fx, &r, 1);
	dump = dump_of(fx, pr, &len);
	/* CRLF for every LF: one octet more per line; dots un-stuffed again */
	assert_int_equal(len, n + n / 100);
	for (i = 0; i < n; i += 100)
		if (memcmp(dump + i / 100 * 101, msg + i, 99) != 0 ||
		    memcmp(dump + i / 100 * 101 + 99, "\r\n", 2) != 0)
			fail_msg("line %zu differs", i / 100);
	free(dump);
	free(msg);
}

/* --- scripted peers: broken servers ----------------------------------------- */

static void
test_smtp_silent_server(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, "sleep 20000\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	o.timeout_ms[MX_STAGE_GREETING] = 1000;
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_LOST);
	assert_false(r.res.reached_greeting);
	assert_non_null(strstr(r.res.detail, "timed out"));
	assert_false(r.rcpt[0].tried);
}

static void
test_smtp_dripping_greeting(void **state)
{
	struct fixture *fx = *state;
	/* bytes keep coming, but the reply never ends within the stage's deadline */
	struct peer *pr = peer_start(fx, "drip 220-drip\\r\\n 40\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	o.timeout_ms[MX_STAGE_GREETING] = 1000;
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_LOST);
	assert_false(r.res.reached_greeting);
	assert_non_null(strstr(r.res.detail, "timed out"));
}

static void
test_smtp_dripping_after_dot(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET EHLO_PLAIN
		"expect MAIL\nsend 250 ok\\r\\n\nexpect RCPT\nsend 250 ok\\r\\n\n"
		"expect DATA\nsend 354 go\\r\\n\ndata\n"
		"drip 250-still thinking\\r\\n 40\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	o.timeout_ms[MX_STAGE_DOT] = 1000;
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_DOT, MX_FAIL_LOST);
	assert_non_null(strstr(r.res.detail, "timed out"));
	assert_true(r.rcpt[0].accepted);
	expect_nothing_delivered(&r, 1);
}

static void
test_smtp_overlong_reply_line(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, "send 220 \nlongline 100000\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_PROTOCOL);
	assert_false(r.res.reached_greeting);
	assert_non_null(strstr(r.res.detail, "longer than"));
}

static void
test_smtp_garbage_greeting(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, "garbage\nsleep 5000\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_GREETING, MX_FAIL_PROTOCOL);
	assert_non_null(strstr(r.res.detail, "not an SMTP reply"));
	for (const char *p = r.res.detail; *p; p++)	/* no control octets in logs */
		assert_true((unsigned char)*p >= 0x20 || *p == '\t');
}

static void
test_smtp_mixed_codes_in_ehlo_reply(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n550 5.0.0 changed my mind\\r\\n\n"
		"sleep 5000\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_EHLO, MX_FAIL_PROTOCOL);
	assert_true(r.res.reached_greeting);
	assert_non_null(strstr(r.res.detail, "different codes"));
}

static void
test_smtp_ehlo_4xx_no_helo(void **state)
{
	struct fixture *fx = *state;
	/* a temporary EHLO failure is not a reason to try HELO */
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\nsend 421 4.3.2 shutting down\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_EHLO, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 421);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

/* --- STARTTLS ---------------------------------------------------------------- */

#define EHLO_TLS	"expect EHLO client.test\n" \
			"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250 STARTTLS\\r\\n\n" \
			"expect STARTTLS\nsend 220 2.0.0 ready\\r\\n\n"

/* expect_tls_info - "TLSv1.x with cipher NAME" */
static void
expect_tls_info(const struct run *r, const char *version)
{
	char	want[32];

	snprintf(want, sizeof(want), "%s with cipher ", version);
	if (strncmp(r->res.tls_info, want, strlen(want)) != 0 ||
	    strlen(r->res.tls_info) <= strlen(want))
		fail_msg("tls_info \"%s\", wanted \"%s...\"", r->res.tls_info, want);
}

/*
 * test_smtp_openssl_not_loaded_without_starttls - runs first: the sessions
 * of the earlier tests (none) and this plaintext delivery leave OpenSSL out
 * of the process; loading it costs more CPU than a whole delivery
 */
static void
test_smtp_openssl_not_loaded_without_starttls(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET "expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 8BITMIME\\r\\n\n" ACCEPT_ONE BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;

	assert_false(mx_tlslib_loaded());
	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, "x\n", 2, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.tls);
	assert_false(mx_tlslib_loaded());
}

static void
test_smtp_starttls_opportunistic(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: secret\n\n.dot\nend\n";
	static const char want[] = "Subject: secret\r\n\r\n.dot\r\nend\r\n";
	struct peer *pr = peer_start(fx, GREET EHLO_TLS "starttls\n"
		"expect EHLO client.test\nsend 250-mx.test\\r\\n250 8BITMIME\\r\\n\n"
		ACCEPT_ONE BYE, NULL, true);
	struct mx_smtp_opts o;
	struct run r;
	size_t	len;
	char   *log, *dump;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_true(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	assert_string_equal(r.res.tls_failure, "");
	expect_tls_info(&r, "TLSv1.3");
	/* OpenSSL came in with the first STARTTLS (tlslib.h) */
	assert_true(mx_tlslib_loaded());
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	assert_int_equal(count_prefix(log, "# TLS"), 1);
	free(log);
	dump = dump_of(fx, pr, &len);
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(dump, want, len);
	free(dump);
}

static void
test_smtp_starttls_bad_handshake_falls_back(void **state)
{
	struct fixture *fx = *state;
	/* the retry offers STARTTLS again: the client must not take it this time */
	struct peer *pr = peer_start(fx, GREET EHLO_TLS "badtls\n",
		GREET "expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250 STARTTLS\\r\\n\n" ACCEPT_ONE BYE, true);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_NONE);
	assert_string_equal(r.res.tls_failure, "");
	assert_string_equal(r.res.tls_info, "");
	log = peer_log(fx, pr);
	assert_int_equal(count_prefix(log, "# connection"), 2);
	assert_int_equal(count_prefix(log, "C: STARTTLS"), 1);
	assert_int_equal(count_prefix(log, "# end of script"), 1);
	assert_int_equal(count_prefix(log, "!"), 0);
	free(log);
}

static void
test_smtp_starttls_required_bad_handshake(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET EHLO_TLS "badtls\n",
		GREET EHLO_PLAIN ACCEPT_ONE BYE, true);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_ENCRYPT);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_false(r.res.tls);
	assert_string_equal(r.res.tls_failure, "validation-failure");
	assert_false(r.rcpt[0].tried);
	assert_non_null(strstr(r.res.detail, "TLS"));
	log = peer_log(fx, pr);
	assert_int_equal(count_prefix(log, "# connection"), 1);	/* no plaintext retry */
	free(log);
}

static void
test_smtp_starttls_refused_keeps_extensions(void **state)
{
	struct fixture *fx = *state;
	static const char msg[] = "Subject: x\n\n\xff\n";
	/* 454 to STARTTLS: carry on in plaintext with what EHLO offered */
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\n"
		"send 250-mx.test\\r\\n250-PIPELINING\\r\\n250-8BITMIME\\r\\n250 STARTTLS\\r\\n\n"
		"expect STARTTLS\nsend 454 4.7.0 TLS not available\\r\\n\n"
		"expect MAIL FROM:<a@b> BODY=8BITMIME\n"
		"expect RCPT TO:<c@d.test>\n"
		"expect DATA\n"
		"send 250 ok\\r\\n250 ok\\r\\n354 go\\r\\n\n"
		"data\nsend 250 ok\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt(fx, pr, &o, "a@b", one_rcpt, 1, NULL, msg, sizeof(msg) - 1, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.tls);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_starttls_refused_required(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\nsend 250-mx.test\\r\\n250 STARTTLS\\r\\n\n"
		"expect STARTTLS\nsend 454 4.7.0 TLS not available\\r\\n\n" BYE, NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_ENCRYPT);
	attempt_simple(fx, pr, &o, &r);
	/* a TLS failure of this host, the refusal kept as its reply */
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_string_equal(r.res.tls_failure, "starttls-not-supported");
	assert_int_equal(r.res.reply.code, 454);
	assert_false(r.rcpt[0].tried);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

/* 421 to STARTTLS: the server is going away; not "lost connection at MAIL FROM" */
static void
test_smtp_421_to_starttls(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\nsend 250-mx.test\\r\\n250 STARTTLS\\r\\n\n"
		"expect STARTTLS\nsend 421 4.3.2 shutting down\\r\\n\n", NULL, false);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_MAY);
	attempt_simple(fx, pr, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_REPLY);
	assert_int_equal(r.res.reply.code, 421);
	assert_string_equal(r.res.reply.enhanced, "4.3.2");
	assert_string_equal(r.res.reply.text, "shutting down");
	assert_false(r.rcpt[0].tried);
	log = peer_log(fx, pr);
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	assert_int_equal(count_prefix(log, "# connection"), 1);	/* no plaintext retry */
	free(log);
}

static void
test_smtp_starttls_none_ignores_offer(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\nsend 250-mx.test\\r\\n250 STARTTLS\\r\\n\n"
		ACCEPT_ONE BYE, NULL, true);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts(&o, MX_TLSNEED_NONE);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_false(r.res.tls);
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

/* --- authenticated TLS (R15, R16) -------------------------------------------- */

/* A TLS session that goes on to deliver, and one that may only say QUIT. */
#define TLS_ACCEPT	GREET EHLO_TLS "starttls\n" \
			"expect EHLO client.test\nsend 250 mx.test\\r\\n\n" ACCEPT_ONE BYE
#define TLS_QUIT	GREET EHLO_TLS "starttls\n" BYE

/* opts_ca - opts with the test CA as tls.ca_file */
static void
opts_ca(struct mx_smtp_opts *o, enum mx_tls_need tls)
{
	opts(o, tls);
	o->ca_file = cafile;
}

/* tlsa_of - the record certs.sh wrote in NAME.tlsa ("3 1 1 HEX"); data goes in buf */
static void
tlsa_of(const char *name, struct mx_dns_tlsa *t, unsigned char buf[32])
{
	char	path[FILE_MAX], hex[80], *text;
	unsigned u, s, m, b;
	size_t	i;

	snprintf(path, sizeof(path), "%s/%s.tlsa", certdir, name);
	text = slurp(path, NULL);
	assert_non_null(text);
	if (sscanf(text, "%u %u %u %79s", &u, &s, &m, hex) != 4 || strlen(hex) != 64)
		fail_msg("%s: \"%s\" is not a TLSA record with a SHA-256", path, text);
	free(text);
	for (i = 0; i < 32; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		buf[i] = (unsigned char)b;
	}
	t->usage = (uint8_t)u;
	t->selector = (uint8_t)s;
	t->mtype = (uint8_t)m;
	t->data = buf;
	t->len = 32;
}

/*
 * expect_tls_refused - the session ended at STARTTLS for want (RFC 8460
 * type) with detail naming why, and the peer saw the handshake and QUIT,
 * never a MAIL FROM
 */
static void
expect_tls_refused(struct fixture *fx, const struct peer *pr, const struct run *r,
		   const char *want, const char *why)
{
	char   *log;

	expect_outcome(fx, r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_string_equal(r->res.tls_failure, want);
	if (why != NULL && strstr(r->res.detail, why) == NULL)
		fail_msg("detail \"%s\" does not say \"%s\"", r->res.detail, why);
	assert_false(r->rcpt[0].tried);
	expect_nothing_delivered(r, 1);
	log = peer_log(fx, pr);
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	assert_int_equal(count_prefix(log, "C: RCPT"), 0);
	expect_script_done(log, 1);	/* STARTTLS, the handshake, QUIT: no retry */
	free(log);
}

static void
test_smtp_verify_good_chain(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_ACCEPT, NULL, "mx.test", NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_true(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_VERIFIED);
	assert_string_equal(mx_tls_result_name(r.res.tls_result), "verified");
	assert_string_equal(r.res.tls_failure, "");
	expect_tls_info(&r, "TLSv1.3");
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_verify_wrong_name(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_QUIT, NULL, "wrongname", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	assert_true(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	expect_tls_refused(fx, pr, &r, "certificate-host-mismatch",
			   "Server certificate not verified: hostname mismatch");
}

static void
test_smtp_verify_expired(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_QUIT, NULL, "expired", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	expect_tls_refused(fx, pr, &r, "certificate-expired", "certificate has expired");
}

static void
test_smtp_verify_self_signed(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_QUIT, NULL, "selfsigned", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	expect_tls_refused(fx, pr, &r, "certificate-not-trusted", "self-signed");
}

/* without tls.ca_file the system's CAs decide, and they do not know the test CA */
static void
test_smtp_verify_system_cas(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_QUIT, NULL, "mx.test", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	expect_tls_refused(fx, pr, &r, "certificate-not-trusted", "not verified");
}

/*
 * test_smtp_verify_dot_name - ".example.test" stands for any name below it
 * (X509_check_host, Postfix's dot-nexthop), "mx.sub.example.test" too; a
 * name that is not first in tls.names counts as well
 */
static void
test_smtp_verify_dot_name(void **state)
{
	struct fixture *fx = *state;
	static const char *const good[] = { "other.test", ".example.test" };
	static const char *const bad[] = { "example.test", ".sub.other.test" };
	struct peer *p1 = peer_start_cert(fx, TLS_ACCEPT, NULL, "mx.sub.example.test", NULL);
	struct peer *p2 = peer_start_cert(fx, TLS_QUIT, NULL, "mx.sub.example.test", NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	fx->host = "mx.sub.example.test";
	opts_ca(&o, MX_TLSNEED_VERIFY);
	o.tls.names = good;
	o.tls.nnames = 2;
	attempt_simple(fx, p1, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_VERIFIED);

	/* "example.test" is that name only; the host name itself is not added */
	o.tls.names = bad;
	attempt_simple(fx, p2, &o, &r);
	expect_tls_refused(fx, p2, &r, "certificate-host-mismatch", "hostname mismatch");
	log = slurp(p1->log, NULL);
	assert_non_null(log);
	expect_script_done(log, 1);
	free(log);
}

/* test_smtp_dane_ee_self_signed - DANE-EE(3) authenticates a key: no CA, no name */
static void
test_smtp_dane_ee_self_signed(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_ACCEPT, NULL, "selfsigned", NULL);
	struct mx_dns_tlsa t[2] = { { .usage = 1, .selector = 1, .mtype = 1 } };
	unsigned char data[2][32];
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	/* a PKIX-EE(1) record first: unusable for SMTP (RFC 7672 3.1.3), ignored */
	tlsa_of("mx.test", &t[0], data[0]);
	t[0].usage = 1;
	tlsa_of("selfsigned", &t[1], data[1]);
	assert_int_equal(t[1].usage, 3);
	opts(&o, MX_TLSNEED_DANE);
	o.tls.tlsa = t;
	o.tls.ntlsa = 2;
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_DANE);
	assert_string_equal(mx_tls_result_name(r.res.tls_result), "dane");
	assert_string_equal(r.res.tls_failure, "");
	expect_tls_info(&r, "TLSv1.3");
	log = peer_log(fx, pr);
	expect_script_done(log, 1);
	free(log);
}

static void
test_smtp_dane_no_match(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_QUIT, NULL, "selfsigned", NULL);
	struct mx_dns_tlsa t;
	unsigned char data[32];
	struct mx_smtp_opts o;
	struct run r;

	tlsa_of("mx.test", &t, data);		/* another key */
	opts(&o, MX_TLSNEED_DANE);
	o.tls.tlsa = &t;
	o.tls.ntlsa = 1;
	attempt_simple(fx, pr, &o, &r);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	expect_tls_refused(fx, pr, &r, "tlsa-invalid",
			   "TLSA records did not match the server certificate");
}

/* test_smtp_dane_ta - DANE-TA(2) of the CA: the chain from it and the name count */
static void
test_smtp_dane_ta(void **state)
{
	struct fixture *fx = *state;
	struct peer *p1 = peer_start_cert(fx, TLS_ACCEPT, NULL, "mx.test", NULL);
	struct peer *p2 = peer_start_cert(fx, TLS_QUIT, NULL, "wrongname", NULL);
	struct mx_dns_tlsa t;
	unsigned char data[32];
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	tlsa_of("ca", &t, data);
	assert_int_equal(t.usage, 2);
	opts(&o, MX_TLSNEED_DANE);	/* no ca_file: the TLSA record is the trust anchor */
	o.tls.tlsa = &t;
	o.tls.ntlsa = 1;
	attempt_simple(fx, p1, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_DANE);

	attempt_simple(fx, p2, &o, &r);
	expect_tls_refused(fx, p2, &r, "certificate-host-mismatch", "hostname mismatch");
	log = slurp(p1->log, NULL);
	assert_non_null(log);
	expect_script_done(log, 1);
	free(log);
}

/* test_smtp_dane_unusable_is_encrypt - no usable record: TLS, unauthenticated (RFC 7672 2.2) */
static void
test_smtp_dane_unusable_is_encrypt(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_ACCEPT, NULL, "selfsigned", NULL);
	struct mx_dns_tlsa t;
	unsigned char data[32];
	struct mx_smtp_opts o;
	struct run r;

	tlsa_of("selfsigned", &t, data);
	t.usage = 0;			/* PKIX-TA: not for SMTP */
	opts(&o, MX_TLSNEED_DANE);
	o.tls.tlsa = &t;
	o.tls.ntlsa = 1;
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	assert_string_equal(r.res.tls_failure, "");
}

/*
 * test_smtp_starttls_stripped - an active attacker removes STARTTLS from
 * the EHLO reply: verify and dane must not go on in clear
 */
static void
test_smtp_starttls_stripped(void **state)
{
	struct fixture *fx = *state;
	struct peer *p1 = peer_start(fx, GREET EHLO_PLAIN BYE, NULL, true);
	struct peer *p2 = peer_start(fx, GREET EHLO_PLAIN BYE, NULL, true);
	struct mx_dns_tlsa t;
	unsigned char data[32];
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, p1, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_string_equal(r.res.tls_failure, "starttls-not-supported");
	assert_non_null(strstr(r.res.detail, "not offered"));
	assert_false(r.res.tls);

	tlsa_of("mx.test", &t, data);
	opts(&o, MX_TLSNEED_DANE);
	o.tls.tlsa = &t;
	o.tls.ntlsa = 1;
	attempt_simple(fx, p2, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_string_equal(r.res.tls_failure, "starttls-not-supported");
	assert_int_equal(r.res.tls_result, MX_TLSRES_NONE);

	peers_stop(fx);
	log = slurp(p1->log, NULL);
	assert_non_null(log);
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	expect_script_done(log, 1);
	free(log);
	log = slurp(p2->log, NULL);
	assert_non_null(log);
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	expect_script_done(log, 1);
	free(log);
}

/* STARTTLS refused under verify: the reply is kept, nothing goes in clear */
static void
test_smtp_verify_starttls_refused(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start(fx, GREET
		"expect EHLO client.test\nsend 250-mx.test\\r\\n250 STARTTLS\\r\\n\n"
		"expect STARTTLS\nsend 554 5.7.3 no TLS for you\\r\\n\n" BYE, NULL, true);
	struct mx_smtp_opts o;
	struct run r;

	opts_ca(&o, MX_TLSNEED_VERIFY);
	attempt_simple(fx, pr, &o, &r);
	assert_int_equal(r.res.reply.code, 554);
	assert_false(r.res.tls);
	expect_tls_refused(fx, pr, &r, "starttls-not-supported", "STARTTLS was refused: 554");
}

/*
 * test_smtp_may_check_names - MTA-STS testing mode: a wrong name is
 * reported, the message goes over TLS all the same; a right one is verified
 */
static void
test_smtp_may_check_names(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "mx.test" };
	struct peer *p1 = peer_start_cert(fx, TLS_ACCEPT, NULL, "wrongname", NULL);
	struct peer *p2 = peer_start_cert(fx, TLS_ACCEPT, NULL, "mx.test", NULL);
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts_ca(&o, MX_TLSNEED_MAY);
	o.tls.check_names = true;
	o.tls.names = names;
	o.tls.nnames = 1;
	attempt_simple(fx, p1, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_true(r.res.tls);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	assert_string_equal(r.res.tls_failure, "certificate-host-mismatch");

	attempt_simple(fx, p2, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_VERIFIED);
	assert_string_equal(r.res.tls_failure, "");
	peers_stop(fx);
	log = slurp(p1->log, NULL);
	assert_non_null(log);
	expect_script_done(log, 1);
	free(log);
}

/* test_smtp_min_version - tls.min_version against a server that stops at TLS 1.2 */
static void
test_smtp_min_version(void **state)
{
	struct fixture *fx = *state;
	struct peer *p1 = peer_start_cert(fx, TLS_ACCEPT, NULL, "mx.test", "1.2");
	struct peer *p2 = peer_start_cert(fx, TLS_QUIT, NULL, "mx.test", "1.2");
	struct mx_smtp_opts o;
	struct run r;
	char   *log;

	opts_ca(&o, MX_TLSNEED_VERIFY);	/* min_version 0: TLS 1.2 */
	attempt_simple(fx, p1, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_VERIFIED);
	expect_tls_info(&r, "TLSv1.2");

	o.min_version = TLS1_3_VERSION;
	attempt_simple(fx, p2, &o, &r);
	expect_outcome(fx, &r, MX_STAGE_STARTTLS, MX_FAIL_TLS);
	assert_string_equal(r.res.tls_failure, "validation-failure");
	assert_non_null(strstr(r.res.detail, "TLS handshake failed"));
	assert_false(r.res.tls);
	peers_stop(fx);
	log = slurp(p2->log, NULL);
	assert_non_null(log);
	assert_int_equal(count_prefix(log, "# connection"), 1);	/* no plaintext retry */
	assert_int_equal(count_prefix(log, "C: MAIL"), 0);
	free(log);
}

/* test_smtp_encrypt_any_certificate - encrypt takes a certificate nobody vouches for */
static void
test_smtp_encrypt_any_certificate(void **state)
{
	struct fixture *fx = *state;
	struct peer *pr = peer_start_cert(fx, TLS_ACCEPT, NULL, "expired", NULL);
	struct mx_smtp_opts o;
	struct run r;

	opts_ca(&o, MX_TLSNEED_ENCRYPT);
	attempt_simple(fx, pr, &o, &r);
	expect_delivered(fx, &r, 1);
	assert_int_equal(r.res.tls_result, MX_TLSRES_TLS);
	assert_string_equal(mx_tls_result_name(r.res.tls_result), "tls");
	assert_string_equal(r.res.tls_failure, "");
	expect_tls_info(&r, "TLSv1.3");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_smtp_openssl_not_loaded_without_starttls),	/* first */
		T(test_smtp_delivered_to_sink),
		T(test_smtp_null_sender),
		T(test_smtp_only_pending_recipients),
		T(test_smtp_ehlo_refused_helo_used),
		T(test_smtp_421_greeting),
		T(test_smtp_5xx_greeting),
		T(test_smtp_connection_refused),
		T(test_smtp_4xx_at_rcpt),
		T(test_smtp_5xx_at_rcpt_all),
		T(test_smtp_5xx_at_mail),
		T(test_smtp_5xx_at_data),
		T(test_smtp_5xx_after_dot),
		T(test_smtp_lost_after_dot),
		T(test_smtp_starttls_required_not_offered),
		T(test_smtp_two_rcpts_one_rejected),
		T(test_smtp_pipelining_back_to_back),
		T(test_smtp_no_pipelining_waits),
		T(test_smtp_pipelined_mail_rejected),
		T(test_smtp_pipelined_all_rcpts_rejected_354),
		T(test_smtp_452_too_many_recipients),
		T(test_smtp_pipelining_bounded_groups),
		T(test_smtp_pipelining_thousands_of_recipients),
		T(test_smtp_size_too_small),
		T(test_smtp_8bitmime_and_size),
		T(test_smtp_8bit_without_8bitmime),
		T(test_smtp_utf8_rcpt_without_smtputf8),
		T(test_smtp_utf8_with_smtputf8),
		T(test_smtp_data_exact_on_the_wire),
		T(test_smtp_empty_message),
		T(test_smtp_large_message),
		T(test_smtp_silent_server),
		T(test_smtp_dripping_greeting),
		T(test_smtp_dripping_after_dot),
		T(test_smtp_overlong_reply_line),
		T(test_smtp_garbage_greeting),
		T(test_smtp_mixed_codes_in_ehlo_reply),
		T(test_smtp_ehlo_4xx_no_helo),
		T(test_smtp_starttls_opportunistic),
		T(test_smtp_starttls_bad_handshake_falls_back),
		T(test_smtp_starttls_required_bad_handshake),
		T(test_smtp_starttls_refused_keeps_extensions),
		T(test_smtp_starttls_refused_required),
		T(test_smtp_421_to_starttls),
		T(test_smtp_starttls_none_ignores_offer),
		T(test_smtp_verify_good_chain),
		T(test_smtp_verify_wrong_name),
		T(test_smtp_verify_expired),
		T(test_smtp_verify_self_signed),
		T(test_smtp_verify_system_cas),
		T(test_smtp_verify_dot_name),
		T(test_smtp_dane_ee_self_signed),
		T(test_smtp_dane_no_match),
		T(test_smtp_dane_ta),
		T(test_smtp_dane_unusable_is_encrypt),
		T(test_smtp_starttls_stripped),
		T(test_smtp_verify_starttls_refused),
		T(test_smtp_may_check_names),
		T(test_smtp_min_version),
		T(test_smtp_encrypt_any_certificate),
	};

	return cmocka_run_group_tests_name("smtp (client sessions against peers on loopback)",
					   tests, group_setup, group_teardown);
}
