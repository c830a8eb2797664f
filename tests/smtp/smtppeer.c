/*
 * smtppeer - a scripted SMTP server for tests
 *
 * SYNOPSIS
 *	smtppeer -l ADDR -p PORT -s SCRIPT [-S LATER_SCRIPT] [-t LIFETIME]
 *		 [-n MAXCONN] [-c CERT.pem -k KEY.pem [-V 1.2|1.3]] [-d DUMPFILE] [-L LOGFILE]
 *
 * DESCRIPTION
 *	smtppeer plays the server side of an SMTP session from a script, for
 *	what Postfix's smtp-sink cannot do: replies split or dripped, over-long
 *	lines, garbage, mixed reply codes, a broken TLS handshake, a server
 *	that expects pipelined commands. It handles one connection at a time;
 *	each connection runs its script from the top. C11, POSIX and OpenSSL.
 *
 *	Once it listens it prints exactly one line "smtppeer ready PORT" on
 *	stdout and flushes it; tests wait for it. Nothing else goes to stdout.
 *
 * OPTIONS
 *	-l ADDR	 listen address, an IPv4 or IPv6 literal (default 127.0.0.1)
 *	-p PORT	 port (required); 0 picks a free one, which the ready line says
 *	-s FILE	 the script (required)
 *	-S FILE	 the script for every connection after the first (default: the
 *		 same as -s). "-s first -S later" lets a test break the first
 *		 session (badtls) and accept the retry.
 *	-t SECS	 exit after SECS seconds (default 60)
 *	-n N	 exit after N connections (default 20)
 *	-c FILE	 certificate chain (PEM) for starttls
 *	-k FILE	 private key (PEM) for starttls
 *	-V VER	 the newest TLS version to speak: 1.2 or 1.3 (default: what
 *		 OpenSSL offers); lets a test refuse a client's minimum
 *	-d FILE	 the messages that "data" receives are appended here, exactly
 *		 as received after un-stuffing the dots: CRLF stays CRLF.
 *		 Each message adds exactly the octets its transcript line
 *		 "# data N octets" (or, cut off, "! ... (N octets)") counts,
 *		 so the dump can be split into messages (tests/smtp/peer.sh)
 *	-L FILE	 a transcript, appended and flushed line by line:
 *		   "# ..."  events (connection N, end of script, data N octets)
 *		   "C: ..." each line read from the client, without its CRLF
 *		   "S: ..." each send, whole (a drip: its TEXT once; a
 *			    longline: its length)
 *		   "! ..."  anything that went against the script: a mismatch,
 *			    the client gone, a line too long, a TLS failure
 *		 Octets other than printable ASCII are written as \xHH.
 *
 *	SIGTERM and SIGINT end it cleanly (status 0), as do the end of the
 *	lifetime and the last allowed connection. Status 2: bad usage or bad
 *	script ("FILE:LINE: what was expected" on stderr); 1: system error.
 *
 * SCRIPT
 *	One directive per line; blank lines and lines starting with "#" are
 *	ignored. TEXT and PREFIX take the rest of the line after one space,
 *	with the C escapes \r \n \t \\ and \xHH; nothing is added to them.
 *	send TEXT	send TEXT exactly
 *	expect PREFIX	read one line (at most 8 KiB) from the client; it must
 *			start with PREFIX, case-insensitively. Otherwise reply
 *			"500 unexpected", log "!" and close the connection.
 *	starttls	the server side of the TLS handshake (needs -c and -k);
 *			later send/expect/data go over TLS
 *	badtls		wait for the client's first TLS bytes, answer with bytes
 *			that are not TLS, and close. Put it after "expect
 *			STARTTLS" and "send 220 ...".
 *	data		read the message up to CRLF "." CRLF, un-stuff the dots,
 *			append it to the dump file (no reply: send one)
 *	drip TEXT MS	send TEXT one octet every MS milliseconds, over and over,
 *			until the client closes (the last word is MS)
 *	sleep MS	stay silent for MS milliseconds (the client's commands
 *			stay unread for the next expect)
 *	quiet		the client must have sent nothing we have not read yet
 *			(after "sleep": proof that it waits for our reply when
 *			it must not pipeline); otherwise log "!" and close
 *	close		close the connection now
 *	longline N	send N octets 'x' and CRLF
 *	garbage		send octets that are not SMTP (an HTTP reply, binary)
 *	At the end of the script the connection is closed.
 *
 * Nothing the client sends can crash it: every read is bounded, every
 * wait ends with the lifetime or a signal.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_IN	8192		/* longest client line we read */
