/*
 * test_spool - unit tests for shared/spool.c (the message kept for DATA)
 *
 * Small messages go in through a pipe that already holds them; messages that
 * must arrive in given read() pieces go through an AF_UNIX SOCK_SEQPACKET
 * pair fed by a child process (each record is one read(), so a CR and its LF
 * can be put in different reads for sure); the large message comes through a
 * pipe from a child. The output is checked against literal expectations,
 * against ref_convert(), a line-by-line conversion written independently of
 * the octet-by-octet one in spool.c, and against assert_wire_clean(), which
 * knows nothing of the input: no lone CR or LF, no line over the limit, the
 * end of data only at the end.
 *
 * Spooling to disk is seen from outside: the temporary file must not appear
 * in the directory, but /proc/self/fd shows it as "DIR/... (deleted)". The
 * full disk case mounts a 1 MiB tmpfs in a child's private mount namespace
 * (as root, or in a user namespace otherwise); the unwritable directory case
 * drops to uid 65534 in a child when run as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spool.h"

#define KiB		1024
#define MAX_CHUNK	(64 * KiB)
#define BIG		((size_t)1 << 30)	/* memory limit that never spills */
#define LIMIT		998	/* Postfix's smtp_line_length_limit */

/* What the writer saw. */
struct capture {
	char   *buf;		/* everything, unless expect is set */
	size_t	len;
	size_t	cap;
	size_t	calls;
	size_t	refuse_at;	/* return false on this call (1-based); 0 never */
	const char *expect;	/* compare on the fly instead of keeping */
	size_t	expect_len;
	bool	mismatch;
};

/* xorshift - a small fixed-seed generator, so failures repeat */
static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* write_full - write everything or die (used in children too) */
static bool
write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* capture_write - the write_fn: collect or compare, refuse when told */
static bool
capture_write(void *arg, const char *buf, size_t len)
{
	struct capture *c = arg;

	c->calls++;
	if (len == 0 || len > MAX_CHUNK)
		fail_msg("write_fn got a chunk of %zu octets", len);
	if (c->refuse_at != 0 && c->calls == c->refuse_at)
		return false;
	if (c->expect != NULL) {
		if (c->len + len > c->expect_len ||
		    memcmp(c->expect + c->len, buf, len) != 0)
			c->mismatch = true;
		c->len += len;
		return true;
	}
	if (c->len + len > c->cap) {
		c->cap = (c->len + len) * 2;
		c->buf = realloc(c->buf, c->cap);
		assert_non_null(c->buf);
	}
	memcpy(c->buf + c->len, buf, len);
	c->len += len;
	return true;
}

/* strcspn_n - octets of p[0..len) before the first one in set (NUL counts) */
static size_t
strcspn_n(const char *p, size_t len, const char *set)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (p[i] != '\0' && strchr(set, p[i]) != NULL)
			break;
	return i;
}

/*
 * ref_convert - the DATA form and facts, computed line by line: a line ends
 * at the first CR or LF; CR LF is one line end, any other CR or LF is one
 * by itself; a last line without a line end is a line too. Each line goes
 * out in parts: the first LIMIT octets, then SPACE and up to LIMIT - 1 more,
 * and so on, each part ended by CRLF; "." is doubled at the start of a line
 * (never of a part after the first). The caller frees the result.
 */
static char *
ref_convert(const char *in, size_t len, size_t *outlen,
	    struct mx_spool_info *info)
{
	char   *out = malloc(4 * len + 8);
	size_t	o = 0, start = 0, end, rest, part, room, i;

	assert_non_null(out);
	memset(info, 0, sizeof(*info));
	info->bytes = (off_t)len;
	for (i = 0; i < len; i++)
		if ((unsigned char)in[i] >= 0x80)
			info->eight_bit = true;
	while (start < len) {
		end = start + strcspn_n(in + start, len - start, "\r\n");
		if (in[start] == '.')
			out[o++] = '.';
		rest = end - start;
		room = LIMIT;
		for (;;) {
			part = rest < room ? rest : room;
			memcpy(out + o, in + end - rest, part);
			o += part;
			rest -= part;
			out[o++] = '\r';
			out[o++] = '\n';
			if (rest == 0)
				break;
			out[o++] = ' ';
			room = LIMIT - 1;
		}
		if (end == len)
			start = len;
		else if (in[end] == '\r' && end + 1 < len && in[end + 1] == '\n')
			start = end + 2;
		else
			start = end + 1;
	}
	info->wire_bytes = (off_t)o;
	memcpy(out + o, ".\r\n", 3);
	*outlen = o + 3;
	return out;
}

/*
 * assert_wire_clean - what any DATA form must be, whatever the input: every
 * CR is followed by LF and every LF follows a CR, no line is longer than
 * LIMIT octets (LIMIT + 1 when it starts with the stuffed ".."), and
 * CRLF "." CRLF appears only as the end
 */
static void
assert_wire_clean(const char *w, size_t len)
{
	size_t	i, line = 0, col = 0;

	assert_true(len >= 3);
	assert_memory_equal(w + len - 3, ".\r\n", 3);
	for (i = 0; i < len - 3; i++) {
		if (w[i] == '\r') {
			if (i + 1 >= len - 3 || w[i + 1] != '\n')
				fail_msg("lone CR at %zu", i);
			continue;
		}
		if (w[i] == '\n') {
			if (i == 0 || w[i - 1] != '\r')
				fail_msg("lone LF at %zu", i);
			if (col > LIMIT + (w[line] == '.' ? 1 : 0))
				fail_msg("line of %zu octets at %zu", col, line);
			if (w[line] == '.' && (col < 2 || w[line + 1] != '.'))
				fail_msg("unstuffed \".\" at %zu", line);
			line = i + 1;
			col = 0;
			continue;
		}
		col++;
	}
	if (len > 3)
		assert_memory_equal(w + len - 5, "\r\n", 2);
	assert_int_equal(line, len - 3);
}

/* spool_bytes - spool a small message through a pipe that already holds it */
static struct mx_spool *
spool_bytes(const char *data, size_t len, size_t limit, const char *tmpdir,
	    char *err, size_t errlen)
{
	struct mx_spool *sp;
	int	p[2];

	assert_true(len <= 60000);	/* fits in the pipe buffer */
	assert_int_equal(pipe(p), 0);
	assert_true(write_full(p[1], data, len));
	close(p[1]);
	sp = mx_spool_read(p[0], limit, tmpdir, err, errlen);
	close(p[0]);
	return sp;
}

