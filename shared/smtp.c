/*
 * smtp - one SMTP client session to one address (see smtp.h)
 *
 * The socket is non-blocking; every read and write waits in poll() for at
 * most what is left of the stage's deadline, so a silent or dripping
 * server cannot hold the session past its timeout. TLS (OpenSSL) runs on
 * the same socket after STARTTLS; anything the server sent before the TLS
 * handshake is thrown away (RFC 3207 6). Two client contexts, each made on
 * first need: an unauthenticated one (MAY, ENCRYPT: any certificate, TLS
 * 1.0 and later) and a verifying one (VERIFY, DANE, MAY with check_names:
 * the CAs, tls.min_version, DANE enabled). Neither aborts a handshake over
 * a certificate: judge() reads the verification result afterwards, so a
 * refusal has its reason and ends with a QUIT, over TLS, and nothing else.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "smtp.h"
#include "tlslib.h"

/* RFC 2920 3.1: at most this many pipelined commands, and octets, per write */
#define PIPELINE_MAX_CMDS	32
#define PIPELINE_MAX_BYTES	4096

static SSL_CTX *tls_ctx;		/* unauthenticated: MAY, ENCRYPT */
static SSL_CTX *tls_vctx;		/* verifying: VERIFY, DANE, MAY with check_names */
static char *vctx_file, *vctx_path;	/* what tls_vctx was made with */
static int vctx_min;

struct conn {
	int	fd;
	SSL    *ssl;
	char	buf[4096];
	size_t	len, pos;
	long long deadline;		/* ms, monotonic: the current stage's */
	long long hard_deadline;	/* ms, monotonic: the whole delivery's (0: none) */
	char	why[200];		/* what went wrong with the connection */
	enum mx_failure_kind fail;	/* LOST or PROTOCOL when a read/write failed */
};

/* mx_smtp_opts_from_config - stage timeouts (seconds in the config) */
void
mx_smtp_opts_from_config(const struct mx_config *cfg, const char *helo_name,
			 struct mx_smtp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->timeout_ms[MX_STAGE_CONNECT] = cfg->smtp.connect_timeout * 1000;
	o->timeout_ms[MX_STAGE_GREETING] = cfg->smtp.greeting_timeout * 1000;
	o->timeout_ms[MX_STAGE_EHLO] = cfg->smtp.helo_timeout * 1000;
	o->timeout_ms[MX_STAGE_STARTTLS] = cfg->smtp.starttls_timeout * 1000;
	o->timeout_ms[MX_STAGE_MAIL] = cfg->smtp.mail_timeout * 1000;
	o->timeout_ms[MX_STAGE_RCPT] = cfg->smtp.rcpt_timeout * 1000;
	o->timeout_ms[MX_STAGE_DATA] = cfg->smtp.data_timeout * 1000;
	o->timeout_ms[MX_STAGE_DOT] = cfg->smtp.data_done_timeout * 1000;
	o->timeout_ms[MX_SMTP_QUIT] = cfg->smtp.quit_timeout * 1000;
	o->data_transfer_ms = cfg->smtp.data_transfer_timeout * 1000;
	o->helo_name = helo_name;
	/* deliver.c sets the TLS of each host from the plan; this is the level's base */
	switch (cfg->smtp.tls_level) {
	case MX_TLS_NONE: o->tls.need = MX_TLSNEED_NONE; break;
	case MX_TLS_MAY: case MX_TLS_DANE: o->tls.need = MX_TLSNEED_MAY; break;
	case MX_TLS_ENCRYPT: o->tls.need = MX_TLSNEED_ENCRYPT; break;
	default: o->tls.need = MX_TLSNEED_VERIFY; break;
	}
	o->ca_file = cfg->tls.ca_file;
	o->ca_path = cfg->tls.ca_path;
	o->min_version = cfg->tls.min_version;
	o->deadline_ms = cfg->smtp.time_limit > 0 ? mx_clock_mono_ms() + cfg->smtp.time_limit * 1000LL : 0;
}

/* mx_tls_result_name - the journal's words for a session's TLS */
const char *
mx_tls_result_name(enum mx_tls_result r)
{
	switch (r) {
	case MX_TLSRES_NONE: return "none";
	case MX_TLSRES_TLS: return "tls";
	case MX_TLSRES_VERIFIED: return "verified";
	case MX_TLSRES_DANE: return "dane";
	}
	return "none";
}

/* ctx_new - a client context: the minimum version, the write mode, no aborts */
static SSL_CTX *
ctx_new(int min_version, char *err, size_t errlen)
{
	SSL_CTX *ctx = mx_tls.SSL_CTX_new(mx_tls.TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "TLS: %s",
			 mx_tls.ERR_reason_error_string(mx_tls.ERR_get_error()));
		return NULL;
	}
	/* SSL_CTX_set_min_proto_version and SSL_CTX_set_mode, which are macros */
	mx_tls.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, min_version, NULL);
	/*
	 * Never abort the handshake on a bad certificate: the verifying
	 * context judges SSL_get_verify_result() afterwards, so that the
	 * failure has its reason and the session can say QUIT
	 */
	mx_tls.SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	mx_tls.SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, SSL_MODE_ENABLE_PARTIAL_WRITE |
			    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER, NULL);
	return ctx;
}

