/*
 * serve - request loops of the route oracle (see serve.h)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "netstring.h"
#include "serve.h"

/* struct input - what has been read and not yet consumed */
struct input {
	char   *buf;
	size_t	len;
	size_t	cap;
	bool	eof;
};

/*
 * fill - read more; waits at most wait_ms. Returns 1 on data or EOF, 0 on
 * timeout, -1 on error (why filled)
 */
static int
fill(const struct mx_serve_opts *o, struct input *in, int wait_ms, char *why, size_t whylen)
{
	struct pollfd p = { .fd = o->in_fd, .events = POLLIN };
	ssize_t	n;
	int	rc;

	if (in->len == in->cap) {
		snprintf(why, whylen, "request longer than %zu octets", o->max_request);
		return -1;
	}
	do
		rc = poll(&p, 1, wait_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0) {
		snprintf(why, whylen, "poll: %s", strerror(errno));
		return -1;
	}
	if (rc == 0)
		return 0;
	do
		n = read(o->in_fd, in->buf + in->len, in->cap - in->len);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ECONNRESET) {
			in->eof = true;
			return 1;
		}
		snprintf(why, whylen, "read: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		in->eof = true;
	in->len += (size_t)n;
	return 1;
}

/* consume - drop the first n octets */
static void
consume(struct input *in, size_t n)
{
	memmove(in->buf, in->buf + n, in->len - n);
	in->len -= n;
}

/* write_all - one reply, waiting at most write_ms in all; false with why */
static bool
write_all(const struct mx_serve_opts *o, const char *data, size_t len, char *why, size_t whylen)
{
	int64_t	deadline = mx_clock_mono_ms() + o->write_ms;
	struct pollfd p = { .fd = o->out_fd, .events = POLLOUT };
	ssize_t	n;

	while (len > 0) {
		int64_t	left = deadline - mx_clock_mono_ms();
		int	rc;

		if (left <= 0) {
			snprintf(why, whylen, "the client took no reply for %d ms", o->write_ms);
			return false;
		}
		rc = poll(&p, 1, (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;	/* timeout: the loop's check ends it */
		n = write(o->out_fd, data, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(why, whylen, "write: %s", strerror(errno));
			return false;
		}
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * next_wait - how long to wait for more input: idle_ms with nothing
 * pending, else what is left of request_ms since the request began
 */
static int
next_wait(const struct mx_serve_opts *o, const struct input *in, int64_t started)
{
	int64_t	left;

	if (in->len == 0)
		return o->idle_ms;
	left = started + o->request_ms - mx_clock_mono_ms();
	return left > 0 ? (int)left : 0;
}

/* input_new - the buffer for requests of up to max octets plus framing */
static bool
input_new(struct input *in, size_t max, char *why, size_t whylen)
{
	memset(in, 0, sizeof(*in));
	in->cap = max + 32;
	if ((in->buf = malloc(in->cap)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	return true;
}

/* wait_more - read after a timeout check; an end code, or -1 to go on */
static int
wait_more(const struct mx_serve_opts *o, struct input *in, int64_t started, char *why,
	  size_t whylen)
{
	int	rc = fill(o, in, next_wait(o, in, started), why, whylen);

	if (rc < 0)
		return MX_SERVE_ERROR;
	if (rc == 0 && in->len == 0)
		return MX_SERVE_IDLE;
	if (rc == 0) {
		snprintf(why, whylen, "request left unfinished for %d ms", o->request_ms);
		return MX_SERVE_ERROR;
	}
	return -1;
}

/* mx_serve_socketmap - netstrings in, netstrings out */
enum mx_serve_end
mx_serve_socketmap(const struct mx_serve_opts *o, mx_serve_answer_fn answer, void *arg,
		   char *why, size_t whylen)
{
	static char reply[MX_SERVE_REPLY_MAX], framed[MX_SERVE_REPLY_MAX + 16];
	struct input in;
	int64_t	started = 0;
	int	end;

	if (!input_new(&in, o->max_request, why, whylen))
		return MX_SERVE_ERROR;
	for (;;) {
		const char *data;
		size_t	dlen, used, flen;
		enum mx_netstring_status st;

		st = in.len > 0 ? mx_netstring_take(in.buf, in.len, o->max_request, &data, &dlen,
						     &used, why, whylen) : MX_NETSTRING_MORE;
		if (st == MX_NETSTRING_BAD) {
			end = MX_SERVE_ERROR;
			break;
		}
		if (st == MX_NETSTRING_OK) {
			answer(arg, data, dlen, reply, sizeof(reply));
			consume(&in, used);
			flen = mx_netstring_put(reply, strlen(reply), framed, sizeof(framed));
			if (!write_all(o, framed, flen, why, whylen)) {
				end = MX_SERVE_ERROR;
				break;
			}
			started = mx_clock_mono_ms();
			continue;
		}
		if (in.eof) {
			if (in.len > 0)
				snprintf(why, whylen, "end of input inside a request");
			end = in.len > 0 ? MX_SERVE_ERROR : MX_SERVE_EOF;
			break;
		}
		if (in.len == 0)
			started = mx_clock_mono_ms();
		if ((end = wait_more(o, &in, started, why, whylen)) >= 0)
			break;
	}
	free(in.buf);
	return (enum mx_serve_end)end;
}

/* mx_serve_lines - lines in, lines out */
enum mx_serve_end
mx_serve_lines(const struct mx_serve_opts *o, mx_serve_answer_fn answer, void *arg,
	       char *why, size_t whylen)
{
	char	reply[MX_SERVE_REPLY_MAX];
	struct input in;
	int64_t	started = 0;
	bool	skipping = false;	/* inside the rest of an over-long line */
	int	end;

	if (!input_new(&in, o->max_request, why, whylen))
		return MX_SERVE_ERROR;
	for (;;) {
		char   *nl = in.len > 0 ? memchr(in.buf, '\n', in.len) : NULL;
		size_t	llen;

		if (nl == NULL && skipping) {
			in.len = 0;		/* still the long line: drop what came */
		} else if (nl != NULL && skipping) {
			consume(&in, (size_t)(nl - in.buf) + 1);
			skipping = false;
			continue;
		} else if (nl != NULL || (in.eof && in.len > 0) || in.len > o->max_request) {
			bool	whole = nl != NULL;

			llen = whole ? (size_t)(nl - in.buf) :
			    in.len > o->max_request ? o->max_request : in.len;
			if (llen > 0 && in.buf[llen - 1] == '\r')
				llen--;
			answer(arg, in.buf, llen, reply, sizeof(reply) - 1);
			strcat(reply, "\n");
			if (whole)
				consume(&in, (size_t)(nl - in.buf) + 1);
			else if (!in.eof) {
				in.len = 0;
				skipping = true;
			} else
				in.len = 0;
			if (!write_all(o, reply, strlen(reply), why, whylen)) {
				end = MX_SERVE_ERROR;
				break;
			}
			started = mx_clock_mono_ms();
			continue;
		}
		if (in.eof) {
			end = MX_SERVE_EOF;
			break;
		}
		if (in.len == 0)
			started = mx_clock_mono_ms();
		if ((end = wait_more(o, &in, started, why, whylen)) >= 0)
			break;
	}
	free(in.buf);
	return (enum mx_serve_end)end;
}