/* feed_child - fork a child that writes the pieces to fd (one write each) */
static pid_t
feed_child(int fd, int other, const char *const *pieces, const size_t *lens,
	   size_t n)
{
	pid_t	pid;
	size_t	i;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(other);
		for (i = 0; i < n; i++)
			if (!write_full(fd, pieces[i], lens[i]))
				_exit(1);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* wait_ok - the child exited with status 0 */
static void
wait_ok(pid_t pid)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* spool_records - spool a message that arrives in exactly these read()s */
static struct mx_spool *
spool_records(const char *const *pieces, const size_t *lens, size_t n,
	      size_t limit, const char *tmpdir)
{
	struct mx_spool *sp;
	char	err[256] = "";
	pid_t	pid;
	int	sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid = feed_child(sv[1], sv[0], pieces, lens, n);
	sp = mx_spool_read(sv[0], limit, tmpdir, err, sizeof(err));
	close(sv[0]);
	wait_ok(pid);
	if (sp == NULL)
		fail_msg("mx_spool_read: %s", err);
	return sp;
}

/* assert_info - the facts are as expected */
static void
assert_info(const struct mx_spool_info *got, const struct mx_spool_info *want)
{
	assert_int_equal(got->bytes, want->bytes);
	assert_int_equal(got->wire_bytes, want->wire_bytes);
	assert_int_equal(got->eight_bit, want->eight_bit);
}

/* send_equals - send once and compare with want, octet for octet */
static void
send_equals(struct mx_spool *sp, const char *want, size_t wantlen)
{
	struct capture c = { 0 };
	char	err[256] = "";

	if (!mx_spool_send(sp, capture_write, &c, err, sizeof(err)))
		fail_msg("mx_spool_send: %s", err);
	assert_int_equal(c.len, wantlen);
	assert_int_equal((off_t)c.len, mx_spool_get_info(sp)->wire_bytes + 3);
	if (wantlen > 0)
		assert_memory_equal(c.buf, want, wantlen);
	assert_wire_clean(c.buf, c.len);
	free(c.buf);
}

/* check_spool - facts and output of sp match the reference, twice */
static void
check_spool(struct mx_spool *sp, const char *in, size_t len)
{
	struct mx_spool_info want;
	size_t	reflen;
	char   *ref;

	ref = ref_convert(in, len, &reflen, &want);
	assert_info(mx_spool_get_info(sp), &want);
	send_equals(sp, ref, reflen);
	send_equals(sp, ref, reflen);
	free(ref);
}

/* check - in through a pipe, in memory: must give out and the reference */
static void
check(const char *in, size_t len, const char *out, size_t outlen)
{
	struct mx_spool *sp;
	char	err[256] = "";

	sp = spool_bytes(in, len, BIG, NULL, err, sizeof(err));
	if (sp == NULL)
		fail_msg("mx_spool_read: %s", err);
	send_equals(sp, out, outlen);
	check_spool(sp, in, len);
	mx_spool_free(sp);
}

#define CHECK(in, out)	check(in, sizeof(in) - 1, out, sizeof(out) - 1)

/* make_dir - a fresh empty directory under /tmp, by its real path */
static char *
make_dir(void)
{
	char	tmpl[] = "/tmp/test_spool.XXXXXX";
	char   *real;

	assert_non_null(mkdtemp(tmpl));
	real = realpath(tmpl, NULL);
	assert_non_null(real);
	return real;
}

/* dir_setup - a fresh directory for the test, in *state */
static int
dir_setup(void **state)
{
	*state = make_dir();
	return 0;
}

/* dir_teardown - empty and remove the test's directory, failed or not */
static int
dir_teardown(void **state)
{
	char	path[PATH_MAX];
	struct dirent *de;
	char   *dir = *state;
	DIR    *d;
	int	rc;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			(void)unlink(path);
		}
		closedir(d);
	}
	rc = rmdir(dir);
	free(dir);
	return rc;
}

/* dir_entries - how many names are in dir */
static int
dir_entries(const char *dir)
{
	struct dirent *de;
	DIR    *d;
	int	n = 0;

	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/*
 * spool_files - open files of this process that were unlinked from dir;
 * the mode of the last one goes to mode
 */
static int
spool_files(const char *dir, mode_t *mode)
{
	char	path[300], target[PATH_MAX];
	struct dirent *de;
	struct stat st;
	size_t	dlen = strlen(dir);
	ssize_t	n;
	DIR    *d;
	int	count = 0;

	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, dlen) != 0 || target[dlen] != '/' ||
		    strstr(target, " (deleted)") == NULL)
			continue;
		count++;
		if (mode != NULL && stat(path, &st) == 0)
			*mode = st.st_mode & 07777;
	}
	closedir(d);
	return count;
}

/* random_message - len octets of lines; wild adds CR, NUL, 8-bit and dots */
static char *
random_message(uint64_t *seed, size_t len, bool wild)
{
	static const char tame[] =
	    "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,:";
	static const char some[] = "ab.\r\n\0\xe9 ";
	char   *m = malloc(len + 1);
	size_t	i, line = 0, width = 0;
	uint64_t r;

	assert_non_null(m);
	for (i = 0; i < len; i++) {
		r = xorshift(seed);
		if (wild) {
			m[i] = some[r % (sizeof(some) - 1)];
			continue;
		}
		if (line == 0)
			width = (size_t)(r >> 32) % 200;
		if (line >= width) {
			/* one line in four ends in CRLF, the rest in LF */
			if (r % 4 == 0 && i + 1 < len) {
				m[i++] = '\r';
			}
			m[i] = '\n';
			line = 0;
		} else if (line == 0 && r % 16 == 0) {
			m[i] = '.';
			line++;
		} else {
			m[i] = tame[(r >> 8) % (sizeof(tame) - 1)];
			line++;
		}
	}
	m[len] = '\0';
	return m;
}

/* test_spool_plain_lf - LF becomes CRLF */
static void
test_spool_plain_lf(void **state)
{
	(void)state;
	CHECK("Subject: hi\n\nhello\nworld\n",
	      "Subject: hi\r\n\r\nhello\r\nworld\r\n.\r\n");
	CHECK("\n", "\r\n.\r\n");
	CHECK("\n\n\n", "\r\n\r\n\r\n.\r\n");
}

