/*
 * spool - keep the message from stdin so it can be sent to several hosts
 * (see spool.h)
 *
 * mx_spool_read() reads the message in chunks and notes its facts (size,
 * DATA size, 8-bit) while it reads, so nothing is read twice. The bytes stay
 * in one growing heap buffer until the message is larger than the memory
 * limit; then a temporary file is made in the given directory (mkstemp
 * under umask 077, so mode 0600), unlinked at once, and everything goes
 * there instead. An unlinked file is never seen by anyone else and
 * disappears with the process, however that ends. A NULL or empty
 * directory means /tmp. When the heap buffer cannot grow, the message goes
 * to the file early rather than fail.
 *
 * mx_spool_send() reads the bytes again from the start each time (pread(),
 * so the file offset does not matter) and converts them into a 64 KiB buffer
 * that is handed to the writer when full. mx_spool_read() counts with the
 * very same conversion, encode() (and plain_run(), its fast path for octets
 * that pass one for one), so the writer always gets exactly
 * info.wire_bytes + 3 octets. The conversion, octet by octet, with its state
 * carried over from one chunk to the next (a CR at the end of one read() and
 * its LF at the start of the next are one CRLF):
 *
 *	- a line ends at CRLF, at a bare CR (one not followed by LF) and at a
 *	  bare LF; each of the three becomes CRLF. No lone CR or LF reaches
 *	  the server, so neither "\r.\r" nor "\n.\n" (SMTP smuggling) can end
 *	  the data early. CR CR LF is thus two line ends.
 *	- a line longer than MX_SPOOL_LINE_LIMIT octets (its line end not
 *	  counted) is broken by inserting CRLF SPACE, as often as needed: the
 *	  first part has MX_SPOOL_LINE_LIMIT octets, every following one a
 *	  SPACE and up to MX_SPOOL_LINE_LIMIT - 1 more. A line of exactly the
 *	  limit stays whole. This is what Postfix smtp(8) does with
 *	  smtp_line_length_limit = 998, headers and body alike (smtp_text_out()
 *	  in src/smtp/smtp_proto.c).
 *	- a line that starts with "." gets a second "." (RFC 5321 4.5.2); the
 *	  added "." does not count against the limit (nor does it in Postfix).
 *	  A continuation part starts with its SPACE, so it is never stuffed.
 *	- every other octet passes unchanged: NUL (as in Postfix, whose
 *	  message_strip_characters is empty by default), 8-bit octets, control
 *	  characters
 *	- a message whose last line has no line end gets CRLF
 *	- the empty message adds no line at all: its DATA form is only the
 *	  terminator ".\r\n" and its wire_bytes is 0
 *
 * DIAGNOSTICS
 *	mx_spool_read() returns NULL and says why in err: "cannot read the
 *	message: ...", "cannot create a temporary file in DIR: ...", "cannot
 *	spool the message in DIR: ..." (as in "No space left on device"),
 *	"out of memory".
 *	mx_spool_send() returns false with "cannot read back the spooled
 *	message: ..." or, when the writer refused, "the message writer failed".
 *
 * The umask is process-wide: mx_spool_read() must not run in two threads at
 * once with anything else that creates files.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"

#define CHUNK		(64 * 1024)	/* read() size and write_fn chunk */
#define MEM_START	(16 * 1024)	/* first heap buffer */
#define TMP_NAME	"mxtier-spool.XXXXXX"
#define DEFAULT_TMPDIR	"/tmp"

struct mx_spool {
	struct mx_spool_info info;
	char   *mem;		/* the message while it fits in memory */
	size_t	memlen;
	size_t	memcap;
	int	fd;		/* unlinked temporary file, or -1 */
};

/* say - format a reason into err, if there is room for one */
static void
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The conversion into DATA form, carried over from one chunk to the next. */
struct encoder {
	size_t	col;		/* octets of the output line, an added "." not */
	bool	cr;		/* a CR came: its line end is still to write */
};

/* Most octets encode() writes for one octet in: CRLF "." c, or CRLF SPACE c. */
#define ENC_MAX		4

/*
 * encode - the DATA form of the next octet c into out (room for ENC_MAX);
 * returns how many octets it wrote
 */
static size_t
encode(struct encoder *e, unsigned char c, char *out)
{
	size_t	n = 0;

	if (e->cr) {			/* the line before ended in CR */
		out[n++] = '\r';
		out[n++] = '\n';
		e->col = 0;
		e->cr = false;
		if (c == '\n')		/* ... and it was CRLF */
			return n;
	}
	if (c == '\r') {
		e->cr = true;		/* CRLF or bare CR: the next octet says */
		return n;
	}
	if (c == '\n') {		/* bare LF */
		out[n++] = '\r';
		out[n++] = '\n';
		e->col = 0;
		return n;
	}
	if (e->col == MX_SPOOL_LINE_LIMIT) {
		out[n++] = '\r';	/* too long: CRLF SPACE, as Postfix */
		out[n++] = '\n';
		out[n++] = ' ';
		e->col = 1;
	} else if (e->col == 0 && c == '.')
		out[n++] = '.';
	out[n++] = (char)c;
	e->col++;
	return n;
}

