/*
 * smtp - one SMTP client session to one address (RFC 5321, 3207, 1870,
 * 6152, 2920, 6531)
 *
 * mx_smtp_attempt() connects, reads the greeting, says EHLO (HELO when EHLO
 * is refused), starts TLS when offered or required, sends MAIL FROM with
 * SIZE / BODY=8BITMIME / SMTPUTF8 as the server and message call for, one
 * RCPT TO per recipient still pending (pipelined in bounded groups when the
 * server offers PIPELINING, RFC 2920 3.1), DATA, the message from the spool
 * (an 8-bit body goes as it is when 8BITMIME is not offered, and the result
 * says so), and QUIT. A 421 at any stage ends the session there. Every stage has
 * its own deadline; every read is bounded (smtpreply.h). The outcome says
 * where the session ended, how, with which reply, and what happened to each
 * recipient. No policy here: fallback.c decides what comes next.
 *
 * TLS per o->tls.need: MAY and ENCRYPT take any certificate; VERIFY checks
 * the chain against the CAs (ca_file / ca_path, else the system's) and the
 * name against tls.names; DANE authenticates by the TLSA records (RFC 7672,
 * OpenSSL's DANE). When a required TLS is not offered, refused, broken or
 * not authenticated, the session ends at STARTTLS with MX_FAIL_TLS and an
 * RFC 8460 tls_failure; nothing but QUIT is sent after that.
 *
 * Ownership: the caller owns every struct passed in; mx_smtp_tls_init()
 * makes the process's unauthenticated TLS context (the first STARTTLS does
 * it when nobody did before); the verifying context is made by the first
 * session that needs it; mx_smtp_tls_free() frees both.
 */
#ifndef MXTIER_SMTP_H
#define MXTIER_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "config.h"
#include "dnsdata.h"
#include "fallback.h"
#include "smtpreply.h"
#include "spool.h"

/*
 * What TLS a session with one host must have (R15-R17): deliver.c sets it
 * per host from the plan's TLS policy.
 */
enum mx_tls_need {
	MX_TLSNEED_NONE,	/* never STARTTLS */
	MX_TLSNEED_MAY,		/* STARTTLS when offered, any certificate; plaintext when the
				 * handshake fails */
	MX_TLSNEED_ENCRYPT,	/* STARTTLS required, any certificate */
	MX_TLSNEED_VERIFY,	/* STARTTLS required, a chain to a trusted CA and a name in names */
	MX_TLSNEED_DANE		/* STARTTLS required, authenticated by tlsa (RFC 7672) */
};

struct mx_smtp_tls {
	enum mx_tls_need need;
	/*
	 * VERIFY (and MAY with check_names): the names the certificate may
	 * carry, "mx1.example.com"; ".example.com" stands for any name below
	 * it (Postfix's dot-nexthop). For DANE-TA(2) the host name is checked
	 * as well (RFC 7672 3.2.2); DANE-EE(3) checks no name.
	 */
	const char *const *names;
	size_t	nnames;
	const struct mx_dns_tlsa *tlsa;	/* DANE: the TLSA records (unusable ones ignored) */
	size_t	ntlsa;
	bool	check_names;		/* MAY: verify against names and report the result in
					 * tls_failure, never fail (MTA-STS testing mode) */
};

/* What the session's TLS came to: journal column tls. */
enum mx_tls_result {
	MX_TLSRES_NONE,		/* plaintext */
	MX_TLSRES_TLS,		/* encrypted, the certificate not authenticated */
	MX_TLSRES_VERIFIED,	/* chain and name verified */
	MX_TLSRES_DANE		/* authenticated by TLSA */
};

/* mx_tls_result_name - "none", "tls", "verified", "dane" */
const char *mx_tls_result_name(enum mx_tls_result r);

#define MX_SMTP_STAGES 9	/* the stages of fallback.h, and QUIT */
#define MX_SMTP_QUIT (MX_SMTP_STAGES - 1)

struct mx_smtp_opts {
	int	timeout_ms[MX_SMTP_STAGES];	/* per stage; [MX_STAGE_DATA + 0] DATA command */
	int	data_transfer_ms;		/* per chunk of the message */
	const char *helo_name;
	struct mx_smtp_tls tls;		/* per host: deliver.c sets it from the plan */
	const char *ca_file;		/* tls.ca_file, "" or NULL: the system's CAs */
	const char *ca_path;
	int	min_version;		/* TLS1_2_VERSION etc. for VERIFY and DANE (0: TLS 1.2) */
	long long deadline_ms;		/* CLOCK_MONOTONIC ms the whole delivery must end by; 0 none */
};

/* The envelope in wire form (mailaddr.h): written between < and > as it is. */
struct mx_smtp_envelope {
	const char *sender;		/* "" for the null reverse-path */
	const char *const *rcpts;
	size_t	nrcpts;
};

/* What became of one recipient in this session. */
struct mx_smtp_rcpt {
	bool	tried;			/* RCPT TO was sent */
	bool	accepted;		/* 2xx to RCPT TO */
	bool	delivered;		/* accepted and 250 after the final dot */
	bool	too_many;		/* 452 while another recipient of the session was
					 * accepted: "too many recipients" (RFC 5321
					 * 4.5.3.1.10), to be sent again in a new session */
	struct mx_smtp_reply reply;	/* the reply that decided it */
};

struct mx_smtp_result {
	enum mx_stage stage;		/* where the session ended */
	enum mx_failure_kind kind;	/* MX_FAIL_NONE when the message was accepted */
	struct mx_smtp_reply reply;	/* the reply at that stage, if any */
	char	detail[256];		/* our words: "Connection refused", "timeout after 300s" */
	bool	reached_greeting;	/* counts against max_sessions (R10) */
	bool	tls;			/* the session was encrypted */
	enum mx_tls_result tls_result;
	/*
	 * RFC 8460 result type when TLS failed or did not authenticate as
	 * needed (kind MX_FAIL_TLS), or when check_names found a mismatch:
	 * "starttls-not-supported", "certificate-host-mismatch",
	 * "certificate-expired", "certificate-not-trusted",
	 * "validation-failure", "tlsa-invalid"; else "". detail says more.
	 */
	char	tls_failure[32];
	char	tls_info[128];		/* "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384", or "" */
	bool	eight_bit_unannounced;	/* an 8-bit body went out without BODY=8BITMIME:
					 * the server does not offer 8BITMIME */
	int64_t	duration_ms;
};

/*
 * mx_smtp_opts_from_config - stage timeouts and the rest from the config;
 * the delivery's deadline (smtp.time_limit) starts counting now
 */
void	mx_smtp_opts_from_config(const struct mx_config *cfg, const char *helo_name,
				 struct mx_smtp_opts *o);

/* mx_smtp_tls_init - the unauthenticated client TLS context (once); false and err on failure */
bool	mx_smtp_tls_init(char *err, size_t errlen);

/* mx_smtp_tls_free - free the TLS contexts */
void	mx_smtp_tls_free(void);

/*
 * mx_smtp_attempt - one session to ip:port for the recipients whose pending
 * flag is set; rcpt[i] tells what became of recipient i. host is the name
 * for TLS SNI and the logs.
 */
void	mx_smtp_attempt(const struct mx_smtp_opts *o, const struct mx_ip *ip, int port,
			const char *host, const struct mx_smtp_envelope *env,
			const bool *pending, struct mx_spool *sp,
			struct mx_smtp_rcpt *rcpt, struct mx_smtp_result *res);

#endif