/* test_spool_crlf_unchanged - CRLF passes as is */
static void
test_spool_crlf_unchanged(void **state)
{
	(void)state;
	CHECK("Subject: hi\r\n\r\nhello\r\n",
	      "Subject: hi\r\n\r\nhello\r\n.\r\n");
	CHECK("\r\n", "\r\n.\r\n");
}

/* test_spool_mixed - LF and CRLF in one message */
static void
test_spool_mixed(void **state)
{
	(void)state;
	CHECK("a\r\nb\nc\r\n\nd\n", "a\r\nb\r\nc\r\n\r\nd\r\n.\r\n");
	CHECK("\n\r\n\n", "\r\n\r\n\r\n.\r\n");
}

/* test_spool_bare_cr - a CR not before LF ends a line and becomes CRLF */
static void
test_spool_bare_cr(void **state)
{
	(void)state;
	CHECK("a\rb\n", "a\r\nb\r\n.\r\n");
	CHECK("a\r\r\nb\n", "a\r\n\r\nb\r\n.\r\n");	/* CR, then CRLF */
	CHECK("\r\r\r\n", "\r\n\r\n\r\n.\r\n");
	CHECK("a\r.b\n", "a\r\n..b\r\n.\r\n");	/* a new line: stuffed */
	CHECK("a\r", "a\r\n.\r\n");			/* CR at the end: one CRLF */
	CHECK("\r", "\r\n.\r\n");
	CHECK("a\n\rb", "a\r\n\r\nb\r\n.\r\n");	/* LF CR: two line ends */
	CHECK("a\rb\rc", "a\r\nb\r\nc\r\n.\r\n");
}

/*
 * test_spool_smuggling - no end-of-data sequence but the real one: the lone
 * CR and LF of the SMTP smuggling patterns become CRLF and the "." after
 * them is stuffed, so the server sees one message with a "." line in it
 */