#define TEXT_MAX	8192		/* longest TEXT in a script line */
#define SCRIPT_MAX	1000		/* directives per script */

enum op { OP_SEND, OP_EXPECT, OP_STARTTLS, OP_BADTLS, OP_DATA, OP_DRIP, OP_SLEEP, OP_CLOSE,
	  OP_LONGLINE, OP_GARBAGE, OP_QUIET };

struct step {
	enum op	op;
	char   *text;			/* unescaped TEXT / PREFIX */
	size_t	len;
	long	n;			/* MS or N */
	int	lineno;
};

struct script {
	struct step *steps;
	size_t	nsteps;
};

/* One client connection. */
struct conn {
	int	fd;
	SSL    *ssl;
	char	in[LINE_MAX_IN];	/* read but not yet used */
	size_t	inlen;
	bool	gone;			/* the client closed, reset, or we must stop */
};

static volatile sig_atomic_t got_signal;
static int sigpipe_fds[2] = { -1, -1 };
static long long end_ms;		/* monotonic time to exit */
static FILE *logfp;
static const char *dump_path;
static SSL_CTX *tls_ctx;

/* now_ms - monotonic milliseconds */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* die - a fatal system error */
static void
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "smtppeer: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* logq - one transcript entry: prefix and the octets, escaped */
static void
logq(const char *prefix, const char *buf, size_t len)
{
	size_t	i;

	if (logfp == NULL)
		return;
	fputs(prefix, logfp);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, logfp);
		else if (c == '\\')
			fputs("\\\\", logfp);
		else
			fprintf(logfp, "\\x%02x", c);
	}
	fputc('\n', logfp);
	fflush(logfp);
}