/* encode_end - the line end the message still lacks into out (room for 2) */
static size_t
encode_end(struct encoder *e, char *out)
{
	if (!e->cr && e->col == 0)
		return 0;
	e->cr = false;
	e->col = 0;
	out[0] = '\r';
	out[1] = '\n';
	return 2;
}

/*
 * plain_run - how many of the next n octets encode() would pass unchanged,
 * one for one: inside a line, no CR pending, no CR or LF, below the limit.
 * The caller copies them and adds them to e->col (the fast path).
 */
static size_t
plain_run(const struct encoder *e, const unsigned char *p, size_t n)
{
	size_t	i, max;

	if (e->cr || e->col == 0 || e->col >= MX_SPOOL_LINE_LIMIT)
		return 0;
	max = MX_SPOOL_LINE_LIMIT - e->col;
	if (max > n)
		max = n;
	for (i = 0; i < max && p[i] != '\r' && p[i] != '\n'; i++)
		;
	return i;
}

/* scan_chunk - note the facts of the next n octets of the message */
static void
scan_chunk(struct encoder *e, struct mx_spool_info *info,
	   const unsigned char *p, size_t n)
{
	char	scratch[ENC_MAX];
	size_t	i, run;

	for (i = 0; i < n && !info->eight_bit; i++)
		if (p[i] >= 0x80)
			info->eight_bit = true;
	for (i = 0; i < n; ) {
		if ((run = plain_run(e, p + i, n - i)) > 0) {
			e->col += run;
			info->wire_bytes += (off_t)run;
			i += run;
		} else
			info->wire_bytes += (off_t)encode(e, p[i++], scratch);
	}
	info->bytes += (off_t)n;
}

/* scan_finish - the line end of the last line, if it lacks one */
static void
scan_finish(struct encoder *e, struct mx_spool_info *info)
{
	char	scratch[2];

	info->wire_bytes += (off_t)encode_end(e, scratch);
}