static void
test_spool_smuggling(void **state)
{
	(void)state;
	CHECK("a\r.\rMAIL FROM:<x@y>\r\n",
	      "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
	CHECK("a\r.\r\nMAIL FROM:<x@y>\r\n",
	      "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
	CHECK("a\n.\nMAIL FROM:<x@y>\n", "a\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
	CHECK("a\n.\r\nMAIL\r\n", "a\r\n..\r\nMAIL\r\n.\r\n");
	CHECK("a\r.\nMAIL\r\n", "a\r\n..\r\nMAIL\r\n.\r\n");
	CHECK("a\r\n.\rMAIL\r\n", "a\r\n..\r\nMAIL\r\n.\r\n");
	CHECK("a\r\n.\nMAIL\r\n", "a\r\n..\r\nMAIL\r\n.\r\n");
	CHECK("\r.\r", "\r\n..\r\n.\r\n");
	CHECK("\n.\n", "\r\n..\r\n.\r\n");
	CHECK("x\r.", "x\r\n..\r\n.\r\n");
	CHECK("a\r\r.\r\r", "a\r\n\r\n..\r\n\r\n.\r\n");
}

/* test_spool_leading_dots - "." at the start of a line is doubled */
static void
test_spool_leading_dots(void **state)
{
	struct mx_spool *sp;
	char	err[256];

	(void)state;
	CHECK(".first\n", "..first\r\n.\r\n");
	CHECK("a\n.after lf\n", "a\r\n..after lf\r\n.\r\n");
	CHECK("a\r\n.after crlf\r\n", "a\r\n..after crlf\r\n.\r\n");
	CHECK("a\n.\nb\n", "a\r\n..\r\nb\r\n.\r\n");
	CHECK(".\n", "..\r\n.\r\n");
	CHECK(".\r\n", "..\r\n.\r\n");
	CHECK("..\n", "...\r\n.\r\n");
	CHECK("a.b\n .c\n", "a.b\r\n .c\r\n.\r\n");
	CHECK("a\n.", "a\r\n..\r\n.\r\n");

	/* 11 octets, 3 bare LF, 3 dots */
	sp = spool_bytes(".a\n.b\r\nc\n.\n", 11, BIG, NULL, err, sizeof(err));
	assert_non_null(sp);
	assert_int_equal(mx_spool_get_info(sp)->bytes, 11);
	assert_int_equal(mx_spool_get_info(sp)->wire_bytes, 11 + 3 + 3);
	mx_spool_free(sp);
}

/* test_spool_no_final_newline - CRLF is added to the last line */
static void
test_spool_no_final_newline(void **state)
{
	struct mx_spool *sp;
	char	err[256];

	(void)state;
	CHECK("abc", "abc\r\n.\r\n");
	CHECK("a\nbc", "a\r\nbc\r\n.\r\n");
	CHECK(".", "..\r\n.\r\n");

	sp = spool_bytes("abc", 3, BIG, NULL, err, sizeof(err));
	assert_non_null(sp);
	assert_int_equal(mx_spool_get_info(sp)->bytes, 3);
	assert_int_equal(mx_spool_get_info(sp)->wire_bytes, 5);
	mx_spool_free(sp);
}

/* test_spool_empty - nothing but the terminator, in memory and on disk */
static void
test_spool_empty(void **state)
{
	const struct mx_spool_info *info;
	struct mx_spool *sp;
	char	err[256] = "";
	const char *dir = *state;

	CHECK("", ".\r\n");

	sp = spool_bytes("", 0, 0, dir, err, sizeof(err));
	assert_non_null(sp);
	info = mx_spool_get_info(sp);
	assert_int_equal(info->bytes, 0);
	assert_int_equal(info->wire_bytes, 0);
	assert_false(info->eight_bit);
	send_equals(sp, ".\r\n", 3);
	/* nothing to keep, so no file even with a limit of 0 */
	assert_int_equal(spool_files(dir, NULL), 0);
	mx_spool_free(sp);
}

/* test_spool_nul_bytes - NUL passes unchanged, as in Postfix */
static void
test_spool_nul_bytes(void **state)
{
	static const char in[] = "a\0b\n\0\n.\0\n\0";
	static const char out[] = "a\0b\r\n\0\r\n..\0\r\n\0\r\n.\r\n";
	struct mx_spool *sp;
	char	err[256];

	(void)state;
	CHECK("a\0b\n\0\n.\0\n\0", "a\0b\r\n\0\r\n..\0\r\n\0\r\n.\r\n");
	CHECK("\0\r\0", "\0\r\n\0\r\n.\r\n");
	sp = spool_bytes(in, sizeof(in) - 1, BIG, NULL, err, sizeof(err));
	assert_non_null(sp);
	assert_false(mx_spool_get_info(sp)->eight_bit);
	send_equals(sp, out, sizeof(out) - 1);
	mx_spool_free(sp);
}

/* test_spool_eight_bit - any octet >= 0x80 is noted, and passes */
static void
test_spool_eight_bit(void **state)
{
	struct mx_spool *sp;
	char	err[256];
	char	one[2];
	int	c;

	(void)state;
	CHECK("caf\xc3\xa9\n", "caf\xc3\xa9\r\n.\r\n");
	sp = spool_bytes("caf\xc3\xa9\n", 6, BIG, NULL, err, sizeof(err));
	assert_non_null(sp);
	assert_true(mx_spool_get_info(sp)->eight_bit);
	mx_spool_free(sp);

	for (c = 1; c < 256; c++) {
		one[0] = (char)c;
		one[1] = '\n';
		sp = spool_bytes(one, 2, BIG, NULL, err, sizeof(err));
		assert_non_null(sp);
		assert_int_equal(mx_spool_get_info(sp)->eight_bit, c >= 0x80);
		mx_spool_free(sp);
	}
}

/* line_of - n octets of c (and a NUL) in a new buffer */
static char *
line_of(char c, size_t n)
{
	char   *p = malloc(n + 1);

	assert_non_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/*
 * test_spool_long_lines - a line over 998 octets is broken with CRLF SPACE
 * as Postfix smtp_text_out() does: 998 octets, then SPACE + 997, and so on;
 * exactly 998 stays whole, and no empty continuation is made
 */
static void
test_spool_long_lines(void **state)
{
	static const char *const ends[] = { "\n", "\r\n", "\r", "" };
	static const size_t sizes[] = { 997, 998, 999, 1000, 1995, 1996, 2992,
		2993, 3000, 50000 };
	char	in[60000], out[61000];
	size_t	e, z, n, len, olen, done, part;

	(void)state;
	for (e = 0; e < sizeof(ends) / sizeof(ends[0]); e++) {
		for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			n = sizes[z];
			/* one long line between two short ones */
			len = 0;
			memcpy(in + len, "ab\n", 3);
			len += 3;
			memset(in + len, 'x', n);
			in[len] = 'L';
			in[len + n - 1] = 'R';
			len += n;
			memcpy(in + len, ends[e], strlen(ends[e]));
			len += strlen(ends[e]);
			if (*ends[e] != '\0') {
				memcpy(in + len, "cd\n", 3);
				len += 3;
			}
			/* expected, written out independently of ref_convert() */
			olen = 0;
			memcpy(out, "ab\r\n", 4);
			olen = 4;
			for (done = 0; done < n; done += part) {
				part = done == 0 ? 998 : 997;
				if (part > n - done)
					part = n - done;
				if (done > 0)
					out[olen++] = ' ';
				memcpy(out + olen, in + 3 + done, part);
				olen += part;
				memcpy(out + olen, "\r\n", 2);
				olen += 2;
			}
			if (*ends[e] != '\0') {
				memcpy(out + olen, "cd\r\n", 4);
				olen += 4;
			}
			memcpy(out + olen, ".\r\n", 3);
			olen += 3;
			check(in, len, out, olen);
		}
	}
	/* the shapes, literally */
	{
		char   *x998 = line_of('x', 998), *x997 = line_of('y', 997);
		char   *want = malloc(4000);
		char   *msg = malloc(4000);

		assert_non_null(want);
		assert_non_null(msg);
		/* 999: 998 CRLF SPACE 1 */
		snprintf(msg, 4000, "%sz\n", x998);
		snprintf(want, 4000, "%s\r\n z\r\n.\r\n", x998);
		check(msg, strlen(msg), want, strlen(want));
		/* 998 + 997: two full lines, no third */
		snprintf(msg, 4000, "%s%s\n", x998, x997);
		snprintf(want, 4000, "%s\r\n %s\r\n.\r\n", x998, x997);
		check(msg, strlen(msg), want, strlen(want));
		/* a "." at the start: stuffed, not counted; a "." at a break: not */
		snprintf(msg, 4000, ".%s.%s", x998 + 1, x997 + 1);
		snprintf(want, 4000, "..%s\r\n .%s\r\n.\r\n", x998 + 1, x997 + 1);
		check(msg, strlen(msg), want, strlen(want));
		/* a long line after a bare CR counts from the CR */
		snprintf(msg, 4000, "ab\r%sz", x998);
		snprintf(want, 4000, "ab\r\n%s\r\n z\r\n.\r\n", x998);
		check(msg, strlen(msg), want, strlen(want));
		/* a CR at the break point is a line end, not a part */
		snprintf(msg, 4000, "%s\r%s", x998, x997);
		snprintf(want, 4000, "%s\r\n%s\r\n.\r\n", x998, x997);
		check(msg, strlen(msg), want, strlen(want));
		free(x998);
		free(x997);
		free(want);
		free(msg);
	}
}

/* test_spool_crlf_split_across_reads - CR in one read(), LF in the next */
static void
test_spool_crlf_split_across_reads(void **state)
{
	static const char *const pieces[] = {
		"a\r", "\nb\r", "\n", ".c\r", "\r", "\n", "d\n", "\r", "\n.", "e"
	};
	static const char want[] = "a\r\nb\r\n..c\r\n\r\nd\r\n\r\n..e\r\n.\r\n";
	static const char whole[] = "a\r\nb\r\n.c\r\r\nd\n\r\n.e";
	static const char every[] =
	    ".a\r\nb\n\r\n.\r\n\r\r\n\n.\n..x\r\ry\r\n.";
	const char *one[sizeof(every)];
	size_t	lens[sizeof(every)], i, n = sizeof(pieces) / sizeof(pieces[0]);
	struct mx_spool *sp;
	const char *dir = *state;

	for (i = 0; i < n; i++)
		lens[i] = strlen(pieces[i]);
	sp = spool_records(pieces, lens, n, BIG, NULL);
	send_equals(sp, want, sizeof(want) - 1);
	check_spool(sp, whole, sizeof(whole) - 1);
	mx_spool_free(sp);

	/* one octet per read(), in memory and in a file */
	for (i = 0; i < sizeof(every) - 1; i++) {
		one[i] = every + i;
		lens[i] = 1;
	}
	sp = spool_records(one, lens, sizeof(every) - 1, BIG, NULL);
	check_spool(sp, every, sizeof(every) - 1);
	mx_spool_free(sp);
	sp = spool_records(one, lens, sizeof(every) - 1, 0, dir);
	assert_int_equal(spool_files(dir, NULL), 1);
	check_spool(sp, every, sizeof(every) - 1);
	mx_spool_free(sp);
}

/*
 * test_spool_line_ends_across_reads - the octet after a CR decides what the
 * CR was, also when it comes in the next read(): LF (one CRLF), "." (a bare
 * CR, then a stuffed line), CR (two line ends), the end of the message; and a
 * long line is broken at the same place however it is cut into reads, in
 * memory and in a file
 */
static void
test_spool_line_ends_across_reads(void **state)
{
	static const char *const pieces[] = {
		"a\r", "\nb\r", ".c\r", "\r", "d\r", "\r\n", ".e\n", "\r", "\r"
	};
	static const char want[] =
	    "a\r\nb\r\n..c\r\n\r\nd\r\n\r\n..e\r\n\r\n\r\n.\r\n";
	static const size_t limits[] = { 0, 5, BIG };
	const char *dir = *state;
	const char *cut[4];
	size_t	lens[16], i, l, at, n = sizeof(pieces) / sizeof(pieces[0]);
	struct mx_spool *sp;
	char   *m, *out;

	for (i = 0; i < n; i++)
		lens[i] = strlen(pieces[i]);
	for (l = 0; l < 3; l++) {
		sp = spool_records(pieces, lens, n, limits[l], dir);
		assert_int_equal(spool_files(dir, NULL), limits[l] == BIG ? 0 : 1);
		send_equals(sp, want, sizeof(want) - 1);
		mx_spool_free(sp);
	}

	/* a 2100-octet line, CRLF and "z", cut in three reads, often near the breaks */
	m = line_of('x', 2103);
	m[0] = '.';
	memcpy(m + 2100, "\r\nz", 3);
	out = malloc(2200);
	assert_non_null(out);
	memcpy(out, "..", 2);
	memcpy(out + 2, m + 1, 997);
	memcpy(out + 999, "\r\n ", 3);
	memcpy(out + 1002, m + 998, 997);
	memcpy(out + 1999, "\r\n ", 3);
	memcpy(out + 2002, m + 1995, 105);
	memcpy(out + 2107, "\r\nz\r\n.\r\n", 8);
	for (at = 990; at <= 2103; at += (at > 1000 && at < 1990) || at > 2000 ? 7 : 1) {
		cut[0] = m;
		lens[0] = at / 2;
		cut[1] = m + at / 2;
		lens[1] = at - at / 2;
		cut[2] = m + at;
		lens[2] = 2103 - at;
		for (l = 0; l < 3; l++) {
			sp = spool_records(cut, lens, lens[2] > 0 ? 3 : 2, limits[l], dir);
			send_equals(sp, out, 2115);
			check_spool(sp, m, 2103);
			mx_spool_free(sp);
		}
	}
	free(out);
	free(m);
	assert_int_equal(dir_entries(dir), 0);
}

/*
 * test_spool_line_ends_across_chunks - a file spool is read back and sent
 * in 64 KiB chunks: a CR at the end of one and its LF (or a ".") at the
 * start of the next, a line broken across two, and output that grows past
 * the writer's chunk (every octet a bare CR)
 */
static void
test_spool_line_ends_across_chunks(void **state)
{
	const size_t len = 5 * MAX_CHUNK + 100;
	struct mx_spool *sp;
	uint64_t seed = 77;
	char	err[256] = "";
	const char *dir = *state;
	const char *piece[1];
	char   *m;
	size_t	i, at;
	pid_t	pid;
	int	p[2], round;

	for (round = 0; round < 2; round++) {
		m = random_message(&seed, len, false);
		if (round == 0) {
			m[MAX_CHUNK - 1] = '\r';	/* CRLF across the first boundary */
			m[MAX_CHUNK] = '\n';
			m[2 * MAX_CHUNK - 1] = '\r';	/* bare CR, then "." */
			m[2 * MAX_CHUNK] = '.';
			/* a 3000-octet line across the third boundary */
			at = 3 * MAX_CHUNK - 1500;
			m[at - 1] = '\n';
			for (i = at; i < at + 3000; i++)
				m[i] = (char)('a' + i % 26);
			m[at + 3000] = '\r';
			m[at + 3001] = '\n';
		} else {
			memset(m, '\r', len);	/* each octet in, two out */
			m[len / 2] = '.';
		}
		assert_int_equal(pipe(p), 0);
		piece[0] = m;
		pid = feed_child(p[1], p[0], piece, &len, 1);
		sp = mx_spool_read(p[0], 1000, dir, err, sizeof(err));
		close(p[0]);
		wait_ok(pid);
		if (sp == NULL)
			fail_msg("mx_spool_read: %s", err);
		assert_int_equal(spool_files(dir, NULL), 1);
		check_spool(sp, m, len);
		mx_spool_free(sp);
		free(m);
	}
}

/*
 * long_message - len octets of lines up to 3000 octets long, ended by CRLF,
 * CR or LF at random, with dots at line starts and after breaks, NUL and
 * 8-bit octets
 */
static char *
long_message(uint64_t *seed, size_t len)
{
	static const char some[] = "ab. \0\xe9xyz";
	char   *m = malloc(len + 1);
	size_t	i = 0, width, k;
	uint64_t r;

	assert_non_null(m);
	while (i < len) {
		r = xorshift(seed);
		width = (size_t)(r >> 40) % 3000;
		if (r % 5 == 0)		/* near a break point */
			width = 995 + (size_t)(r >> 20) % 6 + (r % 3 == 0 ? 997 : 0);
		for (k = 0; k < width && i < len; k++)
			m[i++] = some[xorshift(seed) % (sizeof(some) - 1)];
		/* the line end: CRLF, CR or LF (cut short at the end) */
		if (i < len && r % 3 != 2)
			m[i++] = '\r';
		if (i < len && r % 3 != 1)
			m[i++] = '\n';
		if (r % 7 == 0 && i < len)
			m[i++] = '.';
	}
	m[len] = '\0';
	return m;
}

/* test_spool_random_long_lines - long lines in random read()s, memory and file */
static void
test_spool_random_long_lines(void **state)
{
	static const size_t limits[] = { 0, 700, 4096, BIG };
	const char *pieces[8];
	struct mx_spool *sp;
	uint64_t seed = 0x1234567;
	const char *dir = *state;
	size_t	lens[8], i, n, len, left, cut;
	char   *m;

	for (i = 0; i < 120; i++) {
		len = 1 + (size_t)(xorshift(&seed) % 20000);
		m = long_message(&seed, len);
		/* up to 8 reads of random sizes (an empty one would be the end) */
		for (n = 0, left = len; left > 0; n++) {
			cut = n == 7 ? left : 1 + (size_t)(xorshift(&seed) % left);
			pieces[n] = m + (len - left);
			lens[n] = cut;
			left -= cut;
		}
		sp = spool_records(pieces, lens, n, limits[i % 4], dir);
		check_spool(sp, m, len);
		mx_spool_free(sp);
		free(m);
	}
	assert_int_equal(dir_entries(dir), 0);
}

/* test_spool_split_at_memory_limit - every limit, so memory ends anywhere */
static void
test_spool_split_at_memory_limit(void **state)
{
	static const char in[] = ".a\r\nb\n\r\n.\r\n\r\r\n\n.\n..x\r\ry\r\n.z";
	static const char *const pieces[] = { ".a\r", "\nb\n\r", "\n.\r\n\r",
		"\r\n\n.\n.", ".x\r", "\ry\r", "\n.", "z" };
	size_t	lens[8], limit, i, len = sizeof(in) - 1;
	struct mx_spool *sp;
	char	err[256] = "";
	const char *dir = *state;

	for (i = 0; i < 8; i++)
		lens[i] = strlen(pieces[i]);
	for (limit = 0; limit <= len + 1; limit++) {
		sp = spool_bytes(in, len, limit, dir, err, sizeof(err));
		if (sp == NULL)
			fail_msg("limit %zu: %s", limit, err);
		assert_int_equal(spool_files(dir, NULL), limit < len ? 1 : 0);
		check_spool(sp, in, len);
		mx_spool_free(sp);

		sp = spool_records(pieces, lens, 8, limit, dir);
		assert_int_equal(spool_files(dir, NULL), limit < len ? 1 : 0);
		check_spool(sp, in, len);
		mx_spool_free(sp);
		assert_int_equal(spool_files(dir, NULL), 0);
	}
	assert_int_equal(dir_entries(dir), 0);
}

/* test_spool_memory_limit_boundary - limit octets stay, one more spills */
static void
test_spool_memory_limit_boundary(void **state)
{
	struct mx_spool *sp;
	char	err[256] = "";
	const char *dir = *state;
	mode_t	mode = 0;
	uint64_t seed = 7;
	char   *m = random_message(&seed, 40000, false);

	sp = spool_bytes(m, 40000, 40000, dir, err, sizeof(err));
	assert_non_null(sp);
	assert_int_equal(spool_files(dir, NULL), 0);
	check_spool(sp, m, 40000);
	mx_spool_free(sp);

	sp = spool_bytes(m, 40000, 39999, dir, err, sizeof(err));
	assert_non_null(sp);
	assert_int_equal(spool_files(dir, &mode), 1);
	assert_int_equal(mode, 0600);
	assert_int_equal(dir_entries(dir), 0);
	check_spool(sp, m, 40000);
	mx_spool_free(sp);
	assert_int_equal(spool_files(dir, NULL), 0);

	free(m);
}

/* test_spool_random_messages - odd octets, many sizes and limits */
static void
test_spool_random_messages(void **state)
{
	static const size_t limits[] = { 0, 1, 2, 3, 5, 16, 64, BIG };
	struct mx_spool *sp;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char	err[256] = "";
	const char *dir = *state;
	char   *m;
	size_t	i, len;

	for (i = 0; i < 3000; i++) {
		len = (size_t)(xorshift(&seed) % 48);
		m = random_message(&seed, len, true);
		sp = spool_bytes(m, len, limits[i % 8], dir, err, sizeof(err));
		if (sp == NULL)
			fail_msg("mx_spool_read: %s", err);
		check_spool(sp, m, len);
		mx_spool_free(sp);
		free(m);
	}
	assert_int_equal(dir_entries(dir), 0);
}

/* test_spool_large_message - 20 MB through a pipe, to an unlinked file */
static void
test_spool_large_message(void **state)
{
	const size_t len = 20 * 1000 * 1000;
	struct mx_spool_info want;
	struct capture c;
	struct mx_spool *sp;
	const char *piece[1];
	uint64_t seed = 12345;
	size_t	reflen;
	mode_t	mode = 0;
	char	err[256] = "";
	const char *dir = *state;
	char   *m, *ref;
	pid_t	pid;
	int	p[2], round;

	m = random_message(&seed, len, false);
	ref = ref_convert(m, len, &reflen, &want);
	assert_true(reflen > len);

	assert_int_equal(pipe(p), 0);
	piece[0] = m;
	pid = feed_child(p[1], p[0], piece, &len, 1);
	sp = mx_spool_read(p[0], 64 * KiB, dir, err, sizeof(err));
	close(p[0]);
	wait_ok(pid);
	if (sp == NULL)
		fail_msg("mx_spool_read: %s", err);

	assert_int_equal(dir_entries(dir), 0);
	assert_int_equal(spool_files(dir, &mode), 1);
	assert_int_equal(mode, 0600);
	assert_info(mx_spool_get_info(sp), &want);

	for (round = 0; round < 2; round++) {
		memset(&c, 0, sizeof(c));
		c.expect = ref;
		c.expect_len = reflen;
		assert_true(mx_spool_send(sp, capture_write, &c, err, sizeof(err)));
		assert_false(c.mismatch);
		assert_int_equal(c.len, reflen);
		assert_int_equal((off_t)c.len, mx_spool_get_info(sp)->wire_bytes + 3);
		/* whole chunks, not one call per line */
		assert_true(c.calls <= reflen / (MAX_CHUNK - 2) + 2);
	}

	mx_spool_free(sp);
	assert_int_equal(spool_files(dir, NULL), 0);
	free(ref);
	free(m);
}

/* test_spool_send_twice - the same output each time, memory and file */
static void
test_spool_send_twice(void **state)
{
	struct capture a = { 0 }, b = { 0 };
	struct mx_spool *sp;
	uint64_t seed = 99;
	char	err[256] = "";
	const char *dir = *state;
	char   *m = random_message(&seed, 50000, false);
	int	i;

	for (i = 0; i < 2; i++) {
		sp = spool_bytes(m, 50000, i == 0 ? 1000 : BIG, dir, err,
				 sizeof(err));
		assert_int_equal(spool_files(dir, NULL), i == 0 ? 1 : 0);
		assert_non_null(sp);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		assert_true(mx_spool_send(sp, capture_write, &a, err, sizeof(err)));
		assert_true(mx_spool_send(sp, capture_write, &b, err, sizeof(err)));
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		/* a failed send does not disturb the next one */
		free(b.buf);
		memset(&b, 0, sizeof(b));
		b.refuse_at = 1;
		assert_false(mx_spool_send(sp, capture_write, &b, err, sizeof(err)));
		memset(&b, 0, sizeof(b));
		assert_true(mx_spool_send(sp, capture_write, &b, err, sizeof(err)));
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.buf, b.buf, a.len);
		free(a.buf);
		free(b.buf);
		mx_spool_free(sp);
	}
	free(m);
}

/* test_spool_tmpdir_missing - NULL and the directory named */
static void
test_spool_tmpdir_missing(void **state)
{
	static const char dir[] = "/nonexistent/test_spool-dir";
	struct mx_spool *sp;
	char	err[256] = "";

	(void)state;
	sp = spool_bytes("hello\nworld\n", 12, 4, dir, err, sizeof(err));
	assert_null(sp);
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, "No such file or directory"));

	/* a small message never needs the directory */
	sp = spool_bytes("hi\n", 3, 4, dir, err, sizeof(err));
	assert_non_null(sp);
	mx_spool_free(sp);
}