/* mx_smtp_tls_init - the unauthenticated client context: any certificate,
 * TLS 1.0 and later (opportunistic and encrypt); made once, on the first
 * handshake unless called earlier */
bool
mx_smtp_tls_init(char *err, size_t errlen)
{
	if (tls_ctx != NULL)
		return true;
	if (!mx_tlslib_load(err, errlen))
		return false;
	tls_ctx = ctx_new(TLS1_VERSION, err, errlen);
	return tls_ctx != NULL;
}

/* opt_str - "" and NULL are both "not set" */
static const char *
opt_str(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

/* same_str - two optional strings are equal */
static bool
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * verify_ctx - the verifying context: the CAs of ca_file / ca_path (the
 * system's when neither is set), o->min_version (TLS 1.2 when 0), DANE
 * enabled. Made on first need and again when the settings change (tests
 * do that; a delivery never does); NULL and err on failure
 */
static SSL_CTX *
verify_ctx(const struct mx_smtp_opts *o, char *err, size_t errlen)
{
	const char *file = opt_str(o->ca_file), *path = opt_str(o->ca_path);
	int	min = o->min_version > 0 ? o->min_version : TLS1_2_VERSION;
	SSL_CTX *ctx;

	if (tls_vctx != NULL && same_str(file, vctx_file) && same_str(path, vctx_path) &&
	    min == vctx_min)
		return tls_vctx;
	if (!mx_tlslib_load(err, errlen))
		return NULL;
	if ((ctx = ctx_new(min, err, errlen)) == NULL)
		return NULL;
	if (file != NULL || path != NULL) {
		if (mx_tls.SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
			unsigned long code = mx_tls.ERR_get_error();

			snprintf(err, errlen, "cannot load the CA certificates of %s: %s",
				 file != NULL ? file : path,
				 code ? mx_tls.ERR_reason_error_string(code) : "unknown error");
			goto fail;
		}
	} else if (mx_tls.SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system's CA certificates");
		goto fail;
	}
	if (mx_tls.SSL_CTX_dane_enable(ctx) <= 0) {
		snprintf(err, errlen, "TLS: DANE is not available");
		goto fail;
	}
	free(vctx_file);
	free(vctx_path);
	vctx_file = file != NULL ? strdup(file) : NULL;
	vctx_path = path != NULL ? strdup(path) : NULL;
	if ((file != NULL && vctx_file == NULL) || (path != NULL && vctx_path == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	vctx_min = min;
	if (tls_vctx != NULL)
		mx_tls.SSL_CTX_free(tls_vctx);
	tls_vctx = ctx;
	return ctx;
fail:
	mx_tls.ERR_clear_error();
	mx_tls.SSL_CTX_free(ctx);
	return NULL;
}

/* mx_smtp_tls_free - free the contexts */
void
mx_smtp_tls_free(void)
{
	if (tls_ctx != NULL)
		mx_tls.SSL_CTX_free(tls_ctx);
	if (tls_vctx != NULL)
		mx_tls.SSL_CTX_free(tls_vctx);
	tls_ctx = tls_vctx = NULL;
	free(vctx_file);
	free(vctx_path);
	vctx_file = vctx_path = NULL;
}

/* wait_fd - poll for events until the deadline; 1 ready, 0 timeout, -1 error */
static int
wait_fd(struct conn *c, short events)
{
	for (;;) {
		struct pollfd pfd = { c->fd, events, 0 };
		long long left = c->deadline - mx_clock_mono_ms();
		int	rc;

		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 1;
		if (rc < 0 && errno != EINTR)
			return -1;
	}
}

/* io_wait - wait_fd for the data path: a timeout is noted as a lost connection */
static int
io_wait(struct conn *c, short events)
{
	int	w = wait_fd(c, events);

	if (w == 0) {
		c->fail = MX_FAIL_LOST;
		snprintf(c->why, sizeof(c->why), "timed out");
	}
	return w;
}

/* conn_read - some bytes; >0 count, 0 failure (c->why says) */
static ssize_t
conn_read(struct conn *c, char *buf, size_t len)
{
	for (;;) {
		ssize_t	n;
		int	w;

		if (c->ssl != NULL) {
			int	rc = mx_tls.SSL_read(c->ssl, buf, (int)len), e;

			if (rc > 0)
				return rc;
			e = mx_tls.SSL_get_error(c->ssl, rc);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				w = io_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
				if (w == 0)
					return 0;
				if (w < 0)
					break;
				continue;
			}
			c->fail = MX_FAIL_LOST;
			snprintf(c->why, sizeof(c->why), e == SSL_ERROR_ZERO_RETURN ?
				 "lost connection (TLS closed)" : "lost connection (TLS error)");
			return 0;
		}
		n = read(c->fd, buf, len);
		if (n > 0)
			return n;
		if (n == 0) {
			c->fail = MX_FAIL_LOST;
			snprintf(c->why, sizeof(c->why), "lost connection");
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		w = io_wait(c, POLLIN);
		if (w == 0)
			return 0;
		if (w < 0)
			break;
	}
	c->fail = MX_FAIL_LOST;
	snprintf(c->why, sizeof(c->why), "lost connection (%s)", strerror(errno));
	return 0;
}

/* conn_write - all of buf before the deadline */
static bool
conn_write(struct conn *c, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t	n;
		int	w;

		if (c->ssl != NULL) {
			int	rc = mx_tls.SSL_write(c->ssl, buf, len > 65536 ? 65536 : (int)len), e;

			if (rc > 0) {
				buf += rc;
				len -= (size_t)rc;
				continue;
			}
			e = mx_tls.SSL_get_error(c->ssl, rc);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				w = io_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
				if (w == 0)
					return false;
				if (w > 0)
					continue;
			}
			c->fail = MX_FAIL_LOST;
			snprintf(c->why, sizeof(c->why), "lost connection (TLS write)");
			return false;
		}
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			w = io_wait(c, POLLOUT);
			if (w == 0)
				return false;
			if (w > 0)
				continue;
		}
		c->fail = MX_FAIL_LOST;
		snprintf(c->why, sizeof(c->why), "lost connection (%s)", strerror(errno));
		return false;
	}
	return true;
}

/* read_reply - one whole reply before the deadline; false: c->why */
static bool
read_reply(struct conn *c, struct mx_smtp_reply *out)
{
	struct mx_smtp_parser *p = malloc(sizeof(*p));
	char	why[160];
	bool	ok = false;

	if (p == NULL) {
		c->fail = MX_FAIL_LOCAL;
		snprintf(c->why, sizeof(c->why), "out of memory");
		return false;
	}
	mx_smtp_parser_init(p);
	for (;;) {
		size_t	used = 0;
		enum mx_smtp_parse st;

		if (c->pos == c->len) {
			ssize_t	n = conn_read(c, c->buf, sizeof(c->buf));

			if (n <= 0)
				break;
			c->pos = 0;
			c->len = (size_t)n;
		}
		st = mx_smtp_parser_feed(p, c->buf + c->pos, c->len - c->pos, &used, why, sizeof(why));
		c->pos += used;
		if (st == MX_SMTP_PARSE_DONE) {
			*out = p->reply;
			ok = true;
			break;
		}
		if (st == MX_SMTP_PARSE_ERROR) {
			c->fail = MX_FAIL_PROTOCOL;
			snprintf(c->why, sizeof(c->why), "protocol error: %s", why);
			break;
		}
	}
	free(p);
	return ok;
}

/* set_deadline - start a stage */
static void
set_deadline(struct conn *c, int ms)
{
	c->deadline = mx_clock_mono_ms() + (ms > 0 ? ms : 300000);
	if (c->hard_deadline > 0 && c->deadline > c->hard_deadline)
		c->deadline = c->hard_deadline;
}

/*
 * conn_open - non-blocking connect with a deadline. An IPv4-mapped IPv6
 * address is connected to over IPv4, as the plan judged it (it works also
 * where IPv6 sockets are IPv6-only or IPv6 is off)
 */
static bool
conn_open(struct conn *c, const struct mx_ip *mapped, int port)
{
	struct sockaddr_storage ss;
	struct mx_ip v4;
	const struct mx_ip *ip = &v4;
	socklen_t slen;
	int	err = 0, w;

	mx_ip_unmap(mapped, &v4);
	memset(&ss, 0, sizeof(ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, ip->bytes, 4);
		slen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, ip->bytes, 16);
		slen = sizeof(*s6);
	}
	c->fd = socket(ip->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(c->why, sizeof(c->why), "socket: %s", strerror(errno));
		return false;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, slen) == 0)
		return true;
	if (errno != EINPROGRESS) {
		snprintf(c->why, sizeof(c->why), "%s", strerror(errno));
		return false;
	}
	w = wait_fd(c, POLLOUT);
	if (w == 0) {
		snprintf(c->why, sizeof(c->why), "connection timed out");
		return false;
	}
	slen = sizeof(err);
	if (w < 0 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &slen) != 0 || err != 0) {
		snprintf(c->why, sizeof(c->why), "%s", strerror(err ? err : errno));
		return false;
	}
	return true;
}