/* read_some - one read(), retried on EINTR and waited for on EAGAIN */
static ssize_t
read_some(int fd, void *buf, size_t len)
{
	struct pollfd pfd;
	ssize_t	n;

	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

/* write_all - write everything, across short writes and EINTR */
static bool
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (n == 0) {
			errno = ENOSPC;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* spill - move the message from memory into a new unlinked file in tmpdir */
static bool
spill(struct mx_spool *sp, const char *tmpdir, char *err, size_t errlen)
{
	char   *path;
	size_t	len;
	mode_t	old;
	int	fd, saved;

	len = strlen(tmpdir) + sizeof("/" TMP_NAME);
	if ((path = malloc(len)) == NULL) {
		say(err, errlen, "out of memory");
		return false;
	}
	snprintf(path, len, "%s/%s", tmpdir, TMP_NAME);
	old = umask(077);
	fd = mkstemp(path);
	saved = errno;
	umask(old);
	if (fd < 0) {
		say(err, errlen, "cannot create a temporary file in %s: %s",
		    tmpdir, strerror(saved));
		free(path);
		return false;
	}
	(void)unlink(path);
	free(path);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	sp->fd = fd;
	if (!write_all(fd, sp->mem, sp->memlen)) {
		say(err, errlen, "cannot spool the message in %s: %s", tmpdir,
		    strerror(errno));
		return false;
	}
	free(sp->mem);
	sp->mem = NULL;
	sp->memlen = sp->memcap = 0;
	return true;
}

/* keep_in_memory - append to the heap buffer; false when it cannot grow */
static bool
keep_in_memory(struct mx_spool *sp, const char *buf, size_t n,
	       size_t memory_limit)
{
	size_t	need, cap;
	char   *mem;

	need = sp->memlen + n;
	if (need < sp->memlen || need > memory_limit)
		return false;
	if (need > sp->memcap) {
		cap = sp->memcap > 0 ? sp->memcap : MEM_START;
		while (cap < need && cap <= memory_limit / 2)
			cap *= 2;
		if (cap < need || cap > memory_limit)
			cap = memory_limit;
		if ((mem = realloc(sp->mem, cap)) == NULL)
			return false;
		sp->mem = mem;
		sp->memcap = cap;
	}
	memcpy(sp->mem + sp->memlen, buf, n);
	sp->memlen = need;
	return true;
}

/* mx_spool_check_dir - a directory mx_spool_read() can create its file in */
bool
mx_spool_check_dir(const char *tmpdir, char *err, size_t errlen)
{
	struct stat st;

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = DEFAULT_TMPDIR;
	if (stat(tmpdir, &st) != 0) {
		say(err, errlen, "spool directory %s: %s", tmpdir, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		say(err, errlen, "spool directory %s: %s", tmpdir, strerror(ENOTDIR));
		return false;
	}
	if (faccessat(AT_FDCWD, tmpdir, W_OK | X_OK, AT_EACCESS) != 0) {
		say(err, errlen, "spool directory %s: not writable: %s", tmpdir,
		    strerror(errno));
		return false;
	}
	return true;
}

/* mx_spool_read - read fd to its end, in memory or in a temporary file */
struct mx_spool *
mx_spool_read(int fd, size_t memory_limit, const char *tmpdir, char *err,
	      size_t errlen)
{
	struct mx_spool *sp;
	struct encoder enc;
	char   *buf;
	ssize_t	n;

	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = DEFAULT_TMPDIR;
	if (err != NULL && errlen > 0)
		*err = '\0';
	sp = calloc(1, sizeof(*sp));
	buf = malloc(CHUNK);
	if (sp == NULL || buf == NULL) {
		say(err, errlen, "out of memory");
		free(sp);
		free(buf);
		return NULL;
	}
	sp->fd = -1;
	memset(&enc, 0, sizeof(enc));
	for (;;) {
		if ((n = read_some(fd, buf, CHUNK)) < 0) {
			say(err, errlen, "cannot read the message: %s",
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		scan_chunk(&enc, &sp->info, (unsigned char *)buf, (size_t)n);
		if (sp->fd < 0 && keep_in_memory(sp, buf, (size_t)n, memory_limit))
			continue;
		if (sp->fd < 0 && !spill(sp, tmpdir, err, errlen))
			goto fail;
		if (!write_all(sp->fd, buf, (size_t)n)) {
			say(err, errlen, "cannot spool the message in %s: %s",
			    tmpdir, strerror(errno));
			goto fail;
		}
	}
	scan_finish(&enc, &sp->info);
	free(buf);
	return sp;

fail:
	free(buf);
	mx_spool_free(sp);
	return NULL;
}

/* mx_spool_get_info - size and content facts */
const struct mx_spool_info *
mx_spool_get_info(const struct mx_spool *sp)
{
	return &sp->info;
}

/* read_back - the next part of the message from the file, from offset */
static ssize_t
read_back(int fd, char *buf, size_t len, off_t offset)
{
	ssize_t	n;

	do
		n = pread(fd, buf, len, offset);
	while (n < 0 && errno == EINTR);
	return n;
}

/* mx_spool_send - the DATA form through write_fn, in chunks of up to 64 KiB */
bool
mx_spool_send(struct mx_spool *sp,
	      bool (*write_fn)(void *arg, const char *buf, size_t len), void *arg,
	      char *err, size_t errlen)
{
	struct encoder enc;
	const unsigned char *in;
	char   *out, *inbuf = NULL;
	size_t	i, n, run, olen = 0;
	off_t	done = 0;
	ssize_t	got;
	bool	ok = false;

	if (err != NULL && errlen > 0)
		*err = '\0';
	memset(&enc, 0, sizeof(enc));
	if ((out = malloc(CHUNK)) == NULL ||
	    (sp->fd >= 0 && (inbuf = malloc(CHUNK)) == NULL)) {
		say(err, errlen, "out of memory");
		goto done;
	}
	while (done < sp->info.bytes) {
		if (sp->fd < 0) {
			in = (const unsigned char *)sp->mem;
			n = sp->memlen;
		} else {
			got = read_back(sp->fd, inbuf, CHUNK, done);
			if (got <= 0) {
				say(err, errlen, "cannot read back the spooled "
				    "message: %s", got < 0 ? strerror(errno) :
				    "the file is shorter than the message");
				goto done;
			}
			in = (const unsigned char *)inbuf;
			n = (size_t)got;
			if ((off_t)n > sp->info.bytes - done)
				n = (size_t)(sp->info.bytes - done);
		}
		for (i = 0; i < n; ) {
			if (olen > CHUNK - ENC_MAX) {
				if (!write_fn(arg, out, olen))
					goto refused;
				olen = 0;
			}
			if ((run = plain_run(&enc, in + i, n - i)) > 0) {
				if (run > CHUNK - olen)
					run = CHUNK - olen;
				memcpy(out + olen, in + i, run);
				enc.col += run;
				olen += run;
				i += run;
			} else
				olen += encode(&enc, in[i++], out + olen);
		}
		done += (off_t)n;
	}
	if (olen > CHUNK - 5) {
		if (!write_fn(arg, out, olen))
			goto refused;
		olen = 0;
	}
	olen += encode_end(&enc, out + olen);
	memcpy(out + olen, ".\r\n", 3);
	olen += 3;
	if (!write_fn(arg, out, olen))
		goto refused;
	ok = true;
	goto done;

refused:
	say(err, errlen, "the message writer failed");
done:
	free(out);
	free(inbuf);
	return ok;
}

/* mx_spool_free - free the spool and close its file; NULL is fine */
void
mx_spool_free(struct mx_spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->fd >= 0)
		(void)close(sp->fd);
	free(sp->mem);
	free(sp);
}