/* test_spool_check_dir - the directory is checked before any message is read */
static void
test_spool_check_dir(void **state)
{
	char	err[PATH_MAX + 256] = "", file[PATH_MAX];
	const char *dir = *state;
	int	fd;

	assert_true(mx_spool_check_dir(dir, err, sizeof(err)));
	assert_true(mx_spool_check_dir("", err, sizeof(err)));		/* /tmp */
	assert_true(mx_spool_check_dir(NULL, err, sizeof(err)));
	assert_false(mx_spool_check_dir("/nonexistent/test_spool-dir", err, sizeof(err)));
	assert_string_equal(err, "spool directory /nonexistent/test_spool-dir: "
			    "No such file or directory");
	snprintf(file, sizeof(file), "%s/a-file", dir);
	assert_true((fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	close(fd);
	assert_false(mx_spool_check_dir(file, err, sizeof(err)));
	assert_non_null(strstr(err, ": Not a directory"));
	assert_non_null(strstr(err, file));
	assert_int_equal(unlink(file), 0);
}

/* test_spool_tmpdir_not_writable - NULL and the directory named */
static void
test_spool_tmpdir_not_writable(void **state)
{
	struct mx_spool *sp;
	char	err[256] = "";
	const char *dir = *state;
	pid_t	pid;

	assert_int_equal(chmod(dir, 0555), 0);
	if (geteuid() != 0) {
		sp = spool_bytes("hello\nworld\n", 12, 4, dir, err, sizeof(err));
		assert_null(sp);
		assert_non_null(strstr(err, dir));
		assert_non_null(strstr(err, "Permission denied"));
		assert_false(mx_spool_check_dir(dir, err, sizeof(err)));
		assert_non_null(strstr(err, ": not writable: Permission denied"));
	} else {
		/* root writes anywhere: try as nobody in a child */
		int	p[2];

		assert_int_equal(pipe(p), 0);
		assert_true(write_full(p[1], "hello\nworld\n", 12));
		close(p[1]);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
			    setuid(65534) != 0)
				_exit(2);
			sp = mx_spool_read(p[0], 4, dir, err, sizeof(err));
			if (sp != NULL || strstr(err, dir) == NULL ||
			    strstr(err, "Permission denied") == NULL) {
				fprintf(stderr, "as nobody: %s\n",
					sp != NULL ? "spooled" : err);
				_exit(1);
			}
			if (mx_spool_check_dir(dir, err, sizeof(err)) ||
			    strstr(err, ": not writable: Permission denied") == NULL) {
				fprintf(stderr, "as nobody, check_dir: %s\n", err);
				_exit(1);
			}
			_exit(0);
		}
		close(p[0]);
		wait_ok(pid);
	}
	assert_int_equal(dir_entries(dir), 0);
}