/* conn_close - drop TLS and the socket */
static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		mx_tls.SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = c->pos = 0;
}

/* has_non_ascii - does s need SMTPUTF8 */
static bool
has_non_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

/* fail_at - record where and how the session ended */
static void
fail_at(struct mx_smtp_result *res, enum mx_stage stage, enum mx_failure_kind kind,
	const struct mx_smtp_reply *reply, const char *detail)
{
	res->stage = stage;
	res->kind = kind;
	if (reply != NULL)
		res->reply = *reply;
	snprintf(res->detail, sizeof(res->detail), "%s", detail ? detail : "");
}

/* usable_tlsa - RFC 7672 3.1: DANE-TA(2) or DANE-EE(3), selector 0 or 1, matching type 0-2 */
static bool
usable_tlsa(const struct mx_dns_tlsa *t)
{
	return (t->usage == 2 || t->usage == 3) && t->selector <= 1 && t->mtype <= 2 &&
	    t->data != NULL && t->len > 0;
}

/*
 * effective_need - what the session must have: DANE without a usable TLSA
 * record is mandatory unauthenticated TLS (RFC 7672 2.2)
 */
static enum mx_tls_need
effective_need(const struct mx_smtp_tls *t)
{
	size_t	i;

	if (t->need != MX_TLSNEED_DANE)
		return t->need;
	for (i = 0; i < t->ntlsa; i++)
		if (usable_tlsa(&t->tlsa[i]))
			return MX_TLSNEED_DANE;
	return MX_TLSNEED_ENCRYPT;
}

