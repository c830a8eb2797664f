/*
 * smtpfloor - the cheapest pipe transport that delivers over SMTP, for make bench
 *
 * usage: smtpfloor ADDRESS PORT SENDER RECIPIENT
 *
 * Reads the message on stdin and hands it to the SMTP server at
 * ADDRESS:PORT in one session (EHLO, MAIL, RCPT, DATA, the message with
 * CRLF line ends and dot-stuffing, QUIT), then exits 0 if the server
 * answered 250 after the final dot and 75 (EX_TEMPFAIL) otherwise. No
 * configuration, no DNS, no routing policy, no journal, no TLS: what is
 * left is what every pipe(8) transport that delivers a message itself must
 * pay (a process, the message read, a TCP connection and one SMTP dialogue,
 * on the client's and the server's side). postfix-bench.sh runs it beside
 * dd and mxtier-pipe: its rate bounds what any such transport can reach
 * against the dd pipe.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define EX_TEMPFAIL 75

static char inbuf[8192];
static size_t inlen, inpos;

/* reply_code - read one (possibly multi-line) reply; its code, or -1 */
static int
reply_code(int fd)
{
	char	line[1024];
	size_t	n = 0;

	for (;;) {
		char	c;

		if (inpos == inlen) {
			ssize_t r = read(fd, inbuf, sizeof(inbuf));

			if (r <= 0)
				return -1;
			inlen = (size_t)r;
			inpos = 0;
		}
		c = inbuf[inpos++];
		if (c != '\n') {
			if (n < sizeof(line) - 1)
				line[n++] = c;
			continue;
		}
		line[n] = '\0';
		if (n < 3)
			return -1;
		if (n == 3 || line[3] != '-')
			return atoi(line);
		n = 0;
	}
}

/* send_all - write everything or fail */
static int
send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* command - one command and its reply's code */
static int
command(int fd, const char *cmd)
{
	if (send_all(fd, cmd, strlen(cmd)) < 0)
		return -1;
	return reply_code(fd);
}

int
main(int argc, char **argv)
{
	static char msg[1 << 20], out[(2 << 20) + 8];
	struct sockaddr_in sin;
	char	cmd[1100];
	size_t	len = 0, o = 0, i;
	ssize_t	r;
	int	fd, one = 1;
	int	bol = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: smtpfloor ADDRESS PORT SENDER RECIPIENT\n");
		return EX_TEMPFAIL;
	}
	while ((r = read(0, msg + len, sizeof(msg) - len)) > 0)
		if ((len += (size_t)r) == sizeof(msg))
			break;
	if (r < 0)
		return EX_TEMPFAIL;
	for (i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			out[o++] = '.';
		if (msg[i] == '\n')
			out[o++] = '\r';
		out[o++] = msg[i];
		bol = msg[i] == '\n';
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return EX_TEMPFAIL;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return EX_TEMPFAIL;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || reply_code(fd) != 220
	    || command(fd, "EHLO floor.test\r\n") != 250)
		return EX_TEMPFAIL;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%.500s>\r\n", argv[3]);
	if (command(fd, cmd) != 250)
		return EX_TEMPFAIL;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%.500s>\r\n", argv[4]);
	if (command(fd, cmd) != 250 || command(fd, "DATA\r\n") != 354)
		return EX_TEMPFAIL;
	if (send_all(fd, out, o) < 0 || reply_code(fd) != 250)
		return EX_TEMPFAIL;
	(void)command(fd, "QUIT\r\n");
	close(fd);
	return 0;
}