/* put_file - write a short text to a /proc file */
static bool
put_file(const char *path, const char *text)
{
	int	fd = open(path, O_WRONLY);
	bool	ok;

	if (fd < 0)
		return false;
	ok = write_full(fd, text, strlen(text));
	close(fd);
	return ok;
}

/* own_mount_namespace - a private mount namespace, via a user one if need be */
static bool
own_mount_namespace(void)
{
	char	map[64];
	uid_t	uid = geteuid();
	gid_t	gid = getegid();

	if (uid == 0) {
		if (unshare(CLONE_NEWNS) != 0)
			return false;
	} else {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
			return false;
		(void)put_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		if (!put_file("/proc/self/uid_map", map))
			return false;
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		if (!put_file("/proc/self/gid_map", map))
			return false;
	}
	return mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;
}

/* test_spool_disk_full - a 2 MB message on a 1 MiB tmpfs */
static void
test_spool_disk_full(void **state)
{
	char	want[PATH_MAX + 64], err[PATH_MAX + 256] = "";
	const char *dir = *state;
	char   *m;
	struct mx_spool *sp;
	uint64_t seed = 5;
	char	tmpl[] = "/tmp/test_spool-in.XXXXXX";
	pid_t	pid;
	int	fd;

	m = random_message(&seed, 2000000, false);
	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_true(write_full(fd, m, 2000000));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	free(m);
	snprintf(want, sizeof(want),
		 "cannot spool the message in %s: No space left on device", dir);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the mount lives and dies with this child's namespace */
		if (!own_mount_namespace() ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") != 0) {
			fprintf(stderr, "cannot mount a tmpfs on %s (needs root "
				"or user namespaces): %s\n", dir, strerror(errno));
			_exit(2);
		}
		sp = mx_spool_read(fd, 64 * KiB, dir, err, sizeof(err));
		if (sp != NULL || strcmp(err, want) != 0) {
			fprintf(stderr, "want \"%s\"\ngot  \"%s\"\n", want,
				sp != NULL ? "a spool" : err);
			_exit(1);
		}
		if (dir_entries(dir) != 0) {
			fprintf(stderr, "a file remains in %s\n", dir);
			_exit(1);
		}
		_exit(0);
	}
	close(fd);
	wait_ok(pid);
}