/* verify_failure - the RFC 8460 result type for a certificate verification error */
static const char *
verify_failure(long vr)
{
	switch (vr) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
		return "certificate-host-mismatch";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate-expired";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "certificate-not-trusted";
	default:
		return "validation-failure";
	}
}

/* is_ip - an address literal, which is never a TLS name (RFC 6066 3) */
static bool
is_ip(const char *host)
{
	struct mx_ip ip;

	return mx_ip_parse(host, &ip);
}

/*
 * add_names - the names the certificate may carry: tls.names, or the
 * host when there are none; the first replaces what was set unless
 * add_only (DANE: SSL_dane_enable set the base domain first)
 */
static bool
add_names(SSL *ssl, const struct mx_smtp_tls *t, const char *host, bool add_only)
{
	size_t	i;

	mx_tls.SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (t->nnames == 0)
		return add_only || mx_tls.SSL_set1_host(ssl, host) == 1;
	for (i = 0; i < t->nnames; i++) {
		int	ok = i == 0 && !add_only ? mx_tls.SSL_set1_host(ssl, t->names[i]) :
			    mx_tls.SSL_add1_host(ssl, t->names[i]);

		if (ok != 1)
			return false;
	}
	return true;
}

/* dane_setup - DANE for this session: the base domain, the names, the usable records; how many */
static int
dane_setup(SSL *ssl, const struct mx_smtp_tls *t, const char *host)
{
	size_t	i;
	int	added = 0;

	if (mx_tls.SSL_dane_enable(ssl, host) <= 0)
		return -1;
	/* DANE-EE(3) binds the key, not a name (RFC 7672 3.1.1) */
	mx_tls.SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	if (!add_names(ssl, t, host, true))
		return -1;
	for (i = 0; i < t->ntlsa; i++) {
		const struct mx_dns_tlsa *r = &t->tlsa[i];

		/* a malformed record is unusable, not an error (RFC 7671 4.1) */
		if (usable_tlsa(r) && mx_tls.SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype,
							       r->data, r->len) > 0)
			added++;
	}
	mx_tls.ERR_clear_error();
	return added;
}

/* What came of STARTTLS's handshake. */
enum tls_outcome {
	TLS_UP,			/* encrypted, and authenticated as the need asks */
	TLS_BROKEN,		/* no TLS session: c->why */
	TLS_UNAUTHENTICATED	/* encrypted but short of the need: res says why */
};

/* judge - the handshake is done: does the session meet its need? res says */
static enum tls_outcome
judge(SSL *ssl, enum mx_tls_need need, bool check_names, bool dane,
      struct mx_smtp_result *res)
{
	long	vr = mx_tls.SSL_get_verify_result(ssl);
	const char *type;
	char	detail[sizeof(res->detail)];

	res->tls_result = MX_TLSRES_TLS;
	if (need == MX_TLSNEED_DANE && dane) {
		if (vr == X509_V_OK && mx_tls.SSL_get0_dane_authority(ssl, NULL, NULL) >= 0) {
			res->tls_result = MX_TLSRES_DANE;
			return TLS_UP;
		}
		/* DANE-TA(2) checks the name; an expired chain is not a TLSA mismatch */
		type = vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_CERT_HAS_EXPIRED ||
		    vr == X509_V_ERR_CERT_NOT_YET_VALID ? verify_failure(vr) : "tlsa-invalid";
		if (strcmp(type, "tlsa-invalid") == 0)
			snprintf(detail, sizeof(detail), "TLSA records did not match the server "
				 "certificate (%s)", vr == X509_V_OK ? "no DANE authority" :
				 mx_tls.X509_verify_cert_error_string(vr));
		else
			snprintf(detail, sizeof(detail), "Server certificate not verified: %s",
				 mx_tls.X509_verify_cert_error_string(vr));
	} else if (need == MX_TLSNEED_VERIFY || (need == MX_TLSNEED_MAY && check_names)) {
		if (vr == X509_V_OK) {
			res->tls_result = MX_TLSRES_VERIFIED;
			return TLS_UP;
		}
		type = verify_failure(vr);
		if (need == MX_TLSNEED_MAY) {
			/* MTA-STS testing: noted, not enforced */
			snprintf(res->tls_failure, sizeof(res->tls_failure), "%s", type);
			return TLS_UP;
		}
		snprintf(detail, sizeof(detail), "Server certificate not verified: %s",
			 mx_tls.X509_verify_cert_error_string(vr));
	} else
		return TLS_UP;
	fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_TLS, NULL, detail);
	snprintf(res->tls_failure, sizeof(res->tls_failure), "%s", type);
	return TLS_UNAUTHENTICATED;
}

/*
 * tls_start - the TLS handshake after 220 to STARTTLS, with ctx (the
 * unauthenticated context when NULL), then the judgement of the certificate
 */