/* logf_ - a formatted transcript entry */
static void
logf_(const char *fmt, ...)
{
	char	buf[512];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	logq("", buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* --- script ---------------------------------------------------------- */

/* hexval - value of a hex digit, or -1 */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* unescape - C escapes of s into a new buffer; NULL on a bad escape */
static char *
unescape(const char *s, size_t slen, size_t *outlen)
{
	char   *out = malloc(slen + 1);
	size_t	i, o = 0;

	if (out == NULL)
		die("out of memory");
	for (i = 0; i < slen; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (++i >= slen)
			goto bad;
		switch (s[i]) {
		case 'r': out[o++] = '\r'; break;
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case '\\': out[o++] = '\\'; break;
		case 'x':
			if (i + 2 >= slen || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				goto bad;
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			break;
		default:
			goto bad;
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

/* number - a decimal number in [0, max], or -1 */
static long
number(const char *s, long max)
{
	char   *end;
	long	v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	return v;
}

/* script_error - a script problem: FILE:LINE: why, exit 2 */
static void
script_error(const char *path, int lineno, const char *why)
{
	fprintf(stderr, "%s:%d: %s\n", path, lineno, why);
	exit(2);
}

/* load_script - parse a script file */
static void
load_script(const char *path, struct script *sc)
{
	FILE   *fp = fopen(path, "r");
	char	line[TEXT_MAX + 64];
	int	lineno = 0;

	if (fp == NULL) {
		fprintf(stderr, "smtppeer: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	sc->steps = calloc(SCRIPT_MAX, sizeof(*sc->steps));
	if (sc->steps == NULL)
		die("out of memory");
	sc->nsteps = 0;
	while (fgets(line, sizeof(line), fp) != NULL) {
		size_t	len = strlen(line);
		struct step *st;
		char   *arg;
		size_t	alen;

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(fp))
			script_error(path, lineno, "line too long");
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (sc->nsteps >= SCRIPT_MAX)
			script_error(path, lineno, "too many directives");
		st = &sc->steps[sc->nsteps];
		st->lineno = lineno;
		arg = strchr(line, ' ');
		if (arg != NULL)
			*arg++ = '\0';
		alen = arg != NULL ? strlen(arg) : 0;

		if (strcmp(line, "send") == 0 || strcmp(line, "expect") == 0) {
			st->op = line[0] == 's' ? OP_SEND : OP_EXPECT;
			if (arg == NULL && st->op == OP_SEND)
				script_error(path, lineno, "send TEXT");
			st->text = unescape(arg ? arg : "", alen, &st->len);
			if (st->text == NULL)
				script_error(path, lineno, "bad escape (\\r \\n \\t \\\\ \\xHH)");
		} else if (strcmp(line, "drip") == 0) {
			char   *sp = arg ? strrchr(arg, ' ') : NULL;

			st->op = OP_DRIP;
			if (sp == NULL || sp == arg || (st->n = number(sp + 1, 3600000)) <= 0)
				script_error(path, lineno, "drip TEXT MS");
			st->text = unescape(arg, (size_t)(sp - arg), &st->len);
			if (st->text == NULL || st->len == 0)
				script_error(path, lineno, "drip TEXT MS: bad TEXT");
		} else if (strcmp(line, "sleep") == 0 || strcmp(line, "longline") == 0) {
			st->op = line[0] == 's' ? OP_SLEEP : OP_LONGLINE;
			if (arg == NULL || (st->n = number(arg, 100000000)) < 0)
				script_error(path, lineno, st->op == OP_SLEEP ? "sleep MS" :
					     "longline N (at most 100000000)");
		} else if (arg != NULL) {
			script_error(path, lineno, "this directive takes no argument");
		} else if (strcmp(line, "starttls") == 0) {
			st->op = OP_STARTTLS;
		} else if (strcmp(line, "badtls") == 0) {
			st->op = OP_BADTLS;
		} else if (strcmp(line, "data") == 0) {
			st->op = OP_DATA;
		} else if (strcmp(line, "close") == 0) {
			st->op = OP_CLOSE;
		} else if (strcmp(line, "garbage") == 0) {
			st->op = OP_GARBAGE;
		} else if (strcmp(line, "quiet") == 0) {
			st->op = OP_QUIET;
		} else
			script_error(path, lineno, "send, expect, starttls, badtls, data, drip, "
				     "sleep, quiet, close, longline or garbage");
		sc->nsteps++;
	}
	if (ferror(fp)) {
		fprintf(stderr, "smtppeer: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	fclose(fp);
}

/* free_script - the steps and their texts */
static void
free_script(struct script *sc)
{
	size_t	i;

	for (i = 0; i < sc->nsteps; i++)
		free(sc->steps[i].text);
	free(sc->steps);
	sc->steps = NULL;
	sc->nsteps = 0;
}

/* --- connection I/O ---------------------------------------------------- */

/* time_left - milliseconds until exit, capped for poll() */
static int
time_left(void)
{
	long long left = end_ms - now_ms();

	if (left <= 0)
		return 0;
	return left > 60000 ? 60000 : (int)left;
}

/* wait_io - poll fd for events; 1 ready, 0 told to stop or out of time */
static int
wait_io(int fd, short events, long long until)
{
	for (;;) {
		struct pollfd pfd[2] = { { fd, events, 0 }, { sigpipe_fds[0], POLLIN, 0 } };
		long long left;
		int	rc, ms = time_left();

		if (got_signal || ms == 0)
			return 0;
		if (until > 0) {
			left = until - now_ms();
			if (left <= 0)
				return 0;
			if (left < ms)
				ms = (int)left;
		}
		rc = poll(pfd, 2, ms);
		if (rc < 0 && errno != EINTR)
			return 0;
		if (rc > 0 && pfd[0].revents != 0)
			return 1;
	}
}

/* conn_recv - some octets; >0 count, 0 the client is gone (or we stop) */
static ssize_t
conn_recv(struct conn *c, char *buf, size_t len)
{
	if (c->gone)
		return 0;
	for (;;) {
		ssize_t	n;

		if (c->ssl != NULL) {
			int	rc, e;

			ERR_clear_error();
			rc = SSL_read(c->ssl, buf, (int)len);
			if (rc > 0)
				return rc;
			e = SSL_get_error(c->ssl, rc);
			if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
			    wait_io(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0))
				continue;
			break;
		}
		n = recv(c->fd, buf, len, 0);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_io(c->fd, POLLIN, 0))
			continue;
		break;
	}
	c->gone = true;
	return 0;
}

/* conn_send - all of buf; false when the client is gone */
static bool
conn_send(struct conn *c, const char *buf, size_t len)
{
	while (len > 0 && !c->gone) {
		ssize_t	n;

		if (c->ssl != NULL) {
			int	rc, e;

			ERR_clear_error();
			rc = SSL_write(c->ssl, buf, len > 16384 ? 16384 : (int)len);
			if (rc > 0) {
				buf += rc;
				len -= (size_t)rc;
				continue;
			}
			e = SSL_get_error(c->ssl, rc);
			if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
			    wait_io(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0))
				continue;
			c->gone = true;
			break;
		}
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_io(c->fd, POLLOUT, 0))
			continue;
		c->gone = true;
	}
	return !c->gone;
}

/* read_line - one line without its CRLF into line; length, -1 gone, -2 too long */
static long
read_line(struct conn *c, char *line)
{
	for (;;) {
		char   *nl = memchr(c->in, '\n', c->inlen);
		ssize_t	n;

		if (nl != NULL) {
			size_t	len = (size_t)(nl - c->in), rest = c->inlen - len - 1;

			memcpy(line, c->in, len);
			memmove(c->in, nl + 1, rest);
			c->inlen = rest;
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			return (long)len;
		}
		if (c->inlen == sizeof(c->in))
			return -2;
		n = conn_recv(c, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n <= 0)
			return -1;
		c->inlen += (size_t)n;
	}
}

/* hold - wait ms without reading; false when the client went away or we stop */
static bool
hold(struct conn *c, long ms)
{
	long long until = now_ms() + ms;
	struct pollfd pfd[2];

	for (;;) {
		long long left = until - now_ms();
		int	rc, tl = time_left();

		if (left <= 0)
			return true;
		if (got_signal || tl == 0)
			return false;
		pfd[0].fd = c->fd;
		pfd[0].events = POLLRDHUP;
		pfd[0].revents = 0;
		pfd[1].fd = sigpipe_fds[0];
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		rc = poll(pfd, 2, left < tl ? (int)left : tl);
		if (rc < 0 && errno != EINTR)
			return false;
		if (rc > 0 && (pfd[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			return false;
	}
}

/* sent_ahead - has the client sent anything we have not read */
static bool
sent_ahead(struct conn *c)
{
	struct pollfd pfd = { c->fd, POLLIN, 0 };
	char	b;

	if (c->inlen > 0 || (c->ssl != NULL && SSL_pending(c->ssl) > 0))
		return true;
	/* readable with data, not merely at EOF */
	return poll(&pfd, 1, 0) > 0 && recv(c->fd, &b, 1, MSG_PEEK) > 0;
}

/* send_step - send and log the whole text (peer.sh pairs every reply in it
 * with a command, so none may be cut off) */
static bool
send_step(struct conn *c, const char *buf, size_t len)
{
	logq("S: ", buf, len);
	return conn_send(c, buf, len);
}

/* do_data - read a message up to CRLF.CRLF, un-stuffed, into the dump file */
static bool
do_data(struct conn *c)
{
	enum { LINE_START, MID, DOT, DOT_CR } st = LINE_START;
	FILE   *dump = NULL;
	char	out[LINE_MAX_IN];
	size_t	olen = 0, i = 0;
	long long total = 0;
	bool	ok = false;

	if (dump_path != NULL && (dump = fopen(dump_path, "a")) == NULL)
		die("%s: %s", dump_path, strerror(errno));
	for (;;) {
		if (c->inlen == 0) {
			ssize_t	n = conn_recv(c, c->in, sizeof(c->in));

			if (n <= 0) {
				i = 0;
				break;
			}
			c->inlen = (size_t)n;
		}
		for (i = 0; i < c->inlen; i++) {
			char	ch = c->in[i];

			if (olen > sizeof(out) - 4) {
				if (dump != NULL)
					fwrite(out, 1, olen, dump);
				total += (long long)olen;
				olen = 0;
			}
			switch (st) {
			case LINE_START:
				if (ch == '.') {
					st = DOT;
					continue;
				}
				break;
			case DOT:		/* the stuffed dot is dropped */
				if (ch == '\r') {
					st = DOT_CR;
					continue;
				}
				break;
			case DOT_CR:
				if (ch == '\n') {
					ok = true;
					i++;
					goto end;
				}
				out[olen++] = '\r';	/* ".\r" and more: a line ".\r..." */
				break;
			case MID:
				break;
			}
			out[olen++] = ch;
			st = ch == '\n' ? LINE_START : MID;
		}
		c->inlen = 0;
	}
end:
	memmove(c->in, c->in + i, c->inlen - i);
	c->inlen -= i;
	if (dump != NULL) {
		fwrite(out, 1, olen, dump);
		if (fclose(dump) != 0)
			die("%s: %s", dump_path, strerror(errno));
	}
	total += (long long)olen;
	if (ok)
		logf_("# data %lld octets", total);
	else
		logf_("! the client went away in the middle of the data (%lld octets)", total);
	return ok;
}

/* do_starttls - the server side of the handshake */
static bool
do_starttls(struct conn *c)
{
	if (tls_ctx == NULL) {
		logf_("! starttls without -c and -k");
		return false;
	}
	if (c->inlen > 0) {
		logf_("! %zu octets of plaintext after STARTTLS thrown away", c->inlen);
		c->inlen = 0;
	}
	if ((c->ssl = SSL_new(tls_ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		logf_("! SSL_new failed");
		return false;
	}
	for (;;) {
		int	rc, e;

		ERR_clear_error();
		rc = SSL_accept(c->ssl);
		if (rc == 1) {
			logf_("# TLS %s", SSL_get_version(c->ssl));
			return true;
		}
		e = SSL_get_error(c->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_io(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, 0))
			continue;
		logf_("! TLS handshake failed: %s", ERR_reason_error_string(ERR_peek_error()) ?
		      ERR_reason_error_string(ERR_peek_error()) : "connection closed");
		SSL_free(c->ssl);
		c->ssl = NULL;
		return false;
	}
}

/* do_badtls - answer the client's first TLS bytes with something else */
static void
do_badtls(struct conn *c)
{
	static const char junk[] = "HTTP/1.1 400 this is not TLS\r\n\r\n";
	char	buf[4096];
	ssize_t	n;

	c->inlen = 0;
	n = conn_recv(c, buf, sizeof(buf));	/* the ClientHello */
	logf_("# badtls: %zd octets from the client, answering with junk", n);
	(void)send_step(c, junk, sizeof(junk) - 1);
	(void)shutdown(c->fd, SHUT_WR);
	while (conn_recv(c, buf, sizeof(buf)) > 0)	/* until the client gives up */
		;
}

/* do_drip - TEXT one octet at a time until the client closes */
static void
do_drip(struct conn *c, const struct step *st)
{
	size_t	i;

	logq("S: (drip) ", st->text, st->len);
	for (i = 0;; i = (i + 1) % st->len) {
		if (!conn_send(c, st->text + i, 1) || !hold(c, st->n))
			break;
	}
	logf_("# drip ended");
}

/* do_longline - N octets 'x' and CRLF */
static bool
do_longline(struct conn *c, long n)
{
	char	buf[8192];

	memset(buf, 'x', sizeof(buf));
	logf_("S: (%ld x) CRLF", n);
	while (n > 0) {
		size_t	k = n > (long)sizeof(buf) ? sizeof(buf) : (size_t)n;

		if (!conn_send(c, buf, k))
			return false;
		n -= (long)k;
	}
	return conn_send(c, "\r\n", 2);
}

/* run_script - one connection, the whole script */
static void
run_script(struct conn *c, const struct script *sc)
{
	static const char junk[] = "HTTP/1.1 400 Bad Request\r\nServer: not-smtp\r\n\r\n"
				   "\x00\x01\xff\xfe\x1b[2J";
	char	line[LINE_MAX_IN + 1];
	size_t	k;

	for (k = 0; k < sc->nsteps; k++) {
		const struct step *st = &sc->steps[k];
		long	n;

		switch (st->op) {
		case OP_SEND:
			if (!send_step(c, st->text, st->len)) {
				logf_("! the client went away (send, script line %d)", st->lineno);
				return;
			}
			break;
		case OP_EXPECT:
			n = read_line(c, line);
			if (n == -2) {
				logf_("! line over %d octets (expect, script line %d)", LINE_MAX_IN,
				      st->lineno);
				(void)send_step(c, "500 line too long\r\n", 19);
				return;
			}
			if (n < 0) {
				logq("! the client went away, expected: ", st->text, st->len);
				return;
			}
			logq("C: ", line, (size_t)n);
			if ((size_t)n < st->len || strncasecmp(line, st->text, st->len) != 0 ||
			    memchr(line, '\0', (size_t)n) != NULL) {
				logq("! unexpected, expected: ", st->text, st->len);
				(void)send_step(c, "500 unexpected\r\n", 16);
				return;
			}
			break;
		case OP_STARTTLS:
			if (!do_starttls(c))
				return;
			break;
		case OP_BADTLS:
			do_badtls(c);
			return;
		case OP_DATA:
			if (!do_data(c))
				return;
			break;
		case OP_DRIP:
			do_drip(c, st);
			return;
		case OP_SLEEP:
			logf_("# sleep %ld", st->n);
			if (!hold(c, st->n)) {
				logf_("# the client went away while we slept");
				return;
			}
			break;
		case OP_CLOSE:
			logf_("# close");
			return;
		case OP_LONGLINE:
			if (!do_longline(c, st->n)) {
				logf_("# the client went away during the long line");
				return;
			}
			break;
		case OP_GARBAGE:
			if (!send_step(c, junk, sizeof(junk) - 1))
				return;
			break;
		case OP_QUIET:
			if (sent_ahead(c)) {
				logf_("! the client sent more without waiting for a reply "
				      "(script line %d)", st->lineno);
				return;
			}
			break;
		}
	}
	logf_("# end of script");
}

/* --- setup and main loop ----------------------------------------------- */

/* on_signal - note SIGTERM/SIGINT and wake any poll() */
static void
on_signal(int sig)
{
	int	e = errno;
	ssize_t	r;

	(void)sig;
	got_signal = 1;
	r = write(sigpipe_fds[1], "x", 1);
	(void)r;
	errno = e;
}

/* listen_on - a listening socket on addr:port */
static int
listen_on(const char *addr, long port, long *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int	fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(addr, ':') == NULL) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -2;
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -2;
		len = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		die("bind %s port %ld: %s", addr, port, strerror(errno));
	if (listen(fd, 16) != 0)
		die("listen: %s", strerror(errno));
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		die("getsockname: %s", strerror(errno));
	*bound = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
		       ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* tls_setup - the server context from -c and -k */
static void
tls_setup(const char *cert, const char *key, int max_version)
{
	tls_ctx = SSL_CTX_new(TLS_server_method());
	if (tls_ctx != NULL && max_version != 0 &&
	    SSL_CTX_set_max_proto_version(tls_ctx, max_version) != 1) {
		fprintf(stderr, "smtppeer: cannot limit TLS to version %#x\n", max_version);
		exit(2);
	}
	if (tls_ctx == NULL ||
	    SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(tls_ctx) != 1) {
		fprintf(stderr, "smtppeer: TLS with %s and %s: %s\n", cert, key,
			ERR_reason_error_string(ERR_get_error()));
		exit(2);
	}
}

/* usage - say how to call us, exit 2 */
static void
usage(void)
{
	fprintf(stderr, "usage: smtppeer -l ADDR -p PORT -s SCRIPT [-S LATER_SCRIPT] "
		"[-t LIFETIME_S] [-n MAXCONN] [-c CERT.pem -k KEY.pem] [-d DUMPFILE] "
		"[-L LOGFILE]\n");
	exit(2);
}

/* serve - one accepted connection */
static void
serve(int fd, const struct script *sc, int nconn, const struct sockaddr_storage *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	char	ptext[INET6_ADDRSTRLEN] = "?";

	if (c == NULL)
		die("out of memory");
	c->fd = fd;
	if (peer->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, ptext,
			  sizeof(ptext));
	else if (peer->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, ptext,
			  sizeof(ptext));
	logf_("# connection %d from %s", nconn, ptext);
	run_script(c, sc);
	if (c->ssl != NULL) {
		ERR_clear_error();
		(void)SSL_shutdown(c->ssl);	/* one-way: we do not wait for theirs */
		SSL_free(c->ssl);
	}
	close(fd);
	free(c);
}

/* main - options, scripts, listen, announce, serve until told to stop */
int
main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *first = NULL, *later = NULL, *cert = NULL, *key = NULL;
	const char *log_path = NULL;
	struct script sc_first, sc_later;
	long	port = -1, lifetime = 60, maxconn = 20, bound = 0;
	struct sigaction sa;
	int	opt, lfd, nconn = 0, max_version = 0;

	while ((opt = getopt(argc, argv, "l:p:s:S:t:n:c:k:V:d:L:")) != -1) {
		switch (opt) {
		case 'l': addr = optarg; break;
		case 'p': port = number(optarg, 65535); if (port < 0) usage(); break;
		case 's': first = optarg; break;
		case 'S': later = optarg; break;
		case 't': lifetime = number(optarg, 86400); if (lifetime <= 0) usage(); break;
		case 'n': maxconn = number(optarg, 1000000); if (maxconn <= 0) usage(); break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'V':
			if (strcmp(optarg, "1.2") == 0)
				max_version = TLS1_2_VERSION;
			else if (strcmp(optarg, "1.3") == 0)
				max_version = TLS1_3_VERSION;
			else
				usage();
			break;
		case 'd': dump_path = optarg; break;
		case 'L': log_path = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || port < 0 || first == NULL || (cert == NULL) != (key == NULL))
		usage();
	load_script(first, &sc_first);
	if (later != NULL)
		load_script(later, &sc_later);
	else
		sc_later = sc_first;
	if (cert != NULL)
		tls_setup(cert, key, max_version);
	if (log_path != NULL && (logfp = fopen(log_path, "a")) == NULL)
		die("%s: %s", log_path, strerror(errno));

	if (pipe(sigpipe_fds) < 0)
		die("pipe: %s", strerror(errno));
	fcntl(sigpipe_fds[0], F_SETFL, O_NONBLOCK);
	fcntl(sigpipe_fds[1], F_SETFL, O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((lfd = listen_on(addr, port, &bound)) == -2) {
		fprintf(stderr, "smtppeer: -l %s: not an IP address\n", addr);
		exit(2);
	}
	end_ms = now_ms() + lifetime * 1000;
	printf("smtppeer ready %ld\n", bound);
	fflush(stdout);

	while (!got_signal && nconn < maxconn) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int	fd;

		if (!wait_io(lfd, POLLIN, 0))
			break;
		fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		nconn++;
		serve(fd, nconn == 1 ? &sc_first : &sc_later, nconn, &peer);
	}
	close(lfd);
	if (later != NULL)
		free_script(&sc_later);
	free_script(&sc_first);
	if (logfp != NULL)
		fclose(logfp);
	SSL_CTX_free(tls_ctx);
	return 0;
}