/* test_spool_writer_refuses - false from write_fn stops the send */
static void
test_spool_writer_refuses(void **state)
{
	struct capture c;
	struct mx_spool *sp;
	uint64_t seed = 3;
	char	err[256] = "";
	const char *dir = *state;
	char   *m = random_message(&seed, 200000, false);
	size_t	limit, at;
	int	fd, i;
	char	tmpl[] = "/tmp/test_spool-in.XXXXXX";

	fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_true(write_full(fd, m, 200000));
	for (i = 0; i < 2; i++) {
		limit = i == 0 ? BIG : 1000;
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		sp = mx_spool_read(fd, limit, dir, err, sizeof(err));
		assert_non_null(sp);
		for (at = 1; at <= 4; at++) {
			memset(&c, 0, sizeof(c));
			c.refuse_at = at;
			err[0] = '\0';
			assert_false(mx_spool_send(sp, capture_write, &c, err,
						   sizeof(err)));
			assert_int_equal(c.calls, at);
			assert_string_equal(err, "the message writer failed");
			free(c.buf);
		}
		mx_spool_free(sp);
	}
	close(fd);

	/* the empty message makes one call: the terminator */
	sp = spool_bytes("", 0, BIG, NULL, err, sizeof(err));
	assert_non_null(sp);
	memset(&c, 0, sizeof(c));
	c.refuse_at = 1;
	assert_false(mx_spool_send(sp, capture_write, &c, err, sizeof(err)));
	assert_int_equal(c.calls, 1);
	mx_spool_free(sp);

	free(m);
}