static enum tls_outcome
tls_start(struct conn *c, const struct mx_smtp_opts *o, enum mx_tls_need need, SSL_CTX *ctx,
	  const char *host, struct mx_smtp_result *res)
{
	bool	sni = host != NULL && host[0] != '\0' && !is_ip(host), dane = false;

	c->len = c->pos = 0;		/* no plaintext survives STARTTLS */
	/* the context is made on first use: creating it costs more CPU than
	 * the rest of a delivery, and a server that offers no STARTTLS never
	 * needs it */
	if (ctx == NULL) {
		if (!mx_smtp_tls_init(c->why, sizeof(c->why)))
			return TLS_BROKEN;
		ctx = tls_ctx;
	}
	if ((c->ssl = mx_tls.SSL_new(ctx)) == NULL) {
		snprintf(c->why, sizeof(c->why), "TLS not available");
		return TLS_BROKEN;
	}
	mx_tls.SSL_set_fd(c->ssl, c->fd);
	if (sni)
		mx_tls.SSL_ctrl(c->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
				(void *)host);	/* SSL_set_tlsext_host_name */
	if (need == MX_TLSNEED_DANE) {
		int	n = dane_setup(c->ssl, &o->tls, host != NULL ? host : "");

		if (n < 0) {
			snprintf(c->why, sizeof(c->why), "TLS: cannot set up DANE");
			mx_tls.ERR_clear_error();
			return TLS_BROKEN;
		}
		dane = n > 0;	/* none taken: unauthenticated TLS (RFC 7672 2.2) */
	} else if (need == MX_TLSNEED_VERIFY || (need == MX_TLSNEED_MAY && o->tls.check_names)) {
		if (!add_names(c->ssl, &o->tls, host != NULL ? host : "", false)) {
			snprintf(c->why, sizeof(c->why), "TLS: cannot set the names to verify");
			mx_tls.ERR_clear_error();
			return TLS_BROKEN;
		}
	}
	for (;;) {
		int	rc = mx_tls.SSL_connect(c->ssl), e, w;

		if (rc == 1)
			break;
		e = mx_tls.SSL_get_error(c->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			unsigned long code = mx_tls.ERR_get_error();

			snprintf(c->why, sizeof(c->why), "TLS handshake failed: %s",
				 code ? mx_tls.ERR_reason_error_string(code) : "connection closed");
			mx_tls.ERR_clear_error();
			return TLS_BROKEN;
		}
		w = wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
		if (w <= 0) {
			snprintf(c->why, sizeof(c->why), "TLS handshake timed out");
			return TLS_BROKEN;
		}
	}
	res->tls = true;
	{
		const SSL_CIPHER *cipher = mx_tls.SSL_get_current_cipher(c->ssl);

		snprintf(res->tls_info, sizeof(res->tls_info), "%s with cipher %s",
			 mx_tls.SSL_get_version(c->ssl),
			 cipher != NULL ? mx_tls.SSL_CIPHER_get_name(cipher) : "(none)");
	}
	return judge(c->ssl, need, o->tls.check_names, dane, res);
}

/* command - send a line and read its reply within the stage's deadline */
static bool
command(struct conn *c, const struct mx_smtp_opts *o, int stage, const char *line,
	struct mx_smtp_reply *reply)
{
	set_deadline(c, o->timeout_ms[stage]);
	if (!conn_write(c, line, strlen(line)))
		return false;
	return read_reply(c, reply);
}

struct data_writer {
	struct conn *c;
	int	chunk_ms;
};

/* write_chunk - spool writer: each chunk gets its own data_transfer deadline */
static bool
write_chunk(void *arg, const char *buf, size_t len)
{
	struct data_writer *w = arg;

	set_deadline(w->c, w->chunk_ms);
	return conn_write(w->c, buf, len);
}

/* ehlo - EHLO, or HELO when EHLO is refused; *esmtp says which worked */
static bool
ehlo(struct conn *c, const struct mx_smtp_opts *o, struct mx_smtp_reply *reply,
     bool *esmtp, struct mx_smtp_result *res)
{
	char	line[MX_HELO_MAX + 16];

	snprintf(line, sizeof(line), "EHLO %s\r\n", o->helo_name);
	if (!command(c, o, MX_STAGE_EHLO, line, reply)) {
		fail_at(res, MX_STAGE_EHLO, c->fail, NULL, c->why);
		return false;
	}
	*esmtp = reply->code / 100 == 2;
	if (*esmtp)
		return true;
	if (reply->code / 100 != 5) {
		fail_at(res, MX_STAGE_EHLO, MX_FAIL_REPLY, reply, "");
		return false;
	}
	snprintf(line, sizeof(line), "HELO %s\r\n", o->helo_name);
	if (!command(c, o, MX_STAGE_EHLO, line, reply)) {
		fail_at(res, MX_STAGE_EHLO, c->fail, NULL, c->why);
		return false;
	}
	if (reply->code / 100 != 2) {
		fail_at(res, MX_STAGE_EHLO, MX_FAIL_REPLY, reply, "");
		return false;
	}
	return true;
}

/* session - one connection; returns false to ask for a plaintext retry */
static bool
session(const struct mx_smtp_opts *o, const struct mx_ip *ip, int port, const char *host,
	const struct mx_smtp_envelope *env, const bool *pending, struct mx_spool *sp,
	struct mx_smtp_rcpt *rcpt, struct mx_smtp_result *res, bool allow_tls)
{
	struct conn c = { .fd = -1, .hard_deadline = o->deadline_ms };
	struct mx_smtp_reply *reply = calloc(2, sizeof(*reply)), *tlsreply;
	const struct mx_spool_info *info = mx_spool_get_info(sp);
	char   *line = NULL, *mail = NULL;
	size_t	i, naccepted = 0, cap, mailcap, next = 0, group[PIPELINE_MAX_CMDS];
	bool	esmtp = false, pipelining, utf8 = has_non_ascii(env->sender), again = true;
	bool	eightbit, mail_done = false, data_sent = false;
	enum mx_tls_need need = effective_need(&o->tls);
	long long size_limit;
	int	stage;

	if (reply == NULL) {
		fail_at(res, MX_STAGE_CONNECT, MX_FAIL_LOCAL, NULL, "out of memory");
		return true;
	}
	tlsreply = reply + 1;		/* so that reply keeps what EHLO offered */
	for (i = 0; i < env->nrcpts; i++)
		if (pending[i])
			utf8 = utf8 || has_non_ascii(env->rcpts[i]);
	cap = 64 + 3 * (MX_DOMAIN_MAX + 70) + 32;
	for (i = 0; i < env->nrcpts; i++)
		cap += strlen(env->rcpts[i]) + 16;
	cap += strlen(env->sender);
	mailcap = strlen(env->sender) + 128;
	if ((line = malloc(cap)) == NULL || (mail = malloc(mailcap)) == NULL) {
		fail_at(res, MX_STAGE_CONNECT, MX_FAIL_LOCAL, NULL, "out of memory");
		free(line);
		free(reply);
		return true;
	}

	set_deadline(&c, o->timeout_ms[MX_STAGE_CONNECT]);
	if (!conn_open(&c, ip, port)) {
		fail_at(res, MX_STAGE_CONNECT, MX_FAIL_CONNECT, NULL, c.why);
		goto out;
	}
	set_deadline(&c, o->timeout_ms[MX_STAGE_GREETING]);
	if (!read_reply(&c, reply)) {
		fail_at(res, MX_STAGE_GREETING, c.fail, NULL, c.why);
		goto out;
	}
	res->reached_greeting = true;
	if (reply->code / 100 != 2) {
		fail_at(res, MX_STAGE_GREETING, MX_FAIL_REPLY, reply, "");
		goto quit;
	}
	if (!ehlo(&c, o, reply, &esmtp, res))
		goto quit_if_open;