/* test_spool_read_error - a descriptor that cannot be read */
static void
test_spool_read_error(void **state)
{
	struct mx_spool *sp;
	char	err[256] = "";
	int	fd;

	(void)state;
	fd = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	sp = mx_spool_read(fd, BIG, NULL, err, sizeof(err));
	close(fd);
	assert_null(sp);
	assert_string_equal(err, "cannot read the message: Is a directory");

	sp = mx_spool_read(-1, BIG, NULL, err, sizeof(err));
	assert_null(sp);
	assert_string_equal(err, "cannot read the message: Bad file descriptor");
}

static volatile sig_atomic_t ticks;

/* tick - a signal handler that only interrupts */
static void
tick(int sig)
{
	(void)sig;
	ticks++;
}

/* test_spool_interrupted_read - read() failing with EINTR is retried */
static void
test_spool_interrupted_read(void **state)
{
	static const char *const pieces[] = { "one\n", "two\r", "\nthree" };
	static const char want[] = "one\r\ntwo\r\nthree\r\n.\r\n";
	struct itimerval on = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	struct sigaction sa, old;
	struct mx_spool *sp;
	sigset_t mask;
	char	err[256] = "";
	pid_t	pid;
	int	p[2];

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tick;		/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		size_t	i;

		close(p[0]);
		for (i = 0; i < 3; i++) {
			usleep(50000);
			if (!write_full(p[1], pieces[i], strlen(pieces[i])))
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	ticks = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &on, NULL), 0);
	sp = mx_spool_read(p[0], BIG, NULL, err, sizeof(err));
	/* stop the timer and drop a SIGALRM still pending, then restore */
	sigemptyset(&mask);
	sigaddset(&mask, SIGALRM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	sa.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &mask, NULL), 0);
	close(p[0]);
	wait_ok(pid);
	if (sp == NULL)
		fail_msg("mx_spool_read: %s", err);
	assert_true(ticks > 0);
	send_equals(sp, want, sizeof(want) - 1);
	mx_spool_free(sp);
}

/* test_spool_no_err_buffer - err may be NULL; free takes NULL */
static void
test_spool_no_err_buffer(void **state)
{
	struct capture c = { 0 };
	struct mx_spool *sp;

	(void)state;
	assert_null(mx_spool_read(-1, BIG, NULL, NULL, 0));
	sp = spool_bytes("x\n", 2, BIG, NULL, NULL, 0);
	assert_non_null(sp);
	c.refuse_at = 1;
	assert_false(mx_spool_send(sp, capture_write, &c, NULL, 0));
	mx_spool_free(sp);
	mx_spool_free(NULL);
}

/* a test that gets a fresh directory in *state, removed afterwards */
#define DIR_TEST(f)	cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_plain_lf),
		cmocka_unit_test(test_spool_crlf_unchanged),
		cmocka_unit_test(test_spool_mixed),
		cmocka_unit_test(test_spool_bare_cr),
		cmocka_unit_test(test_spool_smuggling),
		cmocka_unit_test(test_spool_leading_dots),
		cmocka_unit_test(test_spool_no_final_newline),
		DIR_TEST(test_spool_empty),
		cmocka_unit_test(test_spool_nul_bytes),
		cmocka_unit_test(test_spool_eight_bit),
		cmocka_unit_test(test_spool_long_lines),
		DIR_TEST(test_spool_crlf_split_across_reads),
		DIR_TEST(test_spool_split_at_memory_limit),
		DIR_TEST(test_spool_line_ends_across_reads),
		DIR_TEST(test_spool_line_ends_across_chunks),
		DIR_TEST(test_spool_random_long_lines),
		DIR_TEST(test_spool_memory_limit_boundary),
		DIR_TEST(test_spool_random_messages),
		DIR_TEST(test_spool_large_message),
		DIR_TEST(test_spool_send_twice),
		cmocka_unit_test(test_spool_tmpdir_missing),
		DIR_TEST(test_spool_check_dir),
		DIR_TEST(test_spool_tmpdir_not_writable),
		DIR_TEST(test_spool_disk_full),
		DIR_TEST(test_spool_writer_refuses),
		cmocka_unit_test(test_spool_read_error),
		cmocka_unit_test(test_spool_interrupted_read),
		cmocka_unit_test(test_spool_no_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