	if (need != MX_TLSNEED_NONE && allow_tls) {
		if (esmtp && mx_smtp_reply_has(reply, "STARTTLS")) {
			SSL_CTX *ctx = NULL;	/* the unauthenticated one */
			char	why[sizeof(res->detail)];

			if (need >= MX_TLSNEED_VERIFY || (need == MX_TLSNEED_MAY && o->tls.check_names)) {
				/* before STARTTLS: a local problem is not the server's */
				if ((ctx = verify_ctx(o, why, sizeof(why))) == NULL) {
					fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_LOCAL, NULL, why);
					goto quit;
				}
			}
			if (!command(&c, o, MX_STAGE_STARTTLS, "STARTTLS\r\n", tlsreply)) {
				fail_at(res, MX_STAGE_STARTTLS, c.fail, NULL, c.why);
				goto out;
			}
			if (tlsreply->code == 421) {
				/* the server is closing the session (RFC 5321 3.8) */
				fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_REPLY, tlsreply, "");
				goto out;
			}
			if (tlsreply->code != 220) {
				if (need >= MX_TLSNEED_ENCRYPT) {
					/* deliver.c names the host */
					snprintf(why, sizeof(why), "TLS is required, but STARTTLS was "
						 "refused: %d %.180s", tlsreply->code, tlsreply->text);
					fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_TLS, tlsreply, why);
					snprintf(res->tls_failure, sizeof(res->tls_failure),
						 "starttls-not-supported");
					goto quit;
				}
				/* opportunistic: carry on in plaintext on this connection */
			} else {
				set_deadline(&c, o->timeout_ms[MX_STAGE_STARTTLS]);
				switch (tls_start(&c, o, need, ctx, host, res)) {
				case TLS_BROKEN:
					fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_TLS, NULL, c.why);
					/* opportunistic TLS falls back to a plaintext session */
					again = need >= MX_TLSNEED_ENCRYPT;
					if (again)
						snprintf(res->tls_failure, sizeof(res->tls_failure),
							 "validation-failure");
					goto out;
				case TLS_UNAUTHENTICATED:
					goto quit;	/* QUIT, over TLS: nothing else */
				case TLS_UP:
					break;
				}
				if (!ehlo(&c, o, reply, &esmtp, res))
					goto quit_if_open;
			}
		} else if (need >= MX_TLSNEED_ENCRYPT) {
			fail_at(res, MX_STAGE_STARTTLS, MX_FAIL_TLS, NULL,
				"TLS is required, but STARTTLS was not offered");
			snprintf(res->tls_failure, sizeof(res->tls_failure), "starttls-not-supported");
			goto quit;
		}
	}

	if (utf8 && !(esmtp && mx_smtp_reply_has(reply, "SMTPUTF8"))) {
		struct mx_smtp_reply r = { .code = 554 };

		snprintf(r.enhanced, sizeof(r.enhanced), "5.6.7");
		snprintf(r.text, sizeof(r.text), "SMTPUTF8 is required, but was not offered by host %s",
			 host);
		fail_at(res, MX_STAGE_MAIL, MX_FAIL_REPLY, &r, "");
		goto quit;
	}
	size_limit = esmtp ? mx_smtp_reply_param(reply, "SIZE") : -1;
	if (size_limit > 0 && info->wire_bytes > size_limit) {
		struct mx_smtp_reply r = { .code = 552 };

		snprintf(r.enhanced, sizeof(r.enhanced), "5.3.4");
		snprintf(r.text, sizeof(r.text), "message size %lld exceeds size limit %lld of "
			 "server %s", (long long)info->wire_bytes, size_limit, host);
		fail_at(res, MX_STAGE_MAIL, MX_FAIL_REPLY, &r, "");
		goto quit;
	}
	pipelining = esmtp && mx_smtp_reply_has(reply, "PIPELINING");
	eightbit = esmtp && info->eight_bit && mx_smtp_reply_has(reply, "8BITMIME");

	/* MAIL FROM, then RCPT TO for each pending recipient, then DATA */
	{
		size_t	used = (size_t)snprintf(mail, mailcap, "MAIL FROM:<%s>", env->sender);

		if (esmtp && mx_smtp_reply_has(reply, "SIZE"))
			used += (size_t)snprintf(mail + used, mailcap - used, " SIZE=%lld",
						 (long long)info->wire_bytes);
		if (eightbit)
			used += (size_t)snprintf(mail + used, mailcap - used, " BODY=8BITMIME");
		if (utf8)
			used += (size_t)snprintf(mail + used, mailcap - used, " SMTPUTF8");
		snprintf(mail + used, mailcap - used, "\r\n");
	}
	/*
	 * Without PIPELINING each command is a group of one. With it, commands
	 * go in groups of at most PIPELINE_MAX_CMDS commands and
	 * PIPELINE_MAX_BYTES octets, and a group's replies are read before the
	 * next group is written (RFC 2920 3.1: the client must not fill the
	 * server's buffers), so thousands of recipients cannot deadlock. DATA
	 * goes with the last recipients when it fits; alone, only when one of
	 * them was accepted.
	 */
	while (!data_sent) {
		size_t	used = 0, ncmd = 0, ng = 0, j;
		bool	has_mail = !mail_done, has_data = false;
		int	first;

		if (has_mail) {
			used = (size_t)snprintf(line, cap, "%s", mail);
			ncmd++;
		}
		while (next < env->nrcpts && (pipelining ? ncmd < PIPELINE_MAX_CMDS : ncmd == 0)) {
			size_t	n = strlen(env->rcpts[next]) + 12;

			if (!pending[next]) {
				next++;
				continue;
			}
			if (ncmd > 0 && used + n > PIPELINE_MAX_BYTES)
				break;
			used += (size_t)snprintf(line + used, cap - used, "RCPT TO:<%s>\r\n",
						 env->rcpts[next]);
			group[ng++] = next++;
			ncmd++;
		}
		while (next < env->nrcpts && !pending[next])
			next++;
		if (next == env->nrcpts && (ncmd == 0 || (pipelining && ncmd < PIPELINE_MAX_CMDS &&
							   used + 6 <= PIPELINE_MAX_BYTES))) {
			if (ncmd == 0 && naccepted == 0)
				break;		/* nobody to send to: no DATA */
			used += (size_t)snprintf(line + used, cap - used, "DATA\r\n");
			has_data = true;
			ncmd++;
		}
		first = has_mail ? MX_STAGE_MAIL : ng > 0 ? MX_STAGE_RCPT : MX_STAGE_DATA;
		set_deadline(&c, o->timeout_ms[first]);
		if (!conn_write(&c, line, used)) {
			fail_at(res, first, c.fail, NULL, c.why);
			goto out;
		}
		if (has_mail) {
			set_deadline(&c, o->timeout_ms[MX_STAGE_MAIL]);
			if (!read_reply(&c, reply)) {
				fail_at(res, MX_STAGE_MAIL, c.fail, NULL, c.why);
				goto out;
			}
			mail_done = true;
			if (reply->code / 100 != 2) {
				fail_at(res, MX_STAGE_MAIL, MX_FAIL_REPLY, reply, "");
				/* the group's RCPTs and DATA were answered too: stay in step */
				for (j = 0; j < ng + has_data; j++) {
					struct mx_smtp_reply skip;

					set_deadline(&c, o->timeout_ms[MX_STAGE_RCPT]);
					if (!read_reply(&c, &skip))
						goto out;
				}
				goto quit;
			}
		}
		for (j = 0; j < ng; j++) {
			i = group[j];
			rcpt[i].tried = true;
			set_deadline(&c, o->timeout_ms[MX_STAGE_RCPT]);
			if (!read_reply(&c, &rcpt[i].reply)) {
				fail_at(res, MX_STAGE_RCPT, c.fail, NULL, c.why);
				goto out;
			}
			if (rcpt[i].reply.code == 421) {
				/* the server is closing: a session failure, not this recipient's */
				rcpt[i].tried = false;
				fail_at(res, MX_STAGE_RCPT, MX_FAIL_REPLY, &rcpt[i].reply, "");
				goto out;
			}
			if (rcpt[i].reply.code / 100 == 2) {
				rcpt[i].accepted = true;
				naccepted++;
			}
		}
		if (has_data) {
			set_deadline(&c, o->timeout_ms[MX_STAGE_DATA]);
			if (!read_reply(&c, reply)) {
				fail_at(res, MX_STAGE_DATA, c.fail, NULL, c.why);
				goto out;
			}
			data_sent = true;
		}
	}
	/*
	 * 452 after another recipient was accepted: "too many recipients"
	 * (RFC 5321 4.5.3.1.10); the caller sends them in a new session
	 */
	for (i = 0; i < env->nrcpts && naccepted > 0; i++)
		rcpt[i].too_many = pending[i] && rcpt[i].tried && rcpt[i].reply.code == 452;
	if (naccepted == 0) {
		fail_at(res, MX_STAGE_RCPT, MX_FAIL_REPLY, NULL, "");
		for (i = env->nrcpts; i-- > 0;)
			if (pending[i] && rcpt[i].tried) {
				res->reply = rcpt[i].reply;	/* the last refusal */
				break;
			}
		if (data_sent && reply->code == 354)	/* nobody to send to: end it empty */
			command(&c, o, MX_STAGE_DOT, ".\r\n", reply);
		goto quit;
	}
	if (reply->code != 354) {
		fail_at(res, MX_STAGE_DATA, reply->code / 100 == 3 ? MX_FAIL_PROTOCOL : MX_FAIL_REPLY,
			reply, reply->code / 100 == 3 ? "unexpected reply to DATA" : "");
		goto quit;
	}
	/* no BODY=8BITMIME to offer: the body goes as it is (what Exim does) */
	res->eight_bit_unannounced = info->eight_bit && !eightbit;
	{
		struct data_writer w = { &c, o->data_transfer_ms };
		char	err[160] = "";

		if (!mx_spool_send(sp, write_chunk, &w, err, sizeof(err))) {
			if (c.fail == MX_FAIL_NONE) {
				fail_at(res, MX_STAGE_DOT, MX_FAIL_LOCAL, NULL, err);
			} else
				fail_at(res, MX_STAGE_DOT, c.fail, NULL, c.why);
			goto out;
		}
	}
	set_deadline(&c, o->timeout_ms[MX_STAGE_DOT]);
	if (!read_reply(&c, reply)) {
		/* the message may have arrived: we cannot know, so it is not delivered */
		fail_at(res, MX_STAGE_DOT, c.fail, NULL, c.why);
		goto out;
	}
	if (reply->code / 100 != 2) {
		fail_at(res, MX_STAGE_DOT, MX_FAIL_REPLY, reply, "");
		goto quit;
	}
	for (i = 0; i < env->nrcpts; i++)
		if (pending[i] && rcpt[i].accepted) {
			rcpt[i].delivered = true;
			rcpt[i].reply = *reply;
		}
	fail_at(res, MX_STAGE_DOT, MX_FAIL_NONE, reply, "");

quit:
	stage = MX_SMTP_QUIT;
	command(&c, o, stage, "QUIT\r\n", reply);
	goto out;
quit_if_open:
	if (c.fail == MX_FAIL_NONE)
		goto quit;
out:
	conn_close(&c);
	free(line);
	free(mail);
	free(reply);
	return again;
}

/* mx_smtp_attempt - one session, with one plaintext retry after a failed opportunistic handshake */
void
mx_smtp_attempt(const struct mx_smtp_opts *o, const struct mx_ip *ip, int port,
		const char *host, const struct mx_smtp_envelope *env,
		const bool *pending, struct mx_spool *sp,
		struct mx_smtp_rcpt *rcpt, struct mx_smtp_result *res)
{
	long long start = mx_clock_mono_ms();

	memset(res, 0, sizeof(*res));
	memset(rcpt, 0, env->nrcpts * sizeof(*rcpt));
	signal(SIGPIPE, SIG_IGN);
	if (!session(o, ip, port, host, env, pending, sp, rcpt, res, true)) {
		char	first[160];

		snprintf(first, sizeof(first), "%.150s", res->detail);
		memset(res, 0, sizeof(*res));
		memset(rcpt, 0, env->nrcpts * sizeof(*rcpt));
		session(o, ip, port, host, env, pending, sp, rcpt, res, false);
		if (res->kind != MX_FAIL_NONE && res->detail[0] == '\0')
			snprintf(res->detail, sizeof(res->detail), "after %.160s, in plaintext", first);
		/* MTA-STS testing mode reports the failed handshake */
		if (o->tls.check_names && res->tls_failure[0] == '\0')
			snprintf(res->tls_failure, sizeof(res->tls_failure), "validation-failure");
	}
	res->duration_ms = mx_clock_mono_ms() - start;
}
